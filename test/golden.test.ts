/**
 * Golden files: every view of every fixture, and of Zeek's conformance captures when ../shared is there,
 * rendered at 80 columns without colour, and the machine outputs of the same captures (`--format json`,
 * `ndjson`, `zeek`), compared with test/golden/. The files are never edited by hand: `npm run golden`
 * writes them again, and the diff is reviewed like code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { listCaptures } from './support/captures.js';
import { main } from '../src/cli/main.js';
import { displayWidth } from '../src/render/text.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GOLDEN = join(ROOT, 'test/golden');
const UPDATE = process.env.FTPSCOPE_UPDATE_GOLDEN === '1';
/** Views that promise to stay within the width. */
const NARROW = new Set(['timeline', 'walkthrough', 'ladder', 'packets']);
const VIEWS = ['timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'];
/** What no output holds raw: C0 but \t and \n, DEL, C1, the bidi and invisible format characters (issue 15). */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
/** The machine outputs, each with the extension of its golden file (not .log: the repository ignores *.log). */
const FORMATS = [
  ['json', 'json'],
  ['ndjson', 'ndjson'],
  ['zeek', 'zeek.tsv'],
] as const;

/**
 * The one place where output is normalised before it is compared with or written to a golden file.
 * Capture paths need nothing: the CLI runs from the repository root on a relative path (see render), so
 * `capture.files` is the same on every machine. A file run prints no memory figure (only `ftpscope live`
 * does). What is left is the version in the JSON document's `"ftpscope"` field, which would otherwise
 * change every golden at each release, which becomes `<version>`, and the wall-clock times of a Zeek log's
 * #open and #close lines, which become XXXX-XX-XX-XX-XX-XX. Nothing else is touched.
 */
function normalise(out: string, format: string): string {
  if (format === 'zeek') {
    // When the log was opened and closed: the wall clock, masked as Zeek's own test suite masks it.
    const stamps = out.match(/^#(open|close)\t.*$/gm) ?? [];
    assert.equal(stamps.length, 2, 'a Zeek log has one #open and one #close line');
    for (const l of stamps) assert.match(l, /^#(open|close)\t\d{4}(-\d\d){5}$/, 'Zeek writes #open and #close as %Y-%m-%d-%H-%M-%S');
    return out.replace(/^#(open|close)\t.*$/gm, '#$1\tXXXX-XX-XX-XX-XX-XX');
  }
  if (format !== 'json') return out;
  const lines = out.split('\n');
  assert.match(lines[1] ?? '', /^  "ftpscope": "[^"]+",$/, 'the JSON document no longer starts with its "ftpscope" version field');
  lines[1] = '  "ftpscope": "<version>",';
  return lines.join('\n');
}

/** Runs the CLI in-process, from the repository root so that file names in the output are relative. */
async function render(args: string[]): Promise<string> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    await main(args, { stdout, stderr, stdin: new PassThrough(), stdoutIsTTY: false, env: {} });
  } finally {
    process.chdir(cwd);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const conformance = join(ROOT, '../shared/conformance');
// Conformance captures up to 50 KB: the large ones (thousands of packets) would only bloat the goldens.
const all = [...listCaptures(join(ROOT, 'fixtures')), ...listCaptures(conformance).filter((c) => statSync(c).size <= 50_000)];
if (!existsSync(conformance)) test('golden files of ../shared/conformance', (t) => t.skip('../shared/conformance not found: its golden files are not checked'));

for (const path of all) {
  const rel = relative(ROOT, path);
  const name = rel.replace(/^\.\.\/shared\/conformance\//, 'conformance/').replace(/[/]/g, '__');
  for (const view of VIEWS) {
    test(`golden: ${view} of ${rel}`, async () => {
      const out = await render(['-v', view, '--width', '80', '--color', 'never', rel]);
      const file = join(GOLDEN, `${name}.${view}.txt`);
      if (UPDATE) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, out);
      } else {
        assert.ok(existsSync(file), `no golden file ${relative(ROOT, file)}: run npm run golden and review the diff`);
        assert.equal(out, readFileSync(file, 'utf8'), `${relative(ROOT, file)} differs: if the change is right, run npm run golden and review the diff`);
      }
      assert.ok(!RAW.test(out), 'raw control or bidi characters in the output');
      if (NARROW.has(view)) {
        const wide = out.split('\n').filter((l) => displayWidth(l) > 80);
        assert.deepEqual(wide, [], `${view} goes past 80 columns`);
      }
    });
  }
  for (const [format, ext] of FORMATS) {
    test(`golden: --format ${format} of ${rel}`, async () => {
      const out = normalise(await render(['--format', format, rel]), format);
      const file = join(GOLDEN, `${name}.${ext}`);
      if (UPDATE) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, out);
      } else {
        assert.ok(existsSync(file), `no golden file ${relative(ROOT, file)}: run npm run golden and review the diff`);
        assert.equal(out, readFileSync(file, 'utf8'), `${relative(ROOT, file)} differs: if the change is right, run npm run golden and review the diff`);
      }
      // Machine readers are given what they were promised: one JSON document, one JSON value a line.
      if (format === 'json') JSON.parse(out);
      if (format === 'ndjson') for (const line of out.split('\n').filter((l) => l !== '')) JSON.parse(line);
      assert.ok(!RAW.test(out), 'raw control or bidi characters in the output');
    });
  }
}
