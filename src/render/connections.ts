import { measure, newShape, plan, SlicedTable, type Layout } from './fit.js';
import { loadWidth, textWidth } from './table.js';
import type { CaptureSummary } from '../model/capture.js';
import type { ConnectionSummary } from '../model/capture.js';
import type { Lang } from './context.js';
import { ansi, formatTime, group, sanitize, wrap } from './text.js';

/** Rows drawn at a time: the text of a capture of any number of connections is never one string. */
const SLICE = 4096;

/** The list's words in one language: heads, the lines around the table, and the words in cells. */
interface Words {
  head: Record<'client' | 'server' | 'packets' | 'bytes' | 'handshake' | 'end' | 'gaps' | 'retransmitted', string>;
  /** The two directions' counts, under a head. */
  directions: string;
  file: (files: string, format: string, records: string, bytes: string) => string;
  span: (from: string, to: string) => string;
  count: (n: number, shown: string) => string;
  complete: (frames: string) => string;
  notSeen: string;
  sidesGuessed: string;
  synRefused: string;
  synUnanswered: string;
  partial: (seen: string) => string;
  rstBy: (side: 'client' | 'server', frame: number) => string;
  finBoth: (first: 'client' | 'server') => string;
  finOnly: (side: 'client' | 'server') => string;
  close: Record<'idle' | 'end-of-capture' | 'reused' | 'evicted', string>;
  startUnseen: string;
  bytes: (n: string) => string;
  differ: (n: string) => string;
  list: string;
  notTcp: (kinds: string) => string;
  cut: (n: string) => string;
  earlier: (n: string) => string;
  fragments: (reassembled: number, incomplete: number, refused: number, conflicting: number) => string;
  closedEarly: (idle: number, evicted: number, reused: number) => string;
}

const EN: Words = {
  head: { client: 'client', server: 'server', packets: 'packets', bytes: 'bytes', handshake: 'handshake', end: 'end', gaps: 'gaps', retransmitted: 'retransmitted' },
  directions: 'c>s s>c',
  file: (files, format, records, bytes) => `${files}: ${format}, ${records} records, ${bytes} bytes captured`,
  span: (from, to) => `from ${from} to ${to} (UTC)`,
  count: (n, shown) => `${shown} TCP connection${n === 1 ? '' : 's'}`,
  complete: (frames) => `complete (${frames})`,
  notSeen: 'not seen',
  sidesGuessed: 'not seen (sides guessed)',
  synRefused: 'SYN refused (RST)',
  synUnanswered: 'SYN unanswered',
  partial: (seen) => `partial: ${seen}`,
  rstBy: (side, frame) => `RST by ${side} (${frame})`,
  finBoth: (first) => `FIN both, ${first} first`,
  finOnly: (side) => `FIN by ${side} only`,
  close: { idle: 'idle timeout', 'end-of-capture': 'open at end', reused: 'ports reused', evicted: 'evicted (limit)' },
  startUnseen: 'start unseen',
  bytes: (n) => `${n} B`,
  differ: (n) => `${n} differ`,
  list: ', ',
  notTcp: (kinds) => `records not analysed as TCP: ${kinds}`,
  cut: (n) => `${n} records were cut by the snap length (their missing bytes are gaps)`,
  earlier: (n) => `${n} records are earlier than the record before them`,
  fragments: (reassembled, incomplete, refused, conflicting) =>
    `IP fragments: ${reassembled} datagrams reassembled, ${incomplete} incomplete, ${refused} fragments refused${conflicting ? `, ${conflicting} overlapping with different bytes` : ''}`,
  closedEarly: (idle, evicted, reused) => `connections: ${idle} closed as idle, ${evicted} evicted at the limit, ${reused} ports reused by a new SYN`,
};

const ZH: Words = {
  head: { client: '客户端', server: '服务器', packets: '数据包', bytes: '字节', handshake: '握手', end: '结束', gaps: '缺口', retransmitted: '重传' },
  directions: 'c>s s>c',
  file: (files, format, records, bytes) => `${files}：${format}，${records} 条记录，抓到 ${bytes} 字节`,
  span: (from, to) => `从 ${from} 到 ${to}（UTC）`,
  count: (_n, shown) => `${shown} 条 TCP 连接`,
  complete: (frames) => `完整（${frames}）`,
  notSeen: '未看到',
  sidesGuessed: '未看到（两端为推测）',
  synRefused: 'SYN 被拒绝（RST）',
  synUnanswered: 'SYN 没有应答',
  partial: (seen) => `不完整：${seen}`,
  rstBy: (side, frame) => `${side === 'client' ? '客户端' : '服务器'} RST（第 ${frame} 帧）`,
  finBoth: (first) => `双方 FIN，${first === 'client' ? '客户端' : '服务器'}先`,
  finOnly: (side) => `只有${side === 'client' ? '客户端' : '服务器'} FIN`,
  close: { idle: '空闲超时', 'end-of-capture': '抓包结束时仍打开', reused: '端口被重用', evicted: '被逐出（达到上限）' },
  startUnseen: '开头未抓到',
  bytes: (n) => `${n} 字节`,
  differ: (n) => `${n} 字节不同`,
  list: '；',
  notTcp: (kinds) => `没有作为 TCP 分析的记录：${kinds}`,
  cut: (n) => `${n} 条记录被快照长度截断（缺少的字节算作缺口）`,
  earlier: (n) => `${n} 条记录的时间早于前一条记录`,
  fragments: (reassembled, incomplete, refused, conflicting) =>
    `IP 分片：重组了 ${reassembled} 个数据报，${incomplete} 个不完整，拒绝了 ${refused} 个分片${conflicting ? `，${conflicting} 个重叠且内容不同` : ''}`,
  closedEarly: (idle, evicted, reused) => `连接：${idle} 条因空闲而关闭，${evicted} 条因达到上限被逐出，${reused} 条的端口被新的 SYN 重用`,
};

const WORDS: Record<Lang, Words> = { en: EN, zh: ZH };

/** One column a field; the two counts of a direction pair are never parted. */
function wideLayout(w: Words): Layout<ConnectionSummary> {
  const h = w.head;
  return {
    columns: [
      { head: '#', numeric: true },
      { head: h.client },
      { head: h.server },
      { head: `${h.packets}\n${w.directions}`, wrap: 'never' },
      { head: `${h.bytes}\n${w.directions}`, wrap: 'never' },
      { head: h.handshake },
      { head: h.end },
      { head: h.gaps },
      { head: h.retransmitted },
    ],
    cells: (c) => cells(w, c),
  };
}

/** Fields one under the other: the two ends, the two counts, how it began and ended, what was missing or sent again. */
function narrowLayout(w: Words): Layout<ConnectionSummary> {
  const h = w.head;
  return {
    columns: [
      { head: '#', numeric: true },
      { head: `${h.client}\n${h.server}` },
      { head: `${h.packets}\n${h.bytes}\n${w.directions}`, wrap: 'never' },
      { head: `${h.handshake}\n${h.end}` },
      { head: `${h.gaps}\n${h.retransmitted}` },
    ],
    cells: (c) => {
      const [id, client, server, packets, bytes, handshake, end, gaps, retransmitted] = cells(w, c);
      return [id!, [client!, server!], [packets!, bytes!], [handshake!, end!], [gaps!, retransmitted!]];
    },
  };
}

/**
 * The connection list (one row per TCP connection, then what the capture held besides), a slice of rows
 * at a time, fitted to `width` as the summary's tables are (fit.ts) and drawn by the project's grid
 * (src/render/grid.ts) as cli-table3 draws it: cli-table3's layout is quadratic in the rows (50,000
 * connections took minutes, 125,000 overflowed the stack). The widths come from a first pass over the rows.
 */
export function* connectionsText(summary: CaptureSummary, conns: { count: number; every(): Iterable<ConnectionSummary> }, color: boolean, width = 80, lang: Lang = 'en'): Generator<string> {
  const w = WORDS[lang] ?? EN;
  const WIDE = wideLayout(w);
  const NARROW = narrowLayout(w);
  const lines: string[] = [];
  lines.push(w.file(sanitize(summary.files.join(', ')), summary.format, group(summary.records), group(summary.capturedBytes)));
  if (summary.first !== null && summary.last !== null) lines.push(w.span(formatTime(summary.first), formatTime(summary.last)));
  lines.push(w.count(conns.count, group(conns.count)));
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
  const notes = captureNotes(summary, w);
  if (notes.length > 0) yield `${paragraphs(notes, width)}\n`;
}

/** Lines of prose wrapped to the width, a wrapped line's rest indented. */
function paragraphs(lines: readonly string[], width: number): string {
  return lines.flatMap((l) => wrap(l, width, '', '  ')).join('\n');
}

function cells(w: Words, c: ConnectionSummary): string[] {
  return [
    String(c.id),
    endpoint(c.ipVersion, c.client.address, c.client.port),
    endpoint(c.ipVersion, c.server.address, c.server.port),
    `${group(c.toServer.packets)} ${group(c.toClient.packets)}`,
    `${group(c.toServer.deliveredBytes)} ${group(c.toClient.deliveredBytes)}`,
    handshake(w, c),
    ending(w, c),
    gaps(w, c),
    retransmissions(w, c),
  ];
}

function endpoint(version: number, address: string, port: number): string {
  return version === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function handshake(w: Words, c: ConnectionSummary): string {
  const { syn, synAck, ack } = c.handshake;
  if (syn && synAck && ack) return w.complete(`${syn.frame},${synAck.frame},${ack.frame}`);
  const seen = [syn && 'SYN', synAck && 'SYN-ACK', ack && 'ACK'].filter(Boolean).join(', ');
  if (seen === '') return c.origin === 'guess' ? w.sidesGuessed : w.notSeen;
  if (syn && !synAck && c.teardown.rst?.by === 'server') return w.synRefused;
  if (syn && !synAck) return w.synUnanswered;
  return w.partial(seen);
}

function ending(w: Words, c: ConnectionSummary): string {
  const t = c.teardown;
  if (t.rst) return w.rstBy(t.rst.by, t.rst.frame);
  if (t.clientFin && t.serverFin) return w.finBoth(t.clientFin.frame < t.serverFin.frame ? 'client' : 'server');
  if (t.clientFin) return w.finOnly('client');
  if (t.serverFin) return w.finOnly('server');
  return c.closeReason === null ? '' : (w.close[c.closeReason as keyof Words['close']] ?? c.closeReason);
}

function gaps(w: Words, c: ConnectionSummary): string {
  const n = c.toServer.gapCount + c.toClient.gapCount;
  const bytes = c.toServer.gapBytes + c.toClient.gapBytes;
  const parts: string[] = [];
  if (c.toServer.startUnseen || c.toClient.startUnseen) parts.push(w.startUnseen);
  if (n > 0) parts.push(`${group(n)}: ${w.bytes(group(bytes))}`);
  return parts.length > 0 ? parts.join(w.list) : '-';
}

function retransmissions(w: Words, c: ConnectionSummary): string {
  const bytes = c.toServer.retransmittedBytes + c.toClient.retransmittedBytes;
  const differ = c.toServer.conflictBytes + c.toClient.conflictBytes;
  if (bytes === 0) return '-';
  return differ > 0 ? `${w.bytes(group(bytes))}${w === EN ? ', ' : '，'}${w.differ(group(differ))}` : w.bytes(group(bytes));
}

/** Lines about what was not TCP, what was cut, and what went wrong reading. */
export function captureNotes(s: CaptureSummary, w: Words = EN): string[] {
  const out: string[] = [];
  const other = Object.entries(s.decoded).filter(([k]) => k !== 'TCP');
  if (other.length > 0) out.push(w.notTcp(other.map(([k, v]) => `${group(v)} ${k}`).join(w.list)));
  if (s.cutRecords > 0) out.push(w.cut(group(s.cutRecords)));
  if (s.outOfOrderRecords > 0) out.push(w.earlier(group(s.outOfOrderRecords)));
  const f = s.fragments;
  if (f.reassembled + f.incomplete + f.refused > 0) out.push(w.fragments(f.reassembled, f.incomplete, f.refused, f.conflicting));
  const t = s.connections;
  if (t.idleClosed + t.evicted + t.reused > 0) out.push(w.closedEarly(t.idleClosed, t.evicted, t.reused));
  return out;
}
