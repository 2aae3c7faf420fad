import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { TransferFile, TransferFiles } from '../ftp/extraction.js';
import type { FtpSession, ManifestEntry, Transfer } from '../model/ftp-model.js';
import { SortedSpill, writeText } from '../spill.js';
import { UNSAFE, safeJson } from '../escape.js';


export interface ExtractOptions {
  dir: string;
  /** Also write the output of LIST, NLST and MLSD. */
  listings: boolean;
  /** Holes are hashed as zero bytes, up to this many bytes per file; beyond, the hashes are not computed. */
  maxHashedHoles: number;
  /** Holes listed per file in the manifest (the rest are counted). */
  maxHolesListed: number;
}
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * Makes a folder and those above it that are missing, one level at a time: Node's recursive mkdir spins for
 * ever where a parent can never be made (under /proc). Throws the first error, with its code.
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      lstatSync(d);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw e;
      missing.push(d);
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i]!);
}

/**
 * Writes what transfers carried into a folder, streamed: each byte is written at its offset as it is
 * delivered, so nothing is held in memory and missing bytes stay holes at their offsets.
 */
export class Extractor implements TransferFiles {
  /** Entries whose result is known, by their order (a file of any number of them is not held in memory). */
  private readonly settled = new SortedSpill<ManifestEntry>();
  /** Entries whose result is not known yet, by transfer, with their order. */
  private readonly unsettled = new Map<number, { entry: ManifestEntry; order: number; session: FtpSession }>();
  private made = 0;
  private readonly root: string;

  constructor(readonly options: ExtractOptions) {
    makeFolders(options.dir);
    this.root = realpathSync(options.dir);
  }

  /** A writer for a transfer's data, or null when nothing is to be written (recorded in the manifest). */
  begin(t: Transfer, s: FtpSession): FileSink | null {
    const entry: ManifestEntry = {
      session: s.id, transfer: t.id, command: t.command, path: t.path, direction: t.direction, file: null, size: 0,
      sha256: null, md5: null, announcedSize: t.announcedSize, restOffset: t.restOffset, fileOffset: t.fileOffset, appended: t.command === 'APPE', type: t.type, missingBytes: 0,
      holes: [], holesOmitted: 0, complete: false, result: '', finalReply: null, protected: t.protected, writeFailed: false, note: null,
    };
    if (t.direction === 'listing' && !this.options.listings) return null;
    this.unsettled.set(t.id, { entry, order: this.made++, session: s });
    if (t.protected && t.tls?.keys !== 'decrypting') {
      entry.note = 'the data connection is TLS-protected (PROT P) and the key log does not open it: only ciphertext is in the capture, nothing was extracted';
      return null;
    }
    const placed = this.place(s, t);
    if (placed === null) {
      entry.note = 'no safe place to write it under the extraction folder';
      return null;
    }
    let target: { path: string; fd: number };
    if (typeof placed !== 'string') target = placed;
    else {
      // The file system refused the name the path gives (too long, a file where a folder must go ...): a short one.
      const aside = this.placeAside(s, t);
      entry.note = aside === null ? `not written: ${placed}` : `${placed}: written under a name of its own instead`;
      if (aside === null) return null;
      target = aside;
    }
    entry.file = relative(this.root, target.path);
    return new FileSink(target.fd, entry, this.options);
  }

  /** Fills the entry's result from its transfer, once nothing can change the transfer any more. */
  settle(t: Transfer): void {
    const held = this.unsettled.get(t.id);
    if (held === undefined) return;
    this.unsettled.delete(t.id);
    const e = held.entry;
    // STOU: the server named the file after the data connection was bound; the file takes that name.
    if (e.file !== null && t.path !== e.path) this.rename(e, t, held.session);
    e.finalReply = t.final;
    e.announcedSize ??= t.announcedSize;
    e.result = t.status === 'unfinished' ? 'cut off by the end of the capture (no final reply)' : `${t.status}${t.final !== null ? ` ${t.final}` : ''}`;
    const part = e.fileOffset !== 0;
    e.complete = e.file !== null && !part && !e.writeFailed && e.missingBytes === 0 && (e.announcedSize === null || e.size === e.announcedSize) && t.status === 'complete';
    if (part && e.file !== null) {
      const at = e.fileOffset === null ? 'appended at the end of the remote file (its size before was not asked)' : `bytes ${e.fileOffset} to ${e.fileOffset + e.size} of the remote file`;
      e.note ??= `${at}${e.appended ? ' (APPE)' : ` (REST ${e.restOffset})`}: a part, not the whole file`;
    }
    this.settled.add(held.order, e);
  }

  /** Entries made. */
  get count(): number {
    return this.made;
  }

  /** Every entry, in the order they were made: once finish() ran, and until close(). */
  entries(): Iterable<ManifestEntry> {
    return this.settled.ordered();
  }

  /** Lets the entries go (their temporary file, when they needed one). */
  close(): void {
    this.settled.close();
  }

  /** Fills the result of each entry not settled yet from its transfer (the capture is over) and writes manifest.json. */
  finish(transfers: (id: number) => Transfer | undefined): { path: string; failure: string | null } {
    for (const [id, held] of this.unsettled) {
      const t = transfers(id);
      if (t !== undefined) this.settle(t);
      else {
        this.unsettled.delete(id);
        this.settled.add(held.order, held.entry);
      }
    }
    // safeJson(entries, 2), an entry at a time: the exact paths, with what must not reach a terminal escaped.
    const name = this.freeName(join(this.root, 'manifest.json'));
    let fd = -1;
    try {
      fd = openSync(name, 'wx');
      let at = 0;
      const write = (text: string) => (at += writeText(fd, text, at));
      if (this.made === 0) write('[]\n');
      else {
        let k = 0;
        write('[\n');
        for (const e of this.entries()) write(`  ${safeJson(e, 2).replaceAll('\n', '\n  ')}${++k < this.made ? ',' : ''}\n`);
        write(']\n');
      }
      return { path: name, failure: null };
    } catch (e) {
      // A manifest cut short would be taken for a whole one: it goes.
      try {
        unlinkSync(name);
      } catch {
        // never made
      }
      return { path: name, failure: refusal(e, relative(this.root, name)) };
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /** Moves an entry's file to where the transfer's path (now known) puts it; left where it is if that fails. */
  private rename(e: ManifestEntry, t: Transfer, s: FtpSession): void {
    const target = this.place(s, t);
    if (target === null || typeof target === 'string') return;
    closeSync(target.fd);
    try {
      renameSync(join(this.root, e.file!), target.path);
      e.file = relative(this.root, target.path);
      e.path = t.path;
    } catch {
      unlinkSync(target.path);
    }
  }

  /** DIR/session-N/_unplaced/COMMAND-ID: where a file goes whose own name the file system refused. */
  private placeAside(s: FtpSession, t: Transfer): { path: string; fd: number } | null {
    try {
      let dir = this.root;
      for (const part of [`session-${s.id}`, '_unplaced']) {
        dir = join(dir, part);
        try {
          // As in place: never through a link, only into a real folder.
          if (!lstatSync(dir).isDirectory()) return null;
        } catch {
          mkdirSync(dir);
        }
      }
      const path = this.freeName(join(dir, `${t.command}-${t.id}`));
      return { path, fd: openSync(path, 'wx') };
    } catch {
      return null;
    }
  }

  /**
   * A new file for the transfer: DIR/session-N/<the full path, made safe>, never overwriting. Null when the
   * path has no safe place; the file system's refusal, in words, when it refused.
   */
  private place(s: FtpSession, t: Transfer): { path: string; fd: number } | null | string {
    const parts = safeComponents(t.path);
    let name: string;
    if (t.direction === 'listing') name = `${t.command}-${t.id}.txt`;
    // A STOU without a name (the server's is not known yet): under the working directory, as STOU-N.
    else if (t.command === 'STOU' && t.path === t.cwd) name = `${t.command}-${t.id}`;
    else name = parts.pop() ?? `${t.command}-${t.id}`;
    // Part of a file (REST, APPE): named so, never taken for the whole file; the manifest says which bytes.
    if (t.direction !== 'listing' && t.fileOffset !== 0) name = t.fileOffset === null ? `${name}.appended` : `${name}.part-${t.fileOffset}`;
    const dirParts = [`session-${s.id}`, ...parts];
    let dir = this.root;
    for (const p of dirParts) {
      dir = join(dir, p);
      try {
        // Never follow a link: a folder made by someone else could point anywhere.
        if (lstatSync(dir).isSymbolicLink()) return null;
      } catch {
        try {
          mkdirSync(dir);
        } catch (e) {
          return refusal(e, `the folder ${relative(this.root, dir)}`);
        }
      }
    }
    const wanted = join(dir, name);
    if (!resolve(wanted).startsWith(this.root + sep)) return null;
    for (let i = 0; i < 1000; i++) {
      const path = i === 0 ? wanted : withSuffix(wanted, i);
      try {
        return { path, fd: openSync(path, 'wx') };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return refusal(e, relative(this.root, path));
      }
    }
    return null;
  }

  private freeName(path: string): string {
    for (let i = 0; ; i++) {
      const p = i === 0 ? path : withSuffix(path, i);
      try {
        lstatSync(p);
      } catch {
        return p;
      }
    }
  }
}

/** Streams one transfer's bytes into its file, at their offsets, hashing them in order. */
export class FileSink implements TransferFile {
  private readonly sha = createHash('sha256');
  private readonly md5 = createHash('md5');
  private hashable = true;
  private hashedTo = 0;
  private holeBytes = 0;
  private end = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    readonly entry: ManifestEntry,
    private readonly limits: Pick<ExtractOptions, 'maxHashedHoles' | 'maxHolesListed'>,
  ) {}

  /** Why the file system stopped taking the data, once it did. */
  private failed: string | null = null;

  write(buf: Buffer, off: number, len: number, at: number): void {
    if (this.closed) return;
    if (this.failed === null) {
      try {
        writeSync(this.fd, buf, off, len, at);
      } catch (e) {
        // Disk full, an offset past what the file system allows: the file stops there, the hashes go on.
        this.failed = refusal(e, `writing at offset ${at}`);
      }
    }
    this.hashUpTo(at);
    if (this.hashable) {
      const view = buf.subarray(off, off + len);
      this.sha.update(view);
      this.md5.update(view);
      this.hashedTo = at + len;
    }
    this.end = Math.max(this.end, at + len);
  }

  /** Bytes [at, at + len) are missing: a hole (len -1: the start was never seen). */
  gap(at: number, len: number): void {
    if (this.closed || len <= 0) return;
    const e = this.entry;
    e.missingBytes += len;
    if (e.holes.length < this.limits.maxHolesListed) e.holes.push({ offset: at, length: len });
    else e.holesOmitted++;
    this.end = Math.max(this.end, at + len);
  }

  /** The data is over: the file gets its full length (a hole at the end stays a hole) and its hashes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hashUpTo(this.end);
    try {
      if (this.failed === null) ftruncateSync(this.fd, this.end);
    } catch (err) {
      this.failed = refusal(err, `making it ${this.end} bytes long`);
    }
    closeSync(this.fd);
    const e = this.entry;
    e.size = this.end;
    if (this.failed !== null) {
      e.writeFailed = true;
      e.note = `${e.note === null ? '' : `${e.note}; `}the file on disk is incomplete: ${this.failed} (the hashes are of the data in the capture)`;
    }
    if (this.hashable) {
      e.sha256 = this.sha.digest('hex');
      e.md5 = this.md5.digest('hex');
    } else e.note ??= `hashes not computed: the holes (${e.missingBytes} bytes) are too large to hash as zeros`;
  }

  /** Holes before `at` are hashed as zero bytes, as they are in the file. */
  private hashUpTo(at: number): void {
    if (!this.hashable || at <= this.hashedTo) return;
    const n = at - this.hashedTo;
    this.holeBytes += n;
    if (this.holeBytes > this.limits.maxHashedHoles) {
      this.hashable = false;
      return;
    }
    const zeros = Buffer.alloc(Math.min(n, 1 << 20));
    for (let left = n; left > 0; left -= zeros.length) {
      const k = Math.min(left, zeros.length);
      this.sha.update(zeros.subarray(0, k));
      this.md5.update(zeros.subarray(0, k));
    }
    this.hashedTo = at;
  }
}

/**
 * The path's components, each made safe for any file system and for whoever lists them: no "." or "..",
 * no empty parts, no NUL, control characters, bidi or invisible format characters (src/escape.ts: UNSAFE;
 * `invoice<U+202E>fdp.exe` would list as `invoiceexe.pdf`) or characters Windows forbids, each replaced by
 * `_`; no names Windows reserves, no trailing dot or space, at most 100 characters each and 20 levels deep.
 * The manifest keeps the exact path, escaped in its JSON.
 */
/** The longest name written, in UTF-8 bytes: under every file system's 255, with room for a suffix (.1, .part-N). */
const MAX_NAME_BYTES = 200;

export function safeComponents(path: string): string[] {
  const out: string[] = [];
  for (let part of path.split(/[/\\]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') part = '__';
    part = part.replace(UNSAFE, '_').replace(/[<>:"|?*]/g, '_').replace(/[. ]+$/u, (m) => '_'.repeat(m.length));
    if (RESERVED.test(part)) part = `_${part}`;
    if (part.length > 100 || Buffer.byteLength(part) > MAX_NAME_BYTES) {
      const dot = part.lastIndexOf('.');
      const ext = dot > part.length - 12 ? part.slice(dot) : '';
      let stem = [...part.slice(0, 100 - ext.length)];
      // File systems count a name's bytes (255 at most): 100 CJK characters are 300.
      while (stem.length > 0 && Buffer.byteLength(`${stem.join('')}${ext}`) > MAX_NAME_BYTES) stem.pop();
      part = `${stem.join('')}${ext}`;
    }
    out.push(part);
  }
  if (out.length > 20) out.splice(0, out.length - 20);
  return out;
}

/** A file-system error in words: what was refused, and why. */
function refusal(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENAMETOOLONG: 'the name is too long for the file system',
    ENOTDIR: 'a file is where a folder must go',
    EISDIR: 'a folder is where the file must go',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
    EFBIG: 'the offset is past what the file system allows in a file',
    EACCES: 'permission denied',
    EROFS: 'the file system is read-only',
  };
  return `${what}: ${code === undefined ? String(e) : `${why[code] ?? 'refused'} (${code})`}`;
}

function withSuffix(path: string, i: number): string {
  const slash = path.lastIndexOf(sep);
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${i}${path.slice(dot)}` : `${path}.${i}`;
}

