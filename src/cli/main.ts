import { readFileSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_ANALYZE_OPTIONS, analyze, type AnalyzeOptions, type CaptureSummary } from '../analyze.js';
import { MergedReader, openCapture } from '../capture/open-capture.js';
import type { RecordReader } from '../capture/record-batch.js';
import { DEFAULT_FRAGMENT_LIMITS } from '../decode/ip-fragments.js';
import { DEFAULT_CONNECTION_LIMITS } from '../flow/connections.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../flow/reassembler.js';
import { FtpAnalyzer } from '../ftp/analyzer.js';
import { HIDDEN, maskPasswords, passwordIsPublic } from '../ftp/policy.js';
import type { LiveEvent } from '../model/ftp-model.js';
import { DEFAULT_FTP_LIMITS } from '../ftp/session.js';
import { DEFAULT_PACKET_LOG_LIMITS, PacketLog } from '../flow/packet-log.js';
import { filterAnalysis, parseTime } from '../render/filter.js';
import { sanitize } from '../render/text.js';

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

const VIEWS = ['timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'] as const;
/** Views that read nothing of the commands and replies but their number (the model can let them go). */
const COUNTING_VIEWS = new Set(['summary', 'connections']);
/** Views that need every packet of the FTP connections. */
const PACKET_VIEWS = new Set(['walkthrough', 'ladder', 'packets']);
/** The capture `ftpscope demo` explains: the classic active-mode session. */
const DEMO_CAPTURE = new URL('../../../fixtures/active-ls-pwd.pcap', import.meta.url);
const STDIN_PLACEHOLDER = '\u0000stdin\u0000';
const FORMATS = ['text', 'json', 'ndjson', 'zeek'] as const;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface Parsed {
  captures: string[];
  view: string[];
  format: (typeof FORMATS)[number];
  ports: number[];
  idleTimeout: number;
  maxConnections: number;
  maxBuffer: number;
  maxBufferTotal: number;
  retransmitWindow: number;
  color: string;
  showPasswords: boolean;
  sniff: boolean;
  maxLineLength: number;
  maxPendingCommands: number;
  maxPredictionsPerSession: number;
  maxPredictions: number;
  predictionTimeout: number;
  bruteForceThreshold: number;
  bruteForceWindow: number;
  maxReplyLines: number;
  maxExchanges: number;
  maxPacketLog: number;
  maxFragmentBytes: number;
  fragmentTimeout: number;
  lang: 'en' | 'zh';
  detail: 'summary' | 'packets';
  session: string[];
  host: string[];
  timeFrom: string | null;
  timeTo: string | null;
  width: number | null;
  extract: string | null;
  extractListings: boolean;
}

/** Runs the command line; resolves to the exit code. Never throws for the user's input. */
export async function main(argv: string[], io: Io): Promise<number> {
  // The quickest answer: no argument parser is loaded to print the version.
  if (argv.length === 1 && argv[0] === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  let parsed: Parsed | null = null;
  let liveCommand: { command: string; out: Record<string, unknown> } | null = null;
  let usageError: string | null = null;
  let early: string | null = null;
  // yargs reads a lone "-" as an option; a placeholder carries standard input through the parser.
  argv = argv.map((a) => (a === '-' ? STDIN_PLACEHOLDER : a));
  const { default: yargs } = await import('yargs');
  const y = yargs(argv)
    .parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })
    .scriptName('ftpscope')
    .usage('Usage: $0 [options] <capture...>\n\nFollow FTP inside packet captures. A capture is a pcap or pcapng file, gzip-compressed or not,\nor - for standard input. Several captures are merged by time, like mergecap.')
    .command('$0 <captures..>', false)
    .command('demo', 'explain the classic FTP session shipped with ftpscope, step by step (the walkthrough view)')
    .command('live', 'sniff an interface and follow FTP as it happens (needs libpcap, and root or CAP_NET_RAW)')
    .command('interfaces', 'list the capture devices, their addresses, and which is the loopback')
    .option('interface', { alias: 'i', type: 'string', describe: 'live: the device to capture on (ftpscope interfaces lists them)' })
    .option('filter', { type: 'string', describe: 'live: a BPF expression narrowing the capture; it is combined with tcp, never replaces it' })
    .option('buffer-size', { type: 'number', default: 16, describe: 'live: MiB of libpcap buffer' })
    .option('duration', { type: 'number', describe: 'live: stop after this many seconds' })
    .option('count', { type: 'number', describe: 'live: stop after this many packets' })
    .option('write', { type: 'string', describe: 'live: also save every packet to this pcap file (flushed every second)' })
    .positional('captures', { type: 'string', array: true, describe: 'capture files, or - for standard input' })
    .option('view', {
      alias: 'v',
      type: 'string',
      array: true,
      choices: VIEWS as unknown as string[],
      default: ['timeline', 'summary'],
      describe: 'what to show, several in the order given: timeline (each session event by event), walkthrough (every packet explained, for learning), ladder (a sequence diagram), packets (a packet list like Wireshark\'s), summary (tables of sessions, transfers, findings), connections (every TCP connection)',
    })
    .option('detail', { choices: ['summary', 'packets'], default: 'summary', describe: 'walkthrough and ladder: a transfer\'s data in one step (summary) or every data segment (packets)' })
    .option('lang', { choices: ['en', 'zh'], default: 'en', describe: 'language of the walkthrough\'s explanations' })
    .option('session', { type: 'string', array: true, default: [] as string[], describe: 'show only these sessions: a number, or ADDR:PORT of either end of the control connection' })
    .option('host', { type: 'string', array: true, default: [] as string[], describe: 'show only sessions of these hosts (client or server address)' })
    .option('time-from', { type: 'string', describe: 'show only sessions still going at this time (ISO 8601, seconds since 1970, or +SECONDS from the capture\'s start)' })
    .option('time-to', { type: 'string', describe: 'show only sessions that began by this time' })
    .option('width', { type: 'number', describe: 'columns of text output (default: the terminal\'s, or 80)' })
    .option('format', { alias: 'f', choices: FORMATS as unknown as string[], default: 'text', describe: 'text for people; json: the FTP session model (sessions, exchanges, predictions, transfers, findings, connections); zeek: the columns of Zeek\'s ftp.log' })
    .option('ports', { type: 'number', array: true, default: [] as number[], describe: 'more ports that FTP servers listen on (21 is always one)' })
    .option('extract', { type: 'string', describe: 'write every transferred file under this folder, with manifest.json (SHA-256, MD5, sizes, holes, results)' })
    .option('extract-listings', { type: 'boolean', default: false, describe: 'with --extract: also write the output of LIST, NLST and MLSD' })
    .option('show-passwords', { type: 'boolean', default: false, describe: 'show passwords (by default only anonymous users\' e-mail addresses are shown)' })
    .option('sniff', { type: 'boolean', default: true, describe: 'recognise FTP on other ports by its first lines (--sniff false to turn off)' })
    .option('max-line-length', { type: 'number', default: DEFAULT_FTP_LIMITS.maxLineLength, describe: 'longest command or reply line kept; longer ones are cut and reported' })
    .option('max-pending-commands', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPendingCommands, describe: 'commands awaiting a reply, per session; beyond it the oldest is given up and reported' })
    .option('max-predictions-per-session', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPredictionsPerSession, describe: 'announced data connections awaited at once in one session' })
    .option('max-predictions', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPredictions, describe: 'announced data connections awaited at once in all' })
    .option('max-reply-lines', { type: 'number', default: DEFAULT_FTP_LIMITS.maxReplyLines, describe: 'lines kept of one multi-line reply' })
    .option('max-exchanges', { type: 'number', default: DEFAULT_FTP_LIMITS.maxExchanges, describe: 'commands and replies kept per session (beyond: counted only)' })
    .option('max-packet-log', { type: 'number', default: DEFAULT_PACKET_LOG_LIMITS.maxPackets, describe: 'packets kept for the walkthrough, ladder and packet views' })
    .option('max-fragment-bytes', { type: 'number', default: DEFAULT_FRAGMENT_LIMITS.maxBytes / 2 ** 20, describe: 'MiB held for IP fragments awaiting the rest of their datagram' })
    .option('fragment-timeout', { type: 'number', default: DEFAULT_FRAGMENT_LIMITS.timeoutSec, describe: 'seconds of capture time an incomplete IP datagram is awaited' })
    .option('brute-force-threshold', { type: 'number', default: DEFAULT_FTP_LIMITS.bruteForceThreshold, describe: 'failed logins from one client, within the window, that make a brute-force finding' })
    .option('brute-force-window', { type: 'number', default: DEFAULT_FTP_LIMITS.bruteForceWindowSec, describe: 'seconds of capture time the brute-force threshold counts over' })
    .option('prediction-timeout', { type: 'number', default: DEFAULT_FTP_LIMITS.predictionTimeoutSec, describe: 'seconds of capture time an announced data connection is awaited' })
    .option('idle-timeout', { type: 'number', default: DEFAULT_CONNECTION_LIMITS.idleTimeoutSec, describe: 'seconds of capture time after which a silent connection is closed' })
    .option('max-connections', { type: 'number', default: DEFAULT_CONNECTION_LIMITS.maxConnections, describe: 'connections tracked at once (the least recently active one is closed beyond it)' })
    .option('max-buffer', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.maxBufferedPerDirection / 2 ** 20, describe: 'MiB of out-of-order data held per direction before the hole in front of it is declared a gap' })
    .option('max-buffer-total', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.maxBufferedTotal / 2 ** 20, describe: 'MiB of out-of-order data held across all connections' })
    .option('retransmit-window', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.retransmitWindow, describe: 'bytes of each stream kept to check that retransmissions match (0: do not check)' })
    .option('color', { choices: ['auto', 'always', 'never'], default: 'auto', describe: 'colour in text output (auto: only on a terminal, and not when NO_COLOR is set)' })
    .example('$0 demo', 'learn how FTP works: the classic session, every packet explained')
    .example('sudo $0 live -i eth0', 'watch FTP on an interface as it happens (Ctrl-C for the summary)')
    .example('sudo $0 live -i lo -v walkthrough --write ftp.pcap', 'explain each session on the loopback as it ends, and keep the packets')
    .example('$0 capture.pcapng', 'the timeline of every FTP session, then tables of sessions, transfers and findings')
    .example('$0 -v walkthrough --session 2 capture.pcap', 'session 2, packet by packet, explained')
    .example('$0 -v walkthrough --lang zh capture.pcap', 'the walkthrough in Chinese')
    .example('$0 -v ladder capture.pcap', 'a sequence diagram of client and server')
    .example('$0 -v packets --host 10.0.0.5 capture.pcap', 'a packet list of the sessions of one host')
    .example('$0 -v summary rotated-*.pcap.gz', 'tables only; several files merged by time, compressed or not')
    .example('$0 -v connections capture.pcap', 'every TCP connection, FTP or not')
    .example('tcpdump -i eth0 -w - tcp | $0 -', 'read a capture from standard input')
    .example('$0 --format json capture.pcap', 'the whole session model as JSON (ndjson: one event per line; zeek: ftp.log columns)')
    .strict()
    .help()
    .alias('help', 'h')
    .version(version())
    .wrap(Math.min(110, io.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'invalid arguments';
    });
  try {
    const out = await y.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) early = output;
    });
    const command = out._[0];
    if (usageError === null && !out.help && !out.version && (command === 'live' || command === 'interfaces')) {
      liveCommand = { command, out };
    } else if (usageError === null && !('help' in out && out.help) && !('version' in out && out.version)) {
      const demo = out._[0] === 'demo';
      parsed = {
        captures: demo ? [DEMO_CAPTURE.pathname] : ((out.captures ?? []) as string[]).map((c) => (c === STDIN_PLACEHOLDER ? '-' : String(c))),
        view: demo && !argv.some((a) => a === '-v' || a.startsWith('--view')) ? ['walkthrough'] : (out.view as string[]),
        format: out.format as Parsed['format'],
        ports: out.ports as number[],
        idleTimeout: out['idle-timeout'] as number,
        maxConnections: out['max-connections'] as number,
        maxBuffer: out['max-buffer'] as number,
        maxBufferTotal: out['max-buffer-total'] as number,
        retransmitWindow: out['retransmit-window'] as number,
        color: out.color as string,
        showPasswords: out['show-passwords'] as boolean,
        sniff: out.sniff as boolean,
        maxLineLength: out['max-line-length'] as number,
        maxPendingCommands: out['max-pending-commands'] as number,
        maxPredictionsPerSession: out['max-predictions-per-session'] as number,
        maxPredictions: out['max-predictions'] as number,
        predictionTimeout: out['prediction-timeout'] as number,
        bruteForceThreshold: out['brute-force-threshold'] as number,
        bruteForceWindow: out['brute-force-window'] as number,
        maxReplyLines: out['max-reply-lines'] as number,
        maxExchanges: out['max-exchanges'] as number,
        maxPacketLog: out['max-packet-log'] as number,
        maxFragmentBytes: out['max-fragment-bytes'] as number,
        fragmentTimeout: out['fragment-timeout'] as number,
        lang: out.lang as 'en' | 'zh',
        detail: out.detail as 'summary' | 'packets',
        session: (out.session as string[]).map(String),
        host: (out.host as string[]).map(String),
        timeFrom: (out['time-from'] as string | undefined) ?? null,
        timeTo: (out['time-to'] as string | undefined) ?? null,
        width: (out.width as number | undefined) ?? null,
        extract: (out.extract as string | undefined) ?? null,
        extractListings: out['extract-listings'] as boolean,
      };
    }
  } catch (e) {
    usageError ??= e instanceof Error ? e.message : String(e);
  }
  if (usageError !== null) {
    io.stderr.write(`ftpscope: ${sanitize(oneLine(usageError).replaceAll(STDIN_PLACEHOLDER, '-'))} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  }
  if (liveCommand !== null) return runLiveCommand(liveCommand.command, liveCommand.out, io);
  if (parsed === null) {
    if (early !== null) io.stdout.write(`${early}\n`);
    return EXIT_OK;
  }
  const bad = checkNumbers(parsed);
  if (bad !== null) {
    io.stderr.write(`ftpscope: ${sanitize(bad)} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  }
  return run(parsed, io);
}

function checkNumbers(p: Parsed): string | null {
  for (const port of p.ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `--ports takes port numbers from 1 to 65535, not ${port}`;
  }
  const positive: Array<[string, number]> = [
    ['--idle-timeout', p.idleTimeout],
    ['--max-connections', p.maxConnections],
    ['--max-buffer', p.maxBuffer],
    ['--max-buffer-total', p.maxBufferTotal],
    ['--max-line-length', p.maxLineLength],
    ['--max-pending-commands', p.maxPendingCommands],
    ['--max-predictions-per-session', p.maxPredictionsPerSession],
    ['--max-predictions', p.maxPredictions],
    ['--prediction-timeout', p.predictionTimeout],
    ['--brute-force-threshold', p.bruteForceThreshold],
    ['--brute-force-window', p.bruteForceWindow],
    ['--max-reply-lines', p.maxReplyLines],
    ['--max-exchanges', p.maxExchanges],
    ['--max-packet-log', p.maxPacketLog],
    ['--max-fragment-bytes', p.maxFragmentBytes],
    ['--fragment-timeout', p.fragmentTimeout],
  ];
  for (const [name, v] of positive) if (!(v > 0)) return `${name} takes a number above 0`;
  if (!(p.retransmitWindow >= 0) || !Number.isInteger(p.retransmitWindow)) return '--retransmit-window takes a whole number of bytes, 0 or more';
  if (p.captures.filter((c) => c === '-').length > 1) return 'standard input (-) can be read only once';
  if (p.width !== null && !(p.width >= 40 && Number.isInteger(p.width))) return '--width takes a whole number of columns, 40 or more';
  for (const [name, v] of [['--time-from', p.timeFrom], ['--time-to', p.timeTo]] as const) {
    if (v !== null && parseTime(v, 0) === null) return `${name} takes a time: ISO 8601, seconds since 1970, or +SECONDS from the capture's start (not ${JSON.stringify(v)})`;
  }
  return null;
}

async function run(p: Parsed, io: Io): Promise<number> {
  const readers: RecordReader[] = [];
  for (const name of p.captures) {
    readers.push(await openCapture(name === '-' ? 'standard input' : name, name === '-' ? io.stdin : name));
  }
  const reader = readers.length === 1 ? readers[0]! : new MergedReader(readers);
  const options: AnalyzeOptions = {
    ...DEFAULT_ANALYZE_OPTIONS,
    serverPorts: new Set([21, ...p.ports]),
    connections: { ...DEFAULT_CONNECTION_LIMITS, idleTimeoutSec: p.idleTimeout, maxConnections: Math.floor(p.maxConnections) },
    reassembly: {
      ...DEFAULT_REASSEMBLY_LIMITS,
      maxBufferedPerDirection: Math.floor(p.maxBuffer * 2 ** 20),
      maxBufferedTotal: Math.floor(p.maxBufferTotal * 2 ** 20),
      retransmitWindow: p.retransmitWindow,
    },
    fragments: { ...DEFAULT_FRAGMENT_LIMITS, maxBytes: Math.floor(p.maxFragmentBytes * 2 ** 20), timeoutSec: p.fragmentTimeout },
  };
  const stream = p.format === 'ndjson' ? ndjsonWriter(io.stdout, p.showPasswords) : null;
  // The summary alone, unfiltered, is written from rows kept as sessions end, in memory that does not
  // grow with the capture: each session goes once it and its transfers are over.
  const report = p.format === 'text' && p.view.length > 0 && p.view.every((v) => v === 'summary') && p.session.length === 0 && p.host.length === 0 && p.timeFrom === null && p.timeTo === null;
  const book = report ? new (await import('../render/summary.js')).SummaryBook() : null;
  const ftp = new FtpAnalyzer({
    ports: options.serverPorts,
    onEvent: stream ?? undefined,
    extract: p.extract === null ? undefined : { dir: p.extract, listings: p.extractListings },
    showPasswords: p.showPasswords,
    sniff: p.sniff,
    keepExchanges: !(p.format === 'text' && p.view.every((v) => COUNTING_VIEWS.has(v))),
    release: book === null ? false : 'report',
    onSessionDone: book === null ? undefined : (a) => book.addSession(a),
    onFindingDone: book === null ? undefined : (f, order) => book.addFinding(f, order),
    logEveryConnection: p.format === 'text' && p.view.includes('connections'),
    limits: {
      ...DEFAULT_FTP_LIMITS,
      maxLineLength: Math.floor(p.maxLineLength),
      maxPendingCommands: Math.floor(p.maxPendingCommands),
      maxPredictionsPerSession: Math.floor(p.maxPredictionsPerSession),
      maxPredictions: Math.floor(p.maxPredictions),
      predictionTimeoutSec: p.predictionTimeout,
      maxReplyLines: Math.floor(p.maxReplyLines),
      maxExchanges: Math.floor(p.maxExchanges),
      bruteForceThreshold: Math.floor(p.bruteForceThreshold),
      bruteForceWindowSec: p.bruteForceWindow,
    },
  });
  const wantsPackets = p.format === 'text' && p.view.some((v) => PACKET_VIEWS.has(v));
  const log = wantsPackets ? new PacketLog(ftp, { maxPackets: Math.floor(p.maxPacketLog) }) : null;
  const progress = progressReporter(io, p.captures, () => ftp.sessionCount);
  const summary = await analyze(reader, log ?? ftp, { ...options, onProgress: progress?.update });
  progress?.done();
  reader.close();
  if (book !== null) {
    try {
      await writeReport(ftp, book, summary, p, io);
    } finally {
      book.close();
    }
    return finishRun(ftp, summary, p, io);
  }
  const captureStart = summary.first === null ? 0 : summary.first.sec + summary.first.nsec / 1e9;
  const model = filterAnalysis(ftp.result(), {
    sessions: p.session,
    hosts: p.host,
    from: p.timeFrom === null ? null : parseTime(p.timeFrom, captureStart),
    to: p.timeTo === null ? null : parseTime(p.timeTo, captureStart),
  });
  const shown = p.showPasswords ? model : maskPasswords(model);
  if (p.format === 'json') {
    await writeJson(io.stdout, { ftpscope: version(), capture: summary, ...shown });
  } else if (p.format === 'ndjson') {
    // The events went out as the analysis went; the end says what the capture held.
    await write(io.stdout, `${safeJson({ type: 'end', capture: summary, sessions: shown.sessions.length, transfers: shown.transfers.length, findings: shown.findings })}\n`);
  } else if (p.format === 'zeek') {
    const { renderZeek } = await import('../render/zeek.js');
    await write(io.stdout, renderZeek(model, p.showPasswords));
  } else {
    const { ViewContext } = await import('../render/context.js');
    const options = viewOptions(p, io);
    const ctx = new ViewContext(shown, summary, log, options);
    const parts: string[] = [];
    for (const view of p.view) parts.push(await renderView(view, ctx, ftp, summary, options.color, p.lang));
    await write(io.stdout, parts.join('\n'));
  }
  return finishRun(ftp, summary, p, io);
}

/** The summary of a run that let its sessions go (see run): the rows kept, and those of what is still held. */
async function writeReport(ftp: FtpAnalyzer, book: import('../render/summary.js').SummaryBook, summary: CaptureSummary, p: Parsed, io: Io): Promise<void> {
  const { summaryText } = await import('../render/summary.js');
  const { ViewContext } = await import('../render/context.js');
  const left = ftp.result();
  const ctx = new ViewContext(left, summary, null, viewOptions(p, io));
  book.add(ctx, left.sessions, left.transfers, left.connections);
  for (const f of left.findings) book.addFinding(f, ftp.findingOrder(f));
  for await (const text of summaryText(ctx, book)) await write(io.stdout, text);
}

/** What every run ends with: the manifest of extracted files, the capture's faults, the exit code. */
async function finishRun(ftp: FtpAnalyzer, summary: CaptureSummary, p: Parsed, io: Io): Promise<number> {
  const manifest = ftp.manifest;
  try {
    if (manifest !== null && p.format === 'text') {
      const { manifestText } = await import('../render/manifest.js');
      for await (const text of manifestText(manifest, ftp.manifestPath!, color(p, io), p.width ?? 80)) await write(io.stdout, text);
    }
  } finally {
    ftp.closeManifest();
  }
  for (const f of summary.faults) {
    io.stderr.write(`ftpscope: ${sanitize(f.file)}: at byte ${f.offset}: ${sanitize(f.reason)}${summary.records > 0 ? ' (everything before it was analysed)' : ''}\n`);
  }
  return summary.faults.length > 0 ? EXIT_INPUT : EXIT_OK;
}

/**
 * Writes each analysis event as one JSON line the moment it is known. Passwords are hidden unless shown
 * (anonymous users' passwords, e-mail addresses, are shown), as in every other output.
 */
function ndjsonWriter(out: Writable, showPasswords: boolean): (e: LiveEvent) => void {
  const users = new Map<number, string>();
  return (e) => {
    let line: unknown = e;
    if (e.type === 'command' || e.type === 'reply') {
      if (e.exchange.command === 'USER') users.set(e.session, e.exchange.argument);
      if (e.exchange.command === 'PASS' && !showPasswords && !passwordIsPublic(users.get(e.session) ?? null)) {
        line = { ...e, exchange: { ...e.exchange, argument: HIDDEN } };
      }
    } else if (e.type === 'session-end' && !showPasswords) {
      line = { ...e, session: maskPasswords({ sessions: [e.session], predictions: [], transfers: [], findings: [], connections: [], timeline: [] }).sessions[0] };
    }
    out.write(`${safeJson(line)}\n`);
  };
}

/**
 * JSON with the characters JSON leaves raw but a terminal may obey (DEL, the C1 controls such as CSI, the
 * Unicode line separators) written as \u escapes: the same value, and safe to print.
 */
export function safeJson(value: unknown, indent?: number): string {
  return escapeJson(JSON.stringify(value, null, indent));
}

/** safeJson, or undefined for what JSON cannot write (undefined, a function, a symbol). */
function safeJsonOf(value: unknown, indent?: number): string | undefined {
  const text = JSON.stringify(value, null, indent) as string | undefined;
  return text === undefined ? undefined : escapeJson(text);
}

function escapeJson(text: string): string {
  return text.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Writes safeJson(value, 2) and a line end, one element of each top-level array at a time (with
 * back-pressure), so that the text of a large model is never held whole: byte for byte the same output.
 */
export async function writeJson(out: Writable, value: Record<string, unknown>): Promise<void> {
  // Values JSON.stringify leaves out of an object (undefined, functions, symbols, a toJSON giving undefined).
  const entries = Object.entries(value).filter(([, v]) => Array.isArray(v) || safeJsonOf(v) !== undefined);
  if (entries.length === 0) return write(out, '{}\n');
  await write(out, '{\n');
  for (const [i, [key, v]] of entries.entries()) {
    const head = `  ${safeJson(key)}: `;
    const end = i < entries.length - 1 ? ',\n' : '\n';
    if (!Array.isArray(v) || v.length === 0 || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      await write(out, `${head}${indentLines(safeJson(v, 2), '  ')}${end}`);
      continue;
    }
    await write(out, `${head}[\n`);
    for (let k = 0; k < v.length; k++) {
      // JSON.stringify writes null for what it cannot write in an array (undefined, functions, symbols).
      const item = safeJsonOf(v[k], 2) ?? 'null';
      await write(out, `    ${indentLines(item, '    ')}${k < v.length - 1 ? ',\n' : '\n'}`);
    }
    await write(out, `  ]${end}`);
  }
  await write(out, '}\n');
}

/** Every line but the first of a JSON text, indented (JSON strings hold no raw line end). */
function indentLines(json: string, indent: string): string {
  return json.includes('\n') ? json.replaceAll('\n', `\n${indent}`) : json;
}

/** `ftpscope live` and `ftpscope interfaces`. */
async function runLiveCommand(command: string, o: Record<string, unknown>, io: Io): Promise<number> {
  const { runInterfaces, runLive, loadRenderers } = await import('./live.js');
  const usage = (msg: string) => {
    io.stderr.write(`ftpscope: ${msg} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  };
  if (command === 'interfaces') return runInterfaces(o.format === 'json', io.stdout, io.stderr);
  const device = o.interface as string | undefined;
  if (device === undefined || device === '') return usage('live needs an interface: -i NAME (ftpscope interfaces lists them)');
  const num = (name: string, min: number): number | null | string => {
    const v = o[name];
    if (v === undefined) return null;
    return typeof v === 'number' && v >= min ? v : `--${name} takes a number, ${min} or more`;
  };
  const duration = num('duration', 0);
  const count = num('count', 1);
  const buffer = num('buffer-size', 1);
  for (const v of [duration, count, buffer]) if (typeof v === 'string') return usage(v);
  const views = (o.view as string[]).filter((v) => v !== 'connections');
  const color = o.color === 'always' || (o.color === 'auto' && io.stdoutIsTTY && !io.env.NO_COLOR);
  const lang = o.lang as 'en' | 'zh';
  await loadRenderers(views, lang);
  const ports = new Set([21, ...((o.ports as number[]) ?? [])]);
  return runLive(
    {
      device,
      filter: (o.filter as string | undefined) ?? null,
      bufferSizeMiB: (buffer as number | null) ?? 16,
      durationSec: duration as number | null,
      count: (count as number | null) ?? 0,
      write: (o.write as string | undefined) ?? null,
      format: o.format as 'text' | 'json' | 'ndjson' | 'zeek',
      views,
      showPasswords: o['show-passwords'] as boolean,
      view: { color, width: (o.width as number | undefined) ?? (io.stdoutIsTTY && io.columns ? io.columns : 80), lang, detail: o.detail as 'summary' | 'packets', showPasswords: o['show-passwords'] as boolean },
      analyze: { ...DEFAULT_ANALYZE_OPTIONS, serverPorts: ports },
      ftp: { ports, sniff: o.sniff as boolean, limits: DEFAULT_FTP_LIMITS },
    },
    io.stdout,
    io.stderr,
  );
}

function color(p: Parsed, io: Io): boolean {
  return p.color === 'always' || (p.color === 'auto' && io.stdoutIsTTY && !io.env.NO_COLOR);
}

function viewOptions(p: Parsed, io: Io): import('../render/context.js').ViewOptions {
  return { color: color(p, io), width: p.width ?? (io.stdoutIsTTY && io.columns ? io.columns : 80), lang: p.lang, detail: p.detail, showPasswords: p.showPasswords };
}

/** One view, its module loaded only when asked for. */
async function renderView(view: string, ctx: import('../render/context.js').ViewContext, ftp: FtpAnalyzer, summary: import('../analyze.js').CaptureSummary, color: boolean, lang: 'en' | 'zh'): Promise<string> {
  switch (view) {
    case 'timeline':
      return (await import('../render/timeline.js')).renderTimeline(ctx);
    case 'walkthrough': {
      const { renderWalkthrough } = await import('../render/walkthrough.js');
      const messages = lang === 'zh' ? (await import('../render/messages-zh.js')).zh : (await import('../render/messages.js')).en;
      return renderWalkthrough(ctx, messages);
    }
    case 'ladder':
      return (await import('../render/ladder.js')).renderLadder(ctx);
    case 'packets':
      return (await import('../render/packets.js')).renderPackets(ctx);
    case 'summary':
      return (await import('../render/summary.js')).renderSummary(ctx);
    default:
      return (await import('../render/connections.js')).renderConnections(summary, ftp.log.sorted(), color);
  }
}

/** Progress on stderr while a large capture is read, when stderr is a terminal; nothing otherwise. */
function progressReporter(io: Io, captures: string[], sessions: () => number): { update: (bytes: number, records: number) => void; done: () => void } | null {
  if (io.stderrIsTTY !== true) return null;
  let total = 0;
  for (const c of captures) {
    try {
      if (c !== '-') total += statSync(c).size;
    } catch {
      // a missing file is reported by the reader
    }
  }
  const began = Date.now();
  let shown = false;
  return {
    update(bytes, records) {
      if (Date.now() - began < 500) return; // only when it takes more than a moment
      shown = true;
      const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
      const n = sessions();
      io.stderr.write(`\rftpscope: ${mb(bytes)}${total > 0 ? ` of ${mb(total)}` : ''} read, ${records.toLocaleString('en-US')} packets, ${n} FTP session${n === 1 ? '' : 's'}\u001b[K`);
    },
    done() {
      if (shown) io.stderr.write('\r\u001b[K');
    },
  };
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

/** The entry point of bin/ftpscope.js. */
export async function runFromProcess(): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    process.exitCode = await main(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
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
