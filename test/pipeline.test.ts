/**
 * One pipeline: the file CLI and `ftpscope live` build their analysis with createAnalysis (src/pipeline.ts),
 * so the same packets give the same model whichever way they come in. Each fixture's records are fed
 * through the live code path (runLive with a file as its source) and compared with the file analysis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../src/capture/open-capture.js';
import type { RecordReader } from '../src/capture/record-batch.js';
import { settings, type Settings } from '../src/config.js';
import { main, viewOptions } from '../src/cli/main.js';
import { runLive, type LiveSource } from '../src/cli/live.js';
import { createAnalysis, planFor, type Analysis } from '../src/pipeline.js';
import { collect } from './cli-io.js';
import { analyseCapture } from './analysis.js';
import { PassThrough, Readable, Writable } from 'node:stream';
import { ACK, PSH, TcpConversation, framesToPcap } from './support/capture-writer.js';
import { listCaptures } from './support/captures.js';
import { timelineOrder } from '../src/ftp/timeline.js';
import type { TimelineEvent } from '../src/model/ftp-model.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const captures = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap')).map((f) => new URL(f, FIXTURES).pathname);

/** A capture file as a live source: its records go through runLive exactly as an interface's would. */
class FileSource implements LiveSource {
  constructor(readonly describe: string, private readonly opened: RecordReader) {}
  open(): RecordReader {
    return this.opened;
  }
  stop(): void {}
  notes() {
    return { packets: 0, dropped: 0, shed: 0, shedBytes: 0, cutBySnapLength: 0, kernel: null, kernelUnknown: 'a file' };
  }
}

async function live(path: string, s: Settings): Promise<string> {
  const io = collect();
  const source = new FileSource(path, await openCapture(path, path));
  assert.equal(await runLive(s, viewOptions(s, io.io), source, io.io), 0, io.stderr());
  return io.stdout();
}

async function file(path: string, args: string[]): Promise<string> {
  const io = collect();
  assert.equal(await main([...args, path], io.io), 0, io.stderr());
  return io.stdout();
}

const MODEL = ['sessions', 'predictions', 'transfers', 'findings', 'connections', 'timeline'] as const;

test('live and file analysis of the same packets give the same model, on every fixture', async () => {
  assert.ok(captures.length >= 10);
  for (const path of captures) {
    const fromFile = JSON.parse(await file(path, ['--format', 'json'])) as Record<string, unknown>;
    const fromLive = JSON.parse(await live(path, settings({ format: 'json' }))) as Record<string, unknown>;
    for (const k of MODEL) assert.deepEqual(fromLive[k], fromFile[k], `${path}: ${k}`);
    assert.ok((fromFile.sessions as unknown[]).length > 0, `${path}: no session`);
  }
});

test('live and file analysis stream the same events (NDJSON), on every fixture', async () => {
  for (const path of captures) {
    const a = (await file(path, ['--format', 'ndjson'])).trimEnd().split('\n');
    const b = (await live(path, settings({ format: 'ndjson' }))).trimEnd().split('\n');
    // The last line is each one's end: what the capture held, and (live) what the interface gave.
    assert.deepEqual(b.slice(0, -1), a.slice(0, -1), path);
    assert.ok(a.length > 5, `${path}: ${a.length} lines`);
  }
});

test('live honours the limits: --max-exchanges and --max-line-length reach the FTP stage', async () => {
  const path = new URL('active-list-retr-stor.pcap', FIXTURES).pathname;
  const whole = JSON.parse(await live(path, settings({ format: 'json' }))) as { sessions: Array<{ exchanges: unknown[]; commands: number }> };
  const cut = JSON.parse(await live(path, settings({ format: 'json', maxExchanges: 3, maxLineLength: 8 }))) as typeof whole;
  assert.ok(whole.sessions[0]!.exchanges.length > 3);
  assert.ok(cut.sessions[0]!.exchanges.length <= 3, `kept ${cut.sessions[0]!.exchanges.length}`);
  assert.equal(cut.sessions[0]!.commands, whole.sessions[0]!.commands, 'the commands beyond the limit are still counted');
  const findings = (JSON.parse(await live(path, settings({ format: 'json', maxLineLength: 8 }))) as { findings: Array<{ kind: string }> }).findings;
  assert.ok(findings.some((f) => f.kind === 'overlong-command' || f.kind === 'long-reply' || f.kind.includes('overlong')), JSON.stringify(findings.map((f) => f.kind)));
});

test('live --extract writes the same files and manifest as a file analysis', async () => {
  const path = new URL('active-list-retr-stor.pcap', FIXTURES).pathname;
  const a = mkdtempSync(join(tmpdir(), 'ftpscope-extract-file-'));
  const b = mkdtempSync(join(tmpdir(), 'ftpscope-extract-live-'));
  try {
    await file(path, ['-v', 'summary', '--extract', a]);
    const out = await live(path, settings({ extract: b, view: ['summary'] }));
    const ma = JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8')) as Array<{ file: string | null; sha256: string | null }>;
    const mb = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as typeof ma;
    assert.ok(ma.length > 0 && ma.some((e) => e.sha256 !== null));
    assert.deepEqual(mb, ma);
    assert.match(out, /manifest\.json/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('the plan keeps what the outputs read and no more', () => {
  assert.deepEqual(planFor(settings({ view: ['summary'] }), 'file'), { exchanges: false, packets: false, everyConnection: false, release: 'report', timeline: false });
  assert.deepEqual(planFor(settings({ view: ['summary'], host: ['10.0.0.1'] }), 'file').release, false);
  assert.equal(planFor(settings({ view: ['walkthrough'] }), 'file').packets, true);
  assert.equal(planFor(settings({ view: ['walkthrough'], format: 'json' }), 'file').packets, false);
  assert.equal(planFor(settings({ view: ['connections'] }), 'file').everyConnection, true);
  assert.equal(planFor(settings(), 'live').release, 'live');
  assert.equal(planFor(settings({ format: 'json' }), 'live').release, false);
  const a = createAnalysis(settings({ view: ['ladder'] }), planFor(settings({ view: ['ladder'] }), 'live'));
  assert.notEqual(a.packets, null);
});

const CONFORMANCE = new URL('../../../shared/conformance/', import.meta.url).pathname;

test('one timeline: what is streamed as it happens is the model\'s timeline, event for event, on every capture', async (t) => {
  const all = [...captures, ...(existsSync(CONFORMANCE) ? listCaptures(CONFORMANCE) : [])];
  if (!existsSync(CONFORMANCE)) t.diagnostic('../shared/conformance not found: only the fixtures are checked');
  let events = 0;
  for (const path of all) {
    const streamed: TimelineEvent[] = [];
    const { ftp } = await analyseCapture(path, path, {}, {}, { onEvent: (e) => void (e.type === 'timeline' && streamed.push(e.event)) });
    const model = ftp.result().timeline;
    // Streamed in the order each became known; the model's is in time order.
    assert.deepEqual(streamed.slice().sort(timelineOrder), model, path);
    for (let i = 1; i < model.length; i++) assert.ok(timelineOrder(model[i - 1]!, model[i]!) <= 0, `${path}: the model's timeline is out of order at ${i}`);
    events += model.length;
  }
  assert.ok(events > 500, `${events} events`);
});

test('live output speaks the timeline view\'s words, with --time-format', async () => {
  const path = new URL('active-list-retr-stor.pcap', FIXTURES).pathname;
  const view = await file(path, ['-v', 'timeline', '--width', '200']);
  const out = await live(path, settings({ view: ['timeline'], width: 200 }));
  // Each line is "<time> #<frame> s<session> <text>"; the timeline view has the same text for predictions and transfers.
  const texts = out.split('\n').map((l) => /^ *\S+ #\d+ +s\d+ +(expecting .*|RETR data: .*|LIST data: .*)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  assert.ok(texts.length >= 2, out);
  for (const text of texts) assert.ok(view.includes(text), `live says "${text}", the timeline view does not:\n${view}`);
  assert.match(out, /^ +0\.000000 #1 +s1 control connection opened by the client: .* \(SYN 1\)$/m);
  assert.match(out, /s1 control connection: FIN from the (client|server)\n.*s1 control connection closed \(FIN both ways\)/);
  const session = await live(path, settings({ view: ['timeline'], width: 200, timeFormat: 'session' }));
  assert.match(session, /^ +\+0\.000000 #1 /m);
  assert.doesNotMatch(session, /^ +\d+\.\d{6} #/m, 'every time counts from its session');
});

/** A session, and a connection between its hosts on a port nothing announced, which carries data. */
function strayCapture() {
  const client = { ip: '10.0.0.1', port: 40000 };
  const server = { ip: '10.0.0.2', port: 21 };
  const control = new TcpConversation({ client, server, startSec: 1_700_000_000 }).handshake().send(false, '220 hi\r\n');
  // Between the same hosts, on a port no prediction named: followed (it might be a data connection), never claimed.
  const stray = new TcpConversation({ client: { ip: '10.0.0.1', port: 40001 }, server: { ip: '10.0.0.2', port: 9999 }, startSec: 1_700_000_001 })
    .handshake().send(true, 'x'.repeat(3000)).close();
  // Seconds later the session goes on: the capture clock ticks past the stray's close.
  const later = new TcpConversation({ client, server, startSec: 1_700_000_010, isnClient: control.clientSeq, isnServer: control.serverSeq });
  later.segment(true, PSH | ACK, Buffer.from('NOOP\r\n')).segment(false, PSH | ACK, Buffer.from('200 ok\r\n'));
  return { bytes: framesToPcap([...control.frames, ...stray.frames, ...later.frames]), control, stray };
}

test('a live capture drops the packets of a connection between FTP hosts that nothing claimed, once it closed', async () => {
  const { bytes, control, stray } = strayCapture();
  // Counted as the session ends (a live capture then lets it and its packets go): what the log holds by then.
  const held = async (release: false | 'live') => {
    let counts = { strays: -1, total: -1 };
    const a: Analysis = createAnalysis(settings({ closedLinger: 0 }), { ...planFor(settings({ view: ['packets'] }), 'live'), release }, {
      onSessionDone: () => {
        let strays = 0;
        for (let i = 0; i < a.packets!.size; i++) if (a.packets!.get(i).connection === 2) strays++;
        counts = { strays, total: a.packets!.size };
      },
    });
    await a.run(await openCapture('stray.pcap', Readable.from([bytes])));
    if (release === false) counts = { strays: [...Array(a.packets!.size).keys()].filter((i) => a.packets!.get(i).connection === 2).length, total: a.packets!.size };
    return counts;
  };
  const whole = await held(false);
  assert.ok(whole.strays >= stray.frames.length, `a whole analysis keeps the stray connection's ${stray.frames.length} packets: ${JSON.stringify(whole)}`);
  const live = await held('live');
  assert.equal(live.strays, 0, `live still holds ${live.strays} packets of the unclaimed connection`);
  assert.ok(live.total >= control.frames.length + 2, `the session's packets are kept: ${JSON.stringify(live)}`);
});

test('a live capture lets go of every finished session once its connections have lingered: none stays held', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // 300 short sessions, one a second: each logs in, quits and closes.
  const frames = [];
  for (let i = 0; i < 300; i++) {
    const c = new TcpConversation({ client: { ip: `10.0.${i >> 7}.${(i & 127) + 1}`, port: 40000 + i }, server: { ip: '10.9.0.1', port: 21 }, startSec: 1_700_000_000 + i });
    c.handshake().send(false, '220 hi\r\n').send(true, 'USER u\r\n').send(false, '331 p\r\n').send(true, 'QUIT\r\n').send(false, '221 bye\r\n').close();
    frames.push(...c.frames);
  }
  // Each connection, as the table opens it: a released one must be let go, with everything it leads to (its session).
  const held: Array<WeakRef<object>> = [];
  let ended = 0;
  let alive = -1;
  const a: Analysis = createAnalysis(settings({ closedLinger: 5 }), planFor(settings({ format: 'ndjson' }), 'live'), {
    onEvent: (e) => void (e.type === 'session-end' && ended++),
    // Still inside the capture, the table alive, but in a job after the one that made the WeakRefs (which keeps their targets).
    afterBatch: async () => {
      if (ended < 280 || alive >= 0) return;
      await new Promise((r) => setImmediate(r));
      gc();
      alive = held.slice(0, 270).filter((r) => r.deref() !== undefined).length;
    },
    wrap: (ftp) => ({
      bind: (clock) => ftp.bind(clock),
      opened: (conn) => {
        held.push(new WeakRef(conn));
        return ftp.opened(conn);
      },
      closed: (conn) => ftp.closed(conn),
      tick: (now) => ftp.tick(now),
    }),
  });
  await a.run(await openCapture('many.pcap', Readable.from([framesToPcap(frames)])));
  assert.equal(ended, 300);
  assert.equal(held.length, 300);
  assert.equal(alive, 0, `${alive} of the first 270 finished connections are still held`);
});

test('--host and --session keep a finding of no session that names a host they show', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-host-'));
  try {
    const path = join(dir, 'stray.pcap');
    writeFileSync(path, strayCapture().bytes);
    const kinds = async (args: string[]) => (JSON.parse(await file(path, ['--format', 'json', ...args])) as { findings: Array<{ kind: string; session: number | null }> }).findings
      .filter((f) => f.session === null).map((f) => f.kind);
    assert.deepEqual(await kinds([]), ['unpredicted-connection'], 'the capture has a finding of no session');
    assert.deepEqual(await kinds(['--host', '10.0.0.2']), ['unpredicted-connection']);
    assert.deepEqual(await kinds(['--session', '1']), ['unpredicted-connection'], 'it names the hosts of session 1');
    // A host of no session: no model at all, but what the capture has (exit 1).
    const io = collect();
    assert.equal(await main(['--format', 'json', '--host', '10.9.9.9', path], io.io), 1);
    assert.deepEqual([io.stdout(), io.stderr()], ['', 'ftpscope: no FTP session of host 10.9.9.9: this capture has session 1, hosts 10.0.0.1, 10.0.0.2\n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NDJSON of a file streams what --session and --host choose, the sessions JSON keeps; a time window is refused', async () => {
  const path = new URL('multi-session.pcap', FIXTURES).pathname;
  const idsOf = (ndjson: string) => [...new Set(ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; session?: { id: number }; event?: { session: number | null } })
    .flatMap((e) => (e.type === 'session-end' ? [e.session!.id] : e.type === 'timeline' && e.event!.session !== null ? [e.event!.session] : [])))].sort();
  const all = JSON.parse(await file(path, ['--format', 'json'])) as { sessions: Array<{ id: number; client: { address: string } }> };
  assert.ok(all.sessions.length >= 2);
  assert.deepEqual(idsOf(await file(path, ['--format', 'ndjson'])), all.sessions.map((x) => x.id).sort());
  for (const args of [['--session', '2'], ['--host', all.sessions[0]!.client.address], ['--session', '1', '--session', '2']]) {
    const kept = (JSON.parse(await file(path, ['--format', 'json', ...args])) as typeof all).sessions.map((x) => x.id).sort();
    assert.deepEqual(idsOf(await file(path, ['--format', 'ndjson', ...args])), kept, args.join(' '));
  }
  const io = collect();
  assert.equal(await main(['--format', 'ndjson', '--time-from', '+1', path], io.io), 2);
  assert.match(io.stderr(), /--time-from keeps the sessions still going at that time.*--format json applies it/);
  const to = collect();
  assert.equal(await main(['--format', 'ndjson', '--time-to', '+1', path], to.io), 2);
  assert.match(to.stderr(), /--time-to is not applied to streamed events: --format json applies it/);
});

test('--max-finding-frames reaches the findings catalogue', async () => {
  const brute = new URL('bruteforce-logins.pcap', FIXTURES).pathname;
  type Findings = { findings: Array<{ kind: string; frames: number[]; count: number }> };
  const few = (JSON.parse(await file(brute, ['--format', 'json', '--max-finding-frames', '3'])) as Findings).findings;
  const folded = few.filter((f) => f.count > 3);
  assert.ok(folded.length > 0, 'a finding that happened more than 3 times');
  for (const f of few) assert.ok(f.frames.length <= 3, `${f.kind} lists ${f.frames.length} frames`);
  const whole = (JSON.parse(await file(brute, ['--format', 'json'])) as Findings).findings;
  assert.ok(whole.some((f) => f.frames.length > 3), 'by default more frames are listed');
});

test('an FTP host\'s connection to a host that is not its FTP peer is no unpredicted-connection', async () => {
  const client = { ip: '10.0.0.1', port: 40000 };
  const server = { ip: '10.0.0.2', port: 21 };
  const control = new TcpConversation({ client, server, startSec: 1_700_000_000 }).handshake().send(false, '220 hi\r\n');
  // The FTP client fetches a web page from a third host meanwhile.
  const web = new TcpConversation({ client: { ip: '10.0.0.1', port: 40001 }, server: { ip: '10.0.0.77', port: 8080 }, startSec: 1_700_000_001 })
    .handshake().send(true, 'GET / HTTP/1.0\r\n\r\n').send(false, 'x'.repeat(2000)).close();
  const { ftp } = await analyseCapture('web.pcap', Readable.from([framesToPcap([...control.frames, ...web.frames])]));
  const kinds = ftp.result().findings.map((f) => f.kind);
  assert.ok(!kinds.includes('unpredicted-connection'), kinds.join(' '));
  // Between the session's own hosts it is still said (strayCapture).
  const { ftp: stray } = await analyseCapture('stray.pcap', Readable.from([strayCapture().bytes]));
  assert.ok(stray.result().findings.some((f) => f.kind === 'unpredicted-connection'));
});

test('the views that show sessions whole are written a session at a time: no view of a capture is one string', async () => {
  const path = new URL('bruteforce-logins.pcap', FIXTURES).pathname;
  const writes: string[] = [];
  const stdout = new Writable({ write: (c: Buffer, _e, cb) => void (writes.push(c.toString('utf8')), cb()) });
  for (const view of ['timeline', 'walkthrough', 'ladder']) {
    writes.length = 0;
    assert.equal(await main(['-v', view, path], { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdoutIsTTY: false, env: {} }), 0);
    const sessions = (JSON.parse(await file(path, ['--format', 'json'])) as { sessions: unknown[] }).sessions.length;
    assert.ok(sessions > 20);
    assert.ok(writes.length >= sessions, `-v ${view}: ${writes.length} writes for ${sessions} sessions`);
    assert.equal(writes.join(''), await file(path, ['-v', view]), 'the same text as a whole');
  }
});
