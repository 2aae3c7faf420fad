/**
 * Live capture (`ftpscope live`) on real traffic: vsftpd and real clients (curl, lftp or tnftp) talking
 * inside network namespaces made by these tests, ftpscope capturing in the client's namespace (or on the
 * loopback of a namespace of its own), stopped with SIGINT as a user would.
 *
 * Needs root, `ip netns`, vsftpd, curl, lftp or tnftp, ethtool and a loadable `cap` module; without them
 * every test is skipped, saying why — except under CI=true, where that is a failure. Traffic never leaves
 * the namespaces (see live-helpers.ts). Set FTPSCOPE_KEEP_LIVE=1 to keep the temporary directories.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionSummary } from '../src/flow/connection-log.js';
import type { FtpSession, TimelineEvent, Transfer } from '../src/model/ftp-model.js';
import {
  BIN,
  CLIENT4,
  CLIENT6,
  FTP_BADPASS,
  FTP_PASS,
  FTP_USER,
  IF_CLIENT,
  NS_CLIENT,
  NS_LOOP,
  NS_SERVER,
  SERVER4,
  SERVER4_SLOW,
  SERVER6,
  assertNoCrash,
  backgroundIn,
  cleanupAll,
  findProgram,
  mtu,
  parseNdjson,
  readPcapFacts,
  ready,
  run,
  runIn,
  seededBytes,
  setupLoopbackNamespace,
  setupPair,
  setupUser,
  sleep,
  startLive,
  startVsftpd,
  stopLive,
  sysctlIn,
  tail,
  tempDir,
  vsftpdLog,
  waitConnectionsClosed,
  writeTree,
  type Background,
  type Need,
  type RunResult,
} from './live-helpers.js';

after(cleanupAll);

const PAIR_NEEDS: Need[] = ['root', 'netns', 'ethtool', 'vsftpd', 'user-tools', 'curl', 'cap'];

// ---------------------------------------------------------------------------
// The lab: two namespaces, vsftpd on IPv4 and IPv6, the served tree (made once, on first use)
// ---------------------------------------------------------------------------

const HELLO = 'Hello from the ftpscope live test server.\nThis small text file is served by vsftpd inside a network namespace.\n';
const NOTE = 'This note was uploaded with STOR during an ftpscope live test.\n';

interface Lab {
  dir: string;
  srv: string;
  cli: string;
  /** The served files: FTP path -> content. */
  files: Map<string, Buffer>;
  vsftpd: Background[];
}

let labPromise: Promise<Lab> | null = null;

function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const dir = tempDir('ftpscope-live-');
    const srv = join(dir, 'srv');
    const cli = join(dir, 'cli');
    const files = new Map<string, Buffer>([
      ['/hello.txt', Buffer.from(HELLO)],
      ['/data-4k.bin', seededBytes(4096, 31000001)],
      ['/data-100k.bin', seededBytes(102_400, 31000002)],
      ['/data-200k.bin', seededBytes(204_800, 31000003)],
    ]);
    writeTree(srv, Object.fromEntries([...files].map(([p, b]) => [p.slice(1), b])), ['upload']);
    mkdirSync(cli, { recursive: true });
    writeFileSync(join(cli, 'note.txt'), NOTE);
    await setupPair();
    await setupUser(srv, ['upload']);
    const vsftpd = [
      await startVsftpd(NS_SERVER, { root: srv, address: SERVER4, dir, tag: 'v4' }),
      await startVsftpd(NS_SERVER, { root: srv, address: SERVER6, dir, tag: 'v6' }),
    ];
    return { dir, srv, cli, files, vsftpd };
  })();
  return labPromise;
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Runs a client in the client namespace, from the clients' directory; it must end as expected. */
async function client(l: Lab, label: string, file: string, args: string[], opts: { input?: string; exit?: number } = {}): Promise<RunResult> {
  const r = await runIn(NS_CLIENT, file, args, { cwd: l.cli, timeoutMs: 30_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  if (r.code !== (opts.exit ?? 0)) {
    throw new Error(`client "${label}" (${file} ${args.join(' ')}) ended with ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}, ` +
      `expected ${opts.exit ?? 0} — the test setup failed, not ftpscope.\nclient output: ${tail(r.stderr + r.stdout, 800)}\nvsftpd log: ${vsftpdLog(l.dir, 'v4')}`);
  }
  return r;
}

/** The client's copy of a downloaded file equals the served one. */
function assertDownloaded(l: Lab, local: string, ftpPath: string): void {
  const got = readFileSync(join(l.cli, local));
  assert.equal(sha(got), sha(l.files.get(ftpPath)!), `the client's ${local} differs from the served ${ftpPath} (setup problem)`);
}

/**
 * The bytes of a listing on the wire, from curl's copy: vsftpd ends each line with CRLF, and curl, in
 * ASCII mode (TYPE A), writes LF alone.
 */
function listingOnWire(copy: Buffer): number {
  if (copy.includes(13)) return copy.length;
  let lines = 0;
  for (const b of copy) if (b === 10) lines++;
  return copy.length + lines;
}

function curl(): string {
  return findProgram('curl')!;
}

const userArg = `${FTP_USER}:${FTP_PASS}`;

// ---------------------------------------------------------------------------
// What a session should look like, and what ftpscope said
// ---------------------------------------------------------------------------

interface ExpectedTransfer {
  command: string;
  path: string;
  mode: 'active' | 'passive';
  direction: 'download' | 'upload' | 'listing';
  bytes: number;
}

interface ExpectedSession {
  label: string;
  client: string;
  server: string;
  ipVersion: number;
  user: string;
  login: 'success' | 'failure';
  transfers: ExpectedTransfer[];
}

/** The part of a transfer these tests compare (complete, nothing missing, is part of the expectation). */
function transferView(t: Transfer): Record<string, unknown> {
  return { command: t.command, path: t.path, mode: t.mode, direction: t.direction, bytes: t.bytes, missingBytes: t.missingBytes, status: t.status };
}

function expectedTransferView(t: ExpectedTransfer): Record<string, unknown> {
  return { ...t, missingBytes: 0, status: 'complete' };
}

function sessionView(s: FtpSession, transfers: Map<number, Transfer>): Record<string, unknown> {
  return {
    client: s.client.address,
    server: `${s.server.address}:${s.server.port}`,
    ipVersion: s.ipVersion,
    user: s.user,
    login: s.login,
    transfers: s.transfers.map((id) => {
      const t = transfers.get(id);
      return t === undefined ? `transfer ${id}: not reported` : transferView(t);
    }),
  };
}

function expectedSessionView(e: ExpectedSession): Record<string, unknown> {
  return { client: e.client, server: `${e.server}:21`, ipVersion: e.ipVersion, user: e.user, login: e.login, transfers: e.transfers.map(expectedTransferView) };
}

const byStart = (a: FtpSession, b: FtpSession): number => a.start.frame - b.start.frame;

/** What an ndjson run said: the events by kind, the sessions and transfers as last reported. */
interface NdjsonRun {
  events: Array<Record<string, unknown> & { type: string }>;
  end: Record<string, unknown> & { type: string };
  started: number[];
  sessions: FtpSession[];
  transfers: Map<number, Transfer>;
  dataConnections: Set<number>;
}

function readNdjson(stdout: string): NdjsonRun {
  const events = parseNdjson<Record<string, unknown> & { type: string }>(stdout);
  assert.ok(events.length > 0, 'ftpscope printed nothing on stdout');
  const end = events.at(-1)!;
  assert.equal(end.type, 'end', `the last line is the end line, not ${JSON.stringify(end).slice(0, 200)}`);
  assert.equal(events.filter((e) => e.type === 'end').length, 1, 'one end line');
  const started: number[] = [];
  const sessions = new Map<number, FtpSession>();
  const transfers = new Map<number, Transfer>();
  const dataConnections = new Set<number>();
  for (const e of events) {
    // A session starts with its control connection's first event; a transfer's data connection joins with its own.
    const ev = e.event as TimelineEvent | undefined;
    const opens = ev !== undefined && (ev.kind === 'syn' || ev.kind === 'seen');
    if (opens && ev.role === 'control') started.push(ev.session!);
    else if (opens && ev.role === 'data') dataConnections.add(ev.transfer!);
    else if (e.type === 'session-end') sessions.set((e.session as FtpSession).id, e.session as FtpSession);
    else if (e.type === 'transfer-end') transfers.set((e.transfer as Transfer).id, e.transfer as Transfer);
  }
  return { events, end, started, sessions: [...sessions.values()].sort(byStart), transfers, dataConnections };
}

/** ftpscope ended by itself at SIGINT, with exit 0 and no crash. */
function assertCleanExit(r: { code: number | null; signal: NodeJS.Signals | null; killed: boolean }, live: Background): void {
  assert.equal(r.killed, false, `ftpscope did not end within 15 s of SIGINT (killed); stderr: ${tail(live.stderr)}`);
  assert.equal(r.code, 0, `ftpscope's exit code after SIGINT (signal ${r.signal}); stderr: ${tail(live.stderr)}`);
  assertNoCrash(live.stderr, 'ftpscope live');
}

function describeSessions(sessions: FtpSession[], transfers: Map<number, Transfer>): string {
  return JSON.stringify(sessions.map((s) => sessionView(s, transfers)), null, 1);
}

/** Runs `fn` with ftpscope live running; stops it (SIGINT) and kills what is left whatever happens. */
async function withLive<T>(ns: string, args: string[], fn: (live: Background) => Promise<T>): Promise<{ value: T; live: Background; exit: { code: number | null; signal: NodeJS.Signals | null; killed: boolean } }> {
  const live = await startLive(ns, args);
  try {
    const value = await fn(live);
    const exit = await stopLive(live, ns);
    return { value, live, exit };
  } finally {
    live.kill();
  }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe('ftpscope live', { timeout: 170_000 }, () => {
  test('1. real sessions sniffed live: every session and transfer, with command, path, mode and bytes', { timeout: 60_000 }, async (t) => {
    if (!ready(t, [...PAIR_NEEDS, 'ftp-client'])) return;
    const l = await lab();
    const size = (p: string): number => l.files.get(p)!.length;
    const expected: ExpectedSession[] = [];
    const { live, exit } = await withLive(NS_CLIENT, ['-i', IF_CLIENT, '--format', 'ndjson'], async () => {
      // 1. Passive mode with PASV (no EPSV), anonymous.
      await client(l, 'curl PASV RETR', curl(), ['-sS', '--disable-epsv', '-o', 'c1-hello.txt', `ftp://${SERVER4}/hello.txt`]);
      assertDownloaded(l, 'c1-hello.txt', '/hello.txt');
      expected.push({ label: 'curl PASV RETR (anonymous)', client: CLIENT4, server: SERVER4, ipVersion: 4, user: 'anonymous', login: 'success',
        transfers: [{ command: 'RETR', path: '/hello.txt', mode: 'passive', direction: 'download', bytes: size('/hello.txt') }] });
      // 2. EPSV (curl's default), the local user.
      await client(l, 'curl EPSV RETR', curl(), ['-sS', '--user', userArg, '-o', 'c2-data-4k.bin', `ftp://${SERVER4}/data-4k.bin`]);
      assertDownloaded(l, 'c2-data-4k.bin', '/data-4k.bin');
      expected.push({ label: 'curl EPSV RETR', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'RETR', path: '/data-4k.bin', mode: 'passive', direction: 'download', bytes: 4096 }] });
      // 3. Active mode with PORT (no EPRT): a listing.
      await client(l, 'curl PORT LIST', curl(), ['-sS', '-P', '-', '--disable-eprt', '--user', userArg, '-o', 'c3-list.txt', `ftp://${SERVER4}/`]);
      const listing = readFileSync(join(l.cli, 'c3-list.txt'));
      assert.match(listing.toString('latin1'), /data-100k\.bin/, 'the listing the client received names the served files (setup problem)');
      expected.push({ label: 'curl PORT LIST', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'LIST', path: '/', mode: 'active', direction: 'listing', bytes: listingOnWire(listing) }] });
      // 4. Active mode with EPRT.
      await client(l, 'curl EPRT RETR', curl(), ['-sS', '-P', '-', '--user', userArg, '-o', 'c4-data-100k.bin', `ftp://${SERVER4}/data-100k.bin`]);
      assertDownloaded(l, 'c4-data-100k.bin', '/data-100k.bin');
      expected.push({ label: 'curl EPRT RETR', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'RETR', path: '/data-100k.bin', mode: 'active', direction: 'download', bytes: 102_400 }] });
      // 5. An upload (curl goes to upload/ with CWD, then STOR).
      await client(l, 'curl STOR', curl(), ['-sS', '--user', userArg, '-T', 'note.txt', `ftp://${SERVER4}/upload/note-curl.txt`]);
      assert.equal(readFileSync(join(l.srv, 'upload', 'note-curl.txt'), 'utf8'), NOTE, 'the server got the uploaded note (setup problem)');
      expected.push({ label: 'curl STOR', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'STOR', path: '/upload/note-curl.txt', mode: 'passive', direction: 'upload', bytes: NOTE.length }] });
      // 6. One session of another client with two transfers: lftp (or tnftp), passive.
      const lftp = findProgram('lftp');
      if (lftp !== null) {
        await client(l, 'lftp session', lftp, ['-c', [
          'set ftp:ssl-allow no', 'set net:max-retries 1', 'set net:timeout 10', 'set cmd:fail-exit yes', 'set ftp:passive-mode yes',
          `open -u ${FTP_USER},${FTP_PASS} ${SERVER4}`, 'get data-4k.bin -o c6-data-4k.bin', 'put note.txt -o upload/note-ftp.txt', 'quit'].join('\n')]);
      } else {
        const out = await client(l, 'tnftp session', findProgram('tnftp')!, ['-n', '-p', '-v', SERVER4], {
          input: [`user ${FTP_USER} ${FTP_PASS}`, 'pwd', 'binary', 'get data-4k.bin c6-data-4k.bin', 'put note.txt upload/note-ftp.txt', 'quit', ''].join('\n') });
        assert.match(out.stdout, /226/, `tnftp's transfers (setup problem): ${tail(out.stdout)}`);
      }
      assertDownloaded(l, 'c6-data-4k.bin', '/data-4k.bin');
      assert.equal(readFileSync(join(l.srv, 'upload', 'note-ftp.txt'), 'utf8'), NOTE, 'the server got the uploaded note (setup problem)');
      expected.push({ label: `${lftp !== null ? 'lftp' : 'tnftp'} RETR and STOR`, client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [
          { command: 'RETR', path: '/data-4k.bin', mode: 'passive', direction: 'download', bytes: 4096 },
          { command: 'STOR', path: '/upload/note-ftp.txt', mode: 'passive', direction: 'upload', bytes: NOTE.length },
        ] });
      // 7. IPv6, EPSV.
      await client(l, 'curl IPv6 EPSV RETR', curl(), ['-sS', '-g', '--user', userArg, '-o', 'c7-hello.txt', `ftp://[${SERVER6}]/hello.txt`]);
      assertDownloaded(l, 'c7-hello.txt', '/hello.txt');
      expected.push({ label: 'curl IPv6 EPSV RETR', client: CLIENT6, server: SERVER6, ipVersion: 6, user: FTP_USER, login: 'success',
        transfers: [{ command: 'RETR', path: '/hello.txt', mode: 'passive', direction: 'download', bytes: size('/hello.txt') }] });
      // 8. A failed login (curl: 67, "access denied").
      await client(l, 'curl failed login', curl(), ['-sS', '--user', `${FTP_USER}:${FTP_BADPASS}`, '-o', 'c8-none', `ftp://${SERVER4}/hello.txt`], { exit: 67 });
      expected.push({ label: 'curl failed login', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'failure', transfers: [] });
    });
    assertCleanExit(exit, live);
    const got = readNdjson(live.stdout);
    const seen = describeSessions(got.sessions, got.transfers);
    t.diagnostic(`${got.events.length} events; sessions: ${got.sessions.map((s) => `${s.id} ${s.user} ${s.login} [${s.transfers.map((id) => { const x = got.transfers.get(id); return x ? `${x.command} ${x.path} ${x.mode} ${x.bytes}` : id; }).join(', ')}]`).join('; ')}`);

    assert.equal(got.started.length, expected.length, `a control connection opening for each of the ${expected.length} client runs; seen: ${seen}`);
    assert.equal(got.sessions.length, expected.length, `a session-end for each of the ${expected.length} client runs; seen: ${seen}`);
    const expectedTransfers = expected.reduce((n, e) => n + e.transfers.length, 0);
    assert.equal(got.end.sessions, expected.length, 'the end line counts the sessions');
    assert.equal(got.end.transfers, expectedTransfers, 'the end line counts the transfers');
    assert.equal(got.transfers.size, expectedTransfers, `a transfer-end for each transfer; seen: ${seen}`);
    for (const [i, e] of expected.entries()) {
      const s = got.sessions[i]!;
      assert.deepEqual(sessionView(s, got.transfers), expectedSessionView(e), `session ${i + 1} (${e.label})`);
      assert.equal(s.anonymous, e.user === 'anonymous', `session ${i + 1} (${e.label}): anonymous`);
      for (const id of s.transfers) assert.ok(got.dataConnections.has(id), `session ${i + 1} (${e.label}): a data connection opening for transfer ${id}`);
    }
    const failed = got.sessions[expected.length - 1]!;
    assert.ok(failed.loginAttempts.length > 0 && failed.loginAttempts.every((a) => a.result === 'failure'), `the failed login's attempts: ${JSON.stringify(failed.loginAttempts)}`);
    assert.ok(!live.stdout.includes(FTP_PASS) && !live.stdout.includes(FTP_BADPASS), 'the local user\'s passwords are hidden');
    const peak = (got.end.memory as { peakRss?: unknown } | undefined)?.peakRss;
    assert.ok(typeof peak === 'number' && peak > 0, `the end line has memory.peakRss in bytes: ${JSON.stringify(got.end.memory)}`);
  });

  test('2. --write: the pcap written during a live run analyses to the same sessions and transfers', { timeout: 60_000 }, async (t) => {
    if (!ready(t, PAIR_NEEDS)) return;
    const l = await lab();
    const pcap = join(l.dir, 'written.pcap');
    const expected: ExpectedSession[] = [];
    let beforeStop: ReturnType<typeof readPcapFacts> | null = null;
    const { live, exit } = await withLive(NS_CLIENT, ['-i', IF_CLIENT, '--format', 'json', '--write', pcap], async () => {
      await client(l, 'curl PASV RETR', curl(), ['-sS', '--disable-epsv', '-o', 'w1-hello.txt', `ftp://${SERVER4}/hello.txt`]);
      expected.push({ label: 'curl PASV RETR (anonymous)', client: CLIENT4, server: SERVER4, ipVersion: 4, user: 'anonymous', login: 'success',
        transfers: [{ command: 'RETR', path: '/hello.txt', mode: 'passive', direction: 'download', bytes: HELLO.length }] });
      await client(l, 'curl PORT LIST', curl(), ['-sS', '-P', '-', '--disable-eprt', '--user', userArg, '-o', 'w2-list.txt', `ftp://${SERVER4}/`]);
      expected.push({ label: 'curl PORT LIST', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'LIST', path: '/', mode: 'active', direction: 'listing', bytes: listingOnWire(readFileSync(join(l.cli, 'w2-list.txt'))) }] });
      await client(l, 'curl EPRT RETR', curl(), ['-sS', '-P', '-', '--user', userArg, '-o', 'w3-data-100k.bin', `ftp://${SERVER4}/data-100k.bin`]);
      expected.push({ label: 'curl EPRT RETR', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'RETR', path: '/data-100k.bin', mode: 'active', direction: 'download', bytes: 102_400 }] });
      await client(l, 'curl STOR', curl(), ['-sS', '--user', userArg, '-T', 'note.txt', `ftp://${SERVER4}/upload/note-write.txt`]);
      expected.push({ label: 'curl STOR', client: CLIENT4, server: SERVER4, ipVersion: 4, user: FTP_USER, login: 'success',
        transfers: [{ command: 'STOR', path: '/upload/note-write.txt', mode: 'passive', direction: 'upload', bytes: NOTE.length }] });
      await client(l, 'curl IPv6 EPSV RETR', curl(), ['-sS', '-g', '--user', userArg, '-o', 'w5-data-4k.bin', `ftp://[${SERVER6}]/data-4k.bin`]);
      expected.push({ label: 'curl IPv6 EPSV RETR', client: CLIENT6, server: SERVER6, ipVersion: 6, user: FTP_USER, login: 'success',
        transfers: [{ command: 'RETR', path: '/data-4k.bin', mode: 'passive', direction: 'download', bytes: 4096 }] });
      // Flushed at least every second: once the traffic is over, the file holds it before any stop.
      await waitConnectionsClosed(NS_CLIENT);
      await sleep(1600);
      beforeStop = readPcapFacts(readFileSync(pcap));
    });
    assertCleanExit(exit, live);
    const liveModel = JSON.parse(live.stdout) as { capture?: { records?: number }; sessions: FtpSession[]; transfers: Transfer[] };
    assert.ok(Array.isArray(liveModel.sessions) && Array.isArray(liveModel.transfers), `live --format json prints the session model: ${live.stdout.slice(0, 300)}`);

    const facts = readPcapFacts(readFileSync(pcap));
    t.diagnostic(`written: ${facts.records} records, link type ${facts.linkType}, ${facts.resolution}, snap length ${facts.snapLength}, largest frame ${facts.maxCapLen}`);
    assert.equal(facts.linkType, 1, 'Ethernet, as captured on the veth');
    assert.equal(facts.trailingBytes, 0, 'no partial record at the end of the file');
    assert.ok(facts.records > 0, 'packets were written');
    assert.equal(facts.cutRecords, 0, 'no frame on the veth is cut (offloads are off)');
    const early = beforeStop as ReturnType<typeof readPcapFacts> | null;
    assert.ok(early !== null && early.records === facts.records,
      `every packet was on disk 1.6 s after the traffic ended, before the stop (${early?.records} then, ${facts.records} at the end)`);

    const file = await run(process.execPath, [BIN, '--format', 'json', pcap], { timeoutMs: 60_000 });
    assert.equal(file.code, 0, `ftpscope on the written file: ${tail(file.stderr)}`);
    const fileModel = JSON.parse(file.stdout) as { capture: { records: number }; sessions: FtpSession[]; transfers: Transfer[] };
    if (typeof liveModel.capture?.records === 'number') {
      assert.equal(fileModel.capture.records, liveModel.capture.records, 'the file holds every packet the live run analysed');
    }
    const view = (m: { sessions: FtpSession[]; transfers: Transfer[] }): Array<Record<string, unknown>> => {
      const byId = new Map(m.transfers.map((x) => [x.id, x]));
      return [...m.sessions].sort(byStart).map((s) => sessionView(s, byId));
    };
    assert.deepEqual(view(fileModel), view(liveModel), 'the same sessions and transfers from the file as live');
    assert.deepEqual(view(liveModel), expected.map(expectedSessionView), 'and they are the right ones');
    assert.deepEqual(fileModel.transfers.map(transferView), liveModel.transfers.map(transferView), 'the same transfers, in the same order');
  });

  test('3. SIGINT in the middle of a slow transfer: exit 0, the end line, the session and its unfinished transfer', { timeout: 40_000 }, async (t) => {
    if (!ready(t, PAIR_NEEDS)) return;
    const l = await lab();
    const size = l.files.get('/data-200k.bin')!.length;
    // curl's --limit-rate averages over seconds and lets a short transfer through at full speed now and
    // then (curl 7.88 fetched the 200 KB in 17 ms here): this vsftpd also sends anonymous users 20 KB/s.
    const slowServer = await startVsftpd(NS_SERVER, { root: l.srv, address: SERVER4_SLOW, dir: l.dir, tag: 'slow', extra: ['anon_max_rate=20480'] });
    let live: Background | null = null;
    let slow: Background | null = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null; killed: boolean };
    try {
      live = await startLive(NS_CLIENT, ['-i', IF_CLIENT, '--format', 'ndjson']);
      const l2 = live;
      slow = backgroundIn(NS_CLIENT, 'curl --limit-rate 20k', curl(), ['-sS', '--limit-rate', '20k', '-o', 'slow.bin', `ftp://${SERVER4_SLOW}/data-200k.bin`], { cwd: l.cli });
      const flowing = await live.waitFor(() => /"kind":"(syn|seen)","session":\d+,"connection":\d+,"role":"data"/.test(l2.stdout), 10_000, 'the data connection');
      assert.ok(flowing, `ftpscope reported no data connection within 10 s; stdout: ${tail(live.stdout)}; curl: ${tail(slow.stderr)}`);
      await sleep(1200);
      assert.ok(slow.running, `the slow transfer was still going at the interrupt (curl ended: ${tail(slow.stderr)})`);
      exit = await live.stop('SIGINT', 15_000);
    } finally {
      live?.kill();
      // The interrupted session must not spill into the next test's capture: end both of its sides.
      if (slow !== null) await slow.killTree();
      await slowServer.killTree();
      await waitConnectionsClosed(NS_CLIENT);
    }
    assertCleanExit(exit, live);
    const got = readNdjson(live.stdout);
    assert.equal(got.started.length, 1, 'one session started');
    assert.equal(got.sessions.length, 1, `the open session was closed and reported at the interrupt: ${tail(live.stdout)}`);
    assert.equal(got.end.sessions, 1);
    assert.equal(got.end.transfers, 1);
    const s = got.sessions[0]!;
    assert.equal(s.user, 'anonymous');
    assert.equal(s.server.address, SERVER4_SLOW);
    assert.equal(s.transfers.length, 1, 'the session has its transfer');
    const tr = got.transfers.get(s.transfers[0]!);
    const said = got.events.filter((e) => e.type !== 'session-end' && !['command', 'reply'].includes((e.event as TimelineEvent | undefined)?.kind ?? ''))
      .map((e) => JSON.stringify(e.type === 'timeline' ? { kind: (e.event as TimelineEvent).kind, role: (e.event as TimelineEvent).role } : e.type === 'finding' ? { type: e.type, message: (e.finding as { message: string }).message } : { type: e.type }));
    assert.ok(tr !== undefined, `no transfer-end event for the interrupted transfer ${s.transfers[0]}: the stream never tells its bytes and final status. What it said besides commands and replies: ${said.join(' ')}`);
    t.diagnostic(`interrupted: ${tr.command} ${tr.path} ${tr.mode}, ${tr.bytes} of ${size} bytes, status ${tr.status}`);
    assert.deepEqual([tr.command, tr.path, tr.mode, tr.direction], ['RETR', '/data-200k.bin', 'passive', 'download']);
    assert.ok(tr.status === 'unfinished' || tr.status === 'incomplete', `status unfinished or incomplete, not ${tr.status}`);
    assert.ok(tr.bytes > 0, `bytes seen before the interrupt: ${tr.bytes}`);
    assert.ok(tr.bytes < size, `the interrupt came before the end of the transfer (${tr.bytes} of ${size} bytes)`);
    assert.ok(got.dataConnections.has(tr.id), 'its data connection was reported');
  });

  test('4. loopback with a 64 KiB MTU: frames over the 65535-byte snap length arrive cut, and are reported as such', { timeout: 40_000 }, async (t) => {
    if (!ready(t, ['root', 'netns', 'vsftpd', 'curl', 'cap'])) return;
    const dir = tempDir('ftpscope-live-lo-');
    const srv = join(dir, 'srv');
    const cli = join(dir, 'cli');
    const big = seededBytes(4 * 1024 * 1024, 31000004);
    writeTree(srv, { 'big.bin': big });
    mkdirSync(cli, { recursive: true });
    await setupLoopbackNamespace();
    // With the default socket buffers the receiver's window often held the frames to 47,682 bytes here
    // (most runs on a busy machine); with 4 MiB buffers from the start the kernel sends 65,549-byte
    // frames every time. These sysctls belong to the namespace, not to the host.
    await sysctlIn(NS_LOOP, ['net.ipv4.tcp_rmem=4096 4194304 33554432', 'net.ipv4.tcp_wmem=4096 4194304 33554432']);
    const loMtu = await mtu(NS_LOOP, 'lo');
    const server = await startVsftpd(NS_LOOP, { root: srv, address: '127.0.0.1', dir, tag: 'lo' });
    // A witness with a snap length that cuts nothing, to know how large the kernel made the frames.
    const tcpdumpPath = findProgram('tcpdump');
    const witnessFile = join(dir, 'witness.pcap');
    const witness = tcpdumpPath === null ? null
      : backgroundIn(NS_LOOP, 'tcpdump', tcpdumpPath, ['-i', 'lo', '-nn', '-s', '262144', '-U', '--immediate-mode', '-Z', 'root', '-B', '65536', '-w', witnessFile, 'tcp']);
    try {
      if (witness !== null && !(await witness.waitFor(() => /listening on/.test(witness.stderr), 5000, 'tcpdump to listen'))) {
        throw new Error(`tcpdump did not start: ${tail(witness.stderr)}`);
      }
      const { live, exit } = await withLive(NS_LOOP, ['-i', 'lo', '--format', 'json', '--buffer-size', '64'], async () => {
        const r = await runIn(NS_LOOP, curl(), ['-sS', '-o', 'big.bin', 'ftp://127.0.0.1/big.bin'], { cwd: cli, timeoutMs: 30_000 });
        assert.equal(r.code, 0, `curl on the loopback (setup problem): ${tail(r.stderr)}; vsftpd: ${vsftpdLog(dir, 'lo')}`);
        assert.equal(sha(readFileSync(join(cli, 'big.bin'))), sha(big), 'curl got the file (setup problem)');
      });
      if (witness !== null) await witness.stop('SIGINT', 10_000);
      assertCleanExit(exit, live);
      const model = JSON.parse(live.stdout) as { sessions: FtpSession[]; transfers: Transfer[]; connections: ConnectionSummary[]; live?: { cutBySnapLength?: number } };
      assert.equal(model.sessions.length, 1, `one session: ${live.stdout.slice(0, 400)}`);
      const tr = model.transfers.find((x) => x.command === 'RETR');
      assert.ok(tr !== undefined, `the RETR is reported: ${JSON.stringify(model.transfers.map(transferView))}`);
      assert.equal(tr.path, '/big.bin');
      assert.ok(tr.connection !== null, 'its data connection was seen');
      const conn = model.connections.find((c) => c.id === tr.connection);
      assert.ok(conn !== undefined, `the data connection ${tr.connection} is in the connection list`);
      const cutGaps = conn.gaps.filter((g) => g.reason === 'cut');
      const largest = witness === null ? null : readPcapFacts(readFileSync(witnessFile)).maxOrigLen;
      t.diagnostic(`lo MTU ${loMtu}; largest frame (tcpdump) ${largest ?? 'unknown: tcpdump not installed'}; transfer ${tr.bytes} bytes + ${tr.missingBytes} missing of ${big.length}, status ${tr.status}; ` +
        `data connection: ${cutGaps.length} cut gaps (${conn.gaps.length} gaps, ${conn.gapsOmitted} omitted), cutBytes ${conn.toClient.cutBytes}; ` +
        `packets cut by the snap length (live.cutBySnapLength): ${model.live?.cutBySnapLength ?? 'not said'}`);
      const cutSeen = tr.missingBytes > 0 || cutGaps.length > 0;
      if (largest !== null && largest > 65535) {
        assert.ok(cutSeen, `the kernel made frames of up to ${largest} bytes, which the 65535-byte snap length cuts, but ftpscope reports neither missing bytes nor a 'cut' gap`);
      }
      if (cutSeen) {
        assert.ok(tr.bytes > 0, 'the captured part of the data was delivered');
        assert.equal(tr.bytes + tr.missingBytes, big.length, 'bytes seen and bytes missing add up to the file');
        if (tr.missingBytes > 0) assert.equal(tr.status, 'incomplete', 'a 226 with bytes missing from the capture: incomplete');
      } else {
        t.diagnostic(`the kernel made no frame larger than 65535 bytes here (largest ${largest ?? 'unknown'}): cut segments not exercised; checking that the analysis is whole`);
        assert.deepEqual([tr.bytes, tr.missingBytes, tr.status], [big.length, 0, 'complete'], 'the whole file, nothing missing');
      }
    } finally {
      witness?.kill();
      await server.killTree();
    }
  });

  test('5. many short sessions: every one reported, memory bounded', { timeout: 90_000 }, async (t) => {
    if (!ready(t, PAIR_NEEDS)) return;
    const l = await lab();
    const N = 150;
    const started = Date.now();
    const { live, exit } = await withLive(NS_CLIENT, ['-i', IF_CLIENT, '--format', 'ndjson'], async () => {
      // One curl per session, each a LIST, three loops side by side.
      const loop = (): Promise<RunResult> => runIn(NS_CLIENT, '/bin/sh', ['-c',
        `i=0; while [ $i -lt ${N / 3} ]; do "${curl()}" -sS -o /dev/null "ftp://${SERVER4}/" || exit 1; i=$((i+1)); done`], { cwd: l.cli, timeoutMs: 60_000 });
      const runs = await Promise.all([loop(), loop(), loop()]);
      for (const [k, r] of runs.entries()) assert.equal(r.code, 0, `curl loop ${k} (setup problem): ${tail(r.stderr)}`);
    });
    assertCleanExit(exit, live);
    const got = readNdjson(live.stdout);
    const peak = (got.end.memory as { peakRss?: unknown } | undefined)?.peakRss;
    t.diagnostic(`${got.sessions.length} sessions reported of ${N} (${((Date.now() - started) / 1000).toFixed(1)} s); peakRss ${typeof peak === 'number' ? `${(peak / 2 ** 20).toFixed(1)} MiB` : JSON.stringify(peak)}`);
    const odd = got.sessions.filter((s) => !(s.user === 'anonymous' && s.login === 'success' && s.transfers.length === 1 && s.server.address === SERVER4))
      .map((s) => `${s.id}: ${s.client.address}:${s.client.port} -> ${s.server.address}:${s.server.port} user ${s.user} ${s.login}${s.midStream ? ' mid-stream' : ''}, ${s.transfers.length} transfers`);
    assert.equal(got.started.length, N, `a control connection opening for every session${odd.length > 0 ? `; sessions that are not one of the loop's: ${odd.join('; ')}` : ''}`);
    assert.equal(got.sessions.length, N, 'a session-end for every session');
    assert.equal(got.end.sessions, N, 'the end line counts every session');
    const lists = [...got.transfers.values()].filter((x) => x.command === 'LIST' && x.status === 'complete' && x.path === '/' && x.bytes > 0);
    assert.equal(lists.length, N, 'every LIST reported complete');
    assert.deepEqual(odd, [], 'every session an anonymous login with its LIST');
    assert.ok(typeof peak === 'number' && peak > 0, `the end line has memory.peakRss: ${JSON.stringify(got.end.memory)}`);
    assert.ok(peak < 200 * 2 ** 20, `peakRss ${(peak / 2 ** 20).toFixed(1)} MiB stays under 200 MiB`);
  });

  test('6. interfaces, and errors in one line with exit 1 (unknown interface, bad filter, not permitted)', { timeout: 60_000 }, async (t) => {
    if (!ready(t, ['root', 'netns', 'ethtool', 'vsftpd', 'user-tools', 'curl', 'cap'])) return;
    await lab();
    const ftpscope = (args: string[], asNobody = false): Promise<RunResult> => {
      const setpriv = findProgram('setpriv');
      const cmd = asNobody ? [setpriv!, '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
      return runIn(NS_CLIENT, cmd[0]!, cmd.slice(1), { timeoutMs: 15_000 });
    };
    // cap prints this from C for devices without IPv4: harmless, not ftpscope's line.
    const ownLines = (stderr: string): string[] => stderr.split('\n').filter((x) => x.trim() !== '' && !/^Warning: SIOCGIFADDR/.test(x));

    const json = await ftpscope(['interfaces', '--format', 'json']);
    assert.equal(json.code, 0, `interfaces --format json: ${tail(json.stderr)}`);
    const list = JSON.parse(json.stdout) as Array<{ name: string; addresses: string[]; loopback: boolean }>;
    const has = (addrs: string[], a: string): boolean => addrs.some((x) => x === a || x.startsWith(`${a}/`) || x.startsWith(`${a}%`));
    const veth = list.find((d) => d.name === IF_CLIENT);
    assert.ok(veth !== undefined, `the veth is listed: ${json.stdout}`);
    assert.ok(has(veth.addresses, CLIENT4) && has(veth.addresses, CLIENT6), `its addresses: ${JSON.stringify(veth.addresses)}`);
    assert.equal(veth.loopback, false);
    const lo = list.find((d) => d.name === 'lo');
    assert.ok(lo !== undefined && lo.loopback === true && has(lo.addresses, '127.0.0.1'), `lo is listed as the loopback: ${JSON.stringify(lo)}`);
    assert.ok(list.filter((d) => d.loopback).length === 1, 'only lo is marked as the loopback');
    const text = await ftpscope(['interfaces']);
    assert.equal(text.code, 0, `interfaces: ${tail(text.stderr)}`);
    assert.match(text.stdout, new RegExp(IF_CLIENT));
    assert.match(text.stdout, new RegExp(CLIENT4.replaceAll('.', '\\.')));
    assert.match(text.stdout, /loopback/i, 'the loopback is marked');

    const cases: Array<{ what: string; args: string[]; nobody?: boolean; says: RegExp }> = [
      { what: 'unknown interface', args: ['live', '-i', 'nosuch0', '--duration', '2'], says: /nosuch0/ },
      { what: 'bad filter', args: ['live', '-i', IF_CLIENT, '--filter', 'port (', '--duration', '2'], says: /filter/i },
    ];
    if (findProgram('setpriv') !== null) cases.push({ what: 'not permitted (as nobody)', args: ['live', '-i', IF_CLIENT, '--duration', '2'], nobody: true, says: /permi|root|CAP_NET_RAW/i });
    for (const c of cases) {
      const r = await ftpscope(c.args, c.nobody === true);
      const lines = ownLines(r.stderr);
      t.diagnostic(`${c.what}: exit ${r.code}, ${JSON.stringify(lines.join(' | '))}`);
      assert.equal(r.code, 1, `${c.what}: exit 1 (stderr: ${tail(r.stderr)})`);
      assert.equal(lines.length, 1, `${c.what}: one line on stderr, not ${lines.length}: ${tail(r.stderr)}`);
      assert.match(lines[0]!, c.says, `${c.what}: the line says what is wrong`);
      assertNoCrash(r.stderr, c.what);
      assert.equal(r.stdout.trim(), '', `${c.what}: nothing on stdout`);
    }
  });
});
