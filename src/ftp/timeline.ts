import type { Connection } from '../flow/connections.js';
import type { Stamp } from '../model/capture.js';
import type { Exchange, Prediction, TimelineEvent, TimelineKind, Transfer } from '../model/ftp-model.js';

/** Where events of one frame go, in the order a reader expects them (a FIN after the data it ends). */
const RANK: Readonly<Record<TimelineKind, number>> = {
  syn: 0, seen: 0, 'syn-ack': 1, 'handshake-ack': 2, command: 3, reply: 4, prediction: 5,
  'no-data': 6, 'data-first': 6, 'data-last': 7, fin: 8, rst: 9, 'open-at-end': 10,
};

/** The timeline's order: by frame, then by kind; events that tie keep the order they were told in (sort is stable). */
export function timelineOrder(a: TimelineEvent, b: TimelineEvent): number {
  return a.at.frame - b.at.frame || RANK[a.kind] - RANK[b.kind] || (a.session ?? 0) - (b.session ?? 0) || (a.connection ?? 0) - (b.connection ?? 0);
}

/** Told each event once, when it is known: `conn` is the connection of a TCP step, `named` what the event is about (a data connection's transfer). */
export type TimelineSink = (e: TimelineEvent, conn: Connection | null, named: Exchange | Prediction | Transfer | null) => void;

/** Bits of a connection's TCP steps already told. */
const SYN = 1, SYN_ACK = 2, ACK = 4, FIN0 = 8, FIN1 = 16, RST = 32;
const DIRS = [0, 1] as const;
const DIRS_REVERSED = [1, 0] as const;

/** A connection on the timeline, and how far its steps have been told. */
interface Followed {
  conn: Connection;
  session: number;
  role: 'control' | 'data';
  /** Who opened it, in FTP terms. */
  opener: 'client' | 'server';
  /** The transfer a data connection serves. */
  transfer: Transfer | null;
  told: number;
}

/**
 * Makes the one timeline as the analysis goes: the FTP stage tells it what happened (a connection joined
 * a session, a command, a reply, a prediction, a transfer over, a connection closed) and it tells `sink`
 * each event once, with the moment it happened. The model's timeline is these events in timelineOrder;
 * live output and NDJSON print them as they come. A connection's TCP steps are told as soon as the FTP
 * stage looks at it again after they happened (or at its close): the steps are the connection table's.
 */
export class TimelineRecorder {
  private readonly followed = new Map<number, Followed>();

  constructor(private readonly sink: TimelineSink) {}

  /** A connection joins a session's timeline (its control connection, or a transfer's data connection). */
  follow(conn: Connection, session: number, role: 'control' | 'data', openerIsClient: boolean, transfer: Transfer | null, closed: boolean): void {
    if (this.followed.has(conn.id)) return;
    const f: Followed = { conn, session, role, opener: openerIsClient ? 'client' : 'server', transfer, told: 0 };
    this.followed.set(conn.id, f);
    this.steps(f);
    if (closed) this.closed(conn);
  }

  /** The steps of a followed connection that happened since it was last looked at. */
  catchUp(connection: number): void {
    const f = this.followed.get(connection);
    if (f !== undefined) this.steps(f);
  }

  /** A connection closed (or the capture ended with it open): its last steps, and it is let go. */
  closed(conn: Connection): void {
    const f = this.followed.get(conn.id);
    if (f === undefined) return;
    this.steps(f);
    if ((f.told & (FIN0 | FIN1 | RST)) === 0) this.tcp(f, 'open-at-end', { frame: conn.lastFrame, sec: conn.lastSec, nsec: conn.lastNsec }, f.opener);
    this.followed.delete(conn.id);
  }

  command(session: number, connection: number, ex: Exchange): void {
    this.catchUp(connection);
    if (ex.request !== null) this.sink(event(ex.request, 'command', session, connection, 'control', 'client', ex.index, null, null), null, ex);
  }

  reply(session: number, connection: number, ex: Exchange, at: Stamp): void {
    this.catchUp(connection);
    this.sink(event(at, 'reply', session, connection, 'control', 'server', ex.index, null, null), null, ex);
  }

  /** A data connection announced on the control connection `connection`. */
  prediction(p: Prediction, connection: number): void {
    this.sink(event(p.setup, 'prediction', p.session, connection, 'control', p.mode === 'active' ? 'client' : 'server', p.exchange, p.id, null), null, p);
  }

  /** A transfer's figures are final: its first and last data, or that no data connection was seen (at its command, or else `sessionStart`). */
  transferOver(t: Transfer, sessionStart: Stamp): void {
    if (t.connection === null) {
      this.sink(event(t.request ?? sessionStart, 'no-data', t.session, null, 'data', 'client', t.exchange, null, t.id), null, t);
      return;
    }
    this.catchUp(t.connection);
    const from = t.direction === 'upload' ? 'client' : 'server';
    if (t.firstData) this.sink(event(t.firstData, 'data-first', t.session, t.connection, 'data', from, null, null, t.id), null, t);
    if (t.lastData) this.sink(event(t.lastData, 'data-last', t.session, t.connection, 'data', from, null, null, t.id), null, t);
  }

  /** Connections let go with their session (a long live capture). */
  forget(connections: Iterable<number>): void {
    for (const c of connections) this.followed.delete(c);
  }

  private steps(f: Followed): void {
    const c = f.conn;
    const other = f.opener === 'client' ? 'server' : 'client';
    if ((f.told & SYN) === 0) {
      f.told |= SYN;
      // Opened by a SYN, the connection may be followed before the table has noted it: it is its first packet.
      if (c.syn !== null || c.origin === 'syn') this.tcp(f, 'syn', c.syn ?? c.first, f.opener);
      else this.tcp(f, 'seen', c.first, f.opener);
    }
    if ((f.told & SYN_ACK) === 0 && c.synAck !== null) {
      f.told |= SYN_ACK;
      this.tcp(f, 'syn-ack', c.synAck, other);
    }
    if ((f.told & ACK) === 0 && c.handshakeAck !== null) {
      f.told |= ACK;
      this.tcp(f, 'handshake-ack', c.handshakeAck, f.opener);
    }
    // The TCP client (direction 0) is whoever sent the SYN, the FTP side that opened the connection; the FINs in their order.
    const first: 0 | 1 = c.fin[1] !== null && (c.fin[0] === null || c.fin[1].frame < c.fin[0].frame) ? 1 : 0;
    for (const dir of first === 0 ? DIRS : DIRS_REVERSED) {
      const bit = dir === 0 ? FIN0 : FIN1;
      const fin = c.fin[dir];
      if ((f.told & bit) === 0 && fin !== null) {
        f.told |= bit;
        this.tcp(f, 'fin', fin, dir === 0 ? f.opener : other);
      }
    }
    if ((f.told & RST) === 0 && c.rst !== null) {
      f.told |= RST;
      this.tcp(f, 'rst', c.rst, c.rstDir === 0 ? f.opener : other);
    }
  }

  private tcp(f: Followed, kind: TimelineKind, at: Stamp, from: 'client' | 'server'): void {
    this.sink(event(at, kind, f.session, f.conn.id, f.role, from, null, null, f.transfer?.id ?? null), f.conn, f.transfer);
  }
}

function event(at: Stamp, kind: TimelineKind, session: number, connection: number | null, role: 'control' | 'data', from: 'client' | 'server', exchange: number | null, prediction: number | null, transfer: number | null): TimelineEvent {
  return { at: { frame: at.frame, sec: at.sec, nsec: at.nsec }, kind, session, connection, role, from, exchange, prediction, transfer };
}
