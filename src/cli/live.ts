import type { Writable } from 'node:stream';
import type { CaptureSummary } from '../analyze.js';
import type { MessagePort } from 'node:worker_threads';
import { ChunkReader } from '../capture/live-chunks.js';
import { listInterfaces, type InterfaceInfo, type LiveNotes, type PacketCapture } from '../capture/live-source.js';
import { maxOf } from '../arrays.js';
import type { RecordReader } from '../capture/record-batch.js';
import type { Settings } from '../config.js';
import type { PacketLog } from '../flow/packet-log.js';
import type { FtpAnalyzer } from '../ftp/analyzer.js';
import { Masker } from '../ftp/policy.js';
import type { FtpAnalysis, LiveEvent, SessionDigest, Stamp } from '../model/ftp-model.js';
import { createAnalysis, planFor, PACKET_VIEWS } from '../pipeline.js';
import { ViewContext, hostPort, makeClock, type Clock, type ViewOptions } from '../render/context.js';
import { liveLine } from '../render/timeline.js';
import { cut, displayWidth, group, padEnd, sanitize, wrap } from '../render/text.js';
import { drained, safeJson, shownEvent, writeManifest, writeZeek, type Io } from './main.js';
import { SessionChoice, withSeverity } from '../render/filter.js';

/** What a live run reads: an interface through cap, or (in tests) any reader fed through the same code. */
export interface LiveSource {
  /** Opens the source; a LiveError says why it cannot be (no permission, no such device, a bad filter). */
  open(): RecordReader;
  /** Stops it: the reader then ends after what it holds. Safe to call more than once. */
  stop(): void;
  /** What the stderr line says is being captured. */
  readonly describe: string;
  /** What the end says of the packets: seen, dropped by ftpscope, cut by the snap length. */
  notes(): LiveNotes;
}

export type { LiveNotes };

/**
 * The analysis thread's source: the packets the capture thread sends in chunks (live-chunks.ts). The
 * capture (cap, on the main thread: live-thread.ts) is already open; its end sends what it says of itself.
 */
export class ChunkSource implements LiveSource {
  private reader: ChunkReader | null = null;

  constructor(private readonly port: MessagePort, private readonly from: CaptureInfo) {}

  get describe(): string {
    return this.from.describe;
  }

  open(): RecordReader {
    this.reader = new ChunkReader(this.from.name, this.from.format, this.from.linktype, this.port);
    return this.reader;
  }

  stop(): void {
    this.reader?.stop();
  }

  notes(): LiveNotes {
    const said = this.reader?.notes as LiveNotes | null | undefined;
    return said ?? { packets: 0, dropped: 0, shed: 0, shedBytes: 0, cutBySnapLength: 0, kernel: null, kernelUnknown: 'the capture did not say', writeFailure: null };
  }
}

/** What the analysis thread is told of the capture the main thread opened. */
export type CaptureInfo = Pick<PacketCapture, 'name' | 'format' | 'linktype' | 'describe'>;

/**
 * `ftpscope interfaces`: the capture devices, their addresses, and which is the loopback. Their names come
 * from the system and are shown as wire text is: through sanitize, and through safeJson as JSON.
 */
export function runInterfaces(json: boolean, out: Writable, err: Writable, list: () => InterfaceInfo[] = listInterfaces): number {
  try {
    const found = list();
    if (json) out.write(`${safeJson(found, 2)}\n`);
    else {
      const names = found.map((i) => sanitize(i.name));
      const width = maxOf(names, displayWidth, 4);
      found.forEach((i, k) => out.write(`${padEnd(names[k]!, width)}  ${i.loopback ? 'loopback  ' : '          '}${i.addresses.map(sanitize).join(', ') || '(no address)'}\n`));
    }
    return 0;
  } catch (e) {
    err.write(`ftpscope: ${sanitize(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
}

/**
 * `ftpscope live`: follows FTP as it happens, through the same pipeline as a file (createAnalysis), with
 * every option that applies. The timeline (or NDJSON) is printed event by event; the walkthrough, ladder
 * and packet list of a session when it ends; the summary when the capture stops (--duration, --count,
 * Ctrl-C or SIGTERM), every open session being closed out first. Sessions are released once reported, so
 * memory stays bounded however long it runs (except with --format json or zeek, which print the whole
 * model at the end).
 */
export async function runLive(s: Settings, view: ViewOptions, source: LiveSource, io: Io): Promise<number> {
  const { stdout: out, stderr: err } = io;
  const masker = new Masker(s.showPasswords);
  const plan = planFor(s, 'live');
  const perSession = s.format === 'text' ? s.view.filter((v) => PACKET_VIEWS.has(v)) : [];
  await loadRenderers(perSession, s.lang);
  const timeline = s.format === 'text' && s.view.includes('timeline');
  let log: PacketLog | null = null;
  let first: { sec: number; nsec: number } | null = null;
  let clock: Clock | null = null;
  // For --time-format session: when each open session began (its control connection's first event).
  const starts = new Map<number, Stamp>();
  const printLine = (e: LiveEvent) => {
    if (e.type === 'timeline' && e.event.role === 'control' && (e.event.kind === 'syn' || e.event.kind === 'seen')) starts.set(e.event.session!, e.event.at);
    clock ??= makeClock(view.timeFormat ?? 'capture', first ?? { sec: 0, nsec: 0 });
    const line = liveLine(e, clock, (id) => starts.get(id) ?? null, view.width, view.lang);
    if (line !== null) out.write(`${line}\n`);
    if (e.type === 'session-end') starts.delete(e.session.id);
  };
  const chosen = new SessionChoice({ sessions: s.session, hosts: s.host, from: null, to: null }, (id) => analysis.ftp.session(id));
  const analysis = createAnalysis(s, plan, {
    // A reader slower than the capture: the next batch waits (packets then queue in the capture, counted if dropped).
    afterBatch: () => drained(out),
    onFirst: (sec, nsec) => (first = { sec, nsec }),
    onEvent: (e: LiveEvent) => {
      if (!shownEvent(e, s) || !chosen.event(e)) return;
      if (s.format === 'ndjson') out.write(`${safeJson(masker.event(e))}\n`);
      else if (timeline) printLine(masker.event(e));
    },
    onSessionDone: perSession.length === 0 ? undefined : (snap) => {
      if (chosen.session(snap.sessions[0]!)) out.write(renderSession(masker.analysis(withSeverity(snap, s.minSeverity)), perSession, log, first, view));
    },
  });
  log = analysis.packets;
  const ftp = analysis.ftp;
  let reader: RecordReader;
  try {
    reader = source.open();
  } catch (e) {
    // A LiveError may name devices (ftpscope interfaces' names): they are shown escaped.
    err.write(`ftpscope: ${sanitize(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
  err.write(`ftpscope: capturing on ${sanitize(source.describe)}; Ctrl-C to stop\n`);
  const stop = () => source.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = s.duration === null ? null : setTimeout(stop, s.duration * 1000);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 500);
  sampler.unref();
  let summary: CaptureSummary;
  try {
    summary = await analysis.run(reader);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (timer !== null) clearTimeout(timer);
    clearInterval(sampler);
    source.stop();
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const notes = { ...source.notes(), written: s.write };
  // What is still held (all of it with JSON and Zeek); result() also finishes the manifest of --extract.
  const left = s.format === 'json' || s.format === 'zeek' || s.extract !== null ? masker.analysis(chosen.analysis(ftp.result())) : null;
  if (s.format === 'ndjson') {
    out.write(`${safeJson({ type: 'end', capture: summary, ...ftp.totals, live: notes, memory: { peakRss } })}\n`);
  } else if (s.format === 'json') {
    out.write(`${safeJson({ capture: summary, live: notes, memory: { peakRss }, ...left! }, 2)}\n`);
  } else if (s.format === 'zeek') {
    if (!(await writeZeek(left!, analysis, s, out, err))) {
      await writeManifest(ftp, s, io);
      return 1;
    }
  } else if (s.view.includes('summary')) {
    out.write(endSummary(ftp, notes, peakRss, view.width, (d) => chosen.digest(d)));
  }
  await writeManifest(ftp, s, io);
  return 0;
}

/**
 * What the end says of the packets: how many arrived, what the kernel (pcap_stats) and ftpscope lost, and
 * what was shed. Every number of lost packets is said, as tcpdump does; "not known" only when it is not.
 */
export function packetLines(n: LiveNotes): string[] {
  const k = n.kernel;
  const own = [
    n.dropped > 0 ? `${group(n.dropped)} dropped by ftpscope (its --max-backlog was full: the analysis could not keep up)` : '',
    n.shed > 0 ? `${group(n.shed)} cut to their headers by ftpscope (${group(n.shedBytes)} bytes of data-connection payload shed while the analysis caught up; control connections, SYN, FIN and RST were kept whole, and the transfers say which bytes are missing)` : '',
    n.cutBySnapLength > 0 ? `${group(n.cutBySnapLength)} cut by the 65,535-byte snap length (their missing bytes are gaps)` : '',
  ].filter(Boolean);
  const kernel = k === null
    ? `The kernel's drops are not known: ${n.kernelUnknown ?? 'no counter'}.`
    : `The kernel received ${group(k.recv)} packets that passed the filter and dropped ${group(k.drop)}${k.drop > 0 ? ' (its buffer was full: a larger --buffer-size keeps more)' : ''}${k.ifdrop > 0 ? `; the interface dropped ${group(k.ifdrop)}` : ''}${k.drop > 0 ? '; the sessions and transfers open then say so' : ''}.`;
  return [`Captured ${group(n.packets)} packets${own.length > 0 ? `; of them ${own.join(', ')}` : ''}.`, kernel];
}

/** The per-session views, for a session that just ended (its passwords already masked). */
function renderSession(model: FtpAnalysis, views: string[], log: PacketLog | null, first: { sec: number; nsec: number } | null, view: ViewOptions): string {
  const s = model.sessions[0]!;
  // The views read only the capture's first moment (their times count from it); the totals come at the end.
  const capture: CaptureSummary = {
    files: [], format: 'live', records: 0, capturedBytes: 0, cutRecords: 0, outOfOrderRecords: 0, firstOutOfOrder: null,
    first: first ?? { sec: s.start.sec, nsec: s.start.nsec }, last: { sec: s.end.sec, nsec: s.end.nsec }, decoded: {}, linkTypes: {},
    fragments: { reassembled: 0, incomplete: 0, refused: 0, conflicting: 0 },
    connections: { connections: 0, maxConcurrent: 0, idleClosed: 0, evicted: 0, reused: 0 }, faults: [],
  };
  const ctx = new ViewContext(model, capture, log, view);
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
function endSummary(ftp: FtpAnalyzer, notes: LiveNotes & { written: string | null }, peakRss: number, width: number, shown: (d: SessionDigest) => boolean): string {
  const t = ftp.totals;
  const lines = ['', ...packetLines(notes).flatMap((l) => wrap(l, Math.max(width, 40))),
    `${group(t.sessions)} FTP session${t.sessions === 1 ? '' : 's'}, ${group(t.transfers)} transfer${t.transfers === 1 ? '' : 's'}, ${group(t.bytes)} bytes of data.`,
  ];
  const kinds = Object.entries(t.findings);
  if (kinds.length > 0) lines.push(`Findings: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
  if (notes.written && notes.writeFailure) lines.push(`Writing to ${sanitize(notes.written)} stopped: ${sanitize(notes.writeFailure)}.`);
  else if (notes.written) {
    const lost = notes.kernel === null ? 'the kernel\'s drops before them are not known' : notes.kernel.drop === 0 ? 'the kernel dropped none before them' : `the kernel dropped ${group(notes.kernel.drop)} before they reached it, which no file has`;
    lines.push(...wrap(`Every packet ftpscope received was written to ${sanitize(notes.written)}; ${lost}.`, Math.max(width, 40)));
  }
  lines.push(`Peak memory: ${(peakRss / 2 ** 20).toFixed(0)} MiB.`);
  const recent = ftp.digests.filter(shown).slice(-20);
  if (recent.length > 0) {
    lines.push('', `Last ${recent.length} session${recent.length === 1 ? '' : 's'}:`);
    for (const d of recent) {
      lines.push(cut(`  ${String(d.id).padStart(4)}  ${hostPort(d.client.address, d.client.port)} -> ${hostPort(d.server.address, d.server.port)}  ${d.user === null ? '-' : sanitize(d.user)} ${d.login}, ${d.commands} commands, ${d.transfers} transfers, ${group(d.bytes)} bytes${d.findings ? `, ${d.findings} findings` : ''}`, width));
    }
  }
  return `${lines.join('\n')}\n`;
}
