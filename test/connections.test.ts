/**
 * The connection table and reassembly through the whole pipeline (capture file -> decoder -> table),
 * on synthetic captures that each exercise one behaviour of TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DEFAULT_ANALYZE_OPTIONS, analyze, type AnalyzeOptions, type CaptureSummary } from '../src/analyze.js';
import { openCapture } from '../src/capture/open-capture.js';
import { ConnectionLog, type ConnectionSummary } from '../src/flow/connection-log.js';
import type { Connection, TcpListener } from '../src/flow/connections.js';
import type { StreamSink } from '../src/flow/stream-sink.js';
import { ACK, FIN, PSH, SYN, TcpConversation, framesToPcap, ipv4Fragments, tcp, type Frame } from './support/capture-writer.js';

interface Streams {
  data: [Buffer[], Buffer[]];
  gaps: Array<{ dir: number; at: number; len: number; reason: string }>;
  ends: Array<{ dir: number; reason: string }>;
}

/** Records every stream's bytes, and the connection summaries. */
class Recorder implements TcpListener {
  readonly log = new ConnectionLog();
  readonly streams = new Map<number, Streams>();
  opened(conn: Connection): StreamSink {
    const logSink = this.log.opened(conn);
    const s: Streams = { data: [[], []], gaps: [], ends: [] };
    this.streams.set(conn.id, s);
    return {
      data(dir, buf, off, len, at, frame) {
        s.data[dir].push(Buffer.from(buf.subarray(off, off + len)));
        logSink.data(dir, buf, off, len, at, frame);
      },
      gap(dir, at, len, reason) {
        s.gaps.push({ dir, at, len, reason });
        logSink.gap(dir, at, len, reason);
      },
      end(dir, reason) {
        s.ends.push({ dir, reason });
        logSink.end(dir, reason);
      },
    };
  }
  closed(conn: Connection): void {
    this.log.closed(conn);
  }
  bytes(id: number, dir: 0 | 1): string {
    return Buffer.concat(this.streams.get(id)!.data[dir]).toString('latin1');
  }
}

async function run(frames: Frame[], options: Partial<AnalyzeOptions> = {}, snaplen?: number): Promise<{ rec: Recorder; conns: ConnectionSummary[]; summary: CaptureSummary }> {
  const file = framesToPcap(frames, 'ethernet', snaplen ? { snaplen } : {});
  const reader = await openCapture('test.pcap', Readable.from([file]));
  const rec = new Recorder();
  const summary = await analyze(reader, rec, { ...DEFAULT_ANALYZE_OPTIONS, ...options });
  return { rec, conns: rec.log.sorted(), summary };
}

const client = { ip: '10.0.0.1', port: 40000 };
const server = { ip: '10.0.0.2', port: 21 };

test('a complete connection: handshake frames, data both ways, FIN teardown', async () => {
  const c = new TcpConversation({ client, server }).handshake().send(false, '220 hi\r\n').send(true, 'USER a\r\n').close(true);
  const { rec, conns } = await run(c.frames);
  assert.equal(conns.length, 1);
  const k = conns[0]!;
  assert.deepEqual([k.handshake.syn?.frame, k.handshake.synAck?.frame, k.handshake.ack?.frame], [1, 2, 3]);
  assert.equal(k.origin, 'syn');
  assert.equal(k.client.address, '10.0.0.1');
  assert.equal(k.server.port, 21);
  assert.equal(rec.bytes(k.id, 1), '220 hi\r\n');
  assert.equal(rec.bytes(k.id, 0), 'USER a\r\n');
  assert.equal(k.closeReason, 'fin');
  assert.ok(k.teardown.clientFin!.frame < k.teardown.serverFin!.frame);
  assert.deepEqual(rec.streams.get(k.id)!.ends.map((e) => e.reason), ['fin', 'fin']);
});

test('half-close: after the client FIN the server keeps sending and everything is delivered', async () => {
  const c = new TcpConversation({ client, server }).handshake();
  c.segment(true, FIN | ACK).segment(false, ACK);
  c.send(false, 'x'.repeat(5000));
  c.segment(false, FIN | ACK).segment(true, ACK);
  const { rec, conns } = await run(c.frames);
  assert.equal(rec.bytes(conns[0]!.id, 1), 'x'.repeat(5000));
  assert.equal(conns[0]!.toClient.end, 'fin');
  assert.equal(conns[0]!.toServer.end, 'fin');
});

test('RST ends both directions; a refused SYN is one connection ended by the server', async () => {
  const a = new TcpConversation({ client, server }).handshake().send(true, 'hello').reset(false);
  const refused = new TcpConversation({ client: { ip: '10.0.0.1', port: 40001 }, server: { ip: '10.0.0.2', port: 20 }, startSec: 1_700_000_100 });
  refused.segment(true, SYN);
  refused.segment(false, 0x04 | ACK); // RST+ACK
  const { conns } = await run([...a.frames, ...refused.frames]);
  assert.equal(conns.length, 2);
  assert.equal(conns[0]!.teardown.rst?.by, 'server');
  assert.equal(conns[0]!.closeReason, 'rst');
  assert.equal(conns[1]!.handshake.synAck, null);
  assert.equal(conns[1]!.teardown.rst?.by, 'server');
});

test('port reuse: a new SYN on a finished four-tuple starts a new connection', async () => {
  const first = new TcpConversation({ client, server, isnClient: 100 }).handshake().send(true, 'one').close();
  const second = new TcpConversation({ client, server, isnClient: 900_000, startSec: 1_700_000_005 }).handshake().send(true, 'two').close();
  const { rec, conns } = await run([...first.frames, ...second.frames]);
  assert.equal(conns.length, 2);
  assert.equal(rec.bytes(conns[0]!.id, 0), 'one');
  assert.equal(rec.bytes(conns[1]!.id, 0), 'two');
});

test('picked up mid-stream: the start is unseen, port 21 tells the server, data still flows', async () => {
  const c = new TcpConversation({ client, server }).handshake().send(false, '220 x\r\n').send(true, 'PWD\r\n').send(false, '257 "/"\r\n');
  const { rec, conns } = await run(c.frames.slice(5)); // no handshake, no greeting
  const k = conns[0]!;
  assert.equal(k.origin, 'port');
  assert.equal(k.client.port, 40000);
  assert.equal(k.handshake.syn, null);
  assert.ok(k.toServer.startUnseen);
  assert.equal(rec.bytes(k.id, 0), 'PWD\r\n');
  assert.equal(rec.bytes(k.id, 1), '257 "/"\r\n');
  assert.equal(rec.streams.get(k.id)!.gaps[0]!.reason, 'start-unseen');
});

test('out of order and retransmitted segments are delivered once, in order', async () => {
  const c = new TcpConversation({ client, server }).handshake();
  const body = Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(200));
  c.send(false, body, { segmentSize: 500, noAck: true });
  const frames = [...c.frames];
  // Swap two data segments and repeat one.
  [frames[4], frames[6]] = [frames[6]!, frames[4]!];
  frames.push(frames[5]!);
  c.close();
  const { rec, conns } = await run([...frames, ...c.frames.slice(frames.length - 1)]);
  assert.equal(rec.bytes(conns[0]!.id, 1), body.toString('latin1'));
  assert.equal(conns[0]!.toClient.retransmittedBytes, 500);
  assert.equal(conns[0]!.toClient.conflictBytes, 0);
});

test('a lost segment acknowledged by the receiver becomes one gap of its size, at once', async () => {
  const c = new TcpConversation({ client, server }).handshake();
  c.send(false, 'A'.repeat(3000), { segmentSize: 1000 });
  c.close();
  const frames = c.frames.filter((_, i) => i !== 4); // the second data segment
  const { rec, conns } = await run(frames);
  assert.deepEqual(rec.streams.get(conns[0]!.id)!.gaps, [{ dir: 1, at: 1000, len: 1000, reason: 'missing' }]);
  assert.equal(conns[0]!.toClient.deliveredBytes, 2000);
  assert.equal(conns[0]!.toClient.streamLength, 3000);
});

test('the snap length cutting a segment gives a "cut" gap for exactly the missing bytes', async () => {
  const c = new TcpConversation({ client, server }).handshake().send(false, 'B'.repeat(1400)).close();
  // Ethernet 14 + IPv4 20 + TCP 20 = 54 header bytes; a snap length of 154 keeps 100 payload bytes.
  const { rec, conns, summary } = await run(c.frames, {}, 154);
  assert.equal(summary.cutRecords, 1);
  assert.deepEqual(rec.streams.get(conns[0]!.id)!.gaps, [{ dir: 1, at: 100, len: 1300, reason: 'cut' }]);
  assert.equal(rec.bytes(conns[0]!.id, 1), 'B'.repeat(100));
});

test('idle connections are closed in capture time while others go on', async () => {
  const quiet = new TcpConversation({ client, server }).handshake().send(true, 'NOOP\r\n');
  const busy = new TcpConversation({ client: { ip: '10.0.0.3', port: 50000 }, server, startSec: 1_700_000_000 + 2000 }).handshake().send(true, 'x').close();
  const opts = { connections: { ...DEFAULT_ANALYZE_OPTIONS.connections, idleTimeoutSec: 600 } };
  const { conns, summary } = await run([...quiet.frames, ...busy.frames], opts);
  const q = conns.find((k) => k.client.address === '10.0.0.1')!;
  assert.equal(q.closeReason, 'idle');
  assert.equal(summary.connections.idleClosed, 1);
  assert.equal(conns.find((k) => k.client.address === '10.0.0.3')!.closeReason, 'fin');
});

test('the connection limit evicts the least recently active connection', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 5; i++) {
    frames.push(...new TcpConversation({ client: { ip: '10.0.0.1', port: 41000 + i }, server, startSec: 1_700_000_000 + i }).handshake().frames);
  }
  const opts = { connections: { ...DEFAULT_ANALYZE_OPTIONS.connections, maxConnections: 3 } };
  const { conns, summary } = await run(frames, opts);
  assert.equal(summary.connections.evicted, 2);
  assert.deepEqual(conns.filter((k) => k.closeReason === 'evicted').map((k) => k.client.port), [41000, 41001]);
  assert.equal(summary.connections.maxConcurrent, 3);
});

test('a TCP segment split into IPv4 fragments is reassembled and delivered', async () => {
  const c = new TcpConversation({ client, server }).handshake();
  const payload = Buffer.from('F'.repeat(3000));
  const seg = tcp({ src: server.ip, dst: client.ip, sport: server.port, dport: client.port, seq: c.serverSeq, ack: c.clientSeq, flags: ACK | PSH }, payload);
  const t = c.frames.at(-1)!;
  const frags = ipv4Fragments({ src: server.ip, dst: client.ip, id: 77 }, seg, 1480).map((data, i) => ({ tsSec: t.tsSec + 1, tsNsec: i, data }));
  const { rec, conns, summary } = await run([...c.frames, ...frags.reverse()]);
  assert.equal(summary.fragments.reassembled, 1);
  assert.equal(rec.bytes(conns[0]!.id, 1), payload.toString('latin1'));
});

test('connections between the same hosts on other ports, and IPv6, are kept apart', async () => {
  const a = new TcpConversation({ client, server }).handshake().send(true, 'a');
  const b = new TcpConversation({ client: { ip: '10.0.0.1', port: 40002 }, server }).handshake().send(true, 'b');
  const v6 = new TcpConversation({ client: { ip: '2001:db8::1', port: 40000 }, server: { ip: '2001:db8::2', port: 21 } }).handshake().send(true, 'c');
  const frames = [...a.frames, ...b.frames, ...v6.frames].sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
  const { rec, conns } = await run(frames);
  assert.equal(conns.length, 3);
  const text = conns.map((k) => rec.bytes(k.id, 0)).sort();
  assert.deepEqual(text, ['a', 'b', 'c']);
  assert.equal(conns.find((k) => k.ipVersion === 6)!.client.address, '2001:db8::1');
});

test('sequence numbers wrapping past 2^32 within a connection change nothing', async () => {
  const body = Buffer.alloc(20_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 255;
  const c = new TcpConversation({ client, server, isnServer: 4294967296 - 5000 }).handshake().send(false, body).close();
  const { rec, conns } = await run(c.frames);
  assert.ok(Buffer.from(rec.bytes(conns[0]!.id, 1), 'latin1').equals(body));
  assert.equal(conns[0]!.toClient.gapCount, 0);
});

test('a direction first seen in a bare ACK still reports that its start was not seen', async () => {
  const c = new TcpConversation({ client, server }).handshake().send(false, '220 x\r\n').send(true, 'PWD\r\n');
  // From the client's bare ACK of the greeting on: the client's first packet carries no data.
  const { rec, conns } = await run(c.frames.slice(4));
  const gaps = rec.streams.get(conns[0]!.id)!.gaps;
  assert.deepEqual(gaps.filter((g) => g.reason === 'start-unseen').map((g) => g.dir).sort(), [0, 1]);
  assert.equal(rec.bytes(conns[0]!.id, 0), 'PWD\r\n');
});

test('a capture that starts at the SYN+ACK knows where the client stream starts', async () => {
  const c = new TcpConversation({ client, server }).handshake().send(true, 'USER x\r\n').close();
  const { rec, conns } = await run(c.frames.slice(1));
  const k = conns[0]!;
  assert.equal(k.origin, 'syn-ack');
  assert.equal(k.toServer.startUnseen, false);
  assert.equal(rec.bytes(k.id, 0), 'USER x\r\n');
});

test('the total bound on held data applies across connections', async () => {
  // Two connections each lose their first data segment and then send 40 KB; together they may hold 50 KB.
  const frames: Frame[] = [];
  for (const port of [40010, 40011]) {
    const c = new TcpConversation({ client: { ip: '10.0.0.1', port }, server, startSec: 1_700_000_000 + port - 40010 }).handshake();
    c.send(false, 'x'.repeat(41_000), { segmentSize: 1000, noAck: true });
    frames.push(...c.frames.filter((_, i) => i !== 3));
  }
  const reassembly = { ...DEFAULT_ANALYZE_OPTIONS.reassembly, maxBufferedTotal: 50_000 };
  const { rec, conns } = await run(frames, { reassembly });
  const reasons = conns.map((k) => rec.streams.get(k.id)!.gaps.map((g) => g.reason));
  assert.ok(reasons.flat().includes('buffer-limit'), `gaps: ${JSON.stringify(reasons)}`);
  for (const k of conns) assert.equal(k.toClient.deliveredBytes, 40_000);
});
