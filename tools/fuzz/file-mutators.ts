/** Fuzzing level 1: the capture file as bytes (see cases.ts). */
import { gzipSync } from 'node:zlib';
import { PcapWriter, PcapngWriter } from '../../test/support/capture-writer.js';
import type { Corpus, CorpusCapture } from './corpus.js';
import { EDGE_BYTES, EDGE_U32, type Rng } from './random.js';

const PCAP_MAGICS = [
  [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
];
const OTHER_MAGICS = [
  [0x0a, 0x0d, 0x0d, 0x0a], [0x1f, 0x8b], [0x1f, 0x8b, 0x08, 0x00], [0x28, 0xb5, 0x2f, 0xfd], [0xfd, 0x37, 0x7a, 0x58, 0x5a], [0x42, 0x5a, 0x68],
  [0xa1, 0xb2, 0xcd, 0x34], [0x34, 0xcd, 0xb2, 0xa1],
];
export const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 2, 9, 105, 127, 147, 65535, 0x10000001, 0xffffffff];

export function fileCase(r: Rng, corpus: Corpus, notes: string[]): Buffer {
  if (r.chance(0.12)) {
    // Random bytes, often behind a magic that makes a reader take them seriously.
    const body = r.chance(0.2) ? Buffer.alloc(r.size(4096), r.pick(EDGE_BYTES)) : r.bytes(r.size(8192));
    if (r.chance(0.3)) {
      notes.push(`random bytes (${body.length})`);
      return body;
    }
    const magic = r.chance(0.6) ? r.pick(PCAP_MAGICS) : r.pick(OTHER_MAGICS);
    notes.push(`magic ${Buffer.from(magic).toString('hex')} + random bytes (${body.length})`);
    return Buffer.concat([Buffer.from(magic), body]);
  }
  const cap = r.pick(corpus.captures);
  let b: Buffer;
  if (r.chance(0.35)) {
    b = toPcapng(r, cap, notes);
    notes.push(`${cap.name} as pcapng`);
  } else {
    b = Buffer.from(cap.bytes);
    notes.push(cap.name);
  }
  const n = r.int(1, 8);
  for (let i = 0; i < n; i++) b = mutateFile(r, b, notes);
  if (r.chance(0.12)) {
    b = gzipSync(b);
    notes.push('gzip');
    if (r.chance(0.4)) {
      b = r.chance(0.5) ? b.subarray(0, r.int(0, b.length)) : flipBits(r, Buffer.from(b), r.int(1, 4));
      notes.push('gzip corrupted');
    }
  }
  return b;
}

/** The capture rewritten as pcapng: a random byte order, time resolution and offset, sometimes odd blocks. */
function toPcapng(r: Rng, cap: CorpusCapture, notes: string[]): Buffer {
  const w = new PcapngWriter({ endian: r.chance(0.5) ? 'le' : 'be' });
  const tsresol = r.pick([undefined, 6, 9, 0, 3, 0x80 | 20, 0x80, 0x80 | 63, 19, 127, 255]);
  const tsoffset = r.pick([undefined, undefined, 0n, 1n, -1n, 1n << 40n, -(1n << 40n), (1n << 62n), -(1n << 63n)]);
  const snaplen = r.pick([262144, 262144, 0, 64, 1, 65535]);
  const name = r.chance(0.2) ? r.pick(['eth0', '\u001b[2Jevil\u0007', 'x'.repeat(300), '\u009b1m']) : undefined;
  w.addInterface({ linktype: cap.linktype, snaplen, tsresol, tsoffset, name });
  if (tsresol !== undefined || tsoffset !== undefined) notes.push(`tsresol ${tsresol} tsoffset ${tsoffset}`);
  const units = tsresol === undefined ? 1_000_000n : tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol & 0x7f);
  for (const rec of cap.records) {
    const ts = BigInt(rec.sec) * units + (BigInt(rec.nsec) * units) / 1_000_000_000n;
    const kind = r.int(0, 19);
    if (kind === 0) w.addSimple(rec.data, rec.orig);
    else if (kind === 1) w.addObsolete(0, ts, rec.data, rec.orig);
    else if (kind === 2) w.addEnhanced(r.int(0, 3), ts, rec.data, rec.orig);
    else if (kind === 3) w.addBlock(r.pick([4, 5, 0x80000001, 0x0bad, 7]), r.bytes(r.size(64)));
    else if (kind === 4 && r.chance(0.2)) {
      w.section({ endian: r.chance(0.5) ? 'le' : 'be' });
      w.addInterface({ linktype: r.pick([cap.linktype, cap.linktype, 101, 0xffff]), snaplen: r.pick([0, 262144]), tsresol: r.pick([undefined, 9]) });
      w.addEnhanced(0, ts, rec.data, rec.orig);
    } else w.addEnhanced(0, ts, rec.data, rec.orig, r.chance(0.02) ? { comment: '\u001b]0;title\u0007' } : {});
  }
  return w.toBuffer();
}

interface Layout {
  kind: 'pcap' | 'pcapng' | 'other';
  /** Offsets of records (pcap) or blocks (pcapng) found by walking the file, with the byte order there. */
  items: Array<{ off: number; le: boolean; type: number; len: number }>;
}

/** Walks the structure of a (possibly broken) pcap or pcapng file as far as it makes sense. */
function layout(b: Buffer): Layout {
  const items: Layout['items'] = [];
  if (b.length >= 24) {
    const m = b.readUInt32BE(0);
    const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
    if (le || m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
      for (let off = 24; off + 16 <= b.length && items.length < 100_000; ) {
        const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
        items.push({ off, le, type: 0, len: 16 + cap });
        if (cap > 1 << 22) break;
        off += 16 + cap;
      }
      return { kind: 'pcap', items };
    }
  }
  if (b.length >= 12 && b.readUInt32BE(0) === 0x0a0d0d0a) {
    let le = true;
    for (let off = 0; off + 12 <= b.length && items.length < 100_000; ) {
      const typeBe = b.readUInt32BE(off);
      if (typeBe === 0x0a0d0d0a && off + 12 <= b.length) le = b.readUInt32BE(off + 8) === 0x4d3c2b1a;
      const type = le ? b.readUInt32LE(off) : typeBe;
      const len = le ? b.readUInt32LE(off + 4) : b.readUInt32BE(off + 4);
      items.push({ off, le, type, len });
      if (len < 12 || len % 4 !== 0 || off + len > b.length) break;
      off += len;
    }
    return { kind: 'pcapng', items };
  }
  return { kind: 'other', items };
}

function put32(b: Buffer, off: number, v: number, le: boolean): void {
  if (off < 0 || off + 4 > b.length) return;
  if (le) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}

function put16(b: Buffer, off: number, v: number, le: boolean): void {
  if (off < 0 || off + 2 > b.length) return;
  if (le) b.writeUInt16LE(v & 0xffff, off);
  else b.writeUInt16BE(v & 0xffff, off);
}

export function flipBits(r: Rng, b: Buffer, n: number): Buffer {
  for (let i = 0; i < n && b.length > 0; i++) b[r.int(0, b.length - 1)]! ^= 1 << r.int(0, 7);
  return b;
}

/** A position biased towards headers: the start of the file and the starts of records and blocks. */
function hotSpot(r: Rng, b: Buffer, lay: Layout): number {
  if (b.length === 0) return 0;
  if (lay.items.length > 0 && r.chance(0.6)) {
    const it = r.pick(lay.items);
    return Math.min(b.length - 1, it.off + r.int(0, 31));
  }
  if (r.chance(0.3)) return r.int(0, Math.min(b.length - 1, 40));
  return r.int(0, b.length - 1);
}

function mutateFile(r: Rng, input: Buffer, notes: string[]): Buffer {
  let b = Buffer.from(input);
  const lay = layout(b);
  const op = r.int(0, 15);
  switch (op) {
    case 0: {
      const n = r.int(1, 16);
      for (let i = 0; i < n && b.length > 0; i++) b[hotSpot(r, b, lay)]! ^= 1 << r.int(0, 7);
      notes.push(`flip ${n} bits`);
      return b;
    }
    case 1: {
      const n = r.int(1, 8);
      for (let i = 0; i < n && b.length > 0; i++) b[hotSpot(r, b, lay)] = r.pick(EDGE_BYTES);
      notes.push(`set ${n} bytes to edge values`);
      return b;
    }
    case 2: {
      let at: number;
      if (lay.items.length > 0 && r.chance(0.5)) {
        const it = r.pick(lay.items);
        at = Math.max(0, Math.min(b.length, it.off + r.pick([0, 1, 4, 8, 15, 16, 17, 24, it.len - 1, it.len])));
      } else at = r.chance(0.2) ? r.int(0, Math.min(b.length, 30)) : r.int(0, b.length);
      notes.push(`truncate at ${at}`);
      return b.subarray(0, at);
    }
    case 3: {
      const at = r.chance(0.5) ? hotSpot(r, b, lay) : r.int(0, b.length);
      const run = r.chance(0.5) ? r.bytes(r.size(512)) : Buffer.alloc(r.size(512), r.pick(EDGE_BYTES));
      notes.push(`insert ${run.length} bytes at ${at}`);
      return Buffer.concat([b.subarray(0, at), run, b.subarray(at)]);
    }
    case 4: {
      const at = r.chance(0.5) ? hotSpot(r, b, lay) : r.int(0, b.length);
      const n = r.size(Math.max(1, b.length - at));
      notes.push(`delete ${n} bytes at ${at}`);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
    }
    case 5: {
      if (lay.items.length > 0 && r.chance(0.6)) {
        const i = r.int(0, lay.items.length - 1);
        const j = Math.min(lay.items.length - 1, i + r.size(20));
        const from = lay.items[i]!.off;
        const to = Math.min(b.length, lay.items[j]!.off + Math.max(0, lay.items[j]!.len));
        const at = r.pick(lay.items).off;
        notes.push(`duplicate records ${i}-${j}`);
        return Buffer.concat([b.subarray(0, at), b.subarray(from, to), b.subarray(at)]);
      }
      const from = r.int(0, b.length);
      const to = Math.min(b.length, from + r.size(4096));
      const at = r.int(0, b.length);
      notes.push(`duplicate chunk ${from}-${to} at ${at}`);
      return Buffer.concat([b.subarray(0, at), b.subarray(from, to), b.subarray(at)]);
    }
    case 6:
    case 7:
    case 8: {
      // Length fields: record captured/original lengths, block total lengths, packet lengths inside blocks.
      if (lay.items.length === 0) return flipBits(r, b, 2);
      const it = r.pick(lay.items);
      const v = r.chance(0.7) ? r.pick(EDGE_U32) : (it.len + r.int(-17, 17)) >>> 0;
      if (lay.kind === 'pcap') {
        const field = r.pick([8, 8, 12, 0, 4]);
        put32(b, it.off + field, field === 4 && r.chance(0.5) ? r.pick([999999, 1000000, 1000001, 999999999, 1e9, 0xffffffff]) : v, it.le);
        notes.push(`record ${lay.items.indexOf(it)} field +${field} = ${v}`);
      } else {
        const field = r.pick([4, 4, 'trailer', 20, 24, 8, 12, 16, 18, 12]);
        const off = field === 'trailer' ? it.off + it.len - 4 : it.off + (field as number);
        if (field === 18 || (field === 8 && it.type === 1)) put16(b, off, v, it.le);
        else put32(b, off, v, it.le);
        notes.push(`block ${lay.items.indexOf(it)} (type ${it.type}) field ${field} = ${v}`);
      }
      return b;
    }
    case 9: {
      // Header fields: pcap version, snaplen, link type; pcapng byte-order magic, version, section length.
      if (lay.kind === 'pcap' && b.length >= 24) {
        const le = b.readUInt32BE(0) === 0xd4c3b2a1 || b.readUInt32BE(0) === 0x4d3cb2a1;
        const what = r.int(0, 3);
        if (what === 0) put16(b, 4, r.pick([0, 1, 2, 3, 0xffff]), le);
        else if (what === 1) put16(b, 6, r.pick([0, 3, 4, 0xffff]), le);
        else if (what === 2) put32(b, 16, r.pick(EDGE_U32), le);
        else put32(b, 20, r.pick(LINKTYPES), le);
        notes.push(`pcap header field ${what}`);
      } else if (lay.kind === 'pcapng' && lay.items.length > 0) {
        const shb = r.pick(lay.items.filter((x) => x.type === 0x0a0d0d0a).concat(lay.items[0]!));
        const what = r.int(0, 3);
        if (what === 0) put32(b, shb.off + 8, r.pick([0, 0x1a2b3c4d, 0x4d3c2b1a, 0xffffffff]), false);
        else if (what === 1) put16(b, shb.off + 12, r.pick([0, 1, 2, 0xffff]), shb.le);
        else if (what === 2) put32(b, shb.off + 16, r.pick(EDGE_U32), shb.le);
        else {
          const idb = lay.items.find((x) => x.type === 1);
          if (idb !== undefined) put16(b, idb.off + 8, r.pick(LINKTYPES), idb.le);
        }
        notes.push(`pcapng header field ${what}`);
      } else flipBits(r, b, 4);
      return b;
    }
    case 10: {
      // pcap <-> pcapng: the other format's header in front of this one's body.
      if (lay.kind === 'pcap') {
        const shb = new PcapngWriter({ endian: r.chance(0.5) ? 'le' : 'be' }).toBuffer();
        notes.push('pcapng section header on a pcap body');
        return Buffer.concat([shb, b.subarray(r.chance(0.5) ? 24 : 0)]);
      }
      const head = new PcapWriter({ endian: r.chance(0.5) ? 'le' : 'be', nanosecond: r.chance(0.3), linktype: r.pick(LINKTYPES) }).toBuffer();
      notes.push('pcap header on a non-pcap body');
      return Buffer.concat([head, b.subarray(r.chance(0.5) ? 28 : 0)]);
    }
    case 11: {
      // Magic: another variant of the same format (byte order, nanoseconds), or a foreign one.
      if (b.length >= 4) Buffer.from(r.chance(0.7) ? r.pick(PCAP_MAGICS) : r.pick(OTHER_MAGICS)).copy(b, 0);
      notes.push('magic replaced');
      return b;
    }
    case 12: {
      // Timestamps: zero, the end of 32-bit time, fractions of a second out of range, backwards.
      for (let i = 0, n = r.int(1, 6); i < n && lay.items.length > 0; i++) {
        const it = r.pick(lay.items);
        if (lay.kind === 'pcap') put32(b, it.off + r.pick([0, 4]), r.pick([0, 1, 999999, 1000000, 0x7fffffff, 0xffffffff]), it.le);
        else if (it.type === 6) put32(b, it.off + r.pick([12, 16]), r.pick(EDGE_U32), it.le);
      }
      notes.push('timestamps');
      return b;
    }
    case 13:
      notes.push('file twice');
      return Buffer.concat([b, b.subarray(0, r.chance(0.5) ? b.length : r.int(0, b.length))]);
    case 14: {
      // A record or block moved elsewhere.
      if (lay.items.length < 2) return flipBits(r, b, 1);
      const it = r.pick(lay.items);
      const end = Math.min(b.length, it.off + Math.max(0, it.len));
      const chunk = Buffer.from(b.subarray(it.off, end));
      const rest = Buffer.concat([b.subarray(0, it.off), b.subarray(end)]);
      const at = Math.min(rest.length, r.pick(lay.items).off);
      notes.push('record moved');
      return Buffer.concat([rest.subarray(0, at), chunk, rest.subarray(at)]);
    }
    default: {
      // A word of the file overwritten with an edge value at a random (aligned) offset.
      const off = r.int(0, Math.max(0, b.length - 4)) & ~3;
      put32(b, off, r.pick(EDGE_U32), r.chance(0.5));
      notes.push(`word at ${off}`);
      return b;
    }
  }
}

