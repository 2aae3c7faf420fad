/**
 * The real captures in fixtures/ (vsftpd with tnftp, curl and lftp; see fixtures/README.md): every TCP
 * connection is whole, and every file the server sent or received (fixtures/files.sha256) comes out of
 * the reassembled data streams byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { DEFAULT_ANALYZE_OPTIONS, analyze } from '../src/analyze.js';
import { openCapture } from '../src/capture/open-capture.js';
import { ConnectionLog, type ConnectionSummary } from '../src/flow/connection-log.js';
import type { Connection, TcpListener } from '../src/flow/connections.js';
import type { StreamSink } from '../src/flow/stream-sink.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** Hashes both directions of every connection besides logging it. */
class Hasher implements TcpListener {
  readonly log = new ConnectionLog();
  readonly hashes = new Map<number, [string, string]>();
  private readonly live = new Map<number, [ReturnType<typeof createHash>, ReturnType<typeof createHash>]>();
  opened(conn: Connection): StreamSink {
    const inner = this.log.opened(conn);
    const h: [ReturnType<typeof createHash>, ReturnType<typeof createHash>] = [createHash('sha256'), createHash('sha256')];
    this.live.set(conn.id, h);
    return {
      data: (dir, buf, off, len, at, frame) => {
        h[dir].update(buf.subarray(off, off + len));
        inner.data(dir, buf, off, len, at, frame);
      },
      gap: (dir, at, len, reason) => inner.gap(dir, at, len, reason),
      end: (dir, reason) => inner.end(dir, reason),
    };
  }
  closed(conn: Connection): void {
    const [a, b] = this.live.get(conn.id)!;
    this.hashes.set(conn.id, [a.digest('hex'), b.digest('hex')]);
    this.log.closed(conn);
  }
}

async function analyseFixture(name: string): Promise<{ conns: ConnectionSummary[]; hashes: Map<number, [string, string]> }> {
  const reader = await openCapture(name, createReadStream(new URL(name, FIXTURES)));
  const hasher = new Hasher();
  const summary = await analyze(reader, hasher, DEFAULT_ANALYZE_OPTIONS);
  assert.deepEqual(summary.faults, []);
  return { conns: hasher.log.sorted(), hashes: hasher.hashes };
}

const expectedFiles = readFileSync(new URL('files.sha256', FIXTURES), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const [capture, path, sha256] = l.trim().split(/\s+/);
    return { capture: capture!, path: path!, sha256: sha256! };
  });

const captures = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap'));
/** Captures whose clients give up mid-transfer: their connections may end with the client's RST. */
const RESET_ON_PURPOSE = new Set(['curl-max-time-rst.pcap', 'lftp-pget-abor.pcap']);
/**
 * FTPS captures whose connections may end with a RST from either side: TLS's close_notify crosses the
 * TCP FIN (vsftpd resets the control connection, lftp a data connection; see fixtures/logs/NAME.txt).
 */
const TLS_RESETS = new Set(['ftps-lftp-vsftpd.pcap', 'ftps-curl-tls12.pcap', 'ftps-tls12-cbc.pcap', 'ftps-implicit-990.pcap', 'ftps-nat-pasv.pcap']);
/** FTPS captures whose data connections are TLS-protected: the files are in them only as ciphertext. */
const PROTECTED_DATA = new Set(['auth-tls.pcap', 'ftps-lftp-vsftpd.pcap', 'ftps-tls12-gcm.pcap', 'ftps-curl-tls12.pcap', 'ftps-tls12-cbc.pcap', 'ftps-implicit-990.pcap']);

test('the fixtures are there', () => {
  assert.ok(captures.length >= 6, `found ${captures.join(', ')}`);
  assert.ok(expectedFiles.length >= 5);
});

for (const name of captures) {
  test(`${name}: every connection has its handshake, its FIN teardown and no gap`, async () => {
    const { conns } = await analyseFixture(name);
    assert.ok(conns.length >= 1);
    for (const c of conns) {
      const where = `${name} connection ${c.id} (${c.client.address}:${c.client.port} -> ${c.server.port})`;
      if (name === 'active-blocked.pcap' && c.client.port === 20) {
        // Made so on purpose: a firewall in the client's namespace drops the server's data connection.
        assert.ok(c.handshake.syn && !c.handshake.synAck, `${where}: only SYNs`);
        continue;
      }
      if ((name === 'nat-pasv.pcap' && c.server.address === '10.21.0.99') || (name === 'ftps-nat-pasv.pcap' && c.server.address === '10.22.0.2')) {
        // Made so on purpose: the 227 advertises an address that does not exist; the SYNs get no answer.
        assert.ok(c.handshake.syn && !c.handshake.synAck, `${where}: only SYNs`);
        continue;
      }
      assert.ok(c.handshake.syn && c.handshake.synAck && c.handshake.ack, `${where}: handshake`);
      // vsftpd resets the control connection after closing its TLS session (seen in auth-tls.pcap).
      const ending = name === 'auth-tls.pcap' && c.server.port === 21 ? 'rst' : 'fin';
      if (TLS_RESETS.has(name)) assert.ok(c.closeReason === 'rst' || c.closeReason === 'fin', `${where}: closed by ${c.closeReason}`);
      else if (RESET_ON_PURPOSE.has(name)) {
        // The client closes, and its TCP answers with RST what the server still sends (see fixtures/logs).
        assert.ok(c.closeReason === 'rst' || c.closeReason === 'fin', `${where}: closed by ${c.closeReason}`);
        if (c.teardown.rst !== null) assert.equal(c.teardown.rst.by, 'client', `${where}: the RST is the opener's`);
      } else assert.equal(c.closeReason, ending, `${where}: closed by ${ending}`);
      assert.equal(c.toServer.gapCount + c.toClient.gapCount, 0, `${where}: gaps`);
      assert.equal(c.toServer.deliveredBytes, c.toServer.streamLength, `${where}: stream to the server`);
      assert.equal(c.toClient.deliveredBytes, c.toClient.streamLength, `${where}: stream to the client`);
    }
  });
}

// A file sent over a TLS-protected data connection cannot be recognised in the TCP stream: only its ciphertext is there.
for (const f of expectedFiles.filter((e) => !PROTECTED_DATA.has(e.capture))) {
  test(`${f.capture}: ${f.path} comes out of a data connection byte for byte`, async () => {
    const { conns, hashes } = await analyseFixture(f.capture);
    const data = conns.filter((c) => c.server.port !== 21 && c.client.port !== 21);
    const found = data.some((c) => hashes.get(c.id)!.includes(f.sha256));
    assert.ok(found, `no data connection of ${f.capture} carries ${f.path} (${f.sha256})`);
  });
}
