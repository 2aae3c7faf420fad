/**
 * FTPS with a TLS key log (issue 19), on the real captures of fixtures/make-fixtures.sh (vsftpd with lftp,
 * curl and Python's ftplib; TLS 1.2 and 1.3; explicit and implicit; PROT P and PROT C; behind a NAT):
 * every command and reply ftpscope decrypts is the one tshark decrypts with the same key log (recorded in
 * fixtures/logs/NAME.txt when the fixture was made, and checked again here when tshark is installed), the
 * handshake facts are the ones tshark reports, and without keys or with wrong ones nothing is invented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyseCapture, fixtureKeyLog } from './analysis.js';
import type { FtpAnalysis } from '../src/model/ftp-model.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const FTPS = readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap') && fixtureKeyLog(join(FIXTURES, n)).length > 0).sort();

/** tshark's decrypted dialogue as recorded in the fixture's log: commands (frame, verb) and replies (frame, code). */
function oracle(name: string): { commands: Array<[number, string]>; replies: Array<[number, number]> } {
  const log = readFileSync(join(FIXTURES, 'logs', name.replace(/\.pcap$/, '.txt')), 'utf8');
  const section = log.split('(the oracle)')[1]!.split('\n## ')[0]!;
  const commands: Array<[number, string]> = [];
  const replies: Array<[number, number]> = [];
  for (const line of section.split('\n')) {
    const m = /^\s+(\d+)\s+(\S.*?)?\s*$/.exec(line);
    if (m === null || m[2] === undefined) continue;
    const frame = Number(m[1]);
    if (/^\d{3}$/.test(m[2])) replies.push([frame, Number(m[2])]);
    else if (/^[A-Z]{3,4}\b/.test(m[2])) commands.push([frame, m[2].split(/\s+/)[0]!]);
  }
  return { commands, replies };
}

async function analyse(name: string, keys: string[] | null): Promise<FtpAnalysis> {
  const path = join(FIXTURES, name);
  const { ftp } = await analyseCapture(path, path, { tlsKeylog: keys ?? fixtureKeyLog(path) });
  return ftp.result();
}

test('the FTPS fixtures are there, each with its key log', () => {
  assert.ok(FTPS.length >= 7, FTPS.join(', '));
});

for (const name of FTPS) {
  test(`${name}: every command and reply decrypted is the one tshark decrypts with the same key log`, async () => {
    const a = await analyse(name, null);
    const s = a.sessions[0]!;
    assert.equal(s.tls?.handshake?.keys, 'decrypting', `${name}: ${JSON.stringify(s.tls)}`);
    const want = oracle(name);
    const commands = s.exchanges.filter((e) => e.request !== null).map((e) => [(e.textAt ?? e.request!).frame, e.command] as [number, string]);
    assert.deepEqual(commands, want.commands);
    // tshark marks a multi-line reply's first and last line; ftpscope has one reply with its lines' frames.
    const ours = s.exchanges.flatMap((e) => e.replies.map((r) => ({ code: r.code, frames: new Set([r.start.frame, r.end.frame, ...(r.lineFrames ?? [])]) })));
    for (const [frame, code] of want.replies) assert.ok(ours.some((r) => r.code === code && r.frames.has(frame)), `${name}: tshark's ${code} in frame ${frame}`);
    for (const r of ours) assert.ok(want.replies.some(([f, c]) => c === r.code && r.frames.has(f)), `${name}: our ${r.code} in frames ${[...r.frames].join(', ')} is not tshark's`);
    // A password sent inside TLS is no cleartext credential.
    assert.ok(!a.findings.some((f) => f.kind === 'cleartext-credentials'), `${name}: a cleartext-credentials finding`);
  });
}

test('ftps-nat-pasv.pcap: the decrypted 227 shows the private address the client could not reach, as in clear', async () => {
  const a = await analyse('ftps-nat-pasv.pcap', null);
  const f = a.findings.find((x) => x.kind === 'data-connection-unanswered');
  assert.ok(f, a.findings.map((x) => x.kind).join(', '));
  assert.match(f.message, /10\.22\.0\.2/);
});

test('without the key log: the handshake is told (version, suite, SNI), the commands are not invented', async () => {
  for (const name of FTPS) {
    const a = await analyse(name, []);
    const s = a.sessions[0]!;
    assert.equal(s.tls?.handshake?.keys, 'no key log', name);
    assert.match(s.tls!.handshake!.version, /^TLS 1\.[23]$/, name);
    const log = readFileSync(join(FIXTURES, 'logs', name.replace(/\.pcap$/, '.txt')), 'utf8');
    assert.ok(log.includes(s.tls!.handshake!.suite.replace(/^TLS_/, '')) || log.includes(s.tls!.handshake!.suite), `${name}: suite ${s.tls!.handshake!.suite} not in its log`);
    const after = s.exchanges.filter((e) => e.request !== null && e.request.frame > s.tls!.frame);
    assert.deepEqual(after.map((e) => e.command), [], `${name}: commands after the TLS began`);
    assert.ok(a.findings.some((f) => f.kind === 'tls' && /cannot be seen/.test(f.message)), name);
    // The FTPS-behind-NAT failure, reasoned without the 227: only where the client tried another host, unanswered.
    const nat = a.findings.filter((f) => f.kind === 'ftps-nat');
    if (name === 'ftps-nat-pasv.pcap') {
      assert.equal(nat.length, 1, a.findings.map((f) => f.kind).join(', '));
      assert.match(nat[0]!.message, /10\.22\.0\.2:50000.*pasv_address/);
    } else assert.deepEqual(nat, [], name);
  }
});

test('with the wrong secrets: records that fail authentication are reported, nothing is made up, nothing crashes', async () => {
  const name = 'ftps-lftp-vsftpd.pcap';
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-ftps-'));
  try {
    const keys = fixtureKeyLog(join(FIXTURES, name))[0]!;
    // Every secret with its last hex digit changed: the lines match the connections, the keys are wrong.
    const wrong = readFileSync(keys, 'latin1').replace(/([0-9a-f])$/gm, (d) => (d === '0' ? '1' : '0'));
    const bad = join(dir, 'wrong.keys');
    writeFileSync(bad, wrong);
    const a = await analyse(name, [bad]);
    const s = a.sessions[0]!;
    assert.equal(s.tls?.handshake?.keys, 'decrypting');
    assert.ok(a.findings.some((f) => f.kind === 'tls-problem' && /could not be opened/.test(f.message)));
    assert.deepEqual(s.exchanges.filter((e) => e.request !== null && e.request.frame > s.tls!.frame).map((e) => e.command), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark, run now, decrypts the same commands as ftpscope (AUTH TLS captures)', async (t) => {
  let checked = 0;
  for (const name of FTPS) {
    const keys = fixtureKeyLog(join(FIXTURES, name))[0]!;
    let out: string;
    try {
      out = execFileSync('tshark', ['-r', join(FIXTURES, name), '-o', `tls.keylog_file:${keys}`, '-Y', 'ftp.request == 1', '-T', 'fields', '-e', 'frame.number', '-e', 'ftp.request.command'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return t.skip('tshark is not installed (apt-get install tshark): the recorded oracle in fixtures/logs was checked instead');
    }
    const theirs = out.split('\n').filter(Boolean).map((l) => l.split('\t')).map(([f, c]) => [Number(f), c!] as [number, string]);
    const s = (await analyse(name, null)).sessions[0]!;
    // tshark follows AUTH TLS only (not curl's AUTH SSL, nor port 990): there it stops at the AUTH.
    if (!theirs.some(([, c]) => c === 'USER')) continue;
    const ours = s.exchanges.filter((e) => e.request !== null).map((e) => [(e.textAt ?? e.request!).frame, e.command] as [number, string]);
    assert.deepEqual(ours, theirs, name);
    checked++;
  }
  assert.ok(checked >= 4, `${checked} captures compared`);
});

test('without keys, a TLS 1.2 server certificate is read in clear: subject and validity as curl reported them', async () => {
  const name = 'ftps-curl-tls12.pcap';
  const log = readFileSync(join(FIXTURES, 'logs', name.replace(/\.pcap$/, '.txt')), 'utf8');
  const said = (field: string) => new RegExp(`\\*\\s+${field}: (.+)`).exec(log)![1]!.trim();
  const c = (await analyse(name, [])).sessions[0]!.tls!.handshake!.certificate!;
  assert.equal(c.subject, said('subject'));
  assert.equal(c.validFrom, said('start date'));
  assert.equal(c.validTo, said('expire date'));
  // TLS 1.3 encrypts the certificate: without keys it is not known, and not made up.
  assert.equal((await analyse('ftps-lftp-vsftpd.pcap', [])).sessions[0]!.tls!.handshake!.certificate, undefined);
});

/** A classic pcap (Ethernet, IPv4, TCP) with one TCP port changed into another in every packet. */
function movePort(pcap: Buffer, from: number, to: number): Buffer {
  const out = Buffer.from(pcap);
  for (let at = 24; at + 16 <= out.length; ) {
    const caplen = out.readUInt32LE(at + 8);
    const ip = at + 16 + 14;
    const tcp = ip + (out[ip]! & 0x0f) * 4;
    for (const p of [tcp, tcp + 2]) if (out.readUInt16BE(p) === from) out.writeUInt16BE(to, p);
    at += 16 + caplen;
  }
  return out;
}

test('implicit FTPS on another port (--ports) is known by its first bytes, a TLS ClientHello, and decrypted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-ftps-'));
  try {
    const moved = join(dir, 'implicit-2990.pcap');
    writeFileSync(moved, movePort(readFileSync(join(FIXTURES, 'ftps-implicit-990.pcap')), 990, 2990));
    const { ftp } = await analyseCapture(moved, moved, { ports: [2990], tlsKeylog: fixtureKeyLog(join(FIXTURES, 'ftps-implicit-990.pcap')) });
    const a = ftp.result();
    assert.equal(a.sessions[0]?.tls?.command, 'implicit TLS (port 2990)');
    assert.deepEqual(a.transfers.map((t) => `${t.command} ${t.path} ${t.status} ${t.bytes}`), ['LIST / complete 271', 'RETR /hello.txt complete 142']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without keys, a TLS 1.2 data connection that resumes the control connection\'s TLS session is said to be that session\'s, with the evidence', async () => {
  const said = async (name: string) => (await analyse(name, [])).findings.filter((f) => f.kind === 'unpredicted-connection').map((f) => (f.facts as { resumes?: string | null }).resumes ?? null);
  // ftplib resumes with the ticket the control connection's server issued; curl with its session id (fixtures/logs).
  assert.deepEqual(await said('ftps-tls12-gcm.pcap'), ['ticket']);
  assert.deepEqual(await said('ftps-curl-tls12.pcap'), ['session id']);
  // TLS 1.3 tickets are sent encrypted: without keys the evidence is time and hosts alone, and the finding says "probably".
  const tls13 = (await analyse('ftps-lftp-vsftpd.pcap', [])).findings.filter((f) => f.kind === 'unpredicted-connection');
  assert.ok(tls13.length > 0 && tls13.every((f) => /probably/.test(f.message)));
});
