/**
 * The unit that capture readers hand to the rest of the pipeline: a batch of records, stored column-wise
 * in typed arrays so that reading a capture creates no object per packet.
 *
 * Lifetime: a reader owns one batch and refills it on every call of `next()`. A batch, and every byte its
 * records point into, is valid only until the next call of `next()` on the same reader. Consumers read a
 * record's bytes as `bufs[i]` from `offs[i]` for `caps[i]` bytes and must copy what they keep.
 */
export class RecordBatch {
  count = 0;
  /** The buffer that holds record i (often the same chunk for every record of the batch). */
  bufs: Buffer[] = [];
  offs: Int32Array;
  /** Captured length: the bytes present in the file. */
  caps: Int32Array;
  /** Original length on the wire (at least caps[i]; more when the snap length cut the packet). */
  origs: Float64Array;
  /** Whole seconds since the epoch. */
  tsSec: Float64Array;
  /** Nanoseconds within the second, 0..999,999,999. */
  tsNsec: Int32Array;
  linktypes: Int32Array;
  /** Byte offset of the record in its (decompressed) file, for error messages and cross-references. */
  fileOffs: Float64Array;

  constructor(capacity = 1024) {
    this.offs = new Int32Array(capacity);
    this.caps = new Int32Array(capacity);
    this.origs = new Float64Array(capacity);
    this.tsSec = new Float64Array(capacity);
    this.tsNsec = new Int32Array(capacity);
    this.linktypes = new Int32Array(capacity);
    this.fileOffs = new Float64Array(capacity);
  }

  reset(): void {
    this.count = 0;
  }

  push(buf: Buffer, off: number, cap: number, orig: number, tsSec: number, tsNsec: number, linktype: number, fileOff: number): void {
    const i = this.count;
    if (i === this.offs.length) this.grow();
    this.bufs[i] = buf;
    this.offs[i] = off;
    this.caps[i] = cap;
    this.origs[i] = orig < cap ? cap : orig;
    this.tsSec[i] = tsSec;
    this.tsNsec[i] = tsNsec;
    this.linktypes[i] = linktype;
    this.fileOffs[i] = fileOff;
    this.count = i + 1;
  }

  private grow(): void {
    const n = this.offs.length * 2;
    const grown = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.offs = grown(this.offs, (k) => new Int32Array(k));
    this.caps = grown(this.caps, (k) => new Int32Array(k));
    this.origs = grown(this.origs, (k) => new Float64Array(k));
    this.tsSec = grown(this.tsSec, (k) => new Float64Array(k));
    this.tsNsec = grown(this.tsNsec, (k) => new Int32Array(k));
    this.linktypes = grown(this.linktypes, (k) => new Int32Array(k));
    this.fileOffs = grown(this.fileOffs, (k) => new Float64Array(k));
  }
}

/** What ended a capture file early. Everything before `offset` was delivered. */
export class CaptureFault extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: at byte ${offset}: ${reason}`);
    this.name = 'CaptureFault';
  }
}

/** A source of record batches: one capture file, or several merged. */
export interface RecordReader {
  /** The name used in messages: the path, or "-" for standard input. */
  readonly name: string;
  /** Several captures merged: their names, in the order given (absent: one capture, `name`). */
  readonly parts?: readonly string[];
  /** The capture format, once known ("pcap", "pcap (nanosecond)", "pcapng", with "gzip, " before it when compressed). */
  readonly format: string;
  /**
   * Refills and returns the reader's batch, or null at the end of the input (or at a fault: see `fault`).
   * The returned batch is valid until the next call.
   */
  next(): Promise<RecordBatch | null>;
  /**
   * Why input ended early: a file that was bad or cut short (one entry per file; a merge can have several).
   * A file's fault is recorded when its records before the fault have all been returned.
   */
  readonly faults: readonly CaptureFault[];
  /** Bytes consumed so far (of the compressed file, when it is compressed), for progress. */
  readonly bytesRead: number;
  /** Stops reading and releases the input. */
  close(): void;
  /**
   * A live capture's losses before the batch next() returned last (null: none; absent: a file, whose
   * missing packets the TCP facts show as gaps). Read after each next(), before the batch is analysed.
   */
  readonly loss?: LiveLoss | null;
}

/** What a live capture lost on the way to the analysis, before the batch it comes with. */
export interface LiveLoss {
  /** Packets the kernel dropped (its buffer was full) since the batch before. */
  kernel: number;
  /** Packets ftpscope dropped whole (the backlog was full). */
  dropped: number;
  /** Packets whose payload ftpscope shed (cut to their headers). */
  shed: number;
}

/** The largest record we accept. Real links stay well under it (a 64 KiB-MTU loopback frame is 65,550). */
export const MAX_RECORD_BYTES = 262_144 * 4;
