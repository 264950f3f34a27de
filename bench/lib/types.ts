/**
 * The shapes every benchmark module shares: one {@link BenchRow} per printed row, and
 * the options `bench/run.ts` hands to each format's benchmark.
 */

/** Unit of a row's figures: throughput (higher is better), or a time / memory (lower is better). */
export type BenchUnit = 'GB/s' | 'ms' | 'MiB' | 'requests';

/**
 * One printed row: `operation | tensio | baseline | ratio | goal | met?`.
 *
 * For `GB/s` rows `ratio` is tensio / baseline (above 1 means tensio is faster). For
 * `ms` and `MB` rows the goal is usually absolute (`< 5 ms`), and `ratio` is left out
 * unless a baseline of the same unit exists.
 *
 * @example
 * ```ts
 * const row: BenchRow = { format: 'safetensors', operation: 'write vs raw fs', unit: 'GB/s',
 *   tensio: 3.1, baseline: 3.4, baselineName: 'fs.writeSync 8 MiB', ratio: 0.91, goal: '>= 0.9x', met: true };
 * ```
 */
export interface BenchRow {
  /** Benchmark group, e.g. `'safetensors'`, `'npy'`, `'pytorch'`, `'npk'`. */
  format: string;
  /** What was measured, e.g. `'stream write 1024 MiB'`. */
  operation: string;
  unit: BenchUnit;
  /** tensio's figure (median); undefined when it could not be measured. */
  tensio?: number;
  /** The baseline's figure (median), same unit. */
  baseline?: number;
  /** What the baseline is, e.g. `'raw fs.writeSync'` or `'np.save'`. */
  baselineName?: string;
  /** tensio / baseline for GB/s rows. */
  ratio?: number;
  /** The goal as text, e.g. `'>= 0.9x'` or `'< 5 ms'`. */
  goal?: string;
  /** Whether the goal was met; undefined when there is no goal or no figure. */
  met?: boolean;
  /** Extra detail printed under the table: first repetition, best, why skipped. */
  note?: string;
}

/** Options every format benchmark receives from `bench/run.ts`. */
export interface BenchOptions {
  /** Scratch folder (removed by run.ts at the end). */
  dir: string;
  /** Total tensor bytes of the main input, in MiB. */
  sizeMiB: number;
  /** Timed repetitions per figure (steady ones; one extra first repetition is reported apart when > 1). */
  reps: number;
  quick: boolean;
  /** Oracle python, when present. */
  python?: string;
  /** Printed progress lines go here. */
  log: (line: string) => void;
}
