/**
 * The interleaved A/B loop of the focused bench tools (`stream-sum-ab.ts`,
 * `read-each-ab.ts`, `hugepages-ab.ts`, `parquet-read-ab.ts`): their command line, and
 * rounds in which every contender runs once, in rotating order, after one untimed warm-up
 * round, each run measured the same way (wall time, process CPU of every thread, the
 * JavaScript thread's own CPU, minor page faults). Each tool keeps its own contenders and
 * how it prints them; `abTable` is the table two of them share.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { median } from './timing.js';

/**
 * The command line of an A/B tool: `--name value` options and `--flag`s are taken out as
 * the tool asks for them; `rest()` is what is left (file names), and an unknown option
 * there is an error, so a mistyped `--round 9` does not run silently with the defaults.
 *
 * @example
 * ```ts
 * const args = new AbArgs();
 * const rounds = args.number('--rounds', 5);
 * const files = args.rest();
 * ```
 */
export class AbArgs {
  private readonly left: string[];
  constructor(argv: readonly string[] = process.argv.slice(2)) {
    this.left = [...argv];
  }

  /** `--name N`: a positive number (fallback when absent). */
  number(name: string, fallback: number): number {
    const text = this.take(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} takes a positive number, not "${text}"`);
    return value;
  }

  /** `--name text` (fallback when absent). */
  string(name: string, fallback: string): string {
    return this.take(name) ?? fallback;
  }

  /** `--name a,b,c` as a set, or undefined when absent. */
  list(name: string): Set<string> | undefined {
    const text = this.take(name);
    return text === undefined ? undefined : new Set(text.split(','));
  }

  /** Whether `--name` is given (a flag without a value). */
  flag(name: string): boolean {
    const at = this.left.indexOf(name);
    if (at < 0) return false;
    this.left.splice(at, 1);
    return true;
  }

  /** What no option took: the tool's positional arguments. Throws on a leftover `--option`. */
  rest(): string[] {
    const unknown = this.left.filter((word) => word.startsWith('--'));
    if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(', ')}`);
    return [...this.left];
  }

  private take(name: string): string | undefined {
    const at = this.left.indexOf(name);
    if (at < 0) return undefined;
    const value = this.left[at + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    this.left.splice(at, 2);
    return value;
  }
}

/** One measured run: milliseconds of wall, process CPU (every thread) and JavaScript-thread CPU; minor page faults (all threads', and the JavaScript thread's own). */
export interface AbSample {
  wall: number;
  cpu: number;
  js: number;
  faults: number;
  jsFaults: number;
}

/** `gc` from `node --expose-gc`; the A/B tools refuse to run without it (a collection before each run is part of the method). */
export function requireGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  return gc;
}

/** CPU nanoseconds of this (JavaScript) thread so far (`/proc/self/task/<pid>/schedstat`). */
export function jsThreadNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]);
}

/** Minor page faults this (JavaScript) thread took so far (`/proc/self/task/<pid>/stat`, field 10): what a worker populating ahead did not take for it. */
export function jsThreadFaults(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/** "load 1.20 1.37 1.58": the load average, for the tools' first line (figures taken under load are not quotable). */
export function loadLine(): string {
  return `load ${loadavg().map((value) => value.toFixed(2)).join(' ')}`;
}

/** What `abRounds` runs. */
export interface AbRoundsOptions<T> {
  /** The contenders, run once a round each, in rotating order. */
  readonly names: readonly string[];
  /** Timed rounds; one untimed warm-up round comes first (page cache, code). */
  readonly rounds: number;
  /** What every round goes over in turn (the files of two page-cache layouts, say); the samples are keyed `group: name`. None: keyed by name. */
  readonly groups?: readonly string[];
  /** Untimed, before the collection that precedes each run (an environment switch, say). */
  readonly before?: (name: string, group: string) => void;
  /** The timed work. */
  readonly run: (name: string, group: string) => Promise<T>;
  /** Untimed, after each run, warm-up included: check the result, release what it kept (the result is dropped after it). */
  readonly after?: (name: string, group: string, result: T) => void;
}

/**
 * Runs `1 + rounds` rounds; in round r the i-th run is contender (i + r) mod n, so each
 * contender takes each place in the order alike (two contenders alternate). Before each
 * run, untimed: a full collection and two turns of the event loop (finalizers, such as
 * unmaps, run from them). Around it: faults, JS-thread CPU, process CPU and wall.
 * Returns every timed sample, keyed in the order of groups, then names.
 *
 * @example
 * ```ts
 * const samples = await abRounds({ names: ['A', 'B'], rounds: 5, run: (name) => read(roots[name]) });
 * median(samples.get('A')!.map((sample) => sample.cpu));
 * ```
 */
export async function abRounds<T>(options: AbRoundsOptions<T>): Promise<Map<string, AbSample[]>> {
  const gc = requireGc();
  const groups = options.groups ?? [''];
  const key = (group: string, name: string) => (group === '' ? name : `${group}: ${name}`);
  const samples = new Map<string, AbSample[]>();
  for (const group of groups) for (const name of options.names) samples.set(key(group, name), []);
  const count = options.names.length;
  for (let round = 0; round <= options.rounds; round++) {
    for (const group of groups) {
      for (let index = 0; index < count; index++) {
        const name = options.names[(index + round) % count]!;
        options.before?.(name, group);
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        const faults = process.resourceUsage().minorPageFault;
        const jsFaults = jsThreadFaults();
        const js = jsThreadNs();
        const cpu = process.cpuUsage();
        const wall = performance.now();
        let result: T | undefined = await options.run(name, group);
        const wallMs = performance.now() - wall;
        const used = process.cpuUsage(cpu);
        const sample: AbSample = {
          wall: wallMs,
          cpu: (used.user + used.system) / 1000,
          js: (jsThreadNs() - js) / 1e6,
          faults: process.resourceUsage().minorPageFault - faults,
          jsFaults: jsThreadFaults() - jsFaults,
        };
        options.after?.(name, group, result);
        // Not held into the next run's collection: a kept result (16 MiB of tensors, say)
        // would still be alive there and change what the next contender's allocations get.
        result = undefined;
        if (round > 0) samples.get(key(group, name))!.push(sample);
      }
    }
  }
  return samples;
}

/** The median of each measure over the samples (each on its own, so they may come from different runs). */
export function abMedians(samples: readonly AbSample[]): AbSample {
  const of = (pick: (sample: AbSample) => number) => median(samples.map(pick));
  return { wall: of((sample) => sample.wall), cpu: of((sample) => sample.cpu), js: of((sample) => sample.js), faults: of((sample) => sample.faults), jsFaults: of((sample) => sample.jsFaults) };
}

/**
 * The table of `abRounds`' medians, a row a key: wall ms, GB/s (`bytes` / wall), CPU ms,
 * JS thread ms, faults (all threads'), JS thread faults.
 */
export function abTable(samples: ReadonlyMap<string, readonly AbSample[]>, bytes: number): string[] {
  const width = Math.max(4, ...[...samples.keys()].map((key) => key.length)) + 2;
  const lines = [`${'case'.padEnd(width)} wall ms  GB/s  CPU ms  JS thread ms  faults  JS faults`];
  for (const [key, list] of samples) {
    const m = abMedians(list);
    lines.push(`${key.padEnd(width)} ${m.wall.toFixed(1).padStart(7)} ${(bytes / m.wall / 1e6).toFixed(2).padStart(5)} ${m.cpu.toFixed(1).padStart(7)} ${m.js.toFixed(1).padStart(13)} ${m.faults.toFixed(0).padStart(7)} ${m.jsFaults.toFixed(0).padStart(10)}`);
  }
  return lines;
}
