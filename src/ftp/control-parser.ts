import type { Stamp } from '../flow/connections.js';
import { commandAt, type CommandInfo } from './commands.js';
import { LineReader, type OnAsciiLine } from './line-reader.js';

/**
 * A line that is not what its direction should carry, or a reply that was not well formed, and why. `first`
 * is where it is pointed at (the line, or where an unclosed multi-line reply began); `last` is the end of
 * the line that made it known (for an unclosed reply ended by the connection: the clock at that moment).
 * - not-a-command: the verb is not letters; overlong-verb: a verb longer than MAX_VERB (the command still
 *   follows as a command event);
 * - not-a-reply: no three digits and a separator; code-out-of-range: a code outside 100-699;
 *   other-protocol: the banner of another protocol where replies are expected;
 * - unterminated-reply: a multi-line reply never closed, closed by a plain reply line that answers a later
 *   command ('reply') or by the end of the connection ('end'); the reply event follows;
 * - long-reply: a multi-line reply reached the line limit (its further lines are not kept);
 * - overlong-reply: a reply line longer than the line limit, cut to it (`code`: its code, if it starts with
 *   one; `bytes`: its length as sent); the line is then read as it was cut.
 */
export type BadLine =
  | { reason: 'not-a-command'; line: string; first: Stamp; last: Stamp }
  | { reason: 'overlong-verb'; verb: string; first: Stamp; last: Stamp }
  | { reason: 'not-a-reply'; line: string; first: Stamp; last: Stamp }
  | { reason: 'code-out-of-range'; line: string; code: string; first: Stamp; last: Stamp }
  | { reason: 'other-protocol'; protocol: 'SSH' | 'HTTP' | 'IMAP' | 'POP3'; line: string; first: Stamp; last: Stamp }
  | { reason: 'unterminated-reply'; code: number; closedBy: 'reply' | 'end'; first: Stamp; last: Stamp }
  | { reason: 'long-reply'; code: number; limit: number; first: Stamp; last: Stamp }
  | { reason: 'overlong-reply'; code: number | null; bytes: number; limit: number; first: Stamp; last: Stamp };

/**
 * What a ControlParser tells, as calls (an object per command or reply line was most of what a busy control
 * connection allocated; bad lines are rare and come as objects). Stamps handed over are never changed
 * afterwards, so they may be kept.
 */
export interface ControlEvents {
  /**
   * A command line: its verb (upper case; the table's own string when `known`), its argument (after the
   * first space, as sent), the table's entry for the verb, where it began and ended, whether it was cut at
   * the line limit, its length as sent (its bytes up to the LF), and the telnet commands removed from it
   * (TELNET_* bits of line-reader.ts: RFC 959 section 4.1.3 sends ABOR after IP and the Synch's DM), and
   * where the text itself began (`first` unless telnet commands filled the segments before it).
   */
  onCommand(verb: string, argument: string, known: CommandInfo | undefined, first: Stamp, last: Stamp, truncated: boolean, length: number, telnet: number, textAt: Stamp): void;
  /** A whole reply: its code, its lines as sent (a multi-line reply folded), the text of its last line, where it began and ended. */
  /** `lineFrames`: the frame each line began in, when the lines came in more than one segment (else null). */
  onReply(code: number, lines: string[], message: string, first: Stamp, last: Stamp, lineFrames: number[] | null): void;
  onBadLine(line: BadLine): void;
  /** A mark of how many commands were sent so far, taken when a multi-line reply begins (replies only). */
  commandsSent(): number;
  /**
   * Whether a plain reply with this code is a valid reply to a command waiting for one, while commands
   * were sent since the mark `since` (replies only): then it closes a multi-line reply never closed.
   */
  answersLater(code: number, since: number): boolean;
}

/** Bounds a ControlParser keeps (each is an option, see FtpLimits). */
export interface ControlParserLimits {
  /** Longest line kept; longer ones are cut (commands report it, see ControlEvents.onCommand). */
  maxLineLength: number;
  /** Lines of one multi-line reply kept; one more ('...') marks the rest. */
  maxReplyLines: number;
}

const SPACE = 0x20;
const DASH = 0x2d;
/** Real commands are 3 or 4 letters (a few extensions longer); longer verbs are reported. */
const MAX_VERB = 12;

/**
 * The pure core of one direction of an FTP control connection: bytes in, command, reply and bad-line events
 * out (ControlEvents). It frames lines with a LineReader (CRLF or bare LF, telnet commands, the line limit,
 * resync after a gap) and classifies them: a command's verb and argument; a reply's code and separator, with
 * multi-line replies folded by RFC 959's rule (a line "ddd-" opens one, the first line "ddd " with the same
 * code closes it). Nothing here knows the session; the one question that needs it (does a plain reply close
 * a multi-line reply that was never closed?) is asked of ControlEvents.
 *
 * Call order, for one direction: push() any number of times, with gap() between pushes where bytes were
 * lost; then end() once. Events are called synchronously from within push() and end(). release() drops the
 * line buffer when the stream will not be read any more (an open multi-line reply is kept for end()).
 *
 * Lifetimes: the bytes given to push() are read during the call only (a line that spans pushes is copied);
 * `offer` (see OnAsciiLine) is given bytes and a clock valid only during its call; stamps in events are new
 * objects (or ones never changed), which may be kept.
 */
export class ControlParser {
  private reader: LineReader | null;
  /** The multi-line reply being read: its code, lines, start and the mark of commands sent when it began. */
  private multi: { code: number; lines: string[]; frames: number[]; start: Stamp; since: number } | null = null;

  /**
   * `commands`: this direction carries commands (else replies). `offer`: an ASCII line whole in one segment,
   * as bytes, before it is decoded (see OnAsciiLine); for replies, only while no multi-line reply is open.
   */
  constructor(
    readonly commands: boolean,
    private readonly limits: ControlParserLimits,
    private readonly events: ControlEvents,
    offer: OnAsciiLine | null = null,
  ) {
    this.reader = commands
      ? new LineReader(limits.maxLineLength, (text, first, last, truncated, length, telnet, textAt) => this.commandLine(text, first, last, truncated, length, telnet, textAt), looksLikeCommand, offer)
      : new LineReader(limits.maxLineLength, (text, first, last, truncated, length) => this.replyLine(text, first, last, truncated, length), looksLikeReply, offer);
  }

  /** Bytes of the stream, in order; `clock` is the segment that delivered them (read during the call only). */
  push(buf: Buffer, off: number, len: number, clock: Readonly<Stamp>): void {
    this.reader?.push(buf, off, len, clock);
  }

  /** Bytes were lost: the partial line goes, reading resumes at the next line that can be told to start. */
  gap(): void {
    this.reader?.gap();
  }

  /**
   * The stream ended: a last line without its line end is still a line (unless `flush` is false: the rest
   * is not read, as after TLS began); then a multi-line reply still open is closed as never closed.
   */
  end(clock: Readonly<Stamp>, flush = true): void {
    if (flush) this.reader?.end(clock);
    if (this.multi !== null) this.closeMulti(clock, 'end');
  }

  /** No more bytes will be read: the line buffer goes (an open multi-line reply stays, for end()). */
  release(): void {
    this.reader = null;
  }

  // ---- commands

  private commandLine(text: string, first: Stamp, last: Stamp, truncated: boolean, length: number, telnet: number, textAt: Stamp): void {
    // Telnet commands alone (an IP and a Synch sent as a line of their own) are no command and no bad line.
    if (text === '' && telnet !== 0) return;
    const sp = text.indexOf(' ');
    const known = commandAt(text, sp < 0 ? text.length : sp);
    // A known verb as the table spells it: one string for every RETR, so that comparing and hashing it
    // again (the session's switches, the reply's pairing) costs nothing.
    // Upper case of ASCII letters only: a server compares the verb's bytes ("ſtor" is not STOR).
    const verb = known !== undefined ? known.verb : asciiUpper(sp < 0 ? text : text.slice(0, sp));
    const argument = sp < 0 ? '' : text.slice(sp + 1);
    // A verb of the table is letters; another one is checked.
    if (known === undefined && !onlyLetters(verb)) {
      this.events.onBadLine({ reason: 'not-a-command', line: text, first, last });
      return;
    }
    // A cut line says so with its length (the command event); a long verb in a line that fits, here.
    if (!truncated && verb.length > MAX_VERB) this.events.onBadLine({ reason: 'overlong-verb', verb, first, last });
    this.events.onCommand(verb, argument, known, first, last, truncated, length, telnet, textAt);
  }

  // ---- replies

  private replyLine(text: string, first: Stamp, last: Stamp, truncated: boolean, length: number): void {
    // Told before the line is read, as commands are: what follows is the cut line.
    if (truncated) {
      const code = replyCode(text);
      this.events.onBadLine({ reason: 'overlong-reply', code: code < 0 ? null : code, bytes: length, limit: this.limits.maxLineLength, first, last });
    }
    const multi = this.multi;
    if (multi !== null) {
      const code = replyCode(text);
      const sep = separator(text);
      if (code === multi.code && sep !== DASH) {
        multi.lines.push(text);
        multi.frames.push(first.frame);
        this.setMulti(null);
        this.events.onReply(code, multi.lines, replyText(text), multi.start, last, spread(multi.frames));
        return;
      }
      // Tolerance for servers that never close a multi-line reply: a plain reply line valid for a command
      // sent after the multi-line reply began closes it (and is then read as a reply of its own).
      if (code >= 0 && sep === SPACE && this.events.answersLater(code, multi.since)) {
        this.closeMulti(first, 'reply', last);
      } else {
        const max = this.limits.maxReplyLines;
        if (multi.lines.length < max) {
          multi.lines.push(text);
          multi.frames.push(first.frame);
        } else if (multi.lines.length === max) {
          this.events.onBadLine({ reason: 'long-reply', code: multi.code, limit: max, first, last });
          multi.lines.push('...');
          multi.frames.push(first.frame);
        }
        return;
      }
    }
    const code = replyCode(text);
    if (code < 0) {
      const other = /^SSH-\d/.test(text) ? 'SSH' : /^HTTP\/\d/.test(text) ? 'HTTP' : /^\* OK/.test(text) ? 'IMAP' : /^\+OK/.test(text) ? 'POP3' : null;
      if (other !== null) this.events.onBadLine({ reason: 'other-protocol', protocol: other, line: text, first, last });
      else this.events.onBadLine({ reason: 'not-a-reply', line: text, first, last });
      return;
    }
    if (code < 100 || code > 699) {
      this.events.onBadLine({ reason: 'code-out-of-range', line: text, code: text.slice(0, 3), first, last });
      return;
    }
    if (separator(text) === DASH) {
      this.setMulti({ code, lines: [text], frames: [first.frame], start: first, since: this.events.commandsSent() });
      return;
    }
    this.events.onReply(code, [text], replyText(text), first, last, null);
  }

  /** Opens or closes the multi-line reply; no line of an open one is offered (see the constructor). */
  private setMulti(multi: ControlParser['multi']): void {
    this.multi = multi;
    this.reader?.offering(multi === null);
  }

  /**
   * Ends a multi-line reply that was never closed, at `at` (the line that closed it, or the clock at the
   * end): told as a bad line, then as the reply it is, its message the text of its last line.
   */
  private closeMulti(at: Readonly<Stamp>, closedBy: 'reply' | 'end', line?: Stamp): void {
    const multi = this.multi!;
    this.setMulti(null);
    const end = { frame: at.frame, sec: at.sec, nsec: at.nsec };
    this.events.onBadLine({ reason: 'unterminated-reply', code: multi.code, closedBy, first: multi.start, last: line ?? end });
    const last = multi.lines[multi.lines.length - 1]!;
    this.events.onReply(multi.code, multi.lines, last.replace(/^\d{3}-?/, '').trimStart(), multi.start, end, spread(multi.frames));
  }
}

/** The frames a reply's lines began in, or null when they all began in its first frame (one segment). */
function spread(frames: number[]): number[] | null {
  return frames.every((f) => f === frames[0]) ? null : frames;
}

/** Where a command line may start after a gap: 3 to 13 letters, then a space or the line's end. */
function looksLikeCommand(b: Buffer, off: number, len: number): boolean {
  let i = 0;
  while (i < len && i < 13 && isLetter(b[off + i]!)) i++;
  return i >= 3 && (i === len || b[off + i] === 0x20 || b[off + i] === 0x0d || b[off + i] === 0x0a);
}

/** Where a reply line may start after a gap: three digits and a space or a dash. */
function looksLikeReply(b: Buffer, off: number, len: number): boolean {
  return len >= 4 && isDigit(b[off]!) && isDigit(b[off + 1]!) && isDigit(b[off + 2]!) && (b[off + 3] === 0x20 || b[off + 3] === 0x2d);
}

/**
 * A reply line is three digits, then a space, a dash (a multi-line reply goes on) or the end of the line.
 * Its code, or -1 when the line is not one.
 */
function replyCode(text: string): number {
  if (text.length < 3) return -1;
  const a = text.charCodeAt(0) - 0x30;
  const b = text.charCodeAt(1) - 0x30;
  const c = text.charCodeAt(2) - 0x30;
  if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  const sep = separator(text);
  return sep === -1 || sep === SPACE || sep === DASH ? a * 100 + b * 10 + c : -1;
}

/** The character after a reply's code (-1 at the end of the line). */
function separator(text: string): number {
  return text.length > 3 ? text.charCodeAt(3) : -1;
}

/** A reply's text: what follows the code and its separator, leading blanks removed. */
function replyText(text: string): string {
  return text.length > 4 ? text.slice(4).trimStart() : '';
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (x) => x.toUpperCase());
}

function onlyLetters(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isLetter(s.charCodeAt(i))) return false;
  return true;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
