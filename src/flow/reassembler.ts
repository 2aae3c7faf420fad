import { DEFAULTS, type Settings } from '../config.js';
import type { Dir, EndReason, GapReason, Stamp, StreamSink } from './stream-sink.js';

/** Bounds on reassembly buffers. Each has a default and is an option. */
export interface ReassemblyLimits {
  /** Out-of-order bytes held per direction before the hole in front of them is declared a gap (default 4 MiB). */
  maxBufferedPerDirection: number;
  /** Out-of-order bytes held across all connections (default 128 MiB). */
  maxBufferedTotal: number;
  /** Out-of-order segments held per direction (default 4096). */
  maxSegmentsPerDirection: number;
  /** Bytes of each direction kept to compare retransmissions with (default 2048; 0 turns the comparison off). */
  retransmitWindow: number;
}

/** The reassembler's limits from the options (src/config.ts; buffers are given in MiB). */
export function reassemblyLimits(s: Pick<Settings, 'maxBuffer' | 'maxBufferTotal' | 'maxBufferSegments' | 'retransmitWindow'>): ReassemblyLimits {
  return {
    maxBufferedPerDirection: Math.floor(s.maxBuffer * 2 ** 20),
    maxBufferedTotal: Math.floor(s.maxBufferTotal * 2 ** 20),
    maxSegmentsPerDirection: s.maxBufferSegments,
    retransmitWindow: s.retransmitWindow,
  };
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = reassemblyLimits(DEFAULTS);

/**
 * The signed distance from sequence number b to a, modulo 2^32: positive when a is after b. The one
 * place where 32-bit wrap-around is handled; valid while the two are less than 2^31 apart.
 */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** Out-of-order bytes held by all connections together; shared by every HalfStream of a table. */
export class BufferBudget {
  held = 0;
  constructor(readonly max: number) {}
}

/** No range held: shared by every direction that never held one (hold() makes its own list). */
const NONE: Held[] = [];

/** A held out-of-order range. `data` null with `present` true: counted only (no sink wants the bytes). */
interface Held {
  off: number;
  len: number;
  data: Buffer | null;
  /** False for a known hole: bytes the snap length cut off. */
  present: boolean;
  /** The segment that carried it. */
  when: Stamp;
}

/**
 * One direction of a TCP connection: turns segments, in capture order, into an ordered byte stream.
 *
 * Sequence numbers become stream offsets once, on entry: the signed 32-bit distance from the next
 * expected sequence number is added to the next expected offset, so wrap-around past 2^32 needs no special
 * case and offsets run past 4 GiB. In-order data goes to the sink straight from the capture's buffer;
 * only out-of-order data is copied and held, within bounds. The first copy of a byte wins; later copies
 * that differ are counted as conflicts.
 */
export class HalfStream {
  /** A base sequence number is known (from the SYN, or from the first segment seen). */
  started = false;
  sawSyn = false;
  isn = 0;
  /** Next expected sequence number (uint32) and its stream offset. */
  nextSeq = 0;
  nextOff = 0;
  finOff = -1;
  ended = false;
  endReason: EndReason | null = null;
  /** Highest offset the peer acknowledged (-1: none yet). */
  ackedOff = -1;

  // Statistics
  segments = 0;
  /** Payload bytes on the wire, counting retransmissions. */
  wireBytes = 0;
  deliveredBytes = 0;
  gapCount = 0;
  gapBytes = 0;
  startUnseen = false;
  retransmittedBytes = 0;
  /** Of the last segment's payload, the bytes the stream had not had before (0 for a copy; reset per packet by its connection). */
  lastNewBytes = 0;
  /** Retransmitted or overlapping bytes that differ from the copy seen first. */
  conflictBytes = 0;
  firstConflictFrame = -1;
  /** Bytes that arrived after their range had been declared a gap. */
  lateBytes = 0;
  cutBytes = 0;

  /** Out-of-order ranges, in offset order (NONE, shared, until the first: most directions never hold one). */
  private held: Held[] = NONE;
  private heldBytes = 0;
  private hist: Buffer | null = null;
  /** Stream offset where the history's oldest byte sits (the history ends at nextOff). */
  private histStart = 0;

  /** Where the bytes go; null to only count them. Set before the first segment. */
  sink: StreamSink | null = null;

  constructor(
    readonly dir: Dir,
    private readonly budget: BufferBudget,
    private readonly limits: ReassemblyLimits,
  ) {}

  /** A SYN from this side: its sequence number is the ISN; data starts one after it. */
  syn(seq: number): void {
    if (this.started) return;
    this.started = true;
    this.sawSyn = true;
    this.isn = seq;
    this.nextSeq = (seq + 1) >>> 0;
    this.nextOff = 0;
  }

  /**
   * Starts the stream at `seq` without its SYN. `knownStart`: the peer's SYN+ACK acknowledged exactly this
   * sequence number, so nothing came before; otherwise what came before is unknown (a start-unseen gap).
   */
  begin(seq: number, knownStart: boolean): void {
    if (this.started) return;
    this.started = true;
    this.nextSeq = seq;
    this.nextOff = 0;
    if (!knownStart) {
      this.startUnseen = true;
      this.sink?.gap(this.dir, 0, -1, 'start-unseen');
    }
  }

  /**
   * A segment's payload: `capLen` bytes at buf[off] are present, `wireLen` were sent (more when the snap
   * length cut the packet). `seq` is the sequence number of the first payload byte.
   */
  segment(seq: number, buf: Buffer, off: number, capLen: number, wireLen: number, fin: boolean, when: Readonly<Stamp>): void {
    if (this.ended) {
      if (wireLen > 0) this.lateBytes += wireLen;
      return;
    }
    this.segments++;
    this.wireBytes += wireLen;
    if (!this.started) this.begin(seq, false);
    let at = this.nextOff + seqDelta(seq, this.nextSeq);
    if (fin && this.finOff < 0) this.finOff = at + wireLen;
    if (wireLen > 0) {
      if (at < this.nextOff) {
        // Old bytes: a retransmission or an overlap with what was delivered.
        const old = Math.min(wireLen, this.nextOff - at);
        const keepAlive = wireLen <= 1 && at === this.nextOff - 1;
        if (!keepAlive) {
          this.retransmittedBytes += old;
          this.compareWithHistory(at, buf, off, Math.min(old, capLen), when.frame);
        }
        if (old === wireLen) {
          this.afterSegment();
          return;
        }
        off += old;
        capLen = Math.max(0, capLen - old);
        wireLen -= old;
        at += old;
      }
      const repeated = this.retransmittedBytes;
      if (at === this.nextOff && (this.held.length === 0 || at + wireLen <= this.held[0]!.off)) {
        this.deliver(buf, off, capLen, wireLen, when);
        if (this.held.length > 0) this.drain();
      } else {
        this.hold(at, buf, off, capLen, wireLen, when);
        this.drain();
      }
      this.lastNewBytes = wireLen - (this.retransmittedBytes - repeated);
    }
    this.afterSegment();
  }

  /** The peer acknowledged up to `ack`: bytes before it that we never saw are missing from the capture. */
  peerAck(ack: number): void {
    if (!this.started || this.ended) return;
    const off = this.nextOff + seqDelta(ack, this.nextSeq);
    if (off > this.ackedOff) this.ackedOff = off;
    if (this.ackedOff <= this.nextOff) return;
    if (this.held.length > 0) {
      this.drain();
      this.afterSegment(); // the drain may have reached a held FIN
    } else if (this.finOff > this.nextOff) {
      // The last bytes before a FIN we saw were acknowledged but never captured.
      this.gapTo(Math.min(this.ackedOff, this.finOff), 'missing');
      this.afterSegment();
    }
  }

  /** Ends the direction: everything held is delivered, holes become gaps, then `end`. Idempotent. */
  finish(reason: EndReason): void {
    if (this.ended) return;
    while (this.held.length > 0) {
      this.gapTo(this.held[0]!.off, 'missing');
      this.drain();
    }
    if (this.finOff > this.nextOff) this.gapTo(this.finOff, 'missing');
    else if (this.finOff < 0 && this.ackedOff > this.nextOff + 1) {
      // Acknowledged but never seen, at the very end. The peer's ack may count an unseen FIN: one less.
      this.gapTo(this.ackedOff - 1, 'missing');
    }
    this.ended = true;
    // A FIN that was seen ends the stream, whatever prompted the flush (holes before it are gaps now).
    this.endReason = this.finOff >= 0 && reason !== 'rst' ? 'fin' : reason;
    this.hist = null;
    this.sink?.end(this.dir, this.endReason);
  }

  /** Gives up on the hole before the held data (a buffer bound was hit). True if it freed anything. */
  releaseOldest(): boolean {
    if (this.held.length === 0) return false;
    this.gapTo(this.held[0]!.off, 'buffer-limit');
    this.drain();
    return true;
  }

  get buffered(): number {
    return this.heldBytes;
  }

  private afterSegment(): void {
    if (!this.ended && this.finOff >= 0 && this.nextOff >= this.finOff) this.finish('fin');
  }

  /** Delivers bytes at nextOff: the captured part, then a gap for what the snap length cut. */
  private deliver(buf: Buffer, off: number, capLen: number, wireLen: number, when: Readonly<Stamp>): void {
    if (this.finOff >= 0 && this.nextOff + wireLen > this.finOff) {
      // Bytes past the FIN are not part of the stream.
      wireLen = Math.max(0, this.finOff - this.nextOff);
      capLen = Math.min(capLen, wireLen);
      if (wireLen === 0) return;
    }
    if (capLen > 0) {
      this.sink?.data(this.dir, buf, off, capLen, this.nextOff, when);
      this.remember(buf, off, capLen);
      this.advance(capLen);
      this.deliveredBytes += capLen;
    }
    if (wireLen > capLen) {
      this.cutBytes += wireLen - capLen;
      this.gapTo(this.nextOff + wireLen - capLen, 'cut');
    }
  }

  private advance(n: number): void {
    this.nextOff += n;
    this.nextSeq = (this.nextSeq + n) >>> 0;
  }

  private gapTo(to: number, reason: GapReason): void {
    const len = to - this.nextOff;
    if (len <= 0) return;
    this.gapCount++;
    this.gapBytes += len;
    this.sink?.gap(this.dir, this.nextOff, len, reason);
    this.advance(len);
    this.hist = null; // history must be contiguous with nextOff
  }

  /** Delivers held ranges that have become contiguous; declares acknowledged holes; enforces bounds. */
  private drain(): void {
    const held = this.held;
    for (;;) {
      while (held.length > 0 && held[0]!.off <= this.nextOff) {
        const h = held.shift()!;
        this.heldBytes -= h.data !== null ? h.len : 0;
        this.budget.held -= h.data !== null ? h.len : 0;
        const skip = this.nextOff - h.off;
        if (skip >= h.len) continue;
        if (!h.present) {
          this.cutBytes += h.len - skip;
          this.gapTo(h.off + h.len, 'cut');
        } else if (h.data !== null) {
          this.deliver(h.data, skip, h.len - skip, h.len - skip, h.when);
        } else {
          // Counted-only bytes (no sink): just move on.
          this.deliveredBytes += h.len - skip;
          this.advance(h.len - skip);
        }
      }
      if (held.length === 0) return;
      // A hole remains before held[0]. Declare it when the peer has acknowledged past it.
      if (this.ackedOff > this.nextOff) {
        this.gapTo(Math.min(this.ackedOff, held[0]!.off), 'missing');
        continue;
      }
      if (
        this.heldBytes > this.limits.maxBufferedPerDirection ||
        held.length > this.limits.maxSegmentsPerDirection ||
        this.budget.held > this.budget.max
      ) {
        this.gapTo(held[0]!.off, 'buffer-limit');
        continue;
      }
      return;
    }
  }

  /** Holds [at, at + wireLen) except the parts already held (first copy wins; differing bytes counted). */
  private hold(at: number, buf: Buffer, off: number, capLen: number, wireLen: number, when: Readonly<Stamp>): void {
    const held = this.held === NONE ? (this.held = []) : this.held;
    const end = at + wireLen;
    const capEnd = at + capLen;
    // Walk the held ranges that overlap [at, end) and hold each uncovered piece.
    let cursor = at;
    let i = 0;
    while (i < held.length && held[i]!.off + held[i]!.len <= at) i++;
    while (cursor < end) {
      const h = i < held.length ? held[i]! : null;
      const pieceEnd = h !== null && h.off < end ? Math.max(cursor, h.off) : end;
      if (pieceEnd > cursor) {
        // [cursor, pieceEnd) is new: split into its captured and cut parts.
        const presentEnd = Math.min(pieceEnd, Math.max(cursor, capEnd));
        if (presentEnd > cursor) {
          held.splice(i++, 0, this.makeHeld(cursor, presentEnd - cursor, buf, off + (cursor - at), when));
        }
        if (pieceEnd > presentEnd) {
          held.splice(i++, 0, { off: presentEnd, len: pieceEnd - presentEnd, data: null, present: false, when: { ...when } });
        }
        cursor = pieceEnd;
      }
      if (h === null || h.off >= end) break;
      // Overlap with h: compare, then skip past it.
      const ovEnd = Math.min(end, h.off + h.len);
      if (h.data !== null && cursor < capEnd) {
        this.retransmittedBytes += ovEnd - cursor;
        this.compare(h.data, cursor - h.off, buf, off + (cursor - at), Math.min(ovEnd, capEnd) - cursor, when.frame);
      }
      cursor = Math.max(cursor, ovEnd);
      i++;
    }
  }

  private makeHeld(at: number, len: number, buf: Buffer, off: number, when: Readonly<Stamp>): Held {
    let data: Buffer | null = null;
    if (this.sink !== null) {
      data = Buffer.allocUnsafe(len);
      buf.copy(data, 0, off, off + len);
      this.heldBytes += len;
      this.budget.held += len;
    }
    return { off: at, len, data, present: true, when: { frame: when.frame, sec: when.sec, nsec: when.nsec } };
  }

  /** Keeps the last bytes delivered, to compare retransmissions with. */
  private remember(buf: Buffer, off: number, len: number): void {
    const w = this.limits.retransmitWindow;
    if (w === 0 || this.sink?.checkRetransmissions === false) return;
    let hist = this.hist;
    if (hist === null) {
      hist = this.hist = Buffer.allocUnsafe(w);
      this.histStart = this.nextOff;
    }
    // Ring: stream offset x lives at hist[x % w].
    const start = len > w ? off + len - w : off;
    let at = this.nextOff + (start - off);
    let n = off + len - start;
    let src = start;
    while (n > 0) {
      const pos = at % w;
      const k = Math.min(n, w - pos);
      // Control lines are short: a loop beats Buffer.copy's call overhead below a few hundred bytes.
      if (k < 256) for (let j = 0; j < k; j++) hist[pos + j] = buf[src + j]!;
      else buf.copy(hist, pos, src, src + k);
      at += k;
      src += k;
      n -= k;
    }
    const end = this.nextOff + len;
    if (end - this.histStart > w) this.histStart = end - w;
  }

  private compareWithHistory(at: number, buf: Buffer, off: number, len: number, frame: number): void {
    const hist = this.hist;
    if (hist === null || len <= 0) return;
    const w = hist.length;
    const from = Math.max(at, this.histStart);
    const to = Math.min(at + len, this.nextOff);
    let differ = 0;
    for (let x = from; x < to; x++) if (hist[x % w] !== buf[off + (x - at)]) differ++;
    if (differ > 0) this.conflict(differ, frame);
  }

  private compare(a: Buffer, aOff: number, b: Buffer, bOff: number, len: number, frame: number): void {
    let differ = 0;
    for (let k = 0; k < len; k++) if (a[aOff + k] !== b[bOff + k]) differ++;
    if (differ > 0) this.conflict(differ, frame);
  }

  private conflict(bytes: number, frame: number): void {
    this.conflictBytes += bytes;
    if (this.firstConflictFrame < 0) this.firstConflictFrame = frame;
  }
}
