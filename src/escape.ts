/**
 * The characters no output carries raw when they come from the wire or the system (user names, paths,
 * arguments, reply texts, banners, file names, interface names): the C0 controls, DEL, the C1 controls,
 * the line and paragraph separators, the bidirectional and invisible format characters that make text read
 * other than it is (U+061C, U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF: with U+202E,
 * `invoice<U+202E>fdp.exe` shows as `invoiceexe.pdf`), and lone surrogates (no terminal can show them).
 *
 * Each kind of output has one function that escapes them, and uses it for every such string:
 * `sanitize` for the text views (render/text.ts), the Zeek log's `zeekEscape` (render/zeek.ts), `safeJson`
 * for JSON, NDJSON and the manifest (here), and `safeComponents` for extracted file names
 * (output/extract.ts), which replaces them.
 */

/** DEL, C1, U+2028/9 and the bidi and invisible format characters: what JSON.stringify leaves raw. */
const FORMAT_AND_C1 = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff';

/** Every unsafe character (C0 and lone surrogates too), one match per character; for `replace` only (it is global). */
export const UNSAFE = new RegExp(`[\\u0000-\\u001f${FORMAT_AND_C1}\\ud800-\\udfff]`, 'gu');

/** JSON.stringify escapes C0 and lone surrogates; these it leaves raw. Outside strings JSON text is ASCII. */
const RAW_IN_JSON = new RegExp(`[${FORMAT_AND_C1}]`, 'g');

/** `\u202e`: a character as a JSON and JavaScript escape (one UTF-16 unit). */
export function uEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * JSON with the characters JSON leaves raw but a terminal may obey or a reader be fooled by (DEL, the C1
 * controls such as CSI, the Unicode line separators, the bidi and invisible format characters) written as
 * \u escapes: valid JSON that decodes to the same value, and safe to print.
 */
export function safeJson(value: unknown, indent?: number): string {
  return escapeJson(JSON.stringify(value, null, indent));
}

/** safeJson, or undefined for what JSON cannot write (undefined, a function, a symbol). */
export function safeJsonOf(value: unknown, indent?: number): string | undefined {
  const text = JSON.stringify(value, null, indent) as string | undefined;
  return text === undefined ? undefined : escapeJson(text);
}

function escapeJson(text: string): string {
  return text.replace(RAW_IN_JSON, uEscape);
}
