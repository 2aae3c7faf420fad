import type { ConnectionSummary } from '../model/capture.js';
import type { Exchange, Finding, FtpSession, Prediction, Stamp, Transfer } from '../model/ftp-model.js';
import { hostPort, type ViewContext } from './context.js';
import { group, sanitize, wrap } from './text.js';
import { pushAll } from '../arrays.js';

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
  const out: string[] = [];
  for (const s of ctx.sessions) {
    if (out.length > 0) out.push('');
    pushAll(out, sessionTimeline(ctx, s));
  }
  if (ctx.sessions.length === 0) out.push('No FTP session in this capture.');
  return out.join('\n') + '\n';
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
        if (e.role === 'control' || t === null) lines.push(...connectionLines(c, 'control connection', 'client'));
        else {
          lines.push(...connectionLines(c, `data connection ${c.id} for ${t.path === '.' || t.path === '' ? t.command : `${t.command} ${sanitize(t.path)}`}`, t.mode === 'active' ? 'server' : 'client'));
          // No data came over it (a SYN unanswered, an empty listing): what the transfer came to, at its last packet.
          if (t.firstData === null && t.lastData === null && once(`t${t.id}`)) lines.push(transferLine(t, c.last));
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
        if (once(`t${t.id}`)) lines.push(transferLine(t));
        break;
      }
      case 'no-data': {
        const t = ctx.by.transfer(e.transfer!)!;
        lines.push({ at: e.at, text: `    ${t.command} ${sanitize(t.path)}: no data connection seen — ${t.status}${t.cause ? `: ${sanitize(t.cause)}` : ''}`, style: 'yellow' });
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
  const user = s.user === null ? 'no user' : `user ${s.user}${s.anonymous ? ' (anonymous)' : ''}`;
  const login = { success: 'logged in', failure: 'login failed', unknown: 'login unknown', none: 'no login seen' }[s.login];
  return `${user}, ${login}${s.tls ? ', TLS' : ''}`;
}

function connectionLines(c: ConnectionSummary, what: string, opener: 'client' | 'server'): Line[] {
  const lines: Line[] = [];
  const ends = `${hostPort(c.client.address, c.client.port)} -> ${hostPort(c.server.address, c.server.port)}`;
  const hs = c.handshake;
  if (hs.syn) {
    const steps = [hs.syn && `SYN ${hs.syn.frame}`, hs.synAck && `SYN-ACK ${hs.synAck.frame}`, hs.ack && `ACK ${hs.ack.frame}`].filter(Boolean).join(', ');
    lines.push({ at: hs.syn, text: `  ${what} opened by the ${opener}: ${ends} (${steps})${hs.synAck ? '' : ' — never answered'}`, style: hs.synAck ? undefined : 'red' });
  } else {
    lines.push({ at: c.first, text: `  ${what} already open when the capture began: ${ends}`, style: 'dim' });
  }
  const t = c.teardown;
  const end = t.rst ?? [t.clientFin, t.serverFin].filter((x) => x !== null).sort((x, y) => x!.frame - y!.frame).at(-1) ?? null;
  if (t.rst) lines.push({ at: t.rst, text: `  ${what} reset by the ${t.rst.by === 'client' ? (opener === 'client' ? 'client' : 'server') : opener === 'client' ? 'server' : 'client'} (RST)`, style: 'yellow' });
  else if (end) lines.push({ at: end, text: `  ${what} closed (FIN both ways)`, style: 'dim' });
  else lines.push({ at: c.last, text: `  ${what}: still open at the end of the capture`, style: 'dim' });
  return lines;
}

function exchangeLine(ex: Exchange): Line {
  const replies = ex.replies.map((r) => `${r.code}`).join(', ');
  const final = ex.replies.at(-1);
  const rt = ex.responseTime === null ? '' : `  (${ms(ex.responseTime)})`;
  if (ex.command === '<init>') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}` };
  if (ex.command === '') return { at: final!.start, text: `  < ${sanitize(final!.lines.at(-1)!)}   (${sanitize(ex.note ?? 'no command')})`, style: 'yellow' };
  const cmd = sanitize(ex.argument === '' ? ex.command : `${ex.command} ${ex.argument}`);
  const answer = final === undefined ? `  -> no reply${ex.note ? ` (${sanitize(ex.note)})` : ''}` : `  -> ${replies.includes(',') ? `${replies}: ` : ''}${sanitize(final.lines.length > 1 ? `${final.code} (${final.lines.length} lines)` : final.lines[0]!)}`;
  const bad = final !== undefined && final.code >= 400;
  return { at: ex.request!, text: `  > ${cmd}${answer}${rt}`, style: bad ? 'red' : undefined };
}

/** A transfer's figures and result, at its first data (or, without data, at `at`). */
function transferLine(t: Transfer, at?: Stamp): Line {
  const dur = t.duration === null ? '' : `, ${t.duration.toFixed(3)} s`;
  const rate = t.throughput === null ? '' : `, ${rateText(t.throughput)}`;
  const missing = t.missingBytes > 0 ? `, ${group(t.missingBytes)} bytes missing` : '';
  const status = t.status === 'complete' ? 'complete' : `${t.status}${t.cause ? `: ${sanitize(t.cause)}` : ''}`;
  return {
    at: t.firstData ?? t.lastData ?? at!,
    text: `    ${t.command} data: ${group(t.bytes)} bytes ${t.direction === 'upload' ? 'to the server' : 'to the client'}${dur}${rate}${missing} (${t.mode}, matched by ${t.rule ?? '-'}) — ${status}`,
    style: t.status === 'complete' ? 'green' : 'yellow',
  };
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

