import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { isTensioError } from '../src/core/errors.js';
import { tensorsEqual, type Tensor } from '../src/core/tensor.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { npyCreateWriter, npyFormat, npyFortranToC, npyOpen, npyParseLiteral, npySerialize } from '../src/formats/npy/index.js';
import { tempDir } from './helpers/temp.js';

const WIDTHS: Partial<Record<DType, number>> = {
  bool: 1, uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8, int64: 8,
  float16: 2, float32: 4, float64: 8, complex64: 8, complex128: 16,
};

let seed = 2024;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const randomInt = (max: number) => Math.floor(random() * max);

function randomTensor(): Tensor {
  const dtypes = Object.keys(WIDTHS) as DType[];
  const dtype = dtypes[randomInt(dtypes.length)]!;
  const shape = Array.from({ length: randomInt(5) }, () => randomInt(5));
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * WIDTHS[dtype]!);
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? randomInt(2) : randomInt(256);
  return { dtype, shape, data };
}

/** Reference: element (i0..in-1) of C order taken from column-major data, one index at a time. */
function naiveFortranToC(data: Uint8Array, shape: number[], itemSize: number): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const count = data.byteLength / itemSize;
  for (let c = 0; c < count; c++) {
    let rest = c;
    const index = new Array<number>(shape.length);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = rest % shape[axis]!;
      rest = Math.floor(rest / shape[axis]!);
    }
    let f = 0;
    for (let axis = shape.length - 1; axis >= 0; axis--) f = f * shape[axis]! + index[axis]!;
    out.set(data.subarray(f * itemSize, (f + 1) * itemSize), c * itemSize);
  }
  return out;
}

test('property: serialize then read gives the same tensor (random dtypes and shapes)', async () => {
  for (let round = 0; round < 300; round++) {
    const tensor = randomTensor();
    const reader = await npyOpen(npySerialize(tensor), { arrayName: 'x' });
    const back = await reader.read('x');
    assert.ok(tensorsEqual(back, tensor), `${tensor.dtype} [${tensor.shape}]`);
    if (tensor.shape.length > 0 && tensor.shape[0]! > 1) {
      const rows = await reader.read('x', { slice: { start: 1 } });
      assert.equal(rows.shape[0], tensor.shape[0]! - 1);
    }
  }
});

test('property: the Fortran-to-C transpose matches a naive reference for every item width', () => {
  for (let round = 0; round < 300; round++) {
    const itemSize = [1, 2, 4, 8, 16, 3][randomInt(6)]!;
    const shape = Array.from({ length: 2 + randomInt(4) }, () => 1 + randomInt(5));
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Uint8Array(count * itemSize).map(() => randomInt(256));
    assert.deepEqual(npyFortranToC(data, shape, itemSize), naiveFortranToC(data, shape, itemSize), `[${shape}] x${itemSize}`);
    // An unaligned view transposes the same.
    const shifted = new Uint8Array(data.byteLength + 1);
    shifted.set(data, 1);
    assert.deepEqual(npyFortranToC(shifted.subarray(1), shape, itemSize), naiveFortranToC(data, shape, itemSize));
  }
});

test('big-endian data is swapped to little-endian per component (complex swaps each half)', async () => {
  const values = new Float64Array([1.5, -2.25, 3e300, Number.NaN]);
  const le = new Uint8Array(values.buffer);
  const be = Buffer.from(le).swap64();
  const header = npySerialize({ dtype: 'complex128', shape: [2], data: le }).subarray(0, 128);
  const text = Buffer.from(header).toString('latin1').replace("'<c16'", "'>c16'");
  const reader = await npyOpen(new Uint8Array(Buffer.concat([Buffer.from(text, 'latin1'), be])));
  assert.deepEqual((await reader.read('data')).data, le);
});

test('a |V2 array (what numpy writes for ml_dtypes bfloat16) is carried as opaque bytes', async () => {
  const base = Buffer.from(npySerialize({ dtype: 'int16', shape: [3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) }));
  const bytes = new Uint8Array(Buffer.from(base.toString('latin1').replace("'<i2'", "'<V2'"), 'latin1'));
  const reader = await npyOpen(bytes);
  assert.equal(reader.info('data').dtype, 'opaque');
  assert.equal(reader.info('data').formatDtype, '<V2');
  assert.deepEqual((await reader.read('data')).data, new Uint8Array([1, 2, 3, 4, 5, 6]));
});

test('the literal parser keeps tuples apart from parenthesised values and lists', () => {
  assert.deepEqual(npyParseLiteral('(5,)'), { kind: 'tuple', items: [5n] });
  assert.equal(npyParseLiteral('(5)'), 5n);
  assert.deepEqual(npyParseLiteral('()'), { kind: 'tuple', items: [] });
  assert.deepEqual(npyParseLiteral("[('a', '<i4')]"), [{ kind: 'tuple', items: ['a', '<i4'] }]);
  assert.throws(() => npyParseLiteral('('.repeat(100) + ')'.repeat(100)), (err: unknown) => isTensioError(err, 'INVALID_HEADER'));
});

test('the .npy TensorWriter writes one tensor atomically and refuses plans of several', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'one.npy');
  const writer = await npyFormat.createWriter!(path, { tensors: [{ name: 'w', dtype: 'int32', shape: [2, 2] }] });
  async function* chunks() {
    yield new Uint8Array(new Int32Array([1, 2]).buffer);
    yield new Uint8Array(new Int32Array([3, 4]).buffer);
  }
  await writer.add('w', chunks());
  await writer.close();
  await using reader = await npyOpen(path);
  assert.deepEqual([...new Int32Array((await reader.read('data')).data.buffer)], [1, 2, 3, 4]);

  await assert.rejects(npyCreateWriter(memorySink(), { tensors: [{ name: 'a', dtype: 'int8', shape: [] }, { name: 'b', dtype: 'int8', shape: [] }] }), (err: unknown) => isTensioError(err, 'INVALID_ARGUMENT'));
  await assert.rejects(npyCreateWriter(memorySink(), { tensors: [{ name: 'a', dtype: 'bfloat16', shape: [2] }] }), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE'));
  const short = await npyCreateWriter(memorySink(), { tensors: [{ name: 'a', dtype: 'int16', shape: [4] }] });
  await assert.rejects(short.add('a', new Uint8Array(6)), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
  await short.abort();
  assert.equal(npyFormat.cannotWrite!({ name: 'x', dtype: 'float8_e5m2', shape: [1] })?.includes('safetensors'), true);
  assert.equal(npyFormat.cannotWrite!({ name: 'x', dtype: 'float16', shape: [1] }), undefined);
});
