/**
 * Synchronous, streaming gunzip into buffers of ours, through the native handle under Node's zlib
 * stream: `handle.writeSync(flush, in, inOffset, inLength, out, outOffset, outLength)`, after which the
 * stream's `_writeState` holds [output room left, input left]. This is what Node's own zlib.js calls
 * (processChunkSync, used by gunzipSync), unchanged from Node 10 to 24; but it is not public API. So
 * `syncGunzipWorks()` checks it once, on a small gzip member, before a worker relies on it; when it does
 * not hold, gzip captures are read through a zlib stream instead (slower, the same result).
 */
import { createGunzip, gzipSync, constants, type Gunzip } from 'node:zlib';

export interface SyncGunzip {
  /** Inflates from input[inAt, inAt + inLength) into output[outAt, outAt + outLength); throws a zlib error. */
  write(flush: number, input: Buffer, inAt: number, inLength: number, output: Buffer, outAt: number, outLength: number): { availOut: number; availIn: number };
}

interface NativeHandle {
  writeSync(flush: number, input: Buffer, inAt: number, inLength: number, output: Buffer, outAt: number, outLength: number): void;
}

/** A synchronous gunzip, or null when Node's zlib internals are not as expected. */
export function zlibHandle(): SyncGunzip | null {
  const stream = createGunzip() as Gunzip & { _handle?: NativeHandle; _writeState?: unknown };
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return null;
  // A zlib error destroys the stream (synchronously: `errored` is set) and emits 'error' later.
  stream.on('error', () => {});
  return {
    write(flush, input, inAt, inLength, output, outAt, outLength) {
      handle.writeSync(flush, input, inAt, inLength, output, outAt, outLength);
      if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
      return { availOut: state[0]!, availIn: state[1]! };
    },
  };
}

let works: boolean | undefined;

/** Whether zlibHandle() is there and inflates a known member exactly (checked once per process). */
export function syncGunzipWorks(): boolean {
  if (works !== undefined) return works;
  works = false;
  try {
    const zlib = zlibHandle();
    if (zlib === null) return false;
    const text = Buffer.from('220 ftpscope checks its inflater\r\n'.repeat(40));
    const packed = gzipSync(text);
    const out = Buffer.alloc(text.length + 16);
    // In two pieces, into an output too small at first: the streaming is what is relied on.
    let filled = 0;
    const half = packed.length >> 1;
    let r = zlib.write(constants.Z_NO_FLUSH, packed, 0, half, out, 0, 100);
    filled = 100 - r.availOut;
    let at = half - r.availIn;
    for (let guard = 0; guard < 100 && (r.availOut === 0 || at < packed.length); guard++) {
      const room = out.length - filled;
      r = zlib.write(constants.Z_FINISH, packed, at, packed.length - at, out, filled, room);
      at = packed.length - r.availIn;
      filled += room - r.availOut;
    }
    if (filled !== text.length || !out.subarray(0, filled).equals(text)) return false;
    // And a fault must come out as a thrown zlib error, at once: corrupt data, then data cut short.
    const fault = (input: Buffer): string | undefined => {
      try {
        zlibHandle()!.write(constants.Z_FINISH, input, 0, input.length, out, 0, out.length);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
      return undefined;
    };
    const corrupt = Buffer.from(packed);
    corrupt.fill(0xff, 10, 30);
    works = fault(corrupt) === 'Z_DATA_ERROR' && fault(packed.subarray(0, half)) === 'Z_BUF_ERROR';
  } catch {
    works = false;
  }
  return works;
}
