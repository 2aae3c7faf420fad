import type { ConnectionSummary } from '../model/capture.js';
import type { PacketRecord } from '../model/capture.js';
import {
  SEG_DUP_ACK, SEG_OUT_OF_ORDER, SEG_PREVIOUS_NOT_CAPTURED, SEG_RETRANSMITTED, SEG_ZERO_WINDOW, analysisTags,
} from '../model/segment.js';
import type { FtpSession } from '../model/ftp-model.js';
import type { Lang, ViewContext } from './context.js';
import { cut, displayWidth, group, padEnd, padStart, sanitize } from './text.js';

/** TCP flag bits and the names Wireshark gives them, in the order it lists them. */
const FLAG_NAMES: Array<[number, string]> = [
  [1, 'FIN'],
  [2, 'SYN'],
  [4, 'RST'],
  [8, 'PSH'],
  [16, 'ACK'],
  [32, 'URG'],
  [64, 'ECE'],
  [128, 'CWR'],
  [256, 'AE'],
];

/** "[SYN, ACK]", as Wireshark writes the flags of a segment. */
export function tcpFlags(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
  return `[${names.length > 0 ? names.join(', ') : '<None>'}]`;
}

/** Analysis that Wireshark colours as a problem (its "Bad TCP" rule): shown in the warning tone. */
const WARN = SEG_RETRANSMITTED | SEG_OUT_OF_ORDER | SEG_PREVIOUS_NOT_CAPTURED | SEG_DUP_ACK | SEG_ZERO_WINDOW;

/**
 * The list's own words: its heads are Wireshark's column titles (in its Chinese translation for zh); Info
 * stays in Wireshark's notation, as Wireshark keeps it in every language.
 */
const HEADS: Record<Lang, { no: string; time: string[]; source: string[]; destination: string[]; protocol: string[]; length: string[]; info: string; where: string[]; route: string; none: string; full: (frame: string, kept: string) => string; notRecorded: string }> = {
  en: {
    no: 'No.', time: ['Time'], source: ['Source', 'Src'], destination: ['Destination', 'Dest', 'Dst'], protocol: ['Protocol', 'Proto'], length: ['Length', 'Len'], info: 'Info', where: ['Where'],
    route: 'Source → Destination',
    none: 'no packets of FTP connections were recorded',
    full: (frame, kept) => `the packet log was full at frame ${frame}: packets from there on are not listed (${kept} recorded)`,
    notRecorded: 'packets were not recorded for this run',
  },
  zh: {
    no: '序号', time: ['时间'], source: ['源地址', '源'], destination: ['目的地址', '目的'], protocol: ['协议'], length: ['长度'], info: '信息', where: ['所属'],
    route: '源地址 → 目的地址',
    none: '没有记录到 FTP 连接的数据包',
    full: (frame, kept) => `数据包记录在第 ${frame} 帧已满：之后的数据包不再列出（已记录 ${kept} 个）`,
    notRecorded: '这次运行没有记录数据包',
  },
};

/** Info narrower than this is not worth showing: the line gets longer than the width instead. */
const MIN_INFO = 12;

type Protocol = 'TCP' | 'FTP' | 'FTP-DATA';
type Tone = 'plain' | 'dim' | 'request' | 'ok' | 'error' | 'warn';

interface Row {
  no: string;
  time: string;
  source: string;
  destination: string;
  protocol: Protocol;
  length: string;
  info: string;
  where: string;
  tone: Tone;
}

/**
 * A packet list in Wireshark's style: one line per packet the packet log recorded, with No., Time (as
 * --time-format says: from the capture's first packet by default), Source, Destination, Protocol, Length, Info and Where (session, connection, role).
 * Sequence and acknowledgement numbers, windows and the TCP analysis (retransmissions, duplicate ACKs,
 * ...) are the packet log's, shown as Wireshark does: relative numbers, the window scaled, and the
 * analysis in brackets before Info ("[TCP Dup ACK 12#1] ..."). Everything from the wire goes through
 * sanitize. Lines keep within ctx.options.width when they can: Info is cut with "…".
 */
export function renderPackets(ctx: ViewContext): string {
  return [...packetsText(ctx)].join('');
}

/** Lines written at a time: the list of a capture of any size is never one string, nor held as rows. */
const LINES_AT_ONCE = 4096;

/** The packet list, a few thousand lines at a time: the log is read twice, once for the widths, once to draw. */
export function* packetsText(ctx: ViewContext): Generator<string> {
  const log = ctx.packets;
  const words = HEADS[ctx.options.lang] ?? HEADS.en;
  if (log === null) {
    yield `${words.notRecorded}\n`;
    return;
  }
  const conns = new Map<number, ConnectionSummary>(ctx.analysis.connections.map((c) => [c.id, c]));
  const chosen = selectedSessions(ctx);
  const whereOf = new Map<number, { where: string; session: FtpSession | null }>();
  function* rows(): Generator<Row> {
    const clock = ctx.timer();
    for (const p of log!.all()) {
      let w = whereOf.get(p.connection);
      if (w === undefined) whereOf.set(p.connection, (w = where(ctx, p.connection)));
      if (chosen !== null && (w.session === null || !chosen.has(w.session))) continue;
      yield row(ctx, p, conns.get(p.connection), clock(p, w.session), w.where);
    }
  }
  let lines: string[] = [];
  let count = 0;
  for (const line of layout(ctx, rows)) {
    if (line === PAUSE) {
      yield '';
      continue;
    }
    if (line.row) count++;
    lines.push(line.text);
    if (lines.length >= LINES_AT_ONCE) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (count === 0) lines.push(words.none);
  if (log.fullAt !== null) lines.push(words.full(group(log.fullAt), group(log.size)));
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/** The sessions chosen by the CLI's filters, or null when all are shown (then packets outside FTP sessions are listed too). */
function selectedSessions(ctx: ViewContext): Set<FtpSession> | null {
  const chosen = ctx.sessions;
  if (chosen.length === ctx.analysis.sessions.length) return null;
  return new Set(chosen);
}

/**
 * Which session, connection and role a connection is: "s1 ctl c1", "s1 data c2 LIST", "s1 data c3 PASV", or
 * "-". The connection's number is its id, as in the connection list and the ladder ("data connection 2").
 */
function where(ctx: ViewContext, connection: number): { where: string; session: FtpSession | null } {
  const role = ctx.role(connection);
  if (role !== undefined) {
    const s = role.session;
    if (role.role === 'control') return { where: `s${s.id} ctl c${connection}`, session: s };
    const t = role.transfer;
    // A data connection that answered an announcement but served no command is named by the announcement.
    const what = t !== null ? ` ${sanitize(t.command)}` : role.prediction !== null ? ` ${role.prediction.source}` : '';
    return { where: `s${s.id} data c${connection}${what}`, session: s };
  }
  return { where: '-', session: null };
}

function row(
  ctx: ViewContext,
  p: PacketRecord,
  c: ConnectionSummary | undefined,
  time: string,
  whereText: string,
): Row {
  const fromClient = p.dir === 0;
  const src = c === undefined ? null : fromClient ? c.client : c.server;
  const dst = c === undefined ? null : fromClient ? c.server : c.client;
  const role = ctx.role(p.connection);
  const seq = p.seq;
  const ack = p.ack;
  const window = p.scaledWindow;

  const ports = src !== null && dst !== null ? `${src.port} → ${dst.port}` : `? → ?`;
  const tcpInfo = `${ports} ${tcpFlags(p.flags)} Seq=${seq}${p.flags & 16 ? ` Ack=${ack}` : ''} Win=${window} Len=${p.payload}`;

  let protocol: Protocol = 'TCP';
  let info = tcpInfo;
  let tone: Tone = p.flags & 4 ? 'error' : 'dim';
  if (p.payload > 0 && role !== undefined) {
    if (role.role === 'control') {
      protocol = 'FTP';
      const fromFtpClient = fromClient === role.openerIsClient;
      const lines = ctx.linesAt(p.frame);
      if (lines.length > 0) {
        info = lines.map((l) => (l.reply === null ? `Request: ${l.text}` : `Response: ${l.text}`)).join(', ');
        const code = lines.find((l) => l.reply !== null)?.reply?.code ?? null;
        tone = code === null ? 'request' : code >= 400 ? 'error' : 'ok';
      } else if (role.session.tls !== null && p.frame > role.session.tls.frame) {
        info = `${fromFtpClient ? 'Request' : 'Response'} (encrypted, ${sanitize(role.session.tls.command)}): ${group(p.payload)} bytes`;
        tone = 'plain';
      } else {
        const ahead = fromFtpClient ? ctx.telnetAhead(p.frame) : undefined;
        info = ahead !== undefined ? `Request (Telnet, before ${sanitize(ahead.command.command)}): ${group(p.payload)} bytes` : `${fromFtpClient ? 'Request' : 'Response'} (continued): ${group(p.payload)} bytes`;
        tone = 'plain';
      }
    } else {
      protocol = 'FTP-DATA';
      info = `FTP Data: ${p.payload} bytes${role.transfer?.protected ? ' (TLS)' : ''}`;
      tone = 'plain';
    }
  } else if (p.payload > 0) {
    tone = 'plain';
  }
  const tags = analysisTags(p.analysis, p.dupAckCount, p.dupAckOf);
  if (tags.length > 0) {
    info = `${tags.map((t) => `[${t}]`).join(' ')} ${info}`;
    if (p.analysis & WARN) tone = 'warn';
  }

  return {
    no: String(p.frame),
    time,
    source: src === null ? '?' : sanitize(src.address),
    destination: dst === null ? '?' : sanitize(dst.address),
    protocol,
    length: String(p.frameLength),
    info,
    where: whereText,
    tone,
  };
}

/** Column widths: every column as wide as its widest cell; Info gets what is left of the width. */
/** A line of the list: `row` when it shows a packet (not the head); PAUSE is no line, a pause for the writer while widths are measured. */
interface Line {
  text: string;
  row: boolean;
}

const PAUSE: Line = { text: '', row: false };

type Widths = Record<'no' | 'time' | 'source' | 'destination' | 'protocol' | 'length' | 'info' | 'where', number>;

/** The widest cell of each column, in one pass over the rows, pausing every LINES_AT_ONCE rows. */
function* measure(rows: Iterable<Row>, w: Widths): Generator<Line> {
  let n = 0;
  for (const r of rows) {
    if (++n % LINES_AT_ONCE === 0) yield PAUSE;
    w.no = Math.max(w.no, displayWidth(r.no));
    w.time = Math.max(w.time, displayWidth(r.time));
    w.source = Math.max(w.source, displayWidth(r.source));
    w.destination = Math.max(w.destination, displayWidth(r.destination));
    w.protocol = Math.max(w.protocol, displayWidth(r.protocol));
    w.length = Math.max(w.length, displayWidth(r.length));
    w.info = Math.max(w.info, displayWidth(r.info));
    w.where = Math.max(w.where, displayWidth(r.where));
  }
}

function* layout(ctx: ViewContext, rows: () => Iterable<Row>): Generator<Line> {
  const widths: Widths = { no: 0, time: 0, source: 0, destination: 0, protocol: 0, length: 0, info: 0, where: 0 };
  yield* measure(rows(), widths);
  const cols = { ...widths, info: 0 };
  // Headers: Wireshark's names, shortened when the column is narrower than the name.
  const h = HEADS[ctx.options.lang] ?? HEADS.en;
  const head = {
    no: h.no,
    time: label(cols.time, ...h.time),
    source: label(cols.source, ...h.source),
    destination: label(cols.destination, ...h.destination),
    protocol: label(cols.protocol, ...h.protocol),
    length: label(cols.length, ...h.length),
    info: h.info,
    where: label(cols.where, ...h.where),
  };
  for (const k of Object.keys(cols) as Array<keyof typeof cols>) cols[k] = Math.max(cols[k], displayWidth(head[k]));

  const fixed = cols.no + cols.time + cols.source + cols.destination + cols.protocol + cols.length + cols.where + 7;
  const naturalInfo = Math.max(4, widths.info);
  const room = ctx.options.width - fixed;
  if (room < Math.min(naturalInfo, 40)) {
    yield* twoLineLayout(ctx, rows(), cols, head, h.route);
    return;
  }
  cols.info = room >= naturalInfo ? naturalInfo : Math.max(room, MIN_INFO);

  const line = (r: { no: string; time: string; source: string; destination: string; protocol: string; length: string; info: string; where: string }, tone: Tone | 'head'): string => {
    const info = padEnd(cut(r.info, cols.info), cols.info);
    const cells = [
      padStart(r.no, cols.no),
      padStart(r.time, cols.time),
      padEnd(r.source, cols.source),
      padEnd(r.destination, cols.destination),
      padEnd(r.protocol, cols.protocol),
      padStart(r.length, cols.length),
      tone === 'head' ? info : paint(ctx, tone, info),
      tone === 'head' ? r.where : ctx.style('dim', r.where),
    ];
    const text = cells.join(' ').trimEnd();
    return tone === 'head' ? ctx.style('bold', text) : text;
  };
  yield { text: line(head, 'head'), row: false };
  for (const r of rows()) yield { text: line(r, r.tone), row: true };
}

/**
 * When the columns leave Info too little room (long IPv6 addresses, a narrow terminal): each packet on
 * two lines, its columns with Where first, then its Info indented under them, cut only at the width.
 */
function* twoLineLayout(ctx: ViewContext, rows: Iterable<Row>, cols: Record<string, number>, head: Record<string, string>, route: string): Generator<Line> {
  const width = ctx.options.width;
  const indent = ' '.repeat(cols.no! + 1);
  const first = (r: { no: string; time: string; protocol: string; length: string; where: string }) =>
    cut([padStart(r.no, cols.no!), padStart(r.time, cols.time!), padEnd(r.protocol, cols.protocol!), padStart(r.length, cols.length!), r.where].join(' '), width);
  /** The addresses, whole: on one line when they fit, else one per line. */
  const addresses = (src: string, dst: string): string[] => {
    const one = `${indent}${src} → ${dst}`;
    return displayWidth(one) <= width ? [one] : [`${indent}${src} →`, `${indent}  ${dst}`];
  };
  for (const text of [ctx.style('bold', first(head as unknown as Row)), ctx.style('bold', `${indent}${route}`), ctx.style('bold', `${indent}${head.info}`)]) yield { text, row: false };
  for (const r of rows) {
    yield { text: first(r), row: true };
    for (const l of addresses(r.source, r.destination)) yield { text: ctx.style('dim', l), row: false };
    yield { text: paint(ctx, r.tone, cut(`${indent}${r.info}`, width)), row: false };
  }
}

function paint(ctx: ViewContext, tone: Tone, text: string): string {
  switch (tone) {
    case 'dim':
      return ctx.style('dim', text);
    case 'request':
      return ctx.style('cyan', text);
    case 'ok':
      return ctx.style('green', text);
    case 'error':
      return ctx.style('red', text);
    case 'warn':
      return ctx.style('yellow', text);
    default:
      return text;
  }
}

/** The first of the names that fits in `w` columns, else the last. */
function label(w: number, ...names: string[]): string {
  return names.find((n) => displayWidth(n) <= w) ?? names[names.length - 1]!;
}

