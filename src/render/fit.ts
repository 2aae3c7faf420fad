/**
 * Tables fitted to the width of the view, for every table of the text output (the summary's, the
 * connection list, the extracted files). A table has layouts to choose from, tried in order: one column
 * per field, then fewer columns with fields one under the other; the first that fits the width without
 * cutting a word and leaves its prose columns room to be read is drawn. When none does, each row is drawn
 * as a record, a field a line ("key │ value"), as psql's expanded display does: at 60 columns that reads
 * better than a message squeezed into a dozen columns, and it never cuts a word that fits a line.
 *
 * Widths: every column gets what its widest unbreakable piece needs (tokenize: a word, a number and its
 * unit, an address), then the room left is shared out max-min fairly (columns short enough get all they
 * ask for, the long ones share the rest evenly), so no column keeps slack while another wraps more.
 */
import { drawGrid } from './grid.js';
import { cut, minWidth, wrap } from './text.js';

/** A column of a table. */
export interface Column {
  head: string;
  /** Numbers: right-aligned. */
  numeric?: boolean;
  /**
   * 'never': kept at its widest cell (a command, a severity); 'words' (the default): wraps at spaces, down
   * to its widest word; 'prose': long text (a message, a cause), which wraps, but a layout that leaves it
   * narrower than PROSE_MIN is not used.
   */
  wrap?: 'never' | 'words' | 'prose';
}

export type Tone = 'red' | 'yellow' | 'green' | 'cyan' | 'dim';

/** A line of a cell, with how to colour it. */
export type Part = string | { text: string; tone: Tone };

/** A cell: one part, or several shown one under the other. */
export type Cell = Part | Part[];

/** One layout of a table: its columns, and a row's cells from the row's fields. */
export interface Layout<F> {
  columns: Column[];
  cells: (f: F) => Cell[];
}

/** What fitting a layout needs to know of all its rows: the widest cell and unbreakable piece of each column. */
export interface Shape {
  maxCell: number[];
  maxWord: number[];
  /** The most parts (lines before wrapping) of a cell of each column. */
  maxParts: number[];
  /** Some cell has several parts (lines). */
  multiPart: boolean;
}

/** A prose column narrower than this (or than its widest cell) rules its layout out. */
const PROSE_MIN = 24;
/** Text from the wire can be very long: a bounded cell keeps a table's work bounded. */
const CELL_MAX = 1000;

export function newShape<F>(layout: Layout<F>): Shape {
  return { maxCell: layout.columns.map(() => 0), maxWord: layout.columns.map(() => 0), maxParts: layout.columns.map(() => 1), multiPart: false };
}

function partText(p: Part): string {
  return typeof p === 'string' ? p : p.text;
}

function parts(c: Cell): Part[] {
  return Array.isArray(c) ? c : [c];
}

/** Takes a row's cells into the shape of its layout. */
export function measure(shape: Shape, cells: Cell[], width: (s: string) => number): void {
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (Array.isArray(c) && c.length > 1) {
      shape.multiPart = true;
      if (c.length > shape.maxParts[i]!) shape.maxParts[i] = c.length;
    }
    for (const p of parts(c)) {
      const text = cut(partText(p), CELL_MAX);
      const w = width(text);
      if (w > shape.maxCell[i]!) shape.maxCell[i] = w;
      // The widest piece is at most the whole: measured only when it could be a new widest.
      if (w > shape.maxWord[i]!) shape.maxWord[i] = Math.max(shape.maxWord[i]!, minWidth(text, width));
    }
  }
}

/** How a table is drawn: in columns of these widths, or a record per row. */
export type Plan<F> =
  | { kind: 'columns'; layout: Layout<F>; widths: number[]; multiLine: boolean }
  | { kind: 'records'; layout: Layout<F>; widths: [number, number] };

/**
 * The first layout that fits `width` columns, unless a later one makes the tallest row at most two thirds
 * as tall (findings at 80 columns: a message in 46 columns rather than 28; the extracted files at 120: a
 * digest on one line); else records of the first layout's fields.
 */
export function plan<F>(width: number, candidates: ReadonlyArray<readonly [Layout<F>, Shape]>, measureText: (s: string) => number): Plan<F> {
  let chosen: { layout: Layout<F>; shape: Shape; widths: number[]; height: number } | null = null;
  for (const [layout, shape] of candidates) {
    const widths = fit(width, layout.columns, shape, measureText);
    if (widths === null) continue;
    const height = tallest(shape, widths);
    if (chosen === null || height * 3 <= chosen.height * 2) chosen = { layout, shape, widths, height };
  }
  if (chosen !== null) {
    const { layout, shape, widths } = chosen;
    return { kind: 'columns', layout, widths, multiLine: shape.multiPart || shape.maxCell.some((w, i) => w > widths[i]!) };
  }
  // Records: the values get the room their widest unbreakable piece needs (an IPv6 endpoint), the keys what is left, down to their longest word.
  const [layout, shape] = candidates[0]!;
  const keys = layout.columns.map((c) => c.head.split('\n'));
  const keyWhole = Math.max(...keys.map((k) => measureText(k.join(' '))));
  const keyLeast = Math.max(...keys.flat().map((h) => minWidth(h, measureText)));
  const key = Math.max(keyLeast, Math.min(keyWhole, width - 5 - Math.max(...shape.maxWord)));
  // Borders and padding of two columns: "│key │value │".
  return { kind: 'records', layout, widths: [key, Math.max(2, width - key - 5)] };
}

/** Lines the tallest row may take at these widths (about: its widest cell's parts, each wrapped). */
function tallest(shape: Shape, widths: readonly number[]): number {
  let most = 1;
  for (let i = 0; i < widths.length; i++) most = Math.max(most, shape.maxParts[i]! * Math.ceil(shape.maxCell[i]! / Math.max(1, widths[i]!)));
  return most;
}

/** A column's head as a record's key: on one line when it fits, else a line a line of the head, each wrapped. */
function recordKey(c: Column, width: number, measureText: (s: string) => number): string[] {
  const whole = c.head.replaceAll('\n', ' ');
  if (measureText(whole) <= width) return [whole];
  return c.head.split('\n').flatMap((h) => wrap(h, width, '', '', measureText));
}

/**
 * Column widths that fit the table in `width` columns without cutting a word, or null. Each column
 * takes its content, one space of padding and one border; plus the last border.
 */
function fit(width: number, columns: readonly Column[], shape: Shape, measureText: (s: string) => number): number[] | null {
  const room = width - columns.length * 2 - 1;
  const heads = columns.map((c) => c.head.split('\n'));
  const natural = columns.map((_, i) => Math.max(shape.maxCell[i]!, ...heads[i]!.map(measureText)));
  // Heads wrap at spaces; cells at their widest unbreakable piece, or not at all; prose gets PROSE_MIN.
  const least = columns.map((c, i) => {
    const w = Math.max(c.wrap === 'never' ? shape.maxCell[i]! : shape.maxWord[i]!, ...heads[i]!.map((h) => minWidth(h, measureText)));
    return c.wrap === 'prose' ? Math.max(w, Math.min(natural[i]!, PROSE_MIN)) : w;
  });
  let total = 0;
  for (const w of least) total += w;
  return total > room ? null : share(least, natural, room);
}

/**
 * Max-min fair shares of `room` between columns wanting `least` to `most` each: the widest level L such
 * that every column gets min(most, max(least, L)) within the room, what is left one column each, left
 * to right. Binary search: linear in the columns for each of log(width) levels.
 */
function share(least: readonly number[], most: readonly number[], room: number): number[] {
  const at = (level: number) => least.map((l, i) => Math.min(most[i]!, Math.max(l, level)));
  const sum = (ws: number[]) => ws.reduce((x, y) => x + y, 0);
  let lo = 0;
  let hi = Math.max(...most);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (sum(at(mid)) <= room) lo = mid;
    else hi = mid - 1;
  }
  const widths = at(lo);
  let left = room - sum(widths);
  for (let i = 0; i < widths.length && left > 0; i++) {
    if (widths[i]! === lo && widths[i]! < most[i]!) {
      widths[i]!++;
      left--;
    }
  }
  return widths;
}

/** Styles a part's line in its tone (colour is the view's business). */
export type Styler = (tone: Tone | 'cyan', text: string) => string;

/** A cell's text: its parts wrapped to the column, styled, one line per line. */
function cellText(c: Cell, width: number, style: Styler, measureText: (s: string) => number): string {
  return parts(c)
    .flatMap((p) => {
      const lines = wrap(cut(partText(p), CELL_MAX), width, '', '', measureText);
      return typeof p === 'string' ? lines : lines.map((l) => style(p.tone, l));
    })
    .join('\n');
}

/** What drawGrid is given for a plan: widths, alignment, head, and each row's cells as text. */
export function gridOf<F>(p: Plan<F>, style: Styler, measureText: (s: string) => number) {
  if (p.kind === 'columns') {
    const { columns, cells } = p.layout;
    const widths = p.widths;
    return {
      widths,
      aligns: columns.map((c): 'left' | 'right' => (c.numeric ? 'right' : 'left')),
      head: columns.map((c, i) => c.head.split('\n').flatMap((l) => wrap(l, widths[i]!, '', '', measureText)).join('\n')),
      compact: !p.multiLine,
      row: (f: F) => cells(f).map((c, i) => cellText(c, widths[i]!, style, measureText)),
    };
  }
  const { columns, cells } = p.layout;
  const [keyWidth, valueWidth] = p.widths;
  const names = columns.map((c) => recordKey(c, keyWidth, measureText));
  return {
    widths: [keyWidth, valueWidth],
    aligns: ['left', 'left'] as Array<'left' | 'right'>,
    // No head row: the heads are the first column, and a rule parts each record from the next.
    head: [] as string[],
    compact: false,
    row: (f: F) => {
      const keys: string[] = [];
      const values: string[] = [];
      cells(f).forEach((c, i) => {
        const value = cellText(c, valueWidth, style, measureText).split('\n');
        const key = names[i]!;
        for (let k = 0; k < Math.max(key.length, value.length); k++) {
          keys.push(k < key.length ? style('cyan', key[k]!) : '');
          values.push(value[k] ?? '');
        }
      });
      return [keys.join('\n'), values.join('\n')];
    },
  };
}

/**
 * A table drawn a slice of rows at a time (its text is never one string), the slices joined as one table:
 * a later slice loses its top border and head, and gets the row separator when rows are separated.
 */
export class SlicedTable<F> {
  private readonly grid: ReturnType<typeof gridOf<F>>;
  private first = true;
  private bottom = '';
  private separator: string | null = null;

  constructor(
    p: Plan<F>,
    private readonly color: boolean,
    style: Styler,
    private readonly measureText: (s: string) => number,
  ) {
    this.grid = gridOf(p, style, measureText);
  }

  /** The rows' cells, for a slice. */
  cells(f: F): string[] {
    return this.grid.row(f);
  }

  /** The spec a slice of rows is drawn from (for a drawer other than drawGrid). */
  spec(rows: string[][]) {
    const { widths, aligns, head, compact } = this.grid;
    return { widths, aligns, head: this.first ? head : [], rows, compact, color: this.color };
  }

  /** A slice of rows as whole lines, or null when drawGrid cannot draw it (see grid.ts). */
  draw(rows: string[][]): string | null {
    const text = drawGrid({ ...this.spec(rows), head: this.grid.head }, this.measureText);
    return text === null ? null : this.take(text.split('\n'), true);
  }

  /**
   * A slice drawn elsewhere (spec() as cli-table3 draws it), as whole lines: `withHead` when it has the
   * table's head (the first slice always has).
   */
  take(lines: string[], withHead: boolean): string {
    const headHeight = this.grid.head.length === 0 ? 0 : Math.max(1, ...this.grid.head.map((h) => h.split('\n').length));
    if (this.first) {
      if (!this.grid.compact) this.separator = lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
    } else {
      // The top border, and the head with its rule when it was drawn.
      lines.splice(0, withHead && headHeight > 0 ? 2 + headHeight : 1);
      if (this.separator !== null) lines.unshift(this.separator);
    }
    this.first = false;
    this.bottom = lines.pop()!;
    return `${lines.join('\n')}\n`;
  }

  /** The bottom border, after the last slice. */
  end(): string {
    return `${this.bottom}\n`;
  }
}
