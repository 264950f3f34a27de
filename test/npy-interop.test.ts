import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { npyDescrFor, npyOpen, npySerialize, npyWrite } from '../src/formats/npy/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const NUMPY_DTYPES: DType[] = ['bool', 'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64', 'float16', 'float32', 'float64', 'complex64', 'complex128'];

/** Python snippet: the dtype name tensio uses for a numpy dtype. */
const PY_HELPERS = `
import numpy as np, json, sys, os
def tensio_name(dt):
    return {'?': 'bool', 'B': 'uint8', 'b': 'int8', 'H': 'uint16', 'h': 'int16', 'I': 'uint32', 'i': 'int32',
            'Q': 'uint64', 'q': 'int64', 'L': 'uint64', 'l': 'int64', 'e': 'float16', 'f': 'float32', 'd': 'float64',
            'F': 'complex64', 'D': 'complex128'}[dt.char]
def le_bytes(a):
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder('<'))).tobytes().hex()
rng = np.random.default_rng(7)
def sample(dt, shape):
    target = np.dtype(dt)
    dt = target.newbyteorder('=')
    n = int(np.prod(shape))
    if dt.kind == 'b': v = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in 'iu': v = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, n, dtype=dt, endpoint=True)
    elif dt.kind == 'f': v = (rng.standard_normal(n) * 100).astype(dt)
    else: v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    return v.reshape(shape).astype(target)
`;

test('tensio reads every numeric dtype numpy writes: both byte orders, Fortran order, 0-d, empty, v1/v2/v3', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const { stdout } = runPython(`${PY_HELPERS}
out = []
codes = ['?', 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f2', 'f4', 'f8', 'c8', 'c16']
shapes = [(), (0,), (7,), (3, 4), (2, 3, 4), (2, 0, 3), (1, 5, 1, 2)]
k = 0
for code in codes:
    for order in '<>':
        dt = np.dtype(order + code) if code != '?' else np.dtype('?')
        for shape in shapes:
            a = sample(dt, shape)
            for fortran in (False, True):
                arr = np.asfortranarray(a) if fortran else a
                for version in [None, (2, 0), (3, 0)] if (k % 3 == 0) else [None]:
                    path = os.path.join(sys.argv[1], f'a{k}.npy'); k += 1
                    with open(path, 'wb') as f:
                        np.lib.format.write_array(f, arr, version=version)
                    out.append({'path': path, 'dtype': tensio_name(dt), 'shape': list(arr.shape), 'hex': le_bytes(arr),
                                'descr': np.lib.format.dtype_to_descr(dt), 'fortran': bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)})
print(json.dumps(out))
`, [dir]);
  const cases = JSON.parse(stdout) as { path: string; dtype: DType; shape: number[]; hex: string; descr: string; fortran: boolean }[];
  assert.ok(cases.length > 300);
  let fortranSeen = 0;
  for (const item of cases) {
    await using reader = await npyOpen(item.path);
    const info = reader.info('data');
    assert.equal(info.dtype, item.dtype, item.path);
    assert.deepEqual(info.shape, item.shape, item.path);
    assert.equal(info.formatDtype, item.descr, item.path);
    const tensor = await reader.read('data');
    assert.equal(Buffer.from(tensor.data).toString('hex'), item.hex, `${item.path} ${item.descr} [${item.shape}] fortran=${item.fortran}`);
    const streamed = [];
    for await (const chunk of reader.stream('data', { chunkBytes: 5 })) streamed.push(Buffer.from(chunk));
    assert.equal(Buffer.concat(streamed).toString('hex'), item.hex, item.path);
    if (item.fortran) fortranSeen++;
  }
  assert.ok(fortranSeen > 50);
});

test('numpy loads what tensio writes (allow_pickle=False), every dtype, equal values', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const expected: Record<string, { descr: string; shape: number[]; hex: string }> = {};
  let seed = 1;
  for (const dtype of NUMPY_DTYPES) {
    for (const shape of [[], [0], [5], [3, 4], [2, 1, 3]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const width = { bool: 1, complex64: 8, complex128: 16 }[dtype as string] ?? Number(/\d+/.exec(npyDescrFor(dtype)!)![0]);
      const data = new Uint8Array(count * width);
      for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      if (dtype === 'bool') for (let i = 0; i < data.length; i++) data[i]! &= 1;
      const name = `${dtype}-${shape.join('x') || 'scalar'}.npy`;
      await npyWrite(join(dir, name), { dtype, shape, data });
      expected[name] = { descr: npyDescrFor(dtype)!, shape, hex: Buffer.from(data).toString('hex') };
    }
  }
  const { stdout } = runPython(`
import numpy as np, json, sys, os
out = {}
for name in sorted(os.listdir(sys.argv[1])):
    a = np.load(os.path.join(sys.argv[1], name), allow_pickle=False)
    out[name] = {'descr': np.lib.format.dtype_to_descr(a.dtype), 'shape': list(a.shape), 'hex': a.tobytes().hex()}
print(json.dumps(out))
`, [dir]);
  assert.deepEqual(JSON.parse(stdout), expected);
});

test('tensio .npy bytes are identical to np.save output', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const { stdout } = runPython(`${PY_HELPERS}
cases = [('f4', (2, 3)), ('f8', ()), ('i8', (0,)), ('u1', (17,)), ('?', (4, 4)), ('c16', (3, 1, 2)), ('f2', (1234567,)),
         ('i4', (10**9, 0)), ('u2', tuple([1] * 30)), ('i2', (2,) * 12), ('f4', (0, 10**12)), ('c8', (11, 13))]
out = []
for k, (code, shape) in enumerate(cases):
    a = np.zeros(shape, dtype=code) if 0 in shape else sample(code, shape)
    path = os.path.join(sys.argv[1], f'{k}.npy')
    np.save(path, a)
    out.append({'path': path, 'dtype': tensio_name(a.dtype), 'shape': list(shape)})
print(json.dumps(out))
`, [dir]);
  for (const item of JSON.parse(stdout) as { path: string; dtype: DType; shape: number[] }[]) {
    const file = new Uint8Array(await readFile(item.path));
    await using reader = await npyOpen(file);
    const tensor = await reader.read('data');
    const ours = npySerialize(tensor);
    assert.equal(Buffer.from(ours).equals(Buffer.from(file)), true, `${item.path} ${item.dtype} [${item.shape}]: ${JSON.stringify(Buffer.from(ours.subarray(0, 128)).toString('latin1'))}`);
  }
});

test('numpy reads tensio\'s forced v2 and v3 files', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const bigShape = Array.from({ length: 64 }, () => 1);
  await npyWrite(join(dir, 'v2.npy'), { dtype: 'int16', shape: [2, 2], data: new Uint8Array(8).fill(1) }, { version: [2, 0] });
  await npyWrite(join(dir, 'v3.npy'), { dtype: 'float32', shape: bigShape, data: new Uint8Array(4) }, { version: [3, 0] });
  await writeFile(join(dir, 'marker'), '');
  const { stdout } = runPython(`
import numpy as np, sys, json, os
out = {}
for name in ['v2.npy', 'v3.npy']:
    p = os.path.join(sys.argv[1], name)
    with open(p, 'rb') as f: version = np.lib.format.read_magic(f)
    a = np.load(p)
    out[name] = [list(version), list(a.shape), a.tobytes().hex()]
print(json.dumps(out))
`, [dir]);
  const result = JSON.parse(stdout) as Record<string, [number[], number[], string]>;
  assert.deepEqual(result['v2.npy'], [[2, 0], [2, 2], '0101010101010101']);
  assert.deepEqual(result['v3.npy'], [[3, 0], bigShape, '00000000']);
});
