/**
 * What the lower stages decided, as plain JSON-able data: the moments of the capture, the TCP connections
 * and their gaps, what reading and decoding gave. The stages fill these in; views read only these.
 * This module imports nothing.
 */

/** Direction of a byte stream within a connection: 0 from the client (the SYN sender), 1 from the server. */
export type Dir = 0 | 1;

/** A moment in the capture: frame number (1-based, in reading order) and exact time. */
export interface Stamp {
  frame: number;
  sec: number;
  nsec: number;
}

/** Why bytes of a stream will never be delivered. */
export type GapReason =
  /** The connection was picked up mid-stream: what came before the first byte seen is unknown (len -1). */
  | 'start-unseen'
  /** Sent (the peer acknowledged them, or later bytes arrived) but not in the capture. */
  | 'missing'
  /** Cut off by the capture's snap length. */
  | 'cut'
  /** Given up to keep buffered out-of-order data within its bound. */
  | 'buffer-limit';

/** Why a direction of a stream ended. */
export type EndReason = 'fin' | 'rst' | 'idle' | 'end-of-capture' | 'reused' | 'evicted';

/** How the connection table learned which side is the client. */
export type Origin = 'syn' | 'syn-ack' | 'port' | 'guess';

/** One gap in a direction's byte stream. */
export interface GapRecord {
  dir: 'client->server' | 'server->client';
  offset: number;
  /** -1 when unknown (the start of the stream was not captured). */
  length: number;
  reason: GapReason;
}

/** Per-direction figures of a connection. */
export interface DirectionSummary {
  packets: number;
  /** Payload bytes on the wire, retransmissions included. */
  wireBytes: number;
  /** Stream bytes delivered in order, each byte once. */
  deliveredBytes: number;
  /** Length of the stream as far as it was seen: delivered plus missing bytes. */
  streamLength: number;
  gapCount: number;
  gapBytes: number;
  startUnseen: boolean;
  retransmittedBytes: number;
  conflictBytes: number;
  firstConflictFrame: number | null;
  lateBytes: number;
  cutBytes: number;
  end: EndReason | null;
}

/** A finished TCP connection, as plain JSON-able data. */
export interface ConnectionSummary {
  id: number;
  ipVersion: number;
  client: { address: string; port: number };
  server: { address: string; port: number };
  /** How the client side was told: by the SYN, the SYN+ACK, a well-known port, or a guess. */
  origin: Origin;
  first: Stamp;
  last: Stamp;
  handshake: { syn: Stamp | null; synAck: Stamp | null; ack: Stamp | null };
  teardown: { clientFin: Stamp | null; serverFin: Stamp | null; rst: (Stamp & { by: 'client' | 'server' }) | null };
  closeReason: EndReason | null;
  packetsAfterClose: number;
  toServer: DirectionSummary;
  toClient: DirectionSummary;
  /** The first gaps of both directions, in the order they were found (at most `maxGaps`). */
  gaps: GapRecord[];
  gapsOmitted: number;
}

/** What the connection table saw, over the whole capture. */
export interface TableStats {
  /** Connections seen. */
  connections: number;
  /**
   * The most connections held in the table at once: those open, and those finished less than
   * closedLingerSec (30 s) of capture time before, kept for their late packets. Not the most open at once:
   * a capture shorter than the linger holds every connection it saw.
   */
  maxConcurrent: number;
  /** Closed after idleTimeoutSec of capture time without a packet. */
  idleClosed: number;
  /** Closed to stay within maxConnections (the least recently active first). */
  evicted: number;
  /** A new connection (a SYN) on the four-tuple of an earlier one. */
  reused: number;
}

/** What IP fragment reassembly did. */
export interface FragmentStats {
  reassembled: number;
  /** Incomplete datagrams given up when their time ran out, or at the end of the capture. */
  incomplete: number;
  /** Fragments refused: a datagram over 65,535 bytes, a fragment cut by the snap length, limits hit. */
  refused: number;
  /** Fragments overlapping earlier ones (the first copy wins) with different bytes. */
  conflicting: number;
}

/** What reading and decoding the capture gave, apart from what the listener collected. */
export interface CaptureSummary {
  files: string;
  format: string;
  records: number;
  /** Captured bytes in all records. */
  capturedBytes: number;
  /** Records the snap length cut (captured length below the original length). */
  cutRecords: number;
  /** Records whose time is earlier than the record before them. */
  outOfOrderRecords: number;
  first: { sec: number; nsec: number } | null;
  last: { sec: number; nsec: number } | null;
  /** Records per decoding outcome, by name; only outcomes that happened. */
  decoded: Record<string, number>;
  /** Records per link type. */
  linkTypes: Record<string, number>;
  fragments: FragmentStats;
  connections: TableStats;
  faults: Array<{ file: string; offset: number; reason: string; message: string }>;
}
