// Byte-order reads for the hot path. Buffer's readUInt* check their arguments on every call; here every
// offset has been checked against the captured length before the read, so plain indexing is enough.

/** Big-endian 16-bit value at o. */
export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Big-endian 32-bit value at o. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Little-endian 32-bit value at o. */
export function u32le(b: Uint8Array, o: number): number {
  return ((b[o + 3]! << 24) | (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!) >>> 0;
}
