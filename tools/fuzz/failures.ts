/**
 * What a fuzz case can find (a crash, a hang, a memory blow-up, a raw control or bidi character in an output), and
 * how failures are told apart (signature) and named when saved into test/fuzz-regressions/.
 */
import type { Level } from './cases.js';

export type FailureKind = 'crash' | 'hang' | 'memory' | 'control-characters';

export interface Failure {
  kind: FailureKind;
  /** Where: the stage or output (openCapture, analyze, result, view-ladder, zeek, json, cli...). */
  where: string;
  message: string;
  stack?: string;
  /** For control characters: which, and the line of output around the first one. */
  detail?: string;
}


/**
 * What no output may hold raw: C0 but \n (and \t where allowed), DEL, C1, the line and paragraph separators
 * (U+2028/9), and the bidi and invisible format characters that make text read other than it is (U+061C,
 * U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF). Written out here, not taken from src/escape.ts, so
 * that the check does not shrink with what it checks.
 */
const FORMAT = '\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff';
const CONTROL = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f${FORMAT}]`, 'g');
const CONTROL_BUT_TAB = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${FORMAT}]`, 'g');
/** For the detail (JSON.stringify escapes C0, not these): the line around the first, safe to print. */
const SHOWN = new RegExp(`[\\u007f-\\u009f${FORMAT}]`, 'g');

/** The class of a character the check found: C0, DEL, C1, or bidi/invisible (the separators counted with them). */
function classOf(c: number): string {
  return c < 0x20 ? 'C0' : c === 0x7f ? 'DEL' : c <= 0x9f ? 'C1' : 'bidi/invisible';
}

export function controlFailure(where: string, text: string, allowTab: boolean): Failure | null {
  const re = allowTab ? CONTROL_BUT_TAB : CONTROL;
  re.lastIndex = 0;
  const m = re.exec(text);
  if (m === null) return null;
  const classes = new Set<string>();
  let count = 0;
  re.lastIndex = 0;
  for (let x = re.exec(text); x !== null; x = re.exec(text)) {
    classes.add(classOf(x[0].charCodeAt(0)));
    count++;
  }
  const start = text.lastIndexOf('\n', m.index) + 1;
  const endAt = text.indexOf('\n', m.index);
  const lineText = text.slice(Math.max(start, m.index - 120), endAt < 0 ? m.index + 80 : Math.min(endAt, m.index + 80));
  const code = m[0].charCodeAt(0).toString(16).padStart(4, '0');
  return {
    kind: 'control-characters',
    where,
    message: `${count} raw control or format character${count === 1 ? '' : 's'} (${[...classes].sort().join(', ')}), the first U+${code} at offset ${m.index}`,
    detail: `in: ${JSON.stringify(lineText).replace(SHOWN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`,
  };
}

export function crash(where: string, e: unknown): Failure {
  if (e instanceof Error) return { kind: 'crash', where, message: `${e.name}: ${e.message}`, stack: e.stack ?? '' };
  return { kind: 'crash', where, message: `thrown: ${String(e)}` };
}


// ---------------------------------------------------------------------------
// Failures: signatures and names
// ---------------------------------------------------------------------------

/** What makes two failures the same bug: kind, where, the error (numbers and quoted text blanked), the first frame in src/. */
export function signature(f: Failure): string {
  // C0 (ESC, BEL...), C1/DEL and bidi/invisible characters usually come from different omissions (no sanitize
  // at all; a sanitizer that stops at 0x1f; one that knows only controls).
  if (f.kind === 'control-characters') {
    const classes = /\(([^)]*)\)/.exec(f.message)?.[1] ?? '';
    return `${f.kind}|${f.where}|${classes.includes('C0') ? 'C0' : /C1|DEL/.test(classes) ? 'C1/DEL' : 'bidi/invisible'}`;
  }
  const msg = f.message.replace(/"[^"]*"|'[^']*'/g, '"…"').replace(/\d+/g, 'N').slice(0, 100);
  const frame = (f.stack ?? '').split('\n').find((l) => /\/src\//.test(l))?.replace(/.*\/src\//, 'src/').replace(/:\d+\)?$/, '') ?? '';
  return `${f.kind}|${f.where}|${msg}|${frame}`;
}

/** A file name saying what failed: crash-view-ladder-ftp-s123456.pcap. */
export function regressionName(f: Failure, level: Level | string, seed: number): string {
  const where = f.where.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${f.kind}-${where}-${level}-s${seed}.${level === 'file' ? 'bin' : 'pcap'}`;
}

/** The seed a regression file name carries (…-s123.pcap), or 0. */
export function seedOfName(name: string): number {
  const m = /-s(\d+)\.[a-z.]+$/.exec(name);
  return m === null ? 0 : Number(m[1]);
}

