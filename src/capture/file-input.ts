import { close, createReadStream, fstat, open, read } from 'node:fs';
import { Readable } from 'node:stream';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { ChunkInput, StreamInput, describe } from './chunk-input.js';
import type { FromGunzip } from './gunzip-worker.js';
import { syncGunzipWorks } from './gzip-members.js';

/** Bytes per chunk: big enough that per-chunk costs vanish, small enough to stay in the CPU's caches. */
export const FILE_CHUNK = 1 << 20;

/**
 * A capture file as chunks, read with fs.read into two buffers used in turn: while the analysis parses
 * one chunk, the next is read into the other. No memory is allocated per chunk, so reading a file of any
 * size holds 2 MiB (a Node read stream allocates a new buffer for every chunk and leaves them to the
 * garbage collector: tens of megabytes more at the peak).
 *
 * A gzip file is inflated in a worker thread (see gunzip-worker.ts), in parallel with the analysis; the
 * chunks come back as transferred buffers, returned to the worker for reuse once parsed. A worker costs
 * about 20 MB (its isolate and buffers), and merged files are all read at once: beyond MAX_GUNZIP_WORKERS
 * gzip files, the others are inflated on the main thread as standard input is (StreamInput). So are they
 * all, through Node's gunzip stream, if the synchronous inflater is not available in this Node (zlib-handle.ts).
 */
export class FileInput extends ChunkInput {
  private fd = -1;
  private readonly bufs: [Buffer, Buffer];
  private turn = 0;
  /** The read of the next chunk, started when the previous chunk was handed out. */
  private ahead: Promise<number> | null = null;
  private first: Buffer | null = null;
  private done = false;
  private gunzip: GunzipClient | null = null;
  /** A gzip file beyond the workers' limit: read through a zlib stream. */
  private inner: { input: StreamInput; file: Readable } | null = null;

  constructor(
    private readonly path: string,
    private readonly chunkSize = FILE_CHUNK,
  ) {
    super();
    // Room for the gzip magic however small the reads (tests read a byte at a time).
    const size = Math.max(chunkSize, 16);
    this.bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  }

  async open(): Promise<void> {
    try {
      this.fd = await new Promise<number>((resolve, reject) => open(this.path, 'r', (e, fd) => (e ? reject(e) : resolve(fd))));
      // A directory opens; reading it fails (EISDIR). Say so now rather than as a capture fault later.
      const dir = await new Promise<boolean>((resolve, reject) => fstat(this.fd, (e, st) => (e ? reject(e) : resolve(st.isDirectory()))));
      if (dir) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      // The magic bytes may come in separate reads (a pipe can hand over one byte at a time).
      let n = 0;
      for (;;) {
        const got = await this.readInto(this.bufs[0], n);
        n += got;
        if (got === 0 || n >= 2) break;
      }
      this.rawBytes = n;
      const head = this.bufs[0].subarray(0, n);
      if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
        this.gzip = true;
        if (gunzipWorkers < MAX_GUNZIP_WORKERS && syncGunzipWorks()) {
          // The worker reads on from the same descriptor (a pipe cannot be read twice): it gets what was read.
          this.gunzip = new GunzipClient(this.fd, Buffer.from(head));
        } else {
          const file = createReadStream('', { fd: this.fd, autoClose: false, highWaterMark: FILE_CHUNK });
          const first = Buffer.from(head);
          const input = new StreamInput(
            Readable.from(
              (async function* () {
                yield first;
                yield* file;
              })(),
              { objectMode: false },
            ),
          );
          this.inner = { input, file };
          await input.open();
          this.rawBytes = input.rawBytes;
          if (input.error !== null) this.fail(input.error, input.errorAt);
        }
        return;
      }
      this.first = head;
      this.turn = 1;
    } catch (e) {
      this.fail(describe(e), 0);
      this.done = true;
    }
  }

  async next(): Promise<Buffer | null> {
    if (this.gunzip !== null) return this.fromGunzip(this.gunzip);
    if (this.inner !== null) {
      const { input } = this.inner;
      const chunk = await input.next();
      this.chunkOffset = input.chunkOffset;
      this.endOffset = input.endOffset;
      this.rawBytes = input.rawBytes;
      if (input.error !== null) this.fail(input.error, input.errorAt);
      return chunk;
    }
    if (this.first !== null) {
      const f = this.first;
      this.first = null;
      if (f.length > 0) {
        this.ahead = this.readAhead(this.bufs[1]);
        return this.advance(f);
      }
      this.done = true;
    }
    if (this.done || this.ahead === null) return null;
    try {
      const n = await this.ahead;
      this.ahead = null;
      if (n === 0) {
        this.done = true;
        return null;
      }
      this.rawBytes += n;
      const chunk = this.bufs[this.turn]!.subarray(0, n);
      // The other buffer held the chunk before this one, which the caller is done with by now.
      this.turn ^= 1;
      this.ahead = this.readAhead(this.bufs[this.turn]!);
      return this.advance(chunk);
    } catch (e) {
      this.done = true;
      return this.fail(describe(e), this.endOffset);
    }
  }

  close(): void {
    this.done = true;
    const fd = this.fd;
    this.fd = -1;
    // Close the descriptor only once nothing reads it: the worker has stopped, the stream has closed,
    // the read ahead is back.
    const shut = () => {
      if (fd >= 0) close(fd, () => {});
    };
    if (this.gunzip !== null) {
      this.gunzip.close().then(shut, shut);
      this.gunzip = null;
    } else if (this.inner !== null) {
      const { input, file } = this.inner;
      this.inner = null;
      file.once('close', shut);
      input.close();
      file.destroy();
    } else if (this.ahead !== null) this.ahead.then(shut, shut);
    else shut();
  }

  /** The next read, started now; a failure is reported when it is awaited (and never goes unhandled). */
  private readAhead(buf: Buffer): Promise<number> {
    const p = this.readInto(buf, 0);
    p.catch(() => {});
    return p;
  }

  private async fromGunzip(g: GunzipClient): Promise<Buffer | null> {
    const chunk = await g.next();
    this.rawBytes = g.rawBytes;
    if (chunk === null) return g.error === null ? null : this.fail(g.error, g.errorAt);
    return this.advance(chunk);
  }

  /** Reads at the descriptor's position (so pipes work as well as files) into buf from `at`. */
  private readInto(buf: Buffer, at: number): Promise<number> {
    const fd = this.fd;
    const n = Math.min(this.chunkSize, buf.length - at);
    return new Promise((resolve, reject) => read(fd, buf, at, n, null, (e, k) => (e ? reject(e) : resolve(k))));
  }
}

/** How many inflated chunks the worker may have handed over and not had back: the memory bound. */
const GUNZIP_AHEAD = 4;

/** Gzip files inflated by a worker at once (each costs about 20 MB; two cores serve two). */
const MAX_GUNZIP_WORKERS = 2;
let gunzipWorkers = 0;

/** The main thread's side of the gunzip worker: a queue of inflated chunks. */
class GunzipClient {
  rawBytes = 0;
  error: string | null = null;
  /** Where in the compressed file it went wrong. */
  errorAt = 0;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly queue: Array<{ chunk: ArrayBuffer; length: number }> = [];
  private ended = false;
  private wake: (() => void) | null = null;
  /** The chunk handed out last, given back to the worker on the next call. */
  private lent: ArrayBuffer | null = null;
  private readonly exited: Promise<void>;

  constructor(fd: number, head: Buffer) {
    gunzipWorkers++;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./gunzip-worker.js', import.meta.url), {
      workerData: { fd, head, port: port2, chunkSize: FILE_CHUNK, ahead: GUNZIP_AHEAD },
      transferList: [port2],
    });
    this.worker.unref();
    this.worker.on('error', (e) => this.stop(`the decompression worker failed (${describe(e)})`, this.rawBytes));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        gunzipWorkers--;
        // Exited without saying it was done (killed, out of memory): what came before stands.
        this.stop('the decompression worker stopped before the end of the file', this.rawBytes);
        resolve();
      }),
    );
    port1.on('message', (m: FromGunzip) => {
      if (m.raw !== undefined) this.rawBytes = m.raw;
      if (m.type === 'chunk') this.queue.push({ chunk: m.chunk, length: m.length });
      else if (m.type === 'end') this.stop(null, 0);
      else this.stop(m.reason, m.offset);
      this.wakeUp();
    });
    port1.unref();
  }

  async next(): Promise<Buffer | null> {
    if (this.lent !== null) {
      this.port.postMessage(this.lent, [this.lent]);
      this.lent = null;
    }
    while (this.queue.length === 0 && !this.ended) {
      this.port.ref();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.port.unref();
    }
    const q = this.queue.shift();
    if (q === undefined) return null;
    this.lent = q.chunk;
    return Buffer.from(q.chunk, 0, q.length);
  }

  /** Stops the worker; resolves once it has exited (and no longer reads the descriptor). */
  close(): Promise<void> {
    this.ended = true;
    this.port.close();
    void this.worker.terminate();
    return this.exited;
  }

  private stop(error: string | null, at: number): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.errorAt = at;
    void this.worker.terminate();
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
