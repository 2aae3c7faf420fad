/**
 * The walkthrough, the teaching view: on the classic active-mode fixture it holds every step of the classic
 * walkthrough (../shared/reference/active-mode-walkthrough-zh.txt) in the same order, with the capture's own
 * ports; it follows what the capture shows; and nothing from the wire reaches the terminal raw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { wentThrough } from '../src/render/context.js';
import { TcpConversation, framesToPcap } from './support/capture-writer.js';

const CLASSIC = fileURLToPath(new URL('../../fixtures/active-ls-pwd.pcap', import.meta.url));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(args, { stdout, stderr, stdin: new PassThrough(), stdoutIsTTY: false, env: {} });
  return { code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
}

/** The numbered steps of a walkthrough: header and explanation joined, one string per step. */
function steps(text: string): string[] {
  return text.split(/\n(?=[ ]{0,3}\d+\. )/).slice(1).map((s) => s.replace(/\s+/g, ' '));
}

test('the classic session: every step of the classic walkthrough, in order, with the right ports', async () => {
  const json = JSON.parse((await run(['--format', 'json', CLASSIC])).out);
  const s = json.sessions[0];
  const cport = s.client.port;
  const p = json.predictions[0];
  const data = json.connections.find((c: { id: number }) => c.id === p.connection);
  const dport = p.to.port;
  const sport = data.client.port; // the server's data port (it opened the connection)
  const list = steps((await run(['-v', 'walkthrough', CLASSIC])).out);
  const expected: Array<[string, RegExp]> = [
    ['control handshake 1', new RegExp(`client ${cport} ──▶ 21 server SYN .*handshake 1 of 3`)],
    ['control handshake 2', new RegExp(`server 21 ──▶ ${cport} client SYN,ACK .*handshake 2 of 3`)],
    ['control handshake 3', new RegExp(`client ${cport} ──▶ 21 server ACK .*handshake 3 of 3`)],
    ['greeting', /> 220 .*greets the client/],
    ['user', /> USER ftpscope .*user name/],
    ['password', /> PASS .*password/],
    ['login', /> 230 .*confirms the login/],
    ['PORT', new RegExp(`> PORT 10,21,0,1,${Math.floor(dport / 256)},${dport % 256} .*${Math.floor(dport / 256)}\\*256\\+${dport % 256} = ${dport}`)],
    ['its reply', /> 200 PORT command successful/],
    ['LIST', /> LIST .*listing/],
    ['data handshake 1', new RegExp(`server ${sport} ┄┄▶ ${dport} client SYN .*from its port ${sport} to the client's port ${dport}`)],
    ['data handshake 2', new RegExp(`client ${dport} ┄┄▶ ${sport} server SYN,ACK .*handshake 2 of 3`)],
    ['data handshake 3', new RegExp(`server ${sport} ┄┄▶ ${dport} client ACK .*handshake 3 of 3`)],
    ['listing', /sends the listing for LIST: 271 bytes/],
    ['data teardown 1', new RegExp(`server ${sport} ┄┄▶ ${dport} client FIN,ACK .*Teardown 1 of 4`)],
    ['data teardown 2-3', /Teardown 2 and 3 of 4|Teardown 2 of 4/],
    ['data teardown 4', /Teardown 4 of 4: .*data connection/],
    ['226', /> 226 .*transfer is complete/],
    ['PWD', /> PWD /],
    ['257', /> 257 "\/" .*working directory is \//],
    ['QUIT', /> QUIT /],
    ['221', /> 221 .*goodbye/],
    ['control teardown 1', new RegExp(`client ${cport} ──▶ 21 server FIN,ACK .*Teardown 1 of 4`)],
    ['control teardown 4', /Teardown 4 of 4: .*control connection is closed/],
  ];
  let at = 0;
  for (const [name, re] of expected) {
    const i = list.findIndex((step, k) => k >= at && re.test(step));
    assert.ok(i >= 0, `step "${name}" (${re}) not found after step ${at + 1}`);
    at = i + 1;
  }
  // Every segment of the control connection is a step: 49 frames, the data segments summed up in one.
  assert.equal(list.length, 48);
  const summary = (await run(['-v', 'walkthrough', CLASSIC])).out.split('What this session shows')[1]!.replace(/\s+/g, ' ');
  assert.match(summary, new RegExp(`temporary port ${cport} for the control connection; the server listened on port 21`));
  assert.match(summary, new RegExp(`LIST: active mode — the server connected from port ${sport} to port ${dport}`));
  assert.match(summary, /Commands that used a data connection: LIST\./);
  assert.match(summary, /alone: USER, PASS, SYST, FEAT, PORT, PWD, QUIT/);
});

test('--detail packets shows each data segment; the summary step is gone', async () => {
  const detail = steps((await run(['-v', 'walkthrough', '--detail', 'packets', CLASSIC])).out);
  assert.ok(detail.some((s) => /271 bytes of data/.test(s)));
  assert.ok(!detail.some((s) => /--detail packets shows each/.test(s)));
});

test('ftpscope demo runs the walkthrough of the classic session', async () => {
  const demo = await run(['demo']);
  assert.equal(demo.code, 0, demo.err);
  assert.equal(demo.out, (await run(['-v', 'walkthrough', CLASSIC])).out.replace(CLASSIC, CLASSIC));
  assert.match(demo.out, /TCP handshake 1 of 3/);
});

test('--lang zh explains in Chinese', async () => {
  const zh = await run(['-v', 'walkthrough', '--lang', 'zh', CLASSIC]);
  assert.equal(zh.code, 0, zh.err);
  assert.match(zh.out, /[\u4e00-\u9fff]/);
  assert.match(zh.out, /PORT 10,21,0,1/);
});

test('a reply crafted with terminal escapes is shown escaped in every view', async () => {
  const c = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } });
  c.handshake().send(false, '220 \u001b[2J\u001b]0;pwned\u0007 hello\r\n').send(true, 'USER \u001b[31mred\r\n').send(false, '331 ok\r\n').close();
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-escape-'));
  const file = join(dir, 'escape.pcap');
  writeFileSync(file, framesToPcap(c.frames, 'ethernet'));
  for (const view of ['timeline', 'walkthrough', 'ladder', 'packets', 'summary']) {
    const r = await run(['-v', view, '--color', 'never', file]);
    assert.equal(r.code, 0, r.err);
    assert.ok(!/[\u001b\u0007]/.test(r.out), `${view}: raw escape: ${JSON.stringify(r.out.slice(0, 300))}`);
  }
  const w = await run(['-v', 'walkthrough', file]);
  assert.match(w.out, /\\x1b\[2J/);
});

test('--session and --host choose what is shown', async () => {
  const multi = fileURLToPath(new URL('../../fixtures/multi-session.pcap', import.meta.url));
  const all = await run(['-v', 'timeline', multi]);
  assert.equal((all.out.match(/^Session \d+:/gm) ?? []).length, 2);
  const one = await run(['-v', 'timeline', '--session', '2', multi]);
  assert.deepEqual(one.out.match(/^Session \d+:/gm), ['Session 2:']);
  // A filter that chooses nothing says what the capture has, exits 1 and prints nothing else.
  const none = await run(['-v', 'timeline', '--host', '192.0.2.99', multi]);
  assert.deepEqual([none.code, none.out], [1, '']);
  assert.match(none.err, /^ftpscope: no FTP session of host 192\.0\.2\.99: this capture has sessions 1-2, hosts [\d., ]+\n$/);
  const missing = await run(['-v', 'walkthrough', '--session', '5', multi]);
  assert.deepEqual([missing.code, missing.out, missing.err], [1, '', 'ftpscope: no session 5: this capture has sessions 1-2; --session takes a number or ADDR:PORT\n']);
  const late = await run(['--time-from', '+100000', multi]);
  assert.deepEqual([late.code, late.out], [1, '']);
  assert.match(late.err, /^ftpscope: no FTP session going on at or after \S+Z: this capture has sessions 1-2, from \S+Z to \S+Z\n$/);
  const bad = await run(['--time-from', 'yesterday-ish', multi]);
  assert.equal(bad.code, 2);
  // An address without its port is no session: a usage error, before any work.
  const noPort = await run(['--session', '1.2.3.4', multi]);
  assert.equal(noPort.code, 2);
  assert.match(noPort.err, /--session takes a session number or ADDR:PORT of either end of its control connection, got "1\.2\.3\.4"/);
  // An IPv6 address with its port, bracketed or not, is an endpoint (matching nothing here: exit 1, not 2).
  for (const v of ['fd00::2:21', '[fd00::2]:21']) assert.equal((await run(['--session', v, multi])).code, 1, v);
  // A capture that cannot be opened: its error alone, exit 1, nothing analysed of the others.
  const gone = await run(['-v', 'summary', multi, '/nonexistent/x.pcap']);
  assert.deepEqual([gone.code, gone.out, gone.err], [1, '', 'ftpscope: /nonexistent/x.pcap: at byte 0: no such file\n']);
});

test("the classic session against the textbook: each of its 32 steps is a step here, or named inside one", async () => {
  const list = steps((await run(['-v', 'walkthrough', CLASSIC])).out.split('What this session shows')[0]!);
  /** The first step matching `re` (after the step `after` found, when given): its index. */
  const find = (re: RegExp, after = -1): number => list.findIndex((step, k) => k > after && re.test(step));
  const found = new Map<number, number>();
  /** Textbook step n: a step matching re, after textbook step `after` when given. */
  const expect = (n: number, re: RegExp, after?: number): void => {
    const i = find(re, after === undefined ? -1 : found.get(after)!);
    assert.ok(i >= 0, `textbook step ${n} (${re}) is neither a step nor named in one`);
    found.set(n, i);
  };
  /** An ACK the textbook draws apart: a bare ACK of `side`, or a segment of `side` that also acknowledges `what`. */
  const ack = (n: number, side: 'client' | 'server', what: string, after: number): void => {
    const other = side === 'client' ? 'server' : 'client';
    expect(n, new RegExp(`^\\s*\\d+\\. frame \\d+ \\S+ ${side} .*(acknowledges what it received|also acknowledges the ${other}'s ${what})`), after);
  };
  expect(1, /TCP handshake 1 of 3: the client opens the control connection/);
  expect(2, /> 220 .*greets the client/);
  ack(3, 'client', '220 reply', 2);
  expect(4, /> USER /);
  ack(5, 'server', 'USER', 4);
  expect(6, /> 331 /);
  ack(7, 'client', '331 reply', 6);
  expect(8, /> PASS /);
  ack(9, 'server', 'PASS', 8);
  expect(10, /> 230 /);
  ack(11, 'client', '230 reply', 10);
  expect(12, /> PORT .*N\+1/);
  ack(13, 'server', 'PORT', 12);
  expect(14, /> 200 PORT/);
  expect(15, /> LIST .*types ls or dir/);
  expect(16, /TCP handshake 1 of 3.*data connection|data connection .*TCP handshake 1 of 3/);
  expect(17, /sends the listing for LIST/);
  expect(18, /┄┄▶ .*Teardown 1 of 4/);
  expect(19, /┄┄▶ .*Teardown 2 (and 3 )?of 4/);
  expect(20, /> 226 .*textbook puts the 226/);
  ack(21, 'client', '226 reply', 20);
  expect(22, /┄┄▶ .*Teardown (2 and )?3 of 4/);
  expect(23, /┄┄▶ .*Teardown 4 of 4/);
  expect(24, /> PWD /);
  expect(25, /> 257 /);
  ack(26, 'client', '257 reply', 25);
  expect(27, /> QUIT /);
  expect(28, /> 221 /);
  expect(29, /──▶ .*Teardown 1 of 4: .*control connection/);
  expect(30, /──▶ .*Teardown 2 (and 3 )?of 4\b.*control connection/);
  expect(31, /──▶ .*Teardown (2 and )?3 of 4\b.*control connection/);
  expect(32, /──▶ .*Teardown 4 of 4: .*control connection/);
  assert.equal(found.size, 32);
  // The closing comparison says what differs: ACKs that rode, the data port against N+1, the 226's place, the client's own commands.
  const compared = (await run(['-v', 'walkthrough', CLASSIC])).out.split('Compared with the textbook')[1]!.replace(/\s+/g, ' ');
  assert.match(compared, /ACKs the textbook draws as steps of their own rode on the next command or reply \(steps [\d, ]+\)/);
  assert.match(compared, /N\+1, N\+2 \.\.\. for its data ports; this one \(control port \d+\) used \d+: the operating system hands out any free port/);
  assert.match(compared, /The server connected from port 20, as the textbook says/);
  assert.match(compared, /The 226 came after the data connection was closed for LIST/);
  assert.match(compared, /also sent SYST, FEAT on its own/);
  assert.match(compared, /LIST for ls or dir/);
});

test('every fixture: the walkthrough\'s conclusions agree with the model, and every finding is told', async () => {
  const dir = fileURLToPath(new URL('../../fixtures/', import.meta.url));
  const { readdirSync } = await import('node:fs');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort()) {
    const path = join(dir, name);
    const a = JSON.parse((await run(['--format', 'json', path])).out);
    const text = (await run(['-v', 'walkthrough', '--width', '400', path])).out;
    const parts = text.split(/^FTP session \d+: /m).slice(1);
    assert.equal(parts.length, a.sessions.length, name);
    for (const [k, s] of (a.sessions as Array<{ id: number; transfers: number[]; predictions: number[] }>).entries()) {
      const part = parts[k]!;
      const conclusions = part.split('What this session shows')[1]!.split('Compared with the textbook')[0]!;
      // The session's data connections: its transfers' and the announcements' that served none.
      const ids = new Set<number>();
      for (const t of a.transfers) if (t.session === s.id && t.connection !== null) ids.add(t.connection);
      for (const p of a.predictions) if (p.session === s.id && p.connection !== null && p.transfers.length === 0) ids.add(p.connection);
      const conns = [...ids].map((id) => a.connections.find((c: { id: number }) => c.id === id));
      const up = conns.filter((c) => wentThrough(c));
      const m = /1 control connection and (\d+) data connections?/.exec(conclusions);
      assert.ok(m !== null, `${name} session ${s.id}: no count of connections`);
      assert.equal(Number(m[1]), up.length, `${name} session ${s.id}: data connections`);
      const connected = [...conclusions.matchAll(/connected from port (\d+) to port (\d+)/g)].map((x) => `${x[1]}>${x[2]}`).sort();
      assert.deepEqual(connected, up.map((c) => `${c.client.port}>${c.server.port}`).sort(), `${name} session ${s.id}: which connected`);
      const tried = [...conclusions.matchAll(/tried to connect from port (\d+) to port (\d+)/g)].map((x) => `${x[1]}>${x[2]}`).sort();
      assert.deepEqual(tried, conns.filter((c) => !wentThrough(c)).map((c) => `${c.client.port}>${c.server.port}`).sort(), `${name} session ${s.id}: attempts`);
      assert.equal(/No data connection/.test(conclusions), conns.length === 0, `${name} session ${s.id}: "No data connection"`);
      for (const f of a.findings.filter((f: { session: number | null }) => f.session === s.id)) {
        assert.ok(part.includes(`Finding (${f.severity}, ${f.kind}): `), `${name} session ${s.id}: finding ${f.kind} not told`);
      }
    }
  }
});

/** Frames tshark's display filter picks in a capture (null when tshark is not installed). */
function tsharkFrames(path: string, filter: string): number[] | null {
  try {
    const out = execFileSync('tshark', ['-r', path, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).map(Number);
  } catch {
    return null;
  }
}

test('failures are lessons: the 425 names its unanswered SYNs, what crosses a reset connection is one step, loss is explained', async (t) => {
  const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
  // Active mode blocked: the 425 step counts the server's SYNs to the PORT address, as tshark sees them.
  const blocked = fixture('active-blocked.pcap');
  const syns = tsharkFrames(blocked, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 49315');
  if (syns === null) return t.skip('tshark is not installed (apt-get install tshark): it counts the packets the steps sum up');
  const b = steps((await run(['-v', 'walkthrough', blocked])).out);
  const refusal = b.find((s) => s.includes('> 425 '))!;
  assert.ok(refusal.includes(`Its ${syns.length} SYNs (frames ${syns[0]}-${syns.at(-1)}) were never answered`), refusal);
  assert.match(refusal, /In active mode the server connects in to the client/);
  // The finding is told where the lesson is: at the 425, not at the LIST before it.
  assert.match(refusal, /Finding \(warning, transfer-failed\)/);
  assert.doesNotMatch(b.find((s) => s.includes('> LIST'))!, /transfer-failed/);

  // A reset data connection: the segments after the RST, data and RSTs alike, are one step with tshark's counts.
  const rst = fixture('curl-max-time-rst.pcap');
  const resets = tsharkFrames(rst, 'tcp.flags.reset == 1 && tcp.port == 51156')!;
  const dataAfter = tsharkFrames(rst, `tcp.port == 51156 && tcp.len > 0 && frame.number > ${resets[0]}`)!;
  const r = steps((await run(['-v', 'walkthrough', rst])).out);
  const after = r.filter((s) => s.includes('After the reset'));
  assert.equal(after.length, 1, after.join('\n'));
  assert.ok(after[0]!.includes(`data ×${dataAfter.length}, RST ×${resets.length - 1}`), after[0]);
  assert.ok(after[0]!.includes(`frames ${Math.min(dataAfter[0]!, resets[1]!)}-${Math.max(dataAfter.at(-1)!, resets.at(-1)!)}`), after[0]);
  assert.equal(r.filter((s) => / (\d+\. )?frame \d+ .*┄┄▶.* RST /.test(s)).length, 1, 'one step for the reset itself');
  assert.match(r.find((s) => s.includes('> 426 '))!, /transfer aborted \(426\).*Finding \(notice, transfer-aborted\)/);

  // Loss: the data step says why segments were sent again, when tshark saw retransmissions.
  const lossy = fixture('lossy-retr.pcap');
  const again = tsharkFrames(lossy, 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission')!;
  const l = steps((await run(['-v', 'walkthrough', lossy])).out).find((s) => s.includes(' data The server sends the file'))!;
  assert.ok(again.length > 0);
  assert.ok(l.includes(`of which ${again.length} retransmissions`), l);
  assert.match(l, /loss costs time, not data/);
  const zh = (await run(['-v', 'walkthrough', '--lang', 'zh', lossy])).out;
  assert.match(zh, /丢包的代价是时间，而不是数据/);
});

test('segments as on the wire: the ABOR step is the segment that carries ABOR; the telnet IP and the urgent Synch before it are steps of their own', async (t) => {
  const abor = fileURLToPath(new URL('../../fixtures/lftp-pget-abor.pcap', import.meta.url));
  const carried = tsharkFrames(abor, 'tcp.dstport == 21 && tcp.payload contains "ABOR" && !tcp.analysis.retransmission');
  if (carried === null) return t.skip('tshark is not installed (apt-get install tshark): it says which segments carry ABOR and the urgent byte');
  const urgent = tsharkFrames(abor, 'tcp.dstport == 21 && tcp.flags.urg == 1')!;
  const all = steps((await run(['-v', 'walkthrough', '--width', '200', abor])).out);
  const quoted = all.filter((s) => s.includes('> ABOR')).map((s) => Number(/frame (\d+)/.exec(s)![1]));
  assert.deepEqual(quoted.sort((a, b) => a - b), carried.sort((a, b) => a - b));
  for (const f of urgent) assert.match(all.find((s) => s.includes(`frame ${f} `))!, /The Synch: the Telnet Data Mark \(IAC DM\) sent as TCP urgent data/);
  for (const f of carried) assert.match(all.find((s) => s.includes(`frame ${f - 2} `))!, /Telnet Interrupt Process \(IAC IP\)/);
});
