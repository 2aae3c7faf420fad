import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet.js';
import type { Dir } from './stream-sink.js';

/**
 * A connection's history in Zeek's letters (conn.log `history`, documented in Zeek's base/protocols/conn):
 * one letter per kind of packet the first time a side sends it, upper case for the client (Zeek's
 * originator), lower case for the server. The letters and when they are written follow Zeek's TCP analyzer:
 *
 *   S a SYN, H a SYN+ACK, A a pure ACK, D data, F a FIN, R a RST, Q SYN with FIN or RST, I FIN with RST;
 *   S, H, F and R again when the packet's sequence number differs from the last one of its kind;
 *   T a retransmission, W a zero window, G a gap in the stream: at the 1st, 10th, 100th... occurrence;
 *   ^ first: the first packet came from the server (Zeek flips the connection round).
 *
 * C (bad checksum) is never written: checksums are not verified (offloading makes most captured ones wrong).
 * Call order, per packet: `packet` before the segment's bytes reach the reassembler, then `gaps` with the
 * count of gaps each direction's stream has declared so far.
 */
/** A bit of `seen` (per direction, as the kinds): the direction's highest sequence number is known. */
const END_KNOWN = 0x400;

/** The longest history kept (Zeek's is unbounded; a real connection has a few dozen letters at most). */
export const MAX_LETTERS = 256;

export class TcpHistory {
  letters = '';
  /** Kinds already written, 16 bits per direction (Zeek's hist_seen). */
  private seen = 0;
  /**
   * Sequence number of the last SYN, FIN (its end) and RST of each direction, as signed 32-bit values
   * (small integers, never boxed); read only once one was seen.
   */
  private syn0 = 0;
  private syn1 = 0;
  private fin0 = 0;
  private fin1 = 0;
  private rst0 = 0;
  private rst1 = 0;
  /** One past the highest sequence number each direction has sent (signed 32-bit; see END_KNOWN). */
  private end0 = 0;
  private end1 = 0;
  /** Retransmissions, zero windows and gaps of each direction (their letter repeats at powers of ten). */
  private rxmit0 = 0;
  private rxmit1 = 0;
  private win0 = 0;
  private win1 = 0;
  private gap0 = 0;
  private gap1 = 0;

  constructor(firstFromServer: boolean) {
    this.reset(firstFromServer);
  }

  /** Back to no packet seen. */
  reset(firstFromServer: boolean): void {
    this.letters = firstFromServer ? '^' : '';
    this.seen = 0;
    this.syn0 = this.syn1 = this.fin0 = this.fin1 = this.rst0 = this.rst1 = this.end0 = this.end1 = 0;
    this.rxmit0 = this.rxmit1 = this.win0 = this.win1 = this.gap0 = this.gap1 = 0;
  }

  /** One packet of direction `dir`; `finSeen` of the peer: the peer has sent a FIN (a zero window then means nothing). */
  packet(dir: Dir, flags: number, seq: number, len: number, window: number, peerClosed: boolean): void {
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.check(dir, 0x8, 'I');
      else this.check(dir, 0x40, 'Q');
    } else if (syn) {
      const code = flags & TCP_ACK ? 'H' : 'S';
      const at = seq | 0;
      if (this.check(dir, 0x1, code) && at !== (dir === 0 ? this.syn0 : this.syn1)) this.add(dir, code);
      if (dir === 0) this.syn0 = at;
      else this.syn1 = at;
    } else if (fin) {
      const at = (seq + len) | 0;
      if (this.check(dir, 0x2, 'F') && at !== (dir === 0 ? this.fin0 : this.fin1)) this.add(dir, 'F');
      if (dir === 0) this.fin0 = at;
      else this.fin1 = at;
    } else if (rst) {
      const at = seq | 0;
      if (this.check(dir, 0x4, 'R') && at !== (dir === 0 ? this.rst0 : this.rst1)) this.add(dir, 'R');
      if (dir === 0) this.rst0 = at;
      else this.rst1 = at;
    } else if (len > 0) this.check(dir, 0x10, 'D');
    else if (flags & TCP_ACK) this.check(dir, 0x20, 'A');
    if (window === 0 && !rst && !peerClosed) {
      if (dir === 0) this.scaled(0, 'W', ++this.win0);
      else this.scaled(1, 'W', ++this.win1);
    }
    // A segment that ends at or before the highest sequence number its side has sent repeats bytes.
    const end = (seq + len + (syn ? 1 : 0) + (fin ? 1 : 0)) | 0;
    const last = dir === 0 ? this.end0 : this.end1;
    const known = dir === 0 ? END_KNOWN : END_KNOWN << 16;
    if ((this.seen & known) === 0 || ((end - last) | 0) > 0) {
      this.seen |= known;
      if (dir === 0) this.end0 = end;
      else this.end1 = end;
    } else if (len > 0 && !rst) {
      if (dir === 0) this.scaled(0, 'T', ++this.rxmit0);
      else this.scaled(1, 'T', ++this.rxmit1);
    }
  }

  /**
   * The streams have declared `g0` and `g1` gaps in all. `write`: false when the packet closed (FIN or RST):
   * like Zeek, gaps revealed at the very end are counted but not written, being unreliable.
   */
  gaps(g0: number, g1: number, write: boolean): void {
    while (this.gap0 < g0) {
      this.gap0++;
      if (write) this.scaled(0, 'G', this.gap0);
    }
    while (this.gap1 < g1) {
      this.gap1++;
      if (write) this.scaled(1, 'G', this.gap1);
    }
  }

  /** Writes the letter when this kind is new for the direction; true when it had been written before. */
  private check(dir: Dir, mask: number, code: string): boolean {
    const bit = dir === 0 ? mask : mask << 16;
    if (this.seen & bit) return true;
    this.seen |= bit;
    this.add(dir, code);
    return false;
  }

  /** The letter at the 1st, 10th, 100th... occurrence. */
  private scaled(dir: Dir, code: string, count: number): void {
    let t = 1;
    while (t < count) t *= 10;
    if (t === count) this.add(dir, code);
  }

  private add(dir: Dir, code: string): void {
    // Bounded: a flood of SYNs with new sequence numbers on one connection would add a letter each.
    if (this.letters.length < MAX_LETTERS) this.letters += dir === 0 ? code : code.toLowerCase();
  }
}
