/**
 * The summary's table drawer against cli-table3, its oracle: random tables of the kind the summary draws
 * (fixed widths, left and right aligned columns, multi-line cells and heads or no head, coloured parts,
 * compact (a rule under the head only) or separated, in colour or not) must come out byte for byte as
 * cli-table3 draws them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { drawGrid, type GridSpec } from '../src/render/grid.js';
import { loadTable, textWidth } from '../src/render/table.js';
import { prng } from './support/random.js';

const WORDS = ['10.21.0.1:50174', 'anonymous', 'success', 'passive', '(EPSV)', '4,096 B', '49.9 ms', 'µs', 'é', '', 'x', '1 (notice)', '―', 'RETR', '/pub/a b'];
const TONES = ['\u001b[36m', '\u001b[2m', '\u001b[1m', '\u001b[31m', '\u001b[33m'];

/** What cli-table3 draws for the spec, configured as the summary configures it. */
async function cliTable3(spec: GridSpec): Promise<string> {
  const Table = await loadTable();
  const t = new Table({
    head: [...spec.head],
    colWidths: spec.widths.map((w) => w + 1),
    colAligns: [...spec.aligns],
    style: { ...(spec.color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] }), compact: spec.compact, 'padding-left': 0, 'padding-right': 1 },
  });
  for (const r of spec.rows) t.push([...r]);
  return t.toString();
}

function randomSpec(rnd: () => number): GridSpec {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const n = 1 + Math.floor(rnd() * 7);
  const widths = Array.from({ length: n }, () => 1 + Math.floor(rnd() * 16));
  const color = rnd() < 0.5;
  /** Lines that fit the column: words, cut to the width, some in a tone (closed with a reset, as ctx.style does). */
  const cell = (w: number, lines: number) =>
    Array.from({ length: lines }, () => {
      let text = pick(WORDS);
      while (textWidth(text) > w) text = text.slice(0, -1);
      return color && rnd() < 0.3 && text !== '' ? `${pick(TONES)}${text}\u001b[0m` : text;
    }).join('\n');
  // A table without a head (records) has at least one row.
  const headless = rnd() < 0.2;
  const rows = Array.from({ length: (headless ? 1 : 0) + Math.floor(rnd() * 12) }, () => widths.map((w) => cell(w, 1 + Math.floor(rnd() * 3))));
  return {
    widths,
    aligns: widths.map(() => (rnd() < 0.3 ? 'right' : 'left')),
    head: headless ? [] : widths.map((w) => cell(w, 1 + Math.floor(rnd() * 2)).replace(/\u001b\[[0-9;]*m/g, '')),
    rows,
    compact: rnd() < 0.5,
    color,
  };
}

test('the table drawer draws what cli-table3 draws (2,000 random tables)', { skip: process.env.FTPSCOPE_FAST === '1' && 'skipped in test:fast: stress test (2,000 random tables); npm test runs it' }, async () => {
  await loadTable();
  // cli-table3 colours through @colors/colors, which an environment (FORCE_COLOR=0, --no-color) can turn off.
  const colors = createRequire(createRequire(import.meta.url).resolve('cli-table3/src/cell.js'))('@colors/colors/safe') as { enable(): void };
  colors.enable();
  const rnd = prng(11);
  for (let k = 0; k < 2000; k++) {
    const spec = randomSpec(rnd);
    const ours = drawGrid(spec, textWidth);
    assert.notEqual(ours, null, `case ${k}: every line fits`);
    assert.equal(ours, await cliTable3(spec), `case ${k}: ${JSON.stringify(spec)}`);
  }
});

test('a line wider than its column: the drawer gives the table back to cli-table3', () => {
  const spec: GridSpec = { widths: [3], aligns: ['left'], head: ['#'], rows: [['toolong']], compact: true, color: false };
  assert.equal(drawGrid(spec, textWidth), null);
});

test('a compact table has a rule under its head, and none between its rows', () => {
  const spec: GridSpec = { widths: [1, 2], aligns: ['left', 'right'], head: ['#', 'n'], rows: [['1', '10'], ['2', '20']], compact: true, color: false };
  assert.equal(drawGrid(spec, textWidth), ['┌──┬───┐', '│# │ n │', '├──┼───┤', '│1 │10 │', '│2 │20 │', '└──┴───┘'].join('\n'));
});
