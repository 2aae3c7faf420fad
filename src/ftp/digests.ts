import { createHash, type Hash } from 'node:crypto';
import type { FtpSession, ManifestEntry, Transfer } from '../model/ftp-model.js';
import type { TransferFile, TransferFiles } from './extraction.js';

/** What a transfer's data hashed to, and what its first bytes say it is. */
export interface FileDigest {
  /** Null when bytes are missing: like Zeek's hash analyzers, a file with a hole gets no hash. */
  md5: string | null;
  sha1: string | null;
  sha256: string | null;
  /** The MIME type its first bytes show (see sniffMime), null when they show none. */
  mimeType: string | null;
}

/** Bytes kept from the start of a file for sniffMime. */
const SNIFF = 64;

/**
 * Hashes every transfer's data as it is delivered (MD5, SHA-1, SHA-256, for Zeek's files.log), writing
 * nothing: a TransferFiles the FTP stage feeds like the extractor, with the same call order.
 */
export class TransferDigests implements TransferFiles {
  private readonly digests = new Map<number, FileDigest>();
  count = 0;

  begin(t: Transfer, _s: FtpSession): TransferFile {
    this.count++;
    return new DigestFile((d) => this.digests.set(t.id, d));
  }

  settle(_t: Transfer): void {}

  finish(): { path: string | null; failure: string | null } {
    return { path: null, failure: null };
  }

  entries(): Iterable<ManifestEntry> {
    return [];
  }

  /** The digest of a transfer's data, once its file was closed; undefined when it had none. */
  of(transfer: number): FileDigest | undefined {
    return this.digests.get(transfer);
  }

  close(): void {
    this.digests.clear();
  }
}

class DigestFile implements TransferFile {
  private hashes: Hash[] | null = [createHash('md5'), createHash('sha1'), createHash('sha256')];
  private next = 0;
  private head: Buffer | null = Buffer.alloc(SNIFF);
  private headLength = 0;

  constructor(private readonly done: (d: FileDigest) => void) {}

  write(buf: Buffer, off: number, len: number, at: number): void {
    if (at !== this.next) this.hashes = null;
    this.next = at + len;
    if (this.head !== null && at < SNIFF && at === this.headLength) {
      const n = Math.min(len, SNIFF - at);
      buf.copy(this.head, at, off, off + n);
      this.headLength = at + n;
    }
    if (this.hashes !== null) for (const h of this.hashes) h.update(buf.subarray(off, off + len));
  }

  gap(at: number, len: number): void {
    this.hashes = null;
    this.next = Math.max(this.next, at + len);
  }

  close(): void {
    const h = this.hashes;
    const mimeType = this.head === null || this.headLength === 0 ? null : sniffMime(this.head.subarray(0, this.headLength));
    this.head = null;
    this.done({ md5: h?.[0]!.digest('hex') ?? null, sha1: h?.[1]!.digest('hex') ?? null, sha256: h?.[2]!.digest('hex') ?? null, mimeType });
    this.hashes = null;
  }
}

/** TransferFiles that feeds two: the extractor and the digests. Its finish and entries are the first's. */
export class BothFiles implements TransferFiles {
  constructor(
    private readonly first: TransferFiles,
    private readonly second: TransferFiles,
  ) {}

  get count(): number {
    return this.first.count;
  }

  begin(t: Transfer, s: FtpSession): TransferFile | null {
    const a = this.first.begin(t, s);
    const b = this.second.begin(t, s);
    if (a === null || b === null) return a ?? b;
    return {
      write: (buf, off, len, at) => (a.write(buf, off, len, at), b.write(buf, off, len, at)),
      gap: (at, len) => (a.gap(at, len), b.gap(at, len)),
      close: () => (a.close(), b.close()),
    };
  }

  settle(t: Transfer): void {
    this.first.settle(t);
    this.second.settle(t);
  }

  finish(transfer: (id: number) => Transfer | undefined): { path: string | null; failure: string | null } {
    this.second.finish(transfer);
    return this.first.finish(transfer);
  }

  entries(): Iterable<ManifestEntry> {
    return this.first.entries();
  }

  close(): void {
    this.first.close();
    this.second.close();
  }
}

/** Magic numbers of common file types, most specific first (the types Zeek's signatures name). */
const MAGIC: ReadonlyArray<readonly [string, string]> = [
  ['\x89PNG\r\n\x1a\n', 'image/png'],
  ['\xff\xd8\xff', 'image/jpeg'],
  ['GIF87a', 'image/gif'],
  ['GIF89a', 'image/gif'],
  ['%PDF-', 'application/pdf'],
  ['PK\x03\x04', 'application/zip'],
  ['\x1f\x8b', 'application/x-gzip'],
  ['BZh', 'application/x-bzip2'],
  ['\xfd7zXZ\x00', 'application/x-xz'],
  ['7z\xbc\xaf\x27\x1c', 'application/x-7z-compressed'],
  ['\x7fELF', 'application/x-executable'],
  ['MZ', 'application/x-dosexec'],
  ['<?xml', 'application/xml'],
];

/**
 * The MIME type a file's first bytes show: a magic number of MAGIC, HTML, or text/plain when its first
 * ten bytes (or all, if fewer) are printable ASCII or white space (Zeek's lowest-priority rule). Null otherwise.
 */
export function sniffMime(head: Buffer): string | null {
  const latin = head.toString('latin1');
  for (const [magic, type] of MAGIC) if (latin.startsWith(magic)) return type;
  const start = latin.trimStart().slice(0, 15).toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) return 'text/html';
  const n = Math.min(10, head.length);
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if (!((c >= 0x20 && c <= 0x7e) || (c >= 0x09 && c <= 0x0d))) return null;
  }
  return 'text/plain';
}
