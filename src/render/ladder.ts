/**
 * The ladder: one sequence diagram per FTP session, FTP client on the left and FTP server on the right,
 * one arrow per step in time order: every segment of the control connection, and for each data connection
 * its handshake, its data (one arrow per direction, or one per segment with detail 'packets') and its
 * teardown.
 *
 *   frame time      FTP client                                       FTP server
 *                   10.21.0.1                                         10.21.0.2
 *       6 +0.0203  33198 ─────────────── USER alice ──────────────────▶ 21
 *       8 +0.0205  33198 ◀──────── 331 Please specify the password. ──── 21
 *
 * Control connections are drawn with ─, data connections with ┄ (and a caption line when one opens).
 * The ports at both ends are the connection's own, so a data connection shows the port PORT or 227
 * announced. Every line fits `options.width`; text from the wire comes escaped from the context (linesAt)
 * or is escaped here (transfer paths), and is cut with … when it is too long.
 *
 * Without a packet log the ladder is told from the model's timeline (handshakes, commands, replies, the
 * first and last data of transfers, teardowns); when the log filled up, the timeline takes over from the
 * frame where it stopped.
 */
import type { ConnectionSummary } from '../model/capture.js';
import type { PacketRecord } from '../model/capture.js';
import { SEG_OUT_OF_ORDER, SEG_RETRANSMITTED, analysisTags } from '../model/segment.js';
import type { FtpSession, Prediction, TimelineEvent, Transfer } from '../model/ftp-model.js';
import { hostPort, type Lang, type LineAt, type TimeFormat, type ViewContext } from './context.js';
import { cut, displayWidth, flagNames, group, padEnd, padStart, sanitize, wrap } from './text.js';
import { maxOf } from '../arrays.js';

const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;
const URG = 32;

/** Longest arrow drawn, however wide the terminal. */
const MAX_ARROW = 100;
/** Dashes kept on each side of a label. */
const MIN_DASHES = 2;

type Tone = 'syn' | 'fin' | 'rst' | 'ack' | 'command' | 'reply1' | 'reply2' | 'reply3' | 'reply4' | 'reply5' | 'data' | 'plain';
type StyleKind = Parameters<ViewContext['style']>[0];

const TONE_STYLE: Record<Tone, StyleKind | null> = {
  syn: 'green',
  fin: 'yellow',
  rst: 'red',
  ack: 'dim',
  command: 'bold',
  reply1: null,
  reply2: 'green',
  reply3: 'cyan',
  reply4: 'yellow',
  reply5: 'red',
  data: 'magenta',
  plain: null,
};

/** The ladder's words. */
export type LadderWords = Words;
interface Words {
  session(id: number): string;
  ends(client: string, server: string): string;
  clientIs(client: string): string;
  serverIs(server: string): string;
  user(name: string): string;
  /** Separators: after a heading, and between items. */
  colon: string;
  comma: string;
  midStream: string;
  legend: string[];
  /** The legend's word for the time column, by --time-format. */
  timeLegend: Record<TimeFormat, string>;
  frame: string;
  time: string;
  client: string;
  server: string;
  dataConnection(id: number, what: string): string;
  elsewhere: string;
  /** A data connection whose client side is another host than the FTP client (an obeyed PORT naming it). */
  thirdHost: (address: string) => string;
  transfer(command: string, path: string, mode: string): string;
  prediction(source: string, frame: number): string;
  unmatched: string;
  data(bytes: number, tls: boolean): string;
  segments(n: number): string;
  /** Details after a label, in brackets: " (1 segment, frames 9-12)". */
  aside(parts: string[]): string;
  frames(first: number, last: number): string;
  /** One frame as every label writes it ("frame 9"; "第 9 帧"). */
  frameAt(frame: number): string;
  acks(n: number): string;
  /** Data segments sent again (tshark's retransmissions, fast and spurious included) and their bytes. */
  retransmitted(segments: number, bytes: number): string;
  outOfOrder(segments: number): string;
  /** The shortest way to say segments were sent again (retransmitted or out of order). */
  resent(segments: number): string;
  continued(what: string, bytes: number): string;
  /** Telnet commands alone, ahead of a command's text (IP and the Synch before ABOR). */
  telnet(command: string, bytes: number): string;
  bytes(n: number): string;
  tls(n: number): string;
  synAgain: string;
  withData(n: number): string;
  lastData: string;
  fromTimeline: string;
  logFull(frame: number): string;
  noSessions: string;
  noSteps: string;
}

const WORDS: Record<Lang, Words> = {
  en: {
    session: (id) => `Session ${id}`,
    ends: (c, s) => `FTP client ${c} → FTP server ${s}`,
    clientIs: (c) => `FTP client ${c}`,
    serverIs: (s) => `FTP server ${s}`,
    user: (u) => `user ${u}`,
    colon: ': ',
    comma: ', ',
    midStream: 'the capture began after the session did',
    legend: ['── control connection', '┄┄ data connection', '▶ ◀ the way the packet went'],
    timeLegend: {
      capture: "time: seconds from the capture's start",
      session: "time: seconds from the session's start",
      absolute: 'time: time of day (UTC)',
      delta: 'time: seconds since the arrow before',
    },
    frame: 'frame',
    time: 'time',
    client: 'FTP client',
    server: 'FTP server',
    dataConnection: (id, what) => `data connection ${id} (${what})`,
    elsewhere: "not the session's hosts",
    thirdHost: (address) => `${address}: a third host, not the client`,
    transfer: (command, path, mode) => `${command}${path === '' ? '' : ` ${path}`}, ${mode}`,
    prediction: (source, frame) => `${source} at frame ${frame}, no transfer`,
    unmatched: 'not matched to a command',
    data: (n, tls) => `FTP-DATA${tls ? ' (TLS)' : ''} ${group(n)} byte${n === 1 ? '' : 's'}`,
    segments: (n) => `${group(n)} segment${n === 1 ? '' : 's'}`,
    aside: (parts) => ` (${parts.join(', ')})`,
    frames: (a, b) => `frames ${a}-${b}`,
    frameAt: (n) => `frame ${n}`,
    acks: (n) => `${group(n)} ACK${n === 1 ? '' : 's'}`,
    retransmitted: (n, b) => `${group(n)} retransmitted (${group(b)} bytes)`,
    outOfOrder: (n) => `${group(n)} out of order`,
    resent: (n) => `${group(n)} sent again`,
    continued: (what, n) => `${what} continued (${group(n)} byte${n === 1 ? '' : 's'})`,
    telnet: (command, n) => `Telnet before ${command} (${group(n)} byte${n === 1 ? '' : 's'})`,
    bytes: (n) => `${group(n)} byte${n === 1 ? '' : 's'}`,
    tls: (n) => `TLS ${group(n)} byte${n === 1 ? '' : 's'}`,
    synAgain: 'SYN (again)',
    withData: (n) => `with ${group(n)} data byte${n === 1 ? '' : 's'}`,
    lastData: 'FTP-DATA end',
    fromTimeline: 'no packet log: the steps come from the session model (bare ACKs not shown)',
    logFull: (f) => `packet log full from frame ${f}: later steps come from the session model`,
    noSessions: 'No FTP session in the capture.',
    noSteps: '(no packets of this session were recorded)',
  },
  zh: {
    session: (id) => `会话 ${id}`,
    ends: (c, s) => `FTP 客户端 ${c} → FTP 服务器 ${s}`,
    clientIs: (c) => `FTP 客户端 ${c}`,
    serverIs: (s) => `FTP 服务器 ${s}`,
    user: (u) => `用户 ${u}`,
    colon: '：',
    comma: '，',
    midStream: '抓包开始时会话已经开始',
    legend: ['── 控制连接', '┄┄ 数据连接', '▶ ◀ 报文方向'],
    timeLegend: { capture: '时间：自抓包开始的秒数', session: '时间：自会话开始的秒数', absolute: '时间：当天时刻（UTC）', delta: '时间：距上一个箭头的秒数' },
    frame: '帧',
    time: '时间',
    client: 'FTP 客户端',
    server: 'FTP 服务器',
    dataConnection: (id, what) => `数据连接 ${id}（${what}）`,
    elsewhere: '不是会话的主机',
    thirdHost: (address) => `${address}：第三方主机，不是客户端`,
    transfer: (command, path, mode) => `${command}${path === '' ? '' : ` ${path}`}，${mode === 'active' ? '主动模式' : mode === 'passive' ? '被动模式' : '模式未知'}`,
    prediction: (source, frame) => `${source}（第 ${frame} 帧），没有传输`,
    unmatched: '未对应到命令',
    data: (n, tls) => `FTP-DATA${tls ? ' (TLS)' : ''} ${group(n)} 字节`,
    segments: (n) => `${group(n)} 个报文段`,
    aside: (parts) => `（${parts.join('，')}）`,
    frames: (a, b) => `第 ${a}-${b} 帧`,
    frameAt: (n) => `第 ${n} 帧`,
    acks: (n) => `${group(n)} 个 ACK`,
    retransmitted: (n, b) => `重传 ${group(n)} 个（${group(b)} 字节）`,
    outOfOrder: (n) => `乱序 ${group(n)} 个`,
    resent: (n) => `重发 ${group(n)} 个`,
    continued: (what, n) => `${what} 续（${group(n)} 字节）`,
    telnet: (command, n) => `${command} 之前的 Telnet 命令（${group(n)} 字节）`,
    bytes: (n) => `${group(n)} 字节`,
    tls: (n) => `TLS ${group(n)} 字节`,
    synAgain: 'SYN（重传）',
    withData: (n) => `带 ${group(n)} 字节数据`,
    lastData: 'FTP-DATA 结束',
    fromTimeline: '没有报文记录：步骤取自会话模型（不显示单独的 ACK）',
    logFull: (f) => `报文记录在第 ${f} 帧已满：之后的步骤取自会话模型`,
    noSessions: '抓包中没有 FTP 会话。',
    noSteps: '（没有记录到这个会话的报文）',
  },
};

/** What a connection is to the ladder: which session, which side opened it, and what it carried. */
export interface ConnInfo {
  id: number;
  session: FtpSession;
  data: boolean;
  openerIsClient: boolean;
  summary: ConnectionSummary;
  transfer: Transfer | null;
  prediction: Prediction | null;
}

/** One arrow of the ladder; its label is chosen when the ladder is drawn (data summaries fill up later). */
export interface Arrow {
  type: 'arrow';
  frame: number;
  at: { sec: number; nsec: number };
  conn: ConnInfo;
  toServer: boolean;
  /** Labels from the most to the least detailed: the first that fits is used, the last is cut to fit. */
  labels: () => string[];
  tone: Tone;
}

/** A line between arrows: a data connection's caption (what, then from where to where), or a note. */
export interface Caption {
  type: 'caption';
  text: string;
  /** For a data connection: its addresses, on the caption's line when they fit, else on the next. */
  route: string | null;
  data: boolean;
}

type Row = Arrow | Caption;
/** One step of a session as the ladder and the notations drawn from its steps see it. */
export type LadderRow = Row;

/** Bytes and segments of one direction of a data connection, drawn as one arrow. */
interface DataSummary {
  bytes: number;
  segments: number;
  /** Of those, retransmissions (tshark's three kinds), their bytes, and out-of-order segments. */
  retransmitted: number;
  retransmittedBytes: number;
  outOfOrder: number;
  acks: number;
  first: number;
  last: number;
}

/** Per-connection state while reading its packets. */
interface ConnState {
  synAck: boolean;
  established: boolean;
  closing: boolean;
  summaries: [DataSummary | null, DataSummary | null];
  /** The last FTP line each direction started (for segments that continue it). */
  lastLine: [LineAt | null, LineAt | null];

}

export function renderLadder(ctx: ViewContext): string {
  return [...ladderText(ctx)].join('');
}

/** The ladder a session at a time (the text of a capture of any size is never one string). */
export function* ladderText(ctx: ViewContext): Generator<string> {
  yield* sessionsText(ctx, draw);
}

/**
 * How a session's steps become lines: the terminal's ladder (draw), or another notation drawn from the
 * same steps (render/mermaid.ts). Yields its lines in pieces; an empty piece is a pause for the writer.
 */
export type Drawer = (ctx: ViewContext, words: LadderWords, s: FtpSession, rows: LadderRow[], notes: string[]) => Generator<string[]>;

/**
 * Draws any session of `ctx` through a drawer, in the context's language: who each connection is, and
 * where each session's packets are, found once for all of them.
 */
export function ladderMaker(ctx: ViewContext): (s: FtpSession, drawer: Drawer) => Generator<string[]> {
  const words = WORDS[ctx.options.lang] ?? WORDS.en;
  const infos = connectionInfos(ctx);
  const packets = packetsBySession(ctx, infos);
  const log = ctx.packets;
  return (s, drawer) => {
    const records = function* (): Generator<PacketRecord> {
      if (log !== null) for (const i of packets.get(s.id) ?? []) yield log.get(i);
    };
    return renderSession(ctx, words, s, infos, records(), drawer);
  };
}

/** Every session's steps through `drawer`, a session at a time, a blank line between sessions. */
export function* sessionsText(ctx: ViewContext, drawer: Drawer): Generator<string> {
  const words = WORDS[ctx.options.lang] ?? WORDS.en;
  const sessions = ctx.sessions;
  if (sessions.length === 0) {
    yield `${words.noSessions}\n`;
    return;
  }
  const ladder = ladderMaker(ctx);
  let first = true;
  for (const s of sessions) {
    let start = true;
    for (const lines of ladder(s, drawer)) {
      if (lines.length === 0) {
        yield ''; // a pause, for the writer
        continue;
      }
      yield `${first && start ? '' : '\n'}${lines.join('\n')}`;
      start = false;
    }
    if (!start) {
      yield '\n';
      first = false;
    }
  }
  if (first) yield '\n';
}

// ---------------------------------------------------------------------------
// Who is who
// ---------------------------------------------------------------------------

/**
 * Every FTP connection with its session and the side that opened it: from the context's roles (control,
 * data, and connections that answered an announcement), else from the session whose two addresses it
 * joins while it runs.
 */
function connectionInfos(ctx: ViewContext): Map<number, ConnInfo> {
  const a = ctx.analysis;
  const infos = new Map<number, ConnInfo>();
  for (const c of a.connections) {
    const role = ctx.role(c.id);
    if (role !== undefined) {
      infos.set(c.id, { id: c.id, session: role.session, data: role.role === 'data', openerIsClient: role.openerIsClient, summary: c, transfer: role.transfer, prediction: role.prediction });
      continue;
    }
    const t = c.first.sec + c.first.nsec / 1e9;
    let best: FtpSession | undefined;
    for (const s of a.sessions) {
      if (s.connection === c.id) continue;
      const joins =
        (c.client.address === s.client.address && c.server.address === s.server.address) ||
        (c.client.address === s.server.address && c.server.address === s.client.address);
      const start = s.start.sec + s.start.nsec / 1e9;
      const end = s.end.sec + s.end.nsec / 1e9;
      if (joins && t >= start && t <= end && (best === undefined || s.start.frame > best.start.frame)) best = s;
    }
    if (best !== undefined) {
      infos.set(c.id, { id: c.id, session: best, data: true, openerIsClient: c.client.address === best.client.address, summary: c, transfer: null, prediction: null });
    }
  }
  return infos;
}

/** Packet positions in the log, by session: the records are made a session at a time, as it is drawn. */
function packetsBySession(ctx: ViewContext, infos: Map<number, ConnInfo>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (ctx.packets === null) return out;
  let i = 0;
  for (const p of ctx.packets.all()) {
    const info = infos.get(p.connection);
    if (info !== undefined) {
      const list = out.get(info.session.id);
      if (list === undefined) out.set(info.session.id, [i]);
      else list.push(i);
    }
    i++;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

/** A session's ladder, in pieces of lines (see draw). */
function* renderSession(ctx: ViewContext, words: Words, s: FtpSession, infos: Map<number, ConnInfo>, packets: Iterable<PacketRecord>, drawer: Drawer): Generator<string[]> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const captioned = new Set<number>();
  const caption = (info: ConnInfo): void => {
    if (!info.data || captioned.has(info.id)) return;
    captioned.add(info.id);
    rows.push({ type: 'caption', ...dataCaption(words, info), data: true });
  };
  const fullAt = ctx.packets?.fullAt ?? null;
  if (ctx.packets === null) notes.push(words.fromTimeline);
  // A pause (no lines) every few thousand packets: the writer's memory guard runs while a long session's steps are made.
  else for (const _ of stepsFromPackets(ctx, words, s, infos, packets, rows, caption)) yield [];
  if (ctx.packets === null || (fullAt !== null && s.end.frame >= fullAt)) {
    const from = ctx.packets === null ? 0 : fullAt!;
    if (ctx.packets !== null) rows.push({ type: 'caption', text: words.logFull(from), route: null, data: false });
    stepsFromTimeline(ctx, words, s, infos, from, rows, caption);
  }
  if (s.midStream) notes.push(words.midStream);
  yield* drawer(ctx, words, s, rows, notes);
}

function* stepsFromPackets(
  ctx: ViewContext,
  words: Words,
  s: FtpSession,
  infos: Map<number, ConnInfo>,
  packets: Iterable<PacketRecord>,
  rows: Row[],
  caption: (info: ConnInfo) => void,
): Generator<void> {
  const states = new Map<number, ConnState>();
  const packetMode = ctx.options.detail === 'packets';
  let seen = 0;
  for (const p of packets) {
    if (++seen % LINES_AT_ONCE === 0) yield;
    const info = infos.get(p.connection)!;
    let st = states.get(p.connection);
    if (st === undefined) {
      states.set(p.connection, (st = { synAck: false, established: false, closing: false, summaries: [null, null], lastLine: [null, null] }));
    }
    const toServer = (p.dir === 0) === info.openerIsClient;
    // What the rows' closures read, copied: a closure that named the packet would keep its whole record alive
    // per arrow, and a long session holds a row per arrow.
    const { frame, sec, nsec, flags, payload } = p;
    const arrow = (labels: () => string[], tone: Tone): void => {
      caption(info);
      rows.push({ type: 'arrow', frame, at: { sec, nsec }, conn: info, toServer, labels, tone });
    };
    const bare = p.payload === 0 && (p.flags & (SYN | FIN | RST)) === 0;
    const handshakeAck = bare && p.dir === 0 && st.synAck && !st.established;
    if (p.flags & SYN) {
      if (p.flags & ACK) st.synAck = true;
      const again = !(p.flags & ACK) && (p.analysis & SEG_RETRANSMITTED) !== 0;
      const label = again ? words.synAgain : flagNames(p.flags);
      arrow(() => [label], 'syn');
      continue;
    }
    if (handshakeAck) st.established = true;
    if (p.payload > 0) st.established = true;

    if (!info.data) {
      // The control connection: every segment.
      if (p.payload === 0) {
        arrow(() => [flagNames(flags)], flagTone(flags));
        continue;
      }
      const lines = ctx.linesAt(p.frame).filter((l) => l.session === s);
      const extra = p.flags & (FIN | RST) ? `[${flagNames(p.flags)}] ` : '';
      if (lines.length > 0) {
        st.lastLine[toServer ? 0 : 1] = lines[lines.length - 1]!;
        const text = extra + lineLabel(ctx, lines);
        arrow(() => [text], lineTone(lines[0]!));
        continue;
      }
      const last = st.lastLine[toServer ? 0 : 1];
      const ahead = toServer ? ctx.telnetAhead(p.frame) : undefined;
      let text: string;
      if (s.tls !== null && p.frame > s.tls.frame) text = words.tls(p.payload);
      else if (ahead !== undefined) text = `${p.flags & URG ? '[URG] ' : ''}${words.telnet(sanitize(ahead.command.command), p.payload)}`;
      else if (last !== null) text = words.continued(last.reply === null ? sanitize(last.exchange.command) : String(last.reply.code), p.payload);
      else text = words.bytes(p.payload);
      arrow(() => [extra + text], p.flags & RST ? 'rst' : 'plain');
      continue;
    }

    // A data connection.
    const tls = info.transfer?.protected ?? (info.transfer === null && s.dataProtected);
    if (p.flags & (FIN | RST)) st.closing = true;
    if (packetMode) {
      if (p.payload > 0) {
        const extra = p.flags & (FIN | RST) ? `[${flagNames(p.flags)}] ` : '';
        const again = p.analysis & (SEG_RETRANSMITTED | SEG_OUT_OF_ORDER) ? `[${analysisTags(p.analysis & (SEG_RETRANSMITTED | SEG_OUT_OF_ORDER), 0, 0)[0]}] ` : '';
        arrow(() => [again + extra + words.data(payload, tls), extra + words.data(payload, tls)], flags & RST ? 'rst' : 'data');
      } else {
        arrow(() => [flagNames(flags)], flagTone(flags));
      }
      continue;
    }
    if (p.payload > 0) {
      const d = p.dir;
      let sum = st.summaries[d];
      if (sum === null) {
        const summary = (st.summaries[d] = sum = { bytes: 0, segments: 0, retransmitted: 0, retransmittedBytes: 0, outOfOrder: 0, acks: 0, first: p.frame, last: p.frame });
        const delivered = d === 0 ? info.summary.toServer : info.summary.toClient;
        arrow(() => dataLabels(words, summary, delivered.deliveredBytes, tls), 'data');
      }
      sum.bytes += p.payload;
      sum.segments++;
      if (p.analysis & SEG_RETRANSMITTED) {
        sum.retransmitted++;
        sum.retransmittedBytes += p.payload;
      } else if (p.analysis & SEG_OUT_OF_ORDER) sum.outOfOrder++;
      sum.last = p.frame;
      if (p.flags & (FIN | RST)) {
        const label = `${flagNames(p.flags)} ${words.withData(p.payload)}`;
        arrow(() => [label, flagNames(flags)], flagTone(flags));
      }
      continue;
    }
    if (handshakeAck || st.closing || !bare) {
      arrow(() => [flagNames(flags)], flagTone(flags));
      continue;
    }
    // A bare ACK during the data: counted with the data it acknowledges.
    const other = st.summaries[p.dir === 0 ? 1 : 0];
    if (other !== null) other.acks++;
  }
}

/** The data arrow's label, longest first: every alternative that names more than the bytes says what was sent again. */
function dataLabels(words: Words, d: DataSummary, delivered: number, tls: boolean): string[] {
  const bytes = delivered > 0 ? delivered : d.bytes;
  const head = words.data(bytes, tls);
  const seg = words.segments(d.segments);
  const again: string[] = [];
  if (d.retransmitted > 0) again.push(words.retransmitted(d.retransmitted, d.retransmittedBytes));
  if (d.outOfOrder > 0) again.push(words.outOfOrder(d.outOfOrder));
  const details = [seg];
  if (d.first !== d.last) details.push(words.frames(d.first, d.last));
  details.push(...again);
  const out: string[] = [];
  if (d.acks > 0) out.push(head + words.aside([...details, words.acks(d.acks)]));
  out.push(head + words.aside(details));
  if (details.length > 1 + again.length) out.push(head + words.aside([seg, ...again]));
  if (again.length > 0) {
    out.push(head + words.aside([seg, again[0]!]));
    out.push(head + words.aside([words.resent(d.retransmitted + d.outOfOrder)]));
  } else if (details.length > 1) out.push(head + words.aside([seg]));
  out.push(head);
  return out;
}

function stepsFromTimeline(
  ctx: ViewContext,
  words: Words,
  s: FtpSession,
  infos: Map<number, ConnInfo>,
  fromFrame: number,
  rows: Row[],
  caption: (info: ConnInfo) => void,
): void {
  const events = ctx.timelineOf(s.id).filter((e) => e.at.frame >= fromFrame);
  // Each transfer's first data event on its connection (a lookup per data-last was quadratic in transfers).
  const firstData = new Map<string, TimelineEvent>();
  for (const x of events) if (x.kind === 'data-first' && !firstData.has(`${x.transfer} ${x.connection}`)) firstData.set(`${x.transfer} ${x.connection}`, x);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.connection === null) continue;
    const info = infos.get(e.connection);
    if (info === undefined) continue;
    const arrow = (labels: () => string[], tone: Tone): void => {
      caption(info);
      rows.push({ type: 'arrow', frame: e.at.frame, at: e.at, conn: info, toServer: e.from === 'client', labels, tone });
    };
    switch (e.kind) {
      case 'syn':
        arrow(() => ['SYN'], 'syn');
        break;
      case 'syn-ack':
        arrow(() => ['SYN,ACK'], 'syn');
        break;
      case 'handshake-ack':
        arrow(() => ['ACK'], 'ack');
        break;
      case 'fin':
        arrow(() => ['FIN'], 'fin');
        break;
      case 'rst':
        arrow(() => ['RST'], 'rst');
        break;
      case 'command':
      case 'reply': {
        // Every line that starts in this frame, once (several events may share the frame).
        while (i + 1 < events.length && sameSegment(e, events[i + 1]!)) i++;
        const lines = ctx.linesAt(e.at.frame).filter((l) => l.session === s);
        if (lines.length === 0) break;
        const text = lineLabel(ctx, lines);
        arrow(() => [text], lineTone(lines[0]!));
        break;
      }
      case 'data-first': {
        const t = e.transfer === null ? undefined : ctx.by.transfer(e.transfer);
        const bytes = t?.bytes ?? 0;
        const tls = t?.protected ?? false;
        arrow(() => [words.data(bytes, tls)], 'data');
        break;
      }
      case 'data-last': {
        const first = firstData.get(`${e.transfer} ${e.connection}`);
        if (first !== undefined && first.at.frame === e.at.frame) break;
        arrow(() => [words.lastData], 'data');
        break;
      }
      case 'prediction':
        break;
    }
  }
}

const NBSP = '\u00a0';

/**
 * Lines of at most `room` columns, broken at plain spaces, or, inside a word too long for a line, after a
 * delimiter of its fields (`|` of EPRT and 229, `,` of PORT and 227), then of an address's groups, so that
 * no number is split; a group still longer than a line is cut by wrap. No-break spaces become spaces.
 */
function breakAtSpaces(text: string, room: number): string[] {
  const pieces: Array<{ text: string; glue: string }> = [];
  for (const word of text.split(' ')) {
    if (word === '') continue;
    const fields = displayWidth(word) <= room ? [word] : (word.match(/[^|,]*[|,]+|[^|,]+$/g) ?? [word]);
    fields.forEach((f, i) => {
      // An address too long for a line breaks between its groups (IPv6 at ':', IPv4 at '.').
      const groups = displayWidth(f) <= room ? [f] : (f.match(/[^:.]*[:.]+|[^:.]+$/g) ?? [f]);
      groups.forEach((g, k) => {
        for (const cut of displayWidth(g) <= room ? [g] : wrap(g, room)) pieces.push({ text: cut, glue: i === 0 && k === 0 && pieces.length > 0 ? ' ' : '' });
      });
    });
  }
  const lines: string[] = [];
  let line = '';
  for (const p of pieces) {
    const joined = line === '' ? p.text : line + p.glue + p.text;
    if (displayWidth(joined) <= room) line = joined;
    else {
      lines.push(line);
      line = p.text;
    }
  }
  lines.push(line);
  return lines.filter((l) => l !== '').map((l) => l.replaceAll(NBSP, ' '));
}

/** The commands and replies that announce a data connection's address and port. */
const ADDRESS_COMMANDS = new Set(['PORT', 'EPRT', 'LPRT']);
const ADDRESS_REPLIES = new Set([227, 228, 229]);

/** The lines that carry an address and port (PORT, EPRT, LPRT; 227, 228, 229 replies). */
function addressLines(lines: readonly LineAt[]): LineAt[] {
  return lines.filter((l) => (l.reply === null ? ADDRESS_COMMANDS.has(l.exchange.command) : ADDRESS_REPLIES.has(l.reply.code)));
}

/** The label of a segment's FTP lines, each line that announces a port followed by its arithmetic ("130*256+93 = 33373"). */
function lineLabel(ctx: ViewContext, lines: readonly LineAt[]): string {
  const announcing = addressLines(lines);
  return lines
    .map((l) => {
      const p = announcing.includes(l) && l.exchange.prediction !== null ? ctx.by.prediction(l.exchange.prediction) : undefined;
      // The arithmetic is one unit: its spaces are no-break spaces until the label is drawn (breakAtSpaces).
      return p?.arithmetic != null ? `${l.text} (${p.arithmetic.replace(/ /g, NBSP)})` : l.text;
    })
    .join(' + ');
}

function sameSegment(a: TimelineEvent, b: TimelineEvent): boolean {
  const line = (k: TimelineEvent['kind']): boolean => k === 'command' || k === 'reply';
  return line(b.kind) && b.at.frame === a.at.frame && b.connection === a.connection;
}

function dataCaption(words: Words, info: ConnInfo): { text: string; route: string } {
  const c = info.summary;
  const s = info.session;
  let what: string;
  if (info.transfer !== null) what = words.transfer(sanitize(info.transfer.command), sanitize(info.transfer.path), info.transfer.mode);
  else if (info.prediction !== null) what = words.prediction(info.prediction.source, info.prediction.setup.frame);
  else what = words.unmatched;
  const [clientSide, serverSide] = info.openerIsClient ? [c.client, c.server] : [c.server, c.client];
  const elsewhere = clientSide.address !== s.client.address || serverSide.address !== s.server.address;
  const third = serverSide.address === s.server.address && clientSide.address !== s.client.address;
  const route = `${sanitize(hostPort(c.client.address, c.client.port))} → ${sanitize(hostPort(c.server.address, c.server.port))}`;
  const note = third ? words.thirdHost(sanitize(clientSide.address)) : elsewhere ? words.elsewhere : null;
  return { text: `┄┄ ${words.dataConnection(info.id, what)}`, route: note === null ? route : route + words.aside([note]) };
}

function flagTone(flags: number): Tone {
  if (flags & RST) return 'rst';
  if (flags & FIN) return 'fin';
  if (flags & SYN) return 'syn';
  return 'ack';
}

function lineTone(line: LineAt): Tone {
  if (line.reply === null) return 'command';
  const c = Math.floor(line.reply.code / 100);
  return c === 2 ? 'reply2' : c === 3 ? 'reply3' : c === 4 ? 'reply4' : c === 5 ? 'reply5' : 'reply1';
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

/** A piece of a line and how to style it. */
type Part = [string, StyleKind | null];

/** Lines drawn at a time: a session of any length is written in pieces. */
const LINES_AT_ONCE = 4096;

/** The ladder of a session from its rows, LINES_AT_ONCE lines at a time (the widths are the rows' widest, found first). */
function* draw(ctx: ViewContext, words: Words, s: FtpSession, rows: Row[], notes: string[]): Generator<string[]> {
  const width = Math.max(20, Math.floor(ctx.options.width) || 80);
  const clock = ctx.timer();
  const arrows = rows.filter((r): r is Arrow => r.type === 'arrow');
  const portOf = (a: Arrow, left: boolean): number => arrowPort(a, left);
  // The times' width from one pass of the clock; the drawing runs a fresh one over the same arrows in the
  // same order (a delta clock depends on the line before), so no string is kept per arrow.
  const fw = maxOf(arrows, (a) => String(a.frame).length, displayWidth(words.frame));
  let tw = maxOf(arrows, (a) => clock(a.at, s).length, displayWidth(words.time));
  const drawClock = ctx.timer();
  const lpw = maxOf(arrows, (a) => String(portOf(a, true)).length, 1);
  const rpw = maxOf(arrows, (a) => String(portOf(a, false)).length, 1);
  let margin = fw + 1 + tw + 1;
  // On a narrow terminal the time goes first, so that arrows keep room for their labels.
  if (width - margin - lpw - rpw - 2 < 24) {
    tw = 0;
    margin = fw + 1;
  }
  const aw = Math.max(2 * MIN_DASHES + 4, Math.min(MAX_ARROW, width - margin - lpw - rpw - 2));
  const total = margin + lpw + 1 + aw + 1 + rpw;

  let out: string[] = [];
  const emit = (parts: Part[]): void => {
    out.push(styled(ctx, fitParts(parts, width)));
  };

  // Header: who, the legend, then the two ends of the ladder.
  const client = sanitize(hostPort(s.client.address, s.client.port));
  const server = sanitize(hostPort(s.server.address, s.server.port));
  const title = words.session(s.id);
  const user = s.user === null ? '' : words.user(sanitize(s.user));
  const both = title + words.colon + words.ends(client, server);
  const whole = user === '' ? both : both + words.comma + user;
  if (displayWidth(whole) <= width) emit([[whole, 'bold']]);
  else if (displayWidth(both) <= width) {
    emit([[both, 'bold']]);
    emit([[`  ${user}`, null]]);
  } else {
    emit([[title, 'bold']]);
    emit([[`  ${words.clientIs(client)}`, null]]);
    emit([[`  ${words.serverIs(server)}`, null]]);
    if (user !== '') emit([[`  ${user}`, null]]);
  }
  for (const line of pack([...words.legend, words.timeLegend[ctx.options.timeFormat ?? 'capture']], width)) emit([[line, 'dim']]);
  for (const n of notes) emit([[n, 'yellow']]);
  const head = tw > 0 ? `${padStart(words.frame, fw)} ${padEnd(words.time, tw)} ` : `${padStart(words.frame, fw)} `;
  const ends = (left: string, right: string, withHead: boolean): void => {
    const lead = withHead ? head : ' '.repeat(margin);
    const room = total - margin;
    if (displayWidth(left) + 2 + displayWidth(right) <= room) {
      emit([[lead, 'dim'], [left, 'bold'], [' '.repeat(room - displayWidth(left) - displayWidth(right)), null], [right, 'bold']]);
    } else {
      emit([[lead, 'dim'], [left, 'bold']]);
      const r = cut(right, width);
      emit([[' '.repeat(Math.max(0, total - displayWidth(r))), null], [r, 'bold']]);
    }
  };
  ends(words.client, words.server, true);
  ends(sanitize(s.client.address), sanitize(s.server.address), false);

  if (arrows.length === 0) emit([[' '.repeat(margin), null], [words.noSteps, 'dim']]);
  for (const r of rows) {
    if (out.length >= LINES_AT_ONCE) {
      yield out;
      out = [];
    }
    if (r.type === 'caption') {
      const style: StyleKind = r.data ? 'magenta' : 'yellow';
      const at = (text: string): void => emit([[' '.repeat(Math.max(0, Math.min(margin, width - displayWidth(text)))), null], [text, style]]);
      const one = r.route === null ? r.text : r.text + words.colon + r.route;
      if (r.route === null || displayWidth(one) <= width) at(one);
      else {
        at(r.text + words.colon.trimEnd());
        at(`   ${r.route}`);
      }
      continue;
    }
    const when = drawClock(r.at, s);
    const lead = tw > 0 ? `${padStart(String(r.frame), fw)} ${padEnd(when, tw)} ` : `${padStart(String(r.frame), fw)} `;
    const line = r.conn.data ? '┄' : '─';
    const lineStyle: StyleKind | null = r.conn.data ? 'magenta' : null;
    const room = aw - 1 - 2 * MIN_DASHES - 2;
    const labels = r.labels();
    // An address and its port are never cut: such a label goes on across lines under its arrow.
    const whole = !r.conn.data && labels.length === 1 && displayWidth(labels[0]!) > room && addressLines(ctx.linesAt(r.frame)).length > 0;
    const wrapped = whole ? breakAtSpaces(labels[0]!, room) : null;
    const label = wrapped !== null ? wrapped[0]! : pickLabel(labels.map((l) => l.replaceAll(NBSP, ' ')), room);
    const dashes = aw - 1 - 2 - displayWidth(label);
    const before = Math.floor(dashes / 2);
    const after = dashes - before;
    const parts: Part[] = [
      [lead, 'dim'],
      [padStart(String(portOf(r, true)), lpw) + ' ', 'dim'],
    ];
    if (r.toServer) parts.push([line.repeat(before) + ' ', lineStyle], [label, TONE_STYLE[r.tone]], [' ' + line.repeat(after) + '▶', lineStyle]);
    else parts.push(['◀' + line.repeat(before) + ' ', lineStyle], [label, TONE_STYLE[r.tone]], [' ' + line.repeat(after), lineStyle]);
    parts.push([' ' + String(portOf(r, false)), 'dim']);
    emit(parts);
    for (const more of wrapped?.slice(1) ?? []) {
      const pad = margin + lpw + 1 + 1 + Math.floor((aw - 2 - displayWidth(more)) / 2);
      emit([[' '.repeat(pad), null], [more, TONE_STYLE[r.tone]]]);
    }
  }
  yield out;
}

/** A label as written: the no-break spaces that hold the arithmetic together become spaces. */
export function plainLabel(label: string): string {
  return label.replaceAll(NBSP, ' ');
}

/** The port at the FTP client's end of an arrow (left) or at the FTP server's. */
export function arrowPort(a: Arrow, left: boolean): number {
  const c = a.conn.summary;
  return left === a.conn.openerIsClient ? c.client.port : c.server.port;
}

/** The first label that fits, or the last one cut with …. */
function pickLabel(labels: string[], room: number): string {
  for (const l of labels) if (displayWidth(l) <= room) return l;
  return cut(labels[labels.length - 1] ?? '', room);
}

/** Items on as few lines as fit the width, three spaces apart. */
function pack(items: string[], width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const item of items) {
    if (cur !== '' && displayWidth(cur) + 3 + displayWidth(item) <= width) cur += `   ${item}`;
    else {
      if (cur !== '') lines.push(cur);
      cur = item;
    }
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

/** Parts cut so that their text fits the width (the last visible part ends with …). */
function fitParts(parts: Part[], width: number): Part[] {
  const w = parts.reduce((n, [t]) => n + displayWidth(t), 0);
  if (w <= width) return trimEnd(parts);
  const out: Part[] = [];
  let used = 0;
  for (const [t, k] of parts) {
    const tw = displayWidth(t);
    if (used + tw < width) {
      out.push([t, k]);
      used += tw;
      continue;
    }
    out.push([cut(t, width - used), k]);
    break;
  }
  return trimEnd(out);
}

function trimEnd(parts: Part[]): Part[] {
  const out = parts.slice();
  while (out.length > 0) {
    const [t, k] = out[out.length - 1]!;
    const trimmed = t.replace(/ +$/, '');
    if (trimmed !== '') {
      out[out.length - 1] = [trimmed, k];
      break;
    }
    out.pop();
  }
  return out;
}

function styled(ctx: ViewContext, parts: Part[]): string {
  return parts.map(([t, k]) => (k === null || t === '' || !ctx.options.color ? t : ctx.style(k, t))).join('');
}

// ---------------------------------------------------------------------------
// Width of text in a terminal
// ---------------------------------------------------------------------------

