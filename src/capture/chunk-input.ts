import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/**
 * A pull-based view of a capture's bytes as chunks, with the file offset of each chunk, and transparent
 * gzip: when the first bytes are the gzip magic (1f 8b), whatever the file is called, the chunks are the
 * decompressed bytes.
 *
 * Call order: `open()` once, then `next()` until it returns null. `error` tells why it stopped early.
 * A chunk is valid until the next call of `next()`: inputs may reuse its memory after that.
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

  abstract open(): Promise<void>;
  /** The next chunk, or null at the end of the stream or after an error (then `error` is set). */
  abstract next(): Promise<Buffer | null>;
  abstract close(): void;

  protected advance(b: Buffer): Buffer {
    this.chunkOffset = this.endOffset;
    this.endOffset += b.length;
    return b;
  }
}

/**
 * A Node stream as chunks (standard input, tests). Gzip is inflated by a zlib stream, whose work runs on
 * libuv's thread pool. Files are read by FileInput instead, which reuses its buffers.
 */
export class StreamInput extends ChunkInput {
  private iter: AsyncIterator<Buffer> | null = null;
  private pending: Buffer | null = null;

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
      this.error = describe(e);
      return;
    }
    if (first === null) {
      this.iter = raw;
      return;
    }
    this.rawBytes += first.length;
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      this.gzip = true;
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      const input = this.input;
      const counted = this;
      // Feed the raw bytes (the one we already read, then the rest) into gunzip with back-pressure.
      (async () => {
        try {
          if (!gunzip.write(first)) await onceDrain(gunzip);
          for (;;) {
            const r = await raw.next();
            if (r.done) break;
            counted.rawBytes += r.value.length;
            if (!gunzip.write(r.value)) await onceDrain(gunzip);
          }
          gunzip.end();
        } catch (e) {
          gunzip.destroy(e instanceof Error ? e : new Error(String(e)));
        }
      })();
      input.on('error', (e) => gunzip.destroy(e));
      this.iter = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    } else {
      this.pending = first;
      this.iter = raw;
    }
  }

  async next(): Promise<Buffer | null> {
    if (this.pending !== null) {
      const p = this.pending;
      this.pending = null;
      return this.advance(p);
    }
    if (this.iter === null || this.error !== null) return null;
    try {
      const r = await this.iter.next();
      if (r.done) return null;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (!this.gzip) this.rawBytes += b.length;
      return this.advance(b);
    } catch (e) {
      this.error = this.gzip ? gzipError(describe(e)) : describe(e);
      return null;
    }
  }

  close(): void {
    void this.iter?.return?.();
    this.input.destroy();
  }
}

function onceDrain(s: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => s.once('drain', resolve));
}

export function gzipError(why: string): string {
  return `gzip data is corrupt or cut short (${why})`;
}

/** A system error in words, as the one-line messages say it. */
export function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    if (code === 'Z_BUF_ERROR') return 'unexpected end of file';
  }
  return e instanceof Error ? e.message : String(e);
}
