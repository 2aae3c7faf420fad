import { lazyTimeline, type AnonymousBy, type Exchange, type Finding, type FtpAnalysis, type LiveEvent, type Reply } from '../model/ftp-model.js';
import { describeFinding, type FindingFacts } from './findings.js';

export const HIDDEN = '<hidden>';

/**
 * User names that are the anonymous account on every common server (vsftpd, ProFTPD, Pure-FTPd, wu-ftpd
 * map both to it; RFC 1635 names "anonymous"). Other names some lists call guests (ftpuser, guest) are
 * real local accounts on these servers, with real passwords: only the server can say they are anonymous.
 */
const ANONYMOUS_NAMES: ReadonlySet<string> = new Set(['anonymous', 'ftp']);

export function isAnonymousName(user: string): boolean {
  return ANONYMOUS_NAMES.has(user.toLowerCase());
}

/**
 * A 331 that asks for an e-mail address or an identity as the password (RFC 1635: "331 Guest login ok, send
 * ident as password."; wu-ftpd "Guest login ok, send your complete e-mail address as password."; ProFTPD
 * "Anonymous login ok, send your complete email address as your password"; IIS "Anonymous access allowed,
 * send identity (e-mail name) as password."; Pure-FTPd "Any password will work"). vsftpd's "Please specify
 * the password." says nothing either way.
 */
const IDENTITY_PROMPT = /^(guest|anonymous) (login|access|user)\b|\b(e-?mail|ident|identity)\b.*\bas (your )?password\b|^any password will work\b/i;

/**
 * A 230 that says the login is a guest's (wu-ftpd "230 Guest login ok, access restrictions apply.", ProFTPD
 * "230 Anonymous access granted, restrictions apply", Pure-FTPd "230 Anonymous user logged in"). Read at
 * the start of a line only: a real user's welcome banner may mention anonymous access anywhere.
 */
const GUEST_WELCOME = /^(guest|anonymous) (login|access|user)\b/i;

/**
 * Whether the reply's first or last line, its code and separator removed, says what `pattern` looks for:
 * servers put their status there (Pure-FTPd first, wu-ftpd after the welcome banner), not in the banner.
 */
function replySays(reply: Reply, pattern: RegExp): boolean {
  const says = (line: string | undefined) => line !== undefined && pattern.test(line.replace(/^\d{3}[ -]?/, '').trimStart());
  return says(reply.lines[0]) || (reply.lines.length > 1 && says(reply.lines[reply.lines.length - 1]));
}

/**
 * The one decision whether a login is anonymous, and by what evidence (see AnonymousBy): the user's name, the
 * server's 331 to USER (`prompt`), its 230 (`welcome`). Null: a real account, whose password is hidden.
 * The session makes it as the login goes on (the model's anonymousBy); the Masker makes it again from the
 * exchanges it shows, and from what has been seen so far for events streamed before the 230.
 */
export function anonymousEvidence(user: string | null, prompt: Reply | null, welcome: Reply | null): AnonymousBy | null {
  if (user !== null && isAnonymousName(user)) return 'user-name';
  if (prompt !== null && prompt.code === 331 && replySays(prompt, IDENTITY_PROMPT)) return 'server-331';
  if (welcome !== null && welcome.code === 230 && replySays(welcome, GUEST_WELCOME)) return 'server-230';
  return null;
}

/** The final reply of an exchange, if it has one. */
function finalReply(ex: Exchange): Reply | null {
  const r = ex.replies[ex.replies.length - 1];
  return r !== undefined && r.code >= 200 ? r : null;
}

/**
 * The one place passwords are hidden, for every output: the model (text views, JSON, Zeek), the events
 * streamed as the analysis goes (NDJSON, live) and the findings (a cleartext login's password). With `show`
 * (--show-passwords) it changes nothing. A password is shown only when anonymousEvidence says the login is
 * anonymous (an e-mail address); a real account's is hidden, whatever the account is called. It returns
 * copies: the model itself keeps what was sent.
 */
export class Masker {
  /** Each session's last USER and the 331 it got, for its PASS events; forgotten when the session ends. */
  private readonly logins = new Map<number, { user: string; prompt: Reply | null }>();

  constructor(readonly show: boolean) {}

  event(e: LiveEvent): LiveEvent {
    if (this.show) return e;
    if (e.type === 'timeline' && e.exchange !== null) {
      const ex = e.exchange;
      const session = e.event.session!;
      if (ex.command === 'USER') {
        if (e.event.kind === 'command') this.logins.set(session, { user: ex.argument, prompt: null });
        else {
          const login = this.logins.get(session);
          if (login !== undefined) login.prompt = finalReply(ex);
        }
      }
      // A PASS told before its 230: decided from the user and the 331 so far (no evidence: hidden).
      if (ex.command === 'PASS' && ex.argument !== '') {
        const login = this.logins.get(session);
        const welcome = e.event.kind === 'reply' ? finalReply(ex) : null;
        if (anonymousEvidence(login?.user ?? null, login?.prompt ?? null, welcome) === null) return { ...e, exchange: { ...ex, argument: HIDDEN } };
      }
    } else if (e.type === 'finding') {
      return { ...e, finding: this.finding(e.finding) };
    } else if (e.type === 'session-end') {
      this.logins.delete(e.session.id);
      return { ...e, session: this.analysis({ sessions: [e.session], predictions: [], transfers: [], findings: [], connections: [], timeline: [] }).sessions[0]! };
    }
    return e;
  }

  /** A finding with the password it may carry hidden (its words made again without it): cleartext logins are real accounts'. */
  finding(f: Finding): Finding {
    if (this.show || f.kind !== 'cleartext-credentials') return f;
    const facts = f.facts as FindingFacts['cleartext-credentials'];
    if (facts.password === null) return f;
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
        let prompt: Reply | null = null;
        // Whether the session's password (the last PASS) is an anonymous login's: undefined without a PASS kept.
        let lastPublic: boolean | undefined;
        const exchanges = s.exchanges.map((ex) => {
          if (ex.command === 'USER') {
            user = ex.argument;
            prompt = finalReply(ex);
          }
          if (ex.command !== 'PASS') return ex;
          lastPublic = anonymousEvidence(user, prompt, finalReply(ex)) !== null;
          return lastPublic || ex.argument === '' ? ex : { ...ex, argument: HIDDEN };
        });
        // Without the exchanges kept: the last login that sent a password is the session's, and every such login anonymous.
        const sent = s.loginAttempts.filter((l) => l.password !== null);
        const public_ = lastPublic ?? (sent.length > 0 && sent.every((l) => l.anonymousBy !== null) && sent[sent.length - 1]!.password === s.password);
        return {
          ...s,
          password: s.password === null || public_ ? s.password : HIDDEN,
          loginAttempts: s.loginAttempts.map((l) => (l.password === null || l.anonymousBy !== null ? l : { ...l, password: HIDDEN })),
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
