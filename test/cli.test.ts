/**
 * The command line as a user meets it, on captures written to a temporary directory by the synthetic
 * capture writer, checking exit codes, what goes to stdout and stderr, and that nothing a capture or an
 * argument holds can reach the terminal raw. Where the process itself is the matter (the exit code of a
 * real process, stdin from a real pipe, EPIPE, --version), `node bin/ftpscope.js ...` runs as a child
 * process; everywhere else the same command line runs in-process through main() with a fake Io (test/
 * cli-io.ts), which asserts the same exit code and output without the cost of starting node.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { collect } from './cli-io.js';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { main } from '../src/cli/main.js';
import type { ConnectionSummary } from '../src/flow/connection-log.js';
import { TcpConversation, framesToPcap, type Frame } from './support/capture-writer.js';

// ---------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------

/** The repository root, from the compiled file's place (dist/test/cli.test.js). */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'ftpscope.js');
const packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const dir = mkdtempSync(join(tmpdir(), 'ftpscope-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;

/** Writes bytes to a fresh file in the temporary directory (optionally with a given name) and returns its path. */
function writeTemp(data: Buffer | string, name = `capture-${++fileCount}.pcap`): string {
  const file = join(dir, name);
  writeFileSync(file, data);
  return file;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment of every run: no colour, no debug stack traces. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FTPSCOPE_DEBUG;
  return env;
}

/** Runs a command to its end, feeding `input` (or nothing) on stdin; killed after 60 s. */
function runCommand(file: string, args: string[], input?: Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: repoRoot, env: childEnv(), timeout: 60_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the program may exit without reading its input
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(input);
  });
}

/** `node bin/ftpscope.js ...args`. */
function ftpscope(args: string[], input?: Buffer): Promise<Run> {
  return runCommand(process.execPath, [bin, ...args], input);
}

/** `ftpscope ...args` in-process: main() with a fake Io (no colour; `input`, or nothing, on stdin). */
async function cli(args: string[], input?: Buffer): Promise<Run> {
  const f = collect(input);
  f.io.env = { NO_COLOR: '1' };
  const code = await main(args, f.io);
  return { code, signal: null, stdout: f.stdout(), stderr: f.stderr() };
}

/** The lines of a program's stderr (without the final newline). */
function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}

/** True when the text looks like a JavaScript stack trace. */
function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]/m.test(text) || /\bError: /.test(text);
}

interface JsonOutput {
  ftpscope: string;
  capture: { files: string; format: string; records: number; faults: unknown[] };
  connections: ConnectionSummary[];
}

function parseJson(stdout: string): JsonOutput {
  return JSON.parse(stdout) as JsonOutput;
}

// ---------------------------------------------------------------------------
// Synthetic captures
// ---------------------------------------------------------------------------

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

/** Client-to-server bytes of ftpSession(). */
const SESSION_COMMANDS = ['USER anonymous\r\n', 'PASS guest@\r\n', 'QUIT\r\n'];

/**
 * A short FTP control connection from CLIENT:clientPort to SERVER:21: handshake, greeting, login, QUIT,
 * client-first FIN teardown. Frames are 1 ms apart from startSec, shifted by offsetNsec.
 */
function ftpSession(clientPort: number, startSec = 1_700_000_000, offsetNsec = 0): Frame[] {
  const conv = new TcpConversation({ client: { ip: CLIENT, port: clientPort }, server: { ip: SERVER, port: 21 }, startSec })
    .handshake()
    .send(false, '220 ftpscope test server ready\r\n')
    .send(true, SESSION_COMMANDS[0]!)
    .send(false, '331 Guest login ok, send your e-mail address as password\r\n')
    .send(true, SESSION_COMMANDS[1]!)
    .send(false, '230 Guest login ok\r\n')
    .send(true, SESSION_COMMANDS[2]!)
    .send(false, '221 Goodbye\r\n')
    .close(true);
  return conv.frames.map((f) => shift(f, offsetNsec));
}

/** The frame moved later by nsec (less than a second). */
function shift(f: Frame, nsec: number): Frame {
  const total = f.tsNsec + nsec;
  return { tsSec: f.tsSec + Math.floor(total / 1e9), tsNsec: total % 1e9, data: f.data };
}

/** Frames of several lists merged by time. */
function byTime(...lists: Frame[][]): Frame[] {
  return lists.flat().sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
}

/** A capture of one normal FTP control connection, on Ethernet. */
function normalCapture(): { bytes: Buffer; frames: Frame[] } {
  const frames = ftpSession(40001);
  return { bytes: framesToPcap(frames, 'ethernet'), frames };
}

/** Byte offset of record `index` in a classic pcap written by framesToPcap(frames, 'raw'). */
function rawRecordOffset(frames: Frame[], index: number): number {
  let offset = 24;
  for (let i = 0; i < index; i++) offset += 16 + frames[i]!.data.length;
  return offset;
}

// ---------------------------------------------------------------------------
// A normal capture
// ---------------------------------------------------------------------------

test('a normal capture: exit 0, nothing on stderr, one row for the connection', async () => {
  const file = writeTemp(normalCapture().bytes);
  // Wide enough for a connection on one line (at 80 columns the list puts its fields one under the other).
  const r = await cli(['--view', 'connections', '--width', '200', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^1 TCP connection$/m);
  const row = r.stdout.split('\n').filter((l) => l.includes(`${CLIENT}:40001`));
  assert.equal(row.length, 1, r.stdout);
  assert.ok(row[0]!.includes(`${SERVER}:21`), row[0]);
  assert.match(row[0]!, /complete \(1,2,3\)/);
  assert.match(row[0]!, /FIN both, client first/);
});

test('--format json: valid JSON with capture.records and each connection\'s endpoints, handshake and teardown', async () => {
  const { bytes, frames } = normalCapture();
  const r = await cli(['--format', 'json', writeTemp(bytes)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = parseJson(r.stdout);
  assert.equal(out.capture.records, frames.length);
  assert.equal(out.connections.length, 1);
  const c = out.connections[0]!;
  assert.deepEqual(c.client, { address: CLIENT, port: 40001 });
  assert.deepEqual(c.server, { address: SERVER, port: 21 });
  assert.deepEqual([c.handshake.syn?.frame, c.handshake.synAck?.frame, c.handshake.ack?.frame], [1, 2, 3]);
  assert.ok(c.teardown.clientFin !== null && c.teardown.serverFin !== null, JSON.stringify(c.teardown));
  assert.ok(c.teardown.clientFin.frame < c.teardown.serverFin.frame, 'the client closed first');
  assert.equal(c.teardown.rst, null);
  assert.equal(c.toServer.deliveredBytes, Buffer.byteLength(SESSION_COMMANDS.join('')));
});

// ---------------------------------------------------------------------------
// --version, --help, usage errors
// ---------------------------------------------------------------------------

// A real process: what a user's shell sees, and how quickly node starts to print it.
test('--version prints the version from package.json and exits 0', async () => {
  const r = await ftpscope(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${packageVersion}\n`);
  assert.equal(r.stderr, '');
});

test('--help exits 0 and mentions every option', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const options = [
    '-v', '--view', '-f', '--format', '--ports', '--idle-timeout', '--max-connections', '--max-buffer',
    '--max-buffer-total', '--retransmit-window', '--color', '-h', '--help', '--version',
  ];
  for (const option of options) {
    // Whole option names only: --max-buffer must not be found inside --max-buffer-total.
    assert.match(r.stdout, new RegExp(`(^|[\\s,])${option}(?![\\w-])`, 'm'), `--help does not mention ${option}`);
  }
});

// A real process: its exit status is 2 (main()'s resolved code is tested in-process below).
test('an unknown option: exit 2, exactly one line on stderr, no stack trace, nothing on stdout', async () => {
  const r = await ftpscope(['--bogus-option', writeTemp(normalCapture().bytes)]);
  assert.equal(r.code, 2);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /bogus-option/);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  assert.equal(r.stdout, '');
});

test('no capture argument: exit 2, exactly one line on stderr, no stack trace', async () => {
  const r = await cli([]);
  assert.equal(r.code, 2);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  assert.equal(r.stdout, '');
});

test('an invalid --format value: exit 2, one stderr line that names the option and the value given', async () => {
  const r = await cli(['--format', 'xml', writeTemp(normalCapture().bytes)]);
  assert.equal(r.code, 2);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /format/);
  assert.match(r.stderr, /xml/);
});

test('--ports before the capture file: the file is still read as the capture', async () => {
  const file = writeTemp(normalCapture().bytes);
  const r = await cli(['--ports', '2121', '--view', 'connections', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^1 TCP connection$/m);
});

test('an unknown option containing terminal escapes is shown escaped on stderr', async () => {
  // An argument can be a file name from a glob (`ftpscope *`): it must not reach the terminal raw.
  const r = await cli(['--\x1b[31mred\x1b]0;title\x07', writeTemp(normalCapture().bytes)]);
  assert.equal(r.code, 2);
  assert.ok(!/[\x1b\x07]/.test(r.stderr), `raw control characters on stderr: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /\\x1b\[31mred/);
});

// ---------------------------------------------------------------------------
// Bad input files
// ---------------------------------------------------------------------------

// A real process: its exit status is 1.
test('a file that does not exist: exit 1, one stderr line naming the file', async () => {
  const missing = join(dir, 'no-such-capture.pcap');
  const r = await ftpscope([missing]);
  assert.equal(r.code, 1);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.ok(err[0]!.includes(missing), err[0]);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
});

test('a file cut mid-record: exit 1, one stderr line with the file and the cut record\'s byte offset; earlier connections listed', async () => {
  const first = ftpSession(40001, 1_700_000_000);
  const second = ftpSession(40002, 1_700_000_100);
  const frames = [...first, ...second];
  const whole = framesToPcap(frames, 'raw');
  const cutIndex = first.length + 4; // a record of the second connection, after its handshake
  const cutOffset = rawRecordOffset(frames, cutIndex);
  const file = writeTemp(whole.subarray(0, cutOffset + 16 + 10));

  const r = await cli(['--view', 'connections', '--width', '200', file]);
  assert.equal(r.code, 1);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.ok(err[0]!.includes(file), err[0]);
  assert.match(err[0]!, new RegExp(`\\bat byte ${cutOffset}\\b`), err[0]);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  const rows = r.stdout.split('\n').filter((l) => l.includes(`${CLIENT}:40001`) && l.includes(`${SERVER}:21`));
  assert.equal(rows.length, 1, `the connection before the cut is not listed:\n${r.stdout}`);
  assert.match(rows[0]!, /FIN both, client first/);
});

test('a text file instead of a capture: exit 1, one stderr line naming the file', async () => {
  const file = writeTemp('USER anonymous\r\nPASS guest\r\nthis is not a capture\n', 'notes.txt');
  const r = await cli([file]);
  assert.equal(r.code, 1);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.ok(err[0]!.includes(file), err[0]);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
});

// ---------------------------------------------------------------------------
// Standard input, several files
// ---------------------------------------------------------------------------

// Standard input is a real pipe into a child process; the file is read in-process.
test('- reads the capture from standard input: the same connections as from the file', async () => {
  const { bytes } = normalCapture();
  const fromFile = parseJson((await cli(['--format', 'json', writeTemp(bytes)])).stdout);
  const r = await ftpscope(['--format', 'json', '-'], bytes);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = parseJson(r.stdout);
  assert.equal(out.capture.records, fromFile.capture.records);
  assert.equal(out.connections.length, 1);
  assert.deepEqual(out.connections, fromFile.connections);
});

// Standard input is a real pipe into a child process; the file is read in-process.
test('- reads a gzip-compressed capture from standard input', async () => {
  const { bytes } = normalCapture();
  const fromFile = parseJson((await cli(['--format', 'json', writeTemp(bytes)])).stdout);
  const r = await ftpscope(['--format', 'json', '-'], gzipSync(bytes));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = parseJson(r.stdout);
  assert.match(out.capture.format, /gzip/);
  assert.equal(out.connections.length, 1);
  assert.deepEqual(out.connections, fromFile.connections);
});

test('two files merged: a capture split by alternating packets gives the same connections as the whole', async () => {
  // Three connections whose packets interleave in time, no two at the same instant.
  const frames = byTime(ftpSession(40001, 1_700_000_000, 0), ftpSession(40002, 1_700_000_000, 300_000), ftpSession(40003, 1_700_000_000, 600_000));
  const whole = writeTemp(framesToPcap(frames, 'ethernet'));
  const even = writeTemp(framesToPcap(frames.filter((_, i) => i % 2 === 0), 'ethernet'));
  const odd = writeTemp(framesToPcap(frames.filter((_, i) => i % 2 === 1), 'ethernet'));

  const one = await cli(['--format', 'json', whole]);
  const two = await cli(['--format', 'json', even, odd]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(two.stderr, '');
  const a = parseJson(one.stdout);
  const b = parseJson(two.stdout);
  assert.equal(a.connections.length, 3);
  assert.equal(b.capture.records, a.capture.records);
  assert.deepEqual(b.connections, a.connections);
});

// ---------------------------------------------------------------------------
// Terminal safety, pipes
// ---------------------------------------------------------------------------

test('a capture whose file name holds terminal escapes: the name is printed escaped on stdout and stderr', async () => {
  const { bytes } = normalCapture();
  // Cut inside the last record, so the name appears both in the header line and in the error line.
  const name = 'evil\x1b[31mred\x1b]0;title\x07.pcap';
  const file = writeTemp(bytes.subarray(0, bytes.length - 3), name);
  const r = await cli(['--view', 'connections', '--width', '200', file]);
  assert.equal(r.code, 1);
  for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    assert.ok(!/[\x1b\x07]/.test(text), `raw control characters on ${stream}: ${JSON.stringify(text)}`);
    assert.ok(text.includes('evil\\x1b[31mred\\x1b]0;title\\x07.pcap'), `${stream} does not show the escaped name: ${text}`);
  }
});

test('piped into head -1 (EPIPE): no stack trace, exit 0', { skip: process.env.FTPSCOPE_FAST === '1' && 'skipped in test:fast: a real shell pipeline over a 500-session capture (about 2 s); npm test runs it' }, async () => {
  // 500 connections make about a megabyte of JSON, far more than a pipe holds, so writes hit EPIPE.
  const sessions = Array.from({ length: 500 }, (_, i) => ftpSession(20000 + i, 1_700_000_000 + i));
  const file = writeTemp(framesToPcap(sessions.flat(), 'raw'));
  const script = '{ "$0" "$1" --format json "$2"; echo "ftpscope exit status $?" >&2; } | head -n 1';
  const r = await runCommand('sh', ['-c', script, process.execPath, bin, file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '{\n');
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  assert.equal(r.stderr, 'ftpscope exit status 0\n');
});

// ---------------------------------------------------------------------------
// main() in-process
// ---------------------------------------------------------------------------

const fakeIo = collect;

test('main() in-process: --version resolves to 0 and writes the version', async () => {
  const f = fakeIo();
  assert.equal(await main(['--version'], f.io), 0);
  assert.equal(f.stdout(), `${packageVersion}\n`);
  assert.equal(f.stderr(), '');
});

test('main() in-process: a JSON run resolves to 0 and lists the connection', async () => {
  const f = fakeIo();
  assert.equal(await main(['--format', 'json', writeTemp(normalCapture().bytes)], f.io), 0);
  assert.equal(f.stderr(), '');
  const out = parseJson(f.stdout());
  assert.equal(out.ftpscope, packageVersion);
  assert.deepEqual(out.connections.map((c) => [c.client.port, c.server.port]), [[40001, 21]]);
});

test('main() in-process: an unknown option resolves to 2 with one line on stderr', async () => {
  const f = fakeIo();
  assert.equal(await main(['--bogus', writeTemp(normalCapture().bytes)], f.io), 2);
  assert.equal(lines(f.stderr()).length, 1, f.stderr());
  assert.equal(f.stdout(), '');
});

test('main() in-process: a missing file resolves to 1 with one line naming it', async () => {
  const missing = join(dir, 'absent.pcap');
  const f = fakeIo();
  assert.equal(await main([missing], f.io), 1);
  const err = lines(f.stderr());
  assert.equal(err.length, 1, f.stderr());
  assert.ok(err[0]!.includes(missing), err[0]);
});

test('--format json is written an element at a time, and is exactly JSON.stringify with two spaces', async () => {
  const { writeJson, safeJson } = await import('../src/cli/main.js');
  const values: Array<Record<string, unknown>> = [
    {},
    { a: [], b: {}, c: null, d: 'x\u0085y\u2028', e: [1, 'two', { three: [3, [4]] }], f: undefined, g: [undefined, null], h: { i: [] } },
    { ftpscope: '0.1.0', sessions: [{ id: 1, exchanges: [{ command: 'USER', replies: [{ code: 331, lines: ['331 ok'] }] }] }, { id: 2, exchanges: [] }] },
    // What JSON.stringify leaves out or turns into null, and an odd key.
    { s: Symbol('x'), f: () => 1, t: { toJSON: () => undefined }, a: [Symbol('y'), () => 2, { toJSON: () => undefined }, NaN, -0], 'k\u2028': [1], n: Infinity },
    { list: Object.assign([1, 2], { toJSON: () => 'as one' }) },
  ];
  // Large: arrays past a few hundred items, at the top and inside an object inside an array (a session's exchanges).
  const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
  const large: Array<Record<string, unknown>> = [
    { timeline: many(1000, (i) => ({ at: i, kind: 'x\u202e', nested: [i, [i]] })), empty: [] },
    { sessions: [{ id: 1, user: 'u', exchanges: many(600, (i) => (i % 100 === 7 ? undefined : { i, f: () => 1, s: 'é\u2066' })), none: undefined, more: {} }, { id: 2, exchanges: [] }] },
    { odd: many(300, (i) => [Symbol('x'), () => i, { toJSON: () => undefined }, NaN][i % 4]), wrapped: Object.assign(many(500, (i) => i), { toJSON: () => 'one' }) },
  ];
  for (const v of [...values, ...large]) {
    const chunks: string[] = [];
    const out = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
    await writeJson(out, v);
    assert.equal(chunks.join(''), `${safeJson(v, 2)}\n`);
    if (large.includes(v)) assert.ok(chunks.length > 300, `written in pieces: ${chunks.length}`);
  }
});

test('each command\'s --help lists only its own options and arguments, with examples; -V is the version', async () => {
  const help = async (args: string[]) => {
    const io = collect();
    assert.equal(await main(args, io.io), 0, io.stderr());
    return io.stdout();
  };
  const top = await help(['--help']);
  const demo = await help(['demo', '--help']);
  const live = await help(['live', '--help']);
  const ifaces = await help(['interfaces', '--help']);
  for (const [name, text] of [['ftpscope', top], ['demo', demo], ['live', live], ['interfaces', ifaces]] as const) {
    assert.match(text, /Examples:\n(.+\n){2,}/, `${name}: two examples or more`);
  }
  // File options where files are read, live options where an interface is: never the other's.
  assert.match(top, /--session/);
  assert.doesNotMatch(top, /--interface|--buffer-size|--duration/);
  assert.match(demo, /--lang/);
  assert.doesNotMatch(demo, /Positionals|captures|--interface/);
  assert.match(live, /--interface[\s\S]*--filter[\s\S]*--write/);
  assert.doesNotMatch(live, /Positionals|--time-from/);
  assert.match(live, /--session[\s\S]*--host/);
  assert.match(ifaces, /--format/);
  assert.doesNotMatch(ifaces, /--view|--session|--interface|--max-/);
  // --format says every format it takes.
  assert.match(top, /--format[\s\S]*ndjson[\s\S]*zeek/);
  for (const flag of ['-V', '--version']) assert.equal((await help([flag])).trim(), packageVersion);
  // An option of another command still gets words of its own, not "unknown argument".
  const io = collect();
  assert.equal(await main(['live', '-i', 'lo', '--time-from', '+1'], io.io), 2);
  assert.match(io.stderr(), /--time-from does not apply to live capture/);
});

test('a word given for a number says what was expected and what was typed', async () => {
  for (const [args, expected] of [
    [['--ports', 'abc', 'x.pcap'], 'ftpscope: --ports takes port numbers from 1 to 65535, got "abc" (see ftpscope --help)'],
    [['--max-memory=lots', 'x.pcap'], 'ftpscope: --max-memory takes a number of MiB, 128 or more, got "lots" (see ftpscope --help)'],
    [['--width', '10', 'x.pcap'], 'ftpscope: --width takes a whole number of columns, 40 or more, got 10 (see ftpscope --help)'],
  ] as const) {
    const io = collect();
    assert.equal(await main([...args], io.io), 2);
    assert.equal(io.stderr().trim(), expected);
  }
});

test('progress on a terminal only, a few times a second at most, cleared at the end, never with --quiet', async () => {
  const { synFlood } = await import('../tools/fuzz/hostile.js');
  const path = writeTemp(synFlood(300_000), 'flood.pcap');
  const run = async (args: string[], tty: boolean) => {
    const io = collect();
    io.io.stderrIsTTY = tty;
    const began = Date.now();
    assert.equal(await main([...args, path], io.io), 0, io.stderr());
    return { err: io.stderr(), seconds: (Date.now() - began) / 1000 };
  };
  const shown = await run(['-v', 'connections'], true);
  const updates = shown.err.split('\r').filter((l) => l.startsWith('ftpscope: '));
  assert.ok(updates.length >= 2, `progress while reading and writing: ${JSON.stringify(shown.err.slice(0, 300))}`);
  assert.ok(updates.some((l) => /read, [\d,]+ packets/.test(l)) && updates.some((l) => /writing the connections/.test(l)), updates.join(' | '));
  assert.ok(updates.length <= shown.seconds * 4 + 2, `${updates.length} updates in ${shown.seconds} s`);
  assert.ok(shown.err.endsWith('\r\u001b[K'), 'the line is cleared at the end');
  assert.equal((await run(['-v', 'connections', '--quiet'], true)).err, '');
  assert.equal((await run(['-v', 'connections'], false)).err, '', 'never into a pipe or a file');
});
