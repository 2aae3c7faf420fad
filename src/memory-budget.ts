/**
 * One memory budget that every table of the analysis draws from (--max-memory), as Suricata's memcaps:
 * each table charges what it holds, in bytes estimated per entry (the costs below, measured by
 * test/memory-budget.test.ts so that they stay at or above what V8 really spends), and releases it when the
 * entry goes. Out-of-order stream buffers are counted as they are (BufferBudget).
 *
 * Call order: tables charge as they grow; at the budget the connection table lets its oldest half-open,
 * then its least recently active connections go (connections.ts), and the FTP stage stops keeping details
 * (commands, replies, predictions, timeline events, packets), counting them instead. What was let go is
 * counted here, with the frame where it first happened, and becomes one finding. The account is
 * deterministic: the same capture and options let the same things go, on any machine.
 */

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What holds memory. */
export type BudgetTable = 'connections' | 'exchanges' | 'predictions' | 'timeline' | 'packets' | 'summaries';

/** Estimated bytes per entry, at or above the heap V8 uses for one (test/memory-budget.test.ts measures them). */
export const COST = {
  /** A tracked TCP connection with its two stream halves, its Zeek history and the FTP stage's sinks. */
  connection: 1600,
  /** A command and its reply, without the text of their lines (charged apart). */
  exchange: 700,
  /** A data connection announced. */
  prediction: 700,
  /** One event of the model's timeline. */
  event: 200,
  /** One row of the packet log (its typed arrays double as they fill: twice a row's 79 bytes). */
  packet: 160,
  /** What the packet log keeps per connection it follows while it is open: its segment analysis, window scales, row count. */
  followed: 600,
  /** A closed connection's summary, kept for the connection list or the model. */
  summary: 1200,
} as const;

/** What the budget made the analysis let go early or count only. */
export interface BudgetShed {
  /** Connections that had not finished their handshake nor carried a byte, closed early (oldest first). */
  halfOpen: number;
  /** Other connections closed early, the least recently active first. */
  idle: number;
  /** Commands and replies counted but not kept. */
  exchanges: number;
  /** Predictions not in the model (held while awaited, then counted only). */
  predictions: number;
  /** Timeline events not kept. */
  events: number;
  /** Packets not recorded for the packet views. */
  packets: number;
}

export class MemoryBudget {
  private readonly used: Record<BudgetTable, number> = { connections: 0, exchanges: 0, predictions: 0, timeline: 0, packets: 0, summaries: 0 };
  private total = 0;
  /** Bytes held out of order by the reassembler (its BufferBudget), read when the total is asked for. */
  buffers: { held: number } = { held: 0 };
  readonly shed: BudgetShed = { halfOpen: 0, idle: 0, exchanges: 0, predictions: 0, events: 0, packets: 0 };
  /** The frame at which something was first let go for the budget, or null. */
  firstShedAt: number | null = null;
  /** The most the tables held at once (bytes). */
  peak = 0;

  /**
   * What the tables may hold (bytes): 40 % of the whole; the rest is V8's garbage between collections and
   * what is being written (NDJSON's end of a session of 100,000 kept commands is one line of tens of MB).
   */
  readonly limit: number;

  /** `max`: the whole process's budget, in bytes (--max-memory). */
  constructor(readonly max: number) {
    this.limit = max * 0.4;
  }

  charge(table: BudgetTable, bytes: number): void {
    this.used[table] += bytes;
    this.total += bytes;
    const now = this.total + this.buffers.held;
    if (now > this.peak) this.peak = now;
  }

  release(table: BudgetTable, bytes: number): void {
    this.used[table] -= bytes;
    this.total -= bytes;
  }

  /** Bytes held now, by one table or in all. */
  held(table?: BudgetTable): number {
    return table === undefined ? this.total + this.buffers.held : this.used[table];
  }

  /** Whether `bytes` more still fit. */
  fits(bytes: number): boolean {
    return this.total + this.buffers.held + bytes <= this.limit;
  }

  /** Counts what was let go, at `frame`. */
  let(what: keyof BudgetShed, frame: number, n = 1): void {
    this.shed[what] += n;
    this.firstShedAt ??= frame;
  }

  /** Whether anything was let go. */
  get reached(): boolean {
    return this.firstShedAt !== null;
  }

  /** Heap size (bytes) past which guard() collects; raised when a collection frees too little. */
  private collectAt = -1;
  private collect: (() => void) | null = null;

  /**
   * A live capture's heap is kept near what it holds (pipeline.ts sets this for live): garbage of a quarter
   * of the heap in use after the last collection, and at least 4 MiB, then a full collection (a few
   * milliseconds every few seconds at line rate). Left to itself, V8 lets a long capture's heap saw up to
   * twice its live size between collections (issue 17's soak).
   */
  steady = false;

  /**
   * Called between batches of packets. V8 lets garbage pile up to a few times the live heap before it
   * collects (a SYN flood's closed connections: 580 MB of heap for 141 MB live), so the heap it holds
   * would run past the budget though the tables stay within it: near the budget, a full collection is
   * asked for. It costs a few microseconds when nothing is due.
   */
  guard(): void {
    if (this.max === Number.POSITIVE_INFINITY && !this.steady) return;
    if (this.collectAt < 0) this.collectAt = this.nextCollection(0);
    // The heap in use, garbage included (what a collection frees): the heap V8 has reserved shrinks only
    // later, and compared with it a collection would be asked for at every call once it had grown.
    if (getHeapStatistics().used_heap_size < this.collectAt) return;
    if (this.collect === null) {
      setFlagsFromString('--expose-gc');
      this.collect = runInNewContext('gc') as () => void;
    }
    this.collect();
    this.collectAt = this.nextCollection(getHeapStatistics().used_heap_size);
  }

  /**
   * Where the next collection is due, `live` bytes being in use after this one. What the tables do not
   * account (the model's sessions and transfers) may hold the heap up: near the budget, collect again
   * only once garbage worth a sixth of the budget has come since.
   */
  private nextCollection(live: number): number {
    const budget = Math.max(this.max * 0.6, live + this.max * 0.15);
    return this.steady ? Math.min(budget, live + Math.max(4 * 2 ** 20, live / 4)) : budget;
  }
}

/** A budget nothing reaches (tests and tools that build stages alone). */
export function unlimitedBudget(): MemoryBudget {
  return new MemoryBudget(Number.POSITIVE_INFINITY);
}
