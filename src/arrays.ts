/**
 * Array helpers for lists as long as a capture makes them. `to.push(...items)` and `Math.max(...values)`
 * pass one argument per element, and past about 125,000 elements the call overflows the stack: a long
 * capture's packet list or a session of 100,000 commands crashed that way.
 */

/** Appends every item to `to`. */
export function pushAll<T>(to: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) to.push(items[i]!);
}

/** The largest of `least` and of `of(x)` for every item. */
export function maxOf<T>(items: readonly T[], of: (x: T) => number, least = -Infinity): number {
  let most = least;
  for (let i = 0; i < items.length; i++) {
    const v = of(items[i]!);
    if (v > most) most = v;
  }
  return most;
}
