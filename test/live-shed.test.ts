/**
 * What live capture sheds when the analysis falls behind (src/capture/live-source.ts, sheddable): a data
 * packet's payload, never a control connection's, a SYN, FIN or RST, a packet without payload (Ethernet's
 * padding is not payload) or anything it cannot read plainly; and what the end of a live run says of the
 * packets (packetLines): every number of lost packets, or why it is not known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sheddable } from '../src/capture/live-source.js';
import { packetLines, type LiveNotes } from '../src/cli/live.js';
import { ethernet, ipv4Fragments, tcpPacket } from './support/capture-writer.js';

const CONTROL = new Set([21, 2121]);
const ACK = 0x10;
const eth = (ip: Buffer) => ethernet(ip, { etherType: 0x0800 });
const seg = (sport: number, dport: number, flags: number, payload = 0, v6 = false) =>
  tcpPacket({ src: v6 ? 'fd00::1' : '10.0.0.1', dst: v6 ? 'fd00::2' : '10.0.0.2', sport, dport, seq: 1, ack: 1, flags }, Buffer.alloc(payload, 0x41));

test('a data packet sheds its payload and keeps its link, IP and TCP headers', () => {
  const f = eth(seg(20, 40000, ACK, 1448));
  assert.equal(sheddable(1, f, f.length, CONTROL), 14 + 20 + 20);
  const v6 = eth(seg(40001, 50000, ACK | 0x08, 100, true));
  v6.writeUInt16BE(0x86dd, 12);
  assert.equal(sheddable(1, v6, v6.length, CONTROL), 14 + 40 + 20);
  const raw = seg(20, 40000, ACK, 10);
  assert.equal(sheddable(101, raw, raw.length, CONTROL), 40);
});

test('control connections, SYN, FIN, RST, packets without payload and what is not plain TCP are kept whole', () => {
  for (const [what, f] of [
    ['port 21', eth(seg(21, 40000, ACK, 30))],
    ['another control port', eth(seg(50000, 2121, ACK, 30))],
    ['SYN', eth(seg(20, 40000, 0x02, 0))],
    ['FIN with data', eth(seg(20, 40000, ACK | 0x01, 100))],
    ['RST', eth(seg(20, 40000, 0x04, 0))],
    ['a pure ACK padded to 60 bytes', Buffer.concat([eth(seg(40000, 20, ACK)), Buffer.alloc(6)])],
    ['an IPv4 fragment', eth(ipv4Fragments({ src: '10.0.0.1', dst: '10.0.0.2' }, seg(20, 40000, ACK, 2000).subarray(20), 512)[0]!)],
    ['a frame cut short', eth(seg(20, 40000, ACK, 100)).subarray(0, 30)],
  ] as const) {
    assert.equal(sheddable(1, f, f.length, CONTROL), 0, what);
  }
  const f = eth(seg(20, 40000, ACK, 100));
  assert.equal(sheddable(147, f, f.length, CONTROL), 0, 'a link type it does not know');
});

const notes = (n: Partial<LiveNotes>): LiveNotes => ({ packets: 1000, dropped: 0, shed: 0, shedBytes: 0, cutBySnapLength: 0, kernel: { recv: 1000, drop: 0, ifdrop: 0 }, kernelUnknown: null, ...n });

test("the end says every number of lost packets: the kernel's, ftpscope's, what was shed, or why they are not known", () => {
  assert.deepEqual(packetLines(notes({})), ['Captured 1,000 packets.', 'The kernel received 1,000 packets that passed the filter and dropped 0.']);
  const lossy = packetLines(notes({ packets: 900, dropped: 5, shed: 40, shedBytes: 57_920, kernel: { recv: 1200, drop: 300, ifdrop: 2 } })).join(' ');
  for (const said of ['Captured 900 packets', '5 dropped by ftpscope', '40 cut to their headers', '57,920 bytes', 'dropped 300', 'larger --buffer-size', 'the interface dropped 2', 'open then say so']) {
    assert.ok(lossy.includes(said), `${said}: ${lossy}`);
  }
  const unknown = packetLines(notes({ kernel: null, kernelUnknown: 'the native counter reader was not built' })).join(' ');
  assert.ok(unknown.includes("The kernel's drops are not known: the native counter reader was not built"), unknown);
});
