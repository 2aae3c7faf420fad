import type { Stamp } from '../flow/connections.js';

const LF = 0x0a;
const CR = 0x0d;
const IAC = 0xff;
const IP = 0xf4;
const DM = 0xf2;

/**
 * Telnet commands a line carried (RFC 854), as bits: Interrupt Process and Data Mark, which RFC 959 section
 * 4.1.3 has a client send before ABOR (IP, then the Synch: a DM sent urgent), and any other.
 */
export const TELNET_IP = 1;
export const TELNET_DM = 2;
export const TELNET_OTHER = 4;

/**
 * What a LineReader hands on for each line, as arguments (an object per line was a fifth of what the
 * analysis of a busy control connection allocated):
 * - text: the line without its ending, telnet commands removed, decoded as UTF-8 (Latin-1 when it is not UTF-8);
 * - first, last: frame and time of the segment holding the line's first byte, and of the one that ended
 *   it (one object when that is one segment; never changed afterwards, so they may be kept);
 * - truncated: cut at the length limit (the rest of the line was skipped);
 * - length: bytes of the line as sent (before the cut, when truncated);
 * - telnet: the telnet commands removed from it (TELNET_IP, TELNET_DM, TELNET_OTHER bits; 0 for none);
 * - textAt: the segment holding the line's first byte that is not part of a telnet command (`first`
 *   itself unless telnet commands filled whole segments before it, as a client's IP and Synch before ABOR).
 */
export type OnLine = (text: string, first: Stamp, last: Stamp, truncated: boolean, length: number, telnet: number, textAt: Stamp) => void;

/**
 * Offered first an ASCII line that lies whole in one segment, as bytes (its ending removed), and the
 * segment's frame and time: both valid only during the call (`at` is the clock, which changes with every
 * packet). True when it was dealt with, and no text is then made of it, nor a stamp; false, and it goes
 * to OnLine as text. So a reader of lines can skip decoding those it would only throw away.
 */
export type OnAsciiLine = (buf: Buffer, off: number, n: number, at: Readonly<Stamp>) => boolean;

/**
 * Frames a reassembled byte stream into lines: CRLF or a bare LF ends a line, whatever the segmentation.
 * Telnet commands (IAC ...) are removed, IAC IAC becomes one 0xFF byte. Lines are bounded: a longer
 * line is handed on cut (truncated) and the rest skipped up to its end. After a gap, the partial line is
 * dropped and reading resumes at the next line that can be told to start there (`looksLikeStart`).
 */
export class LineReader {
  private pending: Buffer;
  private pendingLen = 0;
  private firstFrame = 0;
  private firstSec = 0;
  private firstNsec = 0;
  /** Where the pending line's text (not its telnet commands) began: frame -1 until a byte of it came. */
  private textFrame = -1;
  private textSec = 0;
  private textNsec = 0;
  /** Where the pending line is in a telnet command: 0 not in one, 1 after IAC, 2 before an option byte, 3 in SB, 4 after IAC in SB. */
  private telnetState = 0;
  /** Skipping the rest of a line (too long, or broken by a gap) up to its LF. */
  private skipping = false;
  private skippedLength = 0;
  /** After a gap: the next bytes may be a line's middle. */
  private resync = false;
  lines = 0;
  /** Where ASCII lines are offered now: offerTo, or null while offering is off (see offering). */
  private onAscii: OnAsciiLine | null;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: OnLine,
    private readonly looksLikeStart: (b: Buffer, off: number, len: number) => boolean,
    private readonly offerTo: OnAsciiLine | null = null,
  ) {
    this.pending = Buffer.allocUnsafe(Math.min(256, maxLine));
    this.onAscii = offerTo;
  }

  /** Turns offering lines to OnAsciiLine off or back on (a switch, not a wrapper around every line's call). */
  offering(on: boolean): void {
    this.onAscii = on ? this.offerTo : null;
  }

  /** Bytes of the stream, in order. `clock` is the segment that delivered them. */
  push(buf: Buffer, off: number, len: number, clock: Readonly<Stamp>): void {
    const end = off + len;
    let start = off;
    if (this.resync) {
      this.resync = false;
      if (this.pendingLen === 0 && !this.looksLikeStart(buf, off, len)) this.skipping = true;
    }
    while (start < end) {
      const lf = indexOfLf(buf, start, end);
      const stop = lf < 0 || lf >= end ? end : lf;
      if (this.skipping) {
        if (this.skippedLength > 0) this.skippedLength += stop - start;
        if (stop === end) return;
        this.skipping = false;
        if (this.skippedLength > 0) this.flushTruncated(clock);
        start = stop + 1;
        continue;
      }
      if (this.pendingLen === 0) {
        this.firstFrame = clock.frame;
        this.firstSec = clock.sec;
        this.firstNsec = clock.nsec;
        this.textFrame = -1;
        this.telnetState = 0;
        if (stop < end && stop - start <= this.maxLine) {
          // The whole line is in this segment (the usual case): read where it lies, no copy.
          this.emitFrom(buf, start, stop - start, clock);
          start = stop + 1;
          continue;
        }
      }
      const room = this.maxLine - this.pendingLen;
      const take = Math.min(stop - start, room);
      if (this.textFrame < 0) this.findText(buf, start, start + take, clock);
      this.append(buf, start, take);
      if (stop - start > room) {
        // Too long: hand on what fits, skip the rest of the line.
        this.skipping = true;
        this.skippedLength = this.pendingLen;
        start += take;
        continue;
      }
      if (stop === end) return; // no line end yet
      this.emit(clock, false, this.pendingLen);
      start = stop + 1;
    }
  }

  /** Bytes were lost: the partial line goes, and the next line is awaited. */
  gap(): void {
    this.pendingLen = 0;
    this.skipping = false;
    this.skippedLength = 0;
    this.resync = true;
  }

  /** The stream ended: a last line without its line end is still a line. */
  end(clock: Readonly<Stamp>): void {
    if (this.skipping && this.skippedLength > 0) this.flushTruncated(clock);
    else if (this.pendingLen > 0 && !this.skipping) this.emit(clock, false, this.pendingLen);
    this.pendingLen = 0;
  }

  private flushTruncated(clock: Readonly<Stamp>): void {
    const length = this.skippedLength;
    this.skippedLength = 0;
    this.emit(clock, true, length);
  }

  /** Notes the segment (`clock`) if buf[from, to) holds the pending line's first byte outside a telnet command. */
  private findText(buf: Buffer, from: number, to: number, clock: Readonly<Stamp>): void {
    let state = this.telnetState;
    for (let i = from; i < to; i++) {
      const c = buf[i]!;
      if (state === 0) {
        if (c !== IAC) return this.textStarts(clock);
        state = 1;
      } else if (state === 1) {
        // IAC IAC is a data byte; WILL/WONT/DO/DONT take an option byte; SB runs to IAC SE.
        if (c === IAC) return this.textStarts(clock);
        state = c >= 251 ? 2 : c === 250 ? 3 : 0;
      } else if (state === 2) state = 0;
      else if (state === 3) state = c === IAC ? 4 : 3;
      else state = c === 240 ? 0 : 3;
    }
    this.telnetState = state;
  }

  private textStarts(clock: Readonly<Stamp>): void {
    this.textFrame = clock.frame;
    this.textSec = clock.sec;
    this.textNsec = clock.nsec;
  }

  private append(buf: Buffer, from: number, n: number): void {
    if (n <= 0) return;
    if (this.pendingLen + n > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxLine, Math.max(this.pending.length * 2, this.pendingLen + n)));
      this.pending.copy(grown, 0, 0, this.pendingLen);
      this.pending = grown;
    }
    buf.copy(this.pending, this.pendingLen, from, from + n);
    this.pendingLen += n;
  }

  private emit(clock: Readonly<Stamp>, truncated: boolean, length: number): void {
    let n = this.pendingLen;
    if (!truncated && n > 0 && this.pending[n - 1] === CR) n--;
    this.pendingLen = 0;
    const text = textOf(this.pending, 0, n);
    this.tell(text, clock, truncated, length, telnetSeen);
  }

  /** A whole line at buf[off, off + len), without its LF. */
  private emitFrom(buf: Buffer, off: number, len: number, clock: Readonly<Stamp>): void {
    const n = len > 0 && buf[off + len - 1] === CR ? len - 1 : len;
    // indexOfLf's loop knows; after its native search (a long stretch ahead), look.
    if (mayBeHigh && hasHigh(buf, off, off + n)) {
      const text = textOf(buf, off, n);
      return this.tell(text, clock, false, len, telnetSeen);
    }
    if (this.onAscii !== null && this.onAscii(buf, off, n, clock)) {
      this.lines++;
      return;
    }
    // indexOfLf went over these bytes just now: they are all ASCII, so they decode as they are.
    this.tell(latin1(buf, off, off + n), clock, false, len, 0);
  }

  private tell(text: string, clock: Readonly<Stamp>, truncated: boolean, length: number, telnet: number): void {
    this.lines++;
    const last = { frame: clock.frame, sec: clock.sec, nsec: clock.nsec };
    // A line in one segment starts and ends there: one stamp for both (stamps are never changed).
    const first = this.firstFrame === clock.frame ? last : { frame: this.firstFrame, sec: this.firstSec, nsec: this.firstNsec };
    // Telnet commands alone in the segments before the text: where the text began (rare: ABOR after IP and the Synch).
    const textAt = telnet === 0 || this.textFrame < 0 || this.textFrame === this.firstFrame ? first
      : this.textFrame === clock.frame ? last : { frame: this.textFrame, sec: this.textSec, nsec: this.textNsec };
    this.onLine(text, first, last, truncated, length, telnet, textAt);
  }
}

/** Whether b[start, end) holds a byte of 0x80 or more. */
function hasHigh(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return true;
  return false;
}

/** Set by indexOfLf: whether the bytes it went over may hold a byte of 0x80 or more (not plain ASCII). */
let mayBeHigh = true;

/**
 * The first LF in buf[start, end), or -1: a loop for short spans (a native call costs more than a control
 * line's scan), which also notes whether it met a byte of 0x80 or more (mayBeHigh), so that decoding an
 * ASCII line does not go over its bytes again.
 */
function indexOfLf(buf: Buffer, start: number, end: number): number {
  if (end - start > 256) {
    mayBeHigh = true;
    const i = buf.indexOf(LF, start);
    return i < end ? i : -1;
  }
  let high = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === LF) {
      mayBeHigh = high >= 0x80;
      return i;
    }
    high |= c;
  }
  mayBeHigh = high >= 0x80;
  return -1;
}

/** Set by stripTelnet (and textOf): the telnet commands (TELNET_* bits) the last line it went over carried. */
let telnetSeen = 0;

/**
 * Removes telnet commands (RFC 854): IAC IAC is a 0xFF byte; IAC WILL/WONT/DO/DONT x, IAC SB ... IAC SE, IAC x
 * go. What it removed is left in telnetSeen.
 */
export function stripTelnet(b: Buffer, n: number): Buffer {
  telnetSeen = 0;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c !== IAC) {
      out[o++] = c;
      continue;
    }
    const cmd = b[i + 1];
    if (cmd === undefined || i + 1 >= n) break;
    if (cmd !== IAC) telnetSeen |= cmd === IP ? TELNET_IP : cmd === DM ? TELNET_DM : TELNET_OTHER;
    if (cmd === IAC) {
      out[o++] = IAC;
      i++;
    } else if (cmd >= 251 && cmd <= 254) {
      i += 2; // option negotiation: three bytes
    } else if (cmd === 250) {
      // subnegotiation up to IAC SE
      let j = i + 2;
      while (j + 1 < n && !(b[j] === IAC && b[j + 1] === 240)) j++;
      i = j + 1;
    } else {
      i++; // IP, DM, AYT, NOP and the others: two bytes
    }
  }
  return out.subarray(0, o);
}

/**
 * Buffer's own latin1Slice, which toString('latin1') calls after checks that cost as much as the
 * decoding of a short line, is there (every Node so far); toString where it is not.
 */
const HAS_LATIN1_SLICE = typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function';

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/** Latin-1 text of b[start, end). */
function latin1(b: Buffer, start: number, end: number): string {
  return HAS_LATIN1_SLICE ? (b as unknown as Latin1Slicer).latin1Slice(start, end) : b.toString('latin1', start, end);
}

/** The text of a line's bytes b[off, off + n): telnet commands removed, then decoded (see decode). */
function textOf(b: Buffer, off: number, n: number): string {
  telnetSeen = 0;
  const end = off + n;
  for (let i = off; i < end; i++) {
    if (b[i]! >= 0x80) {
      const bytes = b.subarray(off, end);
      return decode(bytes.indexOf(IAC) >= 0 ? stripTelnet(bytes, n) : bytes);
    }
  }
  // ASCII: no telnet command (IAC is 0xFF), and Latin-1 is ASCII.
  return latin1(b, off, end);
}

/** UTF-8 when the bytes are UTF-8 (RFC 2640), else Latin-1, so every byte shows as something. */
export function decode(b: Buffer): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return b.toString('latin1');
  const s = b.toString('utf8');
  return s.includes('\ufffd') ? b.toString('latin1') : s;
}
