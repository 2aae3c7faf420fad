/**
 * FTP semantics on real captures of vsftpd, Pure-FTPd, ProFTPD and pyftpdlib with curl, lftp and ftplib
 * (issue 14): who logged in, what really transferred, what went wrong. Each expectation is what the servers
 * and clients logged when the capture was made: fixtures/logs/NAME.txt, "Ground truth".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseCapture } from './analysis.js';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';
import type { FtpAnalysis, Transfer } from '../src/model/ftp-model.js';
import { SEMANTICS_CAPTURES } from './support/captures.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;


async function model(name: string, extract: string | null = null): Promise<{ a: FtpAnalysis; manifest: Array<{ file: string | null; fileOffset: number | null; appended: boolean; sha256: string | null; note: string | null }> }> {
  const path = join(FIXTURES, name);
  const { ftp } = await analyseCapture(path, path, extract === null ? {} : { extract });
  const a = ftp.result();
  const manifest = ftp.manifest === null ? [] : [...ftp.manifest.entries()];
  ftp.closeManifest();
  return { a, manifest };
}

async function cli(args: string[]): Promise<string> {
  const io = collect();
  assert.equal(await main(args, io.io), 0, io.stderr());
  return io.stdout();
}

const kinds = (a: FtpAnalysis) => a.findings.map((f) => f.kind);
const byRest = (a: FtpAnalysis, rest: number | null) => a.transfers.find((t) => t.restOffset === rest)!;

test('guest-named-user.pcap: a local account named ftpuser is a real account, its password hidden everywhere', async () => {
  const { a } = await model('guest-named-user.pcap');
  const s = a.sessions[0]!;
  assert.deepEqual([s.user, s.login, s.anonymous, s.anonymousBy], ['ftpuser', 'success', false, null]);
  assert.ok(kinds(a).includes('cleartext-credentials'));
  assert.ok(!kinds(a).some((k) => k.startsWith('anonymous')), kinds(a).join(' '));
  // vsftpd's log: the real password was ftpuser-pass-14; no output shows it without --show-passwords.
  for (const args of [['-f', 'json'], ['-f', 'ndjson'], ['-f', 'zeek'], ['-v', 'timeline'], ['-v', 'walkthrough'], ['-v', 'summary']]) {
    assert.doesNotMatch(await cli([...args, join(FIXTURES, 'guest-named-user.pcap')]), /ftpuser-pass-14/, args.join(' '));
  }
  assert.match(await cli(['-f', 'json', '--show-passwords', join(FIXTURES, 'guest-named-user.pcap')]), /ftpuser-pass-14/);
});

test('anonymous logins on ProFTPD and Pure-FTPd: anonymous by the user name, the e-mail shown, no cleartext finding', async () => {
  const proftpd = (await model('anonymous-rfc1635-proftpd.pcap')).a;
  assert.deepEqual([proftpd.sessions[0]!.anonymous, proftpd.sessions[0]!.anonymousBy, proftpd.sessions[0]!.password], [true, 'user-name', 'ftp@example.com']);
  assert.ok(kinds(proftpd).includes('anonymous-login') && !kinds(proftpd).includes('cleartext-credentials'));
  // Pure-FTPd logs anonymous in at USER (230 at once): no 331, no PASS.
  const pure = (await model('anonymous-pureftpd.pcap')).a;
  assert.deepEqual([pure.sessions[0]!.login, pure.sessions[0]!.anonymous, pure.sessions[0]!.password], ['success', true, null]);
});

test('lftp-pget-abor.pcap: three parts, two aborted by ABOR (vsftpd: FAIL DOWNLOAD), one complete (OK DOWNLOAD, 174,762 bytes)', async () => {
  const { a } = await model('lftp-pget-abor.pcap');
  assert.equal(a.transfers.length, 3);
  const [first, second, third] = [byRest(a, null), byRest(a, 174764), byRest(a, 349526)];
  // vsftpd logged FAIL 327,680 bytes for the first: all of them are in the capture.
  assert.deepEqual([first.status, first.causeFacts?.kind, first.final, first.bytes, first.expectedBytes], ['aborted', 'client-abor', 426, 327680, 524288]);
  assert.deepEqual([second.status, second.causeFacts?.kind, second.final, second.expectedBytes], ['aborted', 'client-abor', 426, 349524]);
  // The last part had everything, its data connection closed, then the 226: vsftpd's log has '226 Transfer
  // complete.' for the RETR, then '225 No transfer to ABOR.', which never reached the wire.
  assert.deepEqual([third.status, third.final, third.bytes, third.expectedBytes], ['complete', 226, 174762, 174762]);
  for (const t of [first, second]) assert.ok(t.abortedAt !== null, `T${t.id}: the ABOR's frame`);
  const s = a.sessions.find((x) => x.id === third.session)!;
  const abor = s.exchanges.find((e) => e.command === 'ABOR')!;
  assert.deepEqual(abor.replies, [], 'the one 226 is the RETR\'s; ABOR\'s reply is not in the capture');
  assert.match(s.exchanges.find((e) => e.command === 'RETR')!.note!, /already carried everything and closed/);
  assert.ok(kinds(a).includes('transfer-aborted'));
});

test('curl-max-time-rst.pcap: aborted by the client\'s RST; the 6,744 bytes that came after it are counted and extracted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-rst-'));
  try {
    const { a, manifest } = await model('curl-max-time-rst.pcap', dir);
    const t: Transfer = a.transfers[0]!;
    assert.deepEqual([t.status, t.causeFacts?.kind, t.final], ['aborted', 'client-reset', 426]);
    assert.deepEqual(t.dataEnd, { how: 'rst', by: 'client' });
    // 49,152 bytes reached curl; vsftpd's next 8,192-byte burst crossed the wire too, 6,744 of it after the RST.
    assert.equal(t.bytes, 57344);
    assert.equal(t.afterResetBytes, 6744);
    assert.match(t.cause!, /after 50600 of 524288 bytes \(6744 more, already on their way, came after it\)/);
    const file = readFileSync(join(dir, manifest[0]!.file!));
    assert.equal(file.length, 57344, 'the extracted file holds every byte that crossed the wire');
    assert.equal(createHash('sha256').update(file).digest('hex'), manifest[0]!.sha256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nat-dnat-working.pcap: behind the NAT the working translation is an info finding; before it there is nothing to say', async () => {
  const inside = (await model('nat-dnat-working.pcap')).a;
  assert.ok(inside.transfers.every((t) => t.status === 'complete' && t.rule === 'control-peer'));
  const nat = inside.findings.find((f) => f.kind === 'nat-passive-address')!;
  assert.equal(nat.severity, 'info');
  assert.deepEqual([nat.facts.advertised, nat.facts.server, nat.count], ['10.21.0.100', '10.22.0.2', 2]);
  assert.match(await cli(['-v', 'summary', '--width', '200', join(FIXTURES, 'nat-dnat-working.pcap')]), /nat-passive-address/);
  const outside = (await model('nat-dnat-working-client-side.pcap')).a;
  assert.ok(outside.transfers.every((t) => t.status === 'complete' && t.rule === 'advertised'));
  assert.ok(!kinds(outside).some((k) => k.startsWith('nat') || k === 'unused-prediction'));
});

test('pureftpd-lftp-opts.pcap: Pure-FTPd\'s 504 to OPTS UTF8 ON is OPTS\'s reply; nothing after it shifts', async () => {
  const { a } = await model('pureftpd-lftp-opts.pcap');
  const s = a.sessions[0]!;
  const opts = s.exchanges.filter((e) => e.command === 'OPTS');
  assert.deepEqual(opts.map((e) => [e.argument.split(' ')[0], e.replies.at(-1)?.code]), [['UTF8', 504], ['UTF8', 504], ['MLST', 200]]);
  assert.ok(!s.exchanges.some((e) => e.command === ''), 'no reply kept apart');
  assert.ok(a.transfers.every((t) => t.status === 'complete'));
});

test('port-third-obeyed.pcap and port-third-host.pcap: a bounce obeyed is an alert with its bytes, one refused a notice', async () => {
  const obeyed = (await model('port-third-obeyed.pcap')).a;
  const f = obeyed.findings.find((x) => x.kind === 'third-party')!;
  // The third host's listener logged 271 bytes.
  assert.deepEqual([f.severity, f.facts.outcome, f.facts.bytes, f.facts.address], ['alert', 'connected', 271, '10.21.0.3']);
  const walk = await cli(['-v', 'walkthrough', '--width', '200', join(FIXTURES, 'port-third-obeyed.pcap')]);
  assert.match(walk, /a third host, not the client/);
  const refused = (await model('port-third-host.pcap')).a.findings.find((x) => x.kind === 'third-party')!;
  assert.deepEqual([refused.severity, refused.facts.outcome, refused.facts.code], ['notice', 'refused', 500]);
});

test('STOU on vsftpd and ProFTPD: the path is the name the server gave, and the file is extracted under it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-stou-'));
  try {
    const vsftpd = await model('stou.pcap', dir);
    assert.deepEqual(vsftpd.a.transfers.filter((t) => t.command === 'STOU').map((t) => t.path), ['./upload/STOU.1', './upload/note.txt', './upload/note.txt.1']);
    assert.deepEqual(vsftpd.manifest.map((e) => e.file), ['session-1/upload/STOU.1', 'session-1/upload/note.txt', 'session-1/upload/note.txt.1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const proftpd = (await model('stou-proftpd.pcap')).a;
  assert.deepEqual(proftpd.transfers.filter((t) => t.command === 'STOU').map((t) => t.path), ['./upload/ftpx1Te1i', './upload/ftpuEadJ2', './upload/ftpcpMLxW']);
});

test('list-options.pcap: LIST -a and NLST -la list the working directory; the options are options', async () => {
  const { a } = await model('list-options.pcap');
  const s = a.sessions[0]!;
  const lists = s.exchanges.filter((e) => e.command === 'LIST' || e.command === 'NLST');
  assert.deepEqual(lists.map((e) => [e.command, e.options ?? [], e.path]), [['LIST', [], '.'], ['LIST', ['-a'], '.'], ['NLST', ['-la'], '.']]);
  assert.deepEqual(a.transfers.map((t) => t.path), ['.', '.', '.']);
});

test('resumed transfers: REST + RETR, APPE, REST + STOR carry a part of the file, said and extracted as such', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-resume-'));
  try {
    const download = await model('resume-download.pcap', join(dir, 'd'));
    const d = download.a.transfers[0]!;
    assert.deepEqual([d.status, d.restOffset, d.fileOffset, d.announcedSize, d.expectedBytes, d.bytes], ['complete', 65536, 65536, 102400, 36864, 36864]);
    assert.equal(download.manifest[0]!.file, 'session-1/data-100k.bin.part-65536');
    const appe = await model('resume-upload.pcap', join(dir, 'a'));
    const u = appe.a.transfers[0]!;
    assert.deepEqual([u.command, u.status, u.fileOffset, u.announcedSize, u.bytes], ['APPE', 'complete', 1000, null, 3096]);
    assert.equal(appe.manifest[0]!.appended, true);
    const stor = (await model('resume-upload-rest-stor.pcap')).a.transfers[0]!;
    assert.deepEqual([stor.command, stor.status, stor.restOffset, stor.fileOffset, stor.bytes], ['STOR', 'complete', 1000, 1000, 3096]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ProFTPD and pyftpdlib sessions with lftp: every reply on its command, every transfer complete, active data from any port', async () => {
  for (const name of ['proftpd-session.pcap', 'pyftpdlib-session.pcap']) {
    const { a } = await model(name);
    const s = a.sessions[0]!;
    assert.deepEqual([s.user, s.login, s.anonymous], ['ftpscope', 'success', false], name);
    assert.deepEqual(a.transfers.map((t) => `${t.command} ${t.mode} ${t.status}`), ['LIST passive complete', 'RETR passive complete', 'STOR active complete'], name);
    assert.ok(!s.exchanges.some((e) => e.command === ''), `${name}: no reply kept apart`);
  }
  // pyftpdlib answers OPTS UTF8 ON 530 before the login and 501 after; PORT connects at once, STOR gets 125.
  const py = (await model('pyftpdlib-session.pcap')).a.sessions[0]!;
  assert.deepEqual(py.exchanges.filter((e) => e.command === 'OPTS' && e.argument.startsWith('UTF8')).map((e) => e.replies.at(-1)?.code), [530, 501]);
  assert.equal(py.exchanges.find((e) => e.command === 'STOR')!.replies[0]!.code, 125);
});

test('the captures of issue 14 are all here, each with what its servers and clients logged', () => {
  for (const name of SEMANTICS_CAPTURES) {
    assert.ok(existsSync(join(FIXTURES, name)), name);
    assert.match(readFileSync(join(FIXTURES, 'logs', name.replace(/\.pcap$/, '.txt')), 'utf8'), /## Ground truth/, name);
  }
});
