/**
 * One time base (issue 13): every view writes the time of a frame the same way, by default the seconds
 * from the capture's first packet, and --time-format changes it in all of them alike (tshark's -t).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';

const CAPTURE = fileURLToPath(new URL('../../fixtures/multi-session.pcap', import.meta.url));

async function view(...args: string[]): Promise<string> {
  const io = collect();
  assert.equal(await main([...args, '--width', '200', CAPTURE], io.io), 0, io.stderr());
  return io.stdout();
}

/** The time each view writes for frame n. */
async function timesOf(frame: number, format: string[] = []): Promise<Record<string, string>> {
  const timeline = (await view('-v', 'timeline', ...format)).match(new RegExp(`^\\s*(\\S+) #${frame}\\s`, 'm'))?.[1];
  const packets = (await view('-v', 'packets', ...format)).match(new RegExp(`^\\s*${frame} (\\S+) `, 'm'))?.[1];
  const ladder = (await view('-v', 'ladder', ...format)).match(new RegExp(`^\\s*${frame} (\\S+) `, 'm'))?.[1];
  const walkthrough = (await view('-v', 'walkthrough', ...format)).match(new RegExp(`frame ${frame} (\\S+)  `))?.[1];
  return { timeline: timeline!, packets: packets!, ladder: ladder!, walkthrough: walkthrough! };
}

test('every view writes the same time for a frame of session 2: seconds from the capture\'s first packet', async () => {
  const second = (await view('-v', 'timeline')).split('\n').findIndex((l) => l.startsWith('Session 2'));
  assert.ok(second > 0);
  const frame = Number((await view('-v', 'timeline')).split('\n')[second + 1]!.match(/#(\d+)/)![1]);
  const t = await timesOf(frame);
  assert.match(t.packets!, /^\d+\.\d{6}$/);
  assert.deepEqual(Object.values(t), Object.values(t).map(() => t.packets), JSON.stringify(t));
});

test('--time-format session, absolute and delta change every view alike', async () => {
  const s = await timesOf(2, ['--time-format', 'session']);
  // Frame 2 opens session 2: its own start.
  assert.deepEqual(Object.values(s), ['+0.000000', '+0.000000', '+0.000000', '+0.000000'], JSON.stringify(s));
  const a = await timesOf(7, ['--time-format', 'absolute']);
  assert.match(a.packets!, /^\d{2}:\d{2}:\d{2}\.\d{6}$/);
  assert.deepEqual(Object.values(a), Object.values(a).map(() => a.packets), JSON.stringify(a));
  const ladder = await view('-v', 'ladder', '--time-format', 'delta');
  assert.match(ladder, /time: seconds since the arrow before/);
  assert.match(ladder, /^\s+1 \+0\.000000 /m);
});
