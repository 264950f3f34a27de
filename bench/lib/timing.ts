/**
 * Timing helpers: run several contenders round-robin (so drift and page-cache state hit
 * them all alike), keep every sample, and summarise as median of the steady repetitions
 * with the first repetition reported apart (it pays for fresh memory on this VM; see
 * perf-anchors.md §1).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Seconds and bytes of one contender's samples, summarised. */
export interface TimingSummary {
  /** Every repetition in order, seconds. */
  seconds: number[];
  /** The first repetition, seconds (reported apart). */
  first: number;
  /** Median over the steady repetitions (all but the first when there are at least 2). */
  median: number;
  /** Fastest steady repetition. */
  best: number;
}

/** One participant of a round: `run` returns the seconds it took (measured where the work happens). */
export interface Contender {
  name: string;
  /** Untimed preparation before every repetition (unlink targets, sync, gc). */
  before?: () => void | Promise<void>;
  /** Does the work once; returns seconds. */
  run: () => Promise<number>;
}

/**
 * Median of a non-empty list.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Summarises samples: the first apart, median and best of the rest (of all when only one).
 *
 * @example
 * ```ts
 * summarizeSeconds([0.9, 0.3, 0.32, 0.31]).median; // 0.31
 * ```
 */
export function summarizeSeconds(seconds: readonly number[]): TimingSummary {
  const steady = seconds.length > 1 ? seconds.slice(1) : [...seconds];
  return { seconds: [...seconds], first: seconds[0] ?? Number.NaN, median: median(steady), best: Math.min(...steady) };
}

/**
 * Times an async operation in this process with a monotonic clock.
 *
 * @example
 * ```ts
 * const seconds = await timeIt(() => writer.close());
 * ```
 */
export async function timeIt(operation: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await operation();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Frees what earlier repetitions left behind, when node runs with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/**
 * Runs the contenders round-robin: `rounds` times, each contender once per round, in the
 * same order. A contender that throws is dropped from later rounds and its error kept.
 *
 * @example
 * ```ts
 * const results = await runRounds([raw, tensio], 4);
 * results.get('tensio')?.summary?.median;
 * ```
 */
export async function runRounds(contenders: readonly Contender[], rounds: number): Promise<Map<string, { summary?: TimingSummary; error?: string }>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const errors = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      if (errors.has(contender.name)) continue;
      try {
        collectGarbage();
        await contender.before?.();
        samples.get(contender.name)!.push(await contender.run());
      } catch (error) {
        errors.set(contender.name, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    }
  }
  const results = new Map<string, { summary?: TimingSummary; error?: string }>();
  for (const contender of contenders) {
    const list = samples.get(contender.name)!;
    const error = errors.get(contender.name);
    results.set(contender.name, {
      ...(list.length > 0 && !error ? { summary: summarizeSeconds(list) } : {}),
      ...(error ? { error } : {}),
    });
  }
  return results;
}

/** GB/s (decimal) for `bytes` moved in `seconds`. */
export function gbPerSecond(bytes: number, seconds: number): number {
  return bytes / seconds / 1e9;
}

/**
 * Runs a command that times its own work and prints the seconds as its last line of
 * output (the Python peers' `-c` one-liners, a node child that reads in its own
 * process); returns them. Anything else there (nothing, a warning, `nan`) throws with
 * what was printed, so a broken peer fails its contender instead of giving a row of NaN.
 *
 * @example
 * ```ts
 * const seconds = await selfTimedSeconds(python, ['-c', script, path]);
 * ```
 */
export async function selfTimedSeconds(command: string, args: readonly string[]): Promise<number> {
  const { stdout } = await execFileAsync(command, args, { maxBuffer: 2 ** 20 });
  const last = stdout.trim().split('\n').pop() ?? '';
  const seconds = Number(last);
  if (last === '' || !Number.isFinite(seconds) || seconds < 0) throw new Error(`${command} ${args[0] ?? ''} printed no time in seconds: ${JSON.stringify(stdout.slice(-200))}`);
  return seconds;
}
