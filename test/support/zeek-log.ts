/**
 * A strict reader of Zeek's ASCII logs, written from Zeek's documentation of the format (the logging
 * framework's ASCII writer: "Zeek Logs", docs.zeek.org), not from ftpscope's writer, so that it judges it.
 * What it checks, as zeek-cut and log shippers rely on it:
 *
 * - the first line is `#separator <sep>`, the separator written as \xNN escapes (a tab: `\x09`), and the
 *   other header lines are `#<key><sep><value>`: set_separator, empty_field, unset_field, path, open,
 *   fields, types, in that order, before any row;
 * - #open and #close are times as %Y-%m-%d-%H-%M-%S; #close is the last line;
 * - #fields and #types have as many columns, each type one of Zeek's; every row has as many fields;
 * - every field is valid for its type, or the unset field; a set is the empty field or its elements joined
 *   by the set separator; no field holds a raw separator, line end or control character (Zeek escapes
 *   them as \xNN).
 *
 * Throws, saying which line and why, at the first breach.
 */
import { isIP } from 'node:net';

export interface ZeekLogFile {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  path: string;
  open: string;
  close: string;
  fields: string[];
  types: string[];
  /** The rows, each as field name to its text as written ('-' for unset). */
  rows: Array<Record<string, string>>;
}

const HEADER_ORDER = ['set_separator', 'empty_field', 'unset_field', 'path', 'open', 'fields', 'types'] as const;
const STAMP = /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/;
const ATOMIC: Record<string, (v: string) => boolean> = {
  time: (v) => /^\d+\.\d{6}$/.test(v),
  interval: (v) => /^-?\d+\.\d{6}$/.test(v),
  count: (v) => /^\d+$/.test(v),
  int: (v) => /^-?\d+$/.test(v),
  port: (v) => /^\d+$/.test(v) && Number(v) <= 65535,
  addr: (v) => isIP(v) !== 0,
  subnet: (v) => /^[0-9a-fA-F.:]+\/\d+$/.test(v),
  bool: (v) => v === 'T' || v === 'F',
  double: (v) => /^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(v),
  string: () => true,
  enum: (v) => /^[A-Za-z_][A-Za-z0-9_:]*$/.test(v),
};

export function readZeekLog(text: string): ZeekLogFile {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the log does not end with a line end');
  lines.pop();
  const first = /^#separator (.+)$/.exec(lines[0] ?? '');
  if (first === null) throw new Error(`line 1 is not "#separator <sep>": ${JSON.stringify(lines[0])}`);
  const separator = first[1]!.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const header: Record<string, string> = {};
  let i = 1;
  for (const key of HEADER_ORDER) {
    const line = lines[i++] ?? '';
    const prefix = `#${key}${separator}`;
    if (!line.startsWith(prefix)) throw new Error(`line ${i}: expected #${key}, got ${JSON.stringify(line)}`);
    header[key] = line.slice(prefix.length);
  }
  if (!STAMP.test(header.open!)) throw new Error(`#open is not %Y-%m-%d-%H-%M-%S: ${header.open}`);
  const fields = header.fields!.split(separator);
  const types = header.types!.split(separator);
  if (fields.length !== types.length) throw new Error(`${fields.length} #fields but ${types.length} #types`);
  if (new Set(fields).size !== fields.length) throw new Error('a field is named twice in #fields');
  for (const t of types) if (checker(t) === null) throw new Error(`unknown type ${t}`);
  const closeLine = lines.at(-1) ?? '';
  const close = closeLine.startsWith(`#close${separator}`) ? closeLine.slice(7) : null;
  if (close === null || !STAMP.test(close)) throw new Error(`the last line is not #close <time>: ${JSON.stringify(closeLine)}`);
  const rows: Array<Record<string, string>> = [];
  const setSep = header.set_separator!;
  const empty = header.empty_field!;
  const unset = header.unset_field!;
  for (let n = i; n < lines.length - 1; n++) {
    const line = lines[n]!;
    if (line.startsWith('#')) throw new Error(`line ${n + 1}: a comment among the rows: ${line}`);
    const values = line.split(separator);
    if (values.length !== fields.length) throw new Error(`line ${n + 1}: ${values.length} fields, #fields has ${fields.length}`);
    const row: Record<string, string> = {};
    values.forEach((v, k) => {
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error(`line ${n + 1}, ${fields[k]}: a raw control character`);
      if (v !== unset) {
        const ok = checker(types[k]!)!;
        const elements = types[k]!.startsWith('set[') || types[k]!.startsWith('vector[') ? (v === empty ? [] : v.split(setSep)) : [v];
        for (const e of elements) if (!ok(e)) throw new Error(`line ${n + 1}: ${fields[k]} (${types[k]}) is not valid: ${JSON.stringify(v)}`);
      }
      row[fields[k]!] = v;
    });
    rows.push(row);
  }
  return { separator, setSeparator: setSep, emptyField: empty, unsetField: unset, path: header.path!, open: header.open!, close, fields, types, rows };
}

/** The validity test of a type, sets and vectors by their elements; null for a type Zeek does not log. */
function checker(type: string): ((v: string) => boolean) | null {
  const inner = /^(?:set|vector)\[(\w+)\]$/.exec(type);
  return ATOMIC[inner !== null ? inner[1]! : type] ?? null;
}

/** The rows of one of Zeek's expected logs in ../shared/conformance: the line BTest adds first is left out. */
export function readBaseline(text: string): ZeekLogFile {
  const body = text.startsWith('### ') ? text.slice(text.indexOf('\n') + 1) : text;
  // BTest masks #open and #close as "#open XXXX-XX-XX-XX-XX-XX" (a space for the separator), and times.
  return readZeekLog(body.replace(/^#(open|close) XXXX-XX-XX-XX-XX-XX$/gm, '#$1\t2000-01-01-00-00-00').replace(/XXXXXXXXXX\.XXXXXX/g, '0000000000.000000'));
}
