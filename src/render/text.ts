/** Small text helpers shared by every human view. */
import { UNSAFE, uEscape } from '../escape.js';

/** 1234567 -> "1,234,567". */
export function group(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Exact UTC time with nanoseconds: 2024-03-27T16:56:39.984671000Z. */
export function formatTime(t: { sec: number; nsec: number }): string {
  const d = new Date(t.sec * 1000);
  // A crafted capture can carry a time no calendar holds: then it is said in seconds.
  if (Number.isNaN(d.getTime()) || t.sec < 0) return `${t.sec}.${String(t.nsec).padStart(9, '0')} s since 1970`;
  const iso = d.toISOString(); // ...T16:56:39.000Z
  return `${iso.slice(0, 19)}.${String(t.nsec).padStart(9, '0')}Z`;
}

/**
 * Makes text from the wire (or anything untrusted) safe for a terminal: control characters, DEL, C1
 * controls, the bidi and invisible format characters and lone surrogates (src/escape.ts: UNSAFE) become
 * visible escapes (`\x1b`, `\u202e`), so no capture can move the cursor, change colours or make a name read
 * other than it is. Every text view writes every string from the wire through it.
 */
export function sanitize(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const c = ch.charCodeAt(0);
    if (c === 0x0a) return '\\n';
    if (c === 0x0d) return '\\r';
    if (c === 0x09) return '\\t';
    return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : uEscape(ch);
  });
}

/** Columns a character takes: 0 for combining marks and zero-width characters, 2 for wide East Asian characters and emoji, else 1. */
export function charWidth(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c < 0x300) return 1;
  if (/^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufeff]$/u.test(ch)) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Columns a string takes on a terminal (our own colour codes take none; text from the wire never holds ESC). */
export function displayWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  if (s.includes('\u001b')) s = s.replace(/\u001b\[[0-9;]*m/g, '');
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** The text cut to at most `width` columns, ending with … when something was cut. */
export function cut(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

export function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(s))) + s;
}

export function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** TCP flags as "SYN", "SYN,ACK", "FIN,PSH,ACK", "RST,ACK"... */
export function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & 2) names.push('SYN');
  if (flags & 1) names.push('FIN');
  if (flags & 4) names.push('RST');
  if (flags & 8) names.push('PSH');
  if (flags & 16) names.push('ACK');
  if (flags & 32) names.push('URG');
  if (flags & 64) names.push('ECE');
  if (flags & 128) names.push('CWR');
  return names.length === 0 ? '(no flags)' : names.join(',');
}

/**
 * Wraps text to `width` columns: the first line starts with `first`, the others with `rest`. Breaks at
 * spaces, or between wide characters (Chinese has no spaces); a word longer than a line is cut.
 */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let lineW = displayWidth(first);
  let empty = true;
  let lastTok = '';
  const tokens = text.match(/[\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]|[^\s\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]+|\s+/g) ?? [];
  for (const tok of tokens) {
    if (/^\s+$/.test(tok)) {
      if (!empty) {
        line += ' ';
        lineW += 1;
      }
      continue;
    }
    let w = displayWidth(tok);
    if (!empty && lineW + w > width) {
      // Closing punctuation never starts a line (Chinese line breaking): the character before it comes along.
      let carry = '';
      if (/^[，。、；：！？）」』】》]$/.test(tok) && lastTok.length === 1 && line.endsWith(lastTok)) {
        carry = lastTok;
        line = line.slice(0, -1);
      }
      lines.push(line.trimEnd());
      line = rest + carry;
      lineW = displayWidth(line);
      empty = carry === '';
    }
    lastTok = tok;
    let t = tok;
    while (lineW + w > width && t.length > 1) {
      // A word longer than the line: cut it.
      let cut = '';
      for (const ch of t) {
        if (lineW + displayWidth(cut + ch) > width) break;
        cut += ch;
      }
      if (cut === '') break;
      lines.push(line + cut);
      t = t.slice(cut.length);
      w = displayWidth(t);
      line = rest;
      lineW = displayWidth(rest);
    }
    line += t;
    lineW += w;
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** ANSI styling, when colour is on. */
export function ansi(color: boolean, kind: 'dim' | 'bold' | 'red' | 'yellow' | 'green' | 'cyan' | 'magenta', text: string): string {
  if (!color) return text;
  const code = { dim: 2, bold: 1, red: 31, yellow: 33, green: 32, cyan: 36, magenta: 35 }[kind];
  return `\u001b[${code}m${text}\u001b[0m`;
}
