/**
 * Capture readers: classic pcap (through pcap-parser), pcapng, gzip, chunking and merging.
 *
 * Every capture is built in memory by the synthetic capture writer and opened with openCapture() from a
 * Readable over a list of chunks, so each test controls exactly how the bytes arrive. Records are copied
 * out of each batch as soon as it is returned (a batch is valid only until the next call of next()).
 */

import { after, test, describe } from 'node:test';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { constants, createGzip, deflateRawSync, gzipSync } from 'node:zlib';
import { MergedReader, openCapture } from '../src/capture/open-capture.js';
import { MAX_RECORD_BYTES, type CaptureFault, type RecordReader } from '../src/capture/record-batch.js';
import { prng } from './support/random.js';
import { syncGunzipWorks } from '../src/capture/gzip-members.js';
import { zlibHandle } from '../src/capture/zlib-handle.js';
import {
  ACK,
  ETHERTYPE_IPV4,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  PCAPNG_EPB,
  PCAPNG_ISB,
  PCAPNG_NRB,
  PCAPNG_PB,
  PCAPNG_SPB,
  PcapWriter,
  PcapngWriter,
  ethernet,
  tcpPacket,
  type Endian,
} from './support/capture-writer.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** One record, copied out of its batch. */
interface Rec {
  data: Buffer;
  orig: number;
  sec: number;
  nsec: number;
  linktype: number;
  fileOff: number;
}

/** What reading a whole capture gave. */
interface ReadResult {
  format: string;
  records: Rec[];
  faults: readonly CaptureFault[];
  bytesRead: number;
}

/** Drains a reader, copying every record before asking for the next batch. */
async function drain(reader: RecordReader): Promise<Rec[]> {
  const out: Rec[] = [];
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offs[i]!;
      out.push({
        data: Buffer.from(batch.bufs[i]!.subarray(off, off + batch.caps[i]!)),
        orig: batch.origs[i]!,
        sec: batch.tsSec[i]!,
        nsec: batch.tsNsec[i]!,
        linktype: batch.linktypes[i]!,
        fileOff: batch.fileOffs[i]!,
      });
    }
  }
  return out;
}

/** Opens a capture whose bytes arrive as the given chunks (or one chunk) and reads it to the end. */
async function read(file: Buffer | Buffer[], name = 'test.cap'): Promise<ReadResult> {
  const chunks = Array.isArray(file) ? file : [file];
  return readStream(Readable.from(chunks), name);
}

async function readStream(stream: Readable, name = 'test.cap'): Promise<ReadResult> {
  const reader = await openCapture(name, stream);
  const records = await drain(reader);
  const result = { format: reader.format, records, faults: reader.faults, bytesRead: reader.bytesRead };
  reader.close();
  return result;
}

/** The file cut into chunks of `size` bytes (the last may be shorter). */
function chunksOf(file: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < file.length; i += size) out.push(file.subarray(i, i + size));
  return out;
}

/** The file cut into chunks of random sizes between 1 and `max`. */
function randomChunks(file: Buffer, seed: number, max = 97): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < file.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    out.push(file.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** The file cut at the given offsets. */
function splitAt(file: Buffer, ...offsets: number[]): Buffer[] {
  const cuts = [0, ...offsets, file.length];
  return cuts.slice(1).map((end, i) => file.subarray(cuts[i], end));
}

/** An Ethernet / IPv4 / TCP frame carrying `label` as its payload, so that records can be told apart. */
function frame(label: string): Buffer {
  const ip = tcpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 40000, dport: 21, seq: 1, ack: 1, flags: ACK }, Buffer.from(label));
  return ethernet(ip, { etherType: ETHERTYPE_IPV4 });
}

/** The label a frame() carries (after 14 + 20 + 20 header bytes). */
function labelOf(r: Rec): string {
  return r.data.subarray(54).toString('latin1');
}

/** Offsets of the records of a classic pcap file, found by walking its record headers. */
function pcapRecordOffsets(file: Buffer, endian: Endian): number[] {
  const offsets: number[] = [];
  for (let off = 24; off + 16 <= file.length; ) {
    offsets.push(off);
    off += 16 + (endian === 'le' ? file.readUInt32LE(off + 8) : file.readUInt32BE(off + 8));
  }
  return offsets;
}

/** Offset and type of every block of a pcapng file, walking the blocks (byte order per section). */
function pcapngBlocks(file: Buffer): Array<{ off: number; type: number }> {
  const blocks: Array<{ off: number; type: number }> = [];
  let le = true;
  for (let off = 0; off + 12 <= file.length; ) {
    if (file.readUInt32LE(off) === 0x0a0d0d0a) le = file.readUInt32LE(off + 8) === 0x1a2b3c4d;
    const type = le ? file.readUInt32LE(off) : file.readUInt32BE(off);
    const len = le ? file.readUInt32LE(off + 4) : file.readUInt32BE(off + 4);
    blocks.push({ off, type });
    off += len;
  }
  return blocks;
}

/** Offsets of the packet blocks (enhanced, simple, obsolete) of a pcapng file. */
function pcapngPacketOffsets(file: Buffer): number[] {
  return pcapngBlocks(file)
    .filter((b) => b.type === PCAPNG_EPB || b.type === PCAPNG_SPB || b.type === PCAPNG_PB)
    .map((b) => b.off);
}

/** Checks a fault's file name and offset, and its reason against a pattern. */
function assertFault(fault: CaptureFault | undefined, file: string, offset: number, reason: RegExp): void {
  assert.ok(fault, 'expected a fault');
  assert.equal(fault.file, file);
  assert.equal(fault.offset, offset, `fault offset (reason: ${fault.reason})`);
  assert.match(fault.reason, reason);
}

/** Exact timestamps of classic pcap tests: [seconds, fraction]. */
const TIMES: Array<[number, number]> = [
  [1_700_000_000, 0],
  [1_700_000_000, 999_999],
  [1_700_000_001, 1],
  [4_294_967_295, 500_000],
];

/** A pcap file with one labelled frame per entry of TIMES. */
function samplePcap(opts: { endian?: Endian; nanosecond?: boolean } = {}): Buffer {
  const w = new PcapWriter(opts);
  TIMES.forEach(([sec, frac], i) => w.add(sec, opts.nanosecond ? frac * 1000 + 7 : frac, frame(`packet ${i}`)));
  return w.toBuffer();
}

/** The records samplePcap() holds. */
function samplePcapRecords(file: Buffer, opts: { endian?: Endian; nanosecond?: boolean } = {}): Rec[] {
  const offsets = pcapRecordOffsets(file, opts.endian ?? 'le');
  return TIMES.map(([sec, frac], i) => {
    const data = frame(`packet ${i}`);
    return { data, orig: data.length, sec, nsec: frac * 1000 + (opts.nanosecond ? 7 : 0), linktype: LINKTYPE_ETHERNET, fileOff: offsets[i]! };
  });
}

/** A pcapng file with two sections in different byte orders, several interfaces and all three packet blocks. */
function samplePcapng(): Buffer {
  const w = new PcapngWriter().section({ endian: 'le' });
  const eth = w.addInterface({ linktype: LINKTYPE_ETHERNET, tsresol: 9, name: 'eth0' });
  const raw = w.addInterface({ linktype: LINKTYPE_RAW, tsresol: 6 });
  w.addEnhancedAt(eth, 1_700_000_000, 123_456_789, frame('a'));
  w.addBlock(PCAPNG_NRB, Buffer.alloc(8));
  w.addEnhancedAt(raw, 1_700_000_000, 200_000_000, frame('b'));
  w.addSimple(frame('c'));
  w.section({ endian: 'be' });
  const sll = w.addInterface({ linktype: LINKTYPE_LINUX_SLL, tsresol: 0x8a, snaplen: 40 });
  w.addObsolete(sll, 1_700_000_002n * 1024n + 512n, frame('d'));
  w.addBlock(PCAPNG_ISB, Buffer.alloc(12));
  w.addEnhancedAt(sll, 1_700_000_003, 0, frame('e'));
  return w.toBuffer();
}

/** The blocks a writer adds after `before`: the tail of `after`, which extends it. */
function tailAfter(before: Buffer, after: Buffer): Buffer {
  assert.deepEqual(after.subarray(0, before.length), before, 'the longer file must extend the shorter');
  return after.subarray(before.length);
}

// ---------------------------------------------------------------------------
// Classic pcap
// ---------------------------------------------------------------------------

describe('classic pcap', () => {
  for (const endian of ['le', 'be'] as const) {
    test(`${endian} microsecond file: every record with exact timestamps and offsets`, async () => {
      const file = samplePcap({ endian });
      const r = await read(file);
      assert.equal(r.format, 'pcap');
      assert.deepEqual(r.faults, []);
      assert.deepEqual(r.records, samplePcapRecords(file, { endian }));
    });

    test(`${endian} nanosecond file: timestamps exact to the nanosecond`, async () => {
      const file = samplePcap({ endian, nanosecond: true });
      const r = await read(file);
      assert.equal(r.format, 'pcap (nanosecond)');
      assert.deepEqual(r.faults, []);
      assert.deepEqual(r.records, samplePcapRecords(file, { endian, nanosecond: true }));
      assert.equal(r.records[1]!.nsec, 999_999_007);
    });
  }

  test('records cut by the snap length keep their original length', async () => {
    const long = frame('x'.repeat(200));
    const file = new PcapWriter({ snaplen: 64 }).add(1, 0, long).add(2, 0, frame('short')).toBuffer();
    const r = await read(file);
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [x.data, x.orig]),
      [
        [long.subarray(0, 64), long.length],
        [frame('short'), frame('short').length],
      ],
    );
  });

  test('an original length written larger than the captured bytes is kept', async () => {
    const f = frame('cut');
    const file = new PcapWriter().add(1, 0, f, 1514).toBuffer();
    const [rec] = (await read(file)).records;
    assert.equal(rec!.data.length, f.length);
    assert.equal(rec!.orig, 1514);
  });

  test('the link type of the file header is given to every record, FCS bits masked off', async () => {
    const fcsBits = (0b1010 << 28) >>> 0; // "FCS present, 2 bytes" in the top bits
    const file = new PcapWriter({ linktype: (LINKTYPE_LINUX_SLL | fcsBits) >>> 0 }).add(1, 0, Buffer.alloc(20)).toBuffer();
    const r = await read(file);
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => x.linktype),
      [LINKTYPE_LINUX_SLL],
    );
  });

  test('a file cut in the middle of a record: the records before it, then a fault at the record', async () => {
    const file = samplePcap();
    const third = pcapRecordOffsets(file, 'le')[2]!;
    const r = await read(file.subarray(0, third + 16 + 10));
    assert.deepEqual(r.records, samplePcapRecords(file).slice(0, 2));
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'test.cap', third, /record cut short/);
  });

  test('a file cut in the middle of a record header: the records before it, then a fault at the header', async () => {
    const file = samplePcap();
    const third = pcapRecordOffsets(file, 'le')[2]!;
    const r = await read(file.subarray(0, third + 7));
    assert.deepEqual(r.records, samplePcapRecords(file).slice(0, 2));
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'test.cap', third, /inside a record header/);
  });

  test('a file ending exactly after a record has no fault', async () => {
    const file = samplePcap();
    const third = pcapRecordOffsets(file, 'le')[2]!;
    const r = await read(file.subarray(0, third));
    assert.equal(r.records.length, 2);
    assert.deepEqual(r.faults, []);
  });

  test('a file cut inside the file header', async () => {
    const r = await read(samplePcap().subarray(0, 10));
    assert.deepEqual(r.records, []);
    assertFault(r.faults[0], 'test.cap', 10, /file header/);
  });

  test('a file with only a file header has no records and no fault', async () => {
    const r = await read(new PcapWriter().toBuffer());
    assert.equal(r.format, 'pcap');
    assert.deepEqual(r.records, []);
    assert.deepEqual(r.faults, []);
  });

  test('version 3.x in the file header is refused', async () => {
    for (const endian of ['le', 'be'] as const) {
      const file = samplePcap({ endian });
      if (endian === 'le') file.writeUInt16LE(3, 4);
      else file.writeUInt16BE(3, 4);
      const r = await read(file);
      assert.deepEqual(r.records, []);
      assert.equal(r.faults.length, 1);
      assertFault(r.faults[0], 'test.cap', 4, /version 3\.4/);
    }
  });

  test('a record header claiming more than MAX_RECORD_BYTES: fault at that record, without reading on', async () => {
    const good = new PcapWriter().add(1, 0, frame('one')).add(2, 0, frame('two')).toBuffer();
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(3, 0);
    bad.writeUInt32LE(MAX_RECORD_BYTES + 1, 8);
    bad.writeUInt32LE(MAX_RECORD_BYTES + 1, 12);
    const filler = Buffer.alloc(64 * 1024, 0x55);
    const fillerChunks = 1024; // 64 MiB offered after the bad header
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.concat([good, bad]);
      for (let i = 0; i < fillerChunks; i++) yield filler;
    }
    const r = await readStream(Readable.from(source()), 'absurd.pcap');
    assert.deepEqual(
      r.records.map(labelOf),
      ['one', 'two'],
    );
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'absurd.pcap', good.length, /claims 1048577 captured bytes/);
    assert.ok(r.bytesRead < 8 * 1024 * 1024, `read ${r.bytesRead} bytes past a corrupt record header`);
  });

  test('a record of exactly MAX_RECORD_BYTES is accepted', async () => {
    const big = Buffer.alloc(MAX_RECORD_BYTES, 0xab);
    const file = new PcapWriter({ snaplen: MAX_RECORD_BYTES }).add(1, 0, big).toBuffer();
    const r = await read(chunksOf(file, 65536));
    assert.deepEqual(r.faults, []);
    assert.equal(r.records.length, 1);
    assert.deepEqual(r.records[0]!.data, big);
  });
});

// ---------------------------------------------------------------------------
// Files that are not captures
// ---------------------------------------------------------------------------

describe('unrecognised input', () => {
  test('a bad magic number is a fault at offset 0, and the format is "unreadable"', async () => {
    const file = samplePcap();
    file.writeUInt32BE(0xdeadbeef, 0);
    const r = await read(file, 'bad.pcap');
    assert.equal(r.format, 'unreadable');
    assert.deepEqual(r.records, []);
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'bad.pcap', 0, /not a pcap or pcapng capture \(it starts with de ad be ef\)/);
  });

  test('an empty file is a fault at offset 0', async () => {
    const r = await read([], 'empty.pcap');
    assert.equal(r.format, 'unreadable');
    assert.deepEqual(r.records, []);
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'empty.pcap', 0, /empty/);
  });

  test('a zstd file is named as such', async () => {
    const r = await read(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), 'x.zst');
    assertFault(r.faults[0], 'x.zst', 0, /zstd/);
  });
});

// ---------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------

describe('pcapng', () => {
  for (const endian of ['le', 'be'] as const) {
    test(`${endian} file with enhanced packet blocks`, async () => {
      const w = new PcapngWriter({ endian });
      const id = w.addInterface({ linktype: LINKTYPE_ETHERNET });
      w.addEnhancedAt(id, 1_700_000_000, 1_000, frame('one'));
      w.addEnhancedAt(id, 1_700_000_001, 999_999_000, frame('two'), 2000);
      const file = w.toBuffer();
      const offs = pcapngPacketOffsets(file);
      const r = await read(file);
      assert.equal(r.format, 'pcapng');
      assert.deepEqual(r.faults, []);
      assert.deepEqual(r.records, [
        { data: frame('one'), orig: frame('one').length, sec: 1_700_000_000, nsec: 1_000, linktype: 1, fileOff: offs[0]! },
        { data: frame('two'), orig: 2000, sec: 1_700_000_001, nsec: 999_999_000, linktype: 1, fileOff: offs[1]! },
      ]);
    });
  }

  test('two sections in different byte orders, each with its own interfaces', async () => {
    const w = new PcapngWriter().section({ endian: 'le' });
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addEnhancedAt(0, 10, 0, frame('le'));
    w.section({ endian: 'be' });
    w.addInterface({ linktype: LINKTYPE_RAW });
    w.addEnhancedAt(0, 20, 0, frame('be 1'));
    w.addEnhancedAt(0, 21, 0, frame('be 2'));
    w.section({ endian: 'le' });
    w.addInterface({ linktype: LINKTYPE_NULL });
    w.addEnhancedAt(0, 30, 0, frame('le again'));
    const file = w.toBuffer();
    const r = await read(file);
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [labelOf(x), x.linktype, x.sec, x.fileOff]),
      [
        ['le', LINKTYPE_ETHERNET, 10, pcapngPacketOffsets(file)[0]],
        ['be 1', LINKTYPE_RAW, 20, pcapngPacketOffsets(file)[1]],
        ['be 2', LINKTYPE_RAW, 21, pcapngPacketOffsets(file)[2]],
        ['le again', LINKTYPE_NULL, 30, pcapngPacketOffsets(file)[3]],
      ],
    );
  });

  test('interface ids start again in every section', async () => {
    const w = new PcapngWriter();
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addInterface({ linktype: LINKTYPE_RAW });
    w.addEnhancedAt(1, 1, 0, frame('ok'));
    w.section();
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addEnhanced(1, 2_000_000n, frame('no such interface'));
    const file = w.toBuffer();
    const r = await read(file);
    assert.deepEqual(r.records.map(labelOf), ['ok']);
    assertFault(r.faults[0], 'test.cap', pcapngPacketOffsets(file)[1]!, /interface 1/);
  });

  test('several interfaces with different link types in one section', async () => {
    const w = new PcapngWriter();
    const eth = w.addInterface({ linktype: LINKTYPE_ETHERNET });
    const raw = w.addInterface({ linktype: LINKTYPE_RAW });
    const sll = w.addInterface({ linktype: LINKTYPE_LINUX_SLL });
    w.addEnhancedAt(raw, 1, 0, frame('raw'));
    w.addEnhancedAt(eth, 2, 0, frame('eth'));
    w.addEnhancedAt(sll, 3, 0, frame('sll'));
    w.addEnhancedAt(eth, 4, 0, frame('eth again'));
    const r = await read(w.toBuffer());
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [labelOf(x), x.linktype]),
      [
        ['raw', LINKTYPE_RAW],
        ['eth', LINKTYPE_ETHERNET],
        ['sll', LINKTYPE_LINUX_SLL],
        ['eth again', LINKTYPE_ETHERNET],
      ],
    );
  });

  /** Reads one enhanced packet block whose timestamp is `units` on an interface with the given options. */
  async function timeOf(iface: { tsresol?: number; tsoffset?: bigint }, units: bigint): Promise<[number, number]> {
    const w = new PcapngWriter();
    const id = w.addInterface({ linktype: LINKTYPE_ETHERNET, ...iface });
    w.addEnhanced(id, units, frame('t'));
    const r = await read(w.toBuffer());
    assert.deepEqual(r.faults, []);
    assert.equal(r.records.length, 1);
    return [r.records[0]!.sec, r.records[0]!.nsec];
  }

  test('no if_tsresol means microseconds', async () => {
    assert.deepEqual(await timeOf({}, 1_700_000_000_654_321n), [1_700_000_000, 654_321_000]);
  });

  test('if_tsresol 6: microseconds', async () => {
    assert.deepEqual(await timeOf({ tsresol: 6 }, 1_700_000_000_000_001n), [1_700_000_000, 1_000]);
    assert.deepEqual(await timeOf({ tsresol: 6 }, 999_999n), [0, 999_999_000]);
  });

  test('if_tsresol 9: nanoseconds, exact beyond 2^53', async () => {
    assert.deepEqual(await timeOf({ tsresol: 9 }, 1_700_000_000_123_456_789n), [1_700_000_000, 123_456_789]);
    assert.deepEqual(await timeOf({ tsresol: 9 }, 4_102_444_800_999_999_999n), [4_102_444_800, 999_999_999]);
  });

  test('if_tsresol 0x8a: units of 2^-10 seconds', async () => {
    assert.deepEqual(await timeOf({ tsresol: 0x8a }, 1_700_000_000n * 1024n + 512n), [1_700_000_000, 500_000_000]);
    // 3/1024 s = 2,929,687.5 ns: truncated
    assert.deepEqual(await timeOf({ tsresol: 0x8a }, 1_700_000_000n * 1024n + 3n), [1_700_000_000, 2_929_687]);
  });

  test('if_tsresol 7 (100 ns units) gives exact nanoseconds', async () => {
    // 157 units of 100 ns are 15,700 ns; so are 13 of 10 us (if_tsresol 5) 130,000 ns
    assert.deepEqual(await timeOf({ tsresol: 7 }, 17_000_000_000_000_157n), [1_700_000_000, 15_700]);
    assert.deepEqual(await timeOf({ tsresol: 5 }, 170_000_000_000_013n), [1_700_000_000, 130_000]);
  });

  test('if_tsresol 12 (picoseconds) rounds down to the nanosecond', async () => {
    assert.deepEqual(await timeOf({ tsresol: 12 }, 1_000_000n * 10n ** 12n + 15_999n), [1_000_000, 15]);
    assert.deepEqual(await timeOf({ tsresol: 12 }, 1_000_000n * 10n ** 12n + 999_999_999_999n), [1_000_000, 999_999_999]);
  });

  test('if_tsoffset is added to every timestamp, in either direction', async () => {
    assert.deepEqual(await timeOf({ tsoffset: 1_700_000_000n }, 5_250_000n), [1_700_000_005, 250_000_000]);
    assert.deepEqual(await timeOf({ tsresol: 9, tsoffset: -100n }, 1_000_000_000_500n), [900, 500]);
  });

  test('simple packet blocks: interface 0, the previous timestamp, cut to the snap length', async () => {
    const w = new PcapngWriter();
    w.addInterface({ linktype: LINKTYPE_ETHERNET, snaplen: 58 }); // not a multiple of 4: the block pads the data
    w.addSimple(frame('first, before any timestamp'));
    w.addEnhancedAt(0, 77, 5_000, frame('epb'));
    const long = frame('y'.repeat(100));
    w.addSimple(long);
    const file = w.toBuffer();
    const offs = pcapngPacketOffsets(file);
    const r = await read(file);
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [x.sec, x.nsec, x.data.length, x.orig, x.linktype, x.fileOff]),
      [
        [0, 0, 58, frame('first, before any timestamp').length, LINKTYPE_ETHERNET, offs[0]],
        [77, 5_000, 57, 57, LINKTYPE_ETHERNET, offs[1]],
        [77, 5_000, 58, long.length, LINKTYPE_ETHERNET, offs[2]],
      ],
    );
    assert.deepEqual(r.records[2]!.data, long.subarray(0, 58));
  });

  test('obsolete packet blocks name their interface with 16 bits', async () => {
    for (const endian of ['le', 'be'] as const) {
      const w = new PcapngWriter({ endian });
      w.addInterface({ linktype: LINKTYPE_ETHERNET });
      const raw = w.addInterface({ linktype: LINKTYPE_RAW, tsresol: 9 });
      w.addObsolete(raw, 3_000_000_017n, frame('old'), 4000);
      const r = await read(w.toBuffer());
      assert.deepEqual(r.faults, []);
      assert.deepEqual(
        r.records.map((x) => [labelOf(x), x.linktype, x.sec, x.nsec, x.orig]),
        [['old', LINKTYPE_RAW, 3, 17, 4000]],
      );
    }
  });

  test('name resolution, statistics, custom and unknown blocks are skipped', async () => {
    const w = new PcapngWriter();
    w.addBlock(PCAPNG_NRB, Buffer.from([1, 0, 8, 0, 192, 0, 2, 1, 104, 111, 115, 116, 0, 0, 0, 0]));
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addBlock(PCAPNG_ISB, Buffer.alloc(12));
    w.addEnhancedAt(0, 1, 0, frame('one'));
    w.addBlock(0x00000bad, Buffer.alloc(20, 0xee));
    w.addBlock(0x40000bad, Buffer.alloc(3, 0xee));
    w.addBlock(0x12345678, Buffer.alloc(0));
    w.addEnhancedAt(0, 2, 0, frame('two'));
    const file = w.toBuffer();
    const r = await read(file);
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [labelOf(x), x.fileOff]),
      [
        ['one', pcapngPacketOffsets(file)[0]],
        ['two', pcapngPacketOffsets(file)[1]],
      ],
    );
  });

  /** A file with a packet, an unknown block larger than any buffered block, and two packets after it. */
  function hugeBlockFile(): { file: Buffer; hugeAt: number } {
    const w = new PcapngWriter();
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addEnhancedAt(0, 1, 0, frame('before'));
    const hugeAt = w.toBuffer().length;
    w.addBlock(0x00000bad, Buffer.alloc(MAX_RECORD_BYTES + 4096 + 100, 0x5a));
    w.addEnhancedAt(0, 2, 0, frame('after 1'));
    w.addEnhancedAt(0, 3, 0, frame('after 2'));
    return { file: w.toBuffer(), hugeAt };
  }

  test('a huge unknown block is skipped, whatever the chunks', async () => {
    const { file, hugeAt } = hugeBlockFile();
    const offs = pcapngPacketOffsets(file);
    const expected = [
      ['before', offs[0]],
      ['after 1', offs[1]],
      ['after 2', offs[2]],
    ];
    const chunkings: Record<string, Buffer[]> = {
      'one chunk': [file],
      '64 KiB chunks': chunksOf(file, 65536),
      'split inside its block header': splitAt(file, hugeAt + 5, hugeAt + 200_000),
      'split after its block header': splitAt(file, hugeAt + 12, hugeAt + 12 + MAX_RECORD_BYTES),
      'split inside its trailer': splitAt(file, hugeAt + 100, offs[1]! - 2),
    };
    for (const [how, chunks] of Object.entries(chunkings)) {
      const r = await read(chunks);
      assert.deepEqual(r.faults, [], how);
      assert.deepEqual(
        r.records.map((x) => [labelOf(x), x.fileOff]),
        expected,
        how,
      );
    }
  });

  test('a huge unknown block is streamed past without being buffered', async () => {
    const head = new PcapngWriter();
    head.addInterface({ linktype: LINKTYPE_ETHERNET });
    head.addEnhancedAt(0, 1, 0, frame('before'));
    const prefix = head.toBuffer();
    const tail = new PcapngWriter();
    tail.addInterface({ linktype: LINKTYPE_ETHERNET });
    tail.addEnhancedAt(0, 1, 0, frame('before'));
    tail.addEnhancedAt(0, 2, 0, frame('after'));
    const suffix = tailAfter(prefix, tail.toBuffer());

    const fill = Buffer.alloc(64 * 1024);
    const fillChunks = 768; // a 48 MiB block body
    const blockLen = 12 + fill.length * fillChunks;
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0x00000bad, 0);
    header.writeUInt32LE(blockLen, 4);
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(blockLen, 0);

    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.concat([prefix, header]);
      for (let i = 0; i < fillChunks; i++) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield fill; // the same bytes every time: nothing new is allocated unless the reader copies
      }
      yield Buffer.concat([trailer, suffix]);
    }
    const r = await readStream(Readable.from(source()));
    assert.deepEqual(r.faults, []);
    assert.deepEqual(
      r.records.map((x) => [labelOf(x), x.fileOff]),
      [
        ['before', pcapngPacketOffsets(prefix)[0]],
        ['after', prefix.length + blockLen],
      ],
    );
    const grew = peak - baseline;
    assert.ok(grew < 16 * 1024 * 1024, `buffers grew by ${grew} bytes while skipping a ${blockLen}-byte block`);
  });

  test('a packet block claiming more than the largest record is a fault', async () => {
    const w = new PcapngWriter();
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addEnhancedAt(0, 1, 0, frame('ok'));
    const before = w.toBuffer();
    w.addEnhancedAt(0, 2, 0, frame('corrupt'));
    const file = w.toBuffer();
    file.writeUInt32LE(MAX_RECORD_BYTES * 2, before.length + 4);
    const r = await read(chunksOf(file, 16));
    assert.deepEqual(r.records.map(labelOf), ['ok']);
    assertFault(r.faults[0], 'test.cap', before.length, /corrupt/);
  });

  test('a block whose trailing length disagrees with its leading length is a fault at the block', async () => {
    const w = new PcapngWriter({ endian: 'be' });
    w.addInterface({ linktype: LINKTYPE_ETHERNET });
    w.addEnhancedAt(0, 1, 0, frame('one'));
    w.addEnhancedAt(0, 2, 0, frame('two'));
    w.addEnhancedAt(0, 3, 0, frame('three'));
    const file = w.toBuffer();
    const second = pcapngPacketOffsets(file)[1]!;
    const third = pcapngPacketOffsets(file)[2]!;
    file.writeUInt32BE(file.readUInt32BE(third - 4) + 4, third - 4);
    const r = await read(file);
    assert.deepEqual(r.records.map(labelOf), ['one']);
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'test.cap', second, /lengths disagree/);
  });

  test('a file cut inside a packet block: the packets before it, then a fault at the block', async () => {
    const file = samplePcapng();
    const last = pcapngPacketOffsets(file).at(-1)!;
    for (const cut of [last + 5, last + 12, last + 40, file.length - 1]) {
      const r = await read(file.subarray(0, cut));
      assert.equal(r.records.length, 4, `cut at ${cut}`);
      assert.equal(r.faults.length, 1, `cut at ${cut}`);
      assertFault(r.faults[0], 'test.cap', last, /file ends inside/);
    }
  });

  test('a file cut inside a huge skipped block is a fault', async () => {
    const { file, hugeAt } = hugeBlockFile();
    const r = await read(chunksOf(file.subarray(0, hugeAt + 500_000), 65536));
    assert.deepEqual(r.records.map(labelOf), ['before']);
    assert.equal(r.faults.length, 1);
    assertFault(r.faults[0], 'test.cap', hugeAt + 500_000, /before the end of a block/);
  });

  test('a section header with a bad byte-order magic is a fault', async () => {
    const file = samplePcapng();
    const secondSection = pcapngBlocks(file).filter((b) => b.type === 0x0a0d0d0a)[1]!.off;
    file.writeUInt32BE(0x01020304, secondSection + 8);
    const r = await read(file);
    assert.deepEqual(r.records.map(labelOf), ['a', 'b', 'c']);
    assertFault(r.faults[0], 'test.cap', secondSection + 8, /byte-order magic/);
  });
});

// ---------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------

describe('gzip', () => {
  test('a gzip-compressed pcap reads as the pcap, whatever its name', async () => {
    const file = samplePcap({ nanosecond: true });
    const r = await read(gzipSync(file), 'capture.pcap');
    assert.equal(r.format, 'gzip, pcap (nanosecond)');
    assert.deepEqual(r.faults, []);
    assert.deepEqual(r.records, samplePcapRecords(file, { nanosecond: true }));
  });

  test('a gzip-compressed pcapng reads as the pcapng, offsets in the decompressed file', async () => {
    const file = samplePcapng();
    const plain = await read(file);
    const r = await read(gzipSync(file), 'capture.pcapng');
    assert.equal(r.format, 'gzip, pcapng');
    assert.deepEqual(r.faults, []);
    assert.deepEqual(r.records, plain.records);
  });

  test('gzip is recognised when its magic arrives split over two chunks', async () => {
    const file = samplePcap();
    const r = await read(splitAt(gzipSync(file), 1));
    assert.equal(r.format, 'gzip, pcap');
    assert.deepEqual(r.faults, []);
    assert.deepEqual(r.records, samplePcapRecords(file));
  });

  test('gzip data cut short: the records before the cut, then a fault', async () => {
    const big = new PcapWriter();
    for (let i = 0; i < 200; i++) big.add(i, 0, frame(`packet ${i} ${'z'.repeat(i)}`));
    const zipped = gzipSync(big.toBuffer());
    const r = await read(zipped.subarray(0, zipped.length >> 1));
    assert.ok(r.records.length > 0 && r.records.length < 200, `${r.records.length} records`);
    r.records.forEach((x, i) => assert.equal(labelOf(x), `packet ${i} ${'z'.repeat(i)}`));
    assert.equal(r.faults.length, 1);
    assert.match(r.faults[0]!.reason, /gzip/);
  });
});

// ---------------------------------------------------------------------------
// Files: read into two buffers in turn, gzip inflated in a worker thread
// ---------------------------------------------------------------------------

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-readers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const fileOf = (bytes: Buffer): string => {
    const path = join(dir, `capture-${n++}`);
    writeFileSync(path, bytes);
    return path;
  };
  async function readFile(path: string, chunkSize?: number): Promise<ReadResult> {
    const reader = await openCapture(path, path, { chunkSize });
    const records = await drain(reader);
    const result = { format: reader.format, records, faults: reader.faults, bytesRead: reader.bytesRead };
    reader.close();
    return result;
  }
  const files: Record<string, () => Buffer> = {
    pcap: () => samplePcap(),
    pcapng: () => samplePcapng(),
    'gzip pcap': () => gzipSync(samplePcap({ nanosecond: true })),
    'gzip pcapng': () => gzipSync(samplePcapng()),
  };
  for (const [what, make] of Object.entries(files)) {
    for (const chunkSize of [undefined, 1, 61]) {
      test(`${what} read from its path${chunkSize === undefined ? '' : ` in ${chunkSize}-byte reads`}: the records of the stream, the file's size read`, async () => {
        const bytes = make();
        const stream = await read(bytes);
        const r = await readFile(fileOf(bytes), chunkSize);
        assert.deepEqual(r.faults, []);
        assert.equal(r.format, stream.format);
        assert.ok(r.records.length >= 4);
        // The buffers are reused from read to read: every record must still be what the stream gave.
        assert.deepEqual(r.records, stream.records);
        assert.equal(r.bytesRead, bytes.length);
      });
    }
  }

  test('a large gzip capture crosses the worker many times: every record, in order', { skip: process.env.FTPSCOPE_FAST === '1' && 'skipped in test:fast: stress test (a large gzip capture); npm test runs it' }, async () => {
    const w = new PcapWriter();
    for (let i = 0; i < 6000; i++) w.add(i, 0, frame(`packet ${i} ${'z'.repeat(i % 1400)}`));
    const plain = w.toBuffer();
    assert.ok(plain.length > 3 << 20, 'more than the worker may hand over at once');
    const r = await readFile(fileOf(gzipSync(plain)));
    assert.deepEqual(r.faults, []);
    assert.equal(r.records.length, 6000);
    r.records.forEach((x, i) => assert.equal(labelOf(x), `packet ${i} ${'z'.repeat(i % 1400)}`));
  });

  test('gzip cut short in a file: the records before the cut, then the fault', async () => {
    const w = new PcapWriter();
    for (let i = 0; i < 200; i++) w.add(i, 0, frame(`packet ${i} ${'z'.repeat(i)}`));
    const zipped = gzipSync(w.toBuffer());
    const r = await readFile(fileOf(zipped.subarray(0, zipped.length >> 1)));
    assert.ok(r.records.length > 0 && r.records.length < 200, `${r.records.length} records`);
    r.records.forEach((x, i) => assert.equal(labelOf(x), `packet ${i} ${'z'.repeat(i)}`));
    assert.equal(r.faults.length, 1);
    // Where the compressed file ends, not where the inflated data stopped.
    assertFault(r.faults[0], r.faults[0]!.file, zipped.length >> 1, /^truncated gzip data: the file ends inside the compressed data of the gzip member$/);
  });

  test('gzip members written one after another read as one capture', async () => {
    const plain = samplePcap();
    const cut = 24 + 40; // the file header and the first record in one member, the rest in another
    const r = await readFile(fileOf(Buffer.concat([gzipSync(plain.subarray(0, cut)), gzipSync(plain.subarray(cut))])));
    assert.deepEqual(r.faults, []);
    assert.deepEqual(r.records, (await read(plain)).records);
  });

  test('zero bytes after the gzip data are ignored, as gunzip does', async () => {
    const plain = samplePcap();
    const r = await readFile(fileOf(Buffer.concat([gzipSync(plain), Buffer.alloc(5000)])));
    assert.deepEqual(r.faults, []);
    assert.deepEqual(r.records, (await read(plain)).records);
  });

  test('corrupt gzip data in a file: the records before it, then the fault', async () => {
    const w = new PcapWriter();
    for (let i = 0; i < 3000; i++) w.add(i, 0, frame(`packet ${i} ${'q'.repeat(i % 700)}`));
    const zipped = gzipSync(w.toBuffer(), { level: 1 });
    const bad = Buffer.from(zipped);
    bad.fill(0xff, bad.length >> 1, (bad.length >> 1) + 64);
    const r = await readFile(fileOf(bad));
    // Deflate has no check before a member's end: zlib may inflate the damage into garbage for a while
    // (the pcap reader may fault on it first). Every record before the damage is read, none after it.
    const good = r.records.findIndex((x, i) => labelOf(x) !== `packet ${i} ${'q'.repeat(i % 700)}`);
    assert.ok(good === -1 ? r.records.length > 1000 : good > 1000, `${good} good records`);
    assert.ok(r.records.length < 3000, `${r.records.length} records`);
    assert.equal(r.faults.length, 1, 'one fault, and reading stops there');
  });

  test("the synchronous inflater works on this Node (else gzip falls back to Node's gunzip stream)", () => {
    assert.equal(syncGunzipWorks(), true, `zlib's native handle changed in Node ${process.version}: see src/capture/zlib-handle.ts`);
    const zlib = zlibHandle()!;
    const text = Buffer.from('150 Opening BINARY mode data connection\r\n'.repeat(1000));
    const packed = deflateRawSync(text);
    const input = Buffer.concat([packed, Buffer.from('after')]);
    // One byte of output room at a time: every byte comes out, in order; then a call that does nothing.
    const out = Buffer.alloc(text.length + 1);
    let filled = 0;
    let at = 0;
    for (let guard = 0; guard < 10 * text.length; guard++) {
      const r = zlib.write(constants.Z_BLOCK, input, at, input.length - at, out, filled, 1);
      const used = input.length - at - r.availIn;
      at += used;
      filled += 1 - r.availOut;
      if (used === 0 && r.availOut === 1) break;
    }
    assert.equal(filled, text.length);
    assert.equal(at, packed.length, 'the end of the deflate data is where it stops taking input');
    assert.ok(out.subarray(0, filled).equals(text));
    // reset() starts a new stream.
    zlib.reset();
    const r = zlib.write(constants.Z_NO_FLUSH, packed, 0, packed.length, out, 0, out.length);
    assert.equal(out.length - r.availOut, text.length);
    assert.throws(() => zlibHandle()!.write(constants.Z_BLOCK, Buffer.from([0xff, 0xff, 0xff]), 0, 3, Buffer.alloc(64), 0, 64), (e: NodeJS.ErrnoException) => e.code === 'Z_DATA_ERROR');
  });

  /** A new named pipe in the test folder, or null (the test skipped) where mkfifo is missing. */
  const fifoOr = (name: string, t: { skip(why: string): void }): string | null => {
    const fifo = join(dir, name);
    try {
      execFileSync('mkfifo', [fifo]);
      return fifo;
    } catch {
      t.skip('mkfifo is not available here');
      return null;
    }
  };

  test('a named pipe is read as it comes, gzip too (the worker reads on where the magic was read)', async (t) => {
    const fifo = fifoOr('pipe', t);
    if (fifo === null) return;
    for (const bytes of [samplePcap(), gzipSync(samplePcap())]) {
      const expected = await read(bytes);
      // Opening a pipe's writing end waits for its reader: the writer goes to the thread pool.
      const writing = new Promise<void>((resolve, reject) => {
        const s = createWriteStream(fifo);
        s.on('error', reject);
        s.end(bytes, () => resolve());
      });
      const r = await readFile(fifo);
      await writing;
      assert.deepEqual(r.faults, []);
      assert.equal(r.format, expected.format);
      assert.deepEqual(r.records, expected.records);
    }
  });

  test('a gzip capture written slowly into a pipe is read as it comes, not once the writer is done', async (t) => {
    const fifo = fifoOr('slow-pipe', t);
    if (fifo === null) return;
    const w = new PcapWriter();
    for (let i = 0; i < 40; i++) w.add(i, 0, frame(`packet ${i}`));
    const plain = w.toBuffer();
    // The first half compressed and flushed (decodable on its own), the rest later.
    const gz = createGzip();
    const parts: Buffer[] = [];
    gz.on('data', (b: Buffer) => parts.push(b));
    gz.write(plain.subarray(0, plain.length >> 1));
    await new Promise<void>((resolve) => gz.flush(() => resolve()));
    const first = Buffer.concat(parts.splice(0));
    const writer = createWriteStream(fifo);
    writer.write(first);
    const reader = await openCapture(fifo, fifo);
    // The 5 s limit is cleared once the race is decided, so that it does not keep the test file alive 5 s more.
    let limit: NodeJS.Timeout | undefined;
    const early = await Promise.race([reader.next(), new Promise<null>((resolve) => (limit = setTimeout(() => resolve(null), 5000)))]);
    clearTimeout(limit);
    assert.ok(early !== null && early.count > 0, 'records came while the writer still held the pipe open');
    const got = early.count;
    gz.end(plain.subarray(plain.length >> 1));
    await new Promise<void>((resolve) => gz.on('end', () => resolve()));
    writer.end(Buffer.concat(parts));
    let total = got;
    for (let b = await reader.next(); b !== null; b = await reader.next()) total += b.count;
    reader.close();
    assert.deepEqual(reader.faults, []);
    assert.equal(total, 40);
  });

  test('many gzip files merged: two inflate in workers, the others through zlib streams, every record in time order', async () => {
    const paths: string[] = [];
    for (let f = 0; f < 5; f++) {
      const w = new PcapWriter();
      for (let i = 0; i < 300; i++) w.add(i * 5 + f, 0, frame(`file ${f} packet ${i}`));
      paths.push(fileOf(gzipSync(w.toBuffer())));
    }
    const merged = new MergedReader(await Promise.all(paths.map((p) => openCapture(p, p))));
    const records = await drain(merged);
    merged.close();
    assert.deepEqual(merged.faults, []);
    assert.equal(records.length, 1500);
    records.forEach((r, k) => assert.equal(labelOf(r), `file ${k % 5} packet ${Math.floor(k / 5)}`));
  });

  test('a missing file and a directory: one fault each, in words', async () => {
    const missing = await readFile(join(dir, 'no-such-capture.pcap'));
    assert.deepEqual(missing.records, []);
    assert.equal(missing.faults[0]!.reason, 'no such file');
    const folder = await readFile(dir);
    assert.equal(folder.faults[0]!.reason, 'is a directory, not a capture file (EISDIR)');
  });
});

// ---------------------------------------------------------------------------
// Chunking invariance
// ---------------------------------------------------------------------------

describe('the same records whatever the chunks', () => {
  const files: Record<string, () => Buffer> = {
    'pcap le microsecond': () => samplePcap(),
    'pcap be nanosecond': () => samplePcap({ endian: 'be', nanosecond: true }),
    'pcapng, two sections and all packet blocks': () => samplePcapng(),
    'gzip pcap': () => gzipSync(samplePcap()),
    'gzip pcapng': () => gzipSync(samplePcapng()),
  };
  const chunkings: Record<string, (file: Buffer) => Buffer[]> = {
    '1-byte chunks': (f) => chunksOf(f, 1),
    '7-byte chunks': (f) => chunksOf(f, 7),
    'random chunks (seed 1)': (f) => randomChunks(f, 1),
    'random chunks (seed 2)': (f) => randomChunks(f, 2, 13),
  };
  for (const [what, make] of Object.entries(files)) {
    for (const [how, cut] of Object.entries(chunkings)) {
      test(`${what}, ${how}`, async () => {
        const file = make();
        const whole = await read(file);
        assert.deepEqual(whole.faults, []);
        assert.ok(whole.records.length >= 4);
        const r = await read(cut(file));
        assert.equal(r.format, whole.format);
        assert.deepEqual(r.faults, []);
        assert.deepEqual(r.records, whole.records);
      });
    }
  }
});

// ---------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------

/** A pcap of labelled frames at the given whole seconds, one chunk per record so that every batch holds one. */
function pcapAt(label: string, seconds: number[], opts: { nanosecond?: boolean } = {}): Buffer[] {
  const w = new PcapWriter(opts);
  seconds.forEach((s, i) => w.add(s, 0, frame(`${label}${i}@${s}`)));
  const file = w.toBuffer();
  return splitAt(file, ...pcapRecordOffsets(file, 'le').slice(1));
}

async function openAll(files: Array<[string, Buffer[]]>): Promise<MergedReader> {
  return new MergedReader(await Promise.all(files.map(([name, chunks]) => openCapture(name, Readable.from(chunks)))));
}

describe('MergedReader', () => {
  test('two files interleave by timestamp, ties in the order of the files', async () => {
    const merged = await openAll([
      ['a.pcap', pcapAt('a', [1, 3, 3, 5])],
      ['b.pcap', pcapAt('b', [2, 3, 4, 6, 7])],
    ]);
    const records = await drain(merged);
    assert.deepEqual(records.map(labelOf), ['a0@1', 'b0@2', 'a1@3', 'a2@3', 'b1@3', 'b2@4', 'a3@5', 'b3@6', 'b4@7']);
    assert.deepEqual(merged.faults, []);
    assert.equal(merged.name, 'a.pcap, b.pcap');
    assert.equal(merged.format, 'pcap');
  });

  test('three files of different formats interleave by timestamp to the nanosecond', async () => {
    const ng = new PcapngWriter();
    ng.addInterface({ linktype: LINKTYPE_ETHERNET, tsresol: 9 });
    ng.addEnhancedAt(0, 2, 500, frame('c0@2.5'));
    ng.addEnhancedAt(0, 2, 501, frame('c1@2.501'));
    ng.addEnhancedAt(0, 9, 0, frame('c2@9'));
    const nano = new PcapWriter({ nanosecond: true }).add(2, 499, frame('b0@2.499')).add(2, 501, frame('b1@2.501')).add(8, 0, frame('b2@8'));
    const merged = await openAll([
      ['a.pcap', pcapAt('a', [1, 2, 10])],
      ['b.pcap', chunksOf(nano.toBuffer(), 5)],
      ['c.pcapng', [ng.toBuffer()]],
    ]);
    const records = await drain(merged);
    assert.deepEqual(records.map(labelOf), ['a0@1', 'a1@2', 'b0@2.499', 'c0@2.5', 'b1@2.501', 'c1@2.501', 'b2@8', 'c2@9', 'a2@10']);
    assert.deepEqual(
      records.map((r) => r.nsec),
      [0, 0, 499, 500, 501, 501, 0, 0, 0],
    );
    assert.equal(merged.format, 'pcap + pcap (nanosecond) + pcapng');
    assert.deepEqual(merged.faults, []);
  });

  test('records keep their own file offsets and link types', async () => {
    const a = new PcapWriter({ linktype: LINKTYPE_RAW }).add(1, 0, frame('a0')).toBuffer();
    const b = new PcapWriter({ linktype: LINKTYPE_LINUX_SLL }).add(0, 0, frame('b0')).add(2, 0, frame('b1')).toBuffer();
    const records = await drain(await openAll([['a', [a]], ['b', [b]]]));
    assert.deepEqual(
      records.map((r) => [labelOf(r), r.linktype, r.fileOff]),
      [
        ['b0', LINKTYPE_LINUX_SLL, 24],
        ['a0', LINKTYPE_RAW, 24],
        ['b1', LINKTYPE_LINUX_SLL, pcapRecordOffsets(b, 'le')[1]],
      ],
    );
  });

  test('a file that faults stops contributing, the others go on, and its fault is collected', async () => {
    const bWhole = Buffer.concat(pcapAt('b', [2, 4, 6, 8]));
    const bCut = bWhole.subarray(0, pcapRecordOffsets(bWhole, 'le')[2]! + 20); // cut inside its third record
    const merged = await openAll([
      ['a.pcap', pcapAt('a', [1, 3, 5, 7, 9])],
      ['b.pcap', [bCut]],
      ['c.pcap', pcapAt('c', [5, 10])],
    ]);
    const records = await drain(merged);
    assert.deepEqual(records.map(labelOf), ['a0@1', 'b0@2', 'a1@3', 'b1@4', 'a2@5', 'c0@5', 'a3@7', 'a4@9', 'c1@10']);
    assert.equal(merged.faults.length, 1);
    assertFault(merged.faults[0], 'b.pcap', pcapRecordOffsets(bWhole, 'le')[2]!, /record cut short/);
  });

  test('unreadable files add their faults and no records', async () => {
    const merged = await openAll([
      ['empty', []],
      ['a.pcap', pcapAt('a', [1, 2])],
      ['junk', [Buffer.from('hello, world! this is no capture')]],
    ]);
    const records = await drain(merged);
    assert.deepEqual(records.map(labelOf), ['a0@1', 'a1@2']);
    assert.deepEqual(
      merged.faults.map((f) => [f.file, f.offset]),
      [
        ['empty', 0],
        ['junk', 0],
      ],
    );
    assert.equal(merged.format, 'unreadable + pcap');
  });
});
