import type { PacketRecord } from '../flow/packet-log.js';
import type { FtpSession, Prediction } from '../model/ftp-model.js';
import type { ConnectionRole, LineAt, ViewContext } from './context.js';
import { en, type Messages, type Side } from './messages.js';
import { displayWidth, flagNames, sanitize, wrap } from './text.js';
import { pushAll } from '../arrays.js';

function sanitizeOrNull(s: string | null): string | null {
  return s === null ? null : sanitize(s);
}

const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;

/** One numbered step: a header line, the FTP lines it carries, and the explanation. */
interface Step {
  header: string;
  quoted: string[];
  text: string[];
}

/** What the walkthrough tracks per connection to tell the TCP steps apart. */
interface ConnState {
  role: ConnectionRole;
  /** Initial sequence number per direction (from its SYN), or null. */
  isn: [number | null, number | null];
  /** Highest sequence number reached per direction (absolute, 32-bit), or null before any. */
  next: [number | null, number | null];
  /** Sequence number just after each direction's FIN, once sent. */
  finEnd: [number | null, number | null];
  finAcked: [boolean, boolean];
  handshakeDone: boolean;
  /** The data of a transfer summed up in one step (detail 'summary'). */
  group: { stepIndex: number; from: Side; bytes: number; segments: number; acks: number; first: number; last: number } | null;
}

/**
 * The teaching view: every segment of a session's control connection, bare ACKs included, and every
 * handshake and teardown segment of its data connections, numbered and explained in plain words, as the
 * capture really shows them; a transfer's data segments summed up in one step unless --detail packets.
 * It ends with what the session shows.
 */
export function renderWalkthrough(ctx: ViewContext, messages: Messages = en): string {
  const out: string[] = [];
  for (const s of ctx.sessions) {
    if (out.length > 0) out.push('');
    pushAll(out, sessionWalkthrough(ctx, s, messages));
  }
  if (ctx.packets === null || ctx.packets.size === 0) out.push(messages.words.noPackets);
  if (ctx.packets?.fullAt != null) out.push(messages.words.logFull(ctx.packets.fullAt));
  return out.join('\n') + '\n';
}

function sessionWalkthrough(ctx: ViewContext, s: FtpSession, M: Messages): string[] {
  const width = Math.max(40, ctx.options.width);
  const steps: Step[] = [];
  const states = new Map<number, ConnState>();
  const base = ctx.sessionPackets(s)[0] ?? null;

  for (const p of ctx.sessionPackets(s)) {
    const role = ctx.role(p.connection)!;
    let st = states.get(p.connection);
    if (st === undefined) {
      st = { role, isn: [null, null], next: [null, null], finEnd: [null, null], finAcked: [false, false], handshakeDone: false, group: null };
      states.set(p.connection, st);
    }
    const from: Side = (p.dir === 0) === role.openerIsClient ? 'client' : 'server';
    const other = (p.dir === 0 ? 1 : 0) as 0 | 1;
    const conn = M.connection(role.role, role.transfer?.command);
    const isData = role.role === 'data';
    const plain = (p.flags & (SYN | FIN | RST)) === 0;

    // A transfer's data and its ACKs, summed up in one step.
    const tearingDown = st.finEnd[0] !== null || st.finEnd[1] !== null;
    if (isData && plain && st.handshakeDone && !tearingDown && ctx.options.detail === 'summary') {
      if (st.group === null) {
        st.group = { stepIndex: steps.length, from, bytes: 0, segments: 0, acks: 0, first: p.frame, last: p.frame };
        steps.push({ header: '', quoted: [], text: [] });
      }
      const g = st.group;
      if (p.payload > 0) {
        g.bytes += p.payload;
        g.segments++;
        g.from = from;
      } else g.acks++;
      g.last = p.frame;
      advance(st, p);
      continue;
    }
    if (st.group !== null) flushGroup(ctx, st, steps, M, s, base);

    const text: string[] = [];
    const quoted: string[] = [];
    if (p.flags & RST) {
      text.push(M.reset(conn, from));
    } else if ((p.flags & SYN) && !(p.flags & ACK)) {
      st.isn[p.dir] = p.seq;
      text.push(handshake1(ctx, role, M));
    } else if (p.flags & SYN) {
      st.isn[p.dir] = p.seq;
      text.push(M.handshake2(conn, from));
    } else {
      if (!st.handshakeDone && st.isn[other] !== null && p.payload === 0 && !(p.flags & FIN) && p.ack === ((st.isn[other]! + 1) >>> 0)) {
        st.handshakeDone = true;
        text.push(M.handshake3(conn, from));
      } else {
        st.handshakeDone = true;
        if (p.payload > 0) explainPayload(ctx, s, p, st, from, quoted, text, M, isData);
        explainTeardown(st, p, from, conn, text, M);
        if (text.length === 0 && p.payload === 0) text.push(M.bareAck(from, ackedBytes(st, p, other)));
      }
    }
    advance(st, p);
    steps.push({ header: header(ctx, p, role, from, base, M), quoted, text });
  }
  for (const st of states.values()) if (st.group !== null) flushGroup(ctx, st, steps, M, s, base);

  const lines: string[] = wrap(M.title(s.id, s.client.address, s.server.address), width, '', '  ').map((l) => ctx.style('bold', l));
  steps.forEach((step, i) => {
    lines.push('');
    const head = `${String(i + 1).padStart(3)}. ${step.header}`;
    lines.push(...(displayWidth(head) <= width ? [head] : wrap(head, width, '', '       ')));
    for (const q of step.quoted) lines.push(...wrap(`> ${q}`, width, '     ', '       ').map((l) => ctx.style('cyan', l)));
    for (const t of step.text) lines.push(...wrap(t, width, '     ', '     '));
  });
  lines.push('', ctx.style('bold', M.conclusionsTitle()));
  for (const c of conclusions(ctx, s, M)) if (c !== '') lines.push(...wrap(`- ${c}`, width, '', '  '));
  return lines;
}

function handshake1(ctx: ViewContext, role: ConnectionRole, M: Messages): string {
  const c = role.summary;
  if (role.role === 'control') return M.handshake1Control(c.client.port, c.server.port);
  const t = role.transfer!;
  const p: Prediction | null = t.prediction === null ? null : ctx.by.prediction(t.prediction)!;
  const by = p === null ? null : { source: p.source, frame: p.setup.frame, reply: p.mode === 'passive' };
  if (role.openerIsClient) return M.handshake1DataPassive(c.client.port, c.server.port, by);
  return M.handshake1DataActive(c.client.port, c.server.port, by, c.client.port === 20);
}

function explainPayload(ctx: ViewContext, s: FtpSession, p: PacketRecord, st: ConnState, from: Side, quoted: string[], text: string[], M: Messages, isData: boolean): void {
  const next = st.next[p.dir];
  if (next !== null) {
    const end = (p.seq + p.payload) >>> 0;
    const ahead = (p.seq - next) | 0;
    if (((end - next) | 0) <= 0) text.push(M.retransmission(p.payload));
    else if (ahead > 0) text.push(M.missingBefore(ahead));
  }
  if (isData) {
    text.push(M.dataSegment(from, p.payload));
    return;
  }
  const lines = ctx.linesAt(p.frame).filter((l: LineAt) => l.session === s && (l.reply === null) === (from === 'client'));
  if (lines.length === 0) {
    const open = from === 'server' ? ctx.replySpanning(s, p.frame) : null;
    text.push(open !== null ? M.moreReplyLines(open.code, p.payload) : M.continuation(from, p.payload));
    return;
  }
  for (const l of lines) {
    quoted.push(l.text);
    const ex = l.exchange;
    if (l.reply === null) {
      const pr = ex.prediction === null ? null : ctx.by.prediction(ex.prediction)!;
      text.push(M.command(ex.command, sanitize(ex.argument), {
        path: ex.path === null ? null : sanitize(ex.path),
        listen: pr !== null && pr.mode === 'active' ? { address: pr.to.address, port: pr.to.port, arithmetic: pr.arithmetic } : undefined,
        thirdParty: pr?.thirdParty,
        passwordHidden: ex.command === 'PASS' && ex.argument === '<hidden>',
      }));
    } else {
      const r = l.reply;
      const pr = ex.prediction === null ? null : ctx.by.prediction(ex.prediction)!;
      const passive = pr !== null && pr.mode === 'passive' && pr.setup.frame === r.start.frame;
      text.push(M.reply(r.code, ex.command, {
        text: sanitize(r.message),
        preliminary: r.code < 200,
        directory: r.code === 257 && (ex.command === 'PWD' || ex.command === 'XPWD') ? sanitizeOrNull(s.exchanges[ex.index + 1]?.cwd ?? s.cwd) : null,
        connectTo: passive ? { address: pr.to.address, port: pr.to.port, arithmetic: pr.arithmetic, differs: pr.addressDiffers, controlAddress: pr.controlPeer.address } : undefined,
      }));
    }
  }
}

/** Counts the teardown steps of a connection from its FINs and the ACKs that cover them. */
function explainTeardown(st: ConnState, p: PacketRecord, from: Side, conn: string, text: string[], M: Messages): void {
  const other = (p.dir === 0 ? 1 : 0) as 0 | 1;
  const acksOtherFin = st.finEnd[other] !== null && !st.finAcked[other] && (p.flags & ACK) !== 0 && ((p.ack - st.finEnd[other]!) | 0) >= 0;
  if (p.flags & FIN) {
    const firstFin = st.finEnd[0] === null && st.finEnd[1] === null;
    st.finEnd[p.dir] = (p.seq + p.payload + 1) >>> 0;
    if (firstFin) text.push(M.teardown1(conn, from));
    else if (acksOtherFin) text.push(M.teardown2and3(conn, from));
    else text.push(M.teardown3(conn, from));
    if (acksOtherFin) st.finAcked[other] = true;
    return;
  }
  if (acksOtherFin) {
    st.finAcked[other] = true;
    const bothSent = st.finEnd[p.dir] !== null;
    text.push(bothSent ? M.teardown4(conn, from) : M.teardown2(conn, from));
  }
}

function ackedBytes(st: ConnState, p: PacketRecord, other: 0 | 1): number {
  const isn = st.isn[other];
  if (isn === null) return 0;
  let n = (p.ack - isn - 1) >>> 0;
  if (st.finEnd[other] !== null && ((p.ack - st.finEnd[other]!) | 0) >= 0) n -= 1; // the FIN counts one
  return n;
}

function advance(st: ConnState, p: PacketRecord): void {
  const end = (p.seq + p.payload + ((p.flags & (SYN | FIN)) !== 0 ? 1 : 0)) >>> 0;
  const cur = st.next[p.dir];
  if (cur === null || ((end - cur) | 0) > 0) st.next[p.dir] = end;
}

function flushGroup(ctx: ViewContext, st: ConnState, steps: Step[], M: Messages, s: FtpSession, base: PacketRecord | null): void {
  const g = st.group!;
  st.group = null;
  const t = st.role.transfer!;
  const what = { listing: t.direction === 'listing', command: t.command, path: sanitize(t.path) };
  const c = st.role.summary;
  const fromPort = (g.from === 'client') === st.role.openerIsClient ? c.client.port : c.server.port;
  const toPort = fromPort === c.client.port ? c.server.port : c.client.port;
  const first = ctx.packets !== null ? findFrame(ctx, g.first) : null;
  const when = first !== null && base !== null ? ctx.relative(first, base) : '';
  steps[g.stepIndex] = {
    header: `${ctx.style('dim', `${M.words.frames} ${g.first}-${g.last} ${when}`)}  ${M.words[g.from]} ${fromPort} ┄┄▶ ${toPort} ${M.words[g.from === 'client' ? 'server' : 'client']}  ${M.words.data}`,
    quoted: [],
    text: [M.dataSummary(g.from, what, g.bytes, g.segments, g.acks, g.first, g.last)],
  };
  void s;
}

function findFrame(ctx: ViewContext, frame: number): PacketRecord | null {
  for (const p of ctx.packets!.all()) if (p.frame === frame) return p;
  return null;
}

/** "frame 29  +0.012345  client 33198 ──▶ 21 server  PSH,ACK  29 bytes" */
function header(ctx: ViewContext, p: PacketRecord, role: ConnectionRole, from: Side, base: PacketRecord | null, M: Messages): string {
  const c = role.summary;
  const tcpClientSends = p.dir === 0;
  const srcPort = tcpClientSends ? c.client.port : c.server.port;
  const dstPort = tcpClientSends ? c.server.port : c.client.port;
  const arrow = role.role === 'data' ? '┄┄▶' : '──▶';
  const to: Side = from === 'client' ? 'server' : 'client';
  const when = base !== null ? ctx.relative(p, base) : '';
  const len = p.payload > 0 ? `  ${M.words.bytes(p.payload)}` : '';
  return `${ctx.style('dim', `${M.words.frame} ${p.frame} ${when}`)}  ${M.words[from]} ${srcPort} ${arrow} ${dstPort} ${M.words[to]}  ${flagNames(p.flags)}${len}`;
}

function conclusions(ctx: ViewContext, s: FtpSession, M: Messages): string[] {
  const transfers = s.transfers.map((id) => ctx.by.transfer(id)!);
  const withConn = transfers.filter((t) => t.connection !== null);
  const out = [M.connectionsCount(1, withConn.length), M.controlPorts(s.client.port, s.server.port)];
  const clientPorts: number[] = [];
  for (const t of withConn) {
    const role = ctx.role(t.connection!);
    if (role === undefined) continue;
    const c = role.summary;
    const p = t.prediction === null ? null : ctx.by.prediction(t.prediction)!;
    const opener: Side = role.openerIsClient ? 'client' : 'server';
    const how = p === null ? '' : p.arithmetic ? `${p.source}: ${p.arithmetic}` : `${p.source}`;
    out.push(M.dataPortLine(t.command, t.mode, opener, c.client.port, c.server.port, how));
    clientPorts.push(role.openerIsClient ? c.client.port : c.server.port);
  }
  if (withConn.length === 0) out.push(M.noData());
  const dataCommands = transfers.map((t) => t.command);
  const others = [...new Set(s.exchanges.filter((e) => e.transfer === null && e.command !== '' && e.command !== '<init>').map((e) => e.command))];
  if (dataCommands.length > 0) out.push(M.usedData(dataCommands));
  if (others.length > 0) out.push(M.controlOnly(others));
  out.push(M.portsMoved(clientPorts));
  out.push(M.everyConnection());
  return out;
}
