import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { LiveCapture, type PacketCapture } from '../capture/live-source.js';
import { PcapFileWriter } from '../capture/pcap-writer.js';
import type { Settings } from '../config.js';
import type { ViewOptions } from '../render/context.js';
import { sanitize } from '../render/text.js';
import type { CaptureInfo } from './live.js';
import type { Io } from './main.js';

/** What the analysis thread is started with (structured-cloned: plain data only). */
export interface WorkerStart {
  settings: Settings;
  view: ViewOptions;
  capture: CaptureInfo;
  port: MessagePort;
  /** The worker writes to file descriptors 1 and 2 itself (else through this thread: tests' streams). */
  direct: boolean;
}

/**
 * The analysis thread's young generation, in MiB (V8's default lets it grow to 48). Packets live a batch
 * long and the model's objects a session long, so a small nursery costs little time, and it is most of
 * what separates a long capture's memory from its start's (issue 17's soak).
 */
const YOUNG_GENERATION_MB = 6;

/**
 * `ftpscope live` as two threads, as dumpcap and Wireshark are two processes: this one captures (cap can
 * only run here, on Node's main loop) and hands packets over in chunks; a worker runs the analysis,
 * runLive, exactly as a file's. The capture never waits for the analysis: when the analysis falls behind,
 * the chunks out fill, data payload is shed, then packets are dropped, all counted (live-chunks.ts).
 *
 * Call order: the capture opens first (a bad interface or filter is one line, exit 1, and no thread
 * starts); then the worker starts, writing to file descriptors 1 and 2 itself (or, when `io` holds other
 * streams, as in tests, through streams piped here). SIGINT and SIGTERM stop the capture here;
 * --duration and --count stop it too; the worker then analyses what is left, prints the end, and exits
 * with runLive's status. `open` is the capture (tests replay a file through the same path).
 */
export async function runCaptureThread(
  s: Settings,
  view: ViewOptions,
  io: Io,
  open: (port: MessagePort, warn: (line: string) => void) => PacketCapture = (port, warn) => new LiveCapture(liveOptions(s, warn), port),
): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const warn = (line: string) => void io.stderr.write(`${sanitize(line)}\n`);
  let capture: PacketCapture;
  try {
    capture = open(port1, warn);
  } catch (e) {
    port1.close();
    // A LiveError may name devices (ftpscope interfaces' names): they are shown escaped.
    io.stderr.write(`ftpscope: ${sanitize(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
  const start: WorkerStart = {
    settings: s,
    view,
    capture: { name: capture.name, format: capture.format, linktype: capture.linktype, describe: capture.describe },
    port: port2,
    // Output through this thread would wait for it, and it is busy while cap drains libpcap: the worker writes itself.
    direct: io.stdout === process.stdout && io.stderr === process.stderr,
  };
  const worker = new Worker(new URL('./live-worker.js', import.meta.url), {
    workerData: start,
    transferList: [port2],
    stdout: !start.direct,
    stderr: !start.direct,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  // The first Ctrl-C stops the capture and lets the analysis finish; a second one ends the process.
  const stop = () => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    capture.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Everything the worker writes, written before we return (the process may exit right after).
  const flushed = start.direct ? Promise.resolve() : Promise.all([piped(worker.stdout, io.stdout), piped(worker.stderr, io.stderr)]);
  let status = 1;
  try {
    status = await new Promise<number>((resolve) => {
      let said: number | null = null;
      worker.on('message', (m: { status: number }) => (said = m.status));
      worker.on('error', (e) => {
        io.stderr.write(`ftpscope: internal error in the analysis thread: ${sanitize(e instanceof Error ? e.message : String(e))} (this is a bug; FTPSCOPE_DEBUG=1 shows where)\n`);
        if (io.env.FTPSCOPE_DEBUG) io.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
        said = 1;
      });
      worker.on('exit', () => resolve(said ?? 1));
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    capture.stop();
    port1.close();
  }
  await flushed;
  return status;
}

/** Resolves when `from` has ended and all it gave is written to `to` (which stays open). */
function piped(from: NodeJS.ReadableStream, to: NodeJS.WritableStream): Promise<void> {
  from.pipe(to, { end: false });
  return new Promise((resolve) => {
    from.on('end', resolve);
    from.on('close', resolve);
  });
}

/** The capture's options from the settings; `warn` tells when --write stops (a full disk), the capture going on. */
export function liveOptions(s: Settings, warn: (line: string) => void): ConstructorParameters<typeof LiveCapture>[0] {
  const file = s.write;
  return {
    device: s.interface!,
    filter: s.filter,
    bufferSize: Math.floor(s.bufferSize * 2 ** 20),
    count: s.count ?? 0,
    writer: file === null ? null : (linktype) => {
      const w = new PcapFileWriter(file, linktype);
      w.onFailure = (why) => warn(`ftpscope: --write ${file}: ${why}; the file keeps the packets before, the capture goes on`);
      return w;
    },
    maxHeldBytes: Math.floor(s.maxBacklog * 2 ** 20),
    controlPorts: new Set([21, ...s.ports]),
  };
}
