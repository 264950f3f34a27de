import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import { tensorsEqual, type Tensor } from '../src/core/tensor.js';
import { npzOpen, npzWrite } from '../src/formats/npz/index.js';
import { memorySink } from '../src/storage/byte-sink.js';

const WIDTHS: Partial<Record<DType, number>> = { bool: 1, uint8: 1, int16: 2, uint32: 4, int64: 8, float16: 2, float32: 4, float64: 8, complex64: 8 };
let seed = 77;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const randomInt = (max: number) => Math.floor(random() * max);

function randomTensor(): Tensor {
  const dtypes = Object.keys(WIDTHS) as DType[];
  const dtype = dtypes[randomInt(dtypes.length)]!;
  const shape = Array.from({ length: randomInt(4) }, () => randomInt(6));
  const data = new Uint8Array(shape.reduce((a, b) => a * b, 1) * WIDTHS[dtype]!);
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? randomInt(2) : randomInt(4); // compressible
  return { dtype, shape, data };
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

test('property: write then read gives the same arrays, stored and compressed, whole or streamed input', async () => {
  for (let round = 0; round < 60; round++) {
    const arrays = Object.fromEntries(Array.from({ length: 1 + randomInt(5) }, (_, index) => [`k${index}`, randomTensor()]));
    const compress = round % 2 === 1;
    const sink = memorySink();
    const inputs = Object.fromEntries(Object.entries(arrays).map(([key, tensor]) => [key, { ...tensor, data: round % 3 === 0 ? chunked(tensor.data, 5) : tensor.data }]));
    await npzWrite(sink, inputs, { compress });
    const reader = await npzOpen(sink.bytes());
    assert.deepEqual(reader.tensors.map((info) => info.name), Object.keys(arrays));
    for (const [key, tensor] of Object.entries(arrays)) {
      assert.ok(tensorsEqual(await reader.read(key), tensor), `${key} ${tensor.dtype} [${tensor.shape}] compress=${compress}`);
      assert.equal(reader.info(key).extras?.compressed, compress);
    }
  }
});

test('deterministic: the same arrays give the same bytes', async () => {
  const arrays = { a: randomTensor(), b: randomTensor() };
  const first = memorySink();
  const second = memorySink();
  await npzWrite(first, arrays, { compress: true });
  await npzWrite(second, arrays, { compress: true });
  assert.deepEqual(first.bytes(), second.bytes());
});
