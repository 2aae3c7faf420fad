/**
 * Running one fuzz case: `runCase` analyses one input in-process as the CLI does (createAnalysis, passwords
 * masked) and renders every output with colour off: the timeline, walkthrough, ladder,
 * packet list, summary and connection views, the Zeek log, the JSON model and the ndjson events (serialised
 * as the CLI serialises them), and the names --extract would give the files; for some seeds the CLI's
 * `main()` runs too, on the same bytes as standard input. A case fails when anything throws, or when an
 * output holds a raw control or format character (C0 other than \n — and \t in the Zeek log —, DEL, C1,
 * U+2028/9, the bidi and invisible characters: see failures.ts).
 *
 * The stages are composed in one place, `analyseCapture`.
 */
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import type { CaptureSummary } from '../../src/analyze.js';
import { openCapture } from '../../src/capture/open-capture.js';
import * as cli from '../../src/cli/main.js';
import { settings, type Settings } from '../../src/config.js';
import type { PacketLog } from '../../src/flow/packet-log.js';
import type { FtpAnalyzer } from '../../src/ftp/analyzer.js';
import { Masker, maskPasswords } from '../../src/ftp/policy.js';
import type { FtpAnalysis, LiveEvent } from '../../src/model/ftp-model.js';
import { safeComponents } from '../../src/output/extract.js';
import { createAnalysis } from '../../src/pipeline.js';
import { connectionsText } from '../../src/render/connections.js';
import { ViewContext, type ViewOptions } from '../../src/render/context.js';
import { renderLadder } from '../../src/render/ladder.js';
import { mermaidText } from '../../src/render/mermaid.js';
import { lessonPage } from '../../src/render/lesson.js';
import { zh } from '../../src/render/messages-zh.js';
import { en } from '../../src/render/messages.js';
import { renderPackets } from '../../src/render/packets.js';
import { renderSummary } from '../../src/render/summary.js';
import { renderTimeline } from '../../src/render/timeline.js';
import { renderWalkthrough } from '../../src/render/walkthrough.js';
import { renderZeek } from '../../src/render/zeek.js';
import { controlFailure, crash, type Failure } from './failures.js';
import { Rng } from './random.js';


/** How a case is run: everything derived from its seed, so that a regression file replays as it failed. */
export interface RunConfig {
  /** Sizes of the chunks the input stream hands over (0: the whole file at once). */
  chunk: number;
  view: ViewOptions;
  /** Every option of the analysis (src/config.ts): the defaults, tightened for a quarter of the seeds. */
  settings: Settings;
  /** Also run the CLI's main() on the bytes as standard input, with these arguments. */
  cli: string[] | null;
}

export function runConfig(seed: number): RunConfig {
  const r = new Rng((seed ^ 0x5bd1e995) >>> 0);
  const tight = r.chance(0.25);
  const MiB = 2 ** 20;
  // The draws come in the order they always did, so that a seed gives the case it gave before.
  const changes: Partial<Settings> = tight
    ? {
        maxLineLength: r.pick([1, 16, 100, 4096]),
        maxPendingCommands: r.pick([1, 2, 20]),
        maxReplyLines: r.pick([1, 3, 1000]),
        maxPredictionsPerSession: r.pick([1, 2, 100]),
        maxPredictions: r.pick([1, 3, 10000]),
        predictionTimeout: r.pick([0.001, 1, 300]),
        maxExchanges: r.pick([1, 10, 100000]),
      }
    : {};
  changes.ports = r.chance(0.2) ? [2121, 8021] : [];
  if (tight) {
    Object.assign(changes, { idleTimeout: r.pick([0.001, 1, 900]), maxConnections: r.pick([1, 2, 1_000_000]) });
    Object.assign(changes, { maxBuffer: r.pick([1, 1024, 4 << 20]) / MiB, maxBufferTotal: r.pick([1, 4096, 128 << 20]) / MiB, maxBufferSegments: r.pick([1, 4, 4096]), retransmitWindow: r.pick([0, 1, 2048]) });
    Object.assign(changes, { maxFragmentDatagrams: r.pick([1, 4096]), maxFragmentBytes: r.pick([1, 16 << 20]) / MiB, fragmentTimeout: r.pick([0.001, 60]) });
  }
  const view: ViewOptions = {
    color: false,
    width: r.pick([40, 80, 80, 80, 132, 250]),
    lang: r.chance(0.3) ? 'zh' : 'en',
    detail: r.chance(0.3) ? 'packets' : 'summary',
    showPasswords: r.chance(0.3),
  };
  let cli: string[] | null = null;
  if (r.chance(0.1)) {
    const format = r.pick(['text', 'text', 'json', 'ndjson', 'zeek']);
    cli = ['-', '--color', 'never', '--format', format, '--view', 'timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'];
    if (r.chance(0.3)) cli.push('--session', r.pick(['1', '2', '10.0.0.1:21', 'fd00::2:21']));
    if (r.chance(0.2)) cli.push('--host', r.pick(['10.0.0.1', 'fd00::1', '10.21.0.2']));
    if (r.chance(0.2)) {
      const window = ['--time-from', r.pick(['+0.5', '0', '2023-11-14T22:13:20Z']), '--time-to', r.pick(['+1', '9999999999'])];
      // NDJSON refuses a time window (a session streams before its end is known); drawn anyway, so that every seed keeps its case.
      if (format !== 'ndjson') cli.push(...window);
    }
    if (view.lang === 'zh') cli.push('--lang', 'zh');
    if (view.detail === 'packets') cli.push('--detail', 'packets');
    if (view.showPasswords) cli.push('--show-passwords');
    if (r.chance(0.3)) cli.push('--max-line-length', String(r.pick([1, 10, 100])), '--max-pending-commands', String(r.pick([1, 3])));
    cli.push('--width', String(Math.max(40, view.width)));
  }
  const chunk = r.pick([0, 0, 0, 1, 7, 24, 100, 4096, 65536]);
  changes.sniff = r.chance(0.9);
  if (tight) changes.maxPacketLog = r.pick([1, 10, 1_000_000]);
  return { chunk, view, settings: settings(changes), cli };
}

/** The time a Zeek log's #open and #close name: fixed, so that the same capture gives the same output. */
const FIXED_CLOCK = (): Date => new Date(0);

/** The bytes as a stream handing them over in chunks of `size` (0: all at once), as stdin or a pipe would. */
function chunked(bytes: Buffer, size: number): Readable {
  if (size <= 0 || bytes.length === 0) return Readable.from([bytes]);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

/**
 * JSON as ftpscope writes it (--format json, ndjson): through the CLI's serialiser when it has one (safeJson,
 * which escapes what JSON.stringify leaves raw: DEL, C1, U+2028/9, bidi and invisible characters), else
 * JSON.stringify, as it was at first.
 */
const toJson: (value: unknown, indent?: number) => string =
  ((cli as Record<string, unknown>)['safeJson'] as ((value: unknown, indent?: number) => string) | undefined) ??
  ((value, indent) => JSON.stringify(value, null, indent));


export interface CaseStats {
  records: number;
  sessions: number;
  /** Characters of output in all. */
  output: number;
  ms: number;
  /** heapUsed + external (ArrayBuffers and Buffers) of this thread after the case, everything still held. */
  memory: number;
}

export interface CaseOutcome {
  failures: Failure[];
  stats: CaseStats;
}

/** Runs one step of a case under a name: reports it, and turns a throw into a failure (then undefined). */
export type Stage = <T>(where: string, f: () => T | Promise<T>) => Promise<T | undefined>;

interface Analysed {
  ftp: FtpAnalyzer;
  log: PacketLog;
  summary: CaptureSummary | undefined;
  model: FtpAnalysis | undefined;
}

/**
 * The analysis through the one pipeline builder (createAnalysis, src/pipeline.ts), keeping everything every
 * output reads. Each step runs through `stage`; undefined when the analysis or the reader could not be made.
 */
async function analyseCapture(name: string, input: () => Readable, s: Settings, onEvent: ((e: LiveEvent) => void) | undefined, stage: Stage): Promise<Analysed | undefined> {
  const analysis = await stage('createAnalysis', () => createAnalysis(s, { exchanges: true, packets: true, everyConnection: true, release: false, timeline: true }, { onEvent }));
  const reader = await stage('openCapture', () => openCapture(name, input()));
  if (analysis === undefined || reader === undefined) return undefined;
  const summary = await stage('analyze', () => analysis.run(reader));
  await stage('close', () => reader.close());
  const model = summary === undefined ? undefined : await stage('result', () => analysis.ftp.result());
  return { ftp: analysis.ftp, log: analysis.packets!, summary, model };
}

class Sink extends Writable {
  text = '';
  constructor() {
    super({ highWaterMark: 1 << 30 });
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

/**
 * Analyses one input in-process and renders every output; never throws. `seed` chooses the run
 * configuration (chunking, limits, view options, CLI arguments): see runConfig.
 */
export async function runCase(bytes: Buffer, name: string, seed: number, onStage?: (stage: string) => void): Promise<CaseOutcome> {
  const began = performance.now();
  const cfg = runConfig(seed);
  const failures: Failure[] = [];
  const stats: CaseStats = { records: 0, sessions: 0, output: 0, ms: 0, memory: 0 };
  const outputs: string[] = [];
  const check = (where: string, text: string, allowTab = false) => {
    stats.output += text.length;
    const f = controlFailure(where, text, allowTab);
    if (f !== null) failures.push(f);
    outputs.push(text);
  };
  const stage: Stage = async <T>(where: string, f: () => T | Promise<T>): Promise<T | undefined> => {
    onStage?.(where);
    try {
      return await f();
    } catch (e) {
      failures.push(crash(where, e));
      return undefined;
    }
  };

  const events: string[] = [];
  // The events as --format ndjson writes them: masked as every output is.
  const masker = new Masker(cfg.view.showPasswords);
  const analysed = await analyseCapture(name, () => chunked(bytes, cfg.chunk), cfg.settings, (e: LiveEvent) => events.push(toJson(masker.event(e))), stage);
  if (analysed !== undefined) {
    const { ftp, log, summary, model } = analysed;
    if (summary !== undefined && model !== undefined) {
      stats.records = summary.records;
      stats.sessions = model.sessions.length;
      const shown = (await stage('maskPasswords', () => (cfg.view.showPasswords ? model : maskPasswords(model)))) ?? model;
      const ctx = await stage('ViewContext', () => new ViewContext(shown, summary, log, cfg.view));
      if (ctx !== undefined) {
        const views: Array<[string, () => string | Promise<string>]> = [
          ['timeline', () => renderTimeline(ctx)],
          ['walkthrough', () => renderWalkthrough(ctx, cfg.view.lang === 'zh' ? zh : en)],
          ['ladder', () => renderLadder(ctx)],
          ['mermaid', () => [...mermaidText(ctx)].join('')],
          ['lesson', () => [...lessonPage({ en: ctx, zh: ctx }, 'fuzz')].join('')],
          ['packets', () => renderPackets(ctx)],
          ['summary', () => renderSummary(ctx)],
          ['connections', () => [...connectionsText(summary, ftp.log, false)].join('')],
        ];
        for (const [view, render] of views) {
          const text = await stage(`view-${view}`, render);
          if (text !== undefined) check(`view-${view}`, text);
        }
      }
      const zeek = await stage('zeek', () => renderZeek(shown, FIXED_CLOCK));
      if (zeek !== undefined) check('zeek', zeek, true);
      const json = await stage('json', () => `${toJson({ ftpscope: 'fuzz', capture: summary, ...shown }, 2)}\n`);
      if (json !== undefined) check('json', json);
      check('ndjson', events.length === 0 ? '' : `${events.join('\n')}\n`);
      // The names --extract would give each transfer's file (under DIR/session-N/), without writing them.
      const names = await stage('extract-names', () => shown.transfers.map((t) => safeComponents(t.path).join('/')).join('\n'));
      if (names !== undefined) check('extract-names', names);
    }
  }
  if (cfg.cli !== null) {
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await stage('cli', () => cli.main(cfg.cli!, { stdout, stderr, stdin: chunked(bytes, cfg.chunk), stdoutIsTTY: false, stderrIsTTY: false, env: {} }));
    if (code !== undefined && code !== 0 && code !== 1) failures.push({ kind: 'crash', where: 'cli', message: `exit code ${code}: ${stderr.text.slice(0, 300)}` });
    check('cli-stdout', stdout.text, cfg.cli.includes('zeek'));
    check('cli-stderr', stderr.text);
  }
  const mu = process.memoryUsage();
  stats.memory = mu.heapUsed + mu.external;
  stats.ms = performance.now() - began;
  void outputs.length; // the outputs stay alive until here, so that the memory figure counts them
  return { failures, stats };
}

/** The JSON output and every view of a capture, with default options: what "the same result" means. */
export async function referenceOutput(path: string): Promise<string> {
  const bytes = readFileSync(path);
  // Default options everywhere; a throw is not caught (the reference must not fail).
  const { log, summary, model } = (await analyseCapture(path, () => Readable.from([bytes]), settings(), undefined, async (_where, f) => f()))!;
  if (summary === undefined || model === undefined) throw new Error(`no analysis of ${path}`);
  const shown = maskPasswords(model);
  const ctx = new ViewContext(shown, summary, log, { color: false, width: 80, lang: 'en', detail: 'summary', showPasswords: false });
  return [
    JSON.stringify({ capture: summary, ...shown }, null, 2),
    renderTimeline(ctx), renderWalkthrough(ctx, en), renderLadder(ctx), renderPackets(ctx), await renderSummary(ctx), renderZeek(shown, FIXED_CLOCK),
  ].join('\n----\n');
}

