/**
 * Statistics of one tensor, streamed in bounded memory (two passes over its bytes):
 * min, max, mean, standard deviation, counts of zeros, NaN and ±Inf, a histogram with
 * NumPy's bin rule, the first values and, for a 2-D tensor, a small heat map. The web
 * inspector runs it in a Web Worker; it works anywhere a {@link TensorReader} does.
 *
 * Conventions (so the numbers can be checked against NumPy): min, max, mean and std are
 * over the finite values only (`a[np.isfinite(a)]`), std is the population one
 * (`ddof=0`), and the histogram is `np.histogram(finite.astype(np.float64), bins)`:
 * values are compared as float64 (NumPy bins a float32 array with float32 edges, which
 * can move a value lying on an edge to the neighbouring bin).
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { elementCount } from '../core/sizes.js';
import type { TensorReader } from '../model/types.js';
import { tensorValues } from './tensor-values.js';

/** Options of {@link tensorStatistics}. */
export interface TensorStatisticsOptions {
  /** Histogram bins (default 32). */
  bins?: number;
  /** How many leading values to keep (default 16). */
  firstValues?: number;
  /** Largest side of the heat map of a 2-D tensor, in cells (default 64; 0 for none). */
  heatmapSize?: number;
  /** Bytes read per chunk (default 4 MiB). */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Called after each chunk: elements done of `total` (two passes: total is twice the count). */
  onProgress?: (progress: { done: number; total: number; phase: 'values' | 'histogram' }) => void;
}

/** A heat map of a 2-D tensor: the mean of each cell of a `rows` × `cols` grid over it. */
export interface TensorHeatmap {
  readonly rows: number;
  readonly cols: number;
  /** Row-major cell means (NaN for a cell without finite values). */
  readonly values: Float64Array;
  readonly min: number;
  readonly max: number;
}

/** What {@link tensorStatistics} computes. */
export interface TensorStatistics {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Elements in the tensor. */
  readonly count: number;
  /** Finite elements (the ones min/max/mean/std/histogram cover). */
  readonly finite: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  readonly zeros: number;
  readonly nan: number;
  readonly positiveInfinity: number;
  readonly negativeInfinity: number;
  /** `np.histogram` of the finite values: `bins + 1` edges and `bins` counts (absent when none is finite). */
  readonly histogram?: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  readonly first: readonly number[];
  readonly heatmap?: TensorHeatmap;
}

/** NumPy's `linspace(first, last, bins + 1)`: `i * step + first`, the last edge exact. */
export function histogramEdges(first: number, last: number, bins: number): number[] {
  const step = (last - first) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * step + first);
  edges[bins] = last;
  return edges;
}

/** The bin of `value` under `np.histogram`'s rule for equal bins (value within [first, last]). */
function binOf(value: number, edges: readonly number[], first: number, norm: number, bins: number): number {
  let index = Math.floor((value - first) * norm);
  if (index >= bins) index = bins - 1;
  // NumPy corrects the float estimate against the edges themselves.
  if (value < edges[index]!) index -= 1;
  else if (index !== bins - 1 && value >= edges[index + 1]!) index += 1;
  return index;
}

/**
 * Statistics of tensor `name` (see the module comment for the conventions). Cancelled by
 * `signal` with `ABORTED`; memory stays at one chunk plus the heat map grid.
 *
 * @example
 * ```ts
 * const stats = await tensorStatistics(reader, 'lm_head.weight', { bins: 10 });
 * console.log(stats.mean, stats.std, stats.histogram?.counts);
 * ```
 */
export async function tensorStatistics(reader: TensorReader, name: string, options: TensorStatisticsOptions = {}): Promise<TensorStatistics> {
  const info = reader.info(name);
  const bins = options.bins ?? 32;
  if (!Number.isSafeInteger(bins) || bins < 1 || bins > 100_000) throw new TensioError('INVALID_ARGUMENT', `bins must be an integer from 1 to 100000, not ${bins}`);
  const firstCount = Math.max(0, options.firstValues ?? 16);
  const count = elementCount(info.shape);
  const valueOptions = { ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const total = 2 * count;

  // The heat map grid for a 2-D tensor.
  const heatSide = options.heatmapSize ?? 64;
  const is2d = info.shape.length === 2 && heatSide > 0 && count > 0;
  const [R, C] = is2d ? [info.shape[0]!, info.shape[1]!] : [0, 0];
  const rows = is2d ? Math.min(R, heatSide) : 0;
  const cols = is2d ? Math.min(C, heatSide) : 0;
  const cellSums = new Float64Array(rows * cols);
  const cellCounts = new Float64Array(rows * cols);

  let finite = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  let nan = 0;
  let positiveInfinity = 0;
  let negativeInfinity = 0;
  const first: number[] = [];
  let index = 0;
  for await (const values of tensorValues(reader, name, valueOptions)) {
    throwIfAborted(options.signal);
    for (let i = 0; i < values.length; i++, index++) {
      const v = values[i]!;
      if (first.length < firstCount) first.push(v);
      if (v !== v) {
        nan++;
        continue;
      }
      if (v === Infinity) {
        positiveInfinity++;
        continue;
      }
      if (v === -Infinity) {
        negativeInfinity++;
        continue;
      }
      if (v === 0) zeros++;
      finite++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (is2d) {
        const row = Math.floor(index / C);
        const cell = Math.floor((row * rows) / R) * cols + Math.floor(((index - row * C) * cols) / C);
        cellSums[cell] += v;
        cellCounts[cell]! += 1;
      }
    }
    options.onProgress?.({ done: index, total, phase: 'values' });
  }
  if (index !== count) throw new TensioError('SIZE_MISMATCH', `tensor ${JSON.stringify(name)} gave ${index} values for ${count} elements`);
  const mean = finite > 0 ? sum / finite : NaN;

  // Second pass: squared deviations (as NumPy's std) and the histogram.
  let histogram: TensorStatistics['histogram'];
  let squares = 0;
  if (finite > 0) {
    const [low, high] = min === max ? [min - 0.5, max + 0.5] : [min, max];
    const edges = histogramEdges(low, high, bins);
    const counts = new Array<number>(bins).fill(0);
    const norm = bins / (high - low);
    let done = 0;
    for await (const values of tensorValues(reader, name, valueOptions)) {
      throwIfAborted(options.signal);
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v - v !== 0) continue; // NaN and ±Inf
        const deviation = v - mean;
        squares += deviation * deviation;
        counts[binOf(v, edges, low, norm, bins)]! += 1;
      }
      done += values.length;
      options.onProgress?.({ done: count + done, total, phase: 'histogram' });
    }
    histogram = { edges, counts };
  }

  let heatmap: TensorHeatmap | undefined;
  if (is2d) {
    const cells = new Float64Array(rows * cols);
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < cells.length; i++) {
      cells[i] = cellCounts[i]! > 0 ? cellSums[i]! / cellCounts[i]! : NaN;
      if (cellCounts[i]! > 0) {
        low = Math.min(low, cells[i]!);
        high = Math.max(high, cells[i]!);
      }
    }
    heatmap = { rows, cols, values: cells, min: low, max: high };
  }
  return {
    name, dtype: info.dtype, shape: info.shape, count, finite,
    min: finite > 0 ? min : NaN, max: finite > 0 ? max : NaN, mean, std: finite > 0 ? Math.sqrt(squares / finite) : NaN,
    zeros, nan, positiveInfinity, negativeInfinity, first,
    ...(histogram ? { histogram } : {}),
    ...(heatmap ? { heatmap } : {}),
  };
}
