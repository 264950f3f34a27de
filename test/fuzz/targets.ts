/**
 * What the long-run fuzzer can fuzz: one entry per format, each a seed generator (valid
 * files written with tensio) and a driver (open, read every tensor, verify). Every
 * registered format that reads and writes gets an entry automatically; a later format
 * plugs in by being registered, or by adding an entry to {@link EXTRA_TARGETS} when it
 * needs other seeds or another driver.
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../../src/core/errors.js';
import { createTensor, type Tensor } from '../../src/core/tensor.js';
import type { TensorFormat } from '../../src/model/types.js';
import { BUILT_IN_FORMATS } from '../../src/operations/index.js';

/** One fuzzable format. */
export interface FuzzTarget {
  readonly name: string;
  /** Writes valid seed inputs (files or folders) into `dir`; returns their paths. */
  seeds(dir: string): Promise<string[]>;
  /** Opens `path`, reads every tensor and verifies it; throws whatever tensio throws. */
  drive(path: string): Promise<void>;
}

/** The tensors every seed holds: three dtypes, two ranks. */
export function fuzzSampleTensors(): Record<string, Tensor> {
  return {
    weight: createTensor('float32', [3, 4], new Float32Array(12).map((_, i) => i / 3)),
    bias: createTensor('int64', [4], new BigInt64Array([1n, -2n, 3n, -4n])),
    mask: createTensor('uint8', [5], new Uint8Array([1, 0, 1, 1, 0])),
  };
}

async function writeTensors(format: TensorFormat, path: string, tensors: Record<string, Tensor>, formatOptions?: Record<string, unknown>): Promise<boolean> {
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  if (specs.some((spec) => format.cannotWrite?.(spec))) return false;
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
async function driveFormat(format: TensorFormat, path: string): Promise<void> {
  const reader = await format.open!(path);
  try {
    for (const info of reader.tensors) await reader.read(info.name);
  } finally {
    await reader.close();
  }
  if (format.verify) await format.verify(path);
}

function targetOf(format: TensorFormat): FuzzTarget {
  return {
    name: format.name,
    async seeds(dir) {
      const seeds: string[] = [];
      const plain = join(dir, `seed${format.extensions[0] ?? ''}`);
      if (await fuzzWriteSample(format, plain)) seeds.push(plain);
      // Deflated members are a second seed where the format has them (npz).
      if (format.name === 'npz') {
        const deflated = join(dir, `seed-deflated${format.extensions[0] ?? ''}`);
        if (await fuzzWriteSample(format, deflated, { compress: true })) seeds.push(deflated);
      }
      return seeds;
    },
    drive: (path) => driveFormat(format, path),
  };
}

/**
 * A target that fails on purpose, by the sum of its input's bytes: an exception, a hang,
 * a crash, a memory blow-up or success. Only with `TENSIO_FUZZ_FAULTS=1`: the harness's
 * own test uses it to prove that each outcome is told apart.
 */
const FAULTS_TARGET: FuzzTarget = {
  name: 'faults',
  async seeds(dir) {
    const path = join(dir, 'seed.bin');
    await writeFile(path, Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
    return [path];
  },
  async drive(path) {
    const kind = (await readFile(path)).reduce((sum, byte) => sum + byte, 0) % 5;
    if (kind === 0) throw new TypeError('fault: not a TensioError');
    if (kind === 1) for (;;) { /* fault: hang */ }
    if (kind === 2) process.abort();
    if (kind === 3) { const hold: Uint8Array[] = []; for (let i = 0; i < 32; i++) hold.push(new Uint8Array(16 * 2 ** 20).fill(1)); return; }
  },
};

/** Entries beyond the generic ones: a format with special seeds or a special driver goes here. */
export const EXTRA_TARGETS: readonly FuzzTarget[] = process.env.TENSIO_FUZZ_FAULTS === '1' ? [FAULTS_TARGET] : [];

/** Every fuzz target, by name. */
export function fuzzTargets(): Map<string, FuzzTarget> {
  const targets = new Map<string, FuzzTarget>();
  for (const format of BUILT_IN_FORMATS) if (format.open && format.createWriter) targets.set(format.name, targetOf(format));
  for (const target of EXTRA_TARGETS) targets.set(target.name, target);
  return targets;
}

/** The files of a seed: itself, or for a folder format (a NumPack store) its member files. */
export async function seedMembers(seed: string): Promise<string[]> {
  if (!(await stat(seed)).isDirectory()) return [seed];
  const entries = await readdir(seed, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)).sort();
}
