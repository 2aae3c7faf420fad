import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Entries held in memory before they are written out as a sorted run (see SortedSpill). */
export const DEFAULT_SPILL_LIMIT = 4096;

/** How much of a run is read at a time while the runs are merged. */
const READ_CHUNK = 32 * 1024;

/** Writes all of `text` to `fd` at byte `at`; returns how many bytes that was. */
export function writeText(fd: number, text: string, at: number): number {
  const b = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < b.length) done += writeSync(fd, b, done, b.length - done, at + done);
  return b.length;
}

/** A sorted stretch of the spill file: JSON lines `[key, value]` from byte `start` to `end`. */
interface Run {
  start: number;
  end: number;
}

/**
 * A list of JSON-able values with numeric keys, given in any order and read back in key order, in
 * bounded memory: past `limit` entries, those held are sorted and written to a temporary file as one
 * run, and reading merges the runs. A report of a capture of any size keeps its rows this way (rows
 * arrive as sessions end, not in the order they are shown).
 *
 * The file is unlinked as soon as it is open (nothing is left behind, whatever happens); if no file can
 * be made, everything is held in memory. Keys must be distinct.
 */
export class SortedSpill<T> {
  private held: Array<[number, T]> = [];
  private readonly runs: Run[] = [];
  private fd: number | null = null;
  private size = 0;
  private noFile = false;
  /** Entries given. */
  count = 0;

  constructor(private readonly limit = DEFAULT_SPILL_LIMIT) {}

  add(key: number, value: T): void {
    this.held.push([key, value]);
    this.count++;
    if (this.held.length >= this.limit && !this.noFile) this.spill();
  }

  /** Runs written to the file so far. */
  get spilled(): number {
    return this.runs.length;
  }

  private spill(): void {
    if (this.fd === null) {
      let dir: string | null = null;
      try {
        dir = mkdtempSync(join(tmpdir(), 'ftpscope-'));
        const path = join(dir, 'rows');
        this.fd = openSync(path, 'w+', 0o600);
        unlinkSync(path);
      } catch {
        if (this.fd !== null) closeSync(this.fd);
        this.fd = null;
        this.noFile = true;
      } finally {
        if (dir !== null) rmSync(dir, { recursive: true, force: true });
      }
      if (this.noFile) return;
    }
    this.held.sort((x, y) => x[0] - y[0]);
    let text = '';
    const start = this.size;
    try {
      for (const entry of this.held) {
        text += `${JSON.stringify(entry)}\n`;
        if (text.length > 1 << 20) {
          this.write(text);
          text = '';
        }
      }
      this.write(text);
    } catch {
      // The disk is full (or the file cannot be written): this run stays in memory, and so do the next ones.
      this.size = start;
      this.noFile = true;
      return;
    }
    this.runs.push({ start, end: this.size });
    this.held = [];
  }

  private write(text: string): void {
    this.size += writeText(this.fd!, text, this.size);
  }

  /** Every value in key order, at the end (it may be read again, until close()). */
  *ordered(): Generator<T> {
    this.held.sort((x, y) => x[0] - y[0]);
    if (this.runs.length === 0) {
      for (const [, v] of this.held) yield v;
      return;
    }
    // A k-way merge: a heap of the runs' heads (and the held entries, as one more run).
    const sources: Array<() => [number, T] | null> = this.runs.map((r) => this.reader(r));
    let h = 0;
    const held = this.held;
    sources.push(() => (h < held.length ? held[h++]! : null));
    const heap: Array<{ head: [number, T]; next: () => [number, T] | null }> = [];
    const less = (a: number, b: number) => heap[a]!.head[0] < heap[b]!.head[0];
    const swap = (a: number, b: number) => ([heap[a], heap[b]] = [heap[b]!, heap[a]!]);
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(l, m)) m = l;
        if (r < heap.length && less(r, m)) m = r;
        if (m === i) return;
        swap(i, m);
        i = m;
      }
    };
    for (const next of sources) {
      const head = next();
      if (head !== null) heap.push({ head, next });
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    while (heap.length > 0) {
      const top = heap[0]!;
      yield top.head[1];
      const head = top.next();
      if (head !== null) top.head = head;
      else {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      if (heap.length > 0) down(0);
    }
  }

  /** The entries of a run, one at a time, read a chunk at a time. */
  private reader(run: Run): () => [number, T] | null {
    let pos = run.start;
    let lines: string[] = [];
    let i = 0;
    // Bytes after the last line end, waiting for the chunks that end their line (a line may be longer than
    // a chunk: they are joined once, when its end comes).
    const rest: Buffer[] = [];
    return () => {
      while (i >= lines.length) {
        if (pos >= run.end) return null;
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, run.end - pos));
        const n = readSync(this.fd!, chunk, 0, chunk.length, pos);
        if (n <= 0) return null;
        pos += n;
        const last = chunk.subarray(0, n).lastIndexOf(0x0a);
        if (last < 0) {
          rest.push(chunk.subarray(0, n));
          continue;
        }
        rest.push(chunk.subarray(0, last));
        lines = Buffer.concat(rest).toString('utf8').split('\n');
        rest.length = 0;
        if (last + 1 < n) rest.push(chunk.subarray(last + 1, n));
        i = 0;
      }
      return JSON.parse(lines[i++]!) as [number, T];
    }
  }

  /** Lets the file go. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.held = [];
  }
}
