/** Fuzzing level 3: FTP dialogues, random and hostile, over control and data connections (see cases.ts). */
import { TcpConversation, framesToPcap, type Endpoint, type Frame, type FrameLink } from '../../test/support/capture-writer.js';
import type { Rec } from './corpus.js';
import {
  CODES, IAC_SEQS, LINE_ENDS, VERBS, cmd, dataConnection, eprtArg, flush, hostV4, hostile, line, maybeData, numberList, numberish, reply, send, traversal,
  type Scene,
} from './ftp-scene.js';
import { mutatePacket } from './packet-mutators.js';
import type { Rng } from './random.js';

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

