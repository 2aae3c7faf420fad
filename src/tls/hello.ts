/**
 * The ClientHello of a connection whose TLS nothing else reads (a data connection of a session whose
 * commands are encrypted): the session id and session ticket it offers, which say whether it resumes
 * the TLS session of a control connection (RFC 5246 7.4.1.2, RFC 5077 3.4). Only the first record of
 * the client's direction is read, and at most MAX_HELLO bytes of it are kept.
 */
import type { Dir, EndReason, GapReason, Stamp, StreamSink } from '../flow/stream-sink.js';

const MAX_HELLO = 16 * 1024;

/** What a ClientHello offered for resumption: 's:'+session id and 't:'+ticket (hex), as KeyLog.remember names them. */
export type Offered = string[];

export class ClientHelloSniffer implements StreamSink {
  readonly checkRetransmissions = false;
  private bytes: Buffer | null = Buffer.alloc(0);
  /** The resumption keys offered, once the ClientHello was read (empty: none offered, or not TLS). */
  offered: Offered | null = null;

  constructor(private readonly clientDir: Dir) {}

  data(dir: Dir, buf: Buffer, off: number, len: number, _at: number, _when: Readonly<Stamp>): void {
    if (dir !== this.clientDir || this.bytes === null) return;
    this.bytes = Buffer.concat([this.bytes, buf.subarray(off, off + Math.min(len, MAX_HELLO - this.bytes.length))]);
    const b = this.bytes;
    if (b.length >= 1 && b[0] !== 0x16) return this.done([]);
    if (b.length < 5) return;
    const end = 5 + b.readUInt16BE(3);
    if (b.length >= Math.min(end, MAX_HELLO)) this.done(offers(b.subarray(5, Math.min(end, b.length))));
  }

  gap(dir: Dir, _at: number, _len: number, _reason: GapReason): void {
    if (dir === this.clientDir && this.bytes !== null) this.done([]);
  }

  end(dir: Dir, _reason: EndReason): void {
    if (dir === this.clientDir && this.bytes !== null) this.done([]);
  }

  private done(offered: Offered): void {
    this.offered = offered;
    this.bytes = null;
  }
}

/** The session id and ticket of a ClientHello handshake message (type 1), when the record holds one. */
function offers(h: Buffer): Offered {
  try {
    if (h[0] !== 1) return [];
    const out: Offered = [];
    let at = 4 + 34;
    const sid = h[at]!;
    if (sid > 0) out.push(`s:${h.subarray(at + 1, at + 1 + sid).toString('hex')}`);
    at += 1 + sid;
    at += 2 + h.readUInt16BE(at);
    at += 1 + h[at]!;
    const end = Math.min(h.length, at + 2 + h.readUInt16BE(at));
    at += 2;
    while (at + 4 <= end) {
      const type = h.readUInt16BE(at);
      const length = h.readUInt16BE(at + 2);
      if (type === 35 && length > 0) out.push(`t:${h.subarray(at + 4, at + 4 + length).toString('hex')}`);
      at += 4 + length;
    }
    return out;
  } catch {
    return [];
  }
}
