/**
 * The scene of a fuzzed FTP dialogue (level 3, see ftp-dialogues.ts): the vocabulary of hostile FTP (verbs,
 * reply codes, nasty text, numbers, line ends, telnet IAC) and the helpers that write commands, replies and
 * data connections into TCP conversations, cut into segments as the scene says.
 */
import { ACK, PSH, SYN, TcpConversation, type Endpoint, type Frame } from '../../test/support/capture-writer.js';
import type { Rng } from './random.js';

export const VERBS = [
  'USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'XCWD', 'PWD', 'XPWD', 'TYPE', 'MODE', 'STRU', 'PASV', 'EPSV', 'LPSV', 'PORT', 'EPRT', 'LPRT',
  'RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD', 'MLST', 'REST', 'SIZE', 'MDTM', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'MIC', 'CONF',
  'ENC', 'SITE', 'SYST', 'FEAT', 'OPTS', 'HELP', 'NOOP', 'STAT', 'ABOR', 'QUIT', 'RNFR', 'RNTO', 'DELE', 'RMD', 'MKD', 'HOST', 'ALLO', 'REIN',
];
export const CODES = [110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 228, 229, 230, 234, 250, 257, 331, 332, 350, 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 530, 532, 550, 551, 552, 553];
/**
 * Text that must never reach a terminal (or a file name) raw. As strings: written as UTF-8 (C1 as two bytes) or
 * as Latin-1 (one byte; characters past U+00FF then lose their high byte).
 */
const NASTY = [
  '\u001b[31m', '\u001b[2J', '\u001b]0;pwned\u0007', '\u001b[6n', '\u001bP+q\u001b\\', '\u009b31m', '\u0085', '\u009d', '\u2028', '\u2029', '\u202e',
  '\u0000', '\u0007', '\u0008', '\u007f', '\r', '\t', '\u000b', '\u000c', '\u200b', '\u0301', '\u4e2d\u6587', '\ud83d\ude00', '\ufeff',
];
/** Bidi and invisible format characters: text that reads other than it is (invoice<RLO>fdp.exe shows as invoiceexe.pdf). */
const BIDI = [
  '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2060', '\u2063', '\u2066',
  '\u2067', '\u2068', '\u2069', '\ufeff', 'invoice\u202efdp.exe', 'admin\u2066\u2069', '\u202bfile\u202c.txt', '\u200f\u2067x\u2069',
];
const NUMBERS = ['0', '1', '255', '256', '-1', '65535', '65536', '99999999999999999999', '1e9', '0x10', '007', ' 12', 'NaN', 'Infinity', '4294967296', '18446744073709551616', '-0', '+5', '', '1.5', '９'];
export const LINE_ENDS = ['\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r', '', '\r\r\n', '\n\r'];
export const IAC_SEQS = [[0xff, 0xf4], [0xff, 0xf2], [0xff, 0xff], [0xff, 0xfb, 0x01], [0xff, 0xfd], [0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0], [0xff, 0xfa, 0x18, 0x01, 0x02], [0xff], [0xff, 0xf0], [0xff, 0xfe]];

export type Piece = string | Buffer;

function toBytes(p: Piece, latin1: boolean): Buffer {
  return typeof p === 'string' ? Buffer.from(p, latin1 ? 'latin1' : 'utf8') : p;
}

/** A few pieces of hostile text: escapes, control bytes, bidi characters, IAC, invalid UTF-8, wide characters, long runs. */
export function hostile(r: Rng, maxLen = 200): Buffer {
  const parts: Buffer[] = [];
  const latin1 = r.chance(0.3);
  for (let n = r.int(1, 5); n > 0; n--) {
    const what = r.int(0, 9);
    if (what <= 2) parts.push(toBytes(r.pick(r.chance(0.3) ? BIDI : NASTY), latin1 && r.chance(0.5)));
    else if (what === 3) parts.push(Buffer.from(r.pick(IAC_SEQS)));
    else if (what === 4) parts.push(r.bytes(r.int(1, 16)));
    else if (what === 5) parts.push(Buffer.from(r.pick(['\xc3\x28', '\xe2\x82', '\xf0\x9f\x98', '\xed\xa0\x80', '\xc0\xaf', '\xff\xfe']), 'latin1'));
    else if (what === 6) parts.push(Buffer.alloc(r.size(maxLen), r.pick(['A', '/', '.', ' ', '%', '\u00e9'.charCodeAt(0)])));
    else if (what === 7) parts.push(Buffer.from(r.pick(NUMBERS)));
    else parts.push(Buffer.from(r.pick(['file.txt', 'a b', '"quoted"', '%s%n%x', '${jndi:x}', '<script>', 'C:\\Windows', '~/.ssh/id_rsa', '*', '-la'])));
  }
  return Buffer.concat(parts);
}

export function numberish(r: Rng): string {
  return r.chance(0.6) ? String(r.int(0, 300)) : r.pick(NUMBERS);
}

export function traversal(r: Rng): string {
  return r.pick([
    '../../../../etc/passwd', '/../../..', '..', '../'.repeat(r.int(10, 2000)), `${'a/'.repeat(r.int(100, 3000))}x`, `/${'x'.repeat(r.int(256, 20000))}`,
    '.\\..\\..\\boot.ini', '/./././.', '//', '/%2e%2e/%2e%2e', `${'/'.repeat(r.int(2, 500))}`, '~', '\u0000/etc', 'dir/../../../../root',
  ]);
}

/** Arguments of PORT, LPRT; the text of 227, 228 replies. */
export function numberList(r: Rng, n: number): string {
  const count = r.chance(0.7) ? n : r.int(0, n + 3);
  const sep = r.pick([',', ',', ',', ', ', '.', ' ', ',,']);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(r.chance(0.7) ? String(r.int(0, 255)) : numberish(r));
  return out.join(sep);
}

export function eprtArg(r: Rng, v6: boolean, host: string, port: number): string {
  const d = r.chance(0.8) ? '|' : r.pick(['!', '#', '\u0000', ' ', '||', '']);
  const proto = r.chance(0.7) ? (v6 ? '2' : '1') : r.pick(['0', '3', '9', '', '-1', '11']);
  const addr = r.chance(0.6) ? host : r.pick(['::1', '::ffff:10.0.0.1', '1.2.3', '256.1.1.1', 'fe80::1%eth0', 'x', '', '1:2:3:4:5:6:7:8:9', '10.0.0.1\u0000', hostile(r, 20).toString('latin1')]);
  const p = r.chance(0.6) ? String(port) : numberish(r);
  return r.chance(0.9) ? `${d}${proto}${d}${addr}${d}${p}${d}` : `${d}${proto}${d}${addr}`;
}

export interface Scene {
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
export function flush(s: Scene, conv: TcpConversation): void {
  const from = s.taken.get(conv) ?? 0;
  for (let i = from; i < conv.frames.length; i++) s.out.push(conv.frames[i]!);
  s.taken.set(conv, conv.frames.length);
}

/** Sends bytes from one side, cut into segments as the scene's segmentation says. */
export function send(s: Scene, conv: TcpConversation, fromClient: boolean, bytes: Buffer, mode = s.seg): void {
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

export function line(s: Scene, text: Piece, latin1 = false): Buffer {
  return Buffer.concat([toBytes(text, latin1), Buffer.from(s.r.chance(0.9) ? '\r\n' : s.r.pick(LINE_ENDS))]);
}

export function cmd(s: Scene, text: Piece): void {
  send(s, s.ctrl, true, line(s, text, s.r.chance(0.3)));
}

export function reply(s: Scene, text: Piece): void {
  send(s, s.ctrl, false, line(s, text, s.r.chance(0.3)));
}

/** A data connection for an announced port (or a random one), carrying some bytes one way. */
export function dataConnection(s: Scene, active: boolean, port: number, upload: boolean): void {
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
export function maybeData(s: Scene, active: boolean, port: number, p = 0.5): void {
  s.ports.push({ active, port });
  if (s.r.chance(p)) dataConnection(s, active, port, s.r.chance(0.3));
}

export function hostV4(r: Rng, real: string): string {
  return r.chance(0.7) ? real.split('.').join(',') : numberList(r, 4);
}

