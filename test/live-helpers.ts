/**
 * Plumbing of the live-capture tests (test/live.test.ts): what they need from the machine, network
 * namespaces of their own, vsftpd, the clients, ftpscope running in the background, and the cleanup.
 *
 * Everything happens inside network namespaces made here (the approach of fixtures/make-fixtures.sh):
 *
 *   ftpscope-live-c   fslive-c  10.31.0.1/24  fd31::1/64   clients, ftpscope
 *   ftpscope-live-s   fslive-s  10.31.0.2/24  fd31::2/64   vsftpd (one for IPv4, one for IPv6)
 *                               10.31.0.3/24               vsftpd limiting anonymous transfers to 20 KB/s
 *   ftpscope-live-lo  lo only, 127.0.0.1                   vsftpd, curl and ftpscope on the loopback
 *
 * The veth pair is created directly inside the namespaces, so nothing appears in the host's namespace,
 * and no other interface is ever sniffed or sent on. Offloads are off on the veth (ordinary frames, valid
 * checksums); the loopback keeps its 64 KiB MTU and offloads on purpose.
 *
 * Every process started here is tracked by its pid and killed (by that pid) at cleanup; whatever still
 * runs inside our namespaces (vsftpd's session processes) is killed by pid before they are deleted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

// ---------------------------------------------------------------------------
// Names and addresses
// ---------------------------------------------------------------------------

/** The repository root, from the compiled file's place (dist/test/live-helpers.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'bin', 'ftpscope.js');

export const NS_CLIENT = 'ftpscope-live-c';
export const NS_SERVER = 'ftpscope-live-s';
export const NS_LOOP = 'ftpscope-live-lo';
const NS_PROBE = 'ftpscope-live-probe';
export const IF_CLIENT = 'fslive-c';
export const IF_SERVER = 'fslive-s';
export const CLIENT4 = '10.31.0.1';
export const SERVER4 = '10.31.0.2';
export const CLIENT6 = 'fd31::1';
export const SERVER6 = 'fd31::2';
/** A second address of the server, for a vsftpd set up differently (a slow one). */
export const SERVER4_SLOW = '10.31.0.3';

/** The local FTP user, created for the run and removed after it (only if its comment is ours). */
export const FTP_USER = 'ftpscopelive';
export const FTP_PASS = 'live-pass-31';
export const FTP_BADPASS = 'wrong-pass-31';
const USER_GECOS = 'ftpscope live test user (temporary)';

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].filter((d) => d !== '');

/** The absolute path of a program, looked for on PATH and in the sbin directories; null if absent. */
export function findProgram(name: string): string | null {
  for (const dir of SEARCH_PATH) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

function program(name: string): string {
  const p = findProgram(name);
  if (p === null) throw new Error(`${name} is not installed`);
  return p;
}

/** Deterministic pseudo-random bytes (xorshift32 from a seed), as make-fixtures.sh makes its files. */
export function seededBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size + 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out.subarray(0, size);
}

/** The last `max` characters of a text, for failure messages. */
export function tail(text: string, max = 1500): string {
  const t = text.trimEnd();
  return t.length <= max ? t : `...${t.slice(-max)}`;
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

const children = new Set<ChildProcess>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** Runs a program to its end; killed (SIGKILL, by its pid) after the timeout (default 30 s). */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd ?? REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Runs a program inside a network namespace (`ip netns exec` execs it: same pid, signals go to it). */
export function runIn(ns: string, file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(program('ip'), ['netns', 'exec', ns, file, ...args], opts);
}

/** Runs a program that must succeed; throws with its output otherwise. */
export async function mustRun(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    throw new Error(`${[file, ...args].join(' ')} failed (exit ${r.code ?? r.signal}${r.timedOut ? ', timed out' : ''}): ${tail(r.stderr || r.stdout, 600)}`);
  }
  return r;
}

function ip(args: string[]): Promise<RunResult> {
  return mustRun(program('ip'), args, { timeoutMs: 10_000 });
}

/**
 * A program running in the background (ftpscope, vsftpd, a slow client), its output collected.
 * `exited` settles once, when the process is gone.
 */
export class Background {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    opts: { cwd?: string; stdout?: string } = {},
  ) {
    this.child = spawn(file, args, { cwd: opts.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += `\n(could not start ${file}: ${e.message})`;
        children.delete(this.child);
        resolve({ code: null, signal: null });
        this.notify();
      });
      this.child.on('close', (code, signal) => {
        children.delete(this.child);
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get running(): boolean {
    return alive(this.child) && this.child.pid !== undefined;
  }

  private notify(): void {
    for (const w of this.watchers) w();
  }

  /**
   * Waits until `ready()` holds (checked on every output and every 50 ms). Resolves false if the time ran
   * out, throws if the process ended first (unless `ended` is allowed).
   */
  waitFor(ready: () => boolean, timeoutMs: number, what: string, opts: { allowExit?: boolean } = {}): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.watchers.delete(check);
        fn();
      };
      const check = (): void => {
        if (ready()) finish(() => resolve(true));
        else if (!this.running && !opts.allowExit) {
          finish(() => reject(new Error(`${this.name} ended (exit ${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}; stderr: ${tail(this.stderr)}`)));
        }
      };
      const timer = setTimeout(() => finish(() => resolve(false)), timeoutMs);
      const poll = setInterval(check, 50);
      this.watchers.add(check);
      check();
    });
  }

  /** Sends a signal and waits (bounded) for the end; SIGKILL if it does not come. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    if (this.running) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (r === 'late') {
      if (this.running) this.child.kill('SIGKILL');
      const k = await this.exited;
      return { ...k, killed: true };
    }
    return { ...r, killed: false };
  }

  /** SIGKILL (by pid) if still running. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /**
   * SIGKILL to the process and every process below it (vsftpd's session processes, which live in
   * network namespaces of their own), by pid, all at once; waits for the end.
   */
  async killTree(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined && this.running) {
      for (const p of descendants(pid)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    this.kill();
    await this.exited;
  }
}

/** The pids of the processes below `pid` (children, their children, ...), from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // ended meanwhile
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Starts a program in the background inside a namespace. */
export function backgroundIn(ns: string, name: string, file: string, args: string[], opts: { cwd?: string } = {}): Background {
  return new Background(name, program('ip'), ['netns', 'exec', ns, file, ...args], opts);
}

/**
 * Kills every process started here that still runs, and every process below it, by pid. The tree
 * matters: vsftpd's session processes run in network namespaces of their own (isolate_network), so no
 * sweep of our namespaces finds them, and once their parent is gone nothing ties them to us.
 */
export function killOurChildren(): void {
  for (const c of children) {
    if (!alive(c) || c.pid === undefined) continue;
    for (const p of descendants(c.pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    c.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------
// What the tests need
// ---------------------------------------------------------------------------

export type Need = 'root' | 'netns' | 'vsftpd' | 'curl' | 'ftp-client' | 'ethtool' | 'cap' | 'user-tools';

let probed: Map<Need, string | null> | null = null;

/** Why each need is not met (null: met). Probed once: the namespace probe creates and deletes one. */
function probe(): Map<Need, string | null> {
  if (probed !== null) return probed;
  const m = new Map<Need, string | null>();
  const root = process.getuid?.() === 0;
  m.set('root', root ? null : 'not root (live capture, network namespaces and vsftpd need root)');
  const ipPath = findProgram('ip');
  if (ipPath === null) m.set('netns', 'ip (iproute2) is not installed');
  else if (!root) m.set('netns', 'cannot make network namespaces without root');
  else {
    spawnSync(ipPath, ['netns', 'del', NS_PROBE], { stdio: 'ignore', timeout: 10_000 });
    const add = spawnSync(ipPath, ['netns', 'add', NS_PROBE], { encoding: 'utf8', timeout: 10_000 });
    if (add.status !== 0) m.set('netns', `cannot make a network namespace (ip netns add: ${(add.stderr ?? '').trim() || add.error?.message})`);
    else {
      spawnSync(ipPath, ['netns', 'del', NS_PROBE], { stdio: 'ignore', timeout: 10_000 });
      m.set('netns', findProgram('ss') === null ? 'ss (iproute2) is not installed' : null);
    }
  }
  m.set('vsftpd', findProgram('vsftpd') === null ? 'vsftpd is not installed (apt-get install vsftpd)' : null);
  m.set('curl', findProgram('curl') === null ? 'curl is not installed (apt-get install curl)' : null);
  m.set('ftp-client', findProgram('lftp') === null && findProgram('tnftp') === null ? 'neither lftp nor tnftp is installed (apt-get install lftp tnftp)' : null);
  m.set('ethtool', findProgram('ethtool') === null ? 'ethtool is not installed (apt-get install ethtool)' : null);
  const tools = ['useradd', 'userdel', 'usermod', 'chpasswd', 'getent'].filter((p) => findProgram(p) === null);
  m.set('user-tools', tools.length > 0 ? `${tools.join(', ')} not found (a temporary FTP user is made with them)` : null);
  try {
    createRequire(join(REPO_ROOT, 'package.json'))('cap');
    m.set('cap', null);
  } catch (e) {
    m.set('cap', `the cap module cannot be loaded (npm install with libpcap-dev installed builds it): ${(e as Error).message.split('\n')[0]}`);
  }
  probed = m;
  return m;
}

/**
 * True when the test can run. Otherwise the test is skipped, saying why — unless CI=true, where a test
 * that cannot run fails, saying what is missing.
 */
export function ready(t: TestContext, needs: Need[]): boolean {
  const m = probe();
  const reasons = [...new Set(needs.map((n) => m.get(n) ?? null).filter((r): r is string => r !== null))];
  if (reasons.length === 0) return true;
  const why = reasons.join('; ');
  if (process.env.CI === 'true') assert.fail(`live test cannot run, and CI=true makes that a failure: ${why}`);
  t.skip(why);
  return false;
}

// ---------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------

async function namespaceExists(ns: string): Promise<boolean> {
  const r = await run(program('ip'), ['netns', 'list'], { timeoutMs: 10_000 });
  return r.stdout.split('\n').some((l) => l.split(/\s+/)[0] === ns);
}

/**
 * Kills (by pid) whatever still runs inside the namespace, then deletes it (and the veth end in it).
 * (vsftpd's unprivileged session processes are not found here: see killOurChildren.)
 */
export async function removeNamespace(ns: string): Promise<void> {
  const ipPath = findProgram('ip');
  if (ipPath === null || !(await namespaceExists(ns))) return;
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const r = await run(ipPath, ['netns', 'pids', ns], { timeoutMs: 10_000 });
    const pids = r.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
    await sleep(200);
  }
  await run(ipPath, ['netns', 'del', ns], { timeoutMs: 10_000 });
}

/** Sysctls of a fresh namespace: IPv6 on, no forwarding. */
async function namespaceBasics(ns: string): Promise<void> {
  await mustRun(program('ip'), ['netns', 'exec', ns, program('sysctl'), '-qw',
    'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0',
    'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.forwarding=0'], { timeoutMs: 10_000 });
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** The two namespaces joined by a veth pair, offloads off, addresses up (no DAD wait). */
export async function setupPair(): Promise<void> {
  await removeNamespace(NS_CLIENT);
  await removeNamespace(NS_SERVER);
  await ip(['netns', 'add', NS_CLIENT]);
  await ip(['netns', 'add', NS_SERVER]);
  await ip(['link', 'add', IF_CLIENT, 'netns', NS_CLIENT, 'type', 'veth', 'peer', 'name', IF_SERVER, 'netns', NS_SERVER]);
  for (const [ns, ifc, a4, a6] of [[NS_CLIENT, IF_CLIENT, CLIENT4, CLIENT6], [NS_SERVER, IF_SERVER, SERVER4, SERVER6]] as const) {
    await namespaceBasics(ns);
    await mustRun(program('ip'), ['netns', 'exec', ns, program('ethtool'), '-K', ifc, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { timeoutMs: 10_000 });
    await ip(['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', ifc]);
    await ip(['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', ifc, 'nodad']);
    if (ns === NS_SERVER) await ip(['-n', ns, 'addr', 'add', `${SERVER4_SLOW}/24`, 'dev', ifc]);
    await ip(['-n', ns, 'link', 'set', ifc, 'up']);
  }
  for (let i = 0; i < 50; i++) {
    const c = await ip(['-n', NS_CLIENT, 'link', 'show', IF_CLIENT]);
    const s = await ip(['-n', NS_SERVER, 'link', 'show', IF_SERVER]);
    const t1 = await ip(['-n', NS_CLIENT, 'addr', 'show', 'tentative']);
    const t2 = await ip(['-n', NS_SERVER, 'addr', 'show', 'tentative']);
    if (c.stdout.includes('state UP') && s.stdout.includes('state UP') && !/inet6/.test(t1.stdout + t2.stdout)) return;
    await sleep(100);
  }
  throw new Error(`the veth pair between ${NS_CLIENT} and ${NS_SERVER} does not come up`);
}

/** A namespace with nothing but its loopback, up (MTU 65536, offloads as the kernel sets them). */
export async function setupLoopbackNamespace(): Promise<void> {
  await removeNamespace(NS_LOOP);
  await ip(['netns', 'add', NS_LOOP]);
  await namespaceBasics(NS_LOOP);
}

/** Sets sysctls inside a namespace (the network ones are the namespace's own). */
export async function sysctlIn(ns: string, settings: string[]): Promise<void> {
  await mustRun(program('ip'), ['netns', 'exec', ns, program('sysctl'), '-qw', ...settings], { timeoutMs: 10_000 });
}

/** The MTU of an interface in a namespace. */
export async function mtu(ns: string, ifc: string): Promise<number | null> {
  const r = await run(program('ip'), ['-n', ns, 'link', 'show', ifc], { timeoutMs: 10_000 });
  const m = /mtu (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

/** Waits (at most `timeoutMs`) until the namespace has no TCP connection left but listeners and TIME-WAIT. */
export async function waitConnectionsClosed(ns: string, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await runIn(ns, program('ss'), ['-Htan'], { timeoutMs: 5000 });
    const open = r.stdout.split('\n').filter((l) => l.trim() !== '' && !/^(TIME-WAIT|LISTEN)\b/.test(l.trim()));
    if (open.length === 0) return true;
    await sleep(100);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Temporary directory, files, user
// ---------------------------------------------------------------------------

const tempDirs: string[] = [];

/** A temporary directory, readable by the FTP user's session (removed at cleanup). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  tempDirs.push(d);
  return d;
}

/** Writes the served tree: files (path -> content), directories 755, files 644. */
export function writeTree(root: string, files: Record<string, Buffer | string>, writableDirs: string[] = []): void {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  for (const [rel, content] of Object.entries(files)) {
    const file = join(root, rel);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(file, content);
    chmodSync(file, 0o644);
  }
  for (const d of writableDirs) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), 0o755);
  }
}

let createdUser = false;

function userComment(): string | null {
  const r = spawnSync(program('getent'), ['passwd', FTP_USER], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return r.stdout.trim().split(':')[4] ?? '';
}

/** The local FTP user, its home the served tree, with writable dirs owned by it. */
export async function setupUser(home: string, writableDirs: string[]): Promise<void> {
  const comment = userComment();
  if (comment === null) {
    await mustRun(program('useradd'), ['--no-create-home', '--home-dir', home, '--shell', '/bin/sh', '--comment', USER_GECOS, FTP_USER]);
  } else if (comment !== USER_GECOS) {
    throw new Error(`a user '${FTP_USER}' exists and was not made by these tests; not touching it`);
  }
  createdUser = true;
  // vsftpd changes to the home directory before local_root: make it the served tree.
  await mustRun(program('usermod'), ['--home', home, FTP_USER]);
  await mustRun(program('chpasswd'), [], { input: `${FTP_USER}:${FTP_PASS}\n` });
  const uid = Number(spawnSync(program('id'), ['-u', FTP_USER], { encoding: 'utf8' }).stdout.trim());
  for (const d of writableDirs) chownSync(join(home, d), uid, -1);
}

function removeUser(): void {
  if (!createdUser) {
    // left over by an interrupted run: ours if the comment says so
    if (userComment() !== USER_GECOS) return;
  }
  const userdel = findProgram('userdel');
  if (userdel !== null && userComment() === USER_GECOS) spawnSync(userdel, [FTP_USER], { stdio: 'ignore', timeout: 10_000 });
  createdUser = false;
}

// ---------------------------------------------------------------------------
// vsftpd
// ---------------------------------------------------------------------------

export interface VsftpdOptions {
  /** Where it serves from (anonymous users and the local user alike). */
  root: string;
  /** The address to listen on; an IPv6 address makes an IPv6 listener. */
  address: string;
  /** Its configuration file and log go here. */
  dir: string;
  tag: string;
  /** More "option=value" lines (vsftpd takes the last value of an option given twice). */
  extra?: string[];
}

/** vsftpd's configuration: the settings of make-fixtures.sh, listening on one address. */
export function vsftpdConfig(o: VsftpdOptions): string {
  const v6 = o.address.includes(':');
  return [
    ...(v6 ? ['listen=NO', 'listen_ipv6=YES', `listen_address6=${o.address}`] : ['listen=YES', 'listen_ipv6=NO', `listen_address=${o.address}`]),
    'background=NO',
    'seccomp_sandbox=NO',
    'ftpd_banner=ftpscope live test server (vsftpd)',
    'anonymous_enable=YES',
    'no_anon_password=NO',
    `anon_root=${o.root}`,
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    `local_root=${o.root}`,
    'chroot_local_user=YES',
    'pam_service_name=vsftpd',
    'secure_chroot_dir=/var/run/vsftpd/empty',
    'hide_ids=YES',
    'use_localtime=NO',
    'dirmessage_enable=NO',
    'pasv_enable=YES',
    'pasv_min_port=50000',
    'pasv_max_port=50999',
    'port_enable=YES',
    'connect_from_port_20=YES',
    'ssl_enable=NO',
    'max_clients=0',
    'max_per_ip=0',
    'xferlog_enable=YES',
    'xferlog_std_format=NO',
    'log_ftp_protocol=YES',
    `vsftpd_log_file=${join(o.dir, `vsftpd-${o.tag}.log`)}`,
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

/** Starts vsftpd in a namespace and waits (at most 5 s) until it listens on port 21 of its address. */
export async function startVsftpd(ns: string, o: VsftpdOptions): Promise<Background> {
  mkdirSync('/var/run/vsftpd/empty', { recursive: true });
  const conf = join(o.dir, `vsftpd-${o.tag}.conf`);
  writeFileSync(conf, vsftpdConfig(o));
  writeFileSync(join(o.dir, `vsftpd-${o.tag}.log`), '');
  const server = backgroundIn(ns, `vsftpd (${o.tag})`, program('vsftpd'), [conf]);
  const want = o.address.includes(':') ? `[${o.address}]:21` : `${o.address}:21`;
  for (let i = 0; i < 50; i++) {
    const r = await runIn(ns, program('ss'), ['-Hltn', 'sport = :21'], { timeoutMs: 5000 });
    if (r.stdout.includes(want)) return server;
    if (!server.running) break;
    await sleep(100);
  }
  server.kill();
  throw new Error(`vsftpd does not listen on ${want}: ${tail(server.stderr || server.stdout)}`);
}

/** The end of vsftpd's log, for failure messages. */
export function vsftpdLog(dir: string, tag: string): string {
  try {
    return tail(readFileSync(join(dir, `vsftpd-${tag}.log`), 'utf8'), 2000);
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------
// ftpscope live
// ---------------------------------------------------------------------------

/**
 * Starts `ftpscope live ARGS` inside a namespace and waits until it captures: a line on stderr saying
 * so ("capturing on ..." or "listening on ..."), or 1.5 s without it. Throws if it ends first.
 */
export async function startLive(ns: string, args: string[]): Promise<Background> {
  const live = backgroundIn(ns, 'ftpscope live', process.execPath, [BIN, 'live', ...args]);
  const said = await live.waitFor(() => /capturing|listening/i.test(live.stderr), 1500, 'ftpscope to start capturing');
  // Without a word on stderr, the 1.5 s above is the margin; with one, a little more for the capture
  // to be in place.
  if (said) await sleep(150);
  return live;
}

/**
 * Stops a live run the way a user does: waits for the clients' connections to close (bounded), gives
 * ftpscope a moment to read the last packets, then SIGINT; waits at most 15 s for it to end.
 */
export async function stopLive(live: Background, ns: string, signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  await waitConnectionsClosed(ns);
  await sleep(400);
  return live.stop(signal, 15_000);
}

/** No sign on stderr that something crashed (a stack trace, a failed native assertion, an abort). */
export function assertNoCrash(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `${what}: a stack trace on stderr:\n${tail(stderr)}`);
  assert.doesNotMatch(stderr, /Assertion failed|Aborted|Segmentation fault|FATAL ERROR|heap out of memory/i, `${what}: crashed:\n${tail(stderr)}`);
}

/** The lines of --format ndjson output, parsed; a line that is not JSON fails, naming it. */
export function parseNdjson<T = Record<string, unknown>>(text: string): T[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as T;
    } catch {
      throw new Error(`ndjson line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
    }
  });
}

// ---------------------------------------------------------------------------
// Classic pcap, read just enough to check a written file
// ---------------------------------------------------------------------------

export interface PcapFacts {
  /** 'usec' or 'nsec', and the byte order. */
  resolution: 'usec' | 'nsec';
  littleEndian: boolean;
  snapLength: number;
  linkType: number;
  records: number;
  /** Largest original (on the wire) and captured lengths. */
  maxOrigLen: number;
  maxCapLen: number;
  /** Records whose captured length is below the original length. */
  cutRecords: number;
  /** Bytes after the last whole record (a record being written). */
  trailingBytes: number;
}

/** The header and record lengths of a classic pcap file; throws if it is not one. */
export function readPcapFacts(data: Buffer): PcapFacts {
  if (data.length < 24) throw new Error(`not a pcap file: only ${data.length} bytes`);
  const magicLE = data.readUInt32LE(0);
  let littleEndian: boolean;
  let resolution: 'usec' | 'nsec';
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    littleEndian = true;
    resolution = magicLE === 0xa1b2c3d4 ? 'usec' : 'nsec';
  } else {
    const magicBE = data.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new Error(`not a classic pcap file: magic 0x${magicLE.toString(16)}`);
    littleEndian = false;
    resolution = magicBE === 0xa1b2c3d4 ? 'usec' : 'nsec';
  }
  const u32 = (off: number): number => (littleEndian ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const facts: PcapFacts = { resolution, littleEndian, snapLength: u32(16), linkType: u32(20) & 0x0fffffff, records: 0, maxOrigLen: 0, maxCapLen: 0, cutRecords: 0, trailingBytes: 0 };
  let off = 24;
  while (off + 16 <= data.length) {
    const capLen = u32(off + 8);
    const origLen = u32(off + 12);
    if (off + 16 + capLen > data.length) break;
    facts.records++;
    facts.maxCapLen = Math.max(facts.maxCapLen, capLen);
    facts.maxOrigLen = Math.max(facts.maxOrigLen, origLen);
    if (capLen < origLen) facts.cutRecords++;
    off += 16 + capLen;
  }
  facts.trailingBytes = data.length - off;
  return facts;
}

// ---------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------

/** Everything made here goes: processes (by pid), namespaces, the user, temporary directories. */
export async function cleanupAll(): Promise<void> {
  killOurChildren();
  for (const ns of [NS_CLIENT, NS_SERVER, NS_LOOP, NS_PROBE]) {
    try {
      await removeNamespace(ns);
    } catch {
      // best effort: go on with the rest
    }
  }
  try {
    removeUser();
  } catch {
    // best effort
  }
  if (process.env.FTPSCOPE_KEEP_LIVE !== '1') {
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  } else if (tempDirs.length > 0) {
    process.stderr.write(`live tests: kept ${tempDirs.join(', ')}\n`);
  }
}
