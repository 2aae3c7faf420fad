/**
 * Fuzzing ftpscope: a capture is hostile input, crafted to crash, hang or fool the tool.
 *
 * Three levels of generated inputs, every one of them a capture file (bytes), made deterministically from a
 * 32-bit seed (the same seed and the same fixtures give the same bytes):
 *
 * - file: the capture file as bytes: random bytes (sometimes behind a valid magic), and mutations of every
 *   fixture, as pcap and converted to pcapng: bit flips, bytes set to 00/ff/7f/80, truncation, insertion and
 *   deletion of byte runs, duplicated chunks, record and block length fields set to edge values, global and
 *   section header fields, pcap and pcapng headers swapped, gzip of the result (sometimes then corrupted);
 * - packet: the fixtures' packets, read with openCapture, mutated one by one (IP lengths, IHL, version, TCP
 *   data offset, flags, sequence and acknowledgment numbers near 2^32, options, ports, addresses, cuts),
 *   fragmented, re-linked, reordered, duplicated and dropped, and written as a valid pcap with PcapWriter;
 * - ftp: control and data connections built with TcpConversation from random and hostile FTP: overlong
 *   lines, lines without ends, telnet IAC sequences, NUL and terminal escapes, invalid and huge reply codes,
 *   endless multi-line replies, malformed PORT/EPRT/LPRT/227/228/229, thousands of pipelined commands or
 *   PASV replies, path traversal, AUTH TLS then garbage, with random segmentation and timing.
 *
 * `runCase` analyses one input in-process as the CLI does (FtpAnalyzer behind a PacketLog, passwords
 * masked) and renders every output with colour off: the timeline, walkthrough, ladder, packet list,
 * summary and connection views, the Zeek log, the JSON model and the ndjson events (serialised as the CLI
 * serialises them); for some seeds the
 * CLI's `main()` runs too, on the same bytes as standard input. A case fails when anything throws, or
 * when an output holds a raw control character (C0 other than \n — and \t in the Zeek log —, DEL, C1).
 *
 * `FuzzPool` runs cases in worker threads (fuzz-worker.ts) so that a hang (a case over its time bound:
 * the worker is terminated) or a memory blow-up (over the bound after the case, or the worker's heap cap
 * reached) is a reported failure, not a stuck or dead fuzzer.
 */

import { gzipSync } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { DEFAULT_ANALYZE_OPTIONS, analyze, type AnalyzeOptions } from '../analyze.js';
import { openCapture } from '../capture/open-capture.js';
import * as cli from '../cli/main.js';
import { DEFAULT_FRAGMENT_LIMITS } from '../decode/ip-fragments.js';
import { DEFAULT_CONNECTION_LIMITS } from '../flow/connections.js';
import { DEFAULT_PACKET_LOG_LIMITS, PacketLog } from '../flow/packet-log.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../flow/reassembler.js';
import { FtpAnalyzer } from '../ftp/analyzer.js';
import { maskPasswords } from '../ftp/policy.js';
import { DEFAULT_FTP_LIMITS, type FtpLimits } from '../ftp/session.js';
import type { LiveEvent } from '../model/ftp-model.js';
import { renderConnections } from '../render/connections.js';
import { ViewContext, type ViewOptions } from '../render/context.js';
import { renderLadder } from '../render/ladder.js';
import { zh } from '../render/messages-zh.js';
import { en } from '../render/messages.js';
import { renderPackets } from '../render/packets.js';
import { renderSummary } from '../render/summary.js';
import { renderTimeline } from '../render/timeline.js';
import { renderWalkthrough } from '../render/walkthrough.js';
import { renderZeek } from '../render/zeek.js';
import {
  ACK, FIN, PSH, PcapWriter, PcapngWriter, RST, SYN, TcpConversation, framesToPcap, type Endpoint, type Frame, type FrameLink,
} from './capture-writer.js';
import { prng, randomInt, shuffle } from './random.js';

// ---------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------

/** A seeded source of the choices a generator makes. */
export class Rng {
  readonly float: () => number;
  constructor(seed: number) {
    this.float = prng(seed);
  }
  int(lo: number, hi: number): number {
    return randomInt(this.float, lo, hi);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.float() * a.length)]!;
  }
  u32(): number {
    return Math.floor(this.float() * 4294967296);
  }
  /** Mostly small, sometimes up to `max`: uniform in log scale. */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.pow(max + 1, this.float())) - 1 + (this.chance(0.5) ? 0 : 1));
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.float() * 256);
    return b;
  }
  shuffle<T>(a: T[]): T[] {
    return shuffle(this.float, a);
  }
}

/** The seed of case `index` of a run seeded `seed` (a 32-bit mix, so neighbouring cases differ everywhere). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const EDGE_U32 = [0, 1, 2, 3, 4, 8, 12, 15, 16, 17, 20, 23, 24, 28, 32, 40, 60, 64, 127, 128, 255, 256, 1500, 1514, 4095, 4096, 65535, 65536, 262144, 262145, 1048576, 1048577, 0x7fffffff, 0x80000000, 0xfffffffc, 0xfffffffe, 0xffffffff];
const EDGE_U16 = [0, 1, 2, 7, 8, 19, 20, 21, 39, 40, 60, 64, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EDGE_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];

// ---------------------------------------------------------------------------
// The corpus: the fixtures, as bytes and as packets
// ---------------------------------------------------------------------------

/** One record of a capture, copied out of the reader's batch. */
export interface Rec {
  sec: number;
  nsec: number;
  data: Buffer;
  orig: number;
}

export interface CorpusCapture {
  name: string;
  bytes: Buffer;
  linktype: number;
  records: Rec[];
}

export interface Corpus {
  captures: CorpusCapture[];
}

/** Reads every .pcap of a folder (the fixtures), sorted by name, as bytes and as records. */
export async function loadCorpus(dir: string): Promise<Corpus> {
  const names = readdirSync(dir).filter((n) => /\.pcap(ng)?$/.test(n)).sort();
  const captures: CorpusCapture[] = [];
  for (const name of names) {
    const bytes = readFileSync(join(dir, name));
    const reader = await openCapture(name, Readable.from([bytes]));
    const records: Rec[] = [];
    let linktype = 1;
    for (let b = await reader.next(); b !== null; b = await reader.next()) {
      for (let i = 0; i < b.count; i++) {
        linktype = b.linktypes[i]!;
        const off = b.offs[i]!;
        records.push({ sec: b.tsSec[i]!, nsec: b.tsNsec[i]!, data: Buffer.from(b.bufs[i]!.subarray(off, off + b.caps[i]!)), orig: b.origs[i]! });
      }
    }
    reader.close();
    if (records.length > 0) captures.push({ name, bytes, linktype, records });
  }
  if (captures.length === 0) throw new Error(`no capture in ${dir}`);
  return { captures };
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

export type Level = 'file' | 'packet' | 'ftp';
export const LEVELS: readonly Level[] = ['file', 'packet', 'ftp'];

export interface FuzzCase {
  level: Level;
  seed: number;
  /** The capture file to analyse. */
  bytes: Buffer;
  /** What the generator did, for reports. */
  description: string;
}

export function generateCase(level: Level, seed: number, corpus: Corpus): FuzzCase {
  const r = new Rng(seed);
  const notes: string[] = [];
  let bytes: Buffer;
  if (level === 'file') bytes = fileCase(r, corpus, notes);
  else if (level === 'packet') bytes = packetCase(r, corpus, notes);
  else bytes = ftpCase(r, notes);
  return { level, seed, bytes, description: notes.join(', ') };
}

// ---------------------------------------------------------------------------
// Level 1: the capture file as bytes
// ---------------------------------------------------------------------------

const PCAP_MAGICS = [
  [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
];
const OTHER_MAGICS = [
  [0x0a, 0x0d, 0x0d, 0x0a], [0x1f, 0x8b], [0x1f, 0x8b, 0x08, 0x00], [0x28, 0xb5, 0x2f, 0xfd], [0xfd, 0x37, 0x7a, 0x58, 0x5a], [0x42, 0x5a, 0x68],
  [0xa1, 0xb2, 0xcd, 0x34], [0x34, 0xcd, 0xb2, 0xa1],
];
const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 2, 9, 105, 127, 147, 65535, 0x10000001, 0xffffffff];

function fileCase(r: Rng, corpus: Corpus, notes: string[]): Buffer {
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

function flipBits(r: Rng, b: Buffer, n: number): Buffer {
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

// ---------------------------------------------------------------------------
// Level 2: packets
// ---------------------------------------------------------------------------

/** Offsets of the network and transport headers in an Ethernet frame (through VLAN tags), when IP. */
function ipOffsets(d: Buffer, l3: number): { l3: number; v: number; l4: number; proto: number } | null {
  if (d.length < l3 + 20) return null;
  const v = d[l3]! >> 4;
  if (v === 4) {
    const ihl = (d[l3]! & 15) * 4;
    return { l3, v, l4: l3 + ihl, proto: d[l3 + 9]! };
  }
  if (v === 6 && d.length >= l3 + 40) return { l3, v, l4: l3 + 40, proto: d[l3 + 6]! };
  return null;
}

function etherL3(d: Buffer): number {
  let p = 14;
  let type = d.length >= 14 ? d.readUInt16BE(12) : 0;
  while ((type === 0x8100 || type === 0x88a8) && d.length >= p + 4) {
    type = d.readUInt16BE(p + 2);
    p += 4;
  }
  return p;
}

/** Recomputes the IPv4 header checksum (the decoder ignores it; Wireshark-like tools do not). */
function fixIpv4Checksum(d: Buffer, l3: number): void {
  const ihl = (d[l3]! & 15) * 4;
  if (ihl < 20 || d.length < l3 + ihl) return;
  d.writeUInt16BE(0, l3 + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += d.readUInt16BE(l3 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  d.writeUInt16BE(~sum & 0xffff, l3 + 10);
}

const TCP_OPTION_JUNK: number[][] = [
  [2, 4, 0, 0], [2, 0], [2, 1], [3, 3, 255], [3, 3, 14], [3, 3, 15], [3, 2], [4, 2], [4, 0], [5, 2], [5, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
  [5, 34, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 16, 0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8],
  [8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], [8, 9], [8, 255], [255, 40], [254, 4, 0xf9, 0x89], [30, 2], [1, 1, 1, 1, 1, 1, 1, 1], [0, 99, 99], [19, 18],
];

/** One mutation of one frame (Ethernet when `l3` is 14ish, a bare IP packet when it is 0). Returns a note. */
function mutatePacket(r: Rng, rec: Rec, l3: number): string {
  const d = rec.data;
  const ip = ipOffsets(d, l3);
  const op = r.int(0, 21);
  if (ip === null || op >= 20) {
    if (r.chance(0.5)) {
      rec.data = Buffer.concat([d, r.bytes(r.size(256))]);
      return 'trailer';
    }
    flipBits(r, d, r.int(1, 8));
    return 'bits';
  }
  const v4 = ip.v === 4;
  const tcp = ip.l4;
  const hasTcp = ip.proto === 6 && d.length >= tcp + 20;
  switch (op) {
    case 0:
      if (v4) d.writeUInt16BE(r.chance(0.6) ? r.pick(EDGE_U16) : (d.readUInt16BE(l3 + 2) + r.int(-24, 24)) & 0xffff, l3 + 2);
      else d.writeUInt16BE(r.chance(0.6) ? r.pick(EDGE_U16) : (d.readUInt16BE(l3 + 4) + r.int(-24, 24)) & 0xffff, l3 + 4);
      if (v4) fixIpv4Checksum(d, l3);
      return 'ip length';
    case 1:
      d[l3] = (d[l3]! & 0xf0) | r.int(0, 15);
      return 'ihl';
    case 2:
      d[l3] = (r.pick([0, 4, 6, 5, 15]) << 4) | (d[l3]! & 15);
      return 'ip version';
    case 3:
      if (v4) d[l3 + 9] = r.pick([17, 1, 0, 255, 4, 41, 50, 51]);
      else d[l3 + 6] = r.pick([0, 43, 44, 60, 51, 50, 59, 17, 135, 255]);
      return 'protocol';
    case 4:
      if (v4) {
        d.writeUInt16BE(r.pick([0x2000, 0x2001, 0x0001, 0x1fff, 0x3fff, 0x4000, 0xffff, r.int(0, 0xffff)]), l3 + 6);
        fixIpv4Checksum(d, l3);
      } else d[l3 + 6] = 44;
      return 'fragment bits';
    case 5:
      if (!hasTcp) return 'none';
      d[tcp + 12] = (r.int(0, 15) << 4) | (d[tcp + 12]! & 15);
      return 'tcp data offset';
    case 6:
      if (!hasTcp) return 'none';
      d[tcp + 13] = r.pick([0, 0xff, SYN | FIN, SYN | RST, SYN | ACK | FIN, RST, FIN, FIN | ACK | PSH, SYN, r.int(0, 255)]);
      return 'tcp flags';
    case 7:
    case 8:
      if (!hasTcp) return 'none';
      d.writeUInt32BE(r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, (d.readUInt32BE(tcp + 4) + 0x80000000) >>> 0, (d.readUInt32BE(tcp + 4) - r.int(1, 5000)) >>> 0, r.u32()]), tcp + (op === 7 ? 4 : 8));
      return op === 7 ? 'seq jump' : 'ack jump';
    case 9: {
      if (!hasTcp) return 'none';
      const hdr = (d[tcp + 12]! >> 4) * 4;
      const optLen = Math.min(hdr - 20, d.length - tcp - 20);
      if (optLen <= 0 || r.chance(0.3)) {
        // New options: grow the header with junk options, keeping the payload after them.
        const opts = Buffer.from(r.pick(TCP_OPTION_JUNK).concat(r.chance(0.5) ? r.pick(TCP_OPTION_JUNK) : []));
        const padded = Buffer.concat([opts, Buffer.alloc((4 - (opts.length % 4)) % 4)]).subarray(0, 40);
        const body = d.subarray(tcp + Math.max(20, Math.min(hdr, d.length - tcp)));
        rec.data = Buffer.concat([d.subarray(0, tcp + 20), padded, body]);
        rec.data[tcp + 12] = (Math.min(15, 5 + padded.length / 4) << 4) | (rec.data[tcp + 12]! & 15);
        if (v4) {
          rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3), l3 + 2);
          fixIpv4Checksum(rec.data, l3);
        } else rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3 - 40), l3 + 4);
        rec.orig = Math.max(rec.orig + padded.length, rec.data.length);
        return 'tcp options added';
      }
      const junk = r.chance(0.5) ? Buffer.from(r.pick(TCP_OPTION_JUNK)) : r.bytes(optLen);
      junk.copy(d, tcp + 20, 0, Math.min(junk.length, optLen));
      return 'tcp options';
    }
    case 10:
      if (!hasTcp) return 'none';
      d.writeUInt16BE(r.pick([0, 20, 21, 65535, 1, r.int(0, 65535)]), tcp + (r.chance(0.5) ? 0 : 2));
      return 'port';
    case 11:
      if (!hasTcp) return 'none';
      d.writeUInt16BE(r.pick([0, 1, 0xffff]), tcp + 14);
      return 'window';
    case 12: {
      // Addresses: the same on both ends, broadcast, zero, or swapped.
      const at = v4 ? l3 + 12 : l3 + 8;
      const len = v4 ? 4 : 16;
      const what = r.int(0, 2);
      if (what === 0) d.copy(d, at + len, at, at + len);
      else if (what === 1) d.fill(r.pick([0, 0xff]), at + (r.chance(0.5) ? 0 : len), at + (r.chance(0.5) ? len : 2 * len));
      else {
        const a = Buffer.from(d.subarray(at, at + len));
        d.copy(d, at, at + len, at + 2 * len);
        a.copy(d, at + len);
      }
      if (v4) fixIpv4Checksum(d, l3);
      return 'addresses';
    }
    case 13: {
      // Cut by the snap length: fewer bytes captured than on the wire.
      const keep = r.int(0, d.length);
      rec.orig = Math.max(rec.orig, d.length);
      rec.data = d.subarray(0, keep);
      return `cut to ${keep}`;
    }
    case 14:
    case 15: {
      // The payload: FTP lines get hostile bytes.
      if (!hasTcp) return 'none';
      const pay = tcp + (d[tcp + 12]! >> 4) * 4;
      if (pay >= d.length) return 'none';
      const n = r.int(1, 6);
      for (let i = 0; i < n; i++) d[r.int(pay, d.length - 1)] = r.pick([0x00, 0x0a, 0x0d, 0xff, 0x1b, 0x9b, 0x7f, 0x85, 0x20, 0x2d, 0x30, 0x39]);
      return 'payload bytes';
    }
    case 16: {
      // An IPv6 extension header inserted (hop-by-hop, routing, destination options, AH), length possibly lying.
      if (v4) {
        d[l3 + 1] = r.int(0, 255);
        return 'tos';
      }
      const type = r.pick([0, 43, 60, 51, 44, 135]);
      const ext = Buffer.alloc(8 * r.int(1, 3));
      ext[0] = d[l3 + 6]!;
      ext[1] = r.chance(0.7) ? ext.length / 8 - 1 : r.int(0, 255);
      if (type === 44) ext.writeUInt16BE(r.pick([0, 1, 8, 0xfff9]), 2);
      rec.data = Buffer.concat([d.subarray(0, l3 + 40), ext, d.subarray(l3 + 40)]);
      rec.data[l3 + 6] = type;
      rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3 - 40), l3 + 4);
      rec.orig = Math.max(rec.orig + ext.length, rec.data.length);
      return 'ipv6 extension';
    }
    case 17: {
      // Link layer: VLAN tags, MPLS, PPPoE, 802.3 with LLC/SNAP, or another EtherType.
      if (l3 === 0) return 'none';
      const what = r.int(0, 4);
      const type = Buffer.from(d.subarray(l3 - 2, l3));
      if (what === 0) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x81, 0x00, 0, r.int(0, 255)]), d.subarray(12)]);
      else if (what === 1) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x88, 0x47, 0, 0, r.chance(0.8) ? 1 : 0, 64]), d.subarray(l3)]);
      else if (what === 2) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x88, 0x64, 0x11, 0, 0, 1, 0, 0, 0, r.pick([0x21, 0x57, 0x99])]), d.subarray(l3)]);
      else if (what === 3) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0, 100, 0xaa, 0xaa, 0x03, 0, 0, 0]), type, d.subarray(l3)]);
      else d.writeUInt16BE(r.pick([0x0806, 0x88cc, 0x9100, 0x0000, 0xffff]), l3 - 2);
      rec.orig = Math.max(rec.orig, rec.data.length);
      return 'link layer';
    }
    case 18:
      rec.sec = r.pick([0, 1, 0x7fffffff, 0xffffffff, rec.sec - r.int(1, 100000), rec.sec + r.int(1, 2000)]) >>> 0;
      rec.nsec = r.chance(0.5) ? rec.nsec : r.int(0, 999_999_999);
      return 'timestamp';
    default:
      flipBits(r, d, r.int(1, 4));
      return 'bits';
  }
}

/** IPv4 fragments of a frame's IP packet, sometimes overlapping or conflicting, in a random order. */
function fragment(r: Rng, rec: Rec, l3: number): Rec[] {
  const ip = ipOffsets(rec.data, l3);
  if (ip === null) return [rec];
  const d = rec.data;
  if (ip.v === 6) {
    const payload = d.subarray(l3 + 40);
    const out: Rec[] = [];
    const size = 8 * r.int(1, 4);
    const id = r.u32();
    for (let off = 0; off < payload.length || off === 0; off += size) {
      const piece = payload.subarray(off, off + size);
      const more = off + size < payload.length ? 1 : 0;
      const fh = Buffer.alloc(8);
      fh[0] = d[l3 + 6]!;
      fh.writeUInt16BE((off & 0xfff8) | more, 2);
      fh.writeUInt32BE(id, 4);
      const pkt = Buffer.concat([d.subarray(0, l3 + 40), fh, piece]);
      pkt[l3 + 6] = 44;
      pkt.writeUInt16BE(pkt.length - l3 - 40, l3 + 4);
      out.push({ ...rec, data: pkt, orig: pkt.length });
      if (out.length > 200) break;
    }
    return r.chance(0.5) ? r.shuffle(out) : out;
  }
  const ihl = ip.l4 - l3;
  if (ihl < 20 || ip.l4 > d.length) return [rec];
  const total = Math.min(d.readUInt16BE(l3 + 2) || d.length - l3, d.length - l3);
  const payload = d.subarray(ip.l4, l3 + total);
  const size = 8 * r.int(1, 8);
  const out: Rec[] = [];
  const step = r.chance(0.2) ? size - 8 * r.int(0, size / 8 - 1) : size; // overlapping when smaller than size
  for (let off = 0; off < payload.length || off === 0; off += Math.max(8, step)) {
    let piece: Buffer = Buffer.from(payload.subarray(off, off + size));
    if (r.chance(0.05)) piece = r.bytes(piece.length); // a conflicting overlap
    const last = off + size >= payload.length;
    const hdr = Buffer.from(d.subarray(l3, l3 + ihl));
    hdr.writeUInt16BE(ihl + piece.length, 2);
    hdr.writeUInt16BE((last && !r.chance(0.05) ? 0 : 0x2000) | ((off / 8) & 0x1fff), 6);
    const pkt = Buffer.concat([d.subarray(0, l3), hdr, piece]);
    fixIpv4Checksum(pkt, l3);
    out.push({ ...rec, data: pkt, orig: pkt.length });
    if (out.length > 200) break;
  }
  return r.chance(0.5) ? r.shuffle(out) : out;
}

/** Shifts the sequence numbers of one direction of every connection so that they wrap around 2^32 soon. */
function wrapSequences(r: Rng, recs: Rec[]): void {
  const delta = new Map<string, number>();
  for (const rec of recs) {
    const l3 = etherL3(rec.data);
    const ip = ipOffsets(rec.data, l3);
    if (ip === null || ip.proto !== 6 || rec.data.length < ip.l4 + 20) continue;
    const len = ip.v === 4 ? 4 : 16;
    const src = rec.data.subarray(ip.v === 4 ? l3 + 12 : l3 + 8, (ip.v === 4 ? l3 + 12 : l3 + 8) + len).toString('hex');
    const dst = rec.data.subarray((ip.v === 4 ? l3 + 12 : l3 + 8) + len, (ip.v === 4 ? l3 + 12 : l3 + 8) + 2 * len).toString('hex');
    const sp = rec.data.readUInt16BE(ip.l4);
    const dp = rec.data.readUInt16BE(ip.l4 + 2);
    const fwd = `${src}:${sp}>${dst}:${dp}`;
    const rev = `${dst}:${dp}>${src}:${sp}`;
    if (!delta.has(fwd)) {
      const seq = rec.data.readUInt32BE(ip.l4 + 4);
      delta.set(fwd, (0x100000000 - seq - r.int(0, 3000)) >>> 0);
    }
    const t = ip.l4;
    rec.data.writeUInt32BE((rec.data.readUInt32BE(t + 4) + delta.get(fwd)!) >>> 0, t + 4);
    const back = delta.get(rev);
    if (back !== undefined && rec.data[t + 13]! & ACK) rec.data.writeUInt32BE((rec.data.readUInt32BE(t + 8) + back) >>> 0, t + 8);
  }
}

/** The IP packet of an Ethernet frame wrapped in another link layer. */
const RELINK: Array<{ name: string; linktype: number; wrap: (ip: Buffer, v6: boolean) => Buffer }> = [
  { name: 'raw', linktype: 101, wrap: (ip) => ip },
  { name: 'raw12', linktype: 12, wrap: (ip) => ip },
  { name: 'ipv4/ipv6', linktype: 228, wrap: (ip) => ip },
  { name: 'null', linktype: 0, wrap: (ip, v6) => Buffer.concat([Buffer.from([v6 ? 24 : 2, 0, 0, 0]), ip]) },
  { name: 'loop', linktype: 108, wrap: (ip, v6) => Buffer.concat([Buffer.from([0, 0, 0, v6 ? 30 : 2]), ip]) },
  { name: 'sll', linktype: 113, wrap: (ip, v6) => Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, v6 ? 0x86 : 0x08, v6 ? 0xdd : 0]), ip]) },
  { name: 'sll2', linktype: 276, wrap: (ip, v6) => Buffer.concat([Buffer.from([v6 ? 0x86 : 0x08, v6 ? 0xdd : 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]), ip]) },
];

function packetCase(r: Rng, corpus: Corpus, notes: string[]): Buffer {
  const first = r.pick(corpus.captures);
  notes.push(first.name);
  let recs: Rec[] = first.records.map((x) => ({ ...x, data: Buffer.from(x.data) }));
  if (r.chance(0.15)) {
    // Two captures interleaved (shifted to overlap in time): more sessions, addresses in common.
    const other = r.pick(corpus.captures);
    const shift = recs[0]!.sec - other.records[0]!.sec;
    recs = recs.concat(other.records.map((x) => ({ ...x, sec: x.sec + shift, data: Buffer.from(x.data) })));
    recs.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    notes.push(`+ ${other.name}`);
  }
  if (r.chance(0.15)) {
    wrapSequences(r, recs);
    notes.push('sequence numbers wrap');
  }
  // Per-packet mutations: a few packets, or many.
  const rate = r.pick([0.02, 0.05, 0.1, 0.3, 1]);
  const counts = new Map<string, number>();
  for (const rec of recs) {
    if (!r.chance(rate)) continue;
    for (let k = r.int(1, 3); k > 0; k--) {
      const what = mutatePacket(r, rec, etherL3(rec.data));
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
  }
  if (counts.size > 0) notes.push([...counts].map(([k, n]) => `${k} x${n}`).join(' '));
  // Sequence-level changes.
  for (let k = r.int(0, 4); k > 0; k--) {
    const op = r.int(0, 7);
    const i = r.int(0, recs.length - 1);
    if (op === 0) {
      const j = Math.min(recs.length, i + r.int(2, 12));
      recs.splice(i, j - i, ...r.shuffle(recs.slice(i, j)));
      notes.push('shuffled run');
    } else if (op === 1) {
      const n = r.int(1, 5);
      recs.splice(r.int(0, recs.length), 0, ...recs.slice(i, i + n).map((x) => ({ ...x, data: Buffer.from(x.data) })));
      notes.push('duplicated');
    } else if (op === 2) {
      recs.splice(i, r.size(8) + 1);
      notes.push('dropped');
    } else if (op === 3) {
      const [a] = recs.splice(i, 1);
      recs.splice(r.int(0, recs.length), 0, a!);
      notes.push('moved');
    } else if (op === 4) {
      const frags = fragment(r, recs[i]!, etherL3(recs[i]!.data));
      recs.splice(i, 1, ...frags);
      notes.push(`fragmented (${frags.length})`);
    } else if (op === 5) {
      // Retransmission with other bytes: the same segment, its payload changed.
      const copy = { ...recs[i]!, data: Buffer.from(recs[i]!.data) };
      flipBits(r, copy.data, r.int(1, 20));
      recs.splice(Math.min(recs.length, i + r.int(1, 10)), 0, copy);
      notes.push('conflicting retransmission');
    } else if (op === 6) {
      recs.reverse();
      notes.push('reversed');
    } else {
      // Every SYN, or every packet of one direction, gone.
      const port = r.pick([20, 21]);
      recs = recs.filter((x) => {
        const ip = ipOffsets(x.data, etherL3(x.data));
        if (ip === null || x.data.length < ip.l4 + 20) return true;
        return r.chance(0.5) ? !(x.data[ip.l4 + 13]! & SYN) : x.data.readUInt16BE(ip.l4) !== port;
      });
      notes.push('SYNs or one side dropped');
    }
    if (recs.length === 0) recs.push({ sec: 0, nsec: 0, data: Buffer.alloc(0), orig: 0 });
  }
  // The link layer: as captured (Ethernet), or the IP packets in another one.
  let linktype = first.linktype;
  if (first.linktype === 1 && r.chance(0.25)) {
    const link = r.pick(RELINK);
    linktype = link.linktype;
    recs = recs.map((x) => {
      const l3 = etherL3(x.data);
      const ip = x.data.subarray(Math.min(l3, x.data.length));
      const v6 = ip.length > 0 && ip[0]! >> 4 === 6;
      if (link.linktype === 228 && v6) return { ...x, data: ip };
      const data = link.wrap(ip, v6);
      return { ...x, data, orig: Math.max(x.orig - (x.data.length - data.length), data.length) };
    });
    notes.push(`link ${link.name}`);
  } else if (r.chance(0.03)) {
    linktype = r.pick(LINKTYPES);
    notes.push(`link type ${linktype}`);
  }
  const nanosecond = r.chance(0.3);
  const w = new PcapWriter({ endian: r.chance(0.7) ? 'le' : 'be', nanosecond, linktype, snaplen: r.chance(0.1) ? r.pick([0, 14, 54, 60, 96, 128]) : 262144 });
  for (const x of recs) w.add(x.sec >>> 0, nanosecond ? x.nsec : Math.floor(x.nsec / 1000), x.data, Math.min(0xffffffff, Math.max(x.orig, x.data.length)));
  return w.toBuffer();
}

// ---------------------------------------------------------------------------
// Level 3: FTP streams
// ---------------------------------------------------------------------------

const VERBS = [
  'USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'XCWD', 'PWD', 'XPWD', 'TYPE', 'MODE', 'STRU', 'PASV', 'EPSV', 'LPSV', 'PORT', 'EPRT', 'LPRT',
  'RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD', 'MLST', 'REST', 'SIZE', 'MDTM', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'MIC', 'CONF',
  'ENC', 'SITE', 'SYST', 'FEAT', 'OPTS', 'HELP', 'NOOP', 'STAT', 'ABOR', 'QUIT', 'RNFR', 'RNTO', 'DELE', 'RMD', 'MKD', 'HOST', 'ALLO', 'REIN',
];
const CODES = [110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 228, 229, 230, 234, 250, 257, 331, 332, 350, 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 530, 532, 550, 551, 552, 553];
/** Text that must never reach a terminal raw. As strings: written as UTF-8 (C1 as two bytes) or as Latin-1 (one byte). */
const NASTY = [
  '\u001b[31m', '\u001b[2J', '\u001b]0;pwned\u0007', '\u001b[6n', '\u001bP+q\u001b\\', '\u009b31m', '\u0085', '\u009d', '\u2028', '\u2029', '\u202e',
  '\u0000', '\u0007', '\u0008', '\u007f', '\r', '\t', '\u000b', '\u000c', '\u200b', '\u0301', '\u4e2d\u6587', '\ud83d\ude00', '\ufeff',
];
const NUMBERS = ['0', '1', '255', '256', '-1', '65535', '65536', '99999999999999999999', '1e9', '0x10', '007', ' 12', 'NaN', 'Infinity', '4294967296', '18446744073709551616', '-0', '+5', '', '1.5', '９'];
const LINE_ENDS = ['\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r', '', '\r\r\n', '\n\r'];
const IAC_SEQS = [[0xff, 0xf4], [0xff, 0xf2], [0xff, 0xff], [0xff, 0xfb, 0x01], [0xff, 0xfd], [0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0], [0xff, 0xfa, 0x18, 0x01, 0x02], [0xff], [0xff, 0xf0], [0xff, 0xfe]];

type Piece = string | Buffer;

function toBytes(p: Piece, latin1: boolean): Buffer {
  return typeof p === 'string' ? Buffer.from(p, latin1 ? 'latin1' : 'utf8') : p;
}

/** A few pieces of hostile text: escapes, control bytes, IAC, invalid UTF-8, wide characters, long runs. */
function hostile(r: Rng, maxLen = 200): Buffer {
  const parts: Buffer[] = [];
  const latin1 = r.chance(0.3);
  for (let n = r.int(1, 5); n > 0; n--) {
    const what = r.int(0, 9);
    if (what <= 2) parts.push(toBytes(r.pick(NASTY), latin1 && r.chance(0.5)));
    else if (what === 3) parts.push(Buffer.from(r.pick(IAC_SEQS)));
    else if (what === 4) parts.push(r.bytes(r.int(1, 16)));
    else if (what === 5) parts.push(Buffer.from(r.pick(['\xc3\x28', '\xe2\x82', '\xf0\x9f\x98', '\xed\xa0\x80', '\xc0\xaf', '\xff\xfe']), 'latin1'));
    else if (what === 6) parts.push(Buffer.alloc(r.size(maxLen), r.pick(['A', '/', '.', ' ', '%', '\u00e9'.charCodeAt(0)])));
    else if (what === 7) parts.push(Buffer.from(r.pick(NUMBERS)));
    else parts.push(Buffer.from(r.pick(['file.txt', 'a b', '"quoted"', '%s%n%x', '${jndi:x}', '<script>', 'C:\\Windows', '~/.ssh/id_rsa', '*', '-la'])));
  }
  return Buffer.concat(parts);
}

function numberish(r: Rng): string {
  return r.chance(0.6) ? String(r.int(0, 300)) : r.pick(NUMBERS);
}

function traversal(r: Rng): string {
  return r.pick([
    '../../../../etc/passwd', '/../../..', '..', '../'.repeat(r.int(10, 2000)), `${'a/'.repeat(r.int(100, 3000))}x`, `/${'x'.repeat(r.int(256, 20000))}`,
    '.\\..\\..\\boot.ini', '/./././.', '//', '/%2e%2e/%2e%2e', `${'/'.repeat(r.int(2, 500))}`, '~', '\u0000/etc', 'dir/../../../../root',
  ]);
}

/** Arguments of PORT, LPRT; the text of 227, 228 replies. */
function numberList(r: Rng, n: number): string {
  const count = r.chance(0.7) ? n : r.int(0, n + 3);
  const sep = r.pick([',', ',', ',', ', ', '.', ' ', ',,']);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(r.chance(0.7) ? String(r.int(0, 255)) : numberish(r));
  return out.join(sep);
}

function eprtArg(r: Rng, v6: boolean, host: string, port: number): string {
  const d = r.chance(0.8) ? '|' : r.pick(['!', '#', '\u0000', ' ', '||', '']);
  const proto = r.chance(0.7) ? (v6 ? '2' : '1') : r.pick(['0', '3', '9', '', '-1', '11']);
  const addr = r.chance(0.6) ? host : r.pick(['::1', '::ffff:10.0.0.1', '1.2.3', '256.1.1.1', 'fe80::1%eth0', 'x', '', '1:2:3:4:5:6:7:8:9', '10.0.0.1\u0000', hostile(r, 20).toString('latin1')]);
  const p = r.chance(0.6) ? String(port) : numberish(r);
  return r.chance(0.9) ? `${d}${proto}${d}${addr}${d}${p}${d}` : `${d}${proto}${d}${addr}`;
}

interface Scene {
  r: Rng;
  v6: boolean;
  client: Endpoint;
  server: Endpoint;
  ctrl: TcpConversation;
  /** Frames in the order they happen (re-timed at the end). */
  out: Frame[];
  taken: Map<TcpConversation, number>;
  /** Data ports announced so far (those we can open a connection to). */
  ports: Array<{ active: boolean; port: number }>;
  seg: 'whole' | 'tiny' | 'random' | 'line';
  /** Bytes already sent, to keep a case within its size budget. */
  sent: number;
}

/** Moves the frames a conversation made since last time to the scene's output. */
function flush(s: Scene, conv: TcpConversation): void {
  const from = s.taken.get(conv) ?? 0;
  for (let i = from; i < conv.frames.length; i++) s.out.push(conv.frames[i]!);
  s.taken.set(conv, conv.frames.length);
}

/** Sends bytes from one side, cut into segments as the scene's segmentation says. */
function send(s: Scene, conv: TcpConversation, fromClient: boolean, bytes: Buffer, mode = s.seg): void {
  const r = s.r;
  s.sent += bytes.length;
  // TcpConversation numbers IP ids without wrapping at 65536: stay well under 65,536 segments per side.
  if (bytes.length === 0 || conv.frames.length > 30_000) return;
  if (mode === 'tiny' && bytes.length > 4000) mode = 'random';
  if (mode === 'whole' || mode === 'line') {
    conv.send(fromClient, bytes, { noAck: r.chance(0.3), segmentSize: r.pick([1448, 1448, 536, 8960]) });
  } else {
    for (let at = 0; at < bytes.length; ) {
      const n = mode === 'tiny' ? r.int(1, 7) : r.int(1, 1460);
      conv.segment(fromClient, ACK | PSH, bytes.subarray(at, at + n));
      at += n;
      if (r.chance(0.2)) conv.segment(!fromClient, ACK);
    }
  }
  flush(s, conv);
}

function line(s: Scene, text: Piece, latin1 = false): Buffer {
  return Buffer.concat([toBytes(text, latin1), Buffer.from(s.r.chance(0.9) ? '\r\n' : s.r.pick(LINE_ENDS))]);
}

function cmd(s: Scene, text: Piece): void {
  send(s, s.ctrl, true, line(s, text, s.r.chance(0.3)));
}

function reply(s: Scene, text: Piece): void {
  send(s, s.ctrl, false, line(s, text, s.r.chance(0.3)));
}

/** A data connection for an announced port (or a random one), carrying some bytes one way. */
function dataConnection(s: Scene, active: boolean, port: number, upload: boolean): void {
  const r = s.r;
  const p = port & 0xffff;
  const client = active ? { ip: s.server.ip, port: r.chance(0.8) ? 20 : r.int(1, 65535) } : { ip: s.client.ip, port: r.int(1024, 65535) };
  const server = active ? { ip: r.chance(0.95) ? s.client.ip : s.v6 ? 'fd00::99' : '10.9.9.9', port: p } : { ip: s.server.ip, port: p };
  const conv = new TcpConversation({ client, server, isnClient: r.u32(), isnServer: r.u32(), mss: r.pick([1448, 536, 100]) });
  const fromClient = active ? !upload : upload;
  if (r.chance(0.9)) conv.handshake();
  else if (r.chance(0.5)) conv.segment(true, SYN);
  flush(s, conv);
  const size = Math.min(r.size(r.chance(0.1) ? 200_000 : 20_000), Math.max(0, 1_500_000 - s.sent));
  const data = r.chance(0.5) ? r.bytes(size) : Buffer.alloc(size, r.pick([0x41, 0x0a, 0x00, 0x1b]));
  send(s, conv, fromClient, data, r.pick(['whole', 'whole', 'random']));
  if (r.chance(0.05)) send(s, conv, !fromClient, r.bytes(r.int(1, 100)), 'whole');
  const end = r.int(0, 9);
  if (end < 7) conv.close(fromClient);
  else if (end < 9) conv.reset(r.chance(0.5));
  flush(s, conv);
}

/** The data port of a prediction just announced, when the scene should open a connection to it. */
function maybeData(s: Scene, active: boolean, port: number, p = 0.5): void {
  s.ports.push({ active, port });
  if (s.r.chance(p)) dataConnection(s, active, port, s.r.chance(0.3));
}

function hostV4(r: Rng, real: string): string {
  return r.chance(0.7) ? real.split('.').join(',') : numberList(r, 4);
}

type Episode = (s: Scene) => void;

const EPISODES: Array<[weight: number, name: string, run: Episode]> = [
  [14, 'session', (s) => {
    // An ordinary session with hostile arguments here and there.
    const r = s.r;
    const arg = () => (r.chance(0.3) ? hostile(r) : Buffer.from(r.pick(['alice', 'anonymous', 'ftp@example.com', '/pub', 'file.bin', 'I'])));
    cmd(s, Buffer.concat([Buffer.from('USER '), arg()]));
    reply(s, `331 Password required`);
    cmd(s, Buffer.concat([Buffer.from('PASS '), arg()]));
    reply(s, r.chance(0.8) ? '230 Login successful.' : '530 Login incorrect.');
    for (let n = r.int(1, 8); n > 0; n--) {
      const what = r.int(0, 7);
      if (what <= 1) {
        cmd(s, 'PASV');
        const port = r.int(1024, 65535);
        const a = s.v6 ? '10,0,0,2' : hostV4(r, s.server.ip);
        reply(s, `227 Entering Passive Mode (${a},${port >> 8},${port & 255}).`);
        s.ports.push({ active: false, port });
      } else if (what === 2) {
        cmd(s, 'EPSV');
        const port = r.int(1024, 65535);
        reply(s, `229 Entering Extended Passive Mode (|||${port}|)`);
        s.ports.push({ active: false, port });
      } else if (what === 3) {
        const port = r.int(1024, 65535);
        cmd(s, s.v6 ? `EPRT |2|${s.client.ip}|${port}|` : `PORT ${hostV4(r, s.client.ip)},${port >> 8},${port & 255}`);
        reply(s, '200 PORT command successful.');
        s.ports.push({ active: true, port });
      } else if (what <= 5 && s.ports.length > 0) {
        const p = s.ports[s.ports.length - 1]!;
        const upload = r.chance(0.3);
        cmd(s, Buffer.concat([Buffer.from(upload ? 'STOR ' : r.pick(['RETR ', 'LIST ', 'NLST ', 'MLSD '])), r.chance(0.5) ? Buffer.from(traversal(r)) : arg()]));
        reply(s, r.chance(0.8) ? `150 Opening BINARY mode data connection (${r.pick(['1234', '99999999999999999999', '-5', 'x'])} bytes).` : '425 Cannot open data connection.');
        if (r.chance(0.8)) dataConnection(s, p.active, p.port, upload);
        reply(s, r.pick(['226 Transfer complete.', '226 Transfer complete.', '426 Connection closed; transfer aborted.', '451 Error', '552 No room']));
      } else {
        const c = r.pick(['CWD', 'PWD', 'SIZE', 'MDTM', 'REST', 'TYPE', 'SITE', 'DELE', 'MKD', 'RNFR', 'HELP', 'FEAT', 'NOOP', 'STAT']);
        cmd(s, Buffer.concat([Buffer.from(`${c} `), c === 'REST' || c === 'SIZE' ? Buffer.from(numberish(r)) : r.chance(0.5) ? Buffer.from(traversal(r)) : arg()]));
        if (c === 'PWD') reply(s, r.pick(['257 "/"', '257 "/a""b" is current', '257 "unterminated', '257 ', '257 "C:\\dir"', `257 "${traversal(r)}"`, Buffer.concat([Buffer.from('257 "'), hostile(r), Buffer.from('"')])]));
        else if (c === 'SIZE') reply(s, `213 ${numberish(r)}`);
        else if (c === 'REST') reply(s, `350 Restarting at ${numberish(r)}`);
        else reply(s, Buffer.concat([Buffer.from(`${r.pick(CODES)} `), r.chance(0.4) ? hostile(r) : Buffer.from('OK')]));
      }
    }
  }],
  [10, 'hostile lines', (s) => {
    const r = s.r;
    for (let n = r.int(3, 40); n > 0; n--) {
      if (r.chance(0.5)) cmd(s, Buffer.concat([Buffer.from(r.chance(0.7) ? `${r.pick(VERBS)} ` : ''), hostile(r)]));
      else reply(s, Buffer.concat([Buffer.from(r.chance(0.7) ? `${r.pick(CODES)}${r.pick([' ', ' ', '-'])}` : ''), hostile(r)]));
    }
  }],
  [6, 'long lines', (s) => {
    const r = s.r;
    for (let n = r.int(1, 4); n > 0; n--) {
      const len = r.pick([4095, 4096, 4097, 8192, r.int(5000, 200_000)]);
      const body = Buffer.alloc(len, r.pick([0x41, 0x20, 0x2f, 0xff, 0x00, 0x1b]));
      if (r.chance(0.5)) send(s, s.ctrl, true, Buffer.concat([Buffer.from(`${r.pick(VERBS)} `), body, Buffer.from(r.pick(LINE_ENDS))]));
      else send(s, s.ctrl, false, Buffer.concat([Buffer.from(`${r.pick(CODES)}${r.pick([' ', '-'])}`), body, Buffer.from(r.pick(LINE_ENDS))]));
    }
  }],
  [3, 'no line end', (s) => {
    // A stream that never ends a line, then the connection ends.
    const r = s.r;
    const body = r.chance(0.5) ? r.bytes(r.size(150_000)).map((c) => (c === 0x0a ? 0x20 : c)) : Buffer.alloc(r.size(150_000), 0x41);
    send(s, s.ctrl, r.chance(0.5), Buffer.from(body));
  }],
  [5, 'telnet', (s) => {
    const r = s.r;
    for (let n = r.int(1, 12); n > 0; n--) {
      const parts: Buffer[] = [Buffer.from(r.chance(0.5) ? `${r.pick(VERBS)} ` : `${r.pick(CODES)} `)];
      for (let k = r.int(1, 30); k > 0; k--) parts.push(r.chance(0.6) ? Buffer.from(r.pick(IAC_SEQS)) : Buffer.from(r.pick(['a', 'b', '\r', ' ', '1'])));
      send(s, s.ctrl, r.chance(0.5), Buffer.concat([...parts, Buffer.from(r.pick(LINE_ENDS))]));
    }
  }],
  [6, 'reply codes', (s) => {
    const r = s.r;
    for (let n = r.int(2, 30); n > 0; n--) {
      if (r.chance(0.3)) cmd(s, r.pick(VERBS));
      const code = r.pick([
        String(r.int(0, 999)).padStart(3, '0'), '000', '099', '700', '999', '1000', '99999999999999999999', '12', '2x0', '-200', ' 200', '٢٠٠', '200\u0000', '２００', '',
      ]);
      reply(s, Buffer.concat([Buffer.from(`${code}${r.pick([' ', '-', '', '\t'])}`), r.chance(0.5) ? hostile(r) : Buffer.from('text')]));
    }
  }],
  [6, 'endless multi-line reply', (s) => {
    const r = s.r;
    const code = r.pick(CODES);
    if (r.chance(0.5)) cmd(s, r.pick(['FEAT', 'HELP', 'STAT', 'LIST']));
    const lines: Buffer[] = [Buffer.from(`${code}-Start\r\n`)];
    for (let n = r.pick([10, 999, 1000, 1001, r.int(1, 3000)]); n > 0; n--) {
      const what = r.int(0, 9);
      if (what === 0) lines.push(Buffer.from(`${code}-nested\r\n`));
      else if (what === 1) lines.push(Buffer.from(`${r.pick(CODES)} not the end\r\n`));
      else if (what === 2) lines.push(Buffer.concat([hostile(r, 40), Buffer.from('\r\n')]));
      else lines.push(Buffer.from(` line ${n}\r\n`));
    }
    if (r.chance(0.4)) lines.push(Buffer.from(`${code} End\r\n`));
    send(s, s.ctrl, false, Buffer.concat(lines), r.chance(0.7) ? 'whole' : s.seg);
    if (r.chance(0.5)) {
      cmd(s, 'NOOP');
      reply(s, '200 NOOP ok');
    }
  }],
  [10, 'addresses', (s) => {
    // PORT, EPRT, LPRT and 227, 228, 229 with malformed and out-of-range numbers.
    const r = s.r;
    for (let n = r.int(1, 10); n > 0; n--) {
      const port = r.chance(0.7) ? r.int(1, 65535) : r.pick([0, 65535, 65536, 70000, -1, 2 ** 32]);
      const what = r.int(0, 5);
      const host = s.client.ip;
      if (what === 0) {
        const nums = r.chance(0.5) ? `${hostV4(r, s.v6 ? '10.0.0.1' : s.client.ip)},${Math.floor(port / 256)},${port & 255}` : numberList(r, 6);
        cmd(s, `PORT ${nums}`);
        reply(s, r.chance(0.8) ? '200 PORT command successful.' : '500 Illegal PORT command.');
        maybeData(s, true, port);
      } else if (what === 1) {
        cmd(s, `EPRT ${eprtArg(r, s.v6, host, port)}`);
        reply(s, r.chance(0.8) ? '200 EPRT command successful.' : '522 Network protocol not supported');
        maybeData(s, true, port);
      } else if (what === 2) {
        cmd(s, `LPRT ${r.chance(0.5) ? `4,4,${hostV4(r, s.v6 ? '10.0.0.1' : s.client.ip)},2,${Math.floor(port / 256)},${port & 255}` : `6,16,${numberList(r, 16)},2,${numberList(r, 2)}`}`);
        reply(s, '200 LPRT ok');
        maybeData(s, true, port);
      } else if (what === 3) {
        cmd(s, 'PASV');
        const text = r.chance(0.5) ? `${hostV4(r, s.v6 ? '10.0.0.2' : s.server.ip)},${Math.floor(port / 256)},${port & 255}` : numberList(r, 6);
        reply(s, r.pick([`227 Entering Passive Mode (${text}).`, `227 =${text}`, `227 ${text}`, `227 Entering Passive Mode (${text}`, '227 Entering Passive Mode', `227 (${text}) (${numberList(r, 6)})`]));
        maybeData(s, false, port);
      } else if (what === 4) {
        cmd(s, 'EPSV');
        const p = r.chance(0.6) ? String(port) : numberish(r);
        reply(s, r.pick([`229 Entering Extended Passive Mode (|||${p}|)`, `229 (|||${p}|)`, `229 (!!!${p}!)`, `229 (||${p}|)`, `229 (|1|10.0.0.1|${p}|)`, `229 |||${p}|`, '229 Extended', `229 (|||${p}|) (|||${numberish(r)}|)`, `229 (\u0000\u0000\u0000${p}\u0000)`]));
        maybeData(s, false, port);
      } else {
        cmd(s, 'LPSV');
        reply(s, `228 Entering Long Passive Mode (${r.chance(0.5) ? `4,4,${hostV4(r, s.v6 ? '10.0.0.2' : s.server.ip)},2,${Math.floor(port / 256)},${port & 255}` : numberList(r, 9)})`);
        maybeData(s, false, port);
      }
      if (r.chance(0.5)) {
        cmd(s, `${r.pick(['RETR', 'STOR', 'LIST', 'NLST', 'APPE', 'STOU', 'MLSD'])} ${r.chance(0.3) ? traversal(r) : 'f'}`);
        reply(s, r.pick(['150 Here it comes.', '125 Data connection already open', '425 No data connection', '550 No such file']));
        if (r.chance(0.6)) reply(s, r.pick(['226 Done', '426 Aborted', '250 OK', '451 Local error']));
      }
    }
  }],
  [3, 'pipelined commands', (s) => {
    // Thousands of commands without waiting, then some replies (fewer, more, or none).
    const r = s.r;
    const n = r.int(1000, 4000);
    const cmds: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const v = r.pick(VERBS);
      cmds.push(Buffer.from(`${v}${r.chance(0.5) ? ` ${v === 'PORT' ? numberList(r, 6) : v === 'REST' ? numberish(r) : `f${i}`}` : ''}\r\n`));
    }
    send(s, s.ctrl, true, Buffer.concat(cmds), 'whole');
    const replies: Buffer[] = [];
    for (let i = r.int(0, n + 100); i > 0; i--) replies.push(Buffer.from(`${r.pick(CODES)} r${i}\r\n`));
    send(s, s.ctrl, false, Buffer.concat(replies), 'whole');
  }],
  [3, 'passive flood', (s) => {
    // Thousands of PASV (or EPSV) answered, each a new port; a few are used.
    const r = s.r;
    const n = r.int(500, 3000);
    const epsv = r.chance(0.3);
    const c: Buffer[] = [];
    const rep: Buffer[] = [];
    const a = s.v6 ? '10,0,0,2' : s.server.ip.split('.').join(',');
    for (let i = 0; i < n; i++) {
      const port = 1024 + ((i * 7919) % 64000);
      c.push(Buffer.from(epsv ? 'EPSV\r\n' : 'PASV\r\n'));
      rep.push(Buffer.from(epsv ? `229 Entering Extended Passive Mode (|||${port}|)\r\n` : `227 Entering Passive Mode (${a},${port >> 8},${port & 255})\r\n`));
      s.ports.push({ active: false, port });
    }
    if (r.chance(0.5)) {
      send(s, s.ctrl, true, Buffer.concat(c), 'whole');
      send(s, s.ctrl, false, Buffer.concat(rep), 'whole');
    } else {
      for (let i = 0; i < n; i += 50) {
        send(s, s.ctrl, true, Buffer.concat(c.slice(i, i + 50)), 'whole');
        send(s, s.ctrl, false, Buffer.concat(rep.slice(i, i + 50)), 'whole');
      }
    }
    for (let k = r.int(0, 5); k > 0; k--) {
      const p = r.pick(s.ports);
      cmd(s, 'RETR x');
      dataConnection(s, p.active, p.port, false);
      reply(s, '226 ok');
    }
  }],
  [5, 'paths', (s) => {
    const r = s.r;
    for (let n = r.int(1, 12); n > 0; n--) {
      const v = r.pick(['CWD', 'CWD', 'RETR', 'STOR', 'DELE', 'MKD', 'RMD', 'SIZE', 'RNFR', 'RNTO', 'XCWD', 'CDUP', 'LIST']);
      cmd(s, `${v} ${traversal(r)}`);
      reply(s, r.pick(['250 OK', '250 OK', '550 No', '257 "/x"', '226 ok', '150 go', '213 12']));
      if (r.chance(0.3)) {
        cmd(s, 'PWD');
        reply(s, `257 "${r.chance(0.5) ? traversal(r) : '/'}" is the current directory`);
      }
    }
  }],
  [4, 'auth tls then garbage', (s) => {
    const r = s.r;
    cmd(s, r.pick(['AUTH TLS', 'AUTH SSL', 'AUTH tls-c', 'AUTH']));
    reply(s, r.chance(0.8) ? '234 Proceed with negotiation.' : '534 No');
    for (let n = r.int(1, 10); n > 0; n--) {
      const tls = Buffer.concat([Buffer.from([0x16, 0x03, r.int(0, 4), 0, 0]), r.bytes(r.size(3000))]);
      send(s, s.ctrl, r.chance(0.5), r.chance(0.7) ? tls : r.bytes(r.size(3000)));
    }
    if (r.chance(0.3)) {
      cmd(s, 'PASV');
      reply(s, '227 Entering Passive Mode (10,0,0,2,200,10).');
    }
    if (r.chance(0.5)) dataConnection(s, false, r.int(1024, 65535), r.chance(0.5));
  }],
  [4, 'protected commands', (s) => {
    const r = s.r;
    for (let n = r.int(1, 6); n > 0; n--) {
      cmd(s, `${r.pick(['MIC', 'CONF', 'ENC', 'PBSZ', 'PROT', 'CCC', 'ADAT'])} ${r.chance(0.5) ? r.bytes(r.size(200)).toString('base64') : hostile(r).toString('latin1')}`);
      reply(s, `${r.pick([631, 632, 633, 200, 534, 535, 536, 235, 335])} ${r.bytes(r.size(100)).toString('base64')}`);
    }
  }],
  [4, 'roles confused', (s) => {
    // Replies before the greeting, the server sending commands, the client sending replies.
    const r = s.r;
    for (let n = r.int(2, 15); n > 0; n--) {
      if (r.chance(0.5)) send(s, s.ctrl, false, line(s, `${r.pick(VERBS)} ${r.chance(0.5) ? 'x' : ''}`));
      else send(s, s.ctrl, true, line(s, `${r.pick(CODES)}${r.pick([' ', '-'])}reply from the client`));
    }
  }],
  [3, 'raw garbage', (s) => {
    const r = s.r;
    for (let n = r.int(1, 6); n > 0; n--) send(s, s.ctrl, r.chance(0.5), r.bytes(r.size(5000)));
  }],
];

const EPISODE_TOTAL = EPISODES.reduce((a, [w]) => a + w, 0);

function pickEpisode(r: Rng): [number, string, Episode] {
  let x = r.float() * EPISODE_TOTAL;
  for (const e of EPISODES) {
    x -= e[0];
    if (x < 0) return e;
  }
  return EPISODES[0]!;
}

function ftpCase(r: Rng, notes: string[]): Buffer {
  const v6 = r.chance(0.2);
  const client: Endpoint = { ip: v6 ? 'fd00::1' : '10.0.0.1', port: r.int(1024, 65535) };
  const sniffed = r.chance(0.12);
  const server: Endpoint = { ip: v6 ? 'fd00::2' : '10.0.0.2', port: sniffed ? r.pick([2121, 8021, 990, 20, 80]) : 21 };
  const isn = () => (r.chance(0.3) ? (0x100000000 - r.int(1, 5000)) >>> 0 : r.u32());
  const ctrl = new TcpConversation({ client, server, isnClient: isn(), isnServer: isn(), mss: r.pick([1448, 536, 64]) });
  const s: Scene = { r, v6, client, server, ctrl, out: [], taken: new Map(), ports: [], seg: r.pick(['whole', 'whole', 'line', 'tiny', 'random']), sent: 0 };
  notes.push(`${v6 ? 'IPv6' : 'IPv4'} server port ${server.port}, segments ${s.seg}`);
  if (r.chance(0.9)) ctrl.handshake();
  flush(s, ctrl);
  if (r.chance(0.85)) {
    reply(s, r.chance(0.8) ? '220 (vsFTPd 3.0.3)' : r.pick(['220-Welcome\r\n220-to\r\n220 here', '120 wait', '421 Too many users', Buffer.concat([Buffer.from('220 '), hostile(r)])]));
  }
  const episodes = r.int(1, 4);
  const names: string[] = [];
  for (let i = 0; i < episodes && s.sent < 1_000_000; i++) {
    const [, name, run] = pickEpisode(r);
    names.push(name);
    run(s);
  }
  notes.push(names.join(' + '));
  if (r.chance(0.5)) {
    cmd(s, 'QUIT');
    reply(s, '221 Goodbye.');
  }
  const end = r.int(0, 9);
  if (end < 6) ctrl.close(r.chance(0.7));
  else if (end < 8) ctrl.reset(r.chance(0.5));
  flush(s, ctrl);
  // A few frames lost, repeated or reordered, as on a real capture point.
  let frames = s.out;
  if (r.chance(0.25)) {
    frames = frames.slice();
    for (let k = r.int(1, 5); k > 0 && frames.length > 2; k--) {
      const i = r.int(0, frames.length - 1);
      const op = r.int(0, 3);
      if (op === 0) frames.splice(i, 1);
      else if (op === 1) frames.splice(i, 0, frames[i]!);
      else if (op === 2 && i + 1 < frames.length) [frames[i], frames[i + 1]] = [frames[i + 1]!, frames[i]!];
      else {
        const rec: Rec = { sec: 0, nsec: 0, data: Buffer.from(frames[i]!.data), orig: 0 };
        mutatePacket(r, rec, 0);
        frames.splice(i, 0, { ...frames[i]!, data: rec.data });
      }
    }
    notes.push('frames lost/repeated/reordered');
  }
  // Times: steady, with a pause now and then (an idle timeout may fire), sometimes backwards.
  let t = 1_700_000_000 * 1e9 + r.int(0, 1e9);
  const step = r.pick([1e3, 1e6, 20e6]);
  const out: Frame[] = frames.map((f) => {
    t += r.chance(0.002) ? r.pick([301e9, 1000e9, -5e9]) : r.int(0, step);
    return { ...f, tsSec: Math.floor(t / 1e9), tsNsec: Math.floor(t % 1e9) };
  });
  const link = r.pick<FrameLink>(['raw', 'ethernet', 'ethernet', 'sll', 'sll2', 'null', 'loop']);
  return framesToPcap(out, link, { nanosecond: r.chance(0.3), endian: r.chance(0.8) ? 'le' : 'be' });
}

// ---------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------

export type FailureKind = 'crash' | 'hang' | 'memory' | 'control-characters';

export interface Failure {
  kind: FailureKind;
  /** Where: the stage or output (openCapture, analyze, result, view-ladder, zeek, json, cli...). */
  where: string;
  message: string;
  stack?: string;
  /** For control characters: which, and the line of output around the first one. */
  detail?: string;
}

/** How a case is run: everything derived from its seed, so that a regression file replays as it failed. */
export interface RunConfig {
  /** Sizes of the chunks the input stream hands over (0: the whole file at once). */
  chunk: number;
  view: ViewOptions;
  ports: number[];
  sniff: boolean;
  ftpLimits: FtpLimits;
  analyze: AnalyzeOptions;
  maxPackets: number;
  /** Also run the CLI's main() on the bytes as standard input, with these arguments. */
  cli: string[] | null;
}

export function runConfig(seed: number): RunConfig {
  const r = new Rng((seed ^ 0x5bd1e995) >>> 0);
  const tight = r.chance(0.25);
  const ftpLimits: FtpLimits = tight
    ? {
        ...DEFAULT_FTP_LIMITS,
        maxLineLength: r.pick([1, 16, 100, 4096]),
        maxPendingCommands: r.pick([1, 2, 20]),
        maxReplyLines: r.pick([1, 3, 1000]),
        maxPredictionsPerSession: r.pick([1, 2, 100]),
        maxPredictions: r.pick([1, 3, 10000]),
        predictionTimeoutSec: r.pick([0.001, 1, 300]),
        maxExchanges: r.pick([1, 10, 100000]),
      }
    : DEFAULT_FTP_LIMITS;
  const ports = r.chance(0.2) ? [21, 2121, 8021] : [21];
  const analyzeOptions: AnalyzeOptions = {
    ...DEFAULT_ANALYZE_OPTIONS,
    serverPorts: new Set(ports),
    connections: tight ? { ...DEFAULT_CONNECTION_LIMITS, idleTimeoutSec: r.pick([0.001, 1, 900]), maxConnections: r.pick([1, 2, 1_000_000]) } : DEFAULT_CONNECTION_LIMITS,
    reassembly: tight
      ? { ...DEFAULT_REASSEMBLY_LIMITS, maxBufferedPerDirection: r.pick([1, 1024, 4 << 20]), maxBufferedTotal: r.pick([1, 4096, 128 << 20]), maxSegmentsPerDirection: r.pick([1, 4, 4096]), retransmitWindow: r.pick([0, 1, 2048]) }
      : DEFAULT_REASSEMBLY_LIMITS,
    fragments: tight ? { maxDatagrams: r.pick([1, 4096]), maxBytes: r.pick([1, 16 << 20]), timeoutSec: r.pick([0.001, 60]) } : DEFAULT_FRAGMENT_LIMITS,
  };
  const view: ViewOptions = {
    color: false,
    width: r.pick([40, 80, 80, 80, 132, 250]),
    lang: r.chance(0.3) ? 'zh' : 'en',
    detail: r.chance(0.3) ? 'packets' : 'summary',
    showPasswords: r.chance(0.3),
  };
  let cli: string[] | null = null;
  if (r.chance(0.1)) {
    cli = ['-', '--color', 'never', '--format', r.pick(['text', 'text', 'json', 'ndjson', 'zeek']), '--view', 'timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'];
    if (r.chance(0.3)) cli.push('--session', r.pick(['1', '2', '10.0.0.1:21', 'fd00::2:21']));
    if (r.chance(0.2)) cli.push('--host', r.pick(['10.0.0.1', 'fd00::1', '10.21.0.2']));
    if (r.chance(0.2)) cli.push('--time-from', r.pick(['+0.5', '0', '2023-11-14T22:13:20Z']), '--time-to', r.pick(['+1', '9999999999']));
    if (view.lang === 'zh') cli.push('--lang', 'zh');
    if (view.detail === 'packets') cli.push('--detail', 'packets');
    if (view.showPasswords) cli.push('--show-passwords');
    if (r.chance(0.3)) cli.push('--max-line-length', String(r.pick([1, 10, 100])), '--max-pending-commands', String(r.pick([1, 3])));
    cli.push('--width', String(Math.max(40, view.width)));
  }
  return {
    chunk: r.pick([0, 0, 0, 1, 7, 24, 100, 4096, 65536]),
    view,
    ports,
    sniff: r.chance(0.9),
    ftpLimits,
    analyze: analyzeOptions,
    maxPackets: tight ? r.pick([1, 10, 1_000_000]) : DEFAULT_PACKET_LOG_LIMITS.maxPackets,
    cli,
  };
}

/** The bytes as a stream handing them over in chunks of `size` (0: all at once), as stdin or a pipe would. */
function chunked(bytes: Buffer, size: number): Readable {
  if (size <= 0 || bytes.length === 0) return Readable.from([bytes]);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

/**
 * JSON as ftpscope writes it (--format json, ndjson): through the CLI's serialiser when it has one (safeJson,
 * which escapes what JSON.stringify leaves raw: DEL, C1, U+2028/9), else JSON.stringify, as it was at first.
 */
const toJson: (value: unknown, indent?: number) => string =
  ((cli as Record<string, unknown>)['safeJson'] as ((value: unknown, indent?: number) => string) | undefined) ??
  ((value, indent) => JSON.stringify(value, null, indent));

/** Raw control characters: C0 but \n (and \t where allowed), DEL, C1. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_TAB = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function controlFailure(where: string, text: string, allowTab: boolean): Failure | null {
  const re = allowTab ? CONTROL_BUT_TAB : CONTROL;
  re.lastIndex = 0;
  const m = re.exec(text);
  if (m === null) return null;
  const classes = new Set<string>();
  let count = 0;
  re.lastIndex = 0;
  for (let x = re.exec(text); x !== null; x = re.exec(text)) {
    const c = x[0].charCodeAt(0);
    classes.add(c < 0x20 ? 'C0' : c === 0x7f ? 'DEL' : 'C1');
    count++;
  }
  const start = text.lastIndexOf('\n', m.index) + 1;
  const endAt = text.indexOf('\n', m.index);
  const lineText = text.slice(Math.max(start, m.index - 120), endAt < 0 ? m.index + 80 : Math.min(endAt, m.index + 80));
  const code = m[0].charCodeAt(0).toString(16).padStart(4, '0');
  return {
    kind: 'control-characters',
    where,
    message: `${count} raw control character${count === 1 ? '' : 's'} (${[...classes].sort().join(', ')}), the first U+${code} at offset ${m.index}`,
    detail: `in: ${JSON.stringify(lineText).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`,
  };
}

function crash(where: string, e: unknown): Failure {
  if (e instanceof Error) return { kind: 'crash', where, message: `${e.name}: ${e.message}`, stack: e.stack ?? '' };
  return { kind: 'crash', where, message: `thrown: ${String(e)}` };
}

export interface CaseStats {
  records: number;
  sessions: number;
  /** Characters of output in all. */
  output: number;
  ms: number;
  /** heapUsed + external (ArrayBuffers and Buffers) of this thread after the case, everything still held. */
  memory: number;
}

export interface CaseOutcome {
  failures: Failure[];
  stats: CaseStats;
}

class Sink extends Writable {
  text = '';
  constructor() {
    super({ highWaterMark: 1 << 30 });
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

/**
 * Analyses one input in-process and renders every output; never throws. `seed` chooses the run
 * configuration (chunking, limits, view options, CLI arguments): see runConfig.
 */
export async function runCase(bytes: Buffer, name: string, seed: number, onStage?: (stage: string) => void): Promise<CaseOutcome> {
  const began = performance.now();
  const cfg = runConfig(seed);
  const failures: Failure[] = [];
  const stats: CaseStats = { records: 0, sessions: 0, output: 0, ms: 0, memory: 0 };
  const outputs: string[] = [];
  const check = (where: string, text: string, allowTab = false) => {
    stats.output += text.length;
    const f = controlFailure(where, text, allowTab);
    if (f !== null) failures.push(f);
    outputs.push(text);
  };
  const stage = async <T>(where: string, f: () => T | Promise<T>): Promise<T | undefined> => {
    onStage?.(where);
    try {
      return await f();
    } catch (e) {
      failures.push(crash(where, e));
      return undefined;
    }
  };

  const events: string[] = [];
  const ftp = await stage('FtpAnalyzer', () => new FtpAnalyzer({
    ports: cfg.analyze.serverPorts,
    sniff: cfg.sniff,
    limits: cfg.ftpLimits,
    onEvent: (e: LiveEvent) => events.push(toJson(e)),
  }));
  const reader = await stage('openCapture', () => openCapture(name, chunked(bytes, cfg.chunk)));
  if (ftp !== undefined && reader !== undefined) {
    const log = new PacketLog(ftp, { maxPackets: cfg.maxPackets });
    const summary = await stage('analyze', () => analyze(reader, log, cfg.analyze));
    await stage('close', () => reader.close());
    const model = summary === undefined ? undefined : await stage('result', () => ftp.result());
    if (summary !== undefined && model !== undefined) {
      stats.records = summary.records;
      stats.sessions = model.sessions.length;
      const shown = (await stage('maskPasswords', () => (cfg.view.showPasswords ? model : maskPasswords(model)))) ?? model;
      const ctx = await stage('ViewContext', () => new ViewContext(shown, summary, log, cfg.view));
      if (ctx !== undefined) {
        const views: Array<[string, () => string | Promise<string>]> = [
          ['timeline', () => renderTimeline(ctx)],
          ['walkthrough', () => renderWalkthrough(ctx, cfg.view.lang === 'zh' ? zh : en)],
          ['ladder', () => renderLadder(ctx)],
          ['packets', () => renderPackets(ctx)],
          ['summary', () => renderSummary(ctx)],
          ['connections', () => renderConnections(summary, ftp.log.sorted(), false)],
        ];
        for (const [view, render] of views) {
          const text = await stage(`view-${view}`, render);
          if (text !== undefined) check(`view-${view}`, text);
        }
      }
      const zeek = await stage('zeek', () => renderZeek(shown));
      if (zeek !== undefined) check('zeek', zeek, true);
      const json = await stage('json', () => `${toJson({ ftpscope: 'fuzz', capture: summary, ...shown }, 2)}\n`);
      if (json !== undefined) check('json', json);
      check('ndjson', events.length === 0 ? '' : `${events.join('\n')}\n`);
    }
  }
  if (cfg.cli !== null) {
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await stage('cli', () => cli.main(cfg.cli!, { stdout, stderr, stdin: chunked(bytes, cfg.chunk), stdoutIsTTY: false, stderrIsTTY: false, env: {} }));
    if (code !== undefined && code !== 0 && code !== 1) failures.push({ kind: 'crash', where: 'cli', message: `exit code ${code}: ${stderr.text.slice(0, 300)}` });
    check('cli-stdout', stdout.text, cfg.cli.includes('zeek'));
    check('cli-stderr', stderr.text);
  }
  const mu = process.memoryUsage();
  stats.memory = mu.heapUsed + mu.external;
  stats.ms = performance.now() - began;
  void outputs.length; // the outputs stay alive until here, so that the memory figure counts them
  return { failures, stats };
}

/** The JSON output and every view of a capture, with default options: what "the same result" means. */
export async function referenceOutput(path: string): Promise<string> {
  const bytes = readFileSync(path);
  const ftp = new FtpAnalyzer();
  const log = new PacketLog(ftp);
  const summary = await analyze(await openCapture(path, Readable.from([bytes])), log);
  const model = ftp.result();
  const shown = maskPasswords(model);
  const ctx = new ViewContext(shown, summary, log, { color: false, width: 80, lang: 'en', detail: 'summary', showPasswords: false });
  return [
    JSON.stringify({ capture: summary, ...shown }, null, 2),
    renderTimeline(ctx), renderWalkthrough(ctx, en), renderLadder(ctx), renderPackets(ctx), await renderSummary(ctx), renderZeek(shown),
  ].join('\n----\n');
}

// ---------------------------------------------------------------------------
// Failures: signatures and names
// ---------------------------------------------------------------------------

/** What makes two failures the same bug: kind, where, the error (numbers and quoted text blanked), the first frame in src/. */
export function signature(f: Failure): string {
  // C0 (ESC, BEL...) and C1/DEL usually come from different omissions (no sanitize at all; a sanitizer that stops at 0x1f).
  if (f.kind === 'control-characters') return `${f.kind}|${f.where}|${/\(([^)]*)\)/.exec(f.message)?.[1]?.includes('C0') ? 'C0' : 'C1/DEL'}`;
  const msg = f.message.replace(/"[^"]*"|'[^']*'/g, '"…"').replace(/\d+/g, 'N').slice(0, 100);
  const frame = (f.stack ?? '').split('\n').find((l) => /\/src\//.test(l))?.replace(/.*\/src\//, 'src/').replace(/:\d+\)?$/, '') ?? '';
  return `${f.kind}|${f.where}|${msg}|${frame}`;
}

/** A file name saying what failed: crash-view-ladder-ftp-s123456.pcap. */
export function regressionName(f: Failure, level: Level | string, seed: number): string {
  const where = f.where.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${f.kind}-${where}-${level}-s${seed}.${level === 'file' ? 'bin' : 'pcap'}`;
}

/** The seed a regression file name carries (…-s123.pcap), or 0. */
export function seedOfName(name: string): number {
  const m = /-s(\d+)\.[a-z.]+$/.exec(name);
  return m === null ? 0 : Number(m[1]);
}

// ---------------------------------------------------------------------------
// Worker pool: time and memory bounds
// ---------------------------------------------------------------------------

export type WorkerRequest =
  | { type: 'case'; id: number; name: string; seed: number; bytes: Uint8Array }
  | { type: 'reference'; id: number; path: string };

export type WorkerResponse =
  | { type: 'case'; id: number; outcome: CaseOutcome }
  /** Sent before each stage of a case, so that a hang or a death can be placed. */
  | { type: 'stage'; id: number; stage: string }
  | { type: 'reference'; id: number; text: string };

export interface PoolOptions {
  workers: number;
  /** A case running longer is a hang: its worker is terminated (default 5000 ms). */
  timeoutMs: number;
  /** heapUsed + external of the worker after a case above this is a memory failure (default 512 MiB). */
  memoryLimit: number;
  /** The worker's V8 old-generation cap: reaching it kills the worker, a memory failure (default 1024 MiB). */
  heapCapMb: number;
}

/**
 * The bounds. Time: the cases are at most ~2 MB; a healthy case takes well under 1 s (file level ~20 ms,
 * packet ~50 ms, ftp ~100-700 ms with every view rendered), so 5 s is slowness of another order, not noise.
 * Memory: every structure the analysis keeps is bounded by an option (out-of-order data 4 MiB per direction
 * and 128 MiB in all, fragments 16 MiB, lines 4 KiB and 1,000 per reply, 10,000 predictions, a packet log
 * of 1M packets, ~61 MiB); the rest (exchanges, transfers, findings, the rendered text) is proportional to
 * the input. The most a case has taken is ~130 MiB (a 1.5 MB FTP case, all outputs alive). 512 MiB is
 * above the sum of the fixed bounds and about 4 times that peak: a case over it grows past a bound or
 * faster than its input. The 1 GiB heap cap turns a runaway allocation into a reported failure instead of
 * the death of the fuzzer.
 */
export const DEFAULT_POOL_OPTIONS: PoolOptions = { workers: 2, timeoutMs: 5000, memoryLimit: 512 * 2 ** 20, heapCapMb: 1024 };

interface Task {
  msg: WorkerRequest;
  /** Only this worker (by slot) may run it; -1: any. */
  slot: number;
  resolve: (r: Exclude<WorkerResponse, { type: 'stage' }> | { type: 'failed'; failure: Failure; ms: number }) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  began: number;
  /** The stage the running case reported last. */
  stage: string | null;
  /** Incremented each time the worker is replaced (after a hang or a death). */
  generation: number;
}

export interface PoolResult {
  failures: Failure[];
  stats: CaseStats | null;
  ms: number;
}

/** Worker threads running cases, each case under a time bound and a memory bound. */
export class FuzzPool {
  readonly options: PoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
    for (let i = 0; i < this.options.workers; i++) this.slots.push(this.spawn(i, 0));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Generation of each worker: more than 0 when it was replaced. */
  get generations(): number[] {
    return this.slots.map((s) => s.generation);
  }

  private spawn(index: number, generation: number): Slot {
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapCapMb },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { index, worker, task: null, timer: null, began: 0, stage: null, generation };
    worker.on('message', (m: WorkerResponse) => this.done(slot, m));
    worker.on('error', (e: Error & { code?: string }) => {
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.lost(slot, { kind: memory ? 'memory' : 'crash', where: slot.stage ?? 'worker', message: `${e.code ?? e.name}: ${e.message}`, stack: e.stack ?? '' });
    });
    worker.on('exit', (code) => {
      if (!this.closed && this.slots[index] === slot) this.lost(slot, { kind: 'crash', where: 'worker', message: `the worker exited (code ${code})` });
    });
    worker.unref();
    return slot;
  }

  /** Runs a case; resolves with its failures (a hang or a memory blow-up is one). */
  async run(name: string, seed: number, bytes: Buffer): Promise<PoolResult> {
    const r = await this.submit({ type: 'case', id: this.nextId++, name, seed, bytes }, -1);
    if (r.type === 'failed') return { failures: [r.failure], stats: null, ms: r.ms };
    if (r.type !== 'case') throw new Error('unexpected answer');
    const failures = [...r.outcome.failures];
    if (r.outcome.stats.memory > this.options.memoryLimit) {
      failures.push({ kind: 'memory', where: 'case', message: `heapUsed + external after the case: ${(r.outcome.stats.memory / 2 ** 20).toFixed(0)} MiB, over the bound of ${(this.options.memoryLimit / 2 ** 20).toFixed(0)} MiB` });
    }
    return { failures, stats: r.outcome.stats, ms: r.outcome.stats.ms };
  }

  /** The reference output of a capture, computed by every worker (each with the state earlier cases left). */
  async reference(path: string): Promise<string[]> {
    const all = this.slots.map((s) => this.submit({ type: 'reference', id: this.nextId++, path }, s.index));
    return (await Promise.all(all)).map((r) => (r.type === 'reference' ? r.text : `failed: ${r.type === 'failed' ? r.failure.message : r.type}`));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      await s.worker.terminate();
    }
  }

  private submit(msg: WorkerRequest, slot: number): Promise<Exclude<WorkerResponse, { type: 'stage' }> | { type: 'failed'; failure: Failure; ms: number }> {
    if (this.closed) throw new Error('the pool is closed');
    return new Promise((resolve) => {
      this.queue.push({ msg, slot, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const s of this.slots) {
      if (s.task !== null) continue;
      const i = this.queue.findIndex((t) => t.slot < 0 || t.slot === s.index);
      if (i < 0) continue;
      const task = this.queue.splice(i, 1)[0]!;
      s.task = task;
      s.began = performance.now();
      s.stage = null;
      s.timer = setTimeout(() => this.timeout(s), this.options.timeoutMs);
      s.worker.postMessage(task.msg);
    }
  }

  private done(slot: Slot, m: WorkerResponse): void {
    const task = slot.task;
    if (task === null || task.msg.id !== m.id) return;
    if (m.type === 'stage') {
      slot.stage = m.stage;
      return;
    }
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    task.resolve(m);
    this.pump();
  }

  private timeout(slot: Slot): void {
    const ms = performance.now() - slot.began;
    const where = slot.task?.msg.type === 'reference' ? 'reference' : (slot.stage ?? 'case');
    this.lost(slot, { kind: 'hang', where, message: `no answer after ${(ms / 1000).toFixed(1)} s (in ${where}): the worker was terminated` }, ms);
  }

  /** The worker is gone or stuck: fail its task, replace it. */
  private lost(slot: Slot, failure: Failure, ms = performance.now() - slot.began): void {
    if (this.slots[slot.index] !== slot) return;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    const task = slot.task;
    slot.task = null;
    this.slots[slot.index] = this.closed ? slot : this.spawn(slot.index, slot.generation + 1);
    void slot.worker.terminate();
    task?.resolve({ type: 'failed', failure, ms });
    if (!this.closed) this.pump();
  }
}

// ---------------------------------------------------------------------------
// Minimising a failing input
// ---------------------------------------------------------------------------

/** The records of a classic pcap as slices (header, then each record whole); null when it is not one. */
export function splitPcap(b: Buffer): { head: Buffer; records: Buffer[]; rest: Buffer } | null {
  if (b.length < 24) return null;
  const m = b.readUInt32BE(0);
  const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
  if (!le && m !== 0xa1b2c3d4 && m !== 0xa1b23c4d) return null;
  const records: Buffer[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    if (off + 16 + cap > b.length) break;
    records.push(b.subarray(off, off + 16 + cap));
    off += 16 + cap;
  }
  return { head: b.subarray(0, 24), records, rest: b.subarray(off) };
}

/**
 * Makes a failing input smaller while it still fails the same way (`stillFails`): whole pcap records first
 * (delta debugging: removes chunks, halving their size), then byte ranges. Gives up after `budget` tries.
 */
export async function minimise(bytes: Buffer, stillFails: (b: Buffer) => Promise<boolean>, budget = 200): Promise<Buffer> {
  let best = bytes;
  let tries = 0;
  const attempt = async (candidate: Buffer): Promise<boolean> => {
    if (tries >= budget || candidate.length >= best.length) return false;
    tries++;
    if (await stillFails(candidate)) {
      best = candidate;
      return true;
    }
    return false;
  };
  const split = splitPcap(best);
  if (split !== null && split.records.length > 1) {
    let records = split.records;
    for (let chunk = Math.ceil(records.length / 2); chunk >= 1 && tries < budget; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let at = 0; at < records.length && tries < budget; ) {
        const fewer = records.slice(0, at).concat(records.slice(at + chunk));
        if (fewer.length > 0 && (await attempt(Buffer.concat([split.head, ...fewer, split.rest])))) records = fewer;
        else at += chunk;
      }
    }
  }
  for (let chunk = Math.max(1, Math.floor(best.length / 2)); chunk >= 1 && tries < budget; chunk = chunk === 1 ? 0 : Math.floor(chunk / 2)) {
    for (let at = 0; at < best.length && tries < budget; ) {
      if (!(await attempt(Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)])))) at += chunk;
    }
  }
  return best;
}

/** gc(), for measuring what a case holds (setFlagsFromString works in workers too); null when unavailable. */
export function ensureGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}
