/**
 * Findings are listed gravest first, then by their first frame, in every output, and --min-severity keeps
 * only those at least as grave (issue 18 item 4): on every fixture, in JSON, NDJSON and the summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const captures = readdirSync(FIXTURES).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => `${FIXTURES}${f}`);
const RANK: Record<string, number> = { info: 0, notice: 1, warning: 2, alert: 3 };

interface Listed {
  severity: string;
  frames: number[];
  kind: string;
}

async function cli(args: string[]): Promise<string> {
  const io = collect();
  assert.equal(await main(args, io.io), 0, io.stderr());
  return io.stdout();
}

function assertOrdered(list: Listed[], where: string): void {
  for (let i = 1; i < list.length; i++) {
    const [a, b] = [list[i - 1]!, list[i]!];
    const ok = RANK[a.severity]! > RANK[b.severity]! || (a.severity === b.severity && (a.frames[0] ?? 0) <= (b.frames[0] ?? 0));
    assert.ok(ok, `${where}: ${a.severity} ${a.kind} (frame ${a.frames[0]}) before ${b.severity} ${b.kind} (frame ${b.frames[0]})`);
  }
}

test('findings are listed gravest first, then by time, and --min-severity keeps the graver ones, on every fixture', async () => {
  assert.ok(captures.length >= 20);
  let mixed = 0;
  for (const path of captures) {
    const all = (JSON.parse(await cli(['--format', 'json', path])) as { findings: Listed[] }).findings;
    assertOrdered(all, `${path} JSON`);
    if (new Set(all.map((f) => f.severity)).size > 1) mixed++;
    const grave = (JSON.parse(await cli(['--format', 'json', '--min-severity', 'warning', path])) as { findings: Listed[] }).findings;
    assert.deepEqual(grave, all.filter((f) => RANK[f.severity]! >= RANK.warning!), `${path}: --min-severity warning`);
    // NDJSON: the findings told as they come, and the end record's list, both at least as grave.
    const lines = (await cli(['--format', 'ndjson', '--min-severity', 'warning', path])).trim().split('\n').map((l) => JSON.parse(l) as { type: string; finding?: Listed; findings?: Listed[] });
    for (const l of lines) if (l.type === 'finding') assert.ok(RANK[l.finding!.severity]! >= RANK.warning!, `${path}: NDJSON told a ${l.finding!.severity}`);
    assert.deepEqual(lines.at(-1)!.findings!.map((f) => f.kind), grave.map((f) => f.kind));
    // The summary's table: its severity column in the same order.
    const table = (await cli(['-v', 'summary', '--width', '200', path])).split('Findings (')[1] ?? '';
    const column = [...table.matchAll(/^│(alert|warning|notice|info)\s*│/gm)].map((m) => m[1]!);
    assert.deepEqual(column, all.map((f) => f.severity), `${path}: the summary's findings`);
  }
  assert.ok(mixed >= 5, `fixtures with findings of several severities: ${mixed}`);
});
