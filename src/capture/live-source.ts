import { createRequire } from 'node:module';
import type { PcapFileWriter } from './pcap-writer.js';
import { KernelCounter } from './packet-stats.js';
import type { MessagePort } from 'node:worker_threads';
import { ChunkSender } from './live-chunks.js';

/** A live capture that cannot start: one line to show, saying what to do. */
export class LiveError extends Error {
  override name = 'LiveError';
  /** libpcap's own words, when they are what the message explains. */
  constructor(message: string, readonly pcapMessage: string | null = null) {
    super(message);
  }
}

/** The part of cap's API we use (cap ships no types). */
interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  /** Set by openCap: called with each packet's captured length. */
  onPacket?: (nbytes: number) => void;
}
interface CapModule {
  Cap: { new (): CapInstance; deviceList(): Array<{ name: string; description?: string; flags?: string; addresses: Array<{ addr?: string }> }> };
}

/** cap aborts the process if an instance whose open() failed is closed or collected: they are kept here. */
const failedInstances: CapInstance[] = [];

let capModule: CapModule | null = null;

/** Loads cap (a native module, optional): only live capture needs it. */
export function loadCap(): CapModule {
  if (capModule !== null) return capModule;
  try {
    capModule = createRequire(import.meta.url)('cap') as CapModule;
    return capModule;
  } catch (e) {
    throw new LiveError(
      `live capture needs the cap module (libpcap), which could not be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): install libpcap-dev, then rebuild it with npm rebuild cap (here: npm_config_nodedir=/usr npm rebuild cap)`,
    );
  }
}

export interface InterfaceInfo {
  name: string;
  addresses: string[];
  loopback: boolean;
  description: string | null;
}

/** The capture devices libpcap knows, with their addresses. */
export function listInterfaces(): InterfaceInfo[] {
  const { Cap } = loadCap();
  return Cap.deviceList().map((d) => {
    const addresses = d.addresses.map((a) => a.addr).filter((a): a is string => typeof a === 'string');
    return {
      name: d.name,
      addresses,
      loopback: (d.flags ?? '').includes('LOOPBACK') || addresses.includes('127.0.0.1') || addresses.includes('::1'),
      description: d.description ?? null,
    };
  });
}

/** cap names link types by string; these are the LINKTYPE_ numbers. */
function linktypeNumber(name: string): number {
  switch (name) {
    case 'ETHERNET':
      return 1;
    case 'NULL':
      return 0;
    case 'RAW':
      return 101;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    default: {
      const m = /(\d+)/.exec(name);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

export interface LiveOptions {
  device: string;
  /** A BPF expression narrowing `tcp` (never widening it: see captureFilter), or null. */
  filter: string | null;
  /** libpcap's buffer, in bytes. */
  bufferSize: number;
  /** Stop after this many packets (0: no limit). */
  count: number;
  /** Also save every packet here. */
  writer: ((linktype: number) => PcapFileWriter) | null;
  /**
   * Bytes of packets held for the analysis at most. Past three quarters of it, data payload is shed (see ChunkSender);
   * past all of it, packets are dropped and counted: the analysis fell behind.
   */
  maxHeldBytes: number;
  /** The control connections' ports (21 and --ports): their payload is never shed. */
  controlPorts: ReadonlySet<number>;
}

/** What the capture says of its packets at its end: what arrived, what was lost where, what was shed. */
export interface LiveNotes {
  /** Packets libpcap handed to ftpscope. */
  packets: number;
  /** Of them, packets ftpscope dropped whole: its backlog (--max-backlog) was full. */
  dropped: number;
  /** Of them, packets whose payload ftpscope shed (kept their headers) as the backlog filled, and the bytes shed. */
  shed: number;
  shedBytes: number;
  cutBySnapLength: number;
  /** The kernel's counters (pcap_stats: ps_recv, ps_drop, ps_ifdrop), or null with why in kernelUnknown. */
  kernel: { recv: number; drop: number; ifdrop: number } | null;
  kernelUnknown: string | null;
  /** Why --write stopped, when it did. */
  writeFailure?: string | null;
}

/**
 * A capture that feeds the analysis thread through a ChunkSender (live-chunks.ts): an interface through
 * cap, or in tests a file replayed as one. It runs on the main thread.
 */
export interface PacketCapture {
  /** "live IFACE", for messages. */
  readonly name: string;
  /** "live (LINKTYPE)". */
  readonly format: string;
  readonly linktype: number;
  /** What the stderr line says is being captured: the interface and the filter libpcap runs. */
  readonly describe: string;
  /** Stops capturing (safe to call more than once): what is held and the end go to the analysis. */
  stop(): void;
  notes(): LiveNotes;
}

/**
 * An interface sniffed through cap (libpcap), handing its packets to the analysis thread. What cap does not
 * give is made up honestly: timestamps from a monotonic clock at arrival (mapped to wall time once),
 * original lengths from the IP header (cap's snap length is a fixed 65,535 bytes, so a larger loopback
 * frame arrives cut: its missing bytes become gaps, not corrupt data), and the kernel's drop counters read
 * from the capture's socket (packet-stats.ts).
 *
 * cap calls onPacket for every packet libpcap has, on this thread; the packet is copied into the chunk
 * being filled (ChunkSender: it sheds data payload, then drops, when the analysis falls behind) and saved
 * by --write. Nothing here waits for the analysis.
 */
export class LiveCapture implements PacketCapture {
  readonly name: string;
  readonly format: string;
  readonly linktype: number;
  /** The filter libpcap runs: `tcp`, or `tcp and (the user's expression)`. */
  readonly filter: string;
  /** The kernel's counters of this capture's socket. */
  readonly kernel: KernelCounter;
  private readonly cap: CapInstance;
  private readonly buffer = Buffer.alloc(65535);
  private readonly sender: ChunkSender;
  private stopped = false;
  private readonly writer: PcapFileWriter | null;
  /** Wall-clock milliseconds at the start, and the monotonic clock then: arrival times use the latter. */
  private readonly wallMs: number;
  private readonly monoMs: number;
  packets = 0;
  /** Packets cut by cap's snap length. */
  cut = 0;

  constructor(readonly options: LiveOptions, port: MessagePort) {
    const { Cap } = loadCap();
    this.name = `live ${options.device}`;
    const filter = captureFilter(options.filter);
    this.filter = filter;
    // An unknown device is told here: cap would also print a warning of its own from C.
    const names = listInterfaces().map((i) => i.name);
    if (!names.includes(options.device)) throw new LiveError(explainOpenError('No such device', options.device));
    // libpcap compiles a filter only when a capture opens: the user's expression alone first, so that a bad
    // one is told as it was written, before any capture starts.
    if (options.filter !== null) openCap(Cap, options.device, options.filter, 1 << 20 /* it captures nothing: a small buffer */, Buffer.alloc(65535)).cap.close();
    let opened: { cap: CapInstance; link: string };
    const sockets = KernelCounter.before();
    try {
      opened = openCap(Cap, options.device, filter, options.bufferSize, this.buffer);
    } catch (e) {
      // Valid alone, refused with tcp: libpcap finds that it leaves no TCP packet ("expression rejects all packets").
      const said = e instanceof LiveError ? e.pcapMessage : null;
      if (options.filter !== null && said !== null && /filter|expression/i.test(said)) {
        throw new LiveError(`the capture filter ${JSON.stringify(options.filter)} compiles alone but not with tcp: libpcap refuses ${JSON.stringify(filter)} (${said})`, said);
      }
      throw e;
    }
    const { cap, link } = opened;
    this.cap = cap;
    this.kernel = new KernelCounter(sockets, options.device);
    this.linktype = linktypeNumber(link);
    this.format = `live (${link})`;
    this.wallMs = Date.now();
    this.monoMs = performance.now();
    this.writer = options.writer?.(this.linktype) ?? null;
    const linktype = this.linktype;
    this.sender = new ChunkSender(port, {
      maxHeldBytes: options.maxHeldBytes,
      sheddable: (b, n) => sheddable(linktype, b, n, options.controlPorts),
      kernelDrops: () => this.kernel.read()?.drop ?? 0,
      onStop: () => this.stop(),
    });
    cap.onPacket = (nbytes) => this.onPacket(nbytes);
  }

  get describe(): string {
    return `${this.options.device} (${this.filter})`;
  }

  /** Stops capturing; the analysis then gets what is held, and the end. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.kernel.read(true); // the last counters, while the socket is open
    this.cap.close();
    this.writer?.close();
    this.sender.end(this.notes());
  }

  notes(): LiveNotes {
    const k = this.kernel.last;
    const s = this.sender;
    return {
      packets: this.packets, dropped: s.dropped, shed: s.shed, shedBytes: s.shedBytes, cutBySnapLength: this.cut,
      kernel: k === null ? null : { ...k }, kernelUnknown: this.kernel.unknown, writeFailure: this.writer?.failure ?? null,
    };
  }

  private onPacket(n: number): void {
    if (this.stopped) return;
    // Monotonic, so a clock change during the capture cannot reorder packets; ~0.1 µs of resolution.
    const ms = this.wallMs + (performance.now() - this.monoMs);
    const sec = Math.floor(ms / 1000);
    const nsec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
    const b = this.buffer;
    const orig = wireLength(this.linktype, b, n);
    if (orig > n) this.cut++;
    this.packets++;
    this.writer?.write(sec, nsec, b, 0, n, orig);
    this.sender.add(b, n, orig, sec, nsec);
    if (this.options.count > 0 && this.packets >= this.options.count) this.stop();
  }
}

/**
 * The bytes of a packet to keep when its payload may be shed: its headers (link, IP, TCP), or 0 when it
 * must be kept whole — no TCP payload, a SYN, FIN or RST, a control connection's port, or anything not
 * plainly IPv4 or IPv6 over TCP (fragments, extension headers, link types networkLayer does not know).
 */
export function sheddable(linktype: number, b: Buffer, n: number, controlPorts: ReadonlySet<number>): number {
  const at = networkLayer(linktype, b, n);
  if (at < 0) return 0;
  const type = Math.floor(at / 0x10000);
  const l3 = at % 0x10000;
  let l4: number;
  let ipEnd: number;
  if (type === 0x0800) {
    if (n < l3 + 20 || b[l3 + 9] !== 6 || (b.readUInt16BE(l3 + 6) & 0x3fff) !== 0) return 0; // not TCP, or a fragment
    l4 = l3 + (b[l3]! & 0x0f) * 4;
    ipEnd = l3 + b.readUInt16BE(l3 + 2);
  } else if (type === 0x86dd) {
    if (n < l3 + 40 || b[l3 + 6] !== 6) return 0; // extension headers: kept whole
    l4 = l3 + 40;
    ipEnd = l4 + b.readUInt16BE(l3 + 4);
  } else return 0;
  if (n < l4 + 20) return 0;
  const end = l4 + (b[l4 + 12]! >> 4) * 4;
  // Ethernet pads short frames: the payload ends where the IP header says.
  if (end >= Math.min(n, ipEnd) || (b[l4 + 13]! & 0x07) !== 0) return 0; // no payload, or SYN, FIN, RST
  if (controlPorts.has(b.readUInt16BE(l4)) || controlPorts.has(b.readUInt16BE(l4 + 2))) return 0;
  return end;
}

/**
 * The filter libpcap runs: `tcp`, or `tcp and (EXPR)` for the user's expression, which can only narrow it.
 * In libpcap's language a parenthesis is always a token of its own (no name, number or backslash escape
 * holds one: scanner.l), so an expression whose parentheses balance cannot close the ones put around it and
 * `or` its way out: `1=1) or (udp` would have made `tcp and (1=1) or (udp)`. Refused, in one line: an empty
 * expression, parentheses that do not balance, and any character but printable ASCII, tab, CR and LF (a
 * NUL would end the C string early; the rest are not the language's, and the expression is echoed).
 */
export function captureFilter(expression: string | null): string {
  if (expression === null) return 'tcp';
  const refuse = (why: string) => new LiveError(`the capture filter is refused: ${why}; --filter takes one expression, which narrows tcp`);
  if (expression.trim() === '') throw refuse('it is empty');
  let depth = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c > 0x7e) {
      throw refuse(`character ${i + 1} is U+${c.toString(16).toUpperCase().padStart(4, '0')}, not printable ASCII`);
    }
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth < 0) throw refuse(`${JSON.stringify(expression)} closes a parenthesis it did not open (character ${i + 1})`);
  }
  if (depth > 0) throw refuse(`${JSON.stringify(expression)} leaves ${depth} parenthes${depth === 1 ? 'is' : 'es'} open`);
  return `tcp and (${expression})`;
}

/**
 * cap's binding calls the instance's `emit` once per packet, found when the instance is made: an instance of
 * this subclass gets one that calls onPacket directly (EventEmitter's makes an array of arguments per packet,
 * hundreds of thousands a second on the capture thread).
 */
let direct: (new () => CapInstance) | null = null;
function directCap(Cap: CapModule['Cap']): CapInstance {
  direct ??= class extends (Cap as unknown as new () => CapInstance) {
    emit(_event: string, nbytes: number): boolean {
      this.onPacket?.(nbytes);
      return true;
    }
  };
  return new direct();
}

/** A new cap instance opened on the device with the filter, or a LiveError; a failed instance is kept (see failedInstances). */
function openCap(Cap: CapModule['Cap'], device: string, filter: string, bufferSize: number, buffer: Buffer): { cap: CapInstance; link: string } {
  const cap = directCap(Cap);
  try {
    return { cap, link: cap.open(device, filter, bufferSize, buffer) };
  } catch (e) {
    failedInstances.push(cap); // closing or collecting it would abort the process
    const said = e instanceof Error ? e.message : String(e);
    throw new LiveError(explainOpenError(said, device), said);
  }
}

/** One line for a failed open(), with what to do. */
function explainOpenError(message: string, device: string): string {
  if (/permitted|permission/i.test(message)) {
    return `cannot capture on ${device}: ${message}. Run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v node)"`;
  }
  if (/no such device/i.test(message)) {
    let known = '';
    try {
      known = listInterfaces().map((i) => i.name).join(', ');
    } catch {
      // listing needs the same module; the message stands without it
    }
    return `no capture device named ${JSON.stringify(device)}${known ? `; there are: ${known}` : ''} (ftpscope interfaces lists them)`;
  }
  if (/filter|expression/i.test(message)) return `the capture filter is not valid: ${message}`;
  return `cannot capture on ${device}: ${message}`;
}

/**
 * The frame's length on the wire, from its IP header: cap gives only what it captured (at most 65,535
 * bytes), so a bigger frame (a loopback with a 64 KiB MTU) must be told apart from a whole one.
 */
export function wireLength(linktype: number, b: Buffer, n: number): number {
  const at = networkLayer(linktype, b, n);
  if (at < 0) return n;
  const type = Math.floor(at / 0x10000);
  const l3 = at % 0x10000;
  if (type === 0x0800 && n >= l3 + 4) {
    const total = b.readUInt16BE(l3 + 2);
    return total === 0 ? n : Math.max(n, l3 + total);
  }
  if (type === 0x86dd && n >= l3 + 6) {
    const payload = b.readUInt16BE(l3 + 4);
    return payload === 0 ? n : Math.max(n, l3 + 40 + payload);
  }
  return n;
}

/**
 * Where the network layer starts and what it is, as one number (ethertype * 65536 + offset: no object per
 * packet), or -1 for a link type or frame this does not know. Ethernet with VLAN tags, Linux SLL, raw IP, BSD NULL.
 */
function networkLayer(linktype: number, b: Buffer, n: number): number {
  if (linktype === 1) {
    if (n < 14) return -1;
    let type = b.readUInt16BE(12);
    let l3 = 14;
    while ((type === 0x8100 || type === 0x88a8) && n >= l3 + 4) {
      type = b.readUInt16BE(l3 + 2);
      l3 += 4;
    }
    return type * 0x10000 + l3;
  }
  if (linktype === 113) return n < 16 ? -1 : b.readUInt16BE(14) * 0x10000 + 16;
  if (linktype === 101 || linktype === 12) return n < 1 ? -1 : (b[0]! >> 4 === 6 ? 0x86dd : 0x0800) * 0x10000;
  if (linktype === 0) {
    if (n < 4) return -1;
    const fam = b.readUInt32LE(0) > 0xffff ? b.readUInt32BE(0) : b.readUInt32LE(0);
    return (fam === 2 ? 0x0800 : 0x86dd) * 0x10000 + 4;
  }
  return -1;
}
