/** Fuzzing level 3: FTP dialogues, random and hostile, over control and data connections (see cases.ts). */
import {
  ACK, PSH, SYN, TcpConversation, framesToPcap, type Endpoint, type Frame, type FrameLink,
} from '../../test/support/capture-writer.js';
import type { Rec } from './corpus.js';
import { mutatePacket } from './packet-mutators.js';
import type { Rng } from './random.js';

const VERBS = [
  'USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'XCWD', 'PWD', 'XPWD', 'TYPE', 'MODE', 'STRU', 'PASV', 'EPSV', 'LPSV', 'PORT', 'EPRT', 'LPRT',
  'RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD', 'MLST', 'REST', 'SIZE', 'MDTM', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'MIC', 'CONF',
  'ENC', 'SITE', 'SYST', 'FEAT', 'OPTS', 'HELP', 'NOOP', 'STAT', 'ABOR', 'QUIT', 'RNFR', 'RNTO', 'DELE', 'RMD', 'MKD', 'HOST', 'ALLO', 'REIN',
];
const CODES = [110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 228, 229, 230, 234, 250, 257, 331, 332, 350, 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 530, 532, 550, 551, 552, 553];
/** Text that must never reach a terminal raw. As strings: written as UTF-8 (C1 as two bytes) or as Latin-1 (one byte). */
const NASTY = [
  '\u001b[31m', '\u001b[2J', '\u001b]0;pwned\u0007', '\u001b[6n', '\u001bP+q\u001b\\', '\u009b31m', '\u0085', '\u009d', '\u2028', '\u2029', '\u202e',
  '\u0000', '\u0007', '\u0008', '\u007f', '\r', '\t', '\u000b', '\u000c', '\u200b', '\u0301', '\u4e2d\u6587', '\ud83d\ude00', '\ufeff',
];
const NUMBERS = ['0', '1', '255', '256', '-1', '65535', '65536', '99999999999999999999', '1e9', '0x10', '007', ' 12', 'NaN', 'Infinity', '4294967296', '18446744073709551616', '-0', '+5', '', '1.5', '９'];
const LINE_ENDS = ['\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r', '', '\r\r\n', '\n\r'];
const IAC_SEQS = [[0xff, 0xf4], [0xff, 0xf2], [0xff, 0xff], [0xff, 0xfb, 0x01], [0xff, 0xfd], [0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0], [0xff, 0xfa, 0x18, 0x01, 0x02], [0xff], [0xff, 0xf0], [0xff, 0xfe]];

type Piece = string | Buffer;

function toBytes(p: Piece, latin1: boolean): Buffer {
  return typeof p === 'string' ? Buffer.from(p, latin1 ? 'latin1' : 'utf8') : p;
}

/** A few pieces of hostile text: escapes, control bytes, IAC, invalid UTF-8, wide characters, long runs. */
function hostile(r: Rng, maxLen = 200): Buffer {
  const parts: Buffer[] = [];
  const latin1 = r.chance(0.3);
  for (let n = r.int(1, 5); n > 0; n--) {
    const what = r.int(0, 9);
    if (what <= 2) parts.push(toBytes(r.pick(NASTY), latin1 && r.chance(0.5)));
    else if (what === 3) parts.push(Buffer.from(r.pick(IAC_SEQS)));
    else if (what === 4) parts.push(r.bytes(r.int(1, 16)));
    else if (what === 5) parts.push(Buffer.from(r.pick(['\xc3\x28', '\xe2\x82', '\xf0\x9f\x98', '\xed\xa0\x80', '\xc0\xaf', '\xff\xfe']), 'latin1'));
    else if (what === 6) parts.push(Buffer.alloc(r.size(maxLen), r.pick(['A', '/', '.', ' ', '%', '\u00e9'.charCodeAt(0)])));
    else if (what === 7) parts.push(Buffer.from(r.pick(NUMBERS)));
    else parts.push(Buffer.from(r.pick(['file.txt', 'a b', '"quoted"', '%s%n%x', '${jndi:x}', '<script>', 'C:\\Windows', '~/.ssh/id_rsa', '*', '-la'])));
  }
  return Buffer.concat(parts);
}

function numberish(r: Rng): string {
  return r.chance(0.6) ? String(r.int(0, 300)) : r.pick(NUMBERS);
}

function traversal(r: Rng): string {
  return r.pick([
    '../../../../etc/passwd', '/../../..', '..', '../'.repeat(r.int(10, 2000)), `${'a/'.repeat(r.int(100, 3000))}x`, `/${'x'.repeat(r.int(256, 20000))}`,
    '.\\..\\..\\boot.ini', '/./././.', '//', '/%2e%2e/%2e%2e', `${'/'.repeat(r.int(2, 500))}`, '~', '\u0000/etc', 'dir/../../../../root',
  ]);
}

/** Arguments of PORT, LPRT; the text of 227, 228 replies. */
function numberList(r: Rng, n: number): string {
  const count = r.chance(0.7) ? n : r.int(0, n + 3);
  const sep = r.pick([',', ',', ',', ', ', '.', ' ', ',,']);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(r.chance(0.7) ? String(r.int(0, 255)) : numberish(r));
  return out.join(sep);
}

function eprtArg(r: Rng, v6: boolean, host: string, port: number): string {
  const d = r.chance(0.8) ? '|' : r.pick(['!', '#', '\u0000', ' ', '||', '']);
  const proto = r.chance(0.7) ? (v6 ? '2' : '1') : r.pick(['0', '3', '9', '', '-1', '11']);
  const addr = r.chance(0.6) ? host : r.pick(['::1', '::ffff:10.0.0.1', '1.2.3', '256.1.1.1', 'fe80::1%eth0', 'x', '', '1:2:3:4:5:6:7:8:9', '10.0.0.1\u0000', hostile(r, 20).toString('latin1')]);
  const p = r.chance(0.6) ? String(port) : numberish(r);
  return r.chance(0.9) ? `${d}${proto}${d}${addr}${d}${p}${d}` : `${d}${proto}${d}${addr}`;
}

interface Scene {
  r: Rng;
  v6: boolean;
  client: Endpoint;
  server: Endpoint;
  ctrl: TcpConversation;
  /** Frames in the order they happen (re-timed at the end). */
  out: Frame[];
  taken: Map<TcpConversation, number>;
  /** Data ports announced so far (those we can open a connection to). */
  ports: Array<{ active: boolean; port: number }>;
  seg: 'whole' | 'tiny' | 'random' | 'line';
  /** Bytes already sent, to keep a case within its size budget. */
  sent: number;
}

/** Moves the frames a conversation made since last time to the scene's output. */
function flush(s: Scene, conv: TcpConversation): void {
  const from = s.taken.get(conv) ?? 0;
  for (let i = from; i < conv.frames.length; i++) s.out.push(conv.frames[i]!);
  s.taken.set(conv, conv.frames.length);
}

/** Sends bytes from one side, cut into segments as the scene's segmentation says. */
function send(s: Scene, conv: TcpConversation, fromClient: boolean, bytes: Buffer, mode = s.seg): void {
  const r = s.r;
  s.sent += bytes.length;
  // TcpConversation numbers IP ids without wrapping at 65536: stay well under 65,536 segments per side.
  if (bytes.length === 0 || conv.frames.length > 30_000) return;
  if (mode === 'tiny' && bytes.length > 4000) mode = 'random';
  if (mode === 'whole' || mode === 'line') {
    conv.send(fromClient, bytes, { noAck: r.chance(0.3), segmentSize: r.pick([1448, 1448, 536, 8960]) });
  } else {
    for (let at = 0; at < bytes.length; ) {
      const n = mode === 'tiny' ? r.int(1, 7) : r.int(1, 1460);
      conv.segment(fromClient, ACK | PSH, bytes.subarray(at, at + n));
      at += n;
      if (r.chance(0.2)) conv.segment(!fromClient, ACK);
    }
  }
  flush(s, conv);
}

function line(s: Scene, text: Piece, latin1 = false): Buffer {
  return Buffer.concat([toBytes(text, latin1), Buffer.from(s.r.chance(0.9) ? '\r\n' : s.r.pick(LINE_ENDS))]);
}

function cmd(s: Scene, text: Piece): void {
  send(s, s.ctrl, true, line(s, text, s.r.chance(0.3)));
}

function reply(s: Scene, text: Piece): void {
  send(s, s.ctrl, false, line(s, text, s.r.chance(0.3)));
}

/** A data connection for an announced port (or a random one), carrying some bytes one way. */
function dataConnection(s: Scene, active: boolean, port: number, upload: boolean): void {
  const r = s.r;
  const p = port & 0xffff;
  const client = active ? { ip: s.server.ip, port: r.chance(0.8) ? 20 : r.int(1, 65535) } : { ip: s.client.ip, port: r.int(1024, 65535) };
  const server = active ? { ip: r.chance(0.95) ? s.client.ip : s.v6 ? 'fd00::99' : '10.9.9.9', port: p } : { ip: s.server.ip, port: p };
  const conv = new TcpConversation({ client, server, isnClient: r.u32(), isnServer: r.u32(), mss: r.pick([1448, 536, 100]) });
  const fromClient = active ? !upload : upload;
  if (r.chance(0.9)) conv.handshake();
  else if (r.chance(0.5)) conv.segment(true, SYN);
  flush(s, conv);
  const size = Math.min(r.size(r.chance(0.1) ? 200_000 : 20_000), Math.max(0, 1_500_000 - s.sent));
  const data = r.chance(0.5) ? r.bytes(size) : Buffer.alloc(size, r.pick([0x41, 0x0a, 0x00, 0x1b]));
  send(s, conv, fromClient, data, r.pick(['whole', 'whole', 'random']));
  if (r.chance(0.05)) send(s, conv, !fromClient, r.bytes(r.int(1, 100)), 'whole');
  const end = r.int(0, 9);
  if (end < 7) conv.close(fromClient);
  else if (end < 9) conv.reset(r.chance(0.5));
  flush(s, conv);
}

/** The data port of a prediction just announced, when the scene should open a connection to it. */
function maybeData(s: Scene, active: boolean, port: number, p = 0.5): void {
  s.ports.push({ active, port });
  if (s.r.chance(p)) dataConnection(s, active, port, s.r.chance(0.3));
}

function hostV4(r: Rng, real: string): string {
  return r.chance(0.7) ? real.split('.').join(',') : numberList(r, 4);
}

type Episode = (s: Scene) => void;

const EPISODES: Array<[weight: number, name: string, run: Episode]> = [
  [14, 'session', (s) => {
    // An ordinary session with hostile arguments here and there.
    const r = s.r;
    const arg = () => (r.chance(0.3) ? hostile(r) : Buffer.from(r.pick(['alice', 'anonymous', 'ftp@example.com', '/pub', 'file.bin', 'I'])));
    cmd(s, Buffer.concat([Buffer.from('USER '), arg()]));
    reply(s, `331 Password required`);
    cmd(s, Buffer.concat([Buffer.from('PASS '), arg()]));
    reply(s, r.chance(0.8) ? '230 Login successful.' : '530 Login incorrect.');
    for (let n = r.int(1, 8); n > 0; n--) {
      const what = r.int(0, 7);
      if (what <= 1) {
        cmd(s, 'PASV');
        const port = r.int(1024, 65535);
        const a = s.v6 ? '10,0,0,2' : hostV4(r, s.server.ip);
        reply(s, `227 Entering Passive Mode (${a},${port >> 8},${port & 255}).`);
        s.ports.push({ active: false, port });
      } else if (what === 2) {
        cmd(s, 'EPSV');
        const port = r.int(1024, 65535);
        reply(s, `229 Entering Extended Passive Mode (|||${port}|)`);
        s.ports.push({ active: false, port });
      } else if (what === 3) {
        const port = r.int(1024, 65535);
        cmd(s, s.v6 ? `EPRT |2|${s.client.ip}|${port}|` : `PORT ${hostV4(r, s.client.ip)},${port >> 8},${port & 255}`);
        reply(s, '200 PORT command successful.');
        s.ports.push({ active: true, port });
      } else if (what <= 5 && s.ports.length > 0) {
        const p = s.ports[s.ports.length - 1]!;
        const upload = r.chance(0.3);
        cmd(s, Buffer.concat([Buffer.from(upload ? 'STOR ' : r.pick(['RETR ', 'LIST ', 'NLST ', 'MLSD '])), r.chance(0.5) ? Buffer.from(traversal(r)) : arg()]));
        reply(s, r.chance(0.8) ? `150 Opening BINARY mode data connection (${r.pick(['1234', '99999999999999999999', '-5', 'x'])} bytes).` : '425 Cannot open data connection.');
        if (r.chance(0.8)) dataConnection(s, p.active, p.port, upload);
        reply(s, r.pick(['226 Transfer complete.', '226 Transfer complete.', '426 Connection closed; transfer aborted.', '451 Error', '552 No room']));
      } else {
        const c = r.pick(['CWD', 'PWD', 'SIZE', 'MDTM', 'REST', 'TYPE', 'SITE', 'DELE', 'MKD', 'RNFR', 'HELP', 'FEAT', 'NOOP', 'STAT']);
        cmd(s, Buffer.concat([Buffer.from(`${c} `), c === 'REST' || c === 'SIZE' ? Buffer.from(numberish(r)) : r.chance(0.5) ? Buffer.from(traversal(r)) : arg()]));
        if (c === 'PWD') reply(s, r.pick(['257 "/"', '257 "/a""b" is current', '257 "unterminated', '257 ', '257 "C:\\dir"', `257 "${traversal(r)}"`, Buffer.concat([Buffer.from('257 "'), hostile(r), Buffer.from('"')])]));
        else if (c === 'SIZE') reply(s, `213 ${numberish(r)}`);
        else if (c === 'REST') reply(s, `350 Restarting at ${numberish(r)}`);
        else reply(s, Buffer.concat([Buffer.from(`${r.pick(CODES)} `), r.chance(0.4) ? hostile(r) : Buffer.from('OK')]));
      }
    }
  }],
  [10, 'hostile lines', (s) => {
    const r = s.r;
    for (let n = r.int(3, 40); n > 0; n--) {
      if (r.chance(0.5)) cmd(s, Buffer.concat([Buffer.from(r.chance(0.7) ? `${r.pick(VERBS)} ` : ''), hostile(r)]));
      else reply(s, Buffer.concat([Buffer.from(r.chance(0.7) ? `${r.pick(CODES)}${r.pick([' ', ' ', '-'])}` : ''), hostile(r)]));
    }
  }],
  [6, 'long lines', (s) => {
    const r = s.r;
    for (let n = r.int(1, 4); n > 0; n--) {
      const len = r.pick([4095, 4096, 4097, 8192, r.int(5000, 200_000)]);
      const body = Buffer.alloc(len, r.pick([0x41, 0x20, 0x2f, 0xff, 0x00, 0x1b]));
      if (r.chance(0.5)) send(s, s.ctrl, true, Buffer.concat([Buffer.from(`${r.pick(VERBS)} `), body, Buffer.from(r.pick(LINE_ENDS))]));
      else send(s, s.ctrl, false, Buffer.concat([Buffer.from(`${r.pick(CODES)}${r.pick([' ', '-'])}`), body, Buffer.from(r.pick(LINE_ENDS))]));
    }
  }],
  [3, 'no line end', (s) => {
    // A stream that never ends a line, then the connection ends.
    const r = s.r;
    const body = r.chance(0.5) ? r.bytes(r.size(150_000)).map((c) => (c === 0x0a ? 0x20 : c)) : Buffer.alloc(r.size(150_000), 0x41);
    send(s, s.ctrl, r.chance(0.5), Buffer.from(body));
  }],
  [5, 'telnet', (s) => {
    const r = s.r;
    for (let n = r.int(1, 12); n > 0; n--) {
      const parts: Buffer[] = [Buffer.from(r.chance(0.5) ? `${r.pick(VERBS)} ` : `${r.pick(CODES)} `)];
      for (let k = r.int(1, 30); k > 0; k--) parts.push(r.chance(0.6) ? Buffer.from(r.pick(IAC_SEQS)) : Buffer.from(r.pick(['a', 'b', '\r', ' ', '1'])));
      send(s, s.ctrl, r.chance(0.5), Buffer.concat([...parts, Buffer.from(r.pick(LINE_ENDS))]));
    }
  }],
  [6, 'reply codes', (s) => {
    const r = s.r;
    for (let n = r.int(2, 30); n > 0; n--) {
      if (r.chance(0.3)) cmd(s, r.pick(VERBS));
      const code = r.pick([
        String(r.int(0, 999)).padStart(3, '0'), '000', '099', '700', '999', '1000', '99999999999999999999', '12', '2x0', '-200', ' 200', '٢٠٠', '200\u0000', '２００', '',
      ]);
      reply(s, Buffer.concat([Buffer.from(`${code}${r.pick([' ', '-', '', '\t'])}`), r.chance(0.5) ? hostile(r) : Buffer.from('text')]));
    }
  }],
  [6, 'endless multi-line reply', (s) => {
    const r = s.r;
    const code = r.pick(CODES);
    if (r.chance(0.5)) cmd(s, r.pick(['FEAT', 'HELP', 'STAT', 'LIST']));
    const lines: Buffer[] = [Buffer.from(`${code}-Start\r\n`)];
    for (let n = r.pick([10, 999, 1000, 1001, r.int(1, 3000)]); n > 0; n--) {
      const what = r.int(0, 9);
      if (what === 0) lines.push(Buffer.from(`${code}-nested\r\n`));
      else if (what === 1) lines.push(Buffer.from(`${r.pick(CODES)} not the end\r\n`));
      else if (what === 2) lines.push(Buffer.concat([hostile(r, 40), Buffer.from('\r\n')]));
      else lines.push(Buffer.from(` line ${n}\r\n`));
    }
    if (r.chance(0.4)) lines.push(Buffer.from(`${code} End\r\n`));
    send(s, s.ctrl, false, Buffer.concat(lines), r.chance(0.7) ? 'whole' : s.seg);
    if (r.chance(0.5)) {
      cmd(s, 'NOOP');
      reply(s, '200 NOOP ok');
    }
  }],
  [10, 'addresses', (s) => {
    // PORT, EPRT, LPRT and 227, 228, 229 with malformed and out-of-range numbers.
    const r = s.r;
    for (let n = r.int(1, 10); n > 0; n--) {
      const port = r.chance(0.7) ? r.int(1, 65535) : r.pick([0, 65535, 65536, 70000, -1, 2 ** 32]);
      const what = r.int(0, 5);
      const host = s.client.ip;
      if (what === 0) {
        const nums = r.chance(0.5) ? `${hostV4(r, s.v6 ? '10.0.0.1' : s.client.ip)},${Math.floor(port / 256)},${port & 255}` : numberList(r, 6);
        cmd(s, `PORT ${nums}`);
        reply(s, r.chance(0.8) ? '200 PORT command successful.' : '500 Illegal PORT command.');
        maybeData(s, true, port);
      } else if (what === 1) {
        cmd(s, `EPRT ${eprtArg(r, s.v6, host, port)}`);
        reply(s, r.chance(0.8) ? '200 EPRT command successful.' : '522 Network protocol not supported');
        maybeData(s, true, port);
      } else if (what === 2) {
        cmd(s, `LPRT ${r.chance(0.5) ? `4,4,${hostV4(r, s.v6 ? '10.0.0.1' : s.client.ip)},2,${Math.floor(port / 256)},${port & 255}` : `6,16,${numberList(r, 16)},2,${numberList(r, 2)}`}`);
        reply(s, '200 LPRT ok');
        maybeData(s, true, port);
      } else if (what === 3) {
        cmd(s, 'PASV');
        const text = r.chance(0.5) ? `${hostV4(r, s.v6 ? '10.0.0.2' : s.server.ip)},${Math.floor(port / 256)},${port & 255}` : numberList(r, 6);
        reply(s, r.pick([`227 Entering Passive Mode (${text}).`, `227 =${text}`, `227 ${text}`, `227 Entering Passive Mode (${text}`, '227 Entering Passive Mode', `227 (${text}) (${numberList(r, 6)})`]));
        maybeData(s, false, port);
      } else if (what === 4) {
        cmd(s, 'EPSV');
        const p = r.chance(0.6) ? String(port) : numberish(r);
        reply(s, r.pick([`229 Entering Extended Passive Mode (|||${p}|)`, `229 (|||${p}|)`, `229 (!!!${p}!)`, `229 (||${p}|)`, `229 (|1|10.0.0.1|${p}|)`, `229 |||${p}|`, '229 Extended', `229 (|||${p}|) (|||${numberish(r)}|)`, `229 (\u0000\u0000\u0000${p}\u0000)`]));
        maybeData(s, false, port);
      } else {
        cmd(s, 'LPSV');
        reply(s, `228 Entering Long Passive Mode (${r.chance(0.5) ? `4,4,${hostV4(r, s.v6 ? '10.0.0.2' : s.server.ip)},2,${Math.floor(port / 256)},${port & 255}` : numberList(r, 9)})`);
        maybeData(s, false, port);
      }
      if (r.chance(0.5)) {
        cmd(s, `${r.pick(['RETR', 'STOR', 'LIST', 'NLST', 'APPE', 'STOU', 'MLSD'])} ${r.chance(0.3) ? traversal(r) : 'f'}`);
        reply(s, r.pick(['150 Here it comes.', '125 Data connection already open', '425 No data connection', '550 No such file']));
        if (r.chance(0.6)) reply(s, r.pick(['226 Done', '426 Aborted', '250 OK', '451 Local error']));
      }
    }
  }],
  [3, 'pipelined commands', (s) => {
    // Thousands of commands without waiting, then some replies (fewer, more, or none).
    const r = s.r;
    const n = r.int(1000, 4000);
    const cmds: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const v = r.pick(VERBS);
      cmds.push(Buffer.from(`${v}${r.chance(0.5) ? ` ${v === 'PORT' ? numberList(r, 6) : v === 'REST' ? numberish(r) : `f${i}`}` : ''}\r\n`));
    }
    send(s, s.ctrl, true, Buffer.concat(cmds), 'whole');
    const replies: Buffer[] = [];
    for (let i = r.int(0, n + 100); i > 0; i--) replies.push(Buffer.from(`${r.pick(CODES)} r${i}\r\n`));
    send(s, s.ctrl, false, Buffer.concat(replies), 'whole');
  }],
  [3, 'passive flood', (s) => {
    // Thousands of PASV (or EPSV) answered, each a new port; a few are used.
    const r = s.r;
    const n = r.int(500, 3000);
    const epsv = r.chance(0.3);
    const c: Buffer[] = [];
    const rep: Buffer[] = [];
    const a = s.v6 ? '10,0,0,2' : s.server.ip.split('.').join(',');
    for (let i = 0; i < n; i++) {
      const port = 1024 + ((i * 7919) % 64000);
      c.push(Buffer.from(epsv ? 'EPSV\r\n' : 'PASV\r\n'));
      rep.push(Buffer.from(epsv ? `229 Entering Extended Passive Mode (|||${port}|)\r\n` : `227 Entering Passive Mode (${a},${port >> 8},${port & 255})\r\n`));
      s.ports.push({ active: false, port });
    }
    if (r.chance(0.5)) {
      send(s, s.ctrl, true, Buffer.concat(c), 'whole');
      send(s, s.ctrl, false, Buffer.concat(rep), 'whole');
    } else {
      for (let i = 0; i < n; i += 50) {
        send(s, s.ctrl, true, Buffer.concat(c.slice(i, i + 50)), 'whole');
        send(s, s.ctrl, false, Buffer.concat(rep.slice(i, i + 50)), 'whole');
      }
    }
    for (let k = r.int(0, 5); k > 0; k--) {
      const p = r.pick(s.ports);
      cmd(s, 'RETR x');
      dataConnection(s, p.active, p.port, false);
      reply(s, '226 ok');
    }
  }],
  [5, 'paths', (s) => {
    const r = s.r;
    for (let n = r.int(1, 12); n > 0; n--) {
      const v = r.pick(['CWD', 'CWD', 'RETR', 'STOR', 'DELE', 'MKD', 'RMD', 'SIZE', 'RNFR', 'RNTO', 'XCWD', 'CDUP', 'LIST']);
      cmd(s, `${v} ${traversal(r)}`);
      reply(s, r.pick(['250 OK', '250 OK', '550 No', '257 "/x"', '226 ok', '150 go', '213 12']));
      if (r.chance(0.3)) {
        cmd(s, 'PWD');
        reply(s, `257 "${r.chance(0.5) ? traversal(r) : '/'}" is the current directory`);
      }
    }
  }],
  [4, 'auth tls then garbage', (s) => {
    const r = s.r;
    cmd(s, r.pick(['AUTH TLS', 'AUTH SSL', 'AUTH tls-c', 'AUTH']));
    reply(s, r.chance(0.8) ? '234 Proceed with negotiation.' : '534 No');
    for (let n = r.int(1, 10); n > 0; n--) {
      const tls = Buffer.concat([Buffer.from([0x16, 0x03, r.int(0, 4), 0, 0]), r.bytes(r.size(3000))]);
      send(s, s.ctrl, r.chance(0.5), r.chance(0.7) ? tls : r.bytes(r.size(3000)));
    }
    if (r.chance(0.3)) {
      cmd(s, 'PASV');
      reply(s, '227 Entering Passive Mode (10,0,0,2,200,10).');
    }
    if (r.chance(0.5)) dataConnection(s, false, r.int(1024, 65535), r.chance(0.5));
  }],
  [4, 'protected commands', (s) => {
    const r = s.r;
    for (let n = r.int(1, 6); n > 0; n--) {
      cmd(s, `${r.pick(['MIC', 'CONF', 'ENC', 'PBSZ', 'PROT', 'CCC', 'ADAT'])} ${r.chance(0.5) ? r.bytes(r.size(200)).toString('base64') : hostile(r).toString('latin1')}`);
      reply(s, `${r.pick([631, 632, 633, 200, 534, 535, 536, 235, 335])} ${r.bytes(r.size(100)).toString('base64')}`);
    }
  }],
  [4, 'roles confused', (s) => {
    // Replies before the greeting, the server sending commands, the client sending replies.
    const r = s.r;
    for (let n = r.int(2, 15); n > 0; n--) {
      if (r.chance(0.5)) send(s, s.ctrl, false, line(s, `${r.pick(VERBS)} ${r.chance(0.5) ? 'x' : ''}`));
      else send(s, s.ctrl, true, line(s, `${r.pick(CODES)}${r.pick([' ', '-'])}reply from the client`));
    }
  }],
  [3, 'raw garbage', (s) => {
    const r = s.r;
    for (let n = r.int(1, 6); n > 0; n--) send(s, s.ctrl, r.chance(0.5), r.bytes(r.size(5000)));
  }],
];

const EPISODE_TOTAL = EPISODES.reduce((a, [w]) => a + w, 0);

function pickEpisode(r: Rng): [number, string, Episode] {
  let x = r.float() * EPISODE_TOTAL;
  for (const e of EPISODES) {
    x -= e[0];
    if (x < 0) return e;
  }
  return EPISODES[0]!;
}

export function ftpCase(r: Rng, notes: string[]): Buffer {
  const v6 = r.chance(0.2);
  const client: Endpoint = { ip: v6 ? 'fd00::1' : '10.0.0.1', port: r.int(1024, 65535) };
  const sniffed = r.chance(0.12);
  const server: Endpoint = { ip: v6 ? 'fd00::2' : '10.0.0.2', port: sniffed ? r.pick([2121, 8021, 990, 20, 80]) : 21 };
  const isn = () => (r.chance(0.3) ? (0x100000000 - r.int(1, 5000)) >>> 0 : r.u32());
  const ctrl = new TcpConversation({ client, server, isnClient: isn(), isnServer: isn(), mss: r.pick([1448, 536, 64]) });
  const s: Scene = { r, v6, client, server, ctrl, out: [], taken: new Map(), ports: [], seg: r.pick(['whole', 'whole', 'line', 'tiny', 'random']), sent: 0 };
  notes.push(`${v6 ? 'IPv6' : 'IPv4'} server port ${server.port}, segments ${s.seg}`);
  if (r.chance(0.9)) ctrl.handshake();
  flush(s, ctrl);
  if (r.chance(0.85)) {
    reply(s, r.chance(0.8) ? '220 (vsFTPd 3.0.3)' : r.pick(['220-Welcome\r\n220-to\r\n220 here', '120 wait', '421 Too many users', Buffer.concat([Buffer.from('220 '), hostile(r)])]));
  }
  const episodes = r.int(1, 4);
  const names: string[] = [];
  for (let i = 0; i < episodes && s.sent < 1_000_000; i++) {
    const [, name, run] = pickEpisode(r);
    names.push(name);
    run(s);
  }
  notes.push(names.join(' + '));
  if (r.chance(0.5)) {
    cmd(s, 'QUIT');
    reply(s, '221 Goodbye.');
  }
  const end = r.int(0, 9);
  if (end < 6) ctrl.close(r.chance(0.7));
  else if (end < 8) ctrl.reset(r.chance(0.5));
  flush(s, ctrl);
  // A few frames lost, repeated or reordered, as on a real capture point.
  let frames = s.out;
  if (r.chance(0.25)) {
    frames = frames.slice();
    for (let k = r.int(1, 5); k > 0 && frames.length > 2; k--) {
      const i = r.int(0, frames.length - 1);
      const op = r.int(0, 3);
      if (op === 0) frames.splice(i, 1);
      else if (op === 1) frames.splice(i, 0, frames[i]!);
      else if (op === 2 && i + 1 < frames.length) [frames[i], frames[i + 1]] = [frames[i + 1]!, frames[i]!];
      else {
        const rec: Rec = { sec: 0, nsec: 0, data: Buffer.from(frames[i]!.data), orig: 0 };
        mutatePacket(r, rec, 0);
        frames.splice(i, 0, { ...frames[i]!, data: rec.data });
      }
    }
    notes.push('frames lost/repeated/reordered');
  }
  // Times: steady, with a pause now and then (an idle timeout may fire), sometimes backwards.
  let t = 1_700_000_000 * 1e9 + r.int(0, 1e9);
  const step = r.pick([1e3, 1e6, 20e6]);
  const out: Frame[] = frames.map((f) => {
    t += r.chance(0.002) ? r.pick([301e9, 1000e9, -5e9]) : r.int(0, step);
    return { ...f, tsSec: Math.floor(t / 1e9), tsNsec: Math.floor(t % 1e9) };
  });
  const link = r.pick<FrameLink>(['raw', 'ethernet', 'ethernet', 'sll', 'sll2', 'null', 'loop']);
  return framesToPcap(out, link, { nanosecond: r.chance(0.3), endian: r.chance(0.8) ? 'le' : 'be' });
}

