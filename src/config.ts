/**
 * Every option and limit of ftpscope, once: flag, default, unit, bounds and one line of documentation.
 *
 * The command line's parser, its validation, its help and the README's option and limit tables are all made
 * from OPTIONS (test/config.test.ts fails when the README and this table differ); the stages' DEFAULT_*
 * limits are read from DEFAULTS. A cap that is not here is a bug. This module imports nothing, so that
 * every stage may read its defaults from it.
 *
 * Not limits, so not here: what the formats and the protocol fix (a record of more than 1 MiB is a corrupt
 * file, MAX_RECORD_BYTES; a verb of more than 12 letters is not FTP's, MAX_VERB; an EPSV group is sought
 * within 128 characters of its parenthesis) and how much a spill writes at once (4,096 rows).
 */

/** Where an option means something: reading capture files, sniffing an interface, or both. */
export type Applies = 'file' | 'live' | 'both';

/** What a reader of the README needs to group the options. */
export type Group = 'input' | 'views' | 'output' | 'live' | 'limits';

interface Common {
  /** The long flag, without its dashes. */
  readonly flag: string;
  readonly alias?: string;
  readonly group: Group;
  readonly applies: Applies;
  /** One line: what the option does (and, for a limit, what happens beyond it). */
  readonly doc: string;
  /** The option it means something only with (given alone, it is refused). */
  readonly requires?: string;
}

/** A number; `scale` turns the unit given on the command line into the unit the stage counts in. */
export interface NumberSpec extends Common {
  readonly kind: 'number';
  readonly default: number | null;
  readonly unit: string;
  readonly min: number;
  /** Whether the bound is exclusive ("above 0") rather than inclusive ("0 or more"). */
  readonly above?: boolean;
  readonly max?: number;
  readonly integer: boolean;
}

export interface BooleanSpec extends Common {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export interface ChoiceSpec extends Common {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  readonly default: string | readonly string[];
  readonly array?: boolean;
}

export interface StringSpec extends Common {
  readonly kind: 'string';
  readonly default: null | readonly string[];
  readonly array?: boolean;
  /** What the value is, for the help and the tables ("FILE", "DIR", "EXPR"). */
  readonly value: string;
}

/** Port numbers, 1 to 65535. */
export interface PortsSpec extends Common {
  readonly kind: 'ports';
  readonly default: readonly number[];
}

export type OptionSpec = NumberSpec | BooleanSpec | ChoiceSpec | StringSpec | PortsSpec;

export const VIEWS = ['timeline', 'walkthrough', 'ladder', 'packets', 'summary', 'connections'] as const;
export const FORMATS = ['text', 'json', 'ndjson', 'zeek', 'mermaid', 'html'] as const;

const MiB = 'MiB';

export const OPTIONS = [
  // ---- what to show
  { flag: 'view', alias: 'v', group: 'views', applies: 'both', kind: 'choice', array: true, choices: VIEWS, default: ['timeline', 'summary'],
    doc: 'what to show, several in the order given: timeline, walkthrough, ladder, packets, summary, connections (file only)' },
  { flag: 'detail', group: 'views', applies: 'both', kind: 'choice', choices: ['summary', 'packets'], default: 'summary',
    doc: "walkthrough and ladder: a transfer's data in one step (summary) or every data segment (packets)" },
  { flag: 'lang', group: 'views', applies: 'both', kind: 'choice', choices: ['en', 'zh'], default: 'en', doc: 'language of every text view and of live lines' },
  { flag: 'session', group: 'views', applies: 'both', kind: 'string', array: true, value: 'N|ADDR:PORT', default: [],
    doc: 'show only these sessions: a number, or ADDR:PORT of either end of the control connection' },
  { flag: 'host', group: 'views', applies: 'both', kind: 'string', array: true, value: 'ADDR', default: [], doc: 'show only sessions of these hosts (client or server address)' },
  { flag: 'time-from', group: 'views', applies: 'file', kind: 'string', value: 'TIME', default: null,
    doc: "show only sessions still going at this time (ISO 8601, seconds since 1970, or +SECONDS from the capture's start)" },
  { flag: 'time-to', group: 'views', applies: 'file', kind: 'string', value: 'TIME', default: null, doc: 'show only sessions that began by this time' },
  { flag: 'min-severity', group: 'views', applies: 'both', kind: 'choice', choices: ['info', 'notice', 'warning', 'alert'], default: 'info',
    doc: 'list only findings at least this grave (alert, warning, notice, info), in every view and format; they are listed gravest first, then by time' },
  { flag: 'time-format', group: 'views', applies: 'both', kind: 'choice', choices: ['capture', 'session', 'absolute', 'delta'], default: 'capture',
    doc: "times in every view, as tshark's -t: seconds from the capture's first packet, from the session's start, the time of day (UTC), or since the line before" },
  { flag: 'width', group: 'views', applies: 'both', kind: 'number', unit: 'columns', min: 40, integer: true, default: null,
    doc: "columns of text output (default: the terminal's, or 80)" },
  { flag: 'quiet', alias: 'q', group: 'views', applies: 'both', kind: 'boolean', default: false,
    doc: 'no progress line on stderr (it is shown only on a terminal, while reading or writing takes more than a moment)' },
  { flag: 'color', group: 'views', applies: 'both', kind: 'choice', choices: ['auto', 'always', 'never'], default: 'auto',
    doc: 'colour in text output (auto: only on a terminal, and not when NO_COLOR is set)' },
  // ---- what to write
  { flag: 'format', alias: 'f', group: 'output', applies: 'both', kind: 'choice', choices: FORMATS, default: 'text',
    doc: "text for people; json: the session model; ndjson: one event per line as the analysis goes; zeek: Zeek's ftp.log on stdout (--zeek-dir for all three logs); mermaid: each session's ladder as a Mermaid sequence diagram in a Markdown block; html: the lesson page (ftpscope report)" },
  { flag: 'output', alias: 'o', group: 'output', applies: 'file', kind: 'string', value: 'FILE', default: null,
    doc: 'write the output to this file instead of standard output (made or overwritten)' },
  { flag: 'zeek-dir', group: 'output', applies: 'both', kind: 'string', value: 'DIR', default: null,
    doc: "write Zeek's ftp.log, conn.log (the FTP control and data connections) and files.log (with MD5, SHA-1, SHA-256) under this folder; implies --format zeek" },
  { flag: 'extract', group: 'output', applies: 'both', kind: 'string', value: 'DIR', default: null,
    doc: 'write every transferred file under this folder, with manifest.json (SHA-256, MD5, sizes, holes, results)' },
  { flag: 'extract-listings', group: 'output', applies: 'both', requires: 'extract', kind: 'boolean', default: false, doc: 'with --extract: also write the output of LIST, NLST and MLSD' },
  { flag: 'max-hashed-holes', group: 'limits', applies: 'both', requires: 'extract', kind: 'number', unit: MiB, min: 0, integer: false, default: 256,
    doc: 'with --extract: missing bytes of one file hashed as zeros; beyond, its hashes are not computed (said in the manifest)' },
  { flag: 'max-holes-listed', group: 'limits', applies: 'both', requires: 'extract', kind: 'number', unit: 'holes', min: 0, integer: true, default: 1000,
    doc: 'with --extract: holes listed per file in manifest.json (the rest are counted)' },
  { flag: 'show-passwords', group: 'output', applies: 'both', kind: 'boolean', default: false,
    doc: "show passwords (by default only anonymous users' e-mail addresses are shown)" },
  // ---- what to follow
  { flag: 'ports', group: 'input', applies: 'both', kind: 'ports', default: [], doc: 'more ports that FTP servers listen on (21 and 990 always are; implicit FTPS is known by its TLS handshake)' },
  { flag: 'tls-keylog', group: 'input', applies: 'both', kind: 'string', array: true, value: 'FILE', default: [], doc: 'TLS key log (NSS format, as SSLKEYLOGFILE writes it) to decrypt FTPS; $SSLKEYLOGFILE is read too' },
  { flag: 'sniff', group: 'input', applies: 'both', kind: 'boolean', default: true, doc: 'recognise FTP on other ports by its first lines (--sniff false to turn off)' },
  // ---- live capture
  { flag: 'interface', alias: 'i', group: 'live', applies: 'live', kind: 'string', value: 'NAME', default: null, doc: 'the device to capture on (ftpscope interfaces lists them)' },
  { flag: 'filter', group: 'live', applies: 'live', kind: 'string', value: 'EXPR', default: null, doc: 'a BPF expression narrowing the capture; it is combined with tcp, never replaces it' },
  { flag: 'buffer-size', group: 'live', applies: 'live', kind: 'number', unit: MiB, min: 1, integer: false, default: 16, doc: "libpcap's buffer" },
  { flag: 'duration', group: 'live', applies: 'live', kind: 'number', unit: 'seconds', min: 0, integer: false, default: null, doc: 'stop after this long' },
  { flag: 'count', group: 'live', applies: 'live', kind: 'number', unit: 'packets', min: 1, integer: true, default: null, doc: 'stop after this many packets' },
  { flag: 'max-backlog', group: 'live', applies: 'live', kind: 'number', unit: MiB, min: 1, integer: false, default: 64,
    doc: 'packets held while the analysis catches up; past three quarters of it data payload is shed (control connections kept), beyond it packets are dropped; all counted' },
  { flag: 'write', group: 'live', applies: 'live', kind: 'string', value: 'FILE', default: null, doc: 'also save every packet to this pcap file (flushed every second)' },
  // ---- limits: what is held, and for how long (capture time)
  { flag: 'max-memory', group: 'limits', applies: 'both', kind: 'number', unit: MiB, min: 128, integer: false, default: 512,
    doc: "memory of the analysis (its tables get 40 %, Node itself about 65 MiB more); at it the oldest half-open, then idle connections go first, then commands, predictions, events and packets are counted, not kept (a finding says what)" },
  { flag: 'max-line-length', group: 'limits', applies: 'both', kind: 'number', unit: 'bytes', min: 1, integer: true, default: 4096,
    doc: 'longest command or reply line kept; longer ones are cut and reported' },
  { flag: 'max-pending-commands', group: 'limits', applies: 'both', kind: 'number', unit: 'commands', min: 1, integer: true, default: 20,
    doc: 'commands awaiting a reply, per session; beyond it the oldest is given up and reported' },
  { flag: 'max-reply-lines', group: 'limits', applies: 'both', kind: 'number', unit: 'lines', min: 1, integer: true, default: 1000, doc: 'lines kept of one multi-line reply' },
  { flag: 'max-exchanges', group: 'limits', applies: 'both', kind: 'number', unit: 'commands', min: 1, integer: true, default: 100_000,
    doc: 'commands and replies kept per session (beyond: counted only)' },
  { flag: 'max-predictions-per-session', group: 'limits', applies: 'both', kind: 'number', unit: 'predictions', min: 1, integer: true, default: 100,
    doc: 'announced data connections awaited at once in one session' },
  { flag: 'max-predictions', group: 'limits', applies: 'both', kind: 'number', unit: 'predictions', min: 1, integer: true, default: 10_000,
    doc: 'announced data connections awaited at once in all' },
  { flag: 'prediction-timeout', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, above: true, integer: false, default: 300,
    doc: 'how long an announced data connection is awaited' },
  { flag: 'early-connection-window', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, integer: false, default: 10,
    doc: 'how long before its announcement a data connection may open and still be matched to it (reordered packets)' },
  { flag: 'unannounced-window', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, integer: false, default: 5,
    doc: 'how close in time a connection nothing announced must be to a data command to be taken as its data connection' },
  { flag: 'max-unannounced', group: 'limits', applies: 'both', kind: 'number', unit: 'connections', min: 1, integer: true, default: 256,
    doc: 'connections between FTP hosts that nothing announced, held for a command that may claim them' },
  { flag: 'max-awaiting-unannounced', group: 'limits', applies: 'both', kind: 'number', unit: 'transfers', min: 1, integer: true, default: 1024,
    doc: 'data commands without an announcement held for a connection that may serve them' },
  { flag: 'max-early-data', group: 'limits', applies: 'both', requires: 'extract', kind: 'number', unit: 'KiB', min: 0, integer: true, default: 256,
    doc: 'with --extract: bytes of a data connection held until the command it serves is known; beyond, they are a hole' },
  { flag: 'sniff-bytes', group: 'limits', applies: 'both', kind: 'number', unit: 'bytes', min: 1, integer: true, default: 2048,
    doc: 'bytes of each direction read to recognise FTP on another port' },
  { flag: 'brute-force-threshold', group: 'limits', applies: 'both', kind: 'number', unit: 'logins', min: 1, integer: true, default: 20,
    doc: 'failed logins from one client, within the window, that make a brute-force finding' },
  { flag: 'brute-force-window', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, above: true, integer: false, default: 1800,
    doc: 'the time the brute-force threshold counts over' },
  { flag: 'max-tracked-clients', group: 'limits', applies: 'both', kind: 'number', unit: 'clients', min: 1, integer: true, default: 10_000,
    doc: 'clients whose failed logins and cleartext logins are counted as one series; beyond, the oldest series ends' },
  { flag: 'max-finding-frames', group: 'limits', applies: 'both', kind: 'number', unit: 'frames', min: 1, integer: true, default: 20,
    doc: 'frames listed per finding; beyond, its count says how many times it happened' },
  { flag: 'max-remembered-sizes', group: 'limits', applies: 'both', kind: 'number', unit: 'sizes', min: 1, integer: true, default: 64,
    doc: 'answers to SIZE remembered per session, to compare with what a transfer carried; beyond, the oldest is forgotten' },
  { flag: 'max-session-digests', group: 'limits', applies: 'live', kind: 'number', unit: 'sessions', min: 1, integer: true, default: 1000,
    doc: 'digests of finished sessions kept for the summary of a live capture' },
  { flag: 'max-packet-log', group: 'limits', applies: 'both', kind: 'number', unit: 'packets', min: 1, integer: true, default: 1_000_000,
    doc: 'packets kept for the walkthrough, ladder and packet views' },
  { flag: 'idle-timeout', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, above: true, integer: false, default: 900,
    doc: 'silence after which a connection is closed as idle' },
  { flag: 'closed-linger', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, integer: false, default: 30,
    doc: 'how long a finished connection stays, to take its last ACKs and retransmitted FINs' },
  { flag: 'max-connections', group: 'limits', applies: 'both', kind: 'number', unit: 'connections', min: 1, integer: true, default: 1_000_000,
    doc: 'connections tracked at once (the least recently active one is closed beyond it)' },
  { flag: 'max-buffer', group: 'limits', applies: 'both', kind: 'number', unit: MiB, min: 0, above: true, integer: false, default: 4,
    doc: 'out-of-order data held per direction before the hole in front of it is declared a gap' },
  { flag: 'max-buffer-total', group: 'limits', applies: 'both', kind: 'number', unit: MiB, min: 0, above: true, integer: false, default: 128,
    doc: 'out-of-order data held across all connections' },
  { flag: 'max-buffer-segments', group: 'limits', applies: 'both', kind: 'number', unit: 'segments', min: 1, integer: true, default: 4096,
    doc: 'out-of-order segments held per direction' },
  { flag: 'retransmit-window', group: 'limits', applies: 'both', kind: 'number', unit: 'bytes', min: 0, max: 1 << 30, integer: true, default: 2048,
    doc: 'bytes of each stream kept to check that retransmissions match (0: do not check)' },
  { flag: 'max-fragment-bytes', group: 'limits', applies: 'both', kind: 'number', unit: MiB, min: 0, above: true, integer: false, default: 16,
    doc: 'IP fragments held awaiting the rest of their datagram' },
  { flag: 'max-fragment-datagrams', group: 'limits', applies: 'both', kind: 'number', unit: 'datagrams', min: 1, integer: true, default: 4096,
    doc: 'IP datagrams being reassembled at once' },
  { flag: 'fragment-timeout', group: 'limits', applies: 'both', kind: 'number', unit: 'seconds', min: 0, above: true, integer: false, default: 60,
    doc: 'how long an incomplete IP datagram is awaited' },
] as const satisfies readonly OptionSpec[];

/** "max-line-length" -> "maxLineLength". */
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

type ValueOf<S> = S extends { kind: 'number'; default: number }
  ? number
  : S extends { kind: 'number' }
    ? number | null
    : S extends { kind: 'boolean' }
      ? boolean
      : S extends { kind: 'choice'; array: true; choices: readonly (infer C)[] }
        ? C[]
        : S extends { kind: 'choice'; choices: readonly (infer C)[] }
          ? C
          : S extends { kind: 'string'; array: true }
            ? string[]
            : S extends { kind: 'string' }
              ? string | null
              : S extends { kind: 'ports' }
                ? number[]
                : never;

type Spec = (typeof OPTIONS)[number];

/** Every option's value, by its camel-case name: what the stages are configured from. */
export type Settings = { -readonly [S in Spec as Camel<S['flag']>]: ValueOf<S> };

export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The default of every option. */
export const DEFAULTS: Readonly<Settings> = Object.freeze(
  Object.fromEntries(OPTIONS.map((o) => [camel(o.flag), Array.isArray(o.default) ? [...(o.default as unknown[])] : o.default])) as unknown as Settings,
);

/** The defaults with some values changed (tests, the fuzzer, bench). A fresh object. */
export function settings(changes: Partial<Settings> = {}): Settings {
  const s = { ...DEFAULTS, ...changes } as Settings;
  for (const o of OPTIONS) {
    const k = camel(o.flag) as keyof Settings;
    if (Array.isArray(s[k])) (s as Record<string, unknown>)[k] = [...(s[k] as unknown[])];
  }
  return s;
}

export function specOf(flag: string): OptionSpec | undefined {
  return (OPTIONS as readonly OptionSpec[]).find((o) => o.flag === flag);
}

/**
 * Checks one value against its option's bounds: null when it fits, else the one-line complaint
 * ("--max-buffer takes a number of MiB above 0, got -1").
 */
export function checkValue(o: OptionSpec, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const got = typeof v === 'number' && Number.isNaN(v) ? '' : `, got ${JSON.stringify(v)}`;
  switch (o.kind) {
    case 'number': {
      const what = `${o.integer ? 'a whole number' : 'a number'} of ${o.unit}`;
      const range = o.max !== undefined ? `from ${o.min} to ${o.max}` : o.above ? `above ${o.min}` : `${o.min} or more`;
      const ok = typeof v === 'number' && Number.isFinite(v) && (o.above ? v > o.min : v >= o.min) && (o.max === undefined || v <= o.max) && (!o.integer || Number.isInteger(v));
      return ok ? null : `--${o.flag} takes ${what}, ${range}${got}`;
    }
    case 'ports':
      for (const p of v as unknown[]) {
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) return `--${o.flag} takes port numbers from 1 to 65535${typeof p === 'number' && Number.isNaN(p) ? '' : `, got ${JSON.stringify(p)}`}`;
      }
      return null;
    default:
      return null;
  }
}

/** The value of an option as the help and the README show its default. */
export function defaultText(o: OptionSpec): string {
  if (o.default === null) return '';
  if (Array.isArray(o.default)) return o.default.join(' ');
  if (typeof o.default === 'number') return o.default.toLocaleString('en-US');
  return String(o.default);
}

/** The README's table of options of one group (a test compares it with the README). */
export function optionsTable(groups: readonly Group[]): string {
  const rows = ['| option | default | unit | where | meaning |', '|---|---|---|---|---|'];
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (!groups.includes(o.group)) continue;
    const flag = `\`--${o.flag}\`${o.alias ? `, \`-${o.alias}\`` : ''}`;
    const unit = o.kind === 'number' ? o.unit : o.kind === 'string' ? o.value : o.kind === 'choice' ? o.choices.join(', ') : o.kind === 'ports' ? 'ports' : 'yes/no';
    const def = defaultText(o);
    const cell = (t: string) => t.replaceAll('|', '\\|');
    rows.push(`| ${flag} | ${def === '' ? '' : `\`${def}\``} | ${cell(unit)} | ${o.applies} | ${cell(o.doc)} |`);
  }
  return rows.join('\n');
}
