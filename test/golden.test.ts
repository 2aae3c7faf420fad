/**
 * Golden files: every view of every fixture, and of Zeek's conformance captures when ../shared is there,
 * rendered at 80 columns without colour (the summary with the table of extracted files), every table
 * again at 60 and 120 columns (the summary, the connection list and the extracted files, one file a
 * width), and the machine outputs of the same captures (`--format json`, `ndjson`, `zeek`), compared
 * with test/golden/. No line of text output is wider than its width. The files are never edited by hand:
 * `npm run golden` writes them again, and the diff is reviewed like code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { listCaptures } from './support/captures.js';
import { fixtureKeyLog } from './analysis.js';
import { main } from '../src/cli/main.js';
import { displayWidth } from '../src/render/text.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GOLDEN = join(ROOT, 'test/golden');
const UPDATE = process.env.FTPSCOPE_UPDATE_GOLDEN === '1';
const VIEWS = ['timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'];
/** What no output holds raw: C0 but \t and \n, DEL, C1, the bidi and invisible format characters (issue 15). */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
/** Widths at which every table is drawn again (80, the default, is that of the views' files). */
const TABLE_WIDTHS = [60, 120];
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
 * change every golden at each release, which becomes `<version>`; the wall-clock times of a Zeek log's
 * #open and #close lines, which become XXXX-XX-XX-XX-XX-XX; and in text, the path of the extracted
 * files' manifest (normaliseExtract). Nothing else is touched.
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

/**
 * The heading of the extracted files' table names the manifest by its absolute path, in a folder made
 * for the run, and is wrapped to the width at its length: it becomes one line naming <extract>.
 */
function normaliseExtract(out: string): string {
  return out.replace(/^(Extracted files|No file was transferred: nothing to extract) \(manifest:[^]*?manifest\.json\)(\.?)$/m, '$1 (manifest: <extract>/manifest.json)$2');
}

/** No line wider than the width (the tables' promise, and every view's). */
function assertFits(out: string, width: number, what: string): void {
  const wide = out.split('\n').filter((l) => displayWidth(l) > width);
  assert.deepEqual(wide, [], `${what} goes past ${width} columns`);
}

/** The output of a run with --extract into a folder of its own, removed after. */
async function withExtract(args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-golden-'));
  try {
    return await render([...args, '--extract', dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compares with the golden file, or writes it. */
function golden(file: string, out: string): void {
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, out);
  } else {
    assert.ok(existsSync(file), `no golden file ${relative(ROOT, file)}: run npm run golden and review the diff`);
    assert.equal(out, readFileSync(file, 'utf8'), `${relative(ROOT, file)} differs: if the change is right, run npm run golden and review the diff`);
  }
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
  // An FTPS fixture is read with its key log, as an analyst would (relative, as the goldens say it).
  const keys = fixtureKeyLog(path).flatMap((k) => ['--tls-keylog', relative(ROOT, k)]);
  for (const view of VIEWS) {
    test(`golden: ${view} of ${rel}`, async () => {
      const args = ['-v', view, '--width', '80', '--color', 'never', ...keys, rel];
      // The summary's file also holds the extracted files' table, which a run with --extract ends with.
      const out = view === 'summary' ? await withExtract(args) : await render(args);
      golden(join(GOLDEN, `${name}.${view}.txt`), normaliseExtract(out));
      assert.ok(!RAW.test(out), 'raw control or bidi characters in the output');
      assertFits(out, 80, view);
    });
  }
  for (const width of TABLE_WIDTHS) {
    test(`golden: every table at ${width} columns of ${rel}`, async () => {
      const out = await withExtract(['-v', 'summary', '-v', 'connections', '--width', String(width), '--color', 'never', ...keys, rel]);
      golden(join(GOLDEN, `${name}.tables-${width}.txt`), normaliseExtract(out));
      assert.ok(!RAW.test(out), 'raw control or bidi characters in the output');
      assertFits(out, width, 'a table');
    });
  }
  for (const [format, ext] of FORMATS) {
    test(`golden: --format ${format} of ${rel}`, async () => {
      const out = normalise(await render(['--format', format, ...keys, rel]), format);
      golden(join(GOLDEN, `${name}.${ext}`), out);
      // Machine readers are given what they were promised: one JSON document, one JSON value a line.
      if (format === 'json') JSON.parse(out);
      if (format === 'ndjson') for (const line of out.split('\n').filter((l) => l !== '')) JSON.parse(line);
      assert.ok(!RAW.test(out), 'raw control or bidi characters in the output');
    });
  }
}
