/**
 * fromTensor / toTensor with tensio, onnxruntime-shaped and TensorFlow.js-shaped
 * tensors (duck typed), merge vs dropIfExists, and the single-array rule of exporters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import { fromTensor, toTensor, fromSafetensors, toSafetensors, NumPack } from '../src/io/index.js';
import { tempDir } from './helpers/temp.js';
import { arange2d, f32, values } from './helpers/npk-fixtures.js';

const code = (...codes: string[]) => (err: unknown) => isTensioError(err) && codes.includes(err.code);

test('fromTensor/toTensor: tensio, onnxruntime-like and tf.js-like tensors; default name data', async (t) => {
  const dir = await tempDir(t);
  const path = `${dir}/t.npk`;
  await fromTensor(arange2d(50, 10), path);
  const back = await toTensor(path);
  assert.deepEqual(back.shape, [50, 10]);
  assert.deepEqual(values(back), values(arange2d(50, 10)));
  await fromTensor({ type: 'int32', dims: [2, 2], data: new Int32Array([1, 2, 3, 4]) }, path, { arrayName: 'ort' });
  const ort = await toTensor(path, { arrayName: 'ort' });
  assert.equal(ort.dtype, 'int32');
  assert.deepEqual(values(ort), [1, 2, 3, 4]);
  await fromTensor({ dtype: 'float32', shape: [3], dataSync: () => new Float32Array([0.5, 1.5, 2.5]) }, path, { arrayName: 'tf' });
  assert.deepEqual(values(await toTensor(path, { arrayName: 'tf' })), [0.5, 1.5, 2.5]);
  await fromTensor({ dtype: 'bool', shape: [2], dataSync: () => new Uint8Array([1, 0]) }, path, { arrayName: 'tfbool' });
  assert.equal((await toTensor(path, { arrayName: 'tfbool' })).dtype, 'bool');
  await assert.rejects(toTensor(path), code('INVALID_ARGUMENT'));
  await assert.rejects(fromTensor({ not: 'a tensor' } as never, path), code('INVALID_ARGUMENT'));
  await assert.rejects(fromTensor({ type: 'string', dims: [1], data: new Uint8Array(1) }, path), code('UNSUPPORTED_DTYPE'));
  await fromTensor(f32([1, 1], [42]), path, { dropIfExists: true });
  {
    await using npk = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), ['data']);
  }
  await fromTensor(f32([0, 5], []), `${dir}/empty.npk`);
  assert.deepEqual((await toTensor(`${dir}/empty.npk`)).shape, [0, 5]);
});

test('fromSafetensors/toSafetensors on records of tensors; merge keeps other arrays', async (t) => {
  const dir = await tempDir(t);
  const path = `${dir}/r.npk`;
  await fromSafetensors({ a: arange2d(3, 2), b: f32([2], [7, 8]) }, path);
  await fromSafetensors({ c: f32([1], [9]) }, path);
  const all = await toSafetensors(path);
  assert.deepEqual(Object.keys(all).sort(), ['a', 'b', 'c']);
  assert.deepEqual(values(all.b!), [7, 8]);
  const some = await toSafetensors(path, { arrayNames: ['a'] });
  assert.deepEqual(Object.keys(some), ['a']);
  await fromSafetensors({ only: f32([1], [1]) }, path, { dropIfExists: true });
  assert.deepEqual(Object.keys(await toSafetensors(path)), ['only']);
  await assert.rejects(toSafetensors(`${dir}/missing.npk`), code('NOT_FOUND'));
});
