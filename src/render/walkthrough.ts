import type { PacketRecord } from '../model/capture.js';
import {
  SEG_ACK_FROM_ISN, SEG_ACKS_FIN, SEG_FAST_RETRANSMISSION, SEG_HANDSHAKE_ACK, SEG_OUT_OF_ORDER, SEG_PREVIOUS_NOT_CAPTURED,
  SEG_RETRANSMITTED, SEG_SPURIOUS_RETRANSMISSION,
} from '../model/segment.js';
import type { Finding, FtpSession, Prediction } from '../model/ftp-model.js';
import { type ConnectionRole, type LineAt, type ViewContext, wentThrough } from './context.js';
import { CLIENT_OWN, en, type DataTries, type FinalAgainstTeardown, type Messages, type Side } from './messages.js';
import { displayWidth, flagNames, sanitize, wrap } from './text.js';

function sanitizeOrNull(s: string | null): string | null {
  return s === null ? null : sanitize(s);
}

const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;
const URG = 32;

/** One numbered step: a header line, the FTP lines it carries, and the explanation. */
export interface Step {
  /** The frames it tells of: one packet's, or the first and last of those it sums up. */
  first: number;
  last: number;
  header: string;
  quoted: string[];
  text: string[];
  /** A transfer's data step still being summed up (its group is open): what follows it waits to be written. */
  open?: boolean;
  /** Its segment carries an ACK the textbook draws as a step of its own. */
  carriesAck?: boolean;
  /** Its number, once written. */
  number?: number;
}

/** What the walkthrough noticed against the textbook, for the closing comparison. */
interface Against {
  /** Steps whose segment carried an ACK the textbook draws apart. */
  acksRode: Step[];
  /** Commands the client program sent on its own (told once each). */
  extras: Set<string>;
  /** Data commands as sent. */
  dataVerbs: Set<string>;
  /** Transfers whose 226 came after, or before, their data connection's teardown. */
  finalAfter: string[];
  finalBefore: string[];
  /** Each direction of the control connection has had its TLS handshake segment told. */
  tlsTold: [boolean, boolean];
  /** Each connection's SYNs so far, for the reply that says its transfer failed. */
  tries: Map<number, DataTries>;
}

/** Steps written at a time: a session of any length is written in pieces. */
const STEPS_AT_ONCE = 512;

/**
 * What the walkthrough remembers per connection of what it has told (the TCP facts themselves, handshake,
 * retransmissions, FIN acknowledged, come from the packet log's analysis).
 */
interface ConnState {
  role: ConnectionRole;
  /** Each direction has sent its FIN; the FIN's acknowledgement has been told. */
  finSent: [boolean, boolean];
  /** Bytes of the other side each direction's ACKs had covered, as told so far. */
  ackTold: [number, number];
  /** The last FTP line each direction sent: a reply's code or a command's verb. */
  lastSaid: [string | null, string | null];
  finAcked: [boolean, boolean];
  handshakeDone: boolean;
  /** The first SYN of the connection (frame, seconds), and the SYNs sent again after it, summed up in one step. */
  firstSyn: { dir: 0 | 1; at: number } | null;
  synRetry: { step: Step; from: Side; frames: number[]; waits: number[]; last: number } | null;
  /** Set by a RST after the handshake: what crosses the connection after it is summed up in one step a run. */
  reset: { dir: 0 | 1; by: Side; step: Step | null; segments: number; bytes: number; others: number; fins: number; resets: number } | null;
  /** The data of a transfer summed up in one step (detail 'summary'). */
  group: {
    /** Its place among the steps, filled in when the group is over. */
    step: Step;
    from: Side;
    /** Bytes of the stream carried for the first time (a copy sent again counts once). */
    bytes: number;
    segments: number;
    acks: number;
    first: number;
    last: number;
    /** Segments tshark would call retransmissions (fast and spurious included), their bytes, and those out of order. */
    retransmitted: number;
    retransmittedBytes: number;
    outOfOrder: number;
  } | null;
}

/**
 * The teaching view: every segment of a session's control connection, bare ACKs included, and every
 * handshake and teardown segment of its data connections, numbered and explained in plain words, as the
 * capture really shows them; a transfer's data segments summed up in one step unless --detail packets.
 * It ends with what the session shows.
 */
export function renderWalkthrough(ctx: ViewContext, messages: Messages = en): string {
  return [...walkthroughText(ctx, messages)].join('');
}

/** The walkthrough a session at a time (the text of a capture of any size is never one string). */
export function* walkthroughText(ctx: ViewContext, messages: Messages = en): Generator<string> {
  let first = true;
  for (const s of ctx.sessions) {
    let start = true;
    for (const lines of sessionWalkthrough(ctx, s, messages)) {
      yield `${first && start ? '' : '\n'}${lines.join('\n')}`;
      start = false;
    }
    yield '\n';
    first = false;
  }
  const tail: string[] = [];
  if (ctx.packets === null || ctx.packets.size === 0) tail.push(messages.words.noPackets);
  if (ctx.packets?.fullAt != null) tail.push(messages.words.logFull(ctx.packets.fullAt));
  if (tail.length > 0) yield `${tail.join('\n')}\n`;
  else if (first) yield '\n';
}

/** A part of a session's walkthrough: numbered steps as they are settled, then the closing sections. */
export type WalkPiece = { steps: Step[] } | { sections: Array<{ title: string; items: string[] }> };

/** A session's walkthrough, in pieces of lines (each piece to be joined by a line end to the one before). */
function* sessionWalkthrough(ctx: ViewContext, s: FtpSession, M: Messages): Generator<string[]> {
  const width = Math.max(40, ctx.options.width);
  yield wrap(M.title(s.id, s.client.address, s.server.address), width, '', '  ').map((l) => ctx.style('bold', l));
  for (const piece of sessionSteps(ctx, s, M)) {
    if ('steps' in piece && piece.steps.length === 0) continue;
    const lines: string[] = [];
    if ('steps' in piece) {
      for (const step of piece.steps) {
        lines.push('');
        const head = `${String(step.number).padStart(3)}. ${step.header}`;
        lines.push(...(displayWidth(head) <= width ? [head] : wrap(head, width, '', '       ')));
        for (const q of step.quoted) lines.push(...wrap(`> ${q}`, width, '     ', '       ').map((l) => ctx.style('cyan', l)));
        for (const t of step.text) lines.push(...wrap(t, width, '     ', '     '));
      }
    } else {
      for (const section of piece.sections) {
        lines.push('', ctx.style('bold', section.title));
        for (const c of section.items) lines.push(...wrap(`- ${c}`, width, '', '  '));
      }
    }
    yield lines;
  }
}

/**
 * The steps of a session, numbered, in batches as they settle (a step summing up a transfer's data waits
 * until its data is over), then the closing sections: findings no step carried, what the session shows,
 * and the comparison with the textbook. The text view and the lesson page both read these.
 */
export function* sessionSteps(ctx: ViewContext, s: FtpSession, M: Messages): Generator<WalkPiece> {
  let steps: Step[] = [];
  let told = 0;
  // The steps before the first still open, numbered on from those told before.
  const settled = (): WalkPiece => {
    let n = 0;
    while (n < steps.length && steps[n]!.open !== true) n++;
    const done = steps.slice(0, n);
    for (const step of done) step.number = ++told;
    steps = steps.slice(n);
    return { steps: done };
  };
  const states = new Map<number, ConnState>();
  const against: Against = { acksRode: [], extras: new Set(), dataVerbs: new Set(), finalAfter: [], finalBefore: [], tlsTold: [false, false], tries: new Map() };
  // The session's findings in the order they happened, each told at the first step at or after its frame
  // (a transfer's at its final reply, where the lesson is).
  const at = tellingFrames(s);
  const tellAt = (f: Finding): number => (f.kind.startsWith('transfer-') ? at.get(firstFrame(f)) : undefined) ?? firstFrame(f);
  const findings = [...ctx.findingsOf(s.id)].sort((a, b) => tellAt(a) - tellAt(b));
  let pendingFindings = 0;
  const findingLine = (f: Finding): string => M.finding(f.severity, f.kind, sanitize(M.words.lang === 'zh' ? f.messageZh : f.message), f.count);
  const attachFindings = (step: Step, frame: number): void => {
    while (pendingFindings < findings.length && tellAt(findings[pendingFindings]!) <= frame) step.text.push(findingLine(findings[pendingFindings++]!));
  };
  const clock = ctx.timer();
  const time = (t: PacketRecord): string => clock(t, s);
  // The connection whose after-reset step is open: a packet of another connection closes it.
  let afterReset: ConnState | null = null;

  for (const p of ctx.sessionPackets(s)) {
    const role = ctx.role(p.connection)!;
    let st = states.get(p.connection);
    if (st === undefined) {
      st = { role, finSent: [false, false], ackTold: [0, 0], lastSaid: [null, null], finAcked: [false, false], handshakeDone: false, firstSyn: null, synRetry: null, reset: null, group: null };
      states.set(p.connection, st);
    }
    if (afterReset !== null && afterReset !== st) {
      closeAfterReset(ctx, afterReset, M, time);
      afterReset = null;
    }
    const fromClientSide = (p.dir === 0) === role.openerIsClient;
    const from: Side = fromClientSide ? (role.thirdParty !== null ? 'third' : 'client') : 'server';
    const conn = M.connection(role.role, role.transfer?.command ?? role.prediction?.source);
    const isData = role.role === 'data';
    const plain = (p.flags & (SYN | FIN | RST)) === 0;

    // What crosses a connection after its reset: bytes already on their way, and the RSTs answering them.
    if (st.reset !== null) {
      const r = st.reset;
      if (r.step === null) {
        r.step = { first: p.frame, last: p.frame, header: '', quoted: [], text: [], open: true };
        r.segments = r.bytes = r.others = r.fins = r.resets = 0;
        steps.push(r.step);
        afterReset = st;
      }
      if (p.flags & RST) r.resets++;
      else if (p.payload > 0) {
        r.segments++;
        r.bytes += p.payload;
      } else {
        r.others++;
        if (p.flags & FIN) r.fins++;
      }
      r.step.last = p.frame;
      attachFindings(r.step, p.frame);
      continue;
    }

    // A transfer's data and its ACKs, summed up in one step.
    const tearingDown = st.finSent[0] || st.finSent[1];
    if (isData && plain && st.handshakeDone && !tearingDown && ctx.options.detail === 'summary') {
      if (st.group === null) {
        const step: Step = { first: p.frame, last: p.frame, header: '', quoted: [], text: [], open: true };
        st.group = { step, from, bytes: 0, segments: 0, acks: 0, first: p.frame, last: p.frame, retransmitted: 0, retransmittedBytes: 0, outOfOrder: 0 };
        steps.push(step);
      }
      const g = st.group;
      if (p.payload > 0) {
        g.bytes += p.newBytes;
        g.segments++;
        g.from = from;
        if (p.analysis & SEG_RETRANSMITTED) {
          g.retransmitted++;
          g.retransmittedBytes += p.payload;
        } else if (p.analysis & SEG_OUT_OF_ORDER) g.outOfOrder++;
      } else g.acks++;
      g.last = p.frame;
      g.step.last = p.frame;
      continue;
    }
    if (st.group !== null) flushGroup(ctx, st, M, s, time);

    // A SYN sent again before any answer: one step for all the tries, with the time between them.
    const at = p.sec + p.nsec / 1e9;
    const synOnly = (p.flags & (SYN | ACK | RST)) === SYN;
    countTries(against.tries, p);
    if (synOnly && st.firstSyn !== null && st.firstSyn.dir === p.dir && !st.handshakeDone) {
      if (st.synRetry === null) {
        const step: Step = { first: p.frame, last: p.frame, header: '', quoted: [], text: [], open: true };
        st.synRetry = { step, from, frames: [], waits: [], last: st.firstSyn.at };
        steps.push(step);
      }
      const r = st.synRetry;
      r.frames.push(p.frame);
      r.step.last = p.frame;
      r.waits.push(at - r.last);
      r.last = at;
      attachFindings(r.step, p.frame);
      continue;
    }
    if (synOnly && st.firstSyn === null) st.firstSyn = { dir: p.dir, at };
    if (st.synRetry !== null) closeSynRetry(ctx, st, M, time, p.flags & RST ? 'refused' : 'answered');

    const text: string[] = [];
    const quoted: string[] = [];
    if (p.flags & RST) {
      const refusal = !st.handshakeDone && st.firstSyn !== null && st.firstSyn.dir !== p.dir;
      text.push(refusal ? M.refused(conn, from, p.dir === 0 ? role.summary.client.port : role.summary.server.port) : M.reset(conn, from));
      if (!refusal) st.reset = { dir: p.dir, by: from, step: null, segments: 0, bytes: 0, others: 0, fins: 0, resets: 0 };
    } else if ((p.flags & SYN) && !(p.flags & ACK)) {
      text.push(handshake1(role, M));
    } else if (p.flags & SYN) {
      text.push(M.handshake2(conn, from));
    } else {
      if (!st.handshakeDone && p.analysis & SEG_HANDSHAKE_ACK) {
        st.handshakeDone = true;
        text.push(M.handshake3(conn, from));
      } else {
        st.handshakeDone = true;
        if (p.payload > 0) explainPayload(ctx, s, p, from, quoted, text, M, isData, against);
        explainTeardown(st, p, from, conn, text, M);
        if (text.length === 0 && p.payload === 0) text.push(M.bareAck(from, ackedBytes(p)));
      }
    }
    const step: Step = { first: p.frame, last: p.frame, header: header(ctx, p, role, from, time, M), quoted, text };
    if (!isData) textbookAck(ctx, s, st, p, from, step, M, against);
    attachFindings(step, p.frame);
    steps.push(step);
    if (steps.length >= STEPS_AT_ONCE && steps[0]!.open !== true) yield settled();
  }
  for (const st of states.values()) {
    if (st.group !== null) flushGroup(ctx, st, M, s, time);
    if (st.synRetry !== null) closeSynRetry(ctx, st, M, time, 'unanswered');
  }
  if (afterReset !== null) closeAfterReset(ctx, afterReset, M, time);
  yield settled();
  const sections: Array<{ title: string; items: string[] }> = [];
  if (pendingFindings < findings.length) sections.push({ title: M.laterFindings(), items: findings.slice(pendingFindings).map(findingLine) });
  sections.push({ title: M.conclusionsTitle(), items: conclusions(ctx, s, M).filter((c) => c !== '') });
  const compared = comparison(ctx, s, M, against);
  if (compared.length > 0) sections.push({ title: M.textbook.title(), items: compared });
  yield { sections };
}

/** The frame a finding is told at: the first it names (the catalogue names the frame where it happened first). */
function firstFrame(f: Finding): number {
  return f.frames[0] ?? Number.MAX_SAFE_INTEGER;
}

/** For each data command's frame, the frame of its final reply (where a transfer's finding is told), when there is one. */
function tellingFrames(s: FtpSession): Map<number, number> {
  const at = new Map<number, number>();
  for (const ex of s.exchanges) {
    const final = ex.replies.at(-1);
    if (ex.transfer !== null && ex.request !== null && final !== undefined && final.code >= 200) at.set(ex.request.frame, final.start.frame);
  }
  return at;
}

/** Counts a connection's SYNs and how they were answered (a SYN,ACK opens it, a RST to a SYN refuses it). */
function countTries(tries: Map<number, DataTries>, p: PacketRecord): void {
  const n = tries.get(p.connection);
  if ((p.flags & (SYN | ACK | RST)) === SYN) {
    if (n === undefined) tries.set(p.connection, { syns: 1, first: p.frame, last: p.frame, outcome: 'unanswered' });
    else if (n.outcome === 'unanswered') {
      n.syns++;
      n.last = p.frame;
    }
  } else if (n !== undefined && n.outcome === 'unanswered') {
    if ((p.flags & (SYN | ACK)) === (SYN | ACK)) n.outcome = 'open';
    else if (p.flags & RST) {
      n.outcome = 'refused';
      n.last = p.frame;
    }
  }
}

/** Writes the step of what crossed a connection after its reset, now that the run is over. */
function closeAfterReset(ctx: ViewContext, st: ConnState, M: Messages, time: (t: PacketRecord) => string): void {
  const r = st.reset!;
  if (r.step === null) return;
  const step = r.step;
  r.step = null;
  const role = st.role;
  const c = role.summary;
  const conn = M.connection(role.role, role.transfer?.command ?? role.prediction?.source);
  const other: Side = r.by === 'server' ? (role.thirdParty !== null ? 'third' : 'client') : 'server';
  const first = ctx.packetAt(step.first);
  const frames = step.first === step.last ? M.words.frameAt(step.first) : M.words.framesAt(step.first, step.last);
  // The resetter's end first, as the RST was drawn: its port, then the other's.
  const [mine, theirs] = (r.dir === 0) === role.openerIsClient ? [c.client.port, c.server.port] : [c.server.port, c.client.port];
  const arrow = role.role === 'data' ? '◀┄┄▶' : '◀──▶';
  const counts = [r.segments > 0 ? `data ×${r.segments}` : '', r.fins > 0 ? `FIN ×${r.fins}` : '', r.others > r.fins ? `ACK ×${r.others - r.fins}` : '', r.resets > 0 ? `RST ×${r.resets}` : ''].filter(Boolean).join(', ');
  step.header = `${ctx.style('dim', `${frames} ${first !== null ? time(first) : ''}`)}  ${named(role, r.by, M)} ${mine} ${arrow} ${theirs} ${named(role, other, M)}  ${counts}`;
  step.text.unshift(M.afterReset(conn, r.by, other, r.segments, r.bytes, r.others, r.resets));
  step.open = false;
}

/** Writes the step of a SYN's tries, now that it is known how they ended. */
function closeSynRetry(ctx: ViewContext, st: ConnState, M: Messages, time: (t: PacketRecord) => string, outcome: 'unanswered' | 'answered' | 'refused'): void {
  const r = st.synRetry!;
  st.synRetry = null;
  const role = st.role;
  const c = role.summary;
  const conn = M.connection(role.role, role.transfer?.command ?? role.prediction?.source);
  // Only the connection's opener (its TCP client) sends a bare SYN.
  const src = c.client.port;
  const dst = c.server.port;
  const to: Side = r.from !== 'server' ? 'server' : role.thirdParty !== null ? 'third' : 'client';
  const first = ctx.packetAt(r.frames[0]!);
  const when = first !== null ? time(first) : '';
  const arrow = role.role === 'data' ? '┄┄▶' : '──▶';
  const frames = r.frames.length === 1 ? M.words.frameAt(r.frames[0]!) : M.words.framesAt(r.frames[0]!, r.frames.at(-1)!);
  r.step.header = `${ctx.style('dim', `${frames} ${when}`)}  ${named(role, r.from, M)} ${src} ${arrow} ${dst} ${named(role, to, M)}  SYN ×${r.frames.length}`;
  r.step.text.unshift(M.synRetries(r.from, conn, r.frames.length, r.waits, outcome));
  r.step.open = false;
}

function handshake1(role: ConnectionRole, M: Messages): string {
  const c = role.summary;
  if (role.role === 'control') return M.handshake1Control(c.client.port, c.server.port);
  const p: Prediction | null = role.prediction;
  const by = p === null ? null : { source: p.source, frame: p.setup.frame, reply: p.mode === 'passive' };
  if (role.openerIsClient) return M.handshake1DataPassive(c.client.port, c.server.port, by, elsewhere(role) === null ? null : { address: sanitize(c.server.address), server: sanitize(role.session.server.address) });
  return M.handshake1DataActive(c.client.port, c.server.port, by, c.client.port === 20, role.thirdParty);
}

/**
 * A control segment that carries data and also acknowledges bytes the other side sent since the ACKs told
 * before: the textbook draws that ACK as a step of its own (its steps 7, 9, 11, 13, 26), so it is named here.
 */
function textbookAck(ctx: ViewContext, s: FtpSession, st: ConnState, p: PacketRecord, from: Side, step: Step, M: Messages, against: Against): void {
  const other = p.dir === 0 ? 1 : 0;
  const acked = p.flags & ACK ? ackedBytes(p) : 0;
  if (p.payload > 0 && acked > st.ackTold[p.dir] && !(p.analysis & (SEG_RETRANSMITTED | SEG_OUT_OF_ORDER))) {
    step.text.push(M.textbook.alsoAcks(from, acked - st.ackTold[p.dir], st.lastSaid[other]));
    step.carriesAck = true;
    against.acksRode.push(step);
  }
  if (acked > st.ackTold[p.dir]) st.ackTold[p.dir] = acked;
  // What this segment said, for the ACK that will answer it.
  const lines = p.payload > 0 ? ctx.linesAt(p.frame).filter((l) => l.session === s && (l.reply === null) === (from === 'client')) : [];
  const lastLine = lines.at(-1);
  if (lastLine !== undefined) st.lastSaid[p.dir] = lastLine.reply === null ? sanitize(lastLine.exchange.command) : String(lastLine.reply.code);
  else if (p.payload > 0 && s.tls !== null && p.frame > s.tls.frame) st.lastSaid[p.dir] = 'TLS';
}

function explainPayload(ctx: ViewContext, s: FtpSession, p: PacketRecord, from: Side, quoted: string[], text: string[], M: Messages, isData: boolean, against: Against): void {
  const lines = isData ? [] : ctx.linesAt(p.frame).filter((l: LineAt) => l.session === s && (l.reply === null) === (from === 'client'));
  if (p.analysis & (SEG_RETRANSMITTED | SEG_OUT_OF_ORDER)) {
    const kind = p.analysis & SEG_FAST_RETRANSMISSION ? 'fast' : p.analysis & SEG_SPURIOUS_RETRANSMISSION ? 'spurious' : p.analysis & SEG_OUT_OF_ORDER ? 'out-of-order' : 'plain';
    text.push(M.retransmission(p.payload, kind));
    // Its bytes were told with their first copy: nothing more to say, unless this is the capture's only copy.
    if (lines.length === 0 && kind !== 'out-of-order') return;
  } else if (p.analysis & SEG_PREVIOUS_NOT_CAPTURED) text.push(M.missingBefore(p.unseenBefore));
  if (isData) {
    text.push(M.dataSegment(from, p.payload));
    return;
  }
  if (lines.length === 0 && s.tls !== null && p.frame > s.tls.frame) {
    // Encrypted: the first segment of each side is its part of the TLS handshake.
    const dir = p.dir;
    // The handshake messages this segment completed, when the decoder read them (in clear, or with the keys).
    const named = s.tls.messages?.find((m) => m.frame === p.frame && m.from === (from === 'server' ? 'server' : 'client'));
    if (named !== undefined) {
      against.tlsTold[dir] = true;
      const c = s.tls.handshake?.certificate;
      const certificate = c === undefined ? undefined : { subject: sanitize(c.subject), issuer: sanitize(c.issuer), validFrom: sanitize(c.validFrom), validTo: sanitize(c.validTo) };
      text.push(M.tlsMessages(from, named.names.map(sanitize), s.tls.handshake?.version ?? null, certificate));
      return;
    }
    if (!against.tlsTold[dir]) {
      against.tlsTold[dir] = true;
      text.push(M.tlsHandshake(from, p.payload));
    } else text.push(M.tlsRecords(from, p.payload, s.tls.handshake?.keys === 'decrypting'));
    return;
  }
  if (lines.length === 0 && from === 'client') {
    // Telnet commands ahead of a command's text (RFC 959 4.1.3: IP, then the Synch, then ABOR).
    const ahead = ctx.telnetAhead(p.frame);
    if (ahead !== undefined) {
      text.push(M.telnetAhead(sanitize(ahead.command.command), ahead.first, (p.flags & URG) !== 0));
      return;
    }
  }
  if (lines.length === 0) {
    if (p.analysis & SEG_OUT_OF_ORDER) return;
    const open = from === 'server' ? ctx.replySpanning(s, p.frame) : null;
    text.push(open !== null ? M.moreReplyLines(open.code, p.payload) : M.continuation(from, p.payload));
    return;
  }
  for (const l of lines) {
    quoted.push(l.text);
    const ex = l.exchange;
    if (l.part === 'more') {
      // Further lines of a reply explained at its first segment.
      text.push(M.moreReplyLines(l.reply!.code, p.payload, l.ends));
      continue;
    }
    if (l.reply === null) {
      const pr = ex.prediction === null ? null : ctx.by.prediction(ex.prediction)!;
      text.push(M.command(ex.command, sanitize(ex.argument), {
        path: ex.path === null ? null : sanitize(ex.path),
        listen: pr !== null && pr.mode === 'active' ? { address: pr.to.address, port: pr.to.port, arithmetic: pr.arithmetic } : undefined,
        thirdParty: pr?.thirdParty,
        passwordHidden: ex.command === 'PASS' && ex.argument === '<hidden>',
        telnet: ex.telnet?.includes('IP') === true,
        tls: s.tls !== null && ex.request !== null && ex.request.frame > s.tls.frame,
      }));
      // Where this differs from the textbook's session, or what the user typed.
      const verb = ex.command;
      if (pr !== null && pr.mode === 'active' && pr.setup.frame === p.frame && !pr.thirdParty) text.push(M.textbook.dataPort(pr.to.port, s.client.port));
      if (ex.transfer !== null) {
        against.dataVerbs.add(verb);
        const typed = M.textbook.userCommand(verb);
        if (typed !== null) text.push(typed);
      } else if (CLIENT_OWN.has(verb) && !against.extras.has(verb)) {
        against.extras.add(verb);
        text.push(M.textbook.clientOwn(sanitize(verb)));
      }
    } else {
      const r = l.reply;
      const pr = ex.prediction === null ? null : ctx.by.prediction(ex.prediction)!;
      const t = ex.transfer === null ? undefined : ctx.by.transfer(ex.transfer);
      const passive = pr !== null && pr.mode === 'passive' && pr.setup.frame === r.start.frame;
      text.push(M.reply(r.code, ex.command, {
        text: sanitize(r.message),
        preliminary: r.code < 200,
        decrypted: r.code === 234 && s.tls?.handshake?.keys === 'decrypting',
        directory: r.code === 257 && (ex.command === 'PWD' || ex.command === 'XPWD') ? sanitizeOrNull(s.exchanges[ex.index + 1]?.cwd ?? s.cwd) : null,
        connectTo: passive ? { address: pr.to.address, port: pr.to.port, arithmetic: pr.arithmetic, differs: pr.addressDiffers, controlAddress: pr.controlPeer.address } : undefined,
        transfer: t !== undefined && r.code >= 200 && t.final === r.code && ex.replies.at(-1) === r
          ? {
              complete: t.status === 'complete', cause: sanitizeOrNull(t.cause), causeZh: sanitizeOrNull(t.causeZh), mode: t.mode,
              tries: t.connection === null ? { syns: 0, first: 0, last: 0, outcome: 'none' } : (against.tries.get(t.connection) ?? null),
            }
          : undefined,
      }));
      if (t !== undefined && t.connection !== null && r.code >= 200 && r.code < 300 && ex.replies.at(-1) === r) {
        const f = againstTeardown(ctx, t.connection, r.start.frame);
        if (f !== null) {
          text.push(M.textbook.finalReply(f));
          if (f.order === 'after') against.finalAfter.push(sanitize(ex.command));
          if (f.order === 'before') against.finalBefore.push(sanitize(ex.command));
        }
      }
    }
  }
}

/** Where a reply in `frame` stands against its data connection's FINs; null when the connection had none. */
function againstTeardown(ctx: ViewContext, connection: number, frame: number): FinalAgainstTeardown | null {
  const role = ctx.role(connection);
  if (role === undefined) return null;
  const { clientFin, serverFin } = role.summary.teardown;
  const fins = [
    { at: clientFin, side: (role.openerIsClient ? 'client' : 'server') as Side },
    { at: serverFin, side: (role.openerIsClient ? 'server' : 'client') as Side },
  ].filter((f): f is { at: NonNullable<typeof clientFin>; side: Side } => f.at !== null).sort((a, b) => a.at.frame - b.at.frame);
  if (fins.length === 0) return null;
  const first = fins[0]!;
  const second = fins[1] ?? null;
  const order = frame < first.at.frame ? 'before' : second !== null && frame > second.at.frame ? 'after' : 'during';
  return { order, closedFirst: first.side, firstFin: first.at.frame, secondFin: second?.at.frame ?? null };
}

/** The closing comparison with the textbook's session. */
function comparison(ctx: ViewContext, s: FtpSession, M: Messages, against: Against): string[] {
  const out: string[] = [];
  const numbers = against.acksRode.map((x) => x.number).filter((n): n is number => n !== undefined);
  if (numbers.length > 0) out.push(M.textbook.acksRode(numbers));
  const clientPorts: number[] = [];
  const serverPorts: number[] = [];
  const passivePorts: number[] = [];
  for (const id of s.transfers) {
    const t = ctx.by.transfer(id)!;
    const role = t.connection === null ? undefined : ctx.role(t.connection);
    if (role === undefined) continue;
    const c = role.summary;
    // The FTP client's end and the FTP server's end of the data connection.
    const clientEnd = role.openerIsClient ? c.client.port : c.server.port;
    const serverEnd = role.openerIsClient ? c.server.port : c.client.port;
    // Only a data connection that went through says which ports the two sides used.
    if (!wentThrough(c)) continue;
    if (t.mode === 'active' && role.thirdParty === null) {
      clientPorts.push(clientEnd);
      serverPorts.push(serverEnd);
    } else if (t.mode === 'passive') passivePorts.push(serverEnd);
  }
  if (clientPorts.length > 0) out.push(M.textbook.clientPorts(clientPorts, s.client.port), M.textbook.serverPorts(serverPorts));
  if (passivePorts.length > 0) out.push(M.textbook.passivePorts(passivePorts));
  if (against.finalAfter.length > 0 || against.finalBefore.length > 0) out.push(M.textbook.finalOrder(against.finalAfter, against.finalBefore));
  if (against.extras.size > 0) out.push(M.textbook.extras([...against.extras]));
  if (against.dataVerbs.size > 0) out.push(M.textbook.asSent([...against.dataVerbs].map(sanitize)));
  return out;
}

/** Counts the teardown steps of a connection from its FINs and the ACKs that cover them. */
function explainTeardown(st: ConnState, p: PacketRecord, from: Side, conn: string, text: string[], M: Messages): void {
  const other = (p.dir === 0 ? 1 : 0) as 0 | 1;
  const acksOtherFin = st.finSent[other] && !st.finAcked[other] && (p.analysis & SEG_ACKS_FIN) !== 0;
  if (p.flags & FIN) {
    const firstFin = !st.finSent[0] && !st.finSent[1];
    st.finSent[p.dir] = true;
    if (firstFin) text.push(M.teardown1(conn, from));
    else if (acksOtherFin) text.push(M.teardown2and3(conn, from));
    else text.push(M.teardown3(conn, from));
    if (acksOtherFin) st.finAcked[other] = true;
    return;
  }
  if (acksOtherFin) {
    st.finAcked[other] = true;
    text.push(st.finSent[p.dir] ? M.teardown4(conn, from) : M.teardown2(conn, from));
  }
}

/**
 * The bytes the other side sent that this segment acknowledges: its relative ACK less the SYN and a FIN,
 * when the other side's SYN was seen (else how much came before is unknown: 0).
 */
function ackedBytes(p: PacketRecord): number {
  if (!(p.analysis & SEG_ACK_FROM_ISN)) return 0;
  return p.ack - 1 - (p.analysis & SEG_ACKS_FIN ? 1 : 0);
}

function flushGroup(ctx: ViewContext, st: ConnState, M: Messages, s: FtpSession, time: (t: PacketRecord) => string): void {
  const g = st.group!;
  st.group = null;
  const t = st.role.transfer;
  // A connection that served no command carried bytes all the same: named by its announcement.
  const what = t === null ? { listing: false, command: st.role.prediction?.source ?? '', path: '?' } : { listing: t.direction === 'listing', command: t.command, path: sanitize(t.path) };
  const c = st.role.summary;
  const fromPort = (g.from !== 'server') === st.role.openerIsClient ? c.client.port : c.server.port;
  const to: Side = g.from !== 'server' ? 'server' : st.role.thirdParty !== null ? 'third' : 'client';
  const toPort = fromPort === c.client.port ? c.server.port : c.client.port;
  const first = ctx.packetAt(g.first);
  const when = first !== null ? time(first) : '';
  g.step.header = `${ctx.style('dim', `${M.words.framesAt(g.first, g.last)} ${when}`)}  ${named(st.role, g.from, M)} ${fromPort} ┄┄▶ ${toPort} ${named(st.role, to, M)}  ${M.words.data}`;
  g.step.text = [M.dataSummary(g.from, what, g.bytes, g.segments, g.acks, g.first, g.last, { retransmitted: g.retransmitted, retransmittedBytes: g.retransmittedBytes, outOfOrder: g.outOfOrder })];
  if (g.retransmitted + g.outOfOrder > 0) g.step.text.push(M.lossLesson(g.retransmitted, g.outOfOrder));
  g.step.open = false;
  void s;
}

/**
 * How a step's header names an end of a connection: client, server or third host; or its address, when a
 * data connection's end is not the session's host of that side (a NAT'd or wrong passive address).
 */
function named(role: ConnectionRole, side: Side, M: Messages): string {
  const address = elsewhere(role);
  return address !== null && side === (role.openerIsClient ? 'server' : 'client') ? sanitize(address) : M.words[side];
}

/** The address a data connection went to that is not the session's host on that side (a third party aside); null when it is. */
function elsewhere(role: ConnectionRole): string | null {
  if (role.role !== 'data' || role.thirdParty !== null) return null;
  const c = role.summary;
  const s = role.session;
  // The listening end (the connection's TCP server) is the FTP server in passive mode, the FTP client in active mode.
  const host = role.openerIsClient ? s.server.address : s.client.address;
  return c.server.address !== host ? c.server.address : null;
}

/** "frame 29  +0.012345  client 33198 ──▶ 21 server  PSH,ACK  29 bytes" */
function header(ctx: ViewContext, p: PacketRecord, role: ConnectionRole, from: Side, time: (t: PacketRecord) => string, M: Messages): string {
  const c = role.summary;
  const tcpClientSends = p.dir === 0;
  const srcPort = tcpClientSends ? c.client.port : c.server.port;
  const dstPort = tcpClientSends ? c.server.port : c.client.port;
  const arrow = role.role === 'data' ? '┄┄▶' : '──▶';
  const to: Side = from !== 'server' ? 'server' : role.thirdParty !== null ? 'third' : 'client';
  const when = time(p);
  const len = p.payload > 0 ? `  ${M.words.bytes(p.payload)}` : '';
  return `${ctx.style('dim', `${M.words.frameAt(p.frame)} ${when}`)}  ${named(role, from, M)} ${srcPort} ${arrow} ${dstPort} ${named(role, to, M)}  ${flagNames(p.flags)}${len}`;
}

function conclusions(ctx: ViewContext, s: FtpSession, M: Messages): string[] {
  const transfers = s.transfers.map((id) => ctx.by.transfer(id)!);
  // Data connections that went through (their handshake answered), and those that never did: a transfer's,
  // or one that answered an announcement no command used.
  const lines: string[] = [];
  const attempts: string[] = [];
  const clientPorts: number[] = [];
  const through = new Set<number>();
  const tell = (role: ConnectionRole | undefined, command: string, mode: 'active' | 'passive' | 'unknown', p: Prediction | null): void => {
    if (role === undefined) return;
    const c = role.summary;
    const opener: Side = role.openerIsClient ? 'client' : 'server';
    if (!wentThrough(c)) {
      attempts.push(M.dataAttempt(command, mode, opener, c.client.port, c.server.port, c.toServer.packets, c.teardown.rst?.by === 'server'));
      return;
    }
    through.add(c.id);
    const how = p === null ? '' : p.arithmetic ? `${p.source}: ${p.arithmetic}` : `${p.source}`;
    lines.push(M.dataPortLine(command, mode, opener, c.client.port, c.server.port, how));
    clientPorts.push(role.openerIsClient ? c.client.port : c.server.port);
  };
  for (const t of transfers) if (t.connection !== null) tell(ctx.role(t.connection), sanitize(t.command), t.mode, t.prediction === null ? null : ctx.by.prediction(t.prediction)!);
  for (const id of s.predictions) {
    const p = ctx.by.prediction(id);
    if (p === undefined || p.connection === null || p.transfers.length > 0) continue;
    tell(ctx.role(p.connection), p.source, p.mode, p);
  }
  const out = [M.connectionsCount(1, through.size), M.controlPorts(s.client.port, s.server.port), ...lines, ...attempts];
  if (through.size === 0 && attempts.length === 0) out.push(M.noData());
  const dataCommands = transfers.filter((t) => t.connection !== null && through.has(t.connection)).map((t) => sanitize(t.command));
  const others = [...new Set(s.exchanges.filter((e) => e.transfer === null && e.command !== '' && e.command !== '<init>').map((e) => e.command))];
  if (dataCommands.length > 0) out.push(M.usedData(dataCommands));
  if (others.length > 0) out.push(M.controlOnly(others));
  out.push(M.portsMoved(clientPorts));
  out.push(M.everyConnection());
  return out;
}
