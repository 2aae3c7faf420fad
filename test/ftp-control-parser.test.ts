/**
 * The control-line parser on its own, fed byte strings (no capture): every event it tells, and the property
 * pg-protocol's parser is held to: a dialogue cut at any point, or fed one byte at a time, gives exactly the
 * events it gives whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stamp } from '../src/flow/connections.js';
import { ControlParser, type BadLine, type ControlEvents, type ControlParserLimits } from '../src/ftp/control-parser.js';
import { TELNET_DM, TELNET_IP, TELNET_OTHER } from '../src/ftp/line-reader.js';
import { prng } from './support/random.js';

/** An event as plain data, without its stamps (they name the segments, which a cut changes). */
type Event =
  | { kind: 'command'; verb: string; argument: string; known: string | null; truncated: boolean; length: number; telnet?: number }
  | { kind: 'reply'; code: number; lines: string[]; message: string }
  | ({ kind: 'bad' } & Record<string, unknown>);

interface Run {
  events: Event[];
  /** first and last frame of each event, in order. */
  stamps: [number, number][];
}

interface Dialogue {
  name: string;
  commands: boolean;
  bytes: Buffer;
  limits?: Partial<ControlParserLimits>;
  /** Reply codes a command sent after a multi-line reply began would take (the tolerance rule's question). */
  later?: number[];
}

const LIMITS: ControlParserLimits = { maxLineLength: 4096, maxReplyLines: 1000 };

/** Feeds `bytes` cut at `cuts` (ascending offsets), one push per piece with frame numbers 1, 2, ..., then ends. */
function run(d: Dialogue, cuts: number[], offer: ((buf: Buffer, off: number, n: number) => boolean) | null = null): Run {
  const events: Event[] = [];
  const stamps: [number, number][] = [];
  let sent = 0;
  const later = new Set(d.later ?? []);
  const sink: ControlEvents = {
    onCommand(verb, argument, known, first, last, truncated, length, telnet) {
      // The telnet commands removed from the line, when there were some (TELNET_* bits).
      events.push({ kind: 'command', verb, argument, known: known?.verb ?? null, truncated, length, ...(telnet !== 0 ? { telnet } : {}) });
      stamps.push([first.frame, last.frame]);
      sent++;
    },
    onReply(code, lines, message, first, last) {
      events.push({ kind: 'reply', code, lines: [...lines], message });
      stamps.push([first.frame, last.frame]);
    },
    onBadLine(line: BadLine) {
      const { first, last, ...rest } = line;
      events.push({ kind: 'bad', ...rest });
      stamps.push([first.frame, last.frame]);
    },
    commandsSent: () => sent,
    answersLater: (code, since) => later.has(code) && since >= 0,
  };
  const p = new ControlParser(d.commands, { ...LIMITS, ...d.limits }, sink, offer === null ? null : (buf, off, n) => offer(buf, off, n));
  const clock: Stamp = { frame: 0, sec: 0, nsec: 0 };
  let from = 0;
  for (const to of [...cuts, d.bytes.length]) {
    clock.frame++;
    clock.sec = clock.frame;
    p.push(d.bytes, from, to - from, clock);
    from = to;
  }
  clock.frame++;
  p.end(clock);
  return { events, stamps };
}

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(x))));

const IAC = 0xff;

const DIALOGUES: Dialogue[] = [
  {
    name: 'commands with telnet sequences, CRLF and bare LF',
    commands: true,
    bytes: bytes(
      'USER anonymous\r\n',
      [IAC, 0xf4, IAC, 0xf2], 'ABOR\r\n', // IP, DM before ABOR (RFC 959 4.1.3)
      [IAC, 0xfb, 0x01], 'NOOP\n', // WILL ECHO
      [IAC, 0xfa, 0x18, 0x01, IAC, 0xf0], 'SYST\r\n', // a subnegotiation
      'STOR a', [IAC, IAC], 'b\r\n', // IAC IAC is one 0xFF byte
      'pwd\n',
      'site exec ls\r\n',
    ),
  },
  {
    name: 'commands in UTF-8 and Latin-1',
    commands: true,
    bytes: bytes('RETR caf', [0xc3, 0xa9], '.txt\r\n', 'RETR caf', [0xe9], '.txt\r\n', 'CWD /', [0xe6, 0x97, 0xa5], '\r\n'),
  },
  {
    name: 'overlong lines and verbs, lines that are not commands',
    commands: true,
    limits: { maxLineLength: 24 },
    bytes: bytes('STOR ', 'x'.repeat(60), '\r\n', 'ABCDEFGHIJKLMNOP arg\r\n', 'U$ER x\r\n', '\r\n', 'LIST\r\n', 'QUIT'),
  },
  {
    name: 'replies, multi-line replies and lines that are not replies',
    commands: false,
    bytes: bytes(
      '220-Welcome\r\n220-to the test\r\n220 ready\r\n',
      '211-Features:\r\n 211 looks like a code\r\n MDTM\r\n211-not yet\r\n211 End\n',
      '200\r\n',
      'hello\r\n',
      '999 too high\r\n',
      '050 too low\r\n',
      'SSH-2.0-OpenSSH_9.6\r\n',
      'HTTP/1.1 200 OK\r\n',
      '* OK IMAP4rev1\r\n',
      '+OK POP3 ready\r\n',
      '257 "/caf', [0xc3, 0xa9], '" is current\r\n',
      '550 caf', [0xe9], ': no\r\n',
      '221 Bye',
    ),
  },
  {
    name: 'a multi-line reply closed by a reply to a later command',
    commands: false,
    later: [226, 257],
    bytes: bytes('150-Opening\r\n150-still\r\n 226 not a line start\r\n226 Done\r\n200 ok\r\n'),
  },
  {
    name: 'a multi-line reply the connection ends',
    commands: false,
    bytes: bytes('220 hi\r\n230-Welcome\r\n230-to it\r\n 230 not yet\r\n'),
  },
  {
    name: 'a multi-line reply over the line limit',
    commands: false,
    limits: { maxReplyLines: 3 },
    bytes: bytes('214-Help\r\n a\r\n b\r\n c\r\n d\r\n e\r\n214 End\r\n'),
  },
  {
    name: 'an overlong reply line',
    commands: false,
    limits: { maxLineLength: 16 },
    bytes: bytes('220 ', 'y'.repeat(40), '\r\n', '230 in\r\n'),
  },
  {
    name: 'ABOR as lftp and BSD ftp send it, and telnet commands alone on a line',
    commands: true,
    bytes: bytes([IAC, 0xf4, IAC], [0xf2], 'ABOR\r\n', [IAC, 0xf4, IAC, 0xf2], '\r\n', 'STAT\r\n'),
  },
];

function cutsOneByOne(n: number): number[] {
  return Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
}

// A line's length is its bytes as sent up to its LF (a CR and telnet commands count).
test('commands: verbs as the table spells them, arguments as sent, telnet removed, any line ending', () => {
  const r = run(DIALOGUES[0]!, []);
  assert.deepEqual(r.events, [
    { kind: 'command', verb: 'USER', argument: 'anonymous', known: 'USER', truncated: false, length: 15 },
    { kind: 'command', verb: 'ABOR', argument: '', known: 'ABOR', truncated: false, length: 9, telnet: TELNET_IP | TELNET_DM },
    { kind: 'command', verb: 'NOOP', argument: '', known: 'NOOP', truncated: false, length: 7, telnet: TELNET_OTHER },
    { kind: 'command', verb: 'SYST', argument: '', known: 'SYST', truncated: false, length: 11, telnet: TELNET_OTHER },
    { kind: 'command', verb: 'STOR', argument: 'a\u00ffb', known: 'STOR', truncated: false, length: 10 },
    { kind: 'command', verb: 'PWD', argument: '', known: 'PWD', truncated: false, length: 3 },
    { kind: 'command', verb: 'SITE', argument: 'exec ls', known: 'SITE', truncated: false, length: 13 },
  ]);
});

test('commands: UTF-8 when the bytes are UTF-8, else Latin-1', () => {
  const r = run(DIALOGUES[1]!, []);
  assert.deepEqual(r.events.map((e) => (e.kind === 'command' ? e.argument : e.kind)), ['café.txt', 'café.txt', '/日']);
});

test('commands: a cut line says its length, a long verb and a line that is not a command are bad lines', () => {
  const r = run(DIALOGUES[2]!, []);
  assert.deepEqual(r.events, [
    { kind: 'command', verb: 'STOR', argument: 'x'.repeat(19), known: 'STOR', truncated: true, length: 66 },
    { kind: 'bad', reason: 'overlong-verb', verb: 'ABCDEFGHIJKLMNOP' },
    { kind: 'command', verb: 'ABCDEFGHIJKLMNOP', argument: 'arg', known: null, truncated: false, length: 21 },
    { kind: 'bad', reason: 'not-a-command', line: 'U$ER x' },
    { kind: 'bad', reason: 'not-a-command', line: '' },
    { kind: 'command', verb: 'LIST', argument: '', known: 'LIST', truncated: false, length: 5 },
    { kind: 'command', verb: 'QUIT', argument: '', known: 'QUIT', truncated: false, length: 4 },
  ]);
});

test('replies: multi-line replies folded by RFC 959 rule; codes, separators and other protocols checked', () => {
  const r = run(DIALOGUES[3]!, []);
  assert.deepEqual(r.events, [
    { kind: 'reply', code: 220, lines: ['220-Welcome', '220-to the test', '220 ready'], message: 'ready' },
    { kind: 'reply', code: 211, lines: ['211-Features:', ' 211 looks like a code', ' MDTM', '211-not yet', '211 End'], message: 'End' },
    { kind: 'reply', code: 200, lines: ['200'], message: '' },
    { kind: 'bad', reason: 'not-a-reply', line: 'hello' },
    { kind: 'bad', reason: 'code-out-of-range', line: '999 too high', code: '999' },
    { kind: 'bad', reason: 'code-out-of-range', line: '050 too low', code: '050' },
    { kind: 'bad', reason: 'other-protocol', protocol: 'SSH', line: 'SSH-2.0-OpenSSH_9.6' },
    { kind: 'bad', reason: 'other-protocol', protocol: 'HTTP', line: 'HTTP/1.1 200 OK' },
    { kind: 'bad', reason: 'other-protocol', protocol: 'IMAP', line: '* OK IMAP4rev1' },
    { kind: 'bad', reason: 'other-protocol', protocol: 'POP3', line: '+OK POP3 ready' },
    { kind: 'reply', code: 257, lines: ['257 "/café" is current'], message: '"/café" is current' },
    { kind: 'reply', code: 550, lines: ['550 café: no'], message: 'café: no' },
    { kind: 'reply', code: 221, lines: ['221 Bye'], message: 'Bye' },
  ]);
});

test('replies: a multi-line reply never closed is closed by a plain reply to a later command, which is read too', () => {
  const r = run(DIALOGUES[4]!, []);
  assert.deepEqual(r.events, [
    { kind: 'bad', reason: 'unterminated-reply', code: 150, closedBy: 'reply' },
    { kind: 'reply', code: 150, lines: ['150-Opening', '150-still', ' 226 not a line start'], message: '226 not a line start' },
    { kind: 'reply', code: 226, lines: ['226 Done'], message: 'Done' },
    { kind: 'reply', code: 200, lines: ['200 ok'], message: 'ok' },
  ]);
  // Without a later command that takes 226, the lines stay in the open reply, which the end closes.
  const without = run({ ...DIALOGUES[4]!, later: [] }, []);
  assert.deepEqual(without.events, [
    { kind: 'bad', reason: 'unterminated-reply', code: 150, closedBy: 'end' },
    { kind: 'reply', code: 150, lines: ['150-Opening', '150-still', ' 226 not a line start', '226 Done', '200 ok'], message: 'ok' },
  ]);
});

test('replies: the end of the connection closes a multi-line reply, at the clock of the end', () => {
  const r = run(DIALOGUES[5]!, []);
  assert.deepEqual(r.events, [
    { kind: 'reply', code: 220, lines: ['220 hi'], message: 'hi' },
    { kind: 'bad', reason: 'unterminated-reply', code: 230, closedBy: 'end' },
    { kind: 'reply', code: 230, lines: ['230-Welcome', '230-to it', ' 230 not yet'], message: '230 not yet' },
  ]);
  assert.deepEqual(r.stamps.slice(1), [[1, 2], [1, 2]]); // from the reply's first line to the end (frame 2)
});

test('replies: lines beyond the limit of a multi-line reply are told once and marked', () => {
  const r = run(DIALOGUES[6]!, []);
  assert.deepEqual(r.events, [
    { kind: 'bad', reason: 'long-reply', code: 214, limit: 3 },
    { kind: 'reply', code: 214, lines: ['214-Help', ' a', ' b', '...', '214 End'], message: 'End' },
  ]);
});

test('replies: a reply line over the limit is told as overlong (its code, its length as sent), then read as cut', () => {
  const r = run(DIALOGUES[7]!, []);
  assert.deepEqual(r.events, [
    { kind: 'bad', reason: 'overlong-reply', code: 220, bytes: 45, limit: 16 },
    { kind: 'reply', code: 220, lines: [`220 ${'y'.repeat(12)}`], message: 'y'.repeat(12) },
    { kind: 'reply', code: 230, lines: ['230 in'], message: 'in' },
  ]);
});

test('commands: Telnet IP and Synch before ABOR are told with it, not in its verb; a line of them alone is nothing', () => {
  const r = run(DIALOGUES[8]!, [3, 4]);
  assert.deepEqual(r.events, [
    { kind: 'command', verb: 'ABOR', argument: '', known: 'ABOR', truncated: false, length: 9, telnet: TELNET_IP | TELNET_DM },
    { kind: 'command', verb: 'STAT', argument: '', known: 'STAT', truncated: false, length: 5 },
  ]);
});

test('stamps: a line in one segment has one stamp; a line over two has the first and the last', () => {
  const d: Dialogue = { name: 'two', commands: true, bytes: bytes('USER a\r\nPA', 'SS b\r\n') };
  const events: [number, number, boolean][] = [];
  const sink: ControlEvents = {
    onCommand: (_v, _a, _k, first, last) => events.push([first.frame, last.frame, first === last]),
    onReply: () => assert.fail('no reply'),
    onBadLine: () => assert.fail('no bad line'),
    commandsSent: () => 0,
    answersLater: () => false,
  };
  const p = new ControlParser(true, LIMITS, sink);
  p.push(d.bytes, 0, 10, { frame: 1, sec: 1, nsec: 0 });
  p.push(d.bytes, 10, d.bytes.length - 10, { frame: 2, sec: 2, nsec: 0 });
  p.end({ frame: 3, sec: 3, nsec: 0 });
  assert.deepEqual(events, [[1, 1, true], [1, 2, false]]);
});

test('a gap drops the partial line; reading resumes at the next line that starts a command or a reply', () => {
  const got: string[] = [];
  const sink: ControlEvents = {
    onCommand: (verb) => got.push(verb),
    onReply: (code) => got.push(String(code)),
    onBadLine: (b) => got.push(b.reason),
    commandsSent: () => 0,
    answersLater: () => false,
  };
  const at = { frame: 1, sec: 0, nsec: 0 };
  const c = new ControlParser(true, LIMITS, sink);
  const cmds = bytes('USER a\r\nPAS');
  c.push(cmds, 0, cmds.length, at);
  c.gap();
  const rest = bytes('S secret\r\nPWD\r\n');
  c.push(rest, 0, rest.length, at);
  c.end(at);
  const r = new ControlParser(false, LIMITS, sink);
  const replies = bytes('331 ok\r\n230-We');
  r.push(replies, 0, replies.length, at);
  r.gap();
  const more = bytes('lcome\r\n230 in\r\n');
  r.push(more, 0, more.length, at);
  r.end(at);
  // The reply's multi-line state outlives the gap (its opening line was read whole).
  assert.deepEqual(got, ['USER', 'PWD', '331', '230']);
});

test('offer: an ASCII line whole in one segment is offered as bytes first; a reply only outside a multi-line reply', () => {
  const offered: string[] = [];
  const d: Dialogue = { name: 'offer', commands: false, bytes: bytes('200 a\r\n211-b\r\n c\r\n211 d\r\n226 e\r\n') };
  const r = run(d, [], (buf, off, n) => {
    const line = buf.toString('latin1', off, off + n);
    offered.push(line);
    return line.startsWith('226');
  });
  assert.deepEqual(offered, ['200 a', '211-b', '226 e']);
  assert.deepEqual(r.events.map((e) => (e.kind === 'reply' ? e.code : e.kind)), [200, 211]);
});

test('release: no more lines are read, but an open multi-line reply is still closed at the end', () => {
  const got: string[] = [];
  const sink: ControlEvents = {
    onCommand: () => assert.fail('no command'),
    onReply: (code, lines) => got.push(`${code}:${lines.length}`),
    onBadLine: (b) => got.push(b.reason),
    commandsSent: () => 0,
    answersLater: () => false,
  };
  const p = new ControlParser(false, LIMITS, sink);
  const b = bytes('230-a\r\n230-b');
  p.push(b, 0, b.length, { frame: 1, sec: 0, nsec: 0 });
  p.release();
  p.push(b, 0, b.length, { frame: 2, sec: 0, nsec: 0 });
  p.end({ frame: 3, sec: 0, nsec: 0 });
  assert.deepEqual(got, ['unterminated-reply', '230:1']);
});

for (const d of DIALOGUES) {
  test(`every split point gives the events of the whole: ${d.name}`, () => {
    const whole = run(d, []);
    assert.ok(whole.events.length > 0);
    const n = d.bytes.length;
    for (let i = 1; i < n; i++) assert.deepEqual(run(d, [i]).events, whole.events, `cut at ${i}`);
    assert.deepEqual(run(d, cutsOneByOne(n)).events, whole.events, 'one byte at a time');
    // Two cuts at every pair of points of the shorter dialogues; three random cuts of every one.
    if (n <= 160) for (let i = 1; i < n; i++) for (let j = i + 1; j < n; j++) assert.deepEqual(run(d, [i, j]).events, whole.events, `cuts at ${i}, ${j}`);
    const rnd = prng(n);
    for (let k = 0; k < 300; k++) {
      const cuts = [...new Set([rnd() * n, rnd() * n, rnd() * n].map((x) => 1 + Math.floor(x * (n - 1) / n)))].sort((a, b) => a - b);
      assert.deepEqual(run(d, cuts).events, whole.events, `cuts at ${cuts.join(', ')}`);
    }
    // An offer that declines changes nothing either.
    assert.deepEqual(run(d, cutsOneByOne(n), () => false).events, whole.events, 'declining offer, one byte at a time');
    assert.deepEqual(run(d, [], () => false).events, whole.events, 'declining offer, whole');
    // Stamps name segments: a line begins no later than it ends, in the order of the events.
    for (const [first, last] of run(d, cutsOneByOne(n)).stamps) assert.ok(first <= last);
  });
}

test('commands: where the text began when telnet commands alone came in the segments before it (IP, the Synch, then ABOR)', () => {
  const seen: Array<[string, number, number, number]> = [];
  const sink: ControlEvents = {
    onCommand(verb, _argument, _known, first, last, _truncated, _length, _telnet, textAt) {
      seen.push([verb, first.frame, textAt.frame, last.frame]);
    },
    onReply() {},
    onBadLine() {},
    commandsSent: () => seen.length,
    answersLater: () => false,
  };
  const p = new ControlParser(true, LIMITS, sink);
  const clock: Stamp = { frame: 0, sec: 0, nsec: 0 };
  const send = (...parts: (string | number[])[]) => {
    const b = bytes(...parts);
    clock.frame++;
    p.push(b, 0, b.length, clock);
  };
  // As lftp sends it: IAC IP IAC | DM (urgent) | ABOR CRLF; the DM's IAC and its command in two segments.
  send([IAC, 0xf4, IAC]);
  send([0xf2]);
  send('ABOR\r\n');
  // Telnet and text in one segment, then a line cut after its text began, then a SB split over segments.
  send([IAC, 0xf4], 'AB');
  send('OR\r\n');
  send([IAC, 0xfa, 0x18]);
  send([IAC, 0xf0], 'NOOP\r\n');
  send('RE');
  send('TR a\r\n');
  assert.deepEqual(seen, [
    ['ABOR', 1, 3, 3],
    ['ABOR', 4, 4, 5],
    ['NOOP', 6, 7, 7],
    // No telnet at all: the text begins where the line does.
    ['RETR', 8, 8, 9],
  ]);
});
