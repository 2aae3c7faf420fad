import { accessSync, constants, fstatSync, readFileSync, statSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import type { Argv, Options } from 'yargs';
import type { CaptureSummary } from '../analyze.js';
import { FailedReader, MergedReader, openCapture } from '../capture/open-capture.js';
import type { RecordReader } from '../capture/record-batch.js';
import { OPTIONS, camel, checkValue, defaultText, settings, type OptionSpec, type Settings } from '../config.js';
import type { FtpAnalyzer } from '../ftp/analyzer.js';
import type { LiveEvent } from '../model/ftp-model.js';
import { Masker } from '../ftp/policy.js';
import { createAnalysis, planFor, type Analysis } from '../pipeline.js';
import type { FtpAnalysis } from '../model/ftp-model.js';
import { SessionChoice, explainNoMatch, filterAnalysis, isEmptyFilter, isSessionSpec, parseTime, withSeverity } from '../render/filter.js';
import { graveEnough } from '../model/severity.js';
import { sanitize } from '../render/text.js';
import { makeFolders } from '../output/extract.js';
import { safeJson, safeJsonOf } from '../escape.js';

/** JSON and NDJSON are written through safeJson (src/escape.ts), and only through it. */
export { safeJson };

/** Everything the CLI touches of the outside world, so tests can run it in-process. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  stdoutIsTTY: boolean;
  /** Progress goes to stderr only when it is a terminal. */
  stderrIsTTY?: boolean;
  /** The terminal's width, when stdout is one. */
  columns?: number;
  env: Record<string, string | undefined>;
}

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;

/** The captures a file run reads (the main command's and `ftpscope report`'s positional argument). */
const CAPTURES = { type: 'string', array: true, describe: 'capture files, or - for standard input' } as const;

/** The capture `ftpscope demo` explains: the classic active-mode session. */
const DEMO_CAPTURE = new URL('../../../fixtures/active-ls-pwd.pcap', import.meta.url);
const STDIN_PLACEHOLDER = '\u0000stdin\u0000';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What the command line asked for: the settings of every option (src/config.ts), and what to read. */
interface Parsed {
  captures: string[];
  s: Settings;
}

/** yargs' description of one option of the registry. Defaults are the registry's, applied after parsing. */
function yargsOption(o: OptionSpec): Options {
  const describe = `${o.applies === 'live' ? 'live: ' : ''}${o.doc}${o.kind === 'number' ? ` (${o.unit})` : ''}`;
  const def = defaultText(o);
  const common: Options = { describe, ...(o.alias ? { alias: o.alias } : {}), ...(def === '' ? {} : { defaultDescription: def }) };
  switch (o.kind) {
    case 'number':
      return { ...common, type: 'number' };
    case 'boolean':
      return { ...common, type: 'boolean' };
    case 'choice':
      return { ...common, choices: o.choices as string[], ...(o.array ? { array: true, type: 'string' } : {}) };
    case 'string':
      return { ...common, type: 'string', ...(o.array ? { array: true } : {}) };
    case 'ports':
      return { ...common, type: 'number', array: true };
  }
}

/** The first word typed for an option that is not a number (what yargs turned into NaN), if any. */
function typed(argv: readonly string[], o: OptionSpec): string | undefined {
  const names = [`--${o.flag}`, ...(o.alias === undefined ? [] : [`-${o.alias}`])];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = names.find((n) => a.startsWith(`${n}=`));
    const value = eq !== undefined ? a.slice(eq.length + 1) : names.includes(a) ? argv[i + 1] : undefined;
    if (value !== undefined && Number.isNaN(Number(value))) return value;
  }
  return undefined;
}

/**
 * Every option, on every command (so that one given where it does not apply gets readSettings' words, not
 * yargs' "unknown argument"), shown in the help only where it applies.
 */
function withOptions<T>(y: Argv<T>, where: 'file' | 'live' | 'interfaces'): Argv<T> {
  for (const o of OPTIONS as readonly OptionSpec[]) {
    const shown = where === 'interfaces' ? o.flag === 'format' : o.applies === 'both' || o.applies === where;
    y.option(o.flag, { ...yargsOption(o), hidden: !shown });
  }
  return y;
}

/**
 * The settings from yargs' output: each option's value, or its default when it was not given. Returns the
 * one-line complaint of the first value out of bounds, or of an option given where it does not apply.
 */
function readSettings(out: Record<string, unknown>, where: 'file' | 'live', argv: readonly string[]): Settings | string {
  const s = settings();
  for (const o of OPTIONS as readonly OptionSpec[]) {
    let v = out[o.flag];
    if (v === undefined) continue;
    if (o.applies !== 'both' && o.applies !== where) {
      return o.applies === 'live' ? `--${o.flag} is an option of ftpscope live` : `--${o.flag} does not apply to live capture${LIVE_INSTEAD[o.flag] ?? ''}`;
    }
    if (o.kind === 'string' && o.array) v = (v as unknown[]).map(String);
    else if (o.kind === 'string') v = String(v);
    const bad = checkValue(o, v);
    // yargs made a word given for a number NaN: the complaint quotes what was typed.
    if (bad !== null) return (Array.isArray(v) ? v : [v]).some((x) => Number.isNaN(x)) ? `${bad}, got ${JSON.stringify(typed(argv, o) ?? '')}` : bad;
    if (o.requires !== undefined && out[o.requires] === undefined) return `--${o.flag} means something only with --${o.requires}`;
    (s as Record<string, unknown>)[camel(o.flag)] = v;
  }
  if (s.zeekDir !== null) {
    if (out.format !== undefined && s.format !== 'zeek') return `--zeek-dir writes Zeek logs: it goes with --format zeek, not ${s.format}`;
    s.format = 'zeek';
  }
  if (where === 'live' && (s.format === 'mermaid' || s.format === 'html')) return `--format ${s.format} draws the sessions of a capture file: save one with --write, then ftpscope --format ${s.format} FILE`;
  return s;
}

/** `ftpscope interfaces` lists devices: --format json is the one option it reads. */
function checkInterfacesRun(out: Record<string, unknown>): string | null {
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (o.flag === 'format' || out[o.flag] === undefined) continue;
    return `--${o.flag} does not apply to ftpscope interfaces (it takes only --format json)`;
  }
  if (out.format !== undefined && out.format !== 'text' && out.format !== 'json') return `ftpscope interfaces writes text or json, not ${String(out.format)}`;
  return null;
}

/** What live capture offers instead of an option it refuses. */
const LIVE_INSTEAD: Record<string, string> = {
  'time-from': ': it shows sessions as they happen (--duration stops it)',
  'time-to': ': it shows sessions as they happen (--duration stops it)',
};

/** Runs the command line; resolves to the exit code. Never throws for the user's input. */
export async function main(argv: string[], io: Io): Promise<number> {
  // The quickest answer: no argument parser is loaded to print the version.
  if (argv.length === 1 && argv[0] === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  let parsed: Parsed | null = null;
  let liveCommand: { command: string; s: Settings } | null = null;
  let usageError: string | null = null;
  let early: string | null = null;
  // yargs reads a lone "-" as an option; a placeholder carries standard input through the parser.
  argv = argv.map((a) => (a === '-' ? STDIN_PLACEHOLDER : a));
  const { default: yargs } = await import('yargs');
  const y = yargs(argv)
    .parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })
    .scriptName('ftpscope')
    .usage('Usage: $0 [options] <capture...>\n\nFollow FTP inside packet captures. A capture is a pcap or pcapng file, gzip-compressed or not,\nor - for standard input. Several captures are merged by time, like mergecap.')
    .command('$0 <captures..>', false, (c) => withOptions(c, 'file')
      .positional('captures', CAPTURES)
      .example('$0 capture.pcapng', 'the timeline of every FTP session, then tables of sessions, transfers and findings')
      .example('$0 -v walkthrough --session 2 capture.pcap', 'session 2, packet by packet, explained')
      .example('$0 -v summary --min-severity warning rotated-*.pcap.gz', 'tables only, warnings and alerts; several files merged by time')
      .example('tcpdump -i eth0 -w - tcp | $0 -', 'read a capture from standard input')
      .example('$0 --format json capture.pcap', 'the whole session model as JSON'))
    .command('demo', 'explain the classic FTP session shipped with ftpscope, step by step (the walkthrough view)', (c) => withOptions(c, 'file')
      .usage('Usage: $0 demo [options]\n\nExplain, packet by packet, the classic active-mode session shipped with ftpscope\n(fixtures/active-ls-pwd.pcap: open it in Wireshark beside the walkthrough).')
      .example('$0 demo', 'every packet of the classic session explained')
      .example('$0 demo --lang zh', 'the same, in Chinese')
      .example('$0 demo -v ladder', 'the session as a ladder diagram'))
    .command('report <captures..>', 'write the lesson page: ladder and walkthrough side by side, in English and Chinese, one HTML file', (c) => withOptions(c, 'file')
      .positional('captures', CAPTURES)
      .usage('Usage: $0 report [options] <capture...>\n\nWrite one self-contained HTML page (no network needed: it opens from a USB stick) with each session\nas an SVG ladder beside its numbered walkthrough, the findings, and the transfers; keyboard to step\nthrough it when projecting, a switch between English and Chinese, and a print layout.')
      .example('$0 report capture.pcap -o lesson.html', 'the lesson page of a capture')
      .example('$0 report --session 2 capture.pcap -o s2.html', 'one session only'))
    .command('live', 'sniff an interface and follow FTP as it happens (needs libpcap, and root or CAP_NET_RAW)', (c) => withOptions(c, 'live')
      .usage('Usage: $0 live -i NAME [options]\n\nSniff an interface and follow FTP as it happens (needs libpcap, and root or CAP_NET_RAW).\nCtrl-C stops it and prints the summary.')
      .example('sudo $0 live -i eth0', 'watch FTP on an interface as it happens')
      .example('sudo $0 live -i lo -v walkthrough --write ftp.pcap', 'explain each session as it ends, and keep the packets')
      .example("sudo $0 live -i eth0 --filter 'host 10.0.0.5' --duration 60 -f ndjson", 'one host for a minute, one event per line'))
    .command('interfaces', 'list the capture devices, their addresses, and which is the loopback', (c) => withOptions(c, 'interfaces')
      .usage('Usage: $0 interfaces [--format json]\n\nList the capture devices, their addresses, and which is the loopback.')
      .example('$0 interfaces', 'the devices, as a table')
      .example('$0 interfaces --format json', 'the same, as JSON'))
    .strict()
    .help()
    .alias('help', 'h')
    .version(version())
    .alias('version', 'V')
    .wrap(Math.min(110, io.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'invalid arguments';
    });
  try {
    const out = (await y.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) early = output;
    })) as Record<string, unknown> & { _: unknown[] };
    const command = out._[0];
    if (usageError === null && !out.help && !out.version) {
      const live = command === 'live' || command === 'interfaces';
      const s = command === 'interfaces' ? (checkInterfacesRun(out) ?? readSettings(out, 'live', argv)) : readSettings(out, live ? 'live' : 'file', argv);
      if (typeof s === 'string') usageError = s;
      else if (live) liveCommand = { command: command as string, s };
      else {
        const demo = command === 'demo';
        if (demo && out.view === undefined) s.view = ['walkthrough'];
        if (command === 'report') {
          if (out.format !== undefined && s.format !== 'html') usageError = `ftpscope report writes the lesson page (html), not ${s.format}`;
          s.format = 'html';
        }
        const captures = demo ? [DEMO_CAPTURE.pathname] : ((out.captures ?? []) as string[]).map((c) => (c === STDIN_PLACEHOLDER ? '-' : String(c)));
        parsed = { captures, s };
      }
    }
  } catch (e) {
    usageError ??= e instanceof Error ? e.message : String(e);
  }
  if (usageError !== null) {
    io.stderr.write(`ftpscope: ${sanitize(oneLine(usageError).replaceAll(STDIN_PLACEHOLDER, '-'))} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  }
  const settings = liveCommand?.s ?? parsed?.s;
  if (settings !== undefined) {
    const unreadable = keyLogs(settings, io);
    if (unreadable !== null) {
      io.stderr.write(`ftpscope: ${sanitize(oneLine(unreadable))}\n`);
      return EXIT_INPUT;
    }
  }
  if (liveCommand !== null) return runLiveCommand(liveCommand.command, liveCommand.s, io);
  if (parsed === null) {
    if (early !== null) io.stdout.write(`${early}\n`);
    return EXIT_OK;
  }
  const bad = checkFileRun(parsed);
  if (bad !== null) {
    io.stderr.write(`ftpscope: ${sanitize(bad)} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  }
  return run(parsed, io);
}

/** What the registry's bounds cannot say of a file run. */
function checkFileRun(p: Parsed): string | null {
  if (p.captures.filter((c) => c === '-').length > 1) return 'standard input (-) can be read only once';
  const extract = checkExtract(p.s);
  if (extract !== null) return extract;
  const odd = p.s.session.find((v) => !isSessionSpec(v));
  if (odd !== undefined) return `--session takes a session number or ADDR:PORT of either end of its control connection, got ${JSON.stringify(odd)}`;
  for (const [name, v] of [['--time-from', p.s.timeFrom], ['--time-to', p.s.timeTo]] as const) {
    if (v !== null && parseTime(v, 0) === null) return `${name} takes a time: ISO 8601, seconds since 1970, or +SECONDS from the capture's start (not ${JSON.stringify(v)})`;
    // A session's events stream before its end is known: whether it was still going at --time-from is not yet decided.
    if (v !== null && p.s.format === 'ndjson') {
      return name === '--time-from'
        ? "--time-from keeps the sessions still going at that time, known only once each ends, and NDJSON streams a session's events as they happen: --format json applies it"
        : '--time-to is not applied to streamed events: --format json applies it';
    }
  }
  return null;
}

async function run(p: Parsed, io: Io): Promise<number> {
  if (p.s.output === null) return runTo(p, io);
  // --output: standard output becomes the file; what fails to open it is an input-output error, said once.
  const { createWriteStream } = await import('node:fs');
  const file = createWriteStream(p.s.output);
  const opened = await new Promise<Error | null>((resolve) => {
    file.once('open', () => resolve(null));
    file.once('error', (e) => resolve(e));
  });
  if (opened !== null) {
    io.stderr.write(`ftpscope: --output: could not write ${sanitize(p.s.output)}: ${sanitize((opened as NodeJS.ErrnoException).code ?? opened.message)}\n`);
    return EXIT_INPUT;
  }
  let failed: Error | null = null;
  file.on('error', (e) => (failed = e));
  const code = await runTo(p, { ...io, stdout: file, stdoutIsTTY: false });
  await new Promise<void>((resolve) => file.end(resolve));
  if (failed !== null) {
    io.stderr.write(`ftpscope: --output: could not write ${sanitize(p.s.output)}: ${sanitize((failed as NodeJS.ErrnoException).code ?? (failed as Error).message)}\n`);
    return EXIT_INPUT;
  }
  return code;
}

async function runTo(p: Parsed, io: Io): Promise<number> {
  const s = p.s;
  const readers: RecordReader[] = [];
  for (const name of p.captures) {
    readers.push(await openCapture(name === '-' ? 'standard input' : name, name === '-' ? io.stdin : name));
  }
  // A capture that cannot be opened at all is fatal: its error alone, not an analysis of the others (mergecap's way).
  const unopened = readers.filter((r): r is FailedReader => r instanceof FailedReader);
  if (unopened.length > 0) {
    for (const r of readers) r.close();
    for (const f of unopened.flatMap((r) => r.faults)) io.stderr.write(`ftpscope: ${sanitize(f.file)}: at byte ${f.offset}: ${sanitize(f.reason)}\n`);
    return EXIT_INPUT;
  }
  const reader = readers.length === 1 ? readers[0]! : new MergedReader(readers);
  const masker = new Masker(s.showPasswords);
  const plan = planFor(s, 'file');
  // The summary alone, unfiltered, is written from rows kept as sessions end, in memory that does not
  // grow with the capture: each session goes once it and its transfers are over.
  const book = plan.release === 'report' ? new (await import('../render/summary.js')).SummaryBook(s.lang) : null;
  let sessions = 0;
  const progress = progressReporter(io, p.captures, () => sessions, s.quiet);
  // --session and --host choose the streamed events as they choose the model's sessions.
  const chosen = new SessionChoice({ sessions: s.session, hosts: s.host, from: null, to: null }, (id) => analysis.ftp.session(id));
  const analysis = createAnalysis(s, plan, {
    onEvent: s.format === 'ndjson' ? (e) => void (shownEvent(e, s) && chosen.event(e) && io.stdout.write(`${safeJson(masker.event(e))}\n`)) : undefined,
    // The events of a batch go out as they come; the next batch waits for a slow reader to take them.
    afterBatch: s.format === 'ndjson' ? () => drained(io.stdout) : undefined,
    onSessionDone: book === null ? undefined : (a) => book.addSession(masker.analysis(withSeverity(a, s.minSeverity))),
    onFindingDone: book === null ? undefined : (f, order) => void (graveEnough(f, s.minSeverity) && book.addFinding(masker.finding(f), order)),
    onProgress: progress === null ? undefined : (bytes, records) => {
      sessions = analysis.ftp.sessionCount;
      progress.update(bytes, records);
    },
  });
  const ftp = analysis.ftp;
  const summary = await analysis.run(reader);
  progress?.done();
  reader.close();
  if (book !== null) {
    try {
      await writeReport(ftp, book, summary, s, masker, io);
    } finally {
      book.close();
    }
    return finishRun(ftp, summary, s, io);
  }
  const captureStart = summary.first === null ? 0 : summary.first.sec + summary.first.nsec / 1e9;
  const whole = ftp.result();
  const filter = {
    sessions: s.session,
    hosts: s.host,
    from: s.timeFrom === null ? null : parseTime(s.timeFrom, captureStart),
    to: s.timeTo === null ? null : parseTime(s.timeTo, captureStart),
  };
  const model = withSeverity(filterAnalysis(whole, filter), s.minSeverity);
  // A filter that chose nothing says what the capture has instead, and nothing else is printed.
  if (!isEmptyFilter(filter) && model.sessions.length === 0) {
    io.stderr.write(`ftpscope: ${sanitize(explainNoMatch(whole, filter, (sec) => new Date(sec * 1000).toISOString()))}\n`);
    await finishRun(ftp, summary, s, io);
    return EXIT_INPUT;
  }
  const shown = masker.analysis(model);
  let written = 0;
  const counted = async (text: string, what: string): Promise<void> => {
    written += text.length;
    progress?.writing(what, written);
    await write(io.stdout, text);
  };
  if (s.format === 'json') {
    await writeJson(io.stdout, { ftpscope: version(), capture: summary, ...shown }, () => {
      analysis.memory.guard();
      progress?.writing('JSON', -1);
    });
  } else if (s.format === 'ndjson') {
    // The events went out as the analysis went; the end says what the capture held.
    await write(io.stdout, `${safeJson({ type: 'end', capture: summary, sessions: shown.sessions.length, transfers: shown.transfers.length, findings: shown.findings })}\n`);
  } else if (s.format === 'zeek') {
    if (!(await writeZeek(shown, analysis, s, io.stdout, io.stderr, (piece) => counted(piece, 'ftp.log'), (log, bytes) => progress?.writing(log, bytes)))) {
      await finishRun(ftp, summary, s, io);
      return EXIT_INPUT;
    }
  } else if (s.format === 'html') {
    const { ViewContext } = await import('../render/context.js');
    const { lessonPage } = await import('../render/lesson.js');
    const options = { ...viewOptions(s, io), color: false, width: 80 };
    const contexts = { en: new ViewContext(shown, summary, analysis.packets, { ...options, lang: 'en' as const }), zh: new ViewContext(shown, summary, analysis.packets, { ...options, lang: 'zh' as const }) };
    for (const chunk of lessonPage(contexts, summary.files.join(', '))) {
      analysis.memory.guard();
      await counted(chunk, 'lesson page');
    }
  } else if (s.format === 'mermaid') {
    const { ViewContext } = await import('../render/context.js');
    const { mermaidText } = await import('../render/mermaid.js');
    const ctx = new ViewContext(shown, summary, analysis.packets, { ...viewOptions(s, io), color: false });
    for (const chunk of mermaidText(ctx)) {
      analysis.memory.guard();
      if (chunk !== '') await counted(chunk, 'mermaid');
      else progress?.writing('mermaid', written);
    }
  } else {
    const { ViewContext } = await import('../render/context.js');
    const options = viewOptions(s, io);
    const ctx = new ViewContext(shown, summary, analysis.packets, options);
    // Each view as it is made, a session at a time for those that show sessions whole, with back-pressure.
    for (const [i, view] of s.view.entries()) {
      if (i > 0) await write(io.stdout, '\n');
      const text = await renderView(view, ctx, ftp, summary, options.color, s.lang);
      if (typeof text === 'string') await counted(text, view);
      else {
        for (const chunk of text) {
          analysis.memory.guard();
          if (chunk !== '') await counted(chunk, view);
          else progress?.writing(view, written);
        }
      }
    }
  }
  progress?.done();
  return finishRun(ftp, summary, s, io);
}

/** Whether a streamed event is shown: a finding below --min-severity is not. */
export function shownEvent(e: LiveEvent, s: Settings): boolean {
  return e.type !== 'finding' || graveEnough(e.finding, s.minSeverity);
}

/** The summary of a run that let its sessions go (see run): the rows kept, and those of what is still held. */
async function writeReport(ftp: FtpAnalyzer, book: import('../render/summary.js').SummaryBook, summary: CaptureSummary, p: Settings, masker: Masker, io: Io): Promise<void> {
  const { summaryText } = await import('../render/summary.js');
  const { ViewContext } = await import('../render/context.js');
  const left = withSeverity(ftp.result(), p.minSeverity);
  const ctx = new ViewContext(masker.analysis(left), summary, null, viewOptions(p, io));
  book.add(ctx, ctx.analysis.sessions, left.transfers, left.connections);
  for (const f of left.findings) book.addFinding(masker.finding(f), ftp.findingOrder(f));
  for await (const text of summaryText(ctx, book)) await write(io.stdout, text);
}

/**
 * --format zeek: ftp.log on `out` (each piece through `put`), or with --zeek-dir the three logs written in
 * that folder. False when the folder refused them (said on `err`).
 */
export async function writeZeek(
  shown: FtpAnalysis, analysis: Analysis, s: Settings, out: Writable, err: Writable,
  put?: (piece: string) => Promise<void>, progress?: (log: string, bytes: number) => void,
): Promise<boolean> {
  const { connLog, filesLog, ftpLog, zeekText } = await import('../render/zeek.js');
  const now = () => new Date();
  if (s.zeekDir === null) {
    for (const piece of zeekText(ftpLog(shown), now)) {
      analysis.memory.guard();
      await (put ?? ((p: string) => write(out, p)))(piece);
    }
    return true;
  }
  const { writeZeekLogs } = await import('../output/zeek-logs.js');
  const digests = analysis.digests;
  const digestOf = (id: number) => digests?.of(id);
  const failed = writeZeekLogs(s.zeekDir, [ftpLog(shown, digestOf), connLog(shown), filesLog(shown, digestOf)], now, (log, bytes) => {
    analysis.memory.guard();
    progress?.(log, bytes);
  });
  if (failed !== null) {
    err.write(`ftpscope: --zeek-dir: could not write ${sanitize(failed)}\n`);
    return false;
  }
  if (!s.quiet) err.write(`ftpscope: wrote ftp.log, conn.log and files.log in ${sanitize(s.zeekDir)}\n`);
  return true;
}

/** What every run ends with: the manifest of extracted files, the capture's faults, the exit code. */
async function finishRun(ftp: FtpAnalyzer, summary: CaptureSummary, s: Settings, io: Io): Promise<number> {
  ftp.log.close();
  await writeManifest(ftp, s, io);
  const back = summary.firstOutOfOrder;
  if (back !== null) {
    io.stderr.write(`ftpscope: ${sanitize(summary.files.join(', '))}: ${summary.outOfOrderRecords} record${summary.outOfOrderRecords === 1 ? ' is' : 's are'} earlier than the record before (the first: frame ${back.frame}, ${back.secondsBack.toFixed(6)} s back): durations across them are not given\n`);
  }
  for (const f of summary.faults) {
    io.stderr.write(`ftpscope: ${sanitize(f.file)}: at byte ${f.offset}: ${sanitize(f.reason)}${summary.records > 0 ? ' (everything before it was analysed)' : ''}\n`);
  }
  return summary.faults.length > 0 ? EXIT_INPUT : EXIT_OK;
}

/** With --extract, once the model is made (result()): the list of files written, in text output; then lets it go. */
export async function writeManifest(ftp: FtpAnalyzer, s: Settings, io: Io): Promise<void> {
  const manifest = ftp.manifest;
  if (ftp.manifestFailure !== null) io.stderr.write(`ftpscope: --extract: could not write ${sanitize(ftp.manifestFailure)}\n`);
  try {
    if (manifest !== null && s.format === 'text') {
      const { manifestText } = await import('../render/manifest.js');
      for await (const text of manifestText(manifest, ftp.manifestPath!, color(s, io), s.width ?? 80)) await write(io.stdout, text);
    }
  } finally {
    ftp.closeManifest();
  }
}

/**
 * Writes safeJson(value, 2) and a line end, byte for byte, without ever holding the text of a large part:
 * an array of more than a few hundred items (or an object that holds one, as a session its exchanges) is
 * written an item at a time, with back-pressure; `between` runs before each item (the memory guard).
 */
export async function writeJson(out: Writable, value: Record<string, unknown>, between?: () => void): Promise<void> {
  await writeJsonValue(out, value, '', between);
  await write(out, '\n');
}

/** Arrays longer than this are written an item at a time (see writeJson). */
const JSON_ITEMS_AT_ONCE = 256;

/** What JSON.stringify cannot write (undefined, a function, a symbol, a toJSON giving undefined), found without writing it. */
function omitted(x: unknown): boolean {
  if (x === undefined || typeof x === 'function' || typeof x === 'symbol') return true;
  const toJSON = x !== null && typeof x === 'object' ? (x as { toJSON?: unknown }).toJSON : undefined;
  return typeof toJSON === 'function' && (toJSON as () => unknown).call(x) === undefined;
}

/** Whether a value is to be written in parts: a long array, or an array or plain object with one within `depth` levels. */
function isLarge(v: unknown, depth = 3): boolean {
  if (v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(v)) return v.length > JSON_ITEMS_AT_ONCE || (depth > 0 && v.some((x) => isLarge(x, depth - 1)));
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return depth > 0 && Object.values(v).some((x) => isLarge(x, depth - 1));
}

/** safeJson(v, 2) as it would stand at `indent` inside its parent, written in parts when it is large. */
async function writeJsonValue(out: Writable, v: unknown, indent: string, between?: () => void): Promise<void> {
  if (!isLarge(v)) {
    await write(out, indentLines(safeJsonOf(v, 2) ?? 'null', indent));
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    await write(out, '[\n');
    for (let k = 0; k < v.length; k++) {
      between?.();
      // JSON.stringify writes null for what it cannot write in an array (undefined, functions, symbols).
      const item = omitted(v[k]) ? null : v[k];
      const end = k < v.length - 1 ? ',\n' : '\n';
      // A small item in one write with its indent and separator (three awaits an item made JSON 18 % slower).
      if (!isLarge(item)) await write(out, `${inner}${indentLines(safeJsonOf(item, 2) ?? 'null', inner)}${end}`);
      else {
        await write(out, inner);
        await writeJsonValue(out, item, inner, between);
        await write(out, end);
      }
    }
    await write(out, `${indent}]`);
    return;
  }
  // Values JSON.stringify leaves out of an object (undefined, functions, symbols, a toJSON giving undefined).
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => !omitted(x));
  if (entries.length === 0) return write(out, '{}');
  await write(out, '{\n');
  for (const [i, [key, x]] of entries.entries()) {
    await write(out, `${inner}${safeJson(key)}: `);
    await writeJsonValue(out, x, inner, between);
    await write(out, i < entries.length - 1 ? ',\n' : '\n');
  }
  await write(out, `${indent}}`);
}

/** Every line but the first of a JSON text, indented (JSON strings hold no raw line end). */
function indentLines(json: string, indent: string): string {
  return indent === '' || !json.includes('\n') ? json : json.replaceAll('\n', `\n${indent}`);
}

/** --extract names a folder (made when missing), not a file. */
function checkExtract(s: Settings): string | null {
  if (s.extract === null) return null;
  try {
    if (!statSync(s.extract).isDirectory()) return `--extract takes a folder; ${JSON.stringify(s.extract)} is not one`;
    return null;
  } catch {
    // Made now, before anything is read: a folder that cannot be made is said at once.
  }
  try {
    makeFolders(s.extract);
    return null;
  } catch (e) {
    return `--extract: cannot make the folder ${JSON.stringify(s.extract)} (${(e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e))})`;
  }
}

/** `ftpscope live` and `ftpscope interfaces`. */
async function runLiveCommand(command: string, s: Settings, io: Io): Promise<number> {
  const { runInterfaces } = await import('./live.js');
  const usage = (msg: string) => {
    io.stderr.write(`ftpscope: ${msg} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  };
  if (command === 'interfaces') return runInterfaces(s.format === 'json', io.stdout, io.stderr);
  if (s.interface === null || s.interface === '') return usage('live needs an interface: -i NAME (ftpscope interfaces lists them)');
  if (s.view.includes('connections')) return usage('the connections view lists every TCP connection of a capture file; live capture keeps only FTP\'s');
  const extract = checkExtract(s);
  if (extract !== null) return usage(extract);
  const { runCaptureThread } = await import('./live-thread.js');
  return runCaptureThread(s, viewOptions(s, io), io);
}

export function color(s: Settings, io: Io): boolean {
  return s.color === 'always' || (s.color === 'auto' && io.stdoutIsTTY && !io.env.NO_COLOR);
}

/**
 * The TLS key logs: those named (--tls-keylog) and $SSLKEYLOGFILE, said on stderr when it is read (a
 * variable set for a client may be read without the user thinking of it). Why one cannot be read, or null.
 */
function keyLogs(s: Settings, io: Io): string | null {
  const fromEnv = io.env.SSLKEYLOGFILE;
  if (fromEnv !== undefined && fromEnv !== '' && !s.tlsKeylog.includes(fromEnv)) {
    s.tlsKeylog = [...s.tlsKeylog, fromEnv];
    io.stderr.write(`ftpscope: reading TLS secrets from $SSLKEYLOGFILE (${sanitize(fromEnv)})\n`);
  }
  for (const f of s.tlsKeylog) {
    try {
      accessSync(f, constants.R_OK);
      if (!statSync(f).isFile()) return `${f}: a TLS key log must be a file`;
    } catch (e) {
      return `${f}: cannot read the TLS key log (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
  }
  return null;
}

export function viewOptions(s: Settings, io: Io): import('../render/context.js').ViewOptions {
  return { color: color(s, io), width: s.width ?? (io.stdoutIsTTY && io.columns ? io.columns : 80), lang: s.lang, detail: s.detail, showPasswords: s.showPasswords, timeFormat: s.timeFormat };
}

/** One view, its module loaded only when asked for. */
async function renderView(view: string, ctx: import('../render/context.js').ViewContext, ftp: FtpAnalyzer, summary: import('../analyze.js').CaptureSummary, color: boolean, lang: 'en' | 'zh'): Promise<string | Iterable<string>> {
  switch (view) {
    case 'timeline':
      return (await import('../render/timeline.js')).timelineText(ctx);
    case 'walkthrough': {
      const { walkthroughText } = await import('../render/walkthrough.js');
      const messages = lang === 'zh' ? (await import('../render/messages-zh.js')).zh : (await import('../render/messages.js')).en;
      return walkthroughText(ctx, messages);
    }
    case 'ladder':
      return (await import('../render/ladder.js')).ladderText(ctx);
    case 'packets':
      return (await import('../render/packets.js')).packetsText(ctx);
    case 'summary':
      return (await import('../render/summary.js')).renderSummary(ctx);
    default:
      return (await import('../render/connections.js')).connectionsText(summary, ftp.log, color, ctx.options.width, lang);
  }
}

/** What progressReporter gives: the reading's figures, then the writing's, each shown at most four times a second. */
interface Progress {
  update(bytes: number, records: number): void;
  /** `what` is being written: `bytes` of it so far (-1: not counted). */
  writing(what: string, bytes: number): void;
  done(): void;
}

/**
 * Progress on stderr while anything takes more than a moment (reading, analysing, writing a view or the
 * JSON), when stderr is a terminal and --quiet is not given; nothing otherwise. The line is rewritten in
 * place at most four times a second and cleared at the end.
 */
function progressReporter(io: Io, captures: string[], sessions: () => number, quiet: boolean): Progress | null {
  if (io.stderrIsTTY !== true || quiet) return null;
  let total = 0;
  for (const c of captures) {
    try {
      if (c !== '-') total += statSync(c).size;
    } catch {
      // a missing file is reported by the reader
    }
  }
  const began = Date.now();
  let last = 0;
  let shown = false;
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const show = (text: string): void => {
    const now = Date.now();
    // Only when it takes more than a moment, and a few times a second at most.
    if (now - began < 500 || now - last < 250) return;
    last = now;
    shown = true;
    io.stderr.write(`\rftpscope: ${text}\u001b[K`);
  };
  return {
    update(bytes, records) {
      const n = sessions();
      show(`${mb(bytes)}${total > 0 ? ` of ${mb(total)}` : ''} read, ${records.toLocaleString('en-US')} packets, ${n} FTP session${n === 1 ? '' : 's'}`);
    },
    writing(what, bytes) {
      show(`writing the ${what}${bytes < 0 ? '' : `: ${mb(bytes)} so far`}`);
    },
    done() {
      if (shown) io.stderr.write('\r\u001b[K');
      shown = false;
    },
  };
}

/** Nothing when `stream` takes more now; else a promise settled once it drains (or closes, or fails: never a hang). */
export function drained(stream: Writable): Promise<void> | undefined {
  if (!stream.writableNeedDrain) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', resolve);
  });
}

/** yargs' messages can run over several lines; an error is one line. */
function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

/**
 * Standard input as a stream. Node reads a directory (`ftpscope - < folder`) or a closed descriptor 0 as an
 * empty stream, which would be "the file is empty": reading it fails instead, saying why.
 */
function standardInput(): Readable {
  let why: NodeJS.ErrnoException | null = null;
  try {
    if (fstatSync(0).isDirectory()) why = Object.assign(new Error('EISDIR: illegal operation on a directory, read'), { code: 'EISDIR' });
  } catch (e) {
    why = e as NodeJS.ErrnoException;
  }
  if (why === null) return process.stdin;
  const failing = why;
  return new Readable({
    read() {
      this.destroy(failing);
    },
  });
}

/** The entry point of bin/ftpscope.js. */
export async function runFromProcess(): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    process.exitCode = await main(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: standardInput(),
      stdoutIsTTY: process.stdout.isTTY === true,
      stderrIsTTY: process.stderr.isTTY === true,
      columns: process.stdout.columns,
      env: process.env,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ftpscope: internal error: ${sanitize(msg)} (this is a bug; FTPSCOPE_DEBUG=1 shows where)\n`);
    if (process.env.FTPSCOPE_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
    process.exitCode = EXIT_INPUT;
  }
}
