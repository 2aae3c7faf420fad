/**
 * The runner of `npm run test:fast`: every test file but fuzz and live, in two processes (one per core),
 * each importing its share of the files one after the other, with the spec reporter. `node --test` starts
 * a process per file: 34 start-ups, each loading the whole of dist/src again, were half of the run's CPU
 * time. Files of one process share it, so a test that changes process-wide state (the working folder, a
 * signal handler) must put it back, as each already does for the tests beside it; `npm test` keeps one
 * process per file. The stress tests skip themselves under FTPSCOPE_FAST=1, which package.json sets.
 *
 * Run with file names, it is one of the two processes: it imports them in order.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const LEFT_OUT = new Set(['fuzz.test.js', 'live.test.js', 'live-load.test.js']);
/** Seconds each of the slowest files takes alone under test:fast (measured); the others take about half a second. */
const WEIGHT: Record<string, number> = {
  'golden.test.js': 5.2, 'view-packets-summary.test.js': 3.8, 'cli.test.js': 2.2, 'pipeline.test.js': 2.1,
  'readers.test.js': 1.8, 'ftp-engine.test.js': 1.6, 'extract.test.js': 1.5, 'conformance.test.js': 1.5,
  'gzip-faults.test.js': 1.5, 'bench-generate.test.js': 1.1, 'masking.test.js': 1.1, 'ftp-explained.test.js': 1.0,
};

const given = process.argv.slice(2);
if (given.length > 0) {
  for (const file of given) await import(pathToFileURL(file).href);
} else {
  const files = readdirSync(here).filter((f) => f.endsWith('.test.js') && !LEFT_OUT.has(f));
  // Heaviest first, each to the lighter of the two shares.
  const weight = (f: string) => WEIGHT[f] ?? 0.5;
  const shares: Array<{ files: string[]; load: number }> = [{ files: [], load: 0 }, { files: [], load: 0 }];
  for (const f of files.sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : 1))) {
    const share = shares[0]!.load <= shares[1]!.load ? shares[0]! : shares[1]!;
    share.files.push(join(here, f));
    share.load += weight(f);
  }
  const runs = shares.map((share) => new Promise<{ code: number; out: string }>((done) => {
    const child = spawn(process.execPath, ['--test-reporter=spec', fileURLToPath(import.meta.url), ...share.files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 1 : 0), out }));
  }));
  // Each share's report whole, one after the other: two spec reports interleaved line by line are unreadable.
  const results = await Promise.all(runs);
  for (const [i, r] of results.entries()) process.stdout.write(`\n# share ${i + 1} of 2: ${shares[i]!.files.length} files\n${r.out}`);
  const failed = results.filter((r) => r.code !== 0).length;
  process.stdout.write(`\n${failed === 0 ? 'test:fast: both shares passed' : `test:fast: ${failed} share(s) failed (see above)`}\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}
