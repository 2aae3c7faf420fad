import type { GridSpec } from './grid.js';
import { measure, newShape, plan, SlicedTable, type Layout, type Part, type Shape, type Tone } from './fit.js';
import { loadTable, loadWidth, textWidth } from './table.js';
import { SEVERITIES, importanceKey } from '../model/severity.js';
import type { ConnectionSummary } from '../model/capture.js';
import type { Finding, FtpAnalysis, FtpSession, Severity, Transfer } from '../model/ftp-model.js';
import { indexModel, type ModelIndex } from '../model/lookup.js';
import { hostPort, secondsOf, type Lang, type ViewContext } from './context.js';
import { group, sanitize } from './text.js';
import { VOCAB, type Vocab } from './vocab.js';
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

  readonly words: Words;

  constructor(lang: Lang = 'en', limit = spillLimit) {
    const w = (this.words = WORDS[lang] ?? WORDS.en);
    this.sessions = new TableBook(sessionWide(w), sessionNarrow(w), limit);
    this.transfers = new TableBook(transferWide(w), transferNarrow(w), limit);
    this.findings = new TableBook(findingWide(w), findingNarrow(w), limit);
  }

  /** Sessions and their transfers; the connections are looked up for the transfers' ports. */
  add(look: RowLookup, sessions: readonly FtpSession[], transfers: readonly Transfer[], connections: readonly ConnectionSummary[]): void {
    const conns = new Map<number, ConnectionSummary>(connections.map((c) => [c.id, c]));
    for (const s of sessions) this.sessions.add(s.id, sessionFields(this.words, look, s));
    for (const t of transfers) this.transfers.add(t.id, transferFields(this.words, look, t, (id) => conns.get(id)));
  }

  /** A released session, as FtpOptions.onSessionDone tells it (its findings come by addFinding). */
  addSession(a: FtpAnalysis): void {
    this.add({ by: indexModel(a), findingsOf: (id) => a.findings.filter((f) => f.session === id) }, a.sessions, a.transfers, a.connections);
  }

  /** A finding, with its place in the order findings were made. */
  addFinding(f: Finding, order: number): void {
    // Listed gravest first, then by time, as the model lists them (byImportance).
    this.findings.add(importanceKey(f, order), findingFields(this.words, f));
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
  const book = new SummaryBook(ctx.options.lang);
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
  const w = book.words;
  const sessions = book.sessions.rows.count;
  const transfers = book.transfers.rows.count;
  const findings = book.findings.rows.count;
  yield `${look.style('bold', w.sessionsTitle(group(sessions)))}\n`;
  if (sessions === 0) yield `${w.noSessions}\n`;
  else yield* table(look, book.sessions);

  yield `\n${look.style('bold', w.transfersTitle(group(transfers)))}\n`;
  if (transfers === 0) yield `${sessions === 0 ? w.noTransfers : w.noDataCommand}\n`;
  else yield* table(look, book.transfers);

  yield `\n${look.style('bold', w.findingsTitle(group(findings)))}\n`;
  if (findings === 0) yield `${w.noFindings}\n`;
  else yield* table(look, book.findings);
}

/** The summary's words in one language: titles, column heads and the words in cells. */
interface Words {
  v: Vocab;
  /** A session's login as its column says it. */
  login: Record<FtpSession['login'], string>;
  /** Joins names in a list ("EPSV, PASV"). */
  list: string;
  sessionsTitle: (n: string) => string;
  noSessions: string;
  transfersTitle: (n: string) => string;
  noTransfers: string;
  noDataCommand: string;
  findingsTitle: (n: string) => string;
  noFindings: string;
  head: Record<'client' | 'server' | 'user' | 'login' | 'modes' | 'commands' | 'transfers' | 'bytes' | 'duration' | 'findings' | 'session' | 'command' | 'path' | 'direction' | 'mode' | 'connection' | 'rule' | 'rate' | 'result' | 'cause' | 'severity' | 'kind' | 'frames' | 'message', string>;
  /** Joins the parts of a list ("active (PORT), passive (EPSV)"). */
  comma: string;
  aside: (text: string) => string;
  count: (n: string, noun: 'command' | 'transfer') => string;
  notComplete: (n: string) => string;
  tries: (n: number) => string;
  encrypted: (command: string) => string;
  then: (login: string, command: string) => string;
  none: string;
  byteCount: (n: string) => string;
  missing: (n: string) => string;
  times: (n: string) => string;
  units: Record<'µs' | 'ms' | 's' | 'min' | 'h', string>;
}

const EN: Words = {
  v: VOCAB.en,
  login: { success: 'success', failure: 'failure', unknown: 'unknown', none: 'none' },
  list: ', ',
  sessionsTitle: (n) => `FTP sessions (${n})`,
  noSessions: 'no FTP session in this capture',
  transfersTitle: (n) => `Transfers (${n})`,
  noTransfers: 'no transfers',
  noDataCommand: 'no transfers: no command used a data connection',
  findingsTitle: (n) => `Findings (${n})`,
  noFindings: 'no findings: nothing unusual was seen',
  head: {
    client: 'client', server: 'server', user: 'user', login: 'login', modes: 'modes', commands: 'commands', transfers: 'transfers',
    bytes: 'bytes', duration: 'duration', findings: 'findings', session: 'session', command: 'command', path: 'path',
    direction: 'direction', mode: 'mode', connection: 'data conn', rule: 'rule', rate: 'rate', result: 'result', cause: 'cause',
    severity: 'severity', kind: 'kind', frames: 'frames', message: 'message',
  },
  comma: ', ',
  aside: (text) => ` (${text})`,
  count: (n, noun) => `${n} ${noun}${n === '1' ? '' : 's'}`,
  notComplete: (n) => `${n} not complete`,
  tries: (n) => `${n} tries`,
  encrypted: (command) => `encrypted (${command})`,
  then: (login, command) => `${login}, then ${command}`,
  none: 'none',
  byteCount: (n) => `${n} B`,
  missing: (n) => `+${n} missing`,
  times: (n) => `${n} times`,
  units: { µs: 'µs', ms: 'ms', s: 's', min: 'min', h: 'h' },
};

const ZH: Words = {
  v: VOCAB.zh,
  login: VOCAB.zh.login,
  list: '、',
  sessionsTitle: (n) => `FTP 会话（${n}）`,
  noSessions: '这个抓包中没有 FTP 会话',
  transfersTitle: (n) => `传输（${n}）`,
  noTransfers: '没有传输',
  noDataCommand: '没有传输：没有命令使用数据连接',
  findingsTitle: (n) => `发现（${n}）`,
  noFindings: '没有发现：没有看到异常情况',
  head: {
    client: '客户端', server: '服务器', user: '用户', login: '登录', modes: '模式', commands: '命令', transfers: '传输',
    bytes: '字节', duration: '时长', findings: '发现', session: '会话', command: '命令', path: '路径',
    direction: '方向', mode: '模式', connection: '数据连接', rule: '匹配依据', rate: '速率', result: '结果', cause: '原因',
    severity: '严重程度', kind: '类型', frames: '帧', message: '说明',
  },
  comma: '，',
  aside: (text) => `（${text}）`,
  count: (n, noun) => `${n} ${noun === 'command' ? '个命令' : '次传输'}`,
  notComplete: (n) => `${n} 次不完整`,
  tries: (n) => `尝试 ${n} 次`,
  encrypted: (command) => `已加密（${command}）`,
  then: (login, command) => `${login}，然后 ${command}`,
  none: '无',
  byteCount: (n) => `${n} 字节`,
  missing: (n) => `另缺 ${n} 字节`,
  times: (n) => `共 ${n} 次`,
  units: { µs: '微秒', ms: '毫秒', s: '秒', min: '分', h: '小时' },
};

const WORDS: Record<Lang, Words> = { en: EN, zh: ZH };

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
  transferCount: string;
  /** "1 not complete", when any is not. */
  notComplete: string | null;
  bytes: string;
  duration: string;
  findings: Part;
}

const sessionWide = ({ head: h }: Words): Layout<SessionFields> => ({
  columns: [
        { head: '#', numeric: true },
        { head: h.client },
        { head: h.server },
        { head: h.user },
        { head: h.login },
        { head: h.modes },
        { head: h.commands, numeric: true },
        { head: h.transfers },
        { head: h.bytes, numeric: true },
        { head: h.duration, numeric: true },
        { head: h.findings },
  ],
  cells: (r) => [r.id, r.client, r.server, r.user, r.login, r.modes, r.commands, r.transfers, r.bytes, r.duration, r.findings],
});

const sessionNarrow = (w: Words): Layout<SessionFields> => ({
  columns: [
        { head: '#', numeric: true },
        { head: `${w.head.client}\n${w.head.server}` },
        { head: `${w.head.user}\n${w.head.login}` },
        { head: w.head.modes },
        { head: `${w.head.commands}\n${w.head.transfers}` },
        { head: `${w.head.bytes}\n${w.head.duration}`, numeric: true },
        { head: w.head.findings },
  ],
  cells: (r) => [
        r.id,
        [r.client, r.server],
        [r.user, r.login],
        r.modes,
        [w.count(r.commands, 'command'), r.notComplete === null ? w.count(r.transferCount, 'transfer') : { text: w.count(r.transferCount, 'transfer') + w.aside(r.notComplete), tone: 'yellow' }],
        [w.byteCount(r.bytes), r.duration],
        r.findings,
  ],
});

function sessionFields(w: Words, ctx: RowLookup, s: FtpSession): SessionFields {
  const transfers = s.transfers.map((id) => ctx.by.transfer(id)).filter((t): t is Transfer => t !== undefined);
  const notComplete = transfers.filter((t) => t.status !== 'complete').length;
  const bytes = transfers.reduce((n, t) => n + t.bytes, 0);
  const commands = s.commands;
  const findings = ctx.findingsOf(s.id);
  const worst = worstSeverity(findings);

  let login: string = w.login[s.login];
  if (s.loginAttempts.length > 1) login += w.aside(w.tries(s.loginAttempts.length));
  if (s.tls !== null) login = s.login === 'none' ? w.encrypted(sanitize(s.tls.command)) : w.then(login, sanitize(s.tls.command));

  return {
    id: String(s.id),
    client: sanitize(hostPort(s.client.address, s.client.port)),
    server: sanitize(hostPort(s.server.address, s.server.port)),
    user: s.user === null ? '?' : sanitize(s.user),
    login: s.login === 'failure' ? { text: login, tone: 'red' } : login,
    modes: modes(w, ctx, s, transfers),
    commands: group(commands),
    transfers: notComplete > 0 ? { text: group(transfers.length) + w.aside(w.notComplete(group(notComplete))), tone: 'yellow' } : group(transfers.length),
    transferCount: group(transfers.length),
    notComplete: notComplete > 0 ? w.notComplete(group(notComplete)) : null,
    bytes: group(bytes),
    duration: secondsOf(s.end) < secondsOf(s.start) ? '-' : duration(secondsOf(s.end) - secondsOf(s.start), w.units),
    findings: worst === null ? '-' : { text: `${findings.length}${w.aside(w.v.severity[worst])}`, tone: severityTone(worst) },
  };
}

/** "active (PORT)", "passive (EPSV, PASV)": the data connection modes a session announced. */
function modes(w: Words, ctx: RowLookup, s: FtpSession, transfers: Transfer[]): string {
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
    .map(([mode, sources]) => w.v.mode[mode as Transfer['mode']] + (sources.size > 0 ? w.aside([...sources].join(w.list)) : ''))
    .join(w.comma);
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

const transferWide = ({ head: h }: Words): Layout<TransferFields> => ({
  columns: [
        { head: '#', numeric: true },
        { head: h.session, numeric: true },
        { head: h.command, wrap: 'never' },
        { head: h.path },
        { head: h.direction },
        { head: h.mode },
        { head: h.connection },
        { head: h.rule },
        { head: h.bytes, numeric: true },
        { head: h.duration, numeric: true },
        { head: h.rate, numeric: true },
        { head: h.result },
        { head: h.cause, wrap: 'prose' },
  ],
  cells: (r) => [r.id, r.session, r.command, r.path, r.direction, r.mode, r.connection, r.rule, r.bytes, r.duration, r.rate, r.result, r.cause],
});

const transferNarrow = (w: Words): Layout<TransferFields> => ({
  columns: [
        { head: `#\n${w.head.session}`, wrap: 'never' },
        { head: `${w.head.command} ${w.head.path}\n${w.head.direction}` },
        { head: `${w.head.mode}\n${w.head.connection}\n${w.head.rule}` },
        { head: `${w.head.bytes}\n${w.head.duration}\n${w.head.rate}`, numeric: true },
        { head: `${w.head.result}\n${w.head.cause}`, wrap: 'prose' },
  ],
  cells: (r) => [
        [r.id, `s${r.session}`],
        [`${r.command} ${r.path}`, r.direction],
        [r.mode, r.connection, r.rule],
        [w.byteCount(r.bytes), r.duration, r.rate],
        r.cause === '' ? r.result : [r.result, r.cause],
  ],
});

function transferFields(w: Words, ctx: RowLookup, t: Transfer, conns: (id: number) => ConnectionSummary | undefined): TransferFields {
  const p = t.prediction === null ? undefined : ctx.by.prediction(t.prediction);
  const c = t.connection === null ? undefined : conns(t.connection);
  let path = t.path;
  if (path === '') path = t.cwd;
  let bytes = group(t.bytes);
  if (t.missingBytes > 0) bytes += w.aside(w.missing(group(t.missingBytes)));
  const result = `${w.v.status[t.status]}${t.final !== null ? ` ${t.final}` : ''}`;
  const tone: Tone = t.status === 'complete' ? 'green' : t.status === 'incomplete' || t.status === 'unfinished' || t.status === 'aborted' ? 'yellow' : 'red';
  return {
    id: String(t.id),
    session: String(t.session),
    command: sanitize(t.command),
    path: sanitize(path),
    direction: w.v.direction[t.direction],
    mode: w.v.mode[t.mode] + (p === undefined ? '' : w.aside(p.source)),
    connection: c === undefined ? (t.connection === null ? w.none : `#${t.connection}`) : `${c.client.port}→${c.server.port}`,
    rule: t.rule === null ? w.v.noRule : w.v.rule[t.rule],
    bytes,
    duration: t.duration === null ? '-' : duration(t.duration, w.units),
    rate: t.throughput === null ? '-' : rate(t.throughput),
    result: { text: result, tone },
    cause: t.status === 'complete' ? '' : sanitize((w === EN ? t.cause : t.causeZh) ?? ''),
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

function findingFields(w: Words, f: Finding): FindingFields {
  const frames = [...f.frames].sort((x, y) => x - y);
  const shown = frames.slice(0, 5).map(String).join(', ');
  return {
    severity: { text: w.v.severity[f.severity], tone: severityTone(f.severity) },
    kind: sanitize(f.kind),
    session: f.session === null ? '-' : String(f.session),
    frames: frames.length === 0 ? '-' : frames.length > 5 ? `${shown}, …` : shown,
    message: sanitize(w === EN ? f.message : f.messageZh) + (f.count > 1 ? w.aside(w.times(group(f.count))) : ''),
  };
}

const findingWide = ({ head: h }: Words): Layout<FindingFields> => ({
  columns: [
        { head: h.severity, wrap: 'never' },
        { head: h.kind },
        { head: h.session, numeric: true },
        { head: h.frames },
        { head: h.message, wrap: 'prose' },
  ],
  cells: (r) => [r.severity, r.kind, r.session, r.frames, r.message],
});

const findingNarrow = ({ head: h }: Words): Layout<FindingFields> => ({
  columns: [
        { head: `${h.severity}\n${h.kind}` },
        { head: `${h.session}\n${h.frames}` },
        { head: h.message, wrap: 'prose' },
  ],
  cells: (r) => [[r.severity, r.kind], [r.session === '-' ? '-' : `s${r.session}`, r.frames], r.message],
});

// ---------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------

/** Seconds in human units: "0 s", "850 µs", "12.3 ms", "3.21 s", "2 min 05 s", "1 h 02 min" (`u`: the units' names). */
export function duration(seconds: number, u: Words['units'] = EN.units): string {
  const d = Math.max(0, seconds);
  if (d === 0) return `0 ${u.s}`;
  if (d < 1e-3) return `${Math.max(1, Math.round(d * 1e6))} ${u['µs']}`;
  if (d < 1) return `${(d * 1e3).toFixed(1)} ${u.ms}`;
  if (d < 60) return `${d.toFixed(2)} ${u.s}`;
  if (d < 3600) return `${Math.floor(d / 60)} ${u.min} ${String(Math.floor(d % 60)).padStart(2, '0')} ${u.s}`;
  return `${Math.floor(d / 3600)} ${u.h} ${String(Math.floor((d % 3600) / 60)).padStart(2, '0')} ${u.min}`;
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


