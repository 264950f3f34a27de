/**
 * The long-run fuzzer's worker (a child process of `run.ts`): runs mutants `from,
 * from+1, …` of one target in a loop, in process (a file mutant is driven from memory,
 * a folder mutant from a folder on a RAM disk), and reports counts in batches.
 *
 * Two modes:
 * - batch: inputs run back to back (`concurrency` at a time for folder formats); every
 *   `reportMs` the worker sends the counts of the inputs done since its last report,
 *   with the index they reach. Peak memory is checked at each report; when it is over
 *   the bound, the batch is not counted: the worker says which inputs it covered and
 *   exits, and the parent re-runs them alone.
 * - alone: one input at a time, each reported as soon as it ends and its peak memory
 *   checked, so the parent can attribute a hang, crash or memory blow-up to one input.
 *
 * Exceptions and slow inputs are classified here and kept (`saveFuzzFailure`); hangs and
 * crashes are the parent's to see.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { isTensioError } from '../../src/core/errors.js';
import { bytesSource, type ByteSource } from '../../src/storage/byte-source.js';
import { loadSeeds, mutantOf, writeFuzzInput, type FuzzSeed } from './inputs.js';
import { addCounts, emptyCounts, isFuzzFailure, saveFuzzFailure, type FuzzCounts, type FuzzResult } from './outcome.js';
import { BUILT_IN_FORMATS } from '../../src/operations/index.js';
import { fuzzTargets } from './targets.js';

/** What the parent sends to start a worker. */
export interface WorkerStart {
  target: string;
  /** Seed file and folder paths. */
  seeds: string[];
  runSeed: number;
  /** First input index, and the end (exclusive). */
  from: number;
  to: number;
  /** One input at a time, each reported (see the module comment). */
  alone: boolean;
  /** Where folder (or `via: 'path'`) inputs are written. */
  workDir: string;
  outDir: string;
  slowMs: number;
  maxMB: number;
  reportMs: number;
}

/** What a worker sends: counts of inputs `[previous upTo, upTo)`, a memory-suspect range, or the end. */
export type WorkerMessage =
  | { kind: 'batch'; upTo: number; counts: FuzzCounts; failures: FuzzResult[]; /** New failure kinds kept. */ kept: number }
  | { kind: 'memory'; from: number; to: number; peakMB: number }
  | { kind: 'done' }
  /** Set up (modules imported, seeds loaded, a lazy format's library loaded): what it used so far is no input's time. */
  | { kind: 'ready' };

/** Peak resident memory of this process so far, in MiB (Linux /proc; current RSS elsewhere). */
function peakMB(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'));
    if (match) return Math.round(Number(match[1]) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.memoryUsage.rss() / 2 ** 20);
}

function classify(error: unknown): Pick<FuzzResult, 'outcome' | 'detail' | 'where'> {
  if (isTensioError(error)) return { outcome: 'tensio', detail: error.code };
  const err = error as Error | undefined;
  const where = String(err?.stack ?? '').split('\n').find((line) => line.includes('/src/'))?.trim().replace(/^at /, '') ?? '';
  return { outcome: 'exception', detail: `${err?.name ?? typeof error}: ${String(err?.message ?? error).slice(0, 200)}`, where: where.replace(/:\d+:\d+\)?$/, '') };
}

/** Removes what a driver left in a folder input that is not a member of its seed (so the next input starts clean). */
async function clearStrays(folder: string, seed: FuzzSeed): Promise<void> {
  const keep = new Set<string>();
  for (const member of seed.members) {
    const parts = member.path.split(sep);
    for (let i = 1; i <= parts.length; i++) keep.add(parts.slice(0, i).join(sep));
  }
  const entries = await readdir(folder, { recursive: true }).catch(() => [] as string[]);
  await Promise.all(entries.filter((entry) => !keep.has(entry)).map((entry) => rm(join(folder, entry), { recursive: true, force: true })));
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((done) => process.send!(message, () => done()));
}

process.once('message', async (start: WorkerStart) => {
  const target = fuzzTargets().get(start.target);
  if (!target) throw new Error(`unknown fuzz target ${start.target}`);
  const seeds = await loadSeeds(start.seeds);
  const concurrency = start.alone ? 1 : Math.max(1, target.concurrency ?? 1);
  const slots = Array.from({ length: concurrency }, (_, k) => join(start.workDir, `slot${k}`));
  for (const slot of slots) await mkdir(slot, { recursive: true });
  // Lazy formats load their library on first use (h5wasm: seconds of CPU under tsx): not part of any input's time.
  // Only real formats: the faults target would fault on its own seed.
  if (BUILT_IN_FORMATS.some((format) => format.name === target.name)) await target.drive(start.seeds[0]!).catch(() => undefined);
  // The parent charges a worker's CPU to its inputs from its last message: start-up (tsx compiling the sources takes
  // seconds of CPU on a slow host) must not make the first input look like a hang.
  await send({ kind: 'ready' });

  /** Runs input `index` in `slot`; `timing` says what `ms` measures (wall when inputs run at once). */
  const runOne = async (index: number, slot: string, timing: 'cpu' | 'wall'): Promise<FuzzResult & { recheck?: boolean }> => {
    const input = mutantOf(seeds, start.runSeed, index);
    const onDisk = input.seed.folder || target.via === 'path';
    const driven: string | ByteSource = onDisk ? await writeFuzzInput(input, slot) : bytesSource(input.bytes, input.seed.name);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    let result: Pick<FuzzResult, 'outcome' | 'detail' | 'where'> = { outcome: 'ok' };
    try {
      await target.drive(driven);
    } catch (error) {
      result = classify(error);
    }
    const used = process.cpuUsage(cpu);
    const ms = Math.round(timing === 'cpu' ? (used.user + used.system) / 1000 : performance.now() - wall);
    if (input.seed.folder) await clearStrays(driven as string, input.seed);
    if (!isFuzzFailure(result.outcome) && ms > start.slowMs) {
      if (timing === 'wall') return { index, ...result, ms, recheck: true };
      result = { outcome: 'slow', detail: `${ms} ms of CPU, then ${result.detail ?? 'ok'}` };
    }
    return { index, ...result, ms };
  };

  let counts = emptyCounts();
  let failures: FuzzResult[] = [];
  let kept = 0;
  let batchFrom = start.from;
  let lastReport = performance.now();
  for (let index = start.from; index < start.to; index += concurrency) {
    const round = slots.slice(0, Math.min(concurrency, start.to - index));
    const results = await Promise.all(round.map((slot, k) => runOne(index + k, slot, concurrency > 1 ? 'wall' : 'cpu')));
    for (let result of results) {
      // Slow while others ran beside it: time it again alone, in CPU.
      if (result.recheck) result = await runOne(result.index, slots[0]!, 'cpu');
      if (start.alone) {
        const peak = peakMB();
        if (!isFuzzFailure(result.outcome) && peak > start.maxMB) result = { ...result, outcome: 'memory', detail: `peak RSS ${peak} MB after ${result.detail ?? 'ok'}`, peakMB: peak };
      }
      addCounts(counts, result);
      if (isFuzzFailure(result.outcome)) {
        failures.push(result);
        if (await saveFuzzFailure(start.outDir, start.target, mutantOf(seeds, start.runSeed, result.index), { ...result, runSeed: start.runSeed })) kept++;
      }
    }
    const upTo = index + round.length;
    if (start.alone || failures.length > 0 || upTo >= start.to || performance.now() - lastReport >= start.reportMs) {
      const peak = peakMB();
      if (!start.alone && peak > start.maxMB) {
        // Somewhere in this batch an input took too much memory: the parent re-runs it alone.
        await send({ kind: 'memory', from: batchFrom, to: upTo, peakMB: peak });
        process.exit(0);
      }
      await send({ kind: 'batch', upTo, counts, failures, kept });
      // A memory failure leaves the peak high for good: a fresh worker goes on.
      if (failures.some((failure) => failure.outcome === 'memory')) process.exit(0);
      counts = emptyCounts();
      failures = [];
      kept = 0;
      batchFrom = upTo;
      lastReport = performance.now();
    }
  }
  await send({ kind: 'done' });
  process.exit(0);
});
