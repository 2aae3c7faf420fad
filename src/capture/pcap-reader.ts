import { EventEmitter } from 'node:events';
import * as pcapParser from 'pcap-parser';
import type { ChunkInput } from './chunk-input.js';
import { CaptureFault, MAX_RECORD_BYTES, RecordBatch, type RecordReader } from './record-batch.js';

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
 * Classic pcap, read through pcap-parser, with the gaps it leaves closed here:
 * - nanosecond files (magic a1b23c4d): pcap-parser rejects the magic, so it is given the global header
 *   rewritten to the microsecond magic and its "microseconds" are read as nanoseconds;
 * - the global header is checked here (version, link type with its FCS bits masked off), with a clear message;
 * - back-pressure: pcap-parser is fed one chunk at a time through a stand-in stream, so it emits exactly
 *   the records of that chunk, synchronously, and we can stop between chunks;
 * - a record header claiming an impossible length would make pcap-parser buffer the rest of the file;
 *   it is stopped and reported with its byte offset instead;
 * - a record cut off by the end of the file is dropped silently by pcap-parser; it is reported here.
 */
export class PcapReader implements RecordReader {
  readonly format: string;
  readonly faults: CaptureFault[] = [];
  private readonly batch = new RecordBatch();
  private readonly feed = new StandInStream();
  private readonly littleEndian: boolean;
  private readonly nanosecond: boolean;
  private linktype = 1;
  /** Offset of the next record header; offset of the record whose header was seen last. */
  private nextRecord = 24;
  private currentRecord = 24;
  private awaitingBody = false;
  private stopped = false;
  private head: Buffer | null;

  constructor(
    readonly name: string,
    private readonly input: ChunkInput,
    head: Buffer,
  ) {
    const v = pcapVariant(head);
    if (v === null) throw new Error('PcapReader needs a pcap head');
    this.littleEndian = v.littleEndian;
    this.nanosecond = v.nanosecond;
    this.format = `${input.gzip ? 'gzip, ' : ''}pcap${v.nanosecond ? ' (nanosecond)' : ''}`;
    this.head = head;
    const parser = pcapParser.parse(this.feed);
    parser.on('packetHeader', (h) => this.onHeader(h.capturedLength));
    parser.on('packet', (p) => this.onPacket(p.header.timestampSeconds, p.header.timestampMicroseconds, p.header.originalLength, p.data));
    parser.on('error', (e) => this.fail(0, e.message));
  }

  get fault(): CaptureFault | null {
    return this.faults[0] ?? null;
  }

  get bytesRead(): number {
    return this.input.rawBytes;
  }

  async next(): Promise<RecordBatch | null> {
    const batch = this.batch;
    batch.reset();
    while (batch.count === 0 && !this.stopped) {
      let chunk: Buffer | null;
      if (this.head !== null) {
        chunk = this.globalHeader(this.head);
        this.head = null;
        if (chunk === null) break;
      } else {
        chunk = await this.input.next();
      }
      if (chunk === null) {
        this.atEnd();
        break;
      }
      this.feed.emit('data', chunk);
    }
    return batch.count > 0 ? batch : null;
  }

  close(): void {
    this.stopped = true;
    this.input.close();
  }

  /** Checks the global header and returns the head to feed pcap-parser, its magic made one it accepts. */
  private globalHeader(head: Buffer): Buffer | null {
    if (head.length < 24) {
      this.fail(head.length, `file ends inside the pcap file header (${head.length} of 24 bytes)`);
      return null;
    }
    const le = this.littleEndian;
    const major = le ? head.readUInt16LE(4) : head.readUInt16BE(4);
    const minor = le ? head.readUInt16LE(6) : head.readUInt16BE(6);
    if (major !== 2) {
      this.fail(4, `unsupported pcap version ${major}.${minor} (only 2.x exists)`);
      return null;
    }
    const rawLink = le ? head.readUInt32LE(20) : head.readUInt32BE(20);
    this.linktype = rawLink & 0xffff; // the upper bits may carry the FCS length
    const fixed = Buffer.from(head);
    if (le) {
      fixed.writeUInt32LE(0xa1b2c3d4, 0);
      fixed.writeUInt16LE(2, 4);
      fixed.writeUInt16LE(4, 6);
    } else {
      fixed.writeUInt32BE(0xa1b2c3d4, 0);
      fixed.writeUInt16BE(2, 4);
      fixed.writeUInt16BE(4, 6);
    }
    return fixed;
  }

  private onHeader(capturedLength: number): void {
    if (this.stopped) return;
    this.currentRecord = this.nextRecord;
    if (capturedLength > MAX_RECORD_BYTES) {
      this.fail(this.currentRecord, `record header claims ${capturedLength} captured bytes (more than ${MAX_RECORD_BYTES}): the file is corrupt here`);
      return;
    }
    this.nextRecord += 16 + capturedLength;
    this.awaitingBody = true;
  }

  private onPacket(sec: number, frac: number, orig: number, data: Buffer): void {
    if (this.stopped) return;
    this.awaitingBody = false;
    const unit = this.nanosecond ? 1_000_000_000 : 1_000_000;
    if (frac >= unit) {
      sec += Math.floor(frac / unit);
      frac %= unit;
    }
    const nsec = this.nanosecond ? frac : frac * 1000;
    this.batch.push(data, 0, data.length, orig, sec, nsec, this.linktype, this.currentRecord);
  }

  private atEnd(): void {
    const end = this.input.endOffset;
    if (this.input.error !== null) {
      this.fail(end, this.input.error);
    } else if (this.awaitingBody) {
      this.fail(this.currentRecord, `record cut short: its header says ${this.nextRecord - this.currentRecord - 16} captured bytes, the file ends ${end - this.currentRecord - 16} bytes into them`);
    } else if (end > this.nextRecord && end - this.nextRecord < 16) {
      this.fail(this.nextRecord, `file ends inside a record header (${end - this.nextRecord} of 16 bytes)`);
    }
    this.stopped = true;
  }

  private fail(offset: number, reason: string): void {
    if (!this.stopped) this.faults.push(new CaptureFault(this.name, offset, reason));
    this.stopped = true;
  }
}

/** The smallest thing pcap-parser accepts as a stream: we emit 'data' ourselves, one chunk at a time. */
class StandInStream extends EventEmitter {
  pause(): void {}
  resume(): void {}
}
