/**
 * Mutation fuzzing across every registered format: write a small valid file with
 * tensio, flip, truncate and splice bytes with a seeded generator, then open and read
 * every tensor. Each mutant must either read or throw a TensioError — never another
 * error, a crash or a hang (each attempt is time-bounded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT_IN_FORMATS } from '../src/operations/index.js';
import { isTensioError } from '../src/core/errors.js';
import { createTensor, type Tensor } from '../src/core/tensor.js';
import type { TensorFormat } from '../src/model/types.js';
import { tempDir } from './helpers/temp.js';
import { mutate, seededRandom } from './fuzz/mutate.js';

const MUTANTS_PER_FORMAT = 300;
const ATTEMPT_TIMEOUT_MS = 5_000;

function sampleTensors(): Record<string, Tensor> {
  return {
    weight: createTensor('float32', [3, 4], new Float32Array(12).map((_, i) => i / 3)),
    bias: createTensor('int64', [4], new BigInt64Array([1n, -2n, 3n, -4n])),
    mask: createTensor('uint8', [5], new Uint8Array([1, 0, 1, 1, 0])),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeSample(format: TensorFormat, path: string): Promise<boolean> {
  try {
    return await writeTensors(format, path, sampleTensors());
  } catch (error) {
    // Single-array formats (.npy) refuse a plan of several tensors: fuzz one.
    if (!isTensioError(error, 'INVALID_ARGUMENT')) throw error;
    return writeTensors(format, path, { weight: sampleTensors().weight! });
  }
}

async function writeTensors(format: TensorFormat, path: string, tensors: Record<string, Tensor>): Promise<boolean> {
  // The sample's tensors the format can hold (GGUF has no uint8); none at all: no seed.
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })).filter((spec) => !format.cannotWrite?.(spec));
  if (specs.length === 0) return false;
  const writer = await format.createWriter!(path, { tensors: specs, metadata: { note: 'fuzz' } });
  for (const name of writer.order) await writer.add(name, tensors[name]!.data);
  await writer.close();
  return true;
}

async function readEverything(format: TensorFormat, path: string): Promise<void> {
  const reader = await format.open!(path);
  try {
    for (const info of reader.tensors) await reader.read(info.name);
  } finally {
    await reader.close();
  }
}

/** Every file under a folder, sorted (seeded mutants pick the same member on every run). */
async function filesUnder(folder: string): Promise<string[]> {
  const paths = (await readdir(folder, { recursive: true })).map((name) => join(folder, name)).sort();
  const files: string[] = [];
  for (const path of paths) if ((await stat(path)).isFile()) files.push(path);
  return files;
}

const fileFormats = BUILT_IN_FORMATS.filter((format) => format.open && format.createWriter);

test('at least one file format is registered for fuzzing', () => {
  assert.ok(fileFormats.length > 0, 'no formats registered');
});

for (const format of fileFormats) {
  test(`fuzz: mutated ${format.name} files read or throw TensioError`, async (t) => {
    const dir = await tempDir(t);
    const original = join(dir, `original${format.extensions[0] ?? ''}`);
    if (!(await writeSample(format, original))) {
      t.skip(`skipped: ${format.name} cannot hold the fuzz sample tensors`);
      return;
    }
    const written = await stat(original);
    // A folder format (a NumPack store, a Zarr store) is fuzzed one member file at a time, sub-folders too (Zarr chunks and shards).
    const members = written.isDirectory() ? await filesUnder(original) : [original];
    assert.ok(members.length > 0);
    const pristine = await Promise.all(members.map(async (path) => new Uint8Array(await readFile(path))));
    const random = seededRandom(0x5eed ^ format.name.length);
    // Lazy formats load their library on first use (h5wasm: seconds under tsx); not part of any attempt's time.
    await readEverything(format, original);
    let refused = 0;
    for (let i = 0; i < MUTANTS_PER_FORMAT; i++) {
      const victim = Math.floor(random() * members.length);
      await Promise.all(members.map((path, index) => writeFile(path, index === victim ? mutate(pristine[index]!, random) : pristine[index]!)));
      try {
        await withTimeout(readEverything(format, original), ATTEMPT_TIMEOUT_MS, `${format.name} mutant ${i}`);
      } catch (error) {
        assert.ok(isTensioError(error), `${format.name} mutant ${i} (${members[victim]}) threw a non-TensioError: ${String((error as Error)?.stack ?? error)}`);
        refused += 1;
      }
    }
    // Most mutants of a strict format must be refused; a few (flipped data bytes) read fine.
    assert.ok(refused > 0, `${format.name}: no mutant was refused`);
  });
}
