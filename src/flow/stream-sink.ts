import type { Dir, EndReason, GapReason, Stamp } from '../model/capture.js';

export type { Dir, EndReason, GapReason, Stamp };

/**
 * Receives one connection's reassembled byte streams, both directions, in capture order.
 *
 * For each direction: any number of `data` and `gap` calls, whose ranges tile the stream without overlap
 * in increasing offset order (a `start-unseen` gap may come first), then exactly one `end`.
 * Offsets count bytes from the first byte after the SYN (or from the first byte seen, when the SYN was
 * not captured); they are exact past 4 GiB (up to 2^53).
 */
export interface StreamSink {
  /**
   * Whether retransmitted bytes must be checked against the first copy (which costs a copy of every byte
   * delivered, into a small window). Default true; a sink that only counts bytes can say false.
   */
  readonly checkRetransmissions?: boolean;
  /** data() does nothing (the sink wants the gaps and the end only): a tee need not call it. */
  readonly ignoresData?: boolean;
  /**
   * In-order bytes buf[off, off + len), the stream's bytes from offset `at`, carried by the segment of
   * frame and time `when` (bytes held out of order keep their own segment's stamp). Both the bytes and
   * `when` are valid only during the call: copy what you keep.
   */
  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, when: Readonly<Stamp>): void;
  /** Bytes [at, at + len) will never come (len -1: unknown, for `start-unseen`). */
  gap(dir: Dir, at: number, len: number, reason: GapReason): void;
  /** The direction is finished; nothing more follows for it. */
  end(dir: Dir, reason: EndReason): void;
}

/** One sink that feeds two (either may be null). */
export function teeSinks(a: StreamSink | null, b: StreamSink | null): StreamSink | null {
  if (a === null) return b;
  if (b === null) return a;
  return new Tee(a, b);
}

/** Both sinks, in order; a class, not closures: one small object per connection. */
class Tee implements StreamSink {
  readonly checkRetransmissions: boolean;
  readonly ignoresData: boolean;

  constructor(
    private readonly a: StreamSink,
    private readonly b: StreamSink,
  ) {
    this.checkRetransmissions = a.checkRetransmissions !== false || b.checkRetransmissions !== false;
    this.ignoresData = a.ignoresData === true && b.ignoresData === true;
  }

  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, when: Readonly<Stamp>): void {
    if (this.a.ignoresData !== true) this.a.data(dir, buf, off, len, at, when);
    this.b.data(dir, buf, off, len, at, when);
  }

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    this.a.gap(dir, at, len, reason);
    this.b.gap(dir, at, len, reason);
  }

  end(dir: Dir, reason: EndReason): void {
    this.a.end(dir, reason);
    this.b.end(dir, reason);
  }
}
