/**
 * What every format benchmark receives: the options, the tensio module, the Python
 * peers (when the oracle exists) and helpers to turn timing rounds into figures.
 */
import type { PythonPeers } from './python.js';
import { gbPerSecond, type TimingSummary } from './timing.js';
import type { BenchOptions } from './types.js';

/** The library under test, loaded once by run.ts. */
export type TensioModule = typeof import('../../src/index.js');

/** Options plus shared handles. */
export interface BenchContext extends BenchOptions {
  tensio: TensioModule;
  /** The Python worker; undefined when the oracle is missing (`peersReason` says why). */
  peers?: PythonPeers;
  peersReason?: string;
}

/**
 * Why a format cannot be benchmarked yet (not registered, or missing a reader or writer), or undefined.
 *
 * @example
 * ```ts
 * const missing = formatMissing(context.tensio, 'safetensors', ['open', 'createWriter']);
 * ```
 */
export function formatMissing(tensio: TensioModule, name: string, needs: readonly ('open' | 'createWriter')[]): string | undefined {
  const format = tensio.BUILT_IN_FORMATS.find((entry) => entry.name === name);
  if (!format) return `${name} not available (not in src/operations/registry.ts)`;
  const absent = needs.filter((need) => typeof format[need] !== 'function');
  return absent.length > 0 ? `${name} has no ${absent.join(' / ')} yet` : undefined;
}

/** One contender's result as throughput. */
export interface Throughput {
  /** Median GB/s of the steady repetitions. */
  median?: number;
  best?: number;
  first?: number;
  error?: string;
}

/**
 * Converts a rounds result to GB/s for `bytes` per repetition.
 *
 * @example
 * ```ts
 * const raw = throughput(results.get('raw'), bytes);
 * ```
 */
export function throughput(result: { summary?: TimingSummary; error?: string } | undefined, bytes: number): Throughput {
  if (!result) return { error: 'not run' };
  if (!result.summary) return { error: result.error ?? 'no samples' };
  const { summary } = result;
  return { median: gbPerSecond(bytes, summary.median), best: gbPerSecond(bytes, summary.best), first: gbPerSecond(bytes, summary.first) };
}

/**
 * A note giving first-repetition and best figures of both sides, and any error.
 *
 * @example
 * ```ts
 * spreadNote(tensio, raw); // 'tensio first 1.21 best 3.40; baseline first 2.9 best 3.6 GB/s'
 * ```
 */
export function spreadNote(tensio: Throughput, baseline: Throughput): string {
  const side = (label: string, figure: Throughput): string =>
    figure.error ? `${label} failed: ${figure.error}` : `${label} first ${figure.first?.toFixed(2)} best ${figure.best?.toFixed(2)}`;
  return `${side('tensio', tensio)}; ${side('baseline', baseline)} GB/s`;
}

/**
 * Logs every contender's median, best and first repetition (GB/s) as a progress line.
 *
 * @example
 * ```ts
 * logThroughputs(context, 'npy write', writes, fileBytes);
 * ```
 */
export function logThroughputs(context: BenchContext, label: string, results: ReadonlyMap<string, { summary?: TimingSummary; error?: string }>, bytes: number): void {
  for (const [name, result] of results) {
    const figure = throughput(result, bytes);
    context.log(figure.error
      ? `  ${label} ${name}: failed: ${figure.error}`
      : `  ${label} ${name}: median ${figure.median!.toFixed(2)} GB/s, best ${figure.best!.toFixed(2)}, first ${figure.first!.toFixed(2)}`);
  }
}
