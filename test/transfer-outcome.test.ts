/**
 * A transfer's outcome from everything the capture shows (issue 14): bytes against the size announced less
 * the REST offset, gaps, how the data connection ended and who ended it, ABOR, and the final reply. A 226
 * does not make a short transfer complete; bytes that crossed the wire after a RST are counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloads as downloadFrames } from '../tools/fuzz/hostile-inputs.js';
import { analyseCapture } from './analysis.js';
import type { Transfer } from '../src/model/ftp-model.js';
import { ACK, PSH, RST, TcpConversation, framesToPcap, type Frame } from './support/capture-writer.js';

const CLIENT = { ip: '10.0.0.1', port: 40000 };
const SERVER = { ip: '10.0.0.2', port: 21 };

/** A session that logs in, asks EPSV and sends `command`; `data` plays the passive data connection and the replies after it. */
function session(before: string[], command: string, data: (d: TcpConversation, ctl: TcpConversation, push: (c: TcpConversation) => void) => void): Frame[] {
  const frames: Frame[] = [];
  const taken = new Map<TcpConversation, number>();
  const push = (c: TcpConversation) => {
    frames.push(...c.frames.slice(taken.get(c) ?? 0));
    taken.set(c, c.frames.length);
  };
  const ctl = new TcpConversation({ client: CLIENT, server: SERVER }).handshake();
  const say = (fromClient: boolean, line: string) => push(ctl.send(fromClient, `${line}\r\n`));
  push(ctl);
  say(false, '220 hi');
  for (const [c, r] of [['USER u', '331 pw'], ['PASS p', '230 ok'], ['TYPE I', '200 ok'], ...before.map((l) => l.split(' => ') as [string, string])]) {
    say(true, c!);
    say(false, r!);
  }
  say(true, 'EPSV');
  say(false, '229 Entering Extended Passive Mode (|||50001|)');
  const d = new TcpConversation({ client: { ip: CLIENT.ip, port: 40100 }, server: { ip: SERVER.ip, port: 50001 }, isnClient: 7000, isnServer: 9000 });
  push(d.handshake());
  say(true, command);
  data(d, ctl, push);
  return frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000 }));
}

async function transferOf(frames: Frame[]): Promise<Transfer> {
  const a = (await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]))).ftp.result();
  assert.equal(a.transfers.length, 1);
  return a.transfers[0]!;
}

const reply = (ctl: TcpConversation, line: string) => ctl.send(false, `${line}\r\n`);

test('a 226 does not make a short download complete: fewer bytes than SIZE announced, none missing', async () => {
  const t = await transferOf(session(['SIZE f => 213 1000'], 'RETR f', (d, ctl, push) => {
    push(reply(ctl, '150 Opening BINARY mode data connection for f (1000 bytes).'));
    push(d.send(false, 'x'.repeat(400)).close(false));
    push(reply(ctl, '226 Transfer complete.'));
  }));
  assert.equal(t.bytes, 400);
  assert.equal(t.missingBytes, 0);
  assert.equal(t.expectedBytes, 1000);
  assert.equal(t.status, 'incomplete');
  assert.equal(t.causeFacts?.kind, 'short');
  assert.deepEqual(t.dataEnd, { how: 'fin', by: 'both' });
  assert.match(t.cause!, /400 of the 1000 bytes announced/);
});

test('REST: the bytes expected are the size less the offset, and a resumed download that brings them is complete', async () => {
  const t = await transferOf(session(['SIZE f => 213 1000', 'REST 600 => 350 Restart position accepted (600).'], 'RETR f', (d, ctl, push) => {
    push(reply(ctl, '150 Opening BINARY mode data connection for f (1000 bytes).'));
    push(d.send(false, 'x'.repeat(400)).close(false));
    push(reply(ctl, '226 Transfer complete.'));
  }));
  assert.equal(t.restOffset, 600);
  assert.equal(t.expectedBytes, 400);
  assert.equal(t.status, 'complete', t.cause ?? '');
  assert.equal(t.causeFacts, null);
});

test('the client resets the data connection before the end: aborted by the client, whatever the server answers', async () => {
  const t = await transferOf(session(['SIZE f => 213 5000'], 'RETR f', (d, ctl, push) => {
    push(reply(ctl, '150 Opening BINARY mode data connection for f (5000 bytes).'));
    push(d.send(false, 'x'.repeat(1448)).reset(true));
    push(reply(ctl, '426 Failure writing network stream.'));
  }));
  assert.equal(t.status, 'aborted');
  assert.equal(t.causeFacts?.kind, 'client-reset');
  assert.deepEqual(t.dataEnd, { how: 'rst', by: 'client' });
  assert.match(t.cause!, /the client reset the data connection \(RST\) after 1448 of 5000 bytes; the server answered 426/);
});

test('bytes the server had in flight when the client reset cross the wire: counted in the transfer, and apart', async () => {
  const t = await transferOf(session([], 'RETR f', (d, ctl, push) => {
    push(reply(ctl, '150 Opening BINARY mode data connection for f.'));
    push(d.send(false, 'a'.repeat(1000), { noAck: true }));
    // The client resets; 376 bytes the server had already sent arrive after the RST.
    d.segment(true, RST | ACK, undefined, { advance: false });
    d.segment(false, PSH | ACK, Buffer.from('b'.repeat(376)));
    push(d);
    push(reply(ctl, '426 Connection closed; transfer aborted.'));
  }));
  assert.equal(t.bytes, 1376, 'every byte that crossed the wire');
  assert.equal(t.afterResetBytes, 376);
  assert.equal(t.status, 'aborted');
});

test('a 426 with the data connection closed normally: aborted by the server', async () => {
  const t = await transferOf(session([], 'RETR f', (d, ctl, push) => {
    push(reply(ctl, '150 here it comes'));
    push(d.send(false, 'x'.repeat(300)).close(false));
    push(reply(ctl, '426 Connection closed; transfer aborted.'));
  }));
  assert.equal(t.status, 'aborted');
  assert.equal(t.causeFacts?.kind, 'aborted');
});

test('a 425 with no PORT, EPRT, PASV or EPSV before it says so', async () => {
  const frames: Frame[] = [];
  const ctl = new TcpConversation({ client: CLIENT, server: SERVER }).handshake();
  for (const [c, r] of [[null, '220 hi'], ['USER u', '331 pw'], ['PASS p', '230 ok'], ['RETR f', '425 Use PORT or PASV first.']] as const) {
    if (c !== null) ctl.send(true, `${c}\r\n`);
    ctl.send(false, `${r}\r\n`);
  }
  frames.push(...ctl.frames);
  const t = await transferOf(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1_000_000 })));
  assert.equal(t.status, 'failed');
  assert.equal(t.causeFacts?.kind, 'no-port-or-pasv');
  assert.match(t.cause!, /no PORT, EPRT, PASV or EPSV was sent before it/);
});

test('--extract: a resumed download is written as NAME.part-OFFSET, holding what the wire carried, and the manifest says which bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-part-'));
  try {
    const frames = session(['SIZE f.bin => 213 1000', 'REST 600 => 350 Restart position accepted (600).'], 'RETR f.bin', (d, ctl, push) => {
      push(reply(ctl, '150 Opening BINARY mode data connection for f.bin (1000 bytes).'));
      push(d.send(false, 'y'.repeat(400)).close(false));
      push(reply(ctl, '226 Transfer complete.'));
    });
    const { ftp } = await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]), { extract: dir });
    ftp.result();
    const [entry] = [...ftp.manifest!.entries()];
    assert.equal(entry!.file, join('session-1', 'f.bin.part-600'));
    assert.equal(readFileSync(join(dir, entry!.file!), 'utf8'), 'y'.repeat(400), 'the bytes on the wire, from offset 0 of the part');
    assert.equal(entry!.fileOffset, 600);
    assert.equal(entry!.complete, false, 'a part is not the whole file');
    assert.match(entry!.note!, /bytes 600 to 1000 of the remote file \(REST 600\): a part/);
    ftp.closeManifest();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('APPE: the SIZE before it is where the bytes go, not a size announced for them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-appe-'));
  try {
    const frames = session(['SIZE log.txt => 213 20000'], 'APPE log.txt', (d, ctl, push) => {
      push(reply(ctl, '150 Ok to send data.'));
      push(d.send(true, 'z'.repeat(5678)).close(true));
      push(reply(ctl, '226 Transfer complete.'));
    });
    const { ftp } = await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]), { extract: dir });
    const t = ftp.result().transfers[0]!;
    assert.equal(t.announcedSize, null);
    assert.equal(t.fileOffset, 20000);
    assert.equal(t.status, 'complete');
    const [entry] = [...ftp.manifest!.entries()];
    assert.equal(entry!.file, join('session-1', 'log.txt.part-20000'));
    assert.equal(entry!.appended, true);
    assert.match(entry!.note!, /bytes 20000 to 25678 of the remote file \(APPE\)/);
    ftp.closeManifest();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the walkthrough says what the model says: a 226 on a short download is not "the transfer is complete"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-short-'));
  try {
    const path = join(dir, 'short.pcap');
    writeFileSync(path, framesToPcap(session(['SIZE f => 213 1000'], 'RETR f', (d, ctl, push) => {
      push(reply(ctl, '150 Opening BINARY mode data connection for f (1000 bytes).'));
      push(d.send(false, 'x'.repeat(400)).close(false));
      push(reply(ctl, '226 Transfer complete.'));
    }), 'ethernet'));
    const io = collect();
    assert.equal(await main(['-v', 'walkthrough', '--width', '200', path], io.io), 0, io.stderr());
    const out = io.stdout();
    assert.match(out, /The server reports the transfer done \(226\), but the capture shows it is not complete: 400 of the 1000 bytes announced/);
    assert.doesNotMatch(out, /The transfer is complete/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('STOU: the path is the name the server gives in its reply, and --extract writes the file under that name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-stou-'));
  try {
    const frames = session(['CWD /incoming => 250 ok', 'PWD => 257 "/incoming"'], 'STOU', (d, ctl, push) => {
      push(reply(ctl, '150 FILE: ftpd.lk2m3y98'));
      push(d.send(true, 'unique body').close(true));
      push(reply(ctl, '226 Transfer complete.'));
    });
    const { ftp } = await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]), { extract: dir });
    const t = ftp.result().transfers[0]!;
    assert.equal(t.path, '/incoming/ftpd.lk2m3y98');
    const [entry] = [...ftp.manifest!.entries()];
    assert.equal(entry!.path, '/incoming/ftpd.lk2m3y98');
    assert.equal(entry!.file, join('session-1', 'incoming', 'ftpd.lk2m3y98'));
    assert.equal(readFileSync(join(dir, entry!.file!), 'utf8'), 'unique body');
    ftp.closeManifest();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('times that go backwards: said once on stderr, and no duration anywhere is negative', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-back-'));
  try {
    const frames = session(['NOOP => 200 noop ok'], 'RETR f', (d, ctl, push) => {
      push(reply(ctl, '150 here'));
      push(d.send(false, 'x'.repeat(3000)).close(false));
      push(reply(ctl, '226 done'));
    });
    // The data's last segments, and the final reply, stamped 500 s before the rest, as a capture with a clock jump has them.
    const dataFrames = frames.map((f, i) => ({ f, i })).filter(({ f }) => f.data.readUInt16BE(22) === 50001 || f.data.readUInt16BE(20) === 50001);
    for (const { i } of dataFrames.slice(-4)) frames[i] = { ...frames[i]!, tsSec: frames[i]!.tsSec - 500 };
    // And the reply to NOOP, so that its response time would be negative.
    const noop = frames.findIndex((f) => f.data.includes('200 noop ok'));
    frames[noop] = { ...frames[noop]!, tsSec: frames[noop]!.tsSec - 500 };
    const path = join(dir, 'back.pcap');
    writeFileSync(path, framesToPcap(frames, 'ethernet'));
    const io = collect();
    assert.equal(await main(['--format', 'json', path], io.io), 0, io.stderr());
    const lines = io.stderr().trim().split('\n');
    assert.equal(lines.length, 1, io.stderr());
    assert.match(lines[0]!, /records? (is|are) earlier than the record before \(the first: frame \d+, 499\.999000 s back\): durations across them are not given/);
    const model = JSON.parse(io.stdout()) as { capture: { outOfOrderRecords: number }; transfers: Transfer[]; sessions: Array<{ exchanges: Array<{ responseTime: number | null }> }> };
    assert.ok(model.capture.outOfOrderRecords >= 1);
    for (const t of model.transfers) assert.ok(t.duration === null || t.duration >= 0, `transfer duration ${t.duration}`);
    for (const e of model.sessions.flatMap((s) => s.exchanges)) assert.ok(e.responseTime === null || e.responseTime >= 0, `response time ${e.responseTime}`);
    const text = collect();
    assert.equal(await main(['-v', 'summary', '-v', 'timeline', '--width', '200', path], text.io), 0, text.stderr());
    assert.doesNotMatch(text.stdout(), /-\d+(\.\d+)? (ms|s)\b/, 'a negative duration in the text views');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ABOR (after Telnet IP and Synch): the transfer is aborted by the client, its 426 and the ABOR\'s 226 each where they belong', async () => {
  const frames = session(['SIZE big => 213 100000'], 'RETR big', (d, ctl, push) => {
    push(reply(ctl, '150 Opening BINARY mode data connection for big (100000 bytes).'));
    push(d.send(false, 'x'.repeat(2896)));
    push(ctl.send(true, Buffer.from([0xff, 0xf4, 0xff, 0xf2])));
    push(ctl.send(true, 'ABOR\r\n'));
    push(d.reset(true));
    push(reply(ctl, '426 Failure writing network stream.'));
    push(reply(ctl, '226 Abort successful'));
  });
  const a = (await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]))).ftp.result();
  const t = a.transfers[0]!;
  const abor = a.sessions[0]!.exchanges.find((e) => e.command === 'ABOR')!;
  assert.equal(t.status, 'aborted');
  assert.equal(t.causeFacts?.kind, 'client-abor');
  assert.equal(t.abortedAt, abor.request!.frame);
  assert.equal(t.final, 426);
  assert.deepEqual(abor.replies.map((r) => r.code), [226]);
  assert.match(t.cause!, /the client aborted it with ABOR \(frame \d+\) after 2896 of 100000 bytes; the server answered 426/);
});

/** One session that downloads each of `paths` in turn over its own passive data connection (the fuzz tool's). */
function downloads(paths: Array<[string, string]>): Frame[] {
  return downloadFrames(paths.map(([path, body]) => ({ path, body })));
}

test('--extract when the file system refuses a name: a file where a folder must go, a name too long; the analysis goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-refused-'));
  try {
    const cjk = '文'.repeat(100);
    const frames = downloads([['/a', 'first'], ['/a/b/c', 'second'], [`/${cjk}/${cjk}.txt`, 'third']]);
    const { ftp } = await analyseCapture('t.pcap', Readable.from([framesToPcap(frames, 'ethernet')]), { extract: dir });
    assert.equal(ftp.result().transfers.length, 3);
    const entries = [...ftp.manifest!.entries()];
    ftp.closeManifest();
    assert.equal(readFileSync(join(dir, entries[0]!.file!), 'utf8'), 'first');
    // /a is a file: /a/b/c cannot have its folder; it goes aside, and the manifest says why.
    assert.match(entries[1]!.note!, /a file is where a folder must go \(ENOTDIR\): written under a name of its own instead/);
    assert.equal(readFileSync(join(dir, entries[1]!.file!), 'utf8'), 'second');
    assert.match(entries[1]!.file!, /_unplaced/);
    // 100 CJK characters are 300 bytes: cut to fit the file system's names.
    assert.equal(readFileSync(join(dir, entries[2]!.file!), 'utf8'), 'third');
    assert.equal(entries[2]!.path, `/${cjk}/${cjk}.txt`, 'the manifest keeps the exact path');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--extract onto a full disk: the file is marked short with the reason, the analysis and its output go on', { skip: process.getuid?.() !== 0 ? 'needs root to mount a small tmpfs' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    try {
      const path = join(tmpdir(), `ftpscope-full-${process.pid}.pcap`);
      writeFileSync(path, framesToPcap(downloads([['/big.bin', 'z'.repeat(200_000)]]), 'ethernet'));
      const io = collect();
      assert.equal(await main(['-v', 'summary', '--extract', join(dir, 'out'), path], io.io), 0, io.stderr());
      rmSync(path);
      assert.match(io.stdout(), /FTP sessions \(1\)/, 'the summary is printed');
      const all = `${io.stdout()}${io.stderr()}`;
      assert.match(all, /the disk is full \(ENOSPC\)/);
      assert.doesNotMatch(all, /internal error|at .*\.js:\d+/);
    } finally {
      execFileSync('umount', [dir]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
