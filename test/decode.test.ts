/**
 * Packet decoding: link layers, IPv4 and IPv6 (options, extension headers, fragments), TCP headers and
 * options, and robustness against cut and random input. Every packet is built by the synthetic capture
 * writer and handed to Decoder.decode() as a capture reader would.
 */

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DECODED_NAMES, Decoded, Decoder, PacketView, formatAddress, LINK } from '../src/decode/packet.js';
import { prng } from './support/random.js';
import {
  ACK,
  AF_INET,
  AF_INET6_BSD,
  AF_INET6_DARWIN,
  AF_INET6_FREEBSD,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  FIN,
  PSH,
  SYN,
  ethernet,
  ipv4,
  ipv4Fragments,
  ipv6,
  ipv6Fragments,
  loopLink,
  nullLink,
  parseIpv6,
  sll,
  sll2,
  tcp,
  tcpPacket,
  type Endian,
  type Ipv6Ext,
  type TcpOpts,
} from './support/capture-writer.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const T0 = 1_700_000_000;

/** The name of an outcome, so that failures read "TCP" rather than 0. */
function outcome(d: number): string {
  return DECODED_NAMES[d] ?? `not a Decoded value: ${d}`;
}

function assertOutcome(actual: Decoded, expected: Decoded, message?: string): void {
  assert.equal(outcome(actual), outcome(expected), message);
}

/** Decodes one record held in `frame` (optionally from `off` for `cap` bytes) with a fresh or given decoder. */
function decode(
  linktype: number,
  frame: Buffer,
  opts: { decoder?: Decoder; off?: number; cap?: number; tsSec?: number; pv?: PacketView } = {},
): { d: Decoded; pv: PacketView } {
  const pv = opts.pv ?? new PacketView();
  const decoder = opts.decoder ?? new Decoder();
  const off = opts.off ?? 0;
  const d = decoder.decode(linktype, frame, off, opts.cap ?? frame.length - off, opts.tsSec ?? T0, pv);
  return { d, pv };
}

/** The captured payload bytes of a decoded segment. */
function payloadOf(pv: PacketView): Buffer {
  return Buffer.from(pv.buf.subarray(pv.payOff, pv.payOff + pv.payLen));
}

/** The fields of a decoded TCP segment that the tests compare exactly. */
function summary(pv: PacketView) {
  return {
    ipVersion: pv.ipVersion,
    src: formatAddress(pv.ipVersion, pv.src0, pv.src1, pv.src2, pv.src3),
    dst: formatAddress(pv.ipVersion, pv.dst0, pv.dst1, pv.dst2, pv.dst3),
    sport: pv.sport,
    dport: pv.dport,
    seq: pv.seq,
    ack: pv.ack,
    flags: pv.flags,
    window: pv.window,
    payload: payloadOf(pv).toString('latin1'),
    payWireLen: pv.payWireLen,
  };
}

const DATA = 'RETR /pub/file.txt\r\n';

const SEG4: TcpOpts = { src: '192.0.2.10', dst: '198.51.100.20', sport: 40000, dport: 21, seq: 0xfffffff0, ack: 123_456, flags: PSH | ACK, window: 501 };
const SEG6: TcpOpts = { ...SEG4, src: '2001:db8::10', dst: '2001:db8:0:1::20' };

/** What summary() must give for SEG4 / SEG6 carrying `data`. */
function expected(seg: TcpOpts, data = DATA) {
  return {
    ipVersion: seg.src.includes(':') ? 6 : 4,
    src: seg.src,
    dst: seg.dst,
    sport: seg.sport,
    dport: seg.dport,
    seq: seg.seq,
    ack: seg.ack,
    flags: seg.flags,
    window: seg.window,
    payload: data,
    payWireLen: data.length,
  };
}

const IP4 = tcpPacket(SEG4, Buffer.from(DATA), { ttl: 57 });
const IP6 = tcpPacket(SEG6, Buffer.from(DATA), { hopLimit: 33 });

/** Decodes and checks the outcome is TCP with the fields of `seg`. */
function assertSegment(linktype: number, frame: Buffer, seg: TcpOpts, opts: Parameters<typeof decode>[2] = {}): PacketView {
  const { d, pv } = decode(linktype, frame, opts);
  assertOutcome(d, Decoded.TCP);
  assert.deepEqual(summary(pv), expected(seg));
  return pv;
}

/** Asserts that `d` is one of the Decoded values. */
function assertValidOutcome(d: unknown, context: string): void {
  assert.ok(typeof d === 'number' && Number.isInteger(d) && d >= 0 && d < DECODED_NAMES.length, `${context}: returned ${String(d)}`);
}

// ---------------------------------------------------------------------------
// Link layers
// ---------------------------------------------------------------------------

describe('link layers', () => {
  test('Ethernet II with IPv4', () => {
    const pv = assertSegment(LINK.ETHERNET, ethernet(IP4, { etherType: ETHERTYPE_IPV4 }), SEG4);
    assert.equal(pv.vlan, -1);
    assert.equal(pv.ttl, 57);
    assert.equal(pv.reassembled, false);
    assert.equal(pv.tcpOff, 14 + 20);
    assert.equal(pv.tcpHdrLen, 20);
    assert.equal(pv.payOff, 14 + 20 + 20);
  });

  test('Ethernet II with IPv6', () => {
    const pv = assertSegment(LINK.ETHERNET, ethernet(IP6, { etherType: ETHERTYPE_IPV6 }), SEG6);
    assert.equal(pv.ttl, 33);
    assert.equal(pv.tcpOff, 14 + 40);
  });

  test('802.1Q: the VLAN id is reported', () => {
    const pv = assertSegment(LINK.ETHERNET, ethernet(IP4, { etherType: ETHERTYPE_IPV4, vlans: [100] }), SEG4);
    assert.equal(pv.vlan, 100);
    assert.equal(pv.tcpOff, 18 + 20);
  });

  test('QinQ: the outer VLAN id is reported', () => {
    const pv = assertSegment(LINK.ETHERNET, ethernet(IP6, { etherType: ETHERTYPE_IPV6, vlans: [300, 4094], qinq: true }), SEG6);
    assert.equal(pv.vlan, 300);
    assert.equal(pv.tcpOff, 22 + 40);
  });

  test('two stacked 802.1Q tags: the outer VLAN id is reported', () => {
    const pv = assertSegment(LINK.ETHERNET, ethernet(IP4, { etherType: ETHERTYPE_IPV4, vlans: [5, 6] }), SEG4);
    assert.equal(pv.vlan, 5);
  });

  test('the VLAN id does not stick to the next packet', () => {
    const decoder = new Decoder();
    const pv = new PacketView();
    decode(LINK.ETHERNET, ethernet(IP4, { etherType: ETHERTYPE_IPV4, vlans: [7] }), { decoder, pv });
    assert.equal(pv.vlan, 7);
    decode(LINK.ETHERNET, ethernet(IP4, { etherType: ETHERTYPE_IPV4 }), { decoder, pv });
    assert.equal(pv.vlan, -1);
  });

  test('Ethernet carrying ARP is not IP', () => {
    const { d } = decode(LINK.ETHERNET, ethernet(Buffer.alloc(28), { etherType: 0x0806 }));
    assertOutcome(d, Decoded.NOT_IP);
  });

  test('Linux SLL with IPv4 and IPv6', () => {
    assertSegment(LINK.LINUX_SLL, sll(IP4, ETHERTYPE_IPV4), SEG4);
    const pv = assertSegment(LINK.LINUX_SLL, sll(IP6, ETHERTYPE_IPV6, { packetType: 4 }), SEG6);
    assert.equal(pv.tcpOff, 16 + 40);
  });

  test('Linux SLL2 with IPv4 and IPv6', () => {
    assertSegment(LINK.LINUX_SLL2, sll2(IP4, ETHERTYPE_IPV4, { ifindex: 3 }), SEG4);
    const pv = assertSegment(LINK.LINUX_SLL2, sll2(IP6, ETHERTYPE_IPV6), SEG6);
    assert.equal(pv.tcpOff, 20 + 40);
  });

  for (const endian of ['le', 'be'] as Endian[]) {
    for (const [family, ip, seg] of [
      [AF_INET, IP4, SEG4],
      [AF_INET6_BSD, IP6, SEG6],
      [AF_INET6_FREEBSD, IP6, SEG6],
      [AF_INET6_DARWIN, IP6, SEG6],
    ] as const) {
      test(`NULL, address family ${family} in ${endian} byte order`, () => {
        assertSegment(LINK.NULL, nullLink(ip, family, endian), seg);
      });
    }
  }

  test('NULL with an address family that is not IP', () => {
    assertOutcome(decode(LINK.NULL, nullLink(IP4, 7)).d, Decoded.NOT_IP);
  });

  test('LOOP with IPv4 and IPv6', () => {
    assertSegment(LINK.LOOP, loopLink(IP4, AF_INET), SEG4);
    assertSegment(LINK.LOOP, loopLink(IP6, AF_INET6_BSD), SEG6);
    assertSegment(LINK.LOOP, loopLink(IP6, AF_INET6_DARWIN), SEG6);
  });

  for (const linktype of [12, 14, 101]) {
    test(`raw IP link type ${linktype}, both versions`, () => {
      assertSegment(linktype, IP4, SEG4);
      assertSegment(linktype, IP6, SEG6);
    });
  }

  test('raw IP link type 101 with another version nibble is a bad IP header', () => {
    const bad = Buffer.from(IP4);
    bad[0] = 0x55;
    assertOutcome(decode(LINK.RAW, bad).d, Decoded.BAD_IP);
  });

  test('link type 228 is IPv4 only', () => {
    assertSegment(228, IP4, SEG4);
    assertOutcome(decode(228, IP6).d, Decoded.BAD_IP);
  });

  test('link type 229 is IPv6 only', () => {
    assertSegment(229, IP6, SEG6);
    assertOutcome(decode(229, IP4).d, Decoded.BAD_IP);
  });

  test('an unknown link type is reported as unsupported', () => {
    assertOutcome(decode(147, IP4).d, Decoded.UNSUPPORTED_LINK);
  });

  test('a record in the middle of a larger buffer: only buf[off, off + cap) is read', () => {
    const frame = ethernet(IP4, { etherType: ETHERTYPE_IPV4 });
    const buf = Buffer.concat([Buffer.alloc(37, 0xaa), frame, Buffer.from('trailing junk, not payload')]);
    const pv = assertSegment(LINK.ETHERNET, buf, SEG4, { off: 37, cap: frame.length });
    assert.equal(pv.buf, buf);
    assert.equal(pv.payOff, 37 + 54);
  });
});

// ---------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------

describe('IPv4', () => {
  test('header options are skipped', () => {
    const options = Buffer.from([0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0]); // router alert, record route
    const ip = tcpPacket(SEG4, Buffer.from(DATA), { options });
    const pv = assertSegment(LINK.RAW, ip, SEG4);
    assert.equal(pv.tcpOff, 32);
  });

  test('a total length of 0 (segmentation offload) means the captured length', () => {
    const ip = tcpPacket(SEG4, Buffer.from(DATA), { totalLength: 0 });
    assertSegment(LINK.RAW, ip, SEG4);
  });

  test('UDP is not TCP', () => {
    const udp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, Buffer.alloc(12));
    assertOutcome(decode(LINK.RAW, udp).d, Decoded.NOT_TCP);
  });

  test('a header length below 20 bytes is a bad IP header', () => {
    const bad = Buffer.from(IP4);
    bad[0] = 0x44;
    assertOutcome(decode(LINK.RAW, bad).d, Decoded.BAD_IP);
  });

  test('Ethernet padding after a short IPv4 packet is not payload', () => {
    for (const data of ['', 'ok']) {
      const ip = tcpPacket({ ...SEG4, flags: ACK }, Buffer.from(data));
      const frame = Buffer.concat([ethernet(ip, { etherType: ETHERTYPE_IPV4 }), Buffer.alloc(60 - 14 - ip.length, 0xee)]);
      assert.equal(frame.length, 60);
      const { d, pv } = decode(LINK.ETHERNET, frame);
      assertOutcome(d, Decoded.TCP);
      assert.equal(payloadOf(pv).toString(), data);
      assert.equal(pv.payWireLen, data.length);
    }
  });

  test('a segment cut by the snap length: payLen < payWireLen, the captured bytes are the payload prefix', () => {
    const frame = ethernet(IP4, { etherType: ETHERTYPE_IPV4 });
    const { d, pv } = decode(LINK.ETHERNET, frame.subarray(0, 54 + 7));
    assertOutcome(d, Decoded.TCP);
    assert.equal(pv.payLen, 7);
    assert.equal(pv.payWireLen, DATA.length);
    assert.equal(payloadOf(pv).toString(), DATA.slice(0, 7));
    assert.equal(pv.seq, SEG4.seq);
  });
});

// ---------------------------------------------------------------------------
// IPv4 fragments
// ---------------------------------------------------------------------------

describe('IPv4 fragments', () => {
  const PAYLOAD = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ++'.slice(0, 60));
  const SEGMENT = tcp(SEG4, PAYLOAD); // 80 bytes: fragments of 32, 32 and 16
  const IPH = { src: SEG4.src, dst: SEG4.dst, id: 0x4242 };

  /** Ethernet frames of the segment's fragments, `size` payload bytes each. */
  function fragments(size = 32, id = IPH.id): Buffer[] {
    return ipv4Fragments({ ...IPH, id }, SEGMENT, size).map((f) => ethernet(f, { etherType: ETHERTYPE_IPV4 }));
  }

  /** One fragment at `off` holding `bytes`, as an Ethernet frame. */
  function fragmentAt(off: number, bytes: Uint8Array, more: boolean): Buffer {
    return ethernet(ipv4({ ...IPH, fragOffset: off, moreFragments: more }, bytes), { etherType: ETHERTYPE_IPV4 });
  }

  /** Decodes frames in order with one decoder; returns the outcomes' names and the last view. */
  function decodeAll(decoder: Decoder, frames: Buffer[], tsSec = T0): { outcomes: string[]; pv: PacketView } {
    const pv = new PacketView();
    const outcomes = frames.map((f) => outcome(decoder.decode(LINK.ETHERNET, f, 0, f.length, tsSec, pv)));
    return { outcomes, pv };
  }

  const HELD = outcome(Decoded.FRAGMENT_HELD);
  const TCP = outcome(Decoded.TCP);

  function assertWhole(pv: PacketView, payload: Buffer = PAYLOAD): void {
    assert.equal(pv.reassembled, true);
    assert.deepEqual(summary(pv), { ...expected(SEG4, payload.toString('latin1')) });
    assert.equal(pv.buf.length, 20 + payload.length);
  }

  test('in order: held until the last one, then the whole segment', () => {
    const decoder = new Decoder();
    const { outcomes, pv } = decodeAll(decoder, fragments());
    assert.deepEqual(outcomes, [HELD, HELD, TCP]);
    assertWhole(pv);
    assert.deepEqual(decoder.fragments.stats, { reassembled: 1, incomplete: 0, refused: 0, conflicting: 0 });
  });

  test('in reverse order', () => {
    const decoder = new Decoder();
    const { outcomes, pv } = decodeAll(decoder, fragments().reverse());
    assert.deepEqual(outcomes, [HELD, HELD, TCP]);
    assertWhole(pv);
  });

  test('two datagrams interleaved are kept apart by their identification', () => {
    const a = fragments(32, 1);
    const b = fragments(16, 2);
    const decoder = new Decoder();
    const pv = new PacketView();
    const order = [b[0]!, a[0]!, b[1]!, b[2]!, a[1]!, b[3]!, a[2]!, b[4]!];
    const outcomes = order.map((f) => outcome(decoder.decode(LINK.ETHERNET, f, 0, f.length, T0, pv)));
    assert.deepEqual(outcomes, [HELD, HELD, HELD, HELD, HELD, HELD, TCP, TCP]);
    assertWhole(pv);
    assert.equal(decoder.fragments.stats.reassembled, 2);
  });

  test('overlapping fragments with the same bytes', () => {
    const decoder = new Decoder();
    const frames = [fragmentAt(0, SEGMENT.subarray(0, 32), true), fragmentAt(24, SEGMENT.subarray(24, 48), true), fragmentAt(48, SEGMENT.subarray(48), false)];
    const { outcomes, pv } = decodeAll(decoder, frames);
    assert.deepEqual(outcomes, [HELD, HELD, TCP]);
    assertWhole(pv);
    assert.equal(decoder.fragments.stats.conflicting, 0);
  });

  /** The segment with payload bytes 4..11 (segment bytes 24..31) replaced. */
  const ALTERED = Buffer.concat([SEGMENT.subarray(0, 24), Buffer.from('########'), SEGMENT.subarray(32)]);

  test('overlapping fragments that disagree: the copy that arrived first wins, and the conflict is counted', () => {
    const decoder = new Decoder();
    const frames = [fragmentAt(0, SEGMENT.subarray(0, 32), true), fragmentAt(24, ALTERED.subarray(24, 48), true), fragmentAt(48, SEGMENT.subarray(48), false)];
    const { outcomes, pv } = decodeAll(decoder, frames);
    assert.deepEqual(outcomes, [HELD, HELD, TCP]);
    assertWhole(pv);
    assert.equal(decoder.fragments.stats.conflicting, 1);
  });

  test('overlapping fragments that disagree, the later offset first: its bytes win', () => {
    const decoder = new Decoder();
    const frames = [fragmentAt(24, ALTERED.subarray(24, 48), true), fragmentAt(0, SEGMENT.subarray(0, 32), true), fragmentAt(48, SEGMENT.subarray(48), false)];
    const { outcomes, pv } = decodeAll(decoder, frames);
    assert.deepEqual(outcomes, [HELD, HELD, TCP]);
    assertWhole(pv, ALTERED.subarray(20));
    assert.equal(decoder.fragments.stats.conflicting, 1);
  });

  test('an incomplete datagram is held, then counted as incomplete at the end', () => {
    const decoder = new Decoder();
    const { outcomes } = decodeAll(decoder, fragments().slice(0, 2));
    assert.deepEqual(outcomes, [HELD, HELD]);
    assert.equal(decoder.fragments.stats.reassembled, 0);
    decoder.fragments.finish();
    assert.deepEqual(decoder.fragments.stats, { reassembled: 0, incomplete: 1, refused: 0, conflicting: 0 });
  });

  test('a datagram is given up when its time runs out', () => {
    const decoder = new Decoder({ maxDatagrams: 16, maxBytes: 1 << 20, timeoutSec: 30 });
    const [first, second, last] = fragments();
    const pv = new PacketView();
    assertOutcome(decoder.decode(LINK.ETHERNET, first!, 0, first!.length, T0, pv), Decoded.FRAGMENT_HELD);
    assertOutcome(decoder.decode(LINK.ETHERNET, second!, 0, second!.length, T0 + 31, pv), Decoded.FRAGMENT_HELD);
    assertOutcome(decoder.decode(LINK.ETHERNET, last!, 0, last!.length, T0 + 31, pv), Decoded.FRAGMENT_HELD);
    assert.equal(decoder.fragments.stats.incomplete, 1);
    assert.equal(decoder.fragments.stats.reassembled, 0);
  });

  test('a datagram completed within its time is reassembled', () => {
    const decoder = new Decoder({ maxDatagrams: 16, maxBytes: 1 << 20, timeoutSec: 30 });
    const [first, second, last] = fragments();
    const pv = new PacketView();
    decoder.decode(LINK.ETHERNET, first!, 0, first!.length, T0, pv);
    decoder.decode(LINK.ETHERNET, second!, 0, second!.length, T0 + 30, pv);
    assertOutcome(decoder.decode(LINK.ETHERNET, last!, 0, last!.length, T0 + 30, pv), Decoded.TCP);
    assertWhole(pv);
  });

  test('a fragment cut by the snap length is refused', () => {
    const decoder = new Decoder();
    const [first] = fragments();
    const { d } = decode(LINK.ETHERNET, first!, { decoder, cap: first!.length - 1 });
    assertOutcome(d, Decoded.FRAGMENT_REFUSED);
    assert.equal(decoder.fragments.stats.refused, 1);
  });

  test('a reassembled datagram that is not TCP', () => {
    const decoder = new Decoder();
    const frames = ipv4Fragments({ ...IPH, proto: 17 }, Buffer.alloc(40), 16).map((f) => ethernet(f, { etherType: ETHERTYPE_IPV4 }));
    const { outcomes } = decodeAll(decoder, frames);
    assert.deepEqual(outcomes, [HELD, HELD, outcome(Decoded.NOT_TCP)]);
  });
});

// ---------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------

describe('IPv6', () => {
  const HOP_BY_HOP: Ipv6Ext = { type: 0, data: Buffer.from([5, 2, 0, 0]) }; // router alert
  const ROUTING: Ipv6Ext = { type: 43, data: Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0]), parseIpv6('2001:db8::99')]) };
  const DEST_OPTS: Ipv6Ext = { type: 60, data: Buffer.from([0x1e, 4, 1, 2, 3, 4]) };
  const AH: Ipv6Ext = { type: 51, data: Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]) };

  function withExt(ext: Ipv6Ext[]): Buffer {
    return ipv6({ src: SEG6.src, dst: SEG6.dst, ext }, tcp(SEG6, Buffer.from(DATA)));
  }

  for (const [name, ext] of [
    ['hop-by-hop', [HOP_BY_HOP]],
    ['routing', [ROUTING]],
    ['destination options', [DEST_OPTS]],
    ['AH', [AH]],
    ['hop-by-hop, destination options, routing, AH, destination options', [HOP_BY_HOP, DEST_OPTS, ROUTING, AH, DEST_OPTS]],
  ] as Array<[string, Ipv6Ext[]]>) {
    test(`extension headers: ${name}`, () => {
      const ip = withExt(ext);
      const pv = assertSegment(LINK.ETHERNET, ethernet(ip, { etherType: ETHERTYPE_IPV6 }), SEG6);
      assert.equal(pv.tcpOff, 14 + ip.length - 20 - DATA.length);
    });
  }

  test('ESP is reported as encrypted', () => {
    const ip = ipv6({ src: SEG6.src, dst: SEG6.dst, ext: [HOP_BY_HOP], nextHeader: 50 }, Buffer.alloc(40, 0x11));
    assertOutcome(decode(LINK.RAW, ip).d, Decoded.ENCRYPTED);
  });

  test('an extension header reaching past the packet is malformed', () => {
    const ip = withExt([DEST_OPTS]);
    ip[40 + 1] = 200; // header length: 201 * 8 bytes
    assertOutcome(decode(LINK.RAW, ip).d, Decoded.BAD_IPV6_EXTENSION);
  });

  test('UDP is not TCP', () => {
    assertOutcome(decode(LINK.RAW, ipv6({ src: '::1', dst: '::1', nextHeader: 17 }, Buffer.alloc(16))).d, Decoded.NOT_TCP);
  });

  test('trailing bytes after an IPv6 packet (an Ethernet FCS) are not payload', () => {
    const frame = Buffer.concat([ethernet(IP6, { etherType: ETHERTYPE_IPV6 }), Buffer.from([0xde, 0xad, 0xbe, 0xef])]);
    assertSegment(LINK.ETHERNET, frame, SEG6);
  });

  test('a segment cut by the snap length', () => {
    const { d, pv } = decode(LINK.RAW, IP6, { cap: 40 + 20 + 3 });
    assertOutcome(d, Decoded.TCP);
    assert.equal(pv.payLen, 3);
    assert.equal(pv.payWireLen, DATA.length);
    assert.equal(payloadOf(pv).toString(), DATA.slice(0, 3));
  });

  describe('fragments', () => {
    const PAYLOAD = Buffer.from('The quick brown fox jumps over the lazy dog, twice: the quick brown fox.');
    const SEGMENT = tcp(SEG6, PAYLOAD);

    function fragments(ext: Ipv6Ext[] = []): Buffer[] {
      return ipv6Fragments({ src: SEG6.src, dst: SEG6.dst, ext }, SEGMENT, 32, 0xfeedf00d).map((f) => ethernet(f, { etherType: ETHERTYPE_IPV6 }));
    }

    function decodeAll(frames: Buffer[]): { outcomes: string[]; pv: PacketView; decoder: Decoder } {
      const decoder = new Decoder();
      const pv = new PacketView();
      const outcomes = frames.map((f) => outcome(decoder.decode(LINK.ETHERNET, f, 0, f.length, T0, pv)));
      return { outcomes, pv, decoder };
    }

    const HELD = outcome(Decoded.FRAGMENT_HELD);
    const TCP = outcome(Decoded.TCP);

    test('in order', () => {
      const frames = fragments();
      assert.equal(frames.length, 3);
      const { outcomes, pv, decoder } = decodeAll(frames);
      assert.deepEqual(outcomes, [HELD, HELD, TCP]);
      assert.equal(pv.reassembled, true);
      assert.deepEqual(summary(pv), expected(SEG6, PAYLOAD.toString()));
      assert.equal(decoder.fragments.stats.reassembled, 1);
    });

    test('in reverse order, after a hop-by-hop header', () => {
      const { outcomes, pv } = decodeAll(fragments([HOP_BY_HOP]).reverse());
      assert.deepEqual(outcomes, [HELD, HELD, TCP]);
      assert.deepEqual(summary(pv), expected(SEG6, PAYLOAD.toString()));
    });

    test('different identifications are different datagrams', () => {
      const a = fragments();
      const b = ipv6Fragments({ src: SEG6.src, dst: SEG6.dst }, SEGMENT, 32, 7).map((f) => ethernet(f, { etherType: ETHERTYPE_IPV6 }));
      const { outcomes } = decodeAll([a[0]!, b[1]!, a[2]!]);
      assert.deepEqual(outcomes, [HELD, HELD, HELD]);
    });

    test('extension headers inside the fragmented part are walked after reassembly', () => {
      // Destination options (next header TCP, padded with PadN) placed after the fragment header.
      const destOpts = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]);
      const inner = Buffer.concat([destOpts, SEGMENT]);
      const frames = ipv6Fragments({ src: SEG6.src, dst: SEG6.dst, nextHeader: 60 }, inner, 32, 99).map((f) => ethernet(f, { etherType: ETHERTYPE_IPV6 }));
      const { outcomes, pv } = decodeAll(frames);
      assert.deepEqual(outcomes, [HELD, HELD, HELD, TCP]);
      assert.deepEqual(summary(pv), expected(SEG6, PAYLOAD.toString()));
    });

    test('an atomic fragment (offset 0, no more fragments) is decoded at once', () => {
      const ip = ipv6Fragments({ src: SEG6.src, dst: SEG6.dst }, tcp(SEG6, Buffer.from(DATA)), 64)[0]!;
      const { d, pv } = decode(LINK.RAW, ip);
      assertOutcome(d, Decoded.TCP);
      assert.equal(pv.reassembled, false);
      assert.deepEqual(summary(pv), expected(SEG6));
    });
  });
});

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

describe('TCP', () => {
  /** Decodes SEG4 (with the given options and payload) over raw IP. */
  function withOptions(options: TcpOpts['options'], data = DATA): PacketView {
    const ip = tcpPacket({ ...SEG4, options }, Buffer.from(data));
    const { d, pv } = decode(LINK.RAW, ip);
    assertOutcome(d, Decoded.TCP);
    assert.deepEqual(summary(pv), expected(SEG4, data));
    return pv;
  }

  function options(pv: PacketView) {
    return {
      mss: pv.mss,
      wscale: pv.wscale,
      sackPermitted: pv.sackPermitted,
      tsVal: pv.tsVal,
      tsEcr: pv.tsEcr,
      sack: [...pv.sack.subarray(0, pv.sackCount * 2)],
    };
  }

  const NONE = { mss: -1, wscale: -1, sackPermitted: false, tsVal: -1, tsEcr: -1, sack: [] };

  test('no options', () => {
    const pv = withOptions(undefined);
    assert.deepEqual(options(pv), NONE);
    assert.equal(pv.tcpHdrLen, 20);
  });

  test('MSS, window scale, SACK permitted and timestamps', () => {
    const pv = withOptions({ mss: 1460, wscale: 14, sackPermitted: true, timestamp: [0xdeadbeef, 0x01020304] });
    assert.deepEqual(options(pv), { mss: 1460, wscale: 14, sackPermitted: true, tsVal: 0xdeadbeef, tsEcr: 0x01020304, sack: [] });
    assert.equal(pv.tcpHdrLen, 40);
    assert.equal(pv.payOff, 20 + 40);
  });

  test('SACK blocks with timestamps', () => {
    const pv = withOptions({ timestamp: [5, 6], sack: [[1000, 2000], [0xfffffff0, 0x10], [3000, 4000]] });
    assert.deepEqual(options(pv), { ...NONE, tsVal: 5, tsEcr: 6, sack: [1000, 2000, 0xfffffff0, 0x10, 3000, 4000] });
  });

  test('four SACK blocks', () => {
    const blocks: Array<[number, number]> = [[1, 2], [3, 4], [5, 6], [7, 8]];
    const pv = withOptions({ sack: blocks });
    assert.deepEqual(options(pv).sack, blocks.flat());
  });

  test('options of the previous segment do not stick', () => {
    const decoder = new Decoder();
    const pv = new PacketView();
    decode(LINK.RAW, tcpPacket({ ...SEG4, flags: SYN, options: { mss: 1400, wscale: 2, sackPermitted: true, timestamp: [1, 2], sack: [[1, 2]] } }), { decoder, pv });
    assert.equal(pv.mss, 1400);
    decode(LINK.RAW, tcpPacket({ ...SEG4, flags: FIN | ACK }), { decoder, pv });
    assert.deepEqual(options(pv), NONE);
  });

  test('a decoder of SYN options only (the analysis\'s) reads them on a SYN, and none elsewhere', () => {
    const decoder = new Decoder(undefined, false);
    const pv = new PacketView();
    const all = { mss: 1400, wscale: 2, sackPermitted: true, timestamp: [1, 2] as [number, number] };
    decode(LINK.RAW, tcpPacket({ ...SEG4, flags: SYN, options: all }), { decoder, pv });
    assert.deepEqual(options(pv), { mss: 1400, wscale: 2, sackPermitted: true, tsVal: 1, tsEcr: 2, sack: [] });
    const { d } = decode(LINK.RAW, tcpPacket({ ...SEG4, flags: ACK, options: { timestamp: [3, 4] } }, Buffer.from('data')), { decoder, pv });
    assert.equal(d, Decoded.TCP);
    assert.deepEqual(options(pv), NONE);
    assert.equal(payloadOf(pv).toString(), 'data', 'the payload starts after the options all the same');
  });

  test('a truncated option (timestamps claiming 10 bytes, 4 left) is ignored, the segment kept', () => {
    const pv = withOptions({ mss: 1400, raw: Buffer.from([8, 10, 1, 2]) });
    assert.equal(pv.mss, 1400);
    assert.equal(pv.tsVal, -1);
  });

  test('an option of length 0 does not stop the segment', () => {
    const pv = withOptions({ mss: 1400, raw: Buffer.from([3, 0, 1, 1]) });
    assert.equal(pv.mss, 1400);
  });

  test('an option of length 1 does not stop the segment', () => {
    const pv = withOptions({ sackPermitted: true, raw: Buffer.from([2, 1, 0x05, 0xb4]) });
    assert.equal(pv.sackPermitted, true);
    assert.equal(pv.mss, -1);
  });

  test('an option kind in the last byte of the header, without its length', () => {
    const pv = withOptions({ mss: 1400, raw: Buffer.from([1, 1, 1, 8]) });
    assert.equal(pv.mss, 1400);
  });

  test('options with wrong lengths for their kind are not read', () => {
    const pv = withOptions({ raw: Buffer.from([2, 3, 5, 3, 4, 0x0e, 8, 6, 0, 0, 0, 1]) });
    assert.deepEqual(options(pv), NONE);
  });

  test('options cut by the snap length: those captured are read', () => {
    const ip = tcpPacket({ ...SEG4, options: { mss: 1460, sackPermitted: true, timestamp: [9, 9], wscale: 3 } }, Buffer.from(DATA));
    const { d, pv } = decode(LINK.RAW, ip, { cap: 20 + 20 + 6 });
    assertOutcome(d, Decoded.TCP);
    assert.equal(pv.mss, 1460);
    assert.equal(pv.tsVal, -1);
    assert.equal(pv.payLen, 0);
    assert.equal(pv.payWireLen, DATA.length);
  });

  test('a data offset below 5 words is a bad TCP header', () => {
    const ip = Buffer.from(IP4);
    ip[20 + 12] = 0x40;
    assertOutcome(decode(LINK.RAW, ip).d, Decoded.BAD_TCP);
  });

  test('a data offset past the end of the segment is a bad TCP header', () => {
    const ip = tcpPacket(SEG4); // 20 bytes of TCP, no payload
    ip[20 + 12] = 0x60;
    assertOutcome(decode(LINK.RAW, ip).d, Decoded.BAD_TCP);
  });
});

// ---------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------

describe('cut and random input', () => {
  test('every truncation of an Ethernet / IPv4 / TCP packet', () => {
    const ip = tcpPacket({ ...SEG4, options: { mss: 1460, timestamp: [1, 2] } }, Buffer.from(DATA));
    const frame = ethernet(ip, { etherType: ETHERTYPE_IPV4 });
    const tcpEnd = 14 + 20 + 36;
    for (let cap = 0; cap <= frame.length; cap++) {
      const { d, pv } = decode(LINK.ETHERNET, frame.subarray(0, cap));
      const want = cap < 14 ? Decoded.TRUNCATED_LINK : cap < 34 ? Decoded.TRUNCATED_IP : cap < 54 ? Decoded.TRUNCATED_TCP : Decoded.TCP;
      assertOutcome(d, want, `cap ${cap}`);
      if (d === Decoded.TCP) {
        assert.equal(pv.payLen, Math.max(0, cap - tcpEnd), `cap ${cap}`);
        assert.equal(pv.payWireLen, DATA.length, `cap ${cap}`);
      }
    }
  });

  test('every truncation of an Ethernet / IPv6 / TCP packet', () => {
    const frame = ethernet(IP6, { etherType: ETHERTYPE_IPV6 });
    for (let cap = 0; cap <= frame.length; cap++) {
      const { d, pv } = decode(LINK.ETHERNET, frame.subarray(0, cap));
      const want = cap < 14 ? Decoded.TRUNCATED_LINK : cap < 54 ? Decoded.TRUNCATED_IP : cap < 74 ? Decoded.TRUNCATED_TCP : Decoded.TCP;
      assertOutcome(d, want, `cap ${cap}`);
      if (d === Decoded.TCP) assert.equal(pv.payLen, cap - 74, `cap ${cap}`);
    }
  });

  test('every truncation of other packets returns an outcome and never throws', () => {
    const frames: Array<[number, Buffer]> = [
      [LINK.ETHERNET, ethernet(IP6, { etherType: ETHERTYPE_IPV6, vlans: [1, 2], qinq: true })],
      [LINK.ETHERNET, ethernet(ipv6({ src: '::1', dst: '::2', ext: [{ type: 0 }, { type: 43 }, { type: 51 }, { type: 60 }] }, tcp(SEG6)), { etherType: ETHERTYPE_IPV6 })],
      [LINK.RAW, ipv6Fragments({ src: '::1', dst: '::2' }, tcp(SEG6, Buffer.alloc(100)), 32)[0]!],
      [LINK.RAW, ipv4Fragments({ src: '10.0.0.1', dst: '10.0.0.2' }, tcp(SEG4, Buffer.alloc(100)), 32)[1]!],
      [LINK.LINUX_SLL, sll(IP4, ETHERTYPE_IPV4)],
      [LINK.LINUX_SLL2, sll2(IP6, ETHERTYPE_IPV6)],
      [LINK.NULL, nullLink(IP6, AF_INET6_DARWIN, 'be')],
      [LINK.LOOP, loopLink(IP4, AF_INET)],
    ];
    const decoder = new Decoder();
    const pv = new PacketView();
    for (const [linktype, frame] of frames) {
      for (let cap = 0; cap <= frame.length; cap++) {
        const b = frame.subarray(0, cap);
        assertValidOutcome(decoder.decode(linktype, b, 0, cap, T0, pv), `link ${linktype}, cap ${cap}`);
      }
    }
  });

  const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

  for (const linktype of LINK_TYPES) {
    test(`10,000 random byte strings on link type ${linktype} never throw`, () => {
      const rnd = prng(linktype + 1);
      const decoder = new Decoder();
      const pv = new PacketView();
      for (let i = 0; i < 10_000; i++) {
        const len = Math.floor(rnd() * 160);
        const b = Buffer.alloc(len);
        for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
        let d: Decoded;
        try {
          d = decoder.decode(linktype, b, 0, len, T0 + (i >> 4), pv);
        } catch (e) {
          assert.fail(`threw on ${b.toString('hex')}: ${String(e)}`);
        }
        assertValidOutcome(d, b.toString('hex'));
      }
    });
  }

  test('valid packets with random bytes changed never throw', () => {
    const frames: Array<[number, Buffer]> = [
      [LINK.ETHERNET, ethernet(tcpPacket({ ...SEG4, options: { mss: 1, wscale: 2, sackPermitted: true, timestamp: [3, 4], sack: [[5, 6]] } }, Buffer.from(DATA)), { etherType: ETHERTYPE_IPV4, vlans: [9] })],
      [LINK.ETHERNET, ethernet(ipv6({ src: SEG6.src, dst: SEG6.dst, ext: [{ type: 0 }, { type: 60 }, { type: 51 }] }, tcp(SEG6, Buffer.from(DATA))), { etherType: ETHERTYPE_IPV6 })],
      ...ipv4Fragments({ src: '10.0.0.1', dst: '10.0.0.2' }, tcp(SEG4, Buffer.alloc(64)), 16).map((f): [number, Buffer] => [LINK.RAW, f]),
      ...ipv6Fragments({ src: '::1', dst: '::2' }, tcp(SEG6, Buffer.alloc(64)), 16).map((f): [number, Buffer] => [LINK.RAW, f]),
    ];
    const rnd = prng(99);
    const decoder = new Decoder();
    const pv = new PacketView();
    for (let i = 0; i < 20_000; i++) {
      const [linktype, frame] = frames[i % frames.length]!;
      const b = Buffer.from(frame);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cap = rnd() < 0.2 ? Math.floor(rnd() * b.length) : b.length;
      const cut = b.subarray(0, cap);
      let d: Decoded;
      try {
        d = decoder.decode(linktype, cut, 0, cap, T0 + (i >> 6), pv);
      } catch (e) {
        assert.fail(`threw on link ${linktype} ${cut.toString('hex')}: ${String(e)}`);
      }
      assertValidOutcome(d, cut.toString('hex'));
    }
  });
});

// ---------------------------------------------------------------------------
// formatAddress
// ---------------------------------------------------------------------------

describe('formatAddress', () => {
  /** formatAddress of an IPv6 address given as text (any spelling). */
  function format6(text: string): string {
    const b = parseIpv6(text);
    return formatAddress(6, b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12));
  }

  test('IPv4-mapped IPv6 addresses end in a dotted quad (RFC 5952 section 5)', () => {
    assert.equal(format6('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
    assert.equal(format6('::ffff:0:c000:201'), '::ffff:0:c000:201');
  });

  test('IPv4 as a dotted quad', () => {
    assert.equal(formatAddress(4, 0xc0000201, 0, 0, 0), '192.0.2.1');
    assert.equal(formatAddress(4, 0xffffffff, 0, 0, 0), '255.255.255.255');
    assert.equal(formatAddress(4, 0, 0, 0, 0), '0.0.0.0');
    assert.equal(formatAddress(4, 0x0a000001, 1, 2, 3), '10.0.0.1');
  });

  for (const [input, want] of [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first is compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run is compressed
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['FE80:0:0:0:0200:5EFF:FE00:5301', 'fe80::200:5eff:fe00:5301'], // lower case, no leading zeros
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['0:0:0:1:0:0:0:0', '0:0:0:1::'], // the longer run wins over the earlier one
  ]) {
    test(`IPv6 ${input} is written ${want}`, () => {
      assert.equal(format6(input!), want);
    });
  }
});
