import { lazyTimeline, type Finding, type FtpAnalysis, type FtpSession } from '../model/ftp-model.js';

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
