/**
 * Long-run mutation fuzzing: `npm run fuzz -- --minutes N --format F`.
 *
 * Mutants of valid seed files (written by tensio) run in one child process at a time,
 * many in a loop (`worker.ts`), with a heap cap; this parent counts what the worker
 * reports in batches and watches it. When the worker stops reporting (more than
 * `--hang-ms` of CPU since its last report, or idle for a minute: a hang) or dies (a
 * crash; a heap out-of-memory counts as memory), or says its peak memory went over
 * `--max-mb`, the parent starts a fresh worker that re-runs the inputs since the last
 * report alone, one by one, each reported, so the failure is pinned to one input (each
 * mutant regenerates from the run seed and its index). Each new kind of failure is kept
 * under `--out` (default `fuzz-failures/`, git-ignored) with an `info.json`; counts are
 * printed as it goes and at the end.
 *
 * Options: --format F (repeatable, or `all`; `--list` shows them), --minutes N (per
 * format, default 1), --inputs N (stop a format after N inputs, whichever comes first),
 * --seed S (run seed, default the clock), --max-mb M (default 512), --hang-ms (CPU time
 * on one input, default 10000), --slow-ms (CPU time, default 2000), --report-ms (how
 * often a worker reports, default 500), --out DIR, --nice N (worker priority, default
 * 19: the machine is shared).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadSeeds, mutantOf } from './inputs.js';
import { addCounts, emptyCounts, saveFuzzFailure, type FuzzCounts, type FuzzOutcomeClass } from './outcome.js';
import { fuzzTargets } from './targets.js';
import type { WorkerMessage, WorkerStart } from './worker.js';

const { values } = parseArgs({
  options: {
    format: { type: 'string', multiple: true, default: [] },
    minutes: { type: 'string', default: '1' },
    inputs: { type: 'string' },
    seed: { type: 'string' },
    'max-mb': { type: 'string', default: '512' },
    'hang-ms': { type: 'string', default: '10000' },
    'slow-ms': { type: 'string', default: '2000' },
    'report-ms': { type: 'string', default: '500' },
    out: { type: 'string', default: 'fuzz-failures' },
    nice: { type: 'string', default: '19' },
    list: { type: 'boolean', default: false },
  },
});

const targets = fuzzTargets();
if (values.list || values.format.length === 0) {
  console.log(`fuzz targets: ${[...targets.keys()].join(', ')}\nusage: npm run fuzz -- --format NAME|all [--minutes N] [--inputs N] [--seed S] [--max-mb M]`);
  process.exit(values.list ? 0 : 2);
}
const names = values.format.includes('all') ? [...targets.keys()] : values.format;
for (const name of names) if (!targets.has(name)) throw new Error(`unknown format ${name}; try --list`);
const minutes = Number(values.minutes);
const maxInputs = values.inputs !== undefined ? Number(values.inputs) : Number.MAX_SAFE_INTEGER;
const maxMB = Number(values['max-mb']);
const hangMs = Number(values['hang-ms']);
const slowMs = Number(values['slow-ms']);
const reportMs = Number(values['report-ms']);
const outDir = resolve(values.out);
const runSeed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** A worker that is idle (no CPU used) this long without reporting waits on something that never comes: a hang. */
const IDLE_HANG_MS = 60_000;

/** Counts of one format's run. */
interface Tally extends FuzzCounts {
  format: string;
  runSeed: number;
  newFailures: number;
  /** Failures seen in a batch that no input reproduced when re-run alone (flaky, or a leak). */
  unattributed: string[];
  seconds: number;
}

/** A failure seen while inputs ran in a batch, to be pinned to one input by re-running them alone. */
interface Suspect {
  outcome: FuzzOutcomeClass;
  detail: string;
  /** The inputs re-run alone to find it. */
  from: number;
  to: number;
}

async function fuzzFormat(name: string): Promise<Tally> {
  const target = targets.get(name)!;
  // Folder inputs are written per mutant: a RAM disk where there is one.
  const scratch = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `tensio-fuzz-${name}-`));
  const seedDir = join(scratch, 'seeds');
  await mkdir(seedDir);
  const seedPaths = await target.seeds(seedDir);
  if (seedPaths.length === 0) throw new Error(`${name}: no seed could be written`);
  const seeds = await loadSeeds(seedPaths);
  const tally: Tally = { format: name, runSeed, ...emptyCounts(), newFailures: 0, unattributed: [], seconds: 0 };
  const started = Date.now();
  const deadline = started + minutes * 60_000;

  /** First input not counted yet. */
  let next = 0;
  /** Re-running `[next, aloneTo)` one by one (after a failure in a batch), or undefined in batch mode. */
  let aloneTo: number | undefined;
  let suspect: Suspect | undefined;
  let lastBatchSize = 64;
  let child: ChildProcess | undefined;
  let killedForHang = false;
  let lastHeard = Date.now();
  let cpuAtLastAnswer = 0;
  let cpuAtLastTick = 0;
  let idleSince = Date.now();
  let stderrTail = '';

  const recordFailure = async (outcome: FuzzOutcomeClass, detail: string, index: number) => {
    addCounts(tally, { outcome, detail });
    console.log(`${name}: ${outcome} at mutant ${index}: ${detail}`);
    if (await saveFuzzFailure(outDir, name, mutantOf(seeds, runSeed, index), { outcome, detail, runSeed })) tally.newFailures++;
  };
  /** Leaves alone mode at the end of its range; a suspect never reproduced is reported as such. */
  const leaveAloneIfDone = () => {
    if (aloneTo === undefined || next < aloneTo) return;
    if (suspect) {
      const note = `${suspect.outcome} in a batch, not reproduced by inputs ${suspect.from}..${suspect.to - 1} run alone: ${suspect.detail}`;
      tally.unattributed.push(note);
      console.log(`${name}: ${note}`);
    }
    aloneTo = undefined;
    suspect = undefined;
  };
  const enterAlone = (from: number, to: number, outcome: FuzzOutcomeClass, detail: string) => {
    next = from;
    aloneTo = Math.min(to, maxInputs);
    suspect = { outcome, detail, from, to: aloneTo };
  };

  const spawnWorker = () => {
    lastHeard = Date.now();
    idleSince = Date.now();
    stderrTail = '';
    killedForHang = false;
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
    cpuAtLastTick = 0;
    proc.on('message', (message: WorkerMessage) => {
      lastHeard = Date.now();
      cpuAtLastAnswer = cpuMs(proc.pid!) ?? 0;
      if (message.kind === 'batch') {
        addCounts(tally, message.counts);
        tally.newFailures += message.kept;
        lastBatchSize = Math.max(1, message.upTo - next);
        next = message.upTo;
        for (const failure of message.failures) {
          console.log(`${name}: ${failure.outcome} at mutant ${failure.index}: ${failure.detail ?? ''} ${failure.where ?? ''}`);
          if (failure.outcome === suspect?.outcome) suspect = undefined; // pinned to this input
        }
        if (tally.inputs >= maxInputs) finishRun();
      } else if (message.kind === 'memory') {
        enterAlone(message.from, message.to, 'memory', `peak RSS ${message.peakMB} MB over ${maxMB} MB in a batch`);
      }
    });
    const start: WorkerStart = { target: name, seeds: seedPaths, runSeed, from: next, to: aloneTo ?? maxInputs, alone: aloneTo !== undefined, workDir: join(scratch, 'work'), outDir, slowMs, maxMB, reportMs };
    proc.send(start);
    return proc;
  };

  let finishRun = () => {};
  await new Promise<void>((done) => {
    let finished = false;
    finishRun = () => {
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
      if (Date.now() >= deadline || tally.inputs >= maxInputs) return finishRun();
      // Exit 0 is the worker's own: the end of its range, or a restart after memory.
      if (code !== 0 || signal !== null) {
        const outOfMemory = /heap out of memory|Allocation failed/i.test(stderrTail);
        const outcome: FuzzOutcomeClass = signal === 'SIGKILL' && killedForHang ? 'hang' : outOfMemory ? 'memory' : 'crash';
        const detail = outcome === 'hang' ? `over ${hangMs} ms of CPU (or idle ${IDLE_HANG_MS / 1000} s) on one input` : `exit ${code ?? signal}: ${stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`;
        if (aloneTo !== undefined) {
          // Alone, the worker reports every input: the one it died on is `next`.
          await recordFailure(outcome, detail, next);
          suspect = undefined;
          next += 1;
        } else {
          // Somewhere past the last report: at most about one more batch, re-run alone.
          enterAlone(next, next + lastBatchSize * 2 + 64, outcome, detail);
        }
        if (tally.inputs >= maxInputs) return finishRun();
      }
      leaveAloneIfDone();
      child = spawnWorker();
      child.on('exit', onExit);
    };
    child = spawnWorker();
    child.on('exit', onExit);
    const watchdog = setInterval(() => {
      if (Date.now() >= deadline) return finishRun();
      if (!child || killedForHang) return;
      // A hang is CPU time spent without a report (a niced worker on a busy machine may
      // simply be waiting for a core), or a worker idle for a minute (awaiting nothing).
      const cpu = cpuMs(child.pid!);
      if (cpu !== undefined && cpu !== cpuAtLastTick) idleSince = Date.now();
      if (cpu !== undefined) cpuAtLastTick = cpu;
      const busy = cpu !== undefined && cpu - cpuAtLastAnswer > hangMs;
      const idle = Date.now() - lastHeard > IDLE_HANG_MS && Date.now() - idleSince > IDLE_HANG_MS;
      if (busy || idle) {
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
  if (tally.unattributed.length > 0) console.log(`  not pinned to one input: ${tally.unattributed.length}\n    ${tally.unattributed.join('\n    ')}`);
}
const failed = tallies.some((tally) => tally.unattributed.length > 0 || (['exception', 'hang', 'crash', 'memory'] as const).some((c) => tally.byClass[c] > 0));
process.exit(failed ? 1 : 0);
