/**
 * One masking of passwords (Masker, src/ftp/policy.ts) for every output: with the defaults, a password sent
 * in a real capture appears in no view, no format and no finding; with --show-passwords it does. And the
 * findings catalogue (src/ftp/findings.ts) says every kind in both languages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { describeFinding, FINDING_KINDS } from '../src/ftp/findings.js';
import { collect } from './cli-io.js';
import { TcpConversation, framesToPcap } from './support/capture-writer.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
/** Each capture, with the passwords its sessions sent (make-fixtures.sh). */
const CAPTURES: Array<[string, string]> = [['failed-login.pcap', 'wrong-pass'], ['active-ls-pwd.pcap', 'fixture-pass'], ['bruteforce-logins.pcap', 'wrong-7']];

const OUTPUTS = [
  [], ['-v', 'walkthrough'], ['-v', 'walkthrough', '--lang', 'zh'], ['-v', 'ladder'], ['-v', 'packets'], ['-v', 'summary'],
  ['-v', 'timeline', '-v', 'summary', '--session', '1'], ['--format', 'json'], ['--format', 'ndjson'], ['--format', 'zeek'],
];

async function run(args: string[], input?: Buffer): Promise<string> {
  const io = collect(input);
  assert.equal(await main(args, io.io), 0, io.stderr());
  return io.stdout() + io.stderr();
}

test('a password is in no output unless --show-passwords, and in the JSON model and the findings with it', async () => {
  for (const [name, password] of CAPTURES) {
    const path = FIXTURES + name;
    for (const args of OUTPUTS) {
      const out = await run([...args, path]);
      assert.ok(!out.includes(password), `${name} ${args.join(' ')}: the password "${password}" is shown`);
    }
    const shown = JSON.parse(await run(['--format', 'json', '--show-passwords', path])) as { sessions: Array<{ loginAttempts: Array<{ password: string }> }>; findings: Array<{ kind: string; message: string }> };
    assert.ok(shown.sessions.some((s) => s.loginAttempts.some((l) => l.password === password)), `${name}: --show-passwords shows it in the model`);
    const credentials = shown.findings.filter((f) => f.kind === 'cleartext-credentials');
    assert.ok(credentials.length > 0 && credentials.every((f) => !f.message.includes('--show-passwords shows it')), `${name}: the finding names the password`);
  }
});

/** A synthetic capture of one control dialogue: lines alternate client, server, client, ... */
function dialogue(lines: string[]): Buffer {
  const c = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } }).handshake().send(false, '220 hi\r\n');
  lines.forEach((l, i) => c.send(i % 2 === 0, `${l}\r\n`));
  return framesToPcap(c.close().frames, 'ethernet');
}

test('a local account named like a guest (vsftpd, user ftpuser): its password is in no output, its findings say cleartext', async () => {
  const capture = dialogue(['USER ftpuser', '331 Please specify the password.', 'PASS Real-Secret-9', '230 Login successful.', 'MKD new', '257 "/home/ftpuser/new" created', 'DELE old', '250 Delete operation successful.']);
  for (const args of OUTPUTS) {
    const out = await run([...args, '-'], capture);
    assert.ok(!out.includes('Real-Secret-9'), `${args.join(' ')}: the password of the real account ftpuser is shown`);
  }
  const json = JSON.parse(await run(['--format', 'json', '-'], capture)) as { sessions: Array<{ anonymous: boolean; anonymousBy: string | null }>; findings: Array<{ kind: string }> };
  assert.deepEqual([json.sessions[0]!.anonymous, json.sessions[0]!.anonymousBy], [false, null]);
  assert.deepEqual(json.findings.map((f) => f.kind), ['cleartext-credentials']);
});

test('an anonymous login\'s e-mail password is shown in every output that shows passwords, by the evidence that decided', async () => {
  // wu-ftpd's words for a user name it maps to the anonymous account: the 331 asks for an e-mail address.
  const capture = dialogue(['USER ftpuser', '331 Guest login ok, send your complete e-mail address as password.', 'PASS me@example.org', '230 Guest login ok, access restrictions apply.', 'RETR x', '550 No such file.']);
  for (const args of [['--format', 'json'], ['--format', 'ndjson'], ['--format', 'zeek']]) {
    assert.ok((await run([...args, '-'], capture)).includes('me@example.org'), `${args.join(' ')}: the anonymous password is hidden`);
  }
  const json = JSON.parse(await run(['--format', 'json', '-'], capture)) as { sessions: Array<{ anonymousBy: string | null; loginAttempts: Array<{ anonymousBy: string | null }> }> };
  assert.equal(json.sessions[0]!.anonymousBy, 'server-331');
  assert.equal(json.sessions[0]!.loginAttempts[0]!.anonymousBy, 'server-331');
});

test('streamed events: the PASS told before its 230 is hidden unless the user name or the 331 so far says anonymous', async () => {
  type Line = { type: string; event?: { kind: string }; exchange?: { command: string; argument: string } | null };
  const passEvents = async (lines: string[]) => (await run(['--format', 'ndjson', '-'], dialogue(lines))).trim().split('\n').map((l) => JSON.parse(l) as Line)
    .filter((e) => e.type === 'timeline' && e.exchange?.command === 'PASS').map((e) => `${e.event!.kind} ${e.exchange!.argument}`);
  // Only the 230 says guest (Pure-FTPd's words): the PASS is hidden when told, shown once the 230 says so.
  assert.deepEqual(await passEvents(['USER ftpuser', '331 User ftpuser OK. Password required', 'PASS a@b.c', '230 Anonymous user logged in']), ['command <hidden>', 'reply a@b.c']);
  // ProFTPD's 331 for an anonymous login asks for the e-mail address: shown at once.
  assert.deepEqual(await passEvents(['USER guest', '331 Anonymous login ok, send your complete email address as your password', 'PASS a@b.c', '230 Anonymous access granted, restrictions apply']), ['command a@b.c', 'reply a@b.c']);
  // vsftpd says the same to every user: only the name decides.
  assert.deepEqual(await passEvents(['USER ftp', '331 Please specify the password.', 'PASS a@b.c', '230 Login successful.']), ['command a@b.c', 'reply a@b.c']);
  assert.deepEqual(await passEvents(['USER ftpuser', '331 Please specify the password.', 'PASS s3cret', '230 Login successful.']), ['command <hidden>', 'reply <hidden>']);
});

test('the findings catalogue says every kind in English and in Chinese', () => {
  const facts: Record<string, Record<string, unknown>> = {
    'transfer-failed': { command: 'RETR', path: '/a', transfers: 2, cause: 'x', causeZh: '原因' },
    'data-connection-refused': { connector: 'server', address: '10.0.0.1', port: 2000, source: 'PORT', setupFrame: 9, tries: 1, why: 'active', server: '10.0.0.2' },
    'memory-budget': { limitMiB: 512, halfOpen: 10, idle: 1, exchanges: 5, predictions: 0, events: 2, packets: 0 },
    tls: { command: 'AUTH TLS', decrypted: null, why: 'no matching line', version: 'TLS 1.3', suite: 'TLS_AES_128_GCM_SHA256' },
    'tls-problem': { connection: 'data', from: 'server', why: 'a record could not be opened: bad record MAC' },
    'protected-data': { keyLog: true },
    'ftps-nat': { client: '10.21.0.1', address: '10.22.0.2', port: 50000, server: '10.21.0.100', syns: 3, tls: 'AUTH TLS' },
    'capture-loss': { lost: 3, shed: 2, transfers: [4, 5] },
  };
  for (const kind of FINDING_KINDS) {
    // Facts shaped for the kind where its words need them; any object for the rest (missing facts read as undefined).
    const f = facts[kind] ?? facts[kind.startsWith('transfer-') ? 'transfer-failed' : kind.startsWith('data-connection') ? 'data-connection-refused' : ''] ?? {
      user: 'u', password: null, success: true, changes: ['STOR /x'], more: 0, uploads: 1, nat: null, count: 1, scope: 'all', limit: 1, source: 'PORT', reason: 'r',
      verb: 'MIC', bytes: 1, line: 'x', code: null, ended: true, command: 'AUTH TLS', argument: 'x', oldest: 'NOOP', port: 21, protocol: 'SSH', address: '1.2.3.4',
      client: '1.2.3.5', server: '1.2.3.6', failures: 20, spanSec: 3, threshold: 20, windowSec: 1800, upload: true, path: '/x', offset: 0, commands: true,
      clientPort: 1, serverPort: 2, encryptedSession: null, outcome: 'connected', advertised: '1.2.3.7',
      connections: 3, unanswered: 1, refused: 1, silent: 1, servers: ['1.2.3.6'], moreServers: 0,
    };
    const d = describeFinding(kind, f as never);
    assert.ok(['info', 'notice', 'warning', 'alert'].includes(d.severity), kind);
    assert.ok(d.message.length > 10 && !d.message.includes('undefined'), `${kind}: ${d.message}`);
    assert.match(d.messageZh, /[\u4e00-\u9fff]/, `${kind}: no Chinese words: ${d.messageZh}`);
    assert.ok(!d.messageZh.includes('undefined'), `${kind}: ${d.messageZh}`);
  }
});
