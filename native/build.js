// Builds native/packet_stats.node (the kernel's drop counters for live capture) at `npm install`.
// Optional, like cap: without it (not Linux, no compiler) live capture says the kernel's drops are unknown.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') process.exit(0);
// npm names its own node-gyp in npm_config_node_gyp; next to npm itself otherwise.
const candidates = [process.env.npm_config_node_gyp, process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
const gyp = candidates.find((p) => p && existsSync(p));
const r = gyp === undefined ? null : spawnSync(process.execPath, [gyp, 'rebuild', '--directory', here], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r === null || r.status !== 0) {
  const why = r === null ? 'node-gyp not found' : (r.stderr.trim().split('\n').filter((l) => /error/i.test(l))[0] ?? `node-gyp exited with ${r.status}`);
  process.stderr.write(`ftpscope: the kernel's drop counters for live capture were not built (${why}); live capture works, and says its drops are unknown\n`);
}
