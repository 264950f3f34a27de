import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { typedView } from '../src/core/tensor.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { ScratchPool, TABLE_READ_SCRATCH } from '../src/storage/scratch-pool.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { arrowCreateWriter, arrowOpen } from '../src/formats/arrow/index.js';
import type { TensorReader } from '../src/model/types.js';
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

test('ScratchPool: when full, the buffers idle longest make room for the one given back (the chunk sizes of the next file are kept, not those of the last)', () => {
  const pool = new ScratchPool(2, 1 << 20);
  const small = [pool.take(100), pool.take(100)];
  for (const buffer of small) pool.give(buffer);
  // Reads of larger chunks now: none of the idle buffers fits, so each take is new; given back, each replaces the oldest small one.
  const large = [pool.take(5000), pool.take(5000)];
  for (const buffer of large) assert.ok(!small.some((old) => old.buffer === buffer.buffer), 'too small to serve');
  for (const buffer of large) pool.give(buffer);
  assert.equal(pool.idle, large.reduce((sum, buffer) => sum + buffer.buffer.byteLength, 0), 'only the large buffers are idle');
  const again = [pool.take(5000), pool.take(5000)];
  assert.deepEqual(new Set(again.map((buffer) => buffer.buffer)), new Set(large.map((buffer) => buffer.buffer)), 'the next reads reuse them');
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

test('ScratchPool with retention: idle bytes bounded, dropped by trim() and after a period without use', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const pool = new ScratchPool(8, 1 << 20, { maxIdleBytes: 2000, idleMs: 1000 });
  const a = pool.take(1000);
  const b = pool.take(1000);
  pool.give(a);
  pool.give(b);
  // Each whole buffer is 1,062 bytes (rounded up by a sixteenth): the second would pass 2,000 idle bytes, so the one idle longest makes room.
  assert.equal(pool.idle, b.buffer.byteLength);
  assert.equal(pool.take(1000).buffer, b.buffer);
  assert.equal(pool.idle, 0);
  pool.trim();
  const c = pool.take(1000);
  pool.give(c);
  assert.equal(pool.idle, c.buffer.byteLength);
  pool.trim();
  assert.equal(pool.idle, 0);
  assert.notEqual(pool.take(1000).buffer, c.buffer, 'trimmed buffers are not handed out again');
  // Used within every period: kept; then a whole period without a take or give: dropped.
  const d = pool.take(500);
  pool.give(d);
  t.mock.timers.tick(1000);
  assert.equal(pool.idle, d.buffer.byteLength, 'used in the last period: kept');
  pool.give(pool.take(500));
  t.mock.timers.tick(1000);
  assert.equal(pool.idle, d.buffer.byteLength, 'used again: kept');
  t.mock.timers.tick(1000);
  assert.equal(pool.idle, 0, 'a period without use: dropped');
  // A pool without retention never drops what it holds.
  const plain = new ScratchPool(2, 1 << 20);
  const e = plain.take(100);
  plain.give(e);
  t.mock.timers.tick(10_000);
  assert.equal(plain.idle, e.buffer.byteLength);
});

/**
 * Reads tensor `t` three times, each by a reader of its own, from an emptied shared pool:
 * every read equals `values`, and after each the buffers it took are back in the shared
 * pool (idle, within its bound): a per-reader pool would leave it empty.
 */
async function readsInTurnShareScratch(open: () => Promise<TensorReader>, values: Float32Array): Promise<void> {
  TABLE_READ_SCRATCH.trim();
  for (let pass = 0; pass < 3; pass++) {
    const reader = await open();
    try {
      assert.deepEqual(typedView(await reader.read('t')) as Float32Array, values, `pass ${pass}`);
    } finally {
      await reader.close();
    }
    assert.ok(TABLE_READ_SCRATCH.idle > 0 && TABLE_READ_SCRATCH.idle <= 64 * 2 ** 20, `idle ${TABLE_READ_SCRATCH.idle} after pass ${pass}`);
  }
}

test('whole reads share one scratch pool across readers: buffers of one read serve the next, the values stay right', async (t) => {
  const dir = await tempDir(t);
  const rows = 40_000;
  const values = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i) * 1000);
  const path = join(dir, 'shared.parquet');
  // Row groups of 20,000 rows × 16 bytes: whole-group loads (under the banded size) through the pool.
  const writer = await parquetCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 4] }], formatOptions: { compression: 'zstd', rowGroupSize: 20_000 } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  await readsInTurnShareScratch(() => parquetOpen(path), values);
  const separate = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
  try {
    const column = typedView(await separate.read(separate.tensors[2]!.name)) as Float32Array;
    assert.deepEqual(column, Float32Array.from({ length: rows }, (_, r) => values[r * 4 + 2]!));
  } finally {
    await separate.close();
  }
});

test('Arrow reads share the same scratch pool: a zstd Feather file read stacked in turn gives its decompressed buffers back, the values stay right', async (t) => {
  const dir = await tempDir(t);
  const rows = 40_000;
  const values = Float32Array.from({ length: rows * 4 }, (_, i) => Math.cos(i) * 1000);
  const path = join(dir, 'shared.feather');
  // Several record batches, compressed: each batch's columns are decompressed into pooled buffers, then joined into rows.
  const writer = await arrowCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 4] }], formatOptions: { compression: 'zstd', batchRows: 10_000 } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  await readsInTurnShareScratch(() => arrowOpen(path), values);
});
