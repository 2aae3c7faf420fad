/**
 * Data-connection arguments: PORT, EPRT and LPRT commands and the 227, 229 and 228 replies. Valid and invalid
 * vectors for each parser, canonical host text checked against Node's own IPv6 reading, and random input that
 * must never make a parser throw.
 */

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import {
  parseEprtArg,
  parseEpsvReply,
  parseLprtArg,
  parseLpsvReply,
  parsePasvReply,
  parsePortArg,
  portArithmetic,
  type Parsed,
} from '../src/ftp/address.js';
import { prng, randomInt } from './support/random.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function endpoint(p: Parsed): { family: 4 | 6; host: string; port: number; numbers?: number[]; unspecified?: boolean } {
  if (!p.valid) assert.fail(`expected an endpoint, got: ${p.reason}`);
  return p;
}

function reason(p: { valid: boolean; reason?: string }): string {
  if (p.valid) assert.fail(`expected invalid, got ${JSON.stringify(p)}`);
  assert.equal(typeof p.reason, 'string');
  assert.ok(p.reason!.length > 0, 'a reason is given');
  return p.reason!;
}

/** Node's WHATWG URL serializer: the RFC 5952 form for all but IPv4-mapped addresses. */
function whatwgIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

// ---------------------------------------------------------------------------
// PORT
// ---------------------------------------------------------------------------

describe('PORT h1,h2,h3,h4,p1,p2 (RFC 959 section 4.1.2)', () => {
  test('the RFC form: port = p1*256+p2, the numbers kept to explain it', () => {
    const e = endpoint(parsePortArg('192,168,120,168,200,100'));
    assert.deepEqual(e, { valid: true, family: 4, host: '192.168.120.168', port: 51300, numbers: [192, 168, 120, 168, 200, 100] });
    assert.equal(portArithmetic(e.numbers!), '200*256+100 = 51300');
  });

  test('spaces around the numbers and around the argument are tolerated', () => {
    const e = endpoint(parsePortArg('  10, 0 ,0 , 1,\t0 ,21 \r\n'));
    assert.equal(e.host, '10.0.0.1');
    assert.equal(e.port, 21);
  });

  test('leading zeros are accepted, and read as decimal', () => {
    const e = endpoint(parsePortArg('010,000,001,002,004,001'));
    assert.equal(e.host, '10.0.1.2');
    assert.equal(e.port, 4 * 256 + 1);
    assert.deepEqual(e.numbers, [10, 0, 1, 2, 4, 1]);
  });

  test('the highest port, 255*256+255', () => {
    assert.equal(endpoint(parsePortArg('1,2,3,4,255,255')).port, 65535);
    assert.equal(endpoint(parsePortArg('1,2,3,4,0,1')).port, 1);
  });

  test('an octet above 255 is refused, naming it', () => {
    assert.equal(reason(parsePortArg('300,1,1,1,1,1')), 'octet 300 is above 255');
    assert.equal(reason(parsePortArg('1,1,1,256,1,1')), 'octet 256 is above 255');
  });

  test('a port byte above 255 is refused (the port would be above 65535)', () => {
    assert.match(reason(parsePortArg('1,2,3,4,256,0')), /port byte p1 = 256 is above 255/);
    assert.match(reason(parsePortArg('1,2,3,4,1,999')), /port byte p2 = 999 is above 255/);
  });

  test('port 0 is refused', () => {
    assert.equal(reason(parsePortArg('1,2,3,4,0,0')), 'port 0 is not a port');
  });

  test('too few or too many numbers', () => {
    assert.equal(reason(parsePortArg('1,2,3,4,5')), 'expected 6 numbers, found 5');
    assert.equal(reason(parsePortArg('1,2,3,4,5,6,7')), 'expected 6 numbers, found 7');
    assert.equal(reason(parsePortArg('1')), 'expected 6 numbers, found 1');
  });

  test('empty argument, empty numbers, non-digits, signs', () => {
    assert.match(reason(parsePortArg('')), /empty/);
    assert.match(reason(parsePortArg('   ')), /empty/);
    assert.match(reason(parsePortArg('1,2,,4,5,6')), /h3 is empty/);
    assert.match(reason(parsePortArg('1,2,3,4,5,x')), /p2 is not a number/);
    assert.match(reason(parsePortArg('1,2,3,4,5,-6')), /p2 is not a number/);
    assert.match(reason(parsePortArg('1,2,3,4,5,+6')), /p2 is not a number/);
    assert.match(reason(parsePortArg('0x1,2,3,4,5,6')), /h1 is not a number/);
    assert.match(reason(parsePortArg('1,2,3,4,5,6 extra')), /p2 is not a number/);
    assert.match(reason(parsePortArg('(1,2,3,4,5,6)')), /not a number/);
  });

  test('huge numbers are refused without losing the reason', () => {
    const r = reason(parsePortArg('99999999999999999999999999,1,1,1,1,1'));
    assert.match(r, /^octet 9+… \(26 digits\) is above 255$/);
    assert.match(reason(parsePortArg(`1,2,3,4,5,${'9'.repeat(5000)}`)), /p2 = 9+… \(5000 digits\) is above 255/);
  });

  test('0.0.0.0 is a syntactically valid host (only the port is checked)', () => {
    assert.equal(endpoint(parsePortArg('0,0,0,0,4,1')).host, '0.0.0.0');
  });
});

// ---------------------------------------------------------------------------
// 227
// ---------------------------------------------------------------------------

describe('227 reply to PASV: the first six comma-separated numbers (Wireshark, curl)', () => {
  test('the RFC 959 form: "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)"', () => {
    const e = endpoint(parsePasvReply('Entering Passive Mode (199,233,217,249,221,90)'));
    assert.deepEqual(e, { valid: true, family: 4, host: '199.233.217.249', port: 221 * 256 + 90, numbers: [199, 233, 217, 249, 221, 90] });
  });

  test('without parentheses: "=h1,...", "passive mode. h1,...", "listen to h1,..."', () => {
    assert.equal(endpoint(parsePasvReply('=199,233,217,249,221,90')).port, 56666);
    assert.equal(endpoint(parsePasvReply('Entering passive mode. 127,0,0,1,4,51')).host, '127.0.0.1');
    assert.equal(endpoint(parsePasvReply('Data transfer will passively listen to 127,0,0,1,4,51')).port, 4 * 256 + 51);
  });

  test('the whole reply line works too, and other numbers before the six are passed over', () => {
    assert.equal(endpoint(parsePasvReply('227 Entering Passive Mode (10,0,0,1,4,1).')).host, '10.0.0.1');
    assert.equal(endpoint(parsePasvReply('Mode 1234 ok, 7 (1, 2, 3, 4, 5, 6)')).host, '1.2.3.4');
    assert.equal(endpoint(parsePasvReply('1,2,3 then 9,8,7,6,5,4')).host, '9.8.7.6');
  });

  test('the six do not start inside a longer number', () => {
    // "1216,256,..." must be read as 1216, not as 216 or 16.
    assert.equal(reason(parsePasvReply('Entering Passive Mode (1216,256,2,127,127,127)')), 'octet 1216 is above 255');
  });

  test('octets above 255, port 0, five numbers, garbage', () => {
    assert.equal(reason(parsePasvReply('(10,0,0,300,4,1)')), 'octet 300 is above 255');
    assert.equal(reason(parsePasvReply('(10,0,0,1,0,0)')), 'port 0 is not a port');
    assert.match(reason(parsePasvReply('(10,0,0,1,4)')), /no six comma-separated numbers/);
    assert.match(reason(parsePasvReply('Entering Passive Mode')), /no six comma-separated numbers/);
    assert.match(reason(parsePasvReply('')), /empty/);
  });
});

// ---------------------------------------------------------------------------
// EPRT
// ---------------------------------------------------------------------------

describe('EPRT <d><net-prt><d><net-addr><d><tcp-port><d> (RFC 2428 section 2)', () => {
  test('the RFC examples: "EPRT |1|132.235.1.2|6275|" and "EPRT |2|1080::8:800:200C:417A|5282|"', () => {
    assert.deepEqual(parseEprtArg('|1|132.235.1.2|6275|'), { valid: true, family: 4, host: '132.235.1.2', port: 6275 });
    assert.deepEqual(parseEprtArg('|2|1080::8:800:200C:417A|5282|'), { valid: true, family: 6, host: '1080::8:800:200c:417a', port: 5282 });
  });

  test('"The delimiter character MUST be one of the ASCII characters in range 33-126": others than | work', () => {
    for (const d of ['!', '#', '$', '%', '&', "'", '*', '+', '-', '/', ';', '<', '=', '>', '?', '@', '^', '_', '`', '~', 'x', '"']) {
      const e = endpoint(parseEprtArg(`${d}1${d}10.1.2.3${d}2121${d}`));
      assert.equal(e.host, '10.1.2.3', `delimiter ${d}`);
      assert.equal(e.port, 2121, `delimiter ${d}`);
    }
    assert.equal(endpoint(parseEprtArg('!2!2001:db8::1!21!')).host, '2001:db8::1');
  });

  test('delimiters outside 33-126 are refused', () => {
    assert.match(reason(parseEprtArg('\u00e91\u00e91.2.3.4\u00e95\u00e9')), /not a printable ASCII character/);
    assert.match(reason(parseEprtArg('\u{1F600}1\u{1F600}1.2.3.4\u{1F600}5\u{1F600}')), /character 128512/);
    assert.match(reason(parseEprtArg('\x7f1\x7f1.2.3.4\x7f5\x7f')), /character 127/);
  });

  test('a delimiter that also appears in the address makes the count wrong', () => {
    assert.equal(reason(parseEprtArg(':2:::1:21:')), 'expected 4 ":" delimiters, found 6');
    assert.equal(reason(parseEprtArg('.1.1.2.3.4.21.')), 'expected 4 "." delimiters, found 7');
  });

  test('spaces around the argument are tolerated', () => {
    assert.equal(endpoint(parseEprtArg('  |1|10.0.0.1|21|  ')).port, 21);
  });

  test('IPv6: canonical RFC 5952 text (lower case, no leading zeros, longest zero run shortened)', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // the longer run, not the first
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
      ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1::', '1::'],
      ['::1.2.3.4', '::102:304'],
    ];
    for (const [text, canonical] of cases) {
      assert.equal(endpoint(parseEprtArg(`|2|${text}|21|`)).host, canonical, text);
    }
  });

  test('IPv4-mapped IPv6 is kept IPv6, written ::ffff:a.b.c.d (RFC 5952 section 5)', () => {
    assert.deepEqual(parseEprtArg('|2|::ffff:192.0.2.1|21|'), { valid: true, family: 6, host: '::ffff:192.0.2.1', port: 21 });
    assert.deepEqual(parseEprtArg('|2|0:0:0:0:0:FFFF:C000:0201|21|'), { valid: true, family: 6, host: '::ffff:192.0.2.1', port: 21 });
  });

  test('IPv6 zone ids are refused (a zone only means something on the host that wrote it)', () => {
    assert.match(reason(parseEprtArg('|2|fe80::1%eth0|21|')), /zone id "%eth0" is not allowed/);
    assert.match(reason(parseEprtArg('|2|fe80::1%25|21|')), /zone id/);
  });

  test('unspecified or empty address: the client means its control-connection address (lftp sends |2|::|port|)', () => {
    assert.deepEqual(parseEprtArg('|2|::|40000|'), { valid: true, family: 6, host: '', port: 40000, unspecified: true });
    assert.deepEqual(parseEprtArg('|2|0:0:0:0:0:0:0:0|40000|'), { valid: true, family: 6, host: '', port: 40000, unspecified: true });
    assert.deepEqual(parseEprtArg('|1|0.0.0.0|40000|'), { valid: true, family: 4, host: '', port: 40000, unspecified: true });
    assert.deepEqual(parseEprtArg('|1||40000|'), { valid: true, family: 4, host: '', port: 40000, unspecified: true });
    assert.deepEqual(parseEprtArg('|2||40000|'), { valid: true, family: 6, host: '', port: 40000, unspecified: true });
  });

  test('the address must match the protocol', () => {
    assert.equal(reason(parseEprtArg('|1|::1|21|')), 'network protocol 1 (IPv4) does not match the IPv6 address ::1');
    assert.equal(
      reason(parseEprtArg('|2|192.0.2.1|21|')),
      'network protocol 2 (IPv6) does not match the IPv4 address 192.0.2.1 (as IPv6 it would be ::ffff:192.0.2.1)',
    );
  });

  test('other network protocols, and empty or non-numeric ones', () => {
    assert.equal(reason(parseEprtArg('|3|1.2.3.4|21|')), 'network protocol 3 is neither 1 (IPv4) nor 2 (IPv6)');
    assert.match(reason(parseEprtArg('||1.2.3.4|21|')), /network protocol field is empty/);
    assert.match(reason(parseEprtArg('|ip|1.2.3.4|21|')), /network protocol "ip" is not a number/);
    assert.equal(endpoint(parseEprtArg('|01|1.2.3.4|21|')).family, 4);
  });

  test('ports: 0 and above 65535 refused, empty and non-numeric refused, leading zeros accepted', () => {
    assert.equal(reason(parseEprtArg('|1|1.2.3.4|0|')), 'port 0 is not a port');
    assert.equal(reason(parseEprtArg('|1|1.2.3.4|65536|')), 'port 65536 is above 65535');
    assert.match(reason(parseEprtArg(`|1|1.2.3.4|${'9'.repeat(40)}|`)), /above 65535/);
    assert.match(reason(parseEprtArg('|1|1.2.3.4||')), /port field is empty/);
    assert.match(reason(parseEprtArg('|1|1.2.3.4|21a|')), /port "21a" is not a number/);
    assert.match(reason(parseEprtArg('|1|1.2.3.4| 21|')), /not a number/);
    assert.equal(endpoint(parseEprtArg('|1|1.2.3.4|00021|')).port, 21);
    assert.equal(endpoint(parseEprtArg('|1|1.2.3.4|65535|')).port, 65535);
  });

  test('bad IPv4 and IPv6 addresses', () => {
    assert.equal(reason(parseEprtArg('|1|1.2.3.300|21|')), 'octet 300 is above 255');
    assert.match(reason(parseEprtArg('|1|1.2.3|21|')), /not an IPv4 address/);
    assert.match(reason(parseEprtArg('|1|1.2.3.4.5|21|')), /not an IPv4 address/);
    assert.match(reason(parseEprtArg('|1|1..3.4|21|')), /not an IPv4 address/);
    assert.match(reason(parseEprtArg('|1|host.example|21|')), /not an IPv4 address/);
    assert.match(reason(parseEprtArg('|2|1::2::3|21|')), /"::" appears twice/);
    assert.match(reason(parseEprtArg('|2|1:2:3:4:5:6:7:8::|21|')), /too many groups/);
    assert.match(reason(parseEprtArg('|2|1:2:3:4:5:6:7|21|')), /expected 8 groups, found 7/);
    assert.match(reason(parseEprtArg('|2|12345::1|21|')), /not 1 to 4 hex digits/);
    assert.match(reason(parseEprtArg('|2|g::1|21|')), /not an IPv6 address/);
    assert.match(reason(parseEprtArg('|2|[::1]|21|')), /not an IPv6 address/);
    assert.match(reason(parseEprtArg('|2|::1.2.3.256|21|')), /IPv4 part/);
    assert.match(reason(parseEprtArg('|2|1.2.3.4::|21|')), /not an IPv6 address/);
    assert.match(reason(parseEprtArg('|2|:1::|21|')), /empty group/);
  });

  test('wrong shapes: missing delimiters, text after the last, empty', () => {
    assert.equal(reason(parseEprtArg('|1|1.2.3.4|21')), 'expected 4 "|" delimiters, found 3');
    assert.equal(reason(parseEprtArg('|1|1.2.3.4|21||')), 'expected 4 "|" delimiters, found 5');
    assert.equal(reason(parseEprtArg('|1|1.2.3.4|21|x')), 'the argument does not end with the delimiter "|"');
    assert.match(reason(parseEprtArg('')), /empty/);
    assert.match(reason(parseEprtArg('|')), /expected 4/);
  });
});

// ---------------------------------------------------------------------------
// 229
// ---------------------------------------------------------------------------

describe('229 reply to EPSV: "(<d><d><d><tcp-port><d>)" (RFC 2428 section 3)', () => {
  test('the RFC example: "Entering Extended Passive Mode (|||6446|)"', () => {
    assert.deepEqual(parseEpsvReply('Entering Extended Passive Mode (|||6446|)'), { valid: true, port: 6446 });
    assert.deepEqual(parseEpsvReply('229 Extended Passive mode OK (|||47730|)'), { valid: true, port: 47730 });
  });

  test('delimiters other than |', () => {
    for (const d of ['!', '#', '$', '%', '&', '*', '+', '-', '.', '/', ':', ';', '=', '?', '@', '^', '_', '~', 'x']) {
      assert.deepEqual(parseEpsvReply(`Entering Extended Passive Mode (${d}${d}${d}6446${d})`), { valid: true, port: 6446 }, `delimiter ${d}`);
    }
  });

  test('a "(" in the text before the group is passed over', () => {
    assert.deepEqual(parseEpsvReply('Entering Extended Passive Mode (EPSV) (|||6446|)'), { valid: true, port: 6446 });
    assert.deepEqual(parseEpsvReply('Mode (see: |x|) (|||6446|)'), { valid: true, port: 6446 });
  });

  test('a protocol in the first field gives the family', () => {
    assert.deepEqual(parseEpsvReply('(|2||6446|)'), { valid: true, port: 6446, family: 6 });
    assert.deepEqual(parseEpsvReply('(|1||6446|)'), { valid: true, port: 6446, family: 4 });
    assert.equal(reason(parseEpsvReply('(|7||6446|)')), 'network protocol 7 is neither 1 (IPv4) nor 2 (IPv6)');
  });

  test('"The first two fields contained in the parenthesis MUST be blank": an address is refused', () => {
    assert.match(reason(parseEpsvReply('(|1|10.0.0.1|6446|)')), /address field must be empty/);
  });

  test('a group standing alone, without parentheses', () => {
    assert.deepEqual(parseEpsvReply('Entering Extended Passive Mode |||6446|'), { valid: true, port: 6446 });
    assert.deepEqual(parseEpsvReply('Entering Extended Passive Mode !!!6446!.'), { valid: true, port: 6446 });
    assert.deepEqual(parseEpsvReply('Entering Extended Passive Mode |2||6446|'), { valid: true, port: 6446, family: 6 });
  });

  test('port 0, port above 65535, a port that is not a number, no group at all', () => {
    assert.equal(reason(parseEpsvReply('(|||0|)')), 'port 0 is not a port');
    assert.equal(reason(parseEpsvReply('(|||65536|)')), 'port 65536 is above 65535');
    assert.match(reason(parseEpsvReply('(|||abc|)')), /port "abc" is not a number/);
    assert.match(reason(parseEpsvReply('(||||)')), /port field is empty/);
    assert.match(reason(parseEpsvReply('Entering Extended Passive Mode')), /no \(\|\|\|port\|\) group/);
    assert.match(reason(parseEpsvReply('Entering Extended Passive Mode (6446)')), /no \(\|\|\|port\|\) group/);
    assert.match(reason(parseEpsvReply('(|||6446)')), /no \(\|\|\|port\|\) group/);
    assert.match(reason(parseEpsvReply('')), /empty/);
  });
});

// ---------------------------------------------------------------------------
// LPRT and 228
// ---------------------------------------------------------------------------

describe('LPRT af,hal,h1,...,pal,p1,p2 and 228 (RFC 1639)', () => {
  test('IPv4: af 4, hal 4, pal 2', () => {
    const e = endpoint(parseLprtArg('4,4,132,235,1,2,2,24,131'));
    assert.deepEqual(e, { valid: true, family: 4, host: '132.235.1.2', port: 24 * 256 + 131, numbers: [4, 4, 132, 235, 1, 2, 2, 24, 131] });
    assert.equal(portArithmetic(e.numbers!), '24*256+131 = 6275');
  });

  test('IPv6: af 6, hal 16 (the wu-ftpd example)', () => {
    const e = endpoint(parseLprtArg('6,16,254,128,0,0,0,0,0,0,2,96,176,255,254,193,123,47,2,198,244'));
    assert.equal(e.family, 6);
    assert.equal(e.host, 'fe80::260:b0ff:fec1:7b2f');
    assert.equal(e.port, 198 * 256 + 244);
  });

  test('spaces around the numbers are tolerated', () => {
    assert.equal(endpoint(parseLprtArg(' 4, 4, 10, 0, 0, 1, 2, 0, 21 ')).host, '10.0.0.1');
  });

  test('family and lengths must agree', () => {
    assert.equal(reason(parseLprtArg('5,4,1,2,3,4,2,0,21')), 'address family 5 is neither 4 (IPv4) nor 6 (IPv6)');
    assert.equal(reason(parseLprtArg('4,16,1,2,3,4,2,0,21')), 'address length 16 does not fit family 4, which has 4-byte addresses');
    assert.equal(reason(parseLprtArg('6,4,1,2,3,4,2,0,21')), 'address length 4 does not fit family 6, which has 16-byte addresses');
    assert.equal(reason(parseLprtArg('4,4,1,2,3,4,3,0,0,21')), 'port length 3 is not 2');
  });

  test('wrong counts, bytes above 255, port 0, garbage', () => {
    assert.equal(reason(parseLprtArg('4,4,1,2,3,4,2,0')), 'expected 9 numbers, found 8');
    assert.equal(reason(parseLprtArg('4,4,1,2,3,4,2,0,21,7')), 'expected 9 numbers, found 10');
    assert.equal(reason(parseLprtArg('4,4,1,2')), 'expected 9 numbers, found 4');
    assert.match(reason(parseLprtArg('4')), /found 1 number$/);
    assert.match(reason(parseLprtArg('4,4,1,2,3,400,2,0,21')), /number 400 is above 255/);
    assert.equal(reason(parseLprtArg('4,4,1,2,3,4,2,0,0')), 'port 0 is not a port');
    assert.match(reason(parseLprtArg('4,4,1,2,3,x,2,0,21')), /number 6 is not a number/);
    assert.match(reason(parseLprtArg('')), /empty/);
  });

  test('228: "Entering Long Passive Mode (af,hal,h1,...,pal,p1,p2)"', () => {
    assert.deepEqual(parseLpsvReply('Entering Long Passive Mode (4,4,1,2,3,4,2,4,15)'), {
      valid: true,
      family: 4,
      host: '1.2.3.4',
      port: 4 * 256 + 15,
      numbers: [4, 4, 1, 2, 3, 4, 2, 4, 15],
    });
    const e = endpoint(parseLpsvReply('228 Entering Long Passive Mode (6,16,254,128,0,0,0,0,0,0, 2,96,176,255,254,193,123,47,2,134,7)'));
    assert.equal(e.host, 'fe80::260:b0ff:fec1:7b2f');
    assert.equal(e.port, 134 * 256 + 7);
  });

  test('228 without parentheses, after another short run of numbers, and its errors', () => {
    assert.equal(endpoint(parseLpsvReply('Long Passive 1,2 at 4,4,10,0,0,1,2,0,21')).host, '10.0.0.1');
    assert.equal(reason(parseLpsvReply('(4,4,1,2,3,4,2,0,0)')), 'port 0 is not a port');
    assert.match(reason(parseLpsvReply('Entering Long Passive Mode')), /no comma-separated numbers/);
    assert.match(reason(parseLpsvReply('')), /empty/);
  });
});

// ---------------------------------------------------------------------------
// portArithmetic
// ---------------------------------------------------------------------------

test('portArithmetic: the last two numbers are p1 and p2', () => {
  assert.equal(portArithmetic([192, 168, 120, 168, 200, 100]), '200*256+100 = 51300');
  assert.equal(portArithmetic([0, 21]), '0*256+21 = 21');
  assert.equal(portArithmetic([255, 255]), '255*256+255 = 65535');
  assert.equal(portArithmetic([7]), '');
  assert.equal(portArithmetic([]), '');
});

// ---------------------------------------------------------------------------
// Round trips and an outside opinion on IPv6
// ---------------------------------------------------------------------------

describe('round trips', () => {
  test('random IPv4 endpoints survive PORT, 227, EPRT, LPRT and 228', () => {
    const r = prng(959);
    for (let i = 0; i < 2000; i++) {
      const b = [0, 0, 0, 0].map(() => randomInt(r, 0, 255));
      const port = randomInt(r, 1, 65535);
      const host = b.join('.');
      const six = [...b, port >> 8, port & 255];
      const want = { valid: true, family: 4, host, port, numbers: six };
      assert.deepEqual(parsePortArg(six.join(',')), want);
      assert.deepEqual(parsePasvReply(`Entering Passive Mode (${six.join(',')}).`), want);
      const lprt = [4, 4, ...b, 2, port >> 8, port & 255];
      assert.deepEqual(parseLprtArg(lprt.join(',')), { ...want, numbers: lprt });
      assert.deepEqual(parseLpsvReply(`Entering Long Passive Mode (${lprt.join(',')})`), { ...want, numbers: lprt });
      const eprt = parseEprtArg(`|1|${host}|${port}|`);
      if (b.every((x) => x === 0)) assert.deepEqual(eprt, { valid: true, family: 4, host: '', port, unspecified: true });
      else assert.deepEqual(eprt, { valid: true, family: 4, host, port });
    }
  });

  test('random IPv6 addresses: canonical text agrees with Node, and parses back to itself', () => {
    const r = prng(2428);
    for (let i = 0; i < 3000; i++) {
      // Groups with many zeros, so that runs of every length and position occur.
      const groups = Array.from({ length: 8 }, () => (r() < 0.5 ? 0 : randomInt(r, 0, 0xffff)));
      if (groups.every((g) => g === 0)) continue;
      const full = groups.map((g) => g.toString(16).padStart(r() < 0.5 ? 4 : 1, '0')).map((g) => (r() < 0.5 ? g.toUpperCase() : g)).join(':');
      const e = endpoint(parseEprtArg(`|2|${full}|21|`));
      const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
      if (!mapped) assert.equal(e.host, whatwgIpv6(full), full);
      else assert.match(e.host, /^::ffff:\d+\.\d+\.\d+\.\d+$/);
      assert.equal(endpoint(parseEprtArg(`|2|${e.host}|21|`)).host, e.host, `canonical ${e.host} is stable`);
      // LPRT carries the same address as 16 bytes.
      const bytes = groups.flatMap((g) => [g >> 8, g & 255]);
      assert.equal(endpoint(parseLprtArg([6, 16, ...bytes, 2, 0, 21].join(','))).host, e.host);
    }
  });

  test('IPv6-looking text: accepted exactly when Node accepts it', () => {
    const r = prng(4291);
    const alphabet = ['0', '1', 'a', 'F', 'ffff', '1234', ':', ':', ':', '::', '.', '1.2.3.4', 'g', '12345'];
    for (let i = 0; i < 5000; i++) {
      let s = '';
      if (r() < 0.5) {
        // Random pieces.
        const n = randomInt(r, 1, 12);
        for (let j = 0; j < n; j++) s += alphabet[randomInt(r, 0, alphabet.length - 1)];
      } else {
        // Nearly right: 1 to 9 groups, perhaps a "::" somewhere, perhaps a dotted quad at the end.
        const groups = Array.from({ length: randomInt(r, 1, 9) }, () => randomInt(r, 0, 0xffff).toString(16));
        if (r() < 0.3) groups[groups.length - 1] = `${randomInt(r, 0, 300)}.${randomInt(r, 0, 255)}.${randomInt(r, 0, 255)}.${randomInt(r, 0, 255)}`;
        if (r() < 0.6) groups.splice(randomInt(r, 0, groups.length), 0, '');
        s = groups.join(':');
        if (s.startsWith(':') && !s.startsWith('::')) s = ':' + s;
        if (s.endsWith(':') && !s.endsWith('::')) s += ':';
      }
      // Leading zeros in an embedded dotted quad are accepted here (as everywhere), not by Node.
      if (/(?:^|:)0[0-9]+\.|\.0[0-9]/.test(s)) continue;
      const p = parseEprtArg(`|2|${s}|21|`);
      const node = isIPv6(s) || s === ''; // "" is the unspecified form here
      assert.equal(p.valid, node, `${JSON.stringify(s)}: ours ${p.valid ? 'valid' : (p as { reason: string }).reason}, Node ${isIPv6(s)}`);
    }
  });
});

// ---------------------------------------------------------------------------
// Totality
// ---------------------------------------------------------------------------

describe('never throws', () => {
  const parsers = { parsePortArg, parseEprtArg, parsePasvReply, parseEpsvReply, parseLprtArg, parseLpsvReply };

  function check(name: string, input: string, out: { valid: boolean; reason?: string; port?: number; host?: string; family?: number }): void {
    assert.equal(typeof out, 'object', `${name}(${JSON.stringify(input)})`);
    if (out.valid) {
      assert.ok(Number.isInteger(out.port) && out.port! >= 1 && out.port! <= 65535, `${name}(${JSON.stringify(input)}) port ${out.port}`);
      if (out.family !== undefined) assert.ok(out.family === 4 || out.family === 6);
      if (out.host !== undefined) assert.equal(typeof out.host, 'string');
    } else {
      assert.ok(typeof out.reason === 'string' && out.reason.length > 0 && out.reason.length < 300, `${name}(${JSON.stringify(input)}) reason`);
    }
  }

  test('10,000 random strings through every parser', () => {
    const r = prng(20240601);
    const pieces = ['|', '|', ',', ',', ',', '.', ':', '::', '(', ')', ' ', '\t', '%', '!', '-', '+', '=', '0', '1', '255', '256', '65535', '65536',
      '4', '6', '16', '2', 'ffff', 'fe80', 'x', 'é', '\u0000', '\r\n', '\u{1F600}', '99999999999999999999', 'Entering Passive Mode '];
    for (let i = 0; i < 10_000; i++) {
      let s = '';
      const kind = r();
      if (kind < 0.2) {
        // Raw characters, any code unit (lone surrogates included).
        const n = randomInt(r, 0, 40);
        for (let j = 0; j < n; j++) s += String.fromCharCode(randomInt(r, 0, 0xffff));
      } else {
        const n = randomInt(r, 0, 30);
        for (let j = 0; j < n; j++) s += pieces[randomInt(r, 0, pieces.length - 1)];
      }
      for (const [name, parse] of Object.entries(parsers)) check(name, s, parse(s));
    }
  });

  test('mutations of valid arguments', () => {
    const r = prng(7151);
    const seeds = [
      '192,168,120,168,200,100',
      'Entering Passive Mode (199,233,217,249,221,90)',
      '|2|1080::8:800:200C:417A|5282|',
      '|1|132.235.1.2|6275|',
      'Entering Extended Passive Mode (|||6446|)',
      '6,16,254,128,0,0,0,0,0,0,2,96,176,255,254,193,123,47,2,198,244',
      'Entering Long Passive Mode (4,4,1,2,3,4,2,4,15)',
    ];
    for (let i = 0; i < 5000; i++) {
      let s = seeds[randomInt(r, 0, seeds.length - 1)]!;
      const edits = randomInt(r, 1, 4);
      for (let e = 0; e < edits; e++) {
        const at = randomInt(r, 0, s.length);
        const op = r();
        const ch = String.fromCharCode(r() < 0.8 ? randomInt(r, 32, 126) : randomInt(r, 0, 0xffff));
        if (op < 0.4) s = s.slice(0, at) + ch + s.slice(at);
        else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1);
        else s = s.slice(0, at) + ch + s.slice(at + 1);
      }
      for (const [name, parse] of Object.entries(parsers)) check(name, s, parse(s));
    }
  });

  test('long inputs stay fast', () => {
    const long = [
      '1,'.repeat(50_000),
      '|'.repeat(100_000),
      ' |'.repeat(50_000),
      '('.repeat(100_000),
      '(|'.repeat(50_000),
      '9'.repeat(100_000),
      '1,2,3,4,5,'.repeat(10_000) + 'x',
      ':'.repeat(100_000),
      '=|'.repeat(50_000),
      ' |'.repeat(25_000) + '|||' + '1'.repeat(100),
      '1,2,3,4,5,6' + ' '.repeat(100_000) + 'x',
      '1,2,3,4,5,' + ' '.repeat(100_000) + 'x',
      '4,4,' + '\t'.repeat(100_000) + '1',
      '1' + ' '.repeat(100_000) + ',',
      '|2|' + ':'.repeat(100_000) + '|21|',
      '|1|' + '.'.repeat(100_000) + '|21|',
      ('(' + '|'.repeat(100)).repeat(1000),
    ];
    const started = Date.now();
    for (const s of long) for (const [name, parse] of Object.entries(parsers)) check(name, s.slice(0, 40), parse(s));
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  test('input that is not a string at all', () => {
    for (const bad of [undefined, null, 42, {}, [], Symbol('x')]) {
      for (const [name, parse] of Object.entries(parsers)) {
        const out = (parse as (x: unknown) => { valid: boolean; reason?: string })(bad);
        assert.equal(out.valid, false, name);
      }
    }
    assert.equal(portArithmetic(undefined as unknown as number[]), '');
  });
});
