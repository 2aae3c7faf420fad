import type { ConnectionSteps } from '../model/capture.js';
import type { Exchange, Finding, FtpSession, LiveEvent, Prediction, Reply, Stamp, Transfer } from '../model/ftp-model.js';
import { hostPort, type Clock, type ViewContext } from './context.js';
import { cut, group, sanitize, wrap } from './text.js';

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
  let first = true;
  for (const s of ctx.sessions) {
    yield `${first ? '' : '\n'}${sessionTimeline(ctx, s).join('\n')}\n`;
    first = false;
  }
  if (ctx.sessions.length === 0) yield 'No FTP session in this capture.\n';
}

function sessionTimeline(ctx: ViewContext, s: FtpSession): string[] {
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
        if (e.role === 'control' || t === null) lines.push(...connectionLines(c, connectionName(c.id, null), 'client'));
        else {
          lines.push(...connectionLines(c, connectionName(c.id, t), t.mode === 'active' ? 'server' : 'client'));
          // No data came over it (a SYN unanswered, an empty listing): what the transfer came to, at its last packet.
          if (t.firstData === null && t.lastData === null && once(`t${t.id}`)) lines.push(transferLine(t, ctx.role(c.id)?.thirdParty ?? null, c.last));
        }
        break;
      }
      case 'command': case 'reply': {
        const ex = e.exchange === null ? undefined : exchanges.get(e.exchange);
        if (ex !== undefined && once(`x${ex.index}`)) lines.push(exchangeLine(ex));
        break;
      }
      case 'prediction': {
        const text = predictionText(ctx.by.prediction(e.prediction!)!);
        lines.push({ at: e.at, text: `    ${text}`, style: text.endsWith(']') ? 'yellow' : 'dim' });
        break;
      }
      case 'data-first': case 'data-last': {
        const t = ctx.by.transfer(e.transfer!)!;
        if (once(`t${t.id}`)) lines.push(transferLine(t, t.connection === null ? null : (ctx.role(t.connection)?.thirdParty ?? null)));
        break;
      }
      case 'no-data': {
        const t = ctx.by.transfer(e.transfer!)!;
        lines.push({ at: e.at, text: `    ${noDataText(t)}`, style: 'yellow' });
        break;
      }
    }
  }
  for (const f of ctx.findingsOf(s.id)) {
    const frame = f.frames[0] ?? 0;
    lines.push({ at: { frame, sec: -1, nsec: 0 }, text: `  ${findingText(f)}`, style: f.severity === 'warning' || f.severity === 'alert' ? 'red' : 'yellow' });
  }
  lines.sort((x, y) => x.at.frame - y.at.frame);
  const clock = ctx.timer();
  const head = `Session ${s.id}: ${hostPort(s.client.address, s.client.port)} -> ${hostPort(s.server.address, s.server.port)}  ${loginText(s)}${s.midStream ? '  (capture began mid-session)' : ''}`;
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

/**
 * What the timeline says of a prediction, file and live alike: "expecting 10.0.0.1 -> 10.0.0.2:50009
 * (passive), set up by PASV in frame 14: 195*256+89 = 50009", flagged when its address is not the
 * listener's (NAT) or names a third party.
 */
export function predictionText(p: Prediction): string {
  const flags = [p.addressDiffers && p.mode === 'passive' ? 'NAT? advertised address is not the server\'s' : '', p.thirdParty ? 'THIRD PARTY' : ''].filter(Boolean).join(', ');
  return `expecting ${p.from} -> ${hostPort(p.to.address, p.to.port)} (${p.mode}), set up by ${p.source} in frame ${p.setup.frame}${p.arithmetic ? `: ${p.arithmetic}` : ''}${flags ? `  [${flags}]` : ''}`;
}

/** What the timeline says of a finding, file and live alike. */
export function findingText(f: Finding): string {
  return `! ${f.severity} ${f.kind}: ${sanitize(f.message)}${f.count > 1 ? ` (${f.count} times)` : ''}`;
}

function loginText(s: FtpSession): string {
  const user = s.user === null ? 'no user' : `user ${sanitize(s.user)}${s.anonymous ? ' (anonymous)' : ''}`;
  const login = { success: 'logged in', failure: 'login failed', unknown: 'login unknown', none: 'no login seen' }[s.login];
  return `${user}, ${login}${s.tls ? ', TLS' : ''}`;
}

/** What the timeline calls a connection: the control connection, or a data connection with what it served. */
function connectionName(id: number, t: Transfer | null): string {
  if (t === null) return 'control connection';
  return `data connection ${id} for ${t.path === '.' || t.path === '' ? t.command : `${t.command} ${sanitize(t.path)}`}`;
}

function connectionLines(c: ConnectionSteps, what: string, opener: 'client' | 'server'): Line[] {
  const lines: Line[] = [];
  const hs = c.handshake;
  if (hs.syn) {
    const steps = [hs.syn && `SYN ${hs.syn.frame}`, hs.synAck && `SYN-ACK ${hs.synAck.frame}`, hs.ack && `ACK ${hs.ack.frame}`].filter(Boolean).join(', ');
    lines.push({ at: hs.syn, text: `  ${openedText(c, what, opener, steps)}${hs.synAck ? '' : ' — never answered'}`, style: hs.synAck ? undefined : 'red' });
  } else {
    lines.push({ at: c.first, text: `  ${openedText(c, what, opener, null)}`, style: 'dim' });
  }
  const t = c.teardown;
  const end = t.rst ?? [t.clientFin, t.serverFin].filter((x) => x !== null).sort((x, y) => x!.frame - y!.frame).at(-1) ?? c.last;
  lines.push({ at: end, text: `  ${what}${closedText(c, opener)}`, style: t.rst ? 'yellow' : 'dim' });
  return lines;
}

/** A connection opened (`steps`: its handshake's frames) or found open when the capture began (`steps` null). */
function openedText(c: ConnectionSteps, what: string, opener: 'client' | 'server', steps: string | null): string {
  const ends = `${hostPort(c.client.address, c.client.port)} -> ${hostPort(c.server.address, c.server.port)}`;
  return steps === null ? `${what} already open when the capture began: ${ends}` : `${what} opened by the ${opener}: ${ends} (${steps})`;
}

/** How a connection ended as far as the capture shows, after its name; `opener` is the FTP side that sent its SYN. */
function closedText(c: ConnectionSteps, opener: 'client' | 'server'): string {
  const t = c.teardown;
  const other = opener === 'client' ? 'server' : 'client';
  if (t.rst) return ` reset by the ${t.rst.by === 'client' ? opener : other} (RST)`;
  if (t.clientFin && t.serverFin) return ' closed (FIN both ways)';
  if (t.clientFin || t.serverFin) return `: FIN from the ${t.clientFin ? opener : other} only, none from the other side in the capture`;
  return ': still open at the end of the capture';
}

function exchangeLine(ex: Exchange): Line {
  const replies = ex.replies.map((r) => `${r.code}`).join(', ');
  const final = ex.replies.at(-1);
  const rt = ex.responseTime === null ? '' : `  (${ms(ex.responseTime)})`;
  if (ex.command === '<init>') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}` };
  if (ex.command === '') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}   (${sanitize(ex.note ?? 'no command')})`, style: 'yellow' };
  const cmd = commandText(ex);
  const answer = final === undefined ? `  -> no reply${ex.note ? ` (${sanitize(ex.note)})` : ''}` : `  -> ${replies.includes(',') ? `${replies}: ` : ''}${replyText(final)}`;
  const bad = final !== undefined && final.code >= 400;
  return { at: ex.request!, text: `  > ${cmd}${answer}${rt}`, style: bad ? 'red' : undefined };
}

/** A transfer's figures and result, at its first data (or, without data, at `at`). */
function transferLine(t: Transfer, thirdParty: string | null, at?: Stamp): Line {
  return { at: t.firstData ?? t.lastData ?? at!, text: `    ${transferText(t, thirdParty)}`, style: t.status === 'complete' ? 'green' : 'yellow' };
}

/** A transfer's figures and result. */
/** `thirdParty`: the host the data went to or came from instead of the client (an obeyed PORT naming it). */
function transferText(t: Transfer, thirdParty: string | null = null): string {
  const dur = t.duration === null ? '' : `, ${t.duration.toFixed(3)} s`;
  const rate = t.throughput === null ? '' : `, ${rateText(t.throughput)}`;
  const missing = t.missingBytes > 0 ? `, ${group(t.missingBytes)} bytes missing` : '';
  const status = t.status === 'complete' ? 'complete' : `${t.status}${t.cause ? `: ${sanitize(t.cause)}` : ''}`;
  return `${t.command} data: ${group(t.bytes)} bytes ${t.direction === 'upload' ? 'to the server' : thirdParty !== null ? `to ${thirdParty}, a third host, not the client` : 'to the client'}${dur}${rate}${missing} (${t.mode}, matched by ${t.rule ?? '-'}) — ${status}`;
}

/** A transfer whose data connection is not in the capture. */
function noDataText(t: Transfer): string {
  return `${t.command} ${sanitize(t.path)}: no data connection seen — ${t.status}${t.cause ? `: ${sanitize(t.cause)}` : ''}`;
}

function commandText(ex: Exchange): string {
  return sanitize(ex.argument === '' ? ex.command : `${ex.command} ${ex.argument}`);
}

function replyText(r: Reply): string {
  return sanitize(r.lines.length > 1 ? `${r.code} (${r.lines.length} lines)` : r.lines[0]!);
}

/**
 * One line of live output for what the analysis just told (null for what live output leaves to another
 * line: a handshake's later steps, a transfer's data, which its end tells). The words are the timeline
 * view's; the time is as --time-format says, from `clock`.
 */
export function liveLine(e: LiveEvent, clock: Clock, sessionStart: (session: number) => Stamp | null, width: number): string | null {
  let at: Stamp;
  let session: number | null;
  let text: string;
  switch (e.type) {
    case 'timeline': {
      const ev = e.event;
      at = ev.at;
      session = ev.session;
      const s = `s${ev.session}`;
      const what = e.connection === null ? '' : connectionName(e.connection.id, ev.role === 'data' ? e.transfer : null);
      switch (ev.kind) {
        case 'syn':
          text = `${s} ${openedText(e.connection!, what, ev.from, `SYN ${ev.at.frame}`)}`;
          break;
        case 'seen':
          text = `${s} ${openedText(e.connection!, what, ev.from, null)}`;
          break;
        case 'fin': {
          // The connection's steps are told as they are at the FTP stage's next look: this FIN may be the first of two.
          const t = e.connection!.teardown;
          const last = t.clientFin !== null && t.serverFin !== null && ev.at.frame === Math.max(t.clientFin.frame, t.serverFin.frame);
          text = `${s} ${what}${last ? ' closed (FIN both ways)' : `: FIN from the ${ev.from}`}`;
          break;
        }
        case 'rst': case 'open-at-end':
          text = `${s} ${what}${closedText(e.connection!, ev.role === 'data' && e.transfer?.mode === 'active' ? 'server' : 'client')}`;
          if (e.connection!.handshake.syn !== null && e.connection!.handshake.synAck === null) text += ' — its SYN was never answered';
          break;
        case 'command':
          text = `${s} > ${commandText(e.exchange!)}`;
          break;
        case 'reply': {
          const ex = e.exchange!;
          const r = ex.replies.at(-1)!;
          const rt = ex.responseTime === null || ex.replies.length > 1 ? '' : `  (${ms(ex.responseTime)})`;
          text = `${s} < ${replyText(r)}${rt}${ex.command === '' ? `   (${sanitize(ex.note ?? 'no command')})` : ''}`;
          break;
        }
        case 'prediction':
          text = `${s}   ${predictionText(e.prediction!)}`;
          break;
        default:
          return null;
      }
      break;
    }
    case 'transfer-end':
      at = e.at;
      session = e.session;
      text = `s${e.session}   ${e.transfer.connection === null ? noDataText(e.transfer) : transferText(e.transfer)}`;
      break;
    case 'finding':
      at = e.at;
      session = e.finding.session;
      text = findingText(e.finding);
      break;
    case 'session-end': {
      const m = e.session;
      at = e.at;
      session = m.id;
      text = `s${m.id} session over: ${loginText(m)}, ${group(m.commands)} commands, ${group(m.transfers.length)} transfers`;
      break;
    }
  }
  const start = session === null ? null : sessionStart(session);
  return cut(`${clock(at, start === null ? null : { start }).padStart(11)} ${`#${at.frame}`.padEnd(6)} ${text}`, width);
}

function ms(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(3)} ms` : `${seconds.toFixed(3)} s`;
}

export function rateText(bytesPerSec: number): string {
  if (bytesPerSec >= 1e9) return `${(bytesPerSec / 1e9).toFixed(2)} GB/s`;
  if (bytesPerSec >= 1e6) return `${(bytesPerSec / 1e6).toFixed(2)} MB/s`;
  if (bytesPerSec >= 1e3) return `${(bytesPerSec / 1e3).toFixed(2)} kB/s`;
  return `${bytesPerSec.toFixed(0)} B/s`;
}

