/**
 * What the long-run fuzzer can fuzz: one target per format, each a seed writer (valid
 * files written with tensio, or sample files) and a driver (open, read every tensor,
 * verify).
 *
 * Plugging a format in:
 * - A format in `BUILT_IN_FORMATS` that can open and write is a target with no line
 *   anywhere: its seeds are the fuzz sample written by its own writer.
 * - Anything else is one line in {@link FUZZ_TARGET_OPTIONS}, keyed by the format's name:
 *   other writer options for more seeds (`npz: { seedOptions: [{}, { compress: true }] }`),
 *   sample files for a format tensio only reads (`gguf: { seedFiles: ['gguf/tiny.gguf'] }`,
 *   paths inside the shared folder), `via: 'path'` for a format that must be opened by
 *   path, or `concurrency` for a driver that mostly waits on the file system.
 */
import { readFile, writeFile, copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isTensioError } from '../../src/core/errors.js';
import { createTensor, type Tensor } from '../../src/core/tensor.js';
import type { TensorFormat } from '../../src/model/types.js';
import { BUILT_IN_FORMATS } from '../../src/operations/index.js';
import type { ByteSource } from '../../src/storage/byte-source.js';
import { sharedFile } from '../helpers/shared-files.js';

/** One fuzzable format. */
export interface FuzzTarget {
  readonly name: string;
  /** Writes valid seed inputs (files or folders) into `dir`; returns their paths. */
  seeds(dir: string): Promise<string[]>;
  /**
   * Opens the input, reads every tensor and verifies it; throws whatever tensio throws.
   * A file seed's mutant comes as a source over its bytes in memory (or a path with
   * `via: 'path'`), a folder seed's mutant as the path of a folder on a RAM disk.
   */
  drive(input: string | ByteSource): Promise<void>;
  /** `'path'`: file mutants are written to a file and driven by path. Default `'bytes'`. */
  readonly via?: 'bytes' | 'path';
  /**
   * Inputs one worker runs at once (default 1; 8 for folder formats, whose time is
   * spent waiting on the file system). Above 1, slow inputs are re-timed alone.
   */
  readonly concurrency?: number;
}

/** One line of {@link FUZZ_TARGET_OPTIONS}: how a format differs from the default target. */
export interface FormatTargetOptions {
  /** One seed per entry, written by the format's writer with these `formatOptions` (default `[{}]`). */
  seedOptions?: readonly Record<string, unknown>[];
  /** Sample files used as seeds as they are (paths inside the shared folder, or absolute). */
  seedFiles?: readonly string[];
  via?: 'bytes' | 'path';
  concurrency?: number;
}

/**
 * Per-format fuzz settings, one line per format that needs any. A format missing here is
 * fuzzed with the defaults when it can open and write; a read-only format needs `seedFiles`.
 */
export const FUZZ_TARGET_OPTIONS: Readonly<Record<string, FormatTargetOptions>> = {
  npz: { seedOptions: [{}, { compress: true }] },
  zarr: { seedOptions: [{}, { version: 2, compressor: 'zlib' }, { version: 3, compressor: 'gzip', chunks: 16, shards: 2 }, { version: 3, compressor: 'zstd' }] },
  // 4 KiB placement keeps the seeds small; a compressed seed (tiny frames); two corpus files (CSR, attributes).
  zt: { seedOptions: [{ align: 4096 }, { compress: { frameBytes: 16 } }], seedFiles: ['conformance/ztensor/valid/csr-data-valid.zt', 'conformance/ztensor/valid/attributes-kitchen-sink.zt'] },
  // libhdf5 (h5wasm) reads local files only; the second seed has chunks through shuffle, deflate and Fletcher-32.
  // Text: shortest numbers, a %g table with a header, gzip, and the Arrow CSV fuzzer files and typed table.
  csv: { seedOptions: [{}, { fmt: '%.6g', header: true }, { gzip: true, fmt: '%.18e' }], seedFiles: ['corpora/csv/arrow-testing/aggregate_test_100.csv', 'corpora/csv/arrow-testing/fuzzing/clusterfuzz-testcase-minimized-arrow-csv-fuzz-5308706540814336'] },
  txt: { seedOptions: [{}, { gzip: true }] },
  // GGUF holds no uint8 (the sample's mask): llama.cpp's own test file, every metadata type and 10 f32 tensors.
  gguf: { seedFiles: ['corpora/gguf/hyllama/dummy.gguf'] },
  // Tables (one stacked tensor per seed): uncompressed, lz4 and a zstd stream; Parquet codecs, one-row row groups, a corpus file with page CRCs,
  // and two with dictionary pages (tensio writes none): 4,096 int32 through bit-packed indices, int64 in several row groups.
  arrow: { seedOptions: [{}, { compression: 'lz4', batchRows: 1 }, { compression: 'zstd', ipc: 'stream' }] },
  parquet: { seedOptions: [{}, { compression: 'zstd', rowGroupSize: 1 }, { compression: 'gzip' }], seedFiles: ['corpora/parquet/apache-parquet-testing/data/datapage_v1-snappy-compressed-checksum.parquet', 'corpora/parquet/hyparquet/test/files/bloom_filter.parquet', 'corpora/parquet/hyparquet/test/files/rowgroups.parquet'] },
  hdf5: { via: 'path', seedOptions: [{}, { compression: 'gzip', shuffle: true, fletcher32: true, chunkRows: 2 }] },
};

/** The tensors every seed holds: three dtypes, two ranks. */
export function fuzzSampleTensors(): Record<string, Tensor> {
  return {
    weight: createTensor('float32', [3, 4], new Float32Array(12).map((_, i) => i / 3)),
    bias: createTensor('int64', [4], new BigInt64Array([1n, -2n, 3n, -4n])),
    mask: createTensor('uint8', [5], new Uint8Array([1, 0, 1, 1, 0])),
  };
}

async function writeTensors(format: TensorFormat, path: string, tensors: Record<string, Tensor>, formatOptions?: Record<string, unknown>): Promise<boolean> {
  // The sample's tensors the format can hold (GGUF has no uint8); none at all: no seed.
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })).filter((spec) => !format.cannotWrite?.(spec));
  if (specs.length === 0) return false;
  const writer = await format.createWriter!(path, { tensors: specs, metadata: { note: 'fuzz' }, ...(formatOptions ? { formatOptions } : {}) });
  for (const name of writer.order) await writer.add(name, tensors[name]!.data);
  await writer.close();
  return true;
}

/**
 * Writes the fuzz sample with `format`'s own writer; single-array formats (`.npy`) get
 * one tensor. Returns false when the format cannot hold the sample.
 */
export async function fuzzWriteSample(format: TensorFormat, path: string, formatOptions?: Record<string, unknown>): Promise<boolean> {
  try {
    return await writeTensors(format, path, fuzzSampleTensors(), formatOptions);
  } catch (error) {
    if (!isTensioError(error, 'INVALID_ARGUMENT')) throw error;
    return writeTensors(format, path, { weight: fuzzSampleTensors().weight! }, formatOptions);
  }
}

/** Open, read every tensor, then the format's own verify when it has one. */
async function driveFormat(format: TensorFormat, input: string | ByteSource): Promise<void> {
  const reader = await format.open!(input);
  try {
    for (const info of reader.tensors) await reader.read(info.name);
  } finally {
    await reader.close();
  }
  if (format.verify) await format.verify(input);
}

/** The target of a registered format, or undefined when it has no seeds (read-only without `seedFiles`). */
export function formatTarget(format: TensorFormat, options: FormatTargetOptions = {}): FuzzTarget | undefined {
  if (!format.open || (!format.createWriter && !options.seedFiles?.length)) return undefined;
  const extension = format.extensions[0] ?? '';
  return {
    name: format.name,
    async seeds(dir) {
      const seeds: string[] = [];
      for (const [i, file] of (options.seedFiles ?? []).entries()) {
        const source = sharedFile(file) ?? file;
        const copy = join(dir, `seed-file${i}-${basename(source)}`);
        await copyFile(source, copy);
        seeds.push(copy);
      }
      if (format.createWriter) {
        for (const [i, formatOptions] of (options.seedOptions ?? [{}]).entries()) {
          const path = join(dir, `seed${i === 0 ? '' : i}${extension}`);
          if (await fuzzWriteSample(format, path, Object.keys(formatOptions).length ? formatOptions : undefined)) seeds.push(path);
        }
      }
      return seeds;
    },
    drive: (input) => driveFormat(format, input),
    ...(options.via ? { via: options.via } : {}),
    concurrency: options.concurrency ?? (format.capabilities.folder ? 8 : 1),
  };
}

/**
 * What the faults target does with an input, by the sum of its bytes: `'exception'`,
 * `'hang'`, `'crash'`, `'memory'` or `'ok'`. With `TENSIO_FUZZ_FAULTS=rare` only one
 * input in 31 faults, so failures land inside long batches.
 */
export function faultKind(bytes: Uint8Array, rare = process.env.TENSIO_FUZZ_FAULTS === 'rare'): 'exception' | 'hang' | 'crash' | 'memory' | 'ok' {
  const sum = bytes.reduce((total, byte) => total + byte, 0);
  if (rare && sum % 31 !== 0) return 'ok';
  return (['exception', 'hang', 'crash', 'memory', 'ok'] as const)[sum % 5]!;
}

/**
 * A target that fails on purpose ({@link faultKind}). Only with `TENSIO_FUZZ_FAULTS=1`
 * (or `rare`): the harness's own test uses it to prove that each outcome is told apart
 * and pinned to the input that caused it.
 */
const FAULTS_TARGET: FuzzTarget = {
  name: 'faults',
  async seeds(dir) {
    const path = join(dir, 'seed.bin');
    await writeFile(path, Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
    return [path];
  },
  async drive(input) {
    const bytes = typeof input === 'string' ? new Uint8Array(await readFile(input)) : await input.read(0, input.size);
    const kind = faultKind(bytes);
    if (kind === 'exception') throw new TypeError('fault: not a TensioError');
    if (kind === 'hang') for (;;) { /* fault: hang */ }
    if (kind === 'crash') process.abort();
    if (kind === 'memory') { const hold: Uint8Array[] = []; for (let i = 0; i < 20; i++) hold.push(new Uint8Array(16 * 2 ** 20).fill(1)); return; }
  },
};

/** Targets that are not formats (the harness's own faults target). */
export const EXTRA_TARGETS: readonly FuzzTarget[] = process.env.TENSIO_FUZZ_FAULTS === '1' || process.env.TENSIO_FUZZ_FAULTS === 'rare' ? [FAULTS_TARGET] : [];

/** Every fuzz target, by name: each registered format (with its line of options) and the extras. */
export function fuzzTargets(): Map<string, FuzzTarget> {
  const targets = new Map<string, FuzzTarget>();
  for (const format of BUILT_IN_FORMATS) {
    const target = formatTarget(format, FUZZ_TARGET_OPTIONS[format.name]);
    if (target) targets.set(format.name, target);
  }
  for (const target of EXTRA_TARGETS) targets.set(target.name, target);
  return targets;
}
