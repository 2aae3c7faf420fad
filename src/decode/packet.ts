import { u16, u32, u32le } from '../bytes.js';
import { FragmentReassembler, type FragmentLimits, DEFAULT_FRAGMENT_LIMITS } from './ip-fragments.js';

/** Link types (tcpdump's LINKTYPE_ registry) that we decode. */
export const LINK = {
  NULL: 0,
  ETHERNET: 1,
  RAW_12: 12,
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** What decoding one record gave. TCP is the only outcome the rest of the pipeline takes further. */
export const enum Decoded {
  TCP = 0,
  /** A fragment held until the rest of its datagram arrives. */
  FRAGMENT_HELD,
  NOT_IP,
  NOT_TCP,
  UNSUPPORTED_LINK,
  TRUNCATED_LINK,
  TRUNCATED_IP,
  BAD_IP,
  TRUNCATED_TCP,
  BAD_TCP,
  FRAGMENT_REFUSED,
  BAD_IPV6_EXTENSION,
  ENCRYPTED,
}

/** Human names of the outcomes, indexed by `Decoded`, for reports. */
export const DECODED_NAMES = [
  'TCP',
  'IP fragment (held for reassembly)',
  'not IP (ARP, LLDP, other protocols)',
  'IP but not TCP (UDP, ICMP, ...)',
  'unsupported link type',
  'cut inside the link header',
  'cut inside the IP header',
  'malformed IP header',
  'cut inside the TCP header',
  'malformed TCP header',
  'IP fragment refused (limits, cut, or oversized)',
  'malformed IPv6 extension header',
  'encrypted (IPsec ESP)',
];

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/**
 * One decoded packet, a flyweight: `decode()` overwrites its fields for every record, so nothing it holds
 * outlives the next call. Addresses are kept as 32-bit words (IPv4 uses word 0 only); payload is an offset
 * range into `buf` (the record's buffer, or a reassembled datagram's).
 */
export class PacketView {
  buf: Buffer = Buffer.alloc(0);
  /** The frame's length on the wire (set by the reader's loop, not by decode()). */
  frameLen = 0;
  /** The IP datagram's length per its header (after fragment reassembly: the whole datagram's). */
  ipLen = 0;
  ipVersion = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  ttl = 0;
  /** True when the TCP segment came out of IP fragment reassembly. */
  reassembled = false;
  /** Outermost VLAN id, or -1. */
  vlan = -1;

  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  tcpOff = 0;
  tcpHdrLen = 0;
  /** Payload bytes present in the capture: buf[payOff, payOff + payLen). */
  payOff = 0;
  payLen = 0;
  /** Payload length on the wire (per the IP header): more than payLen when the snap length cut the packet. */
  payWireLen = 0;
  /** TCP options; -1 where absent (and on segments without SYN when the decoder reads SYN options only). */
  mss = -1;
  wscale = -1;
  sackPermitted = false;
  tsVal = -1;
  tsEcr = -1;
  sackCount = 0;
  /** SACK blocks as left/right pairs (at most 4). */
  readonly sack = new Float64Array(8);
}

/**
 * Decodes records into a PacketView. Holds the only state decoding needs: IP fragments in reassembly.
 * Never throws on the wire's behalf: every outcome is a `Decoded` value.
 */
export class Decoder {
  readonly fragments: FragmentReassembler;
  private l3 = 0;
  private l3Ver = 0;

  constructor(
    limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS,
    /**
     * Read the TCP options of every segment (default), or only of SYN segments: the analysis reads
     * nothing but the window scale, which only a SYN carries, and walking the timestamps of every segment
     * was a twentieth of its time on control traffic.
     */
    private readonly allOptions = true,
  ) {
    this.fragments = new FragmentReassembler(limits);
  }

  decode(linktype: number, b: Buffer, off: number, cap: number, tsSec: number, pv: PacketView): Decoded {
    const end = off + cap;
    pv.buf = b;
    pv.vlan = -1;
    pv.reassembled = false;
    const s = this.link(linktype, b, off, end, pv);
    if (s !== Decoded.TCP) return s;
    return this.l3Ver === 4 ? this.ipv4(b, this.l3, end, tsSec, pv) : this.ipv6(b, this.l3, end, tsSec, pv);
  }

  /** Finds the network layer: sets l3 and l3Ver. */
  private link(linktype: number, b: Buffer, o: number, end: number, pv: PacketView): Decoded {
    switch (linktype) {
      case LINK.ETHERNET:
        if (end - o < 14) return Decoded.TRUNCATED_LINK;
        return this.etherType(u16(b, o + 12), b, o + 14, end, pv);
      case LINK.LINUX_SLL:
        if (end - o < 16) return Decoded.TRUNCATED_LINK;
        return this.etherType(u16(b, o + 14), b, o + 16, end, pv);
      case LINK.LINUX_SLL2:
        if (end - o < 20) return Decoded.TRUNCATED_LINK;
        return this.etherType(u16(b, o), b, o + 20, end, pv);
      case LINK.NULL: {
        if (end - o < 4) return Decoded.TRUNCATED_LINK;
        // The address family is in the byte order of the machine that captured.
        let fam = u32le(b, o);
        if (fam > 0xffff) fam = u32(b, o);
        return this.family(fam, o + 4);
      }
      case LINK.LOOP:
        if (end - o < 4) return Decoded.TRUNCATED_LINK;
        return this.family(u32(b, o), o + 4);
      case LINK.RAW:
      case LINK.RAW_12:
      case LINK.RAW_14:
        return this.byVersion(b, o, end);
      case LINK.IPV4:
        this.l3 = o;
        this.l3Ver = 4;
        return Decoded.TCP;
      case LINK.IPV6:
        this.l3 = o;
        this.l3Ver = 6;
        return Decoded.TCP;
      default:
        return Decoded.UNSUPPORTED_LINK;
    }
  }

  private etherType(type: number, b: Buffer, p: number, end: number, pv: PacketView): Decoded {
    for (let hops = 0; hops < 8; hops++) {
      switch (type) {
        case 0x0800:
          this.l3 = p;
          this.l3Ver = 4;
          return Decoded.TCP;
        case 0x86dd:
          this.l3 = p;
          this.l3Ver = 6;
          return Decoded.TCP;
        case 0x8100:
        case 0x88a8:
        case 0x9100:
        case 0x9200:
          if (end - p < 4) return Decoded.TRUNCATED_LINK;
          if (pv.vlan < 0) pv.vlan = u16(b, p) & 0x0fff;
          type = u16(b, p + 2);
          p += 4;
          continue;
        case 0x8847:
        case 0x8848: {
          // MPLS: labels until the bottom of the stack, then IP told by its version nibble.
          for (;;) {
            if (end - p < 4) return Decoded.TRUNCATED_LINK;
            const bottom = b[p + 2]! & 1;
            p += 4;
            if (bottom) break;
          }
          return this.byVersion(b, p, end);
        }
        case 0x8864: {
          // PPPoE session: 6-byte header, then the PPP protocol.
          if (end - p < 8) return Decoded.TRUNCATED_LINK;
          const proto = u16(b, p + 6);
          p += 8;
          if (proto === 0x0021) type = 0x0800;
          else if (proto === 0x0057) type = 0x86dd;
          else return Decoded.NOT_IP;
          continue;
        }
        default:
          if (type < 0x0600 && end - p >= 8 && b[p] === 0xaa && b[p + 1] === 0xaa && b[p + 2] === 0x03) {
            // 802.3 length field, LLC/SNAP: the EtherType follows the OUI.
            type = u16(b, p + 6);
            p += 8;
            continue;
          }
          return Decoded.NOT_IP;
      }
    }
    return Decoded.NOT_IP;
  }

  private family(fam: number, p: number): Decoded {
    if (fam === 2) this.l3Ver = 4;
    else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) this.l3Ver = 6;
    else return Decoded.NOT_IP;
    this.l3 = p;
    return Decoded.TCP;
  }

  private byVersion(b: Buffer, p: number, end: number): Decoded {
    if (end - p < 1) return Decoded.TRUNCATED_IP;
    const v = b[p]! >> 4;
    if (v !== 4 && v !== 6) return Decoded.BAD_IP;
    this.l3 = p;
    this.l3Ver = v;
    return Decoded.TCP;
  }

  private ipv4(b: Buffer, o: number, end: number, tsSec: number, pv: PacketView): Decoded {
    if (end - o < 20) return Decoded.TRUNCATED_IP;
    const vihl = b[o]!;
    const ihl = (vihl & 15) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return Decoded.BAD_IP;
    if (end - o < ihl) return Decoded.TRUNCATED_IP;
    let total = u16(b, o + 2);
    if (total === 0) total = end - o; // segmentation offload: the NIC fills the length in later
    if (total < ihl) return Decoded.BAD_IP;
    pv.ipVersion = 4;
    pv.ipLen = total;
    pv.ttl = b[o + 8]!;
    pv.src0 = u32(b, o + 12);
    pv.dst0 = u32(b, o + 16);
    pv.src1 = pv.src2 = pv.src3 = pv.dst1 = pv.dst2 = pv.dst3 = 0;
    const proto = b[o + 9]!;
    const frag = u16(b, o + 6);
    const l4 = o + ihl;
    const l4Wire = total - ihl;
    const l4End = Math.min(end, o + total); // Ethernet padding is not payload
    if ((frag & 0x3fff) !== 0) {
      const more = (frag & 0x2000) !== 0;
      const fragOff = (frag & 0x1fff) * 8;
      if (l4End - l4 < l4Wire) {
        this.fragments.stats.refused++;
        return Decoded.FRAGMENT_REFUSED;
      }
      const key = `4 ${pv.src0} ${pv.dst0} ${proto} ${u16(b, o + 4)}`;
      const whole = this.fragments.add(key, fragOff, more, b.subarray(l4, l4End), tsSec);
      if (whole === null) return Decoded.FRAGMENT_HELD;
      if (proto !== 6) return Decoded.NOT_TCP;
      pv.buf = whole;
      pv.reassembled = true;
      pv.ipLen = ihl + whole.length;
      return tcp(whole, 0, whole.length, whole.length, pv, this.allOptions);
    }
    if (proto !== 6) return Decoded.NOT_TCP;
    return tcp(b, l4, l4End, l4Wire, pv, this.allOptions);
  }

  private ipv6(b: Buffer, o: number, end: number, tsSec: number, pv: PacketView): Decoded {
    if (end - o < 40) return Decoded.TRUNCATED_IP;
    if (b[o]! >> 4 !== 6) return Decoded.BAD_IP;
    let payWire = u16(b, o + 4);
    if (payWire === 0) payWire = end - o - 40; // jumbogram or offload
    pv.ipVersion = 6;
    pv.ipLen = 40 + payWire;
    pv.ttl = b[o + 7]!;
    pv.src0 = u32(b, o + 8);
    pv.src1 = u32(b, o + 12);
    pv.src2 = u32(b, o + 16);
    pv.src3 = u32(b, o + 20);
    pv.dst0 = u32(b, o + 24);
    pv.dst1 = u32(b, o + 28);
    pv.dst2 = u32(b, o + 32);
    pv.dst3 = u32(b, o + 36);
    const wireEnd = o + 40 + payWire;
    return this.ipv6Headers(b, o + 40, Math.min(end, wireEnd), wireEnd, b[o + 6]!, tsSec, pv);
  }

  /** Walks IPv6 extension headers from `p` (next header `nh`) to TCP, reassembling fragments on the way. */
  private ipv6Headers(b: Buffer, p: number, capEnd: number, wireEnd: number, nh: number, tsSec: number, pv: PacketView): Decoded {
    for (let hops = 0; hops < 16; hops++) {
      switch (nh) {
        case 6:
          return tcp(b, p, capEnd, wireEnd - p, pv, this.allOptions);
        case 0: // hop-by-hop
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
        case 139: // HIP
        case 140: // shim6
        case 51: {
          // AH counts its length in 4-byte units, the others in 8-byte units.
          if (capEnd - p < 2) return Decoded.TRUNCATED_IP;
          const len = nh === 51 ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
          if (p + len > wireEnd) return Decoded.BAD_IPV6_EXTENSION;
          nh = b[p]!;
          p += len;
          continue;
        }
        case 44: {
          if (capEnd - p < 8) return Decoded.TRUNCATED_IP;
          const next = b[p]!;
          const offFlags = u16(b, p + 2);
          const fragOff = offFlags & 0xfff8;
          const more = (offFlags & 1) !== 0;
          p += 8;
          if (fragOff === 0 && !more) {
            nh = next; // an atomic fragment: nothing to reassemble
            continue;
          }
          if (pv.reassembled || capEnd < wireEnd) {
            this.fragments.stats.refused++;
            return Decoded.FRAGMENT_REFUSED;
          }
          const key = `6 ${pv.src0} ${pv.src1} ${pv.src2} ${pv.src3} ${pv.dst0} ${pv.dst1} ${pv.dst2} ${pv.dst3} ${u32(b, p - 4)}`;
          const whole = this.fragments.add(key, fragOff, more, b.subarray(p, capEnd), tsSec);
          if (whole === null) return Decoded.FRAGMENT_HELD;
          pv.buf = whole;
          pv.reassembled = true;
          pv.ipLen = pv.ipLen - (wireEnd - p) - 8 + whole.length; // the headers before the fragment header, then the datagram
          // Extension headers may follow inside the fragmentable part.
          return this.ipv6Headers(whole, 0, whole.length, whole.length, next, tsSec, pv);
        }
        case 50:
          return Decoded.ENCRYPTED;
        default:
          return Decoded.NOT_TCP;
      }
    }
    return Decoded.BAD_IPV6_EXTENSION;
  }
}

/** Decodes the TCP header at `o`; `capEnd` ends the captured bytes, `wireLen` is the segment's length on the wire. */
function tcp(b: Buffer, o: number, capEnd: number, wireLen: number, pv: PacketView, allOptions: boolean): Decoded {
  if (capEnd - o < 20) return Decoded.TRUNCATED_TCP;
  const hdr = (b[o + 12]! >> 4) * 4;
  if (hdr < 20 || hdr > wireLen) return Decoded.BAD_TCP;
  pv.tcpOff = o;
  pv.tcpHdrLen = hdr;
  pv.sport = u16(b, o);
  pv.dport = u16(b, o + 2);
  pv.seq = u32(b, o + 4);
  pv.ack = u32(b, o + 8);
  pv.flags = b[o + 13]!;
  pv.window = u16(b, o + 14);
  pv.mss = -1;
  pv.wscale = -1;
  pv.sackPermitted = false;
  pv.tsVal = -1;
  pv.tsEcr = -1;
  pv.sackCount = 0;
  const optEnd = Math.min(o + hdr, capEnd);
  if (hdr > 20 && (allOptions || (pv.flags & 2) !== 0)) options(b, o + 20, optEnd, pv);
  const pay = o + hdr;
  pv.payOff = pay;
  pv.payLen = capEnd > pay ? capEnd - pay : 0;
  pv.payWireLen = wireLen - hdr;
  if (pv.payLen > pv.payWireLen) pv.payLen = pv.payWireLen;
  return Decoded.TCP;
}

function options(b: Buffer, p: number, end: number, pv: PacketView): void {
  while (p < end) {
    const kind = b[p]!;
    if (kind === 0) return; // end of options
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) return;
    const len = b[p + 1]!;
    if (len < 2 || p + len > end) return; // malformed: stop reading options, keep the segment
    switch (kind) {
      case 2:
        if (len === 4) pv.mss = u16(b, p + 2);
        break;
      case 3:
        if (len === 3) pv.wscale = b[p + 2]!;
        break;
      case 4:
        pv.sackPermitted = true;
        break;
      case 5: {
        const n = Math.min(4, (len - 2) >> 3);
        for (let i = 0; i < n; i++) {
          pv.sack[i * 2] = u32(b, p + 2 + i * 8);
          pv.sack[i * 2 + 1] = u32(b, p + 6 + i * 8);
        }
        pv.sackCount = n;
        break;
      }
      case 8:
        if (len === 10) {
          pv.tsVal = u32(b, p + 2);
          pv.tsEcr = u32(b, p + 6);
        }
        break;
    }
    p += len;
  }
}

/** Formats an address held as words in a PacketView or connection (IPv6 compressed per RFC 5952). */
export function formatAddress(version: number, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  return formatIpv6Groups([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff]);
}

/**
 * RFC 5952 text for eight 16-bit groups: lower case, the longest run of two or more zero groups (the
 * first of equal runs) as "::", and IPv4-mapped addresses (::ffff:0:0/96) in mixed notation (section 5).
 */
export function formatIpv6Groups(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

