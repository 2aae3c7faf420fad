import type { FtpAnalysis, FtpSession, Prediction } from '../model/ftp-model.js';
import { indexModel } from '../model/lookup.js';
import { UNSAFE, uEscape } from '../escape.js';

/** The commands whose argument Zeek writes as an ftp:// URL built from the working directory. */
const ZEEK_FILE_COMMANDS = new Set(['APPE', 'CWD', 'DELE', 'MKD', 'RETR', 'RMD', 'RNFR', 'RNTO', 'STOR', 'STOU', 'REST', 'SIZE', 'MDTM']);

/** The commands Zeek's ftp.log records by default. */
export const ZEEK_DEFAULT_COMMANDS = new Set(['APPE', 'DELE', 'RETR', 'STOR', 'STOU', 'ACCT', 'PORT', 'PASV', 'EPRT', 'EPSV']);

const FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'user', 'password', 'command', 'arg', 'mime_type',
  'file_size', 'reply_code', 'reply_msg', 'data_channel.passive', 'data_channel.orig_h', 'data_channel.resp_h',
  'data_channel.resp_p', 'fuid',
];
const TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'string', 'string', 'string', 'string', 'string', 'count', 'count', 'string', 'bool', 'addr', 'addr', 'port', 'string'];

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
  fileSize: number | null;
  replyCode: number | null;
  replyMsg: string;
  dataChannel: { passive: boolean; origH: string; respH: string; respP: number } | null;
}

/**
 * The rows Zeek's ftp.log would have: user and password as known when the command was sent (as the model
 * has them: the caller masks passwords, see Masker), file arguments as ftp://host/path URLs,
 * the size from SIZE or the 150 reply, the final reply, and the data channel for PORT/EPRT/PASV/EPSV.
 */
export function zeekRows(a: FtpAnalysis, commands: ReadonlySet<string> = ZEEK_DEFAULT_COMMANDS): ZeekRow[] {
  const rows: ZeekRow[] = [];
  const by = indexModel(a);
  for (const s of a.sessions) {
    let user = '<unknown>';
    let password = '';
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
      rows.push({
        ts: `${when.sec}.${String(Math.floor(when.nsec / 1000)).padStart(6, '0')}`,
        uid: `C${s.connection}`,
        origH: s.client.address,
        origP: s.client.port,
        respH: s.server.address,
        respP: s.server.port,
        user,
        password,
        command: ex.command,
        arg,
        fileSize: t?.announcedSize ?? null,
        replyCode: final?.code ?? null,
        replyMsg: final?.message ?? '',
        dataChannel: p === null ? null : dataChannel(p, s),
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

/** The rows as Zeek's TSV log, header included; `a` with its passwords masked as they are to be shown. */
export function renderZeek(a: FtpAnalysis): string {
  const esc = zeekEscape;
  const lines = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tftp', `#fields\t${FIELDS.join('\t')}`, `#types\t${TYPES.join('\t')}`];
  for (const r of zeekRows(a)) {
    const dc = r.dataChannel;
    lines.push([
      r.ts, r.uid, r.origH, String(r.origP), r.respH, String(r.respP), esc(r.user), esc(r.password), esc(r.command), esc(r.arg), '-',
      r.fileSize === null ? '-' : String(r.fileSize), r.replyCode === null ? '-' : String(r.replyCode), esc(r.replyMsg),
      dc === null ? '-' : dc.passive ? 'T' : 'F', dc?.origH ?? '-', dc?.respH ?? '-', dc === null ? '-' : String(dc.respP), '-',
    ].join('\t'));
  }
  return lines.join('\n') + '\n';
}
