/**
 * Fuzzing in CI: a bounded, seeded, deterministic number of hostile captures per level (file bytes,
 * packets, FTP streams; see tools/fuzz/cases.ts), then every input kept in test/fuzz-regressions/. Each
 * case is analysed and every output rendered in a worker thread, under a time bound (5 s) and a memory
 * bound (512 MiB of heap and buffers after the case; a 1 GiB heap cap): it must not throw, hang, blow the
 * memory bound, or print a raw control character. Then the analyser must still be usable: the fixture
 * active-ls-pwd.pcap gives the same output (JSON and views) in every worker as before the bad input.
 *
 * FTPSCOPE_FUZZ_CASES sets the cases per level (default 150), FTPSCOPE_FUZZ_SEED the seed. A failure names
 * its level and seed: `node dist/tools/fuzz/main.js --replay LEVEL:SEED` shows it in full, and
 * `npm run fuzz` saves such inputs into test/fuzz-regressions/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LEVELS, generateCase } from '../tools/fuzz/cases.js';
import { loadCorpus, type Corpus } from '../tools/fuzz/corpus.js';
import { seedOfName, signature, type Failure } from '../tools/fuzz/failures.js';
import { FuzzPool } from '../tools/fuzz/pool.js';
import { caseSeed } from '../tools/fuzz/random.js';
import { referenceOutput } from '../tools/fuzz/runner.js';

const CASES = Number(process.env.FTPSCOPE_FUZZ_CASES ?? 150);
const SEED = Number(process.env.FTPSCOPE_FUZZ_SEED ?? 20240611);
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const REGRESSIONS = fileURLToPath(new URL('../../test/fuzz-regressions/', import.meta.url));
const REFERENCE = `${FIXTURES}active-ls-pwd.pcap`;

let pool: FuzzPool;
let corpus: Corpus;
let clean: string;
let before_: string[];

before(async () => {
  corpus = await loadCorpus(FIXTURES);
  pool = new FuzzPool({ workers: 2, timeoutMs: 5000, memoryLimit: 512 * 2 ** 20, heapCapMb: 1024 });
  clean = await referenceOutput(REFERENCE);
  before_ = await pool.reference(REFERENCE);
});

after(async () => {
  await pool?.close();
});

/** Failures grouped by what broke (signature), each with its count and first cases. */
function report(failures: Array<{ at: string; f: Failure }>): string {
  const groups = new Map<string, Array<{ at: string; f: Failure }>>();
  for (const x of failures) {
    const key = signature(x.f);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(x);
  }
  const lines: string[] = [`${failures.length} failure(s), ${groups.size} distinct:`];
  for (const g of groups.values()) {
    const { f } = g[0]!;
    const frame = (f.stack ?? '').split('\n').find((l) => l.includes('/src/'))?.trim() ?? '';
    lines.push(`- ${f.kind} in ${f.where}: ${f.message} — ${g.length} case(s): ${g.slice(0, 3).map((x) => x.at).join(', ')}${g.length > 3 ? ', …' : ''}`);
    if (f.detail) lines.push(`    ${f.detail.slice(0, 200)}`);
    if (frame) lines.push(`    ${frame}`);
  }
  return lines.join('\n');
}

for (const [li, level] of LEVELS.entries()) {
  test(`fuzz, ${level} level: ${CASES} seeded cases neither crash, hang, exhaust memory nor print control characters`, { timeout: 600_000 }, async () => {
    const failures: Array<{ at: string; f: Failure }> = [];
    // Twice as many cases in flight as workers: the next case is generated while the workers run.
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < CASES; i++) {
      const seed = caseSeed(SEED + li, i);
      const c = generateCase(level, seed, corpus);
      const job: Promise<void> = pool
        .run(`${level}-s${seed}`, seed, c.bytes)
        .then((r) => {
          for (const f of r.failures) failures.push({ at: `${level}:${seed}`, f });
        })
        .finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= pool.size * 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    assert.equal(failures.length, 0, report(failures));
  });
}

const regressionFiles = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS).filter((n) => !/\.(md|txt)$/.test(n)).sort() : [];

for (const name of regressionFiles) {
  test(`fuzz regression ${name}`, { timeout: 120_000 }, async () => {
    const r = await pool.run(name, seedOfName(name), readFileSync(`${REGRESSIONS}${name}`));
    assert.equal(r.failures.length, 0, report(r.failures.map((f) => ({ at: name, f }))));
  });
}

test('the analyser is still usable after the bad input: active-ls-pwd.pcap gives the same output as before, as a clean run does', async () => {
  assert.ok(before_.length > 0);
  for (const text of before_) assert.equal(text, clean, 'before the fuzz cases, each worker gives what a clean run gives');
  const after_ = await pool.reference(REFERENCE);
  for (const [i, text] of after_.entries()) {
    assert.equal(text, clean, `worker ${i} (replaced ${pool.generations[i]} times) gives another output after the fuzz cases`);
  }
  assert.equal(await referenceOutput(REFERENCE), clean, 'the main thread too');
});
