/**
 * The long-run fuzzer's worker (a child process of `run.ts`): generates mutants
 * `from, from+1, …` of one target's seeds, drives each one through open/read/verify and
 * reports every outcome to the parent over IPC. It keeps failing inputs it can classify
 * itself (exceptions, slow, memory); hangs and crashes are kept by the parent, which
 * finds the input still on disk.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isTensioError } from '../../src/core/errors.js';
import { mutate, mutantRandom } from './mutate.js';
import { isFuzzFailure, saveFuzzFailure, type FuzzResult } from './outcome.js';
import { fuzzTargets, seedMembers } from './targets.js';

interface WorkerStart {
  target: string;
  seeds: string[];
  runSeed: number;
  from: number;
  /** Where the current input is written (a file or folder path with the seed's name). */
  workDir: string;
  outDir: string;
  slowMs: number;
  maxMB: number;
}

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

process.once('message', async (start: WorkerStart) => {
  const target = fuzzTargets().get(start.target);
  if (!target) throw new Error(`unknown fuzz target ${start.target}`);
  const seeds = await Promise.all(start.seeds.map(async (seed) => {
    const members = await seedMembers(seed);
    return { seed, members, bytes: await Promise.all(members.map(async (path) => new Uint8Array(await readFile(path)))) };
  }));
  await mkdir(start.workDir, { recursive: true });
  for (let index = start.from; ; index++) {
    const random = mutantRandom(start.runSeed, index);
    const chosen = seeds[Math.floor(random() * seeds.length)]!;
    const victim = Math.floor(random() * chosen.members.length);
    const input = join(start.workDir, chosen.seed.split('/').pop()!);
    if (chosen.members.length === 1 && chosen.members[0] === chosen.seed) {
      await writeFile(input, mutate(chosen.bytes[0]!, random, true));
    } else {
      // A folder format: rebuild the folder, one member mutated.
      await rm(input, { recursive: true, force: true });
      for (let m = 0; m < chosen.members.length; m++) {
        const path = join(input, relative(chosen.seed, chosen.members[m]!));
        await mkdir(join(path, '..'), { recursive: true });
        if (m === victim) await writeFile(path, mutate(chosen.bytes[m]!, random, true));
        else await copyFile(chosen.members[m]!, path);
      }
    }
    // CPU time, not wall time: on a shared machine a niced worker may wait seconds for a core.
    const started = process.cpuUsage();
    let result: Pick<FuzzResult, 'outcome' | 'detail' | 'where'> = { outcome: 'ok' };
    try {
      await target.drive(input);
    } catch (error) {
      result = classify(error);
    }
    const used = process.cpuUsage(started);
    const ms = Math.round((used.user + used.system) / 1000);
    const peak = peakMB();
    if (!isFuzzFailure(result.outcome) && peak > start.maxMB) result = { outcome: 'memory', detail: `peak RSS ${peak} MB after ${result.detail ?? 'ok'}` };
    else if (!isFuzzFailure(result.outcome) && ms > start.slowMs) result = { outcome: 'slow', detail: `${ms} ms of CPU, then ${result.detail ?? 'ok'}` };
    if (isFuzzFailure(result.outcome)) {
      await saveFuzzFailure(start.outDir, start.target, input, { ...result, index, runSeed: start.runSeed, ms, peakMB: peak });
    }
    const message: FuzzResult = { index, ...result, ms, peakMB: peak };
    process.send!(message);
    // A memory failure leaves the peak high for good: let the parent start a fresh worker.
    if (result.outcome === 'memory') process.exit(0);
  }
});
