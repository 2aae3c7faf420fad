import { lazyTimeline, type Finding, type FtpAnalysis, type FtpSession, type LiveEvent, type SessionDigest, type Severity } from '../model/ftp-model.js';
import { graveEnough } from '../model/severity.js';

/** What to show: sessions chosen by number or endpoint, by host, and by time. */
export interface SessionFilter {
  /** Session numbers, or "ADDR:PORT" / "[ADDR]:PORT" endpoints of the control connection (either side). */
  sessions: string[];
  hosts: string[];
  /** Seconds since the epoch; a session is shown when it overlaps [from, to]. */
  from: number | null;
  to: number | null;
}

export function isEmptyFilter(f: SessionFilter): boolean {
  return f.sessions.length === 0 && f.hosts.length === 0 && f.from === null && f.to === null;
}

function matches(s: FtpSession, f: SessionFilter): boolean {
  if (f.sessions.length > 0) {
    const ends = [endpoint(s.client.address, s.client.port), endpoint(s.server.address, s.server.port)];
    if (!f.sessions.some((want) => want === String(s.id) || ends.includes(want.replace(/^\[(.*)\](:\d+)$/, '$1$2')))) return false;
  }
  if (f.hosts.length > 0 && !f.hosts.some((h) => h === s.client.address || h === s.server.address)) return false;
  const start = s.start.sec + s.start.nsec / 1e9;
  const end = s.end.sec + s.end.nsec / 1e9;
  if (f.from !== null && end < f.from) return false;
  if (f.to !== null && start > f.to) return false;
  return true;
}

/** Whether a finding of no session is about one of `hosts`: it names one, or names no host at all (a limit of the whole analysis). */
function aboutHosts(finding: Finding, hosts: ReadonlySet<string>): boolean {
  const named = HOST_FACTS.map((k) => finding.facts[k]).filter((v): v is string => typeof v === 'string');
  return named.length === 0 || named.some((h) => hosts.has(h));
}

/** The facts of a finding that name a host (see the catalogue, ftp/findings.ts). */
const HOST_FACTS = ['client', 'server', 'address'] as const;

function endpoint(address: string, port: number): string {
  return `${address}:${port}`;
}

/** Whether a --session value is one: a session number, or ADDR:PORT ([ADDR]:PORT for IPv6). */
export function isSessionSpec(v: string): boolean {
  // An IPv6 address may come bracketed or not (fd00::2:21): its last group is then the port.
  return /^\d+$/.test(v) || /^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(v) || /^[^\s[\]]+:\d{1,5}$/.test(v);
}

/**
 * Why a filter chose no session, and what the capture has instead, in one line: "no session 99: this
 * capture has sessions 1-3". `time` formats a capture time for the line.
 */
export function explainNoMatch(a: FtpAnalysis, f: SessionFilter, time: (sec: number) => string): string {
  const asked = [f.sessions.length > 0 ? `no session ${f.sessions.join(' or ')}` : 'no FTP session'];
  if (f.hosts.length > 0) asked.push(`of host ${f.hosts.join(' or ')}`);
  if (f.from !== null) asked.push(`going on at or after ${time(f.from)}`);
  if (f.to !== null) asked.push(`begun by ${time(f.to)}`);
  const what = asked.join(' ');
  const all = a.sessions;
  if (all.length === 0) return `${what}: this capture has no FTP session`;
  const has: string[] = [];
  const ids = all.map((s) => s.id);
  has.push(ids.length === 1 ? `session ${ids[0]}` : ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1) ? `sessions ${ids[0]}-${ids.at(-1)}` : `sessions ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`);
  if (f.hosts.length > 0 || f.sessions.some((v) => v.includes(':'))) {
    const hosts = [...new Set(all.flatMap((s) => [s.client.address, s.server.address]))];
    has.push(`hosts ${hosts.slice(0, 6).join(', ')}${hosts.length > 6 ? ` and ${hosts.length - 6} more` : ''}`);
  }
  if (f.from !== null || f.to !== null) {
    const start = Math.min(...all.map((s) => s.start.sec + s.start.nsec / 1e9));
    const end = Math.max(...all.map((s) => s.end.sec + s.end.nsec / 1e9));
    has.push(`from ${time(start)} to ${time(end)}`);
  }
  return `${what}: this capture has ${has.join(', ')}${f.sessions.length > 0 ? '; --session takes a number or ADDR:PORT' : ''}`;
}

/** The analysis restricted to the sessions the filter chooses, with what belongs to them. */
export function filterAnalysis(a: FtpAnalysis, f: SessionFilter): FtpAnalysis {
  if (isEmptyFilter(f)) return a;
  const keep = new Set(a.sessions.filter((s) => matches(s, f)).map((s) => s.id));
  const conns = new Set<number>();
  for (const s of a.sessions) if (keep.has(s.id)) conns.add(s.connection);
  for (const t of a.transfers) if (keep.has(t.session) && t.connection !== null) conns.add(t.connection);
  for (const p of a.predictions) if (keep.has(p.session) && p.connection !== null) conns.add(p.connection);
  // A finding of no session is shown when it names a host asked for (or, without --host, one of a session shown).
  const hosts = new Set(f.hosts.length > 0 ? f.hosts : a.sessions.filter((s) => keep.has(s.id)).flatMap((s) => [s.client.address, s.server.address]));
  return lazyTimeline({
    sessions: a.sessions.filter((s) => keep.has(s.id)),
    // Predictions and transfers stay whole: they are looked up by id.
    predictions: a.predictions,
    transfers: a.transfers,
    findings: a.findings.filter((x) => (x.session === null ? aboutHosts(x, hosts) : keep.has(x.session))),
    connections: a.connections.filter((c) => conns.has(c.id)),
  }, () => a.timeline.filter((e) => e.session !== null && keep.has(e.session)));
}

/** Reads a time: seconds since the epoch, an ISO 8601 date, or "+N" seconds after `start`. Null when not a time. */
export function parseTime(text: string, start: number): number | null {
  if (/^\+\d+(\.\d+)?$/.test(text)) return start + Number(text.slice(1));
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** The analysis with only the findings at least as grave as `min` (--min-severity). */
export function withSeverity(a: FtpAnalysis, min: Severity): FtpAnalysis {
  if (min === 'info') return a;
  return lazyTimeline({ sessions: a.sessions, predictions: a.predictions, transfers: a.transfers, findings: a.findings.filter((f) => graveEnough(f, min)), connections: a.connections }, () => a.timeline);
}

/**
 * --session and --host for streamed events (NDJSON, and live output): what is shown of each session, by the
 * rule of the whole model (filterAnalysis), decided once per session while the analysis holds it and
 * forgotten at its end. Time windows are not decided here: a session's end is not known while it streams.
 */
export class SessionChoice {
  private readonly all: boolean;
  private readonly decided = new Map<number, boolean>();
  constructor(private readonly filter: SessionFilter, private readonly held: (id: number) => FtpSession | null) {
    this.all = isEmptyFilter(filter);
  }

  session(m: FtpSession): boolean {
    return this.all || filterAnalysis(lazyTimeline({ sessions: [m], predictions: [], transfers: [], findings: [], connections: [] }, () => []), this.filter).sessions.length > 0;
  }

  private id(id: number | null): boolean {
    if (id === null) return false;
    let yes = this.decided.get(id);
    if (yes === undefined) {
      const m = this.held(id);
      yes = m !== null && this.session(m);
      this.decided.set(id, yes);
    }
    return yes;
  }

  /** Whether a streamed event is shown: one of a chosen session, or a finding of none that the filter keeps. */
  event(e: LiveEvent): boolean {
    if (this.all) return true;
    switch (e.type) {
      case 'timeline':
        return this.id(e.event.session);
      case 'transfer-end':
        return this.id(e.session);
      case 'finding':
        return e.finding.session === null
          ? filterAnalysis(lazyTimeline({ sessions: [], predictions: [], transfers: [], findings: [e.finding], connections: [] }, () => []), this.filter).findings.length > 0
          : this.id(e.finding.session);
      case 'session-end': {
        const yes = this.session(e.session);
        this.decided.delete(e.session.id);
        return yes;
      }
    }
  }

  /** The model with only the chosen sessions (JSON and Zeek at the end). */
  analysis(a: FtpAnalysis): FtpAnalysis {
    return this.all ? a : filterAnalysis(a, this.filter);
  }

  /** Whether a finished session's digest is listed at the end. */
  digest(d: SessionDigest): boolean {
    const never = { frame: 0, sec: 0, nsec: 0 };
    return this.all || this.session({ ...d, start: never, end: never } as unknown as FtpSession);
  }
}
