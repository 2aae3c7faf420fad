/**
 * FTPS decryption cost (issue 19): one download of SIZE MB, twice — in clear, and inside TLS made by
 * OpenSSL (Node's tls on loopback, the client's key log kept) — written as two captures of the same
 * session, then `ftpscope -v summary` timed on each (with --tls-keylog on the second). The target: the
 * FTPS download analysed within 2x of the clear one. `npm run bench -- --ftps [--size MB] [--suite S]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tls from 'node:tls';
import { TcpConversation, framesToPcap, type Frame } from '../test/support/capture-writer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TLS connection's bytes on the wire (OpenSSL both ends, through a recording proxy) and the client's key log. */
async function tlsBytes(file: Buffer, suite: string, dir: string): Promise<{ up: Buffer[]; down: Buffer[]; keylog: string }> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bench', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const versions: tls.TlsOptions = suite.startsWith('TLS_') ? { minVersion: 'TLSv1.3', ciphers: suite } : { maxVersion: 'TLSv1.2', ciphers: suite };
  const server = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')), ...versions }, (s) => s.end(file));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const proxy = createServer((c) => {
    const u = connect((server.address() as AddressInfo).port, '127.0.0.1');
    c.on('data', (d: Buffer) => (up.push(Buffer.from(d)), u.write(d)));
    u.on('data', (d: Buffer) => (down.push(Buffer.from(d)), c.write(d)));
    c.on('end', () => u.end());
    u.on('end', () => c.end());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  let keylog = '';
  await new Promise<void>((resolve, reject) => {
    const c = tls.connect({ port: (proxy.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
    c.on('keylog', (l: Buffer) => (keylog += l.toString('latin1')));
    c.on('data', () => {});
    c.on('end', () => resolve());
    c.on('error', reject);
  });
  proxy.close();
  server.close();
  return { up, down, keylog };
}

/** The session: a clear control connection (PROT P or not), one passive RETR whose data connection carries `up` and `down`. */
function capture(up: Buffer[], down: Buffer[], protectedData: boolean): Buffer {
  const client = { ip: '10.0.0.1', port: 40000 };
  const ctl = new TcpConversation({ client, server: { ip: '10.0.0.2', port: 21 }, stepNsec: 1000 });
  ctl.handshake().send(false, '220 ready\r\n').send(true, 'USER u\r\n').send(false, '331 Password required\r\n').send(true, 'PASS p\r\n').send(false, '230 Logged in\r\n');
  if (protectedData) ctl.send(true, 'PBSZ 0\r\n').send(false, '200 PBSZ=0\r\n').send(true, 'PROT P\r\n').send(false, '200 Protection set to Private\r\n');
  ctl.send(true, 'TYPE I\r\n').send(false, '200 Binary\r\n').send(true, 'PASV\r\n').send(false, '227 Entering Passive Mode (10,0,0,2,195,80).\r\n');
  ctl.send(true, 'RETR big.bin\r\n').send(false, '150 Opening data connection\r\n');
  const before = ctl.frames.length;
  const last = ctl.frames.at(-1)!;
  const data = new TcpConversation({ client: { ip: '10.0.0.1', port: 40001 }, server: { ip: '10.0.0.2', port: 50000 }, startSec: last.tsSec + 1, stepNsec: 1000 });
  data.handshake();
  // The two directions in the order the proxy saw them: the handshake's flights, then the file.
  const n = Math.max(up.length, down.length);
  for (let i = 0; i < n; i++) {
    if (i < up.length) data.send(true, up[i]!);
    if (i < down.length) data.send(false, down[i]!);
  }
  data.close(false);
  ctl.send(false, '226 Transfer complete\r\n').send(true, 'QUIT\r\n').send(false, '221 Bye\r\n').close();
  // The control connection's last frames after the data's: its clock did not move while the data flowed.
  const end = data.frames.at(-1)!;
  for (const f of ctl.frames.slice(before)) f.tsSec += end.tsSec - last.tsSec + 1;
  const frames: Frame[] = [...ctl.frames.slice(0, before), ...data.frames, ...ctl.frames.slice(before)];
  return framesToPcap(frames, 'ethernet');
}

function time(args: string[]): { seconds: number; peakMB: number; out: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, join(ROOT, 'bin/ftpscope.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const [seconds, kb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: seconds!, peakMB: kb! / 1000, out: r.stdout };
}

/** Runs the comparison and prints it; whether the target held. */
export async function ftpsBench(sizeMB: number, suite: string): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-bench-ftps-'));
  try {
    const file = randomBytes(sizeMB * 1e6);
    const wire = await tlsBytes(file, suite, dir);
    writeFileSync(join(dir, 'tls.pcap'), capture(wire.up, wire.down, true));
    writeFileSync(join(dir, 'tls.keys'), wire.keylog);
    // The same download in clear, in segments of the same size.
    const chunks: Buffer[] = [];
    for (let at = 0; at < file.length; at += 16_384) chunks.push(file.subarray(at, at + 16_384));
    writeFileSync(join(dir, 'clear.pcap'), capture([], chunks, false));
    const runs = 3;
    const clear: number[] = [];
    const ftps: number[] = [];
    let peak = [0, 0];
    for (let i = 0; i < runs; i++) {
      const c = time(['-v', 'summary', '--quiet', join(dir, 'clear.pcap')]);
      const t = time(['-v', 'summary', '--quiet', '--tls-keylog', join(dir, 'tls.keys'), join(dir, 'tls.pcap')]);
      if (!t.out.includes(`${(sizeMB * 1e6).toLocaleString('en-US')}`)) throw new Error(`the FTPS transfer was not decrypted whole:\n${t.out}`);
      clear.push(c.seconds);
      ftps.push(t.seconds);
      peak = [Math.max(peak[0]!, c.peakMB), Math.max(peak[1]!, t.peakMB)];
    }
    const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
    const ratio = median(ftps) / median(clear);
    console.log(`FTPS ${suite}, one ${sizeMB} MB download, median of ${runs} runs:`);
    console.log(`  in clear: ${median(clear).toFixed(2)} s, peak ${peak[0]!.toFixed(0)} MB`);
    console.log(`  FTPS with its key log: ${median(ftps).toFixed(2)} s, peak ${peak[1]!.toFixed(0)} MB`);
    console.log(`  ${ratio <= 2 ? 'PASS' : 'FAIL'} FTPS within 2x of clear: ${ratio.toFixed(2)}x`);
    return ratio <= 2;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
