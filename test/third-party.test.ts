/**
 * A PORT naming a third host, obeyed: the finding says the server connected there, and the walkthrough and
 * the ladder draw that host as a third party, not as the client (issue 14, item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';
import { TcpConversation, framesToPcap, type Frame } from './support/capture-writer.js';

/** A session whose PORT names 10.9.9.9; the server obeys and sends the listing there. */
function bounce(): Buffer {
  const ctl = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } }).handshake();
  const frames: Frame[] = [];
  let taken = 0;
  const takeCtl = () => {
    frames.push(...ctl.frames.slice(taken));
    taken = ctl.frames.length;
  };
  const say = (fromClient: boolean, line: string) => {
    ctl.send(fromClient, `${line}\r\n`);
    takeCtl();
  };
  takeCtl();
  for (const [c, r] of [[null, '220 hi'], ['USER u', '331 pw'], ['PASS p', '230 ok'], ['PORT 10,9,9,9,4,1', '200 PORT command successful.']] as const) {
    if (c !== null) say(true, c);
    say(false, r);
  }
  say(true, 'LIST');
  const d = new TcpConversation({ client: { ip: '10.0.0.2', port: 20 }, server: { ip: '10.9.9.9', port: 1025 }, isnClient: 7000, isnServer: 9000 });
  say(false, '150 Here comes the directory listing.');
  frames.push(...d.handshake().send(true, 'drwxr-xr-x 2 0 0 6 Jan 1 pub\r\n').close(true).frames);
  say(false, '226 Directory send OK.');
  say(true, 'QUIT');
  say(false, '221 Goodbye.');
  return framesToPcap(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1_000_000 })), 'ethernet');
}

test('an obeyed third-party PORT: an alert with the bytes, and the views call that host the third host', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bounce-'));
  try {
    const path = join(dir, 'bounce.pcap');
    writeFileSync(path, bounce());
    const run = async (args: string[]) => {
      const io = collect();
      assert.equal(await main([...args, '--width', '200', path], io.io), 0, io.stderr());
      return io.stdout();
    };
    const json = JSON.parse(await run(['--format', 'json'])) as { findings: Array<{ kind: string; severity: string; facts: { outcome: string; bytes: number } }> };
    const f = json.findings.find((x) => x.kind === 'third-party')!;
    assert.deepEqual([f.severity, f.facts.outcome, f.facts.bytes], ['alert', 'connected', 30]);
    const walk = await run(['-v', 'walkthrough']);
    assert.match(walk, /server 20 ┄┄▶ 1025 third host {2}SYN/);
    assert.match(walk, /to port 1025 of 10\.9\.9\.9, a third host, not the client/);
    assert.match(walk, /TCP handshake 2 of 3: the third host accepts/);
    assert.doesNotMatch(walk, /┄┄▶ 1025 client|1025 client/);
    const ladder = await run(['-v', 'ladder']);
    assert.match(ladder, /10\.0\.0\.2:20 → 10\.9\.9\.9:1025 \(10\.9\.9\.9: a third host, not the client\)/);
    const zh = await run(['-v', 'walkthrough', '--lang', 'zh']);
    assert.match(zh, /第三方主机/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
