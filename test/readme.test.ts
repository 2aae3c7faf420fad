/**
 * The README's sample output is real: each block marked `<!-- sample: ARGS -->` must be a run of
 * consecutive lines of what `ftpscope ARGS` prints today (run in-process from the repository root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const SAMPLES = [...README.matchAll(/<!-- sample: (.+?) -->\n```text\n([\s\S]*?)\n```/g)].map((m) => ({ args: m[1]!.split(' '), lines: m[2]!.split('\n') }));

test('the README shows sample output of the timeline and of the walkthrough', () => {
  assert.deepEqual(SAMPLES.map((s) => s.args[0]), ['-v', 'demo']);
  for (const s of SAMPLES) assert.ok(s.lines.length >= 5, `${s.args.join(' ')}: a sample of ${s.lines.length} lines`);
});

for (const s of SAMPLES) {
  test(`README sample "ftpscope ${s.args.join(' ')}" is what ftpscope prints`, async () => {
    const c = collect();
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      assert.equal(await main(s.args, c.io), 0, c.stderr());
    } finally {
      process.chdir(cwd);
    }
    const out = c.stdout().split('\n');
    const at = out.findIndex((_, i) => s.lines.every((l, k) => out[i + k] === l));
    assert.ok(at >= 0, `not found in the output, in this order:\n${s.lines.join('\n')}`);
  });
}
