/**
 * SortedSpill: values given in any order come back in key order, however many were written out to
 * the temporary file as sorted runs, and whatever their size against the read chunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SortedSpill } from '../src/spill.js';

/** A deterministic shuffle (a linear congruential generator). */
function shuffled(n: number, seed: number): number[] {
  const keys = Array.from({ length: n }, (_, i) => i * 3);
  let x = seed;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return keys;
}

test('values come back in key order, from memory alone or merged from many runs', () => {
  for (const [n, limit] of [[0, 4], [1, 4], [5, 100], [1000, 1], [1000, 7], [5000, 64]] as const) {
    const spill = new SortedSpill<{ key: number; text: string }>(limit);
    const keys = shuffled(n, n + limit);
    for (const k of keys) spill.add(k, { key: k, text: `row ${k} ✓ "quoted" \\ \n` });
    assert.equal(spill.count, n);
    if (n >= limit * 2) assert.ok(spill.spilled >= Math.floor(n / limit) - 1, `${spill.spilled} runs for ${n} entries, ${limit} held`);
    const back = [...spill.ordered()];
    spill.close();
    assert.deepEqual(back.map((v) => v.key), [...keys].sort((a, b) => a - b), `${n} entries, ${limit} held`);
    for (const v of back) assert.equal(v.text, `row ${v.key} ✓ "quoted" \\ \n`);
  }
});

test('entries longer than the read chunk, and chunks ending mid-line, are read back whole', () => {
  const spill = new SortedSpill<string>(3);
  const sizes = [1, 40_000, 7, 100_000, 32_767, 32_768, 5, 65_536, 2];
  sizes.forEach((size, i) => spill.add(sizes.length - i, 'é'.repeat(size)));
  const back = [...spill.ordered()];
  spill.close();
  assert.deepEqual(back.map((v) => v.length), [...sizes].reverse());
  assert.ok(back.every((v) => /^é*$/.test(v)));
});
