import { drawGrid } from './grid.js';
import { loadTable, loadWidth, textWidth } from './table.js';
import type { ConnectionSummary } from '../flow/connection-log.js';
import type { Finding, FtpSession, Severity, Transfer } from '../model/ftp-model.js';
import { hostPort, secondsOf, type ViewContext } from './context.js';
import { displayWidth, group, sanitize, wrap } from './text.js';
import { cut as cutText } from './text.js';
import { maxOf, pushAll } from '../arrays.js';

/** A column of a summary table. */
interface Column {
  head: string;
  /** Numbers: right-aligned. */
  numeric?: boolean;
  /** When the table is too wide: 'first' columns (long text) are narrowed first, 'late' ones next, 'never' ones not at all. */
  wrap?: 'first' | 'late' | 'never';
}

type Tone = 'red' | 'yellow' | 'green' | 'cyan' | 'dim';

/** A line of a cell, with how to colour it. */
type Part = string | { text: string; tone: Tone };

/** A cell: one part, or several shown one under the other. */
type Cell = Part | Part[];

/** A table in two layouts: one column per field, and fewer columns with fields one under the other. */
interface TableSpec {
  wide: { columns: Column[]; rows: Cell[][] };
  narrow: { columns: Column[]; rows: Cell[][] };
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
  const findings = a.findings.filter((f) => (f.session === null ? all : chosen.has(f.session)));
  const conns = new Map<number, ConnectionSummary>(a.connections.map((c) => [c.id, c]));

  const out: string[] = [];
  out.push(ctx.style('bold', `FTP sessions (${group(sessions.length)})`));
  if (sessions.length === 0) out.push('no FTP session in this capture');
  else out.push(await table(ctx, sessionTable(ctx, sessions)));

  out.push('', ctx.style('bold', `Transfers (${group(transfers.length)})`));
  if (transfers.length === 0) out.push(sessions.length === 0 ? 'no transfers' : 'no transfers: no command used a data connection');
  else out.push(await table(ctx, transferTable(ctx, transfers, conns)));

  out.push('', ctx.style('bold', `Findings (${group(findings.length)})`));
  if (findings.length === 0) out.push('no findings: nothing unusual was seen');
  else out.push(await table(ctx, findingTable(findings)));
  return out.join('\n') + '\n';
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

function sessionTable(ctx: ViewContext, sessions: FtpSession[]): TableSpec {
  const rows = sessions.map((s) => sessionFields(ctx, s));
  return {
    wide: {
      columns: [
        { head: '#', numeric: true },
        { head: 'client', wrap: 'late' },
        { head: 'server', wrap: 'late' },
        { head: 'user', wrap: 'first' },
        { head: 'login', wrap: 'late' },
        { head: 'modes', wrap: 'first' },
        { head: 'commands', numeric: true },
        { head: 'transfers', wrap: 'late' },
        { head: 'bytes', numeric: true },
        { head: 'duration', numeric: true },
        { head: 'findings', wrap: 'late' },
      ],
      rows: rows.map((r) => [r.id, r.client, r.server, r.user, r.login, r.modes, r.commands, r.transfers, r.bytes, r.duration, r.findings]),
    },
    narrow: {
      columns: [
        { head: '#', numeric: true },
        { head: 'client\nserver', wrap: 'late' },
        { head: 'user\nlogin', wrap: 'first' },
        { head: 'modes', wrap: 'first' },
        { head: 'commands\ntransfers', wrap: 'late' },
        { head: 'bytes\nduration', numeric: true },
        { head: 'findings', wrap: 'late' },
      ],
      rows: rows.map((r) => [
        r.id,
        [r.client, r.server],
        [r.user, r.login],
        r.modes,
        [plural(r.commands, 'command'), typeof r.transfers === 'string' ? plural(r.transfers, 'transfer') : { ...r.transfers, text: plural(r.transfers.text, 'transfer') }],
        [`${r.bytes} B`, r.duration],
        r.findings,
      ]),
    },
  };
}

function sessionFields(ctx: ViewContext, s: FtpSession): SessionFields {
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
    duration: duration(secondsOf(s.end) - secondsOf(s.start)),
    findings: worst === null ? '-' : { text: `${findings.length} (${worst})`, tone: severityTone(worst) },
  };
}

/** "active (PORT)", "passive (EPSV, PASV)": the data connection modes a session announced. */
function modes(ctx: ViewContext, s: FtpSession, transfers: Transfer[]): string {
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

function transferTable(ctx: ViewContext, transfers: Transfer[], conns: Map<number, ConnectionSummary>): TableSpec {
  const rows = transfers.map((t) => transferFields(ctx, t, conns));
  return {
    wide: {
      columns: [
        { head: '#', numeric: true },
        { head: 'session', numeric: true },
        { head: 'command', wrap: 'never' },
        { head: 'path', wrap: 'first' },
        { head: 'direction', wrap: 'late' },
        { head: 'mode', wrap: 'late' },
        { head: 'data conn', wrap: 'late' },
        { head: 'rule', wrap: 'late' },
        { head: 'bytes', numeric: true },
        { head: 'duration', numeric: true },
        { head: 'rate', numeric: true },
        { head: 'result', wrap: 'late' },
        { head: 'cause', wrap: 'first' },
      ],
      rows: rows.map((r) => [r.id, r.session, r.command, r.path, r.direction, r.mode, r.connection, r.rule, r.bytes, r.duration, r.rate, r.result, r.cause]),
    },
    narrow: {
      columns: [
        { head: '#\nsession', wrap: 'never' },
        { head: 'command path\ndirection', wrap: 'first' },
        { head: 'mode\ndata conn\nrule', wrap: 'late' },
        { head: 'bytes\nduration\nrate', numeric: true },
        { head: 'result\ncause', wrap: 'first' },
      ],
      rows: rows.map((r) => [
        [r.id, `s${r.session}`],
        [`${r.command} ${r.path}`, r.direction],
        [r.mode, r.connection, r.rule],
        [`${r.bytes} B`, r.duration, r.rate],
        r.cause === '' ? r.result : [r.result, r.cause],
      ]),
    },
  };
}

function transferFields(ctx: ViewContext, t: Transfer, conns: Map<number, ConnectionSummary>): TransferFields {
  const p = t.prediction === null ? undefined : ctx.by.prediction(t.prediction);
  const c = t.connection === null ? undefined : conns.get(t.connection);
  let path = t.path;
  if (path === '') path = t.cwd;
  let bytes = group(t.bytes);
  if (t.missingBytes > 0) bytes += ` (+${group(t.missingBytes)} missing)`;
  const result = `${t.status}${t.final !== null ? ` ${t.final}` : ''}`;
  const tone: Tone = t.status === 'complete' ? 'green' : t.status === 'incomplete' || t.status === 'unfinished' ? 'yellow' : 'red';
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

const SEVERITY_ORDER: Severity[] = ['info', 'notice', 'warning', 'alert'];

function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst = -1;
  for (const f of findings) worst = Math.max(worst, SEVERITY_ORDER.indexOf(f.severity));
  return worst < 0 ? null : SEVERITY_ORDER[worst]!;
}

function severityTone(s: Severity): Tone {
  return s === 'alert' ? 'red' : s === 'warning' ? 'yellow' : s === 'notice' ? 'cyan' : 'dim';
}

function findingTable(findings: Finding[]): TableSpec {
  const rows = findings.map((f) => {
    const frames = [...f.frames].sort((x, y) => x - y);
    const shown = frames.slice(0, 5).map(String).join(', ');
    return {
      severity: { text: f.severity, tone: severityTone(f.severity) } as Part,
      kind: sanitize(f.kind),
      session: f.session === null ? '-' : String(f.session),
      frames: frames.length === 0 ? '-' : frames.length > 5 ? `${shown}, …` : shown,
      message: sanitize(f.message) + (f.count > 1 ? ` (${group(f.count)} times)` : ''),
    };
  });
  return {
    wide: {
      columns: [
        { head: 'severity', wrap: 'never' },
        { head: 'kind', wrap: 'late' },
        { head: 'session', numeric: true },
        { head: 'frames', wrap: 'late' },
        { head: 'message', wrap: 'first' },
      ],
      rows: rows.map((r) => [r.severity, r.kind, r.session, r.frames, r.message]),
    },
    narrow: {
      columns: [
        { head: 'severity\nkind', wrap: 'late' },
        { head: 'session\nframes', wrap: 'late' },
        { head: 'message', wrap: 'first' },
      ],
      rows: rows.map((r) => [[r.severity, r.kind], [r.session === '-' ? '-' : `s${r.session}`, r.frames], r.message]),
    },
  };
}

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

/** Narrowest a wrapping column is made before the table is let go wider than the width. */
const MIN_WRAP = 8;

function partText(p: Part): string {
  return typeof p === 'string' ? p : p.text;
}

function parts(c: Cell): Part[] {
  return Array.isArray(c) ? c : [c];
}

/** Columns a cell takes at its natural width. */
function cellWidth(c: Cell): number {
  return Math.max(0, ...parts(c).map((p) => displayWidth(partText(p))));
}

/** Natural column widths: the widest cell or line of the head. */
function naturalWidths(columns: Column[], rows: Cell[][]): number[] {
  return columns.map((col, i) => maxOf(rows, (r) => cellWidth(r[i]!), Math.max(...col.head.split('\n').map((l) => displayWidth(l)))));
}

/**
 * Column widths that fit the table in `width` columns, narrowing the wrapping columns of the stages
 * given, widest first (their cells wrap), and whether they do. Words are kept whole when that is enough:
 * the 'first' columns, then the 'late' ones, are narrowed down to their longest word ("10.1.0.185:60699"
 * is read as one). When it is not, words must be cut: from the natural widths again, all those columns
 * are narrowed together, widest first, down to a minimum, so that the longest words (an IPv6 address)
 * are the ones cut.
 */
function fit(width: number, columns: Column[], rows: Cell[][], stages: Array<'first' | 'late'>): { widths: number[]; fits: boolean } {
  const natural = naturalWidths(columns, rows);
  // Each column takes its content, one space of padding and one border; plus the last border.
  const room = width - columns.length * 2 - 1;
  const wraps = (col: Column, stage: 'first' | 'late') => (col.wrap ?? 'never') === stage;
  const floor = columns.map((col, i) => Math.min(natural[i]!, Math.max(MIN_WRAP, longestWord(col.head))));
  const words = columns.map((col, i) => (stages.some((st) => wraps(col, st)) ? maxOf(rows, (r) => longestWordOf(r[i]!), floor[i]!) : natural[i]!));
  const narrow = (widths: number[], mins: number[]): number => {
    let total = widths.reduce((x, y) => x + y, 0);
    while (total > room) {
      let pick = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > mins[i]! && (pick < 0 || widths[i]! > widths[pick]!)) pick = i;
      if (pick < 0) break;
      widths[pick]!--;
      total--;
    }
    return total;
  };
  const whole = [...natural];
  let total = 0;
  for (const stage of stages) total = narrow(whole, columns.map((col, i) => (wraps(col, stage) ? Math.min(natural[i]!, words[i]!) : whole[i]!)));
  if (total <= room) return { widths: whole, fits: true };
  const cut = [...natural];
  total = narrow(cut, columns.map((col, i) => (stages.some((st) => wraps(col, st)) ? floor[i]! : natural[i]!)));
  return { widths: cut, fits: total <= room };
}

/** The widest word (between spaces) of a cell's parts. */
function longestWordOf(c: Cell): number {
  let most = 0;
  for (const p of parts(c)) most = Math.max(most, longestWord(partText(p)));
  return most;
}

/**
 * A cli-table3 table fitted to ctx.options.width: the wide layout (one column per field) when it fits,
 * else the narrow one (fields one under the other), with long cells wrapped.
 */
async function table(ctx: ViewContext, spec: TableSpec): Promise<string> {
  // The wide layout when narrowing its long-text columns is enough, else the narrow one.
  let { columns, rows } = spec.wide;
  let { widths, fits } = fit(ctx.options.width, columns, rows, ['first']);
  if (!fits) {
    ({ columns, rows } = spec.narrow);
    ({ widths } = fit(ctx.options.width, columns, rows, ['first', 'late']));
  }
  const multiLine = rows.some((r) => r.some((c, i) => parts(c).length > 1 || cellWidth(c) > widths[i]!));

  const style = ctx.options.color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
  const head = columns.map((col, i) => col.head.split('\n').flatMap((l) => wrap(l, widths[i]!)).join('\n'));
  const aligns = columns.map((col): 'left' | 'right' => (col.numeric ? 'right' : 'left'));
  const render = (from: number, to: number, withHead: boolean): string => {
    const t = new Table({
      head: withHead ? head : [],
      colWidths: widths.map((w) => w + 1),
      colAligns: aligns,
      style: { ...style, compact: !multiLine, 'padding-left': 0, 'padding-right': 1 },
      ...(multiLine ? {} : { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } }),
    });
    for (let k = from; k < to; k++) t.push(rows[k]!.map((c, i) => cellText(ctx, c, widths[i]!)));
    return t.toString();
  };
  // Our drawer first (cli-table3's output, a line at a time); cli-table3 itself when a line is too wide.
  loadWidth();
  const drawn = drawGrid(
    {
      widths,
      aligns,
      head,
      rows: rows.map((r) => r.map((c, i) => cellText(ctx, c, widths[i]!))),
      compact: !multiLine,
      color: ctx.options.color,
    },
    textWidth,
  );
  if (drawn !== null) return drawn;
  const Table = await loadTable();
  if (rows.length <= TABLE_SLICE) return render(0, rows.length, true);
  // cli-table3 lays a table out in time quadratic in its rows (each cell is checked against every row
  // above it): a summary of ten thousand sessions would take minutes. The columns' widths are fixed
  // here, so slices of rows drawn apart line up: they are joined where one's bottom border meets the
  // next one's top border (a row separator between them when rows are separated).
  const out: string[] = [];
  let separator: string | null = null;
  for (let from = 0; from < rows.length; from += TABLE_SLICE) {
    const to = Math.min(rows.length, from + TABLE_SLICE);
    const lines = render(from, to, from === 0).split('\n');
    if (from === 0) separator = multiLine ? lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤') : null;
    else {
      lines.shift();
      if (separator !== null) out.push(separator);
    }
    if (to < rows.length) lines.pop();
    pushAll(out, lines);
  }
  return out.join('\n');
}

/** A cell's text: its parts wrapped to the column, styled, one line per line. */
function cellText(ctx: ViewContext, c: Cell, width: number): string {
  return parts(c)
    .flatMap((p) => {
      // Text from the wire can be very long: a bounded cell keeps the table's work bounded.
      const lines = wrap(cutText(partText(p), 1000), width);
      return typeof p === 'string' ? lines : lines.map((l) => ctx.style(p.tone, l));
    })
    .join('\n');
}

/** Rows drawn by one cli-table3 table (see table()). */
const TABLE_SLICE = 100;

/** "1 transfer", "3 transfers", "3 (1 not complete) transfers" as "3 transfers (1 not complete)". */
function plural(count: string, noun: string): string {
  const m = /^(\S+)(.*)$/.exec(count)!;
  return `${m[1]} ${noun}${m[1] === '1' ? '' : 's'}${m[2]}`;
}

/** The widest word of a head (its lines split at spaces): a column is never narrower. */
function longestWord(s: string): number {
  return Math.max(0, ...s.split('\n').flatMap((line) => line.split(' ')).map((w) => displayWidth(w)));
}
