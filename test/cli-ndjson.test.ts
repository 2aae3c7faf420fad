/** --format ndjson: one event per line, sent as the analysis goes, passwords hidden. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpConversation, framesToPcap, type Frame } from './support/capture-writer.js';
import { PassThrough, Writable } from 'node:stream';
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

test('ndjson into a slow reader: the analysis waits for it, so what is held stays about one batch of events', { skip: process.env.FTPSCOPE_FAST === '1' && 'skipped in test:fast: stress test (2,500 sessions into a slow reader); npm test runs it' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-slow-'));
  try {
    // 2,500 short sessions: 35,000 records, read in a few batches.
    const frames: Frame[] = [];
    for (let i = 0; i < 2500; i++) {
      const c = new TcpConversation({ client: { ip: `10.1.${i >> 8}.${i & 255}`, port: 40000 + i }, server: { ip: '10.0.0.2', port: 21 }, startSec: 1_700_000_000 + i });
      c.handshake();
      for (const [a, b] of [[null, '220 hi'], ['USER u', '331 pw'], ['PASS p', '230 ok'], ['QUIT', '221 bye']] as const) {
        if (a !== null) c.send(true, `${a}\r\n`);
        c.send(false, `${b}\r\n`);
      }
      frames.push(...c.close(false).frames);
    }
    const path = join(dir, 'many.pcap');
    writeFileSync(path, framesToPcap(frames));
    let written = 0;
    let peak = 0;
    const stdout = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _e, cb) {
        written += chunk.length;
        setImmediate(cb); // a reader that takes its time over every line
      },
    });
    const sample = setInterval(() => (peak = Math.max(peak, stdout.writableLength)), 1);
    const code = await main(['--format', 'ndjson', path], { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdoutIsTTY: false, env: {} });
    clearInterval(sample);
    peak = Math.max(peak, stdout.writableLength);
    assert.equal(code, 0);
    assert.ok(written > 16 * 2 ** 20, `${written} bytes written`);
    // Without waiting, everything was held (the analysis outruns the reader); now a batch's events at most.
    assert.ok(peak < written / 2, `held at most ${peak} of the ${written} bytes written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
