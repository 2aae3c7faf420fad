/**
 * The runner of `npm run test:fast`: every test file but fuzz and live, two at a time, with the spec
 * reporter, as `node --test --test-concurrency=2` would run them, but with the slowest files started first.
 * `node --test` sorts the files by name, which started the slowest one (view-packets-summary) near the end
 * and left one of the two slots idle while it finished. The stress tests skip themselves under
 * FTPSCOPE_FAST=1, which package.json sets with the other variables.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const LEFT_OUT = new Set(['fuzz.test.js', 'live.test.js']);
/** The files that take longest under test:fast, longest first; the others follow by name. */
const SLOWEST = ['view-packets-summary.test.js', 'golden.test.js', 'cli.test.js', 'readers.test.js', 'conformance.test.js'];

const rank = (f: string): number => (SLOWEST.includes(f) ? SLOWEST.indexOf(f) : SLOWEST.length);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js') && !LEFT_OUT.has(f))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
  .map((f) => join(here, f));

run({ files, concurrency: 2 })
  .on('test:fail', () => {
    process.exitCode = 1;
  })
  .compose(new spec())
  .pipe(process.stdout);
