import { createReadStream, readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_ANALYZE_OPTIONS, analyze, type AnalyzeOptions } from '../analyze.js';
import { MergedReader, openCapture } from '../capture/open-capture.js';
import type { RecordReader } from '../capture/record-batch.js';
import { DEFAULT_FRAGMENT_LIMITS } from '../decode/ip-fragments.js';
import { DEFAULT_CONNECTION_LIMITS } from '../flow/connections.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../flow/reassembler.js';
import { FtpAnalyzer } from '../ftp/analyzer.js';
import { maskPasswords } from '../ftp/policy.js';
import { DEFAULT_FTP_LIMITS } from '../ftp/session.js';
import { group, sanitize } from '../render/text.js';

/** Everything the CLI touches of the outside world, so tests can run it in-process. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  stdoutIsTTY: boolean;
  env: Record<string, string | undefined>;
}

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;

const VIEWS = ['connections'] as const;
const STDIN_PLACEHOLDER = '\u0000stdin\u0000';
const FORMATS = ['text', 'json', 'zeek'] as const;

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
}

/** Runs the command line; resolves to the exit code. Never throws for the user's input. */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: Parsed | null = null;
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
    .positional('captures', { type: 'string', array: true, describe: 'capture files, or - for standard input' })
    .option('view', { alias: 'v', type: 'string', array: true, choices: VIEWS as unknown as string[], default: ['connections'], describe: 'what to show: connections (every TCP connection: endpoints, packets, bytes, handshake, how it ended, gaps, retransmissions)' })
    .option('format', { alias: 'f', choices: FORMATS as unknown as string[], default: 'text', describe: 'text for people; json: the FTP session model (sessions, exchanges, predictions, transfers, findings, connections); zeek: the columns of Zeek\'s ftp.log' })
    .option('ports', { type: 'number', array: true, default: [] as number[], describe: 'more ports that FTP servers listen on (21 is always one)' })
    .option('show-passwords', { type: 'boolean', default: false, describe: 'show passwords (by default only anonymous users\' e-mail addresses are shown)' })
    .option('sniff', { type: 'boolean', default: true, describe: 'recognise FTP on other ports by its first lines (--sniff false to turn off)' })
    .option('max-line-length', { type: 'number', default: DEFAULT_FTP_LIMITS.maxLineLength, describe: 'longest command or reply line kept; longer ones are cut and reported' })
    .option('max-pending-commands', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPendingCommands, describe: 'commands awaiting a reply, per session; beyond it the oldest is given up and reported' })
    .option('max-predictions-per-session', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPredictionsPerSession, describe: 'announced data connections awaited at once in one session' })
    .option('max-predictions', { type: 'number', default: DEFAULT_FTP_LIMITS.maxPredictions, describe: 'announced data connections awaited at once in all' })
    .option('prediction-timeout', { type: 'number', default: DEFAULT_FTP_LIMITS.predictionTimeoutSec, describe: 'seconds of capture time an announced data connection is awaited' })
    .option('idle-timeout', { type: 'number', default: DEFAULT_CONNECTION_LIMITS.idleTimeoutSec, describe: 'seconds of capture time after which a silent connection is closed' })
    .option('max-connections', { type: 'number', default: DEFAULT_CONNECTION_LIMITS.maxConnections, describe: 'connections tracked at once (the least recently active one is closed beyond it)' })
    .option('max-buffer', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.maxBufferedPerDirection / 2 ** 20, describe: 'MiB of out-of-order data held per direction before the hole in front of it is declared a gap' })
    .option('max-buffer-total', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.maxBufferedTotal / 2 ** 20, describe: 'MiB of out-of-order data held across all connections' })
    .option('retransmit-window', { type: 'number', default: DEFAULT_REASSEMBLY_LIMITS.retransmitWindow, describe: 'bytes of each stream kept to check that retransmissions match (0: do not check)' })
    .option('color', { choices: ['auto', 'always', 'never'], default: 'auto', describe: 'colour in text output (auto: only on a terminal, and not when NO_COLOR is set)' })
    .example('$0 capture.pcapng', 'list the TCP connections of a capture')
    .example('$0 rotated-*.pcap.gz', 'several files merged by time, compressed or not')
    .example('tcpdump -i eth0 -w - port 21 | $0 -', 'read a capture from standard input')
    .example('$0 --format json capture.pcap', 'the same as JSON')
    .strict()
    .help()
    .alias('help', 'h')
    .version(version())
    .wrap(Math.min(110, (io.stdout as { columns?: number }).columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'invalid arguments';
    });
  try {
    const out = await y.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) early = output;
    });
    if (usageError === null && !('help' in out && out.help) && !('version' in out && out.version)) {
      parsed = {
        captures: ((out.captures ?? []) as string[]).map((c) => (c === STDIN_PLACEHOLDER ? '-' : String(c))),
        view: out.view as string[],
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
      };
    }
  } catch (e) {
    usageError ??= e instanceof Error ? e.message : String(e);
  }
  if (usageError !== null) {
    io.stderr.write(`ftpscope: ${sanitize(oneLine(usageError).replaceAll(STDIN_PLACEHOLDER, '-'))} (see ftpscope --help)\n`);
    return EXIT_USAGE;
  }
  if (parsed === null) {
    if (early !== null) io.stdout.write(`${early}\n`);
    return EXIT_OK;
  }
  const bad = checkNumbers(parsed);
  if (bad !== null) {
    io.stderr.write(`ftpscope: ${bad} (see ftpscope --help)\n`);
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
  ];
  for (const [name, v] of positive) if (!(v > 0)) return `${name} takes a number above 0`;
  if (!(p.retransmitWindow >= 0) || !Number.isInteger(p.retransmitWindow)) return '--retransmit-window takes a whole number of bytes, 0 or more';
  if (p.captures.filter((c) => c === '-').length > 1) return 'standard input (-) can be read only once';
  return null;
}

async function run(p: Parsed, io: Io): Promise<number> {
  const readers: RecordReader[] = [];
  for (const name of p.captures) {
    const stream = name === '-' ? io.stdin : createReadStream(name, { highWaterMark: 1 << 20 });
    readers.push(await openCapture(name === '-' ? 'standard input' : name, stream));
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
    fragments: DEFAULT_FRAGMENT_LIMITS,
  };
  const ftp = new FtpAnalyzer({
    ports: options.serverPorts,
    sniff: p.sniff,
    limits: {
      ...DEFAULT_FTP_LIMITS,
      maxLineLength: Math.floor(p.maxLineLength),
      maxPendingCommands: Math.floor(p.maxPendingCommands),
      maxPredictionsPerSession: Math.floor(p.maxPredictionsPerSession),
      maxPredictions: Math.floor(p.maxPredictions),
      predictionTimeoutSec: p.predictionTimeout,
    },
  });
  const summary = await analyze(reader, ftp, options);
  reader.close();
  const model = ftp.result();
  const shown = p.showPasswords ? model : maskPasswords(model);
  if (p.format === 'json') {
    await write(io.stdout, `${JSON.stringify({ ftpscope: version(), capture: summary, ...shown }, null, 2)}\n`);
  } else if (p.format === 'zeek') {
    const { renderZeek } = await import('../render/zeek.js');
    await write(io.stdout, renderZeek(model, p.showPasswords));
  } else {
    const color = p.color === 'always' || (p.color === 'auto' && io.stdoutIsTTY && !io.env.NO_COLOR);
    const { renderConnections } = await import('../render/connections.js');
    await write(io.stdout, await renderConnections(summary, ftp.log.sorted(), color));
    const t = model.transfers.length;
    await write(io.stdout, `${group(model.sessions.length)} FTP session${model.sessions.length === 1 ? '' : 's'}, ${group(t)} transfer${t === 1 ? '' : 's'} (--format json shows them)\n`);
  }
  for (const f of summary.faults) {
    io.stderr.write(`ftpscope: ${sanitize(f.file)}: at byte ${f.offset}: ${sanitize(f.reason)}${summary.records > 0 ? ' (everything before it was analysed)' : ''}\n`);
  }
  return summary.faults.length > 0 ? EXIT_INPUT : EXIT_OK;
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
      env: process.env,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ftpscope: internal error: ${sanitize(msg)} (this is a bug; FTPSCOPE_DEBUG=1 shows where)\n`);
    if (process.env.FTPSCOPE_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
    process.exitCode = EXIT_INPUT;
  }
}
