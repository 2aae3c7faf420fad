/**
 * The FTP engine on synthetic dialogs: the control parser (segmentation, multi-line replies, telnet,
 * pipelining) and the attribution of data connections in each of the cases the peers get wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Settings } from '../src/config.js';
import { analyseCapture } from './analysis.js';
import type { Exchange, FtpAnalysis } from '../src/model/ftp-model.js';
import { ACK, PSH, SYN, TcpConversation, framesToPcap, type Endpoint, type Frame } from './support/capture-writer.js';
import { parse257, resolvePath, splitListArgument } from '../src/ftp/paths.js';
import { prng } from './support/random.js';

const CLIENT: Endpoint = { ip: '10.0.0.1', port: 40000 };
const SERVER: Endpoint = { ip: '10.0.0.2', port: 21 };

/** Builds a capture from several TCP conversations, in the order their pieces are added. */
class Script {
  readonly frames: Frame[] = [];
  private readonly taken = new Map<TcpConversation, number>();
  readonly ctl: TcpConversation;

  constructor(client = CLIENT, server = SERVER, handshake = true) {
    this.ctl = new TcpConversation({ client, server });
    if (handshake) this.take(this.ctl.handshake());
  }

  /** Moves the frames a conversation made since the last call into the capture. */
  take(conv: TcpConversation): this {
    const from = this.taken.get(conv) ?? 0;
    this.frames.push(...conv.frames.slice(from));
    this.taken.set(conv, conv.frames.length);
    return this;
  }

  cmd(line: string): this {
    return this.take(this.ctl.send(true, `${line}\r\n`));
  }

  reply(text: string): this {
    return this.take(this.ctl.send(false, `${text}\r\n`));
  }

  /** A data connection from `from` to `to` carrying `bytes` from its server side (or client side). */
  dataConn(from: Endpoint, to: Endpoint, bytes: string, fromOpener = false): TcpConversation {
    const d = new TcpConversation({ client: from, server: to, isnClient: 7000, isnServer: 9000 });
    d.handshake().send(fromOpener, bytes).close(!fromOpener);
    return d;
  }

  /** The frames, stamped 1 ms apart in the order they were added. */
  build(): Frame[] {
    return this.frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000 }));
  }
}

async function analyseFrames(frames: Frame[], changes: Partial<Settings> = {}): Promise<FtpAnalysis> {
  return (await analyseCapture('test.pcap', Readable.from([framesToPcap(frames, 'ethernet')]), changes)).ftp.result();
}

/** An exchange without its frames and times, to compare runs whose segmentation differs. */
function shape(ex: Exchange) {
  return { command: ex.command, argument: ex.argument, path: ex.path, cwd: ex.cwd, replies: ex.replies.map((r) => ({ code: r.code, lines: r.lines, message: r.message })), note: ex.note };
}

// ---------------------------------------------------------------------------
// The control parser
// ---------------------------------------------------------------------------

/** A transcript: who sends what, in order. */
const TRANSCRIPT: Array<[boolean, string]> = [
  [false, '220-Welcome.\r\n220-Second line of the greeting\r\n 220 a line that starts with a space and the code\r\n220 Ready.\r\n'],
  [true, 'user alice\r\n'],
  [false, '331 Password required.\r\n'],
  [true, 'PASS secret\n'], // a bare LF
  [false, '230 Logged in.\n'],
  [true, 'PWD\r\n'],
  [false, '257 "/home/alice ""quoted"" dir" is the current directory\r\n'],
  [true, 'CWD sub\r\nTYPE I\r\n'], // two pipelined commands in one segment
  [false, '250 OK.\r\n200 Type set to I.\r\n'],
  [true, '\xff\xf4\xff\xf2NOOP\r\n'], // telnet IP and DM before the command
  [false, '200 NOOP ok.\r\n'],
  [true, 'SIZE ../file.txt\r\n'],
  [false, '213 1234\r\n'],
  [true, 'QUIT\r\n'],
  [false, '221 Bye.\r\n'],
];

/** The transcript as a control connection whose segments are cut by `cut(message index, bytes)`. */
function transcriptFrames(cut: (i: number, bytes: Buffer) => Buffer[]): Frame[] {
  const s = new Script();
  TRANSCRIPT.forEach(([fromClient, text], i) => {
    for (const piece of cut(i, Buffer.from(text, 'latin1'))) s.ctl.segment(fromClient, ACK | PSH, piece);
    s.take(s.ctl);
  });
  return s.build();
}

test('control parser: lines, multi-line replies, telnet, pipelining and the working directory', async () => {
  const a = await analyseFrames(transcriptFrames((_, b) => [b]));
  const s = a.sessions[0]!;
  assert.deepEqual(s.greeting?.lines, ['220-Welcome.', '220-Second line of the greeting', ' 220 a line that starts with a space and the code', '220 Ready.']);
  assert.equal(s.user, 'alice');
  assert.equal(s.login, 'success');
  assert.deepEqual(s.exchanges.map((e) => `${e.command} ${e.replies.map((r) => r.code).join('/')}`), [
    '<init> 220', 'USER 331', 'PASS 230', 'PWD 257', 'CWD 250', 'TYPE 200', 'NOOP 200', 'SIZE 213', 'QUIT 221',
  ]);
  const size = s.exchanges.find((e) => e.command === 'SIZE')!;
  assert.equal(size.cwd, '/home/alice "quoted" dir/sub');
  assert.equal(size.path, '/home/alice "quoted" dir/file.txt');
  assert.equal(s.cwd, '/home/alice "quoted" dir/sub');
  assert.ok(s.exchanges.every((e) => e.command === '<init>' || e.responseTime !== null));
});

test('control parser: every split point gives the same exchanges', async () => {
  const whole = (await analyseFrames(transcriptFrames((_, b) => [b]))).sessions[0]!.exchanges.map(shape);
  const total = TRANSCRIPT.reduce((n, [, t]) => n + t.length, 0);
  for (let k = 1; k < total; k++) {
    // Split the message holding byte k of the whole transcript at that byte.
    let before = 0;
    const frames = transcriptFrames((i, b) => {
      const start = before;
      before += b.length;
      void i;
      return k > start && k < start + b.length ? [b.subarray(0, k - start), b.subarray(k - start)] : [b];
    });
    const got = (await analyseFrames(frames)).sessions[0]!.exchanges.map(shape);
    assert.deepEqual(got, whole, `split at byte ${k}`);
  }
});

test('control parser: one byte per segment gives the same exchanges', async () => {
  const whole = (await analyseFrames(transcriptFrames((_, b) => [b]))).sessions[0]!.exchanges.map(shape);
  const bytewise = transcriptFrames((_, b) => [...b].map((x) => Buffer.from([x])));
  assert.deepEqual((await analyseFrames(bytewise)).sessions[0]!.exchanges.map(shape), whole);
});

test('control parser: a multi-line reply that is never closed is closed by the next valid reply', async () => {
  const s = new Script().reply('220 Hi').cmd('USER bob').reply('230-Welcome, bob').reply('230-Enjoy').cmd('PWD').reply('257 "/" is the directory');
  const a = await analyseFrames(s.build());
  const ex = a.sessions[0]!.exchanges;
  assert.deepEqual(ex.map((e) => `${e.command} ${e.replies.map((r) => r.code).join('/')}`), ['<init> 220', 'USER 230', 'PWD 257']);
  assert.deepEqual(ex[1]!.replies[0]!.lines, ['230-Welcome, bob', '230-Enjoy']);
  assert.ok(a.findings.some((f) => f.kind === 'unterminated-reply'));
  assert.equal(a.sessions[0]!.cwd, '/');
});

test('control parser: commands pipelined before the greeting are paired by valid reply codes', async () => {
  const s = new Script();
  for (const c of ['USER anonymous', 'PASS a@b.c', 'SYST', 'TYPE I', 'PASV', 'QUIT']) s.cmd(c);
  s.reply('220 ready').reply('331 ok').reply('230 in').reply('215 UNIX').reply('200 ok').reply('227 Entering Passive Mode (10,0,0,2,200,1)').reply('221 bye');
  const a = await analyseFrames(s.build());
  assert.deepEqual(a.sessions[0]!.exchanges.map((e) => `${e.command} ${e.replies.map((r) => r.code).join('/')}`), [
    'USER 331', 'PASS 230', 'SYST 215', 'TYPE 200', 'PASV 227', 'QUIT 221', '<init> 220',
  ].sort((x, y) => (x.startsWith('<') ? 1 : 0) - (y.startsWith('<') ? 1 : 0)));
  assert.equal(a.predictions[0]!.to.port, 200 * 256 + 1);
});

test('control parser: lines that are not replies are findings, and the session goes on', async () => {
  const s = new Script().reply('220 Hi').cmd('SYST').reply('230_no_space').reply('99 short code').reply('215 UNIX Type: L8');
  const a = await analyseFrames(s.build());
  assert.equal(a.findings.find((f) => f.kind === 'invalid-reply')?.count, 2);
  assert.equal(a.sessions[0]!.exchanges.find((e) => e.command === 'SYST')!.replies[0]!.code, 215);
});

test('control parser: an overlong line is cut, reported, and the next line is read', async () => {
  const options = { maxLineLength: 64 };
  const s = new Script().reply('220 Hi').cmd(`CWD ${'x'.repeat(500)}`).reply('250 ok').cmd('PWD').reply('257 "/"');
  const a = await analyseFrames(s.build(), options);
  assert.ok(a.findings.some((f) => f.kind === 'overlong-command'));
  assert.deepEqual(a.sessions[0]!.exchanges.map((e) => e.command), ['<init>', 'CWD', 'PWD']);
  assert.equal(a.sessions[0]!.exchanges[1]!.argument.length, 60);
});

test('AUTH TLS answered 234: the rest of the control channel is not parsed', async () => {
  const s = new Script().reply('220 Hi').cmd('AUTH TLS').reply('234 Proceed');
  s.take(s.ctl.send(true, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x0d, 0x0a])));
  const a = await analyseFrames(s.build());
  assert.deepEqual(a.sessions[0]!.tls, { command: 'AUTH TLS', frame: a.sessions[0]!.exchanges[1]!.replies[0]!.start.frame });
  assert.equal(a.sessions[0]!.exchanges.length, 2);
  assert.ok(!a.findings.some((f) => f.kind === 'not-ftp-command'));
});

// ---------------------------------------------------------------------------
// Predictions and attribution
// ---------------------------------------------------------------------------

function login(s: Script): Script {
  return s.reply('220 Hi').cmd('USER u').reply('331 pw').cmd('PASS p').reply('230 ok').cmd('PWD').reply('257 "/pub"');
}

test('EPSV, then SIZE and CWD before RETR: the data connection belongs to RETR', async () => {
  const s = login(new Script()).cmd('EPSV').reply('229 Entering Extended Passive Mode (|||50001|)');
  const data = s.dataConn({ ip: CLIENT.ip, port: 40100 }, { ip: SERVER.ip, port: 50001 }, 'file body');
  s.take(new TcpConversation({ client: CLIENT, server: SERVER })); // nothing: keeps the API honest
  // The client connects at once, then asks SIZE and CWD, then RETR.
  s.frames.push(...data.frames.slice(0, 3));
  s.cmd('SIZE README').reply('213 9').cmd('CWD README').reply('550 not a directory').cmd('RETR README').reply('150 here it comes');
  s.frames.push(...data.frames.slice(3));
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  assert.equal(a.transfers.length, 1);
  const t = a.transfers[0]!;
  assert.equal(t.command, 'RETR');
  assert.equal(t.path, '/pub/README');
  assert.equal(t.mode, 'passive');
  assert.equal(t.rule, 'advertised');
  assert.equal(t.bytes, 9);
  assert.equal(t.announcedSize, 9);
  assert.equal(t.status, 'complete');
  assert.equal(a.sessions[0]!.exchanges.find((e) => e.command === 'SIZE')!.transfer, null);
});

test('a SIZE reply gives the announced size only when it is a decimal number', async () => {
  const cases: Array<[string, number | null]> = [['213 9', 9], ['213  12 bytes', 12], ['213 ', null], ['213 0x10', null], ['213 1e3', null], ['213 -5', null], ['213 99999999999999999', null], ['550 no', null]];
  for (const [reply, size] of cases) {
    const s = login(new Script()).cmd('EPSV').reply('229 Entering Extended Passive Mode (|||50001|)');
    s.cmd('SIZE README').reply(reply).cmd('RETR README').reply('150 here it comes');
    s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 40100 }, { ip: SERVER.ip, port: 50001 }, 'file body').frames);
    s.reply('226 done');
    const a = await analyseFrames(s.build());
    assert.equal(a.transfers[0]!.announcedSize, size, reply);
  }
});

test('the predictions kept in arrival order are those still awaited, not all there ever were', { skip: process.env.FTPSCOPE_FAST === '1' && 'skipped in test:fast: stress test (1,500 predictions); npm test runs it' }, async () => {
  const s = login(new Script());
  const n = 1500;
  for (let i = 0; i < n; i++) {
    const port = 40000 + i;
    s.cmd('EPSV').reply(`229 Entering Extended Passive Mode (|||${port}|)`).cmd('RETR f').reply('150 here');
    s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 20000 + i }, { ip: SERVER.ip, port }, 'x').frames);
    s.reply('226 done');
  }
  const { ftp } = await analyseCapture('test.pcap', Readable.from([framesToPcap(s.build(), 'ethernet')]));
  const a = ftp.result();
  assert.equal(a.transfers.filter((t) => t.status === 'complete' && t.rule === 'advertised').length, n);
  // The expectation table's arrival order (ftp/expectations.ts), looked at from outside.
  const order = (ftp as unknown as { expected: { order: unknown[]; head: number } }).expected;
  assert.ok(order.order.length - order.head <= 1024 + 2, `${order.order.length - order.head} kept in order for ${n} predictions, all matched`);
});

test('without any PASV or PORT in the capture, each data connection opened after its RETR goes to that RETR (unpredicted)', async () => {
  const s = login(new Script());
  const bodies = ['first file', 'second, longer file', 'third'];
  for (const [i, body] of bodies.entries()) {
    s.cmd(`RETR f${i}`).reply('150 here it comes');
    s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 41000 + i }, { ip: SERVER.ip, port: 52000 + i }, body).frames);
    s.reply('226 done');
  }
  const a = await analyseFrames(s.build());
  assert.deepEqual(
    a.transfers.map((t) => [t.path, t.rule, t.bytes, t.status]),
    bodies.map((b, i) => [`/pub/f${i}`, 'unpredicted', b.length, 'complete']),
  );
});

test('a connection nothing announced, between hosts of a session whose commands are encrypted, is put to the first such session', async () => {
  // Session 1 in the clear, then sessions 2 and 3 between the same hosts under AUTH TLS; another pair of hosts in the clear.
  const clear = login(new Script({ ip: CLIENT.ip, port: 33001 }));
  const tls = [33002, 33003].map((port) => new Script({ ip: CLIENT.ip, port }).reply('220 Hi').cmd('AUTH TLS').reply('234 go ahead'));
  const other = login(new Script({ ip: '10.9.9.9', port: 33004 }, { ip: '10.9.9.10', port: 21 }));
  const frames = [...clear.frames, ...tls.flatMap((t) => t.frames), ...other.frames];
  frames.push(...clear.dataConn({ ip: CLIENT.ip, port: 44001 }, { ip: SERVER.ip, port: 55001 }, 'hidden data').frames);
  frames.push(...other.dataConn({ ip: '10.9.9.9', port: 44002 }, { ip: '10.9.9.10', port: 55002 }, 'plain data').frames);
  const a = await analyseFrames(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1_000_000 })));
  const found = a.findings.filter((f) => f.kind === 'unpredicted-connection');
  assert.equal(found.length, 2);
  assert.equal(found[0]!.session, 2);
  assert.match(found[0]!.message, /probably a data connection of session 2, whose commands are encrypted/);
  assert.equal(found[1]!.session, null);
  assert.match(found[1]!.message, /no PORT, EPRT, 227 or 229 in the capture announced it/);
});

test('active mode from a port other than 20 is matched on the advertised address and port', async () => {
  const s = login(new Script()).cmd('PORT 10,0,0,1,200,100').reply('200 PORT ok').cmd('LIST').reply('150 listing');
  const data = s.dataConn({ ip: SERVER.ip, port: 2020 }, { ip: CLIENT.ip, port: 51300 }, 'a\r\nb\r\n', true);
  s.frames.push(...data.frames);
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  const p = a.predictions[0]!;
  assert.equal(p.to.port, 51300);
  assert.equal(p.arithmetic, '200*256+100 = 51300');
  assert.equal(p.connector, 'server');
  const t = a.transfers[0]!;
  assert.deepEqual([t.command, t.mode, t.rule, t.bytes, t.status], ['LIST', 'active', 'advertised', 6, 'complete']);
  assert.equal(t.path, '/pub');
});

test('a NATed 227 (advertised address unreachable): matched on the control connection peer, flagged', async () => {
  const s = login(new Script()).cmd('PASV').reply('227 Entering Passive Mode (203,0,113,5,195,80)');
  const data = s.dataConn({ ip: CLIENT.ip, port: 40200 }, { ip: SERVER.ip, port: 195 * 256 + 80 }, 'x'.repeat(3000));
  s.cmd('RETR big').reply('150 ok');
  s.frames.push(...data.frames);
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  const p = a.predictions[0]!;
  assert.equal(p.addressDiffers, true);
  assert.equal(p.to.address, '203.0.113.5');
  assert.equal(p.controlPeer.address, '10.0.0.2');
  assert.equal(p.rule, 'control-peer');
  assert.deepEqual([a.transfers[0]!.rule, a.transfers[0]!.bytes], ['control-peer', 3000]);
});

test('late binding: a data connection captured before its 227 is still attached', async () => {
  const s = login(new Script()).cmd('PASV');
  const data = s.dataConn({ ip: CLIENT.ip, port: 40300 }, { ip: SERVER.ip, port: 50002 }, 'late');
  s.frames.push(...data.frames.slice(0, 3)); // the SYN shows up first (reordered capture)
  s.reply('227 Entering Passive Mode (10,0,0,2,195,82)').cmd('RETR f').reply('150 ok');
  s.frames.push(...data.frames.slice(3));
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  assert.equal(a.transfers[0]!.connection !== null, true);
  assert.equal(a.transfers[0]!.bytes, 4);
  assert.equal(a.predictions[0]!.status, 'matched');
});

test('EPRT with an unspecified address means the client on the control connection', async () => {
  const s = login(new Script()).cmd('EPRT |2|::|51400|').reply('200 ok').cmd('RETR f').reply('150 ok');
  const data = s.dataConn({ ip: SERVER.ip, port: 20 }, { ip: CLIENT.ip, port: 51400 }, 'eprt', true);
  s.frames.push(...data.frames);
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  assert.deepEqual(a.predictions[0]!.to, { address: '10.0.0.1', port: 51400 });
  assert.equal(a.transfers[0]!.bytes, 4);
});

test('a 229 answering PASV is read as a passive reply', async () => {
  const s = login(new Script()).cmd('PASV').reply('229 Entering Extended Passive Mode (!!!50003!)').cmd('NLST').reply('150 ok');
  s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 40400 }, { ip: SERVER.ip, port: 50003 }, 'f1\r\n').frames);
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  assert.deepEqual([a.predictions[0]!.source, a.transfers[0]!.command, a.transfers[0]!.bytes], ['EPSV', 'NLST', 4]);
});

test('a PORT naming another host is a third-party transfer, and the finding says what the server did', async () => {
  const outcome = async (reply: string, connects: boolean) => {
    const s = login(new Script()).cmd('PORT 10,9,9,9,4,1').reply(reply);
    if (connects) {
      s.cmd('LIST');
      s.frames.push(...s.dataConn({ ip: SERVER.ip, port: 20 }, { ip: '10.9.9.9', port: 1025 }, 'listing', true).frames);
      s.reply('226 done');
    }
    const a = await analyseFrames(s.build());
    assert.equal(a.predictions[0]!.thirdParty, true);
    return a.findings.find((f) => f.kind === 'third-party')!;
  };
  const obeyed = await outcome('200 PORT command successful.', true);
  assert.equal(obeyed.severity, 'alert');
  assert.match(obeyed.message, /the server obeyed: it connected there and 7 bytes went over that connection/);
  const refused = await outcome('500 Illegal PORT command.', false);
  assert.equal(refused.severity, 'notice');
  assert.match(refused.message, /the server refused it \(500\)/);
  const accepted = await outcome('200 ok', false);
  assert.equal(accepted.severity, 'warning');
  assert.match(accepted.message, /accepted it \(200\), but no connection to 10\.9\.9\.9:1025 is in the capture/);
});

test('a passive address that is not the server\'s, reached at the server\'s: the NAT works, an info finding says so', async () => {
  const s = login(new Script()).cmd('PASV').reply('227 Entering Passive Mode (203,0,113,5,195,80).').cmd('RETR f').reply('150 here');
  s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 40100 }, { ip: SERVER.ip, port: 50000 }, 'file body').frames);
  s.reply('226 done');
  const a = await analyseFrames(s.build());
  assert.equal(a.transfers[0]!.rule, 'control-peer');
  assert.equal(a.transfers[0]!.status, 'complete');
  const nat = a.findings.find((f) => f.kind === 'nat-passive-address');
  assert.ok(nat !== undefined, JSON.stringify(a.findings.map((f) => f.kind)));
  assert.equal(nat.severity, 'info');
  assert.match(nat.message, /advertised 203\.0\.113\.5, and the data connection came to 10\.0\.0\.2/);
});

test('a refused active connection (425): the transfer failed, and the cause says why', async () => {
  const s = login(new Script()).cmd('PORT 10,0,0,1,200,101').reply('200 ok').cmd('RETR f').reply('150 opening');
  const syn = new TcpConversation({ client: { ip: SERVER.ip, port: 20 }, server: { ip: CLIENT.ip, port: 51301 } });
  syn.segment(true, SYN);
  s.take(syn).reply("425 Can't open data connection.");
  const a = await analyseFrames(s.build());
  const t = a.transfers[0]!;
  assert.equal(t.status, 'failed');
  assert.match(t.cause!, /active mode/);
  assert.ok(a.findings.some((f) => f.kind === 'transfer-failed'));
});

test('two concurrent sessions between the same hosts keep their own data connections', async () => {
  const a1 = login(new Script());
  const b = new Script({ ip: CLIENT.ip, port: 40001 }, SERVER);
  login(b);
  a1.frames.push(...b.frames);
  a1.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,195,90)');
  b.frames.length = 0;
  b.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,195,91)').cmd('RETR two').reply('150 ok');
  a1.frames.push(...b.frames);
  a1.cmd('RETR one').reply('150 ok');
  a1.frames.push(...a1.dataConn({ ip: CLIENT.ip, port: 41000 }, { ip: SERVER.ip, port: 195 * 256 + 91 }, '22').frames);
  a1.frames.push(...a1.dataConn({ ip: CLIENT.ip, port: 41001 }, { ip: SERVER.ip, port: 195 * 256 + 90 }, '1').frames);
  const a = await analyseFrames(a1.build());
  const byPath = Object.fromEntries(a.transfers.map((t) => [t.path, [t.session, t.bytes]]));
  assert.deepEqual(byPath, { '/pub/one': [1, 1], '/pub/two': [2, 2] });
});

test('a capture that starts mid-session (no handshake, no login) still analyses', async () => {
  const s = login(new Script());
  const cut = s.frames.length;
  s.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,195,95)').cmd('RETR x').reply('150 (5 bytes)');
  s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 41005 }, { ip: SERVER.ip, port: 195 * 256 + 95 }, 'hello').frames);
  s.reply('226 ok');
  const a = await analyseFrames(s.build().slice(cut));
  const session = a.sessions[0]!;
  assert.equal(session.midStream, true);
  assert.equal(session.login, 'none');
  assert.deepEqual([a.transfers[0]!.path, a.transfers[0]!.bytes, a.transfers[0]!.announcedSize], ['./x', 5, 5]);
});

test('FTP on another port is recognised by its first lines, or named with --ports', async () => {
  const server = { ip: SERVER.ip, port: 2121 };
  const s = new Script(CLIENT, server).reply('220 FTP here').cmd('USER u').reply('331 pw').cmd('PASS p').reply('230 ok');
  const sniffed = await analyseFrames(s.build());
  assert.equal(sniffed.sessions.length, 1);
  assert.equal(sniffed.sessions[0]!.login, 'success');
  const off = await analyseFrames(s.build(), { sniff: false });
  assert.equal(off.sessions.length, 0);
  const named = await analyseFrames(s.build(), { sniff: false, ports: [2121] });
  assert.equal(named.sessions.length, 1);
});

test('REST, TYPE and the 150 reply size reach the transfer', async () => {
  const s = login(new Script()).cmd('TYPE I').reply('200 ok').cmd('REST 100').reply('350 Restarting at 100').cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,196,1)');
  s.cmd('RETR part').reply('150 Opening BINARY mode data connection for part (1100 bytes)');
  s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 41010 }, { ip: SERVER.ip, port: 196 * 256 + 1 }, 'y'.repeat(1000)).frames);
  s.reply('226 ok');
  const t = (await analyseFrames(s.build())).transfers[0]!;
  assert.deepEqual([t.restOffset, t.type, t.announcedSize, t.bytes], [100, 'I', 1100, 1000]);
});

test('a reply whose command is not in the capture is not paired with an older command', async () => {
  // As in a real capture: the 200 to TYPE I and the PASV after it were lost; the 227 arrives.
  const s = login(new Script()).cmd('TYPE I');
  const lost = s.frames.length;
  s.cmd('PASV');
  s.frames.length = lost; // drop the PASV segment (the server's ACK of it follows in its next segment)
  s.reply('227 Entering Passive Mode (10,0,0,2,196,2)').cmd('RETR f').reply('150 ok').reply('226 done');
  const a = await analyseFrames(s.build());
  const ex = a.sessions[0]!.exchanges;
  const type = ex.find((e) => e.command === 'TYPE')!;
  assert.deepEqual(type.replies, []);
  assert.equal(type.note, 'no reply in the capture');
  const orphan = ex.find((e) => e.command === '')!;
  assert.equal(orphan.replies[0]!.code, 227);
  assert.match(orphan.note!, /not a valid reply to TYPE.*missing from the capture/);
  // A command was lost: a CWD may have been among them.
  assert.equal(typeof a.sessions[0]!.cwdUncertainFrom, 'number');
  assert.deepEqual(ex.find((e) => e.command === 'RETR')!.replies.map((r) => r.code), [150, 226]);
  assert.equal(a.predictions.length, 1);
});

/** Each exchange as "COMMAND codes" (replies without a command as "- codes"). */
function pairs(a: FtpAnalysis): string[] {
  return a.sessions[0]!.exchanges.filter((e) => e.command !== '<init>').map((e) => `${e.command || '-'} ${e.replies.map((r) => r.code).join('/')}`);
}

test('Pure-FTPd answers OPTS UTF8 ON with 504 (lftp): the replies after it stay with their commands', async () => {
  const s = new Script().reply('220 Welcome to Pure-FTPd').cmd('USER u').reply('331 User u OK. Password required').cmd('PASS p').reply('230 OK. Current directory is /');
  s.cmd('FEAT').reply('211-Extensions supported:').reply(' UTF8').reply(' MLST type*;size*;modify*;').reply('211 End.');
  s.cmd('OPTS UTF8 ON').reply('504 Unknown command').cmd('OPTS MLST type;size;modify;').reply('200  MLST OPTS type;size;sizd;modify;UNIX.mode;UNIX.uid;UNIX.gid;unique;');
  s.cmd('PWD').reply('257 "/" is your current location');
  const a = await analyseFrames(s.build());
  assert.deepEqual(pairs(a), ['USER 331', 'PASS 230', 'FEAT 211', 'OPTS 504', 'OPTS 200', 'PWD 257']);
  assert.ok(!a.findings.some((f) => f.kind === 'unusual-reply'), '504 is in OPTS\'s table now');
});

test('a code the table does not list for the command waiting goes to it by the order of replies, noted, and shifts nothing', async () => {
  // vsftpd refuses a command its configuration denies with "550 Permission denied." (MODE lists no 550).
  const sequential = login(new Script()).cmd('MODE S').reply('550 Permission denied.').cmd('TYPE I').reply('200 Switching to Binary mode.').cmd('CWD sub').reply('250 ok');
  const a = await analyseFrames(sequential.build());
  assert.deepEqual(pairs(a).slice(3), ['MODE 550', 'TYPE 200', 'CWD 250']);
  const mode = a.sessions[0]!.exchanges.find((e) => e.command === 'MODE')!;
  assert.match(mode.note!, /reply 550 is not among the replies RFC 959 lists for MODE: paired by the order of replies/);
  const f = a.findings.find((x) => x.kind === 'unusual-reply')!;
  assert.equal(f.severity, 'info');
  assert.match(f.message, /MODE was answered 550, a code RFC 959 does not list for it/);
  assert.equal(a.sessions[0]!.cwd, '/pub/sub');
  // Pipelined: the 550 is valid for PWD, sent after NOOP; but PWD's reply cannot come before NOOP's.
  const pipelined = login(new Script()).cmd('NOOP').cmd('PWD').cmd('TYPE A').reply('550 Permission denied.').reply('257 "/home" is the current directory').reply('200 ok');
  assert.deepEqual(pairs(await analyseFrames(pipelined.build())).slice(3), ['NOOP 550', 'PWD 257', 'TYPE 200']);
});

test('an unlisted final code ends a transfer in progress when nothing else waits: the next listing keeps its own replies', async () => {
  const s = login(new Script()).cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,196,10)').cmd('RETR big').reply('150 Opening BINARY mode data connection');
  s.reply('552 Transfer aborted: quota exceeded');
  s.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,196,11)').cmd('LIST').reply('150 Here comes the directory listing.');
  s.take(s.dataConn({ ip: CLIENT.ip, port: 41300 }, { ip: SERVER.ip, port: 196 * 256 + 11 }, 'x\r\n'));
  s.reply('226 Directory send OK.');
  const a = await analyseFrames(s.build());
  assert.deepEqual(pairs(a).slice(3), ['PASV 227', 'RETR 150/552', 'PASV 227', 'LIST 150/226']);
  assert.deepEqual(a.transfers.map((t) => [t.command, t.final]), [['RETR', 552], ['LIST', 226]]);
});

test('a reply that names another kind of command is still kept apart, and a reply kept apart lets later ones pass its command', async () => {
  // 225 answers ABOR only (RFC 959): after RETR it names a command missing from the capture; the 200 after it
  // is then PORT's (the RETR's own reply may have been the 225), as the fake server's words say.
  const s = login(new Script()).cmd('RETR robots.txt').cmd('PORT 10,0,0,1,200,1').reply('225 Response to RETR').reply('200 Response to PORT');
  const a = await analyseFrames(s.build());
  assert.deepEqual(pairs(a).slice(3), ['RETR ', 'PORT 200', '- 225']);
});

test('begun mid-session: a reply to a command sent before the capture is kept apart, not given to the first command seen', async () => {
  const s = login(new Script()).cmd('NOOP');
  const cut = s.frames.length;
  s.cmd('PWD').reply('200 NOOP ok.').reply('257 "/pub" is the current directory').cmd('MODE S').reply('550 Permission denied.');
  const a = await analyseFrames(s.build().slice(cut));
  assert.equal(a.sessions[0]!.midStream, true);
  // Once a reply is paired, the commands are in step: the 550 is MODE's by order.
  assert.deepEqual(pairs(a), ['PWD 257', '- 200', 'MODE 550']);
});

/** A download in progress on a passive connection, then the client's ABOR as lftp sends it: IAC IP IAC, the DM (urgent), ABOR. */
function abortedDownload(): Script {
  const s = login(new Script()).cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,196,20)').cmd('REST 699052').reply('350 Restart position accepted (699052).');
  s.cmd('RETR big.bin').reply('150 Opening BINARY mode data connection for big.bin (2097152 bytes).');
  s.take(s.dataConn({ ip: CLIENT.ip, port: 41400 }, { ip: SERVER.ip, port: 196 * 256 + 20 }, 'y'.repeat(3000)));
  s.ctl.segment(true, ACK | PSH, Buffer.from([0xff, 0xf4, 0xff]));
  s.ctl.segment(true, ACK | PSH, Buffer.from([0xf2]));
  s.ctl.segment(true, ACK | PSH, Buffer.from('ABOR\r\n'));
  return s.take(s.ctl);
}

test('ABOR after Telnet IP and Synch: recognised, and paired with its own replies (RFC 959 section 4.1.3)', async () => {
  // The transfer was in progress: 426 to RETR, then 226 to ABOR.
  const a = await analyseFrames(abortedDownload().reply('426 Failure writing network stream.').reply('226 ABOR successful.').cmd('QUIT').reply('221 Goodbye.').build());
  assert.deepEqual(pairs(a).slice(5), ['RETR 150/426', 'ABOR 226', 'QUIT 221']);
  const ex = a.sessions[0]!.exchanges;
  const abor = ex.find((e) => e.command === 'ABOR')!;
  assert.deepEqual([abor.argument, abor.telnet], ['', ['IP', 'DM']]);
  assert.equal(ex.find((e) => e.command === 'RETR')!.abortedBy, abor.index);
  assert.ok(!a.findings.some((f) => f.kind === 'not-ftp-command' || f.kind === 'overlong-command'));
});

test('ABOR answered by one 226 while RETR still waits: the 226 is ABOR\'s, RETR has no final reply of its own', async () => {
  for (const [name, after] of [['QUIT follows', (s: Script) => s.cmd('QUIT').reply('221 Goodbye.')], ['the capture ends', (s: Script) => s]] as const) {
    for (const exchanges of [true, false]) {
      const s = after(abortedDownload().reply('226 Transfer done (but failed to open directory).'));
      const a = (await analyseCapture('t.pcap', Readable.from([framesToPcap(s.build(), 'ethernet')]), {}, { exchanges })).ftp.result();
      assert.deepEqual(a.transfers.map((t) => [t.command, t.preliminary, t.final]), [['RETR', 150, null]], `${name}, exchanges kept: ${exchanges}`);
      if (!exchanges) continue;
      assert.deepEqual(pairs(a).slice(5, 7), ['RETR 150', 'ABOR 226'], name);
      const ex = a.sessions[0]!.exchanges;
      assert.match(ex.find((e) => e.command === 'ABOR')!.note!, /the one 226 after ABOR is taken as ABOR's: RFC 959 section 4\.1\.3/);
      assert.match(ex.find((e) => e.command === 'RETR')!.note!, /aborted by the client \(ABOR, exchange \d+\): no final reply of its own/);
    }
  }
});

test('ABOR crossing the end of the transfer: its 226 first, then ABOR\'s 225 or 226, each to its own command', async () => {
  for (const second of ['225 No transfer to ABOR.', '226 ABOR successful.']) {
    const a = await analyseFrames(abortedDownload().reply('226 Transfer complete.').reply(second).cmd('PWD').reply('257 "/pub"').build());
    assert.deepEqual(pairs(a).slice(5), ['RETR 150/226', `ABOR ${second.slice(0, 3)}`, 'PWD 257'], second);
    assert.match(a.sessions[0]!.exchanges.find((e) => e.command === 'RETR')!.note!, /the transfer was over when the server read the ABOR/);
    assert.equal(a.transfers[0]!.final, 226);
  }
});

test('ABOR refused: the transfer goes on and keeps its own 226', async () => {
  const a = await analyseFrames(abortedDownload().reply('500 Unknown command.').reply('226 Transfer complete.').build());
  assert.deepEqual(pairs(a).slice(5), ['RETR 150/226', 'ABOR 500']);
  assert.equal(a.sessions[0]!.exchanges.find((e) => e.command === 'RETR')!.abortedBy, undefined);
});

test('one client, two servers advertising the same passive port: each connection goes to its own session', async () => {
  const other: Endpoint = { ip: '10.0.0.3', port: 21 };
  const a = login(new Script());
  const b = login(new Script({ ip: CLIENT.ip, port: 40002 }, other));
  a.frames.push(...b.frames);
  b.frames.length = 0;
  a.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,195,80)');
  b.cmd('PASV').reply('227 Entering Passive Mode (10,0,0,3,195,80)').cmd('RETR b').reply('150 ok');
  a.frames.push(...b.frames);
  a.cmd('RETR a').reply('150 ok');
  a.frames.push(...a.dataConn({ ip: CLIENT.ip, port: 41100 }, { ip: other.ip, port: 195 * 256 + 80 }, 'bbb').frames);
  a.frames.push(...a.dataConn({ ip: CLIENT.ip, port: 41101 }, { ip: SERVER.ip, port: 195 * 256 + 80 }, 'a').frames);
  const m = await analyseFrames(a.build());
  assert.deepEqual(Object.fromEntries(m.transfers.map((t) => [`${t.session} ${t.path}`, t.bytes])), { '1 /pub/a': 1, '2 /pub/b': 3 });
});

test('data flowing against its command (bytes from the client during a RETR) is reported', async () => {
  const s = login(new Script()).cmd('PASV').reply('227 Entering Passive Mode (10,0,0,2,196,3)').cmd('RETR f').reply('150 ok');
  s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 41020 }, { ip: SERVER.ip, port: 196 * 256 + 3 }, 'uploaded?', true).frames);
  s.reply('226 ok');
  const m = await analyseFrames(s.build());
  assert.equal(m.transfers[0]!.wrongDirectionBytes, 9);
  assert.ok(m.findings.some((f) => f.kind === 'wrong-direction'));
});

// ---------------------------------------------------------------------------
// Paths: the quick cases agree with the general folding
// ---------------------------------------------------------------------------

test('resolvePath folds "." and "..", never above the root, and stays relative to an unknown start', () => {
  assert.equal(resolvePath('/', 'pub'), '/pub');
  assert.equal(resolvePath('/pub', 'a/b'), '/pub/a/b');
  assert.equal(resolvePath('/pub/a', '../b'), '/pub/b');
  assert.equal(resolvePath('/pub', '/x//y/./z/'), '/x/y/z');
  assert.equal(resolvePath('/', '../../etc'), '/etc');
  assert.equal(resolvePath('.', 'file'), './file');
  assert.equal(resolvePath('.', '../up'), './../up');
  assert.equal(resolvePath('.', '/abs'), '/abs');
  assert.equal(resolvePath('./pub', 'f'), './pub/f');
});

test('resolvePath: the quick paths give what the general folding gives (20,000 random paths)', () => {
  const rnd = prng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const segments = ['a', 'pub', 'x y', '.', '..', '', '.hidden', '..x', 'é'];
  const path = () => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(segments)).join('/');
  const cwds = ['/', '.', '/pub', '/pub/a', './pub', './..', 'C:\\dir', 'DISK$USER:[DIR]'];
  for (let i = 0; i < 20_000; i++) {
    const cwd = rnd() < 0.5 ? pick(cwds) : resolvePath(pick(cwds), path());
    const arg = (rnd() < 0.3 ? '/' : '') + path();
    // A last "." segment means nothing, and takes the general folding (a "." segment is never quick).
    assert.equal(resolvePath(cwd, arg), resolvePath(cwd, arg === '' ? '.' : `${arg}/.`), `${JSON.stringify(cwd)} + ${JSON.stringify(arg)}`);
  }
});

test('splitListArgument: leading words that start with "-" are ls options, the rest is the path', () => {
  assert.deepEqual(splitListArgument('-a'), { options: ['-a'], path: '' });
  assert.deepEqual(splitListArgument('-la'), { options: ['-la'], path: '' });
  assert.deepEqual(splitListArgument('-al /pub'), { options: ['-al'], path: '/pub' });
  assert.deepEqual(splitListArgument('-a  -l  sub dir'), { options: ['-a', '-l'], path: 'sub dir' });
  assert.deepEqual(splitListArgument('/pub/-a'), { options: [], path: '/pub/-a' });
  assert.deepEqual(splitListArgument('-'), { options: [], path: '-' });
  assert.deepEqual(splitListArgument('- x'), { options: [], path: '- x' });
  assert.deepEqual(splitListArgument(''), { options: [], path: '' });
  assert.deepEqual(splitListArgument('  '), { options: [], path: '  ' });
});

test('LIST -a, NLST -la, LIST -al /pub: the options are options, the path is what follows them (or the directory)', async () => {
  const s = login(new Script());
  const lists: Array<[string, number]> = [['LIST -a', 50010], ['NLST -la', 50011], ['LIST -al /etc', 50012], ['LIST sub', 50013]];
  lists.forEach(([cmd, port], i) => {
    s.cmd('EPSV').reply(`229 Entering Extended Passive Mode (|||${port}|)`).cmd(cmd).reply('150 Here comes the listing.');
    s.take(s.dataConn({ ip: CLIENT.ip, port: 40200 + i }, { ip: SERVER.ip, port }, 'a\r\nb\r\n'));
    s.reply('226 Directory send OK.');
  });
  const a = await analyseFrames(s.build());
  const ex = a.sessions[0]!.exchanges.filter((e) => e.command === 'LIST' || e.command === 'NLST');
  assert.deepEqual(ex.map((e) => [e.argument, e.path, e.options]), [
    ['-a', '/pub', ['-a']], ['-la', '/pub', ['-la']], ['-al /etc', '/etc', ['-al']], ['sub', '/pub/sub', undefined],
  ]);
  assert.deepEqual(a.transfers.map((t) => [t.command, t.path, t.status]), [['LIST', '/pub', 'complete'], ['NLST', '/pub', 'complete'], ['LIST', '/etc', 'complete'], ['LIST', '/pub/sub', 'complete']]);
});

test('parse257 reads the quoted directory of a 257 reply, a doubled quote standing for one (RFC 959 appendix II)', () => {
  assert.equal(parse257('"/pub" is the current directory'), '/pub');
  assert.equal(parse257('"/usr/dm/uaa" created.'), '/usr/dm/uaa');
  assert.equal(parse257('"/he said ""yo""" created'), '/he said "yo"');
  assert.equal(parse257('""""'), '"');
  assert.equal(parse257('"" is it'), '');
  assert.equal(parse257('MKD command successful: "/a b"'), '/a b');
  assert.equal(parse257('no quote here'), null);
  assert.equal(parse257('"/never closed'), null);
  assert.equal(parse257('"/cut after a doubled quote ""'), null);
});

test('without the full connection log, other traffic leaves nothing behind in the log', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 50; i++) {
    frames.push(...new TcpConversation({ client: { ip: '10.9.0.1', port: 30000 + i }, server: { ip: '10.9.0.2', port: 80 } }).handshake().send(true, 'GET / HTTP/1.0\r\n\r\n').send(false, 'HTTP/1.0 200 OK\r\n\r\n').close(true).frames);
  }
  const bytes = framesToPcap(frames.map((f, i) => ({ tsSec: 1_700_000_000, tsNsec: i * 1000, data: f.data })), 'ethernet');
  for (const logEveryConnection of [true, false]) {
    const { ftp } = await analyseCapture('http.pcap', Readable.from([bytes]), {}, { everyConnection: logEveryConnection });
    const log = ftp.log as unknown as { gapsByConn: Map<number, unknown> };
    assert.equal(ftp.log.sorted().length, logEveryConnection ? 50 : 0);
    assert.equal(log.gapsByConn.size, 0, 'what was gathered for each connection went with it');
  }
});

test('a released session is told with its own timeline, whatever its number (live views of session 2 crashed)', async () => {
  const path = new URL('../../fixtures/multi-session.pcap', import.meta.url).pathname;
  const all = (await analyseCapture(path, path)).ftp.result();
  const told: FtpAnalysis[] = [];
  await analyseCapture(path, path, {}, { release: 'live' }, { onSessionDone: (a) => told.push(a) });
  assert.equal(told.length, all.sessions.length);
  assert.ok(told.some((a) => a.sessions[0]!.id > 1 && a.predictions.length > 0), 'a later session that set up a data connection');
  for (const a of told) {
    const id = a.sessions[0]!.id;
    assert.deepEqual(a.timeline, all.timeline.filter((e) => e.session === id), `session ${id}`);
  }
});

test('--max-remembered-sizes: the answers to SIZE kept per session, the oldest forgotten first', async () => {
  const run = async (changes: Partial<Settings>) => {
    const s = login(new Script()).cmd('EPSV').reply('229 Entering Extended Passive Mode (|||50001|)');
    s.cmd('SIZE README').reply('213 9').cmd('SIZE OTHER').reply('213 5').cmd('RETR README').reply('150 here it comes');
    s.frames.push(...s.dataConn({ ip: CLIENT.ip, port: 40100 }, { ip: SERVER.ip, port: 50001 }, 'file body').frames);
    s.reply('226 done');
    return (await analyseFrames(s.build(), changes)).transfers[0]!.announcedSize;
  };
  assert.equal(await run({}), 9);
  assert.equal(await run({ maxRememberedSizes: 2 }), 9);
  assert.equal(await run({ maxRememberedSizes: 1 }), null, 'SIZE OTHER took the one place');
});
