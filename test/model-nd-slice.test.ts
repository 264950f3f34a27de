/** Slices along any dimensions: against safetensors' get_slice and numpy slicing; only the needed bytes are read from spans. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError, openTensorFile, type TensorSlice } from '../src/index.js';
import { createTensorReader, resolveTensorSlice, tensorSliceRuns } from '../src/model/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { recordingSource } from './helpers/recording-source.js';
import { tempDir } from './helpers/temp.js';

test('tensorSliceRuns: C-order runs, whole inner dimensions folded, touching runs joined', () => {
  const shape = [4, 6];
  const runs = (slice: TensorSlice) => [...tensorSliceRuns(shape, 4, resolveTensorSlice(slice, shape, 'x'))];
  assert.deepEqual(runs([[1, 3], [2, 4]]), [[32, 8], [56, 8]]);
  assert.deepEqual(runs([[1, 3]]), [[24, 48]]);
  assert.deepEqual(runs([null, [0, 6]]), [[0, 96]]);
  assert.deepEqual(runs([[2, 2]]), []);
  assert.deepEqual(resolveTensorSlice([[-2], [1, 100]], shape, 'x'), { starts: [2, 1], ends: [4, 6], shape: [2, 5] });
  assert.deepEqual(resolveTensorSlice([[3, 1]], shape, 'x').shape, [0, 6]);
  for (const bad of [[[0, 1], [0, 1], [0, 1]], [[0.5, 2]], [[0, 1, 2]], ['a']] as unknown as TensorSlice[]) {
    assert.throws(() => resolveTensorSlice(bad, shape, 'x'), (error) => isTensioError(error, 'INVALID_SLICE'), JSON.stringify(bad));
  }
});

test('a span reads exactly the bytes of the slice', async () => {
  const shape = [8, 16, 32];
  const data = new Float32Array(8 * 16 * 32).map((_, i) => i);
  const source = recordingSource(new Uint8Array(data.buffer), { readInto: true });
  const reader = createTensorReader({
    format: 'memory', size: source.size, metadata: {},
    tensors: [{ name: 'x', dtype: 'float32', shape, byteLength: data.byteLength }],
    locate: () => ({ kind: 'span', source, offset: 0 }),
  });
  const slice = await reader.read('x', { slice: [[1, 3], null, [5, 9]] });
  assert.deepEqual(slice.shape, [2, 16, 4]);
  assert.equal(source.asked, 2 * 16 * 4 * 4);
  const values = new Float32Array(slice.data.buffer, slice.data.byteOffset, 2 * 16 * 4);
  assert.equal(values[0], 1 * 512 + 0 * 32 + 5);
  assert.equal(values[values.length - 1], 2 * 512 + 15 * 32 + 8);
});

/** Python: writes tensors in several formats and the expected bytes of each slice (safetensors get_slice / numpy). */
const ORACLE = String.raw`
import sys, json, os, numpy as np, torch
from safetensors.torch import save_file
from safetensors import safe_open
d = sys.argv[1]
slices = json.loads(sys.argv[2])
rng = np.random.default_rng(3)
arrays = {
  'f32': rng.standard_normal((7, 9, 11)).astype(np.float32),
  'i8': rng.integers(-100, 100, (3, 4, 5, 6)).astype(np.int8),
  'f64': rng.standard_normal((10, 13)),
}
tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
tensors['bf16'] = torch.from_numpy(arrays['f32']).to(torch.bfloat16)
save_file(tensors, os.path.join(d, 'm.safetensors'))
np.savez(os.path.join(d, 'stored.npz'), **arrays)
np.savez_compressed(os.path.join(d, 'deflated.npz'), **arrays)
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(arrays['f32']))
def py(s):
    return tuple(slice(None) if e is None else slice(e[0], e[1] if len(e) > 1 else None) for e in s)
with safe_open(os.path.join(d, 'm.safetensors'), 'pt') as f:
    for name in tensors:
        for i, s in enumerate(slices):
            if len(s) > tensors[name].dim(): continue
            t = f.get_slice(name)[py(s)]
            t.contiguous().view(torch.uint8).numpy().tofile(os.path.join(d, f'st-{name}-{i}.bin'))
            np.array(list(t.shape), dtype=np.int64).tofile(os.path.join(d, f'st-{name}-{i}.shape'))
for name, a in arrays.items():
    for i, s in enumerate(slices):
        if len(s) > a.ndim: continue
        np.ascontiguousarray(a[py(s)]).tofile(os.path.join(d, f'np-{name}-{i}.bin'))
`;

const SLICES: TensorSlice[] = [
  [[0, 2]],
  [null, [1, 4]],
  [[1, 3], null, [5, 9]],
  [[-3], [-5, -1], [2]],
  [[2, 100], [7, 3]],
  [[0, 1], [0, 1], [0, 1]],
  [null, null, [10]],
  [[5, 6], null, null, [1, 5]],
];

test('N-d slices match safetensors get_slice (safetensors) and numpy slicing (stored and deflated npz, Fortran-order npy)', { skip: oracleSkip('torch', 'safetensors', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(ORACLE, [dir, JSON.stringify(SLICES)]);
  const cases: { file: string; prefix: string; names: string[] }[] = [
    { file: 'm.safetensors', prefix: 'st', names: ['f32', 'i8', 'f64', 'bf16'] },
    { file: 'stored.npz', prefix: 'np', names: ['f32', 'i8', 'f64'] },
    { file: 'deflated.npz', prefix: 'np', names: ['f32', 'i8', 'f64'] },
  ];
  let compared = 0;
  for (const { file, prefix, names } of cases) {
    await using reader = await openTensorFile(join(dir, file));
    for (const name of names) {
      for (const [i, slice] of SLICES.entries()) {
        if (slice.length > reader.info(name).shape.length) {
          await assert.rejects(reader.read(name, { slice }), (error) => isTensioError(error, 'INVALID_SLICE'));
          continue;
        }
        const got = await reader.read(name, { slice });
        const want = new Uint8Array(await readFile(join(dir, `${prefix}-${name}-${i}.bin`)));
        assert.deepEqual(Buffer.from(got.data), Buffer.from(want), `${file} ${name} ${JSON.stringify(slice)}`);
        if (prefix === 'st') {
          const shape = [...new BigInt64Array((await readFile(join(dir, `st-${name}-${i}.shape`))).buffer.slice(0))].map(Number);
          assert.deepEqual(got.shape, shape, `${file} ${name} ${JSON.stringify(slice)} shape`);
        }
        compared++;
      }
    }
  }
  // A Fortran-order .npy is a decode location: the slice is cut from the decoded tensor.
  await using fortran = await openTensorFile(join(dir, 'fortran.npy'));
  const name = fortran.tensors[0]!.name;
  for (const [i, slice] of SLICES.entries()) {
    if (slice.length > 3) continue;
    const got = await fortran.read(name, { slice });
    assert.deepEqual(Buffer.from(got.data), Buffer.from(await readFile(join(dir, `np-f32-${i}.bin`))), `fortran ${JSON.stringify(slice)}`);
    compared++;
  }
  assert.ok(compared >= 60, `compared ${compared}`);
  await writeFile(join(dir, 'done'), String(compared));
});
