import type { ManifestEntry } from '../model/ftp-model.js';
import { TableBook, table, type Layout, type Look } from './summary.js';
import { ansi, group, sanitize, wrap } from './text.js';

/** What the table shows of an extracted file. */
interface EntryFields {
  session: string;
  command: string;
  path: string;
  file: string;
  bytes: string;
  announced: string;
  /** Bytes, and of how many announced. */
  size: string;
  sha256: string;
  result: string;
}

function entryFields(e: ManifestEntry): EntryFields {
  return {
    session: String(e.session),
    command: sanitize(e.command),
    path: sanitize(e.path),
    file: e.file === null ? '(not written)' : sanitize(e.file),
    bytes: group(e.size),
    announced: e.announcedSize === null ? '-' : group(e.announcedSize),
    size: `${group(e.size)}${e.announcedSize !== null && e.fileOffset === 0 ? ` of ${group(e.announcedSize)}` : ''}`,
    sha256: e.sha256 ?? '-',
    result: sanitize(`${e.complete ? 'whole' : e.fileOffset !== 0 && e.result.startsWith('complete') && e.missingBytes === 0 ? 'part' : 'INCOMPLETE'}: ${e.result}${e.missingBytes > 0 ? `; ${group(e.missingBytes)} bytes missing in ${e.holes.length + e.holesOmitted} hole(s)` : ''}${e.note ? `; ${e.note}` : ''}`),
  };
}

const WIDE: Layout<EntryFields> = {
  columns: [
    { head: 'session', numeric: true },
    { head: 'command', wrap: 'never' },
    { head: 'FTP path' },
    { head: 'written to' },
    { head: 'bytes', numeric: true },
    { head: 'announced', numeric: true },
    { head: 'sha256' },
    { head: 'result', wrap: 'prose' },
  ],
  cells: (r) => [r.session, r.command, r.path, r.file, r.bytes, r.announced, r.sha256, r.result],
};

const NARROW: Layout<EntryFields> = {
  columns: [
    { head: '#', wrap: 'never' },
    { head: 'file / FTP path' },
    { head: 'bytes / sha256' },
    { head: 'result', wrap: 'prose' },
  ],
  cells: (r) => [`s${r.session}`, [r.file, `${r.command} ${r.path}`], [r.size, r.sha256], r.result],
};

/**
 * The extracted files as a table on the terminal (manifest.json has everything), a piece at a time:
 * drawn like the summary's tables, from rows kept in a SortedSpill, so that a capture of any number of
 * files is listed in bounded memory and in time linear in their number.
 */
export async function* manifestText(manifest: { count: number; entries: () => Iterable<ManifestEntry> }, manifestPath: string, color: boolean, width: number): AsyncGenerator<string> {
  if (manifest.count === 0) {
    yield `\n${wrap(`No file was transferred: nothing to extract (manifest: ${sanitize(manifestPath)}).`, width, '', '  ').join('\n')}\n`;
    return;
  }
  const book = new TableBook(WIDE, NARROW);
  try {
    let order = 0;
    for (const e of manifest.entries()) book.add(order++, entryFields(e));
    yield `\n${wrap(`Extracted files (manifest: ${sanitize(manifestPath)})`, width, '', '  ').join('\n')}\n`;
    const look: Look = { options: { width, color }, style: (kind, text) => ansi(color, kind, text) };
    yield* table(look, book);
  } finally {
    book.rows.close();
  }
}
