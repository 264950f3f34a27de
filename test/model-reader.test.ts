/** The shared TensorReader body (createTensorReader): limits on what one read() returns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTensorReader } from '../src/model/create-reader.js';
import { isTensioError } from '../src/core/errors.js';
import { MAX_TENSOR_BYTES } from '../src/core/limits.js';
import type { ByteSource } from '../src/storage/byte-source.js';

/** A source that claims to be huge and serves zeros, so no test allocates gigabytes. */
function hugeSource(size: number): ByteSource {
  return { size, async read(_offset, length) { return new Uint8Array(length); } };
}

test('read() of a tensor larger than one buffer holds is LIMIT_EXCEEDED, not a RangeError; a small slice still reads', async () => {
  const rows = MAX_TENSOR_BYTES + 2;
  const source = hugeSource(rows);
  const reader = createTensorReader({
    format: 'test',
    size: rows,
    metadata: {},
    tensors: [{ name: 'x', dtype: 'uint8', shape: [rows], byteLength: rows }],
    locate: () => ({ kind: 'span', source, offset: 0 }),
  });
  await assert.rejects(reader.read('x'), (err: unknown) => isTensioError(err, 'LIMIT_EXCEEDED'));
  await assert.rejects(reader.read('x', { slice: { start: 0 } }), (err: unknown) => isTensioError(err, 'LIMIT_EXCEEDED'));
  const head = await reader.read('x', { slice: { start: 0, end: 4 } });
  assert.deepEqual(head.shape, [4]);
  assert.equal(head.data.byteLength, 4);
});

test('a decoded tensor larger than one buffer holds is LIMIT_EXCEEDED before the format decodes it', async () => {
  let decoded = 0;
  const reader = createTensorReader({
    format: 'test',
    size: 0,
    metadata: {},
    tensors: [{ name: 'x', dtype: 'uint8', shape: [2, MAX_TENSOR_BYTES], byteLength: 2 * MAX_TENSOR_BYTES }],
    locate: () => ({ kind: 'decode', async decode() { decoded++; return new Uint8Array(0); } }),
  });
  await assert.rejects(reader.read('x'), (err: unknown) => isTensioError(err, 'LIMIT_EXCEEDED'));
  await assert.rejects(reader.read('x', { slice: { start: 0, end: 1 } }), (err: unknown) => isTensioError(err, 'LIMIT_EXCEEDED'));
  await assert.rejects(reader.stream('x')[Symbol.asyncIterator]().next(), (err: unknown) => isTensioError(err, 'LIMIT_EXCEEDED'));
  assert.equal(decoded, 0);
});
