/**
 * Synthetic FTP captures for the benchmark: realistic, of any size, the same bytes for the same seed.
 *
 * A capture is classic pcap (microseconds, Ethernet) written straight to disk: each record's bytes —
 * record header, Ethernet, IPv4 and TCP headers with correct checksums, payload — are built in place in a
 * write buffer that is flushed every few MB. Nothing is kept per packet.
 *
 * Two kinds:
 *
 * - `mixed`: many FTP sessions at once. Each logs in, looks around (SYST, FEAT, PWD, CWD) and transfers
 *   files — LIST, RETR and STOR, from empty files to hundreds of megabytes — over data connections set
 *   up by PORT, EPRT (active) or PASV, EPSV (passive), then quits; a quarter of the sessions only talk on
 *   the control connection (NOOP, PWD, CWD, SIZE, MDTM loops). Data goes in 1448-byte segments (1514-byte
 *   frames: TCP timestamps on), the receiver acknowledging every second one. About 0.1% of data segments
 *   are missing from the capture (the receiver still acknowledges them: they must show as gaps), 0.1%
 *   arrive swapped with the next one and 0.1% are retransmitted.
 * - `small`: control connections only (logins and command loops, every reply acknowledged), for packets
 *   per second.
 *
 * Sessions are generator functions that tell the protocol in order; each `yield` gives the time of the
 * next packet the session will write, and a scheduler resumes whichever session is due first, so the
 * records come out in time order whatever the number of sessions. The capture's size is a budget: a
 * session only starts a transfer (or a command) while the bytes written plus the transfers in flight stay
 * under it, so the file ends within some tens of KB of the size asked for.
 *
 * Alongside, `generateCapture` returns what it meant to put in the capture (sessions, transfers, their
 * sizes and the bytes the capture lost), for checking an analysis against it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES, writePcapHeader, writePcapRecordHeader } from '../src/capture/pcap-encoding.js';
import { prng } from '../test/support/random.js';

/** Bumped whenever the bytes generated for a seed change, so that cached captures are made again. */
export const GENERATOR_VERSION = 1;

export type CaptureKind = 'mixed' | 'small';
export type DataMode = 'PORT' | 'EPRT' | 'PASV' | 'EPSV';
export type DataCommand = 'LIST' | 'RETR' | 'STOR';

export interface GenerateOptions {
  /** Where to write the pcap file (written under a temporary name, renamed when complete). */
  path: string;
  kind: CaptureKind;
  /** Size of the file to make, in MB (10^6 bytes); it ends within some tens of KB of it. */
  sizeMB: number;
  seed: number;
  /** Shares of data segments missing from the capture, swapped with the next one, sent twice. */
  lossRate?: number;
  reorderRate?: number;
  duplicateRate?: number;
  /** The largest file transferred (default: 400 MiB, the top of the size classes). */
  maxFileBytes?: number;
  /** The traffic made from the seed, written this many times one after the other (default 1). */
  rounds?: number;
}

/** A transfer as the generator made it. */
export interface TransferTruth {
  command: DataCommand;
  /** The full path (the session's directory and the argument); '' for LIST without argument. */
  path: string;
  mode: DataMode;
  /** Bytes sent on the data connection, and those of them missing from the capture. */
  size: number;
  droppedBytes: number;
  droppedSegments: number;
  /** Runs of consecutive dropped segments: the gaps an analysis should find. */
  gaps: number;
  reorderedSegments: number;
  duplicatedSegments: number;
  duplicatedBytes: number;
  /** The data connection: who sent the SYN, and to whom (ADDR:PORT). */
  connector: string;
  listener: string;
}

export interface SessionTruth {
  /** The control connection's client and server (ADDR:PORT). */
  client: string;
  server: string;
  kind: 'transfers' | 'control-only';
  /** Commands sent, QUIT included. */
  commands: number;
  transfers: TransferTruth[];
}

export interface CaptureTruth {
  generator: number;
  kind: CaptureKind;
  seed: number;
  /** Size of one round of traffic, and rounds (the file is about sizeMB * rounds). */
  sizeMB: number;
  rounds: number;
  /** The file: bytes and records (packets). */
  bytes: number;
  records: number;
  /** Seconds of capture time from the first record to the last. */
  duration: number;
  dataSegments: number;
  droppedSegments: number;
  droppedBytes: number;
  reorderedSegments: number;
  duplicatedSegments: number;
  sessions: SessionTruth[];
}

// ---------------------------------------------------------------------------
// Sizes, rates and times
// ---------------------------------------------------------------------------

const MB = 1_000_000;
/** TCP payload per full segment: 1500 (MTU) - 20 (IPv4) - 32 (TCP with the timestamp option). */
export const MSS = 1448;
const ETH = 14;
const IPV4 = 20;
/** TCP header with the timestamp option (NOP, NOP, TS); a SYN carries MSS, SACK-permitted, TS, NOP, WS. */
const TCP_TS = 32;
const TCP_SYN = 40;
const RECORD_HEADER = PCAP_RECORD_HEADER_BYTES;
/** Frame of a full data segment: 1514 bytes. */
const FULL_FRAME = ETH + IPV4 + TCP_TS + MSS;
/** A bare ACK's record in the file. */
const ACK_RECORD = RECORD_HEADER + ETH + IPV4 + TCP_TS;

/** The write buffer is flushed when it holds this much. */
const FLUSH_BYTES = 4 << 20;
/** Capture time of the first packet: 2024-03-01 11:00:00 UTC. */
const EPOCH = 1_709_290_800;

const FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;

/** How the two kinds of capture are made: sessions at once, how often a session is control-only. */
const PROFILES = {
  mixed: { slots: 12, controlOnlyShare: 0.25, commands: [40, 600], think: [0.0002, 0.02] },
  small: { slots: 64, controlOnlyShare: 1, commands: [300, 3000], think: [0.0005, 0.03] },
} as const;

/** File sizes: a share of transfers, and the range (log-uniform) of their sizes in bytes. */
const SIZE_CLASSES: ReadonlyArray<readonly [number, number, number]> = [
  [0.03, 0, 0], // empty files
  [0.37, 1, 16_384],
  [0.40, 16_384, 4 << 20],
  [0.185, 4 << 20, 64 << 20],
  [0.015, 64 << 20, 400 << 20],
];

// ---------------------------------------------------------------------------
// The pcap file, written as it goes
// ---------------------------------------------------------------------------

class PcapFile {
  readonly buf = Buffer.allocUnsafe(FLUSH_BYTES + 65_536);
  private pos = 0;
  private readonly fd: number;
  /** Bytes and records so far (written or still in the buffer). */
  bytes = 0;
  records = 0;
  first = -1;
  last = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    // Microsecond timestamps, little-endian, Ethernet.
    this.pos = writePcapHeader(this.buf, 0, { linktype: 1, snaplen: 262_144, nanosecond: false });
    this.bytes = PCAP_HEADER_BYTES;
  }

  /** Starts a record of `frameLen` bytes at capture time `t` (seconds); returns where its frame goes. */
  begin(t: number, frameLen: number): number {
    if (this.pos + RECORD_HEADER + frameLen > FLUSH_BYTES) this.flush();
    const whole = Math.floor(t);
    writePcapRecordHeader(this.buf, this.pos, EPOCH + whole, Math.floor((t - whole) * 1e6), frameLen, frameLen);
    this.pos += RECORD_HEADER + frameLen;
    this.bytes += RECORD_HEADER + frameLen;
    this.records++;
    if (this.first < 0) this.first = t;
    this.last = t;
    return this.pos - frameLen;
  }

  private flush(): void {
    let done = 0;
    while (done < this.pos) done += writeSync(this.fd, this.buf, done, this.pos - done);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------

/** Sum of the big-endian 16-bit words of b[start, end) (an odd last byte is the high half of a word). */
function wordSum(b: Buffer, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

/** The one's-complement checksum of a plain sum of 16-bit words. */
function checksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 65_536) + Math.floor(sum / 65_536);
  return ~sum & 0xffff;
}

// ---------------------------------------------------------------------------
// What a data connection carries
// ---------------------------------------------------------------------------

/** The bytes of a transfer, read by stream offset; offsets of segments but the last are even. */
interface Content {
  readonly size: number;
  copy(to: Buffer, at: number, offset: number, len: number): void;
  /** Sum of the 16-bit words of [offset, offset + len), offset even. */
  sum(offset: number, len: number): number;
}

/**
 * File contents: 1 MiB of random bytes, read from a per-file (even) starting point and repeated. The
 * running sums of its words give any segment's checksum share without reading it.
 */
class RandomBlock {
  static readonly SIZE = 1 << 20;
  readonly bytes = Buffer.allocUnsafe(RandomBlock.SIZE);
  /** prefix[i]: the sum of the first i words. */
  private readonly prefix = new Float64Array(RandomBlock.SIZE / 2 + 1);

  constructor(rng: () => number) {
    for (let i = 0; i < RandomBlock.SIZE; i += 4) this.bytes.writeUInt32LE(Math.floor(rng() * 4294967296), i);
    for (let w = 0; w < RandomBlock.SIZE / 2; w++) {
      this.prefix[w + 1] = this.prefix[w]! + ((this.bytes[2 * w]! << 8) | this.bytes[2 * w + 1]!);
    }
  }

  /** The sum of the words of [p, p + n), p even, within the block. */
  sum(p: number, n: number): number {
    const even = n & ~1;
    let s = this.prefix[(p + even) / 2]! - this.prefix[p / 2]!;
    if (n & 1) s += this.bytes[p + even]! << 8;
    return s;
  }
}

class FileContent implements Content {
  constructor(private readonly block: RandomBlock, readonly size: number, private readonly start: number) {}

  copy(to: Buffer, at: number, offset: number, len: number): void {
    let p = (this.start + offset) % RandomBlock.SIZE;
    while (len > 0) {
      const n = Math.min(len, RandomBlock.SIZE - p);
      this.block.bytes.copy(to, at, p, p + n);
      at += n;
      len -= n;
      p = 0;
    }
  }

  sum(offset: number, len: number): number {
    let p = (this.start + offset) % RandomBlock.SIZE;
    let s = 0;
    while (len > 0) {
      const n = Math.min(len, RandomBlock.SIZE - p); // even when it is not the last piece
      s += this.block.sum(p, n);
      len -= n;
      p = 0;
    }
    return s;
  }
}

/** A directory listing, held whole (a few hundred KB at most). */
class TextContent implements Content {
  readonly size: number;
  constructor(private readonly text: Buffer) {
    this.size = text.length;
  }
  copy(to: Buffer, at: number, offset: number, len: number): void {
    this.text.copy(to, at, offset, offset + len);
  }
  sum(offset: number, len: number): number {
    return wordSum(this.text, offset, offset + len);
  }
}

// ---------------------------------------------------------------------------
// Hosts and TCP connections
// ---------------------------------------------------------------------------

class Host {
  readonly mac: Buffer;
  readonly address: string;
  /** The TCP timestamp clock's offset (TSval = offset + milliseconds). */
  readonly tsOffset: number;
  private nextPort: number;

  constructor(readonly ip: number, readonly ttl: number, rng: () => number, private readonly ports: readonly [number, number]) {
    this.address = [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
    this.mac = Buffer.from([0x02, 0x00, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255]);
    this.tsOffset = Math.floor(rng() * 4294967296);
    this.nextPort = ports[0] + Math.floor(rng() * (ports[1] - ports[0]));
  }

  /** A fresh port: ephemeral ports for clients, passive ports for servers, in turn. */
  port(): number {
    const p = this.nextPort;
    this.nextPort = p >= this.ports[1] ? this.ports[0] : p + 1;
    return p;
  }

  tsval(t: number): number {
    return (this.tsOffset + Math.floor(t * 1000)) >>> 0;
  }
}

/** Direction of a segment: 0 from the side that sent the SYN, 1 from the other. */
type Dir = 0 | 1;

/**
 * One TCP connection: the two ends, and for each direction the next sequence number and IP ID. Every
 * method writes one record at once.
 */
class TcpConn {
  readonly hosts: readonly [Host, Host];
  readonly ports: readonly [number, number];
  /** The next sequence number each way (the ISN + 1 once the SYN is sent). */
  readonly next: [number, number];
  /** Sequence number of each direction's first data byte. */
  readonly base: [number, number];
  private readonly ipId: [number, number];
  /** Bytes of the budget held for this connection's records. */
  reservation: Reservation | null = null;

  constructor(private readonly out: PcapFile, from: Host, to: Host, fromPort: number, toPort: number, rng: () => number) {
    this.hosts = [from, to];
    this.ports = [fromPort, toPort];
    const isn: [number, number] = [Math.floor(rng() * 4294967296), Math.floor(rng() * 4294967296)];
    this.next = [isn[0], isn[1]];
    this.base = [(isn[0] + 1) >>> 0, (isn[1] + 1) >>> 0];
    this.ipId = [Math.floor(rng() * 65536), Math.floor(rng() * 65536)];
  }

  /** The endpoint that sent the SYN and the one that received it, as ADDR:PORT. */
  get ends(): [string, string] {
    return [`${this.hosts[0].address}:${this.ports[0]}`, `${this.hosts[1].address}:${this.ports[1]}`];
  }

  /** SYN, SYN+ACK, ACK, FIN: no payload; sequence numbers advance by the SYN and FIN. */
  flags(dir: Dir, t: number, flags: number): void {
    this.write(dir, t, flags, this.next[dir], this.next[1 - dir]!, null, 0, 0);
    if (flags & (SYN | FIN)) this.next[dir] = (this.next[dir] + 1) >>> 0;
  }

  /** A line (or lines) of the control connection, ASCII. */
  text(dir: Dir, t: number, text: string): void {
    this.write(dir, t, PSH | ACK, this.next[dir], this.next[1 - dir]!, text, 0, text.length);
    this.next[dir] = (this.next[dir] + text.length) >>> 0;
  }

  /** A segment of bulk data at stream offset `offset` (the stream's sequence numbers do not move). */
  data(dir: Dir, t: number, content: Content, offset: number, len: number, push: boolean): void {
    this.write(dir, t, push ? PSH | ACK : ACK, (this.base[dir] + offset) >>> 0, this.next[1 - dir]!, content, offset, len);
  }

  /** A bare ACK of the other direction's stream up to `offset` bytes. */
  ackData(dir: Dir, t: number, offset: number): void {
    this.write(dir, t, ACK, this.next[dir], (this.base[1 - dir]! + offset) >>> 0, null, 0, 0);
  }

  /** After bulk data: the stream's next sequence number follows its last byte. */
  sent(dir: Dir, bytes: number): void {
    this.next[dir] = (this.base[dir] + bytes) >>> 0;
  }

  private write(dir: Dir, t: number, flags: number, seq: number, ack: number, payload: string | Content | null, offset: number, len: number): void {
    const syn = (flags & SYN) !== 0;
    const tcpLen = (syn ? TCP_SYN : TCP_TS) + len;
    const b = this.out.buf;
    const at = this.out.begin(t, ETH + IPV4 + tcpLen);
    this.reservation?.use(RECORD_HEADER + ETH + IPV4 + tcpLen);
    const from = this.hosts[dir];
    const to = this.hosts[1 - dir]!;

    // Ethernet II
    to.mac.copy(b, at);
    from.mac.copy(b, at + 6);
    b[at + 12] = 0x08;
    b[at + 13] = 0x00;

    // IPv4, don't fragment
    const ip = at + ETH;
    b[ip] = 0x45;
    b[ip + 1] = 0;
    b.writeUInt16BE(IPV4 + tcpLen, ip + 2);
    b.writeUInt16BE(this.ipId[dir], ip + 4);
    this.ipId[dir] = (this.ipId[dir] + 1) & 0xffff;
    b[ip + 6] = 0x40;
    b[ip + 7] = 0;
    b[ip + 8] = from.ttl;
    b[ip + 9] = 6;
    b[ip + 10] = 0;
    b[ip + 11] = 0;
    b.writeUInt32BE(from.ip, ip + 12);
    b.writeUInt32BE(to.ip, ip + 16);
    b.writeUInt16BE(checksum(wordSum(b, ip, ip + IPV4)), ip + 10);

    // TCP
    const tcp = ip + IPV4;
    b.writeUInt16BE(this.ports[dir], tcp);
    b.writeUInt16BE(this.ports[1 - dir]!, tcp + 2);
    b.writeUInt32BE(seq, tcp + 4);
    b.writeUInt32BE(flags & ACK ? ack : 0, tcp + 8);
    b[tcp + 12] = ((syn ? TCP_SYN : TCP_TS) / 4) << 4;
    b[tcp + 13] = flags;
    b.writeUInt16BE(syn ? 64_240 : 501, tcp + 14); // window (scaled by 2^7 after the handshake)
    b[tcp + 16] = 0;
    b[tcp + 17] = 0;
    b[tcp + 18] = 0;
    b[tcp + 19] = 0;
    let o = tcp + 20;
    if (syn) {
      b[o] = 2; b[o + 1] = 4; b.writeUInt16BE(1460, o + 2); // MSS
      b[o + 4] = 4; b[o + 5] = 2; // SACK permitted
      o += 6;
    } else {
      b[o] = 1; b[o + 1] = 1; // NOP, NOP
      o += 2;
    }
    b[o] = 8; b[o + 1] = 10; // timestamps
    b.writeUInt32BE(from.tsval(t), o + 2);
    b.writeUInt32BE(flags & ACK ? to.tsval(t - 0.0005) : 0, o + 6);
    o += 10;
    if (syn) {
      b[o] = 1; b[o + 1] = 3; b[o + 2] = 3; b[o + 3] = 7; // NOP, window scale 7
      o += 4;
    }

    // Payload, and the checksum over the pseudo-header, the header and the payload
    let sum = (from.ip >>> 16) + (from.ip & 0xffff) + (to.ip >>> 16) + (to.ip & 0xffff) + 6 + tcpLen;
    if (typeof payload === 'string') {
      b.write(payload, o, len, 'latin1');
      sum += wordSum(b, tcp, o + len);
    } else {
      if (payload !== null && len > 0) {
        payload.copy(b, o, offset, len);
        sum += payload.sum(offset, len);
      }
      sum += wordSum(b, tcp, o);
    }
    b.writeUInt16BE(checksum(sum), tcp + 16);
  }
}

// ---------------------------------------------------------------------------
// Scheduling: sessions are generators yielding the time of their next packet
// ---------------------------------------------------------------------------

/** A running session: each `yield` is the time of the packet it writes when resumed. */
type Task = Generator<number, void, void>;

/** A binary heap of tasks by the time of their next packet (two parallel arrays, no entry objects). */
class TaskQueue {
  private readonly times: number[] = [];
  private readonly tasks: Task[] = [];

  add(task: Task): void {
    const first = task.next();
    if (!first.done) this.push(first.value, task);
  }

  /** Resumes the task due first until none is left. */
  run(): void {
    while (this.tasks.length > 0) {
      const task = this.tasks[0]!;
      this.pop();
      const r = task.next();
      if (!r.done) this.push(r.value, task);
    }
  }

  private push(t: number, task: Task): void {
    const times = this.times, tasks = this.tasks;
    let i = times.length;
    times.push(t);
    tasks.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= t) break;
      times[i] = times[parent]!;
      tasks[i] = tasks[parent]!;
      i = parent;
    }
    times[i] = t;
    tasks[i] = task;
  }

  private pop(): void {
    const times = this.times, tasks = this.tasks;
    const t = times.pop()!;
    const task = tasks.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && times[c + 1]! < times[c]!) c++;
      if (times[c]! >= t) break;
      times[i] = times[c]!;
      tasks[i] = tasks[c]!;
      i = c;
    }
    times[i] = t;
    tasks[i] = task;
  }
}

// ---------------------------------------------------------------------------
// The world: hosts, the size budget, what was made
// ---------------------------------------------------------------------------

interface Rates {
  loss: number;
  reorder: number;
  duplicate: number;
}

/** The capture's size: bytes written, plus bytes promised to transfers under way. */
class Budget {
  reserved = 0;
  private readonly start: number;
  constructor(private readonly target: number, private readonly out: PcapFile) {
    this.start = out.bytes;
  }

  /** Bytes that may still be written. */
  left(): number {
    return this.target - (this.out.bytes - this.start) - this.reserved;
  }

  /** Holds back bytes for a transfer (decided now, written later). */
  reserve(bytes: number): Reservation {
    this.reserved += bytes;
    return new Reservation(this, bytes);
  }
}

/** Bytes of the budget held for a transfer; its records use them up as they are written. */
class Reservation {
  constructor(private readonly budget: Budget, private owed: number) {}

  use(bytes: number): void {
    const n = Math.min(this.owed, bytes);
    this.owed -= n;
    this.budget.reserved -= n;
  }

  /** Gives back what was not used. */
  release(): void {
    this.use(this.owed);
  }
}

class World {
  readonly clients: Host[] = [];
  readonly servers: Host[] = [];
  readonly block: RandomBlock;
  readonly budget: Budget;
  readonly maxFileBytes: number;
  sessionCount = 0;

  /** Round `round` of the traffic: its clients are in 10.(1 + round).0.0/16. */
  constructor(readonly rng: () => number, readonly out: PcapFile, target: number, readonly rates: Rates, o: GenerateOptions, readonly truth: CaptureTruth, round: number) {
    this.budget = new Budget(target, out);
    this.maxFileBytes = o.maxFileBytes ?? Infinity;
    // Clients in 10.1.0.0/16, servers in the documentation networks 198.51.100.0/24 and 203.0.113.0/24.
    const net = 0x0a010000 + round * 0x10000;
    for (let i = 0; i < 400; i++) this.clients.push(new Host(net + (i >> 5) * 256 + 10 + (i & 31) * 7, 64, rng, [32_768, 60_999]));
    for (let i = 0; i < 8; i++) this.servers.push(new Host((i < 4 ? 0xc6336400 : 0xcb007100) + 10 + i, 52 + i, rng, [30_000, 39_999]));
    this.block = new RandomBlock(rng);
  }

  left(): number {
    return this.budget.left();
  }

  /** A new TCP connection, written into this capture. */
  connection(from: Host, to: Host, fromPort: number, toPort: number): TcpConn {
    return new TcpConn(this.out, from, to, fromPort, toPort, this.rng);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }

  /** A number from lo to hi, log-uniform (lo > 0). */
  logUniform(lo: number, hi: number): number {
    return lo * Math.exp(this.rng() * Math.log(hi / lo));
  }

  /** A file size from the size classes. */
  fileSize(): number {
    let r = this.rng();
    for (const [share, lo, hi] of SIZE_CLASSES) {
      if (r < share) return hi === 0 ? 0 : Math.round(this.logUniform(lo, hi));
      r -= share;
    }
    return 1000;
  }
}

/** Bytes a transfer of `size` bytes takes in the file: its segments, the ACKs of every second one, setup. */
function transferCost(size: number): number {
  const segments = Math.ceil(size / MSS);
  return size + segments * (RECORD_HEADER + FULL_FRAME - MSS) + Math.ceil(segments / 2) * ACK_RECORD + 3_000;
}

/** The largest file that fits in `bytes` of capture. */
function sizeFitting(bytes: number): number {
  return Math.max(0, Math.floor((bytes - 3_000) / (1 + (RECORD_HEADER + FULL_FRAME - MSS + ACK_RECORD / 2) / MSS)));
}

// ---------------------------------------------------------------------------
// An FTP session
// ---------------------------------------------------------------------------

const C2S: Dir = 0;
const S2C: Dir = 1;

class Session {
  /** The capture time of the session's next packet. */
  private t: number;
  private readonly ctrl: TcpConn;
  private readonly rtt: number;
  private readonly think: readonly [number, number];
  private readonly truth: SessionTruth;
  private cwd = '/';
  private anonymous = false;

  constructor(private readonly w: World, start: number, private readonly id: number, private readonly client: Host, private readonly server: Host, think: readonly [number, number]) {
    this.t = start;
    this.rtt = w.logUniform(0.0002, 0.06);
    this.think = think;
    this.ctrl = w.connection(client, server, client.port(), 21);
    const [c, s] = this.ctrl.ends;
    this.truth = { client: c, server: s, kind: 'transfers', commands: 0, transfers: [] };
    w.truth.sessions.push(this.truth);
  }

  /** The time of its last packet, once it is over. */
  get end(): number {
    return this.t;
  }

  /** A session that logs in, moves to a directory and transfers files while the budget lasts. */
  *transfers(mode: DataMode): Task {
    yield* this.open();
    yield* this.exchange('SYST', '215 UNIX Type: L8');
    yield* this.exchange('FEAT', '211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End');
    yield* this.exchange('PWD', '257 "/" is the current directory');
    this.cwd = `/pub/mirror/${this.w.pick(['debian', 'gnu', 'kernel', 'videos', 'backups', 'incoming'])}`;
    yield* this.exchange(`CWD ${this.cwd}`, '250 Directory successfully changed.');
    const count = 1 + Math.floor(this.w.rng() * 6);
    for (let n = 1; n <= count && this.w.left() > 20_000; n++) {
      const r = this.w.rng();
      const command: DataCommand = r < 0.2 ? 'LIST' : r < 0.75 || this.anonymous ? 'RETR' : 'STOR'; // anonymous users only download
      yield* this.pause();
      yield* this.transfer(command, mode, n);
    }
    yield* this.close();
  }

  /** A session of commands on the control connection only: the small packets of monitoring scripts. */
  *controlOnly(commands: number): Task {
    this.truth.kind = 'control-only';
    yield* this.open();
    const w = this.w;
    for (let n = 0; n < commands && w.left() > 0; n++) {
      yield* this.pause();
      const r = w.rng();
      const name = `file-${Math.floor(w.rng() * 10_000)}.dat`;
      if (r < 0.35) yield* this.exchange('NOOP', '200 NOOP ok.');
      else if (r < 0.5) yield* this.exchange('PWD', `257 "${this.cwd}" is the current directory`);
      else if (r < 0.65) {
        this.cwd = `/data/${w.pick(['spool', 'archive', 'reports', 'tmp'])}/${Math.floor(w.rng() * 100)}`;
        yield* this.exchange(`CWD ${this.cwd}`, '250 Directory successfully changed.');
      } else if (r < 0.85) {
        yield* this.exchange(`SIZE ${name}`, w.rng() < 0.8 ? `213 ${Math.floor(w.logUniform(1, 1e9))}` : '550 Could not get file size.');
      } else if (r < 0.95) yield* this.exchange(`MDTM ${name}`, `213 2024022${Math.floor(w.rng() * 10)}1${Math.floor(w.rng() * 10)}3000`);
      else yield* this.exchange(w.rng() < 0.5 ? 'TYPE I' : 'TYPE A', '200 Switching mode.');
    }
    yield* this.close();
  }

  /** Connection, greeting, login. */
  private *open(): Task {
    const c = this.ctrl;
    yield this.t; c.flags(C2S, this.t, SYN);
    this.t += this.rtt;
    yield this.t; c.flags(S2C, this.t, SYN | ACK);
    this.t += 0.00002;
    yield this.t; c.flags(C2S, this.t, ACK);
    this.t += 0.0005 + this.w.rng() * 0.002;
    yield* this.say(S2C, '220 (vsFTPd 3.0.3)\r\n');
    yield* this.ackReply();
    yield* this.pause();
    this.anonymous = this.w.rng() < 0.4;
    yield* this.exchange(this.anonymous ? 'USER anonymous' : `USER user${this.id % 97}`, '331 Please specify the password.');
    yield* this.exchange(this.anonymous ? 'PASS guest@example.com' : `PASS secret${this.id % 89}`, '230 Login successful.');
  }

  /** QUIT, then the server closes first. */
  private *close(): Task {
    yield* this.pause();
    yield* this.exchange('QUIT', '221 Goodbye.', false);
    const c = this.ctrl;
    this.t += 0.0001;
    yield this.t; c.flags(S2C, this.t, FIN | ACK);
    this.t += 0.00003;
    yield this.t; c.flags(C2S, this.t, FIN | ACK);
    this.t += this.rtt;
    yield this.t; c.flags(S2C, this.t, ACK);
  }

  /** One line of the control connection. */
  private *say(dir: Dir, text: string): Task {
    yield this.t;
    this.ctrl.text(dir, this.t, text);
  }

  /** The client acknowledges a reply. */
  private *ackReply(): Task {
    this.t += 0.00004;
    yield this.t;
    this.ctrl.flags(C2S, this.t, ACK);
  }

  /** A command and its reply (the server's reply acknowledges the command; the client ACKs the reply). */
  private *exchange(command: string, reply: string, ack = true): Task {
    this.truth.commands++;
    yield* this.say(C2S, `${command}\r\n`);
    this.t += this.rtt + 0.00005 + this.w.rng() * 0.0005;
    yield* this.say(S2C, `${reply}\r\n`);
    if (ack) yield* this.ackReply();
  }

  /** The client's think time before its next command. */
  private *pause(): Task {
    this.t += this.w.logUniform(this.think[0], this.think[1]);
  }

  /** Sets up a data connection, sends the command, moves the data, closes, and reads the 226. */
  private *transfer(command: DataCommand, mode: DataMode, n: number): Task {
    const w = this.w;
    const client = this.client, server = this.server;

    // The content, within the budget (held at once: other sessions decide meanwhile)
    const content: Content =
      command === 'LIST'
        ? new TextContent(listing(w, Math.max(1, Math.min(Math.ceil(w.logUniform(1, 2000)), Math.floor(sizeFitting(w.left()) / 80)))))
        : new FileContent(w.block, Math.min(w.fileSize(), sizeFitting(w.left()), w.maxFileBytes), 2 * Math.floor(w.rng() * (RandomBlock.SIZE / 2)));
    const reservation = w.budget.reserve(transferCost(content.size));
    const name = command === 'LIST' ? '' : command === 'RETR' ? `release-${this.id}-${n}.tar.gz` : `upload-${this.id}-${n}.bin`;
    if (command === 'LIST') yield* this.exchange('TYPE A', '200 Switching to ASCII mode.');
    else yield* this.exchange('TYPE I', '200 Switching to Binary mode.');
    if (command === 'RETR') yield* this.exchange(`SIZE ${name}`, `213 ${content.size}`);

    // The prediction, and the data connection it announces
    let data: TcpConn;
    if (mode === 'PASV' || mode === 'EPSV') {
      const port = server.port();
      if (mode === 'PASV') yield* this.exchange('PASV', `227 Entering Passive Mode (${server.address.replaceAll('.', ',')},${port >> 8},${port & 255}).`);
      else yield* this.exchange('EPSV', `229 Entering Extended Passive Mode (|||${port}|)`);
      data = w.connection(client, server, client.port(), port);
    } else {
      const port = client.port();
      if (mode === 'PORT') yield* this.exchange(`PORT ${client.address.replaceAll('.', ',')},${port >> 8},${port & 255}`, '200 PORT command successful. Consider using PASV.');
      else yield* this.exchange(`EPRT |1|${client.address}|${port}|`, '200 EPRT command successful. Consider using EPSV.');
      data = w.connection(server, client, 20, port);
    }
    data.reservation = reservation;
    const passive = data.hosts[0] === client;
    const [connector, listener] = data.ends;
    const truth: TransferTruth = {
      command, path: name === '' ? '' : `${this.cwd}/${name}`, mode, size: content.size,
      droppedBytes: 0, droppedSegments: 0, gaps: 0, reorderedSegments: 0, duplicatedSegments: 0, duplicatedBytes: 0, connector, listener,
    };
    this.truth.transfers.push(truth);

    // Passive: the client connects, then sends the command; active: the server connects on the command.
    const commandLine = command === 'LIST' ? 'LIST\r\n' : `${command} ${name}\r\n`;
    this.truth.commands++;
    if (passive) {
      yield* this.connect(data, passive);
      this.t += 0.0001;
      yield* this.say(C2S, commandLine);
      this.t += this.rtt;
    } else {
      yield* this.say(C2S, commandLine);
      this.t += this.rtt;
      yield* this.connect(data, passive);
    }
    this.t += 0.0001;
    const opening =
      command === 'LIST' ? '150 Here comes the directory listing.'
      : command === 'RETR' ? `150 Opening BINARY mode data connection for ${name} (${content.size} bytes).`
      : '150 Ok to send data.';
    yield* this.say(S2C, `${opening}\r\n`);
    yield* this.ackReply();

    // The data, then the sender closes first
    const sender: Dir = (command === 'STOR') === passive ? 0 : 1;
    const receiver = (1 - sender) as Dir;
    this.t += 0.0001;
    yield* this.bulk(data, sender, content, w.logUniform(5 * MB, 110 * MB), truth);
    data.sent(sender, content.size);
    this.t += 0.00002;
    yield this.t; data.flags(sender, this.t, FIN | ACK);
    this.t += 0.00003;
    yield this.t; data.flags(receiver, this.t, FIN | ACK);
    this.t += 0.00003;
    yield this.t; data.flags(sender, this.t, ACK);
    reservation.release();

    this.t += 0.0002;
    yield* this.say(S2C, command === 'LIST' ? '226 Directory send OK.\r\n' : '226 Transfer complete.\r\n');
    yield* this.ackReply();
  }

  /** The data connection's handshake, seen from the client's side. */
  private *connect(data: TcpConn, passive: boolean): Task {
    yield this.t; data.flags(0, this.t, SYN);
    this.t += passive ? this.rtt : 0.00003;
    yield this.t; data.flags(1, this.t, SYN | ACK);
    this.t += passive ? 0.00003 : this.rtt;
    yield this.t; data.flags(0, this.t, ACK);
  }

  /**
   * The data of a transfer at `rate` bytes/s in full segments, the receiver acknowledging every second
   * one. A segment may be missing from the capture (the receiver got it, and its ACK covers it), arrive
   * after the next one, or be sent twice.
   */
  private *bulk(conn: TcpConn, dir: Dir, content: Content, rate: number, truth: TransferTruth): Task {
    const w = this.w;
    const { loss, reorder, duplicate } = w.rates;
    const size = content.size;
    const segments = Math.ceil(size / MSS);
    const receiver = (1 - dir) as Dir;
    const ackLag = Math.min(FULL_FRAME / rate / 2, 0.00003);
    let received = 0; // segments the receiver has
    let inOrder = 0; // bytes the receiver has without a hole: what it acknowledges
    let dropped = -2; // the last segment left out of the capture

    w.truth.dataSegments += segments;
    for (let i = 0; i < segments; i++) {
      const r = w.rng();
      const missing = r < loss; // the receiver gets it, the capture does not
      const swapped = !missing && r < loss + reorder && i + 1 < segments;
      const twice = !missing && !swapped && r < loss + reorder + duplicate;
      const len = Math.min(MSS, size - i * MSS);
      if (missing) {
        if (dropped !== i - 1) truth.gaps++;
        dropped = i;
        truth.droppedSegments++;
        truth.droppedBytes += len;
      }
      if (swapped) truth.reorderedSegments++;
      if (twice) {
        truth.duplicatedSegments++;
        truth.duplicatedBytes += len;
      }
      // What reaches the receiver now: segment i, or i + 1 and then i. Every second one is acknowledged,
      // up to the first hole (after i + 1 alone that is a duplicate ACK).
      for (let j = swapped ? i + 1 : i; ; j = i) {
        const offset = j * MSS;
        const n = Math.min(MSS, size - offset);
        if (!missing) {
          yield this.t; conn.data(dir, this.t, content, offset, n, j + 1 === segments);
        }
        received++;
        if (j === i) inOrder = Math.min(size, (swapped ? i + 2 : i + 1) * MSS);
        if (received % 2 === 0 || received === segments) {
          this.t += ackLag;
          yield this.t; conn.ackData(receiver, this.t, inOrder);
        }
        this.t += (ETH + IPV4 + TCP_TS + n) / rate;
        if (j === i) break;
      }
      if (twice) {
        yield this.t; conn.data(dir, this.t, content, i * MSS, len, i + 1 === segments); // a retransmission
      }
      if (swapped) i++;
    }
    w.truth.droppedSegments += truth.droppedSegments;
    w.truth.droppedBytes += truth.droppedBytes;
    w.truth.reorderedSegments += truth.reorderedSegments;
    w.truth.duplicatedSegments += truth.duplicatedSegments;
  }
}

/** An `ls -l` listing of `lines` entries. */
function listing(w: World, lines: number): Buffer {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  let text = '';
  for (let i = 0; i < lines; i++) {
    const dir = w.rng() < 0.15;
    const size = dir ? 4096 : Math.floor(w.logUniform(1, 5e9));
    const day = String(1 + Math.floor(w.rng() * 28)).padStart(2, ' ');
    const name = `${dir ? 'dir' : 'file'}-${i}${dir ? '' : w.pick(['.tar.gz', '.iso', '.txt', '.zip', '.deb'])}`;
    text += `${dir ? 'drwxr-xr-x' : '-rw-r--r--'}    1 ftp      ftp      ${String(size).padStart(10, ' ')} ${w.pick(months)} ${day}  2023 ${name}\r\n`;
  }
  return Buffer.from(text, 'latin1');
}

// ---------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------

/** One slot of concurrency: sessions one after the other while the budget lasts. */
function* slot(w: World, kind: CaptureKind, start: number): Task {
  const profile = PROFILES[kind];
  let t = start;
  while (w.left() > 20_000) {
    const id = ++w.sessionCount;
    const session = new Session(w, t, id, w.pick(w.clients), w.pick(w.servers), profile.think);
    if (w.rng() < profile.controlOnlyShare) {
      yield* session.controlOnly(Math.round(w.logUniform(profile.commands[0], profile.commands[1])));
    } else {
      const r = w.rng();
      yield* session.transfers(r < 0.4 ? 'PASV' : r < 0.65 ? 'EPSV' : r < 0.9 ? 'PORT' : 'EPRT');
    }
    t = session.end + w.logUniform(0.001, 0.5);
  }
}

/**
 * Writes a capture and returns what it holds. With `rounds`, the traffic made from the seed is written
 * that many times, one round after the other in time, each from other client addresses: the same traffic,
 * `rounds` times as long (for checking that time grows linearly with size).
 */
export function generateCapture(o: GenerateOptions): CaptureTruth {
  mkdirSync(dirname(o.path), { recursive: true });
  const partial = `${o.path}.partial`;
  const out = new PcapFile(partial);
  const rates = { loss: o.lossRate ?? 0.001, reorder: o.reorderRate ?? 0.001, duplicate: o.duplicateRate ?? 0.001 };
  const truth: CaptureTruth = {
    generator: GENERATOR_VERSION, kind: o.kind, seed: o.seed, sizeMB: o.sizeMB, rounds: o.rounds ?? 1, bytes: 0, records: 0, duration: 0,
    dataSegments: 0, droppedSegments: 0, droppedBytes: 0, reorderedSegments: 0, duplicatedSegments: 0, sessions: [],
  };
  let start = 0;
  for (let round = 0; round < truth.rounds; round++) {
    const rng = prng(o.seed);
    const w = new World(rng, out, o.sizeMB * MB, rates, o, truth, round);
    const queue = new TaskQueue();
    const slots = PROFILES[o.kind].slots;
    for (let i = 0; i < slots; i++) queue.add(slot(w, o.kind, start + i * 0.05 * rng()));
    queue.run();
    start = out.last + 1;
  }
  out.close();
  renameSync(partial, o.path);
  return { ...truth, bytes: out.bytes, records: out.records, duration: out.last - Math.max(0, out.first) };
}

/** A generated capture in the cache folder, made when it is not there; its truth is kept beside it. */
export function cachedCapture(cacheDir: string, kind: CaptureKind, sizeMB: number, seed: number, rounds = 1): { path: string; truth: CaptureTruth; generated: boolean; seconds: number } {
  const path = join(cacheDir, `ftp-${kind}-${sizeMB}MB${rounds > 1 ? `x${rounds}` : ''}-seed${seed}-v${GENERATOR_VERSION}.pcap`);
  const truthPath = `${path}.truth.json`;
  if (existsSync(path) && existsSync(truthPath)) {
    return { path, truth: JSON.parse(readFileSync(truthPath, 'utf8')) as CaptureTruth, generated: false, seconds: 0 };
  }
  const start = process.hrtime.bigint();
  const truth = generateCapture({ path, kind, sizeMB, seed, rounds });
  writeFileSync(truthPath, JSON.stringify(truth));
  return { path, truth, generated: true, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}
