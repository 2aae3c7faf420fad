import type { ConnectionSteps, ConnectionSummary, DirectionSummary, GapRecord } from '../model/capture.js';
import type { Connection, TcpListener } from './connections.js';
import type { Dir, GapReason, StreamSink } from './stream-sink.js';
import { SortedSpill } from '../spill.js';

export type { ConnectionSummary, DirectionSummary, GapRecord };

interface Gaps {
  gaps: GapRecord[];
  omitted: number;
}

/** A connection's sink in the log: it wants the gaps only, and keeps nothing until one comes. */
class GapSink implements StreamSink {
  readonly checkRetransmissions = false;
  readonly ignoresData = true;

  constructor(
    private readonly log: ConnectionLog,
    private readonly id: number,
  ) {}

  data(): void {}

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    this.log.gap(this.id, dir, at, len, reason);
  }

  end(): void {}
}

/**
 * Collects a summary of every TCP connection, with its gaps. It asks for the streams' bytes (to see the
 * gaps) but keeps none of them.
 */
export class ConnectionLog implements TcpListener {
  /** The summaries, by id, in the order the connections closed. */
  private readonly byId = new Map<number, ConnectionSummary>();
  /** Gaps of open connections that had any (most never do), by id. */
  private readonly gapsByConn = new Map<number, Gaps>();

  constructor(readonly maxGaps = 1000) {}

  opened(conn: Connection): StreamSink {
    return new GapSink(this, conn.id);
  }

  /** A gap of connection `id` (see GapSink). */
  gap(id: number, dir: Dir, at: number, len: number, reason: GapReason): void {
    let entry = this.gapsByConn.get(id);
    if (entry === undefined) this.gapsByConn.set(id, (entry = { gaps: [], omitted: 0 }));
    if (entry.gaps.length < this.maxGaps) entry.gaps.push({ dir: dir === 0 ? 'client->server' : 'server->client', offset: at, length: len, reason });
    else entry.omitted++;
  }

  closed(c: Connection): void {
    this.byId.set(c.id, this.summarise(c));
  }

  /**
   * A closed connection that only the connection list shows: set aside in id order, a few thousand in
   * memory and the rest in a temporary file (SortedSpill), so that a capture of millions of connections
   * lists them all in bounded memory. get() does not find it.
   */
  aside(c: Connection): void {
    (this.others ??= new SortedSpill<ConnectionSummary>()).add(c.id, this.summarise(c));
  }

  private others: SortedSpill<ConnectionSummary> | null = null;

  private summarise(c: Connection): ConnectionSummary {
    const g = this.gapsByConn.get(c.id) ?? { gaps: [], omitted: 0 };
    this.gapsByConn.delete(c.id);
    const steps = connectionSteps(c);
    return {
      id: c.id,
      ipVersion: c.ipVersion,
      client: steps.client,
      server: steps.server,
      origin: c.origin,
      first: steps.first,
      last: steps.last,
      handshake: steps.handshake,
      teardown: steps.teardown,
      closeReason: c.closeReason,
      packetsAfterClose: c.afterClose,
      history: c.history,
      toServer: direction(c, 0),
      toClient: direction(c, 1),
      gaps: g.gaps,
      gapsOmitted: g.omitted,
    };
  }

  /** A closed connection that is not to be logged: what was gathered for it goes. */
  discard(c: Connection): void {
    this.gapsByConn.delete(c.id);
  }

  /** A closed connection's summary, by id. */
  get(id: number): ConnectionSummary | undefined {
    return this.byId.get(id);
  }

  /** Forgets connections (a long live capture keeps only what it still reports). */
  forget(ids: Iterable<number>): void {
    for (const id of ids) this.byId.delete(id);
  }

  /** Summaries held (not set aside) in the order the connections began. */
  held(): ConnectionSummary[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  /** How many connections every() gives. */
  get count(): number {
    return this.byId.size + (this.others?.count ?? 0);
  }

  /** Every summary, held or set aside, in the order the connections began (it may be read again). */
  *every(): Generator<ConnectionSummary> {
    const held = this.held();
    let h = 0;
    if (this.others !== null) {
      for (const c of this.others.ordered()) {
        while (h < held.length && held[h]!.id < c.id) yield held[h++]!;
        yield c;
      }
    }
    while (h < held.length) yield held[h++]!;
  }

  /** Every summary, as an array (tests: a real capture's list belongs in every()). */
  sorted(): ConnectionSummary[] {
    return [...this.every()];
  }

  /** Lets the file of the connections set aside go. */
  close(): void {
    this.others?.close();
  }
}

/** A connection's ends and TCP steps as they are now (open or closed): its summary's part that timeline events name. */
export function connectionSteps(c: Connection): ConnectionSteps {
  return {
    id: c.id,
    client: { address: c.clientAddress, port: c.cPort },
    server: { address: c.serverAddress, port: c.sPort },
    first: c.first,
    last: { frame: c.lastFrame, sec: c.lastSec, nsec: c.lastNsec },
    handshake: { syn: c.syn, synAck: c.synAck, ack: c.handshakeAck },
    teardown: {
      clientFin: c.fin[0],
      serverFin: c.fin[1],
      rst: c.rst === null ? null : { ...c.rst, by: c.rstDir === 0 ? 'client' : 'server' },
    },
  };
}

function direction(c: Connection, dir: Dir): DirectionSummary {
  const h = c.half[dir];
  return {
    packets: c.packets[dir]!,
    ipBytes: dir === 0 ? c.ipBytes0 : c.ipBytes1,
    wireBytes: h.wireBytes,
    deliveredBytes: h.deliveredBytes,
    streamLength: h.nextOff,
    gapCount: h.gapCount,
    gapBytes: h.gapBytes,
    startUnseen: h.startUnseen,
    retransmittedBytes: h.retransmittedBytes,
    conflictBytes: h.conflictBytes,
    firstConflictFrame: h.firstConflictFrame < 0 ? null : h.firstConflictFrame,
    lateBytes: h.lateBytes,
    afterResetBytes: c.afterResetBytes[dir],
    cutBytes: h.cutBytes,
    end: h.endReason,
  };
}
