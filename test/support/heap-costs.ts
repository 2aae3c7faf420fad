/**
 * Measures, in a process of its own (a test file's process shares its heap with the files beside it under
 * test:fast), the heap V8 spends per half-open connection and per PORT command kept, and prints them as
 * JSON with what the memory budget charges for the same (test/memory-budget.test.ts compares them).
 * Run as `node --expose-gc heap-costs.js`.
 */
import { Readable } from 'node:stream';
import { analyseCapture } from '../analysis.js';
import { ConnectionTable } from '../../src/flow/connections.js';
import { FtpAnalyzer } from '../../src/ftp/analyzer.js';
import { Decoder, PacketView } from '../../src/decode/packet.js';
import { SYN, tcpPacket } from './capture-writer.js';
import { manyPorts } from '../../tools/fuzz/hostile.js';

const gc = (globalThis as { gc?: () => void }).gc!;

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const n = 50_000;
const table = new ConnectionTable(new FtpAnalyzer());
const decoder = new Decoder(undefined, false);
const pv = new PacketView();
const packets = Array.from({ length: n }, (_, i) => tcpPacket({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, dst: '10.0.0.2', sport: 1024 + (i % 60000), dport: 21, seq: i, flags: SYN }));
let before = heap();
for (let i = 0; i < n; i++) {
  const b = packets[i]!;
  decoder.decode(101, b, 0, b.length, 1_700_000_000, pv);
  table.packet(pv, i + 1, 1_700_000_000, i);
}
const perConnection = (heap() - before) / n;
const open = table.open;

const ports = 20_000;
const bytes = manyPorts(ports);
before = heap();
const a = await analyseCapture('ports.pcap', Readable.from([bytes]), {}, { timeline: false });
const spent = heap() - before;
const charged = a.memory.held('exchanges') + a.memory.held('predictions');
process.stdout.write(`${JSON.stringify({ open, perConnection, ports, predictions: a.ftp.result().predictions.length, perPort: spent / ports, chargedPerPort: charged / ports })}\n`);
