/**
 * Long-run mutation fuzzing: `npm run fuzz -- --minutes N --format F`.
 *
 * Mutants of valid seed files (written by tensio) run in a child process with a heap
 * cap; this parent watches it: no answer within `--hang-ms` is a hang (the child is
 * killed), a child that dies is a crash (a heap out-of-memory counts as memory), a peak
 * RSS over `--max-mb` is memory, an answer over `--slow-ms` is slow. Each new kind of
 * failure is kept under `--out` (default `fuzz-failures/`, git-ignored) with an
 * `info.json`; counts are printed as it goes and at the end.
 *
 * Options: --format F (repeatable, or `all`; `--list` shows them), --minutes N (per
 * format, default 1), --inputs N (stop a format after N inputs, whichever comes first), --seed S (run seed, default the clock), --max-mb M (default 512),
 * --hang-ms (CPU time on one input, default 10000), --slow-ms (CPU time,
 * default 2000), --out DIR, --nice N (worker
 * priority, default 19: the machine is shared).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { isFuzzFailure, saveFuzzFailure, type FuzzOutcomeClass, type FuzzResult } from './outcome.js';
import { fuzzTargets } from './targets.js';

const { values } = parseArgs({
  options: {
    format: { type: 'string', multiple: true, default: [] },
    minutes: { type: 'string', default: '1' },
    inputs: { type: 'string' },
    seed: { type: 'string' },
    'max-mb': { type: 'string', default: '512' },
    'hang-ms': { type: 'string', default: '10000' },
    'slow-ms': { type: 'string', default: '2000' },
    out: { type: 'string', default: 'fuzz-failures' },
    nice: { type: 'string', default: '19' },
    list: { type: 'boolean', default: false },
  },
});

const targets = fuzzTargets();
if (values.list || values.format.length === 0) {
  console.log(`fuzz targets: ${[...targets.keys()].join(', ')}\nusage: npm run fuzz -- --format NAME|all [--minutes N] [--seed S] [--max-mb M]`);
  process.exit(values.list ? 0 : 2);
}
const names = values.format.includes('all') ? [...targets.keys()] : values.format;
for (const name of names) if (!targets.has(name)) throw new Error(`unknown format ${name}; try --list`);
const minutes = Number(values.minutes);
const maxInputs = values.inputs !== undefined ? Number(values.inputs) : Number.POSITIVE_INFINITY;
const maxMB = Number(values['max-mb']);
const hangMs = Number(values['hang-ms']);
const slowMs = Number(values['slow-ms']);
const outDir = resolve(values.out);
const runSeed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Counts of one format's run. */
interface Tally {
  format: string;
  runSeed: number;
  inputs: number;
  byClass: Record<FuzzOutcomeClass, number>;
  byCode: Record<string, number>;
  newFailures: number;
  seconds: number;
}

async function fuzzFormat(name: string): Promise<Tally> {
  const target = targets.get(name)!;
  const scratch = await mkdtemp(join(tmpdir(), `tensio-fuzz-${name}-`));
  const seedDir = join(scratch, 'seeds');
  await mkdir(seedDir);
  const seeds = await target.seeds(seedDir);
  if (seeds.length === 0) throw new Error(`${name}: no seed could be written`);
  const workDir = join(scratch, 'work');
  const tally: Tally = { format: name, runSeed, inputs: 0, byClass: { ok: 0, tensio: 0, exception: 0, hang: 0, crash: 0, memory: 0, slow: 0 }, byCode: {}, newFailures: 0, seconds: 0 };
  const started = Date.now();
  const deadline = started + minutes * 60_000;
  let next = 0;
  let child: ChildProcess | undefined;
  let lastHeard = Date.now();
  let cpuAtLastAnswer = 0;
  let stderrTail = '';

  let reachedInputs = () => {};
  const record = (result: Pick<FuzzResult, 'outcome' | 'detail'>) => {
    tally.inputs++;
    if (tally.inputs >= maxInputs) reachedInputs();
    tally.byClass[result.outcome]++;
    if (result.outcome === 'tensio') tally.byCode[result.detail!] = (tally.byCode[result.detail!] ?? 0) + 1;
  };
  const keep = async (outcome: FuzzOutcomeClass, detail: string, index: number) => {
    // The dead worker's last input is still on disk; which seed it came from is in its name.
    const current = (await readdir(workDir).catch(() => [] as string[]))[0];
    if (current === undefined) return;
    if (await saveFuzzFailure(outDir, name, join(workDir, current), { outcome, detail, index, runSeed })) tally.newFailures++;
  };

  const spawnWorker = () => {
    lastHeard = Date.now();
    stderrTail = '';
    const proc = fork(workerPath, [], {
      execArgv: ['--import', 'tsx', `--max-old-space-size=${Math.max(64, Math.floor(maxMB * 0.75))}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    try {
      setPriority(proc.pid!, Number(values.nice));
    } catch {
      // not permitted: run at the inherited priority
    }
    proc.stderr!.on('data', (chunk: Buffer) => { stderrTail = (stderrTail + chunk.toString()).slice(-4000); });
    cpuAtLastAnswer = 0;
    proc.on('message', (result: FuzzResult) => {
      lastHeard = Date.now();
      cpuAtLastAnswer = cpuMs(proc.pid!) ?? 0;
      record(result);
      next = result.index + 1;
      if (isFuzzFailure(result.outcome)) {
        console.log(`${name}: ${result.outcome} at mutant ${result.index}: ${result.detail ?? ''} ${result.where ?? ''}`);
      }
    });
    proc.send({ target: name, seeds, runSeed, from: next, workDir, outDir, slowMs, maxMB });
    return proc;
  };

  await new Promise<void>((done) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      clearInterval(progress);
      child?.removeAllListeners('exit');
      child?.kill('SIGKILL');
      done();
    };
    const onExit = async (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      if (Date.now() >= deadline) return finish();
      // Exit 0 after a memory report is the worker's own restart request; anything else died on an input.
      if (code !== 0 || signal !== null) {
        const outOfMemory = /heap out of memory|Allocation failed/i.test(stderrTail);
        const outcome: FuzzOutcomeClass = signal === 'SIGKILL' && killedForHang ? 'hang' : outOfMemory ? 'memory' : 'crash';
        const detail = outcome === 'hang' ? `over ${hangMs} ms of CPU on one input` : `exit ${code ?? signal}: ${stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`;
        // Keep the input before counting it: the count can end the run, which removes the work folder.
        await keep(outcome, detail, next);
        record({ outcome, detail });
        console.log(`${name}: ${outcome} at mutant ${next}: ${detail}`);
        next += 1;
      }
      killedForHang = false;
      child = spawnWorker();
      child.on('exit', onExit);
    };
    let killedForHang = false;
    reachedInputs = finish;
    child = spawnWorker();
    child.on('exit', onExit);
    const watchdog = setInterval(() => {
      if (Date.now() >= deadline) return finish();
      if (!child || killedForHang) return;
      // A hang is CPU time spent on one input (a niced worker on a busy machine may simply
      // be waiting for a core); wall time only counts where /proc is missing, 30 times over.
      const cpu = cpuMs(child.pid!);
      const stuck = cpu === undefined ? Date.now() - lastHeard > hangMs * 30 : cpu - cpuAtLastAnswer > hangMs;
      if (stuck) {
        killedForHang = true;
        child.kill('SIGKILL');
      }
    }, 250);
    const progress = setInterval(() => console.log(line(tally, started)), 30_000);
  });
  tally.seconds = Math.round((Date.now() - started) / 1000);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(outDir, name), { recursive: true });
  await writeFile(join(outDir, name, `summary-${runSeed}.json`), `${JSON.stringify(tally, null, 2)}\n`);
  return tally;
}

/** CPU milliseconds (user + system) process `pid` has used, from /proc; undefined elsewhere. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
}

function line(tally: Tally, started: number): string {
  const seconds = Math.max(1, (Date.now() - started) / 1000);
  const failures = (['exception', 'hang', 'crash', 'memory', 'slow'] as const).map((c) => `${c} ${tally.byClass[c]}`).join(', ');
  return `${tally.format}: ${tally.inputs} inputs (${Math.round(tally.inputs / seconds)}/s): ok ${tally.byClass.ok}, TensioError ${tally.byClass.tensio}, ${failures}`;
}

const tallies: Tally[] = [];
for (const name of names) {
  console.log(`fuzzing ${name} for ${minutes} min (run seed ${runSeed}, heap ${maxMB} MB, hang ${hangMs} ms, slow ${slowMs} ms)`);
  const tally = await fuzzFormat(name);
  tallies.push(tally);
  console.log(line(tally, Date.now() - tally.seconds * 1000));
  console.log(`  TensioError codes: ${Object.entries(tally.byCode).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`);
  console.log(`  new failure kinds kept: ${tally.newFailures} (under ${join(outDir, name)})`);
}
const failed = tallies.some((tally) => (['exception', 'hang', 'crash', 'memory'] as const).some((c) => tally.byClass[c] > 0));
process.exit(failed ? 1 : 0);
