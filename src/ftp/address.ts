/**
 * Parsers for the arguments that set up an FTP data connection: the PORT, EPRT and LPRT commands and the
 * 227 (PASV), 229 (EPSV) and 228 (LPSV) replies.
 *
 * Every parser is total: for any input, even one that is not a string, it returns a result and never
 * throws. A result is either an endpoint or the reason, in plain English, why the text is not one.
 *
 * Sources:
 *  - RFC 959 section 4.1.2 and 5.3.2: PORT h1,h2,h3,h4,p1,p2 and "227 Entering Passive Mode
 *    (h1,h2,h3,h4,p1,p2)", each number one byte of the address or the port, port = p1*256+p2.
 *    RFC 959's grammar says "any decimal integer 1 through 255", but 0 is an ordinary octet (10.0.0.1)
 *    and an ordinary port byte, so 0..255 is accepted.
 *  - RFC 2428: EPRT <d><net-prt><d><net-addr><d><tcp-port><d> with <d> any ASCII 33-126, net-prt 1 (IPv4,
 *    dotted decimal) or 2 (IPv6, RFC 2373 text), and "229 ... (<d><d><d><tcp-port><d>)" whose first two
 *    fields must be blank.
 *  - RFC 1639: LPRT af,hal,h1,...,pal,p1,... and "228 Entering Long Passive Mode (...)"; af is the IP
 *    version (4 or 6), hal the number of address bytes, pal the number of port bytes.
 *  - 227 replies in the wild do not all use parentheses ("227 Entering passive mode. 127,0,0,1,4,51",
 *    "227 =127,0,0,1,4,51"); like Wireshark and curl, the first six comma-separated numbers in the text are
 *    taken.
 *
 * Choices made here:
 *  - Leading zeros are accepted in every number ("010" is ten, never octal).
 *  - IPv6 addresses with a zone id ("fe80::1%eth0") are rejected: the zone names an interface of the host
 *    that wrote it, means nothing to the other side, and is not part of the address forms RFC 2428 allows.
 *  - Hosts are returned as canonical text: dotted quad without leading zeros, or RFC 5952 IPv6 (lower case,
 *    no leading zeros, the longest run of two or more zero groups shortened to "::", IPv4-mapped addresses
 *    as ::ffff:a.b.c.d).
 */

import { formatIpv6Groups } from '../decode/packet.js';

export interface Endpoint {
  valid: true;
  family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. "" when `unspecified`. */
  host: string;
  port: number;
  /** For PORT/227/LPRT/228: the numbers as sent, to explain the arithmetic (e.g. [192,168,120,168,200,100]). */
  numbers?: number[];
  /**
   * EPRT with an empty or unspecified (0.0.0.0 / ::) address: the client means "my address on the control
   * connection" (lftp sends |2|::|port|). host is then "".
   */
  unspecified?: boolean;
}

export interface Invalid {
  valid: false;
  /** Plain English, e.g. "octet 300 is above 255", "port 0 is not a port", "expected 6 numbers, found 5". */
  reason: string;
}

export type Parsed = Endpoint | Invalid;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function invalid(reason: string): Invalid {
  return { valid: false, reason };
}

/** Quotes a piece of input for a reason: escaped, and cut when long. */
function show(s: string): string {
  const cut = s.length > 24 ? s.slice(0, 24) + '…' : s;
  return JSON.stringify(cut);
}

/** A run of decimal digits, shown without its leading zeros and shortened when very long. */
function showDigits(digits: string): string {
  const d = digits.replace(/^0+(?=\d)/, '');
  return d.length > 20 ? `${d.slice(0, 12)}… (${d.length} digits)` : d;
}

const DIGITS = /^[0-9]+$/;

/** Without the spaces and tabs at either end (a loop: a regular expression for the end would be quadratic). */
function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return s.slice(a, b);
}

/**
 * One number of a comma-separated list: digits, with spaces or tabs around it. Returns the digits (without
 * the spaces) or a reason.
 */
function numberToken(token: string, what: string): { digits: string } | Invalid {
  const t = trimBlanks(token);
  if (t === '') return invalid(`${what} is empty`);
  if (!DIGITS.test(t)) return invalid(`${what} is not a number: ${show(t)}`);
  return { digits: t };
}

/** The value of a digit string, or Infinity when it is too long to matter (more than 15 digits). */
function digitValue(digits: string): number {
  const d = digits.replace(/^0+(?=\d)/, '');
  return d.length > 15 ? Infinity : Number(d);
}

function dottedQuad(b: readonly number[]): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function checkPort(port: number, text: string): Invalid | null {
  if (port === 0) return invalid('port 0 is not a port');
  if (port > 65535) return invalid(`port ${text} is above 65535`);
  return null;
}

// ---------------------------------------------------------------------------
// Addresses as text
// ---------------------------------------------------------------------------

/** Dotted-decimal IPv4: four numbers 0..255, leading zeros accepted. */
function parseIpv4Text(s: string): number[] | Invalid {
  const parts = s.split('.');
  if (parts.length !== 4) return invalid(`${show(s)} is not an IPv4 address (expected 4 dot-separated numbers, found ${parts.length})`);
  const out: number[] = [];
  for (const p of parts) {
    if (p === '') return invalid(`${show(s)} is not an IPv4 address (a number is missing)`);
    if (!DIGITS.test(p)) return invalid(`${show(s)} is not an IPv4 address (${show(p)} is not a number)`);
    const v = digitValue(p);
    if (v > 255) return invalid(`octet ${showDigits(p)} is above 255`);
    out.push(v);
  }
  return out;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Parses one side of "::" (or a whole address without it) into 16-bit groups. */
function ipv6Groups(side: string, last: boolean, whole: string): number[] | Invalid {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (last && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4Text(p);
      if (!Array.isArray(v4)) return invalid(`${show(whole)} is not an IPv6 address (its IPv4 part: ${v4.reason})`);
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (p === '') return invalid(`${show(whole)} is not an IPv6 address (an empty group)`);
    if (!HEX_GROUP.test(p)) return invalid(`${show(whole)} is not an IPv6 address (${show(p)} is not 1 to 4 hex digits)`);
    out.push(parseInt(p, 16));
  }
  return out;
}

/** IPv6 text (RFC 4291 section 2.2 forms, including a trailing dotted quad) into eight 16-bit groups. */
function parseIpv6Text(s: string): number[] | Invalid {
  if (s.includes('%')) return invalid(`IPv6 zone id ${show(s.slice(s.indexOf('%')))} is not allowed: a zone only means something on the host that wrote it`);
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return invalid(`${show(s)} is not an IPv6 address`);
  const gap = s.indexOf('::');
  if (gap >= 0 && s.indexOf('::', gap + 1) >= 0) return invalid(`${show(s)} is not an IPv6 address ("::" appears twice)`);
  if (gap < 0) {
    const g = ipv6Groups(s, true, s);
    if (!Array.isArray(g)) return g;
    if (g.length !== 8) return invalid(`${show(s)} is not an IPv6 address (expected 8 groups, found ${g.length})`);
    return g;
  }
  const head = ipv6Groups(s.slice(0, gap), false, s);
  if (!Array.isArray(head)) return head;
  const tail = ipv6Groups(s.slice(gap + 2), true, s);
  if (!Array.isArray(tail)) return tail;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return invalid(`${show(s)} is not an IPv6 address (too many groups)`);
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}


function bytesToGroups(b: readonly number[]): number[] {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  return g;
}

// ---------------------------------------------------------------------------
// PORT and 227
// ---------------------------------------------------------------------------

const HOST_PORT_NAMES = ['h1', 'h2', 'h3', 'h4', 'p1', 'p2'];

/** Six numbers as digit strings (already checked to be digits) into an endpoint or a reason. */
function hostPort(digits: readonly string[]): Parsed {
  const numbers: number[] = [];
  for (let i = 0; i < 6; i++) {
    const v = digitValue(digits[i]!);
    if (v > 255) return invalid(i < 4 ? `octet ${showDigits(digits[i]!)} is above 255` : `port byte ${HOST_PORT_NAMES[i]} = ${showDigits(digits[i]!)} is above 255`);
    numbers.push(v);
  }
  const port = numbers[4]! * 256 + numbers[5]!;
  const bad = checkPort(port, String(port));
  if (bad) return bad;
  return { valid: true, family: 4, host: dottedQuad(numbers), port, numbers };
}

/** PORT h1,h2,h3,h4,p1,p2 (RFC 959 section 4.1.2); spaces around the numbers are tolerated. */
export function parsePortArg(arg: string): Parsed {
  try {
    if (typeof arg !== 'string') return invalid('the argument is not text');
    const s = arg.trim();
    if (s === '') return invalid('the argument is empty: expected h1,h2,h3,h4,p1,p2');
    const tokens = s.split(',');
    if (tokens.length !== 6) return invalid(`expected 6 numbers, found ${tokens.length}`);
    const digits: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = numberToken(tokens[i]!, HOST_PORT_NAMES[i]!);
      if ('valid' in t) return t;
      digits.push(t.digits);
    }
    return hostPort(digits);
  } catch {
    return invalid('the argument could not be read');
  }
}

/**
 * Six comma-separated numbers, spaces allowed around the commas, starting at the beginning of a run of digits
 * (never inside a longer number, never after a minus sign).
 */
const SIX_NUMBERS = /(?<![0-9-])([0-9]+)[ \t]*,[ \t]*([0-9]+)[ \t]*,[ \t]*([0-9]+)[ \t]*,[ \t]*([0-9]+)[ \t]*,[ \t]*([0-9]+)[ \t]*,[ \t]*([0-9]+)(?![0-9])/;

/** 227 reply text: the first six comma-separated numbers anywhere in it, with or without parentheses. */
export function parsePasvReply(text: string): Parsed {
  try {
    if (typeof text !== 'string') return invalid('the reply is not text');
    if (text.trim() === '') return invalid('the reply text is empty: expected h1,h2,h3,h4,p1,p2');
    const m = SIX_NUMBERS.exec(text);
    if (m === null) return invalid('the reply has no six comma-separated numbers (h1,h2,h3,h4,p1,p2)');
    return hostPort(m.slice(1, 7));
  } catch {
    return invalid('the reply could not be read');
  }
}

// ---------------------------------------------------------------------------
// EPRT and 229
// ---------------------------------------------------------------------------

function delimiterOk(d: string): boolean {
  const c = d.charCodeAt(0);
  return d.length === 1 && c >= 33 && c <= 126;
}

function describeChar(d: string): string {
  const c = d.codePointAt(0) ?? 0;
  if (c >= 33 && c <= 126) return `"${d}"`;
  return `character ${c}${c === 32 ? ' (space)' : ''}`;
}

/** The network-protocol field of EPRT or 229: 1 is IPv4, 2 is IPv6. */
function netProtocol(field: string): 4 | 6 | Invalid {
  if (field === '') return invalid('the network protocol field is empty');
  if (!DIGITS.test(field)) return invalid(`network protocol ${show(field)} is not a number`);
  const v = digitValue(field);
  if (v === 1) return 4;
  if (v === 2) return 6;
  return invalid(`network protocol ${showDigits(field)} is neither 1 (IPv4) nor 2 (IPv6)`);
}

/** A decimal TCP port 1..65535 given as text. */
function tcpPort(field: string): number | Invalid {
  if (field === '') return invalid('the port field is empty');
  if (!DIGITS.test(field)) return invalid(`port ${show(field)} is not a number`);
  const v = digitValue(field);
  const bad = checkPort(v, showDigits(field));
  return bad ?? v;
}

/** EPRT <d><net-prt><d><net-addr><d><tcp-port><d> (RFC 2428 section 2). */
export function parseEprtArg(arg: string): Parsed {
  try {
    if (typeof arg !== 'string') return invalid('the argument is not text');
    const s = arg.trim();
    if (s === '') return invalid('the argument is empty: expected <d><protocol><d><address><d><port><d>, e.g. |1|132.235.1.2|6275|');
    const d = String.fromCodePoint(s.codePointAt(0)!);
    if (!delimiterOk(d)) return invalid(`the delimiter ${describeChar(d)} is not a printable ASCII character (33 to 126)`);
    const fields = s.split(d);
    const delimiters = fields.length - 1;
    if (delimiters !== 4) return invalid(`expected 4 ${describeChar(d)} delimiters, found ${delimiters}`);
    if (fields[4] !== '') return invalid(`the argument does not end with the delimiter ${describeChar(d)}`);
    const family = netProtocol(fields[1]!);
    if (typeof family !== 'number') return family;
    const port = tcpPort(fields[3]!);
    if (typeof port !== 'number') return port;
    const addr = fields[2]!;
    if (addr === '') return { valid: true, family, host: '', port, unspecified: true };
    if (family === 4) {
      if (addr.includes(':')) {
        const v6 = parseIpv6Text(addr);
        if (Array.isArray(v6)) return invalid(`network protocol 1 (IPv4) does not match the IPv6 address ${formatIpv6Groups(v6)}`);
      }
      const b = parseIpv4Text(addr);
      if (!Array.isArray(b)) return b;
      if (b.every((x) => x === 0)) return { valid: true, family: 4, host: '', port, unspecified: true };
      return { valid: true, family: 4, host: dottedQuad(b), port };
    }
    if (!addr.includes(':')) {
      const v4 = parseIpv4Text(addr);
      if (Array.isArray(v4)) return invalid(`network protocol 2 (IPv6) does not match the IPv4 address ${dottedQuad(v4)} (as IPv6 it would be ::ffff:${dottedQuad(v4)})`);
    }
    const g = parseIpv6Text(addr);
    if (!Array.isArray(g)) return g;
    if (g.every((x) => x === 0)) return { valid: true, family: 6, host: '', port, unspecified: true };
    return { valid: true, family: 6, host: formatIpv6Groups(g), port };
  } catch {
    return invalid('the argument could not be read');
  }
}

const EPSV_GROUP_MAX = 128;

/** The four fields of a "(<d><prot><d><addr><d><port><d>)" group whose "(" is at `open`, or null if none is there. */
function epsvGroup(text: string, open: number): string[] | null {
  const d = text[open + 1];
  if (d === undefined || !delimiterOk(d) || d === '(' || d === ')') return null;
  // The group is short (a protocol, an address of at most 45 characters, a port): look no further than that,
  // so that a reply full of "(" is still read in linear time.
  const close = text.slice(open + 2, open + 2 + EPSV_GROUP_MAX).indexOf(d + ')');
  if (close < 0) return null;
  const fields = text.slice(open + 1, open + 2 + close + 1).split(d);
  return fields.length === 5 ? fields.slice(1, 4) : null;
}

/**
 * A group standing alone, without parentheses: " |||6446|" (or " |2||6446|"). The delimiter is not a letter,
 * digit or "."; the fields are short, so that no input makes the search slow.
 */
const BARE_EPSV = /(?:^|[ \t])([!-\-\/:-@[-`{-~])([0-9]?)\1\1([0-9]{1,32})\1(?=$|[ \t.;,])/;

/**
 * 229 reply text: "(|||6446|)" with any delimiter (RFC 2428 section 3). Only the port is there; the address
 * is the server's on the control connection. Where a server fills the protocol field (1 or 2), `family` says
 * which. Without parentheses, a delimited group standing alone ("... |||6446|") is accepted too.
 */
export function parseEpsvReply(text: string): { valid: true; port: number; family?: 4 | 6 } | Invalid {
  try {
    if (typeof text !== 'string') return invalid('the reply is not text');
    if (text.trim() === '') return invalid('the reply text is empty: expected (|||port|)');
    // The first parenthesised group whose port field is a number; failing that, the first group at all,
    // to say what is wrong with it. A "(" in the text before the group is passed over.
    let group: string[] | null = null;
    let first: string[] | null = null;
    for (let open = text.indexOf('('); open >= 0; open = text.indexOf('(', open + 1)) {
      const g = epsvGroup(text, open);
      if (g === null) continue;
      first ??= g;
      if (DIGITS.test(g[2]!)) {
        group = g;
        break;
      }
    }
    group ??= first;
    if (group === null) {
      const m = BARE_EPSV.exec(text);
      if (m !== null) group = [m[2]!, '', m[3]!];
    }
    if (group === null) return invalid('the reply has no (|||port|) group');
    const [prot, addr, portText] = group as [string, string, string];
    if (addr !== '') return invalid(`the address field must be empty in a 229 reply (RFC 2428), found ${show(addr)}`);
    const port = tcpPort(portText);
    if (typeof port !== 'number') return port;
    if (prot === '') return { valid: true, port };
    const family = netProtocol(prot);
    if (typeof family !== 'number') return family;
    return { valid: true, port, family };
  } catch {
    return invalid('the reply could not be read');
  }
}

// ---------------------------------------------------------------------------
// LPRT and 228
// ---------------------------------------------------------------------------

/** af,hal,h1..,pal,p1.. as digit strings (already checked to be digits) into an endpoint or a reason. */
function longHostPort(digits: readonly string[]): Parsed {
  const n = digits.length;
  if (n < 2) return invalid(`expected at least the address family and length, found ${n} number${n === 1 ? '' : 's'}`);
  const numbers: number[] = [];
  for (const d of digits) {
    const v = digitValue(d);
    if (v > 255) return invalid(`number ${showDigits(d)} is above 255 (every LPRT field is one byte)`);
    numbers.push(v);
  }
  const af = numbers[0]!;
  const hal = numbers[1]!;
  if (af !== 4 && af !== 6) return invalid(`address family ${af} is neither 4 (IPv4) nor 6 (IPv6)`);
  const wantHal = af === 4 ? 4 : 16;
  if (hal !== wantHal) return invalid(`address length ${hal} does not fit family ${af}, which has ${wantHal}-byte addresses`);
  if (n < 3 + hal) return invalid(`expected ${2 + hal + 1 + 2} numbers, found ${n}`);
  const pal = numbers[2 + hal]!;
  if (pal !== 2) return invalid(`port length ${pal} is not 2`);
  if (n !== 5 + hal) return invalid(`expected ${5 + hal} numbers, found ${n}`);
  const hostBytes = numbers.slice(2, 2 + hal);
  const port = numbers[n - 2]! * 256 + numbers[n - 1]!;
  const bad = checkPort(port, String(port));
  if (bad) return bad;
  const host = af === 4 ? dottedQuad(hostBytes) : formatIpv6Groups(bytesToGroups(hostBytes));
  return { valid: true, family: af, host, port, numbers };
}

/** LPRT af,hal,h1,...,pal,p1,p2 (RFC 1639): af 4 with hal 4, af 6 with hal 16; pal 2. */
export function parseLprtArg(arg: string): Parsed {
  try {
    if (typeof arg !== 'string') return invalid('the argument is not text');
    const s = arg.trim();
    if (s === '') return invalid('the argument is empty: expected af,hal,h1,...,pal,p1,p2');
    const tokens = s.split(',');
    const digits: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = numberToken(tokens[i]!, `number ${i + 1}`);
      if ('valid' in t) return t;
      digits.push(t.digits);
    }
    return longHostPort(digits);
  } catch {
    return invalid('the argument could not be read');
  }
}

/** A run of two or more comma-separated numbers, spaces allowed around the commas. */
const NUMBER_RUN = /(?<![0-9-])[0-9]+(?:[ \t]*,[ \t]*[0-9]+)+(?![0-9])/g;

/** 228 reply text: "Entering Long Passive Mode (4,4,1,2,3,4,2,4,15)"; the first run of comma-separated numbers. */
export function parseLpsvReply(text: string): Parsed {
  try {
    if (typeof text !== 'string') return invalid('the reply is not text');
    if (text.trim() === '') return invalid('the reply text is empty: expected (af,hal,h1,...,pal,p1,p2)');
    // The first run of three numbers or more (af, hal and at least one more); failing that, the first run.
    let run: string[] | null = null;
    for (const m of text.matchAll(NUMBER_RUN)) {
      const numbers = m[0].split(',').map(trimBlanks);
      run ??= numbers;
      if (numbers.length >= 3) {
        run = numbers;
        break;
      }
    }
    if (run === null) return invalid('the reply has no comma-separated numbers (af,hal,h1,...,pal,p1,p2)');
    return longHostPort(run);
  } catch {
    return invalid('the reply could not be read');
  }
}

// ---------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------

/**
 * Formats the p1,p2 arithmetic for explanations: "200*256+100 = 51300". Takes the numbers as sent (the last two
 * are p1 and p2, for PORT, 227, LPRT and 228 alike); "" when there are fewer than two.
 */
export function portArithmetic(numbers: number[]): string {
  if (!Array.isArray(numbers) || numbers.length < 2) return '';
  const p1 = numbers[numbers.length - 2]!;
  const p2 = numbers[numbers.length - 1]!;
  return `${p1}*256+${p2} = ${p1 * 256 + p2}`;
}
