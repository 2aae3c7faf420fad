/**
 * A gzip file inflated member by member: the container (RFC 1952: header, CRC-32 and length trailer,
 * what follows a member) is read here, and only the deflate data goes to zlib, raw (zlib-handle.ts). So a
 * fault is told at its byte in the compressed file, with what it is, and everything inflated before it is
 * kept. (zlib's own gunzip said only "incorrect data check" or "incorrect header check", and what it had
 * inflated in the call that failed, up to a megabyte of input, was lost.)
 *
 * Call order: `inflate()` with the compressed file's bytes in order, in pieces of any size, each call
 * filling what output room it is given; then `finish()` once, at the end of the file. Once `fault` is set,
 * neither does anything more. The output is written into the caller's buffers only: a piece of output is
 * the caller's as soon as `inflate()` returns.
 *
 * What is accepted is what gunzip accepts: members one after another (`cat a.gz b.gz`), and zero bytes after
 * the last one (padding). Anything else after a member is trailing garbage: a fault, after all the data.
 */
import * as zlib from 'node:zlib';
import { zlibHandle, type SyncInflate } from './zlib-handle.js';

/** Where a gzip file went wrong (a byte offset in the compressed file) and what was wrong. */
export interface GzipFault {
  offset: number;
  reason: string;
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

type Part = 'header' | 'deflate' | 'trailer' | 'between' | 'padding';
/** Where in a header: the fixed ten bytes, then the optional fields the flags announce (OPTIONAL's order). */
type HeaderStep = 'fixed' | 'xlen' | 'extra' | 'name' | 'comment' | 'hcrc';
/** The optional fields, in the order they come, and the flag that announces each ('extra' follows 'xlen'). */
const OPTIONAL: Array<[HeaderStep, number]> = [['xlen', FEXTRA], ['name', FNAME], ['comment', FCOMMENT], ['hcrc', FHCRC]];

export class GzipInflater {
  /** The compressed file's offset of the next byte not yet taken. */
  offset = 0;
  fault: GzipFault | null = null;
  private part: Part = 'header';
  /** Where the member being read starts. */
  private memberAt = 0;
  private members = 0;
  private step: HeaderStep = 'fixed';
  /** Bytes of the current header step taken (fixed, xlen, hcrc), or left to take (extra). */
  private stepBytes = 0;
  private flags = 0;
  private headerCrc = 0;
  private headerCheck = 0;
  /** CRC-32 and length (modulo 2^32) of what the member inflated to so far. */
  private crc = 0;
  private size = 0;
  private readonly trailer = Buffer.alloc(8);
  private trailerBytes = 0;
  private paddingAt = 0;

  constructor(private readonly z: SyncInflate) {}

  /**
   * Takes compressed bytes from input[at, at + length) and inflates into out[outAt, outAt + room); stops
   * when the input is used up, the room is full or a fault is found (what came before it is in `made`).
   */
  inflate(input: Buffer, at: number, length: number, out: Buffer, outAt: number, room: number): { used: number; made: number } {
    const start = at;
    const end = at + length;
    let made = 0;
    while (this.fault === null && at < end) {
      if (this.part === 'deflate') {
        if (made === room) break;
        const r = this.deflate(input, at, end, out, outAt + made, room - made);
        at = r.at;
        made += r.made;
      } else if (this.part === 'header') at = this.header(input, at, end);
      else if (this.part === 'trailer') at = this.readTrailer(input, at, end);
      else at = this.between(input, at, end);
    }
    return { used: at - start, made };
  }

  /** The end of the file: a member not finished by now was cut short. */
  finish(): void {
    if (this.fault !== null || this.part === 'between' || this.part === 'padding') return;
    const where = this.part === 'header' ? 'header' : this.part === 'deflate' ? 'compressed data' : `trailer (${this.trailerBytes} of its 8 bytes)`;
    this.fail(this.offset, `truncated gzip data: the file ends inside the ${where} of ${this.member()}`);
  }

  private member(): string {
    return this.members === 0 ? 'the gzip member' : `the gzip member that starts at byte ${this.memberAt}`;
  }

  private fail(offset: number, reason: string): void {
    this.fault ??= { offset, reason };
  }

  private header(input: Buffer, at: number, end: number): number {
    while (at < end && this.part === 'header' && this.fault === null) {
      const b = input[at]!;
      const here = this.offset;
      if (this.step === 'hcrc') {
        this.headerCheck |= b << (8 * this.stepBytes);
        if (++this.stepBytes === 2) {
          const want = this.headerCrc & 0xffff; // the low half of the header's CRC-32
          if (this.headerCheck !== want) return this.fail(here - 1, `bad gzip header: its CRC-16 is ${hex(this.headerCheck, 4)}, its bytes give ${hex(want, 4)}`), at;
          this.startDeflate();
        }
      } else {
        this.headerCrc = crcByte(this.headerCrc, b);
        if (this.step === 'fixed') {
          const i = this.stepBytes++;
          if ((i === 0 && b !== 0x1f) || (i === 1 && b !== 0x8b)) {
            // Only a member after the first can be here: the file was recognised by these two bytes.
            return this.fail(this.memberAt, 'trailing garbage after the gzip data: the bytes from here do not begin another gzip member'), at;
          }
          if (i === 2 && b !== 8) return this.fail(here, `bad gzip header: compression method ${b}, not deflate (8)`), at;
          if (i === 3) {
            if ((b & FRESERVED) !== 0) return this.fail(here, `bad gzip header: reserved flag bits set (${hex(b, 2)})`), at;
            this.flags = b;
          }
          if (i === 9) this.nextStep('fixed');
        } else if (this.step === 'xlen') {
          this.headerCheck |= b << (8 * this.stepBytes);
          if (++this.stepBytes === 2) {
            this.stepBytes = this.headerCheck;
            this.headerCheck = 0;
            if (this.stepBytes === 0) this.nextStep('xlen');
            else this.step = 'extra';
          }
        } else if (this.step === 'extra') {
          if (--this.stepBytes === 0) this.nextStep('xlen');
        } else if (b === 0) this.nextStep(this.step); // the zero that ends the name or the comment
      }
      at++;
      this.offset++;
    }
    return at;
  }

  /** The header's next optional field after `done`, or its end. */
  private nextStep(done: HeaderStep): void {
    const after = done === 'fixed' ? 0 : OPTIONAL.findIndex(([s]) => s === done) + 1;
    this.stepBytes = 0;
    this.headerCheck = 0;
    const next = OPTIONAL.slice(after).find(([, flag]) => (this.flags & flag) !== 0);
    if (next === undefined) this.startDeflate();
    else this.step = next[0];
  }

  private startDeflate(): void {
    this.part = 'deflate';
    this.crc = 0;
    this.size = 0;
  }

  /** Inflates until the room is full, the input used up, or the deflate data ends (then the trailer). */
  private deflate(input: Buffer, at: number, end: number, out: Buffer, outAt: number, room: number): { at: number; made: number } {
    let made = 0;
    while (at < end && made < room) {
      let r: { availOut: number; availIn: number };
      try {
        // Z_BLOCK: each call ends at a block's end, so a fault costs at most the block it is in.
        r = this.z.write(zlib.constants.Z_BLOCK, input, at, end - at, out, outAt + made, room - made);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        this.fail(this.offset, `corrupt gzip data: the deflate data of ${this.member()} is bad from here (${why})`);
        break;
      }
      const used = end - at - r.availIn;
      const produced = room - made - r.availOut;
      if (produced > 0) {
        this.crc = crc32(out.subarray(outAt + made, outAt + made + produced), this.crc);
        this.size = (this.size + produced) % 0x1_0000_0000;
        made += produced;
      }
      at += used;
      this.offset += used;
      if (used === 0 && produced === 0) {
        // Nothing taken, nothing given, with both to spare: the deflate data has ended.
        this.part = 'trailer';
        this.trailerBytes = 0;
        break;
      }
    }
    return { at, made };
  }

  private readTrailer(input: Buffer, at: number, end: number): number {
    const n = Math.min(8 - this.trailerBytes, end - at);
    input.copy(this.trailer, this.trailerBytes, at, at + n);
    this.trailerBytes += n;
    this.offset += n;
    at += n;
    if (this.trailerBytes < 8) return at;
    const trailerAt = this.offset - 8;
    const crc = this.trailer.readUInt32LE(0);
    const size = this.trailer.readUInt32LE(4);
    if (crc !== this.crc) {
      this.fail(trailerAt, `bad CRC in the gzip trailer: it says ${hex(crc, 8)}, the data inflated from ${this.member()} gives ${hex(this.crc, 8)}`);
    } else if (size !== this.size) {
      this.fail(trailerAt + 4, `bad length in the gzip trailer: it says ${size} bytes, ${this.member()} inflated to ${this.size} (modulo 2^32)`);
    } else {
      this.members++;
      this.part = 'between';
    }
    return at;
  }

  /** After a member: another member, zero bytes of padding to the end, or trailing garbage. */
  private between(input: Buffer, at: number, end: number): number {
    if (this.part === 'between') {
      const b = input[at]!;
      if (b === 0x1f) {
        this.part = 'header';
        this.step = 'fixed';
        this.stepBytes = 0;
        this.headerCrc = 0;
        this.memberAt = this.offset;
        this.z.reset();
        return at;
      }
      if (b !== 0) {
        this.fail(this.offset, 'trailing garbage after the gzip data: the bytes from here do not begin another gzip member');
        return at;
      }
      this.part = 'padding';
      this.paddingAt = this.offset;
    }
    while (at < end && input[at] === 0) {
      at++;
      this.offset++;
    }
    if (at < end) this.fail(this.offset, `trailing garbage after the gzip data (after ${this.offset - this.paddingAt} zero bytes of padding)`);
    return at;
  }
}

function hex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

let table: Int32Array | null = null;

/** One byte into a CRC-32 register (initially 0, complemented as zlib.crc32 keeps it). */
function crcByte(crc: number, b: number): number {
  table ??= makeTable();
  const c = ~crc;
  return ~(table[(c ^ b) & 0xff]! ^ (c >>> 8)) >>> 0;
}

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/** zlib's CRC-32 (Node 20.15 and later), or the same in JavaScript (slower) before it. */
const crc32: (data: Buffer, value: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data, value) => zlib.crc32(data, value)
    : (data, value) => {
        let c = value;
        for (let i = 0; i < data.length; i++) c = crcByte(c, data[i]!);
        return c;
      };

let works: boolean | undefined;

/**
 * Whether zlibHandle() is there and GzipInflater inflates and judges gzip exactly with it: two members
 * into a small output room, then a bad CRC and a cut (checked once per process, before a worker relies on it).
 */
export function syncGunzipWorks(): boolean {
  if (works !== undefined) return works;
  works = false;
  try {
    const text = Buffer.from('220 ftpscope checks its inflater\r\n'.repeat(40));
    const packed = Buffer.concat([zlib.gzipSync(text.subarray(0, 500)), zlib.gzipSync(text.subarray(500))]);
    const run = (file: Buffer): { out: Buffer; fault: GzipFault | null } | null => {
      const z = zlibHandle();
      if (z === null) return null;
      const gz = new GzipInflater(z);
      const out = Buffer.alloc(text.length + 16);
      let filled = 0;
      let at = 0;
      // In pieces of 100 bytes, into 100 bytes of room at a time: the streaming is what is relied on.
      for (let guard = 0; guard < 1000 && at < file.length && gz.fault === null; guard++) {
        const r = gz.inflate(file, at, Math.min(100, file.length - at), out, filled, Math.min(100, out.length - filled));
        at += r.used;
        filled += r.made;
      }
      gz.finish();
      return { out: out.subarray(0, filled), fault: gz.fault };
    };
    const good = run(packed);
    if (good === null || good.fault !== null || !good.out.equals(text)) return false;
    const badCrc = Buffer.from(packed);
    badCrc[badCrc.length - 8]! ^= 1;
    const bad = run(badCrc);
    const cut = run(packed.subarray(0, packed.length - 20));
    works =
      bad !== null && bad.out.equals(text) && bad.fault?.offset === packed.length - 8 && /bad CRC/.test(bad.fault.reason) &&
      cut !== null && cut.fault?.offset === packed.length - 20 && /truncated/.test(cut.fault.reason);
  } catch {
    works = false;
  }
  return works;
}
