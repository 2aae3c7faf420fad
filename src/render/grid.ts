/**
 * Draws a table exactly as cli-table3 draws it for the summary's tables: columns of fixed widths
 * (colWidths of width + 1: no left padding, one space of right padding), left or right aligned, cells
 * whose lines are already wrapped to their column, a head row (none when the head is empty) with a rule
 * under it, borders in grey and the head in cyan when in colour, and a separator line between rows unless
 * the table is compact (cli-table3's compact style keeps the rule under the head).
 *
 * cli-table3 does the same in time quadratic in the rows (its layout checks every cell against every
 * row above) and at about fifty microseconds a cell: a summary of a few hundred sessions cost more
 * than analysing the capture. This draws a line per line. test/grid.test.ts checks it against
 * cli-table3 on random tables, byte for byte; a line wider than its column (which cli-table3 would cut
 * with an ellipsis) makes it give up (null), and the caller lets cli-table3 draw that table.
 */

/** What the summary asks cli-table3 for. */
export interface GridSpec {
  /** Content widths of the columns (cli-table3's colWidths minus the one space of right padding). */
  widths: readonly number[];
  aligns: ReadonlyArray<'left' | 'right'>;
  /** The head's cells (lines joined with \n); none: no head row (cli-table3's head: []). */
  head: readonly string[];
  /** The rows' cells: lines joined with \n, each line at most its column's width (colour codes allowed). */
  rows: ReadonlyArray<readonly string[]>;
  /** No separator between rows, only under the head (cli-table3's style.compact). */
  compact: boolean;
  /** Grey borders and a cyan head (cli-table3's style { head: ['cyan'], border: ['grey'] }). */
  color: boolean;
}

const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;

/** The table's text, or null when a line does not fit its column. */
export function drawGrid(spec: GridSpec, width: (s: string) => number): string | null {
  const { widths, aligns, color } = spec;
  const n = widths.length;
  const grey = (s: string) => (color && s !== '' ? `\u001b[90m${s}\u001b[39m` : s);
  const cyan = (s: string) => (color && s !== '' ? `\u001b[36m${s}\u001b[39m` : s);
  const border = (left: string, mid: string, right: string): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += grey(`${i === 0 ? left : mid}${'─'.repeat(widths[i]! + 1)}${i === n - 1 ? right : ''}`);
    return s;
  };
  const bar = grey('│');
  const out: string[] = [border('┌', '┬', '┐')];
  const row = (cells: readonly string[], head: boolean): boolean => {
    const lines = cells.map((c) => c.split('\n'));
    let height = 1;
    for (const l of lines) if (l.length > height) height = l.length;
    for (let k = 0; k < height; k++) {
      let s = '';
      for (let i = 0; i < n; i++) {
        const w = widths[i]!;
        const text = lines[i]?.[k];
        let cell: string;
        if (text === undefined) cell = ' '.repeat(w + 1);
        else {
          const used = width(text.includes('\u001b') ? text.replace(SGR, '') : text);
          if (used > w) return false;
          cell = aligns[i] === 'right' ? `${' '.repeat(w - used)}${text} ` : `${text}${' '.repeat(w - used)} `;
        }
        s += bar + (head ? cyan(cell) : cell);
      }
      out.push(s + bar);
    }
    return true;
  };
  const separator = border('├', '┼', '┤');
  const headed = spec.head.length > 0;
  if (headed && !row(spec.head, true)) return null;
  for (let i = 0; i < spec.rows.length; i++) {
    if (i > 0 ? !spec.compact : headed) out.push(separator);
    if (!row(spec.rows[i]!, false)) return null;
  }
  out.push(border('└', '┴', '┘'));
  return out.join('\n');
}
