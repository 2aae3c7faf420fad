import type { ChunkInput } from './chunk-input.js';
import { CaptureFault, RecordBatch, type RecordReader } from './record-batch.js';

/**
 * What the pcap and pcapng readers share: a cursor (chunk, pos, base) over the chunks of a ChunkInput, a
 * batch of records filled from as many chunks as it takes, and the first fault, after which reading stops.
 * A subclass parses what it can of the current chunk from `pos` (consume) and says what an unfinished
 * record or block means when the input ends (atEnd).
 */
export abstract class ChunkedReader implements RecordReader {
  abstract readonly format: string;
  readonly faults: CaptureFault[] = [];
  protected readonly batch: RecordBatch;
  /** The chunk being parsed (the file's head at first), or null before the first one. */
  protected chunk: Buffer | null;
  /** Where parsing stands in `chunk`. */
  protected pos = 0;
  /** The file offset of `chunk`'s first byte. */
  protected base = 0;
  protected stopped = false;

  constructor(
    readonly name: string,
    protected readonly input: ChunkInput,
    head: Buffer,
    batchCapacity?: number,
  ) {
    this.batch = new RecordBatch(batchCapacity);
    this.chunk = head;
  }

  get bytesRead(): number {
    return this.input.rawBytes;
  }

  close(): void {
    this.stopped = true;
    this.input.close();
  }

  async next(): Promise<RecordBatch | null> {
    const batch = this.batch;
    batch.reset();
    while (!this.stopped) {
      if (this.chunk === null || this.pos >= this.chunk.length) {
        if (batch.count > 0) break;
        const c = await this.input.next();
        if (c === null) {
          this.atEnd();
          break;
        }
        this.chunk = c;
        this.pos = 0;
        this.base = this.input.chunkOffset;
      }
      this.consume(this.chunk);
    }
    return batch.count > 0 ? batch : null;
  }

  /** Parse from `pos` in buf (the current chunk), pushing records to the batch and moving `pos` on. */
  protected abstract consume(buf: Buffer): void;

  /** The input has ended: report what was left unfinished. Reading stops after this. */
  protected abstract atEnd(): void;

  /**
   * Record the first fault, at its file offset, and stop reading. Returns -1 for parsers that want a value.
   * In a gzip file the offset is in the inflated data, and the reason says so.
   */
  protected fail(offset: number, reason: string): -1 {
    return this.record(offset, this.input.gzip ? `${reason} (an offset in the data the gzip file inflates to)` : reason);
  }

  /** The input failed (a read error, bad gzip): its fault, where the input says (a byte of the compressed file). */
  protected failInput(): void {
    this.record(this.input.errorAt, this.input.error ?? 'the input failed');
  }

  private record(offset: number, reason: string): -1 {
    if (!this.stopped) this.faults.push(new CaptureFault(this.name, offset, reason));
    this.stopped = true;
    return -1;
  }
}
