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

/** Wide characters (CJK): a line may break before or after each, as Chinese has no spaces. */
const WIDE = '\\u2e80-\\ua4cf\\uac00-\\ud7a3\\uf900-\\ufaff\\uff00-\\uff60';
const PIECES = new RegExp(`[${WIDE}]|[^\\s${WIDE}]+|\\s+`, 'g');
const SPACE = /^\s/;
/** Space that wrapping would change: at either end, doubled, or other than a space. */
const UNEVEN_SPACE = /^\s|\s$|\s\s|[^\S ]/;
/** A number as text says it: "12", "(0.058", "300,000", "+1,234". */
const NUMBER = /^[(\[{"'“‘（]*[-+−]?\d[\d,.]*(?:-\d[\d,.]*)?$/;
/** A unit after a number, closing punctuation allowed: "ms)", "MB/s", "bytes;", "commands". */
const UNIT =
  /^(?:[kKMGTP]i?B|B|bytes?|bits?|[kKMGT]?B\/s|[kMG]?bit\/s|s|ms|µs|us|ns|min|h|%|times?|records?|packets?|segments?|frames?|lines?|commands?|transfers?|sessions?|connections?|datagrams?|fragments?|holes?|hole\(s\)|tries|columns?)[)\]}"'”’.,;:!?]*$/;
/** Units that a smaller unit may follow, as in "2 min 05 s" and "1 h 02 min". */
const LARGE_UNIT = /^(?:h|min)$/;
/** Words that a number belongs to, as in "frame 804" and "port 21". */
const PREFIX = /^[(\[（]?(?:frames?|port|第)$/;
/** The number after such a word, punctuation after it allowed: "804)", "16,". */
const NUMBERED = /^\d[\d,.]*(?:-\d[\d,.]*)?[),.;:]*$/;
/** Chinese units and measure words kept with the number before them (longest first). */
const WIDE_UNITS = ['字节', '毫秒', '微秒', '分钟', '小时', '秒', '个', '次', '条', '帧', '包', '行', '段', '节'];
/** Chinese closing punctuation never starts a line, opening punctuation never ends one. */
const CLOSING = /^[，。、；：！？）」』】》]$/;
const OPENING = /^[（「『【《]$/;
const CLOSING_RUN = /^[，。、；：！？）」』】》]+$/;
/** A hex digest (SHA-256, MD5): it may break every 4 digits, with no mark, in lines of at least 16. */
const DIGEST = /^[0-9a-f]{32,}$/i;
/** Ends a line where a word longer than the whole line had to be cut: the word goes on below. */
export const CUT_MARK = '↵';
/** The fewest columns worth cutting a long word into at the end of a line (fewer: it starts the next). */
const MIN_CUT = 8;
/** Punctuation a cut word breaks after, when it can. */
const CUT_AFTER = ':.,;-_])=&?';
/** The longest a path's parts are on average: base64 with longer parts between its slashes is not a path. */
const PATH_PART = 24;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ONLY_DOTS = /^[./]*$/;
/** The narrowest line a digest is broken into. */
const DIGEST_LINE = 16;

/** What wrapping never breaks (unless it is longer than a line): a word, a number and its unit, one wide character. */
export interface Token {
  text: string;
  width: number;
  /** A space before it (else it is joined to the token before, as between Chinese characters). */
  space: boolean;
  /** A number glued to its unit (or a word to its number): never broken at a slash inside. */
  glued: boolean;
}

/** The text as tokens, measured with `measure` (a table measures as its drawer does). */
export function tokenize(text: string, measure: (s: string) => number = displayWidth): Token[] {
  const raw = words(text.match(PIECES) ?? []);
  const out: Token[] = [];
  let space = false;
  for (let i = 0; i < raw.length; i++) {
    const piece = raw[i]!;
    if (SPACE.test(piece)) {
      space = true;
      continue;
    }
    // Opening punctuation goes with what it opens (a number in it still meets its unit: "（1 次").
    if (OPENING.test(piece) && i + 1 < raw.length && !SPACE.test(raw[i + 1]!)) {
      raw[i + 1] = piece + raw[i + 1]!;
      continue;
    }
    const prev = out[out.length - 1];
    let text = piece;
    let glued = false;
    // Closing punctuation goes with what it closes.
    if (prev !== undefined && !space && CLOSING.test(piece)) {
      prev.text += piece;
      prev.width = measure(prev.text);
      continue;
    }
    // A number with its unit, a word with its number: one token ("0.058 ms", "2 min 05 s", "frame 804)").
    let j = i + 1;
    const k = gap(raw, j);
    const next = raw[k];
    if (next !== undefined && NUMBER.test(piece)) {
      if (UNIT.test(next)) {
        text += (k > j ? ' ' : '') + next;
        j = k + 1;
        glued = true;
        // "2 min" goes on with "05 s".
        const m = gap(raw, j);
        const u = gap(raw, m + 1);
        if (LARGE_UNIT.test(next) && m < raw.length && NUMBER.test(raw[m]!) && u < raw.length && UNIT.test(raw[u]!)) {
          text += `${m > j ? ' ' : ''}${raw[m]!}${u > m + 1 ? ' ' : ''}${raw[u]!}`;
          j = u + 1;
        }
      } else if (WIDE_UNITS.includes(next)) {
        text += (k > j ? ' ' : '') + next;
        j = k + 1;
        glued = true;
      } else if (k + 1 < raw.length && WIDE_UNITS.includes(next + raw[k + 1]!)) {
        // A unit of two characters the dictionary does not know as a word ("字" "节").
        text += (k > j ? ' ' : '') + next + raw[k + 1]!;
        j = k + 2;
        glued = true;
      } else {
        // A unit the segmenter joined to the word after it ("字节数"): the unit alone goes with the number.
        const unit = WIDE_UNITS.find((u) => next.startsWith(u));
        if (unit !== undefined) {
          text += (k > j ? ' ' : '') + unit;
          raw[k] = next.slice(unit.length);
          j = k;
          glued = true;
        }
      }
    } else if (next !== undefined && PREFIX.test(piece) && NUMBERED.test(next)) {
      text += (k > j ? ' ' : '') + next;
      j = k + 1;
      glued = true;
      // "第 52-53 帧": the counter word after the number too.
      const u = gap(raw, j);
      if (u < raw.length && WIDE_UNITS.includes(raw[u]!)) {
        text += (u > j ? ' ' : '') + raw[u]!;
        j = u + 1;
      }
    }
    i = j - 1;
    out.push({ text, width: measure(text), space: space && out.length > 0, glued });
    space = false;
  }
  return out;
}

/** Words of Chinese (and other wide) text, from ICU's dictionary: a line never breaks inside one. */
const WORDS = new Intl.Segmenter('zh', { granularity: 'word' });
const ONE_WIDE = new RegExp(`^[${WIDE}]$`);

/**
 * The pieces with each run of wide characters made into its words ("控制连接" stays whole), where they
 * were one character each; punctuation stays a piece of its own.
 */
function words(pieces: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (!ONE_WIDE.test(pieces[i]!)) {
      out.push(pieces[i]!);
      continue;
    }
    let run = '';
    while (i < pieces.length && ONE_WIDE.test(pieces[i]!)) run += pieces[i++]!;
    i--;
    const kept = termSpans(run);
    let word = '';
    let at = 0;
    for (const w of WORDS.segment(run)) {
      // A break inside one of our terms is no break ("客户|端").
      if (word !== '' && !kept.has(at)) {
        out.push(word);
        word = '';
      }
      word += w.segment;
      at += w.segment.length;
    }
    if (word !== '') out.push(word);
  }
  return out;
}

/** Terms of the trade that ICU's dictionary splits ("客户|端", "服务|器", "第三|方"): never broken. */
const TERMS = ['字节', '客户端', '服务器', '第三方', '数据包', '报文段', '三次握手', '四次挥手', '四次断开', '数据连接', '控制连接', '主动模式', '被动模式', '防火墙', '半关闭', '重传', '明文', '密文'];
const TERM = new RegExp(TERMS.join('|'), 'g');

/** The offsets inside the terms of `run`, where a line may not break. */
function termSpans(run: string): Set<number> {
  const inside = new Set<number>();
  for (const m of run.matchAll(TERM)) for (let k = 1; k < m[0].length; k++) inside.add(m.index + k);
  return inside;
}

/** Where a cut word breaks best: after its last punctuation (-1: none). */
function lastPunctuation(s: string): number {
  for (let i = s.length - 1; i > 0; i--) if (CUT_AFTER.includes(s[i]!)) return i;
  return -1;
}

/** The piece after raw[k] when raw[k] is a space, else k. */
function gap(raw: readonly string[], k: number): number {
  return k < raw.length && SPACE.test(raw[k]!) ? k + 1 : k;
}

/**
 * Where a token longer than a line may break without a mark: after each slash of a path, and a digest
 * every 4 digits. A number with its unit has none ("110 MB/s").
 */
export function segments(tok: Token): string[] {
  if (tok.glued) return [tok.text];
  if (DIGEST.test(tok.text)) {
    const out: string[] = [];
    for (let i = 0; i < tok.text.length; i += 4) out.push(tok.text.slice(i, i + 4));
    return out;
  }
  if (!tok.text.includes('/')) return [tok.text];
  // Base64 (an ADAT, a certificate) has a slash every 64 characters or so: it is cut as a word, not at its slashes.
  let slashes = 0;
  for (let at = tok.text.indexOf('/'); at >= 0; at = tok.text.indexOf('/', at + 1)) slashes++;
  if (tok.text.length / (slashes + 1) > PATH_PART && BASE64.test(tok.text)) return [tok.text];
  const out: string[] = [];
  let from = 0;
  for (let at = tok.text.indexOf('/'); at >= 0; at = tok.text.indexOf('/', at + 1)) {
    // Not after a part of slashes and dots alone: "/robots.txt" and "./data.bin" stay whole.
    if (at + 1 < tok.text.length && !ONLY_DOTS.test(tok.text.slice(from, at + 1))) {
      out.push(tok.text.slice(from, at + 1));
      from = at + 1;
    }
  }
  out.push(tok.text.slice(from));
  return out;
}

/** The narrowest a line can be without cutting anything of the text: its widest token or unbreakable piece. */
export function minWidth(text: string, measure: (s: string) => number = displayWidth): number {
  let most = 0;
  for (const tok of tokenize(text, measure)) {
    if (tok.width <= most) continue;
    const segs = segments(tok);
    most = Math.max(most, segs.length === 1 ? tok.width : DIGEST.test(tok.text) ? DIGEST_LINE : Math.max(...segs.map(measure)));
  }
  return most;
}

/**
 * Wraps text to `width` columns: the first line starts with `first`, the others with `rest`. Breaks at
 * spaces, or between wide characters (Chinese has no spaces), never inside a word, a number or between
 * a number and its unit (see tokenize). A word longer than a whole line is broken after a slash (paths)
 * or every 4 digits (digests), else cut (after punctuation when it can), the line ending in CUT_MARK: the
 * only cut.
 */
export function wrap(text: string, width: number, first = '', rest = first, measure: (s: string) => number = displayWidth): string[] {
  let lineW = measure(first);
  // Most cells of a table fit their column as they are.
  if (lineW + measure(text) <= width && !UNEVEN_SPACE.test(text)) return [(first + text).trimEnd()];
  const lines: string[] = [];
  const restW = measure(rest);
  let line = first;
  let empty = true;
  const next = () => {
    lines.push(line.trimEnd());
    line = rest;
    lineW = restW;
    empty = true;
  };
  const put = (s: string, w: number) => {
    line += s;
    lineW += w;
    empty = false;
  };
  for (const tok of tokenize(text, measure)) {
    const sep = !empty && tok.space ? 1 : 0;
    if (lineW + sep + tok.width <= width) {
      put(sep === 1 ? ` ${tok.text}` : tok.text, sep + tok.width);
      continue;
    }
    // A token broken anyway (longer than a whole line) starts where the line is: "RETR /pub/" and "robots.txt".
    const long = tok.width > width - restW;
    let space = long ? sep : 0;
    if (!empty && !long) next();
    if (lineW + space + tok.width <= width) {
      put(space === 1 ? ` ${tok.text}` : tok.text, space + tok.width);
      continue;
    }
    for (const seg of segments(tok)) {
      let s = seg;
      let w = measure(s);
      while (s !== '') {
        if (lineW + space + w <= width) {
          put(space === 1 ? ` ${s}` : s, space + w);
          space = 0;
          break;
        }
        // A piece longer than a whole line is cut where the line is, when a useful part fits: "> TYPEEE…↵".
        if (!empty && !(w > width - restW && width - lineW - space - measure(CUT_MARK) >= MIN_CUT)) {
          next();
          space = 0;
          continue;
        }
        // Longer than a line: cut, and marked so, at the last character that leaves room for the mark.
        const room = width - lineW - space - measure(CUT_MARK);
        let head = '';
        let headW = 0;
        for (const ch of s) {
          const cw = measure(ch);
          if (head !== '' && headW + cw > room) break;
          head += ch;
          headW += cw;
        }
        // After the last punctuation of the piece, if that keeps the line half full: "[2001:db8::1]:" and "21".
        if (head.length < s.length) {
          const at = lastPunctuation(head);
          if (at >= head.length / 2) {
            head = head.slice(0, at + 1);
            headW = measure(head);
          }
        }
        // Closing punctuation never starts a line: the character before it goes along.
        if (head.length > 1 && CLOSING_RUN.test(s.slice(head.length))) {
          head = head.slice(0, -1);
          headW = measure(head);
        }
        s = s.slice(head.length);
        w = measure(s);
        const lead = space === 1 ? ' ' : '';
        put(lead + (s === '' ? head : head + CUT_MARK), space + (s === '' ? headW : headW + measure(CUT_MARK)));
        space = 0;
        if (s !== '') next();
      }
    }
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
