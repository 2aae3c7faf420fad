/**
 * The fuzz tool's inputs built to fool the program (tools/fuzz/hostile-inputs.ts: hostile and bidi names,
 * offsets past 16 TiB, damaged gzip, a full disk as root, filter injection), each through the CLI in every
 * view and format: the analysis prints, nothing internal, nothing outside the folder, nothing raw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHostileInputs } from '../tools/fuzz/hostile-inputs.js';

test('every hostile input of the fuzz tool is analysed and printed: no internal error, nothing outside the folder, nothing raw on the output', async (t) => {
  const problems = await runHostileInputs((line) => t.diagnostic(line));
  assert.deepEqual(problems, []);
});
