import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { GzipInflater, syncGunzipWorks } from './gzip-members.js';
import { zlibHandle } from './zlib-handle.js';

/**
 * A pull-based view of a capture's bytes as chunks, with the file offset of each chunk, and transparent
 * gzip: when the first bytes are the gzip magic (1f 8b), whatever the file is called, the chunks are the
 * decompressed bytes.
 *
 * Call order: `open()` once, then `next()` until it returns null. `error` and `errorAt` tell why and where
 * it stopped early: set by `open()`, or when `next()` returns null (never while chunks before the fault
 * are still to come). A chunk is valid until the next call of `next()`: inputs may reuse its memory after that.
 */
export abstract class ChunkInput {
  /** Offset, in the (decompressed) stream, of the first byte of the chunk `next()` returned last. */
  chunkOffset = 0;
  /** Offset just past the last chunk returned. */
  endOffset = 0;
  /** Bytes read from the underlying (possibly compressed) input. */
  rawBytes = 0;
  gzip = false;
  error: string | null = null;
  /** Where the fault is, in the file as given: for gzip, a byte of the compressed file (not of what it inflates to). */
  errorAt = 0;

  abstract open(): Promise<void>;
  /** The next chunk, or null at the end of the stream or after an error (then `error` is set). */
  abstract next(): Promise<Buffer | null>;
  abstract close(): void;

  protected advance(b: Buffer): Buffer {
    this.chunkOffset = this.endOffset;
    this.endOffset += b.length;
    return b;
  }

  protected fail(reason: string, at: number): null {
    this.error = reason;
    this.errorAt = at;
    return null;
  }
}

/**
 * A Node stream as chunks (standard input, tests, gzip files beyond the workers' limit). Gzip is inflated
 * here, on the main thread, by GzipInflater, a chunk at a time as the analysis asks for it; where Node's
 * zlib handle is not as expected (zlib-handle.ts), by a gunzip stream on libuv's thread pool, which tells a
 * fault less precisely. Files are read by FileInput instead, which reuses its buffers.
 */
export class StreamInput extends ChunkInput {
  private iter: AsyncIterator<Buffer> | null = null;
  private pending: Buffer | null = null;
  private gunzip: { inflater: GzipInflater; out: Buffer; input: Buffer | null; at: number; done: boolean } | null = null;

  constructor(private readonly input: Readable) {
    super();
  }

  /** Reads the first bytes and decides whether the input is gzip. */
  async open(): Promise<void> {
    const raw = this.input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let first: Buffer | null = null;
    try {
      // The two magic bytes may come in separate chunks (a pipe can hand over one byte at a time).
      while (first === null || first.length < 2) {
        const r = await raw.next();
        if (r.done) break;
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
        first = first === null ? b : Buffer.concat([first, b]);
      }
    } catch (e) {
      this.fail(describe(e), first?.length ?? 0);
      return;
    }
    this.iter = raw;
    if (first === null) return;
    this.rawBytes += first.length;
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      this.gzip = true;
      if (syncGunzipWorks()) this.gunzip = { inflater: new GzipInflater(zlibHandle()!), out: Buffer.allocUnsafe(1 << 20), input: first, at: 0, done: false };
      else this.iter = this.gunzipStream(raw, first);
    } else {
      this.pending = first;
    }
  }

  async next(): Promise<Buffer | null> {
    if (this.pending !== null) {
      const p = this.pending;
      this.pending = null;
      return this.advance(p);
    }
    if (this.iter === null || this.error !== null) return null;
    if (this.gunzip !== null) return this.inflated(this.iter, this.gunzip);
    try {
      const r = await this.iter.next();
      if (r.done) return null;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (!this.gzip) this.rawBytes += b.length;
      return this.advance(b);
    } catch (e) {
      return this.gzip ? this.fail(gzipError(describe(e)), this.rawBytes) : this.fail(describe(e), this.endOffset);
    }
  }

  close(): void {
    void this.iter?.return?.();
    this.input.destroy();
  }

  /**
   * The next inflated chunk: as much as the compressed bytes at hand give, up to 1 MiB (what a pipe has
   * now is analysed now); after a fault, what came before it, then null.
   */
  private async inflated(raw: AsyncIterator<Buffer>, g: NonNullable<StreamInput['gunzip']>): Promise<Buffer | null> {
    const { inflater, out } = g;
    let filled = 0;
    while (!g.done && filled < out.length) {
      if (g.input === null) {
        if (filled > 0) break;
        let r: IteratorResult<Buffer>;
        try {
          r = await raw.next();
        } catch (e) {
          g.done = true;
          return this.fail(describe(e), this.rawBytes);
        }
        if (r.done) {
          inflater.finish();
          g.done = true;
          break;
        }
        g.input = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
        g.at = 0;
        this.rawBytes += g.input.length;
      }
      const { used, made } = inflater.inflate(g.input, g.at, g.input.length - g.at, out, filled, out.length - filled);
      filled += made;
      g.at += used;
      if (g.at === g.input.length) g.input = null;
      if (inflater.fault !== null) g.done = true;
    }
    if (filled > 0) return this.advance(out.subarray(0, filled));
    const fault = inflater.fault;
    return fault === null ? null : this.fail(fault.reason, fault.offset);
  }

  /** Gzip through Node's gunzip stream: the raw bytes (those already read, then the rest) fed in with back-pressure. */
  private gunzipStream(raw: AsyncIterator<Buffer>, first: Buffer): AsyncIterator<Buffer> {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    (async () => {
      try {
        if (!gunzip.write(first)) await onceDrain(gunzip);
        for (;;) {
          const r = await raw.next();
          if (r.done) break;
          this.rawBytes += r.value.length;
          if (!gunzip.write(r.value)) await onceDrain(gunzip);
        }
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    })();
    this.input.on('error', (e) => gunzip.destroy(e));
    return gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
}

function onceDrain(s: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => s.once('drain', resolve));
}

function gzipError(why: string): string {
  return `gzip data is corrupt or cut short (${why})`;
}

/** A system error in words, as the one-line messages say it. */
export function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory, not a capture file (EISDIR)';
    if (code === 'Z_BUF_ERROR') return 'unexpected end of file';
  }
  return e instanceof Error ? e.message : String(e);
}
