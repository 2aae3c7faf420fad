import type { ConnectionSummary } from '../model/capture.js';
import type { FtpAnalysis, FtpSession, Prediction, Transfer } from '../model/ftp-model.js';
import { indexModel } from '../model/lookup.js';
import { UNSAFE, uEscape } from '../escape.js';

/** The commands whose argument Zeek writes as an ftp:// URL built from the working directory. */
const ZEEK_FILE_COMMANDS = new Set(['APPE', 'CWD', 'DELE', 'MKD', 'RETR', 'RMD', 'RNFR', 'RNTO', 'STOR', 'STOU', 'REST', 'SIZE', 'MDTM']);

/** The commands Zeek's ftp.log records by default. */
export const ZEEK_DEFAULT_COMMANDS = new Set(['APPE', 'DELE', 'RETR', 'STOR', 'STOU', 'ACCT', 'PORT', 'PASV', 'EPRT', 'EPSV']);

/** What a transfer's data hashed to and looks like (src/ftp/digests.ts computes it; the model does not hold it). */
export interface ZeekDigest {
  md5: string | null;
  sha1: string | null;
  sha256: string | null;
  mimeType: string | null;
}

/** A transfer's digest, when the data was hashed. */
export type DigestOf = (transfer: number) => ZeekDigest | undefined;

/** One row per logged command, with Zeek's columns. */
export interface ZeekRow {
  ts: string;
  uid: string;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  user: string;
  password: string;
  command: string;
  arg: string;
  mimeType: string | null;
  fileSize: number | null;
  replyCode: number | null;
  replyMsg: string;
  dataChannel: { passive: boolean; origH: string; respH: string; respP: number } | null;
  fuid: string | null;
}

/**
 * One Zeek log: its path, columns with their Zeek types, and its rows as TSV lines (every field escaped,
 * '-' for unset), made one at a time.
 */
export interface ZeekLog {
  path: 'ftp' | 'conn' | 'files';
  fields: readonly string[];
  types: readonly string[];
  rows(): Iterable<string>;
}

/**
 * The rows Zeek's ftp.log would have: user and password as known when the command was sent (as the model
 * has them: the caller masks passwords, see Masker), file arguments as ftp://host/path URLs,
 * the size from SIZE or the 150 reply, the final reply, the data channel for PORT/EPRT/PASV/EPSV, and for a
 * transfer's command its file's id and MIME type when the data was hashed.
 */
export function zeekRows(a: FtpAnalysis, commands: ReadonlySet<string> = ZEEK_DEFAULT_COMMANDS, digestOf: DigestOf = () => undefined): ZeekRow[] {
  const rows: ZeekRow[] = [];
  const by = indexModel(a);
  for (const s of a.sessions) {
    let user = '<unknown>';
    let password = '';
    const control = by.connection(s.connection);
    for (const ex of s.exchanges) {
      if (ex.command === 'USER') user = ex.argument;
      if (ex.command === 'PASS') password = ex.argument;
      if (!commands.has(ex.command)) continue;
      const final = ex.replies.at(-1) ?? null;
      const t = ex.transfer !== null ? by.transfer(ex.transfer)! : null;
      const p = ex.prediction !== null ? by.prediction(ex.prediction)! : null;
      const when = ex.request ?? final?.start ?? s.start;
      let arg = ex.command === '<init>' ? '' : ex.argument;
      if (ZEEK_FILE_COMMANDS.has(ex.command)) arg = url(s, ex.path ?? ex.argument);
      const dataConn = t?.connection != null ? by.connection(t.connection) : undefined;
      rows.push({
        ts: zeekTime(when.sec, when.nsec),
        uid: control !== undefined ? connectionUid(control) : `C${s.connection}`,
        origH: s.client.address,
        origP: s.client.port,
        respH: s.server.address,
        respP: s.server.port,
        user,
        password,
        command: ex.command,
        arg,
        mimeType: t === null ? null : (digestOf(t.id)?.mimeType ?? null),
        fileSize: t?.announcedSize ?? null,
        replyCode: final?.code ?? null,
        replyMsg: final?.message ?? '',
        dataChannel: p === null ? null : dataChannel(p, s),
        fuid: t !== null && dataConn !== undefined && digestOf(t.id) !== undefined ? fileUid(dataConn, t) : null,
      });
    }
  }
  return rows;
}

function dataChannel(p: Prediction, s: FtpSession): ZeekRow['dataChannel'] {
  return { passive: p.mode === 'passive', origH: p.connector === 'client' ? s.client.address : s.server.address, respH: p.to.address, respP: p.to.port };
}

/** ftp://host/path, the host in brackets when it is IPv6. */
export function url(s: FtpSession, path: string): string {
  const host = s.server.address.includes(':') ? `[${s.server.address}]` : s.server.address;
  return `ftp://${host}${path.startsWith('/') ? '' : '/'}${path}`;
}

/**
 * A string from the wire as a Zeek log field: '-' when empty, backslashes doubled, C0 (tab and line ends
 * included), DEL and C1 as `\x1b`, and the other unsafe characters of src/escape.ts (the line separators,
 * the bidi and invisible format characters, lone surrogates) as `\u202e`. Every wire field goes through it.
 */
export function zeekEscape(v: string): string {
  if (v === '') return '-';
  return v.replace(/\\/g, '\\\\').replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : uEscape(c)));
}

/** Seconds since the epoch with six decimals, as Zeek writes `time` (nanoseconds truncated, never rounded up). */
function zeekTime(sec: number, nsec: number): string {
  return `${sec}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
}

/** An `interval` from one moment to another, with six decimals. */
function zeekInterval(from: { sec: number; nsec: number }, to: { sec: number; nsec: number }): string {
  const us = (to.sec - from.sec) * 1e6 + Math.floor(to.nsec / 1000) - Math.floor(from.nsec / 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * An identifier in Zeek's form: the prefix (C for a connection, F for a file) and 17 base-62 characters
 * (about 100 bits) drawn from a hash of `key`. The key names the connection by its ends, its first packet's
 * time and its number in the capture, so a uid is the same in every run over the same capture, and two
 * connections (of this capture or another) do not share one.
 */
export function zeekId(prefix: 'C' | 'F', key: string): string {
  // Four FNV-1a hashes with different offsets seed xorshift128, whose output picks the characters.
  let a = 0x811c9dc5, b = 0x050c5d1f, c = 0x1b873593, d = 0x6b43a9b5;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    a = Math.imul(a ^ k, 0x01000193);
    b = Math.imul(b ^ k, 0x01000193) ^ (a >>> 15);
    c = Math.imul(c ^ k, 0x01000193) ^ (b >>> 13);
    d = Math.imul(d ^ k, 0x01000193) ^ (c >>> 11);
  }
  if ((a | b | c | d) === 0) a = 1;
  let out = prefix;
  for (let i = 0; i < 17; i++) {
    let t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    t = d;
    out += BASE62[t % 62];
  }
  return out;
}

/** A connection's uid (see zeekId). */
export function connectionUid(c: ConnectionSummary): string {
  return zeekId('C', `${c.client.address} ${c.client.port} ${c.server.address} ${c.server.port} ${c.first.sec}.${c.first.nsec} ${c.id}`);
}

/** A transfer's file id: its data connection's and its own number. */
function fileUid(conn: ConnectionSummary, t: Transfer): string {
  return zeekId('F', `${connectionUid(conn)} ${t.id}`);
}

/** The columns of ftp.log, with their types, as Zeek 8 writes them. */
const FTP_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
  ['user', 'string'], ['password', 'string'], ['command', 'string'], ['arg', 'string'], ['mime_type', 'string'], ['file_size', 'count'],
  ['reply_code', 'count'], ['reply_msg', 'string'], ['data_channel.passive', 'bool'], ['data_channel.orig_h', 'addr'],
  ['data_channel.resp_h', 'addr'], ['data_channel.resp_p', 'port'], ['fuid', 'string'],
];

const CONN_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
  ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'], ['resp_bytes', 'count'],
  ['conn_state', 'string'], ['local_orig', 'bool'], ['local_resp', 'bool'], ['missed_bytes', 'count'], ['history', 'string'],
  ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'], ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'], ['ip_proto', 'count'],
];

const FILES_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'time'], ['fuid', 'string'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['source', 'string'], ['depth', 'count'], ['analyzers', 'set[string]'], ['mime_type', 'string'],
  ['filename', 'string'], ['duration', 'interval'], ['local_orig', 'bool'], ['is_orig', 'bool'], ['seen_bytes', 'count'],
  ['total_bytes', 'count'], ['missing_bytes', 'count'], ['overflow_bytes', 'count'], ['timedout', 'bool'], ['parent_fuid', 'string'],
  ['md5', 'string'], ['sha1', 'string'], ['sha256', 'string'], ['extracted', 'string'], ['extracted_cutoff', 'bool'],
  ['extracted_size', 'count'],
];

function log(path: ZeekLog['path'], columns: ReadonlyArray<readonly [string, string]>, rows: () => Iterable<string>): ZeekLog {
  return { path, fields: columns.map((c) => c[0]), types: columns.map((c) => c[1]), rows };
}

const opt = (v: number | string | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

/** ftp.log: one row per command Zeek logs by default (see zeekRows); `a` with its passwords masked as they are to be shown. */
export function ftpLog(a: FtpAnalysis, digestOf: DigestOf = () => undefined): ZeekLog {
  const esc = zeekEscape;
  return log('ftp', FTP_FIELDS, function* () {
    for (const r of zeekRows(a, ZEEK_DEFAULT_COMMANDS, digestOf)) {
      const dc = r.dataChannel;
      yield [
        r.ts, r.uid, r.origH, String(r.origP), r.respH, String(r.respP), esc(r.user), esc(r.password), esc(r.command), esc(r.arg),
        opt(r.mimeType), opt(r.fileSize), opt(r.replyCode), esc(r.replyMsg),
        dc === null ? '-' : dc.passive ? 'T' : 'F', dc?.origH ?? '-', dc?.respH ?? '-', dc === null ? '-' : String(dc.respP), opt(r.fuid),
      ].join('\t');
    }
  });
}

/**
 * Zeek's conn_state from what the reassembler saw (Zeek's base/protocols/conn/main.zeek, in the same
 * order): a reset first (the server's, then the client's), then the FINs, then how far the handshake got.
 * A side is "inactive" when it never opened: no SYN from the client, no SYN+ACK from the server.
 */
export function connState(c: ConnectionSummary): string {
  const clientReset = /R/.test(c.history) || c.teardown.rst?.by === 'client';
  const serverReset = /r/.test(c.history) || c.teardown.rst?.by === 'server';
  const clientInactive = c.handshake.syn === null;
  const serverInactive = c.handshake.synAck === null;
  const clientSent = c.toServer.packets > 0;
  const serverSent = c.toClient.packets > 0;
  const noBytes = c.toServer.streamLength === 0 && c.toClient.streamLength === 0;
  if (serverReset) {
    // The client had sent its SYN but never completed the handshake.
    if ((!clientInactive && c.handshake.ack === null && c.toServer.streamLength === 0) || (clientReset && noBytes)) return 'REJ';
    return clientInactive || !clientSent ? 'RSTRH' : 'RSTR';
  }
  if (clientReset) {
    if (serverInactive || !serverSent) return /^\^?S[^HAFGIQ]*R/.test(c.history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  const clientClosed = c.teardown.clientFin !== null;
  const serverClosed = c.teardown.serverFin !== null;
  if (clientClosed && serverClosed) return 'SF';
  if (clientClosed) return serverInactive ? 'SH' : 'S2';
  if (serverClosed) return clientInactive ? 'SHR' : 'S3';
  if (!clientInactive && !serverSent) return 'S0';
  if (!clientInactive && !serverInactive) return 'S1';
  return 'OTH';
}

/** Where Zeek's duration ends: at the second FIN (packets after both sides closed do not count), else the last packet. */
function lastTime(c: ConnectionSummary): { sec: number; nsec: number } {
  const { clientFin: a, serverFin: b } = c.teardown;
  if (a === null || b === null || c.teardown.rst !== null) return c.last;
  return a.frame > b.frame ? a : b;
}

/**
 * conn.log: the FTP connections, control (service ftp) and data (ftp-data), in the order they began.
 * Byte counts come from sequence numbers (missing bytes included), as Zeek's do; duration and byte counts
 * are unset for a connection of a single moment, as Zeek leaves them. local_orig and local_resp are unset:
 * ftpscope is not told which networks are local. Service: ftp or ftp-data, with ssl when TLS protects it.
 */
export function connLog(a: FtpAnalysis): ZeekLog {
  return log('conn', CONN_FIELDS, function* () {
    const service = new Map<number, string>();
    for (const t of a.transfers) if (t.connection !== null) service.set(t.connection, t.protected ? 'ftp-data,ssl' : 'ftp-data');
    for (const p of a.predictions) if (p.connection !== null && !service.has(p.connection)) service.set(p.connection, 'ftp-data');
    for (const s of a.sessions) service.set(s.connection, s.tls !== null ? 'ftp,ssl' : 'ftp');
    const conns = [...a.connections].sort((x, y) => x.first.frame - y.first.frame);
    for (const c of conns) {
      const end = lastTime(c);
      const timed = end.sec > c.first.sec || (end.sec === c.first.sec && end.nsec > c.first.nsec);
      yield [
        zeekTime(c.first.sec, c.first.nsec), connectionUid(c), c.client.address, String(c.client.port), c.server.address, String(c.server.port),
        'tcp', service.get(c.id) ?? '-', timed ? zeekInterval(c.first, end) : '-', timed ? String(c.toServer.streamLength) : '-',
        timed ? String(c.toClient.streamLength) : '-', connState(c), '-', '-', String(c.toServer.gapBytes + c.toClient.gapBytes),
        c.history === '' ? '-' : zeekEscape(c.history), String(c.toServer.packets), String(c.toServer.ipBytes), String(c.toClient.packets),
        String(c.toClient.ipBytes), '-', '6',
      ].join('\t');
    }
  });
}

/**
 * files.log: one row per transfer that had a data connection, as Zeek's file analysis of FTP_DATA logs it,
 * with the FTP path as filename (Zeek leaves it unset for FTP), the hashes when the data was hashed whole,
 * and the expected size (announced size less the REST offset) as total_bytes when known.
 */
export function filesLog(a: FtpAnalysis, digestOf: DigestOf = () => undefined): ZeekLog {
  return log('files', FILES_FIELDS, function* () {
    const by = indexModel(a);
    for (const t of a.transfers) {
      if (t.connection === null) continue;
      const c = by.connection(t.connection);
      if (c === undefined) continue;
      const d = digestOf(t.id);
      const first = t.firstData ?? c.first;
      const last = t.lastData ?? first;
      const hashed = d !== undefined && d.sha256 !== null;
      yield [
        zeekTime(first.sec, first.nsec), fileUid(c, t), connectionUid(c), c.client.address, String(c.client.port), c.server.address,
        String(c.server.port), 'FTP_DATA', '0', hashed ? 'MD5,SHA1,SHA256' : '(empty)', opt(d?.mimeType), t.path === '' ? '-' : zeekEscape(t.path),
        zeekInterval(first, last), '-', t.dataDir === null ? '-' : t.dataDir === 'client->server' ? 'T' : 'F', String(t.bytes),
        opt(t.expectedBytes), String(t.missingBytes), '0', 'F', '-', opt(d?.md5), opt(d?.sha1), opt(d?.sha256), '-', '-', '-',
      ].join('\t');
    }
  });
}

/** Zeek's time format for #open and #close: local time, %Y-%m-%d-%H-%M-%S. */
export function zeekStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/**
 * A log as Zeek's ASCII writer writes it, in pieces of up to `batch` lines: the header (#separator,
 * #set_separator, #empty_field, #unset_field, #path, #open, #fields, #types), the rows, and #close with
 * the time `now()` gives when the rows are done.
 */
export function* zeekText(l: ZeekLog, now: () => Date, batch = 4096): Generator<string> {
  let lines = [
    '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${l.path}`, `#open\t${zeekStamp(now())}`,
    `#fields\t${l.fields.join('\t')}`, `#types\t${l.types.join('\t')}`,
  ];
  for (const row of l.rows()) {
    lines.push(row);
    if (lines.length >= batch) {
      yield lines.join('\n') + '\n';
      lines = [];
    }
  }
  lines.push(`#close\t${zeekStamp(now())}`);
  yield lines.join('\n') + '\n';
}

/** ftp.log whole, as one string (the fuzzer and tests; the CLI writes it in pieces with zeekText). */
export function renderZeek(a: FtpAnalysis, now: () => Date = () => new Date()): string {
  return [...zeekText(ftpLog(a), now)].join('');
}
