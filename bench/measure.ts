/**
 * Running and timing commands for the benchmark.
 *
 * Wall time is the monotonic clock around the child process, from spawn to exit. Peak memory is the
 * child's maximum resident set size: GNU time's `%M` (`/usr/bin/time -f '%e %M'`) when it is there, else
 * VmHWM read from /proc/PID/status every few milliseconds while the child runs (a peak in its last
 * moments may then be missed). Standard output goes to /dev/null; standard error is kept, to say why a
 * command failed. Each measurement is repeated: the median time and the largest peak are reported.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One run of a command. */
export interface Run {
  seconds: number;
  /** Peak resident memory in KB, null when it could not be read. */
  peakKB: number | null;
  exitCode: number;
  /** The end of standard error, when the command failed. */
  error?: string;
}

/** Several runs of a command, summed up. */
export interface Measurement {
  label: string;
  /** The command as a shell would show it. */
  command: string;
  runs: Run[];
  /** Median wall time of the runs, seconds. */
  seconds: number;
  /** Largest peak resident memory of the runs, KB. */
  peakKB: number | null;
  ok: boolean;
  error?: string;
}

export interface MeasureOptions {
  runs: number;
  /** Called before each run (e.g. to make an empty folder), and after it (to remove it). */
  before?: () => void;
  after?: () => void;
  /** The command as shown in the report (default: argv, with its output to /dev/null). */
  shown?: string;
}

/** The path of an executable found on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

let gnuTimeChecked = false;
let gnuTimePath: string | null = null;

/** /usr/bin/time when it is GNU time (it understands -f and -o), else null. */
export function gnuTime(): string | null {
  if (!gnuTimeChecked) {
    gnuTimeChecked = true;
    if (existsSync('/usr/bin/time')) {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'true'], { encoding: 'utf8' });
      if (r.status === 0 && /^\d+\.\d+ \d+\s*$/m.test(r.stderr)) gnuTimePath = '/usr/bin/time';
    }
  }
  return gnuTimePath;
}

/** How peak memory is read, for the report. */
export function memoryMethod(): string {
  return gnuTime() !== null ? "/usr/bin/time -f '%e %M'" : 'VmHWM polled from /proc/PID/status';
}

const scratch = mkdtempSync(join(tmpdir(), 'ftpscope-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** A fresh empty folder in the benchmark's scratch space (removed when the benchmark ends). */
export function freshDir(prefix: string): string {
  return mkdtempSync(join(scratch, `${prefix}-`));
}

/** Runs a command once, standard output to /dev/null. */
export function runOnce(argv: readonly string[]): Promise<Run> {
  const time = gnuTime();
  const report = join(scratch, 'time.txt');
  const [file, ...args] = time !== null ? [time, '-f', '%e %M', '-o', report, ...argv] : argv;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    let polledKB: number | null = null;
    const poll = time !== null ? null : setInterval(() => {
      polledKB = Math.max(polledKB ?? 0, vmHWM(child.pid) ?? 0) || polledKB;
    }, 5);
    child.on('error', (e) => {
      if (poll) clearInterval(poll);
      resolve({ seconds: 0, peakKB: null, exitCode: -1, error: e.message });
    });
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (poll) clearInterval(poll);
      let peakKB = polledKB;
      let exitCode = code ?? (signal !== null ? 128 : -1);
      if (time !== null) {
        // GNU time writes "Command exited with non-zero status N" first when it did.
        const lines = readFileSync(report, 'utf8').trim().split('\n');
        const m = /^(\d+(?:\.\d+)?) (\d+)$/.exec(lines[lines.length - 1] ?? '');
        peakKB = m ? Number(m[2]) : null;
        const status = /non-zero status (\d+)/.exec(lines[0] ?? '');
        if (status) exitCode = Number(status[1]);
      }
      const run: Run = { seconds, peakKB, exitCode };
      if (exitCode !== 0) run.error = stderr.trim().split('\n').slice(-3).join(' / ') || `exit code ${exitCode}`;
      resolve(run);
    });
  });
}

function vmHWM(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A command as a shell would show it (quoting what needs it). */
export function shellWords(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/**
 * Runs a command `runs` times (argv may be made anew for each run, after `before`); a run that fails
 * ends the measurement (the others would fail too).
 */
export async function measure(label: string, argv: readonly string[] | (() => readonly string[]), o: MeasureOptions): Promise<Measurement> {
  const runs: Run[] = [];
  let shown = o.shown;
  for (let i = 0; i < o.runs; i++) {
    o.before?.();
    const args = typeof argv === 'function' ? argv() : argv;
    shown ??= `${shellWords(args)} > /dev/null`;
    const run = await runOnce(args);
    o.after?.();
    runs.push(run);
    if (run.exitCode !== 0) break;
  }
  const good = runs.filter((r) => r.exitCode === 0);
  const peaks = good.map((r) => r.peakKB).filter((k): k is number => k !== null);
  const m: Measurement = {
    label,
    command: shown ?? '',
    runs,
    seconds: good.length > 0 ? median(good.map((r) => r.seconds)) : NaN,
    peakKB: peaks.length > 0 ? Math.max(...peaks) : null,
    ok: good.length === runs.length && runs.length > 0,
  };
  const failed = runs.find((r) => r.exitCode !== 0);
  if (failed) m.error = failed.error ?? `exit code ${failed.exitCode}`;
  return m;
}

/** Reads a file once, so that the measurements read it from the page cache. */
export async function warm(path: string): Promise<void> {
  await runOnce(['cat', path]);
}

/**
 * Packets in a capture: records of classic pcap, packet blocks (enhanced, simple, obsolete) of pcapng;
 * gzip-compressed or not. Streamed; for captures given with --file, whose count is not known.
 */
export function countPackets(path: string): Promise<number> {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  readSync(fd, head, 0, 2, 0);
  closeSync(fd);
  let format: 'pcap-le' | 'pcap-be' | 'pcapng' | null = null;
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0; // bytes of the current record or block still to pass over
  let bigEndian = false; // the pcapng section's byte order
  let packets = 0;

  const consume = (chunk: Buffer): void => {
    const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let p = 0;
    if (format === null) {
      if (buf.length < 24) {
        pending = buf;
        return;
      }
      const magic = buf.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) format = 'pcap-le';
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) format = 'pcap-be';
      else if (magic === 0x0a0d0d0a) format = 'pcapng';
      else throw new Error(`${path}: not a pcap or pcapng file`);
      if (format !== 'pcapng') p = 24;
    }
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length - p);
        skip -= n;
        p += n;
        if (skip > 0) break;
      }
      if (format === 'pcapng') {
        if (buf.length - p < 12) break;
        if (buf.readUInt32LE(p) === 0x0a0d0d0a) bigEndian = buf.readUInt32LE(p + 8) !== 0x1a2b3c4d;
        const type = bigEndian ? buf.readUInt32BE(p) : buf.readUInt32LE(p);
        const len = bigEndian ? buf.readUInt32BE(p + 4) : buf.readUInt32LE(p + 4);
        if (type === 6 || type === 3 || type === 2) packets++;
        if (len < 12) throw new Error(`${path}: bad pcapng block length`);
        skip = len;
      } else {
        if (buf.length - p < 16) break;
        packets++;
        skip = 16 + (format === 'pcap-le' ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8));
      }
    }
    pending = Buffer.from(buf.subarray(p));
  };

  return new Promise((resolve, reject) => {
    const file = createReadStream(path, { highWaterMark: 1 << 20 }).on('error', reject);
    const input: Readable = head[0] === 0x1f && head[1] === 0x8b ? file.pipe(createGunzip()) : file;
    input
      .on('data', (chunk: Buffer) => {
        try {
          consume(chunk);
        } catch (e) {
          input.destroy();
          reject(e as Error);
        }
      })
      .on('end', () => resolve(packets))
      .on('error', reject);
  });
}
