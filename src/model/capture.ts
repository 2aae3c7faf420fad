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
  /** IP bytes: the lengths of its datagrams per their headers (Zeek's orig_ip_bytes and resp_ip_bytes). */
  ipBytes: number;
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
  /** Stream bytes that came after the other side's RST: in flight when it reset, they crossed the wire (counted in deliveredBytes too). */
  afterResetBytes: number;
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
  /** What each side sent, in Zeek's history letters (upper case: the client; see src/flow/tcp-history.ts). */
  history: string;
  toServer: DirectionSummary;
  toClient: DirectionSummary;
  /** The first gaps of both directions, in the order they were found (at most `maxGaps`). */
  gaps: GapRecord[];
  gapsOmitted: number;
}

/** A connection's ends and TCP steps, open or closed: what a timeline event of it names (a summary's part). */
export type ConnectionSteps = Pick<ConnectionSummary, 'id' | 'client' | 'server' | 'first' | 'last' | 'handshake' | 'teardown'>;

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
  /** The capture files read, in the order given ("-": standard input); none for a live capture. */
  files: string[];
  format: string;
  records: number;
  /** Captured bytes in all records. */
  capturedBytes: number;
  /** Records the snap length cut (captured length below the original length). */
  cutRecords: number;
  /** Records whose time is earlier than the record before them. */
  outOfOrderRecords: number;
  /** The first of them: its frame, and how many seconds earlier than the record before it. */
  firstOutOfOrder: { frame: number; secondsBack: number } | null;
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

/** One recorded TCP segment, as views read it (made on demand from the columns). */
export interface PacketRecord {
  frame: number;
  sec: number;
  nsec: number;
  /** Connection id (as in the connection list) and direction (0: from the TCP client). */
  connection: number;
  dir: Dir;
  /** TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128). */
  flags: number;
  /**
   * Sequence and acknowledgement numbers relative to each direction's base, as Wireshark shows them: the
   * SYN is 0 and the first data byte 1; without a SYN, the first segment seen starts at 1 (or, for a
   * direction that has sent nothing yet, the first ACK of it acknowledges 1). ack is 0 without the ACK flag.
   */
  seq: number;
  ack: number;
  /** The window field as sent, and scaled (when both SYNs announced a window scale; a SYN's never is). */
  window: number;
  scaledWindow: number;
  /** What the segment is: SEG_* bits of model/segment.ts (tshark's tcp.analysis vocabulary). */
  analysis: number;
  /** For a duplicate ACK: its number in the run (tshark's #n) and the frame it repeats; else 0. */
  dupAckCount: number;
  dupAckOf: number;
  /** For a segment after a capture loss: the sequence numbers skipped before it; else 0. */
  unseenBefore: number;
  /** Payload bytes on the wire, and the frame's length on the wire. */
  payload: number;
  /** Of the payload, the bytes the stream had not had before (the reassembler's count; 0 for a copy). */
  newBytes: number;
  frameLength: number;
}

/** The packets a run recorded, as the views read them (flow/packet-log.ts keeps them). */
export interface PacketSource {
  /** Packets recorded. */
  readonly size: number;
  /** Packet i (0-based, in capture order). */
  get(i: number): PacketRecord;
  /** All recorded packets, in capture order. */
  all(): IterableIterator<PacketRecord>;
  /** The frame at which recording stopped (the bound was reached), or null. */
  readonly fullAt: number | null;
}
