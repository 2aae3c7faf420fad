/**
 * Conformance with Zeek: ftpscope's command line (`ftpscope --format json FILE`, run in-process through
 * main() with a fake Io: nothing here is about the process itself) on every capture of Zeek's FTP tests,
 * then compared with what Zeek's expected logs say about TCP. cli.test.ts covers the real process.
 *
 * The captures live outside the repository, in ../shared/conformance/zeek/<test>/ (see its README.md);
 * they are read in place, never copied. When that folder is absent every test here is skipped, saying so.
 *
 * How Zeek's logs map onto ftpscope's JSON:
 * - conn.log: one row per connection; id.orig_h/id.orig_p is the originator, id.resp_h/id.resp_p the
 *   responder. ftpscope's client is the SYN sender, which is Zeek's originator too, but for a connection
 *   picked up mid-stream the two may orient it differently, so a row matches a connection in either
 *   orientation, and the byte counts are then compared crosswise (reported as a diagnostic).
 * - orig_bytes/resp_bytes come from sequence numbers, so they include bytes missing from the capture:
 *   they are ftpscope's streamLength. Zeek's counts are final only when it saw the connection through
 *   (conn_state SF, or RSTO/RSTR: established, then reset); for S1 and the like they depend on when Zeek
 *   stopped watching (its GridFTP scripts stop following a data channel once they recognise it), so
 *   those rows are compared only for missed_bytes.
 * - missed_bytes is the bytes of both directions Zeek knows were sent but never saw: the sum of
 *   gapBytes of both directions.
 * - files.log and `out` (file_chunk events) describe files carried by data connections: seen_bytes is
 *   what was delivered, missing_bytes what fell in gaps, and each file_chunk line gives the length and
 *   stream offset of a piece of delivered data.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureSummary } from '../src/analyze.js';
import { main } from '../src/cli/main.js';
import type { ConnectionSummary, DirectionSummary } from '../src/flow/connection-log.js';
import { collect } from './cli-io.js';

/** ../shared/conformance from the repository root (dist/test/conformance.test.js -> ../../../shared). */
const conformanceDir = fileURLToPath(new URL('../../../shared/conformance/', import.meta.url));
const zeekDir = join(conformanceDir, 'zeek');
const SKIP = '../shared/conformance not found: conformance tests skipped';

// ---------------------------------------------------------------------------
// Running ftpscope
// ---------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface JsonOutput {
  capture: CaptureSummary;
  connections: ConnectionSummary[];
}

/** `ftpscope ARGS` in-process: main() with a fake Io (no colour, stdin empty); what it wrote and its exit code. */
async function runFtpscope(args: string[]): Promise<Run> {
  const f = collect();
  f.io.env = { NO_COLOR: '1' };
  const code = await main(args, f.io);
  return { code, stdout: f.stdout(), stderr: f.stderr() };
}

const runs = new Map<string, Promise<Run>>();

/** `ftpscope --format json FILE`, run once per capture and shared by the tests that need it. */
function analyse(capture: string): Promise<Run> {
  let r = runs.get(capture);
  if (r === undefined) {
    r = runFtpscope(['--format', 'json', capture]);
    runs.set(capture, r);
  }
  return r;
}

/** The JSON of a run that must have succeeded. */
async function connectionsOf(capture: string): Promise<ConnectionSummary[]> {
  const r = await analyse(capture);
  assert.equal(r.code, 0, `ftpscope failed on ${capture}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as JsonOutput).connections;
}

// ---------------------------------------------------------------------------
// Zeek's logs
// ---------------------------------------------------------------------------

type Row = Record<string, string>;

/**
 * Rows of a Zeek TSV log: the first line (added by BTest) and every '#' line are skipped, the column
 * names come from the '#fields' line.
 */
function readZeekLog(file: string): Row[] {
  const text = readFileSync(file, 'utf8').split('\n');
  assert.match(text[0]!, /^### BTest baseline/, `${file} does not start with the BTest line`);
  const fieldsLine = text.find((l) => l.startsWith('#fields\t'));
  assert.ok(fieldsLine !== undefined, `${file} has no #fields line`);
  const fields = fieldsLine.split('\t').slice(1);
  return text
    .slice(1)
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const values = l.split('\t');
      assert.equal(values.length, fields.length, `${file}: a row with ${values.length} columns for ${fields.length} fields: ${l}`);
      return Object.fromEntries(fields.map((f, i) => [f, values[i]!]));
    });
}

/** A count column as a number ('-' is Zeek's unset value). */
function count(row: Row, field: string): number {
  const v = row[field];
  assert.ok(v !== undefined && /^\d+$/.test(v), `column ${field} is not a count: ${v}`);
  const n = Number(v);
  assert.ok(Number.isSafeInteger(n), `column ${field} is too large to compare exactly: ${v}`);
  return n;
}

/** A row's connection as the text ftpscope would show: orig -> resp. */
function tuple(row: Row): string {
  return `${row['id.orig_h']}:${row['id.orig_p']} -> ${row['id.resp_h']}:${row['id.resp_p']}`;
}

/** A row's connection among ftpscope's, in either orientation, with Zeek's originator's and responder's directions. */
interface Match {
  conn: ConnectionSummary;
  /** ftpscope's client is Zeek's responder. */
  reversed: boolean;
  orig: DirectionSummary;
  resp: DirectionSummary;
}

function matchesOf(row: Row, conns: ConnectionSummary[]): Match[] {
  const same = (e: { address: string; port: number }, h: string, p: string): boolean => e.address === h && String(e.port) === p;
  const out: Match[] = [];
  for (const conn of conns) {
    const { client: c, server: s } = conn;
    if (same(c, row['id.orig_h']!, row['id.orig_p']!) && same(s, row['id.resp_h']!, row['id.resp_p']!)) {
      out.push({ conn, reversed: false, orig: conn.toServer, resp: conn.toClient });
    } else if (same(s, row['id.orig_h']!, row['id.orig_p']!) && same(c, row['id.resp_h']!, row['id.resp_p']!)) {
      out.push({ conn, reversed: true, orig: conn.toClient, resp: conn.toServer });
    }
  }
  return out;
}

/** The one ftpscope connection of a conn.log (or files.log) row; fails when there is none or several. */
function matchOf(row: Row, conns: ConnectionSummary[], t: { diagnostic(msg: string): void }): Match {
  const found = matchesOf(row, conns);
  assert.equal(found.length, 1, `${found.length} ftpscope connections for Zeek's ${tuple(row)}`);
  const m = found[0]!;
  if (m.reversed) t.diagnostic(`${tuple(row)}: ftpscope's client is Zeek's responder (compared crosswise)`);
  return m;
}

/** conn_state values for which Zeek saw the connection established and ended: its byte counts are final. */
const FINAL_STATES = new Set(['SF', 'RSTO', 'RSTR']);

// ---------------------------------------------------------------------------
// The captures
// ---------------------------------------------------------------------------

interface Folder {
  name: string;
  path: string;
  captures: string[];
}

function listFolders(): Folder[] {
  return readdirSync(zeekDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const path = join(zeekDir, d.name);
      const captures = readdirSync(path).filter((f) => /\.pcap(\.gz)?$/.test(f)).sort().map((f) => join(path, f));
      return { name: d.name, path, captures };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const folders = existsSync(zeekDir) ? listFolders() : null;

if (folders === null) {
  test('Zeek conformance captures', (t) => {
    t.skip(SKIP);
  });
} else {
  test('the Zeek conformance folder holds the 24 captures its README lists', () => {
    assert.equal(folders.flatMap((f) => f.captures).length, 24);
  });

  for (const folder of folders) {
    for (const capture of folder.captures) {
      test(`${folder.name}: ftpscope --format json reads ${capture.slice(folder.path.length + 1)} cleanly`, async () => {
        const r = await analyse(capture);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        const out = JSON.parse(r.stdout) as JsonOutput;
        assert.equal(out.capture.faults.length, 0);
        assert.ok(out.connections.length >= 1, 'no connection found');
        for (const c of out.connections) {
          for (const [side, e] of [['client', c.client], ['server', c.server]] as const) {
            assert.ok(typeof e.address === 'string' && e.address !== '', `connection ${c.id}: empty ${side} address`);
            assert.ok(Number.isInteger(e.port) && e.port >= 0 && e.port <= 65535, `connection ${c.id}: bad ${side} port ${e.port}`);
          }
        }
      });
    }
  }

  // conn.log comparisons
  for (const folder of folders) {
    const connLog = join(folder.path, 'conn.log');
    if (!existsSync(connLog) || folder.captures.length !== 1) continue;
    const capture = folder.captures[0]!;
    const rows = readZeekLog(connLog).filter((r) => r.proto === 'tcp');

    test(`${folder.name}: every TCP connection of Zeek's conn.log is one ftpscope connection (either orientation)`, async (t) => {
      const conns = await connectionsOf(capture);
      assert.ok(rows.length > 0);
      for (const row of rows) matchOf(row, conns, t);
    });

    test(`${folder.name}: ftpscope finds no TCP connection that Zeek's conn.log lacks`, async () => {
      const conns = await connectionsOf(capture);
      const extra = conns.filter((c) => !rows.some((row) => matchesOf(row, [c]).length > 0));
      assert.deepEqual(extra.map((c) => `${c.client.address}:${c.client.port} -> ${c.server.address}:${c.server.port}`), []);
    });

    test(`${folder.name}: orig_bytes/resp_bytes equal the stream lengths where Zeek saw the connection through`, async (t) => {
      const conns = await connectionsOf(capture);
      const final = rows.filter((r) => FINAL_STATES.has(r.conn_state!));
      const others = rows.filter((r) => !FINAL_STATES.has(r.conn_state!));
      if (others.length > 0) t.diagnostic(`byte counts not compared for ${others.map((r) => `${tuple(r)} (${r.conn_state})`).join(', ')}`);
      for (const row of final) {
        const m = matchOf(row, conns, t);
        assert.deepEqual(
          { orig_bytes: m.orig.streamLength, resp_bytes: m.resp.streamLength },
          { orig_bytes: count(row, 'orig_bytes'), resp_bytes: count(row, 'resp_bytes') },
          `${tuple(row)} (${row.conn_state})`,
        );
      }
    });

    test(`${folder.name}: missed_bytes equals the gap bytes of both directions`, async (t) => {
      const conns = await connectionsOf(capture);
      for (const row of rows) {
        const m = matchOf(row, conns, t);
        assert.equal(m.orig.gapBytes + m.resp.gapBytes, count(row, 'missed_bytes'), tuple(row));
      }
    });

    test(`${folder.name}: how each connection ended agrees with Zeek's conn_state`, async (t) => {
      const conns = await connectionsOf(capture);
      for (const row of rows) {
        const m = matchOf(row, conns, t);
        const c = m.conn;
        const state = row.conn_state!;
        if (state === 'SF') {
          // Normal establishment and termination: a FIN each way, and both directions ended by it.
          assert.ok(c.teardown.clientFin !== null && c.teardown.serverFin !== null, `${tuple(row)}: SF but FINs ${JSON.stringify(c.teardown)}`);
          assert.deepEqual(
            { closeReason: c.closeReason, toServer: c.toServer.end, toClient: c.toClient.end },
            { closeReason: 'fin', toServer: 'fin', toClient: 'fin' },
            `${tuple(row)}: SF`,
          );
        } else if (state === 'RSTO' || state === 'RSTR') {
          // Established, then reset by the originator (RSTO) or the responder (RSTR).
          const resetByOrig = state === 'RSTO';
          const expectedBy = resetByOrig !== m.reversed ? 'client' : 'server';
          assert.equal(c.teardown.rst?.by, expectedBy, `${tuple(row)}: ${state}`);
          assert.equal(c.closeReason, 'rst', `${tuple(row)}: ${state}`);
        } else {
          t.diagnostic(`${tuple(row)}: conn_state ${state} not compared`);
        }
      }
    });
  }

  // core.tcp.large-file-reassembly: a 5 GB download cut down to a few packets, with huge gaps past 4 GiB.
  const bigFolder = join(zeekDir, 'core.tcp.large-file-reassembly');
  const bigCapture = join(bigFolder, 'bigtransfer.pcap');
  const bigTuple = { 'id.orig_h': '192.168.56.1', 'id.orig_p': '59764', 'id.resp_h': '192.168.56.101', 'id.resp_p': '37150' };

  /** files.log's row for the file carried by 192.168.56.1:59764 -> 192.168.56.101:37150, and its position among the files. */
  function bigFile(): { row: Row; index: number } {
    const files = readZeekLog(join(bigFolder, 'files.log'));
    const index = files.findIndex((f) => Object.entries(bigTuple).every(([k, v]) => f[k] === v));
    assert.ok(index >= 0, 'files.log has no file for 192.168.56.1:59764 -> 192.168.56.101:37150');
    return { row: files[index]!, index };
  }

  /** The direction of the big data connection that carried the file (is_orig: sent by Zeek's originator). */
  async function bigDirection(t: { diagnostic(msg: string): void }): Promise<{ conn: ConnectionSummary; dir: DirectionSummary; gapDir: string; row: Row; index: number }> {
    const { row, index } = bigFile();
    const m = matchOf(row, await connectionsOf(bigCapture), t);
    const fromOrig = row.is_orig === 'T';
    const dir = fromOrig ? m.orig : m.resp;
    const gapDir = dir === m.conn.toServer ? 'client->server' : 'server->client';
    return { conn: m.conn, dir, gapDir, row, index };
  }

  /**
   * The file_chunk lines of `out` (file_chunk, LEN, OFFSET, data), grouped by file: a file's chunks begin
   * with the one at offset 0, and files come in files.log's order.
   */
  function fileChunks(): Array<Array<{ len: number; offset: number }>> {
    const text = readFileSync(join(bigFolder, 'out'), 'utf8').split('\n');
    assert.match(text[0]!, /^### BTest baseline/);
    const files: Array<Array<{ len: number; offset: number }>> = [];
    for (const line of text.slice(1)) {
      const m = /^file_chunk, (\d+), (\d+), /.exec(line);
      if (m === null) continue;
      const chunk = { len: Number(m[1]), offset: Number(m[2]) };
      if (chunk.offset === 0 || files.length === 0) files.push([]);
      files[files.length - 1]!.push(chunk);
    }
    return files;
  }

  test('bigtransfer.pcap: the data connection delivered seen_bytes and is missing missing_bytes, as files.log says', async (t) => {
    const { dir, row } = await bigDirection(t);
    assert.equal(count(row, 'seen_bytes'), 23_822, 'files.log is not the one this test was written for');
    assert.deepEqual(
      { delivered: dir.deliveredBytes, missing: dir.gapBytes },
      { delivered: count(row, 'seen_bytes'), missing: count(row, 'missing_bytes') },
    );
  });

  test('bigtransfer.pcap: delivered data resumes after each gap exactly at the file_chunk offsets of `out`, past 4 GiB', async (t) => {
    const { conn, gapDir, index } = await bigDirection(t);
    assert.equal(conn.gapsOmitted, 0);
    const chunks = fileChunks()[index];
    assert.ok(chunks !== undefined, `out has no file_chunk lines for file ${index + 1}`);
    // Where Zeek's delivery jumps forward: every chunk that does not continue the one before it.
    const resumes = chunks.filter((c, i) => i > 0 && c.offset !== chunks[i - 1]!.offset + chunks[i - 1]!.len).map((c) => c.offset);
    assert.ok(resumes.some((o) => o > 2 ** 32), 'no file_chunk offset past 4 GiB');
    const gaps = conn.gaps.filter((g) => g.dir === gapDir);
    assert.deepEqual(gaps.map((g) => g.offset + g.length), resumes);
  });

  test('bigtransfer.pcap: the ranges between the gaps are exactly the file chunks Zeek delivered', async (t) => {
    const { conn, dir, gapDir, index } = await bigDirection(t);
    const chunks = fileChunks()[index]!;
    // Merge Zeek's chunks into contiguous ranges, then compare with the complement of ftpscope's gaps.
    const zeekRanges: Array<[number, number]> = [];
    for (const c of chunks) {
      const last = zeekRanges[zeekRanges.length - 1];
      if (last !== undefined && last[1] === c.offset) last[1] += c.len;
      else zeekRanges.push([c.offset, c.offset + c.len]);
    }
    const ours: Array<[number, number]> = [];
    let at = 0;
    for (const g of conn.gaps.filter((x) => x.dir === gapDir)) {
      if (g.offset > at) ours.push([at, g.offset]);
      at = g.offset + g.length;
    }
    if (dir.streamLength > at) ours.push([at, dir.streamLength]);
    assert.deepEqual(ours, zeekRanges);
  });
}
