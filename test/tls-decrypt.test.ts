/**
 * TLS decryption (src/tls) against OpenSSL, through Node's tls: a client and a server on loopback talk
 * through a recording proxy, the client's key log is taken from its 'keylog' events, and the recorded
 * bytes are decrypted by ours: the plaintext must be exactly what each side wrote, for every TLS 1.3
 * suite, TLS 1.2 AES-GCM, ChaCha20-Poly1305 and CBC (encrypt-then-MAC on and off, ECDHE and RSA key
 * exchange), a HelloRetryRequest, and a resumed TLS 1.2 session. Wrong keys or a changed byte are
 * reported, never a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { Dir, Stamp, StreamSink } from '../src/flow/stream-sink.js';
import { KeyLog } from '../src/tls/keylog.js';
import { TlsDecoder, type TlsHandshake } from '../src/tls/decoder.js';

/** A self-signed certificate made by the openssl command, or null when it is not installed. */
function certificate(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ftpscope.test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CERT = certificate();
const SKIP = CERT === null ? 'the openssl command is not installed (apt-get install openssl): it makes the test certificate' : false;

interface Conversation {
  /** The bytes on the wire, in the order the proxy saw them; dir 0 from the TLS client. */
  wire: Array<{ dir: Dir; bytes: Buffer }>;
  keylog: string;
  /** What each side wrote, as plaintext. */
  sent: [Buffer, Buffer];
}

/** A TCP proxy on loopback to `port` that records what crosses it, in order (dir 0: from the connecting side). */
async function recordingProxy(port: number): Promise<{ server: Server; port: number; wire: Conversation['wire'] }> {
  const wire: Conversation['wire'] = [];
  const server = createServer((c) => {
    const upstream = netConnect(port, '127.0.0.1');
    c.on('data', (d: Buffer) => {
      wire.push({ dir: 0, bytes: Buffer.from(d) });
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      wire.push({ dir: 1, bytes: Buffer.from(d) });
      c.write(d);
    });
    c.on('end', () => upstream.end());
    upstream.on('end', () => c.end());
    c.on('error', () => upstream.destroy());
    upstream.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, wire };
}

/** One TLS connection through a recording proxy: the client sends `up`, the server answers with `down`. */
async function converse(server: tls.TlsOptions, client: tls.ConnectionOptions, up: Buffer, down: Buffer): Promise<Conversation> {
  let keylog = '';
  const s = tls.createServer({ key: CERT!.key, cert: CERT!.cert, ...server }, (sock) => {
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      got.push(d);
      if (Buffer.concat(got).length >= up.length) sock.end(down);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
const { server: proxy, port: proxyPort, wire } = await recordingProxy((s.address() as AddressInfo).port);
  try {
    const received = await new Promise<Buffer>((resolve, reject) => {
      const sock = tls.connect({ port: proxyPort, host: '127.0.0.1', servername: 'ftpscope.test', rejectUnauthorized: false, ...client }, () => sock.write(up));
      sock.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      sock.on('end', () => resolve(Buffer.concat(got)));
      sock.on('error', reject);
    });
    assert.deepEqual(received, down);
  } finally {
    proxy.close();
    s.close();
  }
  return { wire, keylog, sent: [up, down] };
}

/** Decrypts a conversation's wire bytes with `keylog`: the plaintext of each direction, the handshake, problems. */
function decrypt(c: Conversation, keylog: string | null, change?: (wire: Conversation['wire']) => void): { plain: [Buffer, Buffer]; handshake: TlsHandshake | null; problems: string[] } {
  const log = keylog === null ? null : new KeyLog();
  log?.add(keylog!, 'test.keys');
  const chunks: [Buffer[], Buffer[]] = [[], []];
  const problems: string[] = [];
  const out: StreamSink = {
    data: (dir, buf, off, len) => chunks[dir].push(Buffer.from(buf.subarray(off, off + len))),
    gap: (dir) => problems.push(`gap ${dir}`),
    end: () => {},
  };
  let handshake: TlsHandshake | null = null;
  const d = new TlsDecoder(log, out, { handshake: (h) => (handshake = h), problem: (dir, _frame, why) => problems.push(`${dir}: ${why}`) });
  const wire = c.wire.map((w) => ({ dir: w.dir, bytes: Buffer.from(w.bytes) }));
  change?.(wire);
  const offsets = [0, 0];
  let frame = 0;
  for (const w of wire) {
    const when: Stamp = { frame: ++frame, sec: 0, nsec: 0 };
    // Fed in pieces of 700 bytes, so records span segments as they do on the wire.
    for (let at = 0; at < w.bytes.length; at += 700) {
      const n = Math.min(700, w.bytes.length - at);
      d.data(w.dir, w.bytes, at, n, offsets[w.dir]!, when);
      offsets[w.dir]! += n;
    }
  }
  d.end(0, 'fin');
  d.end(1, 'fin');
  return { plain: [Buffer.concat(chunks[0]), Buffer.concat(chunks[1])], handshake, problems };
}

const UP = Buffer.from('USER anonymous\r\nPASS guest\r\nRETR /pub/file\r\n');
const DOWN = randomBytes(100_000);

const CASES: Array<{ name: string; server: tls.TlsOptions; client: tls.ConnectionOptions; version: string; suite: string; etm?: boolean }> = [
  { name: 'TLS 1.3 AES-128-GCM', server: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, client: { ciphers: 'TLS_AES_128_GCM_SHA256' }, version: 'TLS 1.3', suite: 'TLS_AES_128_GCM_SHA256' },
  { name: 'TLS 1.3 AES-256-GCM', server: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' }, client: { ciphers: 'TLS_AES_256_GCM_SHA384' }, version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
  { name: 'TLS 1.3 ChaCha20-Poly1305', server: { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, client: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, version: 'TLS 1.3', suite: 'TLS_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.2 ECDHE AES-128-GCM', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, client: {}, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE AES-256-GCM (SHA-384 PRF)', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, client: {}, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
  { name: 'TLS 1.2 ECDHE ChaCha20-Poly1305', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }, client: {}, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.2 RSA key exchange AES-128-GCM', server: { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }, client: {}, version: 'TLS 1.2', suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 CBC HMAC-SHA1, encrypt-then-MAC', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' }, client: {}, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', etm: true },
  {
    name: 'TLS 1.2 CBC HMAC-SHA256, MAC-then-encrypt',
    server: { maxVersion: 'TLSv1.2', ciphers: 'AES256-SHA256', secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC },
    client: { secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC },
    version: 'TLS 1.2', suite: 'TLS_RSA_WITH_AES_256_CBC_SHA256', etm: false,
  },
  { name: 'TLS 1.2 CBC HMAC-SHA384', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-SHA384' }, client: {}, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', etm: true },
  { name: 'TLS 1.3 after a HelloRetryRequest', server: { minVersion: 'TLSv1.3', ecdhCurve: 'P-256' }, client: { ecdhCurve: 'X25519:P-256' }, version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
];

for (const c of CASES) {
  test(`decrypts ${c.name} as OpenSSL sent it`, { skip: SKIP }, async () => {
    const conv = await converse(c.server, c.client, UP, DOWN);
    const r = decrypt(conv, conv.keylog);
    assert.deepEqual(r.problems, []);
    assert.equal(r.handshake?.version, c.version);
    assert.equal(r.handshake?.suiteName, c.suite);
    assert.equal(r.handshake?.keys, 'decrypting');
    assert.equal(r.handshake?.sni, 'ftpscope.test');
    if (c.etm !== undefined) assert.equal(r.handshake?.encryptThenMac, c.etm);
    if (c.name.includes('HelloRetry')) assert.equal(r.handshake?.helloRetry, true);
    assert.ok(r.plain[0].equals(UP), 'client to server');
    assert.ok(r.plain[1].equals(DOWN), `server to client: ${r.plain[1].length} of ${DOWN.length} bytes`);
  });
}

test('a resumed TLS 1.2 session (as an FTPS data connection resumes the control one) decrypts with its own key log line', { skip: SKIP }, async () => {
  const server: tls.TlsOptions = { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', secureOptions: constants.SSL_OP_NO_TICKET, sessionIdContext: 'ftpscope' };
  const s = tls.createServer({ key: CERT!.key, cert: CERT!.cert, ...server }, (sock) => sock.end(DOWN));
  // Node's server keeps sessions by id only through these events.
  const sessions = new Map<string, Buffer>();
  s.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    sessions.set(id.toString('hex'), data);
    done();
  });
  s.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => done(null, sessions.get(id.toString('hex')) ?? null));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  // A first connection, for the session to resume (a session id: tickets are off, as vsftpd's reuse is).
  const session = await new Promise<Buffer>((resolve, reject) => {
    let got: Buffer | undefined;
    const a = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    a.on('session', (x: Buffer) => (got = x));
    a.on('data', () => {});
    a.on('end', () => resolve(got!));
    a.on('error', reject);
  });
  const again = await converseTo(port, session).finally(() => s.close());
  const r = decrypt(again, again.keylog);
  assert.equal(r.handshake?.resumed, true);
  assert.equal(r.handshake?.offeredResumption, true);
  assert.ok(r.plain[1].equals(DOWN));
});

/** A client connection to `port` through a recording proxy, resuming `session`. */
async function converseTo(port: number, session: Buffer): Promise<Conversation> {
  let keylog = '';
  const { server: proxy, port: proxyPort, wire } = await recordingProxy(port);
  await new Promise<void>((resolve, reject) => {
    const sock = tls.connect({ port: proxyPort, host: '127.0.0.1', rejectUnauthorized: false, session }, () => {});
    sock.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
    sock.on('data', () => {});
    sock.on('end', () => { assert.equal(sock.isSessionReused(), true); resolve(); });
    sock.on('error', reject);
  });
  proxy.close();
  return { wire, keylog, sent: [Buffer.alloc(0), DOWN] };
}

test('without keys, with the wrong keys, or with a changed byte: the handshake is still told, the failure reported, nothing crashes', { skip: SKIP }, async () => {
  const conv = await converse({ minVersion: 'TLSv1.3' }, {}, UP, DOWN);
  const none = decrypt(conv, null);
  assert.equal(none.handshake?.keys, 'no key log');
  assert.equal(none.handshake?.version, 'TLS 1.3');
  assert.equal(none.plain[1].length, 0);
  // Another connection's key log: no line for this client random.
  const other = await converse({ minVersion: 'TLSv1.3' }, {}, UP, DOWN);
  assert.equal(decrypt(conv, other.keylog).handshake?.keys, 'no matching line');
  // The right lines with one secret changed: records fail authentication, and are reported.
  const wrong = conv.keylog.replace(/^(SERVER_TRAFFIC_SECRET_0 \S+ )(.)/m, (_m, a: string, b: string) => a + (b === '0' ? '1' : '0'));
  const bad = decrypt(conv, wrong);
  assert.ok(bad.problems.some((p) => p.startsWith('1: a record could not be opened')), bad.problems.join('; '));
  assert.ok(bad.plain[0].equals(UP), 'the other direction is still read');
  // A byte changed in the middle of the server's data: that record fails, the ones after it still open.
  const flipped = decrypt(conv, conv.keylog, (wire) => {
    const big = wire.filter((w) => w.dir === 1).sort((a, b) => b.bytes.length - a.bytes.length)[0]!;
    big.bytes[Math.floor(big.bytes.length / 2)]! ^= 0x55;
  });
  assert.ok(flipped.problems.some((p) => p.includes('could not be opened')), flipped.problems.join('; '));
  assert.ok(flipped.plain[1].length > 0 && flipped.plain[1].length < DOWN.length);
  // Not TLS at all.
  const notTls = decrypt({ wire: [{ dir: 0, bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n') }], keylog: '', sent: [UP, DOWN] }, conv.keylog);
  assert.ok(notTls.problems.some((p) => p.includes('not a TLS record')));
});

test('key log lines: the labels used, and a reason for each line not taken', () => {
  const log = new KeyLog();
  const random = 'ab'.repeat(32);
  log.add([
    '# a comment',
    `CLIENT_RANDOM ${random} ${'11'.repeat(48)}`,
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random} ${'22'.repeat(32)}`,
    `EXPORTER_SECRET ${random} ${'33'.repeat(32)}`,
    'CLIENT_RANDOM abc def',
    `CLIENT_RANDOM ${random} 1234`,
    `MADE_UP ${random} ${'44'.repeat(32)}`,
    'just words',
  ].join('\n'), 'k.log');
  assert.equal(log.lines, 2);
  assert.equal(log.lookup(Buffer.from(random, 'hex'))?.master?.length, 48);
  assert.deepEqual(log.lookup(Buffer.from(random, 'hex'))?.from.CLIENT_RANDOM, { file: 'k.log', line: 2 });
  assert.deepEqual(log.rejected.map((r) => [r.line, r.reason]), [
    [5, 'the client random is not 32 bytes of hex'],
    [6, 'a CLIENT_RANDOM of 2 bytes'],
    [7, 'unknown label MADE_UP'],
    [8, 'expected "LABEL client_random secret", found 2 fields'],
  ]);
});

test('TLS 1.3 KeyUpdate: after openssl s_client asks for one (its "K" command), both sides\' records still open', { skip: SKIP, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-tls-'));
  const { spawn } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  writeFileSync(join(dir, 'c.pem'), CERT!.cert);
  writeFileSync(join(dir, 'k.pem'), CERT!.key);
  // A free port for s_server: one the system gives, then let go.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', join(dir, 'c.pem'), '-key', join(dir, 'k.pem'), '-tls1_3', '-ign_eof'], { stdio: 'pipe' });
  const { server: proxy, port: proxyPort, wire } = await recordingProxy(port);
  try {
    await wait(500);
    const keys = join(dir, 'ku.keys');
    const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${proxyPort}`, '-keylogfile', keys], { stdio: 'pipe' });
    await wait(700);
    client.stdin.write('before update\n');
    await wait(300);
    client.stdin.write('K\n'); // s_client: a KeyUpdate that asks the server for one too
    await wait(300);
    client.stdin.write('after update\n');
    await wait(300);
    server.stdin.write('from the server, after\n');
    await wait(300);
    client.kill();
    const r = decrypt({ wire, keylog: '', sent: [UP, DOWN] }, readFileSync(keys, 'latin1'));
    assert.deepEqual(r.problems, []);
    // Had s_client sent "K" as data, it would be in the plaintext: it sent a KeyUpdate instead.
    assert.equal(r.plain[0].toString(), 'before update\nafter update\n');
    assert.equal(r.plain[1].toString(), 'from the server, after\n');
  } finally {
    server.kill();
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
