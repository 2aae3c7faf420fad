/**
 * pcap-parser as an independent oracle: every classic pcap we have (the fixtures, Zeek's conformance
 * captures) gives, record by record, the same lengths, times and bytes through ftpscope's own reader
 * as through pcap-parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pcapParser from 'pcap-parser';
import { openCapture } from '../src/capture/open-capture.js';
import { listCaptures } from './support/captures.js';

interface Rec {
  sec: number;
  usec: number;
  cap: number;
  orig: number;
  sha: string;
}

async function ours(path: string): Promise<Rec[]> {
  const reader = await openCapture(path, createReadStream(path, { highWaterMark: 4096 }));
  const out: Rec[] = [];
  for (let b = await reader.next(); b !== null; b = await reader.next()) {
    for (let i = 0; i < b.count; i++) {
      const bytes = b.bufs[i]!.subarray(b.offs[i]!, b.offs[i]! + b.caps[i]!);
      out.push({ sec: b.tsSec[i]!, usec: Math.floor(b.tsNsec[i]! / 1000), cap: b.caps[i]!, orig: b.origs[i]!, sha: bytes.toString('base64') });
    }
  }
  assert.deepEqual(reader.faults, []);
  return out;
}

function theirs(path: string): Promise<Rec[]> {
  return new Promise((resolve, reject) => {
    const out: Rec[] = [];
    const p = pcapParser.parse(path);
    p.on('packet', (pkt) => out.push({ sec: pkt.header.timestampSeconds, usec: pkt.header.timestampMicroseconds, cap: pkt.header.capturedLength, orig: Math.max(pkt.header.originalLength, pkt.header.capturedLength), sha: pkt.data.toString('base64') }));
    p.on('end', () => resolve(out));
    p.on('error', reject);
  });
}

const classic = [
  ...listCaptures(fileURLToPath(new URL('../../fixtures/', import.meta.url))),
  ...listCaptures(fileURLToPath(new URL('../../../shared/conformance/', import.meta.url))),
].filter((p) => p.endsWith('.pcap') && readFileSync(p).readUInt32LE(0) === 0xa1b2c3d4);

test('there are classic pcap captures to compare', () => assert.ok(classic.length >= 10));

for (const path of classic) {
  test(`ftpscope's reader and pcap-parser agree: ${path.split('/').slice(-2).join('/')}`, async () => {
    const [a, b] = await Promise.all([ours(path), theirs(path)]);
    assert.equal(a.length, b.length);
    assert.deepEqual(a, b);
  });
}
