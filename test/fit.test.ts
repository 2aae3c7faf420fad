/**
 * Fitting tables to the width (src/render/fit.ts): the layout chosen, how columns share the room, and
 * records when no layout fits without cutting words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlicedTable, measure, newShape, plan, type Layout } from '../src/render/fit.js';
import { displayWidth } from '../src/render/text.js';

interface Row {
  severity: string;
  kind: string;
  frames: string;
  message: string;
}

const WIDE: Layout<Row> = {
  columns: [{ head: 'severity', wrap: 'never' }, { head: 'kind' }, { head: 'frames' }, { head: 'message', wrap: 'prose' }],
  cells: (r) => [r.severity, r.kind, r.frames, r.message],
};
const NARROW: Layout<Row> = {
  columns: [{ head: 'severity\nkind' }, { head: 'frames' }, { head: 'message', wrap: 'prose' }],
  cells: (r) => [[r.severity, r.kind], r.frames, r.message],
};
const ROWS: Row[] = [
  { severity: 'warning', kind: 'data-connection-unanswered', frames: '29, 32', message: 'the server tried to open the data connection to 10.21.0.1:49315 (announced by PORT in frame 29) 7 times and got no answer: a firewall or NAT in front of the client blocks active mode' },
  { severity: 'notice', kind: 'cleartext-credentials', frames: '11', message: 'user "ftpscope" sent a password in clear text (0.058 ms)' },
];

function draw(width: number, rows = ROWS): { kind: string; text: string } {
  const wide = newShape(WIDE);
  const narrow = newShape(NARROW);
  for (const r of rows) {
    measure(wide, WIDE.cells(r), displayWidth);
    measure(narrow, NARROW.cells(r), displayWidth);
  }
  const how = plan(width, [[WIDE, wide], [NARROW, narrow]], displayWidth);
  const t = new SlicedTable(how, false, (_, s) => s, displayWidth);
  const text = (t.draw(rows.map((r) => t.cells(r)))! + t.end()).trimEnd();
  return { kind: how.kind === 'records' ? 'records' : `${how.layout.columns.length} columns`, text };
}

test('every line fits, at every width from 40 to 200; the layout goes from records to fewer columns to one a field', () => {
  const kinds = new Set<string>();
  for (let width = 40; width <= 200; width++) {
    const { kind, text } = draw(width);
    kinds.add(kind);
    for (const l of text.split('\n')) assert.ok(displayWidth(l) <= width, `${width}: ${l}`);
    // The header rule, or a record's rule: the second border line is always there.
    assert.ok(text.split('\n').filter((l) => l.startsWith('├')).length >= 1, `${width}:\n${text}`);
    // Words whole: every word of the messages is on some line, and the unit with its number.
    assert.ok(text.includes('(0.058 ms)'), `${width}:\n${text}`);
    assert.ok(text.includes('10.21.0.1:49315'), `${width}:\n${text}`);
  }
  assert.deepEqual([...kinds], ['records', '3 columns', '4 columns']);
});

test('the room left is shared max-min fairly: short columns whole, the message gets the rest', () => {
  const { kind, text } = draw(120);
  assert.equal(kind, '4 columns');
  const head = text.split('\n')[1]!;
  // severity (never wraps), kind and frames at their widest, the message all that is left.
  assert.match(head, /^│severity │kind {23}│frames │message +│$/);
  assert.equal(displayWidth(head), 120);
});

test('a one-row table has its header rule; compact rows have no separators between them', () => {
  const one = draw(200, [ROWS[1]!]).text.split('\n');
  assert.deepEqual(one.map((l) => l[0]), ['┌', '│', '├', '│', '└']);
  const two = draw(300).text.split('\n');
  assert.deepEqual(two.map((l) => l[0]), ['┌', '│', '├', '│', '│', '└']);
});

test('records: a key column of the heads and a value column wide enough for the widest unbreakable piece', () => {
  const { kind, text } = draw(40);
  assert.equal(kind, 'records');
  const lines = text.split('\n');
  assert.match(lines[1]!, /^│severity │warning +│$/);
  assert.ok(lines.some((l) => /^│kind +│data-connection-unanswered +│$/.test(l)), text);
  // One rule between the two records, none under a head (there is none).
  assert.equal(lines.filter((l) => l.startsWith('├')).length, 1);
});
