import { existsSync } from 'node:fs';
import { openCapture } from '../src/capture/open-capture.js';
import type { Readable } from 'node:stream';
import type { CaptureSummary } from '../src/analyze.js';
import { settings, type Settings } from '../src/config.js';
import { createAnalysis, type Analysis, type Hooks, type Plan } from '../src/pipeline.js';

/**
 * An FTPS fixture's key log (fixtures/NAME.keys, written by the client that made NAME.pcap), which tests give
 * as an analyst would; none for the others.
 */
export function fixtureKeyLog(capture: string): string[] {
  const keys = capture.replace(/\.pcap$/, '.keys');
  return keys !== capture && existsSync(keys) ? [keys] : [];
}

/** The arguments that give a fixture's key log (see fixtureKeyLog). */
export function keyLogArgs(capture: string): string[] {
  return fixtureKeyLog(capture).flatMap((k) => ['--tls-keylog', k]);
}

/** What a whole analysis keeps: every command, every connection, no release; packets when asked. */
export const WHOLE: Plan = { exchanges: true, packets: false, everyConnection: true, release: false, timeline: true };

/**
 * A capture analysed through the one pipeline (createAnalysis), with the options changed as given: what
 * tests call instead of wiring the stages themselves.
 */
export async function analyseCapture(
  name: string,
  source: string | Readable,
  changes: Partial<Settings> = {},
  plan: Partial<Plan> = {},
  hooks: Hooks = {},
): Promise<Analysis & { capture: CaptureSummary }> {
  const analysis = createAnalysis(settings(changes), { ...WHOLE, ...plan }, hooks);
  const capture = await analysis.run(await openCapture(name, source));
  return { ...analysis, capture };
}
