/**
 * Inputs built to fool the program rather than to make it slow (issue 15 items 3 to 7): names that no file
 * system takes (traversal, NUL, reserved, too long, a file where a folder must go), bidi and invisible
 * characters in every string the wire sends, data offsets past what a file may hold, a full disk (a tiny
 * tmpfs, as root), gzip captures with a flipped CRC bit, bytes after the member or a cut, and capture
 * filters that try to widen `tcp`. `npm run fuzz -- --hostile` runs them after the growth cases
 * (hostile.ts); test/hostile-inputs.test.ts runs them in CI. Each is run through the CLI in every view and
 * format, with --extract into a folder of its own, and must: print its analysis, exit 0 (1 for a damaged
 * capture, with the byte offset), say no "internal error", write nothing outside the folder, and put no raw
 * control, bidi or invisible character on the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import { LiveError, captureFilter } from '../../src/capture/live-source.js';
import { ACK, FIN, PSH, TcpConversation, framesToPcap, tcpPacket, type Endpoint, type Frame } from '../../test/support/capture-writer.js';
import { collect } from '../../test/cli-io.js';
import { controlFailure } from './failures.js';

const CLIENT: Endpoint = { ip: '10.0.0.1', port: 40000 };
const SERVER: Endpoint = { ip: '10.0.0.2', port: 21 };

/** A file to download: its path on the server, its bytes, and the REST offset sent before it, if any. */
export interface Download {
  path: string;
  body: string;
  rest?: number;
  /** The data connection's frames instead of one carrying `body` (client and server as the EPSV gave them). */
  data?: (client: Endpoint, server: Endpoint) => Frame[];
}

/** One session (as `user`) that downloads each file in turn over its own passive data connection (EPSV). */
export function downloads(files: readonly Download[], user = 'u'): Frame[] {
  const frames: Frame[] = [];
  const ctl = new TcpConversation({ client: CLIENT, server: SERVER }).handshake();
  let taken = 0;
  const say = (fromClient: boolean, line: string) => {
    ctl.send(fromClient, `${line}\r\n`);
    frames.push(...ctl.frames.slice(taken));
    taken = ctl.frames.length;
  };
  frames.push(...ctl.frames);
  taken = ctl.frames.length;
  for (const [c, r] of [[null, '220 hi'], [`USER ${user}`, '331 pw'], ['PASS p', '230 ok'], ['TYPE I', '200 ok']] as const) {
    if (c !== null) say(true, c);
    say(false, r);
  }
  files.forEach(({ path, body, rest, data }, i) => {
    if (rest !== undefined) {
      say(true, `REST ${rest}`);
      say(false, `350 Restarting at ${rest}`);
    }
    say(true, 'EPSV');
    say(false, `229 Entering Extended Passive Mode (|||${50001 + i}|)`);
    say(true, `RETR ${path}`);
    say(false, '150 here');
    const ends = { client: { ip: CLIENT.ip, port: 40100 + i }, server: { ip: SERVER.ip, port: 50001 + i } };
    if (data !== undefined) frames.push(...data(ends.client, ends.server));
    else frames.push(...new TcpConversation({ ...ends, isnClient: 7000, isnServer: 9000 }).handshake().send(false, body).close(false).frames);
    say(false, '226 done');
  });
  say(true, 'QUIT');
  say(false, '221 bye');
  return frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000 }));
}

/** Names a server may send that no file system takes as they are, or that would leave the folder. */
export const HOSTILE_NAMES: readonly string[] = [
  '../../../../tmp/escape1', '/etc/passwd', 'a/../../b/../../escape2', '..\\..\\escape3', 'nul\u0000byte', 'CON', 'aux.txt',
  'trail. ', 'esc\u001b[31m', `${'L'.repeat(300)}.txt`, `${'d/'.repeat(40)}deep`, `/${'文'.repeat(100)}/${'文'.repeat(100)}.txt`,
  'invoice\u202efdp.exe', 'zero\u200bwidth', 'bom\ufeff', 'del\u007f', 'c1\u0085',
];

/** Every hostile name downloaded, then a file and a path through it (a file where a folder must go). */
export function hostileNames(): Buffer {
  return framesToPcap(downloads([...HOSTILE_NAMES.map((path) => ({ path, body: 'x' })), { path: '/a', body: 'first' }, { path: '/a/b/c', body: 'second' }]), 'ethernet');
}

/** A user, a greeting and a file whose names carry the right-to-left override and invisible characters. */
export function bidiSession(): Buffer {
  return framesToPcap(downloads([{ path: 'invoice\u202efdp.exe', body: 'MZ' }, { path: 'a\u2066b\u2069\u061c', body: 'y' }], 'admin\u202e\u200f'), 'ethernet');
}

/**
 * A data connection whose stream runs past 16 TiB (what ext4 lets a file hold): 8,300 one-byte segments,
 * each 2^31 - 1 sequence numbers after the one before and acknowledged, so that each hole is declared and
 * the byte is written at its offset. Then a file that must still be written.
 */
export function sparseOffsets(): Buffer {
  const far = (client: Endpoint, server: Endpoint): Frame[] => {
    const c = new TcpConversation({ client, server, isnClient: 7000, isnServer: 9000 }).handshake();
    const frames = [...c.frames];
    const toClient = { src: server.ip, dst: client.ip, sport: server.port, dport: client.port };
    const toServer = { src: client.ip, dst: server.ip, sport: client.port, dport: server.port };
    let seq = 9001;
    for (let k = 0; k < 8300; k++) {
      frames.push({ tsSec: 0, tsNsec: 0, data: tcpPacket({ ...toClient, seq, ack: 7001, flags: ACK | PSH }, Buffer.from('x')) });
      frames.push({ tsSec: 0, tsNsec: 0, data: tcpPacket({ ...toServer, seq: 7001, ack: (seq + 1) >>> 0, flags: ACK }) });
      seq = (seq + 2 ** 31 - 1) >>> 0;
    }
    frames.push({ tsSec: 0, tsNsec: 0, data: tcpPacket({ ...toClient, seq, ack: 7001, flags: ACK | FIN }) });
    frames.push({ tsSec: 0, tsNsec: 0, data: tcpPacket({ ...toServer, seq: 7001, ack: (seq + 1) >>> 0, flags: ACK | FIN }) });
    frames.push({ tsSec: 0, tsNsec: 0, data: tcpPacket({ ...toClient, seq: (seq + 1) >>> 0, ack: 7002, flags: ACK }) });
    return frames;
  };
  return framesToPcap(downloads([{ path: '/sparse.bin', body: '', data: far }, { path: '/after.bin', body: 'still written' }]), 'ethernet');
}

/** A 200 kB download, for a disk that has room for less. */
export function bigDownload(): Buffer {
  return framesToPcap(downloads([{ path: '/big.bin', body: 'z'.repeat(200_000) }]), 'ethernet');
}

/** A gzip capture damaged one way, and the compressed byte offset the error must name (at least). */
export interface BadGzip {
  name: string;
  bytes: Buffer;
  /** The fault is at or after this byte of the compressed file. */
  from: number;
}

/** The capture gzipped, then damaged: a CRC bit flipped, bytes after the member, the member cut short. */
export function badGzips(capture: Buffer): BadGzip[] {
  const gz = gzipSync(capture);
  const crc = Buffer.from(gz);
  crc[crc.length - 8]! ^= 1;
  return [
    { name: 'a flipped CRC bit', bytes: crc, from: gz.length - 8 },
    { name: 'bytes after the member', bytes: Buffer.concat([gz, Buffer.from('trailing garbage')]), from: gz.length },
    { name: 'a cut member', bytes: gz.subarray(0, gz.length - 100), from: 0 },
  ];
}

/** Capture filters that would widen `tcp` if pasted into `tcp and (...)`: each must be refused. */
export const FILTER_INJECTIONS: readonly string[] = ['1=1) or (udp', 'port 21) or (udp', ') or (udp', 'port 21)) or ((udp', 'udp) or (tcp', '1=1) or udp or (1=1', 'port 21\u0000) or (udp', 'host a\u202e) or (udp'];

/** Mounts a tmpfs of `size` on a fresh folder for `fn` (root only: null otherwise), and takes it away after. */
export async function withTinyDisk<T>(size: string, fn: (dir: string) => Promise<T>): Promise<T | null> {
  if (process.getuid?.() !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-tiny-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    try {
      return await fn(dir);
    } finally {
      execFileSync('umount', [dir]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const VIEWS: readonly string[][] = [
  ['-v', 'timeline'], ['-v', 'walkthrough'], ['-v', 'walkthrough', '--lang', 'zh'], ['-v', 'ladder'], ['-v', 'packets'], ['-v', 'summary'], ['-v', 'connections'],
  ['--format', 'json'], ['--format', 'ndjson'], ['--format', 'zeek'],
];

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : [p.slice(base.length + 1)];
  });
}

/** One capture through the CLI in every view and format, with --extract in a folder of its own: what went wrong, in lines. */
async function runEverywhere(name: string, bytes: Buffer, expect: { exit: number; stdout?: RegExp; stderr?: RegExp }, extractInto?: string): Promise<string[]> {
  const problems: string[] = [];
  const parent = mkdtempSync(join(tmpdir(), 'ftpscope-hostile-in-'));
  try {
    const path = join(parent, 'capture');
    writeFileSync(path, bytes);
    for (const view of VIEWS) {
      const out = join(extractInto ?? parent, `out-${view.join('')}`);
      const io = collect();
      const what = `${name}, ftpscope ${view.join(' ')}`;
      let code: number;
      try {
        code = await main([...view, '--extract', out, path], io.io);
      } catch (e) {
        problems.push(`${what}: threw ${String(e)}`);
        continue;
      }
      const stdout = io.stdout();
      const stderr = io.stderr();
      if (code !== expect.exit) problems.push(`${what}: exit ${code}, not ${expect.exit}: ${stderr.split('\n')[0]}`);
      if (/internal error|\bat .*\.js:\d+/.test(stderr)) problems.push(`${what}: ${stderr.split('\n')[0]}`);
      if (stdout.length === 0) problems.push(`${what}: printed nothing`);
      if (expect.stdout !== undefined && view[1] === 'summary' && !expect.stdout.test(stdout)) problems.push(`${what}: the summary does not match ${expect.stdout}`);
      if (expect.stderr !== undefined && !expect.stderr.test(stderr)) problems.push(`${what}: stderr does not match ${expect.stderr}: ${stderr.split('\n')[0]}`);
      for (const [where, text] of [['stdout', stdout], ['stderr', stderr]] as const) {
        const f = controlFailure(where, text, view.includes('zeek') && where === 'stdout');
        if (f !== null) problems.push(`${what}: ${where}: ${f.message} ${f.detail ?? ''}`);
      }
      // The extracted names: no raw control or format character either.
      const names = (() => {
        try {
          return filesUnder(out);
        } catch {
          return [];
        }
      })();
      const bad = names.find((n) => controlFailure('name', n, false) !== null);
      if (bad !== undefined) problems.push(`${what}: extracted as ${JSON.stringify(bad)}`);
    }
    // Nothing beside the capture and the extraction folders.
    const beside = readdirSync(parent).filter((n) => n !== 'capture' && !n.startsWith('out-'));
    if (beside.length > 0) problems.push(`${name}: written beside the folder: ${beside.join(', ')}`);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
  return problems;
}

/** Runs every hostile input; says a line for each, and resolves to the problems found (none: all held). */
export async function runHostileInputs(say: (line: string) => void = console.log): Promise<string[]> {
  const problems: string[] = [];
  const check = (name: string, found: string[]) => {
    say(`${name}: ${found.length === 0 ? 'held' : `${found.length} problem(s)`}`);
    problems.push(...found);
  };
  check('hostile names', await runEverywhere('hostile names', hostileNames(), { exit: 0, stdout: /Transfers \(19\)/ }));
  check('bidi and invisible characters', await runEverywhere('bidi session', bidiSession(), { exit: 0, stdout: /admin\\u202e\\u200f/ }));
  check('an offset past 16 TiB', await runEverywhere('sparse offsets', sparseOffsets(), { exit: 0, stdout: /Transfers \(2\)/ }));
  for (const g of badGzips(hostileNames())) {
    const found = await runEverywhere(`gzip with ${g.name}`, g.bytes, { exit: 1, stderr: /at byte \d+/ });
    const offset = await (async () => {
      const io = collect();
      const dir = mkdtempSync(join(tmpdir(), 'ftpscope-gz-'));
      try {
        writeFileSync(join(dir, 'c.gz'), g.bytes);
        await main(['-v', 'summary', join(dir, 'c.gz')], io.io);
        return Number(/at byte (\d+)/.exec(io.stderr())?.[1] ?? -1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    if (offset < g.from || offset > g.bytes.length) found.push(`gzip with ${g.name}: the error names byte ${offset}, not one from ${g.from} to ${g.bytes.length}`);
    check(`gzip with ${g.name}`, found);
  }
  const disk = await withTinyDisk('64k', (dir) => runEverywhere('a 200 kB file onto a 64 kB disk', bigDownload(), { exit: 0, stdout: /FTP sessions \(1\)/ }, dir));
  if (disk === null) say('a full disk: not run (mounting a tmpfs needs root)');
  else check('a full disk', disk);
  const widened: string[] = [];
  for (const f of FILTER_INJECTIONS) {
    try {
      widened.push(`--filter ${JSON.stringify(f)} was accepted as ${JSON.stringify(captureFilter(f))}`);
    } catch (e) {
      if (!(e instanceof LiveError) || /[\n\r]/.test(e.message)) widened.push(`--filter ${JSON.stringify(f)}: ${String(e)}`);
    }
  }
  check('filter injection', widened);
  return problems;
}
