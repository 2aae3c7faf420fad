import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ZeekLog, zeekText } from '../render/zeek.js';
import { makeFolders } from './extract.js';

/**
 * Writes each log to DIR/<path>.log (--zeek-dir), a piece at a time, calling `between` (the memory guard,
 * the progress line) with the log's name and the bytes written so far, between pieces. The names are fixed and a symbolic link in their place is refused (O_NOFOLLOW), so
 * nothing is written outside the folder. Returns the one-line reason of the first failure, or null.
 */
export function writeZeekLogs(dir: string, logs: readonly ZeekLog[], now: () => Date, between: (log: string, bytes: number) => void): string | null {
  try {
    makeFolders(dir);
  } catch (e) {
    return `${dir}: ${reason(e)}`;
  }
  let written = 0;
  for (const l of logs) {
    const file = join(dir, `${l.path}.log`);
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    } catch (e) {
      return `${file}: ${reason(e)}`;
    }
    try {
      for (const piece of zeekText(l, now)) {
        const b = Buffer.from(piece, 'utf8');
        for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
        written += b.length;
        between(`${l.path}.log`, written);
      }
    } catch (e) {
      return `${file}: ${reason(e)}`;
    } finally {
      closeSync(fd);
    }
  }
  return null;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ELOOP') return 'is a symbolic link (refused: logs are written only inside the folder)';
  return err.code !== undefined ? `${err.code} (${err.message.replace(/^[A-Z]+: /, '').replace(/, open .*$/, '')})` : String(e);
}
