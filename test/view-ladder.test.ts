/**
 * The ladder view on the real captures of fixtures/: the steps of a session in time order, arrows that
 * point the way the packets went, the ports at both ends, data connections told apart, every line
 * within the width, and wire text kept escaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { analyseCapture } from './analysis.js';
import { PacketLog } from '../src/flow/packet-log.js';
import { FtpAnalyzer } from '../src/ftp/analyzer.js';
import { DEFAULT_VIEW_OPTIONS, ViewContext, type ViewOptions } from '../src/render/context.js';
import { renderLadder } from '../src/render/ladder.js';
import { TcpConversation, framesToPcap } from './support/capture-writer.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

interface Analysed {
  ftp: FtpAnalyzer;
  log: PacketLog;
  ctx: (options?: Partial<ViewOptions>, withLog?: boolean) => ViewContext;
}

async function analyseStream(name: string, stream: Readable): Promise<Analysed> {
  const { ftp, packets: log, capture } = await analyseCapture(name, stream, {}, { packets: true });
  const model = ftp.result();
  return {
    ftp,
    log: log!,
    ctx: (options = {}, withLog = true) => new ViewContext(model, capture, withLog ? log : null, { ...DEFAULT_VIEW_OPTIONS, width: 80, ...options }),
  };
}

const cache = new Map<string, Promise<Analysed>>();
function fixture(name: string): Promise<Analysed> {
  let p = cache.get(name);
  if (p === undefined) {
    const path = FIXTURES + name;
    cache.set(name, (p = analyseStream(path, createReadStream(path))));
  }
  return p;
}

/** One arrow of the ladder, read back from its line. */
interface Arrow {
  frame: number;
  left: number;
  right: number;
  toServer: boolean;
  data: boolean;
  label: string;
}

const ARROW = /^\s*(\d+) +(?:[+-]?\d+\.\d+ +)?(\d+) (◀)?([─┄])[─┄]* (.+?) [─┄]+(▶)? (\d+)$/u;

function arrows(text: string): Arrow[] {
  const out: Arrow[] = [];
  for (const line of text.split('\n')) {
    const m = ARROW.exec(line);
    if (m === null) continue;
    assert.ok((m[3] === undefined) !== (m[6] === undefined), `one head per arrow: ${line}`);
    out.push({ frame: Number(m[1]), left: Number(m[2]), right: Number(m[7]), toServer: m[6] !== undefined, data: m[4] === '┄', label: m[5]! });
  }
  return out;
}

/** Finds the steps in order (others may come between), and says which one is missing. */
function inOrder(list: Arrow[], steps: Array<[string, (a: Arrow) => boolean]>): Arrow[] {
  const found: Arrow[] = [];
  let i = 0;
  for (const [name, ok] of steps) {
    while (i < list.length && !ok(list[i]!)) i++;
    assert.ok(i < list.length, `step not found in order: ${name}`);
    found.push(list[i++]!);
  }
  return found;
}

function columns(line: string): number {
  return [...line].length;
}

test('active-ls-pwd: every step of the session, in order, with its ports and direction', async () => {
  const a = await fixture('active-ls-pwd.pcap');
  const ctx = a.ctx();
  const out = renderLadder(ctx);
  const s = ctx.analysis.sessions[0]!;
  const cport = s.client.port;
  const announced = ctx.analysis.predictions[0]!.to.port;
  const list = arrows(out);
  const control = (label: string | RegExp, toServer: boolean) => (x: Arrow): boolean =>
    !x.data && x.left === cport && x.right === 21 && x.toServer === toServer && (typeof label === 'string' ? x.label === label : label.test(x.label));
  const data = (label: string | RegExp, toServer: boolean) => (x: Arrow): boolean =>
    x.data && x.left === announced && x.right === 20 && x.toServer === toServer && (typeof label === 'string' ? x.label === label : label.test(x.label));

  // The control connection's handshake opens the ladder.
  assert.deepEqual(list.slice(0, 3).map((x) => [x.label, x.toServer, x.left, x.right]), [
    ['SYN', true, cport, 21],
    ['SYN,ACK', false, cport, 21],
    ['ACK', true, cport, 21],
  ]);
  inOrder(list, [
    ['SYN', control('SYN', true)],
    ['SYN,ACK', control('SYN,ACK', false)],
    ['ACK', control('ACK', true)],
    ['220', control(/^220 /, false)],
    ['USER', control(/^USER ftpscope$/, true)],
    ['331', control(/^331 /, false)],
    ['PASS', control(/^PASS /, true)],
    ['230', control(/^230 /, false)],
    ['PORT', control(/^PORT 10,21,0,1,(\d+),(\d+) \(\1\*256\+\2 = \d+\)$/, true)],
    ['200', control(/^200 /, false)],
    ['LIST', control('LIST', true)],
    ['data SYN from port 20 to the port PORT announced', data('SYN', false)],
    ['data SYN,ACK', data('SYN,ACK', true)],
    ['data ACK', data('ACK', false)],
    ['150', control(/^150 /, false)],
    ['the listing', data(/^FTP-DATA 271 bytes \(1 segment/, false)],
    ['data FIN from the server', data('FIN,ACK', false)],
    ['data FIN from the client', data('FIN,ACK', true)],
    ['data last ACK', data('ACK', false)],
    ['226', control(/^226 /, false)],
    ['PWD', control('PWD', true)],
    ['257', control(/^257 /, false)],
    ['QUIT', control('QUIT', true)],
    ['221', control(/^221 /, false)],
    ['client FIN', control('FIN,ACK', true)],
    ['server FIN', control('FIN,ACK', false)],
    ['last ACK', control('ACK', true)],
  ]);
  // Frames go up, and every segment of the control connection has its arrow.
  for (let i = 1; i < list.length; i++) assert.ok(list[i]!.frame > list[i - 1]!.frame, 'arrows in frame order');
  const controlFrames = [...a.log.all()].filter((p) => p.connection === s.connection).map((p) => p.frame);
  assert.deepEqual(list.filter((x) => !x.data).map((x) => x.frame), controlFrames);
  // The data connection is introduced and told apart, and there is a legend.
  assert.match(out, /┄┄ data connection \d+ \(LIST[^)]*active\)/);
  assert.match(out, /── control connection/);
  assert.match(out, /┄┄ data connection {2}/);
  assert.match(out.split('\n')[0]!, /10\.21\.0\.1:\d+ → .*10\.21\.0\.2:21/);
});

test('every line fits the width: 80, 60, and a wider diagram at 120', async () => {
  const a = await fixture('active-ls-pwd.pcap');
  const widest: Record<number, number> = {};
  for (const width of [80, 60, 120]) {
    const out = renderLadder(a.ctx({ width }));
    for (const line of out.split('\n')) assert.ok(columns(line) <= width, `${columns(line)} > ${width}: ${line}`);
    widest[width] = Math.max(...out.split('\n').map(columns));
    // Still a readable ladder: every arrow is there at every width.
    assert.equal(arrows(out).length, arrows(renderLadder(a.ctx())).length);
  }
  assert.ok(widest[120]! > widest[80]!, 'the diagram grows with the width');
  assert.ok(widest[80]! <= 80 && widest[80]! > 70, 'the diagram uses the width it has');
  // Long replies are cut with … at 60.
  assert.match(renderLadder(a.ctx({ width: 60 })), /…/);
});

test('every capture in fixtures/ renders within 80 and 60 columns, in both detail levels', async () => {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap'));
  assert.ok(names.length >= 10);
  for (const name of names) {
    const a = await fixture(name);
    for (const width of [80, 60]) {
      for (const detail of ['summary', 'packets'] as const) {
        const out = renderLadder(a.ctx({ width, detail }));
        for (const line of out.split('\n')) assert.ok(columns(line) <= width, `${name} ${detail}: ${columns(line)} > ${width}: ${line}`);
        assert.ok(!out.includes('\u001b'), `${name}: no escape sequence without colour`);
      }
    }
  }
});

test('arrows point the way the packet went: replies to the client, commands to the server', async () => {
  for (const name of ['active-ls-pwd.pcap', 'passive-retr.pcap', 'epsv-list-retr-stor.pcap']) {
    const a = await fixture(name);
    const ctx = a.ctx();
    const list = arrows(renderLadder(ctx));
    let replies = 0;
    let commands = 0;
    for (const x of list) {
      const lines = ctx.linesAt(x.frame);
      if (lines.length === 0) continue;
      if (lines[0]!.reply !== null) {
        replies++;
        assert.equal(x.toServer, false, `${name} frame ${x.frame}: a reply points to the client`);
      } else {
        commands++;
        assert.equal(x.toServer, true, `${name} frame ${x.frame}: a command points to the server`);
      }
    }
    assert.ok(replies > 5 && commands > 5);
    // And every arrow agrees with its packet's direction.
    const byFrame = new Map([...a.log.all()].map((p) => [p.frame, p]));
    for (const x of list) {
      const p = byFrame.get(x.frame)!;
      const role = ctx.role(p.connection)!;
      assert.equal(x.toServer, (p.dir === 0) === role.openerIsClient, `${name} frame ${x.frame}`);
    }
  }
});

test("with detail 'packets' every data segment has its arrow; by default one arrow per direction", async () => {
  for (const name of ['epsv-list-retr-stor.pcap', 'active-list-retr-stor.pcap', 'active-ls-pwd.pcap']) {
    const a = await fixture(name);
    const ctx = a.ctx();
    const dataSegments = [...a.log.all()].filter((p) => ctx.role(p.connection)?.role === 'data' && p.payload > 0);
    const packets = arrows(renderLadder(a.ctx({ detail: 'packets' }))).filter((x) => x.data && x.label.startsWith('FTP-DATA'));
    assert.deepEqual(packets.map((x) => x.frame), dataSegments.map((p) => p.frame), name);
    for (const [i, x] of packets.entries()) assert.match(x.label, new RegExp(`^FTP-DATA ${dataSegments[i]!.payload.toLocaleString('en-US')} bytes?$`));
    // In packets mode every segment of the session is drawn.
    const all = arrows(renderLadder(a.ctx({ detail: 'packets' })));
    assert.equal(all.length, ctx.sessionPackets(ctx.analysis.sessions[0]!).length, name);

    const summary = arrows(renderLadder(ctx)).filter((x) => x.data && x.label.startsWith('FTP-DATA'));
    const directions = new Set(dataSegments.map((p) => `${p.connection}/${p.dir}`));
    assert.equal(summary.length, directions.size, name);
    // Each transfer's arrow says its bytes.
    for (const t of ctx.analysis.transfers) {
      if (t.bytes === 0) continue;
      assert.ok(summary.some((x) => x.label.startsWith(`FTP-DATA ${t.bytes.toLocaleString('en-US')} byte`)), `${name}: transfer ${t.id}`);
    }
  }
  const retr = arrows(renderLadder((await fixture('epsv-list-retr-stor.pcap')).ctx()));
  assert.ok(retr.some((x) => /^FTP-DATA 4,096 bytes \(3 segments/.test(x.label)));
});

test('passive-retr: the client opens the data connection to the port of the 227', async () => {
  const a = await fixture('passive-retr.pcap');
  const ctx = a.ctx();
  const out = renderLadder(ctx);
  const t = ctx.analysis.transfers[0]!;
  const conn = ctx.analysis.connections.find((c) => c.id === t.connection)!;
  const announced = ctx.analysis.predictions[0]!.to.port;
  assert.equal(conn.server.port, announced);
  const list = arrows(out);
  const [syn, synAck, ack, , dataArrow] = inOrder(list, [
    ['data SYN from the client', (x) => x.data && x.label === 'SYN' && x.toServer],
    ['data SYN,ACK', (x) => x.data && x.label === 'SYN,ACK' && !x.toServer],
    ['data ACK', (x) => x.data && x.label === 'ACK' && x.toServer],
    ['RETR', (x) => !x.data && x.label === 'RETR hello.txt' && x.toServer],
    ['the file', (x) => x.data && /^FTP-DATA 142 bytes/.test(x.label) && !x.toServer],
    ['226', (x) => !x.data && /^226 /.test(x.label)],
  ]);
  for (const x of [syn!, synAck!, ack!, dataArrow!]) {
    assert.equal(x.left, conn.client.port);
    assert.equal(x.right, announced);
  }
  // The 227 comes before the data connection.
  const pasv = list.findIndex((x) => /^227 /.test(x.label));
  assert.ok(pasv >= 0 && pasv < list.indexOf(syn!));
  assert.match(out, /data connection \d+ \(RETR \/hello\.txt, passive\)/);
});

test('nat-pasv: the unanswered SYNs to the advertised address are shown', async () => {
  const a = await fixture('nat-pasv.pcap');
  const out = renderLadder(a.ctx());
  const syns = arrows(out).filter((x) => x.data && x.label.startsWith('SYN'));
  assert.equal(syns.length, 3);
  assert.ok(syns.every((x) => x.toServer && x.right === a.ftp.result().predictions[0]!.to.port));
  assert.match(out, /10\.21\.0\.99/);
});

test('without a packet log the ladder comes from the timeline', async () => {
  const a = await fixture('active-ls-pwd.pcap');
  const ctx = a.ctx({}, false);
  const out = renderLadder(ctx);
  const s = ctx.analysis.sessions[0]!;
  const list = arrows(out);
  inOrder(list, [
    ['SYN', (x) => !x.data && x.label === 'SYN' && x.toServer && x.left === s.client.port],
    ['SYN,ACK', (x) => !x.data && x.label === 'SYN,ACK' && !x.toServer],
    ['ACK', (x) => !x.data && x.label === 'ACK' && x.toServer],
    ['USER', (x) => x.label === 'USER ftpscope' && x.toServer],
    ['331', (x) => /^331 /.test(x.label) && !x.toServer],
    ['LIST', (x) => x.label === 'LIST'],
    ['data SYN', (x) => x.data && x.label === 'SYN' && !x.toServer && x.right === 20],
    ['data', (x) => x.data && /^FTP-DATA 271 bytes/.test(x.label) && !x.toServer],
    ['data FIN', (x) => x.data && x.label === 'FIN'],
    ['226', (x) => /^226 /.test(x.label) && !x.toServer],
    ['QUIT', (x) => x.label === 'QUIT'],
    ['221', (x) => /^221 /.test(x.label)],
    ['FIN', (x) => !x.data && x.label === 'FIN'],
  ]);
  assert.match(out, /no packet log/);
  for (const line of out.split('\n')) assert.ok(columns(line) <= 80);
});

test('colour only when asked', async () => {
  const a = await fixture('active-ls-pwd.pcap');
  assert.ok(!renderLadder(a.ctx({ color: false })).includes('\u001b'));
  const coloured = renderLadder(a.ctx({ color: true }));
  assert.ok(coloured.includes('\u001b['));
  // Without the colour codes it is the same ladder.
  assert.equal(coloured.replace(/\u001b\[\d+m/g, ''), renderLadder(a.ctx({ color: false })));
});

test('a reply with an escape sequence is shown escaped', async () => {
  const conv = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } });
  conv
    .handshake()
    .send(false, '220 ready\r\n')
    .send(true, 'USER bob\r\n')
    .send(false, '331 \u001b[31mred\u001b[0m password, please\r\n')
    .send(true, 'QUIT\r\n')
    .send(false, '221 bye\r\n')
    .close();
  const a = await analyseStream('escape.pcap', Readable.from([framesToPcap(conv.frames)]));
  for (const color of [false, true]) {
    const out = renderLadder(a.ctx({ color }));
    const plain = color ? out.replace(/\u001b\[\d+m/g, '') : out;
    assert.ok(!plain.includes('\u001b'), 'no escape character from the wire reaches the terminal');
    assert.ok(plain.includes('331 \\x1b[31mred\\x1b[0m password, please'), plain);
    const reply = arrows(plain).find((x) => x.label.startsWith('331 '));
    assert.ok(reply !== undefined && !reply.toServer && reply.left === 40000 && reply.right === 21);
  }
});

test('no session: says so', async () => {
  const conv = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 8080 } });
  conv.handshake().send(true, 'GET / HTTP/1.0\r\n\r\n').close();
  const a = await analyseStream('http.pcap', Readable.from([framesToPcap(conv.frames)]));
  assert.equal(renderLadder(a.ctx()), 'No FTP session in the capture.\n');
});

test('when the packet log filled up, the timeline tells the rest', async () => {
  const path = FIXTURES + 'active-ls-pwd.pcap';
  const { ftp, packets: log, capture } = await analyseCapture(path, createReadStream(path), { maxPacketLog: 20 }, { packets: true });
  const ctx = new ViewContext(ftp.result(), capture, log, { ...DEFAULT_VIEW_OPTIONS, width: 80 });
  const out = renderLadder(ctx);
  assert.match(out, /packet log full from frame 21/);
  const list = arrows(out);
  assert.deepEqual(list.slice(0, 20).map((x) => x.frame), [...Array(20).keys()].map((i) => i + 1));
  inOrder(list, [
    ['PORT', (x) => x.frame > 20 && /^PORT /.test(x.label)],
    ['data SYN', (x) => x.data && x.label === 'SYN'],
    ['data', (x) => x.data && /^FTP-DATA 271 bytes/.test(x.label)],
    ['QUIT', (x) => x.label === 'QUIT'],
    ['FIN', (x) => !x.data && x.label === 'FIN'],
  ]);
});

test('the ladder never cuts the address and port of PORT, EPRT, 227 and 229, nor the arithmetic: it wraps them (60, 80 columns)', async () => {
  let checked = 0;
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap')).sort()) {
    const a = await fixture(name);
    for (const width of [60, 80]) {
      const ctx = a.ctx({ width });
      const lines = renderLadder(ctx).split('\n');
      for (const p of ctx.analysis.predictions) {
        // The arrow of the frame that carried the address, and the lines that go on under it.
        const at = lines.findIndex((l) => arrows(l).some((x) => x.frame === p.setup.frame && !x.data));
        assert.ok(at >= 0, `${name} at ${width}: no arrow for frame ${p.setup.frame}`);
        let end = at + 1;
        while (end < lines.length && /^\s+\S/.test(lines[end]!) && arrows(lines[end]!).length === 0 && !lines[end]!.includes('┄┄ data')) end++;
        const block = lines.slice(at, end).join('\n');
        assert.ok(!block.includes('…'), `${name} at ${width}, frame ${p.setup.frame}: cut\n${block}`);
        for (const n of p.numbers ?? []) assert.match(block, new RegExp(`(^|[^0-9])${n}([^0-9]|$)`), `${name} at ${width}: ${n} missing\n${block}`);
        if (p.arithmetic !== null) assert.ok(lines.slice(at, end).some((l) => l.includes(p.arithmetic!)), `${name} at ${width}: the arithmetic ${p.arithmetic} is not whole on a line\n${block}`);
        assert.ok(block.includes(String(p.to.port)), `${name} at ${width}: port ${p.to.port} missing\n${block}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 40, `${checked} announcements checked`);
});
