/**
 * TCP analysis, decided once in flow/ (segment-analysis.ts) and stored in the packet log: compared with
 * tshark's on the project's captures (the lossy one above all), and checked on small hand-built segment
 * sequences whose right answer is known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PacketLog, PacketRecord } from '../src/flow/packet-log.js';
import {
  SEG_ACK_FROM_ISN, SEG_ACKED_UNSEEN, SEG_ACKS_FIN, SEG_DATA, SEG_DUP_ACK, SEG_FAST_RETRANSMISSION, SEG_FIN, SEG_HANDSHAKE_ACK, SEG_KEEP_ALIVE,
  SEG_KEEP_ALIVE_ACK, SEG_OUT_OF_ORDER, SEG_PREVIOUS_NOT_CAPTURED, SEG_RETRANSMISSION, SEG_RST,
  SEG_SPURIOUS_RETRANSMISSION, SEG_SYN, SEG_SYN_ACK, SEG_WINDOW_FULL, SEG_WINDOW_UPDATE, SEG_ZERO_WINDOW,
  SEG_ZERO_WINDOW_PROBE, SEG_ZERO_WINDOW_PROBE_ACK,
} from '../src/model/segment.js';
import { SegmentAnalysis } from '../src/flow/segment-analysis.js';
import { analyseCapture } from './analysis.js';
import { listCaptures } from './support/captures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOSSY = ['fixtures/lossy-retr.pcap'];
const AGREEMENT = 0.95;

/** The analysis words compared, as tshark's expert messages say them. */
const WORDS: Array<[string, number, RegExp]> = [
  ['retransmission', SEG_RETRANSMISSION, /^This frame is a \(suspected\) retransmission$/],
  ['fast-retransmission', SEG_FAST_RETRANSMISSION, /^This frame is a \(suspected\) fast retransmission$/],
  ['spurious-retransmission', SEG_SPURIOUS_RETRANSMISSION, /^This frame is a \(suspected\) spurious retransmission$/],
  ['out-of-order', SEG_OUT_OF_ORDER, /^This frame is a \(suspected\) out-of-order segment$/],
  ['previous-not-captured', SEG_PREVIOUS_NOT_CAPTURED, /^Previous segment\(s\) not captured/],
  ['acked-unseen', SEG_ACKED_UNSEEN, /^ACKed segment that wasn't captured/],
  ['dup-ack', SEG_DUP_ACK, /^Duplicate ACK \(#\d+\)$/],
  ['window-update', SEG_WINDOW_UPDATE, /^TCP window update$/],
  ['window-full', SEG_WINDOW_FULL, /^TCP window specified by the receiver is now completely full$/],
  ['zero-window', SEG_ZERO_WINDOW, /^TCP Zero Window segment$/],
  ['zero-window-probe', SEG_ZERO_WINDOW_PROBE, /^TCP Zero Window Probe$/],
  ['zero-window-probe-ack', SEG_ZERO_WINDOW_PROBE_ACK, /^ACK to a TCP Zero Window Probe$/],
  ['keep-alive', SEG_KEEP_ALIVE, /^TCP keep-alive segment$/],
  ['keep-alive-ack', SEG_KEEP_ALIVE_ACK, /^ACK to a TCP keep-alive segment$/],
];

/** tshark's retransmission flag comes with the fast and spurious ones too; ours names one kind. */
function ours(p: PacketRecord): Set<string> {
  const out = new Set<string>();
  for (const [name, bit] of WORDS) if (p.analysis & bit) out.add(name);
  if (p.analysis & (SEG_FAST_RETRANSMISSION | SEG_SPURIOUS_RETRANSMISSION)) out.add('retransmission');
  if (p.analysis & SEG_DUP_ACK) out.add(`dup-ack#${p.dupAckCount}`);
  return out;
}

function tsharkAvailable(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tshark's words for each frame. */
function parseTshark(text: string): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [frame, messages = '', dup = ''] = line.split('\t');
    const words = new Set<string>();
    for (const m of messages.split('\u0001')) for (const [name, , re] of WORDS) if (re.test(m)) words.add(name);
    if (dup !== '') words.add(`dup-ack#${dup}`);
    out.set(Number(frame), words);
  }
  return out;
}

const TSHARK_ARGS = ['-n', '-o', 'tcp.relative_sequence_numbers:TRUE', '-o', 'tcp.analyze_sequence_numbers:TRUE', '-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=\u0001', '-e', 'frame.number', '-e', '_ws.expert.message', '-e', 'tcp.analysis.duplicate_ack_num', 'tcp'];

/** tshark runs, several at once (each spends most of a second starting up), all started at load. */
const running: Array<() => void> = [];
let active = 0;
function tshark(path: string): Promise<Map<number, Set<string>>> {
  return new Promise((resolve, reject) => {
    const start = (): void => {
      active++;
      execFile('tshark', ['-r', path, ...TSHARK_ARGS], { encoding: 'utf8', maxBuffer: 256 << 20 }, (err, stdout) => {
        active--;
        running.shift()?.();
        if (err) reject(err);
        else resolve(parseTshark(stdout));
      });
    };
    if (active < 6) start();
    else running.push(start);
  });
}

async function packetLog(path: string): Promise<PacketLog> {
  return (await analyseCapture(path, createReadStream(path), {}, { packets: true })).packets!;
}

interface Agreement {
  segments: number;
  agree: number;
  /** Per word: [both, tshark only, ours only]. */
  confusion: Map<string, [number, number, number]>;
  disagreements: string[];
}

async function compare(path: string, tsharkWords: Promise<Map<number, Set<string>>>): Promise<Agreement> {
  const theirs = await tsharkWords;
  const log = await packetLog(path);
  const result: Agreement = { segments: 0, agree: 0, confusion: new Map(), disagreements: [] };
  for (const p of log.all()) {
    const t = theirs.get(p.frame) ?? new Set<string>();
    const o = ours(p);
    result.segments++;
    const same = t.size === o.size && [...t].every((w) => o.has(w));
    if (same) result.agree++;
    else if (result.disagreements.length < 12) result.disagreements.push(`frame ${p.frame}: tshark [${[...t].join(', ')}], ours [${[...o].join(', ')}]`);
    for (const [name] of WORDS) {
      const c = result.confusion.get(name) ?? [0, 0, 0];
      if (t.has(name) && o.has(name)) c[0]++;
      else if (t.has(name)) c[1]++;
      else if (o.has(name)) c[2]++;
      result.confusion.set(name, c);
    }
  }
  return result;
}

function report(a: Agreement): string {
  const rows = [...a.confusion].filter(([, c]) => c[0] + c[1] + c[2] > 0).map(([n, [both, t, o]]) => `  ${n}: both ${both}, tshark only ${t}, ours only ${o}`);
  return [`${a.agree} of ${a.segments} segments agree (${((100 * a.agree) / Math.max(1, a.segments)).toFixed(2)} %)`, ...rows, ...a.disagreements.map((d) => `  ${d}`)].join('\n');
}

/** test:fast leaves the tshark comparisons out (an external program per capture); npm test runs them. */
const FAST = process.env.FTPSCOPE_FAST === '1';
const haveTshark = !FAST && tsharkAvailable();
const conformance = join(ROOT, '../shared/conformance');
/**
 * Zeek's captures in which tshark finds losses and retransmissions; FTPSCOPE_TCP_ALL=1 compares every
 * conformance capture up to 1 MB (each tshark run costs half a second of CPU; the suite runs files one by one).
 */
const CONFORMANCE = /large-file-reassembly|file-analysis\.ftp\/retr\.pcap$/;
const everything = process.env.FTPSCOPE_TCP_ALL === '1';
/** Each capture once (Zeek's tests share some), the lossy ones first. */
const seen = new Set<string>();
const captures = [
  ...LOSSY.map((f) => join(ROOT, f)),
  ...listCaptures(join(ROOT, 'fixtures')).filter((f) => !LOSSY.some((l) => f.endsWith(l))),
  ...listCaptures(conformance).filter((c) => (everything ? statSync(c).size <= 1_000_000 : CONFORMANCE.test(c))),
].filter((c) => {
  if (!existsSync(c)) return false;
  const h = createHash('sha1').update(readFileSync(c)).digest('hex');
  if (seen.has(h)) return false;
  seen.add(h);
  return true;
});

const words = new Map(haveTshark ? captures.map((c) => [c, tshark(c)] as const) : []);
for (const p of words.values()) p.catch(() => undefined); // reported by its test

for (const path of captures) {
  const name = relative(ROOT, path);
  const skip = FAST
    ? 'skipped in test:fast: the tshark comparison runs an external program per capture; npm test runs it'
    : haveTshark ? false : 'tshark is not installed (apt-get install tshark): the comparison needs it';
  test(`TCP analysis agrees with tshark's on ${name}`, { skip }, async () => {
    if (!existsSync(path)) return;
    const a = await compare(path, words.get(path)!);
    if (process.env.FTPSCOPE_TCP_REPORT === '1') console.log(`${name}\n${report(a)}`);
    assert.ok(a.agree >= AGREEMENT * a.segments, `${name}: ${report(a)}`);
  });
}

// ---------------------------------------------------------------------------
// Hand-built sequences
// ---------------------------------------------------------------------------

const A = 16;
const S = 2;
const F = 1;
const R = 4;

/** Feeds segments to one SegmentAnalysis; each is [dir, ms, flags, seq, ack, window, payload]; returns the labels. */
function run(segments: Array<[0 | 1, number, number, number, number, number, number]>, keepIsn = false, wscale = 7): Array<{ labels: number; seq: number; ack: number; dup: number; of: number; unseen: number }> {
  const a = new SegmentAnalysis();
  return segments.map(([dir, ms, flags, seq, ack, win, len], i) => {
    a.segment(dir, i + 1, Math.floor(ms / 1000), (ms % 1000) * 1e6, flags, seq >>> 0, ack >>> 0, win, flags & S ? wscale : -1, len);
    return { labels: a.labels & ~(keepIsn ? 0 : SEG_ACK_FROM_ISN), seq: a.relSeq, ack: a.relAck, dup: a.dupAckCount, of: a.dupAckOf, unseen: a.unseenBefore };
  });
}

const C = 1000; // client ISN
const V = 0xfffffff0; // server ISN: its sequence numbers wrap past 2^32

test('the handshake, data, ACKs and the teardown; relative numbers across the 2^32 wrap', () => {
  const r = run([
    [0, 0, S, C, 0, 64240, 0],
    [1, 1, S | A, V, C + 1, 65160, 0],
    [0, 2, A, C + 1, V + 1, 502, 0],
    [1, 3, A, V + 1, C + 1, 510, 100],
    [0, 4, A, C + 1, V + 101, 501, 0],
    [1, 5, A | F, V + 101, C + 1, 510, 0],
    [0, 6, A | F, C + 1, V + 102, 501, 0],
    [1, 7, A, V + 102, C + 2, 510, 0],
  ], true);
  const I = SEG_ACK_FROM_ISN;
  assert.deepEqual(r.map((x) => x.labels), [SEG_SYN, SEG_SYN_ACK | I, SEG_HANDSHAKE_ACK | I, SEG_DATA | I, I, SEG_FIN | I, SEG_FIN | SEG_ACKS_FIN | I, SEG_ACKS_FIN | I]);
  assert.deepEqual(r.map((x) => x.seq), [0, 0, 1, 1, 1, 101, 1, 102]);
  assert.deepEqual(r.map((x) => x.ack), [0, 1, 1, 1, 101, 1, 102, 2]);
});

test('a loss: previous segment not captured, duplicate ACKs #1 #2 #3, then the fast retransmission', () => {
  const r = run([
    [0, 0, S, C, 0, 64240, 0],
    [1, 1, S | A, V, C + 1, 65160, 0],
    [0, 2, A, C + 1, V + 1, 502, 0],
    [1, 10, A, V + 1, C + 1, 510, 1000],
    // V+1001 lost
    [1, 11, A, V + 2001, C + 1, 510, 1000],
    [0, 12, A, C + 1, V + 1001, 502, 0],
    [0, 13, A, C + 1, V + 1001, 502, 0],
    [1, 14, A, V + 3001, C + 1, 510, 1000],
    [0, 15, A, C + 1, V + 1001, 502, 0],
    [1, 16, A, V + 1001, C + 1, 510, 1000],
    [0, 17, A, C + 1, V + 4001, 502, 0],
  ]);
  assert.equal(r[4]!.labels, SEG_DATA | SEG_PREVIOUS_NOT_CAPTURED);
  assert.equal(r[4]!.unseen, 1000);
  assert.equal(r[5]!.labels, 0);
  assert.deepEqual([r[6], r[8]].map((x) => [x!.labels, x!.dup, x!.of]), [[SEG_DUP_ACK, 1, 6], [SEG_DUP_ACK, 2, 6]]);
  assert.equal(r[9]!.labels, SEG_DATA | SEG_FAST_RETRANSMISSION);
  assert.equal(r[10]!.labels, 0);
});

test('retransmission after a timeout, out-of-order within 3 ms, spurious when already acknowledged', () => {
  const r = run([
    [0, 0, A, C, V, 502, 100], // picked up mid-stream: seq 1
    [0, 1, A, C + 100, V, 502, 100],
    [0, 300, A, C + 100, V, 502, 100], // the same again, 299 ms later
    [0, 301, A, C + 300, V, 502, 100], // skips 100
    [0, 302, A, C + 200, V, 502, 100], // fills the hole 1 ms later
    [1, 303, A, V, C + 400, 510, 0],
    [0, 304, A, C + 300, V, 502, 100], // acknowledged already
  ]);
  assert.deepEqual(r.map((x) => x.seq), [1, 101, 101, 301, 201, 1, 301]);
  assert.equal(r[2]!.labels, SEG_DATA | SEG_RETRANSMISSION);
  assert.equal(r[3]!.labels, SEG_DATA | SEG_PREVIOUS_NOT_CAPTURED);
  assert.equal(r[4]!.labels, SEG_DATA | SEG_OUT_OF_ORDER);
  assert.equal(r[6]!.labels, SEG_DATA | SEG_SPURIOUS_RETRANSMISSION);
});

test('a retransmitted SYN; keep-alive and its ACK; window update; zero window; RST', () => {
  const r = run([
    [0, 0, S, C, 0, 64240, 0],
    [0, 1000, S, C, 0, 64240, 0],
    [1, 1001, S | A, V, C + 1, 65160, 0],
    [0, 1002, A, C + 1, V + 1, 502, 0],
    [1, 1003, A, V + 1, C + 1, 510, 0], // a window update (from the SYN+ACK's)
    [0, 50000, A, C, V + 1, 502, 0], // keep-alive: one before the next
    [1, 50001, A, V + 1, C + 1, 510, 0],
    [1, 50002, A, V + 1, C + 1, 600, 0], // window update
    [1, 50003, A, V + 1, C + 1, 0, 0], // zero window
    [0, 50004, R, C + 1, 0, 0, 0],
  ]);
  assert.equal(r[1]!.labels, SEG_SYN | SEG_RETRANSMISSION);
  assert.equal(r[4]!.labels, SEG_WINDOW_UPDATE);
  assert.equal(r[5]!.labels, SEG_KEEP_ALIVE);
  assert.equal(r[6]!.labels, SEG_KEEP_ALIVE_ACK);
  assert.equal(r[7]!.labels, SEG_WINDOW_UPDATE);
  assert.equal(r[8]!.labels, SEG_ZERO_WINDOW);
  assert.equal(r[9]!.labels, SEG_RST);
});

test('through the pipeline: a capture built with the capture writer, its packet log, the packet list and the walkthrough', async () => {
  const { TcpConversation, framesToPcap } = await import('./support/capture-writer.js');
  const { Readable } = await import('node:stream');
  const { DEFAULT_VIEW_OPTIONS, ViewContext } = await import('../src/render/context.js');
  const { renderPackets } = await import('../src/render/packets.js');
  const { renderWalkthrough } = await import('../src/render/walkthrough.js');
  // The server's sequence numbers wrap past 2^32 during its greeting.
  const conv = new TcpConversation({ client: { ip: '10.9.0.1', port: 40000 }, server: { ip: '10.9.0.2', port: 21 }, isnServer: 0xfffffffc });
  conv.handshake();
  conv.send(false, '220 ftpscope test\r\n', { noAck: true });
  const greetingAt = 0xfffffffd;
  conv.segment(false, A, Buffer.from('220 ftpscope test\r\n'), { advance: false, seq: greetingAt }); // sent again
  conv.segment(true, A);
  conv.send(true, 'QUIT\r\n');
  conv.send(false, '221 bye\r\n');
  conv.close(true);
  const pcap = framesToPcap(conv.frames);
  const built = await analyseCapture('built.pcap', Readable.from([pcap]), {}, { packets: true });
  const { ftp, capture } = built;
  const log = built.packets!;
  const packets = [...log.all()];
  assert.deepEqual(packets.slice(0, 6).map((p) => p.analysis & ~SEG_ACK_FROM_ISN), [SEG_SYN, SEG_SYN_ACK, SEG_HANDSHAKE_ACK, SEG_DATA, SEG_DATA | SEG_RETRANSMISSION, 0]);
  assert.deepEqual(packets.slice(3, 6).map((p) => [p.seq, p.ack]), [[1, 1], [1, 1], [1, 20]]);
  assert.equal(packets[4]!.newBytes, 0);
  assert.equal(packets[3]!.newBytes, 19);
  const ctx = new ViewContext(ftp.result(), capture, log, { ...DEFAULT_VIEW_OPTIONS, width: 200 });
  const line = renderPackets(ctx).split('\n').find((l) => /^\s*5 /.test(l))!;
  assert.match(line, /\[TCP Retransmission\] Response|\[TCP Retransmission\] .*21 → 40000/);
  const walk = renderWalkthrough(ctx);
  const step = walk.split('\n\n').find((s) => /frame 5 /.test(s))!;
  assert.match(step, /A retransmission: these 19 bytes were sent before/);
  assert.doesNotMatch(step, /line begun in an earlier segment/);
});
