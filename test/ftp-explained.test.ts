/**
 * The promise of the FTP engine: in every capture we have (the fixtures, and Zeek's conformance captures
 * when ../shared is there), every TCP connection is a control connection, the data connection of a
 * transfer, the connection of a prediction, or named by a finding that explains it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listCaptures } from './support/captures.js';
import { analyseCapture, fixtureKeyLog } from './analysis.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const CONFORMANCE = fileURLToPath(new URL('../../../shared/conformance/', import.meta.url));

const all = [...listCaptures(FIXTURES), ...listCaptures(CONFORMANCE)];

test('there are captures to check', (t) => {
  assert.ok(listCaptures(FIXTURES).length >= 10);
  if (!existsSync(CONFORMANCE)) t.diagnostic('../shared/conformance not found: only the fixtures are checked');
});

for (const path of all) {
  test(`every connection is attributed or explained: ${path.split('/').slice(-2).join('/')}`, async () => {
    // An FTPS fixture with its key log: its data connections are announced inside TLS.
    const keys = fixtureKeyLog(path);
    const { ftp } = await analyseCapture(path, createReadStream(path), keys.length > 0 ? { tlsKeylog: keys } : {});
    const m = ftp.result();
    const control = new Set(m.sessions.map((s) => s.connection));
    const data = new Set(m.transfers.map((t) => t.connection));
    const predicted = new Set(m.predictions.map((p) => p.connection));
    const named = new Set(m.findings.flatMap((f) => f.frames));
    const unexplained = ftp.log.sorted().filter((c) => !control.has(c.id) && !data.has(c.id) && !predicted.has(c.id) && !named.has(c.first.frame));
    assert.deepEqual(unexplained.map((c) => `${c.client.address}:${c.client.port} -> ${c.server.address}:${c.server.port}`), []);
    assert.ok(m.sessions.length > 0, 'an FTP session');
  });
}
