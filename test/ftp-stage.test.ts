/**
 * The FTP stage's parts, each without a capture: the expectation table (ftp/expectations.ts) and the
 * finding book (ftp/finding-book.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../src/flow/connections.js';
import { FindingBook } from '../src/ftp/finding-book.js';
import { Expectations } from '../src/ftp/expectations.js';
import type { Finding, Prediction } from '../src/model/ftp-model.js';

let ids = 0;
function prediction(session: number, to: string, port: number, peer = to, at = 0, expires = 300): Prediction {
  return {
    id: ++ids, session, source: 'PASV', mode: 'passive', exchange: 1, setup: { frame: 1, sec: at, nsec: 0 }, connector: 'client', from: '10.0.0.1',
    to: { address: to, port }, controlPeer: { address: peer, port }, addressDiffers: to !== peer, thirdParty: false, numbers: null, arithmetic: null,
    expires: at + expires, status: 'unused', connection: null, rule: null, transfers: [],
  };
}

function connection(server: string, sPort: number, client = '10.0.0.1', cPort = 40000): Connection {
  return { serverAddress: server, sPort, clientAddress: client, cPort, origin: 'syn', first: { frame: 5, sec: 1, nsec: 0 } } as unknown as Connection;
}

function table(perSession = 100, all = 10_000) {
  const capped: string[] = [];
  const hosts = new Map<string, number>();
  const t = new Expectations({ maxPredictionsPerSession: perSession, maxPredictions: all }, {
    capped: (p, scope, limit) => capped.push(`${scope} ${limit} s${p.session}`),
    host: (a, n) => hosts.set(a, (hosts.get(a) ?? 0) + n),
  });
  return { t, capped, hosts };
}

test('expectations: a connection matches the newest awaited prediction, on the advertised address before the control peer', () => {
  const { t } = table();
  const older = prediction(1, '10.0.0.2', 5000);
  const newer = prediction(1, '10.0.0.2', 5000);
  t.add(older);
  t.add(newer);
  assert.deepEqual(t.match(connection('10.0.0.2', 5000), 1), { p: newer, rule: 'advertised' });
  const nat = prediction(2, '192.0.2.9', 6000, '10.0.0.2');
  t.add(nat);
  assert.deepEqual(t.match(connection('10.0.0.2', 6000), 1), { p: nat, rule: 'control-peer' });
  assert.equal(t.match(connection('10.0.0.3', 6000), 1), null, 'another host');
  assert.equal(t.match(connection('10.0.0.2', 6000), 400), null, 'expired by capture time');
});

test('expectations: the caps let the oldest go, say so once per scope, and keep the host count right', () => {
  const { t, capped, hosts } = table(2, 3);
  const ps = [1, 2, 3].map((i) => prediction(1, '10.0.0.2', 5000 + i));
  for (const p of ps) t.add(p);
  assert.equal(ps[0]!.status, 'dropped');
  assert.equal(t.match(connection('10.0.0.2', 5001), 1), null);
  assert.ok(t.match(connection('10.0.0.2', 5003), 1) !== null);
  for (const i of [1, 2, 3]) t.add(prediction(2, '10.0.0.2', 6000 + i));
  assert.deepEqual(capped, ['session 2 s1', 'all 3 s2', 'session 2 s2']);
  assert.equal(hosts.get('10.0.0.2'), 3, 'three awaited, the host counted three times');
  for (let i = 0; i < 5000; i++) t.add(prediction(3, '10.0.0.4', 1 + (i % 60000)));
  assert.ok((hosts.get('10.0.0.4') ?? 0) <= 3, 'bounded by the cap, whatever was announced');
});

test('expectations: drop is once; awaitedUntil tells how long a session may still be answered', () => {
  const { t, hosts } = table();
  const p = prediction(7, '10.0.0.2', 5000, '10.0.0.2', 10, 300);
  t.add(p);
  assert.equal(t.awaitedUntil(7, 20), 310);
  t.drop(p);
  t.drop(p);
  assert.equal(hosts.get('10.0.0.2'), 0);
  assert.equal(t.awaitedUntil(7, 20), -Infinity);
});

function book(release: boolean, threshold = 3, windowSec = 60) {
  const done: Array<[Finding, number]> = [];
  const held = new Set<number>([1, 2, 3]);
  const b = new FindingBook({ maxFindingFrames: 20, bruteForceThreshold: threshold, bruteForceWindowSec: windowSec, maxTrackedClients: 2 }, release, {
    counted: () => {},
    done: (f, order) => done.push([f, order]),
    holds: (s) => held.has(s),
  });
  return { b, done, held };
}

test('finding book: repeats in a session fold into the first, with a count and the first frames', () => {
  const { b } = book(false);
  const a = b.make('site-exec', 1, [3], { argument: 'x' });
  for (let i = 0; i < 30; i++) assert.equal(b.make('site-exec', 1, [10 + i], { argument: 'y' }), a);
  assert.equal(a.count, 31);
  assert.equal(a.frames.length, 20);
  assert.notEqual(b.make('site-exec', 2, [5], { argument: 'x' }), a, 'another session: another finding');
  assert.match(a.message, /SITE EXEC asks the server to run a program: "x"/);
  assert.match(a.messageZh, /SITE EXEC/);
});

test('finding book: a graver finding of a kind is never folded into a milder first one', () => {
  const { b } = book(true);
  const base = { source: 'PORT' as const, address: '10.9.9.9', port: 25, client: '10.0.0.1', bytes: 0 };
  const refused = b.make('third-party', 1, [3], { ...base, outcome: 'refused', code: 500 });
  const obeyed = b.make('third-party', 1, [9], { ...base, outcome: 'connected', code: 200, bytes: 7 });
  assert.notEqual(obeyed, refused);
  assert.deepEqual([refused.severity, obeyed.severity], ['notice', 'alert']);
  assert.equal(b.make('third-party', 1, [12], { ...base, outcome: 'refused', code: 500 }), refused, 'the same severity folds');
  b.releaseSession(1);
  assert.notEqual(b.make('third-party', 1, [20], { ...base, outcome: 'refused', code: 500 }), refused, 'a released session\'s folding keys go with it');
});

test('finding book: failed logins from one client make one brute-force finding once the threshold is met within the window', () => {
  const { b } = book(false, 3, 60);
  b.loginFailed(1, '10.0.0.9', '10.0.0.2', 1, 0);
  b.loginFailed(1, '10.0.0.9', '10.0.0.2', 2, 100); // the first fell out of the window
  b.loginFailed(2, '10.0.0.9', '10.0.0.2', 3, 110);
  assert.equal(b.all().length, 0);
  b.loginFailed(3, '10.0.0.9', '10.0.0.2', 4, 120);
  b.loginFailed(3, '10.0.0.9', '10.0.0.2', 5, 121);
  const [f] = b.all();
  assert.equal(f!.kind, 'brute-force');
  assert.equal(f!.count, 4, 'counted on after it was made');
  assert.deepEqual(f!.frames, [2, 3, 4, 5]);
});

test('finding book: with release, a session\'s findings go with it, but not one a series still counts on', () => {
  const { b, done, held } = book(true);
  b.make('site-exec', 1, [3], { argument: 'x' });
  b.cleartext(1, '10.0.0.9', '10.0.0.2', [{ user: 'u', password: 'p', result: 'failure', frame: 4 }] as never);
  held.delete(1);
  b.releaseSession(1);
  assert.deepEqual(done.map(([f]) => f.kind), ['site-exec']);
  // The next session of the same client, server, user and result counts into the held one.
  b.cleartext(2, '10.0.0.9', '10.0.0.2', [{ user: 'u', password: 'p', result: 'failure', frame: 9 }] as never);
  const credentials = b.all().filter((f) => f.kind === 'cleartext-credentials');
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0]!.count, 2);
});
