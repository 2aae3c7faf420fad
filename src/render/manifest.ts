import { loadTable } from './table.js';
import type { ManifestEntry } from '../ftp/extract.js';
import { group, sanitize } from './text.js';

/** The extracted files as a table on the terminal (manifest.json has everything). */
export async function renderManifest(entries: ManifestEntry[], manifestPath: string, color: boolean, width: number): Promise<string> {
  const Table = await loadTable();
  if (entries.length === 0) return `\nNo file was transferred: nothing to extract (manifest: ${sanitize(manifestPath)}).\n`;
  const narrow = width < 120;
  const table = new Table({
    head: narrow ? ['#', 'file / FTP path', 'bytes / sha256', 'result'] : ['session', 'command', 'FTP path', 'written to', 'bytes', 'announced', 'sha256', 'result'],
    style: color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] },
    wordWrap: true,
    ...(narrow ? { colWidths: [5, 30, 26, 15] } : {}),
  });
  for (const e of entries) {
    const result = `${e.complete ? 'whole' : 'INCOMPLETE'}: ${e.result}${e.missingBytes > 0 ? `; ${group(e.missingBytes)} bytes missing in ${e.holes.length + e.holesOmitted} hole(s)` : ''}${e.note ? `; ${e.note}` : ''}`;
    const file = e.file === null ? '(not written)' : sanitize(e.file);
    const size = `${group(e.size)}${e.announcedSize !== null ? ` of ${group(e.announcedSize)}` : ''}`;
    if (narrow) {
      table.push([`s${e.session}`, `${file}\n${e.command} ${sanitize(e.path)}`, `${size}\n${e.sha256 ?? '-'}`, sanitize(result)]);
    } else {
      table.push([String(e.session), e.command, sanitize(e.path), file, group(e.size), e.announcedSize === null ? '-' : group(e.announcedSize), e.sha256 ?? '-', sanitize(result)]);
    }
  }
  return `\nExtracted files (manifest: ${sanitize(manifestPath)})\n${table.toString()}\n`;
}
