import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParquetScratchPool } from '../src/formats/parquet/scratch-pool.js';

test('ParquetScratchPool: a given-back buffer is reused for a chunk that fits, never handed to two takers at once', () => {
  const pool = new ParquetScratchPool(2, 1 << 20);
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
