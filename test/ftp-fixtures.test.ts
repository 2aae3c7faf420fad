/**
 * The FTP engine on the real captures of fixtures/ (vsftpd with tnftp, curl and lftp): every data
 * connection is attributed to the right command and mode, and every transferred file's bytes, hashed
 * from the data connection attributed to it, equal what the server sent or received (files.sha256).
 */
import { test } from 'node:test';
import { SEMANTICS_CAPTURES } from './support/captures.js';
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import type { Connection, TcpListener } from '../src/flow/connections.js';
import { teeSinks, type StreamSink } from '../src/flow/stream-sink.js';
import type { FtpAnalyzer } from '../src/ftp/analyzer.js';
import { analyseCapture } from './analysis.js';
import type { FtpAnalysis } from '../src/model/ftp-model.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** The FTP analysis, plus the SHA-256 of each direction of every connection. */
async function analyseFixture(name: string): Promise<{ model: FtpAnalysis; hashes: Map<number, [string, string]> }> {
  const live = new Map<number, [Hash, Hash]>();
  const hashes = new Map<number, [string, string]>();
  const wrap = (ftp: FtpAnalyzer): TcpListener => ({
    bind: (clock) => ftp.bind(clock),
    opened(conn: Connection) {
      const h: [Hash, Hash] = [createHash('sha256'), createHash('sha256')];
      live.set(conn.id, h);
      const hasher: StreamSink = { data: (dir, buf, off, len) => void h[dir].update(buf.subarray(off, off + len)), gap() {}, end() {} };
      return teeSinks(ftp.opened(conn), hasher);
    },
    closed(conn: Connection) {
      const [a, b] = live.get(conn.id)!;
      hashes.set(conn.id, [a.digest('hex'), b.digest('hex')]);
      ftp.closed(conn);
    },
  });
  const { ftp, capture } = await analyseCapture(name, createReadStream(new URL(name, FIXTURES)), {}, {}, { wrap });
  assert.deepEqual(capture.faults, []);
  return { model: ftp.result(), hashes };
}

/** What each capture holds, as its README says: the data commands in order, with their mode. */
const EXPECTED: Record<string, { transfers: string[]; login: string; sessions?: number }> = {
  'active-ls-pwd.pcap': { transfers: ['LIST active'], login: 'success' },
  'active-list-retr-stor.pcap': { transfers: ['LIST active', 'RETR active', 'STOR active'], login: 'success' },
  'passive-retr.pcap': { transfers: ['RETR passive'], login: 'success' },
  'epsv-list-retr-stor.pcap': { transfers: ['LIST passive', 'RETR passive', 'STOR passive'], login: 'success' },
  'eprt-retr.pcap': { transfers: ['RETR active'], login: 'success' },
  'ipv6-epsv-retr.pcap': { transfers: ['RETR passive'], login: 'success' },
  'failed-login.pcap': { transfers: [], login: 'failure' },
  'multi-session.pcap': { transfers: ['RETR passive', 'RETR passive'], login: 'success', sessions: 2 },
  'lossy-retr.pcap': { transfers: ['RETR passive'], login: 'success' },
};

const files = readFileSync(new URL('files.sha256', FIXTURES), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => l.trim().split(/\s+/) as [string, string, string]);

for (const [name, want] of Object.entries(EXPECTED)) {
  test(`${name}: the data commands, their modes, and every data connection attributed`, async () => {
    const { model } = await analyseFixture(name);
    assert.equal(model.sessions.length, want.sessions ?? 1);
    for (const session of model.sessions) assert.equal(session.login, want.login);
    assert.deepEqual(model.transfers.map((t) => `${t.command} ${t.mode}`), want.transfers);
    for (const t of model.transfers) {
      assert.equal(t.status, 'complete', `${t.command} ${t.path}: ${t.cause}`);
      assert.equal(t.rule, 'advertised');
      assert.ok(t.bytes > 0);
      assert.equal(t.wrongDirectionBytes, 0);
    }
    const control = new Set(model.sessions.map((x) => x.connection));
    const dataConns = model.connections.filter((c) => !control.has(c.id));
    // Each transfer's data connection is between its own session's hosts.
    for (const t of model.transfers) {
      const session = model.sessions[t.session - 1]!;
      const c = model.connections.find((x) => x.id === t.connection)!;
      assert.deepEqual(new Set([c.client.address, c.server.address]), new Set([session.client.address, session.server.address]));
    }
    assert.deepEqual(dataConns.map((c) => c.id).sort(), model.transfers.map((t) => t.connection).sort());
    // Clean traffic: nothing to report but what is true of every password login over plain FTP.
    assert.deepEqual(model.findings.filter((f) => f.severity !== 'info' && f.kind !== 'cleartext-credentials'), []);
    const logins = model.sessions.filter((x) => x.loginAttempts.some((l) => l.password !== null) && !x.anonymous).length;
    assert.equal(model.findings.filter((f) => f.kind === 'cleartext-credentials').length, logins);
  });
}

for (const [capture, path, sha256] of files.filter(([c]) => c in EXPECTED)) {
  test(`${capture}: ${path}, hashed from the data connection of its transfer, is the file the server had`, async () => {
    const { model, hashes } = await analyseFixture(capture);
    // Without a PWD in the session the path stays relative to where it started ("./x").
    const t = model.transfers.find((x) => x.path === path || x.path === `.${path}`);
    assert.ok(t, `no transfer of ${path} among ${model.transfers.map((x) => x.path).join(', ')}`);
    assert.ok(t.connection !== null);
    assert.ok(hashes.get(t.connection)!.includes(sha256), `${path}: the data connection's bytes differ from the file`);
    assert.equal(t.announcedSize === null || t.announcedSize === t.bytes, true);
  });
}

/** Captures with tests of their own below (and, for issue 14's, in test/ftp-semantics.test.ts). */
const EXTRA = new Set(['auth-tls.pcap', 'nat-pasv.pcap', 'bruteforce-logins.pcap', 'port-third-host.pcap', 'active-blocked.pcap', 'anonymous-upload.pcap']);
/** FTPS captures: test/ftps.test.ts checks them against tshark with their key logs. */
for (const n of readdirSync(FIXTURES)) if (n.startsWith('ftps-') && n.endsWith('.pcap')) EXTRA.add(n);

test('every fixture capture has its expectations here', () => {
  const captures = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap'));
  const missing = captures.filter((c) => !(c in EXPECTED) && !EXTRA.has(c) && !SEMANTICS_CAPTURES.includes(c));
  assert.deepEqual(missing, [], 'add the new capture to EXPECTED or EXTRA');
});

test('auth-tls.pcap: AUTH TLS is seen, the rest is encrypted, and the protected data connection is reported', async () => {
  const { model } = await analyseFixture('auth-tls.pcap');
  const s = model.sessions[0]!;
  assert.equal(s.tls?.command, 'AUTH TLS');
  assert.equal(s.exchanges.at(-1)!.replies[0]!.code, 234);
  assert.ok(model.findings.some((f) => f.kind === 'unpredicted-connection' && /encrypted/.test(f.message)));
});

test('nat-pasv.pcap: the 227 advertises an address nobody answers at; ftpscope says why and what to change', async () => {
  const { model } = await analyseFixture('nat-pasv.pcap');
  const p = model.predictions[0]!;
  assert.deepEqual([p.source, p.to.address, p.controlPeer.address, p.addressDiffers], ['PASV', '10.21.0.99', '10.21.0.2', true]);
  const c = model.connections.find((x) => x.id === p.connection)!;
  assert.equal(c.handshake.synAck, null);
  assert.ok(c.toServer.packets >= 2, 'the SYN was retransmitted');
  const f = model.findings.find((x) => x.kind === 'data-connection-unanswered')!;
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /passive address/);
  assert.ok(f.frames.includes(p.setup.frame));
});

test('active-ls-pwd.pcap: the timeline tells the classic session step by step', async () => {
  const { model } = await analyseFixture('active-ls-pwd.pcap');
  const s = model.sessions[0]!;
  const steps = model.timeline
    .filter((e) => !(e.kind === 'reply' && ['SYST', 'FEAT'].includes(s.exchanges[e.exchange!]!.command)))
    .filter((e) => !(e.kind === 'command' && ['SYST', 'FEAT'].includes(s.exchanges[e.exchange!]!.command)))
    .map((e) => `${e.role} ${e.from} ${e.kind}${e.exchange !== null && e.kind !== 'prediction' ? ` ${s.exchanges[e.exchange]!.command}` : ''}`);
  assert.deepEqual(steps, [
    'control client syn', 'control server syn-ack', 'control client handshake-ack',
    'control server reply <init>',
    'control client command USER', 'control server reply USER',
    'control client command PASS', 'control server reply PASS',
    'control client command PORT', 'control client prediction', 'control server reply PORT',
    'control client command LIST',
    'data server syn', 'data client syn-ack', 'data server handshake-ack',
    'control server reply LIST',
    'data server data-first', 'data server data-last',
    'data server fin', 'data client fin',
    'control server reply LIST',
    'control client command PWD', 'control server reply PWD',
    'control client command QUIT', 'control server reply QUIT',
    'control client fin', 'control server fin',
  ]);
  // The data connection comes from port 20 of the server, to the port PORT announced.
  const p = model.predictions[0]!;
  const data = model.connections.find((c) => c.id === p.connection)!;
  assert.deepEqual([data.client.port, data.server.port], [20, p.to.port]);
});
