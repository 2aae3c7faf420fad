import type { Writable } from 'node:stream';
import { DEFAULT_ANALYZE_OPTIONS, analyze, type AnalyzeOptions, type CaptureSummary } from '../analyze.js';
import { LiveError, LiveReader, listInterfaces } from '../capture/live-source.js';
import { PcapFileWriter } from '../capture/pcap-writer.js';
import { PacketLog } from '../flow/packet-log.js';
import { FtpAnalyzer, type FtpOptions } from '../ftp/analyzer.js';
import { HIDDEN, maskPasswords, passwordIsPublic } from '../ftp/policy.js';
import type { FtpAnalysis, LiveEvent } from '../model/ftp-model.js';
import { ViewContext, hostPort, type ViewOptions } from '../render/context.js';
import { cut, group, sanitize } from '../render/text.js';
import { safeJson } from './main.js';

export interface LiveArgs {
  device: string;
  filter: string | null;
  bufferSizeMiB: number;
  durationSec: number | null;
  count: number;
  write: string | null;
  format: 'text' | 'json' | 'ndjson' | 'zeek';
  views: string[];
  showPasswords: boolean;
  view: ViewOptions;
  analyze: AnalyzeOptions;
  ftp: FtpOptions;
}

/** `ftpscope interfaces`: the capture devices, their addresses, and which is the loopback. */
export function runInterfaces(json: boolean, out: Writable, err: Writable): number {
  try {
    const list = listInterfaces();
    if (json) out.write(`${JSON.stringify(list, null, 2)}\n`);
    else {
      const width = Math.max(...list.map((i) => i.name.length), 4);
      for (const i of list) out.write(`${i.name.padEnd(width)}  ${i.loopback ? 'loopback  ' : '          '}${i.addresses.join(', ') || '(no address)'}\n`);
    }
    return 0;
  } catch (e) {
    err.write(`ftpscope: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/**
 * `ftpscope live`: sniffs an interface and follows FTP as it happens. The timeline (or NDJSON) is printed
 * event by event; the walkthrough, ladder and packet list of a session when it ends; the summary when the
 * capture stops (--duration, --count, Ctrl-C or SIGTERM), every open session being closed out first.
 * Sessions are released once reported, so memory stays bounded however long it runs (except with
 * --format json, which keeps everything to print the whole model at the end).
 */
export async function runLive(a: LiveArgs, out: Writable, err: Writable): Promise<number> {
  const keepAll = a.format === 'json' || a.format === 'zeek';
  const perSession = a.format === 'text' ? a.views.filter((v) => v === 'walkthrough' || v === 'ladder' || v === 'packets') : [];
  let log: PacketLog | null = null;
  const users = new Map<number, string>();
  const emit = (e: LiveEvent) => {
    if (a.format === 'ndjson') out.write(`${safeJson(maskEvent(e, users, a.showPasswords))}\n`);
    else if (a.format === 'text' && a.views.includes('timeline')) {
      const line = timelineLine(maskEvent(e, users, a.showPasswords) as LiveEvent, a.view.width);
      if (line !== null) out.write(`${line}\n`);
    }
  };
  const ftp = new FtpAnalyzer({
    ...a.ftp,
    release: keepAll ? false : 'live',
    onEvent: emit,
    onSessionDone: perSession.length === 0 ? undefined : (snap) => void out.write(renderSession(snap, perSession, log, a)),
  });
  if (perSession.length > 0) {
    log = new PacketLog(ftp);
    ftp.onRelease = (conns) => log!.forget(conns);
  }
  let reader: LiveReader;
  try {
    reader = new LiveReader({
      device: a.device,
      filter: a.filter,
      bufferSize: Math.floor(a.bufferSizeMiB * 2 ** 20),
      count: a.count,
      writer: a.write === null ? null : (linktype) => new PcapFileWriter(a.write!, linktype),
    });
  } catch (e) {
    err.write(`ftpscope: ${e instanceof LiveError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  err.write(`ftpscope: capturing on ${a.device} (${a.filter === null ? 'tcp' : `tcp and (${a.filter})`}); Ctrl-C to stop\n`);
  const stop = () => reader.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = a.durationSec === null ? null : setTimeout(stop, a.durationSec * 1000);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 500);
  sampler.unref();
  let summary: CaptureSummary;
  try {
    summary = await analyze(reader, log ?? ftp, { ...DEFAULT_ANALYZE_OPTIONS, ...a.analyze });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (timer !== null) clearTimeout(timer);
    clearInterval(sampler);
    reader.stop();
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const notes = {
    packets: reader.packets,
    dropped: reader.dropped,
    cutBySnapLength: reader.cut,
    written: a.write,
    kernelDrops: 'unknown (cap gives no drop counter)',
  };
  if (a.format === 'ndjson') {
    out.write(`${safeJson({ type: 'end', capture: summary, ...ftp.totals, live: notes, memory: { peakRss } })}\n`);
  } else if (a.format === 'json') {
    const model = ftp.result();
    out.write(`${safeJson({ capture: summary, live: notes, memory: { peakRss }, ...(a.showPasswords ? model : maskPasswords(model)) }, 2)}\n`);
  } else if (a.format === 'zeek') {
    const { renderZeek } = await import('../render/zeek.js');
    out.write(renderZeek(ftp.result(), a.showPasswords));
  } else {
    out.write(endSummary(ftp, notes, peakRss, a.view.width));
  }
  return 0;
}

/** Hides passwords in events, as every other output does. */
function maskEvent(e: LiveEvent, users: Map<number, string>, show: boolean): LiveEvent {
  if (e.type === 'command' || e.type === 'reply') {
    if (e.exchange.command === 'USER') users.set(e.session, e.exchange.argument);
    if (e.exchange.command === 'PASS' && !show && !passwordIsPublic(users.get(e.session) ?? null)) return { ...e, exchange: { ...e.exchange, argument: HIDDEN } };
  } else if (e.type === 'session-end' && !show) {
    return { ...e, session: maskPasswords({ sessions: [e.session], predictions: [], transfers: [], findings: [], connections: [], timeline: [] }).sessions[0]! };
  }
  return e;
}

/** One timeline line for an event, or null for events the timeline does not show. */
function timelineLine(e: LiveEvent, width: number): string | null {
  const when = new Date(e.at.sec * 1000).toISOString().slice(11, 19);
  const head = `${when} #${e.at.frame}`.padEnd(18);
  let text: string;
  switch (e.type) {
    case 'session-start':
      text = `session ${e.session}: ${hostPort(e.client.address, e.client.port)} -> ${hostPort(e.server.address, e.server.port)}`;
      break;
    case 'command':
      text = `  s${e.session} > ${sanitize(e.exchange.argument === '' ? e.exchange.command : `${e.exchange.command} ${e.exchange.argument}`)}`;
      break;
    case 'reply':
      text = `  s${e.session} < ${sanitize(e.reply.lines.length > 1 ? `${e.reply.code} (${e.reply.lines.length} lines)` : e.reply.lines[0]!)}`;
      break;
    case 'prediction': {
      const p = e.prediction;
      text = `  s${e.session}   expecting ${p.from} -> ${hostPort(p.to.address, p.to.port)} (${p.mode}, ${p.source})${p.addressDiffers && p.mode === 'passive' ? ' [not the server\'s address]' : ''}`;
      break;
    }
    case 'data-connection':
      text = `  s${e.session}   data connection for ${e.transfer.command} ${sanitize(e.transfer.path)} (${e.transfer.rule})`;
      break;
    case 'transfer-end': {
      const t = e.transfer;
      text = `  s${e.session}   ${t.command} ${sanitize(t.path)}: ${group(t.bytes)} bytes, ${t.status}${t.cause ? `: ${sanitize(t.cause)}` : ''}`;
      break;
    }
    case 'finding':
      text = `  ! ${e.finding.severity} ${e.finding.kind}: ${sanitize(e.finding.message)}`;
      break;
    case 'session-end': {
      const s = e.session;
      text = `session ${s.id} ended: ${s.user === null ? 'no user' : `user ${sanitize(s.user)}`}, ${s.login}, ${s.exchanges.length} exchanges, ${s.transfers.length} transfers`;
      break;
    }
  }
  return cut(`${head}${text}`, width);
}

/** The per-session views, for a session that just ended. */
function renderSession(snap: FtpAnalysis, views: string[], log: PacketLog | null, a: LiveArgs): string {
  const model = a.showPasswords ? snap : maskPasswords(snap);
  const s = snap.sessions[0]!;
  // The views read only the capture's first moment: the session's start, here.
  const capture: CaptureSummary = {
    files: `live ${a.device}`, format: 'live', records: 0, capturedBytes: 0, cutRecords: 0, outOfOrderRecords: 0,
    first: { sec: s.start.sec, nsec: s.start.nsec }, last: { sec: s.end.sec, nsec: s.end.nsec }, decoded: {}, linkTypes: {},
    fragments: { reassembled: 0, incomplete: 0, refused: 0, conflicting: 0 },
    connections: { connections: 0, maxConcurrent: 0, idleClosed: 0, evicted: 0, reused: 0 }, faults: [],
  };
  const ctx = new ViewContext(model, capture, log, a.view);
  return views.map((v) => renderLazy(v, ctx)).join('\n');
}

/** The per-session renderers are loaded at start (a live run needs them at once when a session ends). */
const renderers: Partial<Record<string, (ctx: ViewContext) => string>> = {};
export async function loadRenderers(views: string[], lang: 'en' | 'zh'): Promise<void> {
  if (views.includes('walkthrough')) {
    const { renderWalkthrough } = await import('../render/walkthrough.js');
    const messages = lang === 'zh' ? (await import('../render/messages-zh.js')).zh : (await import('../render/messages.js')).en;
    renderers.walkthrough = (ctx) => renderWalkthrough(ctx, messages);
  }
  if (views.includes('ladder')) renderers.ladder = (await import('../render/ladder.js')).renderLadder;
  if (views.includes('packets')) renderers.packets = (await import('../render/packets.js')).renderPackets;
}

function renderLazy(view: string, ctx: ViewContext): string {
  return renderers[view]?.(ctx) ?? '';
}

/** What the capture held: totals, and the last sessions. */
function endSummary(ftp: FtpAnalyzer, notes: { packets: number; dropped: number; cutBySnapLength: number; written: string | null }, peakRss: number, width: number): string {
  const t = ftp.totals;
  const lines = [
    '',
    `Captured ${group(notes.packets)} packets${notes.dropped > 0 ? `, ${group(notes.dropped)} dropped by ftpscope (the analysis could not keep up)` : ''}${notes.cutBySnapLength > 0 ? `, ${group(notes.cutBySnapLength)} cut by the 65,535-byte snap length (their missing bytes are gaps)` : ''}; the kernel's drops are not known (libpcap through cap gives no counter).`,
    `${group(t.sessions)} FTP session${t.sessions === 1 ? '' : 's'}, ${group(t.transfers)} transfer${t.transfers === 1 ? '' : 's'}, ${group(t.bytes)} bytes of data.`,
  ];
  const kinds = Object.entries(t.findings);
  if (kinds.length > 0) lines.push(`Findings: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
  if (notes.written) lines.push(`Every packet was written to ${sanitize(notes.written)}.`);
  lines.push(`Peak memory: ${(peakRss / 2 ** 20).toFixed(0)} MiB.`);
  const recent = ftp.digests.slice(-20);
  if (recent.length > 0) {
    lines.push('', `Last ${recent.length} session${recent.length === 1 ? '' : 's'}:`);
    for (const d of recent) {
      lines.push(cut(`  ${String(d.id).padStart(4)}  ${hostPort(d.client.address, d.client.port)} -> ${hostPort(d.server.address, d.server.port)}  ${d.user === null ? '-' : sanitize(d.user)} ${d.login}, ${d.commands} commands, ${d.transfers} transfers, ${group(d.bytes)} bytes${d.findings ? `, ${d.findings} findings` : ''}`, width));
    }
  }
  return `${lines.join('\n')}\n`;
}
