import { DEFAULTS, type Settings } from '../config.js';
import { randomBytes } from 'node:crypto';
import { type PacketView, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, formatAddress } from '../decode/packet.js';
import { BufferBudget, DEFAULT_REASSEMBLY_LIMITS, HalfStream, type ReassemblyLimits } from './reassembler.js';
import type { Origin, TableStats } from '../model/capture.js';
import type { SegmentAnalysis } from './segment-analysis.js';
import { TcpHistory } from './tcp-history.js';
import type { Dir, EndReason, Stamp, StreamSink } from './stream-sink.js';
import { COST, type MemoryBudget, unlimitedBudget } from '../memory-budget.js';

export type { Origin, Stamp, TableStats };

export interface ConnectionLimits {
  /** Capture-time seconds without a packet after which a connection is closed as idle (default 900). */
  idleTimeoutSec: number;
  /** Capture-time seconds a finished connection stays, to absorb its last ACKs and retransmitted FINs (default 30). */
  closedLingerSec: number;
  /** Connections tracked at once; beyond it the least recently active one is closed as evicted (default 1,000,000). */
  maxConnections: number;
}

/** The connection table's limits from the options (src/config.ts). */
export function connectionLimits(s: Pick<Settings, 'idleTimeout' | 'closedLinger' | 'maxConnections'>): ConnectionLimits {
  return { idleTimeoutSec: s.idleTimeout, closedLingerSec: s.closedLinger, maxConnections: s.maxConnections };
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = connectionLimits(DEFAULTS);

/** Told about connections as they come and go. Calls happen in capture order. */
export interface TcpListener {
  /**
   * Called once, before any other call, with the table's clock: the frame and time of the packet being
   * processed, updated in place for every packet (so sinks can read when their bytes arrived).
   */
  bind?(clock: Readonly<Stamp>): void;
  /** A connection was seen for the first time. Return a sink for its bytes, or null to only count them. */
  opened(conn: Connection): StreamSink | null;
  /** Every TCP segment of a connection, after the connection has processed it. */
  segment?(conn: Connection, dir: Dir, pv: PacketView, frame: number, sec: number, nsec: number): void;
  /** The connection is done and leaves the table (both directions have ended by now). */
  closed(conn: Connection): void;
  /**
   * Capture time has moved on: called at most once a capture second, after the table has closed what went
   * idle, with the capture's time in seconds. What waits on capture time is let go here (gopacket's
   * FlushOlderThan), never as a side effect of some other connection's packet.
   */
  tick?(nowSec: number): void;
}

/**
 * One TCP connection: its endpoints, its handshake and teardown as seen, and a reassembler per direction.
 * The client is the side that sent the SYN (or, when the SYN was not captured, the best guess: see origin).
 */
export class Connection {
  readonly ipVersion: number;
  c0: number;
  c1: number;
  c2: number;
  c3: number;
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  cPort: number;
  sPort: number;
  origin: Origin = 'guess';

  readonly first: Stamp;
  /** The last packet's frame and time (plain fields: updated for every packet). */
  lastFrame: number;
  lastSec: number;
  lastNsec: number;
  readonly packets = [0, 0];
  /** IP bytes of each direction (the datagrams' lengths per their headers): plain fields, no array per connection. */
  ipBytes0 = 0;
  ipBytes1 = 0;
  /**
   * Zeek's history, made at the second packet: until then the first packet's flags, sequence number,
   * length and window say it all (most connections of a SYN flood have one packet, and no object).
   */
  private tracker: TcpHistory | null = null;
  /** The first packet's flags, direction and window, and whether it came from the server, packed (FIRST_*). */
  private firstBits: number;
  /** Its sequence number as a signed 32-bit value (a small integer, never a boxed number) and its length. */
  private firstSeq = 0;
  private firstLen = 0;
  syn: Stamp | null = null;
  synAck: Stamp | null = null;
  /** The client's ACK that completes the three-way handshake. */
  handshakeAck: Stamp | null = null;
  readonly fin: [Stamp | null, Stamp | null] = [null, null];
  rst: Stamp | null = null;
  rstDir: Dir = 0;
  /** The acknowledgement number of the server's SYN+ACK (-1 before it): where the client's stream starts. */
  private synAckAckNum = -1;
  /** When both directions had ended; -1 while open. */
  finishedAt = -1;
  closeReason: EndReason | null = null;
  /** Packets that arrived after the connection had finished. */
  afterClose = 0;

  readonly half: [HalfStream, HalfStream];
  sink: StreamSink | null = null;
  /** The classification of its segments, for those who want it (the packet log sets it up). */
  analysis: SegmentAnalysis | null = null;

  // Table bookkeeping
  hashKey = 0;
  hashNext: Connection | null = null;
  lruPrev: Connection | null = null;
  lruNext: Connection | null = null;
  /** In the table's list of half-open connections (no completed handshake, no byte yet): the first to go at the memory budget. */
  halfOpen = true;
  halfPrev: Connection | null = null;
  halfNext: Connection | null = null;
  released = false;

  constructor(
    readonly id: number,
    pv: PacketView,
    senderIsClient: boolean,
    first: Stamp,
    budget: BufferBudget,
    limits: ReassemblyLimits,
  ) {
    this.ipVersion = pv.ipVersion;
    if (senderIsClient) {
      this.c0 = pv.src0; this.c1 = pv.src1; this.c2 = pv.src2; this.c3 = pv.src3; this.cPort = pv.sport;
      this.s0 = pv.dst0; this.s1 = pv.dst1; this.s2 = pv.dst2; this.s3 = pv.dst3; this.sPort = pv.dport;
    } else {
      this.c0 = pv.dst0; this.c1 = pv.dst1; this.c2 = pv.dst2; this.c3 = pv.dst3; this.cPort = pv.dport;
      this.s0 = pv.src0; this.s1 = pv.src1; this.s2 = pv.src2; this.s3 = pv.src3; this.sPort = pv.sport;
    }
    this.first = first;
    this.lastFrame = first.frame;
    this.lastSec = first.sec;
    this.lastNsec = first.nsec;
    this.half = [new HalfStream(0, budget, limits), new HalfStream(1, budget, limits)];
    this.firstBits = senderIsClient ? 0 : FIRST_FROM_SERVER;
  }

  /** Where the reassembled bytes of both directions go (null: counted only). */
  setSink(sink: StreamSink | null): void {
    this.sink = sink;
    this.half[0].sink = sink;
    this.half[1].sink = sink;
  }

  get clientAddress(): string {
    return formatAddress(this.ipVersion, this.c0, this.c1, this.c2, this.c3);
  }

  get serverAddress(): string {
    return formatAddress(this.ipVersion, this.s0, this.s1, this.s2, this.s3);
  }

  get finished(): boolean {
    return this.finishedAt >= 0;
  }

  /** 0 if the packet goes client to server, 1 if server to client, -1 if it is not this connection's. */
  direction(pv: PacketView): -1 | 0 | 1 {
    if (pv.ipVersion !== this.ipVersion) return -1;
    if (
      pv.sport === this.cPort && pv.dport === this.sPort &&
      pv.src0 === this.c0 && pv.dst0 === this.s0 &&
      pv.src1 === this.c1 && pv.src2 === this.c2 && pv.src3 === this.c3 &&
      pv.dst1 === this.s1 && pv.dst2 === this.s2 && pv.dst3 === this.s3
    ) return 0;
    if (
      pv.sport === this.sPort && pv.dport === this.cPort &&
      pv.src0 === this.s0 && pv.dst0 === this.c0 &&
      pv.src1 === this.s1 && pv.src2 === this.s2 && pv.src3 === this.s3 &&
      pv.dst1 === this.c1 && pv.dst2 === this.c2 && pv.dst3 === this.c3
    ) return 1;
    return -1;
  }

  /** Processes one segment of this connection. Returns true when this segment finished the connection. */
  onPacket(dir: Dir, pv: PacketView, clock: Readonly<Stamp>): boolean {
    const { frame, sec, nsec } = clock;
    this.packets[dir]!++;
    if (dir === 0) this.ipBytes0 += pv.ipLen;
    else this.ipBytes1 += pv.ipLen;
    if ((this.firstBits & FIRST_SEEN) === 0) {
      this.firstBits |= FIRST_SEEN | pv.flags | (dir << 8) | (pv.window << 9);
      this.firstSeq = pv.seq | 0;
      this.firstLen = pv.payWireLen;
    } else this.historyTracker().packet(dir, pv.flags, pv.seq, pv.payWireLen, pv.window, this.fin[dir === 0 ? 1 : 0] !== null);
    this.lastFrame = frame;
    this.lastSec = sec;
    this.lastNsec = nsec;
    const flags = pv.flags;
    const h = this.half[dir];
    if (this.finishedAt >= 0) {
      // What the peer of a RST had already sent still crosses the wire: its stream goes on, counted apart.
      if (this.rst !== null && dir !== this.rstDir && !h.ended && (pv.payWireLen > 0 || (flags & (TCP_FIN | TCP_RST)) !== 0)) {
        this.afterReset(dir, pv, clock);
        return false;
      }
      this.afterClose++;
      h.lastNewBytes = 0;
      return false;
    }
    const other = this.half[dir === 0 ? 1 : 0];
    h.lastNewBytes = 0;
    let seq = pv.seq;
    if (flags & TCP_SYN) {
      if (flags & TCP_ACK) {
        this.synAck ??= { frame, sec, nsec };
        if (dir === 1) this.synAckAckNum = pv.ack;
      } else this.syn ??= { frame, sec, nsec };
      h.syn(seq);
      seq = (seq + 1) >>> 0;
    } else if (!h.started && !(flags & TCP_RST)) {
      h.begin(seq, dir === 0 && this.synAckAckNum === seq);
    }
    if (
      !(flags & TCP_SYN) &&
      dir === 0 && this.handshakeAck === null && this.synAck !== null && (flags & TCP_ACK) &&
      pv.ack === ((this.half[1].isn + 1) >>> 0)
    ) {
      this.handshakeAck = { frame, sec, nsec };
    }
    if (flags & TCP_RST) {
      this.rst ??= { frame, sec, nsec };
      this.rstDir = dir;
      h.finish('rst');
      // The other side's stream stays open for what it had in flight (afterReset); it ends with the connection.
      if (!other.started) other.finish('rst');
      this.gapsSeen(false);
      this.closeReason = 'rst';
      this.finishedAt = sec + nsec / 1e9;
      return true;
    }
    const fin = (flags & TCP_FIN) !== 0;
    if (fin) this.fin[dir] ??= { frame, sec, nsec };
    // The acknowledgement first: it speaks of bytes the peer sent before this segment, and may release
    // them (held behind a capture loss) ahead of this segment's own bytes.
    if (flags & TCP_ACK) other.peerAck(pv.ack);
    if (pv.payWireLen > 0 || fin) h.segment(seq, pv.buf, pv.payOff, pv.payLen, pv.payWireLen, fin, clock);
    this.gapsSeen(!fin);
    if (h.ended && other.ended) {
      this.closeReason ??= 'fin';
      this.finishedAt = sec + nsec / 1e9;
      return true;
    }
    return false;
  }

  /** The history tracker, made now from the first packet if it was not yet. */
  private historyTracker(): TcpHistory {
    if (this.tracker === null) {
      this.tracker = new TcpHistory((this.firstBits & FIRST_FROM_SERVER) !== 0);
      this.firstPacket(this.tracker);
    }
    return this.tracker;
  }

  /** Tells the history the gaps the streams have declared (a connection with none needs no tracker for them). */
  private gapsSeen(write: boolean): void {
    const g0 = this.half[0].gapCount;
    const g1 = this.half[1].gapCount;
    if (this.tracker !== null || g0 + g1 > 0) this.historyTracker().gaps(g0, g1, write);
  }

  /** What each side sent, in Zeek's history letters (see tcp-history.ts). */
  get history(): string {
    if (this.tracker !== null) return this.tracker.letters;
    const flipped = (this.firstBits & FIRST_FROM_SERVER) !== 0;
    if ((this.firstBits & FIRST_SEEN) === 0) return flipped ? '^' : '';
    // One packet: its letters from a tracker used for every such connection, nothing kept.
    ONE_PACKET.reset(flipped);
    this.firstPacket(ONE_PACKET);
    return ONE_PACKET.letters;
  }

  /** Tells a tracker the first packet, when there was one. */
  private firstPacket(h: TcpHistory): void {
    const f = this.firstBits;
    if ((f & FIRST_SEEN) !== 0) h.packet(((f >> 8) & 1) as Dir, f & 0xff, this.firstSeq >>> 0, this.firstLen, (f >> 9) & 0xffff, false);
  }

  /** A segment from the peer of a RST: delivered like any other, its new bytes counted in afterResetBytes. */
  private afterReset(dir: Dir, pv: PacketView, clock: Readonly<Stamp>): void {
    const h = this.half[dir];
    h.lastNewBytes = 0;
    if (pv.flags & TCP_RST) {
      h.finish('rst');
      return;
    }
    const fin = (pv.flags & TCP_FIN) !== 0;
    if (fin) this.fin[dir] ??= { frame: clock.frame, sec: clock.sec, nsec: clock.nsec };
    const before = h.nextOff;
    h.segment(pv.seq, pv.buf, pv.payOff, pv.payLen, pv.payWireLen, fin, clock);
    this.afterResetBytes[dir]! += Math.max(0, h.nextOff - before);
  }

  /** Stream bytes of each direction that came after the other side's RST (see afterReset). */
  readonly afterResetBytes: [number, number] = [0, 0];

  /** Ends whatever is still open, for the given reason. */
  finishAll(reason: EndReason, nowSec: number): void {
    this.half[0].finish(reason);
    this.half[1].finish(reason);
    if (this.finishedAt < 0) {
      this.finishedAt = nowSec;
      this.closeReason = reason;
    }
  }
}


/** Bits of Connection.firstBits: the flags in bits 0-7, the direction in 8, the window in 9-24, then these. */
const FIRST_SEEN = 1 << 25;
const FIRST_FROM_SERVER = 1 << 26;

/** The tracker that spells the history of connections of a single packet (see Connection.history). */
const ONE_PACKET = new TcpHistory(false);

/**
 * All TCP connections of a capture: finds a packet's connection without allocating (a numeric hash of
 * the four-tuple, chained, with a one-entry cache for runs of packets of one connection), keeps them in
 * order of last activity so idle ones can be closed in capture time, and bounds how many are tracked.
 */
export class ConnectionTable {
  readonly stats: TableStats = { connections: 0, maxConcurrent: 0, idleClosed: 0, evicted: 0, reused: 0 };
  readonly budget: BufferBudget;
  /** The packet being processed (see TcpListener.bind). */
  readonly clock: Stamp = { frame: 0, sec: 0, nsec: 0 };
  private readonly buckets = new Map<number, Connection>();
  private lruHead: Connection | null = null;
  private lruTail: Connection | null = null;
  /** Half-open connections, oldest first (see Connection.halfOpen). */
  private halfHead: Connection | null = null;
  private halfTail: Connection | null = null;
  /** Finished connections in the order they finished; a slot is emptied as its linger ends (a released connection holds its session). */
  private finishedQueue: Array<Connection | null> = [];
  private finishedHead = 0;
  private count = 0;
  private nextId = 1;
  private lastConn: Connection | null = null;
  /**
   * Connections by their ports (client port XOR server port, low 8 bits: the same both ways), one per
   * slot: the packets of a few dozen interleaved connections find theirs without hashing the four-tuple.
   */
  private readonly byPorts: Array<Connection | null> = new Array<Connection | null>(256).fill(null);
  /** The direction find() found. */
  private foundDir = -1;
  private nowSec = 0;
  private nextSweep = 0;
  /** The hash's secret, drawn per table: four-tuples chosen to collide (the hash is invertible) cannot be chosen without it. */
  private readonly seed = randomBytes(4).readUInt32LE(0);

  constructor(
    private readonly listener: TcpListener,
    private readonly serverPorts: ReadonlySet<number> = new Set([21]),
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
    private readonly reassembly: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS,
    private readonly memory: MemoryBudget = unlimitedBudget(),
  ) {
    this.budget = new BufferBudget(reassembly.maxBufferedTotal);
    memory.buffers = this.budget;
    listener.bind?.(this.clock);
  }

  /** Handles one decoded TCP segment. */
  packet(pv: PacketView, frame: number, sec: number, nsec: number): void {
    const clock = this.clock;
    clock.frame = frame;
    clock.sec = sec;
    clock.nsec = nsec;
    const now = sec + nsec / 1e9;
    if (now > this.nowSec) this.nowSec = now;
    let conn = this.find(pv);
    let dir = this.foundDir;
    const flags = pv.flags;
    if (conn !== null && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && this.isReuse(conn, dir as Dir, pv)) {
      this.stats.reused++;
      this.release(conn, 'reused');
      conn = null;
    }
    if (conn === null) {
      conn = this.create(pv, { frame, sec, nsec });
      dir = conn.direction(pv);
    }
    this.lastConn = conn;
    if (conn.onPacket(dir as Dir, pv, clock)) this.finishedQueue.push(conn);
    if (conn.halfOpen && (conn.handshakeAck !== null || pv.payWireLen > 0)) this.unlinkHalfOpen(conn);
    this.touch(conn);
    this.listener.segment?.(conn, dir as Dir, pv, frame, sec, nsec);
    if (this.nowSec >= this.nextSweep) this.sweep();
  }

  /** Ends every connection still open (at the end of the capture), oldest activity first. */
  finishAll(reason: EndReason = 'end-of-capture'): void {
    // Hundreds of thousands may end here at once, each told to the listener: the memory guard runs between thousands.
    for (let n = 1; this.lruHead !== null; n++) {
      this.release(this.lruHead, reason);
      if (n % 4096 === 0) this.memory.guard();
    }
  }

  get open(): number {
    return this.count;
  }

  private isReuse(conn: Connection, dir: Dir, pv: PacketView): boolean {
    if (conn.finished) return true;
    const h = conn.half[dir];
    if (h.sawSyn) return pv.seq !== h.isn && (h.deliveredBytes > 0 || h.ended || conn.half[dir === 0 ? 1 : 0].started);
    // Picked up mid-stream, then a SYN: a new connection on the same ports.
    return h.started || conn.half[dir === 0 ? 1 : 0].started;
  }

  private create(pv: PacketView, stamp: Stamp): Connection {
    if (this.count >= this.limits.maxConnections && this.lruHead !== null) {
      this.stats.evicted++;
      this.release(this.lruHead, 'evicted');
    }
    while (!this.memory.fits(COST.connection) && this.shed(stamp.frame));
    const flags = pv.flags;
    let origin: Origin;
    let senderIsClient: boolean;
    if (flags & TCP_SYN) {
      senderIsClient = (flags & TCP_ACK) === 0;
      origin = senderIsClient ? 'syn' : 'syn-ack';
    } else {
      const toServer = this.serverPorts.has(pv.dport);
      const fromServer = this.serverPorts.has(pv.sport);
      if (toServer !== fromServer) {
        senderIsClient = toServer;
        origin = 'port';
      } else if ((pv.dport < 1024) !== (pv.sport < 1024)) {
        senderIsClient = pv.dport < 1024;
        origin = 'port';
      } else {
        senderIsClient = true;
        origin = 'guess';
      }
    }
    const conn = new Connection(this.nextId++, pv, senderIsClient, stamp, this.budget, this.reassembly);
    conn.origin = origin;
    this.memory.charge('connections', COST.connection);
    conn.halfPrev = this.halfTail;
    if (this.halfTail !== null) this.halfTail.halfNext = conn;
    else this.halfHead = conn;
    this.halfTail = conn;
    conn.setSink(this.listener.opened(conn));
    const key = hashTuple(pv, this.seed);
    conn.hashKey = key;
    conn.hashNext = this.buckets.get(key) ?? null;
    this.buckets.set(key, conn);
    this.count++;
    this.stats.connections++;
    if (this.count > this.stats.maxConcurrent) this.stats.maxConcurrent = this.count;
    return conn;
  }

  /**
   * The packet's connection, or null: the last one used, then the one in its ports' slot, then the hash
   * chain of its four-tuple. Its direction is left in foundDir (-1 without a connection).
   */
  private find(pv: PacketView): Connection | null {
    const last = this.lastConn;
    if (last !== null && (this.foundDir = last.direction(pv)) >= 0) return last;
    const slot = (pv.sport ^ pv.dport) & 255;
    const byPorts = this.byPorts[slot]!;
    if (byPorts !== null && (this.foundDir = byPorts.direction(pv)) >= 0) return byPorts;
    for (let c = this.buckets.get(hashTuple(pv, this.seed)) ?? null; c !== null; c = c.hashNext) {
      if ((this.foundDir = c.direction(pv)) >= 0) {
        this.byPorts[slot] = c;
        return c;
      }
    }
    this.foundDir = -1;
    return null;
  }

  /**
   * At the memory budget: closes the oldest half-open connection, or else, while connections hold at least
   * a quarter of the budget, the least recently active one. False when neither may go (what is over the
   * budget is the FTP stage's, which counts instead of keeping).
   */
  private shed(frame: number): boolean {
    if (this.halfHead !== null) {
      this.memory.let('halfOpen', frame);
      this.release(this.halfHead, 'evicted');
      return true;
    }
    if (this.lruHead !== null && this.memory.held('connections') * 4 >= this.memory.limit) {
      this.memory.let('idle', frame);
      this.release(this.lruHead, 'evicted');
      return true;
    }
    return false;
  }

  private unlinkHalfOpen(c: Connection): void {
    c.halfOpen = false;
    if (c.halfPrev !== null) c.halfPrev.halfNext = c.halfNext;
    else this.halfHead = c.halfNext;
    if (c.halfNext !== null) c.halfNext.halfPrev = c.halfPrev;
    else this.halfTail = c.halfPrev;
    c.halfPrev = c.halfNext = null;
  }

  /** Moves the connection to the most-recent end of the activity list. */
  private touch(c: Connection): void {
    if (this.lruTail === c) return;
    if (c.lruPrev !== null || this.lruHead === c) this.unlinkLru(c);
    c.lruPrev = this.lruTail;
    c.lruNext = null;
    if (this.lruTail !== null) this.lruTail.lruNext = c;
    else this.lruHead = c;
    this.lruTail = c;
  }

  private unlinkLru(c: Connection): void {
    if (c.lruPrev !== null) c.lruPrev.lruNext = c.lruNext;
    else this.lruHead = c.lruNext;
    if (c.lruNext !== null) c.lruNext.lruPrev = c.lruPrev;
    else this.lruTail = c.lruPrev;
    c.lruPrev = c.lruNext = null;
  }

  /** Closes idle connections and releases finished ones whose linger is over. Runs once a capture second. */
  private sweep(): void {
    this.nextSweep = this.nowSec + 1;
    const idleBefore = this.nowSec - this.limits.idleTimeoutSec;
    while (this.lruHead !== null && this.lruHead.lastSec + this.lruHead.lastNsec / 1e9 < idleBefore) {
      if (!this.lruHead.finished) this.stats.idleClosed++;
      this.release(this.lruHead, 'idle');
    }
    const lingerBefore = this.nowSec - this.limits.closedLingerSec;
    const q = this.finishedQueue;
    while (this.finishedHead < q.length && q[this.finishedHead]!.finishedAt < lingerBefore) {
      const c = q[this.finishedHead]!;
      q[this.finishedHead++] = null;
      if (!c.released) this.release(c, c.closeReason ?? 'fin');
    }
    if (this.finishedHead > 1024 && this.finishedHead * 2 > q.length) {
      this.finishedQueue = q.slice(this.finishedHead);
      this.finishedHead = 0;
    }
    this.listener.tick?.(this.nowSec);
  }

  /** Finishes the connection, tells the listener, and forgets it. */
  private release(c: Connection, reason: EndReason): void {
    if (c.released) return;
    c.released = true;
    c.finishAll(reason, this.nowSec);
    this.unlinkLru(c);
    if (c.halfOpen) this.unlinkHalfOpen(c);
    this.memory.release('connections', COST.connection);
    // Unchain from its bucket.
    const head = this.buckets.get(c.hashKey) ?? null;
    if (head === c) {
      if (c.hashNext !== null) this.buckets.set(c.hashKey, c.hashNext);
      else this.buckets.delete(c.hashKey);
    } else {
      for (let p = head; p !== null; p = p.hashNext) {
        if (p.hashNext === c) {
          p.hashNext = c.hashNext;
          break;
        }
      }
    }
    c.hashNext = null;
    if (this.lastConn === c) this.lastConn = null;
    const slot = (c.cPort ^ c.sPort) & 255;
    if (this.byPorts[slot] === c) this.byPorts[slot] = null;
    this.count--;
    this.listener.closed(c);
  }
}

/** A symmetric hash of the four-tuple, keyed by `seed`: both directions of a connection get the same key. */
export function hashTuple(pv: Pick<PacketView, 'src0' | 'src1' | 'src2' | 'src3' | 'sport' | 'dst0' | 'dst1' | 'dst2' | 'dst3' | 'dport'>, seed: number): number {
  const a = endpointHash(pv.src0, pv.src1, pv.src2, pv.src3, pv.sport, seed);
  const b = endpointHash(pv.dst0, pv.dst1, pv.dst2, pv.dst3, pv.dport, seed);
  return (a + b) | 0;
}

function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number, seed: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9 ^ seed, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15) ^ port, 0x27d4eb2f);
  return h ^ (h >>> 16);
}
