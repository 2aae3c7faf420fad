/**
 * The long fuzzing run: `npm run fuzz -- --cases 20000 --seed 1 --level all --time 600`.
 *
 * Generates cases (see cases.ts) at the levels asked, runs them in worker threads under a time bound and a
 * memory bound, prints progress and a summary, and saves each new failure (one input per distinct
 * failure: kind, place, error, first frame in src/) into test/fuzz-regressions/, named after what failed
 * and the case's seed, made smaller first when it fails quickly. Failures the files already there show are
 * not saved again. Checks along the way that the analyser still gives the same result on a fixture.
 *
 * Options: --cases N (default 20000), --seed S (default: from the clock; printed), --level
 * file|packet|ftp|all, --time SECONDS (stop earlier), --workers N (default 2), --timeout MS (default 5000),
 * --memory MIB (default 512), --out DIR, --no-save, --no-minimise, --save-all (every failing input, not
 * one per distinct failure); --replay LEVEL:SEED or --replay FILE runs one case and shows its failures in
 * full (stacks included), --write FILE also saves the case's bytes. --hostile [SCALE] runs instead the
 * inputs built to make the work grow (hostile.ts) at two sizes 4x apart, and fails past 5x the time or past
 * the memory budget; then the inputs built to fool it (hostile-inputs.ts).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LEVELS, generateCase, type Level } from './cases.js';
import { loadCorpus } from './corpus.js';
import { regressionName, seedOfName, signature, type Failure } from './failures.js';
import { minimise } from './minimise.js';
import { FuzzPool } from './pool.js';
import { caseSeed } from './random.js';
import { runHostile } from './hostile.js';
import { runHostileInputs } from './hostile-inputs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Args {
  cases: number;
  seed: number;
  levels: readonly Level[];
  time: number;
  workers: number;
  timeout: number;
  memory: number;
  out: string;
  save: boolean;
  minimise: boolean;
  saveAll: boolean;
  replay: string | null;
  write: string | null;
  /** --hostile [SCALE]: the inputs built to make the work grow (hostile.ts), at their sizes times SCALE. */
  hostile: number | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    cases: 20000,
    seed: Date.now() % 0x7fffffff,
    levels: LEVELS,
    time: 0,
    workers: Math.max(1, Math.min(2, availableParallelism())),
    timeout: 5000,
    memory: 512,
    out: join(ROOT, 'test', 'fuzz-regressions'),
    save: true,
    minimise: true,
    saveAll: false,
    replay: null,
    write: null,
    hostile: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${k} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 0) usage(`${k} takes a number`);
      return v;
    };
    switch (k) {
      case '--cases': a.cases = Math.floor(num()); break;
      case '--seed': a.seed = Math.floor(num()) >>> 0; break;
      case '--level': {
        const l = value();
        if (l === 'all') a.levels = LEVELS;
        else if ((LEVELS as readonly string[]).includes(l)) a.levels = [l as Level];
        else usage(`--level takes file, packet, ftp or all, not ${l}`);
        break;
      }
      case '--time': a.time = num(); break;
      case '--workers': a.workers = Math.max(1, Math.floor(num())); break;
      case '--timeout': a.timeout = num(); break;
      case '--memory': a.memory = num(); break;
      case '--out': a.out = value(); break;
      case '--no-save': a.save = false; break;
      case '--no-minimise': case '--no-minimize': a.minimise = false; break;
      case '--save-all': a.saveAll = true; break;
      case '--replay': a.replay = value(); break;
      case '--hostile': a.hostile = /^\d+(\.\d+)?$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 1; break;
      case '--write': a.write = value(); break;
      case '-h': case '--help': usage(null); break;
      default: usage(`unknown option ${k}`);
    }
  }
  return a;
}

function usage(error: string | null): never {
  const text = 'usage: npm run fuzz -- [--cases N] [--seed S] [--level file|packet|ftp|all] [--time SECONDS] [--workers N] [--timeout MS] [--memory MIB] [--out DIR] [--no-save] [--no-minimise] [--save-all] | --replay LEVEL:SEED|FILE [--write FILE] | --hostile [SCALE]';
  if (error === null) {
    process.stdout.write(`${text}\n`);
    process.exit(0);
  }
  process.stderr.write(`fuzz: ${error}\n${text}\n`);
  process.exit(2);
}

interface Distinct {
  signature: string;
  failure: Failure;
  level: Level | 'regression';
  seed: number;
  description: string;
  count: number;
  file: string | null;
  bytes: Buffer;
}

interface LevelStats {
  cases: number;
  failing: number;
  ms: number;
  slowest: { ms: number; seed: number };
  memory: { bytes: number; seed: number };
  records: number;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

async function run(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.hostile !== null) {
    const over = await runHostile(args.hostile);
    process.stdout.write(over.length === 0 ? 'hostile: every time grew at most 5x for inputs 4x larger, and memory stayed within the budget\n' : `hostile: ${over.length} over the bound:\n${over.join('\n')}\n`);
    const problems = await runHostileInputs();
    process.stdout.write(problems.length === 0 ? 'hostile inputs: every one held\n' : `hostile inputs: ${problems.length} problem(s):\n${problems.join('\n')}\n`);
    return over.length === 0 && problems.length === 0 ? 0 : 1;
  }
  const fixtures = join(ROOT, 'fixtures');
  const corpus = await loadCorpus(fixtures);
  const pool = new FuzzPool({ workers: args.workers, timeoutMs: args.timeout, memoryLimit: args.memory * 2 ** 20 });
  if (args.replay !== null) return replay(args, corpus, pool);
  const referencePath = join(fixtures, 'active-ls-pwd.pcap');
  const reference = (await pool.reference(referencePath))[0]!;
  process.stdout.write(`fuzz: seed ${args.seed}, ${args.cases} cases, levels ${args.levels.join(', ')}, ${args.workers} workers, ` +
    `${args.timeout} ms and ${args.memory} MiB per case, corpus ${corpus.captures.length} captures${args.time > 0 ? `, at most ${args.time} s` : ''}\n`);

  // What the regression files already show: those failures are not saved again.
  const known = new Map<string, string>();
  const stillFailing: string[] = [];
  if (existsSync(args.out)) {
    for (const name of readdirSync(args.out).sort()) {
      if (/\.(md|txt)$/.test(name)) continue;
      const r = await pool.run(name, seedOfName(name), readFileSync(join(args.out, name)));
      for (const f of r.failures) known.set(signature(f), name);
      if (r.failures.length > 0) stillFailing.push(`${name}: ${r.failures.map((f) => `${f.kind} in ${f.where}`).join('; ')}`);
    }
    if (stillFailing.length > 0) process.stdout.write(`fuzz: ${stillFailing.length} regression file(s) still fail:\n${stillFailing.map((l) => `  ${l}\n`).join('')}`);
  }

  const stats = new Map<Level, LevelStats>(args.levels.map((l) => [l, { cases: 0, failing: 0, ms: 0, slowest: { ms: 0, seed: 0 }, memory: { bytes: 0, seed: 0 }, records: 0 }]));
  const distinct = new Map<string, Distinct>();
  let totalFailures = 0;
  let generatorErrors = 0;
  const began = performance.now();
  let lastProgress = began;
  let done = 0;
  let started = 0;
  const referenceChanges: string[] = [];
  const deadline = args.time > 0 ? began + args.time * 1000 : Infinity;

  const save = (d: Distinct, bytes: Buffer) => {
    if (!args.save) return;
    mkdirSync(args.out, { recursive: true });
    d.file = regressionName(d.failure, d.level, d.seed);
    writeFileSync(join(args.out, d.file), bytes);
  };

  const one = async (index: number): Promise<void> => {
    const level = args.levels[index % args.levels.length]!;
    const seed = caseSeed(args.seed, index);
    let c: ReturnType<typeof generateCase>;
    try {
      c = generateCase(level, seed, corpus);
    } catch (e) {
      // A bug of the fuzzer, not of ftpscope: told, and the run goes on.
      if (generatorErrors++ === 0) process.stdout.write(`\nfuzz: the generator failed (${level}, seed ${seed}): ${e instanceof Error ? e.stack : String(e)}\n`);
      done++;
      return;
    }
    const r = await pool.run(`${level}-s${seed}`, seed, c.bytes);
    const st = stats.get(level)!;
    st.cases++;
    st.ms += r.ms;
    if (r.ms > st.slowest.ms) st.slowest = { ms: r.ms, seed };
    if (r.stats !== null) {
      st.records += r.stats.records;
      if (r.stats.memory > st.memory.bytes) st.memory = { bytes: r.stats.memory, seed };
    }
    if (r.failures.length > 0) {
      st.failing++;
      totalFailures += r.failures.length;
    }
    for (const f of r.failures) {
      const sig = signature(f);
      const d = distinct.get(sig);
      if (d !== undefined) {
        d.count++;
        if (args.saveAll) save({ ...d, seed }, c.bytes);
        continue;
      }
      const nd: Distinct = { signature: sig, failure: f, level, seed, description: c.description, count: 1, file: null, bytes: c.bytes };
      distinct.set(sig, nd);
      if (!known.has(sig)) {
        save(nd, c.bytes);
        process.stdout.write(`\nfuzz: NEW ${f.kind} in ${f.where} (${level}, seed ${seed}): ${f.message}${nd.file ? ` -> ${nd.file}` : ''}\n`);
      }
    }
    done++;
    const now = performance.now();
    if (now - lastProgress > 2000) {
      lastProgress = now;
      const s = (now - began) / 1000;
      process.stdout.write(`fuzz: ${done}/${args.cases} cases, ${s.toFixed(0)} s, ${(done / s).toFixed(1)}/s, ${distinct.size} distinct failure(s), ${totalFailures} in all\n`);
    }
  };

  // Keep every worker busy: twice as many cases in flight as workers (generation runs meanwhile).
  const inFlight = new Set<Promise<void>>();
  while (started < args.cases && performance.now() < deadline) {
    const p = one(started++).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= args.workers * 2) await Promise.race(inFlight);
    if (started % 2000 === 0) {
      await Promise.all(inFlight);
      for (const text of await pool.reference(referencePath)) if (text !== reference) referenceChanges.push(`after ${started} cases`);
    }
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - began) / 1000;
  for (const text of await pool.reference(referencePath)) if (text !== reference) referenceChanges.push('at the end');

  // Smaller inputs for the new failures: 150 tries, or 30 for a hang (each try that still hangs takes the
  // whole time bound); none for memory.
  if (args.save && args.minimise) {
    for (const d of distinct.values()) {
      if (known.has(d.signature) || d.file === null || d.failure.kind === 'memory') continue;
      const small = await minimise(d.bytes, async (b) => {
        const r = await pool.run('minimise', d.seed, b);
        return r.failures.some((f) => signature(f) === d.signature);
      }, d.failure.kind === 'hang' ? 30 : 150);
      if (small.length < d.bytes.length) {
        writeFileSync(join(args.out, d.file), small);
        process.stdout.write(`fuzz: ${d.file}: ${d.bytes.length} -> ${small.length} bytes\n`);
      }
    }
  }
  await pool.close();

  // Summary.
  const out: string[] = ['', `fuzz: ${done} cases in ${elapsed.toFixed(1)} s (${(done / elapsed).toFixed(1)}/s), seed ${args.seed}`];
  for (const [level, st] of stats) {
    if (st.cases === 0) continue;
    out.push(`  ${level.padEnd(6)} ${String(st.cases).padStart(6)} cases, ${String(st.failing).padStart(5)} failing, mean ${(st.ms / st.cases).toFixed(0)} ms, ` +
      `slowest ${st.slowest.ms.toFixed(0)} ms (seed ${st.slowest.seed}), most memory ${mib(st.memory.bytes)} (seed ${st.memory.seed}), ${st.records} records`);
  }
  if (generatorErrors > 0) out.push(`  the generator itself failed ${generatorErrors} time(s) (a bug of the fuzzer; see above)`);
  out.push(`  reference (active-ls-pwd.pcap) after the cases: ${referenceChanges.length === 0 ? 'unchanged' : `CHANGED ${referenceChanges.join(', ')}`}`);
  out.push(`  ${distinct.size} distinct failure(s), ${totalFailures} failure(s) in all${pool.generations.some((g) => g > 0) ? `, workers replaced: ${pool.generations.join(', ')}` : ''}`);
  for (const d of [...distinct.values()].sort((a, b) => b.count - a.count)) {
    const f = d.failure;
    out.push(`  - ${f.kind} in ${f.where}: ${f.message}`);
    out.push(`      ${d.count} case(s); first: ${d.level} seed ${d.seed} (${d.description.slice(0, 160)})`);
    out.push(`      ${known.has(d.signature) ? `known: ${known.get(d.signature)}` : d.file !== null ? `saved: ${d.file}` : 'not saved'}`);
    if (f.detail) out.push(`      ${f.detail.slice(0, 300)}`);
    const frames = (f.stack ?? '').split('\n').slice(1).filter((l) => l.includes('/src/')).slice(0, 4);
    for (const l of frames) out.push(`      ${l.trim().replace(/file:\/\/.*?\/dist\//, 'dist/')}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return distinct.size > 0 || referenceChanges.length > 0 ? 1 : 0;
}

/** One case, by level and seed or from a file, with its failures in full. */
async function replay(args: Args, corpus: Awaited<ReturnType<typeof loadCorpus>>, pool: FuzzPool): Promise<number> {
  const m = /^(file|packet|ftp):(\d+)$/.exec(args.replay!);
  let bytes: Buffer;
  let seed: number;
  if (m !== null) {
    seed = Number(m[2]);
    const c = generateCase(m[1] as Level, seed, corpus);
    bytes = c.bytes;
    process.stdout.write(`case ${m[1]}:${seed}: ${c.description}\n`);
  } else {
    bytes = readFileSync(args.replay!);
    seed = seedOfName(args.replay!);
  }
  if (args.write !== null) writeFileSync(args.write, bytes);
  const r = await pool.run(args.replay!, seed, bytes);
  await pool.close();
  process.stdout.write(`${bytes.length} bytes, ${r.ms.toFixed(0)} ms${r.stats ? `, ${r.stats.records} records, ${r.stats.sessions} sessions, ${mib(r.stats.memory)}` : ''}\n`);
  for (const f of r.failures) {
    process.stdout.write(`${f.kind} in ${f.where}: ${f.message}\n${f.detail ? `  ${f.detail}\n` : ''}${f.stack ? `${f.stack}\n` : ''}`);
  }
  if (r.failures.length === 0) process.stdout.write('no failure\n');
  return r.failures.length > 0 ? 1 : 0;
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
