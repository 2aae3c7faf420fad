import type { Readable } from 'node:stream';
import { StreamInput, type ChunkInput } from './chunk-input.js';
import { FileInput } from './file-input.js';
import { PcapReader, pcapVariant } from './pcap-reader.js';
import { PcapngReader, isPcapng } from './pcapng-reader.js';
import { CaptureFault, RecordBatch, type RecordReader } from './record-batch.js';

/** Formats we recognise only to say clearly that we do not read them. */
const FOREIGN: Array<[number[], string]> = [
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd-compressed file: decompress it first (zstd -d)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'an xz-compressed file: decompress it first (xz -d)'],
  [[0x42, 0x5a, 0x68], 'a bzip2-compressed file: decompress it first (bunzip2)'],
  [[0xa1, 0xb2, 0xcd, 0x34], 'a "modified" (Kuznetzov) pcap, which is not supported: convert it with editcap -F pcap'],
  [[0x34, 0xcd, 0xb2, 0xa1], 'a "modified" (Kuznetzov) pcap, which is not supported: convert it with editcap -F pcap'],
];

/**
 * Opens one capture, from a file's path or from a byte stream: pcap (either byte order, micro- or
 * nanosecond) or pcapng, gzip-compressed or not, recognised by content rather than by name.
 * Never throws for bad input: a reader whose `faults` say what was wrong is returned instead.
 * `chunkSize`: bytes per read of a file (default 1 MiB; tests make it small).
 */
export async function openCapture(name: string, source: string | Readable, options: { chunkSize?: number } = {}): Promise<RecordReader> {
  const input: ChunkInput = typeof source === 'string' ? new FileInput(source, options.chunkSize) : new StreamInput(source);
  await input.open();
  const failed = (offset: number, reason: string) => {
    input.close();
    return new FailedReader(name, new CaptureFault(name, offset, reason));
  };
  if (input.error !== null) return failed(input.errorAt, input.error);
  // Gather at least the 24 bytes of a pcap file header (stdin may hand them over in small pieces).
  const parts: Buffer[] = [];
  let have = 0;
  while (have < 24) {
    const c = await input.next();
    if (c === null) break;
    // A chunk lives until the next one is asked for (a file's buffers are reused): keep copies.
    parts.push(have + c.length < 24 ? Buffer.from(c) : c);
    have += c.length;
  }
  const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (input.error !== null) return failed(input.errorAt, input.error);
  if (head.length === 0) return failed(0, 'the file is empty');
  if (pcapVariant(head) !== null) return new PcapReader(name, input, head);
  if (isPcapng(head)) return new PcapngReader(name, input, head);
  for (const [magic, what] of FOREIGN) {
    if (magic.every((b, i) => head[i] === b)) return failed(0, `this is ${what}`);
  }
  const shown = head.subarray(0, 4).toString('hex').replace(/(..)(?=.)/g, '$1 ');
  return failed(0, `not a pcap or pcapng capture (it starts with ${shown})`);
}

/** A reader for an input that could not be opened: no records, one fault. */
export class FailedReader implements RecordReader {
  readonly format = 'unreadable';
  readonly bytesRead = 0;
  readonly faults: CaptureFault[];
  constructor(
    readonly name: string,
    fault: CaptureFault,
  ) {
    this.faults = [fault];
  }
  async next(): Promise<RecordBatch | null> {
    return null;
  }
  close(): void {}
}

/**
 * Several captures merged into one stream by timestamp, as mergecap does, so that a rotated capture set
 * analyses as one. Ties keep the order of the files as given. A file that faults stops contributing;
 * the others go on.
 *
 * Each call of `next()` returns records up to the moment one input's batch runs out; that input is
 * refilled at the start of the following call, after the consumer is done with the merged batch.
 */
export class MergedReader implements RecordReader {
  readonly name: string;
  readonly parts: readonly string[];
  private readonly batch = new RecordBatch();
  private readonly heads: (RecordBatch | null)[];
  private readonly pos: number[];
  private readonly live: boolean[];

  constructor(private readonly readers: RecordReader[]) {
    this.parts = readers.map((r) => r.name);
    this.name = this.parts.join(', ');
    this.heads = readers.map(() => null);
    this.pos = readers.map(() => 0);
    this.live = readers.map(() => true);
  }

  get format(): string {
    return [...new Set(this.readers.map((r) => r.format))].join(' + ');
  }

  get faults(): CaptureFault[] {
    return this.readers.flatMap((r) => r.faults);
  }

  get bytesRead(): number {
    let n = 0;
    for (const r of this.readers) n += r.bytesRead;
    return n;
  }

  async next(): Promise<RecordBatch | null> {
    const { readers, heads, pos, live } = this;
    for (let i = 0; i < readers.length; i++) {
      if (live[i] && (heads[i] === null || pos[i] >= heads[i]!.count)) {
        heads[i] = await readers[i]!.next();
        pos[i] = 0;
        if (heads[i] === null) live[i] = false;
      }
    }
    const out = this.batch;
    out.reset();
    for (;;) {
      let best = -1;
      let bSec = 0;
      let bNsec = 0;
      for (let i = 0; i < readers.length; i++) {
        if (!live[i]) continue;
        const h = heads[i]!;
        const p = pos[i]!;
        const s = h.tsSec[p]!;
        const ns = h.tsNsec[p]!;
        if (best < 0 || s < bSec || (s === bSec && ns < bNsec)) {
          best = i;
          bSec = s;
          bNsec = ns;
        }
      }
      if (best < 0) break;
      const h = heads[best]!;
      const p = pos[best]!;
      out.push(h.bufs[p]!, h.offs[p]!, h.caps[p]!, h.origs[p]!, bSec, bNsec, h.linktypes[p]!, h.fileOffs[p]!);
      pos[best] = p + 1;
      if (p + 1 >= h.count) break;
    }
    return out.count > 0 ? out : null;
  }

  close(): void {
    for (const r of this.readers) r.close();
  }
}
