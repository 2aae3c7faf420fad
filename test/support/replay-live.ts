/**
 * `node replay-live.js FILE SETTINGS_JSON`: `ftpscope live` with FILE replayed as its capture (ReplayCapture),
 * in a process of its own, so that the analysis thread writes to real file descriptors as it does for an
 * interface. SETTINGS_JSON: the settings that differ from the defaults, e.g. {"format":"ndjson"}.
 */
import { settings, type Settings } from '../../src/config.js';
import { viewOptions } from '../../src/cli/main.js';
import { runCaptureThread } from '../../src/cli/live-thread.js';
import { ReplayCapture } from './replay-capture.js';

const [path, json] = process.argv.slice(2);
const s = settings(JSON.parse(json ?? '{}') as Partial<Settings>);
const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, stdoutIsTTY: false, env: process.env };
const opened = await ReplayCapture.open(path!);
process.exitCode = await runCaptureThread(s, viewOptions(s, io), io, (port) => new ReplayCapture(path!, opened, port));
