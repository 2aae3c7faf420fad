// cli-table3, loaded once, with two of its costs taken away.
import { createRequire } from 'node:module';
import { displayWidth } from './text.js';

type TableClass = typeof import('cli-table3');

let loaded: TableClass | undefined;
/** string-width, as cli-table3 measures with it (set by loadTable). */
let stringWidth: ((s: string) => number) | null = null;

/** The columns a line of a cell takes, as cli-table3 counts them (colour codes already taken out). */
export function textWidth(s: string): number {
  return asciiWidth(s) ?? (stringWidth !== null ? stringWidth(s) : displayWidth(s));
}

/**
 * The cli-table3 constructor. Version 0.6 truncates the whole content of a cell to 10 columns each time it
 * draws one of the cell's lines, only to build a debug message it never prints; and for text of more than
 * one line its truncation drops one character at a time and re-measures what is left. A cell of n
 * characters then costs about n^3: a capture with long wire paths took seconds per summary (found by
 * `npm run fuzz`, test/fuzz-regressions/hang-view-summary-*). That call is the only one that passes more
 * than one line, and its result is unused, so here it gets the first line only; every line really drawn
 * goes through cli-table3 unchanged.
 *
 * It also measures every piece of text it lays out with string-width, which builds the regular
 * expressions of ansi-regex and emoji-regex anew on each call: a tenth of a second for a summary of a few
 * hundred rows. Text of one-column characters only (see asciiWidth) is as wide as it is long, so such
 * text gets its length; anything else goes to string-width as before.
 */
export async function loadTable(): Promise<TableClass> {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    // string-width as cli-table3 resolves it, replaced in the module cache before cli-table3 loads it.
    const id = stringWidthId();
    const width = loadWidth();
    const cached = require.cache[id];
    if (cached !== undefined && typeof width === 'function') cached.exports = Object.assign((s: string) => asciiWidth(s) ?? width(s), { default: width });
  } catch {
    // Laid out differently: cli-table3 measures with string-width as it is.
  }
  const { default: Table } = await import('cli-table3');
  try {
    // cli-table3 colours through @colors/colors, which turns itself off by the environment (FORCE_COLOR=0,
    // a dumb terminal). Whether there is colour is ftpscope's decision (--color): it asks for colours only
    // when it wants them, and the summary's own drawer (grid.ts) must agree with cli-table3.
    (createRequire(require.resolve('cli-table3/src/cell.js'))('@colors/colors/safe') as { enable(): void }).enable();
  } catch {
    // Not there: cli-table3 decides colour as it does.
  }
  try {
    const utils = require('cli-table3/src/utils.js') as {
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

/** Where cli-table3 finds string-width. */
function stringWidthId(): string {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve('cli-table3/src/utils.js')).resolve('string-width');
}

/**
 * Loads string-width (the measure cli-table3 uses) for textWidth, without cli-table3 itself: the summary
 * needs cli-table3 only for a table its own drawer gives back (see grid.ts). Returns it.
 */
export function loadWidth(): (s: string) => number {
  if (stringWidth === null) {
    try {
      const width = createRequire(import.meta.url)(stringWidthId()) as ((s: string) => number) & { default?: (s: string) => number };
      // Once loadTable has put the quick measure in front, the module's `default` is the original.
      const original = typeof width.default === 'function' ? width.default : width;
      if (typeof original === 'function') stringWidth = original;
    } catch {
      // Not where cli-table3 has it: textWidth measures with displayWidth.
    }
  }
  return stringWidth ?? displayWidth;
}

/**
 * The width of text made only of characters one column wide for string-width too (its length): printable
 * ASCII, Latin-1's letters and signs, and the box-drawing characters of the tables' own borders, which
 * cli-table3 measures again and again. Undefined when the text has anything else.
 */
export function asciiWidth(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) continue;
    // Not the soft hyphen, nor the two that emoji-regex may count as emoji (© ®).
    if (c >= 0xa0 && c <= 0xff && c !== 0xa9 && c !== 0xad && c !== 0xae) continue;
    if (c >= 0x2500 && c <= 0x257f) continue;
    return undefined;
  }
  return s.length;
}
