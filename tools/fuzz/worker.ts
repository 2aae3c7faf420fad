/**
 * A worker thread of the fuzzer (see FuzzPool in pool.ts): runs the cases its parent sends, one at a time,
 * and answers with their failures and figures. The parent bounds each case's time (it terminates this
 * worker on a hang) and checks the memory figure (heapUsed + external of this worker's isolate after the
 * case, measured with everything the case made still alive, after a full GC before it started).
 */
import { parentPort } from 'node:worker_threads';
import { ensureGc, type WorkerRequest, type WorkerResponse } from './pool.js';
import { referenceOutput, runCase } from './runner.js';

if (parentPort === null) throw new Error('worker.js runs as a worker thread (see FuzzPool)');
const port = parentPort;
const gc = ensureGc();

port.on('message', (m: WorkerRequest) => {
  void handle(m).then((answer) => port.postMessage(answer));
});

async function handle(m: WorkerRequest): Promise<WorkerResponse> {
  if (m.type === 'reference') return { type: 'reference', id: m.id, text: await referenceOutput(m.path) };
  gc?.();
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const onStage = (stage: string) => port.postMessage({ type: 'stage', id: m.id, stage } satisfies WorkerResponse);
  return { type: 'case', id: m.id, outcome: await runCase(bytes, m.name, m.seed, onStage) };
}
