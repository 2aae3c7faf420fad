/**
 * The hand-over between the capture thread and the analysis thread of `ftpscope live`
 * (src/capture/live-chunks.ts; src/cli/live-thread.ts): every packet arrives exact and in order; an
 * analysis that falls behind makes the capture shed data payload, then drop, never hold more than its
 * backlog, and every loss is told with the batch after it; and the two threads together find in a replayed
 * capture what the file analysis finds, through the same output the CLI writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { CHUNK_BYTES, ChunkReader, ChunkSender, type LiveLoss } from '../src/capture/live-chunks.js';
import { sheddable } from '../src/capture/live-source.js';
import { openCapture } from '../src/capture/open-capture.js';
import type { RecordBatch } from '../src/capture/record-batch.js';
import { settings, type Settings } from '../src/config.js';
import { main, viewOptions } from '../src/cli/main.js';
import { runCaptureThread } from '../src/cli/live-thread.js';
import { collect } from './cli-io.js';
import { ethernet, tcpPacket } from './support/capture-writer.js';
import { ReplayCapture } from './support/replay-capture.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const REPLAY = new URL('./support/replay-live.js', import.meta.url).pathname;

interface Rec {
  bytes: string;
  orig: number;
  sec: number;
  nsec: number;
}

const records = (b: RecordBatch): Rec[] =>
  Array.from({ length: b.count }, (_, i) => ({
    bytes: b.bufs[i]!.subarray(b.offs[i]!, b.offs[i]! + b.caps[i]!).toString('hex'),
    orig: b.origs[i]!,
    sec: b.tsSec[i]!,
    nsec: b.tsNsec[i]!,
  }));

const noLoss = () => 0;

test('every packet crosses exact and in order: bytes, original length, seconds and nanoseconds', async (t) => {
  const path = fixture('lftp-pget-abor.pcap');
  const file = await openCapture(path, path);
  const expected: Rec[] = [];
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  const sender = new ChunkSender(port1, { maxHeldBytes: 64 << 20, sheddable: () => 0, kernelDrops: noLoss, onStop: () => {} });
  const reader = new ChunkReader('live test', 'live (test)', 1, port2);
  for (let b = await file.next(); b !== null; b = await file.next()) {
    for (const r of records(b)) {
      expected.push(r);
      const buf = Buffer.from(r.bytes, 'hex');
      sender.add(buf, buf.length, r.orig, r.sec, r.nsec);
    }
  }
  sender.end({ said: 'the end' });
  const got: Rec[] = [];
  for (let b = await reader.next(); b !== null; b = await reader.next()) got.push(...records(b));
  assert.ok(expected.length > 1000, `${expected.length} packets`);
  assert.equal(got.length, expected.length);
  assert.deepEqual(got, expected);
  assert.deepEqual(reader.notes, { said: 'the end' });
});

const CONTROL = new Set([21]);
const data = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 20, dport: 40000, seq: 1, ack: 1, flags: 0x10 }, Buffer.alloc(1448, 0x41)), { etherType: 0x0800 });
const control = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 21, dport: 40001, seq: 1, ack: 1, flags: 0x18 }, Buffer.from('150 Opening data connection\r\n')), { etherType: 0x0800 });

test('an analysis that falls behind: data payload shed past three quarters of the backlog, then packets dropped, all told; control packets kept whole', async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  const max = 4 * CHUNK_BYTES;
  const sender = new ChunkSender(port1, { maxHeldBytes: max, sheddable: (b, n) => sheddable(1, b, n, CONTROL), kernelDrops: () => 7, onStop: () => {} });
  const reader = new ChunkReader('live test', 'live (test)', 1, port2);
  // The analysis does not take anything meanwhile: 40,000 data packets and, every 100th, a control packet.
  for (let i = 0; i < 40_000; i++) {
    const f = i % 100 === 99 ? control : data;
    sender.add(f, f.length, f.length, 1, i);
    assert.ok(sender.peakChunks <= 4, `${sender.peakChunks} chunks out`);
  }
  assert.ok(sender.shed > 1000, `shed ${sender.shed}`);
  assert.ok(sender.dropped > 1000, `dropped ${sender.dropped}`);
  assert.equal(sender.shedBytes, sender.shed * 1448);
  const first = await reader.next();
  const got = records(first!);
  // Three chunks of whole packets (the fourth being filled when the shedding began), then headers only.
  const whole = got.filter((r) => r.bytes.length / 2 === data.length).length;
  const cut = got.filter((r) => r.bytes.length / 2 === 54);
  assert.ok(whole > 1500 && whole < 3 * CHUNK_BYTES / data.length, `${whole} whole`);
  assert.equal(cut.length, sender.shed);
  assert.ok(cut.every((r) => r.orig === data.length), 'a shed packet keeps its length on the wire: the reassembler sees a gap');
  const controls = got.filter((r) => r.bytes === control.toString('hex'));
  assert.ok(controls.length >= got.length / 100 - 1, `${controls.length} control packets of ${got.length}`);
  assert.equal(got.length + sender.dropped, 40_000);
  // The shed packets came in the last chunk, with the count; the drops after it are told with the next one.
  assert.deepEqual(reader.loss, { kernel: 7, dropped: 0, shed: sender.shed } satisfies LiveLoss);
  // The analysis caught up (it gave the chunks back): whole packets again, and each loss told once.
  const before = { shed: sender.shed, dropped: sender.dropped };
  const waiting = reader.next();
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 100; i++) sender.add(data, data.length, data.length, 2, i);
  const after = await waiting;
  assert.equal(after!.count, 100);
  assert.ok(records(after!).every((r) => r.bytes.length / 2 === data.length));
  assert.deepEqual({ shed: sender.shed, dropped: sender.dropped }, before);
  assert.deepEqual(reader.loss, { kernel: 0, dropped: sender.dropped, shed: 0 } satisfies LiveLoss);
});

test('an analysis that waits gets a packet within milliseconds, not when a chunk fills; its stop reaches the capture', async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  let stopped = 0;
  const sender = new ChunkSender(port1, { maxHeldBytes: 64 << 20, sheddable: () => 0, kernelDrops: noLoss, onStop: () => stopped++ });
  const reader = new ChunkReader('live test', 'live (test)', 1, port2);
  const waiting = reader.next();
  await new Promise((r) => setTimeout(r, 20));
  sender.add(data, data.length, data.length, 5, 6);
  const t0 = performance.now();
  const b = await waiting;
  assert.equal(b!.count, 1);
  assert.ok(performance.now() - t0 < 1000, 'handed over without waiting for more packets');
  reader.stop();
  for (const t0 = Date.now(); stopped === 0 && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 5));
  assert.equal(stopped, 1);
  // A loss with no packet after it (the kernel dropped the last ones) is still told, with an empty batch.
  const lossy = new ChunkSender(port1, { maxHeldBytes: 64 << 20, sheddable: () => 0, kernelDrops: () => 3, onStop: () => {} });
  lossy.end(null);
  const last = await reader.next();
  assert.equal(last!.count, 0);
  assert.deepEqual(reader.loss, { kernel: 3, dropped: 0, shed: 0 });
  assert.equal(await reader.next(), null);
});

const captures = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap')).map((f) => fixture(f));

async function fileNdjson(path: string): Promise<string[]> {
  const io = collect();
  assert.equal(await main(['--format', 'ndjson', path], io.io), 0, io.stderr());
  return io.stdout().trimEnd().split('\n');
}

async function threaded(path: string, s: Settings): Promise<{ status: number; out: string; err: string }> {
  const io = collect();
  const opened = await ReplayCapture.open(path);
  const status = await runCaptureThread(s, viewOptions(s, io.io), io.io, (port) => new ReplayCapture(path, opened, port));
  return { status, out: io.stdout(), err: io.stderr() };
}

test('two threads, the same events as the file analysis (NDJSON), on every fixture', async () => {
  assert.ok(captures.length >= 10);
  for (const path of captures) {
    const a = await fileNdjson(path);
    const r = await threaded(path, settings({ format: 'ndjson' }));
    assert.equal(r.status, 0, r.err);
    const b = r.out.trimEnd().split('\n');
    // The last line is each one's end: what the capture held, and (live) what the capture said of itself.
    assert.deepEqual(b.slice(0, -1), a.slice(0, -1), path);
    const end = JSON.parse(b.at(-1)!) as { live: { packets: number; dropped: number; shed: number } };
    assert.equal(end.live.dropped + end.live.shed, 0, path);
    assert.equal(end.live.packets, (JSON.parse(a.at(-1)!) as { capture: { records: number } }).capture.records, path);
  }
});

test('in a process of its own the analysis thread writes to the descriptors itself: the same JSON as the file analysis, and the exit status', () => {
  const path = fixture('active-list-retr-stor.pcap');
  const file = spawnSync(process.execPath, [new URL('../../bin/ftpscope.js', import.meta.url).pathname, '--format', 'json', path], { encoding: 'utf8' });
  const live = spawnSync(process.execPath, [REPLAY, path, JSON.stringify({ format: 'json' })], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(live.status, 0, live.stderr);
  assert.match(live.stderr, /capturing on .*active-list-retr-stor\.pcap \(replayed\)/);
  const a = JSON.parse(file.stdout) as Record<string, unknown>;
  const b = JSON.parse(live.stdout) as Record<string, unknown>;
  for (const k of ['sessions', 'predictions', 'transfers', 'findings', 'timeline']) assert.deepEqual(b[k], a[k], k);
  // A reader slower than the analysis (the pipe fills; the main thread made it non-blocking): every line still arrives, in order.
  const many = fixture('bruteforce-logins.pcap');
  const whole = spawnSync(process.execPath, [new URL('../../bin/ftpscope.js', import.meta.url).pathname, '--format', 'ndjson', many], { encoding: 'utf8' });
  const slow = spawnSync('sh', ['-c', `"${process.execPath}" "${REPLAY}" "${many}" '{"format":"ndjson"}' | (sleep 2; cat)`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });
  assert.ok(whole.stdout.length > 200_000, `${whole.stdout.length} bytes: more than a pipe holds`);
  assert.deepEqual(slow.stdout.trimEnd().split('\n').slice(0, -1), whole.stdout.trimEnd().split('\n').slice(0, -1));
  assert.equal(slow.stderr.replace(/^ftpscope: capturing on .*\n/, ''), '');
  // A reader that goes away: the analysis ends quietly, with no error.
  const head = spawnSync('sh', ['-c', `"${process.execPath}" "${REPLAY}" "${path}" '{"format":"ndjson"}' | head -1`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(head.stdout.split('\n').length, 2, head.stdout);
  assert.doesNotMatch(head.stderr, /error/i);
});
