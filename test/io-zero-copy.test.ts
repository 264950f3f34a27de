/**
 * Zero-copy views (test_zero_copy.py): typed arrays and Arrow vectors share the
 * tensor's memory — a write through one is seen through the other — and copies are
 * reported where sharing is impossible.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrowToTensor, tensorToArrow, tensorToTypedArray, typedArrayToTensor, wrapForZeroCopy, ZeroCopyArray, NumPack } from '../src/io/index.js';
import { tempDir } from './helpers/temp.js';
import { arange2d, f32 } from './helpers/npk-fixtures.js';

test('typed-array view shares memory when aligned, copies and says so when not', () => {
  const tensor = arange2d(4, 3);
  const { value, copied } = tensorToTypedArray(tensor);
  assert.equal(copied, false);
  (value as Float32Array)[0] = 999;
  assert.equal(new Float32Array(tensor.data.buffer, tensor.data.byteOffset, 1)[0], 999);
  const backing = new Uint8Array(13);
  const misaligned = { dtype: 'float32' as const, shape: [3], data: backing.subarray(1) };
  const reasons: string[] = [];
  const result = tensorToTypedArray(misaligned, { onCopy: (reason) => reasons.push(reason) });
  assert.equal(result.copied, true);
  assert.equal(reasons.length, 1);
  (result.value as Float32Array)[0] = 1;
  assert.equal(backing[1], 0);
  const floats = new Float32Array([1, 2, 3, 4]);
  const wrapped = typedArrayToTensor(floats, [2, 2]);
  floats[3] = -1;
  assert.equal(new Float32Array(wrapped.data.buffer)[3], -1);
});

test('Arrow vectors over the same memory, both directions; booleans and nulls copied', async () => {
  const tensor = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const { value: vector, copied } = await tensorToArrow(tensor);
  assert.equal(copied, false);
  assert.equal(vector.length, 6);
  assert.equal(vector.get(4), 5);
  new Float32Array(tensor.data.buffer)[4] = 50;
  assert.equal(vector.get(4), 50);
  const { value: back, copied: backCopied } = arrowToTensor(vector, { shape: [2, 3] });
  assert.equal(backCopied, false);
  new Float32Array(back.data.buffer, back.data.byteOffset, 6)[0] = -7;
  assert.equal(vector.get(0), -7);

  const arrow = await import('apache-arrow');
  const ints = arrow.vectorFromArray(new BigInt64Array([1n, 2n, 3n]));
  const asTensor = arrowToTensor(ints);
  assert.equal(asTensor.value.dtype, 'int64');
  assert.equal(asTensor.copied, false);
  const withNulls = arrow.vectorFromArray([1, 2, null, 4, 5], new arrow.Int32());
  const reasons: string[] = [];
  const nulls = arrowToTensor(withNulls, { onCopy: (r) => reasons.push(r) });
  assert.equal(nulls.copied, true);
  assert.equal(nulls.value.dtype, 'float64');
  assert.equal(nulls.value.shape[0], 5);
  assert.ok(Number.isNaN(new Float64Array(nulls.value.data.buffer)[2]!));
  assert.equal(reasons.length, 1);
  const bools = await tensorToArrow({ dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) });
  assert.equal(bools.copied, true);
  assert.deepEqual([bools.value.get(0), bools.value.get(1), bools.value.get(2)], [true, false, true]);
});

test('ZeroCopyArray: shape, dtype, nbytes; typed array and Arrow share a loaded array\'s memory', async (t) => {
  const dir = await tempDir(t);
  await using npk = await NumPack.open(`${dir}/z.npk`, { durable: false });
  await npk.save({ x: arange2d(10, 5) });
  const zc = wrapForZeroCopy(await npk.load('x'));
  assert.ok(zc instanceof ZeroCopyArray);
  assert.deepEqual(zc.shape, [10, 5]);
  assert.equal(zc.dtype, 'float32');
  assert.equal(zc.nbytes, 200);
  assert.equal(zc.size, 50);
  const typed = zc.toTypedArray() as Float32Array;
  const vector = await zc.toArrow();
  assert.equal(vector.length, 50);
  typed[7] = 1234;
  assert.equal(vector.get(7), 1234);
  const fromVector = ZeroCopyArray.fromArrow(vector, { shape: [10, 5] });
  assert.deepEqual(fromVector.shape, [10, 5]);
  (fromVector.toTypedArray() as Float32Array)[8] = 77;
  assert.equal(typed[8], 77);
  assert.equal(wrapForZeroCopy(new Int16Array(4)).dtype, 'int16');
});
