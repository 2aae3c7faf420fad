/** Where an address lies: RFC 1918 and friends, for the NAT and bounce checks. */
/** RFC 1918, RFC 4193 (fc00::/7), and the shared NAT range (RFC 6598). */
export function isPrivate(address: string): boolean {
  if (address.includes(':')) return /^f[cd][0-9a-f]{2}:/i.test(address);
  const [a, b] = address.split('.').map(Number) as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/** Neither private, loopback, link-local nor documentation: an address on the Internet. */
export function isPublic(address: string): boolean {
  if (isPrivate(address)) return false;
  if (address.includes(':')) return !/^(::1?$|fe[89ab][0-9a-f]:|2001:db8:)/i.test(address);
  const [a, b, c] = address.split('.').map(Number) as [number, number, number];
  return !(a === 127 || a === 0 || (a === 169 && b === 254) || (a === 192 && b === 0 && c === 2) || (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) || (a === 203 && b === 0 && c === 113) || a >= 224);
}
