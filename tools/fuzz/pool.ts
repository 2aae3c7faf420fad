/**
 * `FuzzPool` runs cases in worker threads (worker.ts) so that a hang (a case over its time bound: the worker
 * is terminated) or a memory blow-up (over the bound after the case, or the worker's heap cap reached) is a
 * reported failure, not a stuck or dead fuzzer.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { Failure } from './failures.js';
import type { CaseOutcome, CaseStats } from './runner.js';

export type WorkerRequest =
  | { type: 'case'; id: number; name: string; seed: number; bytes: Uint8Array }
  | { type: 'reference'; id: number; path: string };

export type WorkerResponse =
  | { type: 'case'; id: number; outcome: CaseOutcome }
  /** Sent before each stage of a case, so that a hang or a death can be placed. */
  | { type: 'stage'; id: number; stage: string }
  | { type: 'reference'; id: number; text: string };

export interface PoolOptions {
  workers: number;
  /** A case running longer is a hang: its worker is terminated (default 5000 ms). */
  timeoutMs: number;
  /** heapUsed + external of the worker after a case above this is a memory failure (default 512 MiB). */
  memoryLimit: number;
  /** The worker's V8 old-generation cap: reaching it kills the worker, a memory failure (default 1024 MiB). */
  heapCapMb: number;
}

/**
 * The bounds. Time: the cases are at most ~2 MB; a healthy case takes well under 1 s (file level ~20 ms,
 * packet ~50 ms, ftp ~100-700 ms with every view rendered), so 5 s is slowness of another order, not noise.
 * Memory: every structure the analysis keeps is bounded by an option (out-of-order data 4 MiB per direction
 * and 128 MiB in all, fragments 16 MiB, lines 4 KiB and 1,000 per reply, 10,000 predictions, a packet log
 * of 1M packets, ~61 MiB); the rest (exchanges, transfers, findings, the rendered text) is proportional to
 * the input. The most a case has taken is ~130 MiB (a 1.5 MB FTP case, all outputs alive). 512 MiB is
 * above the sum of the fixed bounds and about 4 times that peak: a case over it grows past a bound or
 * faster than its input. The 1 GiB heap cap turns a runaway allocation into a reported failure instead of
 * the death of the fuzzer.
 */
export const DEFAULT_POOL_OPTIONS: PoolOptions = { workers: 2, timeoutMs: 5000, memoryLimit: 512 * 2 ** 20, heapCapMb: 1024 };

interface Task {
  msg: WorkerRequest;
  /** Only this worker (by slot) may run it; -1: any. */
  slot: number;
  resolve: (r: Exclude<WorkerResponse, { type: 'stage' }> | { type: 'failed'; failure: Failure; ms: number }) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  began: number;
  /** The stage the running case reported last. */
  stage: string | null;
  /** Incremented each time the worker is replaced (after a hang or a death). */
  generation: number;
}

export interface PoolResult {
  failures: Failure[];
  stats: CaseStats | null;
  ms: number;
}

/** Worker threads running cases, each case under a time bound and a memory bound. */
export class FuzzPool {
  readonly options: PoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
    for (let i = 0; i < this.options.workers; i++) this.slots.push(this.spawn(i, 0));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Generation of each worker: more than 0 when it was replaced. */
  get generations(): number[] {
    return this.slots.map((s) => s.generation);
  }

  private spawn(index: number, generation: number): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapCapMb },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { index, worker, task: null, timer: null, began: 0, stage: null, generation };
    worker.on('message', (m: WorkerResponse) => this.done(slot, m));
    worker.on('error', (e: Error & { code?: string }) => {
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.lost(slot, { kind: memory ? 'memory' : 'crash', where: slot.stage ?? 'worker', message: `${e.code ?? e.name}: ${e.message}`, stack: e.stack ?? '' });
    });
    worker.on('exit', (code) => {
      if (!this.closed && this.slots[index] === slot) this.lost(slot, { kind: 'crash', where: 'worker', message: `the worker exited (code ${code})` });
    });
    worker.unref();
    return slot;
  }

  /** Runs a case; resolves with its failures (a hang or a memory blow-up is one). */
  async run(name: string, seed: number, bytes: Buffer): Promise<PoolResult> {
    const r = await this.submit({ type: 'case', id: this.nextId++, name, seed, bytes }, -1);
    if (r.type === 'failed') return { failures: [r.failure], stats: null, ms: r.ms };
    if (r.type !== 'case') throw new Error('unexpected answer');
    const failures = [...r.outcome.failures];
    if (r.outcome.stats.memory > this.options.memoryLimit) {
      failures.push({ kind: 'memory', where: 'case', message: `heapUsed + external after the case: ${(r.outcome.stats.memory / 2 ** 20).toFixed(0)} MiB, over the bound of ${(this.options.memoryLimit / 2 ** 20).toFixed(0)} MiB` });
    }
    return { failures, stats: r.outcome.stats, ms: r.outcome.stats.ms };
  }

  /** The reference output of a capture, computed by every worker (each with the state earlier cases left). */
  async reference(path: string): Promise<string[]> {
    const all = this.slots.map((s) => this.submit({ type: 'reference', id: this.nextId++, path }, s.index));
    return (await Promise.all(all)).map((r) => (r.type === 'reference' ? r.text : `failed: ${r.type === 'failed' ? r.failure.message : r.type}`));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      await s.worker.terminate();
    }
  }

  private submit(msg: WorkerRequest, slot: number): Promise<Exclude<WorkerResponse, { type: 'stage' }> | { type: 'failed'; failure: Failure; ms: number }> {
    if (this.closed) throw new Error('the pool is closed');
    return new Promise((resolve) => {
      this.queue.push({ msg, slot, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const s of this.slots) {
      if (s.task !== null) continue;
      const i = this.queue.findIndex((t) => t.slot < 0 || t.slot === s.index);
      if (i < 0) continue;
      const task = this.queue.splice(i, 1)[0]!;
      s.task = task;
      s.began = performance.now();
      s.stage = null;
      s.timer = setTimeout(() => this.timeout(s), this.options.timeoutMs);
      s.worker.postMessage(task.msg);
    }
  }

  private done(slot: Slot, m: WorkerResponse): void {
    const task = slot.task;
    if (task === null || task.msg.id !== m.id) return;
    if (m.type === 'stage') {
      slot.stage = m.stage;
      return;
    }
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    task.resolve(m);
    this.pump();
  }

  private timeout(slot: Slot): void {
    const ms = performance.now() - slot.began;
    const where = slot.task?.msg.type === 'reference' ? 'reference' : (slot.stage ?? 'case');
    this.lost(slot, { kind: 'hang', where, message: `no answer after ${(ms / 1000).toFixed(1)} s (in ${where}): the worker was terminated` }, ms);
  }

  /** The worker is gone or stuck: fail its task, replace it. */
  private lost(slot: Slot, failure: Failure, ms = performance.now() - slot.began): void {
    if (this.slots[slot.index] !== slot) return;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    const task = slot.task;
    slot.task = null;
    this.slots[slot.index] = this.closed ? slot : this.spawn(slot.index, slot.generation + 1);
    void slot.worker.terminate();
    task?.resolve({ type: 'failed', failure, ms });
    if (!this.closed) this.pump();
  }
}


/** gc(), for measuring what a case holds (setFlagsFromString works in workers too); null when unavailable. */
export function ensureGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}
