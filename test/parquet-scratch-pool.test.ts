import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { typedView } from '../src/core/tensor.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { ScratchPool } from '../src/storage/scratch-pool.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { tempDir } from './helpers/temp.js';

test('ScratchPool: a given-back buffer is reused for a chunk that fits, never handed to two takers at once', () => {
  const pool = new ScratchPool(2, 1 << 20);
  const first = pool.take(1000);
  assert.equal(first.byteLength, 1000);
  const second = pool.take(1000);
  // Both taken at once: two buffers.
  assert.notEqual(first.buffer, second.buffer);
  pool.give(first);
  pool.give(first); // a second give of the same buffer is ignored
  const again = pool.take(900);
  assert.equal(again.buffer, first.buffer, 'the idle buffer is reused');
  assert.equal(again.byteLength, 900);
  const other = pool.take(900);
  assert.notEqual(other.buffer, first.buffer, 'the double give did not put it back twice');
  // A chunk larger than every idle buffer gets a new one; one over maxBytes is never kept.
  pool.give(again);
  const larger = pool.take(5000);
  assert.notEqual(larger.buffer, first.buffer);
  const huge = pool.take((1 << 20) + 1);
  pool.give(huge);
  assert.notEqual(pool.take((1 << 20) + 1).buffer, huge.buffer);
  // A view that is not one the pool handed out is not taken in.
  const foreign = new Uint8Array(64);
  pool.give(foreign);
  assert.notEqual(pool.take(64).buffer, foreign.buffer);
});

test('stacked reads of multi-page chunks reuse the pool from row group to row group and still read every value', async (t) => {
  const dir = await tempDir(t);
  const rows = 4000;
  const values = Float32Array.from({ length: rows * 3 }, (_, i) => Math.cos(i) * 100);
  const path = join(dir, 'pages.parquet');
  // Small pages: several per chunk, so the fast path gathers into a pooled column buffer (not the decompressed page).
  const writer = await parquetCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 3] }], formatOptions: { compression: 'none', pageSize: 1024, rowGroupSize: 700 } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  const reader = await parquetOpen(path);
  try {
    for (let pass = 0; pass < 2; pass++) assert.deepEqual(typedView(await reader.read('t')) as Float32Array, values, `pass ${pass}`);
    const separate = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
    try {
      const column = typedView(await separate.read(separate.tensors[1]!.name)) as Float32Array;
      assert.deepEqual(column, Float32Array.from({ length: rows }, (_, r) => values[r * 3 + 1]!));
    } finally {
      await separate.close();
    }
  } finally {
    await reader.close();
  }
});
