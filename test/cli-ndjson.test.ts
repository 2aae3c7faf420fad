/** --format ndjson: one event per line, sent as the analysis goes, passwords hidden. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';

const CLASSIC = readFileSync(fileURLToPath(new URL('../../fixtures/active-ls-pwd.pcap', import.meta.url)));

test('ndjson streams: events of the first half of a capture are out before the second half is read', async () => {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const done = main(['--format', 'ndjson', '-'], { stdout, stderr: new PassThrough(), stdin, stdoutIsTTY: false, env: {} });
  // The first 1,500 bytes hold the handshake, the greeting, USER and its reply.
  stdin.write(CLASSIC.subarray(0, 1500));
  for (let i = 0; i < 50 && !text.includes('"command":"USER"'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(text, /"kind":"syn","session":1,"connection":1,"role":"control"/);
  assert.match(text, /"command":"USER"/);
  assert.doesNotMatch(text, /"type":"end"/);
  stdin.end(CLASSIC.subarray(1500));
  assert.equal(await done, 0);
  type Line = { type: string; at?: { frame: number }; event?: { kind: string; at: { frame: number } } };
  const events = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
  assert.equal(events.at(-1)!.type, 'end');
  assert.deepEqual([...new Set(events.map((e) => e.type))], ['timeline', 'transfer-end', 'finding', 'session-end', 'end']);
  const kinds = new Set(events.flatMap((e) => (e.event === undefined ? [] : [e.event.kind])));
  for (const k of ['syn', 'syn-ack', 'handshake-ack', 'reply', 'command', 'prediction', 'data-first', 'data-last', 'fin']) assert.ok(kinds.has(k), `a ${k} event: ${[...kinds].join(' ')}`);
  // Each event when it is known: a command and its reply in capture order, a connection's steps may come later.
  const lines = events.filter((e) => e.event?.kind === 'command' || e.event?.kind === 'reply').map((e) => e.event!.at.frame);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b), 'commands and replies in capture order');
  assert.doesNotMatch(text, /fixture-pass/, 'the password is hidden');
  const end = events.find((e) => e.type === 'transfer-end') as unknown as { transfer: { command: string; bytes: number; status: string } };
  assert.deepEqual([end.transfer.command, end.transfer.bytes, end.transfer.status], ['LIST', 271, 'complete']);
});
