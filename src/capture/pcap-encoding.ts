/**
 * Classic pcap (libpcap 2.4) encoding, the one place its headers are written: the 24-byte global header
 * and the 16-byte record header, each put into a caller's buffer at an offset (no allocation, so a writer
 * of gigabytes can build records in place). Used by `ftpscope live --write` (pcap-writer.ts), the tests'
 * capture builders and the benchmark's capture generator.
 *
 * Values are written with Buffer's checked writers: one that does not fit its field throws.
 */

/** Bytes of the file's global header. */
export const PCAP_HEADER_BYTES = 24;
/** Bytes of a record's header (the captured bytes follow it). */
export const PCAP_RECORD_HEADER_BYTES = 16;
/** Magic of a file with microsecond timestamps. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** Magic of a file with nanosecond timestamps. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;

/** What the global header says. */
export interface PcapHeaderFields {
  /** Link type of every record (1: Ethernet). */
  linktype: number;
  /** Snapshot length: the most bytes a record holds. */
  snaplen: number;
  /** Timestamps' fractions in nanoseconds (else microseconds). */
  nanosecond: boolean;
  /** Headers in big-endian byte order (else little-endian, the usual). */
  bigEndian?: boolean;
}

/** Writes the global header (version 2.4, time zone and accuracy 0) at `off`; returns the offset after it. */
export function writePcapHeader(buf: Buffer, off: number, h: PcapHeaderFields): number {
  const be = h.bigEndian === true;
  const u16 = (v: number, at: number) => (be ? buf.writeUInt16BE(v, off + at) : buf.writeUInt16LE(v, off + at));
  const u32 = (v: number, at: number) => (be ? buf.writeUInt32BE(v, off + at) : buf.writeUInt32LE(v, off + at));
  u32(h.nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, 0);
  u16(2, 4); // version 2.4
  u16(4, 6);
  u32(0, 8); // time zone
  u32(0, 12); // accuracy
  u32(h.snaplen, 16);
  u32(h.linktype, 20);
  return off + PCAP_HEADER_BYTES;
}

/**
 * Writes a record's header at `off`: seconds, the fraction (microseconds or nanoseconds, as the file's
 * header says), the bytes captured (`capLen`, which the caller puts right after) and the bytes on the wire.
 * Returns the offset where the captured bytes go.
 */
export function writePcapRecordHeader(
  buf: Buffer, off: number, sec: number, frac: number, capLen: number, origLen: number, bigEndian = false,
): number {
  if (bigEndian) {
    buf.writeUInt32BE(sec, off);
    buf.writeUInt32BE(frac, off + 4);
    buf.writeUInt32BE(capLen, off + 8);
    buf.writeUInt32BE(origLen, off + 12);
  } else {
    buf.writeUInt32LE(sec, off);
    buf.writeUInt32LE(frac, off + 4);
    buf.writeUInt32LE(capLen, off + 8);
    buf.writeUInt32LE(origLen, off + 12);
  }
  return off + PCAP_RECORD_HEADER_BYTES;
}
