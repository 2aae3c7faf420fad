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

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
/** Each capture, with the passwords its sessions sent (make-fixtures.sh). */
const CAPTURES: Array<[string, string]> = [['failed-login.pcap', 'wrong-pass'], ['active-ls-pwd.pcap', 'fixture-pass'], ['bruteforce-logins.pcap', 'wrong-7']];

const OUTPUTS = [
  [], ['-v', 'walkthrough'], ['-v', 'walkthrough', '--lang', 'zh'], ['-v', 'ladder'], ['-v', 'packets'], ['-v', 'summary'],
  ['-v', 'timeline', '-v', 'summary', '--session', '1'], ['--format', 'json'], ['--format', 'ndjson'], ['--format', 'zeek'],
];

async function run(args: string[]): Promise<string> {
  const io = collect();
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

test('the findings catalogue says every kind in English and in Chinese', () => {
  const facts: Record<string, Record<string, unknown>> = {
    'transfer-failed': { command: 'RETR', path: '/a', transfers: 2, cause: 'x', causeZh: '原因' },
    'data-connection-refused': { connector: 'server', address: '10.0.0.1', port: 2000, source: 'PORT', setupFrame: 9, tries: 1, why: 'active', server: '10.0.0.2' },
  };
  for (const kind of FINDING_KINDS) {
    // Facts shaped for the kind where its words need them; any object for the rest (missing facts read as undefined).
    const f = facts[kind] ?? facts[kind.startsWith('transfer-') ? 'transfer-failed' : kind.startsWith('data-connection') ? 'data-connection-refused' : ''] ?? {
      user: 'u', password: null, success: true, changes: ['STOR /x'], more: 0, uploads: 1, nat: null, count: 1, scope: 'all', limit: 1, source: 'PORT', reason: 'r',
      verb: 'MIC', bytes: 1, line: 'x', code: null, ended: true, command: 'AUTH TLS', argument: 'x', oldest: 'NOOP', port: 21, protocol: 'SSH', address: '1.2.3.4',
      client: '1.2.3.5', server: '1.2.3.6', failures: 20, spanSec: 3, threshold: 20, windowSec: 1800, upload: true, path: '/x', offset: 0, commands: true,
      clientPort: 1, serverPort: 2, encryptedSession: null, outcome: 'connected', advertised: '1.2.3.7',
    };
    const d = describeFinding(kind, f as never);
    assert.ok(['info', 'notice', 'warning', 'alert'].includes(d.severity), kind);
    assert.ok(d.message.length > 10 && !d.message.includes('undefined'), `${kind}: ${d.message}`);
    assert.match(d.messageZh, /[\u4e00-\u9fff]/, `${kind}: no Chinese words: ${d.messageZh}`);
    assert.ok(!d.messageZh.includes('undefined'), `${kind}: ${d.messageZh}`);
  }
});
