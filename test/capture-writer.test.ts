/**
 * Checks the synthetic capture writer against independent decoders: every
 * capture is written to a temporary file and read back by tcpdump (and, for
 * what tcpdump does not show — reassembly, pcapng interface names, comments
 * and sections — by tshark when it is installed).
 */

import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACK, AF_INET6_DARWIN, AF_INET6_FREEBSD, CWR, DLT_RAW_12, ECE, ETHERTYPE_IPV4, FIN, LINKTYPE_IPV4,
  LINKTYPE_IPV6, LINKTYPE_NULL, LINKTYPE_RAW, PSH, PcapWriter, PcapngWriter, SYN, TcpConversation, URG, ethernet,
  framesToPcap, ipv4Fragments, ipv6Fragments, nullLink, parseIpv6, sll2, tcp, tcpPacket,
  type FrameLink, type TcpOpts,
} from './support/capture-writer.js';

// ---------------------------------------------------------------------------
// Oracle plumbing
// ---------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'ftpscope-capture-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;

/** Writes a capture to a fresh temporary file and returns its path. */
function writeCapture(data: Buffer, ext = 'pcap'): string {
  const file = join(dir, `capture-${++fileCount}.${ext}`);
  writeFileSync(file, data);
  return file;
}

/** Runs a command to completion, capturing its output as text. */
function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string; error?: Error } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Why a tool cannot be used, or undefined when it runs. */
function missing(tool: string): string | undefined {
  const r = run(tool, ['--version']);
  return r.error || r.status !== 0 ? `${tool} not installed: ${r.error?.message ?? r.stderr.trim()}` : undefined;
}

/** Under FTPSCOPE_FAST=1 (npm run test:fast) the tshark checks, about half a second each, are left out. */
const FAST_SKIP = 'skipped in test:fast: tshark starts slowly (about 0.5 s a run); npm test runs it';
const unavailable = { tcpdump: missing('tcpdump'), tshark: process.env.FTPSCOPE_FAST === '1' ? FAST_SKIP : missing('tshark') };

/** Skips the test when tcpdump is missing; returns whether it is available. */
function hasTcpdump(t: TestContext): boolean {
  if (unavailable.tcpdump) t.skip(unavailable.tcpdump);
  return unavailable.tcpdump === undefined;
}

/** Whether tshark is available for the optional extra checks; notes it in the report when not. */
function hasTshark(t: TestContext): boolean {
  if (unavailable.tshark) t.diagnostic(`tshark checks left out: ${unavailable.tshark}`);
  return unavailable.tshark === undefined;
}

/** tcpdump's decode of a capture: the stderr banner and one line per packet. */
interface Decoded {
  banner: string;
  packets: string[];
  stdout: string;
}

/**
 * Reads a capture with `tcpdump -nn -tt -vv -S` plus `extra` and joins each
 * packet's continuation lines into one line; TCP checksums reported as
 * correct are normalised to "cksum ok".
 */
function tcpdump(data: Buffer, extra: string[] = [], ext = 'pcap'): Decoded {
  const r = run('tcpdump', ['-nn', '-tt', '-vv', '-S', ...extra, '-r', writeCapture(data, ext)]);
  assert.equal(r.status, 0, `tcpdump failed: ${r.stderr}`);
  const packets: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (/^\d/.test(line)) packets.push(line);
    else if (line.trim() !== '' && !/^\s+0x[0-9a-f]{4}:/.test(line)) packets[packets.length - 1] += ` ${line.trim()}`;
  }
  return {
    banner: r.stderr,
    packets: packets.map((p) => p.replace(/cksum 0x[0-9a-f]{4} \(correct\)/g, 'cksum ok')),
    stdout: r.stdout,
  };
}

/** The bytes tcpdump -x / -xx printed, packet by packet. */
function hexDumps(stdout: string): Buffer[] {
  const dumps: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s+0x([0-9a-f]{4}):\s+(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0000') dumps.push('');
    dumps[dumps.length - 1] += m[2]!.replace(/\s/g, '');
  }
  return dumps.map((hex) => Buffer.from(hex, 'hex'));
}

/** tshark fields (-T fields) for every packet matching the display filter. */
function tshark(data: Buffer, fields: string[], filter: string, ext = 'pcap'): string[][] {
  const args = ['-r', writeCapture(data, ext), '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', filter, '-T', 'fields'];
  const r = run('tshark', [...args, ...fields.flatMap((f) => ['-e', f])]);
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/** "from > to [flags] seq=… ack=… len=…" of a tcpdump -vv -S line (seq/ack '-' when tcpdump omits them). */
function tcpSummary(line: string): string {
  const m = /(\S+) > (\S+): Flags \[([^\]]*)\](.*)$/.exec(line);
  assert.ok(m, `no TCP header in: ${line}`);
  const rest = m[4]!;
  const seq = /, seq (\d+(?::\d+)?)/.exec(rest)?.[1] ?? '-';
  const ack = /, ack (\d+)/.exec(rest)?.[1] ?? '-';
  const len = /, length (\d+)/.exec(rest)?.[1];
  return `${m[1]} > ${m[2]} [${m[3]}] seq=${seq} ack=${ack} len=${len}`;
}

/** The leading timestamp of each packet line. */
function timestamps(d: Decoded): string[] {
  return d.packets.map((p) => p.split(' ')[0]!);
}

const SYN_OPTIONS: TcpOpts['options'] = { mss: 1460, sackPermitted: true, timestamp: [100, 0], wscale: 7 };

// ---------------------------------------------------------------------------
// Classic pcap
// ---------------------------------------------------------------------------

test('pcap: little-endian microsecond Ethernet file with an IPv4 TCP SYN', (t) => {
  if (!hasTcpdump(t)) return;
  const syn = tcpPacket(
    { src: '192.0.2.10', dst: '198.51.100.20', sport: 40000, dport: 21, seq: -1, flags: SYN, window: 64240, options: SYN_OPTIONS },
    undefined,
    { id: 0x1234, ttl: 63, tos: 0x10, dontFragment: true, options: Uint8Array.from([0x94, 4, 0, 0, 1]) },
  );
  const file = new PcapWriter().add(1700000000, 123, ethernet(syn, { etherType: ETHERTYPE_IPV4 })).toBuffer();
  assert.deepEqual([...file.subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
  const d = tcpdump(file);
  assert.match(d.banner, /link-type EN10MB \(Ethernet\), snapshot length 262144/);
  assert.deepEqual(d.packets, [
    '1700000000.000123 IP (tos 0x10, ttl 63, id 4660, offset 0, flags [DF], proto TCP (6), length 68, options (RA,NOP,EOL)) ' +
      '192.0.2.10.40000 > 198.51.100.20.21: Flags [S], cksum ok, seq 4294967295, win 64240, ' +
      'options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0',
  ]);
});

test('pcap: big-endian nanosecond timestamps, and microseconds read at nanosecond precision', (t) => {
  if (!hasTcpdump(t)) return;
  const pkt = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: ACK });
  const nano = new PcapWriter({ endian: 'be', nanosecond: true, linktype: LINKTYPE_RAW })
    .add(1700000000, 123456789, pkt)
    .add(1700000001, 999999999, pkt)
    .toBuffer();
  assert.deepEqual([...nano.subarray(0, 4)], [0xa1, 0xb2, 0x3c, 0x4d]);
  assert.deepEqual(timestamps(tcpdump(nano, ['--nano'])), ['1700000000.123456789', '1700000001.999999999']);
  assert.deepEqual(timestamps(tcpdump(nano)), ['1700000000.123456', '1700000001.999999']);

  const micro = new PcapWriter({ linktype: LINKTYPE_RAW }).add(1700000000, 123, pkt).add(2147483647, 999999, pkt).toBuffer();
  assert.deepEqual(timestamps(tcpdump(micro, ['--time-stamp-precision=nano'])), ['1700000000.000123000', '2147483647.999999000']);
});

test('pcap: snaplen cuts records, the original length is kept', (t) => {
  if (!hasTcpdump(t)) return;
  const frame = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: ACK }, Buffer.alloc(100, 0x41)), {
    etherType: ETHERTYPE_IPV4,
  });
  const file = new PcapWriter({ endian: 'be', snaplen: 60 }).add(1, 2, frame).add(1, 3, frame.subarray(0, 54), 1500).toBuffer();
  const d = tcpdump(file, ['-e', '-xx']);
  assert.match(d.banner, /snapshot length 60/);
  assert.match(d.packets[0]!, /ethertype IPv4 \(0x0800\), length 154: .*proto TCP \(6\), length 140\)/);
  assert.match(d.packets[1]!, /ethertype IPv4 \(0x0800\), length 1500: /);
  assert.deepEqual(hexDumps(d.stdout), [frame.subarray(0, 60), frame.subarray(0, 54)]);
});

// ---------------------------------------------------------------------------
// Link layers
// ---------------------------------------------------------------------------

test('ethernet: addresses, an 802.1Q tag and a QinQ stack', (t) => {
  if (!hasTcpdump(t)) return;
  const pkt = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: SYN });
  const file = new PcapWriter()
    .add(1, 0, ethernet(pkt, { etherType: ETHERTYPE_IPV4, vlans: [100], src: '02:00:00:00:00:0a', dst: 'ff:ff:ff:ff:ff:ff' }))
    .add(1, 0, ethernet(pkt, { etherType: ETHERTYPE_IPV4, vlans: [10, 4094], qinq: true }))
    .add(1, 0, ethernet(pkt, { etherType: ETHERTYPE_IPV4, vlans: [5, 6] }))
    .toBuffer();
  const d = tcpdump(file, ['-e']);
  const heads = d.packets.map((p) => p.slice(0, p.indexOf(' (tos')));
  assert.deepEqual(heads, [
    '1.000000 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 58: vlan 100, p 0, ethertype IPv4 (0x0800),',
    '1.000000 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 802.1Q-QinQ (0x88a8), length 62: vlan 10, p 0, ' +
      'ethertype 802.1Q (0x8100), vlan 4094, p 0, ethertype IPv4 (0x0800),',
    '1.000000 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 802.1Q (0x8100), length 62: vlan 5, p 0, ' +
      'ethertype 802.1Q (0x8100), vlan 6, p 0, ethertype IPv4 (0x0800),',
  ]);
  for (const p of d.packets) assert.match(p, /10\.0\.0\.1\.1 > 10\.0\.0\.2\.2: Flags \[S\], cksum ok, seq 1,/);
});

test('framesToPcap: every link wrapper, IPv4 and IPv6', (t) => {
  if (!hasTcpdump(t)) return;
  const v4 = new TcpConversation({ client: { ip: '10.1.1.1', port: 5000 }, server: { ip: '10.1.1.2', port: 21 } }).segment(true, SYN);
  const v6 = new TcpConversation({ client: { ip: '2001:db8::1', port: 5000 }, server: { ip: '2001:db8::2', port: 21 } }).segment(true, SYN);
  const expected: Record<FrameLink, { banner: string; v4: RegExp; v6: RegExp }> = {
    raw: { banner: 'RAW (Raw IP)', v4: /^1700000000\.000000 ip: \(tos 0x0,/, v6: /^1700000000\.000000 ip: \(hlim 64, next-header TCP/ },
    ethernet: {
      banner: 'EN10MB (Ethernet)',
      v4: /02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 \(0x0800\), length 54:/,
      v6: /02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv6 \(0x86dd\), length 74:/,
    },
    sll: {
      banner: 'LINUX_SLL (Linux cooked v1)',
      v4: /000000 {2}In 02:00:00:00:00:01 ethertype IPv4 \(0x0800\), length 56:/,
      v6: /000000 {2}In 02:00:00:00:00:01 ethertype IPv6 \(0x86dd\), length 76:/,
    },
    sll2: {
      banner: 'LINUX_SLL2 (Linux cooked v2)',
      v4: /In\s+ifindex 1 02:00:00:00:00:01 ethertype IPv4 \(0x0800\), length 60:/,
      v6: /In\s+ifindex 1 02:00:00:00:00:01 ethertype IPv6 \(0x86dd\), length 80:/,
    },
    null: { banner: 'NULL (BSD loopback)', v4: /AF IPv4 \(2\), length 44:/, v6: /AF IPv6 \(24\), length 64:/ },
    loop: { banner: 'LOOP (OpenBSD loopback)', v4: /AF IPv4 \(2\), length 44:/, v6: /AF IPv6 \(24\), length 64:/ },
  };
  for (const [link, want] of Object.entries(expected) as Array<[FrameLink, (typeof expected)[FrameLink]]>) {
    const d4 = tcpdump(framesToPcap(v4.frames, link), ['-e']);
    const d6 = tcpdump(framesToPcap(v6.frames, link), ['-e']);
    assert.match(d4.banner, new RegExp(`link-type ${want.banner.replace(/[()]/g, '\\$&')}`), link);
    assert.match(d4.packets[0]!, want.v4, link);
    assert.match(d6.packets[0]!, want.v6, link);
    assert.match(d4.packets[0]!, /10\.1\.1\.1\.5000 > 10\.1\.1\.2\.21: Flags \[S\], cksum ok, seq 1000,/, link);
    assert.match(d6.packets[0]!, /2001:db8::1\.5000 > 2001:db8::2\.21: Flags \[S\], cksum ok, seq 1000,/, link);
  }
});

test('link layers: raw-IP link type numbers, DLT_NULL byte orders, SLL2 fields', (t) => {
  if (!hasTcpdump(t)) return;
  const v4 = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: SYN });
  const v6 = tcpPacket({ src: '::1', dst: '::2', sport: 1, dport: 2, seq: 1, flags: SYN });
  const frames = [{ tsSec: 1, tsNsec: 0, data: v4 }];
  assert.match(tcpdump(framesToPcap(frames, 'raw', { linktype: DLT_RAW_12 })).banner, /link-type RAW \(Raw IP\)/);
  assert.match(tcpdump(framesToPcap(frames, 'raw', { linktype: LINKTYPE_IPV4 })).banner, /link-type IPV4 \(Raw IPv4\)/);
  const d6 = tcpdump(framesToPcap([{ tsSec: 1, tsNsec: 0, data: v6 }], 'raw', { linktype: LINKTYPE_IPV6 }));
  assert.match(d6.banner, /link-type IPV6 \(Raw IPv6\)/);
  assert.match(d6.packets[0]!, /::1\.1 > ::2\.2: Flags \[S\], cksum ok/);

  const nulls = new PcapWriter({ linktype: LINKTYPE_NULL })
    .add(1, 0, nullLink(v6, AF_INET6_DARWIN, 'be'))
    .add(1, 0, nullLink(v6, AF_INET6_FREEBSD, 'le'))
    .toBuffer();
  const dn = tcpdump(nulls, ['-e']);
  assert.match(dn.packets[0]!, /AF IPv6 \(30\), length 64: .*::1\.1 > ::2\.2: Flags \[S\]/);
  assert.match(dn.packets[1]!, /AF IPv6 \(28\), length 64: .*::1\.1 > ::2\.2: Flags \[S\]/);

  const cooked = new PcapWriter({ linktype: 276 }).add(1, 0, sll2(v4, ETHERTYPE_IPV4, { ifindex: 7, packetType: 4 })).toBuffer();
  assert.match(tcpdump(cooked, ['-e']).packets[0]!, /Out\s+ifindex 7 02:00:00:00:00:01 ethertype IPv4 \(0x0800\), length 60: .*Flags \[S\]/);
});

// ---------------------------------------------------------------------------
// IP and TCP
// ---------------------------------------------------------------------------

test('tcp: option encodings, all flags, urgent pointer, sequence wrap-around', (t) => {
  if (!hasTcpdump(t)) return;
  const base = { src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 };
  const cases: Array<[TcpOpts, string]> = [
    [{ ...base, seq: 2 ** 32 + 5, ack: -1, flags: ACK, options: { timestamp: [5, 6], sack: [[1, 2], [3, 4]] } },
      'seq 5:10, ack 4294967295, win 65535, options [nop,nop,TS val 5 ecr 6,nop,nop,sack 2 {1:2}{3:4}], length 5'],
    [{ ...base, seq: 1, flags: SYN, options: { sackPermitted: true } }, 'seq 1:6, win 65535, options [nop,nop,sackOK], length 5'],
    [{ ...base, seq: 1, flags: SYN, options: { mss: 536, raw: Uint8Array.from([1, 1, 1]) } },
      'seq 1:6, win 65535, options [mss 536,nop,nop,nop,eol], length 5'],
    [{ ...base, seq: 1, ack: 2, flags: FIN | SYN | PSH | ACK | URG | ECE | CWR, window: 512, urgent: 3, options: { wscale: 14 } },
      'seq 1:6, ack 2, win 512, urg 3, options [nop,wscale 14], length 5'],
  ];
  const file = new PcapWriter({ linktype: LINKTYPE_RAW });
  for (const [opts] of cases) file.add(1, 0, tcpPacket(opts, Buffer.from('hello')));
  const d = tcpdump(file.toBuffer());
  const flags = ['[.]', '[S]', '[S]', '[FSP.UEW]'];
  cases.forEach(([, want], i) => {
    assert.ok(d.packets[i]!.endsWith(`10.0.0.1.1 > 10.0.0.2.2: Flags ${flags[i]}, cksum ok, ${want}`), d.packets[i]);
  });
  assert.throws(() => tcp({ ...base, seq: 1, flags: ACK, options: { raw: new Uint8Array(41) } }), /more than 40/);
});

test('ipv4: header fields, checksums verified by tcpdump, corrupted bytes detected, truncated total length', (t) => {
  if (!hasTcpdump(t)) return;
  const good = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: ACK }, Buffer.alloc(101, 0x41), { id: 65535, ttl: 1 });
  const badTcp = Buffer.from(good);
  badTcp[badTcp.length - 1]! ^= 1;
  const badIp = Buffer.from(good);
  badIp[5]! ^= 1;
  const long = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: ACK }, Buffer.alloc(10), { totalLength: 200 });
  const file = new PcapWriter({ linktype: LINKTYPE_RAW }).add(1, 0, good).add(1, 0, badTcp).add(1, 0, badIp).add(1, 0, long).toBuffer();
  const [ok, tcpBroken, ipBroken, truncated] = tcpdump(file).packets;
  assert.match(ok!, /^1\.000000 IP \(tos 0x0, ttl 1, id 65535, offset 0, flags \[none\], proto TCP \(6\), length 141\) .*cksum ok, seq 1:102,/);
  assert.doesNotMatch(ok!, /bad cksum/);
  assert.match(tcpBroken!, /cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\)/);
  assert.match(ipBroken!, /id 65534, .*bad cksum [0-9a-f]+ \(->[0-9a-f]+\)!/);
  assert.match(truncated!, /truncated-ip - 150 bytes missing! .*length 200\)/);
});

test('ipv4Fragments: offsets and flags per fragment, reassembled by tshark', (t) => {
  if (!hasTcpdump(t)) return;
  const ip = { src: '10.0.0.1', dst: '10.0.0.2', id: 77 };
  const segment = tcp({ ...ip, sport: 1, dport: 2, seq: 3, flags: ACK | PSH }, Buffer.alloc(50, 0x42));
  const frags = ipv4Fragments(ip, segment, 24);
  const file = framesToPcap(frags.map((data, i) => ({ tsSec: 1, tsNsec: i * 1000, data })));
  assert.deepEqual(tcpdump(file).packets, [
    '1.000000 IP (tos 0x0, ttl 64, id 77, offset 0, flags [+], proto TCP (6), length 44) 10.0.0.1.1 > 10.0.0.2.2: Flags [P.], seq 3:7, ack 0, win 65535, length 4',
    '1.000001 IP (tos 0x0, ttl 64, id 77, offset 24, flags [+], proto TCP (6), length 44) 10.0.0.1 > 10.0.0.2: ip-proto-6',
    '1.000002 IP (tos 0x0, ttl 64, id 77, offset 48, flags [none], proto TCP (6), length 42) 10.0.0.1 > 10.0.0.2: ip-proto-6',
  ]);
  assert.throws(() => ipv4Fragments(ip, segment, 20), /multiple of 8/);
  if (!hasTshark(t)) return;
  const fields = ['ip.reassembled.length', 'tcp.len', 'tcp.checksum.status', 'tcp.payload'];
  assert.deepEqual(tshark(file, fields, 'tcp'), [['70', '50', '1', Buffer.alloc(50, 0x42).toString('hex')]]);
});

test('ipv6: address forms, flow label, extension header chain, AH', (t) => {
  if (!hasTcpdump(t)) return;
  const seg = { sport: 21, dport: 40000, seq: 7, ack: 9, flags: ACK | PSH, options: { timestamp: [5, 6] as [number, number] } };
  const chain = tcpPacket({ ...seg, src: '2001:db8::1', dst: 'fe80::1:2' }, Buffer.from('hi'), {
    flowLabel: 0xabcde,
    hopLimit: 7,
    ext: [{ type: 0, data: Uint8Array.from([5, 2, 0, 0]) }, { type: 60 }, { type: 43, data: Uint8Array.from([0, 0]) }],
  });
  const ah = tcpPacket({ ...seg, src: '2001:db8:0:0:1:0:0:1', dst: '::ffff:192.0.2.1' }, undefined, {
    ext: [{ type: 51, data: Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 5]) }],
  });
  const plain = tcpPacket({ ...seg, src: '::', dst: '1:2:3:4:5:6:7:8' });
  const file = new PcapWriter({ linktype: LINKTYPE_RAW }).add(1, 0, chain).add(1, 0, ah).add(1, 0, plain).toBuffer();
  const tcpTail = 'Flags [P.], cksum ok, seq 7:9, ack 9, win 65535, options [nop,nop,TS val 5 ecr 6], length 2';
  assert.deepEqual(tcpdump(file).packets, [
    '1.000000 IP6 (flowlabel 0xabcde, hlim 7, next-header Options (0) payload length: 58) 2001:db8::1 > fe80::1:2: ' +
      `HBH (rtalert: 0x0000) (padn) DSTOPT (padn) RT6 (len=0, type=0 [Deprecated], segleft=0, rsv=0x0) 21 > 40000: ${tcpTail}: FTP, length: 2 hi [|ftp]`,
    '1.000000 IP6 (hlim 64, next-header AH (51) payload length: 48) 2001:db8::1:0:0:1 > ::ffff:192.0.2.1: ' +
      'AH(length=2(16-bytes),spi=0x00000100,seq=0x5,icv=0x00000000): 21 > 40000: Flags [P.], cksum ok, seq 7, ack 9, win 65535, options [nop,nop,TS val 5 ecr 6], length 0',
    '1.000000 IP6 (hlim 64, next-header TCP (6) payload length: 32) ::.21 > 1:2:3:4:5:6:7:8.40000: Flags [P.], cksum ok, seq 7, ack 9, win 65535, options [nop,nop,TS val 5 ecr 6], length 0',
  ]);
  assert.throws(() => parseIpv6('1::2::3'), /bad IPv6/);
  assert.throws(() => parseIpv6('1:2:3:4:5:6:7:8:9'), /bad IPv6/);
  assert.deepEqual(parseIpv6('::'), Buffer.alloc(16));
});

test('ipv6Fragments: fragment headers after the given extensions, reassembled by tshark', (t) => {
  if (!hasTcpdump(t)) return;
  const ip = { src: '2001:db8::1', dst: '2001:db8::2', ext: [{ type: 0 }] };
  const segment = tcp({ ...ip, sport: 1, dport: 2, seq: 3, flags: ACK }, Buffer.alloc(50, 0x43));
  const frags = ipv6Fragments(ip, segment, 32, 0xdeadbeef);
  const file = framesToPcap(frags.map((data) => ({ tsSec: 1, tsNsec: 0, data })));
  const head = '1.000000 IP6 (hlim 64, next-header Options (0) payload length:';
  assert.deepEqual(tcpdump(file).packets, [
    `${head} 48) 2001:db8::1 > 2001:db8::2: HBH (padn) frag (0xdeadbeef:0|32) 1 > 2: Flags [.], seq 3:15, ack 0, win 65535, length 12`,
    `${head} 48) 2001:db8::1 > 2001:db8::2: HBH (padn) frag (0xdeadbeef:32|32)`,
    `${head} 22) 2001:db8::1 > 2001:db8::2: HBH (padn) frag (0xdeadbeef:64|6)`,
  ]);
  if (!hasTshark(t)) return;
  const fields = ['ipv6.reassembled.length', 'tcp.len', 'tcp.checksum.status', 'tcp.payload'];
  assert.deepEqual(tshark(file, fields, 'tcp'), [['70', '50', '1', Buffer.alloc(50, 0x43).toString('hex')]]);
});

// ---------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------

test('pcapng: interface resolutions and offsets, all packet block kinds, skipped blocks, two sections', (t) => {
  if (!hasTcpdump(t)) return;
  const frame = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: SYN }), { etherType: ETHERTYPE_IPV4 });
  const ng = new PcapngWriter();
  const micro = ng.addInterface({ linktype: 1, name: 'eth0' });
  const nano = ng.addInterface({ linktype: 1, tsresol: 9 });
  const binary = ng.addInterface({ linktype: 1, tsresol: 0x8a, tsoffset: 1700000000n });
  ng.addEnhanced(micro, 1700000000_000005n, frame, undefined, { comment: 'first packet' })
    .addEnhancedAt(nano, 1700000000, 123456789, frame)
    .addEnhancedAt(binary, 5, 500_000_000, frame)
    .addBlock(0x0bad, Buffer.from('unknown block'))
    .addSimple(frame)
    .addBlock(4, new Uint8Array(4))
    .addObsolete(nano, 1700000002_000000001n, frame)
    .addBlock(5, new Uint8Array(12))
    .section();
  ng.addInterface({ linktype: 1 });
  ng.addEnhancedAt(0, 1700000009, 1000, frame);
  const d = tcpdump(ng.toBuffer(), ['--nano'], 'pcapng');
  assert.match(d.banner, /link-type EN10MB \(Ethernet\)/);
  assert.deepEqual(timestamps(d), [
    '1700000000.000005000', '1700000000.123456789', '1700000005.500000000', '0.000000000', '1700000002.000000001', '1700000009.000001000',
  ]);
  for (const p of d.packets) assert.match(p, /10\.0\.0\.1\.1 > 10\.0\.0\.2\.2: Flags \[S\], cksum ok, seq 1,/);
  if (!hasTshark(t)) return;
  const fields = ['frame.section_number', 'frame.interface_id', 'frame.comment'];
  assert.deepEqual(tshark(ng.toBuffer(), fields, 'tcp', 'pcapng'), [
    ['1', '0', 'first packet'], ['1', '1', ''], ['1', '2', ''], ['1', '0', ''], ['1', '1', ''], ['2', '0', ''],
  ]);
  assert.deepEqual(tshark(ng.toBuffer(), ['frame.interface_name'], 'frame.number == 1', 'pcapng'), [['eth0']]);
});

test('pcapng: snaplen cuts enhanced and simple packets, original length kept', (t) => {
  if (!hasTcpdump(t)) return;
  const frame = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: ACK }, Buffer.alloc(30)), { etherType: ETHERTYPE_IPV4 });
  const ng = new PcapngWriter();
  const id = ng.addInterface({ linktype: 1, snaplen: 40 });
  ng.addEnhanced(id, 0n, frame).addSimple(frame).addObsolete(id, 0n, frame, 9000);
  const d = tcpdump(ng.toBuffer(), ['-e', '-xx'], 'pcapng');
  assert.match(d.banner, /snapshot length 40/);
  assert.deepEqual(hexDumps(d.stdout), [frame.subarray(0, 40), frame.subarray(0, 40), frame.subarray(0, 40)]);
  assert.deepEqual(d.packets.map((p) => /, length (\d+):/.exec(p)?.[1]), ['84', '84', '9000']);
});

test('pcapng: big-endian sections, and sections of different byte orders', (t) => {
  if (!hasTcpdump(t)) return;
  const frame = ethernet(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, flags: SYN }), { etherType: ETHERTYPE_IPV4 });
  const be = new PcapngWriter({ endian: 'be' });
  be.addEnhancedAt(be.addInterface({ linktype: 1, tsresol: 9 }), 1, 2000, frame);
  assert.deepEqual([...be.toBuffer().subarray(0, 12)], [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d]);
  const d = tcpdump(be.toBuffer(), ['--nano'], 'pcapng');
  assert.deepEqual(timestamps(d), ['1.000002000']);
  assert.match(d.packets[0]!, /cksum ok, seq 1,/);

  const mixed = new PcapngWriter({ endian: 'be' });
  mixed.addEnhancedAt(mixed.addInterface({ linktype: 1 }), 1, 0, frame).section({ endian: 'le' });
  mixed.addEnhancedAt(mixed.addInterface({ linktype: 1 }), 2, 0, frame);
  const leSectionHeader = Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
  assert.ok(mixed.toBuffer().indexOf(leSectionHeader) > 0, 'second section header is little-endian');
  if (!hasTshark(t)) return;
  assert.deepEqual(tshark(mixed.toBuffer(), ['frame.section_number', 'frame.time_epoch', 'tcp.srcport'], 'tcp', 'pcapng'), [
    ['1', '1.000000000', '1'],
    ['2', '2.000000000', '1'],
  ]);
});

// ---------------------------------------------------------------------------
// Conversation builder
// ---------------------------------------------------------------------------

test('TcpConversation: handshake, data both ways with delayed ACKs, four-way close', (t) => {
  if (!hasTcpdump(t)) return;
  const conv = new TcpConversation({ client: { ip: '10.1.1.1', port: 5000 }, server: { ip: '10.1.1.2', port: 21 } })
    .handshake()
    .send(false, '220 ready\r\n')
    .send(true, Buffer.alloc(3000, 0x61), { segmentSize: 1000 })
    .close(true);
  assert.equal(conv.clientSeq, 4002);
  assert.equal(conv.serverSeq, 5013);
  const d = tcpdump(framesToPcap(conv.frames, 'ethernet', { nanosecond: true }), ['--nano']);
  const c = '10.1.1.1.5000';
  const s = '10.1.1.2.21';
  assert.deepEqual(d.packets.map(tcpSummary), [
    `${c} > ${s} [S] seq=1000 ack=- len=0`,
    `${s} > ${c} [S.] seq=5000 ack=1001 len=0`,
    `${c} > ${s} [.] seq=1001 ack=5001 len=0`,
    `${s} > ${c} [P.] seq=5001:5012 ack=1001 len=11`,
    `${c} > ${s} [.] seq=1001 ack=5012 len=0`,
    `${c} > ${s} [.] seq=1001:2001 ack=5012 len=1000`,
    `${c} > ${s} [.] seq=2001:3001 ack=5012 len=1000`,
    `${s} > ${c} [.] seq=5012 ack=3001 len=0`,
    `${c} > ${s} [P.] seq=3001:4001 ack=5012 len=1000`,
    `${s} > ${c} [.] seq=5012 ack=4001 len=0`,
    `${c} > ${s} [F.] seq=4001 ack=5012 len=0`,
    `${s} > ${c} [.] seq=5012 ack=4002 len=0`,
    `${s} > ${c} [F.] seq=5012 ack=4002 len=0`,
    `${c} > ${s} [.] seq=4002 ack=5013 len=0`,
  ]);
  assert.deepEqual(timestamps(d), conv.frames.map((_, i) => `1700000000.0${String(i).padStart(2, '0')}000000`));
  assert.match(d.packets[0]!, /options \[mss 1448,sackOK,TS val 1 ecr 0,nop,wscale 7\]/);
  assert.match(d.packets[1]!, /options \[mss 1448,sackOK,TS val 2 ecr 1,nop,wscale 7\]/);
  for (const p of d.packets) assert.match(p, /flags \[DF\].*cksum ok/);
});

test('TcpConversation: IPv6, sequence wrap-around, explicit segments, reset, nanosecond steps', (t) => {
  if (!hasTcpdump(t)) return;
  const conv = new TcpConversation({
    client: { ip: '2001:db8::10', port: 40000 },
    server: { ip: '2001:db8::21', port: 21 },
    isnClient: 0xfffffffe,
    startSec: 1,
    stepNsec: 999_999_999,
  })
    .handshake()
    .send(true, 'USER x\r\n', { noAck: true })
    .segment(true, ACK | PSH, Buffer.from('USER x\r\n'), { seq: 0xffffffff, advance: false })
    .reset(false);
  assert.equal(conv.clientSeq, 7);
  assert.equal(conv.serverSeq, 5001);
  const d = tcpdump(framesToPcap(conv.frames, 'sll2', { nanosecond: true }), ['--nano']);
  const c = '2001:db8::10.40000';
  const s = '2001:db8::21.21';
  assert.deepEqual(d.packets.map(tcpSummary), [
    `${c} > ${s} [S] seq=4294967294 ack=- len=0`,
    `${s} > ${c} [S.] seq=5000 ack=4294967295 len=0`,
    `${c} > ${s} [.] seq=4294967295 ack=5001 len=0`,
    `${c} > ${s} [P.] seq=4294967295:7 ack=5001 len=8`,
    `${c} > ${s} [P.] seq=4294967295:7 ack=5001 len=8`,
    `${s} > ${c} [R.] seq=5001 ack=7 len=0`,
  ]);
  assert.deepEqual(timestamps(d), ['1.000000000', '1.999999999', '2.999999998', '3.999999997', '4.999999996', '5.999999995']);
  for (const p of d.packets) assert.match(p, /cksum ok/);
});

// ---------------------------------------------------------------------------
// Argument checks (no oracle needed)
// ---------------------------------------------------------------------------

test('writers reject what they cannot encode', () => {
  assert.throws(() => new PcapngWriter().addSimple(new Uint8Array(4)), /interface 0/);
  assert.throws(() => new PcapngWriter().addEnhancedAt(0, 1, 0, new Uint8Array(4)), /no interface 0/);
  assert.throws(() => ipv6Fragments({ src: '::1', dst: '::2' }, new Uint8Array(20), 12), /multiple of 8/);
  assert.equal(new PcapngWriter().toBuffer().length, 28);
  assert.equal(framesToPcap([]).length, 24);
});
