import type { CaptureSummary } from '../model/capture.js';
import type { ConnectionSummary } from '../model/capture.js';
import type { PacketRecord, PacketSource } from '../model/capture.js';
import type { Exchange, Finding, FtpAnalysis, FtpSession, Prediction, Reply, Stamp, TimelineEvent, Transfer } from '../model/ftp-model.js';
import { indexModel, type ModelIndex } from '../model/lookup.js';
import { ansi, sanitize } from './text.js';

export type Lang = 'en' | 'zh';

/**
 * How times are written, in every view alike (--time-format, as tshark's -t): seconds since the capture's
 * first packet ("12.345678"), since the session's start ("+0.002049"), the time of day in UTC
 * ("10:12:13.123456"), or since the line before ("+0.000056").
 */
export type TimeFormat = 'capture' | 'session' | 'absolute' | 'delta';

export interface ViewOptions {
  /** ANSI colour in the output. */
  color: boolean;
  /** Columns available (the terminal's width, or 80 when piped). */
  width: number;
  lang: Lang;
  /** 'packets': every data segment in the walkthrough and ladder; 'summary': a transfer's data in one step. */
  detail: 'summary' | 'packets';
  showPasswords: boolean;
  /** Default 'capture'. */
  timeFormat?: TimeFormat;
}

export const DEFAULT_VIEW_OPTIONS: ViewOptions = { color: false, width: 80, lang: 'en', detail: 'summary', showPasswords: false, timeFormat: 'capture' };

/** What a connection is to FTP. */
export interface ConnectionRole {
  session: FtpSession;
  role: 'control' | 'data';
  /** The transfer a data connection served; null for a control connection, or one that served no command. */
  transfer: Transfer | null;
  /** The announcement a data connection answered (its transfer's, or the first one it matched); null when none. */
  prediction: Prediction | null;
  /** True when the connection's TCP client (the SYN sender) is the FTP client. */
  openerIsClient: boolean;
  /**
   * A data connection whose FTP-client side is a third host (a PORT naming another host, obeyed): its
   * address. Views call that side the third host, not the client.
   */
  thirdParty: string | null;
  summary: ConnectionSummary;
}

/**
 * The connection went through: its handshake was answered, or, picked up after it, it carried bytes or
 * packets both ways. A SYN that got no answer, or a RST, did not.
 */
export function wentThrough(c: ConnectionSummary): boolean {
  if (c.handshake.synAck !== null) return true;
  if (c.handshake.syn !== null) return false;
  return c.toServer.deliveredBytes + c.toClient.deliveredBytes > 0 || (c.toServer.packets > 0 && c.toClient.packets > 0);
}

/** An FTP line that starts in a frame: a command, or a reply line. */
export interface LineAt {
  session: FtpSession;
  exchange: Exchange;
  /** The reply it belongs to, for a reply; null for the command. */
  reply: Reply | null;
  /** The text of the line as sent (masked when it is a password), escaped for the terminal; a reply's lines joined by " / ". */
  text: string;
  /**
   * For a reply whose lines came in several segments, which of its lines this frame carries: the first
   * segment's ('first'), or a later one's ('more'); 'whole' when the frame carries all of it.
   */
  part: 'whole' | 'first' | 'more';
  /** The lines in this frame include the reply's last line (always, for a command or a whole reply). */
  ends: boolean;
}

/**
 * Everything the views read, indexed once: the model (passwords masked as asked), the capture summary,
 * the packet log when one was kept, who each connection belongs to, and which FTP lines start in which
 * frame. Views never re-parse anything: they look things up here.
 */
export class ViewContext {
  /** Sessions, predictions and transfers by id. */
  readonly by: ModelIndex;
  private readonly roles = new Map<number, ConnectionRole>();
  /** FTP lines by the frame they start in: built on first use (the timeline and summary never need it). */
  private lineIndex: Map<number, LineAt[]> | null = null;
  /** Findings by session, in the model's order: built on first use. */
  private findingIndex: Map<number, Finding[]> | null = null;
  /** Timeline events by session: built on first use. */
  private timelineIndex: Map<number, TimelineEvent[]> | null = null;

  constructor(
    readonly analysis: FtpAnalysis,
    readonly capture: CaptureSummary,
    readonly packets: PacketSource | null,
    readonly options: ViewOptions,
  ) {
    this.by = indexModel(analysis);
    const byId = new Map(analysis.connections.map((c) => [c.id, c]));
    for (const s of analysis.sessions) {
      const c = byId.get(s.connection);
      if (c !== undefined) {
        this.roles.set(c.id, { session: s, role: 'control', transfer: null, prediction: null, openerIsClient: c.client.address === s.client.address && c.client.port === s.client.port, thirdParty: null, summary: c });
      }
    }
    for (const t of analysis.transfers) {
      const c = t.connection === null ? undefined : byId.get(t.connection);
      if (c === undefined) continue;
      const s = this.by.session(t.session);
      if (s === undefined) continue;
      const openerIsClient = t.mode === 'passive' || (t.mode === 'unknown' && c.client.address === s.client.address);
      const clientSide = openerIsClient ? c.client.address : c.server.address;
      const p = t.prediction === null ? undefined : this.by.prediction(t.prediction);
      const thirdParty = p?.thirdParty === true && clientSide !== s.client.address ? clientSide : null;
      this.roles.set(c.id, { session: s, role: 'data', transfer: t, prediction: p ?? null, openerIsClient, thirdParty, summary: c });
    }
    // A connection that answered an announcement but served no command (never established, or given up):
    // a data connection of the announcing session all the same.
    for (const p of analysis.predictions) {
      const c = p.connection === null || this.roles.has(p.connection) ? undefined : byId.get(p.connection);
      const s = c === undefined ? undefined : this.by.session(p.session);
      if (c === undefined || s === undefined) continue;
      const openerIsClient = p.connector === 'client';
      const clientSide = openerIsClient ? c.client.address : c.server.address;
      const thirdParty = p.thirdParty && clientSide !== s.client.address ? clientSide : null;
      this.roles.set(c.id, { session: s, role: 'data', transfer: null, prediction: p, openerIsClient, thirdParty, summary: c });
    }
  }

  /**
   * The findings of a session, in the model's order. Indexed once: filtering all the findings for each
   * session made the summary and timeline quadratic in the number of sessions.
   */
  /** The model's timeline events of a session, in their order: built on first use. */
  timelineOf(session: number): readonly TimelineEvent[] {
    this.timelineIndex ??= bySession(this.analysis.timeline);
    return this.timelineIndex.get(session) ?? [];
  }

  findingsOf(session: number): readonly Finding[] {
    this.findingIndex ??= bySession(this.analysis.findings);
    return this.findingIndex.get(session) ?? [];
  }

  /** What a connection is to FTP, or undefined for a connection outside FTP. */
  role(connection: number): ConnectionRole | undefined {
    return this.roles.get(connection);
  }

  /** FTP lines that start in a frame. */
  linesAt(frame: number): LineAt[] {
    if (this.lineIndex === null) {
      this.lineIndex = new Map();
      for (const s of this.analysis.sessions) {
        for (const ex of s.exchanges) {
          // A command is in the segment its text began in (telnet commands alone may fill the segments before).
          if (ex.request !== null) this.addLine((ex.textAt ?? ex.request).frame, { session: s, exchange: ex, reply: null, text: commandText(ex), part: 'whole', ends: true });
          if (ex.textAt !== undefined && ex.request !== null) this.telnetIndex.push(ex);
          for (const r of ex.replies) {
            const frames = r.lineFrames;
            if (frames === undefined) {
              this.addLine(r.start.frame, { session: s, exchange: ex, reply: r, text: sanitize(r.lines.join(' / ')), part: 'whole', ends: true });
              continue;
            }
            // A reply spread over segments: each segment with the lines that began in it, as on the wire.
            for (let i = 0; i < frames.length; ) {
              let j = i;
              while (j + 1 < frames.length && frames[j + 1] === frames[i]) j++;
              const part = i === 0 ? 'first' : 'more';
              this.addLine(frames[i]!, { session: s, exchange: ex, reply: r, text: sanitize(r.lines.slice(i, j + 1).join(' / ')), part, ends: j === frames.length - 1 });
              i = j + 1;
            }
          }
        }
      }
      this.telnetIndex.sort((a, b) => a.request!.frame - b.request!.frame);
    }
    return this.lineIndex.get(frame) ?? [];
  }

  /**
   * The command whose telnet commands alone came in the segments from its start up to its text, when
   * `frame` is one of them (RFC 959 4.1.3: IP and the Synch ahead of ABOR); `first`: it is where the line began.
   */
  telnetAhead(frame: number): { command: Exchange; first: boolean } | undefined {
    this.linesAt(frame);
    // The last that starts at or before `frame` (one client's lines follow one another).
    let lo = 0;
    let hi = this.telnetIndex.length - 1;
    let found: Exchange | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.telnetIndex[mid]!.request!.frame <= frame) {
        found = this.telnetIndex[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== undefined && frame < found.textAt!.frame ? { command: found, first: frame === found.request!.frame } : undefined;
  }

  /** Commands with telnet commands alone ahead of their text, by the frame they began in (see telnetAhead). */
  private readonly telnetIndex: Exchange[] = [];

  /** The reply of a session that started before `frame` and ended at or after it (a multi-line reply in progress). */
  replySpanning(session: FtpSession, frame: number): Reply | null {
    // The session's replies that span frames, in order, indexed once: a scan of every exchange for each
    // packet made the walkthrough of a session of many commands quadratic.
    let spans = this.spanning.get(session);
    if (spans === undefined) {
      spans = [];
      for (const ex of session.exchanges) for (const r of ex.replies) if (r.end.frame > r.start.frame) spans.push(r);
      spans.sort((a, b) => a.start.frame - b.start.frame);
      this.spanning.set(session, spans);
    }
    // The last that starts before `frame`; replies come one after another on one direction, so no earlier one ends later.
    let lo = 0;
    let hi = spans.length - 1;
    let found: Reply | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (spans[mid]!.start.frame < frame) {
        found = spans[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== null && found.end.frame >= frame ? found : null;
  }

  /** Each session's replies that span more than one frame, by start (see replySpanning). */
  private readonly spanning = new Map<FtpSession, Reply[]>();

  /** The packets of a session (control and data connections), in capture order. */
  sessionPackets(session: FtpSession): PacketRecord[] {
    const packets = this.packets;
    if (packets === null) return [];
    // Indexed once, by session: scanning every packet for each session made the walkthrough quadratic.
    if (this.packetIndex === null) {
      this.packetIndex = new Map();
      let i = 0;
      for (const p of packets.all()) {
        const s = this.roles.get(p.connection)?.session;
        if (s !== undefined) {
          const list = this.packetIndex.get(s);
          if (list === undefined) this.packetIndex.set(s, [i]);
          else list.push(i);
        }
        i++;
      }
    }
    return (this.packetIndex.get(session) ?? []).map((i) => packets.get(i));
  }

  /** Packet positions in the log, by session: built on first use. */
  private packetIndex: Map<FtpSession, number[]> | null = null;

  /** The recorded packet of a frame, or null (packets are in capture order: a binary search). */
  packetAt(frame: number): PacketRecord | null {
    const packets = this.packets;
    if (packets === null) return null;
    let lo = 0;
    let hi = packets.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = packets.get(mid);
      if (p.frame === frame) return p;
      if (p.frame < frame) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  /**
   * A clock for one view: it writes each time as --time-format says, given the session the line belongs to
   * (for 'session'). Delta times count from the time it wrote before, so a view makes one clock per list.
   */
  timer(): Clock {
    return makeClock(this.options.timeFormat ?? 'capture', this.capture.first ?? { sec: 0, nsec: 0 });
  }

  /** ANSI styling, when colour is on. */
  style(kind: 'dim' | 'bold' | 'red' | 'yellow' | 'green' | 'cyan' | 'magenta', text: string): string {
    return ansi(this.options.color, kind, text);
  }

  /** Sessions chosen by the filters (--session, --host, --time-from/--time-to), applied by the CLI. */
  get sessions(): FtpSession[] {
    return this.analysis.sessions;
  }

  private addLine(frame: number, line: LineAt): void {
    let list = this.lineIndex!.get(frame);
    if (list === undefined) this.lineIndex!.set(frame, (list = []));
    list.push(line);
  }
}

function commandText(ex: Exchange): string {
  return sanitize(ex.argument === '' ? ex.command : `${ex.command} ${ex.argument}`);
}

/** "10.0.0.1:21" or "[2001:db8::1]:21". */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Time of a stamp in seconds (float), for arithmetic. */
export function secondsOf(s: Stamp): number {
  return s.sec + s.nsec / 1e9;
}

/** A moment of the capture: whole seconds and nanoseconds. */
type Moment = { sec: number; nsec: number };

/** Writes a time as --time-format says, given the session its line belongs to (for 'session'). */
export type Clock = (t: Moment, session: { start: Moment } | null) => string;

/**
 * A clock counting from `first` (the capture's first packet): ViewContext.timer for a view, and live
 * output's own. Delta times count from the time it wrote before, so each list has its own clock.
 */
export function makeClock(format: TimeFormat, first: Moment): Clock {
  let previous: Moment | null = null;
  return (t, session) => {
    switch (format) {
      case 'absolute': {
        const day = new Date(t.sec * 1000);
        // A time no Date can hold (a pcapng offset gone wild) is written as its seconds.
        const clock = Number.isNaN(day.getTime()) ? String(t.sec) : day.toISOString().slice(11, 19);
        return `${clock}.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}`;
      }
      case 'session':
        return signed(seconds(t, session?.start ?? first));
      case 'delta': {
        const d = previous === null ? 0 : seconds(t, previous);
        previous = t;
        return signed(d);
      }
      default:
        return seconds(t, first).toFixed(6);
    }
  };
}

function seconds(t: Moment, base: Moment): number {
  return t.sec - base.sec + (t.nsec - base.nsec) / 1e9;
}

function signed(d: number): string {
  return `${d < 0 ? '-' : '+'}${Math.abs(d).toFixed(6)}`;
}

/** Things of the model grouped by their session, in their order (those of no session left out). */
function bySession<T extends { session: number | null }>(items: readonly T[]): Map<number, T[]> {
  const index = new Map<number, T[]>();
  for (const x of items) {
    if (x.session === null) continue;
    const list = index.get(x.session);
    if (list === undefined) index.set(x.session, [x]);
    else list.push(x);
  }
  return index;
}
