/**
 * Working directories and full paths. A directory that is not known yet (no PWD seen, no absolute CWD)
 * is "." — the directory the session started in — so relative paths stay relative to it (as Zeek writes
 * them: "./pub/file"), and become absolute as soon as a PWD reply or an absolute CWD tells where "." is.
 */

export const UNKNOWN_DIR = '.';

/** Resolves `arg` against `cwd`, folding "." and ".." (never above the root of an absolute path). */
export function resolvePath(cwd: string, arg: string): string {
  // The common cases, cheaply: an absolute path with nothing to fold, or names under the start directory
  // or under a known directory (known directories are resolved, hence already folded).
  if (arg.charCodeAt(0) === SLASH) {
    if (arg.length > 1 && onlyNames(arg, 1)) return arg;
  } else if (arg !== '' && onlyNames(arg, 0)) {
    if (cwd === '/') return `/${arg}`;
    if (cwd === UNKNOWN_DIR) return `./${arg}`;
    if (cwd.charCodeAt(0) === SLASH) return `${cwd}/${arg}`;
  }
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
 * The argument of LIST or NLST split into ls options and the path. RFC 959 gives them a path only, but
 * clients send `LIST -a`, `NLST -la`, `LIST -al /pub`, and servers (vsftpd, ProFTPD, Pure-FTPd) read the
 * leading words that start with "-" as options to ls: the path is what follows them ('' when nothing does:
 * the working directory). A lone "-" is a name, not an option. Total: any string splits.
 */
export function splitListArgument(arg: string): { options: string[]; path: string } {
  const options: string[] = [];
  let i = 0;
  for (;;) {
    while (arg.charCodeAt(i) === SPACE) i++;
    if (arg.charCodeAt(i) !== DASH || i + 1 >= arg.length || arg.charCodeAt(i + 1) === SPACE) break;
    let end = arg.indexOf(' ', i);
    if (end < 0) end = arg.length;
    options.push(arg.slice(i, end));
    i = end;
  }
  return { options, path: options.length === 0 ? arg : arg.slice(i) };
}

const SLASH = 0x2f;
const DOT = 0x2e;
const SPACE = 0x20;
const DASH = 0x2d;

/** True when every '/'-separated segment of s, from `from` on, is a name: not empty, not "." or "..". */
function onlyNames(s: string, from: number): boolean {
  let start = from;
  for (let i = from; i <= s.length; i++) {
    if (i < s.length && s.charCodeAt(i) !== SLASH) continue;
    const len = i - start;
    if (len === 0) return false;
    if (s.charCodeAt(start) === DOT && (len === 1 || (len === 2 && s.charCodeAt(start + 1) === DOT))) return false;
    start = i + 1;
  }
  return true;
}

/**
 * The directory in a 257 reply (PWD, MKD): the text between the first quote and its closing quote,
 * with doubled quotes standing for one (RFC 959 appendix II). Null when there is no quoted name.
 */
export function parse257(message: string): string | null {
  const open = message.indexOf('"');
  if (open < 0) return null;
  // Taken in slices between quotes: a name built a character at a time made a string per character.
  let out = '';
  let from = open + 1;
  for (;;) {
    const q = message.indexOf('"', from);
    if (q < 0) return null; // no closing quote
    if (message.charCodeAt(q + 1) !== 0x22) return out + message.slice(from, q);
    out += message.slice(from, q + 1); // a doubled quote stands for one
    from = q + 2;
  }
}
