import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES, writePcapHeader, writePcapRecordHeader } from './pcap-encoding.js';

/**
 * Writes a classic pcap file (nanosecond timestamps) as packets come, for `ftpscope live --write`.
 * Records are gathered in memory and written out at least once a second (and whenever a megabyte has
 * gathered), so a crash or a kill loses at most the last second; the file is always a valid capture up to
 * its last whole record.
 */
export class PcapFileWriter {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lastFlush = Date.now();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Bytes in the file: whole records only. */
  private size = PCAP_HEADER_BYTES;
  packets = 0;
  /** Why writing stopped (a full disk ...), once it did; the capture goes on without it. */
  failure: string | null = null;

  /** Told once, when writing stops. */
  onFailure: ((why: string) => void) | null = null;

  constructor(
    readonly path: string,
    linktype: number,
    snaplen = 262_144,
  ) {
    this.fd = openSync(path, 'w');
    const header = Buffer.alloc(PCAP_HEADER_BYTES);
    writePcapHeader(header, 0, { linktype, snaplen, nanosecond: true });
    writeSync(this.fd, header);
    // A quiet network still gets its last packets onto the disk within a second.
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  /** One record: `data[off, off + len)` captured, `orig` bytes on the wire. */
  write(sec: number, nsec: number, data: Buffer, off: number, len: number, orig: number): void {
    if (this.closed || this.failure !== null) return;
    const rec = Buffer.allocUnsafe(PCAP_RECORD_HEADER_BYTES + len);
    data.copy(rec, writePcapRecordHeader(rec, 0, sec >>> 0, nsec, len, Math.max(orig, len)), off, off + len);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.packets++;
    if (this.pendingBytes >= 1 << 20 || Date.now() - this.lastFlush >= 1000) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 || this.closed || this.failure !== null) {
      this.lastFlush = Date.now();
      return;
    }
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.lastFlush = Date.now();
    try {
      for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done, chunk.length - done, this.size + done);
      this.size += chunk.length;
    } catch (e) {
      // A full disk (or any refusal) stops the file at its last whole record; the analysis goes on.
      const code = (e as NodeJS.ErrnoException).code;
      this.failure = `${code === 'ENOSPC' ? 'the disk is full' : code === 'EDQUOT' ? 'the disk quota is used up' : 'writing was refused'} (${code ?? String(e)}) after ${this.packets - this.countOf(chunk)} packets`;
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the file keeps what it had; a cut last record is what readers report as such
      }
      clearInterval(this.timer);
      this.onFailure?.(this.failure);
    }
  }

  /** The records in a chunk being written (for the count of those the file kept). */
  private countOf(chunk: Buffer): number {
    let n = 0;
    for (let at = 0; at + PCAP_RECORD_HEADER_BYTES <= chunk.length; n++) at += PCAP_RECORD_HEADER_BYTES + chunk.readUInt32LE(at + 8);
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    closeSync(this.fd);
  }
}
