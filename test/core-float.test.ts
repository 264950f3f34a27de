import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float32ToFloat16Bits, float32ToBfloat16Bits, toFloat32Array, fromFloat32Array } from '../src/core/float-convert.js';
import { createTensor, typedView, tensorsEqual } from '../src/core/tensor.js';
import { tensorByteLength, elementCount } from '../src/core/sizes.js';
import { isTensioError } from '../src/core/errors.js';

test('float16 encodes edge cases with round-to-nearest-even', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -24, 0x0002],
    [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [value, bits] of cases) assert.equal(float32ToFloat16Bits(value), bits, `f16(${value})`);
  assert.equal(float32ToFloat16Bits(NaN), 0x7e00);
});

test('float16 round-trips every finite half value through float32', () => {
  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const decoded = toFloat32Array({ dtype: 'float16', shape: [65536], data: new Uint8Array(all.buffer) });
  for (let i = 0; i < 65536; i++) {
    const exponent = (i >> 10) & 0x1f;
    if (exponent === 0x1f && (i & 0x3ff) !== 0) {
      assert.ok(Number.isNaN(decoded[i]));
      continue;
    }
    assert.equal(float32ToFloat16Bits(decoded[i]!), i, `half 0x${i.toString(16)}`);
  }
});

test('bfloat16 encode/decode', () => {
  assert.equal(float32ToBfloat16Bits(1), 0x3f80);
  assert.equal(float32ToBfloat16Bits(-2.5), 0xc020);
  const t = fromFloat32Array(new Float32Array([1, -2.5, 3.140625]), 'bfloat16');
  assert.deepEqual([...toFloat32Array(t)], [1, -2.5, 3.140625]);
});

test('float8 e4m3fn and e5m2 decode known codes and re-encode them', () => {
  const e4 = toFloat32Array({ dtype: 'float8_e4m3fn', shape: [4], data: new Uint8Array([0x38, 0x7e, 0x7f, 0x01]) });
  assert.equal(e4[0], 1);
  assert.equal(e4[1], 448);
  assert.ok(Number.isNaN(e4[2]));
  assert.equal(e4[3], 2 ** -9);
  const e5 = toFloat32Array({ dtype: 'float8_e5m2', shape: [3], data: new Uint8Array([0x3c, 0x7c, 0x7b]) });
  assert.deepEqual([...e5], [1, Infinity, 57344]);
  for (const dtype of ['float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz'] as const) {
    const codes = new Uint8Array(256).map((_, i) => i);
    const values = toFloat32Array({ dtype, shape: [256], data: codes });
    const back = fromFloat32Array(values, dtype);
    for (let code = 0; code < 256; code++) {
      if (Number.isNaN(values[code])) continue;
      assert.equal(values[back.data[code]!], values[code], `${dtype} code ${code}`);
    }
  }
});

test('sizes are checked', () => {
  assert.equal(elementCount([]), 1);
  assert.equal(tensorByteLength('float4_e2m1', [3, 2]), 3);
  assert.throws(() => tensorByteLength('float4_e2m1', [3]), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  assert.throws(() => elementCount([2 ** 32, 2 ** 32]), (e) => isTensioError(e, 'SIZE_OVERFLOW'));
  assert.throws(() => elementCount([-1]), (e) => isTensioError(e, 'INVALID_SHAPE'));
});

test('typedView views aligned data and copies unaligned data', () => {
  const backing = new Uint8Array(9);
  const aligned = createTensor('float32', [2], new Float32Array([1, 2]));
  assert.equal((typedView(aligned) as Float32Array).buffer, aligned.data.buffer);
  backing.set(aligned.data, 1);
  const unaligned = createTensor('float32', [2], backing.subarray(1));
  assert.deepEqual([...(typedView(unaligned) as Float32Array)], [1, 2]);
  assert.ok(tensorsEqual(aligned, unaligned));
  assert.throws(() => createTensor('float32', [3], new Float32Array(2)), (e) => isTensioError(e, 'SIZE_MISMATCH'));
});
