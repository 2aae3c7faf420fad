/**
 * Synthetic capture writer for tests.
 *
 * Builds packet captures byte by byte so that tests can exercise edge cases
 * (odd link layers, fragments, byte orders, pcapng oddities, malformed
 * headers) without shipping binary fixtures. Everything here is pure: each
 * function returns a fresh Buffer and each writer only holds the records
 * given to it.
 *
 * Layers compose from the inside out:
 *
 *   const seg = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 21, seq: 1, flags: SYN });
 *   const pcap = new PcapWriter().add(1700000000, 0, ethernet(seg, { etherType: ETHERTYPE_IPV4 })).toBuffer();
 *
 * Checksums (IPv4 header, TCP) are always computed correctly; tests that need
 * broken ones patch the returned bytes.
 */

import { Buffer } from 'node:buffer';
import { PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES, writePcapHeader, writePcapRecordHeader } from '../../src/capture/pcap-encoding.js';

/** Byte order of a capture file or of a field written in host order. */
export type Endian = 'le' | 'be';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** BSD loopback: 4-byte address family in the capturing host's byte order. */
export const LINKTYPE_NULL = 0;
/** Ethernet II, optionally with 802.1Q / 802.1ad tags. */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP, version given by the first nibble. */
export const LINKTYPE_RAW = 101;
/** OpenBSD loopback: 4-byte address family in network byte order. */
export const LINKTYPE_LOOP = 108;
/** Linux cooked capture v1 (16-byte header). */
export const LINKTYPE_LINUX_SLL = 113;
/** Linux cooked capture v2 (20-byte header). */
export const LINKTYPE_LINUX_SLL2 = 276;
/** Raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;
/** DLT_RAW as most platforms number it; also found in files as a raw-IP link type. */
export const DLT_RAW_12 = 12;
/** DLT_RAW as OpenBSD numbers it; also found in files as a raw-IP link type. */
export const DLT_RAW_14 = 14;

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** Tag protocol identifier of an 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** Tag protocol identifier of an 802.1ad (QinQ) service tag. */
export const ETHERTYPE_QINQ = 0x88a8;

/** Address family of IPv4 in DLT_NULL / DLT_LOOP headers (all BSDs and Linux). */
export const AF_INET = 2;
/** Address family of IPv6 on NetBSD, OpenBSD and BSD/OS. */
export const AF_INET6_BSD = 24;
/** Address family of IPv6 on FreeBSD and DragonFly. */
export const AF_INET6_FREEBSD = 28;
/** Address family of IPv6 on macOS / Darwin. */
export const AF_INET6_DARWIN = 30;

/** TCP flag bits (low byte of the flags field). */
export const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32, ECE = 64, CWR = 128;

// ---------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------

/** A 16-bit unsigned integer in the given byte order. */
function u16(value: number, endian: Endian = 'be'): Buffer {
  const b = Buffer.alloc(2);
  if (endian === 'le') b.writeUInt16LE(value);
  else b.writeUInt16BE(value);
  return b;
}

/** A 32-bit unsigned integer in the given byte order. */
function u32(value: number, endian: Endian = 'be'): Buffer {
  const b = Buffer.alloc(4);
  if (endian === 'le') b.writeUInt32LE(value);
  else b.writeUInt32BE(value);
  return b;
}

/** A 64-bit signed integer in the given byte order. */
function i64(value: bigint, endian: Endian): Buffer {
  const b = Buffer.alloc(8);
  if (endian === 'le') b.writeBigInt64LE(value);
  else b.writeBigInt64BE(value);
  return b;
}

/** Zero bytes that bring `length` up to a multiple of `align`. */
function padding(length: number, align: number): Buffer {
  return Buffer.alloc((align - (length % align)) % align);
}

/** Concatenates parts (Buffers or Uint8Arrays) into one new Buffer. */
function concat(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

/** Ones'-complement sum of 16-bit big-endian words, folded, not yet inverted. */
function onesSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 Internet checksum of the concatenation of `parts`. */
export function internetChecksum(...parts: Uint8Array[]): number {
  return ~onesSum(concat(parts)) & 0xffff;
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/** Parses dotted-quad IPv4 text into 4 bytes. */
export function parseIpv4(text: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`bad IPv4 address: ${text}`);
  }
  return Buffer.from(parts.map(Number));
}

/** Parses IPv6 text (with "::" compression and an optional trailing dotted quad) into 16 bytes. */
export function parseIpv6(text: string): Buffer {
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address: ${text}`);
  const words = (half: string): number[] => (half === '' ? [] : half.split(':').flatMap((g) => ipv6Group(g, text)));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw new Error(`bad IPv6 address: ${text}`);
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return concat(all.map((w) => u16(w)));
}

/** One colon-separated IPv6 group as 16-bit words (two for an embedded IPv4 address). */
function ipv6Group(group: string, text: string): number[] {
  if (group.includes('.')) {
    const v4 = parseIpv4(group);
    return [v4.readUInt16BE(0), v4.readUInt16BE(2)];
  }
  if (!/^[0-9a-f]{1,4}$/i.test(group)) throw new Error(`bad IPv6 address: ${text}`);
  return [parseInt(group, 16)];
}

/** True when the address text is IPv6 (contains a colon). */
export function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** Parses a colon-separated MAC address ("02:00:00:00:00:01") into 6 bytes. */
export function parseMac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new Error(`bad MAC address: ${text}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

// ---------------------------------------------------------------------------
// Classic pcap
// ---------------------------------------------------------------------------

/** Options of a classic pcap file. */
export interface PcapOptions {
  /** Byte order of headers; default 'le'. */
  endian?: Endian;
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Link type of every record; default LINKTYPE_ETHERNET. */
  linktype?: number;
  /** Snapshot length; records longer than this are cut. Default 262144. */
  snaplen?: number;
}

/** Writes a classic libpcap file (version 2.4) record by record. */
export class PcapWriter {
  private readonly endian: Endian;
  private readonly nanosecond: boolean;
  private readonly linktype: number;
  private readonly snaplen: number;
  private readonly records: Buffer[] = [];

  constructor(opts: PcapOptions = {}) {
    this.endian = opts.endian ?? 'le';
    this.nanosecond = opts.nanosecond ?? false;
    this.linktype = opts.linktype ?? LINKTYPE_ETHERNET;
    this.snaplen = opts.snaplen ?? 262144;
  }

  /**
   * Appends a record. `frac` is microseconds, or nanoseconds when the file is
   * nanosecond. `origLen` defaults to data.length; if snaplen < data.length
   * the record is cut to snaplen and origLen keeps the full length.
   */
  add(tsSec: number, frac: number, data: Uint8Array, origLen?: number): this {
    const captured = data.subarray(0, Math.min(data.length, this.snaplen));
    const record = Buffer.allocUnsafe(PCAP_RECORD_HEADER_BYTES + captured.length);
    record.set(captured, writePcapRecordHeader(record, 0, tsSec, frac, captured.length, origLen ?? data.length, this.endian === 'be'));
    this.records.push(record);
    return this;
  }

  /** The whole file: global header followed by the records. */
  toBuffer(): Buffer {
    const header = Buffer.alloc(PCAP_HEADER_BYTES);
    writePcapHeader(header, 0, { linktype: this.linktype, snaplen: this.snaplen, nanosecond: this.nanosecond, bigEndian: this.endian === 'be' });
    return concat([header, ...this.records]);
  }
}

// ---------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------

/** Block type of a pcapng section header block. */
export const PCAPNG_SHB = 0x0a0d0d0a;
/** Block type of a pcapng interface description block. */
export const PCAPNG_IDB = 1;
/** Block type of the obsolete pcapng packet block. */
export const PCAPNG_PB = 2;
/** Block type of a pcapng simple packet block. */
export const PCAPNG_SPB = 3;
/** Block type of a pcapng name resolution block. */
export const PCAPNG_NRB = 4;
/** Block type of a pcapng interface statistics block. */
export const PCAPNG_ISB = 5;
/** Block type of a pcapng enhanced packet block. */
export const PCAPNG_EPB = 6;

/** An interface description block's fields and options. */
export interface PcapngInterfaceOptions {
  linktype: number;
  /** Default 262144; 0 means no limit. Packets longer than a non-zero snaplen are cut. */
  snaplen?: number;
  /** Raw if_tsresol option byte: 6 (microseconds, the default), 9 (ns), 0x80|n for 2^-n. Omitted = no option. */
  tsresol?: number;
  /** if_tsoffset: seconds added to every timestamp of the interface (signed 64-bit). */
  tsoffset?: bigint;
  /** if_name. */
  name?: string;
}

/** What a pcapng writer remembers about one interface. */
interface InterfaceInfo {
  snaplen: number;
  unitsPerSecond: bigint;
}

/** One section: its byte order, its interfaces and its blocks after the header. */
interface Section {
  endian: Endian;
  interfaces: InterfaceInfo[];
  blocks: Buffer[];
}

/** One pcapng option (code, value); values are padded to 32 bits when encoded. */
type PcapngOption = [code: number, value: Uint8Array];

/** Timestamp units per second for an if_tsresol byte (absent = microseconds). */
export function tsresolUnits(tsresol?: number): bigint {
  if (tsresol === undefined) return 1_000_000n;
  const exponent = BigInt(tsresol & 0x7f);
  return tsresol & 0x80 ? 2n ** exponent : 10n ** exponent;
}

/** Encodes an option list terminated by opt_endofopt; no options = no bytes. */
function encodeOptions(options: readonly PcapngOption[], endian: Endian): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const parts = options.flatMap(([code, value]) => [u16(code, endian), u16(value.length, endian), value, padding(value.length, 4)]);
  return concat([...parts, u16(0, endian), u16(0, endian)]);
}

/** A complete block: type, total length, body padded to 32 bits, total length again. */
function encodeBlock(type: number, body: Uint8Array, endian: Endian): Buffer {
  const padded = concat([body, padding(body.length, 4)]);
  const total = u32(12 + padded.length, endian);
  return concat([u32(type, endian), total, padded, total]);
}

/** Packet data cut to a non-zero snaplen (unknown interfaces: uncut). */
function capture(data: Uint8Array, iface: InterfaceInfo | undefined): Uint8Array {
  const limit = iface && iface.snaplen > 0 ? iface.snaplen : data.length;
  return data.subarray(0, Math.min(limit, data.length));
}

/**
 * Writes a pcapng file. Sections, interfaces and packets are appended in
 * call order; interface ids are per section. Packet methods accept ids of
 * interfaces that do not exist (written as is, for malformed-file tests).
 */
export class PcapngWriter {
  private readonly defaultEndian: Endian;
  private readonly sections: Section[] = [];

  constructor(opts: { endian?: Endian } = {}) {
    this.defaultEndian = opts.endian ?? 'le';
  }

  /** Starts a new section (section header block); each section may have its own byte order. */
  section(opts: { endian?: Endian } = {}): this {
    this.sections.push({ endian: opts.endian ?? this.defaultEndian, interfaces: [], blocks: [] });
    return this;
  }

  /** Adds an interface description block and returns its id within the current section. */
  addInterface(opts: PcapngInterfaceOptions): number {
    const s = this.current();
    const snaplen = opts.snaplen ?? 262144;
    const options: PcapngOption[] = [];
    if (opts.name !== undefined) options.push([2, Buffer.from(opts.name, 'utf8')]);
    if (opts.tsresol !== undefined) options.push([9, Buffer.from([opts.tsresol])]);
    if (opts.tsoffset !== undefined) options.push([14, i64(opts.tsoffset, s.endian)]);
    const body = concat([u16(opts.linktype, s.endian), u16(0, s.endian), u32(snaplen, s.endian), encodeOptions(options, s.endian)]);
    s.blocks.push(encodeBlock(PCAPNG_IDB, body, s.endian));
    s.interfaces.push({ snaplen, unitsPerSecond: tsresolUnits(opts.tsresol) });
    return s.interfaces.length - 1;
  }

  /** Enhanced packet block; the timestamp is a 64-bit count of the interface's units, exactly as stored. */
  addEnhanced(ifId: number, tsUnits: bigint, data: Uint8Array, origLen?: number, opts: { comment?: string } = {}): this {
    const s = this.current();
    const e = s.endian;
    const captured = capture(data, s.interfaces[ifId]);
    const options: PcapngOption[] = opts.comment === undefined ? [] : [[1, Buffer.from(opts.comment, 'utf8')]];
    const body = concat([
      u32(ifId, e), ...splitTimestamp(tsUnits, e), u32(captured.length, e), u32(origLen ?? data.length, e),
      captured, padding(captured.length, 4), encodeOptions(options, e),
    ]);
    s.blocks.push(encodeBlock(PCAPNG_EPB, body, e));
    return this;
  }

  /**
   * Enhanced packet block with the timestamp given as seconds + nanoseconds,
   * converted to the interface's units: sec*U + floor(nsec*U/1e9). The value
   * is stored as is, i.e. if_tsoffset is not subtracted.
   */
  addEnhancedAt(ifId: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen?: number): this {
    const iface = this.current().interfaces[ifId];
    if (!iface) throw new Error(`no interface ${ifId} in the current section`);
    const units = BigInt(tsSec) * iface.unitsPerSecond + (BigInt(tsNsec) * iface.unitsPerSecond) / 1_000_000_000n;
    return this.addEnhanced(ifId, units, data, origLen);
  }

  /** Simple packet block (interface 0): original length then the data, cut to interface 0's snaplen. */
  addSimple(data: Uint8Array, origLen?: number): this {
    const s = this.current();
    const iface = s.interfaces[0];
    if (!iface) throw new Error('a simple packet block needs interface 0 in the current section');
    const captured = capture(data, iface);
    s.blocks.push(encodeBlock(PCAPNG_SPB, concat([u32(origLen ?? data.length, s.endian), captured]), s.endian));
    return this;
  }

  /** Obsolete packet block (type 2): interface id (u16), drops (u16, 0), timestamp, lengths, data. */
  addObsolete(ifId: number, tsUnits: bigint, data: Uint8Array, origLen?: number): this {
    const s = this.current();
    const e = s.endian;
    const captured = capture(data, s.interfaces[ifId]);
    const body = concat([
      u16(ifId, e), u16(0, e), ...splitTimestamp(tsUnits, e), u32(captured.length, e), u32(origLen ?? data.length, e), captured,
    ]);
    s.blocks.push(encodeBlock(PCAPNG_PB, body, e));
    return this;
  }

  /** Any block with the given type and body (padded to 32 bits), e.g. unknown types, NRB (4), ISB (5). */
  addBlock(type: number, body: Uint8Array): this {
    const s = this.current();
    s.blocks.push(encodeBlock(type, body, s.endian));
    return this;
  }

  /** The whole file: each section header block followed by that section's blocks. */
  toBuffer(): Buffer {
    this.current(); // an empty writer still yields a valid file: one section header
    return concat(this.sections.flatMap((s) => [sectionHeader(s.endian), ...s.blocks]));
  }

  /** The current section, starting the first one implicitly. */
  private current(): Section {
    if (this.sections.length === 0) this.section();
    return this.sections[this.sections.length - 1]!;
  }
}

/** A section header block: byte-order magic, version 1.0, section length -1, no options. */
function sectionHeader(endian: Endian): Buffer {
  const body = concat([u32(0x1a2b3c4d, endian), u16(1, endian), u16(0, endian), i64(-1n, endian)]);
  return encodeBlock(PCAPNG_SHB, body, endian);
}

/** A 64-bit timestamp as the high and low 32-bit words pcapng stores. */
function splitTimestamp(units: bigint, endian: Endian): [Buffer, Buffer] {
  const value = BigInt.asUintN(64, units);
  return [u32(Number(value >> 32n), endian), u32(Number(value & 0xffffffffn), endian)];
}

// ---------------------------------------------------------------------------
// Link layers
// ---------------------------------------------------------------------------

/**
 * Ethernet II frame. `vlans` are VLAN ids outermost first; with `qinq` the
 * outermost tag uses TPID 0x88a8, all others 0x8100 (priority 0).
 */
export function ethernet(
  payload: Uint8Array,
  opts: { etherType: number; vlans?: number[]; qinq?: boolean; src?: string; dst?: string },
): Buffer {
  const tags = (opts.vlans ?? []).map((vid, i) => concat([u16(i === 0 && opts.qinq ? ETHERTYPE_QINQ : ETHERTYPE_VLAN), u16(vid & 0x0fff)]));
  const dst = parseMac(opts.dst ?? '02:00:00:00:00:02');
  const src = parseMac(opts.src ?? '02:00:00:00:00:01');
  return concat([dst, src, ...tags, u16(opts.etherType), payload]);
}

/** A link-layer address in an 8-byte SLL field, with its real length. */
function sllAddress(addr: string): { length: number; field: Buffer } {
  const mac = parseMac(addr);
  return { length: mac.length, field: concat([mac, padding(mac.length, 8)]) };
}

/**
 * Linux cooked capture v1 header (16 bytes): packet type (default 0, to us),
 * ARPHRD type (default 1, Ethernet), address length, 8-byte address, protocol.
 */
export function sll(payload: Uint8Array, protocol: number, opts: { packetType?: number; hatype?: number; addr?: string } = {}): Buffer {
  const addr = sllAddress(opts.addr ?? '02:00:00:00:00:01');
  return concat([u16(opts.packetType ?? 0), u16(opts.hatype ?? 1), u16(addr.length), addr.field, u16(protocol), payload]);
}

/**
 * Linux cooked capture v2 header (20 bytes): protocol, reserved, interface
 * index (default 1), ARPHRD type (default 1), packet type (default 0),
 * address length, 8-byte address.
 */
export function sll2(payload: Uint8Array, protocol: number, opts: { ifindex?: number; packetType?: number; hatype?: number } = {}): Buffer {
  const addr = sllAddress('02:00:00:00:00:01');
  const types = Buffer.from([opts.packetType ?? 0, addr.length]);
  return concat([u16(protocol), u16(0), u32(opts.ifindex ?? 1), u16(opts.hatype ?? 1), types, addr.field, payload]);
}

/** DLT_NULL header: the address family as 4 bytes in the capturing host's byte order (default 'le'). */
export function nullLink(payload: Uint8Array, family: number, endian: Endian = 'le'): Buffer {
  return concat([u32(family, endian), payload]);
}

/** DLT_LOOP header: the address family as 4 bytes in network byte order. */
export function loopLink(payload: Uint8Array, family: number): Buffer {
  return concat([u32(family), payload]);
}

// ---------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------

/** IPv4 header fields. */
export interface Ipv4Opts {
  src: string;
  dst: string;
  /** Upper-layer protocol; default 6 (TCP). */
  proto?: number;
  /** Identification; default 1. */
  id?: number;
  /** Default 64. */
  ttl?: number;
  tos?: number;
  /** Header options, padded with EOL to 4 bytes (at most 40). */
  options?: Uint8Array;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes, a multiple of 8. */
  fragOffset?: number;
  /** Overrides the total length field (checksum still correct), for malformed tests. */
  totalLength?: number;
}

/** An IPv4 packet with a correct header checksum. */
export function ipv4(opts: Ipv4Opts, payload: Uint8Array): Buffer {
  const options = opts.options ?? new Uint8Array(0);
  const paddedOptions = concat([options, padding(options.length, 4)]);
  if (paddedOptions.length > 40) throw new Error('IPv4 options longer than 40 bytes');
  const fragOffset = opts.fragOffset ?? 0;
  if (fragOffset % 8 !== 0) throw new Error(`fragment offset ${fragOffset} is not a multiple of 8`);
  const headerLength = 20 + paddedOptions.length;
  const flags = (opts.dontFragment ? 0x4000 : 0) | (opts.moreFragments ? 0x2000 : 0);
  const header = concat([
    Buffer.from([0x40 | (headerLength / 4), opts.tos ?? 0]),
    u16(opts.totalLength ?? headerLength + payload.length),
    u16(opts.id ?? 1),
    u16(flags | (fragOffset / 8)),
    Buffer.from([opts.ttl ?? 64, opts.proto ?? 6]),
    u16(0),
    parseIpv4(opts.src),
    parseIpv4(opts.dst),
    paddedOptions,
  ]);
  header.writeUInt16BE(internetChecksum(header), 10);
  return concat([header, payload]);
}

/** Splits `length` bytes into [offset, size] chunks of at most fragSize (a multiple of 8). */
function fragmentChunks(length: number, fragSize: number): Array<[number, number]> {
  if (fragSize < 8 || fragSize % 8 !== 0) throw new Error(`fragment size ${fragSize} must be a positive multiple of 8`);
  const chunks: Array<[number, number]> = [];
  for (let offset = 0; offset < length || chunks.length === 0; offset += fragSize) {
    chunks.push([offset, Math.min(fragSize, length - offset)]);
  }
  return chunks;
}

/**
 * Splits `payload` (the whole L4 datagram) into IPv4 fragments of at most
 * fragSize payload bytes (a multiple of 8). All but the last have MF set; the
 * last keeps opts.moreFragments. opts.fragOffset shifts every fragment.
 */
export function ipv4Fragments(opts: Ipv4Opts, payload: Uint8Array, fragSize: number): Buffer[] {
  const chunks = fragmentChunks(payload.length, fragSize);
  const base = { ...opts, totalLength: undefined };
  return chunks.map(([offset, size], i) =>
    ipv4(
      { ...base, fragOffset: (opts.fragOffset ?? 0) + offset, moreFragments: i < chunks.length - 1 || opts.moreFragments },
      payload.subarray(offset, offset + size),
    ),
  );
}

// ---------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------

/** An IPv6 extension header. */
export interface Ipv6Ext {
  /** 0 hop-by-hop, 43 routing, 60 destination options, 51 AH, 44 fragment, ... */
  type: number;
  /** Body after the next-header and length bytes; padded and length field set automatically. */
  data?: Uint8Array;
}

/** IPv6 header fields. */
export interface Ipv6Opts {
  src: string;
  dst: string;
  /** Final upper-layer protocol; default 6 (TCP). */
  nextHeader?: number;
  /** Default 64. */
  hopLimit?: number;
  flowLabel?: number;
  /** Extension headers in order. */
  ext?: Ipv6Ext[];
}

/** Hop-by-hop / destination options padding: Pad1 for one byte, PadN otherwise. */
function ipv6OptionPadding(length: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  if (length === 1) return Buffer.from([0]);
  return concat([Buffer.from([1, length - 2]), Buffer.alloc(length - 2)]);
}

/**
 * One extension header with its next-header byte. Options headers are padded
 * with Pad1/PadN, others with zeros; AH counts its length in 4-byte units
 * minus 2 (its body is at least reserved + SPI + sequence), the rest in
 * 8-byte units minus 1.
 */
function ipv6Extension(ext: Ipv6Ext, next: number): Buffer {
  const isAh = ext.type === 51;
  let body: Buffer = Buffer.from(ext.data ?? new Uint8Array(0));
  if (isAh && body.length < 10) body = concat([body, Buffer.alloc(10 - body.length)]);
  const padLength = padding(2 + body.length, 8).length;
  const isOptions = ext.type === 0 || ext.type === 60;
  const padded = concat([body, isOptions ? ipv6OptionPadding(padLength) : Buffer.alloc(padLength)]);
  const total = 2 + padded.length;
  return concat([Buffer.from([next, isAh ? total / 4 - 2 : total / 8 - 1]), padded]);
}

/** An IPv6 packet with the given extension headers chained before the payload. */
export function ipv6(opts: Ipv6Opts, payload: Uint8Array): Buffer {
  const exts = opts.ext ?? [];
  const types = [...exts.map((e) => e.type), opts.nextHeader ?? 6];
  const extBytes = exts.map((ext, i) => ipv6Extension(ext, types[i + 1]!));
  const body = concat([...extBytes, payload]);
  const flow = opts.flowLabel ?? 0;
  return concat([
    u32((6 << 28 | (flow & 0xfffff)) >>> 0),
    u16(body.length),
    Buffer.from([types[0]!, opts.hopLimit ?? 64]),
    parseIpv6(opts.src),
    parseIpv6(opts.dst),
    body,
  ]);
}

/**
 * Splits `payload` into IPv6 fragments of at most fragSize bytes (a multiple
 * of 8), each with a fragment header (44) after the given extension headers,
 * identification `id` (default 1).
 */
export function ipv6Fragments(opts: Ipv6Opts, payload: Uint8Array, fragSize: number, id = 1): Buffer[] {
  const chunks = fragmentChunks(payload.length, fragSize);
  return chunks.map(([offset, size], i) => {
    const more = i < chunks.length - 1 ? 1 : 0;
    const fragment: Ipv6Ext = { type: 44, data: concat([u16(offset | more), u32(id >>> 0)]) };
    return ipv6({ ...opts, ext: [...(opts.ext ?? []), fragment] }, payload.subarray(offset, offset + size));
  });
}

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

/** TCP options; encoded in a fixed order and aligned with NOPs, padded with EOL. */
export interface TcpOptionSet {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  sack?: Array<[number, number]>;
  /** [TSval, TSecr]. */
  timestamp?: [number, number];
  /** Appended as is after the others, for malformed tests. */
  raw?: Uint8Array;
}

/** TCP header fields; src/dst select the IPv4 or IPv6 pseudo-header for the checksum. */
export interface TcpOpts {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** uint32; wraps modulo 2^32. */
  seq: number;
  /** Default 0; wraps modulo 2^32. */
  ack?: number;
  flags: number;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  options?: TcpOptionSet;
}

const NOP = 1;

/**
 * Encodes TCP options the way common stacks align them: MSS; SACK-permitted
 * and timestamps (NOP-aligned); NOP + window scale; NOP NOP + SACK blocks;
 * raw bytes; then EOL padding to a multiple of 4.
 */
function encodeTcpOptions(o: TcpOptionSet): Buffer {
  const parts: Buffer[] = [];
  if (o.mss !== undefined) parts.push(concat([Buffer.from([2, 4]), u16(o.mss)]));
  if (o.sackPermitted && o.timestamp) parts.push(Buffer.from([4, 2]));
  else if (o.sackPermitted) parts.push(Buffer.from([NOP, NOP, 4, 2]));
  if (o.timestamp) {
    const lead = o.sackPermitted ? [] : [NOP, NOP];
    parts.push(concat([Buffer.from([...lead, 8, 10]), u32(o.timestamp[0] >>> 0), u32(o.timestamp[1] >>> 0)]));
  }
  if (o.wscale !== undefined) parts.push(Buffer.from([NOP, 3, 3, o.wscale]));
  if (o.sack && o.sack.length > 0) {
    const blocks = o.sack.flatMap(([left, right]) => [u32(left >>> 0), u32(right >>> 0)]);
    parts.push(concat([Buffer.from([NOP, NOP, 5, 2 + 8 * o.sack.length]), ...blocks]));
  }
  if (o.raw) parts.push(Buffer.from(o.raw));
  const unpadded = concat(parts);
  const encoded = concat([unpadded, padding(unpadded.length, 4)]);
  if (encoded.length > 40) throw new Error(`TCP options take ${encoded.length} bytes, more than 40`);
  return encoded;
}

/** The IPv4 or IPv6 pseudo-header for an upper-layer checksum. */
function pseudoHeader(src: string, dst: string, proto: number, length: number): Buffer {
  if (isIpv6(src)) return concat([parseIpv6(src), parseIpv6(dst), u32(length), Buffer.from([0, 0, 0, proto])]);
  return concat([parseIpv4(src), parseIpv4(dst), Buffer.from([0, proto]), u16(length)]);
}

/** A TCP segment (header + payload) with a correct checksum. */
export function tcp(opts: TcpOpts, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const options = encodeTcpOptions(opts.options ?? {});
  const headerLength = 20 + options.length;
  const segment = concat([
    u16(opts.sport),
    u16(opts.dport),
    u32(opts.seq >>> 0),
    u32((opts.ack ?? 0) >>> 0),
    Buffer.from([(headerLength / 4) << 4, opts.flags & 0xff]),
    u16(opts.window ?? 65535),
    u16(0),
    u16(opts.urgent ?? 0),
    options,
    payload,
  ]);
  const pseudo = pseudoHeader(opts.src, opts.dst, 6, segment.length);
  segment.writeUInt16BE(~onesSum(segment, onesSum(pseudo)) & 0xffff, 16);
  return segment;
}

/** A full IPv4 or IPv6 packet (by address form) carrying the TCP segment; `ip` adds header fields. */
export function tcpPacket(opts: TcpOpts, payload?: Uint8Array, ip: Partial<Ipv4Opts & Ipv6Opts> = {}): Buffer {
  const segment = tcp(opts, payload);
  const addresses = { src: opts.src, dst: opts.dst };
  return isIpv6(opts.src) ? ipv6({ ...ip, ...addresses }, segment) : ipv4({ ...ip, ...addresses }, segment);
}

// ---------------------------------------------------------------------------
// Conversation builder
// ---------------------------------------------------------------------------

/** One side of a TCP connection. */
export interface Endpoint {
  ip: string;
  port: number;
}

/** A timestamped IP packet. */
export interface Frame {
  tsSec: number;
  tsNsec: number;
  /** IP packet. */
  data: Buffer;
}

/** Options of a TcpConversation. */
export interface TcpConversationOptions {
  client: Endpoint;
  server: Endpoint;
  /** Initial sequence numbers; defaults 1000 and 5000. */
  isnClient?: number;
  isnServer?: number;
  /** Time of the first frame in seconds; default 1700000000. */
  startSec?: number;
  /** Time between frames; default 1 ms. */
  stepNsec?: number;
  /** Segment size for send(); default 1448. */
  mss?: number;
}

/**
 * Builds a TCP conversation frame by frame, tracking each side's next
 * sequence number. Every ACK acknowledges all the peer has sent so far
 * (delivery is instantaneous); frames are spaced stepNsec apart.
 */
export class TcpConversation {
  /** The frames produced so far, in order. */
  readonly frames: Frame[] = [];
  private readonly client: Endpoint;
  private readonly server: Endpoint;
  private readonly stepNsec: number;
  private readonly mss: number;
  private nextSeq: { client: number; server: number };
  private nextIpId = { client: 1, server: 1 };
  private clock: { sec: number; nsec: number };

  constructor(opts: TcpConversationOptions) {
    this.client = opts.client;
    this.server = opts.server;
    this.stepNsec = opts.stepNsec ?? 1_000_000;
    this.mss = opts.mss ?? 1448;
    this.nextSeq = { client: (opts.isnClient ?? 1000) >>> 0, server: (opts.isnServer ?? 5000) >>> 0 };
    this.clock = { sec: opts.startSec ?? 1_700_000_000, nsec: 0 };
  }

  /** Next sequence number the client will send. */
  get clientSeq(): number {
    return this.nextSeq.client;
  }

  /** Next sequence number the server will send. */
  get serverSeq(): number {
    return this.nextSeq.server;
  }

  /** Three-way handshake: SYN and SYN+ACK carry MSS, SACK-permitted, timestamps and window scale; then ACK. */
  handshake(): this {
    const tsval = 1;
    this.emit(true, SYN, undefined, { mss: this.mss, sackPermitted: true, timestamp: [tsval, 0], wscale: 7 });
    this.emit(false, SYN | ACK, undefined, { mss: this.mss, sackPermitted: true, timestamp: [tsval + 1, tsval], wscale: 7 });
    return this.segment(true, ACK);
  }

  /**
   * Sends data from one side in segments of at most segmentSize (default
   * mss) bytes, all ACK, the last also PSH. The peer sends a bare ACK after
   * every second segment and after the last, unless opts.noAck. Empty data
   * sends nothing.
   */
  send(fromClient: boolean, data: Uint8Array | string, opts: { noAck?: boolean; segmentSize?: number } = {}): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const size = opts.segmentSize ?? this.mss;
    const count = Math.ceil(bytes.length / size);
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      this.segment(fromClient, last ? ACK | PSH : ACK, bytes.subarray(i * size, (i + 1) * size));
      if (!opts.noAck && (last || i % 2 === 1)) this.segment(!fromClient, ACK);
    }
    return this;
  }

  /** Four-step teardown: closer FIN+ACK, peer ACK, peer FIN+ACK, closer ACK. */
  close(clientFirst = true): this {
    return this.segment(clientFirst, FIN | ACK)
      .segment(!clientFirst, ACK)
      .segment(!clientFirst, FIN | ACK)
      .segment(clientFirst, ACK);
  }

  /** RST+ACK from one side at its current sequence number. */
  reset(fromClient: boolean): this {
    return this.segment(fromClient, RST | ACK, undefined, { advance: false });
  }

  /**
   * A raw segment from one side at its next sequence number (or opts.seq),
   * acknowledging the peer when ACK is set. With advance (default true) that
   * side's next sequence number becomes the end of this segment (payload
   * plus one for SYN and for FIN).
   */
  segment(fromClient: boolean, flags: number, payload?: Uint8Array, opts: { advance?: boolean; seq?: number } = {}): this {
    return this.emit(fromClient, flags, payload, undefined, opts);
  }

  /** Builds, records and (optionally) accounts for one segment. */
  private emit(
    fromClient: boolean,
    flags: number,
    payload: Uint8Array = new Uint8Array(0),
    options?: TcpOptionSet,
    opts: { advance?: boolean; seq?: number } = {},
  ): this {
    const side = fromClient ? 'client' : 'server';
    const peer = fromClient ? 'server' : 'client';
    const [from, to] = fromClient ? [this.client, this.server] : [this.server, this.client];
    const seq = (opts.seq ?? this.nextSeq[side]) >>> 0;
    const ack = flags & ACK ? this.nextSeq[peer] : 0;
    const tcpOpts: TcpOpts = { src: from.ip, dst: to.ip, sport: from.port, dport: to.port, seq, ack, flags, options };
    const data = tcpPacket(tcpOpts, payload, { id: this.nextIpId[side]++ & 0xffff, dontFragment: true });
    this.frames.push({ tsSec: this.clock.sec, tsNsec: this.clock.nsec, data });
    this.tick();
    if (opts.advance ?? true) {
      const consumed = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
      this.nextSeq[side] = (seq + consumed) >>> 0;
    }
    return this;
  }

  /** Advances the clock by one step. */
  private tick(): void {
    const total = this.clock.nsec + this.stepNsec;
    this.clock = { sec: this.clock.sec + Math.floor(total / 1e9), nsec: total % 1e9 };
  }
}

// ---------------------------------------------------------------------------
// Frames to pcap
// ---------------------------------------------------------------------------

/** Link layers framesToPcap can wrap IP packets in. */
export type FrameLink = 'raw' | 'ethernet' | 'sll' | 'sll2' | 'null' | 'loop';

/** Link type number of each FrameLink. */
const FRAME_LINKTYPES: Record<FrameLink, number> = {
  raw: LINKTYPE_RAW,
  ethernet: LINKTYPE_ETHERNET,
  sll: LINKTYPE_LINUX_SLL,
  sll2: LINKTYPE_LINUX_SLL2,
  null: LINKTYPE_NULL,
  loop: LINKTYPE_LOOP,
};

/** Wraps an IP packet in a link layer, by IP version: EtherType 0x0800 / 0x86dd, address family 2 / 24. */
export function wrapIp(packet: Buffer, link: FrameLink): Buffer {
  const v6 = packet.length > 0 && packet[0]! >> 4 === 6;
  const etherType = v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  const family = v6 ? AF_INET6_BSD : AF_INET;
  switch (link) {
    case 'raw': return packet;
    case 'ethernet': return ethernet(packet, { etherType });
    case 'sll': return sll(packet, etherType);
    case 'sll2': return sll2(packet, etherType);
    case 'null': return nullLink(packet, family);
    case 'loop': return loopLink(packet, family);
  }
}

/**
 * Writes frames (IP packets) into a classic pcap with the given link layer
 * (default 'raw'); see wrapIp for the EtherType / address family chosen.
 * opts.linktype, if given, overrides the link's number (e.g. LINKTYPE_IPV4
 * or DLT_RAW_12 for 'raw').
 */
export function framesToPcap(frames: Frame[], link: FrameLink = 'raw', opts: PcapOptions = {}): Buffer {
  const writer = new PcapWriter({ ...opts, linktype: opts.linktype ?? FRAME_LINKTYPES[link] });
  for (const f of frames) {
    writer.add(f.tsSec, opts.nanosecond ? f.tsNsec : Math.floor(f.tsNsec / 1000), wrapIp(f.data, link));
  }
  return writer.toBuffer();
}
