import type { ConnectionSteps } from '../model/capture.js';
import type { Exchange, Finding, FtpSession, LiveEvent, Prediction, Reply, Stamp, Transfer } from '../model/ftp-model.js';
import { hostPort, type Clock, type Lang, type ViewContext } from './context.js';
import { cut, group, sanitize, wrap } from './text.js';
import { VOCAB, type Vocab } from './vocab.js';

/** The timeline's words in one language (wire text comes in already escaped). */
interface Words {
  v: Vocab;
  empty: string;
  head: (session: number, from: string, to: string, login: string, midStream: boolean) => string;
  noUser: string;
  user: (name: string, anonymous: boolean) => string;
  tls: string;
  control: string;
  data: (id: number, what: string) => string;
  side: (s: 'client' | 'server') => string;
  handshake: (syn: number, synAck: number | null, ack: number | null) => string;
  opened: (what: string, by: string, ends: string, steps: string) => string;
  alreadyOpen: (what: string, ends: string) => string;
  neverAnswered: string;
  synUnanswered: string;
  reset: (what: string, by: string) => string;
  closed: (what: string) => string;
  finFrom: (what: string, by: string) => string;
  oneFin: (what: string, by: string) => string;
  stillOpen: (what: string) => string;
  noReply: (note: string | null) => string;
  /** The model's note that no reply came, in this language. */
  noReplyNote: string;
  aside: (text: string) => string;
  /** A response time after a reply's text. */
  took: (seconds: number) => string;
  noCommand: string;
  lines: (n: number) => string;
  transfer: (command: string, bytes: string, to: string, figures: string[], how: string, status: string) => string;
  toServer: string;
  toClient: string;
  toThird: (host: string) => string;
  seconds: (s: number) => string;
  missing: (bytes: string) => string;
  how: (mode: string, rule: string) => string;
  result: (status: string, cause: string | null) => string;
  noData: (command: string, result: string) => string;
  expecting: (from: string, to: string, mode: string, source: string, frame: number, arithmetic: string | null, flags: string[]) => string;
  nat: string;
  third: string;
  finding: (severity: string, kind: string, message: string, count: number) => string;
  sessionOver: (login: string, commands: string, transfers: string) => string;
}

const EN: Words = {
  v: VOCAB.en,
  empty: 'No FTP session in this capture.',
  head: (id, from, to, login, mid) => `Session ${id}: ${from} -> ${to}  ${login}${mid ? '  (capture began mid-session)' : ''}`,
  noUser: 'no user',
  user: (name, anonymous) => `user ${name}${anonymous ? ' (anonymous)' : ''}`,
  tls: 'TLS',
  control: 'control connection',
  data: (id, what) => `data connection ${id} for ${what}`,
  side: (s) => s,
  handshake: (syn, synAck, ack) => [`SYN ${syn}`, synAck !== null && `SYN-ACK ${synAck}`, ack !== null && `ACK ${ack}`].filter(Boolean).join(', '),
  opened: (what, by, ends, steps) => `${what} opened by the ${by}: ${ends} (${steps})`,
  alreadyOpen: (what, ends) => `${what} already open when the capture began: ${ends}`,
  neverAnswered: ' — never answered',
  synUnanswered: ' — its SYN was never answered',
  reset: (what, by) => `${what} reset by the ${by} (RST)`,
  closed: (what) => `${what} closed (FIN both ways)`,
  finFrom: (what, by) => `${what}: FIN from the ${by}`,
  oneFin: (what, by) => `${what}: FIN from the ${by} only, none from the other side in the capture`,
  stillOpen: (what) => `${what}: still open at the end of the capture`,
  noReply: (note) => note ?? 'no reply',
  noReplyNote: 'no reply in the capture',
  aside: (text) => `(${text})`,
  took: (sec) => `  (${sec < 1 ? `${(sec * 1000).toFixed(3)} ms` : `${sec.toFixed(3)} s`})`,
  noCommand: 'no command',
  lines: (n) => ` (${n} lines)`,
  transfer: (command, bytes, to, figures, how, status) => `${command} data: ${bytes} bytes ${to}${figures.map((f) => `, ${f}`).join('')} (${how}) — ${status}`,
  toServer: 'to the server',
  toClient: 'to the client',
  toThird: (host) => `to ${host}, a third host, not the client`,
  seconds: (sec) => `${sec.toFixed(3)} s`,
  missing: (bytes) => `${bytes} bytes missing`,
  how: (mode, rule) => `${mode}, matched by ${rule}`,
  result: (status, cause) => `${status}${cause ? `: ${cause}` : ''}`,
  noData: (command, result) => `${command}: no data connection seen — ${result}`,
  expecting: (from, to, mode, source, frame, arithmetic, flags) =>
    `expecting ${from} -> ${to} (${mode}), set up by ${source} in frame ${frame}${arithmetic ? `: ${arithmetic}` : ''}${flags.length > 0 ? `  [${flags.join(', ')}]` : ''}`,
  nat: 'NAT? advertised address is not the server\'s',
  third: 'THIRD PARTY',
  finding: (severity, kind, message, count) => `! ${severity} ${kind}: ${message}${count > 1 ? ` (${count} times)` : ''}`,
  sessionOver: (login, commands, transfers) => `session over: ${login}, ${commands} commands, ${transfers} transfers`,
};

const ZH: Words = {
  v: VOCAB.zh,
  empty: '这个抓包中没有 FTP 会话。',
  head: (id, from, to, login, mid) => `会话 ${id}：${from} -> ${to}  ${login}${mid ? '（抓包开始时会话已在进行中）' : ''}`,
  noUser: '没有用户名',
  user: (name, anonymous) => `用户 ${name}${anonymous ? '（匿名）' : ''}`,
  tls: 'TLS 加密',
  control: '控制连接',
  data: (id, what) => `数据连接 ${id}（用于 ${what}）`,
  side: (s) => (s === 'client' ? '客户端' : '服务器'),
  handshake: (syn, synAck, ack) => [`SYN 在第 ${syn} 帧`, synAck !== null && `SYN-ACK 在第 ${synAck} 帧`, ack !== null && `ACK 在第 ${ack} 帧`].filter(Boolean).join('，'),
  opened: (what, by, ends, steps) => `${what}由${by}打开：${ends}（${steps}）`,
  alreadyOpen: (what, ends) => `${what}在抓包开始时已经打开：${ends}`,
  neverAnswered: '——始终没有应答',
  synUnanswered: '——它的 SYN 始终没有应答',
  reset: (what, by) => `${what}被${by}重置（RST）`,
  closed: (what) => `${what}已关闭（双方都发送了 FIN）`,
  finFrom: (what, by) => `${what}：${by}发送了 FIN`,
  oneFin: (what, by) => `${what}：只有${by}发送了 FIN，抓包中没有另一方的 FIN`,
  stillOpen: (what) => `${what}：抓包结束时仍然打开`,
  noReply: (note) => note ?? '没有应答',
  noReplyNote: '抓包中没有应答',
  aside: (text) => `（${text}）`,
  took: (sec) => `（${sec < 1 ? `${(sec * 1000).toFixed(3)} 毫秒` : `${sec.toFixed(3)} 秒`}）`,
  noCommand: '没有对应的命令',
  lines: (n) => `（${n} 行）`,
  transfer: (command, bytes, to, figures, how, status) => `${command} 数据：${bytes} 字节${to}${figures.map((f) => `，${f}`).join('')}（${how}）——${status}`,
  toServer: '发往服务器',
  toClient: '发往客户端',
  toThird: (host) => `发往 ${host}（第三方主机，不是客户端）`,
  seconds: (sec) => `${sec.toFixed(3)} 秒`,
  missing: (bytes) => `缺少 ${bytes} 字节`,
  how: (mode, rule) => `${mode}模式，按${rule}匹配`,
  result: (status, cause) => `${status}${cause ? `：${cause}` : ''}`,
  noData: (command, result) => `${command}：没有看到数据连接——${result}`,
  expecting: (from, to, mode, source, frame, arithmetic, flags) =>
    `等待 ${from} -> ${to}（${mode}模式），由第 ${frame} 帧的 ${source} 通告${arithmetic ? `：${arithmetic}` : ''}${flags.length > 0 ? `  【${flags.join('；')}】` : ''}`,
  nat: '可能有 NAT：通告的地址不是服务器的地址',
  third: '第三方',
  finding: (severity, kind, message, count) => `！${severity} ${kind}：${message}${count > 1 ? `（共 ${count} 次）` : ''}`,
  sessionOver: (login, commands, transfers) => `会话结束：${login}，${commands} 个命令，${transfers} 次传输`,
};

const WORDS: Record<Lang, Words> = { en: EN, zh: ZH };

interface Line {
  at: Stamp;
  text: string;
  style?: 'dim' | 'red' | 'yellow' | 'green' | 'cyan';
}

/**
 * The annotated timeline: per session, in time order, one line per event that matters — connections
 * opened and closed (control and data), each command with its reply and response time, each prediction,
 * each data connection with the command it serves, its bytes, duration and throughput, and each finding,
 * flagged — with times as --time-format says (from the capture's first packet by default) and frame numbers
 * to cross-reference.
 */
export function renderTimeline(ctx: ViewContext): string {
  return [...timelineText(ctx)].join('');
}

/** The timeline a session at a time (the text of a capture of any size is never one string). */
export function* timelineText(ctx: ViewContext): Generator<string> {
  const w = WORDS[ctx.options.lang] ?? EN;
  let first = true;
  for (const s of ctx.sessions) {
    yield `${first ? '' : '\n'}${sessionTimeline(ctx, w, s).join('\n')}\n`;
    first = false;
  }
  if (ctx.sessions.length === 0) yield `${w.empty}\n`;
}

function sessionTimeline(ctx: ViewContext, w: Words, s: FtpSession): string[] {
  const lines: Line[] = [];
  const exchanges = new Map(s.exchanges.map((ex) => [ex.index, ex]));
  // Each thing is told once, in one entry (a connection's handshake, an exchange's replies): at its first
  // event of the model's timeline; the entries are then put in frame order.
  const told = new Set<string>();
  const once = (key: string) => !told.has(key) && told.add(key) !== undefined;
  for (const e of ctx.timelineOf(s.id)) {
    switch (e.kind) {
      case 'syn': case 'seen': case 'syn-ack': case 'handshake-ack': case 'fin': case 'rst': case 'open-at-end': {
        const c = e.connection === null ? undefined : ctx.role(e.connection)?.summary;
        if (c === undefined || !once(`c${c.id}`)) break;
        const t = e.transfer === null ? null : ctx.by.transfer(e.transfer) ?? null;
        if (e.role === 'control' || t === null) lines.push(...connectionLines(w, c, connectionName(w, c.id, null), 'client'));
        else {
          lines.push(...connectionLines(w, c, connectionName(w, c.id, t), t.mode === 'active' ? 'server' : 'client'));
          // No data came over it (a SYN unanswered, an empty listing): what the transfer came to, at its last packet.
          if (t.firstData === null && t.lastData === null && once(`t${t.id}`)) lines.push(transferLine(w, t, ctx.role(c.id)?.thirdParty ?? null, c.last));
        }
        break;
      }
      case 'command': case 'reply': {
        const ex = e.exchange === null ? undefined : exchanges.get(e.exchange);
        if (ex !== undefined && once(`x${ex.index}`)) lines.push(exchangeLine(w, ex));
        break;
      }
      case 'prediction': {
        const p = ctx.by.prediction(e.prediction!)!;
        lines.push({ at: e.at, text: `    ${predictionText(p, w)}`, style: flagsOf(w, p).length > 0 ? 'yellow' : 'dim' });
        break;
      }
      case 'data-first': case 'data-last': {
        const t = ctx.by.transfer(e.transfer!)!;
        if (once(`t${t.id}`)) lines.push(transferLine(w, t, t.connection === null ? null : (ctx.role(t.connection)?.thirdParty ?? null)));
        break;
      }
      case 'no-data': {
        const t = ctx.by.transfer(e.transfer!)!;
        lines.push({ at: e.at, text: `    ${noDataText(w, t)}`, style: 'yellow' });
        break;
      }
    }
  }
  for (const f of ctx.findingsOf(s.id)) {
    const frame = f.frames[0] ?? 0;
    lines.push({ at: { frame, sec: -1, nsec: 0 }, text: `  ${findingText(f, w)}`, style: f.severity === 'warning' || f.severity === 'alert' ? 'red' : 'yellow' });
  }
  lines.sort((x, y) => x.at.frame - y.at.frame);
  const clock = ctx.timer();
  const head = w.head(s.id, hostPort(s.client.address, s.client.port), hostPort(s.server.address, s.server.port), loginText(w, s), s.midStream);
  const width = ctx.options.width;
  const out = wrap(sanitize(head), width, '', '    ').map((x) => ctx.style('bold', x));
  for (const l of lines) {
    const time = l.at.sec < 0 ? ''.padEnd(11) : clock(l.at, s).padStart(11);
    // One event, one entry: what does not fit goes on indented lines under it, nothing is cut.
    const first = `${time} ${`#${l.at.frame}`.padEnd(6)}`;
    const indent = ' '.repeat(first.length + 4);
    for (const text of wrap(l.text.trimStart(), width, first + l.text.slice(0, l.text.length - l.text.trimStart().length), indent)) {
      out.push(l.style ? ctx.style(l.style, text) : text);
    }
  }
  return out;
}

/** What the timeline flags on a prediction: an address not the listener's (NAT), a third party. */
function flagsOf(w: Words, p: Prediction): string[] {
  return [p.addressDiffers && p.mode === 'passive' ? w.nat : '', p.thirdParty ? w.third : ''].filter(Boolean);
}

/**
 * What the timeline says of a prediction, file and live alike: "expecting 10.0.0.1 -> 10.0.0.2:50009
 * (passive), set up by PASV in frame 14: 195*256+89 = 50009", flagged when its address is not the
 * listener's (NAT) or names a third party.
 */
export function predictionText(p: Prediction, w: Words = EN): string {
  return w.expecting(p.from, hostPort(p.to.address, p.to.port), w.v.mode[p.mode], p.source, p.setup.frame, p.arithmetic, flagsOf(w, p));
}

/** What the timeline says of a finding, file and live alike. */
export function findingText(f: Finding, w: Words = EN): string {
  return w.finding(w.v.severity[f.severity] ?? f.severity, f.kind, sanitize(w === EN ? f.message : f.messageZh), f.count);
}

function loginText(w: Words, s: FtpSession): string {
  const user = s.user === null ? w.noUser : w.user(sanitize(s.user), s.anonymous);
  return `${user}${w === EN ? ', ' : '，'}${w.v.login[s.login]}${s.tls ? `${w === EN ? ', ' : '，'}${w.tls}` : ''}`;
}

/** What the timeline calls a connection: the control connection, or a data connection with what it served. */
function connectionName(w: Words, id: number, t: Transfer | null): string {
  if (t === null) return w.control;
  return w.data(id, t.path === '.' || t.path === '' ? t.command : `${t.command} ${sanitize(t.path)}`);
}

function connectionLines(w: Words, c: ConnectionSteps, what: string, opener: 'client' | 'server'): Line[] {
  const lines: Line[] = [];
  const hs = c.handshake;
  if (hs.syn) {
    const steps = w.handshake(hs.syn.frame, hs.synAck?.frame ?? null, hs.ack?.frame ?? null);
    lines.push({ at: hs.syn, text: `  ${openedText(w, c, what, opener, steps)}${hs.synAck ? '' : w.neverAnswered}`, style: hs.synAck ? undefined : 'red' });
  } else {
    lines.push({ at: c.first, text: `  ${openedText(w, c, what, opener, null)}`, style: 'dim' });
  }
  const t = c.teardown;
  const end = t.rst ?? [t.clientFin, t.serverFin].filter((x) => x !== null).sort((x, y) => x!.frame - y!.frame).at(-1) ?? c.last;
  lines.push({ at: end, text: `  ${closedText(w, c, what, opener)}`, style: t.rst ? 'yellow' : 'dim' });
  return lines;
}

/** A connection opened (`steps`: its handshake's frames) or found open when the capture began (`steps` null). */
function openedText(w: Words, c: ConnectionSteps, what: string, opener: 'client' | 'server', steps: string | null): string {
  const ends = `${hostPort(c.client.address, c.client.port)} -> ${hostPort(c.server.address, c.server.port)}`;
  return steps === null ? w.alreadyOpen(what, ends) : w.opened(what, w.side(opener), ends, steps);
}

/** How a connection ended as far as the capture shows; `opener` is the FTP side that sent its SYN. */
function closedText(w: Words, c: ConnectionSteps, what: string, opener: 'client' | 'server'): string {
  const t = c.teardown;
  const other = opener === 'client' ? 'server' : 'client';
  if (t.rst) return w.reset(what, w.side(t.rst.by === 'client' ? opener : other));
  if (t.clientFin && t.serverFin) return w.closed(what);
  if (t.clientFin || t.serverFin) return w.oneFin(what, w.side(t.clientFin ? opener : other));
  return w.stillOpen(what);
}

function exchangeLine(w: Words, ex: Exchange): Line {
  const replies = ex.replies.map((r) => `${r.code}`).join(', ');
  const final = ex.replies.at(-1);
  const rt = ex.responseTime === null ? '' : w.took(ex.responseTime);
  if (ex.command === '<init>') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}` };
  const note = noteOf(w, ex);
  if (ex.command === '') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}${w === EN ? '   ' : ''}${w.aside(note ?? w.noCommand)}`, style: 'yellow' };
  const cmd = commandText(ex);
  const answer = final === undefined ? `  -> ${w.noReply(note)}` : `  -> ${replies.includes(',') ? `${replies}: ` : ''}${replyText(w, final)}`;
  const bad = final !== undefined && final.code >= 400;
  return { at: ex.request!, text: `  > ${cmd}${answer}${rt}`, style: bad ? 'red' : undefined };
}

/** A transfer's figures and result, at its first data (or, without data, at `at`). */
function transferLine(w: Words, t: Transfer, thirdParty: string | null, at?: Stamp): Line {
  return { at: t.firstData ?? t.lastData ?? at!, text: `    ${transferText(w, t, thirdParty)}`, style: t.status === 'complete' ? 'green' : 'yellow' };
}

/** A transfer's result and, when it is not complete, its likely cause. */
function resultText(w: Words, t: Transfer): string {
  const cause = w === EN ? t.cause : t.causeZh;
  return w.result(w.v.status[t.status], t.status === 'complete' || cause === null ? null : sanitize(cause));
}

/**
 * A transfer's figures and result. `thirdParty`: the host the data went to or came from instead of the
 * client (an obeyed PORT naming it).
 */
function transferText(w: Words, t: Transfer, thirdParty: string | null = null): string {
  const figures = [
    t.duration === null ? '' : w.seconds(t.duration),
    t.throughput === null ? '' : rateText(t.throughput),
    t.missingBytes > 0 ? w.missing(group(t.missingBytes)) : '',
  ].filter(Boolean);
  const to = t.direction === 'upload' ? w.toServer : thirdParty !== null ? w.toThird(thirdParty) : w.toClient;
  return w.transfer(t.command, group(t.bytes), to, figures, w.how(w.v.mode[t.mode], t.rule === null ? w.v.noRule : w.v.rule[t.rule]), resultText(w, t));
}

/** A transfer whose data connection is not in the capture. */
function noDataText(w: Words, t: Transfer): string {
  return w.noData(`${t.command} ${sanitize(t.path)}`, resultText(w, t));
}

/**
 * Why an exchange's pairing is unusual, as the model says it (in English). The one note a capture may hold
 * for thousands of commands, that no reply came, is worded per language here: a Chinese string on each of
 * them would double the size of every JSON that carries them.
 */
function noteOf(w: Words, ex: Exchange): string | null {
  if (ex.note === undefined) return null;
  return ex.note === 'no reply in the capture' && w !== EN ? w.noReplyNote : sanitize(ex.note);
}

function commandText(ex: Exchange): string {
  return sanitize(ex.argument === '' ? ex.command : `${ex.command} ${ex.argument}`);
}

function replyText(w: Words, r: Reply): string {
  return r.lines.length > 1 ? `${r.code}${w.lines(r.lines.length)}` : sanitize(r.lines[0]!);
}

/**
 * One line of live output for what the analysis just told (null for what live output leaves to another
 * line: a handshake's later steps, a transfer's data, which its end tells). The words are the timeline
 * view's; the time is as --time-format says, from `clock`.
 */
export function liveLine(e: LiveEvent, clock: Clock, sessionStart: (session: number) => Stamp | null, width: number, lang: Lang = 'en'): string | null {
  const w = WORDS[lang] ?? EN;
  let at: Stamp;
  let session: number | null;
  let text: string;
  switch (e.type) {
    case 'timeline': {
      const ev = e.event;
      at = ev.at;
      session = ev.session;
      const s = `s${ev.session}`;
      const what = e.connection === null ? '' : connectionName(w, e.connection.id, ev.role === 'data' ? e.transfer : null);
      switch (ev.kind) {
        case 'syn':
          text = `${s} ${openedText(w, e.connection!, what, ev.from, w.handshake(ev.at.frame, null, null))}`;
          break;
        case 'seen':
          text = `${s} ${openedText(w, e.connection!, what, ev.from, null)}`;
          break;
        case 'fin': {
          // The connection's steps are told as they are at the FTP stage's next look: this FIN may be the first of two.
          const t = e.connection!.teardown;
          const last = t.clientFin !== null && t.serverFin !== null && ev.at.frame === Math.max(t.clientFin.frame, t.serverFin.frame);
          text = `${s} ${last ? w.closed(what) : w.finFrom(what, w.side(ev.from))}`;
          break;
        }
        case 'rst': case 'open-at-end':
          text = `${s} ${closedText(w, e.connection!, what, ev.role === 'data' && e.transfer?.mode === 'active' ? 'server' : 'client')}`;
          if (e.connection!.handshake.syn !== null && e.connection!.handshake.synAck === null) text += w.synUnanswered;
          break;
        case 'command':
          text = `${s} > ${commandText(e.exchange!)}`;
          break;
        case 'reply': {
          const ex = e.exchange!;
          const r = ex.replies.at(-1)!;
          const rt = ex.responseTime === null || ex.replies.length > 1 ? '' : w.took(ex.responseTime);
          text = `${s} < ${replyText(w, r)}${rt}${ex.command === '' ? `${w === EN ? '   ' : ''}${w.aside(noteOf(w, ex) ?? w.noCommand)}` : ''}`;
          break;
        }
        case 'prediction':
          text = `${s}   ${predictionText(e.prediction!, w)}`;
          break;
        default:
          return null;
      }
      break;
    }
    case 'transfer-end':
      at = e.at;
      session = e.session;
      text = `s${e.session}   ${e.transfer.connection === null ? noDataText(w, e.transfer) : transferText(w, e.transfer)}`;
      break;
    case 'finding':
      at = e.at;
      session = e.finding.session;
      text = findingText(e.finding, w);
      break;
    case 'session-end': {
      const m = e.session;
      at = e.at;
      session = m.id;
      text = `s${m.id} ${w.sessionOver(loginText(w, m), group(m.commands), group(m.transfers.length))}`;
      break;
    }
  }
  const start = session === null ? null : sessionStart(session);
  return cut(`${clock(at, start === null ? null : { start }).padStart(11)} ${`#${at.frame}`.padEnd(6)} ${text}`, width);
}

export function rateText(bytesPerSec: number): string {
  if (bytesPerSec >= 1e9) return `${(bytesPerSec / 1e9).toFixed(2)} GB/s`;
  if (bytesPerSec >= 1e6) return `${(bytesPerSec / 1e6).toFixed(2)} MB/s`;
  if (bytesPerSec >= 1e3) return `${(bytesPerSec / 1e3).toFixed(2)} kB/s`;
  return `${bytesPerSec.toFixed(0)} B/s`;
}
