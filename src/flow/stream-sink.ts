/** Direction of a byte stream within a connection: 0 from the client (the SYN sender), 1 from the server. */
export type Dir = 0 | 1;

/** A moment in the capture: frame number (1-based, in reading order) and exact time. */
export interface Stamp {
  frame: number;
  sec: number;
  nsec: number;
}

/** Why bytes of a stream will never be delivered. */
export type GapReason =
  /** The connection was picked up mid-stream: what came before the first byte seen is unknown (len -1). */
  | 'start-unseen'
  /** Sent (the peer acknowledged them, or later bytes arrived) but not in the capture. */
  | 'missing'
  /** Cut off by the capture's snap length. */
  | 'cut'
  /** Given up to keep buffered out-of-order data within its bound. */
  | 'buffer-limit';

/** Why a direction of a stream ended. */
export type EndReason = 'fin' | 'rst' | 'idle' | 'end-of-capture' | 'reused' | 'evicted';

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
  return {
    checkRetransmissions: a.checkRetransmissions !== false || b.checkRetransmissions !== false,
    ignoresData: a.ignoresData === true && b.ignoresData === true,
    data:
      a.ignoresData === true
        ? (dir, buf, off, len, at, when) => b.data(dir, buf, off, len, at, when)
        : (dir, buf, off, len, at, when) => {
            a.data(dir, buf, off, len, at, when);
            b.data(dir, buf, off, len, at, when);
          },
    gap(dir, at, len, reason) {
      a.gap(dir, at, len, reason);
      b.gap(dir, at, len, reason);
    },
    end(dir, reason) {
      a.end(dir, reason);
      b.end(dir, reason);
    },
  };
}
