/**
 * The benchmark's capture generator (bench/generate.ts) makes what it means to: a 5 MB capture, analysed by
 * the command line (`ftpscope --format json`), shows every session and every transfer it wrote, each
 * transfer attributed to its data connection, with the bytes the generator sent minus those it left out
 * of the capture to simulate loss — and those show as gaps. The same seed gives the same bytes, and
 * tshark, where it is installed, finds every IP and TCP checksum right.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture, type CaptureTruth } from '../bench/generate.js';
import { main } from '../src/cli/main.js';
import type { ConnectionSummary } from '../src/flow/connection-log.js';
import type { FtpAnalysis } from '../src/model/ftp-model.js';
import { collect } from './cli-io.js';

const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bench-generate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Analysis = FtpAnalysis & { capture: { records: number; outOfOrderRecords: number; decoded: Record<string, number> } };

// Files up to 256 KiB, so that 5 MB hold many transfers; three times the benchmark's loss, reordering and
// retransmission rates, so that every kind happens a few times.
const capture = join(dir, 'mixed.pcap');
const truth: CaptureTruth = generateCapture({
  path: capture, kind: 'mixed', sizeMB: 5, seed: 11, maxFileBytes: 256 << 10, lossRate: 0.003, reorderRate: 0.003, duplicateRate: 0.003,
});
// `ftpscope --format json CAPTURE`, in-process through main() (the process itself is cli.test.ts's matter).
const run = collect();
assert.equal(await main(['--format', 'json', capture], run.io), 0, run.stderr());
const analysis = JSON.parse(run.stdout()) as Analysis;
const connections = new Map<number, ConnectionSummary>(analysis.connections.map((c) => [c.id, c]));
const endpoint = (h: { address: string; port: number }) => `${h.address}:${h.port}`;
const truthTransfers = truth.sessions.flatMap((s) => s.transfers);

test('the capture is the size asked for, every record read, in time order, all TCP', () => {
  assert.equal(statSync(capture).size, truth.bytes);
  assert.ok(truth.bytes >= 5e6 && truth.bytes < 5.2e6, `${truth.bytes} bytes`);
  assert.equal(analysis.capture.records, truth.records);
  assert.equal(analysis.capture.outOfOrderRecords, 0);
  assert.deepEqual(analysis.capture.decoded, { TCP: truth.records });
});

test('it holds what the benchmark needs: every mode and command, control-only sessions, loss, reordering, retransmissions', () => {
  assert.deepEqual(new Set(truthTransfers.map((t) => t.mode)), new Set(['PORT', 'EPRT', 'PASV', 'EPSV']));
  assert.deepEqual(new Set(truthTransfers.map((t) => t.command)), new Set(['LIST', 'RETR', 'STOR']));
  assert.ok(truth.sessions.some((s) => s.kind === 'control-only'));
  assert.ok(truth.sessions.length >= 10, `${truth.sessions.length} sessions`);
  assert.ok(truthTransfers.length >= 30, `${truthTransfers.length} transfers`);
  assert.ok(truthTransfers.some((t) => t.size === 0) || truthTransfers.some((t) => t.size < 100), 'small files');
  assert.ok(truth.droppedSegments > 0 && truth.reorderedSegments > 0 && truth.duplicatedSegments > 0, JSON.stringify(truth));
});

test('every session is found, with its client, server and commands', () => {
  assert.equal(analysis.sessions.length, truth.sessions.length);
  const byClient = new Map(analysis.sessions.map((s) => [endpoint(s.client), s]));
  for (const t of truth.sessions) {
    const s = byClient.get(t.client);
    assert.ok(s, `no session of ${t.client}`);
    assert.equal(endpoint(s.server), t.server);
    assert.equal(s.midStream, false);
    assert.equal(s.login, 'success');
    assert.equal(s.quit, true);
    assert.equal(s.exchanges.filter((e) => e.command !== '<init>').length, t.commands, `commands of ${t.client}`);
    assert.equal(s.transfers.length, t.transfers.length, `transfers of ${t.client}`);
  }
});

test('every transfer is attributed to its data connection, with the bytes sent minus those left out of the capture', () => {
  assert.equal(analysis.transfers.length, truthTransfers.length);
  const byClient = new Map(analysis.sessions.map((s) => [endpoint(s.client), s]));
  for (const ts of truth.sessions) {
    const ids = byClient.get(ts.client)!.transfers;
    ts.transfers.forEach((want, i) => {
      const got = analysis.transfers.find((x) => x.id === ids[i])!;
      const what = `${ts.client} transfer ${i + 1} (${want.command} ${want.path}, ${want.mode})`;
      assert.equal(got.command, want.command, what);
      if (want.path !== '') assert.equal(got.path, want.path, what);
      assert.equal(got.mode, want.mode === 'PORT' || want.mode === 'EPRT' ? 'active' : 'passive', what);
      assert.notEqual(got.connection, null, `${what}: not attributed`);
      assert.equal(got.rule, 'advertised', what);
      const conn = connections.get(got.connection!)!;
      assert.equal(endpoint(conn.client), want.connector, what);
      assert.equal(endpoint(conn.server), want.listener, what);
      assert.equal(got.bytes, want.size - want.droppedBytes, `${what}: bytes`);
      assert.equal(got.missingBytes, want.droppedBytes, `${what}: missing bytes`);
      assert.equal(got.wrongDirectionBytes, 0, what);
      assert.equal(got.final, 226, what);
      assert.equal(got.status, want.droppedBytes > 0 ? 'incomplete' : 'complete', what);
    });
  }
});

test('the segments left out show as gaps, the retransmitted ones as retransmissions', () => {
  const byClient = new Map(analysis.sessions.map((s) => [endpoint(s.client), s]));
  let gaps = 0;
  for (const ts of truth.sessions) {
    const ids = byClient.get(ts.client)!.transfers;
    ts.transfers.forEach((want, i) => {
      const got = analysis.transfers.find((x) => x.id === ids[i])!;
      const conn = connections.get(got.connection!)!;
      // Data flows from the connector in passive STOR and active RETR/LIST, from the listener otherwise.
      const fromConnector = (want.command === 'STOR') === (want.mode === 'PASV' || want.mode === 'EPSV');
      const data = fromConnector ? conn.toServer : conn.toClient;
      const what = `${ts.client} transfer ${i + 1}`;
      assert.equal(data.gapCount, want.gaps, what);
      assert.equal(data.gapBytes, want.droppedBytes, what);
      assert.equal(data.deliveredBytes, want.size - want.droppedBytes, what);
      assert.equal(data.retransmittedBytes, want.duplicatedBytes, what);
      assert.equal(data.conflictBytes, 0, what);
      assert.ok(conn.gaps.every((g) => g.reason === 'missing'), what);
      assert.equal(conn.closeReason, 'fin', what);
      gaps += data.gapBytes;
    });
  }
  assert.equal(gaps, truth.droppedBytes);
});

test('the same seed gives the same bytes, another seed others', () => {
  const hash = (seed: number, name: string) => {
    const path = join(dir, name);
    generateCapture({ path, kind: 'small', sizeMB: 1, seed });
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  };
  const a = hash(5, 'a.pcap');
  assert.equal(hash(5, 'b.pcap'), a);
  assert.notEqual(hash(6, 'c.pcap'), a);
});

test('rounds: the same traffic again, later, from other clients', () => {
  const once = generateCapture({ path: join(dir, 'once.pcap'), kind: 'mixed', sizeMB: 1, seed: 5 });
  const twice = generateCapture({ path: join(dir, 'twice.pcap'), kind: 'mixed', sizeMB: 1, seed: 5, rounds: 2 });
  assert.equal(twice.records, 2 * once.records);
  assert.equal(twice.bytes - 24, 2 * (once.bytes - 24)); // one file header
  assert.equal(twice.sessions.length, 2 * once.sessions.length);
  const clients = new Set(twice.sessions.map((x) => x.client));
  assert.equal(clients.size, twice.sessions.length);
  assert.deepEqual(
    twice.sessions.slice(once.sessions.length).map((x) => ({ ...x, client: x.client.replace(/^10\.2\./, '10.1.'), transfers: x.transfers.length })),
    once.sessions.map((x) => ({ ...x, transfers: x.transfers.length })),
  );
});

const FAST = process.env.FTPSCOPE_FAST === '1';
const tshark = !FAST && spawnSync('tshark', ['--version']).status === 0;
const tsharkSkip = FAST ? 'skipped in test:fast: tshark reads the 5 MB capture (about a second); npm test runs it' : tshark ? false : 'tshark is not installed';

test('tshark finds every IP and TCP checksum right', { skip: tsharkSkip }, () => {
  const fields = (filter: string) =>
    execFileSync('tshark', ['-r', capture, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
      encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'],
    }).split('\n').filter((l) => l !== '').length;
  assert.equal(fields('ip.checksum.status == 1 && tcp.checksum.status == 1'), truth.records);
});
