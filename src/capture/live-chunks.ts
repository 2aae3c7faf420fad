import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { RecordBatch, type CaptureFault, type LiveLoss, type RecordReader } from './record-batch.js';

export type { LiveLoss };

/**
 * How a live capture's packets cross from the capture thread to the analysis thread, so that the capture
 * never waits for the analysis (as dumpcap hands packets to Wireshark). cap (libpcap) can only run on the
 * main thread: it polls on Node's default loop, and it drains everything libpcap holds in one callback,
 * calling JavaScript once per packet; an analysis on the same thread would wait through every burst, and
 * the kernel's buffer would fill while it ran.
 *
 * Packets travel in chunks: 1 MiB ArrayBuffers, moved (not copied) between the threads by postMessage's
 * transfer list and reused, never let go while capturing. A chunk holds records as a pcap file does: a
 * 16-byte header of 32-bit words in the machine's order (captured length, original length, seconds,
 * nanoseconds), then the bytes, padded to 4.
 *
 * Call order, capture side (ChunkSender): `add` per packet, in arrival order; `end` once, after the last.
 * Analysis side (ChunkReader): `next` as a RecordReader; the batch it returns, and the chunks under it, are
 * valid until the next call, which gives the chunks back. Messages on the one port, both ways:
 *   capture -> analysis: `chunk` (a full chunk, or a partial one while the analysis waits), then `end`;
 *   analysis -> capture: `free` (chunks given back; `want`: it has nothing left and waits), `stop` (it asks
 *   the capture to stop: --duration).
 */
export const CHUNK_BYTES = 1 << 20;
const HEADER = 16;
/** Fewer than this many bytes left: the chunk is full (cap's largest record would not fit). */
const MAX_RECORD = 65_535 + HEADER + 3;
/**
 * The part of the backlog past which data payload is shed. Not less: chunks pile up for a moment whenever
 * the analysis thread is not scheduled (it shares the cores with the capture), which is not falling behind.
 */
const SHED_AT = 0.75;
/** The analysis waits: a partial chunk goes this long after its first packet (one wake-up per millisecond, not per packet). */
const FLUSH_MS = 1;

type ToAnalysis =
  | { t: 'chunk'; buf: ArrayBuffer; used: number; loss: LiveLoss | null }
  | { t: 'end'; loss: LiveLoss | null; notes: unknown };
type ToCapture = { t: 'free'; bufs: ArrayBuffer[]; want: boolean } | { t: 'stop' };

export interface SenderOptions {
  /** Bytes of chunks out at the analysis or being filled, at most (--max-backlog). */
  maxHeldBytes: number;
  /** The bytes of a packet to keep when its payload may be shed, or 0 to keep it whole (live-source.ts's sheddable). */
  sheddable: (b: Buffer, n: number) => number;
  /** The kernel's drops since the capture began (0 when unknown): read once per chunk sent. */
  kernelDrops: () => number;
  /** The analysis asked the capture to stop. */
  onStop: () => void;
}

/**
 * The capture thread's end: copies each packet into the chunk being filled, sends chunks as they fill (and
 * at once, after FLUSH_MS, when the analysis waits), takes back the chunks the analysis is done with.
 * When the chunks out reach three quarters of maxHeldBytes, data payload is shed; at maxHeldBytes,
 * packets are dropped; both are counted and told with the next chunk.
 */
export class ChunkSender {
  private readonly pool: ArrayBuffer[] = [];
  /** Chunks sent and not given back. */
  private out = 0;
  private buf: ArrayBuffer | null = null;
  private bytes: Buffer = Buffer.alloc(0);
  private words: Uint32Array = new Uint32Array(0);
  private used = 0;
  private records = 0;
  private waiting = false;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;
  private kernelTold = 0;
  private droppedSince = 0;
  private shedSince = 0;
  private readonly maxChunks: number;
  private readonly shedChunks: number;
  /** Packets dropped whole, and shed to their headers (with the payload bytes shed). */
  dropped = 0;
  shed = 0;
  shedBytes = 0;
  /** The most chunks out at once: the backlog's peak, in chunks. */
  peakChunks = 0;

  constructor(private readonly port: MessagePort, private readonly o: SenderOptions) {
    this.maxChunks = Math.max(2, Math.floor(o.maxHeldBytes / CHUNK_BYTES));
    this.shedChunks = Math.max(1, Math.floor(this.maxChunks * SHED_AT));
    port.on('message', (m: ToCapture) => this.received(m));
  }

  /** One packet: `b[0, n)` captured, `orig` bytes on the wire, at `sec`.`nsec`. */
  add(b: Buffer, n: number, orig: number, sec: number, nsec: number): void {
    if (this.ended) return;
    // A record fits in one chunk (cap's are at most 65,535 bytes); what is cut is a gap to the reassembler.
    let keep = n > CHUNK_BYTES - HEADER ? CHUNK_BYTES - HEADER : n;
    // Shedding: chunks given back may be waiting on the port (while cap drains, the event loop delivers nothing).
    if (this.out >= this.shedChunks) this.collect();
    const headers = this.out >= this.shedChunks ? this.o.sheddable(b, keep) : 0;
    if (headers > 0) keep = headers;
    if (this.buf !== null && this.used + HEADER + keep > CHUNK_BYTES) this.send();
    if (this.buf === null && !this.take()) {
      this.dropped++;
      this.droppedSince++;
      return;
    }
    if (headers > 0) {
      this.shed++;
      this.shedSince++;
      this.shedBytes += n - headers;
    }
    const w = this.used >>> 2;
    this.words[w] = keep;
    this.words[w + 1] = orig;
    this.words[w + 2] = sec;
    this.words[w + 3] = nsec;
    b.copy(this.bytes, this.used + HEADER, 0, keep);
    this.used += HEADER + ((keep + 3) & ~3);
    this.records++;
    // Full: it goes now, not when the next packet finds no room.
    if (this.used > CHUNK_BYTES - MAX_RECORD) this.send();
    else if (this.waiting && this.timer === null) this.timer = setTimeout(this.flush, FLUSH_MS);
  }

  /** After the last packet: sends what is held and the end, with `notes` (what the capture says of itself). */
  end(notes: unknown): void {
    if (this.ended) return;
    if (this.buf !== null && this.records > 0) this.send();
    this.ended = true;
    this.clearTimer();
    this.port.postMessage({ t: 'end', loss: this.takeLoss(), notes } satisfies ToAnalysis);
  }

  private readonly flush = (): void => {
    this.timer = null;
    if (!this.ended && this.buf !== null && this.records > 0) this.send();
  };

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * A chunk to fill: one given back, or a new one while fewer than maxChunks are out. The chunks given back
   * are collected here, once per chunk, not per packet: the event loop delivers none while cap drains libpcap.
   */
  private take(): boolean {
    this.collect();
    if (this.out >= this.maxChunks) return false;
    this.buf = this.pool.pop() ?? new ArrayBuffer(CHUNK_BYTES);
    this.bytes = Buffer.from(this.buf);
    this.words = new Uint32Array(this.buf);
    this.used = 0;
    this.records = 0;
    return true;
  }

  private send(): void {
    const buf = this.buf!;
    this.clearTimer();
    this.port.postMessage({ t: 'chunk', buf, used: this.used, loss: this.takeLoss() } satisfies ToAnalysis, [buf]);
    this.out++;
    if (this.out > this.peakChunks) this.peakChunks = this.out;
    this.buf = null;
    this.waiting = false;
  }

  private takeLoss(): LiveLoss | null {
    const k = this.o.kernelDrops();
    const kernel = k - this.kernelTold;
    this.kernelTold = k;
    const loss = kernel > 0 || this.droppedSince > 0 || this.shedSince > 0 ? { kernel, dropped: this.droppedSince, shed: this.shedSince } : null;
    this.droppedSince = 0;
    this.shedSince = 0;
    return loss;
  }

  /** Messages from the analysis that the event loop has not delivered yet. */
  private collect(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.received(m.message as ToCapture);
  }

  private received(m: ToCapture): void {
    if (m.t === 'stop') {
      this.o.onStop();
      return;
    }
    for (const b of m.bufs) this.pool.push(b);
    this.out -= m.bufs.length;
    if (m.want) {
      this.waiting = true;
      if (this.buf !== null && this.records > 0 && this.timer === null && !this.ended) this.timer = setTimeout(this.flush, FLUSH_MS);
    }
  }
}

/**
 * The analysis thread's end: a RecordReader over the chunks the capture sends. next() takes every chunk
 * that has arrived as one batch, so a slow analysis catches up in large steps; the chunks of the batch
 * before are given back first.
 */
export class ChunkReader implements RecordReader {
  readonly faults: CaptureFault[] = [];
  private readonly batch = new RecordBatch();
  private readonly queue: Array<{ buf: ArrayBuffer; used: number; loss: LiveLoss | null }> = [];
  private lent: ArrayBuffer[] = [];
  private ended = false;
  private endLoss: LiveLoss | null = null;
  private waiter: (() => void) | null = null;
  /** What the capture said of itself at its end (null until then). */
  notes: unknown = null;
  loss: LiveLoss | null = null;
  bytesRead = 0;

  constructor(readonly name: string, readonly format: string, private readonly linktype: number, private readonly port: MessagePort) {
    port.on('message', (m: ToAnalysis) => {
      this.received(m);
      const w = this.waiter;
      this.waiter = null;
      w?.();
    });
  }

  private received(m: ToAnalysis): void {
    if (m.t === 'chunk') this.queue.push(m);
    else {
      this.ended = true;
      this.endLoss = m.loss;
      this.notes = m.notes;
    }
  }

  async next(): Promise<RecordBatch | null> {
    for (;;) {
      // Everything that has arrived is one batch: the port would hand the chunks over one event at a time.
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.received(m.message as ToAnalysis);
      const have = this.queue.length > 0;
      const bufs = this.lent;
      this.lent = [];
      if (bufs.length > 0 || !have) this.port.postMessage({ t: 'free', bufs, want: !have && !this.ended } satisfies ToCapture, bufs);
      if (have) return this.fill();
      if (this.ended) {
        if (this.endLoss === null) return null;
        this.loss = this.endLoss;
        this.endLoss = null;
        this.batch.reset();
        return this.batch;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Asks the capture to stop; next() then ends after what it sent. */
  stop(): void {
    if (!this.ended) this.port.postMessage({ t: 'stop' } satisfies ToCapture);
  }

  close(): void {
    this.stop();
  }

  private fill(): RecordBatch {
    const b = this.batch;
    b.reset();
    let loss: LiveLoss | null = null;
    for (const c of this.queue) {
      if (c.loss !== null) loss = loss === null ? { ...c.loss } : { kernel: loss.kernel + c.loss.kernel, dropped: loss.dropped + c.loss.dropped, shed: loss.shed + c.loss.shed };
      const words = new Uint32Array(c.buf, 0, c.used >>> 2);
      const bytes = Buffer.from(c.buf, 0, c.used);
      for (let at = 0; at < c.used; ) {
        const w = at >>> 2;
        const cap = words[w]!;
        b.push(bytes, at + HEADER, cap, words[w + 1]!, words[w + 2]!, words[w + 3]!, this.linktype, 0);
        at += HEADER + ((cap + 3) & ~3);
      }
      this.bytesRead += c.used;
      this.lent.push(c.buf);
    }
    this.queue.length = 0;
    this.loss = loss;
    return b;
  }
}
