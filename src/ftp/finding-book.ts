import type { Finding, LoginAttempt } from '../model/ftp-model.js';
import { describeFinding, severityOf, type FindingFacts, type FindingKind } from './findings.js';

export interface FindingBookLimits {
  /** The first frames a finding lists (its count says how many times it happened). */
  maxFindingFrames: number;
  bruteForceThreshold: number;
  bruteForceWindowSec: number;
  maxTrackedClients: number;
}

/** What the book tells the analysis. */
export interface FindingBookEvents {
  /** A finding was made (`f` new) or one was counted again (`f` the first of its kind, folded into). */
  counted(f: Finding, isNew: boolean): void;
  /** With release: a finding nothing can change any more, with its place in the order findings were made. */
  done?(f: Finding, order: number): void;
  /** Whether the analysis still holds the session (a finding of a released session goes when it can). */
  holds(session: number): boolean;
}

/**
 * Every finding the analysis holds, in the order made, and the rules that fold them:
 * - repeats of a kind within a session are folded into its first report (a count and the first frames);
 * - series across sessions: failed logins from one client within the window (brute force), and cleartext
 *   logins of one client, server, user and result, are one finding each, counted on;
 * - with release, a session's findings go with it (told through `done`), except those a series still
 *   counts on, which go when the series ends (`maxTrackedClients` bounds how many series are open).
 */
export class FindingBook {
  /** Every finding held, with its place in the order made. */
  private readonly held = new Map<Finding, number>();
  private made = 0;
  private readonly firstOfKind = new Map<string, Finding>();
  /** With release: the findings of each held session. */
  private readonly bySession = new Map<number, Finding[]>();
  /** Findings a later session may still count on: a release keeps them. */
  private readonly open = new Set<Finding>();
  /** The cleartext-credentials finding of each client, server, user and result. */
  private readonly credentials = new Map<string, Finding>();
  /** Failed logins per client address: their times (the last `threshold` only), and the finding once made. */
  private readonly failures = new Map<string, { times: number[]; frames: number[]; finding: Finding | null }>();

  constructor(
    private readonly limits: FindingBookLimits,
    /** Sessions are let go (FtpOptions.release): findings are kept by session, to go with theirs. */
    private readonly release: boolean,
    private readonly events: FindingBookEvents,
  ) {}

  /** Records a finding, or counts it into the first of its kind and severity in the session (a graver one is never hidden in a count). */
  make<K extends FindingKind>(kind: K, session: number | null, frames: number[], facts: FindingFacts[K]): Finding {
    const key = `${session ?? 0}\u0000${kind}\u0000${severityOf(kind, facts)}`;
    const first = this.firstOfKind.get(key);
    if (first !== undefined) {
      first.count++;
      for (const fr of frames) if (first.frames.length < this.limits.maxFindingFrames) first.frames.push(fr);
      this.events.counted(first, false);
      return first;
    }
    const { severity, message, messageZh } = describeFinding(kind, facts);
    const f: Finding = { kind, severity, session, frames: [...frames], message, count: 1, messageZh, facts: facts as Record<string, unknown> };
    this.firstOfKind.set(key, f);
    this.held.set(f, this.made++);
    if (this.release && session !== null) {
      const list = this.bySession.get(session);
      if (list === undefined) this.bySession.set(session, [f]);
      else list.push(f);
    }
    this.events.counted(f, true);
    return f;
  }

  /** A failed login of `session` from `client` at capture time `now`: brute force once the threshold is met in the window. */
  loginFailed(session: number, client: string, server: string, frame: number, now: number): void {
    const limits = this.limits;
    let f = this.failures.get(client);
    if (f === undefined) {
      if (this.failures.size >= limits.maxTrackedClients) {
        const [oldest, gone] = this.failures.entries().next().value!;
        this.failures.delete(oldest);
        if (gone.finding !== null) this.close(gone.finding);
      }
      this.failures.set(client, (f = { times: [], frames: [], finding: null }));
    }
    if (f.finding !== null) {
      // Already reported: the report counts on.
      f.finding.count++;
      if (f.finding.frames.length < this.limits.maxFindingFrames) f.finding.frames.push(frame);
      return;
    }
    f.times.push(now);
    f.frames.push(frame);
    while (f.times.length > 0 && f.times[0]! < now - limits.bruteForceWindowSec) {
      f.times.shift();
      f.frames.shift();
    }
    if (f.times.length > limits.bruteForceThreshold) {
      f.times.shift();
      f.frames.shift();
    }
    if (f.times.length >= limits.bruteForceThreshold) {
      f.finding = this.make('brute-force', session, f.frames.slice(0, this.limits.maxFindingFrames), {
        failures: f.times.length, client, server, spanSec: now - f.times[0]!, threshold: limits.bruteForceThreshold, windowSec: limits.bruteForceWindowSec,
      });
      f.finding.count = f.times.length;
      this.open.add(f.finding);
    }
  }

  /** Passwords sent in clear in a session: one finding per client, server, user and result, counted on across sessions. */
  cleartext(session: number, client: string, server: string, clear: LoginAttempt[]): void {
    const a = clear.find((x) => x.result === 'success') ?? clear[0]!;
    const key = `${client}|${server}|${a.user}|${a.result}`;
    const earlier = this.credentials.get(key);
    if (earlier !== undefined && this.held.has(earlier)) {
      earlier.count += clear.length;
      for (const x of clear) if (earlier.frames.length < this.limits.maxFindingFrames) earlier.frames.push(x.frame);
      return;
    }
    const f = this.make('cleartext-credentials', session, clear.map((x) => x.frame).slice(0, this.limits.maxFindingFrames), { user: a.user, password: a.password, success: a.result === 'success' });
    f.count = clear.length;
    if (this.credentials.size >= this.limits.maxTrackedClients) {
      for (const old of this.credentials.values()) this.close(old);
      this.credentials.clear();
    }
    this.credentials.set(key, f);
    this.open.add(f);
  }

  /** Where a finding stands in the order findings were made (-1: not held). */
  order(f: Finding): number {
    return this.held.get(f) ?? -1;
  }

  /** Every finding held, in the order made. */
  all(): Finding[] {
    return [...this.held.keys()];
  }

  /** The findings of one session. */
  ofSession(id: number): Finding[] {
    return this.release ? [...(this.bySession.get(id) ?? [])] : this.all().filter((f) => f.session === id);
  }

  /** The session is let go: its findings go too (told through `done`), but for those a series still counts on. */
  releaseSession(id: number): Finding[] {
    const findings = this.bySession.get(id) ?? [];
    this.bySession.delete(id);
    for (const f of findings) {
      this.firstOfKind.delete(`${id}\u0000${f.kind}\u0000${f.severity}`);
      if (!this.open.has(f)) this.drop(f);
    }
    return findings;
  }

  /** A finding no later session can count on any more: once its session is released, it is told and let go. */
  private close(f: Finding): void {
    this.open.delete(f);
    if (this.release && f.session !== null && !this.events.holds(f.session)) this.drop(f);
  }

  private drop(f: Finding): void {
    const order = this.held.get(f);
    if (order === undefined) return;
    this.held.delete(f);
    this.events.done?.(f, order);
  }
}
