/** How findings are ordered and chosen by severity: a fact of the model that every output lists alike. */
import type { Finding, Severity } from './ftp-model.js';

/** The severities, from the least to the gravest. */
export const SEVERITIES: readonly Severity[] = ['info', 'notice', 'warning', 'alert'];

/** How findings are listed everywhere: the gravest first, then by their first frame (a stable sort keeps ties in the order made). */
export function byImportance(a: Finding, b: Finding): number {
  return SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || (a.frames[0] ?? 0) - (b.frames[0] ?? 0);
}

/**
 * byImportance as one number, for lists kept by a numeric key (SortedSpill): severity, then the first frame
 * (up to 2^31), then `made`, the place in the order findings were made (its low 20 bits break ties).
 */
export function importanceKey(f: Finding, made: number): number {
  const frame = Math.min(f.frames[0] ?? 0, 2 ** 31 - 1);
  return (3 - SEVERITIES.indexOf(f.severity)) * 2 ** 51 + frame * 2 ** 20 + (made % 2 ** 20);
}

/** Whether a finding is at least as grave as `min` (--min-severity). */
export function graveEnough(f: Finding, min: Severity): boolean {
  return SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(min);
}
