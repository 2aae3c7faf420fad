import type { FtpSession, ManifestEntry, Transfer } from '../model/ftp-model.js';

/**
 * Where the files that transfers carried go (--extract). The caller plugs an implementation in
 * (src/output/extract.ts writes them to a folder); the FTP stage only calls it, and touches no file system.
 *
 * Call order, per transfer: `begin` once, when the data connection and the command it serves are both known;
 * then the returned file's `write` and `gap` calls in increasing offset order as the bytes are delivered
 * (what came before the command was known is replayed first); its `close` once, when the data is over;
 * `settle` once, when the transfer's result is final (before it is let go). Once, at the end: `finish`, then
 * `entries` as often as wanted, then `close`.
 */
export interface TransferFiles {
  /** A file for the transfer's data, or null when nothing is written (the manifest says why). */
  begin(t: Transfer, s: FtpSession): TransferFile | null;
  /** The transfer's result is final: its manifest entry can be written. */
  settle(t: Transfer): void;
  /**
   * Writes the manifest (the result of transfers not settled is read through `transfer`); returns where
   * (null: this implementation writes none), and why not when the file system refused it.
   */
  finish(transfer: (id: number) => Transfer | undefined): { path: string | null; failure: string | null };
  /** Entries made. */
  readonly count: number;
  /** The manifest's entries, in the order they were made. */
  entries(): Iterable<ManifestEntry>;
  /** Lets the entries go. */
  close(): void;
}

/** One transfer's file: bytes written at their offsets; holes where the capture has none. */
export interface TransferFile {
  write(buf: Buffer, off: number, len: number, at: number): void;
  /** Bytes [at, at + len) are missing. */
  gap(at: number, len: number): void;
  /** The data is over. */
  close(): void;
}
