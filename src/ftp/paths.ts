/**
 * Working directories and full paths. A directory that is not known yet (no PWD seen, no absolute CWD)
 * is "." — the directory the session started in — so relative paths stay relative to it (as Zeek writes
 * them: "./pub/file"), and become absolute as soon as a PWD reply or an absolute CWD tells where "." is.
 */

export const UNKNOWN_DIR = '.';

/** Resolves `arg` against `cwd`, folding "." and ".." (never above the root of an absolute path). */
export function resolvePath(cwd: string, arg: string): string {
  const absolute = arg.startsWith('/');
  const base = absolute ? '/' : cwd;
  const parts = base === '/' ? [] : base.split('/').filter((p) => p !== '');
  const rooted = absolute || base.startsWith('/');
  for (const seg of arg.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..' && parts[parts.length - 1] !== '.') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  if (rooted) return `/${parts.join('/')}`;
  if (parts.length === 0 || parts[0] !== '.') parts.unshift('.');
  return parts.join('/');
}

/**
 * The directory in a 257 reply (PWD, MKD): the text between the first quote and its closing quote,
 * with doubled quotes standing for one (RFC 959 appendix II). Null when there is no quoted name.
 */
export function parse257(message: string): string | null {
  const open = message.indexOf('"');
  if (open < 0) return null;
  let out = '';
  for (let i = open + 1; i < message.length; i++) {
    const c = message[i]!;
    if (c === '"') {
      if (message[i + 1] === '"') {
        out += '"';
        i++;
        continue;
      }
      return out;
    }
    out += c;
  }
  return null; // no closing quote
}
