/**
 * Inputs that are not captures at all, told in one line with exit 1 like every other input error: standard
 * input that is a directory (`ftpscope - < folder`, which Node reads as an empty stream), and a capture
 * path that is a directory. Standard input is a real descriptor of a child process here.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/ftpscope.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ftpscope-input-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `ftpscope ...args` as a process, its standard input the given descriptor. */
function ftpscope(args: string[], stdin: number | 'ignore'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FTPSCOPE_DEBUG: '' }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('standard input that is a directory: one line saying so (not "the file is empty"), exit 1', async () => {
  const fd = openSync(dir, 'r');
  try {
    const r = await ftpscope(['-v', 'summary', '-'], fd);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), ['ftpscope: standard input: at byte 0: is a directory, not a capture file (EISDIR)']);
  } finally {
    closeSync(fd);
  }
});

test('a capture path that is a directory: one line saying so, exit 1', async () => {
  const r = await ftpscope(['-v', 'summary', dir], 'ignore');
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [`ftpscope: ${dir}: at byte 0: is a directory, not a capture file (EISDIR)`]);
});
