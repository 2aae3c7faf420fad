import type { ConnectionSteps, ConnectionSummary, DirectionSummary, GapRecord } from '../model/capture.js';
import type { Connection, TcpListener } from './connections.js';
import type { Dir, GapReason, StreamSink } from './stream-sink.js';

export type { ConnectionSummary, DirectionSummary, GapRecord };


/**
 * Collects a summary of every TCP connection, with its gaps. It asks for the streams' bytes (to see the
 * gaps) but keeps none of them.
 */
export class ConnectionLog implements TcpListener {
  /** The summaries, by id, in the order the connections closed. */
  private readonly byId = new Map<number, ConnectionSummary>();
  private readonly gapsByConn = new Map<number, { gaps: GapRecord[]; omitted: number }>();

  constructor(private readonly maxGaps = 1000) {}

  opened(conn: Connection): StreamSink {
    const entry = { gaps: [] as GapRecord[], omitted: 0 };
    this.gapsByConn.set(conn.id, entry);
    const maxGaps = this.maxGaps;
    return {
      checkRetransmissions: false,
      ignoresData: true,
      data() {},
      gap(dir: Dir, at: number, len: number, reason: GapReason) {
        if (entry.gaps.length < maxGaps) entry.gaps.push({ dir: dir === 0 ? 'client->server' : 'server->client', offset: at, length: len, reason });
        else entry.omitted++;
      },
      end() {},
    };
  }

  closed(c: Connection): void {
    const g = this.gapsByConn.get(c.id) ?? { gaps: [], omitted: 0 };
    this.gapsByConn.delete(c.id);
    const steps = connectionSteps(c);
    const summary: ConnectionSummary = {
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
      toServer: direction(c, 0),
      toClient: direction(c, 1),
      gaps: g.gaps,
      gapsOmitted: g.omitted,
    };
    this.byId.set(c.id, summary);
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

  /** Summaries in the order the connections began. */
  sorted(): ConnectionSummary[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
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
