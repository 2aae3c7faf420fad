/**
 * The benchmark: `npm run bench [-- options]` (see HELP below, or bench/README.md).
 *
 * It makes synthetic FTP captures (bench/generate.ts, cached in bench/.cache/), times ftpscope on them —
 * and, for scale, reading the file (cat, a plain Node read) and the tools that do the same job (tshark,
 * Suricata) when they are installed — with bench/measure.ts, checks the targets, prints a table and the
 * PASS/FAIL lines, and writes every figure as JSON.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { createGzip } from 'node:zlib';
import { cachedCapture, type CaptureKind } from './generate.js';
import { liveBench } from './live.js';
import { ftpsBench } from './ftps.js';
import { countPackets, freshDir, measure, memoryMethod, warm, which, type Measurement } from './measure.js';

const HELP = `npm run bench -- [options]

Makes synthetic FTP captures (cached in bench/.cache/, by seed and size), times ftpscope on them and
checks the performance targets. MB are 10^6 bytes everywhere (sizes, MB/s, memory).

  --size MB        size of the mixed capture (default 1000)
  --sizes A,B,...  several mixed captures; the first is the one compared with tshark and Suricata
  --full           the same as --sizes 1000,5000
  --small MB       size of the small-packet capture, for packets per second (default 200; 0: none)
  --seed N         seed of the generated captures (default 1)
  --runs N         runs of each measurement, the median is kept (default 5; startup: at least 10)
  --linear         only the linearity check: the summary view on 1000 MB of traffic, and on the same
                   traffic twice and four times over (2000 and 4000 MB); a full run makes it too
  --no-linear      leave the linearity check out of a full run
  --file CAPTURE   the same measurements on a real capture instead of generated ones
  --out FILE       where to write the figures as JSON (default bench/results.json; with --linear,
                   bench/results-linear.json)
  --cache DIR      where generated captures are kept (default bench/.cache)
  --strict         exit with status 1 when a target fails
  --live           live capture instead (root): the first --packets (200000) packets of the mixed
                   capture replayed by tcpreplay into a veth pair at --rates (25000,50000,100000,200000,
                   400000,top), ftpscope live and tcpdump listening side by side (bench/live.ts;
                   --bare adds runs of a bare cap callback; --live-args '...' more options for
                   ftpscope live; --out default bench/results-live.json)
  --soak           with --live: the whole capture in a loop at 50k packets/s for --soak-minutes (10):
                   memory under 150 MB and nothing lost
  --ftps           FTPS instead: one download of --size MB (default 500) in clear and inside TLS
                   (--suite, default TLS_AES_256_GCM_SHA384), the TLS one read with its key log: within 2x
                   of the clear one (bench/ftps.ts)
  --help`;

// ---------------------------------------------------------------------------
// Targets and constants
// ---------------------------------------------------------------------------

const MB = 1_000_000;
/** Mean bytes per record (header included) of a capture of small packets: the packets-per-second target's. */
const SMALL_PACKET_BYTES = 300;
const TARGET_MBPS = 1000; // when Suricata is not installed
const TARGET_TSHARK_RATIO = 15;
const TARGET_PPS = 1_500_000;
const TARGET_PEAK_MB = 150;
const TARGET_LINEAR = 0.1; // 2x and 4x the size take 2x and 4x the time, within 10%
const TARGET_GZIP = 0.1; // a gzip capture takes at most 10% more than the slower of: the plain capture, decompressing alone
const TARGET_VERSION_S = 0.15;
const TARGET_FIXTURE_S = 0.3;
const STARTUP_RUNS = 10;
/** Below this, start-up dominates: no throughput target is checked on a capture given with --file. */
const MIN_THROUGHPUT_BYTES = 100 * MB;
/**
 * The linearity check's base: 1000 MB, then the same traffic twice and four times over. At 250 MB the
 * analysis took about 0.1 s beyond start-up, so 50 ms of this machine's noise swung the check by half.
 */
const LINEAR_BASE_MB = 1000;
const LINEAR_ROUNDS = [1, 2, 4];

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'ftpscope.js');
const fixture = join(root, 'fixtures', 'active-ls-pwd.pcap');
const node = process.execPath;

/** Reading only, as Node reads a capture: 1 MiB chunks, nothing done with them. */
const NODE_READ = "require('fs').createReadStream(process.argv[1],{highWaterMark:1<<20}).on('data',()=>{})";
/** Decompressing only, as ftpscope does (zlib on libuv's thread pool, 1 MiB out at a time). */
const NODE_GUNZIP = "require('fs').createReadStream(process.argv[1],{highWaterMark:1<<20}).pipe(require('zlib').createGunzip({chunkSize:1<<20})).on('data',()=>{})";

// ---------------------------------------------------------------------------
// What is measured, and what it gives
// ---------------------------------------------------------------------------

interface Capture {
  name: string;
  kind: CaptureKind | 'gzip' | 'file' | 'fixture';
  path: string;
  /** Bytes of the capture (uncompressed for a gzip one: throughput is of the capture's content). */
  bytes: number;
  /** Bytes of the file on disk. */
  fileBytes: number;
  packets: number;
  seed?: number;
  sizeMB?: number;
  /** Seconds it took to make (0: from the cache). */
  madeIn?: number;
  truth?: { sessions: number; transfers: number; duration: number; dropped: number; reordered: number; duplicated: number };
}

interface Row {
  capture: string;
  bytes: number;
  packets: number;
  m: Measurement;
}

interface Target {
  name: string;
  /** null: not measured here (and why, in `measured`). */
  pass: boolean | null;
  measured: string;
  goal: string;
}

const rows: Row[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mbps = (r: Row) => r.bytes / MB / r.m.seconds;
const peakMB = (r: Row) => (r.m.peakKB === null ? NaN : (r.m.peakKB * 1024) / MB);
const find = (capture: Capture, label: string) => rows.find((r) => r.capture === capture.name && r.m.label === label && r.m.ok);

/**
 * Measures a command on a capture and keeps the row. A command that needs an empty folder (--extract,
 * Suricata's log folder) is given as a function of it: each run gets a fresh one, removed after.
 */
async function run(capture: Capture, label: string, argv: readonly string[] | ((dir: string) => readonly string[]), runs: number, shown?: string): Promise<Row> {
  log(`  ${capture.name}: ${label} ...`);
  let dir = '';
  const m =
    typeof argv === 'function'
      ? await measure(label, () => argv(dir), {
          runs,
          shown,
          before: () => { dir = freshDir('out'); },
          after: () => rmSync(dir, { recursive: true, force: true }),
        })
      : await measure(label, argv, { runs, shown });
  const row = { capture: capture.name, bytes: capture.bytes, packets: capture.packets, m };
  rows.push(row);
  log(m.ok ? `    ${fmt(m.seconds, 3)} s${row.bytes >= MB ? `, ${fmt(mbps(row))} MB/s` : ''}, peak ${fmt(peakMB(row))} MB` : `    failed: ${m.error}`);
  return row;
}

/** ftpscope and the ceilings on one capture; tshark and Suricata too when `compare`. */
async function measureCapture(c: Capture, runs: number, compare: boolean): Promise<void> {
  log(`measuring ${c.name} (${c.path})`);
  await warm(c.path);
  await run(c, 'cat (read ceiling)', ['cat', c.path], runs);
  await run(c, 'node read (1 MiB chunks)', [node, '-e', NODE_READ, c.path], runs, `node -e "<createReadStream, 1 MiB chunks>" ${c.path}`);
  await run(c, 'ftpscope -v summary', [node, bin, '-v', 'summary', c.path], runs);
  await run(c, 'ftpscope --format json', [node, bin, '--format', 'json', c.path], runs);
  await run(c, 'ftpscope --extract', (dir) => [node, bin, '-v', 'summary', '--extract', dir, c.path], runs, `node bin/ftpscope.js -v summary --extract TMPDIR ${c.path} > /dev/null`);
  if (!compare) return;
  if (tools.tshark !== null) {
    await run(c, 'tshark -Y ftp -T fields', ['tshark', '-r', c.path, '-Y', 'ftp', '-T', 'fields', '-e', 'ftp.request.command'], runs);
  }
  if (tools.suricata !== null) {
    await run(c, 'suricata --runmode single', (dir) => ['suricata', '--runmode', 'single', '-k', 'none', '-r', c.path, '-l', dir], runs, `suricata --runmode single -k none -r ${c.path} -l TMPDIR`);
  }
}

// ---------------------------------------------------------------------------
// Captures
// ---------------------------------------------------------------------------

function generated(cache: string, kind: CaptureKind, sizeMB: number, seed: number, rounds = 1): Capture {
  const name = `${kind} ${sizeMB} MB${rounds > 1 ? ` x${rounds}` : ''}`;
  log(`${name} capture, seed ${seed}`);
  const g = cachedCapture(cache, kind, sizeMB, seed, rounds);
  log(g.generated ? `  made in ${fmt(g.seconds, 1)} s: ${g.path}` : `  from the cache: ${g.path}`);
  const t = g.truth;
  return {
    name, kind, path: g.path, bytes: t.bytes, fileBytes: t.bytes, packets: t.records, seed, sizeMB: sizeMB * rounds, madeIn: g.seconds,
    truth: {
      sessions: t.sessions.length, transfers: t.sessions.reduce((n, s) => n + s.transfers.length, 0), duration: t.duration,
      dropped: t.droppedSegments, reordered: t.reorderedSegments, duplicated: t.duplicatedSegments,
    },
  };
}

/** The capture gzip-compressed (zlib's default level), made once and kept beside it. */
async function gzipped(c: Capture): Promise<Capture> {
  const path = `${c.path}.gz`;
  let madeIn = 0;
  if (!existsSync(path)) {
    log(`gzip of ${c.name} ...`);
    const start = process.hrtime.bigint();
    await pipeline(createReadStream(c.path, { highWaterMark: 1 << 20 }), createGzip(), createWriteStream(`${path}.partial`));
    renameSync(`${path}.partial`, path);
    madeIn = Number(process.hrtime.bigint() - start) / 1e9;
    log(`  made in ${fmt(madeIn, 1)} s: ${path}`);
  }
  return { ...c, name: `${c.name} .gz`, kind: 'gzip', path, fileBytes: statSync(path).size, madeIn };
}

async function fileCapture(path: string, kind: Capture['kind']): Promise<Capture> {
  const bytes = statSync(path).size;
  return { name: basename(path), kind, path, bytes, fileBytes: bytes, packets: await countPackets(path) };
}

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

const pct = (x: number) => `${fmt(x * 100, 1)}%`;

/** A figure that must be at least `goal`: how far short it is, when it is. */
function atLeast(name: string, value: number, goal: number, show: (x: number) => string, goalText: string): Target {
  const pass = value >= goal;
  return { name, pass, goal: goalText, measured: pass ? show(value) : `${show(value)}: ${pct(1 - value / goal)} short (needs ${fmt(goal / value, 2)}x)` };
}

/** A figure that must stay under `limit`: how far over it is, when it is. */
function under(name: string, value: number, limit: number, show: (x: number) => string, goalText: string): Target {
  const pass = value < limit;
  return { name, pass, goal: goalText, measured: pass ? show(value) : `${show(value)}: ${pct(value / limit - 1)} over` };
}

const notMeasured = (name: string, why: string, goal: string): Target => ({ name, pass: null, measured: why, goal });

const TOO_SMALL = `the capture is too small for throughput (start-up would dominate): ${fmt(MIN_THROUGHPUT_BYTES / MB)} MB or more`;

/** Speed of the full analysis on the reference capture: against Suricata (or 1 GB/s), and against tshark. */
function speedTargets(ref: Capture): Target[] {
  const ours = find(ref, 'ftpscope -v summary');
  const name = `full analysis (-v summary) of the ${ref.name} capture`;
  if (!ours) return [notMeasured(name, 'ftpscope failed', '')];
  if (ref.bytes < MIN_THROUGHPUT_BYTES) return [notMeasured(name, TOO_SMALL, '')];
  const targets: Target[] = [];
  const json = find(ref, 'ftpscope --format json');
  const also = (t: Target): Target => (json ? { ...t, measured: `${t.measured} (--format json: ${fmt(mbps(json))} MB/s)` } : t);
  const suricata = find(ref, 'suricata --runmode single');
  if (suricata) {
    targets.push(also(atLeast(`${name}, as fast as Suricata`, mbps(ours), mbps(suricata), (x) => `${fmt(x)} MB/s`, `>= Suricata single mode: ${fmt(mbps(suricata))} MB/s`)));
  } else {
    targets.push(also(atLeast(`${name}, at least 1 GB/s (Suricata not installed)`, mbps(ours), TARGET_MBPS, (x) => `${fmt(x)} MB/s`, `>= ${fmt(TARGET_MBPS)} MB/s`)));
  }
  const tshark = find(ref, 'tshark -Y ftp -T fields');
  const tname = `${TARGET_TSHARK_RATIO}x faster than tshark's field extraction (${ref.name})`;
  if (tshark) {
    targets.push(atLeast(tname, tshark.m.seconds / ours.m.seconds, TARGET_TSHARK_RATIO, (x) => `${fmt(x, 1)}x (tshark ${fmt(tshark.m.seconds, 2)} s, ftpscope ${fmt(ours.m.seconds, 2)} s)`, `>= ${TARGET_TSHARK_RATIO}x`));
  } else targets.push(notMeasured(tname, tools.tshark === null ? 'tshark is not installed' : 'tshark failed', `>= ${TARGET_TSHARK_RATIO}x`));
  return targets;
}

/** Packets per second of the full analysis (-v summary) of a capture. */
function packetsTarget(c: Capture, name: string): Target {
  const s = find(c, 'ftpscope -v summary');
  if (!s) return notMeasured(name, 'ftpscope failed', '');
  if (c.bytes < MIN_THROUGHPUT_BYTES) return notMeasured(name, TOO_SMALL, '');
  // The target is for captures of small packets (control traffic and ACKs); full frames are the MB/s target's.
  const mean = c.bytes / Math.max(1, c.packets);
  if (mean > SMALL_PACKET_BYTES) return notMeasured(name, `not a capture of small packets (${fmt(mean)} bytes per record on average; the target is for control traffic and ACKs, under ${SMALL_PACKET_BYTES})`, '');
  return atLeast(name, s.packets / s.m.seconds, TARGET_PPS, (x) => `${fmt(x / 1e6, 2)} M packets/s`, `>= ${fmt(TARGET_PPS / 1e6, 1)} M packets/s`);
}

function memoryTargets(captures: readonly Capture[]): Target[] {
  const targets: Target[] = [];
  for (const c of captures) {
    for (const label of ['ftpscope -v summary', 'ftpscope --extract']) {
      const r = find(c, label);
      const name = `peak memory, ${label.replace('ftpscope ', '')} (${c.name})`;
      if (!r || r.m.peakKB === null) targets.push(notMeasured(name, 'not measured', `< ${TARGET_PEAK_MB} MB`));
      else targets.push(under(name, peakMB(r), TARGET_PEAK_MB, (x) => `${fmt(x)} MB`, `< ${TARGET_PEAK_MB} MB`));
    }
  }
  return targets;
}

/** The same traffic 1, 2 and 4 times over (what changes is the size, not the kind of traffic), measured. */
async function measureLinear(cache: string, seed: number, runs: number): Promise<Capture[]> {
  const captures = LINEAR_ROUNDS.map((rounds) => generated(cache, 'mixed', LINEAR_BASE_MB, seed, rounds));
  for (const c of captures) {
    log(`measuring ${c.name} (linearity)`);
    await warm(c.path);
    await run(c, 'cat (read ceiling)', ['cat', c.path], runs);
    await run(c, 'ftpscope -v summary', [node, bin, '-v', 'summary', c.path], runs);
  }
  return captures;
}

/** ftpscope's fixed cost: the time of the default views on the small fixture (its fastest run). */
function fixedCost(fixture: Capture): number {
  const r = find(fixture, 'ftpscope (default views)');
  return r === undefined ? 0 : fastest(r);
}

/** The fastest of a measurement's runs: on a shared machine noise only ever adds time. */
function fastest(r: Row): number {
  const ok = r.m.runs.filter((x) => x.exitCode === 0).map((x) => x.seconds);
  return ok.length > 0 ? Math.min(...ok) : r.m.seconds;
}

function gzipTarget(plain: Capture, gz: Capture): Target {
  const p = find(plain, 'ftpscope -v summary');
  const g = find(gz, 'ftpscope -v summary');
  const z = find(gz, 'node gunzip (decompress ceiling)');
  const name = `a gzip capture costs little: at most ${pct(TARGET_GZIP)} over the slower of the plain capture and decompression alone (${gz.name})`;
  if (!p || !g || !z) return notMeasured(name, 'not measured', '');
  const floor = Math.max(p.m.seconds, z.m.seconds);
  const t = under(name, g.m.seconds, floor * (1 + TARGET_GZIP), (x) => `${fmt(x, 2)} s`, `<= ${fmt(floor * (1 + TARGET_GZIP), 2)} s`);
  t.measured += ` (plain ${fmt(p.m.seconds, 2)} s, gzip/plain ${fmt(g.m.seconds / p.m.seconds, 2)}x; decompression alone ${fmt(z.m.seconds, 2)} s)`;
  return t;
}

function startupTargets(): Target[] {
  const v = rows.find((r) => r.m.label === 'ftpscope --version' && r.m.ok);
  const f = rows.find((r) => r.m.label === 'ftpscope (default views)' && r.m.ok);
  return [
    v ? under('ftpscope --version', v.m.seconds, TARGET_VERSION_S, (x) => `${fmt(x * 1000)} ms`, `< ${TARGET_VERSION_S * 1000} ms`) : notMeasured('ftpscope --version', 'failed', ''),
    f ? under(`a small capture (${basename(fixture)})`, f.m.seconds, TARGET_FIXTURE_S, (x) => `${fmt(x * 1000)} ms`, `< ${TARGET_FIXTURE_S * 1000} ms`) : notMeasured('a small capture', 'failed', ''),
  ];
}

/**
 * Time linear in size: with ftpscope's fixed cost (start-up: the fixture's time) taken off, the time per
 * byte at 2x and 4x the size (the same traffic, twice and four times over) is at most 10% above the
 * first one's. The fastest run of each is compared (noise on this machine only ever adds time, and a
 * median of 5 still moved by 10%). Time per byte falling with size (the start-up and the JIT's warm-up
 * spread over more bytes) is linear or better, and passes; the figures say so.
 */
function linearTarget(captures: readonly Capture[], fixed: number): Target {
  const rs = captures.map((c) => find(c, 'ftpscope -v summary'));
  const name = `time linear in size (${captures.map((c) => c.sizeMB).join(', ')} MB), fastest runs, start-up of ${fmt(fixed * 1000)} ms taken off`;
  if (rs.some((r) => r === undefined)) return notMeasured(name, 'not measured', '');
  const times = rs.map((r) => fastest(r!));
  const base = rs[0]!;
  const ratios = rs.slice(1).map((r, i) => (times[i + 1]! - fixed) / (times[0]! - fixed) / (r!.bytes / base.bytes));
  const worst = Math.max(...ratios);
  const raw = rs.slice(1).map((r, i) => `${fmt(times[i + 1]! / times[0]!, 2)}x the time for ${fmt(r!.bytes / base.bytes, 2)}x the size`).join(', ');
  const notes = [`fastest runs ${times.map((t) => fmt(t, 2)).join(' / ')} s`, `raw: ${raw}`];
  if (ratios.some((x) => x < 1 - TARGET_LINEAR)) notes.push('faster per byte at the larger sizes');
  return {
    name,
    pass: worst <= 1 + TARGET_LINEAR,
    goal: `time per byte at most ${pct(TARGET_LINEAR)} above the smallest's`,
    measured: `time per byte vs the smallest: ${ratios.map((x) => fmt(x, 3)).join(', ')} (${notes.join('; ')})${worst > 1 + TARGET_LINEAR ? `: ${pct(worst - 1 - TARGET_LINEAR)} beyond` : ''}`,
  };
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

function table(): string {
  const head = ['capture', 'measurement', 'median s', 'MB/s', 'M pkt/s', 'peak MB', 'runs (s)'];
  const body = rows.map((r) => {
    const ok = r.m.ok;
    return [
      r.capture,
      r.m.label,
      ok ? fmt(r.m.seconds, 3) : 'failed',
      ok && r.bytes >= MB ? fmt(mbps(r)) : '',
      ok && r.bytes >= MB ? fmt(r.packets / r.m.seconds / 1e6, 2) : '',
      r.m.peakKB === null ? '' : fmt(peakMB(r), 1),
      r.m.runs.map((x) => fmt(x.seconds, 2)).join(' '),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = [false, false, true, true, true, true, false];
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function captureLines(captures: readonly Capture[]): string {
  return captures
    .map((c) => {
      const t = c.truth;
      const what = t ? `, ${fmt(t.sessions)} sessions, ${fmt(t.transfers)} transfers, ${fmt(t.duration, 1)} s of traffic, segments dropped/reordered/duplicated ${t.dropped}/${t.reordered}/${t.duplicated}` : '';
      const disk = c.fileBytes !== c.bytes ? ` (${fmt(c.fileBytes / MB, 1)} MB on disk)` : '';
      return `  ${c.name}: ${fmt(c.bytes / MB, 1)} MB${disk}, ${fmt(c.packets)} packets${what}\n    ${c.path}`;
    })
    .join('\n');
}

function toolVersion(argv: string[]): string | null {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Running as user'))?.trim() ?? null;
}

/** Cores kept busy by other work, from /proc/stat over a second (null where there is none). */
async function busyCores(): Promise<number | null> {
  const sample = (): [number, number] | null => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      return [f.reduce((x, y) => x + y, 0), f[3]! + (f[4] ?? 0)]; // total, idle + iowait
    } catch {
      return null;
    }
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, 1000));
  const b = sample();
  if (a === null || b === null || b[0] === a[0]) return null;
  return (1 - (b[1] - a[1]) / (b[0] - a[0])) * cpus().length;
}

const tools = {
  tshark: which('tshark') === null ? null : toolVersion(['tshark', '--version']),
  suricata: which('suricata') === null ? null : toolVersion(['suricata', '-V']),
};

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      size: { type: 'string' }, sizes: { type: 'string' }, full: { type: 'boolean' }, small: { type: 'string' },
      seed: { type: 'string' }, runs: { type: 'string' }, linear: { type: 'boolean' }, file: { type: 'string' },
      out: { type: 'string' }, cache: { type: 'string' }, strict: { type: 'boolean' }, help: { type: 'boolean' },
      'no-linear': { type: 'boolean' }, live: { type: 'boolean' }, soak: { type: 'boolean' }, 'soak-minutes': { type: 'string' },
      rates: { type: 'string' }, packets: { type: 'string' }, bare: { type: 'boolean' }, 'live-args': { type: 'string' },
      ftps: { type: 'boolean' }, suite: { type: 'string' },
    },
    strict: true,
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const num = (s: string | undefined, dflt: number, what: string): number => {
    const n = s === undefined ? dflt : Number(s);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${what}: not a number: ${s}`);
    return n;
  };
  const seed = num(a.seed, 1, 'seed');
  const runs = Math.max(1, Math.round(num(a.runs, 5, 'runs')));
  const smallMB = num(a.small, 200, 'small');
  const cache = resolve(a.cache ?? join(root, 'bench', '.cache'));
  const out = resolve(a.out ?? join(root, 'bench', a.linear ? 'results-linear.json' : 'results.json'));
  const sizes = a.full ? [1000, 5000] : a.sizes !== undefined ? a.sizes.split(',').map((s) => num(s, 0, 'sizes')) : [num(a.size, 1000, 'size')];
  if (sizes.length === 0 || sizes.some((s) => s <= 0)) throw new Error('--sizes: sizes in MB, above 0');
  mkdirSync(cache, { recursive: true });
  if (a.ftps) return (await ftpsBench(a.size === undefined ? 500 : sizes[0]!, a.suite ?? 'TLS_AES_256_GCM_SHA384')) ? 0 : a.strict ? 1 : 0;
  if (a.live) {
    const rates = (a.rates ?? '25000,50000,100000,200000,400000,top').split(',').map((r) => (r === 'top' ? 'top' : num(r, 0, 'rates')));
    return liveBench({
      root, capture: a.file === undefined ? generated(cache, 'mixed', sizes[0]!, seed).path : resolve(a.file), packets: a.packets === undefined ? null : Math.round(num(a.packets, 0, 'packets')),
      rates, runs: a.runs === undefined ? 3 : runs, bare: a.bare === true, liveArgs: (a['live-args'] ?? '').split(' ').filter(Boolean), soakMinutes: a.soak ? num(a['soak-minutes'], 10, 'soak-minutes') : null,
      out: resolve(a.out ?? join(root, 'bench', a.soak ? 'results-soak.json' : 'results-live.json')), log,
    });
  }
  const mode = a.file !== undefined ? 'file' : a.linear ? 'linear' : 'generated';

  log(`ftpscope benchmark (${mode}); ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  log(`peak memory from ${memoryMethod()}; tshark: ${tools.tshark ?? 'not installed'}; suricata: ${tools.suricata ?? 'not installed'}`);
  const loadBefore = loadavg()[0]!;
  const busyBefore = await busyCores();
  if (busyBefore !== null && busyBefore > 0.3) log(`warning: other work keeps ${fmt(busyBefore, 1)} of ${cpus().length} cores busy: the figures will be noisy`);

  const captures: Capture[] = [];
  const targets: Target[] = [];
  const started = Date.now();

  // Start-up: --version and a tiny capture (and, for the linearity check, ftpscope's fixed cost).
  const fixtureCapture = await fileCapture(fixture, 'fixture');
  const none: Capture = { name: '-', kind: 'fixture', path: '', bytes: 0, fileBytes: 0, packets: 0 };
  const startupRuns = Math.max(STARTUP_RUNS, runs);
  log('start-up');
  await run(none, 'ftpscope --version', [node, bin, '--version'], startupRuns);
  await run(fixtureCapture, 'ftpscope (default views)', [node, bin, fixtureCapture.path], startupRuns);

  if (mode === 'file') {
    const c = await fileCapture(resolve(a.file!), 'file');
    captures.push(c);
    await measureCapture(c, runs, true);
    targets.push(...speedTargets(c), packetsTarget(c, `packets per second (${c.name})`));
    targets.push(...memoryTargets([c]), ...startupTargets());
  } else if (mode === 'linear') {
    const linear = await measureLinear(cache, seed, runs);
    captures.push(...linear);
    targets.push(linearTarget(linear, fixedCost(fixtureCapture)), ...memoryTargets(linear).filter((t) => t.name.includes('summary')));
  } else {
    const mixed = sizes.map((s) => generated(cache, 'mixed', s, seed));
    const gz = await gzipped(mixed[0]!);
    const small = smallMB > 0 ? generated(cache, 'small', smallMB, seed) : null;
    captures.push(...mixed, gz, ...(small ? [small] : []));
    for (const [i, c] of mixed.entries()) await measureCapture(c, runs, i === 0);
    log(`measuring ${gz.name}`);
    await warm(gz.path);
    await run(gz, 'node gunzip (decompress ceiling)', [node, '-e', NODE_GUNZIP, gz.path], runs, `node -e "<createReadStream | createGunzip, 1 MiB chunks>" ${gz.path}`);
    await run(gz, 'ftpscope -v summary', [node, bin, '-v', 'summary', gz.path], runs);
    if (small) {
      log(`measuring ${small.name}`);
      await warm(small.path);
      await run(small, 'cat (read ceiling)', ['cat', small.path], runs);
      await run(small, 'ftpscope -v summary', [node, bin, '-v', 'summary', small.path], runs);
    }
    // Every target in one run: the linearity check too (its captures are cached after the first run).
    const linear = a['no-linear'] ? [] : await measureLinear(cache, seed, runs);
    captures.push(...linear);
    targets.push(...speedTargets(mixed[0]!));
    if (small) targets.push(packetsTarget(small, `packets per second on the small-packet capture (${small.name})`));
    targets.push(...memoryTargets(mixed), gzipTarget(mixed[0]!, gz));
    if (linear.length > 0) targets.push(linearTarget(linear, fixedCost(fixtureCapture)));
    targets.push(...startupTargets());
  }

  // Report
  const load = { before: loadBefore, after: loadavg()[0]!, busyCoresBefore: busyBefore };
  const report = [
    '',
    `${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${busyBefore === null ? '' : `${fmt(busyBefore, 1)} cores busy before, `}load average (1 min) ${fmt(load.before, 2)} before, ${fmt(load.after, 2)} after`,
    `Captures (MB = 10^6 bytes; seed ${seed}):`,
    captureLines(captures),
    '',
    table(),
    '',
    ...targets.map((t) => `${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.measured}${t.goal ? ` [target ${t.goal}]` : ''}`),
    '',
  ].join('\n');
  console.log(report);

  const results = {
    date: new Date().toISOString(),
    mode,
    seconds: (Date.now() - started) / 1000,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, memoryMB: Math.round(totalmem() / MB), node: process.version, platform: process.platform, loadAverage: load },
    tools: { ...tools, peakMemory: memoryMethod() },
    options: { seed, runs, sizes: mode === 'linear' ? LINEAR_ROUNDS.map((r) => r * LINEAR_BASE_MB) : sizes, smallMB, file: a.file ?? null },
    captures: captures.map(({ name, kind, path, bytes, fileBytes, packets, seed: s, sizeMB, madeIn, truth }) => ({ name, kind, path, bytes, fileBytes, packets, seed: s, sizeMB, madeIn, truth })),
    measurements: rows.map((r) => ({
      capture: r.capture,
      label: r.m.label,
      command: r.m.command,
      ok: r.m.ok,
      error: r.m.error ?? null,
      seconds: r.m.ok ? r.m.seconds : null,
      mbPerSecond: r.m.ok && r.bytes >= MB ? mbps(r) : null,
      packetsPerSecond: r.m.ok && r.bytes >= MB ? r.packets / r.m.seconds : null,
      peakMB: r.m.peakKB === null ? null : peakMB(r),
      runs: r.m.runs,
    })),
    targets,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`figures written to ${out} (${fmt((Date.now() - started) / 1000, 0)} s in all)`);
  return a.strict && targets.some((t) => t.pass === false) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  },
);
