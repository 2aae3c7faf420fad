/**
 * The house's layers (README, "Layout"): views read only the model, and the model imports nothing from
 * the stages. A view that reached into flow/ or ftp/ would decide a fact a second time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every module a file imports (static and dynamic), as written. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

function check(folder: string, allowed: RegExp, what: string): number {
  let n = 0;
  for (const name of readdirSync(SRC + folder).filter((f) => f.endsWith('.ts'))) {
    for (const spec of importsOf(`${SRC}${folder}/${name}`)) {
      if (spec.startsWith('node:') || !spec.startsWith('.')) continue;
      n++;
      assert.match(spec, allowed, `${folder}/${name} imports ${spec}: ${what}`);
    }
  }
  return n;
}

test('render/ imports only model/, render/ and the shared helpers; never a stage', () => {
  // arrays.ts, spill.ts and escape.ts are helpers of no stage (list utilities, sorted spill files, the
  // characters no output carries raw).
  const n = check('render', /^\.\/|^\.\.\/(model\/|arrays\.js$|spill\.js$|escape\.js$)/, 'a view reads only the model');
  assert.ok(n > 20, `${n} imports checked`);
});

test('model/ imports only model/', () => {
  const n = check('model', /^\.\//, 'the model imports nothing from the stages');
  assert.ok(n >= 2, `${n} imports checked`);
});

test('nothing under ftp/ touches the file system (extraction is a sink the caller plugs in)', () => {
  for (const name of readdirSync(SRC + 'ftp').filter((f) => f.endsWith('.ts'))) {
    for (const spec of importsOf(`${SRC}ftp/${name}`)) assert.ok(!/^node:(fs|path)/.test(spec) && !spec.includes('output/'), `ftp/${name} imports ${spec}`);
  }
});
