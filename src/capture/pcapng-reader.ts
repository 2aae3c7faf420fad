import type { ChunkInput } from './chunk-input.js';
import { ChunkedReader } from './chunked-reader.js';
import { MAX_RECORD_BYTES } from './record-batch.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OBSOLETE_PB = 2;
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Blocks other than packets larger than this are skipped as they stream by, never buffered. */
const MAX_BUFFERED_BLOCK = MAX_RECORD_BYTES + 4096;

export function isPcapng(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === SHB;
}

interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second (10^k or 2^k). */
  unitsPerSec: number;
  /** Multiply a remainder of units by this to get nanoseconds exactly (when it is a whole number), else 0. */
  nsPerUnit: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  tsOffset: number;
}

/**
 * A streaming pcapng reader (no maintained npm library reads pcapng). It reads section header blocks in
 * either byte order and any number of sections, interface description blocks with if_tsresol and
 * if_tsoffset, enhanced, simple and obsolete packet blocks, and skips every other block without buffering
 * it. Blocks are parsed in place in the chunk; only a block that straddles two chunks is copied.
 */
export class PcapngReader extends ChunkedReader {
  readonly format: string;
  private le = true;
  private ifaces: Interface[] = [];
  /** A block being assembled across chunks. */
  private carry: Buffer | null = null;
  private carryLen = 0;
  private carryOff = 0;
  /** Bytes of an oversized non-packet block still to skip. */
  private skip = 0;
  private lastSec = 0;
  private lastNsec = 0;
  // scratch output of tsToTime()
  private sec = 0;
  private nsec = 0;

  constructor(
    name: string,
    input: ChunkInput,
    head: Buffer,
  ) {
    super(name, input, head);
    this.format = `${input.gzip ? 'gzip, ' : ''}pcapng`;
  }

  /** Parses what it can of the chunk from `pos`, leaving a partial block in `carry`. */
  protected consume(buf: Buffer): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length - this.pos);
      this.skip -= n;
      this.pos += n;
      return;
    }
    if (this.carry !== null) {
      this.fillCarry(buf);
      return;
    }
    let pos = this.pos;
    while (!this.stopped && buf.length - pos >= 12) {
      const len = this.blockLength(buf, pos);
      if (len < 0) return;
      if (buf.length - pos < len) break;
      this.block(buf, pos, len, this.base + pos);
      pos += len;
    }
    this.pos = pos;
    if (this.stopped || pos >= buf.length) return;
    // A partial block: start assembling (or skipping) it.
    const rem = buf.length - pos;
    const len = rem >= 12 ? this.blockLength(buf, pos) : -1;
    if (rem >= 12 && len < 0) return;
    if (len > MAX_BUFFERED_BLOCK) {
      this.skip = len - rem;
      this.pos = buf.length;
      return;
    }
    this.carry = Buffer.allocUnsafe(len > 0 ? len : 12);
    buf.copy(this.carry, 0, pos);
    this.carryLen = rem;
    this.carryOff = this.base + pos;
    this.pos = buf.length;
  }

  private fillCarry(buf: Buffer): void {
    let carry = this.carry!;
    if (carry.length === 12 && this.carryLen < 12) {
      // Still learning the block's length.
      const n = Math.min(12 - this.carryLen, buf.length - this.pos);
      buf.copy(carry, this.carryLen, this.pos, this.pos + n);
      this.carryLen += n;
      this.pos += n;
      if (this.carryLen < 12) return;
      const len = this.blockLength(carry, 0, this.carryOff);
      if (len < 0) return;
      if (len > MAX_BUFFERED_BLOCK) {
        this.skip = len - 12;
        this.carry = null;
        return;
      }
      const grown = Buffer.allocUnsafe(len);
      carry.copy(grown, 0, 0, 12);
      this.carry = carry = grown;
    }
    const n = Math.min(carry.length - this.carryLen, buf.length - this.pos);
    buf.copy(carry, this.carryLen, this.pos, this.pos + n);
    this.carryLen += n;
    this.pos += n;
    if (this.carryLen === carry.length) {
      this.carry = null;
      this.block(carry, 0, carry.length, this.carryOff);
    }
  }

  /**
   * The total length of the block at `o` (12 bytes available), or -1 after recording a fault.
   * A section header block sets the byte order first: its length is written in the section's order.
   */
  private blockLength(b: Buffer, o: number, fileOff = this.base + o): number {
    const type = b.readUInt32LE(o);
    if (type === SHB) {
      const bom = b.readUInt32LE(o + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else return this.fail(fileOff + 8, `section header block has no valid byte-order magic (${b.subarray(o + 8, o + 12).toString('hex')})`);
    }
    const len = this.le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
    if (len < 12 || len % 4 !== 0) return this.fail(fileOff, `block length ${len} is invalid (at least 12 and a multiple of 4)`);
    const t = this.le ? type : b.readUInt32BE(o);
    const isPacket = t === EPB || t === SPB || t === OBSOLETE_PB;
    if (len > MAX_BUFFERED_BLOCK && (isPacket || t === SHB || t === IDB)) {
      return this.fail(fileOff, `block of type ${t} claims ${len} bytes: the file is corrupt here`);
    }
    return len;
  }

  /** Handles one whole block. */
  private block(b: Buffer, o: number, len: number, fileOff: number): void {
    const le = this.le;
    const trailer = this.u32(b, o + len - 4);
    if (trailer !== len) {
      this.fail(fileOff, `block lengths disagree (${len} at the start, ${trailer} at the end)`);
      return;
    }
    const type = this.u32(b, o);
    switch (type) {
      case SHB: {
        const major = le ? b.readUInt16LE(o + 12) : b.readUInt16BE(o + 12);
        if (major !== 1) {
          this.fail(fileOff + 12, `unsupported pcapng version ${major}`);
          return;
        }
        this.ifaces = [];
        return;
      }
      case IDB:
        if (len < 20) {
          this.fail(fileOff, 'interface description block too short');
          return;
        }
        this.ifaces.push(this.interfaceFrom(b, o, len));
        return;
      case EPB:
      case OBSOLETE_PB: {
        if (len < 32) {
          this.fail(fileOff, 'packet block too short');
          return;
        }
        const ifId = type === EPB ? this.u32(b, o + 8) : le ? b.readUInt16LE(o + 8) : b.readUInt16BE(o + 8);
        const cap = this.u32(b, o + 20);
        const orig = this.u32(b, o + 24);
        if (28 + cap + 4 > len) {
          this.fail(fileOff, `packet block says ${cap} captured bytes but holds only ${len - 32}`);
          return;
        }
        const iface = this.ifaces[ifId];
        if (iface === undefined) {
          this.fail(fileOff, `packet block names interface ${ifId}, but the section describes ${this.ifaces.length}`);
          return;
        }
        this.tsToTime(this.u32(b, o + 12), this.u32(b, o + 16), iface);
        this.emit(b, o + 28, cap, orig, iface.linktype, fileOff);
        return;
      }
      case SPB: {
        const iface = this.ifaces[0];
        if (iface === undefined) {
          this.fail(fileOff, 'simple packet block before any interface description');
          return;
        }
        const orig = this.u32(b, o + 8);
        let cap = Math.min(orig, len - 16);
        if (iface.snaplen > 0 && cap > iface.snaplen) cap = iface.snaplen;
        // A simple packet block has no timestamp: it takes the one of the packet before it.
        this.sec = this.lastSec;
        this.nsec = this.lastNsec;
        this.emit(b, o + 12, cap, orig, iface.linktype, fileOff);
        return;
      }
      default:
        return; // name resolution, statistics, custom and unknown blocks
    }
  }

  private u32(b: Buffer, at: number): number {
    return this.le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  private emit(b: Buffer, off: number, cap: number, orig: number, linktype: number, fileOff: number): void {
    this.lastSec = this.sec;
    this.lastNsec = this.nsec;
    this.batch.push(b, off, cap, orig, this.sec, this.nsec, linktype, fileOff);
  }

  private interfaceFrom(b: Buffer, o: number, len: number): Interface {
    const le = this.le;
    const iface: Interface = {
      linktype: le ? b.readUInt16LE(o + 8) : b.readUInt16BE(o + 8),
      snaplen: le ? b.readUInt32LE(o + 12) : b.readUInt32BE(o + 12),
      unitsPerSec: 1e6,
      nsPerUnit: 1000,
      tsOffset: 0,
    };
    // Options: code (2), length (2), value padded to 4.
    let p = o + 16;
    const end = o + len - 4;
    while (p + 4 <= end) {
      const code = le ? b.readUInt16LE(p) : b.readUInt16BE(p);
      const olen = le ? b.readUInt16LE(p + 2) : b.readUInt16BE(p + 2);
      const v = p + 4;
      if (code === 0 || v + olen > end) break;
      if (code === 9 && olen >= 1) {
        const r = b[v]!;
        const exp = r & 0x7f;
        iface.unitsPerSec = r & 0x80 ? 2 ** exp : 10 ** exp;
        iface.nsPerUnit = r & 0x80 ? (exp === 0 ? 1e9 : 0) : exp <= 9 ? 10 ** (9 - exp) : 0;
      } else if (code === 14 && olen >= 8) {
        iface.tsOffset = Number(le ? b.readBigInt64LE(v) : b.readBigInt64BE(v));
      }
      p = v + ((olen + 3) & ~3);
    }
    return iface;
  }

  /** Splits a 64-bit count of units into exact seconds and nanoseconds, in `sec` and `nsec`. */
  private tsToTime(hi: number, lo: number, iface: Interface): void {
    const u = iface.unitsPerSec;
    let sec: number;
    let rem: number;
    if (u === 1e6 && hi < 0x200000) {
      const v = hi * 4294967296 + lo; // exact below 2^53
      sec = Math.floor(v / 1e6);
      rem = v - sec * 1e6;
    } else if (u < 2 ** 37) {
      // Long division in base 2^16 keeps every intermediate below 2^53.
      const q1 = Math.floor(hi / u);
      const r1 = hi - q1 * u;
      const t2 = r1 * 65536 + (lo >>> 16);
      const q2 = Math.floor(t2 / u);
      const r2 = t2 - q2 * u;
      const t3 = r2 * 65536 + (lo & 0xffff);
      const q3 = Math.floor(t3 / u);
      rem = t3 - q3 * u;
      sec = (q1 * 65536 + q2) * 65536 + q3;
    } else {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const bu = BigInt(u);
      sec = Number(v / bu);
      rem = Number(v % bu);
    }
    this.sec = sec + iface.tsOffset;
    // Decimal units of 1 ns or coarser scale exactly; finer or binary units round down to the nanosecond.
    this.nsec = iface.nsPerUnit > 0 ? rem * iface.nsPerUnit : nanosOf(rem, u);
  }

  protected atEnd(): void {
    if (this.input.error !== null) this.failInput();
    else if (this.carry !== null) {
      const need = this.carry.length === 12 && this.carryLen < 12 ? 'a block header' : `a block of ${this.carry.length} bytes`;
      this.fail(this.carryOff, `file ends inside ${need} (${this.carryLen} bytes present)`);
    } else if (this.skip > 0) this.fail(this.input.endOffset, `file ends ${this.skip} bytes before the end of a block`);
    this.stopped = true;
  }

}

/** floor(rem * 1e9 / units) without losing precision (rem < units). */
function nanosOf(rem: number, units: number): number {
  const exact = rem * 1e9;
  if (exact <= Number.MAX_SAFE_INTEGER) return Math.floor(exact / units);
  return Number((BigInt(rem) * 1_000_000_000n) / BigInt(units));
}
