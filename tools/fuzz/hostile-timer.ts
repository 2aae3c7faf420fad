/**
 * Times one ftpscope run in a process of its own (`node hostile-timer.js ARGS... CAPTURE`) and prints the
 * seconds and the process's peak resident memory in MiB: runs in one process share a heap whose collection
 * cost depends on what came before, which made ratios of sub-second runs vary by half (see hostile.ts).
 */
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

const args = process.argv.slice(2);
const sink = new Writable({ write: (_c, _e, cb) => cb() });
const t0 = process.hrtime.bigint();
const code = await main(args, { stdout: sink, stderr: new PassThrough(), stdin: new PassThrough(), stdoutIsTTY: false, env: {} });
process.stdout.write(`${Number(process.hrtime.bigint() - t0) / 1e9} ${process.resourceUsage().maxRSS / 1024}\n`);
process.exitCode = code;
