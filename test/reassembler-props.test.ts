/**
 * Property tests of the TCP reassembler (one direction): random data, random segmentation, shuffled,
 * duplicated and dropped segments, re-segmented retransmissions, initial sequence numbers near 2^32.
 * FTPSCOPE_PROPERTY_CASES sets the number of cases per property (default 1000); a failure names its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferBudget, DEFAULT_REASSEMBLY_LIMITS, HalfStream, type ReassemblyLimits } from '../src/flow/reassembler.js';
import type { Dir, EndReason, GapReason, StreamSink } from '../src/flow/stream-sink.js';
import { prng as rng, randomInt as int, shuffle } from './support/random.js';

const CASES = Number(process.env.FTPSCOPE_PROPERTY_CASES ?? 1000);

interface Seg {
  start: number;
  end: number;
  fin: boolean;
}

interface Recorded {
  data: Array<{ at: number; bytes: Buffer }>;
  gaps: Array<{ at: number; len: number; reason: GapReason }>;
  ends: EndReason[];
}

function recorder(): { sink: StreamSink; rec: Recorded } {
  const rec: Recorded = { data: [], gaps: [], ends: [] };
  const sink: StreamSink = {
    data(_d: Dir, buf, off, len, at) {
      rec.data.push({ at, bytes: Buffer.from(buf.subarray(off, off + len)) });
    },
    gap(_d: Dir, at, len, reason) {
      rec.gaps.push({ at, len, reason });
    },
    end(_d: Dir, reason) {
      rec.ends.push(reason);
    },
  };
  return { sink, rec };
}

/** Cuts [0, length) into consecutive segments of minSeg..maxSeg bytes (the last may be shorter); the last carries the FIN. */
function segmentation(r: () => number, length: number, maxSeg: number, minSeg = 1): Seg[] {
  const segs: Seg[] = [];
  for (let at = 0; at < length; ) {
    let n = Math.min(length - at, int(r, minSeg, Math.max(minSeg, maxSeg)));
    if (length - at - n < minSeg) n = length - at;
    segs.push({ start: at, end: at + n, fin: false });
    at += n;
  }
  segs[segs.length - 1]!.fin = true;
  return segs;
}

/** Bounds wide enough never to fire: the properties are about exact delivery; the bounds have their own test. */
const UNBOUNDED: ReassemblyLimits = { ...DEFAULT_REASSEMBLY_LIMITS, maxSegmentsPerDirection: 1e9, maxBufferedPerDirection: 1e9 };

function makeStream(limits: ReassemblyLimits = UNBOUNDED): { h: HalfStream; rec: Recorded } {
  const { sink, rec } = recorder();
  const h = new HalfStream(0, new BufferBudget(limits.maxBufferedTotal), limits);
  h.sink = sink;
  return { h, rec };
}

/** A stamp for frame n. */
const at = (frame: number) => ({ frame, sec: 0, nsec: 0 });

function feed(h: HalfStream, isn: number, data: Buffer, seg: Seg, frame: number): void {
  const seq = (isn + 1 + seg.start) >>> 0;
  h.segment(seq, data, seg.start, seg.end - seg.start, seg.end - seg.start, seg.fin, at(frame));
}

/** Checks that data and gaps tile [0, length) in order, and that data equals the input. */
function checkTiling(rec: Recorded, data: Buffer, length: number, seed: number): void {
  const events = [
    ...rec.data.map((d) => ({ at: d.at, len: d.bytes.length, bytes: d.bytes as Buffer | null })),
    ...rec.gaps.map((g) => ({ at: g.at, len: g.len, bytes: null })),
  ].sort((a, b) => a.at - b.at);
  let at = 0;
  for (const e of events) {
    assert.equal(e.at, at, `seed ${seed}: stream not contiguous at ${at}`);
    if (e.bytes !== null) assert.ok(e.bytes.equals(data.subarray(e.at, e.at + e.len)), `seed ${seed}: wrong bytes at ${e.at}`);
    at += e.len;
  }
  assert.equal(at, length, `seed ${seed}: stream ends at ${at}, not ${length}`);
  assert.deepEqual(rec.ends, ['fin'], `seed ${seed}: end`);
}

/** An initial sequence number close below 2^32, so most streams wrap around. */
function isnNearWrap(r: () => number, length: number): number {
  return (4294967296 - int(r, 0, length + 64)) >>> 0;
}

test(`reassembly: shuffled, duplicated and re-segmented segments give the input exactly once (${CASES} cases)`, () => {
  for (let c = 0; c < CASES; c++) {
    const seed = 1000 + c;
    const r = rng(seed);
    const length = int(r, 1, 6000);
    const data = Buffer.from(Array.from({ length }, () => int(r, 0, 255)));
    const isn = isnNearWrap(r, length);
    const segs = segmentation(r, length, int(r, 1, 1500));
    // Duplicates of whole segments, and retransmissions re-cut at other boundaries.
    const extra: Seg[] = [];
    for (const s of segs) if (r() < 0.2) extra.push({ ...s });
    for (let k = int(r, 0, 4); k > 0; k--) {
      const a = int(r, 0, length - 1);
      extra.push({ start: a, end: Math.min(length, a + int(r, 1, 2000)), fin: false });
    }
    const order = shuffle(r, [...segs, ...extra]);
    const { h, rec } = makeStream();
    h.syn(isn);
    order.forEach((s, i) => feed(h, isn, data, s, i + 1));
    h.finish('end-of-capture');
    assert.deepEqual(rec.gaps, [], `seed ${seed}: no gaps expected`);
    checkTiling(rec, data, length, seed);
    assert.equal(h.conflictBytes, 0, `seed ${seed}: identical copies are no conflict`);
    assert.equal(h.deliveredBytes, length, `seed ${seed}: delivered`);
  }
});

/**
 * A stream with interior segments dropped, never two neighbours, so that each hole is one dropped segment,
 * and the gaps that must come out.
 */
function dropCase(seed: number) {
  const r = rng(seed);
  const length = int(r, 3, 8000);
  const data = Buffer.from(Array.from({ length }, () => int(r, 0, 255)));
  const isn = isnNearWrap(r, length);
  const segs = segmentation(r, length, int(r, 1, 700));
  const dropped = new Set<number>();
  for (let i = 1; i < segs.length - 1; i++) if (!dropped.has(i - 1) && r() < 0.3) dropped.add(i);
  const expected = segs.filter((_, i) => dropped.has(i)).map((s) => ({ at: s.start, len: s.end - s.start, reason: 'missing' }));
  return { r, length, data, isn, segs, dropped, expected };
}

test(`reassembly: each dropped interior segment gives exactly one gap of its size (${CASES} cases)`, () => {
  for (let c = 0; c < CASES; c++) {
    const seed = 50_000 + c;
    const { r, length, data, isn, segs, dropped, expected } = dropCase(seed);
    const kept = segs.filter((_, i) => !dropped.has(i));
    const dups = kept.filter(() => r() < 0.15).map((s) => ({ ...s }));
    const order = r() < 0.5 ? shuffle(r, [...kept, ...dups]) : [...kept, ...dups];
    const { h, rec } = makeStream();
    h.syn(isn);
    order.forEach((s, i) => feed(h, isn, data, s, i + 1));
    h.finish('end-of-capture');
    assert.deepEqual(rec.gaps, expected, `seed ${seed}: gaps`);
    checkTiling(rec, data, length, seed);
    assert.equal(h.gapBytes, expected.reduce((n, g) => n + g.len, 0), `seed ${seed}: gap bytes`);
  }
});

test(`reassembly: the receiver's ACKs declare holes at once, with the same gaps (${CASES} cases)`, () => {
  for (let c = 0; c < CASES; c++) {
    const seed = 90_000 + c;
    const { r, length, data, isn, segs, dropped, expected } = dropCase(seed);
    const { h, rec } = makeStream();
    h.syn(isn);
    // In order; after each segment the receiver (which got everything) may acknowledge what was sent.
    let ackedTo = 0;
    segs.forEach((s, i) => {
      if (!dropped.has(i)) feed(h, isn, data, s, i + 1);
      if (r() < 0.5 && !s.fin) {
        ackedTo = s.end;
        h.peerAck((isn + 1 + ackedTo) >>> 0);
        // Every hole before the acknowledged point is declared by now, so nothing is held there.
        assert.ok(h.nextOff >= ackedTo || h.buffered === 0, `seed ${seed}: hole before an ack still open`);
      }
    });
    h.finish('end-of-capture');
    assert.deepEqual(rec.gaps, expected, `seed ${seed}: gaps`);
    checkTiling(rec, data, length, seed);
  }
});

test(`reassembly: bytes retransmitted with other content are counted, the first copy is delivered (${CASES} cases)`, () => {
  for (let c = 0; c < CASES; c++) {
    const seed = 130_000 + c;
    const r = rng(seed);
    const length = int(r, 2, 3000);
    const data = Buffer.from(Array.from({ length }, () => int(r, 0, 255)));
    const isn = isnNearWrap(r, length);
    // Segments of at least 2 bytes: a 1-byte copy of the last byte delivered is a TCP keep-alive probe,
    // whose byte is garbage by design and is not compared.
    const segs = segmentation(r, length, int(r, 2, 500), 2);
    // A forged copy of one range, differing in a known number of bytes, arriving after the original
    // (compared with the history window) or before it (then it wins and the original conflicts).
    const a = int(r, 0, length - 2);
    const b = Math.min(length, a + int(r, 2, 400));
    const forged = Buffer.from(data);
    let differ = 0;
    for (let k = a; k < b; k++) {
      if (r() < 0.3) {
        forged[k] = forged[k]! ^ 0xff;
        differ++;
      }
    }
    const forgedFirst = r() < 0.5;
    const { h, rec } = makeStream();
    h.syn(isn);
    const forgedSeg: Seg = { start: a, end: b, fin: false };
    if (forgedFirst) {
      // The forged copy is out of order (held) unless it starts the stream.
      feed(h, isn, forged, forgedSeg, 0);
      segs.forEach((s, i) => feed(h, isn, data, s, i + 1));
      const first = Buffer.from(data);
      forged.copy(first, a, a, b);
      h.finish('end-of-capture');
      checkTiling(rec, first, length, seed);
    } else {
      // The FIN comes last, on its own, so the stream is still open when the forged copy arrives.
      segs[segs.length - 1]!.fin = false;
      const last = segs.findIndex((s) => s.end >= b);
      segs.slice(0, last + 1).forEach((s, i) => feed(h, isn, data, s, i + 1));
      feed(h, isn, forged, forgedSeg, 999); // within the 2048-byte history: b - a <= 400
      segs.slice(last + 1).forEach((s, i) => feed(h, isn, data, s, i + 1000));
      feed(h, isn, data, { start: length, end: length, fin: true }, 5000);
      checkTiling(rec, data, length, seed);
    }
    assert.equal(h.conflictBytes, differ, `seed ${seed}: differing bytes (forged ${forgedFirst ? 'first' : 'later'})`);
  }
});

test('reassembly: a stream far past 4 GiB, crossing 2^32 several times, keeps exact offsets', () => {
  const { h, rec } = makeStream();
  const isn = 4294967000;
  h.syn(isn);
  const piece = Buffer.alloc(1000, 7);
  let off = 0;
  const expectedGaps: number[] = [];
  for (let hop = 0; hop < 12; hop++) {
    h.segment((isn + 1 + off) % 2 ** 32, piece, 0, 1000, 1000, false, at(hop));
    off += 1000;
    const skip = 1_500_000_000 + hop * 7; // under 2^31: each hop is unambiguous
    // The receiver acknowledges up to the next captured segment, as in a long transfer seen in pieces.
    expectedGaps.push(off);
    off += skip;
    h.peerAck((isn + 1 + off) % 2 ** 32);
  }
  h.segment((isn + 1 + off) % 2 ** 32, piece, 0, 10, 10, true, at(99));
  assert.equal(h.nextOff, off + 10);
  assert.ok(off > 4 * 2 ** 32, 'past 16 GiB');
  assert.deepEqual(rec.gaps.map((g) => g.at), expectedGaps);
  assert.deepEqual(rec.data.map((d) => d.at).slice(-1), [off]);
  assert.deepEqual(rec.ends, ['fin']);
});

test('reassembly: held data never exceeds its bound; the hole in front becomes a buffer-limit gap', () => {
  const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxBufferedPerDirection: 10_000 };
  const { h, rec } = makeStream(limits);
  const isn = 1;
  h.syn(isn);
  const data = Buffer.alloc(200_000, 1);
  let peak = 0;
  // Segment 0 is lost; everything after it arrives and must not pile up.
  for (let at = 1000; at < data.length; at += 1000) {
    feed(h, isn, data, { start: at, end: at + 1000, fin: at + 1000 === data.length }, at);
    peak = Math.max(peak, h.buffered);
  }
  assert.ok(peak <= 10_000 + 1000, `peak held ${peak}`);
  assert.deepEqual(rec.gaps, [{ at: 0, len: 1000, reason: 'buffer-limit' }]);
  assert.equal(h.deliveredBytes, 199_000);
  assert.deepEqual(rec.ends, ['fin']);
});
