// cli-table3, loaded once, with one of its costs taken away.
import { createRequire } from 'node:module';

type TableClass = typeof import('cli-table3');

let loaded: TableClass | undefined;

/**
 * The cli-table3 constructor. Version 0.6 truncates the whole content of a cell to 10 columns each time it
 * draws one of the cell's lines, only to build a debug message it never prints; and for text of more than
 * one line its truncation drops one character at a time and re-measures what is left. A cell of n
 * characters then costs about n^3: a capture with long wire paths took seconds per summary (found by
 * `npm run fuzz`, test/fuzz-regressions/hang-view-summary-*). That call is the only one that passes more
 * than one line, and its result is unused, so here it gets the first line only; every line really drawn
 * goes through cli-table3 unchanged.
 */
export async function loadTable(): Promise<TableClass> {
  if (loaded) return loaded;
  const { default: Table } = await import('cli-table3');
  try {
    const utils = createRequire(import.meta.url)('cli-table3/src/utils.js') as {
      truncate?: (s: string, len: number, ch?: string) => string;
    };
    const original = utils.truncate;
    if (typeof original === 'function') {
      utils.truncate = (s, len, ch) => {
        const nl = typeof s === 'string' ? s.indexOf('\n') : -1;
        return original(nl < 0 ? s : s.slice(0, nl), len, ch);
      };
    }
  } catch {
    // A later cli-table3 laid out differently: tables still work, only slower on very long cells.
  }
  loaded = Table;
  return Table;
}
