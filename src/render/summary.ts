import type { GridSpec } from './grid.js';
import { measure, newShape, plan, SlicedTable, type Layout, type Part, type Shape, type Tone } from './fit.js';
import { loadTable, loadWidth, textWidth } from './table.js';
import { SEVERITIES, importanceKey } from '../model/severity.js';
import type { ConnectionSummary } from '../model/capture.js';
import type { Finding, FtpAnalysis, FtpSession, Severity, Transfer } from '../model/ftp-model.js';
import { indexModel, type ModelIndex } from '../model/lookup.js';
import { hostPort, secondsOf, type ViewContext } from './context.js';
import { group, sanitize } from './text.js';
import { DEFAULT_SPILL_LIMIT, SortedSpill } from '../spill.js';

/** Rows a SummaryBook holds in memory before it writes them to a file (tests lower it: setSummaryLimits). */
let spillLimit = DEFAULT_SPILL_LIMIT;

export type { Cell, Column, Layout, Part, Tone } from './fit.js';

/**
 * A table's rows, as fields, in two layouts: one column per field, and fewer columns with fields one under
 * the other. Rows may be given in any order (keyed) and are kept in a SortedSpill: however many there
 * are, memory holds only the widths the layout needs and the rows not yet written out.
 */
export class TableBook<F> {
  readonly rows: SortedSpill<F>;
  readonly wideShape: Shape;
  readonly narrowShape: Shape;

  constructor(readonly wide: Layout<F>, readonly narrow: Layout<F>, limit = spillLimit) {
    this.rows = new SortedSpill<F>(limit);
    this.wideShape = newShape(wide);
    this.narrowShape = newShape(narrow);
    // Measured as the drawer measures (string-width where the text is not plain ASCII).
    loadWidth();
  }

  add(key: number, f: F): void {
    this.rows.add(key, f);
    measure(this.wideShape, this.wide.cells(f), textWidth);
    measure(this.narrowShape, this.narrow.cells(f), textWidth);
  }
}

/** What a session's or a transfer's row looks up: a ViewContext, or the index of one session's analysis. */
export interface RowLookup {
  by: ModelIndex;
  findingsOf(session: number): readonly Finding[];
}

/**
 * The rows of the summary's three tables: the FTP sessions, their transfers, and the findings. They are
 * added as they are known — all at once from a whole analysis (renderSummary), or session by session
 * as a report lets sessions go (FtpOptions.release 'report') — and drawn in order by summaryText.
 */
export class SummaryBook {
  readonly sessions: TableBook<SessionFields>;
  readonly transfers: TableBook<TransferFields>;
  readonly findings: TableBook<FindingFields>;

  constructor(limit = spillLimit) {
    this.sessions = new TableBook(SESSION_WIDE, SESSION_NARROW, limit);
    this.transfers = new TableBook(TRANSFER_WIDE, TRANSFER_NARROW, limit);
    this.findings = new TableBook(FINDING_WIDE, FINDING_NARROW, limit);
  }

  /** Sessions and their transfers; the connections are looked up for the transfers' ports. */
  add(look: RowLookup, sessions: readonly FtpSession[], transfers: readonly Transfer[], connections: readonly ConnectionSummary[]): void {
    const conns = new Map<number, ConnectionSummary>(connections.map((c) => [c.id, c]));
    for (const s of sessions) this.sessions.add(s.id, sessionFields(look, s));
    for (const t of transfers) this.transfers.add(t.id, transferFields(look, t, (id) => conns.get(id)));
  }

  /** A released session, as FtpOptions.onSessionDone tells it (its findings come by addFinding). */
  addSession(a: FtpAnalysis): void {
    this.add({ by: indexModel(a), findingsOf: (id) => a.findings.filter((f) => f.session === id) }, a.sessions, a.transfers, a.connections);
  }

  /** A finding, with its place in the order findings were made. */
  addFinding(f: Finding, order: number): void {
    // Listed gravest first, then by time, as the model lists them (byImportance).
    this.findings.add(importanceKey(f, order), findingFields(f));
  }

  close(): void {
    this.sessions.rows.close();
    this.transfers.rows.close();
    this.findings.rows.close();
  }
}

/** What drawing needs of a view: its width, colours and styling (a ViewContext has them). */
export interface Look {
  options: { width: number; color: boolean };
  style(kind: Tone | 'bold', text: string): string;
}

/**
 * Three tables: the FTP sessions, their transfers, and the findings. Tables are fitted to the width when
 * they can be (long cells wrap); a table with nothing to show is replaced by a line saying so. Everything
 * from the wire goes through sanitize.
 */
export async function renderSummary(ctx: ViewContext): Promise<string> {
  const a = ctx.analysis;
  const sessions = ctx.sessions;
  const chosen = new Set(sessions.map((s) => s.id));
  const all = sessions.length === a.sessions.length;
  const transfers = a.transfers.filter((t) => chosen.has(t.session));
  const book = new SummaryBook();
  try {
    book.add(ctx, sessions, transfers, a.connections);
    a.findings.forEach((f, i) => {
      if (f.session === null ? all : chosen.has(f.session)) book.addFinding(f, i);
    });
    let out = '';
    for await (const text of summaryText(ctx, book)) out += text;
    return out;
  } finally {
    book.close();
  }
}

export function setSummaryLimits(limits: { spill?: number; slice?: number }): void {
  spillLimit = limits.spill ?? DEFAULT_SPILL_LIMIT;
  tableSlice = limits.slice ?? TABLE_SLICE;
}

/** The summary of a book, a piece at a time (each piece whole lines), to write as it comes. */
export async function* summaryText(look: Look, book: SummaryBook): AsyncGenerator<string> {
  const sessions = book.sessions.rows.count;
  const transfers = book.transfers.rows.count;
  const findings = book.findings.rows.count;
  yield `${look.style('bold', `FTP sessions (${group(sessions)})`)}\n`;
  if (sessions === 0) yield 'no FTP session in this capture\n';
  else yield* table(look, book.sessions);

  yield `\n${look.style('bold', `Transfers (${group(transfers)})`)}\n`;
  if (transfers === 0) yield sessions === 0 ? 'no transfers\n' : 'no transfers: no command used a data connection\n';
  else yield* table(look, book.transfers);

  yield `\n${look.style('bold', `Findings (${group(findings)})`)}\n`;
  if (findings === 0) yield 'no findings: nothing unusual was seen\n';
  else yield* table(look, book.findings);
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

interface SessionFields {
  id: string;
  client: string;
  server: string;
  user: string;
  login: Part;
  modes: string;
  commands: string;
  transfers: Part;
  bytes: string;
  duration: string;
  findings: Part;
}

const SESSION_WIDE: Layout<SessionFields> = {
  columns: [
        { head: '#', numeric: true },
        { head: 'client' },
        { head: 'server' },
        { head: 'user' },
        { head: 'login' },
        { head: 'modes' },
        { head: 'commands', numeric: true },
        { head: 'transfers' },
        { head: 'bytes', numeric: true },
        { head: 'duration', numeric: true },
        { head: 'findings' },
  ],
  cells: (r) => [r.id, r.client, r.server, r.user, r.login, r.modes, r.commands, r.transfers, r.bytes, r.duration, r.findings],
};

const SESSION_NARROW: Layout<SessionFields> = {
  columns: [
        { head: '#', numeric: true },
        { head: 'client\nserver' },
        { head: 'user\nlogin' },
        { head: 'modes' },
        { head: 'commands\ntransfers' },
        { head: 'bytes\nduration', numeric: true },
        { head: 'findings' },
  ],
  cells: (r) => [
        r.id,
        [r.client, r.server],
        [r.user, r.login],
        r.modes,
        [plural(r.commands, 'command'), typeof r.transfers === 'string' ? plural(r.transfers, 'transfer') : { ...r.transfers, text: plural(r.transfers.text, 'transfer') }],
        [`${r.bytes} B`, r.duration],
        r.findings,
  ],
};

function sessionFields(ctx: RowLookup, s: FtpSession): SessionFields {
  const transfers = s.transfers.map((id) => ctx.by.transfer(id)).filter((t): t is Transfer => t !== undefined);
  const notComplete = transfers.filter((t) => t.status !== 'complete').length;
  const bytes = transfers.reduce((n, t) => n + t.bytes, 0);
  const commands = s.commands;
  const findings = ctx.findingsOf(s.id);
  const worst = worstSeverity(findings);

  let login: string = s.login;
  if (s.loginAttempts.length > 1) login += ` (${s.loginAttempts.length} tries)`;
  if (s.tls !== null) login = s.login === 'none' ? `encrypted (${sanitize(s.tls.command)})` : `${login}, then ${sanitize(s.tls.command)}`;

  return {
    id: String(s.id),
    client: sanitize(hostPort(s.client.address, s.client.port)),
    server: sanitize(hostPort(s.server.address, s.server.port)),
    user: s.user === null ? '?' : sanitize(s.user),
    login: s.login === 'failure' ? { text: login, tone: 'red' } : login,
    modes: modes(ctx, s, transfers),
    commands: group(commands),
    transfers: notComplete > 0 ? { text: `${group(transfers.length)} (${group(notComplete)} not complete)`, tone: 'yellow' } : group(transfers.length),
    bytes: group(bytes),
    duration: secondsOf(s.end) < secondsOf(s.start) ? '-' : duration(secondsOf(s.end) - secondsOf(s.start)),
    findings: worst === null ? '-' : { text: `${findings.length} (${worst})`, tone: severityTone(worst) },
  };
}

/** "active (PORT)", "passive (EPSV, PASV)": the data connection modes a session announced. */
function modes(ctx: RowLookup, s: FtpSession, transfers: Transfer[]): string {
  const by = new Map<string, Set<string>>();
  for (const id of s.predictions) {
    const p = ctx.by.prediction(id);
    if (p === undefined) continue;
    let set = by.get(p.mode);
    if (set === undefined) by.set(p.mode, (set = new Set()));
    set.add(p.source);
  }
  for (const t of transfers) if (!by.has(t.mode)) by.set(t.mode, new Set());
  if (by.size === 0) return '-';
  return [...by]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([mode, sources]) => (sources.size > 0 ? `${mode} (${[...sources].join(', ')})` : mode))
    .join(', ');
}

// ---------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------

interface TransferFields {
  id: string;
  session: string;
  command: string;
  path: string;
  direction: string;
  mode: string;
  connection: string;
  rule: string;
  bytes: string;
  duration: string;
  rate: string;
  result: Part;
  cause: string;
}

const TRANSFER_WIDE: Layout<TransferFields> = {
  columns: [
        { head: '#', numeric: true },
        { head: 'session', numeric: true },
        { head: 'command', wrap: 'never' },
        { head: 'path' },
        { head: 'direction' },
        { head: 'mode' },
        { head: 'data conn' },
        { head: 'rule' },
        { head: 'bytes', numeric: true },
        { head: 'duration', numeric: true },
        { head: 'rate', numeric: true },
        { head: 'result' },
        { head: 'cause', wrap: 'prose' },
  ],
  cells: (r) => [r.id, r.session, r.command, r.path, r.direction, r.mode, r.connection, r.rule, r.bytes, r.duration, r.rate, r.result, r.cause],
};

const TRANSFER_NARROW: Layout<TransferFields> = {
  columns: [
        { head: '#\nsession', wrap: 'never' },
        { head: 'command path\ndirection' },
        { head: 'mode\ndata conn\nrule' },
        { head: 'bytes\nduration\nrate', numeric: true },
        { head: 'result\ncause', wrap: 'prose' },
  ],
  cells: (r) => [
        [r.id, `s${r.session}`],
        [`${r.command} ${r.path}`, r.direction],
        [r.mode, r.connection, r.rule],
        [`${r.bytes} B`, r.duration, r.rate],
        r.cause === '' ? r.result : [r.result, r.cause],
  ],
};

function transferFields(ctx: RowLookup, t: Transfer, conns: (id: number) => ConnectionSummary | undefined): TransferFields {
  const p = t.prediction === null ? undefined : ctx.by.prediction(t.prediction);
  const c = t.connection === null ? undefined : conns(t.connection);
  let path = t.path;
  if (path === '') path = t.cwd;
  let bytes = group(t.bytes);
  if (t.missingBytes > 0) bytes += ` (+${group(t.missingBytes)} missing)`;
  const result = `${t.status}${t.final !== null ? ` ${t.final}` : ''}`;
  const tone: Tone = t.status === 'complete' ? 'green' : t.status === 'incomplete' || t.status === 'unfinished' || t.status === 'aborted' ? 'yellow' : 'red';
  return {
    id: String(t.id),
    session: String(t.session),
    command: sanitize(t.command),
    path: sanitize(path),
    direction: t.direction,
    mode: p === undefined ? t.mode : `${t.mode} (${p.source})`,
    connection: c === undefined ? (t.connection === null ? 'none' : `#${t.connection}`) : `${c.client.port}→${c.server.port}`,
    rule: t.rule ?? '-',
    bytes,
    duration: t.duration === null ? '-' : duration(t.duration),
    rate: t.throughput === null ? '-' : rate(t.throughput),
    result: { text: result, tone },
    cause: t.status === 'complete' ? '' : sanitize(t.cause ?? ''),
  };
}

// ---------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------


function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst = -1;
  for (const f of findings) worst = Math.max(worst, SEVERITIES.indexOf(f.severity));
  return worst < 0 ? null : SEVERITIES[worst]!;
}

function severityTone(s: Severity): Tone {
  return s === 'alert' ? 'red' : s === 'warning' ? 'yellow' : s === 'notice' ? 'cyan' : 'dim';
}

interface FindingFields {
  severity: Part;
  kind: string;
  session: string;
  frames: string;
  message: string;
}

function findingFields(f: Finding): FindingFields {
  const frames = [...f.frames].sort((x, y) => x - y);
  const shown = frames.slice(0, 5).map(String).join(', ');
  return {
    severity: { text: f.severity, tone: severityTone(f.severity) },
    kind: sanitize(f.kind),
    session: f.session === null ? '-' : String(f.session),
    frames: frames.length === 0 ? '-' : frames.length > 5 ? `${shown}, …` : shown,
    message: sanitize(f.message) + (f.count > 1 ? ` (${group(f.count)} times)` : ''),
  };
}

const FINDING_WIDE: Layout<FindingFields> = {
  columns: [
        { head: 'severity', wrap: 'never' },
        { head: 'kind' },
        { head: 'session', numeric: true },
        { head: 'frames' },
        { head: 'message', wrap: 'prose' },
  ],
  cells: (r) => [r.severity, r.kind, r.session, r.frames, r.message],
};

const FINDING_NARROW: Layout<FindingFields> = {
  columns: [
        { head: 'severity\nkind' },
        { head: 'session\nframes' },
        { head: 'message', wrap: 'prose' },
  ],
  cells: (r) => [[r.severity, r.kind], [r.session === '-' ? '-' : `s${r.session}`, r.frames], r.message],
};

// ---------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------

/** Seconds in human units: "0 s", "850 µs", "12.3 ms", "3.21 s", "2 min 05 s", "1 h 02 min". */
export function duration(seconds: number): string {
  const d = Math.max(0, seconds);
  if (d === 0) return '0 s';
  if (d < 1e-3) return `${Math.max(1, Math.round(d * 1e6))} µs`;
  if (d < 1) return `${(d * 1e3).toFixed(1)} ms`;
  if (d < 60) return `${d.toFixed(2)} s`;
  if (d < 3600) return `${Math.floor(d / 60)} min ${String(Math.floor(d % 60)).padStart(2, '0')} s`;
  return `${Math.floor(d / 3600)} h ${String(Math.floor((d % 3600) / 60)).padStart(2, '0')} min`;
}

/** Bytes per second in human units (powers of 1000): "512 B/s", "3.40 MB/s". */
export function rate(bytesPerSecond: number): string {
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];
  let v = bytesPerSecond;
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} ${units[0]}` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

/**
 * A table fitted to the view's width (fit.ts: the wide layout, else the narrow one, else a record per
 * row), drawn as cli-table3 draws it. The widths come from the book's shapes, so rows are drawn a slice
 * at a time as they are read back. Each piece given is whole lines.
 */
export async function* table<F>(look: Look, book: TableBook<F>): AsyncGenerator<string> {
  const how = plan(look.options.width, [[book.wide, book.wideShape], [book.narrow, book.narrowShape]], textWidth);
  const t = new SlicedTable(how, look.options.color, (tone, text) => look.style(tone, text), textWidth);
  let slice: string[][] = [];
  // Our drawer first (cli-table3's output, a line at a time); cli-table3 itself when a line is too wide.
  const draw = async (): Promise<string> => {
    const text = t.draw(slice) ?? t.take((await cliTable(t.spec(slice))).split('\n'), false);
    slice = [];
    return text;
  };
  for (const f of book.rows.ordered()) {
    slice.push(t.cells(f));
    if (slice.length >= tableSlice) yield await draw();
  }
  if (slice.length > 0) yield await draw();
  yield t.end();
}

/**
 * Rows drawn by cli-table3, with the head when given. It lays a table out in time quadratic in its rows
 * (each cell is checked against every row above it): it is only given a slice of rows at a time.
 */
async function cliTable(spec: GridSpec): Promise<string> {
  const Table = await loadTable();
  const style = spec.color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
  const t = new Table({
    head: [...spec.head],
    colWidths: spec.widths.map((w) => w + 1),
    colAligns: [...spec.aligns],
    style: { ...style, compact: spec.compact, 'padding-left': 0, 'padding-right': 1 },
  });
  for (const r of spec.rows) t.push([...r]);
  return t.toString();
}

/** Rows drawn at a time (see table()). */
const TABLE_SLICE = 100;
let tableSlice = TABLE_SLICE;

/** "1 transfer", "3 transfers", "3 (1 not complete) transfers" as "3 transfers (1 not complete)". */
function plural(count: string, noun: string): string {
  const m = /^(\S+)(.*)$/.exec(count)!;
  return `${m[1]} ${noun}${m[1] === '1' ? '' : 's'}${m[2]}`;
}
