import { lazyTimeline, type Finding, type FtpAnalysis, type LiveEvent } from '../model/ftp-model.js';
import { describeFinding, type FindingFacts } from './findings.js';

/**
 * User names that by convention log in with an e-mail address for a password (Zeek's guest_ids): the
 * session calls such a login anonymous, and their passwords are shown. The one list of them.
 */
const GUEST_USERS: ReadonlySet<string> = new Set(['anonymous', 'ftp', 'ftpuser', 'guest']);

export const HIDDEN = '<hidden>';

export function isGuestUser(user: string): boolean {
  return GUEST_USERS.has(user.toLowerCase());
}

export function passwordIsPublic(user: string | null): boolean {
  return user !== null && isGuestUser(user);
}

/**
 * The one place passwords are hidden, for every output: the model (text views, JSON, Zeek), the events
 * streamed as the analysis goes (NDJSON, live) and the findings (a cleartext login's password). With `show`
 * (--show-passwords) it changes nothing. Passwords of guest users (e-mail addresses) are shown. It returns
 * copies: the model itself keeps what was sent.
 */
export class Masker {
  /** The user each session's last USER named, for its PASS events; forgotten when the session ends. */
  private readonly users = new Map<number, string>();

  constructor(readonly show: boolean) {}

  event(e: LiveEvent): LiveEvent {
    if (this.show) return e;
    if (e.type === 'timeline' && e.exchange !== null) {
      const ex = e.exchange;
      const session = e.event.session!;
      if (ex.command === 'USER' && e.event.kind === 'command') this.users.set(session, ex.argument);
      if (ex.command === 'PASS' && ex.argument !== '' && !passwordIsPublic(this.users.get(session) ?? null)) {
        return { ...e, exchange: { ...ex, argument: HIDDEN } };
      }
    } else if (e.type === 'finding') {
      return { ...e, finding: this.finding(e.finding) };
    } else if (e.type === 'session-end') {
      this.users.delete(e.session.id);
      return { ...e, session: this.analysis({ sessions: [e.session], predictions: [], transfers: [], findings: [], connections: [], timeline: [] }).sessions[0]! };
    }
    return e;
  }

  /** A finding with the password it may carry hidden (its words made again without it). */
  finding(f: Finding): Finding {
    if (this.show || f.kind !== 'cleartext-credentials') return f;
    const facts = f.facts as FindingFacts['cleartext-credentials'];
    if (facts.password === null || passwordIsPublic(facts.user)) return f;
    const hidden = { ...facts, password: null };
    const { message, messageZh } = describeFinding('cleartext-credentials', hidden);
    return { ...f, message, messageZh, facts: hidden };
  }

  /** The analysis with passwords hidden, and the PASS commands' arguments. */
  analysis(a: FtpAnalysis): FtpAnalysis {
    if (this.show) return a;
    return lazyTimeline({
      sessions: a.sessions.map((s) => {
        let user: string | null = null;
        // Whose the session's password is: the user named before the last PASS (a later USER does not make it public).
        let passUser: string | null | undefined;
        const exchanges = s.exchanges.map((ex) => {
          if (ex.command === 'USER') user = ex.argument;
          if (ex.command === 'PASS') passUser = user;
          if (ex.command !== 'PASS' || passwordIsPublic(user) || ex.argument === '') return ex;
          return { ...ex, argument: HIDDEN };
        });
        // Without the exchanges kept: the user of the last login that sent a password, and every such user a guest.
        const public_ = passUser !== undefined
          ? passwordIsPublic(passUser)
          : passwordIsPublic(s.user) && s.loginAttempts.every((l) => l.password === null || passwordIsPublic(l.user));
        return {
          ...s,
          password: s.password === null || public_ ? s.password : HIDDEN,
          loginAttempts: s.loginAttempts.map((l) => (l.password === null || passwordIsPublic(l.user) ? l : { ...l, password: HIDDEN })),
          exchanges,
        };
      }),
      predictions: a.predictions,
      transfers: a.transfers,
      findings: a.findings.map((f) => this.finding(f)),
      connections: a.connections,
    }, () => a.timeline);
  }
}

/** The analysis with passwords hidden (Masker.analysis). */
export function maskPasswords(a: FtpAnalysis): FtpAnalysis {
  return new Masker(false).analysis(a);
}
