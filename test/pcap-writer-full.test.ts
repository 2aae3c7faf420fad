/**
 * live --write onto a full disk (issue 15, row 11): writing stops at the last whole record with one line,
 * never an uncaught error from the flush timer, and the file is still a capture to read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapFileWriter } from '../src/capture/pcap-writer.js';
import { openCapture } from '../src/capture/open-capture.js';

test('a full disk stops --write at its last whole record: told once, no exception, the file reads to its end', { skip: process.getuid?.() !== 0 ? 'needs root to mount a small tmpfs' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-write-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    try {
      const path = join(dir, 'live.pcap');
      const w = new PcapFileWriter(path, 1);
      const told: string[] = [];
      w.onFailure = (why) => told.push(why);
      const frame = Buffer.alloc(1000, 0xab);
      for (let i = 0; i < 200; i++) w.write(1_700_000_000 + i, 0, frame, 0, frame.length, frame.length);
      w.close();
      assert.equal(told.length, 1, told.join(' | '));
      assert.match(told[0]!, /the disk is full \(ENOSPC\) after \d+ packets/);
      const kept = Number(/after (\d+) packets/.exec(told[0]!)![1]);
      const size = statSync(path).size;
      assert.equal(size, 24 + kept * (16 + 1000), 'whole records only');
      const reader = await openCapture(path, path);
      let records = 0;
      for (let b = await reader.next(); b !== null; b = await reader.next()) records += b.count;
      assert.equal(records, kept);
      assert.deepEqual(reader.faults, [], 'a capture with no fault');
      reader.close();
    } finally {
      execFileSync('umount', [dir]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
