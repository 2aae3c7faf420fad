/** Fuzzing level 2: the fixtures' packets, mutated one by one and written as a valid pcap (see cases.ts). */
import { ACK, FIN, PSH, PcapWriter, RST, SYN } from '../../test/support/capture-writer.js';
import type { Corpus, Rec } from './corpus.js';
import { LINKTYPES, flipBits } from './file-mutators.js';
import { EDGE_U16, type Rng } from './random.js';

/** Offsets of the network and transport headers in an Ethernet frame (through VLAN tags), when IP. */
function ipOffsets(d: Buffer, l3: number): { l3: number; v: number; l4: number; proto: number } | null {
  if (d.length < l3 + 20) return null;
  const v = d[l3]! >> 4;
  if (v === 4) {
    const ihl = (d[l3]! & 15) * 4;
    return { l3, v, l4: l3 + ihl, proto: d[l3 + 9]! };
  }
  if (v === 6 && d.length >= l3 + 40) return { l3, v, l4: l3 + 40, proto: d[l3 + 6]! };
  return null;
}

function etherL3(d: Buffer): number {
  let p = 14;
  let type = d.length >= 14 ? d.readUInt16BE(12) : 0;
  while ((type === 0x8100 || type === 0x88a8) && d.length >= p + 4) {
    type = d.readUInt16BE(p + 2);
    p += 4;
  }
  return p;
}

/** Recomputes the IPv4 header checksum (the decoder ignores it; Wireshark-like tools do not). */
function fixIpv4Checksum(d: Buffer, l3: number): void {
  const ihl = (d[l3]! & 15) * 4;
  if (ihl < 20 || d.length < l3 + ihl) return;
  d.writeUInt16BE(0, l3 + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += d.readUInt16BE(l3 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  d.writeUInt16BE(~sum & 0xffff, l3 + 10);
}

const TCP_OPTION_JUNK: number[][] = [
  [2, 4, 0, 0], [2, 0], [2, 1], [3, 3, 255], [3, 3, 14], [3, 3, 15], [3, 2], [4, 2], [4, 0], [5, 2], [5, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
  [5, 34, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 16, 0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8],
  [8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], [8, 9], [8, 255], [255, 40], [254, 4, 0xf9, 0x89], [30, 2], [1, 1, 1, 1, 1, 1, 1, 1], [0, 99, 99], [19, 18],
];

/** One mutation of one frame (Ethernet when `l3` is 14ish, a bare IP packet when it is 0). Returns a note. */
export function mutatePacket(r: Rng, rec: Rec, l3: number): string {
  const d = rec.data;
  const ip = ipOffsets(d, l3);
  const op = r.int(0, 21);
  if (ip === null || op >= 20) {
    if (r.chance(0.5)) {
      rec.data = Buffer.concat([d, r.bytes(r.size(256))]);
      return 'trailer';
    }
    flipBits(r, d, r.int(1, 8));
    return 'bits';
  }
  const v4 = ip.v === 4;
  const tcp = ip.l4;
  const hasTcp = ip.proto === 6 && d.length >= tcp + 20;
  switch (op) {
    case 0:
      if (v4) d.writeUInt16BE(r.chance(0.6) ? r.pick(EDGE_U16) : (d.readUInt16BE(l3 + 2) + r.int(-24, 24)) & 0xffff, l3 + 2);
      else d.writeUInt16BE(r.chance(0.6) ? r.pick(EDGE_U16) : (d.readUInt16BE(l3 + 4) + r.int(-24, 24)) & 0xffff, l3 + 4);
      if (v4) fixIpv4Checksum(d, l3);
      return 'ip length';
    case 1:
      d[l3] = (d[l3]! & 0xf0) | r.int(0, 15);
      return 'ihl';
    case 2:
      d[l3] = (r.pick([0, 4, 6, 5, 15]) << 4) | (d[l3]! & 15);
      return 'ip version';
    case 3:
      if (v4) d[l3 + 9] = r.pick([17, 1, 0, 255, 4, 41, 50, 51]);
      else d[l3 + 6] = r.pick([0, 43, 44, 60, 51, 50, 59, 17, 135, 255]);
      return 'protocol';
    case 4:
      if (v4) {
        d.writeUInt16BE(r.pick([0x2000, 0x2001, 0x0001, 0x1fff, 0x3fff, 0x4000, 0xffff, r.int(0, 0xffff)]), l3 + 6);
        fixIpv4Checksum(d, l3);
      } else d[l3 + 6] = 44;
      return 'fragment bits';
    case 5:
      if (!hasTcp) return 'none';
      d[tcp + 12] = (r.int(0, 15) << 4) | (d[tcp + 12]! & 15);
      return 'tcp data offset';
    case 6:
      if (!hasTcp) return 'none';
      d[tcp + 13] = r.pick([0, 0xff, SYN | FIN, SYN | RST, SYN | ACK | FIN, RST, FIN, FIN | ACK | PSH, SYN, r.int(0, 255)]);
      return 'tcp flags';
    case 7:
    case 8:
      if (!hasTcp) return 'none';
      d.writeUInt32BE(r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, (d.readUInt32BE(tcp + 4) + 0x80000000) >>> 0, (d.readUInt32BE(tcp + 4) - r.int(1, 5000)) >>> 0, r.u32()]), tcp + (op === 7 ? 4 : 8));
      return op === 7 ? 'seq jump' : 'ack jump';
    case 9: {
      if (!hasTcp) return 'none';
      const hdr = (d[tcp + 12]! >> 4) * 4;
      const optLen = Math.min(hdr - 20, d.length - tcp - 20);
      if (optLen <= 0 || r.chance(0.3)) {
        // New options: grow the header with junk options, keeping the payload after them.
        const opts = Buffer.from(r.pick(TCP_OPTION_JUNK).concat(r.chance(0.5) ? r.pick(TCP_OPTION_JUNK) : []));
        const padded = Buffer.concat([opts, Buffer.alloc((4 - (opts.length % 4)) % 4)]).subarray(0, 40);
        const body = d.subarray(tcp + Math.max(20, Math.min(hdr, d.length - tcp)));
        rec.data = Buffer.concat([d.subarray(0, tcp + 20), padded, body]);
        rec.data[tcp + 12] = (Math.min(15, 5 + padded.length / 4) << 4) | (rec.data[tcp + 12]! & 15);
        if (v4) {
          rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3), l3 + 2);
          fixIpv4Checksum(rec.data, l3);
        } else rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3 - 40), l3 + 4);
        rec.orig = Math.max(rec.orig + padded.length, rec.data.length);
        return 'tcp options added';
      }
      const junk = r.chance(0.5) ? Buffer.from(r.pick(TCP_OPTION_JUNK)) : r.bytes(optLen);
      junk.copy(d, tcp + 20, 0, Math.min(junk.length, optLen));
      return 'tcp options';
    }
    case 10:
      if (!hasTcp) return 'none';
      d.writeUInt16BE(r.pick([0, 20, 21, 65535, 1, r.int(0, 65535)]), tcp + (r.chance(0.5) ? 0 : 2));
      return 'port';
    case 11:
      if (!hasTcp) return 'none';
      d.writeUInt16BE(r.pick([0, 1, 0xffff]), tcp + 14);
      return 'window';
    case 12: {
      // Addresses: the same on both ends, broadcast, zero, or swapped.
      const at = v4 ? l3 + 12 : l3 + 8;
      const len = v4 ? 4 : 16;
      const what = r.int(0, 2);
      if (what === 0) d.copy(d, at + len, at, at + len);
      else if (what === 1) d.fill(r.pick([0, 0xff]), at + (r.chance(0.5) ? 0 : len), at + (r.chance(0.5) ? len : 2 * len));
      else {
        const a = Buffer.from(d.subarray(at, at + len));
        d.copy(d, at, at + len, at + 2 * len);
        a.copy(d, at + len);
      }
      if (v4) fixIpv4Checksum(d, l3);
      return 'addresses';
    }
    case 13: {
      // Cut by the snap length: fewer bytes captured than on the wire.
      const keep = r.int(0, d.length);
      rec.orig = Math.max(rec.orig, d.length);
      rec.data = d.subarray(0, keep);
      return `cut to ${keep}`;
    }
    case 14:
    case 15: {
      // The payload: FTP lines get hostile bytes.
      if (!hasTcp) return 'none';
      const pay = tcp + (d[tcp + 12]! >> 4) * 4;
      if (pay >= d.length) return 'none';
      const n = r.int(1, 6);
      for (let i = 0; i < n; i++) d[r.int(pay, d.length - 1)] = r.pick([0x00, 0x0a, 0x0d, 0xff, 0x1b, 0x9b, 0x7f, 0x85, 0x20, 0x2d, 0x30, 0x39]);
      return 'payload bytes';
    }
    case 16: {
      // An IPv6 extension header inserted (hop-by-hop, routing, destination options, AH), length possibly lying.
      if (v4) {
        d[l3 + 1] = r.int(0, 255);
        return 'tos';
      }
      const type = r.pick([0, 43, 60, 51, 44, 135]);
      const ext = Buffer.alloc(8 * r.int(1, 3));
      ext[0] = d[l3 + 6]!;
      ext[1] = r.chance(0.7) ? ext.length / 8 - 1 : r.int(0, 255);
      if (type === 44) ext.writeUInt16BE(r.pick([0, 1, 8, 0xfff9]), 2);
      rec.data = Buffer.concat([d.subarray(0, l3 + 40), ext, d.subarray(l3 + 40)]);
      rec.data[l3 + 6] = type;
      rec.data.writeUInt16BE(Math.min(0xffff, rec.data.length - l3 - 40), l3 + 4);
      rec.orig = Math.max(rec.orig + ext.length, rec.data.length);
      return 'ipv6 extension';
    }
    case 17: {
      // Link layer: VLAN tags, MPLS, PPPoE, 802.3 with LLC/SNAP, or another EtherType.
      if (l3 === 0) return 'none';
      const what = r.int(0, 4);
      const type = Buffer.from(d.subarray(l3 - 2, l3));
      if (what === 0) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x81, 0x00, 0, r.int(0, 255)]), d.subarray(12)]);
      else if (what === 1) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x88, 0x47, 0, 0, r.chance(0.8) ? 1 : 0, 64]), d.subarray(l3)]);
      else if (what === 2) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0x88, 0x64, 0x11, 0, 0, 1, 0, 0, 0, r.pick([0x21, 0x57, 0x99])]), d.subarray(l3)]);
      else if (what === 3) rec.data = Buffer.concat([d.subarray(0, 12), Buffer.from([0, 100, 0xaa, 0xaa, 0x03, 0, 0, 0]), type, d.subarray(l3)]);
      else d.writeUInt16BE(r.pick([0x0806, 0x88cc, 0x9100, 0x0000, 0xffff]), l3 - 2);
      rec.orig = Math.max(rec.orig, rec.data.length);
      return 'link layer';
    }
    case 18:
      rec.sec = r.pick([0, 1, 0x7fffffff, 0xffffffff, rec.sec - r.int(1, 100000), rec.sec + r.int(1, 2000)]) >>> 0;
      rec.nsec = r.chance(0.5) ? rec.nsec : r.int(0, 999_999_999);
      return 'timestamp';
    default:
      flipBits(r, d, r.int(1, 4));
      return 'bits';
  }
}

/** IPv4 fragments of a frame's IP packet, sometimes overlapping or conflicting, in a random order. */
function fragment(r: Rng, rec: Rec, l3: number): Rec[] {
  const ip = ipOffsets(rec.data, l3);
  if (ip === null) return [rec];
  const d = rec.data;
  if (ip.v === 6) {
    const payload = d.subarray(l3 + 40);
    const out: Rec[] = [];
    const size = 8 * r.int(1, 4);
    const id = r.u32();
    for (let off = 0; off < payload.length || off === 0; off += size) {
      const piece = payload.subarray(off, off + size);
      const more = off + size < payload.length ? 1 : 0;
      const fh = Buffer.alloc(8);
      fh[0] = d[l3 + 6]!;
      fh.writeUInt16BE((off & 0xfff8) | more, 2);
      fh.writeUInt32BE(id, 4);
      const pkt = Buffer.concat([d.subarray(0, l3 + 40), fh, piece]);
      pkt[l3 + 6] = 44;
      pkt.writeUInt16BE(pkt.length - l3 - 40, l3 + 4);
      out.push({ ...rec, data: pkt, orig: pkt.length });
      if (out.length > 200) break;
    }
    return r.chance(0.5) ? r.shuffle(out) : out;
  }
  const ihl = ip.l4 - l3;
  if (ihl < 20 || ip.l4 > d.length) return [rec];
  const total = Math.min(d.readUInt16BE(l3 + 2) || d.length - l3, d.length - l3);
  const payload = d.subarray(ip.l4, l3 + total);
  const size = 8 * r.int(1, 8);
  const out: Rec[] = [];
  const step = r.chance(0.2) ? size - 8 * r.int(0, size / 8 - 1) : size; // overlapping when smaller than size
  for (let off = 0; off < payload.length || off === 0; off += Math.max(8, step)) {
    let piece: Buffer = Buffer.from(payload.subarray(off, off + size));
    if (r.chance(0.05)) piece = r.bytes(piece.length); // a conflicting overlap
    const last = off + size >= payload.length;
    const hdr = Buffer.from(d.subarray(l3, l3 + ihl));
    hdr.writeUInt16BE(ihl + piece.length, 2);
    hdr.writeUInt16BE((last && !r.chance(0.05) ? 0 : 0x2000) | ((off / 8) & 0x1fff), 6);
    const pkt = Buffer.concat([d.subarray(0, l3), hdr, piece]);
    fixIpv4Checksum(pkt, l3);
    out.push({ ...rec, data: pkt, orig: pkt.length });
    if (out.length > 200) break;
  }
  return r.chance(0.5) ? r.shuffle(out) : out;
}

/** Shifts the sequence numbers of one direction of every connection so that they wrap around 2^32 soon. */
function wrapSequences(r: Rng, recs: Rec[]): void {
  const delta = new Map<string, number>();
  for (const rec of recs) {
    const l3 = etherL3(rec.data);
    const ip = ipOffsets(rec.data, l3);
    if (ip === null || ip.proto !== 6 || rec.data.length < ip.l4 + 20) continue;
    const len = ip.v === 4 ? 4 : 16;
    const src = rec.data.subarray(ip.v === 4 ? l3 + 12 : l3 + 8, (ip.v === 4 ? l3 + 12 : l3 + 8) + len).toString('hex');
    const dst = rec.data.subarray((ip.v === 4 ? l3 + 12 : l3 + 8) + len, (ip.v === 4 ? l3 + 12 : l3 + 8) + 2 * len).toString('hex');
    const sp = rec.data.readUInt16BE(ip.l4);
    const dp = rec.data.readUInt16BE(ip.l4 + 2);
    const fwd = `${src}:${sp}>${dst}:${dp}`;
    const rev = `${dst}:${dp}>${src}:${sp}`;
    if (!delta.has(fwd)) {
      const seq = rec.data.readUInt32BE(ip.l4 + 4);
      delta.set(fwd, (0x100000000 - seq - r.int(0, 3000)) >>> 0);
    }
    const t = ip.l4;
    rec.data.writeUInt32BE((rec.data.readUInt32BE(t + 4) + delta.get(fwd)!) >>> 0, t + 4);
    const back = delta.get(rev);
    if (back !== undefined && rec.data[t + 13]! & ACK) rec.data.writeUInt32BE((rec.data.readUInt32BE(t + 8) + back) >>> 0, t + 8);
  }
}

/** The IP packet of an Ethernet frame wrapped in another link layer. */
const RELINK: Array<{ name: string; linktype: number; wrap: (ip: Buffer, v6: boolean) => Buffer }> = [
  { name: 'raw', linktype: 101, wrap: (ip) => ip },
  { name: 'raw12', linktype: 12, wrap: (ip) => ip },
  { name: 'ipv4/ipv6', linktype: 228, wrap: (ip) => ip },
  { name: 'null', linktype: 0, wrap: (ip, v6) => Buffer.concat([Buffer.from([v6 ? 24 : 2, 0, 0, 0]), ip]) },
  { name: 'loop', linktype: 108, wrap: (ip, v6) => Buffer.concat([Buffer.from([0, 0, 0, v6 ? 30 : 2]), ip]) },
  { name: 'sll', linktype: 113, wrap: (ip, v6) => Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, v6 ? 0x86 : 0x08, v6 ? 0xdd : 0]), ip]) },
  { name: 'sll2', linktype: 276, wrap: (ip, v6) => Buffer.concat([Buffer.from([v6 ? 0x86 : 0x08, v6 ? 0xdd : 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]), ip]) },
];

export function packetCase(r: Rng, corpus: Corpus, notes: string[]): Buffer {
  const first = r.pick(corpus.captures);
  notes.push(first.name);
  let recs: Rec[] = first.records.map((x) => ({ ...x, data: Buffer.from(x.data) }));
  if (r.chance(0.15)) {
    // Two captures interleaved (shifted to overlap in time): more sessions, addresses in common.
    const other = r.pick(corpus.captures);
    const shift = recs[0]!.sec - other.records[0]!.sec;
    recs = recs.concat(other.records.map((x) => ({ ...x, sec: x.sec + shift, data: Buffer.from(x.data) })));
    recs.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    notes.push(`+ ${other.name}`);
  }
  if (r.chance(0.15)) {
    wrapSequences(r, recs);
    notes.push('sequence numbers wrap');
  }
  // Per-packet mutations: a few packets, or many.
  const rate = r.pick([0.02, 0.05, 0.1, 0.3, 1]);
  const counts = new Map<string, number>();
  for (const rec of recs) {
    if (!r.chance(rate)) continue;
    for (let k = r.int(1, 3); k > 0; k--) {
      const what = mutatePacket(r, rec, etherL3(rec.data));
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
  }
  if (counts.size > 0) notes.push([...counts].map(([k, n]) => `${k} x${n}`).join(' '));
  // Sequence-level changes.
  for (let k = r.int(0, 4); k > 0; k--) {
    const op = r.int(0, 7);
    const i = r.int(0, recs.length - 1);
    if (op === 0) {
      const j = Math.min(recs.length, i + r.int(2, 12));
      recs.splice(i, j - i, ...r.shuffle(recs.slice(i, j)));
      notes.push('shuffled run');
    } else if (op === 1) {
      const n = r.int(1, 5);
      recs.splice(r.int(0, recs.length), 0, ...recs.slice(i, i + n).map((x) => ({ ...x, data: Buffer.from(x.data) })));
      notes.push('duplicated');
    } else if (op === 2) {
      recs.splice(i, r.size(8) + 1);
      notes.push('dropped');
    } else if (op === 3) {
      const [a] = recs.splice(i, 1);
      recs.splice(r.int(0, recs.length), 0, a!);
      notes.push('moved');
    } else if (op === 4) {
      const frags = fragment(r, recs[i]!, etherL3(recs[i]!.data));
      recs.splice(i, 1, ...frags);
      notes.push(`fragmented (${frags.length})`);
    } else if (op === 5) {
      // Retransmission with other bytes: the same segment, its payload changed.
      const copy = { ...recs[i]!, data: Buffer.from(recs[i]!.data) };
      flipBits(r, copy.data, r.int(1, 20));
      recs.splice(Math.min(recs.length, i + r.int(1, 10)), 0, copy);
      notes.push('conflicting retransmission');
    } else if (op === 6) {
      recs.reverse();
      notes.push('reversed');
    } else {
      // Every SYN, or every packet of one direction, gone.
      const port = r.pick([20, 21]);
      recs = recs.filter((x) => {
        const ip = ipOffsets(x.data, etherL3(x.data));
        if (ip === null || x.data.length < ip.l4 + 20) return true;
        return r.chance(0.5) ? !(x.data[ip.l4 + 13]! & SYN) : x.data.readUInt16BE(ip.l4) !== port;
      });
      notes.push('SYNs or one side dropped');
    }
    if (recs.length === 0) recs.push({ sec: 0, nsec: 0, data: Buffer.alloc(0), orig: 0 });
  }
  // The link layer: as captured (Ethernet), or the IP packets in another one.
  let linktype = first.linktype;
  if (first.linktype === 1 && r.chance(0.25)) {
    const link = r.pick(RELINK);
    linktype = link.linktype;
    recs = recs.map((x) => {
      const l3 = etherL3(x.data);
      const ip = x.data.subarray(Math.min(l3, x.data.length));
      const v6 = ip.length > 0 && ip[0]! >> 4 === 6;
      if (link.linktype === 228 && v6) return { ...x, data: ip };
      const data = link.wrap(ip, v6);
      return { ...x, data, orig: Math.max(x.orig - (x.data.length - data.length), data.length) };
    });
    notes.push(`link ${link.name}`);
  } else if (r.chance(0.03)) {
    linktype = r.pick(LINKTYPES);
    notes.push(`link type ${linktype}`);
  }
  const nanosecond = r.chance(0.3);
  const w = new PcapWriter({ endian: r.chance(0.7) ? 'le' : 'be', nanosecond, linktype, snaplen: r.chance(0.1) ? r.pick([0, 14, 54, 60, 96, 128]) : 262144 });
  for (const x of recs) w.add(x.sec >>> 0, nanosecond ? x.nsec : Math.floor(x.nsec / 1000), x.data, Math.min(0xffffffff, Math.max(x.orig, x.data.length)));
  return w.toBuffer();
}

