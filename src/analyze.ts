import type { CaptureFault, RecordReader } from './capture/record-batch.js';
import { DECODED_NAMES, Decoded, Decoder, PacketView } from './decode/packet.js';
import { DEFAULT_FRAGMENT_LIMITS, type FragmentLimits } from './decode/ip-fragments.js';
import type { CaptureSummary } from './model/capture.js';

export type { CaptureSummary };
import { ConnectionTable, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits, type TcpListener } from './flow/connections.js';
import { DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits } from './flow/reassembler.js';
import type { MemoryBudget } from './memory-budget.js';

export interface AnalyzeOptions {
  /** Ports that identify the server side of a connection picked up without its handshake (default 21). */
  serverPorts: ReadonlySet<number>;
  connections: ConnectionLimits;
  reassembly: ReassemblyLimits;
  fragments: FragmentLimits;
  /** The budget every table draws from (--max-memory); unlimited when not given. */
  memory?: MemoryBudget;
  /** Called about every 64 Ki records with the bytes read so far. */
  onProgress?: (bytesRead: number, records: number) => void;
  /** Called once, with the first record's time (a live capture's views count time from it). */
  onFirst?: (sec: number, nsec: number) => void;
  /** Called after each batch of records: a promise makes the reading wait (an output that must drain first). */
  afterBatch?: () => Promise<void> | undefined;
  /**
   * A live capture's losses, before each batch that follows some (packets lost whole, packets shed), with
   * the batch's first frame and time; then once with null after that batch. What opens or is open
   * in between may have lost packets.
   */
  onLoss?: (loss: { lost: number; shed: number; frame: number; sec: number; nsec: number } | null) => void;
}

export const DEFAULT_ANALYZE_OPTIONS: AnalyzeOptions = {
  serverPorts: new Set([21]),
  connections: DEFAULT_CONNECTION_LIMITS,
  reassembly: DEFAULT_REASSEMBLY_LIMITS,
  fragments: DEFAULT_FRAGMENT_LIMITS,
};


/**
 * Runs the pipeline over a capture: records -> decoder -> connection table -> listener.
 * One PacketView is reused for every record; nothing here allocates per packet.
 */
export async function analyze(
  reader: RecordReader,
  listener: TcpListener,
  options: AnalyzeOptions = DEFAULT_ANALYZE_OPTIONS,
): Promise<CaptureSummary> {
  // Of the TCP options, the analysis reads only the window scale, carried by SYNs (see Decoder).
  const decoder = new Decoder(options.fragments, false);
  const table = new ConnectionTable(listener, options.serverPorts, options.connections, options.reassembly, options.memory);
  const pv = new PacketView();
  const outcomes = new Float64Array(DECODED_NAMES.length);
  const links = new Map<number, number>();
  let frame = 0;
  let captured = 0;
  let cut = 0;
  let backwards = 0;
  let firstBackwards: { frame: number; secondsBack: number } | null = null;
  let firstSec = -1;
  let firstNsec = 0;
  let lastSec = -1;
  let lastNsec = 0;
  let progressAt = 65536;
  let lastLink = -1;
  let lastLinkCount = 0;

  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    const { bufs, offs, caps, origs, tsSec, tsNsec, linktypes } = batch;
    const loss = reader.loss ?? null;
    if (loss !== null && options.onLoss !== undefined) {
      const has = batch.count > 0;
      options.onLoss({ lost: loss.kernel + loss.dropped, shed: loss.shed, frame: frame + (has ? 1 : 0), sec: has ? tsSec[0]! : lastSec, nsec: has ? tsNsec[0]! : lastNsec });
    }
    for (let i = 0, n = batch.count; i < n; i++) {
      frame++;
      const sec = tsSec[i]!;
      const nsec = tsNsec[i]!;
      const cap = caps[i]!;
      const link = linktypes[i]!;
      captured += cap;
      if (origs[i]! > cap) cut++;
      if (firstSec < 0) {
        firstSec = sec;
        firstNsec = nsec;
        options.onFirst?.(sec, nsec);
      } else if (sec < lastSec || (sec === lastSec && nsec < lastNsec)) {
        if (backwards++ === 0) firstBackwards = { frame, secondsBack: lastSec - sec + (lastNsec - nsec) / 1e9 };
      }
      lastSec = sec;
      lastNsec = nsec;
      if (link !== lastLink) {
        if (lastLinkCount > 0) links.set(lastLink, (links.get(lastLink) ?? 0) + lastLinkCount);
        lastLink = link;
        lastLinkCount = 0;
      }
      lastLinkCount++;
      const d = decoder.decode(link, bufs[i]!, offs[i]!, cap, sec, pv);
      outcomes[d]!++;
      if (d === Decoded.TCP) {
        pv.frameLen = origs[i]!;
        table.packet(pv, frame, sec, nsec);
      }
    }
    if (options.onProgress !== undefined && frame >= progressAt) {
      progressAt = frame + 65536;
      options.onProgress(reader.bytesRead, frame);
    }
    if (loss !== null) options.onLoss?.(null);
    options.memory?.guard();
    const wait = options.afterBatch?.();
    if (wait !== undefined) await wait;
  }
  if (lastLinkCount > 0) links.set(lastLink, (links.get(lastLink) ?? 0) + lastLinkCount);
  decoder.fragments.finish();
  table.finishAll('end-of-capture');

  const decoded: Record<string, number> = {};
  outcomes.forEach((n, i) => {
    if (n > 0) decoded[DECODED_NAMES[i]!] = n;
  });
  return {
    files: reader.parts !== undefined ? [...reader.parts] : [reader.name],
    format: reader.format,
    records: frame,
    capturedBytes: captured,
    cutRecords: cut,
    outOfOrderRecords: backwards,
    firstOutOfOrder: firstBackwards,
    first: firstSec < 0 ? null : { sec: firstSec, nsec: firstNsec },
    last: lastSec < 0 ? null : { sec: lastSec, nsec: lastNsec },
    decoded,
    linkTypes: Object.fromEntries([...links].map(([k, v]) => [String(k), v])),
    fragments: { ...decoder.fragments.stats },
    connections: { ...table.stats },
    faults: reader.faults.map((f: CaptureFault) => ({ file: f.file, offset: f.offset, reason: f.reason, message: f.message })),
  };
}
