/** Small text helpers shared by every human view. */

/** 1234567 -> "1,234,567". */
export function group(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Exact UTC time with nanoseconds: 2024-03-27T16:56:39.984671000Z. */
export function formatTime(t: { sec: number; nsec: number }): string {
  const iso = new Date(t.sec * 1000).toISOString(); // ...T16:56:39.000Z
  return `${iso.slice(0, 19)}.${String(t.nsec).padStart(9, '0')}Z`;
}

/**
 * Makes text from the wire (or anything untrusted) safe for a terminal: control characters, DEL, C1
 * controls and lone surrogates become visible escapes, so no capture can move the cursor or change colours.
 */
export function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/gu, (ch) => {
    const c = ch.charCodeAt(0);
    if (c === 0x0a) return '\\n';
    if (c === 0x0d) return '\\r';
    if (c === 0x09) return '\\t';
    return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}
