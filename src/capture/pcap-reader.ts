import type { ChunkInput } from './chunk-input.js';
import { ChunkedReader } from './chunked-reader.js';
import { MAX_RECORD_BYTES } from './record-batch.js';
import { u32, u32le } from '../bytes.js';

const USEC_LE = 0xd4c3b2a1; // a1b2c3d4 written little-endian, as readUInt32BE sees it
const USEC_BE = 0xa1b2c3d4;
const NSEC_LE = 0x4d3cb2a1;
const NSEC_BE = 0xa1b23c4d;

/** Recognises a classic pcap global header by its magic; null when it is not one. */
export function pcapVariant(head: Buffer): { littleEndian: boolean; nanosecond: boolean } | null {
  if (head.length < 4) return null;
  switch (head.readUInt32BE(0)) {
    case USEC_BE:
      return { littleEndian: false, nanosecond: false };
    case USEC_LE:
      return { littleEndian: true, nanosecond: false };
    case NSEC_BE:
      return { littleEndian: false, nanosecond: true };
    case NSEC_LE:
      return { littleEndian: true, nanosecond: true };
    default:
      return null;
  }
}

/**
 * Classic pcap (both byte orders, micro- and nanosecond timestamps), read in place: records are parsed
 * at their offsets in each chunk and handed on as views of it; only a record that straddles two chunks is
 * copied. No object is made per record. (pcap-parser, the project's first reader, is kept as an independent
 * check in the tests: it costs about half the run time and five allocations per record — see the README.)
 * A record header claiming an impossible length, and a record cut by the end of the file, are reported
 * with their byte offsets, after every record before them.
 */
export class PcapReader extends ChunkedReader {
  readonly format: string;
  private readonly le: boolean;
  private readonly unit: number;
  private readonly toNsec: number;
  private linktype = 1;
  /** A record being assembled across chunks: its header, then its bytes. */
  private carry: Buffer | null = null;
  private carryLen = 0;
  private carryOff = 0;

  constructor(
    name: string,
    input: ChunkInput,
    head: Buffer,
  ) {
    super(name, input, head, 4096);
    this.pos = 24;
    const v = pcapVariant(head);
    if (v === null) throw new Error('PcapReader needs a pcap head');
    this.le = v.littleEndian;
    this.unit = v.nanosecond ? 1_000_000_000 : 1_000_000;
    this.toNsec = v.nanosecond ? 1 : 1000;
    this.format = `${input.gzip ? 'gzip, ' : ''}pcap${v.nanosecond ? ' (nanosecond)' : ''}`;
    if (head.length < 24) {
      this.fail(head.length, `file ends inside the pcap file header (${head.length} of 24 bytes)`);
      return;
    }
    const major = this.le ? head.readUInt16LE(4) : head.readUInt16BE(4);
    const minor = this.le ? head.readUInt16LE(6) : head.readUInt16BE(6);
    if (major !== 2) {
      this.fail(4, `unsupported pcap version ${major}.${minor} (only 2.x exists)`);
      return;
    }
    // The link type's upper bits may carry the FCS length.
    this.linktype = (this.le ? head.readUInt32LE(20) : head.readUInt32BE(20)) & 0xffff;
  }

  /** Parses the chunk's whole records from `pos`; a partial one goes to `carry`. */
  protected consume(buf: Buffer): void {
    if (this.carry !== null) {
      this.fillCarry(buf);
      return;
    }
    const batch = this.batch;
    const le = this.le;
    const end = buf.length;
    let pos = this.pos;
    while (end - pos >= 16) {
      const cap = le ? u32le(buf, pos + 8) : u32(buf, pos + 8);
      if (cap > MAX_RECORD_BYTES) {
        this.pos = pos;
        this.fail(this.base + pos, `record header claims ${cap} captured bytes (more than ${MAX_RECORD_BYTES}): the file is corrupt here`);
        return;
      }
      if (end - pos - 16 < cap) break;
      const sec = le ? u32le(buf, pos) : u32(buf, pos);
      const frac = le ? u32le(buf, pos + 4) : u32(buf, pos + 4);
      const orig = le ? u32le(buf, pos + 12) : u32(buf, pos + 12);
      if (frac < this.unit) batch.push(buf, pos + 16, cap, orig, sec, frac * this.toNsec, this.linktype, this.base + pos);
      else batch.push(buf, pos + 16, cap, orig, sec + Math.floor(frac / this.unit), (frac % this.unit) * this.toNsec, this.linktype, this.base + pos);
      pos += 16 + cap;
    }
    this.pos = pos;
    if (pos < end) {
      // A record continues in the next chunk: copy what there is of it.
      const rem = end - pos;
      const cap = rem >= 16 ? (le ? u32le(buf, pos + 8) : u32(buf, pos + 8)) : -1;
      this.carry = Buffer.allocUnsafe(cap >= 0 ? 16 + cap : 16);
      buf.copy(this.carry, 0, pos, end);
      this.carryLen = rem;
      this.carryOff = this.base + pos;
      this.pos = end;
    }
  }

  private fillCarry(buf: Buffer): void {
    let carry = this.carry!;
    if (carry.length === 16 && this.carryLen < 16) {
      const n = Math.min(16 - this.carryLen, buf.length - this.pos);
      buf.copy(carry, this.carryLen, this.pos, this.pos + n);
      this.carryLen += n;
      this.pos += n;
      if (this.carryLen < 16) return;
      const cap = this.le ? carry.readUInt32LE(8) : carry.readUInt32BE(8);
      if (cap > MAX_RECORD_BYTES) {
        this.carry = null;
        this.fail(this.carryOff, `record header claims ${cap} captured bytes (more than ${MAX_RECORD_BYTES}): the file is corrupt here`);
        return;
      }
      const grown = Buffer.allocUnsafe(16 + cap);
      carry.copy(grown, 0, 0, 16);
      this.carry = carry = grown;
    }
    const n = Math.min(carry.length - this.carryLen, buf.length - this.pos);
    buf.copy(carry, this.carryLen, this.pos, this.pos + n);
    this.carryLen += n;
    this.pos += n;
    if (this.carryLen < carry.length) return;
    this.carry = null;
    const le = this.le;
    const sec = le ? carry.readUInt32LE(0) : carry.readUInt32BE(0);
    const frac = le ? carry.readUInt32LE(4) : carry.readUInt32BE(4);
    const orig = le ? carry.readUInt32LE(12) : carry.readUInt32BE(12);
    this.batch.push(carry, 16, carry.length - 16, orig, sec + Math.floor(frac / this.unit), (frac % this.unit) * this.toNsec, this.linktype, this.carryOff);
  }

  protected atEnd(): void {
    if (this.input.error !== null) this.failInput();
    else if (this.carry !== null) {
      if (this.carryLen < 16) this.fail(this.carryOff, `file ends inside a record header (${this.carryLen} of 16 bytes)`);
      else this.fail(this.carryOff, `record cut short: its header says ${this.carry.length - 16} captured bytes, the file ends ${this.carryLen - 16} bytes into them`);
    }
    this.stopped = true;
  }

}
