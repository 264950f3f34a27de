/** `tensio diff A B` and `diffTensorFiles`: across formats, exact and with tolerances, streamed chunk by chunk. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTensor, diffTensorFiles, diffTensorReaders, isTensioError, type Tensor, type TensorReader } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { pytorchWrite } from '../src/formats/pytorch/index.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { createTensorReader } from '../src/model/index.js';
import { runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

function f32(shape: number[], values: number[]): Tensor {
  return createTensor('float32', shape, new Float32Array(values));
}

const BASE: Record<string, Tensor> = {
  'embed.weight': f32([3, 4], Array.from({ length: 12 }, (_, i) => i / 4)),
  'ids': createTensor('int64', [4], new BigInt64Array([1n, 2n, 3n, 4n])),
  'gone': f32([2], [1, 2]),
  'recast': f32([2], [1, 2]),
  'reshaped': f32([2, 3], [1, 2, 3, 4, 5, 6]),
  'same': f32([2], [Number.NaN, -0]),
};

/** B: one tensor removed, one added, a dtype and a shape change, content changes in floats and ints. */
function changed(): Record<string, Tensor> {
  const embed = new Float32Array(12).map((_, i) => i / 4);
  embed[6] += 0.5; // [1, 2]: the largest difference
  embed[9] += 1e-7 * embed[9]!; // within rtol 1e-6
  const { gone: _gone, ...rest } = BASE;
  return {
    ...rest,
    'embed.weight': createTensor('float32', [3, 4], embed),
    'ids': createTensor('int64', [4], new BigInt64Array([1n, 2n, 30n, 4n])),
    'recast': createTensor('float64', [2], new Float64Array([1, 2])),
    'reshaped': f32([3, 2], [1, 2, 3, 4, 5, 6]),
    'added': f32([1], [0]),
  };
}

test('diffTensorFiles: identical content across formats (safetensors, npz, pt) is identical', async (t) => {
  const dir = await tempDir(t);
  await safetensorsWrite(join(dir, 'a.safetensors'), BASE);
  await npzWrite(join(dir, 'b.npz'), BASE);
  await pytorchWrite(join(dir, 'c.pt'), BASE);
  for (const other of ['b.npz', 'c.pt']) {
    const report = await diffTensorFiles(join(dir, 'a.safetensors'), join(dir, other), { chunkBytes: 8 });
    assert.equal(report.identical, true, `${other}: ${JSON.stringify(report)}`);
    assert.equal(report.same, Object.keys(BASE).length);
  }
});

test('diffTensorFiles: added, removed, dtype/shape changes, content changes with the largest difference and its place', async (t) => {
  const dir = await tempDir(t);
  await safetensorsWrite(join(dir, 'a.safetensors'), BASE);
  await npzWrite(join(dir, 'b.npz'), changed());
  const exact = await diffTensorFiles(join(dir, 'a.safetensors'), join(dir, 'b.npz'));
  assert.equal(exact.identical, false);
  assert.deepEqual(exact.removed.map((r) => r.name), ['gone']);
  assert.deepEqual(exact.added.map((r) => r.name), ['added']);
  assert.deepEqual(exact.changedSpec.map((c) => [c.name, c.a.dtype, c.b.dtype, c.a.shape, c.b.shape]), [
    ['recast', 'float32', 'float64', [2], [2]],
    ['reshaped', 'float32', 'float32', [2, 3], [3, 2]],
  ]);
  const embed = exact.changedContent.find((c) => c.name === 'embed.weight')!;
  assert.equal(embed.elementsDiffering, 2);
  assert.equal(embed.elements, 12);
  assert.equal(embed.maxAbsDiff, 0.5);
  assert.deepEqual(embed.at, { index: 6, coordinates: [1, 2], a: 1.5, b: 2 });
  const ids = exact.changedContent.find((c) => c.name === 'ids')!;
  assert.deepEqual([ids.elementsDiffering, ids.maxAbsDiff, ids.at.index, ids.at.a, ids.at.b], [1, 27, 2, '3', '30']);
  assert.equal(exact.same, 1); // 'same' (NaN and -0, bit for bit)

  const tolerant = await diffTensorFiles(join(dir, 'a.safetensors'), join(dir, 'b.npz'), { rtol: 1e-6 });
  assert.equal(tolerant.changedContent.find((c) => c.name === 'embed.weight')!.elementsDiffering, 1);
  const loose = await diffTensorFiles(join(dir, 'a.safetensors'), join(dir, 'b.npz'), { atol: 0.5 });
  assert.equal(loose.changedContent.some((c) => c.name === 'embed.weight'), false);
  assert.equal(loose.changedContent.some((c) => c.name === 'ids'), true, 'integers stay exact whatever the tolerance');
  await assert.rejects(diffTensorFiles(join(dir, 'a.safetensors'), join(dir, 'b.npz'), { atol: -1 }), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
});

/** A reader over one tensor whose stream yields chunks of the given odd sizes (elements split across chunks). */
function oddChunkReader(tensor: Tensor, sizes: number[]): TensorReader {
  const reader = createTensorReader({
    format: 'memory', size: tensor.data.byteLength, metadata: {},
    tensors: [{ name: 'x', dtype: tensor.dtype, shape: tensor.shape, byteLength: tensor.data.byteLength }],
    locate: () => ({ kind: 'decode', decode: async () => tensor.data.slice() }),
  });
  return Object.assign(Object.create(reader) as TensorReader, {
    async *stream() {
      let at = 0;
      for (let i = 0; at < tensor.data.byteLength; i++) {
        const size = sizes[i % sizes.length]!;
        yield tensor.data.slice(at, at + size);
        at += size;
      }
    },
  });
}

test('diffTensorReaders: chunks that split elements differently on each side line up', async () => {
  const count = 1001;
  const a = new Float64Array(count).map((_, i) => Math.sin(i));
  const b = a.slice();
  b[777] = b[777]! + 0.25;
  b[5] = Number.NaN;
  const report = await diffTensorReaders(
    oddChunkReader(createTensor('float64', [7, 11, 13], a), [3, 17, 5, 64]),
    oddChunkReader(createTensor('float64', [7, 11, 13], b), [9, 1, 2, 100, 7]),
    { atol: 1e-9 },
  );
  const x = report.changedContent[0]!;
  assert.equal(x.elementsDiffering, 2);
  assert.equal(x.maxAbsDiff, Infinity); // NaN against a number
  assert.deepEqual(x.at.coordinates, [0, 0, 5]);
  const withoutNaN = b.slice();
  withoutNaN[5] = a[5]!;
  const second = await diffTensorReaders(
    oddChunkReader(createTensor('float64', [7, 11, 13], a), [3, 17, 5, 64]),
    oddChunkReader(createTensor('float64', [7, 11, 13], withoutNaN), [9, 1, 2, 100, 7]),
  );
  assert.deepEqual(second.changedContent[0]!.at, { index: 777, coordinates: [5, 4, 10], a: a[777], b: withoutNaN[777] });
});

test('tensio diff: exit 0 identical, 1 different, 2 usage; --json is one object; the text names each difference', async (t) => {
  const dir = await tempDir(t);
  await safetensorsWrite(join(dir, 'a.safetensors'), BASE);
  await npzWrite(join(dir, 'same.npz'), BASE);
  await npzWrite(join(dir, 'b.npz'), changed());
  const same = await runCli(['diff', join(dir, 'a.safetensors'), join(dir, 'same.npz')]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /^identical: 6 tensors$/m);
  const different = await runCli(['diff', join(dir, 'a.safetensors'), join(dir, 'b.npz')]);
  assert.equal(different.code, 1, different.stderr);
  assert.match(different.stdout, /^- gone {2}float32 \[2\]/m);
  assert.match(different.stdout, /^\+ added {2}float32 \[1\]/m);
  assert.match(different.stdout, /^~ recast {2}dtype float32 -> float64$/m);
  assert.match(different.stdout, /^~ reshaped {2}shape \[2, 3\] -> \[3, 2\]$/m);
  assert.match(different.stdout, /^! embed\.weight {2}float32 \[3, 4\]: 2 of 12 differ; largest \|a-b\| 0\.5 at \[1, 2\] \(flat 6\): a=1\.5 b=2$/m);
  const json = await runCli(['diff', join(dir, 'a.safetensors'), join(dir, 'b.npz'), '--json', '--rtol', '1e-6']);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.identical, false);
  assert.equal(parsed.rtol, 1e-6);
  assert.equal(parsed.changedContent.find((c: { name: string }) => c.name === 'embed.weight').elementsDiffering, 1);
  for (const bad of [['diff', 'only-one'], ['diff', 'a', 'b', '--atol', 'x'], ['diff', 'a', 'b', '--rtol', '-1']]) {
    assert.equal((await runCli(bad, { cwd: dir })).code, 2, bad.join(' '));
  }
});

test('tensio diff: a torch checkpoint against its safetensors conversion by safetensors.torch is identical', { skip: oracleSkip('torch', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, torch
from safetensors.torch import save_file
sd = {'w': torch.randn(64, 33), 'b': torch.randn(33).to(torch.bfloat16), 'n': torch.arange(5)}
torch.save(sd, sys.argv[1] + '/m.pt')
save_file(sd, sys.argv[1] + '/m.safetensors')
sd['w'][3, 7] += 1
save_file(sd, sys.argv[1] + '/changed.safetensors')
`, [dir]);
  const same = await runCli(['diff', join(dir, 'm.pt'), join(dir, 'm.safetensors')]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  const changedRun = await runCli(['diff', join(dir, 'm.pt'), join(dir, 'changed.safetensors'), '--json']);
  assert.equal(changedRun.code, 1);
  assert.deepEqual(JSON.parse(changedRun.stdout).changedContent.map((c: { name: string; at: { coordinates: number[] } }) => [c.name, c.at.coordinates]), [['w', [3, 7]]]);
});
