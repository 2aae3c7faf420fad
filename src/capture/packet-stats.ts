import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The kernel's counters of a live capture, as libpcap's pcap_stats gives them on Linux: `recv` packets
 * that passed the filter (those dropped included), `drop` packets the capture buffer had no room for,
 * `ifdrop` packets the interface dropped (its rx_dropped, since the capture opened). cap opens the
 * AF_PACKET socket and exposes no statistics, so the socket is found here by its inode, and its counters
 * (getsockopt PACKET_STATISTICS) are read by a one-function native addon, native/packet-stats.c.
 * Only live capture loads it; file analysis never does.
 */
export interface KernelStats {
  recv: number;
  drop: number;
  ifdrop: number;
}

type Addon = { packetStats(fd: number): [number, number, number] };
let addon: Addon | null | undefined;
let addonError = '';

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)('../../../native/build/Release/packet_stats.node') as Addon;
  } catch (e) {
    addon = null;
    addonError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
  return addon;
}

/** The inodes of this network namespace's packet sockets (/proc/net/packet, last column). */
function packetInodes(): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const line of readFileSync('/proc/net/packet', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 9) inodes.add(cols[cols.length - 1]!);
    }
  } catch {
    // not Linux: no packet sockets to find
  }
  return inodes;
}

/** This process's open packet sockets: descriptor -> inode. */
export function packetSockets(): Map<number, string> {
  const found = new Map<number, string>();
  const inodes = packetInodes();
  if (inodes.size === 0) return found;
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return found;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null && inodes.has(m[1]!)) found.set(Number(fd), m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** The interface's receive drops (/proc/net/dev, this namespace's), or null. */
function interfaceDrops(device: string): number | null {
  try {
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon < 0 || line.slice(0, colon).trim() !== device) continue;
      const rx = line.slice(colon + 1).trim().split(/\s+/);
      return Number(rx[3]);
    }
  } catch {
    // not Linux
  }
  return null;
}

/**
 * The counters of one capture's socket, added up (the kernel zeroes them on every read).
 * Call order: `before()` just before the capture opens, then `new KernelCounter(before, device)`, then
 * `read()` as often as wanted (a system call), and `read(true)` once before the socket closes; `unknown` says why, when the counters cannot be read.
 */
export class KernelCounter {
  readonly fd: number | null;
  /** Why the counters are not known (null when they are). */
  readonly unknown: string | null;
  private readonly ifdrop0: number | null;
  private readonly totals: KernelStats = { recv: 0, drop: 0, ifdrop: 0 };
  private readonly addon: Addon | null;
  private ifdropAt = -Infinity;

  /** The packet sockets open before the capture's: the one that is new afterwards is its. */
  static before(): Map<number, string> {
    return packetSockets();
  }

  constructor(before: Map<number, string>, readonly device: string) {
    this.addon = loadAddon();
    const fresh = [...packetSockets()].filter(([fd, inode]) => before.get(fd) !== inode).map(([fd]) => fd);
    this.fd = fresh.length === 1 ? fresh[0]! : null;
    this.unknown =
      this.addon === null ? `the native counter reader was not built (${addonError}): npm rebuild ftpscope, or npm install, builds it`
      : this.fd === null ? `the capture's socket was not found (${fresh.length} new packet sockets)`
      : null;
    this.ifdrop0 = interfaceDrops(device);
    if (this.unknown === null) this.read(); // zero what the socket counted before
    this.totals.recv = 0;
    this.totals.drop = 0;
  }

  /** The counters since the capture opened, or null when unknown. Reads the socket: call before it closes. */
  read(final = false): Readonly<KernelStats> | null {
    if (this.unknown !== null || this.fd === null) return null;
    try {
      const [recv, drop] = this.addon!.packetStats(this.fd);
      this.totals.recv += recv;
      this.totals.drop += drop;
    } catch {
      // the socket is gone: the totals so far stand
    }
    // The interface's counter is a file to read: at most once a second (and on the last read, from stop()).
    const t = performance.now();
    if (t - this.ifdropAt >= 1000 || final) {
      this.ifdropAt = t;
      const now = interfaceDrops(this.device);
      this.totals.ifdrop = now === null || this.ifdrop0 === null ? 0 : Math.max(0, now - this.ifdrop0);
    }
    return this.totals;
  }

  /** The last totals read, without reading the socket. */
  get last(): Readonly<KernelStats> | null {
    return this.unknown === null ? this.totals : null;
  }
}
