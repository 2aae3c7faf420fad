import { DEFAULTS, type Settings } from '../config.js';
import type { FragmentStats } from '../model/capture.js';

export type { FragmentStats };

/** Bounds on IP fragment reassembly; every one has a default and is an option. */
export interface FragmentLimits {
  /** Datagrams being reassembled at once (default 4096). */
  maxDatagrams: number;
  /** Bytes held for incomplete datagrams, all together (default 16 MiB). */
  maxBytes: number;
  /** Capture-time seconds after which an incomplete datagram is given up (default 60, as Linux's ipfrag_time is 30). */
  timeoutSec: number;
}

/** The fragment reassembler's limits from the options (src/config.ts; bytes are given in MiB). */
export function fragmentLimits(s: Pick<Settings, 'maxFragmentDatagrams' | 'maxFragmentBytes' | 'fragmentTimeout'>): FragmentLimits {
  return { maxDatagrams: s.maxFragmentDatagrams, maxBytes: Math.floor(s.maxFragmentBytes * 2 ** 20), timeoutSec: s.fragmentTimeout };
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = fragmentLimits(DEFAULTS);


interface Piece {
  off: number;
  data: Buffer;
}

interface Datagram {
  pieces: Piece[];
  /** Length of the whole payload, once the last fragment was seen; -1 before. */
  total: number;
  bytes: number;
  firstSec: number;
}

const MAX_DATAGRAM = 65_535;
const MAX_PIECES = 256;

/**
 * Puts fragmented IPv4 and IPv6 datagrams back together. Fragments are rare on the wire, so this is
 * written for clarity rather than speed: each fragment is copied, keyed by a string.
 * Overlapping fragments: the copy that arrived first wins, and differing bytes are counted.
 */
export class FragmentReassembler {
  readonly stats: FragmentStats = { reassembled: 0, incomplete: 0, refused: 0, conflicting: 0 };
  private readonly pending = new Map<string, Datagram>();
  private heldBytes = 0;

  constructor(private readonly limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS) {}

  /**
   * Adds one fragment's payload (`data`, at byte `off` of the datagram's payload, `more` when further
   * fragments follow). Returns the whole payload when this fragment completes the datagram, else null.
   */
  add(key: string, off: number, more: boolean, data: Buffer, nowSec: number): Buffer | null {
    this.expire(nowSec);
    let d = this.pending.get(key);
    if (off + data.length > MAX_DATAGRAM) {
      this.stats.refused++;
      return null;
    }
    if (d === undefined) {
      if (this.pending.size >= this.limits.maxDatagrams) this.evictOldest();
      d = { pieces: [], total: -1, bytes: 0, firstSec: nowSec };
      this.pending.set(key, d);
    }
    if (d.pieces.length >= MAX_PIECES || this.heldBytes + data.length > this.limits.maxBytes) {
      this.stats.refused++;
      return null;
    }
    if (!more) d.total = off + data.length;
    d.pieces.push({ off, data: Buffer.from(data) });
    d.bytes += data.length;
    this.heldBytes += data.length;
    if (d.total < 0) return null;
    const whole = this.assemble(d);
    if (whole === null) return null;
    this.drop(key, d);
    this.stats.reassembled++;
    return whole;
  }

  /** Gives up every incomplete datagram (at the end of the capture). */
  finish(): void {
    this.stats.incomplete += this.pending.size;
    this.pending.clear();
    this.heldBytes = 0;
  }

  private assemble(d: Datagram): Buffer | null {
    const total = d.total;
    // Is [0, total) covered?
    const sorted = [...d.pieces].sort((a, b) => a.off - b.off);
    let reach = 0;
    for (const p of sorted) {
      if (p.off > reach) return null;
      reach = Math.max(reach, p.off + p.data.length);
    }
    if (reach < total) return null;
    const out = Buffer.alloc(total);
    const seen = new Uint8Array(total);
    for (const p of d.pieces) {
      const end = Math.min(total, p.off + p.data.length);
      let conflict = false;
      for (let i = p.off; i < end; i++) {
        const v = p.data[i - p.off]!;
        if (seen[i] === 0) {
          out[i] = v;
          seen[i] = 1;
        } else if (out[i] !== v) {
          conflict = true; // the earlier copy stays; the rest of this piece still fills what is uncovered
        }
      }
      if (conflict) this.stats.conflicting++;
    }
    return out;
  }

  private expire(nowSec: number): void {
    const limit = nowSec - this.limits.timeoutSec;
    for (const [key, d] of this.pending) {
      if (d.firstSec >= limit) break; // insertion order is age order
      this.drop(key, d);
      this.stats.incomplete++;
    }
  }

  private evictOldest(): void {
    for (const [key, d] of this.pending) {
      this.drop(key, d);
      this.stats.incomplete++;
      return;
    }
  }

  private drop(key: string, d: Datagram): void {
    this.heldBytes -= d.bytes;
    this.pending.delete(key);
  }
}
