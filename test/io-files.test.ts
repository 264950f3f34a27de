/**
 * File conversions of tensio/io against the reference libraries: safetensors files
 * written by `safetensors.numpy` become stores and stores become files it reads;
 * .npy/.npz written by NumPy likewise (test_io_conversion.py §3-4, §7-8). Also the
 * registry: `convert()` into and out of `.npk` folders and the inspect extras.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import { convert } from '../src/operations/index.js';
import { openTensorFile } from '../src/operations/index.js';
import {
  NumPack, fromNumpy, fromSafetensorsFile, getSafetensorsMetadata, iterSafetensors, toNumpy, toSafetensorsFile,
} from '../src/io/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { arange2d, f32 } from './helpers/npk-fixtures.js';

const code = (...codes: string[]) => (err: unknown) => isTensioError(err) && codes.includes(err.code);

const PY_DUMP = String.raw`
import json, sys, numpy as np
p = sys.argv[1]
if p.endswith('.safetensors'):
    from safetensors.numpy import load_file
    from safetensors import safe_open
    d = load_file(p)
    with safe_open(p, 'np') as f: meta = f.metadata()
else:
    loaded = np.load(p)
    d = dict(loaded) if p.endswith('.npz') else {'__npy__': loaded}
    meta = None
print(json.dumps({'meta': meta, 'arrays': {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'hex': np.ascontiguousarray(v).tobytes().hex()} for k, v in d.items()}}))`;

async function storeDump(path: string) {
  await using npk = await NumPack.open(path, { readOnly: true });
  const out: Record<string, { dtype: string; shape: number[]; hex: string }> = {};
  for (const name of npk.getMemberList()) {
    const tensor = await npk.load(name);
    out[name] = { dtype: tensor.dtype, shape: tensor.shape as number[], hex: Buffer.from(tensor.data).toString('hex') };
  }
  return out;
}

test('safetensors file → store → safetensors file, checked by the safetensors library', { skip: oracleSkip('numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(3)
save_file({'embed.weight': rng.standard_normal((64, 16)).astype(np.float32), 'bias': np.arange(16, dtype=np.int64),
           'half': rng.standard_normal((4, 4)).astype(np.float16), 'mask': np.array([True, False, True])}, sys.argv[1], metadata={'format': 'np'})`, [`${dir}/in.safetensors`]);
  const reference = JSON.parse(runPython(PY_DUMP, [`${dir}/in.safetensors`]).stdout);
  const summary = await getSafetensorsMetadata(`${dir}/in.safetensors`);
  assert.deepEqual(summary.tensors['embed.weight'], { dtype: 'float32', shape: [64, 16] });
  assert.equal(summary.metadata.format, 'np');
  const seen: string[] = [];
  for await (const [name, tensor] of iterSafetensors(`${dir}/in.safetensors`, { keys: ['bias'] })) seen.push(`${name}:${tensor.shape}`);
  assert.deepEqual(seen, ['bias:16']);
  await assert.rejects(async () => { for await (const _ of iterSafetensors(`${dir}/in.safetensors`, { keys: ['nope'] })) void _; }, code('NOT_FOUND'));

  const npk = `${dir}/m.npk`;
  await fromSafetensorsFile(`${dir}/in.safetensors`, npk, { chunkSize: 256 }); // tiny chunks: streamed in pieces
  const stored = await storeDump(npk);
  for (const [name, want] of Object.entries(reference.arrays as Record<string, { shape: number[]; hex: string }>)) {
    assert.deepEqual(stored[name]!.shape, want.shape, name);
    assert.equal(stored[name]!.hex, want.hex, name);
  }
  await assert.rejects(fromSafetensorsFile(`${dir}/in.safetensors`, `${dir}/k.npk`, { keys: ['bias', 'missing1', 'missing2'] }), code('NOT_FOUND'));
  await fromSafetensorsFile(`${dir}/in.safetensors`, `${dir}/k.npk`, { keys: ['bias'] });
  assert.deepEqual(Object.keys(await storeDump(`${dir}/k.npk`)), ['bias']);

  {
    await using s = await NumPack.open(npk);
    await s.drop('embed.weight', [0, 1]);
  }
  await toSafetensorsFile(npk, `${dir}/out.safetensors`, { metadata: { format: 'numpack' } });
  const out = JSON.parse(runPython(PY_DUMP, [`${dir}/out.safetensors`]).stdout);
  assert.deepEqual(out.meta, { format: 'numpack' });
  assert.deepEqual(out.arrays['embed.weight'].shape, [62, 16]);
  assert.equal(out.arrays['embed.weight'].hex, reference.arrays['embed.weight'].hex.slice(2 * 2 * 16 * 4));
  assert.equal(out.arrays.bias.hex, reference.arrays.bias.hex);
  await toSafetensorsFile(npk, `${dir}/one.safetensors`, { arrayNames: ['half'] });
  assert.deepEqual(Object.keys(JSON.parse(runPython(PY_DUMP, [`${dir}/one.safetensors`]).stdout).arrays), ['half']);
});

test('npy/npz from NumPy → store → npy/npz read by NumPy; dtypes kept', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np
d = sys.argv[1]
np.save(d + '/test.npy', np.random.default_rng(1).standard_normal((100, 10)))
np.savez(d + '/two.npz', array1=np.arange(30.0).reshape(10, 3), array2=np.arange(8, dtype=np.int32))
for t in ['float32', 'float64', 'int32', 'int64', 'uint8', 'uint16', 'uint32']:
    np.save(d + '/k_' + t + '.npy', (np.arange(24) % 7).astype(t).reshape(4, 6))`, [dir]);
  const npk = `${dir}/n.npk`;
  await fromNumpy(`${dir}/test.npy`, npk);
  await fromNumpy(`${dir}/test.npy`, npk, { arrayName: 'my_array' });
  await fromNumpy(`${dir}/two.npz`, npk);
  const stored = await storeDump(npk);
  assert.deepEqual(Object.keys(stored).sort(), ['array1', 'array2', 'my_array', 'test']);
  assert.equal(stored.array2!.dtype, 'int32');
  const original = JSON.parse(runPython(PY_DUMP, [`${dir}/test.npy`]).stdout).arrays.__npy__;
  assert.equal(stored.test!.hex, original.hex);

  await toNumpy(npk, `${dir}/out.npy`, { arrayNames: ['test'] });
  assert.equal(JSON.parse(runPython(PY_DUMP, [`${dir}/out.npy`]).stdout).arrays.__npy__.hex, original.hex);
  await toNumpy(npk, `${dir}/all.npz`);
  await toNumpy(npk, `${dir}/raw.npz`, { arrayNames: ['array1', 'array2'], compressed: false });
  const all = JSON.parse(runPython(PY_DUMP, [`${dir}/all.npz`]).stdout).arrays;
  assert.deepEqual(Object.keys(all).sort(), ['array1', 'array2', 'my_array', 'test']);
  assert.equal(all.array2.dtype, 'int32');
  assert.deepEqual(Object.keys(JSON.parse(runPython(PY_DUMP, [`${dir}/raw.npz`]).stdout).arrays).sort(), ['array1', 'array2']);

  for (const dtype of ['float32', 'float64', 'int32', 'int64', 'uint8', 'uint16', 'uint32']) {
    const single = `${dir}/k_${dtype}.npk`;
    await fromNumpy(`${dir}/k_${dtype}.npy`, single, { arrayName: 'original' });
    await toNumpy(single, `${dir}/k_${dtype}_back.npy`);
    const back = JSON.parse(runPython(PY_DUMP, [`${dir}/k_${dtype}_back.npy`]).stdout).arrays.__npy__;
    assert.equal(back.dtype, dtype);
    assert.equal(back.hex, JSON.parse(runPython(PY_DUMP, [`${dir}/k_${dtype}.npy`]).stdout).arrays.__npy__.hex);
  }

  await assert.rejects(fromNumpy(`${dir}/missing.npy`, npk), code('NOT_FOUND'));
  await assert.rejects(fromNumpy(`${dir}/x.xyz`, npk), code('INVALID_ARGUMENT'));
  await assert.rejects(toNumpy(npk, `${dir}/many.npy`), code('INVALID_ARGUMENT'));
  await assert.rejects(toNumpy(npk, `${dir}/x.xyz`), code('INVALID_ARGUMENT'));
});

test('registry: convert() into and out of .npk folders; the reader shows logical shapes and extras', async (t) => {
  const dir = await tempDir(t);
  const npk = `${dir}/c.npk`;
  {
    await using s = await NumPack.open(npk, { segmentTargetBytes: 64 });
    await s.save({ x: arange2d(10, 4), y: f32([3], [1, 2, 3]) });
    await s.drop('x', [0, 9]);
  }
  {
    await using reader = await openTensorFile(npk);
    assert.equal(reader.format, 'npk');
    const x = reader.info('x');
    assert.deepEqual(x.shape, [8, 4]);
    assert.equal(x.extras?.deletedRows, 2);
    assert.equal(x.extras?.physicalRows, 10);
    assert.equal(x.extras?.segmented, true);
    const slice = await reader.read('x', { slice: { start: 0, end: 1 } });
    assert.deepEqual([...new Float32Array(slice.data.slice().buffer)], [4, 5, 6, 7]);
    let streamed = 0;
    for await (const chunk of reader.stream('x', { chunkBytes: 7 })) streamed += chunk.byteLength;
    assert.equal(streamed, 8 * 16);
  }
  await convert(npk, `${dir}/copy.npk`);
  const copy = await storeDump(`${dir}/copy.npk`);
  assert.deepEqual(copy.x!.shape, [8, 4]);
  await assert.rejects(convert(npk, `${dir}/copy.npk`), code('ALREADY_EXISTS'));
  await convert(npk, `${dir}/copy.npk`, { overwrite: true, tensors: ['y'] });
  assert.deepEqual(Object.keys(await storeDump(`${dir}/copy.npk`)), ['y']);
  await assert.rejects(convert(`${dir}/copy.npk`, `${dir}/bad.npk`, { tensors: ['zzz'] }), code('NOT_FOUND'));
});
