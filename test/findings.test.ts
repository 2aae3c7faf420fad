/**
 * Findings: each kind fires on a capture made for it, says what it must, and stays silent elsewhere.
 * Real captures where the fixture script can make them (fixtures/), Zeek's where it has one, synthetic
 * dialogs otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../src/config.js';
import { analyseCapture } from './analysis.js';
import { Masker } from '../src/ftp/policy.js';
import type { FtpAnalysis } from '../src/model/ftp-model.js';
import { TcpConversation, framesToPcap, type Endpoint } from './support/capture-writer.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const ZEEK = fileURLToPath(new URL('../../../shared/conformance/zeek/', import.meta.url));
const noZeek = existsSync(ZEEK) ? false : '../shared/conformance not found';

async function run(source: string | Buffer, changes: Partial<Settings> = {}): Promise<FtpAnalysis> {
  const stream = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  // As every output shows it: passwords masked unless --show-passwords (the model itself keeps what was sent).
  return new Masker(changes.showPasswords ?? false).analysis((await analyseCapture('capture', stream, changes)).ftp.result());
}

const kinds = (a: FtpAnalysis) => a.findings.map((f) => f.kind);

/** A control dialogue: lines alternate client, server, client, ... */
function dialogue(lines: string[], client: Endpoint = { ip: '10.0.0.1', port: 40000 }, server: Endpoint = { ip: '10.0.0.2', port: 21 }): Buffer {
  const c = new TcpConversation({ client, server }).handshake().send(false, '220 hi\r\n');
  lines.forEach((l, i) => c.send(i % 2 === 0, `${l}\r\n`));
  return framesToPcap(c.close().frames, 'ethernet');
}

test('credentials in clear: user and result; the password only when asked', async () => {
  const capture = dialogue(['USER alice', '331 pw', 'PASS s3cret', '230 ok']);
  const hidden = (await run(capture)).findings.find((f) => f.kind === 'cleartext-credentials')!;
  assert.equal(hidden.severity, 'notice');
  assert.match(hidden.message, /user "alice" sent a password in clear text.*succeeded/);
  assert.doesNotMatch(hidden.message, /s3cret/);
  const shown = (await run(capture, { showPasswords: true })).findings.find((f) => f.kind === 'cleartext-credentials')!;
  assert.match(shown.message, /"s3cret"/);
});

test('anonymous login, and an anonymous user who writes', async () => {
  const reads = await run(dialogue(['USER anonymous', '331 pw', 'PASS me@example.com', '230 ok', 'PWD', '257 "/"']));
  assert.deepEqual(kinds(reads), ['anonymous-login']);
  const writes = await run(dialogue(['USER ftp', '331 pw', 'PASS me@example.com', '230 ok', 'MKD incoming/x', '257 "/incoming/x" created', 'DELE old.txt', '250 deleted']));
  const w = writes.findings.find((f) => f.kind === 'anonymous-write')!;
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /MKD .*incoming\/x.*DELE .*old\.txt/);
  assert.ok(!kinds(writes).includes('cleartext-credentials'), 'an anonymous password is an e-mail address, not a credential');
});

test('login evidence, not name lists: real servers\' words decide who is anonymous (RFC 1635)', async () => {
  const cases: Array<[string, string[], string | null]> = [
    ['vsftpd, a local user ftpuser', ['USER ftpuser', '331 Please specify the password.', 'PASS s3cret', '230 Login successful.'], null],
    ['vsftpd, a local user guest', ['USER guest', '331 Please specify the password.', 'PASS s3cret', '230 Login successful.'], null],
    ['vsftpd, anonymous', ['USER anonymous', '331 Please specify the password.', 'PASS me@example.org', '230 Login successful.'], 'user-name'],
    ['vsftpd, ftp', ['USER FTP', '331 Please specify the password.', 'PASS me@example.org', '230 Login successful.'], 'user-name'],
    ['ProFTPD, an anonymous alias', ['USER guest', '331 Anonymous login ok, send your complete email address as your password', 'PASS me@example.org', '230 Anonymous access granted, restrictions apply'], 'server-331'],
    ['Pure-FTPd', ['USER ftpuser', '331 User ftpuser OK. Password required', 'PASS me@example.org', '230 Anonymous user logged in'], 'server-230'],
    ['wu-ftpd', ['USER ftpuser', '331 Guest login ok, send your complete e-mail address as password.', 'PASS me@example.org', '230 Guest login ok, access restrictions apply.'], 'server-331'],
    ['wu-ftpd, a guestgroup account (real password)', ['USER ftpuser', '331 Password required for ftpuser.', 'PASS s3cret', '230 User ftpuser logged in.  Access restrictions apply.'], null],
    ['a real user whose welcome banner speaks of anonymous access', ['USER ftpuser', '331 Password required for ftpuser.', 'PASS s3cret', '230-Welcome.\r\n230-Anonymous access is not offered here.\r\n230 User ftpuser logged in.'], null],
    ['NetBSD ftpd: the guest status after the banner', ['USER ftpuser', '331 Password required.', 'PASS me@example.org', '230-\r\n    The NetBSD Project FTP Server\r\n230 Guest login ok, access restrictions apply.'], 'server-230'],
  ];
  for (const [name, lines, by] of cases) {
    const a = await run(dialogue([...lines, 'STOR x', '150 ok', 'DELE y', '250 ok']));
    const s = a.sessions[0]!;
    assert.deepEqual([s.anonymous, s.anonymousBy, s.loginAttempts[0]!.anonymousBy], [by !== null, by, by], name);
    const k = kinds(a);
    if (by === null) {
      assert.ok(k.includes('cleartext-credentials') && !k.some((x) => x.startsWith('anonymous-')), `${name}: ${k.join(' ')}`);
      assert.equal(s.password, '<hidden>', name);
      assert.ok(!JSON.stringify(a).includes('s3cret'), `${name}: the password is somewhere in the model as shown`);
    } else {
      assert.ok(!k.includes('cleartext-credentials') && k.includes('anonymous-login') && k.includes('anonymous-write'), `${name}: ${k.join(' ')}`);
      assert.equal(s.password, 'me@example.org', name);
    }
  }
});

test('a session with a real login and an anonymous one: the real password is a credential, writes are not called anonymous', async () => {
  const a = await run(dialogue(['USER ftpuser', '331 Please specify the password.', 'PASS s3cret', '230 Login successful.', 'DELE x', '250 ok', 'USER anonymous', '331 Please specify the password.', 'PASS me@example.org', '230 Login successful.']));
  const k = kinds(a);
  assert.ok(k.includes('cleartext-credentials') && k.includes('anonymous-login') && !k.includes('anonymous-write'), k.join(' '));
  assert.match(a.findings.find((f) => f.kind === 'cleartext-credentials')!.message, /user "ftpuser"/);
  assert.deepEqual(a.sessions[0]!.loginAttempts.map((l) => [l.user, l.password, l.anonymousBy]), [['ftpuser', '<hidden>', null], ['anonymous', 'me@example.org', 'user-name']]);
});

test('brute force: Zeek\'s 30 failed logins raise one alert counting all of them', { skip: noZeek }, async () => {
  const a = await run(`${ZEEK}scripts.policy.protocols.ftp.bruteforce/bruteforce.pcap`);
  const bf = a.findings.filter((f) => f.kind === 'brute-force');
  assert.equal(bf.length, 1);
  assert.equal(bf[0]!.severity, 'alert');
  assert.equal(bf[0]!.count, 30);
  assert.match(bf[0]!.message, /20 failed logins from 192\.168\.56\.1/);
  // The threshold and the window are options.
  assert.ok(!kinds(await run(`${ZEEK}scripts.policy.protocols.ftp.bruteforce/bruteforce.pcap`, { bruteForceThreshold: 31 })).includes('brute-force'));
  assert.ok(!kinds(await run(`${ZEEK}scripts.policy.protocols.ftp.bruteforce/bruteforce.pcap`, { bruteForceWindow: 10 })).includes('brute-force'));
});

test('FTP bounce: a PORT to a third host and a privileged port', async () => {
  const a = await run(dialogue(['USER u', '331 pw', 'PASS p', '230 ok', 'PORT 10,9,9,9,0,25', '200 ok', 'RETR x', '425 no']));
  assert.ok(kinds(a).includes('third-party'));
  const priv = a.findings.find((f) => f.kind === 'privileged-port')!;
  assert.match(priv.message, /port 25/);
});

test('NAT: a private PORT address seen from a public server, and the 425 that follows', async () => {
  const client = { ip: '192.168.1.5', port: 40000 };
  const server = { ip: '93.184.216.34', port: 21 };
  const a = await run(dialogue(['USER u', '331 pw', 'PASS p', '230 ok', 'PORT 192,168,1,5,200,10', '200 ok', 'RETR f', "425 Can't open data connection."], client, server));
  assert.ok(kinds(a).includes('private-port-address'));
  assert.match(a.transfers[0]!.cause!, /firewall or NAT in front of the client blocks active mode; passive mode would avoid it/);
  // The same between two private addresses is ordinary.
  const inside = await run(dialogue(['USER u', '331 pw', 'PASS p', '230 ok', 'PORT 10,0,0,1,200,10', '200 ok']));
  assert.ok(!kinds(inside).includes('private-port-address'));
});

test('NAT: a 227 advertising an address nobody answers at (a real capture)', async () => {
  const a = await run(`${FIXTURES}nat-pasv.pcap`);
  assert.match(a.findings.find((f) => f.kind === 'data-connection-unanswered')!.message, /passive address/);
});

test('TLS: AUTH TLS, and PROT P', async () => {
  assert.ok(kinds(await run(`${FIXTURES}auth-tls.pcap`)).includes('tls'));
  const prot = await run(dialogue(['USER u', '331 pw', 'PASS p', '230 ok', 'PBSZ 0', '200 ok', 'PROT P', '200 Protection set to Private']));
  assert.ok(kinds(prot).includes('protected-data'));
  assert.equal(prot.sessions[0]!.dataProtected, true);
});

test('protocol violations: SITE EXEC, overlong commands, invalid replies', async () => {
  const a = await run(dialogue(['SITE EXEC /bin/sh -c id', '200 ran', `CWD ${'a'.repeat(5000)}`, '250 ok', 'SYST', '2XX what']), { maxLineLength: 1000 });
  assert.equal(a.findings.find((f) => f.kind === 'site-exec')?.severity, 'alert');
  assert.ok(kinds(a).includes('overlong-command'));
  assert.ok(kinds(a).includes('invalid-reply'));
});

test('an over-long reply line (110 KB) is cut and reported as overlong-reply, as a long command is', async () => {
  const a = await run(dialogue(['USER u', '331 pw', 'PASS p', '230 ok', 'SYST', `215 ${'A'.repeat(110_000)}`, 'PWD', '257 "/"']));
  const f = a.findings.find((x) => x.kind === 'overlong-reply')!;
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /a 215 reply line of 110005 bytes was cut to 4096/);
  // The cut reply still answers its command, and the session goes on.
  const ex = a.sessions[0]!.exchanges;
  assert.deepEqual(ex.filter((e) => e.command === 'SYST' || e.command === 'PWD').map((e) => e.replies.map((r) => r.code)), [[215], [257]]);
});

test('non-FTP traffic on the control port: an SSH banner (Zeek\'s capture)', { skip: noZeek }, async () => {
  const a = await run(`${ZEEK}core.analyzer-confirmation-violation-info-ftp/ipv6-violation.pcap`);
  const f = a.findings.find((x) => x.kind === 'not-ftp')!;
  assert.equal(f.severity, 'alert');
  assert.match(f.message, /speaks SSH/);
});

test('quiet on clean traffic: the real fixtures raise no alert and no warning', async () => {
  for (const name of ['active-ls-pwd.pcap', 'passive-retr.pcap', 'epsv-list-retr-stor.pcap', 'eprt-retr.pcap', 'ipv6-epsv-retr.pcap', 'multi-session.pcap', 'active-list-retr-stor.pcap']) {
    const a = await run(`${FIXTURES}${name}`);
    assert.deepEqual(a.findings.filter((f) => f.severity === 'alert' || f.severity === 'warning').map((f) => f.kind), [], name);
  }
});

test('real captures made for the findings (fixtures/make-fixtures.sh)', async () => {
  const brute = await run(`${FIXTURES}bruteforce-logins.pcap`);
  const bf = brute.findings.find((f) => f.kind === 'brute-force')!;
  assert.equal(bf.count, 25, '25 failed logins from one client, over 25 sessions');
  const clear = brute.findings.filter((f) => f.kind === 'cleartext-credentials');
  assert.deepEqual(clear.map((f) => f.count), [25, 1], 'a series is one finding with a count; the successful login its own');
  const bounce = await run(`${FIXTURES}port-third-host.pcap`);
  assert.ok(kinds(bounce).includes('third-party') && kinds(bounce).includes('privileged-port'));
  assert.equal(bounce.predictions[0]!.status, 'refused');
  assert.match(bounce.transfers[0]!.cause!, /refused the PORT to 10\.21\.0\.3:25/);
  const blocked = await run(`${FIXTURES}active-blocked.pcap`);
  const un = blocked.findings.find((f) => f.kind === 'data-connection-unanswered')!;
  assert.match(un.message, /the server tried .* 7 times and got no answer: .*firewall or NAT in front of the client blocks active mode/);
  assert.deepEqual([blocked.transfers[0]!.status, blocked.transfers[0]!.final], ['failed', 425]);
  const upload = await run(`${FIXTURES}anonymous-upload.pcap`);
  assert.match(upload.findings.find((f) => f.kind === 'anonymous-write')!.message, /STOR \/upload\/note\.txt/);
});

test('a password stays hidden when a later USER names a guest (the password is the earlier user\'s)', async () => {
  for (const reply of ['530 no', '230 ok']) {
    const a = await run(dialogue(['USER admin', '331 pw', 'PASS s3cret', reply, 'USER anonymous', '331 pw', 'NOOP', '200 ok']));
    const s = a.sessions[0]!;
    assert.equal(s.user, 'anonymous');
    assert.equal(s.password, '<hidden>', `after ${reply}`);
    assert.ok(!JSON.stringify(a).includes('s3cret'), `after ${reply}: the password is somewhere in the model as shown`);
  }
});
