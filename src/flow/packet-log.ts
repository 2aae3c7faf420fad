import { DEFAULTS } from '../config.js';
import type { PacketView } from '../decode/packet.js';
import type { Connection, Stamp, TcpListener } from './connections.js';
import type { PacketRecord, PacketSource } from '../model/capture.js';
import type { Dir, StreamSink } from './stream-sink.js';

export type { PacketRecord };
import { SegmentAnalysis } from './segment-analysis.js';
import { COST, type MemoryBudget, unlimitedBudget } from '../memory-budget.js';

/** Bounds on the packet log. */
export interface PacketLogLimits {
  /** Packets recorded in all (default 1,000,000); beyond it, recording stops and says where. */
  maxPackets: number;
}

export const DEFAULT_PACKET_LOG_LIMITS: PacketLogLimits = { maxPackets: DEFAULTS.maxPacketLog };


/**
 * Every TCP segment of the connections a listener follows (for FTP: control and data connections), for
 * the views that show each packet: the walkthrough, the ladder, the packet list. It wraps the listener
 * and records column-wise in typed arrays that double as they fill (no object per packet), up to a bound.
 *
 * Each segment is classified as it passes (a SegmentAnalysis per connection, kept on the connection):
 * the views read those facts and keep no sequence state of their own. Segments past the bound are still
 * classified, so that a view that reads counts elsewhere agrees with what the log would have said.
 */
export class PacketLog implements TcpListener, PacketSource {
  private n = 0;
  private frames = new Float64Array(1024);
  private secs = new Float64Array(1024);
  private nsecs = new Int32Array(1024);
  private conns = new Int32Array(1024);
  private dirs = new Uint8Array(1024);
  private flags = new Uint16Array(1024);
  private seqs = new Uint32Array(1024);
  private acks = new Uint32Array(1024);
  private windows = new Int32Array(1024);
  private scaled = new Float64Array(1024);
  private labels = new Uint32Array(1024);
  private dupCounts = new Int32Array(1024);
  private dupOfs = new Float64Array(1024);
  private unseens = new Int32Array(1024);
  private news = new Int32Array(1024);
  private payloads = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  /** Window scale each direction announced in its SYN, by connection (-1: none). */
  readonly windowScale = new Map<number, [number, number]>();
  /** The frame at which recording stopped (the bound was reached), or null. */
  fullAt: number | null = null;
  /** Recording stopped at the memory budget, not at maxPackets. */
  private fullForMemory = false;

  constructor(
    private readonly inner: TcpListener & { follows(conn: Connection): boolean; isSilent?(conn: Connection): boolean },
    private readonly limits: PacketLogLimits = DEFAULT_PACKET_LOG_LIMITS,
    private readonly memory: MemoryBudget = unlimitedBudget(),
  ) {
    memory.charge('packets', this.frames.length * (COST.packet / 2));
  }

  bind(clock: Readonly<Stamp>): void {
    this.inner.bind?.(clock);
  }

  opened(conn: Connection): StreamSink | null {
    return this.inner.opened(conn);
  }

  closed(conn: Connection): void {
    if (conn.analysis !== null) this.memory.release('packets', COST.followed);
    const silent = this.inner.isSilent?.(conn) ?? false;
    this.inner.closed(conn);
    const rows = this.rowsOf.get(conn.id);
    if (rows === undefined) return;
    this.rowsOf.delete(conn.id);
    // A connection to an FTP port closed before a word (a SYN flood, a scan): no view shows its packets,
    // so they go, in one pass once they are half the log (the log stays linear in the capture).
    if (!silent) return;
    this.windowScale.delete(conn.id);
    this.dead.add(conn.id);
    this.deadRows += rows;
    if (this.deadRows > 4096 && this.deadRows * 2 > this.n) this.compact();
  }

  /** Rows recorded of each followed connection still open (what its close may let go). */
  private readonly rowsOf = new Map<number, number>();
  /** Silent connections closed, whose rows are still in the log, and how many rows that is. */
  private dead = new Set<number>();
  private deadRows = 0;

  /** Drops the rows of the silent connections closed: at the end of the capture, and as they pile up. */
  compact(): void {
    if (this.deadRows === 0) return;
    const dead = this.dead;
    this.dead = new Set();
    this.deadRows = 0;
    this.forget(dead);
  }

  tick(nowSec: number): void {
    this.inner.tick?.(nowSec);
  }

  segment(conn: Connection, dir: Dir, pv: PacketView, frame: number, sec: number, nsec: number): void {
    this.inner.segment?.(conn, dir, pv, frame, sec, nsec);
    if (!this.inner.follows(conn)) return;
    if (pv.flags & 2 && this.fullAt === null) {
      let ws = this.windowScale.get(conn.id);
      if (ws === undefined) this.windowScale.set(conn.id, (ws = [-1, -1]));
      ws[dir] = pv.wscale;
    }
    if (conn.analysis === null) this.memory.charge('packets', COST.followed);
    const a = (conn.analysis ??= new SegmentAnalysis());
    a.segment(dir, frame, sec, nsec, pv.flags, pv.seq, pv.ack, pv.window, pv.wscale, pv.payWireLen);
    // Once full (the bound, or no room in the memory budget to grow), recording stops for good: the log is a prefix.
    if (this.fullAt !== null || this.n >= this.limits.maxPackets || (this.n === this.frames.length && !this.grow())) {
      if (this.fullAt === null) {
        this.fullAt = frame;
        this.fullForMemory = this.n < this.limits.maxPackets;
      }
      if (this.fullForMemory) this.memory.let('packets', frame);
      return;
    }
    const i = this.n++;
    this.rowsOf.set(conn.id, (this.rowsOf.get(conn.id) ?? 0) + 1);
    this.frames[i] = frame;
    this.secs[i] = sec;
    this.nsecs[i] = nsec;
    this.conns[i] = conn.id;
    this.dirs[i] = dir;
    this.flags[i] = pv.flags;
    this.seqs[i] = a.relSeq;
    this.acks[i] = a.relAck;
    this.windows[i] = pv.window;
    this.scaled[i] = a.window;
    this.labels[i] = a.labels;
    this.dupCounts[i] = a.dupAckCount;
    this.dupOfs[i] = a.dupAckOf;
    this.unseens[i] = a.unseenBefore;
    this.news[i] = conn.half[dir].lastNewBytes;
    this.payloads[i] = pv.payWireLen;
    this.lengths[i] = pv.frameLen;
  }

  /** Drops the packets of these connections (a live capture forgets what it has reported). */
  forget(connections: ReadonlySet<number>): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if (connections.has(this.conns[r]!)) continue;
      if (w !== r) {
        this.frames[w] = this.frames[r]!;
        this.secs[w] = this.secs[r]!;
        this.nsecs[w] = this.nsecs[r]!;
        this.conns[w] = this.conns[r]!;
        this.dirs[w] = this.dirs[r]!;
        this.flags[w] = this.flags[r]!;
        this.seqs[w] = this.seqs[r]!;
        this.acks[w] = this.acks[r]!;
        this.windows[w] = this.windows[r]!;
        this.scaled[w] = this.scaled[r]!;
        this.labels[w] = this.labels[r]!;
        this.dupCounts[w] = this.dupCounts[r]!;
        this.dupOfs[w] = this.dupOfs[r]!;
        this.unseens[w] = this.unseens[r]!;
        this.news[w] = this.news[r]!;
        this.payloads[w] = this.payloads[r]!;
        this.lengths[w] = this.lengths[r]!;
      }
      w++;
    }
    this.n = w;
    for (const c of connections) this.windowScale.delete(c);
  }

  get size(): number {
    return this.n;
  }

  /** Packet i (0-based, in capture order). */
  get(i: number): PacketRecord {
    return {
      frame: this.frames[i]!,
      sec: this.secs[i]!,
      nsec: this.nsecs[i]!,
      connection: this.conns[i]!,
      dir: this.dirs[i]! as Dir,
      flags: this.flags[i]!,
      seq: this.seqs[i]!,
      ack: this.acks[i]!,
      window: this.windows[i]!,
      scaledWindow: this.scaled[i]!,
      analysis: this.labels[i]!,
      dupAckCount: this.dupCounts[i]!,
      dupAckOf: this.dupOfs[i]!,
      unseenBefore: this.unseens[i]!,
      payload: this.payloads[i]!,
      newBytes: this.news[i]!,
      frameLength: this.lengths[i]!,
    };
  }

  /** All recorded packets, in capture order. */
  *all(): IterableIterator<PacketRecord> {
    for (let i = 0; i < this.n; i++) yield this.get(i);
  }

  /** Doubles the arrays; false (nothing done) when the memory budget has no room for them. */
  private grow(): boolean {
    const size = this.frames.length * 2;
    const more = (size - this.frames.length) * (COST.packet / 2);
    if (!this.memory.fits(more)) return false;
    this.memory.charge('packets', more);
    const f = <T extends { length: number; set(a: T): void }>(a: T, make: new (n: number) => T): T => {
      const b = new make(size);
      b.set(a);
      return b;
    };
    this.frames = f(this.frames, Float64Array);
    this.secs = f(this.secs, Float64Array);
    this.nsecs = f(this.nsecs, Int32Array);
    this.conns = f(this.conns, Int32Array);
    this.dirs = f(this.dirs, Uint8Array);
    this.flags = f(this.flags, Uint16Array);
    this.seqs = f(this.seqs, Uint32Array);
    this.acks = f(this.acks, Uint32Array);
    this.windows = f(this.windows, Int32Array);
    this.scaled = f(this.scaled, Float64Array);
    this.labels = f(this.labels, Uint32Array);
    this.dupCounts = f(this.dupCounts, Int32Array);
    this.dupOfs = f(this.dupOfs, Float64Array);
    this.unseens = f(this.unseens, Int32Array);
    this.news = f(this.news, Int32Array);
    this.payloads = f(this.payloads, Int32Array);
    this.lengths = f(this.lengths, Int32Array);
    return true;
  }
}
