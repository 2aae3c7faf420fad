import { SEG_ACKED_UNSEEN, SEG_ACKS_FIN, SEG_ACK_FROM_ISN, SEG_DATA, SEG_DUP_ACK, SEG_FAST_RETRANSMISSION, SEG_FIN, SEG_HANDSHAKE_ACK, SEG_KEEP_ALIVE, SEG_KEEP_ALIVE_ACK, SEG_OUT_OF_ORDER, SEG_PREVIOUS_NOT_CAPTURED, SEG_RETRANSMISSION, SEG_RST, SEG_SPURIOUS_RETRANSMISSION, SEG_SYN, SEG_SYN_ACK, SEG_WINDOW_FULL, SEG_WINDOW_UPDATE, SEG_ZERO_WINDOW, SEG_ZERO_WINDOW_PROBE, SEG_ZERO_WINDOW_PROBE_ACK } from '../model/segment.js';
import type { Dir } from './stream-sink.js';
import { seqDelta } from './reassembler.js';


const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;

/** tshark's out-of-order threshold when the handshake's round trip is unknown: 3 ms. */
const DEFAULT_OOO_NS = 3_000_000;
/** A fast retransmission follows the duplicate ACKs that asked for it within 20 ms. */
const FAST_RETRANSMISSION_NS = 20_000_000;

/** Nanoseconds from (s0, n0) to (s1, n1): exact for any capture shorter than 104 days. */
function nsBetween(s1: number, n1: number, s0: number, n0: number): number {
  return (s1 - s0) * 1e9 + (n1 - n0);
}

/** One direction's state, as tshark keeps it (tcp_flow_t and its tcp_analyze_seq_info). */
class Side {
  /** Relative numbers count from here (the SYN's sequence number, or one before the first seen). */
  base = 0;
  baseSet = false;
  /** Its base is its SYN's sequence number. */
  sawSyn = false;
  /** The window scale its SYN announced: -1 unknown (no SYN seen), -2 none announced. */
  winScale = -1;
  /** Highest relative sequence number sent so far, plus one (0: nothing seen yet). */
  nextSeq = 0;
  nextSec = 0;
  nextNsec = 0;
  /** Highest relative sequence number sent contiguously (for ACKed-unseen), 0: unknown. */
  maxToBeAcked = 0;
  /** The last acknowledgement it sent (relative to the other side's base) and when. */
  lastAck = 0;
  hasAck = false;
  lastAckSec = 0;
  lastAckNsec = 0;
  /** The last raw window it advertised (-1: none yet). */
  window = -1;
  /** Duplicate ACKs in a row, and the frame they repeat. */
  dupAcks = 0;
  lastNonDupAck = 0;
  /** The labels of its last segment. */
  lastLabels = 0;
  /** Relative sequence number just after its FIN (0: no FIN yet). */
  finNext = 0;
  /** Time of its SYN (for the first round trip). */
  synSec = -1;
  synNsec = 0;
}

/**
 * Classifies the segments of one TCP connection, both directions, in capture order, the way tshark's
 * `tcp_analyze_sequence_number` does (epan/dissectors/packet-tcp.c), so that every view reads one answer.
 *
 * Call `segment()` once per segment, in capture order, with the segment's raw header fields; then read
 * `labels` (SEG_* bits), `relSeq` and `relAck` (relative to each direction's base: its SYN's sequence
 * number, or one before its first sequence number seen; the acknowledged side's base is taken from the
 * first ACK when that side has sent nothing yet), `window` (scaled when both SYNs announced a scale),
 * `dupAckCount` and `dupAckOf` (for SEG_DUP_ACK: its number in the run and the frame it repeats), and
 * `unseenBefore` (for SEG_PREVIOUS_NOT_CAPTURED: the bytes missing before it). These stay valid until the
 * next call. Sequence numbers are made relative once, on entry; every comparison after that is a signed
 * 32-bit distance (`seqDelta`), so wrap-around needs no special case.
 *
 * The order of the checks is tshark's, and matters: zero window probe, zero window, previous segment not
 * captured, keep-alive, window update, window full, keep-alive ACK, zero window probe ACK, duplicate ACK;
 * then ACKed unseen; then, for a segment with data, SYN or FIN that does not advance the sequence number,
 * one of spurious retransmission (all of it acknowledged already), fast retransmission (at least two
 * duplicate ACKs asked for exactly this, within 20 ms), out-of-order (within the handshake's round trip,
 * or 3 ms, of the highest segment) or retransmission. No allocation per segment.
 */
export class SegmentAnalysis {
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  /** The handshake's round trip in ns (SYN to the ACK of the SYN+ACK), 0 while unknown. */
  private firstRttNs = 0;
  private handshakeDone = false;
  private sawSynAck = false;

  // The answer for the last segment.
  labels = 0;
  relSeq = 0;
  relAck = 0;
  window = 0;
  dupAckCount = 0;
  dupAckOf = 0;
  unseenBefore = 0;

  /**
   * One segment. `seq` and `ack` are the header's (uint32), `window` its raw window, `wscale` the window
   * scale option of a SYN (-1 when absent), `seglen` the payload's length on the wire.
   */
  segment(dir: Dir, frame: number, sec: number, nsec: number, flags: number, seq: number, ack: number, window: number, wscale: number, seglen: number): void {
    const fwd = this.sides[dir];
    const rev = this.sides[dir === 0 ? 1 : 0];
    let labels = seglen > 0 ? SEG_DATA : 0;
    this.dupAckCount = 0;
    this.dupAckOf = 0;
    this.unseenBefore = 0;

    if (!fwd.baseSet) {
      fwd.base = flags & SYN ? seq : (seq - 1) >>> 0;
      fwd.baseSet = true;
      fwd.sawSyn = (flags & SYN) !== 0;
    }
    if (!rev.baseSet && flags & ACK) {
      rev.base = (ack - 1) >>> 0;
      rev.baseSet = true;
    }
    const rseq = (seq - fwd.base) >>> 0;
    const rack = rev.baseSet ? (ack - rev.base) >>> 0 : ack;
    const noSfr = (flags & (SYN | FIN | RST)) === 0;

    // The handshake, and the window scale each SYN announces.
    if (flags & SYN) {
      if (flags & ACK) {
        labels |= SEG_SYN_ACK;
        this.sawSynAck = true;
        if (fwd.winScale === -1) fwd.winScale = wscale >= 0 ? Math.min(wscale, 14) : -2;
        // A SYN with the option answered without it: neither side scales.
        if (wscale < 0 && rev.winScale >= 0) rev.winScale = -2;
        if (wscale >= 0 && rev.winScale === -2) fwd.winScale = -2;
      } else {
        labels |= SEG_SYN;
        if (fwd.synSec < 0) {
          fwd.synSec = sec;
          fwd.synNsec = nsec;
        }
        if (fwd.winScale === -1) fwd.winScale = wscale >= 0 ? Math.min(wscale, 14) : -2;
      }
    } else if (!this.handshakeDone && this.sawSynAck && flags & ACK && rev.baseSet && rack === 1 && rev.nextSeq === 1) {
      this.handshakeDone = true;
      if (fwd.synSec >= 0) this.firstRttNs = nsBetween(sec, nsec, fwd.synSec, fwd.synNsec);
      if (seglen === 0 && !(flags & FIN)) labels |= SEG_HANDSHAKE_ACK;
    }
    if (flags & FIN) {
      labels |= SEG_FIN;
      if (fwd.finNext === 0) fwd.finNext = (rseq + seglen + 1) >>> 0;
    }
    if (flags & RST) labels |= SEG_RST;
    if (flags & ACK && rev.finNext !== 0 && seqDelta(rack, rev.finNext) >= 0) labels |= SEG_ACKS_FIN;
    if (flags & ACK && rev.sawSyn) labels |= SEG_ACK_FROM_ISN;

    analysis: {
      // Zero window probe: one byte at the next sequence number into a closed window.
      if (seglen === 1 && fwd.nextSeq !== 0 && rseq === fwd.nextSeq && rev.window === 0) {
        labels |= SEG_ZERO_WINDOW_PROBE;
        break analysis;
      }
      if (window === 0 && noSfr) labels |= SEG_ZERO_WINDOW;
      // Previous segment not captured: it starts past everything seen so far.
      if (fwd.nextSeq !== 0 && seqDelta(rseq, fwd.nextSeq) > 0 && !(flags & RST)) {
        labels |= SEG_PREVIOUS_NOT_CAPTURED;
        this.unseenBefore = seqDelta(rseq, fwd.nextSeq);
      }
      // Keep-alive: 0 or 1 byte, one before the next sequence number.
      if (seglen <= 1 && fwd.nextSeq !== 0 && rseq === ((fwd.nextSeq - 1) >>> 0) && noSfr) labels |= SEG_KEEP_ALIVE;
      const sameAck = fwd.hasAck && rack === fwd.lastAck && (flags & ACK) !== 0;
      const still = seglen === 0 && rseq === fwd.nextSeq && sameAck && noSfr;
      if (still && window !== 0 && window !== fwd.window) labels |= SEG_WINDOW_UPDATE;
      // Window full: the data reaches the right edge of the window the other side advertised.
      if (seglen > 0 && noSfr && rev.window >= 0 && rev.winScale !== -1 && rev.hasAck) {
        const edge = rev.lastAck + rev.window * 2 ** (rev.winScale >= 0 ? rev.winScale : 0);
        if (((rseq + seglen) >>> 0) === edge >>> 0) labels |= SEG_WINDOW_FULL;
      }
      if (still && window !== 0 && window === fwd.window && rev.lastLabels & SEG_KEEP_ALIVE) {
        labels |= SEG_KEEP_ALIVE_ACK;
        break analysis;
      }
      if (still && window === 0 && window === fwd.window && rev.lastLabels & SEG_ZERO_WINDOW_PROBE) {
        labels |= SEG_ZERO_WINDOW_PROBE_ACK;
        break analysis;
      }
      if (still && window !== 0 && window === fwd.window) {
        fwd.dupAcks++;
        labels |= SEG_DUP_ACK;
        this.dupAckCount = fwd.dupAcks;
        this.dupAckOf = fwd.lastNonDupAck;
      }
    }
    if (!fwd.hasAck || rack !== fwd.lastAck) {
      fwd.lastNonDupAck = frame;
      fwd.dupAcks = 0;
    }

    // ACKed unseen: it acknowledges past what the other side was seen to send contiguously. Said once:
    // that limit moves to the highest sequence number seen (tshark 4.0's rule).
    if (flags & ACK && rev.maxToBeAcked !== 0 && seqDelta(rack, rev.maxToBeAcked) > 0) {
      labels |= SEG_ACKED_UNSEEN;
      rev.maxToBeAcked = rev.nextSeq;
    }

    // Retransmission, fast retransmission, spurious retransmission, out-of-order.
    const span = seglen + (flags & (SYN | FIN) ? 1 : 0);
    if (span > 0 && !(labels & SEG_KEEP_ALIVE)) {
      let notAdvanced = fwd.nextSeq !== 0 && seqDelta(rseq, fwd.nextSeq) < 0;
      // More than one byte from one before the next: new data after a zero window probe.
      if (seglen > 1 && rseq === ((fwd.nextSeq - 1) >>> 0)) notAdvanced = false;
      if (seglen > 0 && rev.hasAck && rev.lastAck !== 0 && seqDelta((rseq + seglen) >>> 0, rev.lastAck) <= 0) {
        labels |= SEG_SPURIOUS_RETRANSMISSION;
      } else if (
        notAdvanced && rev.dupAcks >= 2 && rev.hasAck && rev.lastAck === rseq &&
        nsBetween(sec, nsec, rev.lastAckSec, rev.lastAckNsec) < FAST_RETRANSMISSION_NS
      ) {
        labels |= SEG_FAST_RETRANSMISSION;
      } else if (
        notAdvanced &&
        nsBetween(sec, nsec, fwd.nextSec, fwd.nextNsec) < (this.firstRttNs > 0 ? this.firstRttNs : DEFAULT_OOO_NS) &&
        fwd.nextSeq !== ((rseq + span) >>> 0)
      ) {
        labels |= SEG_OUT_OF_ORDER;
      } else if (notAdvanced) {
        labels |= SEG_RETRANSMISSION;
      }
    }

    // Remember: the highest sequence number (a zero window probe does not advance it), the contiguous
    // one, the ACK and the window.
    const next = (rseq + span) >>> 0;
    if (!(labels & SEG_ZERO_WINDOW_PROBE)) {
      if (fwd.nextSeq === 0 || seqDelta(next, fwd.nextSeq) > 0) {
        fwd.nextSeq = next;
        fwd.nextSec = sec;
        fwd.nextNsec = nsec;
      }
      if (fwd.maxToBeAcked === 0 || rseq === fwd.maxToBeAcked) fwd.maxToBeAcked = fwd.nextSeq;
    }
    fwd.window = window;
    if (flags & ACK) {
      fwd.lastAck = rack;
      fwd.hasAck = true;
      fwd.lastAckSec = sec;
      fwd.lastAckNsec = nsec;
    }
    fwd.lastLabels = labels;

    this.labels = labels;
    this.relSeq = rseq;
    this.relAck = flags & ACK ? rack : 0;
    this.window = !(flags & SYN) && fwd.winScale >= 0 && rev.winScale >= 0 ? window * 2 ** fwd.winScale : window;
  }
}
