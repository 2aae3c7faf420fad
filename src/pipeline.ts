import { readFileSync } from 'node:fs';
import { analyze, type AnalyzeOptions, type CaptureSummary } from './analyze.js';
import type { RecordReader } from './capture/record-batch.js';
import type { Settings } from './config.js';
import { fragmentLimits } from './decode/ip-fragments.js';
import { connectionLimits, type TcpListener } from './flow/connections.js';
import { PacketLog } from './flow/packet-log.js';
import { reassemblyLimits } from './flow/reassembler.js';
import { FtpAnalyzer, type FtpOptions } from './ftp/analyzer.js';
import { ftpLimits } from './ftp/session.js';
import { Extractor } from './output/extract.js';
import { KeyLog } from './tls/keylog.js';
import { BothFiles, TransferDigests } from './ftp/digests.js';
import type { TransferFiles } from './ftp/extraction.js';
import { MemoryBudget } from './memory-budget.js';

/** Views that read nothing of the commands and replies but their number (the model can let them go). */
const COUNTING_VIEWS: ReadonlySet<string> = new Set(['summary', 'connections']);
/** Views that need every packet of the FTP connections. */
export const PACKET_VIEWS: ReadonlySet<string> = new Set(['walkthrough', 'ladder', 'packets']);

/** What the outputs of a run need the analysis to keep; planFor decides it from the options. */
export interface Plan {
  /** Keep every command and reply (false: only those a transfer or prediction names). */
  exchanges: boolean;
  /** Record every segment of FTP's connections, for the walkthrough, ladder and packet list. */
  packets: boolean;
  /** Keep a summary of every TCP connection, FTP or not (the connection list). */
  everyConnection: boolean;
  /** Let sessions go once told (see FtpOptions.release). */
  release: false | 'live' | 'report';
  /** Keep the timeline in the model: JSON, and the views that read it (timeline, ladder). */
  timeline: boolean;
}

/** Views that read the model's timeline. */
const TIMELINE_VIEWS: ReadonlySet<string> = new Set(['timeline', 'ladder']);

/** Told as the analysis goes; every hook is optional. */
export interface Hooks {
  onEvent?: FtpOptions['onEvent'];
  onSessionDone?: FtpOptions['onSessionDone'];
  onFindingDone?: FtpOptions['onFindingDone'];
  /** About every 64 Ki records, with the bytes read so far. */
  onProgress?: (bytesRead: number, records: number) => void;
  /** Once, with the first record's time. */
  onFirst?: (sec: number, nsec: number) => void;
  /** After each batch of records; a promise holds the reading until it settles (streamed output's back-pressure). */
  afterBatch?: () => Promise<void> | undefined;
  /** Wraps the listener the connection table tells (a test's oracle that also hashes every byte); it must pass every call on. */
  wrap?: (inner: FtpAnalyzer) => TcpListener;
}

/** One analysis: its stages, composed, and the one way to run a capture through them. */
export interface Analysis {
  readonly ftp: FtpAnalyzer;
  /** Every segment of FTP's connections, when the plan asks for them. */
  readonly packets: PacketLog | null;
  /** The budget every table drew from (--max-memory); outputs call its guard() as they write. */
  readonly memory: MemoryBudget;
  /** The hashes and MIME types of transferred files, when --zeek-dir asks for files.log. */
  readonly digests: TransferDigests | null;
  /** Reads the whole capture (or live source) through the stages; resolves to what reading and decoding gave. */
  run(reader: RecordReader): Promise<CaptureSummary>;
}

/**
 * What the outputs chosen in `s` need kept. A file's summary alone, unfiltered, is written from rows kept
 * as sessions end ('report'); a live capture lets each session go once told, except for JSON and Zeek
 * output, which print the whole model at the end.
 */
export function planFor(s: Settings, source: 'file' | 'live'): Plan {
  const text = s.format === 'text';
  const views = s.view as readonly string[];
  // A Mermaid diagram is the ladder's steps, and the lesson page the ladder and the walkthrough: they read what those read.
  const drawn = s.format === 'mermaid' || s.format === 'html';
  const packets = (text && views.some((v) => PACKET_VIEWS.has(v))) || drawn;
  const timeline = s.format === 'json' || drawn || (text && views.some((v) => TIMELINE_VIEWS.has(v)));
  if (source === 'live') {
    return { exchanges: true, packets, everyConnection: false, release: s.format === 'json' || s.format === 'zeek' ? false : 'live', timeline };
  }
  const unfiltered = s.session.length === 0 && s.host.length === 0 && s.timeFrom === null && s.timeTo === null;
  const summaryOnly = text && views.length > 0 && views.every((v) => v === 'summary');
  return {
    exchanges: !(text && views.every((v) => COUNTING_VIEWS.has(v))),
    packets,
    everyConnection: text && views.includes('connections'),
    release: summaryOnly && unfiltered ? 'report' : false,
    timeline,
  };
}

/** Where transferred data goes: the extractor, the digests, both, or nowhere. */
function transferFiles(extractor: Extractor | null, digests: TransferDigests | null): TransferFiles | undefined {
  if (extractor !== null && digests !== null) return new BothFiles(extractor, digests);
  return extractor ?? digests ?? undefined;
}

/** The capture loop's options from the settings. */
export function analyzeOptions(s: Settings): AnalyzeOptions {
  return {
    serverPorts: new Set([21, IMPLICIT_FTPS, ...s.ports]),
    connections: connectionLimits(s),
    reassembly: reassemblyLimits(s),
    fragments: fragmentLimits(s),
  };
}

/**
 * The only place the stages are composed: connection table and reassembler (in analyze), FTP analyzer
 * with its connection log, and the packet log when the plan asks for packets. The file CLI, `ftpscope live`,
 * the fuzzer and the tests all build their analysis here, so one set of options means one thing everywhere.
 */
export function createAnalysis(s: Settings, plan: Plan, hooks: Hooks = {}): Analysis {
  const memory = new MemoryBudget(s.maxMemory * 2 ** 20);
  memory.steady = plan.release === 'live';
  const extractor = s.extract === null ? null : new Extractor({ dir: s.extract, listings: s.extractListings, maxHashedHoles: s.maxHashedHoles * 2 ** 20, maxHolesListed: s.maxHolesListed });
  const digests = s.zeekDir === null ? null : new TransferDigests();
  const ftp = new FtpAnalyzer({
    memory,
    ports: new Set([21, IMPLICIT_FTPS, ...s.ports]),
    implicitTls: new Set([IMPLICIT_FTPS]),
    keyLog: keyLogOf(s.tlsKeylog),
    sniff: s.sniff,
    limits: ftpLimits(s),
    extract: transferFiles(extractor, digests),
    keepExchanges: plan.exchanges,
    logEveryConnection: plan.everyConnection,
    keepTimeline: plan.timeline,
    release: plan.release,
    onEvent: hooks.onEvent,
    onSessionDone: hooks.onSessionDone,
    onFindingDone: hooks.onFindingDone,
  });
  const packets = plan.packets ? new PacketLog(ftp, { maxPackets: s.maxPacketLog }, memory) : null;
  const listener: TcpListener = hooks.wrap?.(ftp) ?? packets ?? ftp;
  // A live capture forgets the packets of the sessions it let go.
  if (packets !== null && plan.release === 'live') ftp.onRelease = (conns) => packets.forget(conns);
  const options: AnalyzeOptions = { ...analyzeOptions(s), memory, onProgress: hooks.onProgress, onFirst: hooks.onFirst, afterBatch: hooks.afterBatch, onLoss: (loss) => ftp.captureLoss(loss) };
  return {
    ftp,
    packets,
    memory,
    digests,
    run: async (reader) => {
      const summary = await analyze(reader, listener, options);
      packets?.compact();
      return summary;
    },
  };
}

/** Implicit FTPS: the control connection is TLS from its first byte (RFC 4217 section 16 leaves it historic; servers still offer it). */
const IMPLICIT_FTPS = 990;

/** The key logs named, read now (a file that cannot be read is the caller's error to report), or null for none. */
function keyLogOf(files: readonly string[]): KeyLog | null {
  if (files.length === 0) return null;
  const log = new KeyLog();
  for (const f of files) log.add(readFileSync(f, 'latin1'), f);
  return log;
}
