import { measure, newShape, plan, SlicedTable, type Layout } from './fit.js';
import { loadWidth, textWidth } from './table.js';
import type { CaptureSummary } from '../model/capture.js';
import type { ConnectionSummary } from '../model/capture.js';
import { ansi, formatTime, group, sanitize, wrap } from './text.js';

/** Rows drawn at a time: the text of a capture of any number of connections is never one string. */
const SLICE = 4096;

/** One column a field; the two counts of a direction pair are never parted. */
const WIDE: Layout<ConnectionSummary> = {
  columns: [
    { head: '#', numeric: true },
    { head: 'client' },
    { head: 'server' },
    { head: 'packets\nc>s s>c', wrap: 'never' },
    { head: 'bytes\nc>s s>c', wrap: 'never' },
    { head: 'handshake' },
    { head: 'end' },
    { head: 'gaps' },
    { head: 'retransmitted' },
  ],
  cells: (c) => cells(c),
};

/** Fields one under the other: the two ends, the two counts, how it began and ended, what was missing or sent again. */
const NARROW: Layout<ConnectionSummary> = {
  columns: [
    { head: '#', numeric: true },
    { head: 'client\nserver' },
    { head: 'packets\nbytes\nc>s s>c', wrap: 'never' },
    { head: 'handshake\nend' },
    { head: 'gaps\nretransmitted' },
  ],
  cells: (c) => {
    const [id, client, server, packets, bytes, handshake, end, gaps, retransmitted] = cells(c);
    return [id!, [client!, server!], [packets!, bytes!], [handshake!, end!], [gaps!, retransmitted!]];
  },
};

/**
 * The connection list (one row per TCP connection, then what the capture held besides), a slice of rows
 * at a time, fitted to `width` as the summary's tables are (fit.ts) and drawn by the project's grid
 * (src/render/grid.ts) as cli-table3 draws it: cli-table3's layout is quadratic in the rows (50,000
 * connections took minutes, 125,000 overflowed the stack). The widths come from a first pass over the rows.
 */
export function* connectionsText(summary: CaptureSummary, conns: { count: number; every(): Iterable<ConnectionSummary> }, color: boolean, width = 80): Generator<string> {
  const lines: string[] = [];
  lines.push(`${sanitize(summary.files.join(', '))}: ${summary.format}, ${group(summary.records)} records, ${group(summary.capturedBytes)} bytes captured`);
  if (summary.first !== null && summary.last !== null) {
    lines.push(`from ${formatTime(summary.first)} to ${formatTime(summary.last)} (UTC)`);
  }
  lines.push(`${group(conns.count)} TCP connection${conns.count === 1 ? '' : 's'}`);
  yield `${paragraphs(lines, width)}\n`;
  if (conns.count > 0) {
    loadWidth();
    // As the drawer measures: the length of plain ASCII, string-width for the rest.
    const measureText = textWidth;
    const wide = newShape(WIDE);
    const narrow = newShape(NARROW);
    let measured = 0;
    for (const c of conns.every()) {
      measure(wide, WIDE.cells(c), measureText);
      measure(narrow, NARROW.cells(c), measureText);
      // Nothing to write yet, but a pause for the writer (its memory guard) every slice of rows.
      if (++measured % SLICE === 0) yield '';
    }
    const table = new SlicedTable(plan(width, [[WIDE, wide], [NARROW, narrow]], measureText), color, (tone, text) => ansi(color, tone, text), measureText);
    // Addresses, numbers and words of ours: every line fits its column, so drawGrid always draws.
    const slice = (rows: string[][]) => table.draw(rows)!;
    let rows: string[][] = [];
    for (const c of conns.every()) {
      rows.push(table.cells(c));
      if (rows.length === SLICE) {
        yield slice(rows);
        rows = [];
      }
    }
    if (rows.length > 0) yield slice(rows);
    yield table.end();
  }
  const notes = captureNotes(summary);
  if (notes.length > 0) yield `${paragraphs(notes, width)}\n`;
}

/** Lines of prose wrapped to the width, a wrapped line's rest indented. */
function paragraphs(lines: readonly string[], width: number): string {
  return lines.flatMap((l) => wrap(l, width, '', '  ')).join('\n');
}

function cells(c: ConnectionSummary): string[] {
  return [
    String(c.id),
    endpoint(c.ipVersion, c.client.address, c.client.port),
    endpoint(c.ipVersion, c.server.address, c.server.port),
    `${group(c.toServer.packets)} ${group(c.toClient.packets)}`,
    `${group(c.toServer.deliveredBytes)} ${group(c.toClient.deliveredBytes)}`,
    handshake(c),
    ending(c),
    gaps(c),
    retransmissions(c),
  ];
}

function endpoint(version: number, address: string, port: number): string {
  return version === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function handshake(c: ConnectionSummary): string {
  const { syn, synAck, ack } = c.handshake;
  if (syn && synAck && ack) return `complete (${syn.frame},${synAck.frame},${ack.frame})`;
  const seen = [syn && 'SYN', synAck && 'SYN-ACK', ack && 'ACK'].filter(Boolean).join(', ');
  if (seen === '') return c.origin === 'guess' ? 'not seen (sides guessed)' : 'not seen';
  if (syn && !synAck && c.teardown.rst?.by === 'server') return 'SYN refused (RST)';
  if (syn && !synAck) return 'SYN unanswered';
  return `partial: ${seen}`;
}

function ending(c: ConnectionSummary): string {
  const t = c.teardown;
  if (t.rst) return `RST by ${t.rst.by} (${t.rst.frame})`;
  if (t.clientFin && t.serverFin) {
    const clientFirst = t.clientFin.frame < t.serverFin.frame;
    return `FIN both, ${clientFirst ? 'client' : 'server'} first`;
  }
  if (t.clientFin) return 'FIN by client only';
  if (t.serverFin) return 'FIN by server only';
  switch (c.closeReason) {
    case 'idle':
      return 'idle timeout';
    case 'end-of-capture':
      return 'open at end';
    case 'reused':
      return 'ports reused';
    case 'evicted':
      return 'evicted (limit)';
    default:
      return c.closeReason ?? '';
  }
}

function gaps(c: ConnectionSummary): string {
  const n = c.toServer.gapCount + c.toClient.gapCount;
  const bytes = c.toServer.gapBytes + c.toClient.gapBytes;
  const parts: string[] = [];
  if (c.toServer.startUnseen || c.toClient.startUnseen) parts.push('start unseen');
  if (n > 0) parts.push(`${group(n)}: ${group(bytes)} B`);
  return parts.length > 0 ? parts.join('; ') : '-';
}

function retransmissions(c: ConnectionSummary): string {
  const bytes = c.toServer.retransmittedBytes + c.toClient.retransmittedBytes;
  const differ = c.toServer.conflictBytes + c.toClient.conflictBytes;
  if (bytes === 0) return '-';
  return differ > 0 ? `${group(bytes)} B, ${group(differ)} differ` : `${group(bytes)} B`;
}

/** Lines about what was not TCP, what was cut, and what went wrong reading. */
export function captureNotes(s: CaptureSummary): string[] {
  const out: string[] = [];
  const other = Object.entries(s.decoded).filter(([k]) => k !== 'TCP');
  if (other.length > 0) out.push(`records not analysed as TCP: ${other.map(([k, v]) => `${group(v)} ${k}`).join('; ')}`);
  if (s.cutRecords > 0) out.push(`${group(s.cutRecords)} records were cut by the snap length (their missing bytes are gaps)`);
  if (s.outOfOrderRecords > 0) out.push(`${group(s.outOfOrderRecords)} records are earlier than the record before them`);
  const f = s.fragments;
  if (f.reassembled + f.incomplete + f.refused > 0) {
    out.push(`IP fragments: ${f.reassembled} datagrams reassembled, ${f.incomplete} incomplete, ${f.refused} fragments refused${f.conflicting ? `, ${f.conflicting} overlapping with different bytes` : ''}`);
  }
  const t = s.connections;
  if (t.idleClosed + t.evicted + t.reused > 0) {
    out.push(`connections: ${t.idleClosed} closed as idle, ${t.evicted} evicted at the limit, ${t.reused} ports reused by a new SYN`);
  }
  return out;
}
