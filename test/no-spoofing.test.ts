/**
 * Nothing spoofed (issue 15, item 5 and row 10): the bidi and invisible format characters (U+061C,
 * U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF), like C0, C1 and DEL, never reach an output raw.
 * `RETR invoice<U+202E>fdp.exe` would list as `invoiceexe.pdf`. Text views and Zeek show them escaped
 * (`\u202e`), JSON and NDJSON escape them and decode to the exact string, extracted file names replace
 * them, and the manifest keeps the exact name, escaped. Interface names too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openCapture } from '../src/capture/open-capture.js';
import type { RecordReader } from '../src/capture/record-batch.js';
import { settings } from '../src/config.js';
import { main, safeJson, viewOptions } from '../src/cli/main.js';
import { runInterfaces, runLive, type LiveSource } from '../src/cli/live.js';
import { safeComponents } from '../src/output/extract.js';
import { sanitize } from '../src/render/text.js';
import { zeekEscape } from '../src/render/zeek.js';
import { controlFailure, signature } from '../tools/fuzz/failures.js';
import { collect } from './cli-io.js';
import { TcpConversation, framesToPcap, type Frame } from './support/capture-writer.js';

/** Every character of the classes, one by one. */
const FORMAT: string[] = [];
for (const [from, to] of [[0x061c, 0x061c], [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x2069], [0xfeff, 0xfeff]] as const) {
  for (let c = from; c <= to; c++) FORMAT.push(String.fromCharCode(c));
}
/** A raw one of them, or a raw C0 (but the line end), DEL or C1. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** The four of the issue, in every string the capture sends. */
const MIX = '\u202e\u200b\u2066\ufeff';
const USER = `admin${MIX}`;
const PASS = `se\u061ccret\u200e`;
const FILE = `invoice\u202efdp\u200b\u2066\ufeff.exe`;
const DIR = `/home/\u2067x\u2069\u202a`;

/** `\u202e`, as every output shows it. */
const u = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** The text as the text views and Zeek show it (these strings hold no C0 or C1). */
const escaped = (s: string) => s.replace(new RegExp(RAW.source, 'g'), u);

/** A session whose greeting, user, password, working directory, RETR, replies and odd lines carry them. */
function capture(): Buffer {
  const client = { ip: '10.0.0.1', port: 40000 };
  const server = { ip: '10.0.0.2', port: 21 };
  const frames: Frame[] = [];
  const ctl = new TcpConversation({ client, server }).handshake();
  let taken = 0;
  const take = () => {
    frames.push(...ctl.frames.slice(taken));
    taken = ctl.frames.length;
  };
  const say = (fromClient: boolean, text: string) => {
    ctl.send(fromClient, `${text}\r\n`);
    take();
  };
  take();
  say(false, `220 Welcome${MIX} to ftp\u2060d`);
  for (const [c, r] of [
    [`USER ${USER}`, `331 Password for ${USER}${MIX}`],
    [`PASS ${PASS}`, `230 Hello ${USER}`],
    ['PWD', `257 "${DIR}" is the current directory`],
    [`SITE ${MIX}chmod`, `500 ${MIX} what?`],
    ['EPSV', '229 Entering Extended Passive Mode (|||50001|)'],
  ]) {
    say(true, c!);
    say(false, r!);
  }
  say(true, `RETR ${FILE}`);
  const d = new TcpConversation({ client: { ip: client.ip, port: 40100 }, server: { ip: server.ip, port: 50001 }, isnClient: 7000, isnServer: 9000 });
  frames.push(...d.handshake().frames);
  say(false, `150 Opening BINARY mode data connection for ${FILE} (12 bytes).`);
  frames.push(...d.send(false, 'MZ pretend..').close(false).frames.slice(3));
  say(false, `226 Transfer complete${MIX}`);
  say(false, `this is no reply${MIX}`);
  say(true, `X${MIX}YZ ${MIX}`);
  say(false, `502 ${MIX}`);
  say(true, 'QUIT');
  say(false, `221 Bye${MIX}`);
  return framesToPcap(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1_000_000 })), 'ethernet');
}

function noneRaw(where: string, text: string): void {
  const m = RAW.exec(text);
  if (m === null) return;
  const around = text.slice(Math.max(0, m.index - 60), m.index + 20);
  assert.fail(`${where}: raw U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(around)}`);
}

test('every text view, JSON, NDJSON and Zeek: no bidi or invisible character from the wire is raw', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bidi-'));
  try {
    const path = join(dir, 'bidi.pcap');
    writeFileSync(path, capture());
    const run = async (args: string[]) => {
      const io = collect();
      assert.equal(await main([...args, '--width', '200', '--show-passwords', path], io.io), 0, io.stderr());
      noneRaw(`${args.join(' ')} (stderr)`, io.stderr());
      return io.stdout();
    };
    const views: string[][] = [
      [], ['-v', 'timeline'], ['-v', 'walkthrough'], ['-v', 'walkthrough', '--lang', 'zh'], ['-v', 'walkthrough', '--detail', 'packets'],
      ['-v', 'ladder'], ['-v', 'ladder', '--detail', 'packets'], ['-v', 'packets'], ['-v', 'summary'], ['-v', 'summary', '-v', 'timeline'],
      ['-v', 'connections'], ['--time-format', 'delta', '-v', 'timeline'],
    ];
    for (const args of views) {
      const text = await run(args);
      noneRaw(args.join(' ') || 'default view', text);
      assert.ok(text.length > 0);
    }
    // Shown escaped, not dropped: what the wire said is there, as escapes.
    const timeline = await run(['-v', 'timeline']);
    assert.ok(timeline.includes(`USER ${escaped(USER)}`), timeline);
    assert.ok(timeline.includes(`RETR ${escaped(FILE)}`), timeline);
    assert.ok(timeline.includes('invoice\\u202efdp\\u200b\\u2066\\ufeff.exe'));
    assert.ok(timeline.includes(`226 Transfer complete${escaped(MIX)}`), timeline);
    const summary = await run(['-v', 'summary']);
    assert.ok(summary.includes(escaped(USER)) && summary.includes(escaped(FILE)), summary);
    const walk = await run(['-v', 'walkthrough']);
    assert.ok(walk.includes(escaped(USER)) && walk.includes(escaped(DIR)), walk);
    const packets = await run(['-v', 'packets']);
    assert.ok(packets.includes(`Request: PASS ${escaped(PASS)}`), packets);

    const jsonText = await run(['--format', 'json']);
    noneRaw('json', jsonText);
    const json = JSON.parse(jsonText) as { sessions: Array<{ user: string; exchanges: Array<{ argument: string; replies: Array<{ lines: string[] }> }> }>; transfers: Array<{ path: string }> };
    assert.equal(json.sessions[0]!.user, USER, 'JSON decodes to the exact user name');
    assert.ok(json.transfers[0]!.path.endsWith(`/${FILE}`), json.transfers[0]!.path);
    assert.ok(json.sessions[0]!.exchanges.some((e) => e.replies.some((r) => r.lines.includes(`226 Transfer complete${MIX}`))));
    assert.ok(jsonText.includes('admin\\u202e\\u200b\\u2066\\ufeff'), 'written as \\u escapes');

    const ndjson = await run(['--format', 'ndjson']);
    noneRaw('ndjson', ndjson);
    const events = ndjson.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.ok(JSON.stringify(events).includes(JSON.stringify(`RETR ${FILE}`).slice(1, -1)) || ndjson.includes(escaped(FILE)), 'the RETR is in the events');
    assert.ok(events.some((e) => JSON.stringify(e).includes(USER)), 'the events decode to the exact user name');

    const zeek = await run(['--format', 'zeek']);
    noneRaw('zeek', zeek.replaceAll('\t', ' '));
    const row = zeek.split('\n').find((l) => l.includes('\tRETR\t'))!;
    assert.ok(row.includes(`\t${escaped(USER)}\t`), row);
    assert.ok(row.includes(`${escaped(FILE)}\t`), row);
    assert.ok(row.includes(`\tTransfer complete${escaped(MIX)}`) || row.includes(`226 Transfer complete${escaped(MIX)}`), row);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--extract: the file on disk has no such character in its name; the manifest keeps the exact name, escaped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bidi-x-'));
  try {
    const path = join(dir, 'bidi.pcap');
    writeFileSync(path, capture());
    const out = join(dir, 'out');
    for (const format of ['text', 'json']) {
      rmSync(out, { recursive: true, force: true });
      const io = collect();
      assert.equal(await main(['--format', format, '--width', '200', '--extract', out, path], io.io), 0, io.stderr());
      noneRaw(`--extract --format ${format}`, io.stdout());
      const files = readdirSync(out, { recursive: true }) as string[];
      for (const f of files) noneRaw(`a name on disk: ${JSON.stringify(f)}`, f);
      const raw = readFileSync(join(out, 'manifest.json'), 'utf8');
      noneRaw('manifest.json', raw);
      const manifest = JSON.parse(raw) as Array<{ path: string; file: string | null; size: number }>;
      assert.equal(manifest.length, 1);
      assert.equal(manifest[0]!.path, `${DIR}/${FILE}`, 'the manifest keeps the exact path');
      assert.equal(manifest[0]!.file, 'session-1/home/_x__/invoice_fdp___.exe');
      assert.equal(readFileSync(join(out, manifest[0]!.file!), 'utf8'), 'MZ pretend..');
      if (format === 'text') assert.ok(io.stdout().includes(escaped(FILE)), io.stdout());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every character of the classes, one by one: escaped by each output\'s one function', () => {
  for (const ch of FORMAT) {
    const s = `a${ch}b`;
    assert.equal(sanitize(s), `a${u(ch)}b`);
    assert.equal(zeekEscape(s), `a${u(ch)}b`);
    const j = safeJson({ [s]: [s] }, 2);
    assert.ok(!RAW.test(j) && j.includes(`a${u(ch)}b`), j);
    assert.deepEqual(JSON.parse(j), { [s]: [s] }, 'the JSON decodes to the exact string');
    assert.deepEqual(safeComponents(`/d${ch}/f${ch}.txt`), ['d_', 'f_.txt']);
  }
  // C0, C1 and DEL keep their escapes; the line separators and lone surrogates are escaped; text around
  // them, wide characters and emoji (a surrogate pair) are left alone.
  assert.equal(sanitize('a\u001b[31m\u0007\u007f\u009b\t\r\n'), 'a\\x1b[31m\\x07\\x7f\\x9b\\t\\r\\n');
  assert.equal(sanitize('\u2028\u2029\ud800x\udfff'), '\\u2028\\u2029\\ud800x\\udfff');
  assert.equal(sanitize('中文 \ud83d\ude00 é \u0301'), '中文 \ud83d\ude00 é \u0301');
  assert.equal(zeekEscape('a\\b\tc\u001b\u0085\u2028'), 'a\\\\b\\x09c\\x1b\\x85\\u2028');
  assert.equal(zeekEscape(''), '-');
  assert.equal(safeJson('\u0000\u001b\u007f\u0085\u2028\ud800'), '"\\u0000\\u001b\\u007f\\u0085\\u2028\\ud800"');
  assert.deepEqual(safeComponents('a\u0000b\u001bc\u0085\ud800d\ud83d\ude00'), ['a_b_c__d\ud83d\ude00']);
});

test('interface names: shown escaped by `ftpscope interfaces`, as text and as JSON', () => {
  const list = () => [
    { name: `eth${MIX}0`, addresses: [`10.0.0.1${'\u200f'}`], loopback: false, description: `desc${MIX}` },
    { name: 'lo', addresses: ['127.0.0.1'], loopback: true, description: null },
  ];
  const sink = () => {
    const s = new PassThrough();
    let text = '';
    s.on('data', (b: Buffer) => (text += b.toString('utf8')));
    return { s, text: () => text };
  };
  const out = sink();
  const err = sink();
  assert.equal(runInterfaces(false, out.s, err.s, list), 0);
  noneRaw('interfaces', out.text());
  assert.ok(out.text().includes(`eth${escaped(MIX)}0`), out.text());
  const width = `eth${escaped(MIX)}0`.length;
  assert.ok(out.text().includes(`\n${'lo'.padEnd(width)}  loopback  127.0.0.1\n`), 'names padded by their width as shown');
  const json = sink();
  assert.equal(runInterfaces(true, json.s, err.s, list), 0);
  noneRaw('interfaces --format json', json.text());
  assert.deepEqual(JSON.parse(json.text()), list());
  const failing = sink();
  assert.equal(runInterfaces(false, out.s, failing.s, () => {
    throw new Error(`no capture device named "x"; there are: eth${MIX}0`);
  }), 1);
  noneRaw('interfaces error', failing.text());
  assert.equal(err.text(), '');
});

test('ftpscope live: the timeline line by line, the per-session views, the summary and the formats; the interface name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bidi-live-'));
  try {
    const path = join(dir, 'bidi.pcap');
    writeFileSync(path, capture());
    /** The capture file as a live source on an interface whose name carries them too. */
    const source = (opened: RecordReader): LiveSource => ({
      describe: `eth${MIX}0 (tcp)`,
      open: () => opened,
      stop: () => {},
      notes: () => ({ packets: 0, dropped: 0, shed: 0, shedBytes: 0, cutBySnapLength: 0, kernel: null, kernelUnknown: 'a file' }),
    });
    for (const changes of [
      { view: ['timeline', 'walkthrough', 'ladder', 'packets', 'summary'] as const }, { view: ['walkthrough'] as const, lang: 'zh' as const },
      { format: 'ndjson' as const }, { format: 'json' as const }, { format: 'zeek' as const },
    ]) {
      const s = settings({ ...changes, view: changes.view === undefined ? ['timeline', 'summary'] : [...changes.view], showPasswords: true, width: 200 });
      const io = collect();
      assert.equal(await runLive(s, viewOptions(s, io.io), source(await openCapture(path, path)), io.io), 0, io.stderr());
      noneRaw(`live ${JSON.stringify(changes)}`, io.stdout().replaceAll('\t', ' '));
      noneRaw(`live ${JSON.stringify(changes)} (stderr)`, io.stderr());
      assert.ok(io.stderr().includes(`capturing on eth${escaped(MIX)}0`), io.stderr());
      if (changes.format === undefined && changes.lang === undefined) assert.ok(io.stdout().includes(`session over: user ${escaped(USER)}`), io.stdout());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fuzzer\'s output check knows these classes, and tells them apart from C0 and C1/DEL', () => {
  for (const ch of [...FORMAT, '\u2028', '\u2029']) {
    const f = controlFailure('view-timeline', `ok\nabc${ch}def\n`, false);
    assert.ok(f !== null, u(ch));
    assert.match(f.message, /\(bidi\/invisible\)/);
    assert.ok(!RAW.test(f.detail!), 'the report itself is safe to print');
    assert.equal(signature(f), 'control-characters|view-timeline|bidi/invisible');
  }
  assert.equal(signature(controlFailure('zeek', 'a\u202e\u001b', true)!), 'control-characters|zeek|C0');
  assert.equal(signature(controlFailure('zeek', 'a\u202e\u0085', true)!), 'control-characters|zeek|C1/DEL');
  assert.equal(controlFailure('zeek', 'a\tb\n\\u202e 中文 \ud83d\ude00', true), null);
});
