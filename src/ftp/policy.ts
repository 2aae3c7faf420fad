import { lazyTimeline, type FtpAnalysis } from '../model/ftp-model.js';

/** Users whose password is by convention an e-mail address, shown as it is (Zeek's list). */
const OPEN_USERS = new Set(['anonymous', 'ftp', 'ftpuser', 'guest']);

export const HIDDEN = '<hidden>';

export function passwordIsPublic(user: string | null): boolean {
  return user !== null && OPEN_USERS.has(user.toLowerCase());
}

/**
 * The analysis with passwords replaced by "<hidden>", except those of anonymous users (e-mail addresses).
 * The PASS commands' arguments are hidden too. A copy: the model itself keeps what was sent.
 */
export function maskPasswords(a: FtpAnalysis): FtpAnalysis {
  return lazyTimeline({
    sessions: a.sessions.map((s) => {
      let user: string | null = null;
      const exchanges = s.exchanges.map((ex) => {
        if (ex.command === 'USER') user = ex.argument;
        if (ex.command !== 'PASS' || passwordIsPublic(user) || ex.argument === '') return ex;
        return { ...ex, argument: HIDDEN };
      });
      return {
        ...s,
        password: s.password === null || passwordIsPublic(s.user) ? s.password : HIDDEN,
        loginAttempts: s.loginAttempts.map((l) => (l.password === null || passwordIsPublic(l.user) ? l : { ...l, password: HIDDEN })),
        exchanges,
      };
    }),
    predictions: a.predictions,
    transfers: a.transfers,
    findings: a.findings,
    connections: a.connections,
  }, () => a.timeline);
}
