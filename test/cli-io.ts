import { PassThrough } from 'node:stream';
import type { Io } from '../src/cli/main.js';

/** A fake Io whose streams collect what main() (or a live run) writes; stdin holds `input` (empty by default). */
export function collect(input: Buffer = Buffer.alloc(0)): { io: Io; stdout: () => string; stderr: () => string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const stdin = new PassThrough();
  stdin.end(input);
  return {
    io: { stdout, stderr, stdin, stdoutIsTTY: false, env: {} },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}
