import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { npzOpen, npzWrite } from '../src/formats/npz/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

test('tensio reads np.savez and np.savez_compressed archives: dtypes, byte orders, Fortran, 0-d, empty, extra members', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const { stdout } = runPython(`
import numpy as np, json, sys, os, zipfile
rng = np.random.default_rng(3)
arrays = {
  'f4': rng.standard_normal((3, 4)).astype('<f4'),
  'f8_be': rng.standard_normal((5,)).astype('>f8'),
  'i8_fortran': np.asfortranarray(rng.integers(-1000, 1000, (4, 3, 2))),
  'c8_be_fortran': np.asfortranarray((rng.standard_normal((3, 2)) + 1j).astype('>c8')),
  'scalar': np.array(7, dtype='<u2'),
  'empty': np.zeros((0, 3), dtype='<f2'),
  'bools': rng.integers(0, 2, (9,)).astype(bool),
  'u1': np.arange(200, dtype='u1'),
  'nested/key': np.arange(6, dtype='<i4').reshape(2, 3),
}
np.savez(os.path.join(sys.argv[1], 'stored.npz'), **arrays)
np.savez_compressed(os.path.join(sys.argv[1], 'deflated.npz'), **arrays)
np.savez(os.path.join(sys.argv[1], 'positional.npz'), arrays['f4'], arrays['u1'])
with zipfile.ZipFile(os.path.join(sys.argv[1], 'stored.npz'), 'a') as z:
    z.writestr('README.txt', b'not an array')
def le(a): return np.ascontiguousarray(a.astype(a.dtype.newbyteorder('<'))).tobytes().hex()
print(json.dumps({k: {'shape': list(a.shape), 'hex': le(a)} for k, a in arrays.items()}))
`, [dir]);
  const expected = JSON.parse(stdout) as Record<string, { shape: number[]; hex: string }>;
  for (const file of ['stored.npz', 'deflated.npz']) {
    await using reader = await npzOpen(join(dir, file));
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), Object.keys(expected).sort(), file);
    for (const [key, want] of Object.entries(expected)) {
      const tensor = await reader.read(key);
      assert.deepEqual(tensor.shape, want.shape, `${file} ${key}`);
      assert.equal(Buffer.from(tensor.data).toString('hex'), want.hex, `${file} ${key}`);
      const parts = [];
      for await (const chunk of reader.stream(key, { chunkBytes: 7 })) parts.push(Buffer.from(chunk));
      assert.equal(Buffer.concat(parts).toString('hex'), want.hex, `${file} ${key} streamed`);
    }
    if (file === 'stored.npz') {
      assert.deepEqual(reader.metadata.otherMembers, ['README.txt']);
      assert.equal(typeof reader.info('f4').extras?.fileOffset, 'number', 'stored LE member is a span');
    }
  }
  await using positional = await npzOpen(join(dir, 'positional.npz'));
  assert.deepEqual(positional.tensors.map((info) => info.name), ['arr_0', 'arr_1']);
});

test('numpy loads what tensio writes, stored and compressed, with allow_pickle=False', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const arrays: Record<string, { dtype: DType; shape: number[]; data: Uint8Array }> = {};
  let seed = 5;
  const specs: [string, DType, number[], number][] = [
    ['w', 'float32', [16, 8], 4], ['b', 'int64', [3], 8], ['flag', 'bool', [], 1], ['none', 'float64', [0, 2], 8],
    ['c', 'complex128', [2, 2], 16], ['h', 'float16', [5], 2], ['u', 'uint32', [2, 1, 2], 4], ['dir/x', 'int8', [4], 1],
  ];
  for (const [name, dtype, shape, width] of specs) {
    const data = new Uint8Array(shape.reduce((a, b) => a * b, 1) * width);
    for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? 1 : (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    arrays[name] = { dtype, shape, data };
  }
  await npzWrite(join(dir, 'stored.npz'), arrays);
  await npzWrite(join(dir, 'deflated.npz'), arrays, { compress: true });
  const { stdout } = runPython(`
import numpy as np, json, sys, os, zipfile
out = {}
for name in ['stored.npz', 'deflated.npz']:
    p = os.path.join(sys.argv[1], name)
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None
        methods = sorted({i.compress_type for i in z.infolist()})
    with np.load(p, allow_pickle=False) as f:
        out[name] = {'methods': methods, 'arrays': {k: {'shape': list(f[k].shape), 'descr': f[k].dtype.str, 'hex': f[k].tobytes().hex()} for k in f.files}}
print(json.dumps(out))
`, [dir]);
  const result = JSON.parse(stdout) as Record<string, { methods: number[]; arrays: Record<string, { shape: number[]; descr: string; hex: string }> }>;
  assert.deepEqual(result['stored.npz']!.methods, [0]);
  assert.deepEqual(result['deflated.npz']!.methods, [8]);
  for (const file of ['stored.npz', 'deflated.npz']) {
    const got = result[file]!.arrays;
    assert.deepEqual(Object.keys(got).sort(), Object.keys(arrays).sort());
    for (const [name, array] of Object.entries(arrays)) {
      assert.deepEqual(got[name]!.shape, array.shape, `${file} ${name}`);
      assert.equal(got[name]!.hex, Buffer.from(array.data).toString('hex'), `${file} ${name}`);
    }
  }
});
