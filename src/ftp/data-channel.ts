import type { Connection, Stamp } from '../flow/connections.js';
import type { Dir, EndReason, GapReason, StreamSink } from '../flow/stream-sink.js';
import type { TlsInfo, Transfer } from '../model/ftp-model.js';
import type { ClientHelloSniffer } from '../tls/hello.js';
import type { TransferFile } from './extraction.js';

/** What a data connection carried, per TCP direction. */
export class DataObserver implements StreamSink {
  readonly bytes = [0, 0];
  readonly missing = [0, 0];
  /** Offset of the first missing byte of each direction (-1: none missing). */
  readonly firstMissing = [-1, -1];
  readonly first: [Stamp | null, Stamp | null] = [null, null];
  readonly last: [Stamp | null, Stamp | null] = [null, null];
  readonly ends: [EndReason | null, EndReason | null] = [null, null];
  transfer: Transfer | null = null;
  /** Its TLS, when the key log was asked to open it (PROT P). */
  tls: TlsInfo | null = null;
  /** A TLS decoder is in front, and its ServerHello has not yet said whether the key log opens it. */
  tlsUndecided = false;
  /** An unclaimed connection's ClientHello, read for the TLS session it resumes (see reportUnclaimed). */
  hello: ClientHelloSniffer | null = null;
  /** Both directions have ended (FIN, RST, ...): the figures are final. */
  done = false;
  /** Extraction: the file of its transfer, and the TCP direction that carries the transfer's data. */
  file: TransferFile | null = null;
  fileDir: Dir = 0;
  /** Extraction: bytes that came before the command they serve was known (bounded), replayed then. */
  early: Array<{ dir: Dir; at: number; bytes: Buffer | null; len: number }> | null = null;
  private earlyBytes = 0;

  constructor(
    readonly conn: Connection,
    private readonly onDone: (o: DataObserver) => void,
    /** Counting needs no check of retransmitted bytes; extracting a file does. */
    readonly checkRetransmissions: boolean,
    /** Bytes held until the command the connection serves is known (FtpLimits.maxEarlyDataBytes). */
    private readonly earlyLimit: number,
  ) {}

  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, c: Readonly<Stamp>): void {
    this.bytes[dir]! += len;
    if (this.file !== null) {
      if (dir === this.fileDir) this.file.write(buf, off, len, at);
    } else if (this.early !== null && this.earlyBytes + len <= this.earlyLimit) {
      this.early.push({ dir, at, bytes: Buffer.from(buf.subarray(off, off + len)), len });
      this.earlyBytes += len;
    }
    if (this.first[dir] === null) this.first[dir] = { frame: c.frame, sec: c.sec, nsec: c.nsec };
    const last = this.last[dir];
    if (last === null) this.last[dir] = { frame: c.frame, sec: c.sec, nsec: c.nsec };
    else {
      last.frame = c.frame;
      last.sec = c.sec;
      last.nsec = c.nsec;
    }
  }

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    if (reason === 'start-unseen' || len <= 0) return;
    this.missing[dir]! += len;
    if (this.firstMissing[dir]! < 0) this.firstMissing[dir] = at;
    if (this.file !== null) {
      if (dir === this.fileDir) this.file.gap(at, len);
    } else this.early?.push({ dir, at, bytes: null, len });
  }

  /** Starts writing the transfer's data to its file: what came early first. */
  startFile(file: TransferFile, dir: Dir): void {
    this.file = file;
    this.fileDir = dir;
    for (const e of this.early ?? []) {
      if (e.dir !== dir) continue;
      if (e.bytes !== null) file.write(e.bytes, 0, e.len, e.at);
      else file.gap(e.at, e.len);
    }
    this.early = null;
  }

  end(dir: Dir, reason: EndReason): void {
    this.ends[dir] = reason;
    if (this.ends[0] !== null && this.ends[1] !== null && !this.done) {
      this.done = true;
      this.onDone(this);
    }
  }
}

