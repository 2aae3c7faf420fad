/**
 * A capture file replayed as a live capture (PacketCapture): its records go through ChunkSender, the
 * analysis thread and runLive exactly as an interface's would, with the file's timestamps. Without root,
 * this is how the two-thread path of `ftpscope live` is tested against the file analysis.
 */
import type { MessagePort } from 'node:worker_threads';
import { ChunkSender } from '../../src/capture/live-chunks.js';
import type { LiveNotes, PacketCapture } from '../../src/capture/live-source.js';
import { openCapture } from '../../src/capture/open-capture.js';
import type { RecordBatch, RecordReader } from '../../src/capture/record-batch.js';

export class ReplayCapture implements PacketCapture {
  readonly name: string;
  readonly format = 'live (replayed)';
  readonly describe: string;
  readonly linktype: number;
  private readonly sender: ChunkSender;
  private stopped = false;
  packets = 0;

  /** Opens `path` and reads its first batch (the link type is told to the analysis before any packet). */
  static async open(path: string): Promise<{ reader: RecordReader; first: RecordBatch | null }> {
    const reader = await openCapture(path, path);
    return { reader, first: await reader.next() };
  }

  /** Replays `from` into `port`, a batch per turn of the event loop; `maxHeldBytes` large enough that nothing is shed. */
  constructor(path: string, private readonly from: { reader: RecordReader; first: RecordBatch | null }, port: MessagePort, maxHeldBytes = 1 << 30) {
    this.name = `live ${path}`;
    this.describe = `${path} (replayed)`;
    this.linktype = from.first?.linktypes[0] ?? 1;
    this.sender = new ChunkSender(port, { maxHeldBytes, sheddable: () => 0, kernelDrops: () => 0, onStop: () => this.stop() });
    setImmediate(() => void this.pump(from.first));
  }

  private async pump(batch: RecordBatch | null): Promise<void> {
    for (; batch !== null && !this.stopped; batch = await this.from.reader.next()) {
      for (let i = 0; i < batch.count; i++) {
        this.packets++;
        const b = batch.bufs[i]!.subarray(batch.offs[i]!, batch.offs[i]! + batch.caps[i]!);
        this.sender.add(b, b.length, batch.origs[i]!, batch.tsSec[i]!, batch.tsNsec[i]!);
      }
      await new Promise((r) => setImmediate(r));
    }
    this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.from.reader.close();
    this.sender.end(this.notes());
  }

  notes(): LiveNotes {
    return { packets: this.packets, dropped: this.sender.dropped, shed: this.sender.shed, shedBytes: this.sender.shedBytes, cutBySnapLength: 0, kernel: null, kernelUnknown: 'a file replayed' };
  }
}
