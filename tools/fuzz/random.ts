/**
 * The fuzzer's source of randomness: every choice a case generator makes comes from an Rng seeded by the
 * case's seed (caseSeed mixes a run's seed and the case's index), so the same seed gives the same case.
 * Also the edge values the file and packet mutators write into length and header fields.
 */
import { prng, randomInt, shuffle } from '../../test/support/random.js';

/** A seeded source of the choices a generator makes. */
export class Rng {
  readonly float: () => number;
  constructor(seed: number) {
    this.float = prng(seed);
  }
  int(lo: number, hi: number): number {
    return randomInt(this.float, lo, hi);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.float() * a.length)]!;
  }
  u32(): number {
    return Math.floor(this.float() * 4294967296);
  }
  /** Mostly small, sometimes up to `max`: uniform in log scale. */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.pow(max + 1, this.float())) - 1 + (this.chance(0.5) ? 0 : 1));
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.float() * 256);
    return b;
  }
  shuffle<T>(a: T[]): T[] {
    return shuffle(this.float, a);
  }
}

/** The seed of case `index` of a run seeded `seed` (a 32-bit mix, so neighbouring cases differ everywhere). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export const EDGE_U32 = [0, 1, 2, 3, 4, 8, 12, 15, 16, 17, 20, 23, 24, 28, 32, 40, 60, 64, 127, 128, 255, 256, 1500, 1514, 4095, 4096, 65535, 65536, 262144, 262145, 1048576, 1048577, 0x7fffffff, 0x80000000, 0xfffffffc, 0xfffffffe, 0xffffffff];
export const EDGE_U16 = [0, 1, 2, 7, 8, 19, 20, 21, 39, 40, 60, 64, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff];
export const EDGE_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];
