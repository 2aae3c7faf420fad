/**
 * The options registry (src/config.ts) is the one place an option is defined: the README's tables are made
 * from it, every stage's default limits come from it, and the command line checks values against its bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULTS, OPTIONS, camel, checkValue, optionsTable, type Group, type OptionSpec } from '../src/config.js';
import { DEFAULT_FRAGMENT_LIMITS } from '../src/decode/ip-fragments.js';
import { DEFAULT_CONNECTION_LIMITS } from '../src/flow/connections.js';
import { DEFAULT_PACKET_LOG_LIMITS } from '../src/flow/packet-log.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../src/flow/reassembler.js';
import { DEFAULT_FTP_LIMITS } from '../src/ftp/session.js';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';

const README = new URL('../../README.md', import.meta.url);
const MARK = /<!-- options: ([a-z ]+?) \(made from src\/config\.ts[^>]*-->\n([\s\S]*?)<!-- \/options -->/g;

test("the README's option and limit tables are the registry's", () => {
  const text = readFileSync(README, 'utf8');
  let blocks = 0;
  const made = text.replace(MARK, (_all, groups: string, _body: string) => {
    blocks++;
    const head = _all.slice(0, _all.indexOf('-->') + 3);
    return `${head}\n${optionsTable(groups.split(' ') as Group[])}\n<!-- /options -->`;
  });
  assert.ok(blocks >= 2, 'the README has no generated option tables');
  if (process.env.FTPSCOPE_UPDATE_GOLDEN && made !== text) writeFileSync(README, made);
  else assert.equal(text, made, 'README option tables differ from src/config.ts: FTPSCOPE_UPDATE_GOLDEN=1 npm test remakes them');
  // Every option of every group is in some table.
  const shown = [...text.matchAll(MARK)].flatMap((m) => m[1]!.split(' '));
  for (const o of OPTIONS as readonly OptionSpec[]) assert.ok(shown.includes(o.group), `group ${o.group} (--${o.flag}) has no table in the README`);
});

test('every stage reads its default limits from the registry', () => {
  assert.equal(DEFAULT_CONNECTION_LIMITS.idleTimeoutSec, DEFAULTS.idleTimeout);
  assert.equal(DEFAULT_CONNECTION_LIMITS.closedLingerSec, DEFAULTS.closedLinger);
  assert.equal(DEFAULT_CONNECTION_LIMITS.maxConnections, DEFAULTS.maxConnections);
  assert.equal(DEFAULT_REASSEMBLY_LIMITS.maxBufferedPerDirection, DEFAULTS.maxBuffer * 2 ** 20);
  assert.equal(DEFAULT_REASSEMBLY_LIMITS.maxBufferedTotal, DEFAULTS.maxBufferTotal * 2 ** 20);
  assert.equal(DEFAULT_REASSEMBLY_LIMITS.maxSegmentsPerDirection, DEFAULTS.maxBufferSegments);
  assert.equal(DEFAULT_REASSEMBLY_LIMITS.retransmitWindow, DEFAULTS.retransmitWindow);
  assert.equal(DEFAULT_FRAGMENT_LIMITS.maxBytes, DEFAULTS.maxFragmentBytes * 2 ** 20);
  assert.equal(DEFAULT_FRAGMENT_LIMITS.maxDatagrams, DEFAULTS.maxFragmentDatagrams);
  assert.equal(DEFAULT_PACKET_LOG_LIMITS.maxPackets, DEFAULTS.maxPacketLog);
  assert.equal(DEFAULT_FTP_LIMITS.maxEarlyDataBytes, DEFAULTS.maxEarlyData * 1024);
  assert.equal(DEFAULT_FTP_LIMITS.sniffBytes, DEFAULTS.sniffBytes);
  assert.equal(DEFAULT_FTP_LIMITS.unannouncedWindowSec, DEFAULTS.unannouncedWindow);
});

test('every option has a flag, a unique name, one line of documentation, and a default within its bounds', () => {
  const names = new Set<string>();
  for (const o of OPTIONS as readonly OptionSpec[]) {
    assert.match(o.flag, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(!names.has(camel(o.flag)), `--${o.flag} twice`);
    names.add(camel(o.flag));
    assert.ok(o.doc.length > 10 && !o.doc.includes('\n'), `--${o.flag}: one line of documentation`);
    assert.equal(checkValue(o, o.default), null, `--${o.flag}: its default is out of its own bounds`);
  }
});

test('a value out of bounds gets one line naming the option, what it takes and what it got, exit 2', async () => {
  const capture = new URL('../../fixtures/passive-retr.pcap', import.meta.url).pathname;
  for (const [args, says] of [
    [['--max-buffer', '-1'], /--max-buffer takes a number of MiB, above 0, got -1/],
    [['--max-line-length', '1.5'], /--max-line-length takes a whole number of bytes, 1 or more, got 1.5/],
    [['--ports', '70000'], /--ports takes port numbers from 1 to 65535, got 70000/],
    [['--closed-linger', '-3'], /--closed-linger takes a number of seconds, 0 or more, got -3/],
    [['--duration', '5'], /--duration is an option of ftpscope live/],
  ] as const) {
    const io = collect();
    assert.equal(await main([...args, capture], io.io), 2, args.join(' '));
    assert.equal(io.stdout(), '');
    assert.equal(io.stderr().trim().split('\n').length, 1);
    assert.match(io.stderr(), says);
  }
});

// --session and --host apply to live capture too (test/live-load.test.ts runs them for real).
test('ftpscope live refuses, in one line, the options that choose among the sessions of a file by time, and the connection list', async () => {
  for (const [args, says] of [
    [['--time-from', '+5'], /--time-from does not apply to live capture/],
    [['--time-to', '+5'], /--time-to does not apply to live capture/],
    [['-v', 'connections'], /connections view/],
  ] as const) {
    const io = collect();
    assert.equal(await main(['live', '-i', 'lo', ...args], io.io), 2, args.join(' '));
    assert.equal(io.stdout(), '');
    assert.match(io.stderr(), says);
  }
});
