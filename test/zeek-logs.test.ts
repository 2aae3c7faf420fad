/**
 * Zeek's logs (issue 18, item 6): `--format zeek` writes ftp.log on stdout and `--zeek-dir DIR` writes
 * ftp.log, conn.log and files.log, each with Zeek's header contract, uids in Zeek's form, and rows that
 * agree with Zeek's own expected logs in ../shared/conformance field by field. The logs are read with a
 * reader of our own written from Zeek's documentation (test/support/zeek-log.ts): zeek-cut is not packaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { keyLogArgs } from './analysis.js';
import { collect } from './cli-io.js';
import { listCaptures } from './support/captures.js';
import { readBaseline, readZeekLog, type ZeekLogFile } from './support/zeek-log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = listCaptures(join(ROOT, 'fixtures'));
const ZEEK = fileURLToPath(new URL('../../../shared/conformance/zeek/', import.meta.url));
const SKIP = '../shared/conformance/zeek not found: the comparison with Zeek is skipped';
const LOGS = ['ftp', 'conn', 'files'] as const;

type Logs = Record<(typeof LOGS)[number], ZeekLogFile>;

/** Runs `ftpscope --zeek-dir` on a capture in-process; the three logs, read and checked. */
async function zeekDir(capture: string, extra: string[] = []): Promise<Logs> {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-zeek-'));
  try {
    const c = collect();
    const code = await main(['--zeek-dir', dir, ...extra, capture], c.io);
    assert.ok(code === 0 || code === 1, `exit ${code}: ${c.stderr()}`);
    assert.equal(c.stdout(), '', '--zeek-dir writes nothing on stdout');
    return Object.fromEntries(LOGS.map((l) => [l, readZeekLog(readFileSync(join(dir, `${l}.log`), 'utf8'))])) as Logs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every fixture: the three logs keep Zeek\'s header contract, and their ids cross-reference', async () => {
  assert.ok(FIXTURES.length > 20);
  for (const capture of FIXTURES) {
    const logs = await zeekDir(capture);
    for (const l of LOGS) assert.equal(logs[l].path, l, capture);
    const conns = new Map(logs.conn.rows.map((r) => [r.uid!, r]));
    assert.equal(conns.size, logs.conn.rows.length, `${capture}: a uid names two connections`);
    for (const uid of conns.keys()) assert.match(uid, /^C[0-9A-Za-z]{17}$/);
    const files = new Set(logs.files.rows.map((r) => r.fuid!));
    assert.equal(files.size, logs.files.rows.length, `${capture}: a fuid names two files`);
    for (const r of logs.ftp.rows) {
      assert.equal(conns.get(r.uid!)?.service?.split(',')[0], 'ftp', `${capture}: ftp.log's uid ${r.uid} is not an FTP control connection of conn.log`);
      if (r.fuid !== '-') assert.ok(files.has(r.fuid!), `${capture}: ftp.log's fuid ${r.fuid} is not in files.log`);
    }
    for (const r of logs.files.rows) {
      const conn = conns.get(r.uid!);
      assert.equal(conn?.service?.split(',')[0], 'ftp-data', `${capture}: files.log's uid ${r.uid} is not a data connection of conn.log`);
      assert.deepEqual([r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p']], [conn['id.orig_h'], conn['id.orig_p'], conn['id.resp_h'], conn['id.resp_p']]);
    }
  }
});

test('uids are the same in every run over the same capture, and differ between connections of different captures', async () => {
  const capture = join(ROOT, 'fixtures/multi-session.pcap');
  const [a, b] = [await zeekDir(capture), await zeekDir(capture)];
  assert.deepEqual(a.conn.rows.map((r) => r.uid), b.conn.rows.map((r) => r.uid));
  assert.deepEqual(a.files.rows.map((r) => r.fuid), b.files.rows.map((r) => r.fuid));
  const seen = new Map<string, string>();
  for (const capture of FIXTURES) {
    for (const r of (await zeekDir(capture)).conn.rows) {
      const other = seen.get(r.uid!);
      assert.equal(other, undefined, `${r.uid} names a connection of ${capture} and of ${other}`);
      seen.set(r.uid!, capture);
    }
  }
});

test('files.log hashes every transferred file as the servers stored it (fixtures/files.sha256)', async (t) => {
  const expected = readFileSync(join(ROOT, 'fixtures/files.sha256'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(expected.length > 20);
  let checked = 0;
  const byCapture = new Map<string, Array<[string, string]>>();
  for (const l of expected) {
    const [capture, path, sha256] = l.split(' ') as [string, string, string];
    byCapture.set(capture, [...(byCapture.get(capture) ?? []), [path, sha256]]);
  }
  let encrypted = 0;
  for (const [capture, files] of byCapture) {
    // An FTPS capture with its key log: its files are hashed as in clear.
    const keys = keyLogArgs(join(ROOT, 'fixtures', capture));
    const logs = await zeekDir(join(ROOT, 'fixtures', capture), keys);
    if (keys.length === 0 && logs.conn.rows.some((r) => r.service === 'ftp,ssl')) {
      // AUTH TLS without keys: the commands are encrypted, so no transfer is known; its files are not hashed.
      t.diagnostic(`${capture}: the control connection is TLS: ${files.length} file(s) not compared`);
      encrypted += files.length;
      continue;
    }
    for (const [path, sha256] of files) {
      const rows = logs.files.rows.filter((r) => r.filename!.endsWith(path.slice(path.lastIndexOf('/'))) && r.missing_bytes === '0');
      assert.ok(rows.length > 0, `${capture}: no whole file ${path} in files.log`);
      assert.ok(rows.some((r) => r.sha256 === sha256), `${capture}: ${path}: ${rows.map((r) => r.sha256).join(', ')}, expected ${sha256}`);
      checked++;
    }
  }
  assert.equal(checked + encrypted, expected.length);
  assert.ok(checked >= expected.length - 2, `${checked} of ${expected.length} compared`);
});

test('a file with bytes missing gets no hash (as Zeek), but its sizes', { skip: existsSync(ZEEK) ? false : SKIP }, async () => {
  const logs = await zeekDir(join(ZEEK, 'core.tcp.large-file-reassembly/bigtransfer.pcap'));
  const lossy = logs.files.rows.filter((r) => r.missing_bytes !== '0');
  assert.equal(lossy.length, 1, 'bigtransfer.pcap has one transfer with bytes missing');
  assert.deepEqual([lossy[0]!.md5, lossy[0]!.sha1, lossy[0]!.sha256, lossy[0]!.analyzers], ['-', '-', '-', '(empty)']);
  assert.deepEqual([lossy[0]!.seen_bytes, lossy[0]!.missing_bytes], ['23822', '5416642848']);
  const whole = logs.files.rows.find((r) => r.missing_bytes === '0')!;
  assert.match(whole.sha256!, /^[0-9a-f]{64}$/);
});

test('--format zeek on stdout: ftp.log alone, with the same contract; --zeek-dir refuses another format and a symbolic link', async () => {
  const c = collect();
  assert.equal(await main(['--format', 'zeek', join(ROOT, 'fixtures/passive-retr.pcap')], c.io), 0);
  const log = readZeekLog(c.stdout());
  assert.equal(log.path, 'ftp');
  assert.ok(log.rows.some((r) => r.command === 'RETR'));

  const bad = collect();
  assert.equal(await main(['--format', 'json', '--zeek-dir', tmpdir(), join(ROOT, 'fixtures/passive-retr.pcap')], bad.io), 2);
  assert.match(bad.stderr(), /--zeek-dir writes Zeek logs: it goes with --format zeek, not json/);

  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-zeek-'));
  const outside = join(dir, 'outside');
  writeFileSync(outside, 'untouched');
  symlinkSync(outside, join(dir, 'conn.log'));
  try {
    const l = collect();
    assert.equal(await main(['--zeek-dir', dir, join(ROOT, 'fixtures/passive-retr.pcap')], l.io), 1);
    assert.match(l.stderr(), /--zeek-dir: could not write .*conn\.log: is a symbolic link/);
    assert.equal(readFileSync(outside, 'utf8'), 'untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Against Zeek's own expected logs
// ---------------------------------------------------------------------------

/**
 * Columns ftpscope leaves or fills otherwise than Zeek, each for a reason:
 * local_orig and local_resp say whether an address is in Site::local_nets, which Zeek's tests configure
 * and ftpscope is never told: unset.
 */
const CONN_NOT_COMPARED = new Set(['ts', 'uid', 'local_orig', 'local_resp']);

/**
 * Rows whose columns differ for a known reason, by folder and tuple, with the columns and why.
 * Anything else that differs fails the test.
 */
const CONN_KNOWN: Record<string, { columns: string[]; why: string }> = {
  // Zeek's FTP analyzer drops the service when the server breaks the protocol; ftpscope still follows it as FTP.
  'scripts.base.protocols.ftp.ftp-invalid-reply-code': { columns: ['service'], why: 'Zeek drops "ftp" after a protocol violation (reply 99)' },
  'scripts.base.protocols.ftp.ftp-missing-reply-code': { columns: ['service'], why: 'Zeek drops "ftp" after a protocol violation (no reply code)' },
  'scripts.base.protocols.ftp.ftp-missing-space-after-reply-code': { columns: ['service'], why: 'Zeek drops "ftp" after a protocol violation (230_no_space)' },
  // X: Zeek's history letter for an analyzer's protocol violation, an FTP judgement not a TCP one.
  'scripts.base.protocols.ftp.ftp-max-command-length': { columns: ['history'], why: "Zeek's X (its FTP analyzer's violation) is not a TCP letter" },
  // Zeek names GridFTP and the TLS it finds inside GSSAPI by content; its scripts stop following the data channel once recognised.
  'scripts.base.protocols.ftp.gridftp': {
    columns: ['service', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes'],
    why: 'Zeek names gridftp and ssl by content, and stops following the data channel (S1) once it recognised it',
  },
};

const folders = existsSync(ZEEK) ? readdirSync(ZEEK).filter((d) => existsSync(join(ZEEK, d, 'conn.log'))) : [];

test('Zeek conformance captures are there to compare with', { skip: existsSync(ZEEK) ? false : SKIP }, () => {
  assert.equal(folders.length, 13, `conn.log baselines: ${folders.join(', ')}`);
});

for (const folder of folders) {
  test(`${folder}: conn.log agrees with Zeek's field by field`, async (t) => {
    const capture = readdirSync(join(ZEEK, folder)).find((f) => /\.pcap(\.gz)?$/.test(f))!;
    const ours = await zeekDir(join(ZEEK, folder, capture));
    const theirs = readBaseline(readFileSync(join(ZEEK, folder, 'conn.log'), 'utf8'));
    assert.deepEqual(ours.conn.fields, theirs.fields, "conn.log's columns are Zeek's");
    assert.deepEqual(ours.conn.types, theirs.types, "conn.log's types are Zeek's");
    const known = CONN_KNOWN[folder];
    for (const z of theirs.rows.filter((r) => r.proto === 'tcp')) {
      const tuple = `${z['id.orig_h']}:${z['id.orig_p']} -> ${z['id.resp_h']}:${z['id.resp_p']}`;
      const o = ours.conn.rows.find((r) => ['id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p'].every((k) => r[k] === z[k]));
      assert.ok(o !== undefined, `${tuple}: not in ftpscope's conn.log`);
      const differ = theirs.fields.filter((f) => !CONN_NOT_COMPARED.has(f) && o[f] !== z[f]);
      const unexplained = differ.filter((f) => !(known?.columns.includes(f) ?? false));
      assert.deepEqual(unexplained.map((f) => `${f}: Zeek ${z[f]}, ftpscope ${o[f]}`), [], tuple);
      if (differ.length > 0) t.diagnostic(`${tuple}: ${differ.map((f) => `${f} (Zeek ${z[f]}, ftpscope ${o[f]})`).join(', ')}: ${known!.why}`);
    }
  });
}

test("ftp.log and files.log have Zeek's columns and types", { skip: existsSync(ZEEK) ? false : SKIP }, async () => {
  const ours = await zeekDir(join(ZEEK, 'core.tcp.large-file-reassembly/bigtransfer.pcap'));
  for (const [log, folder] of [['ftp', 'scripts.base.protocols.ftp.ftp-ipv4'], ['files', 'core.tcp.large-file-reassembly']] as const) {
    const theirs = readBaseline(readFileSync(join(ZEEK, folder, `${log}.log`), 'utf8'));
    assert.deepEqual([ours[log].fields, ours[log].types], [theirs.fields, theirs.types], log);
  }
});

test("files.log agrees with Zeek's on the large transfer with 5 GB of gaps, field by field", { skip: existsSync(ZEEK) ? false : SKIP }, async (t) => {
  const folder = join(ZEEK, 'core.tcp.large-file-reassembly');
  const ours = await zeekDir(join(folder, 'bigtransfer.pcap'));
  const theirs = readBaseline(readFileSync(join(folder, 'files.log'), 'utf8'));
  // Not compared: ts, fuid, uid (ids); analyzers (Zeek's test adds DATA_EVENT; ftpscope lists its hashes);
  // filename and total_bytes (Zeek leaves them unset for FTP; ftpscope gives the path and the announced size);
  // local_orig (local networks are not known); duration of a file with gaps (Zeek counts the moment a gap
  // is declared as activity, ftpscope the last data).
  const skip = new Set(['ts', 'fuid', 'uid', 'analyzers', 'filename', 'total_bytes', 'local_orig', 'md5', 'sha1', 'sha256']);
  assert.equal(ours.files.rows.length, theirs.rows.length);
  for (const z of theirs.rows) {
    const o = ours.files.rows.find((r) => r['id.orig_p'] === z['id.orig_p'] && r['id.resp_p'] === z['id.resp_p'])!;
    assert.ok(o !== undefined, `no file on ${z['id.orig_p']} -> ${z['id.resp_p']}`);
    const fields = theirs.fields.filter((f) => !skip.has(f) && !(f === 'duration' && z.missing_bytes !== '0'));
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f, o[f]])), Object.fromEntries(fields.map((f) => [f, z[f]])));
    t.diagnostic(`${z['id.resp_p']}: filename ${o.filename}, total_bytes ${o.total_bytes}, duration ${o.duration} (Zeek ${z.duration})`);
  }
});

test("files.log's hashes and MIME type of retr.pcap's README are Zeek's", { skip: existsSync(ZEEK) ? false : SKIP }, async () => {
  const folder = join(ZEEK, 'scripts.base.frameworks.file-analysis.ftp');
  const out = readFileSync(join(folder, 'out'), 'utf8');
  const expected = {
    mime_type: /^MIME_TYPE\n(.+)$/m.exec(out)![1],
    md5: /^MD5: (\w+)$/m.exec(out)![1],
    sha1: /^SHA1: (\w+)$/m.exec(out)![1],
    sha256: /^SHA256: (\w+)$/m.exec(out)![1],
    seen_bytes: '16557',
  };
  const [file] = (await zeekDir(join(folder, 'retr.pcap'))).files.rows;
  assert.deepEqual({ mime_type: file!.mime_type, md5: file!.md5, sha1: file!.sha1, sha256: file!.sha256, seen_bytes: file!.seen_bytes }, expected);
});
