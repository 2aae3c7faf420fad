/**
 * The live benchmark: `npm run bench -- --live [--soak]` (root; it skips, saying why, otherwise).
 *
 * Two network namespaces of its own (ftpsl-a, ftpsl-b) joined by a veth pair (ftpsl0, ftpsl1, offloads
 * off); tcpreplay sends the first --packets packets of a capture into ftpsl0 at fixed rates; on ftpsl1,
 * `ftpscope live --format ndjson` and `tcpdump -B 65536` listen side by side, each with a 64 MiB kernel
 * buffer (and, in runs of their own, a bare cap callback that only counts: the ceiling of the capture library). Per rate it reports the packets
 * each saw, the kernel's drops, what ftpscope found against the same packets analysed as a file (sessions,
 * transfers, bytes, findings, and whether every transfer is the same), its CPU time and peak memory.
 * `--soak` instead replays the whole capture (every session in it ends) in a loop (tcpreplay --unique-ip: new addresses each round) at 50k packets/s for
 * --soak-minutes (10), with ftpscope's own defaults, and checks that memory stays under 150 MB and nothing is lost.
 *
 * Nothing leaves the namespaces: the frames go into one end of the veth pair and are read at the other.
 * The namespaces are deleted at the end, on an error, and on Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { countPackets, gnuTime, median, which } from './measure.js';

const NS_SEND = 'ftpsl-a';
const NS_LISTEN = 'ftpsl-b';
const IF_SEND = 'ftpsl0';
const IF_LISTEN = 'ftpsl1';
const TARGET_SOAK_MB = 150;
/** The kernel buffer every listener gets in the rate runs: tcpdump -B 65536, as issue 17 measured. */
const BUFFER_MIB = 64;

export interface LiveBenchOptions {
  root: string;
  capture: string;
  /** Packets of the capture replayed (the first ones); null: 200,000 at fixed rates, the whole capture in the soak. */
  packets: number | null;
  rates: Array<number | 'top'>;
  runs: number;
  bare: boolean;
  /** More arguments for ftpscope live (--live-args). */
  liveArgs: string[];
  soakMinutes: number | null;
  out: string;
  log: (line: string) => void;
}

/** Why the live benchmark cannot run here, or null. */
export function liveBenchMissing(root: string): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, a veth pair, libpcap)';
  for (const tool of ['ip', 'tcpreplay', 'tcpdump', 'ethtool']) if (which(tool) === null) return `${tool} is not installed (apt-get install ${tool === 'ip' ? 'iproute2' : tool})`;
  if (gnuTime() === null) return 'GNU time (/usr/bin/time) is not installed (apt-get install time)';
  try {
    createRequire(join(root, 'package.json'))('cap');
  } catch (e) {
    return `the cap module cannot be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
  return null;
}

const sh = (argv: string[], okToFail = false): string => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 && !okToFail) throw new Error(`${argv.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout ?? '';
};

/** Deletes the namespaces (and the veth pair with them); safe to call when they do not exist. */
export function teardown(): void {
  for (const ns of [NS_SEND, NS_LISTEN]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 30_000 });
}

function setup(): void {
  teardown();
  sh(['ip', 'netns', 'add', NS_SEND]);
  sh(['ip', 'netns', 'add', NS_LISTEN]);
  sh(['ip', 'link', 'add', IF_SEND, 'netns', NS_SEND, 'type', 'veth', 'peer', 'name', IF_LISTEN, 'netns', NS_LISTEN]);
  for (const [ns, ifc] of [[NS_SEND, IF_SEND], [NS_LISTEN, IF_LISTEN]] as const) {
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', ifc, 'up']);
    // Ordinary frames, as the capture has them: no segmentation or receive offload on the pair.
    sh(['ip', 'netns', 'exec', ns, 'ethtool', '-K', ifc, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], true);
  }
}

/** The first `count` records of a classic pcap file, written to `to` (the same bytes). */
export function headOfCapture(from: string, to: string, count: number): number {
  const fd = openSync(from, 'r');
  const out = openSync(to, 'w');
  const buf = Buffer.allocUnsafe(1 << 22);
  try {
    let filled = readSync(fd, buf, 0, buf.length, 0);
    let pos = 0;
    let fileOff = filled;
    const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
    if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${from}: not a classic pcap file`);
    writeSync(out, buf, 0, 24);
    pos = 24;
    let n = 0;
    while (n < count) {
      if (filled - pos < 16 || filled - pos < 16 + (le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8))) {
        buf.copy(buf, 0, pos, filled);
        filled -= pos;
        pos = 0;
        const got = readSync(fd, buf, filled, buf.length - filled, fileOff);
        if (got === 0) break;
        filled += got;
        fileOff += got;
        continue;
      }
      const len = 16 + (le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8));
      writeSync(out, buf, pos, len);
      pos += len;
      n++;
    }
    return n;
  } finally {
    closeSync(fd);
    closeSync(out);
  }
}

/** What an NDJSON run of ftpscope found: the keys of its sessions, transfers and findings, and its end record. */
interface Found {
  sessions: string[];
  transfers: string[];
  findings: string[];
  bytes: number;
  end: Record<string, unknown> | null;
}

function readNdjson(path: string): Found {
  const f: Found = { sessions: [], transfers: [], findings: [], bytes: 0, end: null };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{"type":"session-end"') && !line.startsWith('{"type":"transfer-end"') && !line.startsWith('{"type":"finding"') && !line.startsWith('{"type":"end"')) continue;
    const e = JSON.parse(line) as Record<string, any>;
    if (e.type === 'session-end') {
      const s = e.session;
      f.sessions.push(`${s.id} ${s.client.address}:${s.client.port} ${s.server.address}:${s.server.port} ${s.user} ${s.commands?.length ?? s.commandCount ?? ''}`);
    } else if (e.type === 'transfer-end') {
      const t = e.transfer;
      f.transfers.push(`${t.session}/${t.id} ${t.command} ${t.path} ${t.bytes} missing ${t.missingBytes} ${t.status}`);
      f.bytes += t.bytes as number;
    } else if (e.type === 'finding') {
      f.findings.push(`${e.finding?.kind ?? e.kind} ${e.finding?.session ?? e.session}`);
    } else f.end = e;
  }
  for (const a of [f.sessions, f.transfers, f.findings]) a.sort();
  return f;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** One listener: a child in the listening namespace, its standard output and error to files. */
class Listener {
  readonly child: ChildProcess;
  private err = '';
  readonly ended: Promise<number>;
  constructor(argv: string[], readonly outFile: string, cwd: string) {
    this.child = spawn('ip', ['netns', 'exec', NS_LISTEN, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.pipe(createWriteStream(outFile));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.ended = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 0))));
  }
  get stderr(): string {
    return this.err;
  }
  /** Waits until standard error says `pattern` (the listener is capturing), or fails after 20 s. */
  async ready(pattern: RegExp): Promise<void> {
    const t0 = Date.now();
    while (!pattern.test(this.err)) {
      if (this.child.exitCode !== null || Date.now() - t0 > 20_000) throw new Error(`listener did not start: ${this.err.trim()}`);
      await sleep(50);
    }
  }
  /** SIGINT to `pid` (the process that captures: the child itself, or the one GNU time runs). */
  interrupt(pid = this.child.pid!): void {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of the one child of `pid` (GNU time's), read from /proc. */
function childOf(pid: number): number | null {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids[0] ?? null;
  } catch {
    return null;
  }
}

interface Replay {
  sent: number;
  seconds: number;
  pps: number;
}

async function replay(capture: string, rate: number | 'top', extra: string[] = []): Promise<Replay> {
  const args = ['netns', 'exec', NS_SEND, 'tcpreplay', '-i', IF_SEND, rate === 'top' ? '--topspeed' : `--pps=${rate}`, ...extra, capture];
  const r = await new Promise<string>((resolve, reject) => {
    const c = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    c.stdout.on('data', (d: Buffer) => (text += d.toString()));
    c.stderr.on('data', (d: Buffer) => (text += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`tcpreplay failed: ${text.trim()}`))));
  });
  const actual = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(r);
  const rated = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(r);
  return { sent: Number(actual?.[1] ?? NaN), seconds: Number(actual?.[3] ?? NaN), pps: Number(rated?.[1] ?? NaN) };
}

function tcpdumpStats(stderr: string): { seen: number; dropped: number } {
  const seen = /(\d+) packets? captured/.exec(stderr);
  const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
  return { seen: Number(seen?.[1] ?? NaN), dropped: Number(dropped?.[1] ?? NaN) };
}

/** A cap callback that only counts, printing the count on SIGINT: the ceiling of the capture library. */
const BARE_CAP = `const {Cap}=require('cap');const c=new Cap();const b=Buffer.alloc(65535);let n=0;
c.open(process.argv[1],'tcp',Number(process.argv[2])<<20,b);c.on('packet',()=>{n++});process.stderr.write('capturing\\n');
process.on('SIGINT',()=>{c.close();process.stdout.write(String(n)+'\\n');process.exit(0)});`;

interface RateRun {
  rate: number | 'top';
  replay: Replay;
  tcpdump: { seen: number; dropped: number };
  ftpscope: {
    seen: number;
    dropped: number;
    kernel: Record<string, unknown> | null;
    shed: unknown;
    sessions: number;
    transfers: number;
    bytes: number;
    findings: number;
    same: boolean;
    cpuSeconds: number;
    peakMB: number;
    exit: number;
  };
  load: number;
}

/** One replay at one rate with ftpscope and tcpdump listening. */
async function rateRun(o: LiveBenchOptions, capture: string, rate: number | 'top', file: Found, ftpscopeArgs: string[], extraReplay: string[] = [], settleMs = 2000): Promise<RateRun> {
  const dir = tmpdir();
  const timeFile = join(dir, `ftpsl-time-${process.pid}.txt`);
  const td = new Listener(['tcpdump', '-n', '-i', IF_LISTEN, '-B', String(BUFFER_MIB * 1024), '-w', '/dev/null', 'tcp'], join(dir, `ftpsl-tcpdump-${process.pid}.txt`), o.root);
  const fs = new Listener([gnuTime()!, '-f', '%e %U %S %M', '-o', timeFile, process.execPath, join(o.root, 'bin', 'ftpscope.js'), 'live', '-i', IF_LISTEN, '--format', 'ndjson', ...ftpscopeArgs], join(dir, `ftpsl-live-${process.pid}.ndjson`), o.root);
  try {
    await td.ready(/listening on/);
    await fs.ready(/capturing on/);
    const load = loadavg()[0]!;
    const r = await replay(capture, rate, extraReplay);
    await sleep(settleMs);
    td.interrupt();
    fs.interrupt(childOf(fs.child.pid!) ?? fs.child.pid!);
    await td.ended;
    const exit = await fs.ended;
    const [, user, sys, maxKB] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    const live = readNdjson(fs.outFile);
    const end = (live.end ?? {}) as Record<string, any>;
    const notes = (end.live ?? {}) as Record<string, any>;
    return {
      rate,
      replay: r,
      tcpdump: tcpdumpStats(td.stderr),
      ftpscope: {
        seen: notes.packets ?? NaN,
        dropped: notes.dropped ?? NaN,
        kernel: notes.kernel ?? null,
        shed: notes.shed ?? null,
        sessions: live.sessions.length,
        transfers: live.transfers.length,
        bytes: live.bytes,
        findings: live.findings.length,
        same: sameList(live.sessions, file.sessions) && sameList(live.transfers, file.transfers) && sameList(live.findings, file.findings),
        cpuSeconds: (user ?? NaN) + (sys ?? NaN),
        peakMB: ((maxKB ?? NaN) * 1024) / 1e6,
        exit,
      },
      load,
    };
  } finally {
    for (const l of [td, fs]) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    rmSync(timeFile, { force: true });
  }
}

/** One replay with only the bare cap counter listening. */
async function bareRun(o: LiveBenchOptions, capture: string, rate: number | 'top'): Promise<{ seen: number; sent: number }> {
  const l = new Listener([process.execPath, '-e', BARE_CAP, IF_LISTEN, String(BUFFER_MIB)], join(tmpdir(), `ftpsl-bare-${process.pid}.txt`), o.root);
  try {
    await l.ready(/capturing/);
    const r = await replay(capture, rate);
    await sleep(1000);
    l.interrupt();
    await l.ended;
    await sleep(100);
    return { seen: Number(readFileSync(l.outFile, 'utf8').trim()), sent: r.sent };
  } finally {
    if (l.child.exitCode === null) l.child.kill('SIGKILL');
  }
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '-');

/** Runs the live benchmark; returns the exit status. */
export async function liveBench(o: LiveBenchOptions): Promise<number> {
  const missing = liveBenchMissing(o.root);
  if (missing !== null) {
    console.log(`SKIP  live benchmark: ${missing}`);
    return 0;
  }
  const cleanup = () => teardown();
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.on('exit', cleanup);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    setup();
    return o.soakMinutes !== null ? await soak(o) : await rates(o);
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function rates(o: LiveBenchOptions): Promise<number> {
  const packets = o.packets ?? 200_000;
  const head = join(tmpdir(), `ftpsl-head-${packets}.pcap`);
  const got = headOfCapture(o.capture, head, packets);
  o.log(`live benchmark: the first ${fmt(got)} packets of ${o.capture}; load average ${fmt(loadavg()[0]!, 2)}`);
  const fileOut = join(tmpdir(), `ftpsl-file-${process.pid}.ndjson`);
  const r = spawnSync(process.execPath, [join(o.root, 'bin', 'ftpscope.js'), '--format', 'ndjson', head], { stdio: ['ignore', openSync(fileOut, 'w'), 'inherit'] });
  if (r.status !== 0) throw new Error(`ftpscope --format ndjson ${head} failed`);
  const file = readNdjson(fileOut);
  o.log(`  as a file: ${file.sessions.length} sessions, ${file.transfers.length} transfers, ${fmt(file.bytes)} bytes, ${file.findings.length} findings`);
  const runs: RateRun[] = [];
  const bare: Array<{ rate: number | 'top'; seen: number; sent: number }> = [];
  for (const rate of o.rates) {
    for (let i = 0; i < o.runs; i++) {
      if (o.bare) {
        const b = await bareRun(o, head, rate);
        bare.push({ rate, ...b });
        o.log(`  ${rate}: bare cap ${fmt(b.seen)} of ${fmt(b.sent)}`);
      }
      // The same kernel buffer as tcpdump's and the bare callback's, unless --live-args says otherwise.
      const x = await rateRun(o, head, rate, file, o.liveArgs.includes('--buffer-size') ? o.liveArgs : ['--buffer-size', String(BUFFER_MIB), ...o.liveArgs]);
      runs.push(x);
      const f = x.ftpscope;
      o.log(`  ${rate}: sent ${fmt(x.replay.sent)} at ${fmt(x.replay.pps)}/s; tcpdump ${fmt(x.tcpdump.seen)} (${fmt(x.tcpdump.dropped)} dropped); ftpscope ${fmt(f.seen)} (kernel ${JSON.stringify(f.kernel)}, shed ${JSON.stringify(f.shed)}), ${f.sessions}/${f.transfers}/${f.findings} ${f.same ? 'same as the file' : 'DIFFERENT'}, ${fmt(f.cpuSeconds, 2)} s CPU, ${fmt(f.peakMB)} MB; load ${fmt(x.load, 2)}`);
    }
  }
  rmSync(head, { force: true });
  rmSync(fileOut, { force: true });
  const med = (xs: number[]) => median(xs.filter(Number.isFinite));
  const lines = [
    '',
    `Live: ${fmt(got)} packets of 1,514-byte frames replayed into a veth pair; every listener with a ${BUFFER_MIB} MiB kernel buffer${o.liveArgs.length > 0 ? ` (ftpscope: ${o.liveArgs.join(' ')})` : ''}; medians of ${o.runs} run${o.runs === 1 ? '' : 's'}; ${cpus().length} cores; as a file: ${file.sessions.length} sessions, ${file.transfers.length} transfers, ${file.findings.length} findings`,
    '| rate (pkt/s) | sent at | tcpdump seen / dropped | bare cap seen | ftpscope seen / kernel dropped | sessions / transfers / findings | same as file | CPU s | peak MB | load |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const rate of o.rates) {
    const rs = runs.filter((x) => x.rate === rate);
    const bs = bare.filter((x) => x.rate === rate);
    const kdrop = rs.map((x) => Number((x.ftpscope.kernel as Record<string, unknown> | null)?.drop ?? NaN));
    lines.push(`| ${rate === 'top' ? 'top' : fmt(rate)} | ${fmt(med(rs.map((x) => x.replay.pps)))} | ${fmt(med(rs.map((x) => x.tcpdump.seen)))} / ${fmt(med(rs.map((x) => x.tcpdump.dropped)))} | ${bs.length ? fmt(med(bs.map((x) => x.seen))) : '-'} | ${fmt(med(rs.map((x) => x.ftpscope.seen)))} / ${fmt(med(kdrop))} | ${fmt(med(rs.map((x) => x.ftpscope.sessions)))} / ${fmt(med(rs.map((x) => x.ftpscope.transfers)))} / ${fmt(med(rs.map((x) => x.ftpscope.findings)))} of ${file.sessions.length} / ${file.transfers.length} / ${file.findings.length} | ${rs.filter((x) => x.ftpscope.same).length} of ${rs.length} | ${fmt(med(rs.map((x) => x.ftpscope.cpuSeconds)), 2)} | ${fmt(Math.max(...rs.map((x) => x.ftpscope.peakMB)))} | ${fmt(med(rs.map((x) => x.load)), 2)} |`);
  }
  console.log(lines.join('\n'));
  writeFileSync(o.out, `${JSON.stringify({ date: new Date().toISOString(), mode: 'live', capture: o.capture, packets: got, file: { sessions: file.sessions.length, transfers: file.transfers.length, bytes: file.bytes, findings: file.findings.length }, runs, bare }, null, 2)}\n`);
  o.log(`figures written to ${o.out}`);
  return 0;
}

async function soak(o: LiveBenchOptions): Promise<number> {
  const rate = 50_000;
  // The whole capture by default: every session in it ends, so rounds leave nothing open behind them.
  const head = o.packets === null ? o.capture : join(tmpdir(), `ftpsl-head-${o.packets}.pcap`);
  const got = o.packets === null ? await countPackets(o.capture) : headOfCapture(o.capture, head, o.packets);
  const loops = Math.max(1, Math.ceil((o.soakMinutes! * 60 * rate) / got));
  o.log(`live soak: ${fmt(got)} packets x ${loops} loops (--unique-ip) at ${fmt(rate)}/s, about ${fmt((loops * got) / rate / 60, 1)} minutes; load average ${fmt(loadavg()[0]!, 2)}`);
  const empty: Found = { sessions: [], transfers: [], findings: [], bytes: 0, end: null };
  // ftpscope as it ships (its default --buffer-size): the memory target is its.
  const x = await rateRun(o, head, rate, empty, o.liveArgs, [`--loop=${loops}`, '--unique-ip'], 3000);
  if (head !== o.capture) rmSync(head, { force: true });
  const f = x.ftpscope;
  const kernelDrop = Number((f.kernel as Record<string, unknown> | null)?.drop ?? NaN);
  const lost = x.replay.sent - f.seen;
  const pass = f.peakMB < TARGET_SOAK_MB && lost === 0 && f.dropped === 0 && kernelDrop === 0;
  console.log([
    '',
    `Soak: sent ${fmt(x.replay.sent)} packets in ${fmt(x.replay.seconds)} s (${fmt(x.replay.pps)}/s); tcpdump ${fmt(x.tcpdump.seen)} (${fmt(x.tcpdump.dropped)} dropped); ftpscope ${fmt(f.seen)} seen, ${fmt(kernelDrop)} dropped by the kernel, ${fmt(f.dropped)} by ftpscope; ${f.sessions} sessions, ${f.transfers} transfers; ${fmt(f.cpuSeconds)} s CPU; peak ${fmt(f.peakMB)} MB; load ${fmt(x.load, 2)}`,
    `${pass ? 'PASS' : 'FAIL'}  soak: peak ${fmt(f.peakMB)} MB, ${fmt(lost)} packets not seen [target under ${TARGET_SOAK_MB} MB, none lost]`,
  ].join('\n'));
  writeFileSync(o.out, `${JSON.stringify({ date: new Date().toISOString(), mode: 'soak', capture: o.capture, packets: got, loops, run: x, pass }, null, 2)}\n`);
  return pass ? 0 : 1;
}
