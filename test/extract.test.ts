/**
 * --extract: every transferred file written under DIR, streamed, with its hashes, holes and result; never
 * outside DIR, whatever names the capture carries; never over an existing file; never through a link.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { main } from '../src/cli/main.js';
import { setSummaryLimits } from '../src/render/summary.js';
import { displayWidth } from '../src/render/text.js';
import { fileURLToPath } from 'node:url';
import { analyseCapture, fixtureKeyLog } from './analysis.js';
import type { ManifestEntry } from '../src/model/ftp-model.js';
import { safeComponents } from '../src/output/extract.js';
import { TcpConversation, framesToPcap, type Endpoint, type Frame } from './support/capture-writer.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const CONFORMANCE = fileURLToPath(new URL('../../../shared/conformance/zeek/', import.meta.url));

async function extract(source: string | Buffer, dir: string, listings = false): Promise<ManifestEntry[]> {
  const stream = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  // An FTPS fixture with its key log (see fixtureKeyLog): its protected files are extracted as in clear.
  const keys = typeof source === 'string' ? fixtureKeyLog(source) : [];
  const { ftp } = await analyseCapture('capture', stream, { extract: dir, extractListings: listings, ...(keys.length > 0 ? { tlsKeylog: keys } : {}) });
  ftp.result();
  const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(text) as ManifestEntry[];
  // Written an entry at a time, it is what JSON.stringify writes of the whole list.
  assert.equal(text, `${JSON.stringify(manifest, null, 2)}\n`);
  assert.deepEqual(manifest, [...ftp.manifest!.entries()]);
  assert.equal(ftp.manifest!.count, manifest.length);
  ftp.closeManifest();
  return manifest;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A folder of its own for a test, removed when the file's tests are done. */
const made: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-extract-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Every file under a folder, as paths relative to it. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return lstatSync(p).isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

const recorded = readFileSync(join(FIXTURES, 'files.sha256'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => l.trim().split(/\s+/) as [string, string, string]);

for (const [capture, path, hash] of recorded) {
  test(`${capture}: ${path} is extracted byte for byte (or, over TLS, said not to be)`, async () => {
    const dir = fresh();
    const entries = await extract(join(FIXTURES, capture), dir);
    if (capture === 'auth-tls.pcap') {
      // The commands are encrypted: no transfer is known, so nothing can be written, and nothing is.
      assert.deepEqual(walk(dir), ['manifest.json']);
      return;
    }
    const e = entries.find((x) => x.path === path || x.path === `.${path}`);
    assert.ok(e, `no entry for ${path}: ${JSON.stringify(entries.map((x) => x.path))}`);
    assert.equal(e.sha256, hash);
    assert.equal(sha256(readFileSync(join(dir, e.file!))), hash, 'the file on disk');
    if (e.fileOffset !== 0) {
      // A resumed transfer (REST, APPE) carried part of the file: written as that part, never called whole.
      assert.match(e.file!, /\.part-\d+$/);
      assert.equal(e.complete, false);
      assert.match(e.note!, /of the remote file .*: a part, not the whole file/);
    } else assert.equal(e.complete, true);
    assert.equal(e.missingBytes, 0);
    assert.match(e.result, /^complete 226/);
    assert.equal(e.md5, createHash('md5').update(readFileSync(join(dir, e.file!))).digest('hex'));
  });
}

test('listings are written only with --extract-listings', async () => {
  const without = await extract(join(FIXTURES, 'active-ls-pwd.pcap'), fresh());
  assert.deepEqual(without, []);
  const dir = fresh();
  const withListings = await extract(join(FIXTURES, 'active-ls-pwd.pcap'), dir, true);
  assert.equal(withListings.length, 1);
  assert.equal(withListings[0]!.size, 271);
  assert.match(readFileSync(join(dir, withListings[0]!.file!), 'latin1'), /hello\.txt/);
});

test('retr.pcap (Zeek): the extracted /README is Zeek\'s thefile', { skip: existsSync(CONFORMANCE) ? false : '../shared/conformance not found' }, async () => {
  const dir = fresh();
  const entries = await extract(join(CONFORMANCE, 'scripts.base.frameworks.file-analysis.ftp/retr.pcap'), dir);
  const thefile = readFileSync(join(CONFORMANCE, 'scripts.base.frameworks.file-analysis.ftp/thefile'), 'latin1');
  const content = Buffer.from(thefile.slice(thefile.indexOf('\n') + 1), 'latin1');
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.command, 'RETR');
  assert.ok(readFileSync(join(dir, entries[0]!.file!)).equals(content));
  assert.equal(entries[0]!.sha256, sha256(content));
});

test('bigtransfer.pcap (Zeek): 5.4 GB of holes kept at their offsets in a sparse file', { skip: existsSync(CONFORMANCE) ? false : '../shared/conformance not found' }, async () => {
  const dir = fresh();
  const entries = await extract(join(CONFORMANCE, 'core.tcp.large-file-reassembly/bigtransfer.pcap'), dir);
  const big = entries.find((e) => e.missingBytes > 0)!;
  assert.equal(big.missingBytes, 5_416_642_848);
  assert.equal(big.size, 5_416_666_670);
  assert.equal(big.complete, false);
  assert.equal(big.sha256, null, 'holes this large are not hashed as zeros');
  const st = statSync(join(dir, big.file!));
  assert.equal(st.size, 5_416_666_670);
  assert.ok(st.blocks * 512 < 10 << 20, 'the holes take no disk space');
  assert.deepEqual(big.holes[1], { offset: 380_370_944, length: 392_464 });
});

// ---------------------------------------------------------------------------
// Hostile names
// ---------------------------------------------------------------------------

const C: Endpoint = { ip: '10.0.0.1', port: 40000 };
const S: Endpoint = { ip: '10.0.0.2', port: 21 };

/** A passive session retrieving each of `names` with the given content. */
function retrievals(names: string[], content = 'x'): Buffer {
  const frames: Frame[] = [];
  const ctl = new TcpConversation({ client: C, server: S });
  let taken = 0;
  const take = (conv: TcpConversation) => frames.push(...conv.frames.slice(conv === ctl ? taken : 0)) && conv === ctl && (taken = ctl.frames.length);
  ctl.handshake().send(false, '220 hi\r\n').send(true, 'USER u\r\n').send(false, '230 ok\r\n');
  take(ctl);
  names.forEach((name, i) => {
    const port = 50000 + i;
    ctl.send(true, 'PASV\r\n').send(false, `227 Entering Passive Mode (10,0,0,2,${port >> 8},${port & 255})\r\n`).send(true, `RETR ${name}\r\n`).send(false, '150 ok\r\n');
    take(ctl);
    take(new TcpConversation({ client: { ip: C.ip, port: 41000 + i }, server: { ip: S.ip, port } }).handshake().send(false, content).close(false));
    ctl.send(false, '226 done\r\n');
    take(ctl);
  });
  return framesToPcap(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1000 })), 'ethernet');
}

test('names from the wire cannot leave the folder, nor use reserved or control characters', async () => {
  const hostile = ['../../../../tmp/escape1', '/etc/passwd', 'a/../../b/../../escape2', '..\\..\\escape3', 'nul\u0000byte', 'CON', 'aux.txt', 'trail. ', 'esc\u001b[31m', `${'L'.repeat(300)}.txt`, `${'d/'.repeat(40)}deep`];
  const parent = fresh();
  const dir = join(parent, 'out');
  const entries = await extract(retrievals(hostile), dir);
  assert.equal(entries.length, hostile.length);
  for (const e of entries) {
    assert.ok(e.file !== null, e.note ?? '');
    assert.ok(!e.file.split(/[/\\]/).includes('..'), e.file);
    assert.ok(!/[\u0000-\u001f]/.test(e.file), e.file);
    for (const part of e.file.split('/')) assert.ok(part.length <= 100 && !/^(con|aux|nul)(\.|$)/i.test(part) && !/[. ]$/.test(part), part);
  }
  assert.deepEqual(readdirSync(parent), ['out'], 'nothing written beside the folder');
  assert.ok(!existsSync('/tmp/escape1') && !existsSync(join(parent, 'escape2')));
  assert.equal(walk(dir).length, hostile.length + 1);
});

test('an existing file is never overwritten, and a link in the folder is never followed', async () => {
  const dir = fresh();
  mkdirSync(join(dir, 'session-1'));
  writeFileSync(join(dir, 'session-1', 'f.txt'), 'keep me');
  const entries = await extract(retrievals(['/f.txt'], 'new'), dir);
  assert.equal(readFileSync(join(dir, 'session-1', 'f.txt'), 'utf8'), 'keep me');
  assert.equal(entries[0]!.file, 'session-1/f.1.txt');
  const other = fresh();
  const linked = fresh();
  symlinkSync(other, join(linked, 'session-1'));
  const viaLink = await extract(retrievals(['/g.txt']), linked);
  assert.equal(viaLink[0]!.file, null);
  assert.match(viaLink[0]!.note!, /no safe place/);
  assert.deepEqual(readdirSync(other), []);
});

test('safeComponents', () => {
  assert.deepEqual(safeComponents('/a/./b//../c'), ['a', 'b', '__', 'c']);
  assert.deepEqual(safeComponents('COM1.txt'), ['_COM1.txt']);
  assert.deepEqual(safeComponents('x:y*z?'), ['x_y_z_']);
});

/** ftpscope in-process; what it printed, with the extraction folder named DIR. */
async function cli(args: string[], dir: string): Promise<string> {
  let out = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
  const stderr = new Writable({ write: (_c, _e, cb) => cb() });
  await main([...args, '--extract', dir], { stdout, stderr, stdin: Readable.from([]), stdoutIsTTY: false, env: {} });
  return out.replaceAll(dir, 'DIR');
}

test('--extract with the summary alone (sessions let go as they end) writes what a whole analysis writes, and lists every file', async () => {
  let listed = 0;
  for (const capture of [...new Set(recorded.map(([c]) => c))]) {
    const path = join(FIXTURES, capture);
    const whole = fresh();
    const wholeOut = await cli(['-v', 'timeline', '-v', 'summary', path], whole);
    const manifest = JSON.parse(readFileSync(join(whole, 'manifest.json'), 'utf8')) as ManifestEntry[];
    for (const limits of [{}, { spill: 1, slice: 1 }]) {
      setSummaryLimits(limits);
      try {
        const report = fresh();
        const out = await cli(['-v', 'summary', path], report);
        assert.equal(readFileSync(join(report, 'manifest.json'), 'utf8'), readFileSync(join(whole, 'manifest.json'), 'utf8'), `${capture}: manifest.json`);
        const table = out.slice(out.indexOf('\nExtracted files') >= 0 ? out.indexOf('\nExtracted files') : out.indexOf('\nNo file'));
        assert.ok(wholeOut.endsWith(table), `${capture} ${JSON.stringify(limits)}: the same list of files`);
        for (const line of table.split('\n')) assert.ok(displayWidth(line) <= 80, `${capture}: ${line}`);
        // At 80 columns the narrow layout: a row per file, opening with its session.
        assert.equal(table.split('\n').filter((l) => /^│s\d+ /.test(l)).length, manifest.length, `${capture}: a row per file\n${table}`);
        listed += manifest.length;
      } finally {
        setSummaryLimits({});
      }
    }
  }
  assert.ok(listed > 10, `${listed} files listed`);
});
