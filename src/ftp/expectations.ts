import type { Connection } from '../flow/connections.js';
import type { Prediction } from '../model/ftp-model.js';
import { seconds } from './session.js';

/** How a connection matched its prediction: on the advertised address, or on the control connection's peer (NAT). */
export type MatchRule = 'advertised' | 'control-peer';

/** What the table tells the analysis as it goes. */
export interface ExpectationEvents {
  /** A cap let predictions go (the oldest first); told once per session, and once for the cap of all. */
  capped(p: Prediction, scope: 'session' | 'all', limit: number): void;
  /** A prediction names `address` (+1) or no longer does (-1): the analysis counts FTP's hosts. */
  host(address: string, n: 1 | -1): void;
  /** A prediction left the table (answered for good, refused, capped, or its session let go). */
  left?(p: Prediction): void;
}

export interface ExpectationLimits {
  maxPredictionsPerSession: number;
  maxPredictions: number;
}

/** A prediction in the table; `gone` once matched for good, dropped or capped, so the order can skip it. */
interface Entry {
  p: Prediction;
  gone: boolean;
}

/**
 * The one table of data connections announced and still awaited (PORT, EPRT, LPRT, 227, 228, 229), indexed
 * by the address and port a connection would use: the advertised one and the control connection's peer's.
 *
 * Call order: `add` when a prediction is made (the caps apply there: the session's oldest, then the
 * table's oldest, go first and are marked 'dropped'); `match` for each new connection (newest first, not
 * expired by capture time, the advertised address before the control peer); `drop` when a prediction is
 * answered for good (a passive port used, a PORT refused, its session let go). Memory is bounded by the
 * caps, whatever the capture holds.
 */
export class Expectations {
  private readonly index = new Map<string, Entry[]>();
  private count = 0;
  /** Every entry in the order added; entries gone are skipped, and compacted away when they are most of it. */
  private order: Entry[] = [];
  private head = 0;
  private readonly bySession = new Map<number, Entry[]>();
  private readonly capWarned = new Set<number>();

  constructor(
    private readonly limits: ExpectationLimits,
    private readonly events: ExpectationEvents,
  ) {}

  /** Awaits the prediction's connection. */
  add(p: Prediction): void {
    const e: Entry = { p, gone: false };
    for (const key of keysOf(p)) {
      let list = this.index.get(key);
      if (list === undefined) this.index.set(key, (list = []));
      list.push(e);
    }
    this.events.host(p.to.address, 1);
    this.count++;
    this.order.push(e);
    // The order keeps predictions matched or dropped long ago too: rebuilt with the live ones when those
    // are fewer than half of it, it stays bounded by the live predictions, not by all there ever were.
    if (this.order.length - this.head > 2 * this.count + 1024) {
      // In place (no spread of what may be very many), in the same order.
      const order = this.order;
      let kept = 0;
      for (let i = this.head; i < order.length; i++) if (!order[i]!.gone) order[kept++] = order[i]!;
      order.length = kept;
      this.head = 0;
    }
    let mine = this.bySession.get(p.session);
    if (mine === undefined) this.bySession.set(p.session, (mine = []));
    mine.push(e);
    const cap = this.limits.maxPredictionsPerSession;
    while (mine.length > cap) {
      const old = mine.shift()!;
      this.capWarn(p, p.session, 'session', cap);
      this.capDrop(old.p);
    }
    while (this.count > this.limits.maxPredictions && this.head < this.order.length) {
      const old = this.order[this.head++]!;
      if (old.gone) continue;
      this.capWarn(p, 0, 'all', this.limits.maxPredictions);
      this.capDrop(old.p);
    }
  }

  /** No longer awaited. `keepHost`: the analysis still counts its host (a report keeps what a whole analysis would). */
  drop(p: Prediction, keepHost = false): void {
    let removed = false;
    for (const key of keysOf(p)) {
      const list = this.index.get(key);
      if (list === undefined) continue;
      const i = list.findIndex((e) => e.p === p);
      if (i < 0) continue;
      list[i]!.gone = true;
      list.splice(i, 1);
      removed = true;
      if (list.length === 0) this.index.delete(key);
    }
    if (!removed) return;
    this.count--;
    if (!keepHost) this.events.host(p.to.address, -1);
    const mine = this.bySession.get(p.session);
    if (mine !== undefined) {
      const i = mine.findIndex((e) => e.p === p);
      if (i >= 0) mine.splice(i, 1);
    }
    this.events.left?.(p);
  }

  /** The prediction a new connection answers at capture time `now` (seconds), and the rule it matched by. */
  match(conn: Connection, now: number): { p: Prediction; rule: MatchRule } | null {
    const sides: Array<[string, number]> = [[conn.serverAddress, conn.sPort]];
    if (conn.origin !== 'syn') sides.push([conn.clientAddress, conn.cPort]);
    for (const [address, port] of sides) {
      const list = this.index.get(keyOf(address, port));
      if (list === undefined) continue;
      let best: Prediction | null = null;
      for (let i = list.length - 1; i >= 0; i--) {
        const p = list[i]!.p;
        if (p.expires < now) continue;
        if (p.connection === null) {
          best = p;
          break;
        }
        best ??= p;
      }
      if (best !== null) return { p: best, rule: ruleFor(best, conn)! };
    }
    return null;
  }

  /** The latest capture time at which a prediction of the session may still be answered, or -Infinity. */
  awaitedUntil(session: number, now: number): number {
    let until = -Infinity;
    for (const e of this.bySession.get(session) ?? []) if (e.p.expires >= now && e.p.expires > until) until = e.p.expires;
    return until;
  }

  /** The session is let go: its own list goes (its predictions were dropped one by one). */
  forgetSession(session: number): void {
    this.bySession.delete(session);
  }

  private capWarn(p: Prediction, key: number, scope: 'session' | 'all', limit: number): void {
    if (this.capWarned.has(key)) return;
    this.capWarned.add(key);
    this.events.capped(p, scope, limit);
  }

  private capDrop(p: Prediction): void {
    if (p.status === 'unused') p.status = 'dropped';
    this.drop(p);
  }
}

/** The rule by which a connection answers a prediction, or null when it does not. */
export function ruleFor(p: Prediction, conn: Connection): MatchRule | null {
  for (const [address, port] of [[conn.serverAddress, conn.sPort], [conn.clientAddress, conn.cPort]] as Array<[string, number]>) {
    if (port !== p.to.port) continue;
    if (address === p.to.address) return 'advertised';
    if (address === p.controlPeer.address) return 'control-peer';
  }
  return null;
}

/** A connection opened no more than `earlySec` of capture time before its prediction was captured. */
export function withinReach(conn: Connection, p: Prediction, earlySec: number): boolean {
  return seconds(conn.first) >= seconds(p.setup) - earlySec;
}

function keyOf(address: string, port: number): string {
  return `${address}|${port}`;
}

/** The keys a prediction is found by: the advertised address and the control peer's (one key when they are the same). */
function keysOf(p: Prediction): string[] {
  const a = keyOf(p.to.address, p.to.port);
  const b = keyOf(p.controlPeer.address, p.controlPeer.port);
  return a === b ? [a] : [a, b];
}
