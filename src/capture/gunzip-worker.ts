/**
 * Inflates a gzip capture in a worker thread, so that decompression (serial, and slower than the
 * analysis) runs beside the analysis instead of before each chunk of it.
 *
 * It reads the file descriptor from where the main thread left it (after `head`, the bytes it read to
 * recognise gzip), and inflates straight into chunks of `chunkSize` bytes, each transferred (not copied)
 * to the main thread. At most `ahead` chunks are out at once: the main thread gives each back when it is
 * done with it, and the worker fills it again. So memory stays bounded whatever the file's size, and a
 * slow analysis slows the decompression rather than piling chunks up.
 *
 * The inflating is synchronous, on this thread, through the zlib handle's `writeSync` (see zlibHandle):
 * a zlib stream would hand each piece of work to libuv's thread pool and back, and copy its output once
 * more. On a 1 GB capture of 2 cores, that was 3.40 s where this takes 2.88 s, less than Node's own
 * gunzip stream takes to inflate the file with nothing else to do (2.9 s). GzipInflater reads gzip's
 * container: a fault ends the file at its byte in the compressed file, after everything inflated before it.
 */
import { read } from 'node:fs';
import { workerData, type MessagePort } from 'node:worker_threads';
import { describe } from './chunk-input.js';
import { GzipInflater } from './gzip-members.js';
import { zlibHandle } from './zlib-handle.js';

export type FromGunzip =
  | { type: 'chunk'; chunk: ArrayBuffer; length: number; raw: number }
  | { type: 'end'; raw: number }
  /** `offset`: where in the compressed file it went wrong. */
  | { type: 'error'; reason: string; offset: number; raw: number };

interface Start {
  fd: number;
  head: Uint8Array;
  port: MessagePort;
  chunkSize: number;
  ahead: number;
}

const { fd, head, port, chunkSize, ahead } = workerData as Start;
const IN_CHUNK = 1 << 20;
const gz = new GzipInflater(zlibHandle()!); // the main thread starts a worker only when there is one
const spare: ArrayBuffer[] = [];
/** Chunks handed over and not given back yet. */
let out = 0;
let current: Buffer | null = null;
let filled = 0;
let raw = head.length;
let failed = false;
let wake: (() => void) | null = null;

port.on('message', (back: ArrayBuffer) => {
  out--;
  spare.push(back);
  const w = wake;
  wake = null;
  w?.();
});

function send(): void {
  if (current === null || filled === 0) return;
  const chunk = current.buffer as ArrayBuffer;
  port.postMessage({ type: 'chunk', chunk, length: filled, raw } satisfies FromGunzip, [chunk]);
  out++;
  current = null;
  filled = 0;
}

/** Inflates all of `input` (or up to a fault) into chunks, sending each as it fills; waits while `ahead` chunks are out. */
async function inflate(input: Buffer): Promise<void> {
  let at = 0;
  while (at < input.length && gz.fault === null) {
    if (current === null) {
      while (out >= ahead) await new Promise<void>((resolve) => (wake = resolve));
      current = Buffer.from(spare.pop() ?? new ArrayBuffer(chunkSize), 0, chunkSize);
    }
    const { used, made } = gz.inflate(input, at, input.length - at, current, filled, chunkSize - filled);
    at += used;
    filled += made;
    if (filled === chunkSize) send();
  }
}

function fail(reason: string, offset: number): void {
  if (failed) return;
  failed = true;
  send(); // what was inflated before the fault is still analysed
  port.postMessage({ type: 'error', reason, offset, raw } satisfies FromGunzip);
}

/** Feeds the compressed bytes in: two buffers in turn, the next read while the last one inflates. */
async function feed(): Promise<void> {
  await inflate(Buffer.from(head.buffer, head.byteOffset, head.length));
  send(); // what the main thread read first may be all there is for now (a pipe)
  const bufs = [Buffer.allocUnsafe(IN_CHUNK), Buffer.allocUnsafe(IN_CHUNK)];
  const readInto = (b: Buffer) => new Promise<number>((resolve, reject) => read(fd, b, 0, b.length, null, (e, k) => (e ? reject(e) : resolve(k))));
  let turn = 0;
  let next = readInto(bufs[0]!);
  while (gz.fault === null) {
    const n = await next;
    if (n === 0) break;
    raw += n;
    const b = bufs[turn]!;
    turn ^= 1;
    next = readInto(bufs[turn]!);
    next.catch(() => {}); // reported when awaited
    await inflate(b.subarray(0, n));
    // A short read: a pipe with no more for now (or the end). What is inflated goes now, not once 1 MiB
    // has gathered: a capture written slowly into a pipe is analysed as it comes.
    if (n < IN_CHUNK) send();
  }
  // The end of the file: a member not finished by now was cut short.
  gz.finish();
  if (gz.fault !== null) return fail(gz.fault.reason, gz.fault.offset);
  send();
  port.postMessage({ type: 'end', raw } satisfies FromGunzip);
}

feed().catch((e: unknown) => fail(describe(e), raw));
