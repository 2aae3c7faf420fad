/**
 * Synchronous, streaming raw inflate (deflate data without a container) into buffers of ours, through the
 * native handle under Node's zlib stream: `handle.writeSync(flush, in, inOffset, inLength, out, outOffset,
 * outLength)`, after which the stream's `_writeState` holds [output room left, input left], and
 * `handle.reset()`, which starts a new stream. This is what Node's own zlib.js calls (processChunkSync,
 * used by inflateRawSync; and reset()), unchanged from Node 10 to 24; but it is not public API. So
 * gzip-members.ts checks it once (syncGunzipWorks) before relying on it; when it does not hold, gzip
 * captures are read through Node's gunzip stream instead (slower, faults told less precisely).
 *
 * Raw, not gunzip: gzip's container (header, CRC, length, what follows a member) is read by
 * gzip-members.ts, so that a fault is told at its byte and nothing inflated before it is lost.
 */
import { createInflateRaw, type InflateRaw } from 'node:zlib';

export interface SyncInflate {
  /**
   * Inflates from input[inAt, inAt + inLength) into output[outAt, outAt + outLength); throws a zlib error
   * (then the inflater is done for). With Z_BLOCK it also returns at the end of each deflate block; at the
   * end of the deflate stream a call takes no input and gives no output.
   */
  write(flush: number, input: Buffer, inAt: number, inLength: number, output: Buffer, outAt: number, outLength: number): { availOut: number; availIn: number };
  /** Forgets the stream inflated so far: the next write starts a new one (the next gzip member). */
  reset(): void;
}

interface NativeHandle {
  writeSync(flush: number, input: Buffer, inAt: number, inLength: number, output: Buffer, outAt: number, outLength: number): void;
  reset(): void;
}

/** A synchronous raw inflater, or null when Node's zlib internals are not as expected. */
export function zlibHandle(): SyncInflate | null {
  const stream = createInflateRaw() as InflateRaw & { _handle?: NativeHandle; _writeState?: unknown };
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return null;
  // A zlib error destroys the stream (synchronously: `errored` is set) and emits 'error' later.
  stream.on('error', () => {});
  return {
    write(flush, input, inAt, inLength, output, outAt, outLength) {
      handle.writeSync(flush, input, inAt, inLength, output, outAt, outLength);
      if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
      return { availOut: state[0]!, availIn: state[1]! };
    },
    reset() {
      handle.reset();
    },
  };
}
