import { createRequire } from 'node:module';
import type { PcapFileWriter } from './pcap-writer.js';
import { RecordBatch, type CaptureFault, type RecordReader } from './record-batch.js';

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
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
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
  /** Bytes of packets held for the analysis at most (beyond, they are dropped and counted: the analysis fell behind). */
  maxHeldBytes: number;
}

/**
 * A live capture through cap (libpcap) as a RecordReader, so the file pipeline analyses it unchanged.
 * What cap does not give is made up honestly: timestamps from a monotonic clock at arrival (mapped to wall
 * time once), original lengths from the IP header (cap's snap length is a fixed 65,535 bytes, so a larger
 * loopback frame arrives cut: its missing bytes become gaps, not corrupt data), and no drop counter of the
 * kernel's (ftpscope counts only the packets it had to drop itself).
 */
export class LiveReader implements RecordReader {
  readonly name: string;
  readonly format: string;
  readonly faults: CaptureFault[] = [];
  readonly linktype: number;
  /** The filter libpcap runs: `tcp`, or `tcp and (the user's expression)`. */
  readonly filter: string;
  private readonly cap: CapInstance;
  private readonly buffer = Buffer.alloc(65535);
  private batches: [RecordBatch, RecordBatch] = [new RecordBatch(), new RecordBatch()];
  private filling = 0;
  private chunk = Buffer.allocUnsafe(1 << 20);
  private chunkUsed = 0;
  private held = 0;
  private waiter: (() => void) | null = null;
  private stopped = false;
  private readonly writer: PcapFileWriter | null;
  /** Wall-clock milliseconds at the start, and the monotonic clock then: arrival times use the latter. */
  private readonly wallMs: number;
  private readonly monoMs: number;
  packets = 0;
  bytesRead = 0;
  /** Packets ftpscope dropped because the analysis could not keep up. */
  dropped = 0;
  /** Packets cut by cap's snap length. */
  cut = 0;

  constructor(readonly options: LiveOptions) {
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
    this.linktype = linktypeNumber(link);
    this.format = `live (${link})`;
    this.wallMs = Date.now();
    this.monoMs = performance.now();
    this.writer = options.writer?.(this.linktype) ?? null;
    cap.on('packet', (nbytes) => this.onPacket(nbytes));
  }

  /** Stops capturing; next() then returns what is held, and null after it. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cap.close();
    this.writer?.close();
    this.wake();
  }

  close(): void {
    this.stop();
  }

  async next(): Promise<RecordBatch | null> {
    for (;;) {
      const b = this.batches[this.filling]!;
      if (b.count > 0) {
        // Hand over this batch; fill the other one meanwhile (the consumer is done with it by now).
        this.filling = 1 - this.filling;
        const other = this.batches[this.filling]!;
        other.reset();
        this.chunk = Buffer.allocUnsafe(1 << 20);
        this.chunkUsed = 0;
        this.held = 0;
        return b;
      }
      if (this.stopped) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private onPacket(n: number): void {
    if (this.stopped) return;
    // Monotonic, so a clock change during the capture cannot reorder packets; ~0.1 µs of resolution.
    const ms = this.wallMs + (performance.now() - this.monoMs);
    const sec = Math.floor(ms / 1000);
    const nsec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
    const orig = wireLength(this.linktype, this.buffer, n);
    if (orig > n) this.cut++;
    this.packets++;
    this.bytesRead += n;
    this.writer?.write(sec, nsec, this.buffer, 0, n, orig);
    if (this.held + n > this.options.maxHeldBytes) {
      this.dropped++;
    } else {
      if (this.chunkUsed + n > this.chunk.length) {
        this.chunk = Buffer.allocUnsafe(Math.max(1 << 20, n));
        this.chunkUsed = 0;
      }
      this.buffer.copy(this.chunk, this.chunkUsed, 0, n);
      this.batches[this.filling]!.push(this.chunk, this.chunkUsed, n, orig, sec, nsec, this.linktype, 0);
      this.chunkUsed += n;
      this.held += n;
    }
    if (this.options.count > 0 && this.packets >= this.options.count) this.stop();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
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

/** A new cap instance opened on the device with the filter, or a LiveError; a failed instance is kept (see failedInstances). */
function openCap(Cap: CapModule['Cap'], device: string, filter: string, bufferSize: number, buffer: Buffer): { cap: CapInstance; link: string } {
  const cap = new Cap();
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
  let l3: number;
  let type: number;
  if (linktype === 1) {
    if (n < 14) return n;
    type = b.readUInt16BE(12);
    l3 = 14;
    while ((type === 0x8100 || type === 0x88a8) && n >= l3 + 4) {
      type = b.readUInt16BE(l3 + 2);
      l3 += 4;
    }
  } else if (linktype === 113) {
    if (n < 16) return n;
    type = b.readUInt16BE(14);
    l3 = 16;
  } else if (linktype === 101 || linktype === 12) {
    if (n < 1) return n;
    type = b[0]! >> 4 === 6 ? 0x86dd : 0x0800;
    l3 = 0;
  } else if (linktype === 0) {
    if (n < 4) return n;
    const fam = b.readUInt32LE(0) > 0xffff ? b.readUInt32BE(0) : b.readUInt32LE(0);
    type = fam === 2 ? 0x0800 : 0x86dd;
    l3 = 4;
  } else return n;
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
