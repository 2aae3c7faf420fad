/**
 * The analysis thread of `ftpscope live` (live-thread.ts starts it): runLive over the chunks the capture
 * thread sends, its output on standard output and error, its status posted back before the thread ends.
 */
import { writeSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkSource, runLive } from './live.js';
import type { WorkerStart } from './live-thread.js';

/** For waiting a millisecond when a descriptor is full (this thread may block: the capture runs on another). */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A file descriptor written synchronously: a slow reader makes the analysis wait (the capture goes on, and
 * sheds if it must), never the capture thread. The descriptor may be non-blocking (the main thread's
 * libuv makes pipes so): a full one is retried each millisecond.
 */
class FdWriter extends Writable {
  constructor(private readonly fd: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    try {
      for (let off = 0; off < chunk.length; ) {
        try {
          off += writeSync(this.fd, chunk, off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(pause, 0, 0, 1);
        }
      }
      done();
    } catch (e) {
      done(e as Error);
    }
  }
}

const start = workerData as WorkerStart;
const stdout = start.direct ? new FdWriter(1) : process.stdout;
const stderr = start.direct ? new FdWriter(2) : process.stderr;
// A reader that went away (`| head`): the analysis ends quietly, as the file path does.
const gone = (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  start.port.close();
  parentPort!.postMessage({ status: 0 });
  process.exit(0);
};
stdout.on('error', gone);
stderr.on('error', gone);
const status = await runLive(start.settings, start.view, new ChunkSource(start.port, start.capture), {
  stdout,
  stderr,
  stdin: Readable.from([]),
  stdoutIsTTY: false,
  env: process.env,
});
start.port.close();
parentPort!.postMessage({ status });
