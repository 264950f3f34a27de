/**
 * Column tensors' results allocated together (`model/result-reserve.ts`): from a reader's
 * second whole read on, the next tensors' buffers are allocated in one burst and held
 * for their reads. Each result must still be a buffer of its own, handed out once:
 * writing one column never changes another, a column read again is a new buffer, a
 * kept column outlives the reader's close, and the bytes are pyarrow's whatever the
 * order of the reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { openTensorFile } from '../src/operations/open.js';
import { ResultReserve, RESULT_RESERVE_MIN_BYTES } from '../src/model/result-reserve.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const MiB = 2 ** 20;

test('ResultReserve: a burst from the second take on, up to a small tensor or the budget; each buffer handed out once; slices and small tensors outside it; clear drops the held ones', () => {
  const lengths = [2 * MiB, 2 * MiB, 2 * MiB, RESULT_RESERVE_MIN_BYTES - 8, 2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB];
  const reserve = new ResultReserve(lengths, 5 * MiB);
  const first = reserve.take(0, lengths[0]!);
  assert.equal(first.byteLength, lengths[0]);
  assert.equal((reserve as unknown as { held: Map<number, Uint8Array> }).held.size, 0, 'the first take allocates its own buffer only');
  const second = reserve.take(1, lengths[1]!);
  const held = (reserve as unknown as { held: Map<number, Uint8Array> }).held;
  // 2; 3 is under the minimum, which ends the burst.
  assert.deepEqual([...held.keys()], [2]);
  const heldForTwo = held.get(2);
  const third = reserve.take(2, lengths[2]!);
  assert.equal(third, heldForTwo, 'the held buffer is the one handed out');
  assert.ok(!held.has(2), 'a held buffer is handed out once');
  const small = reserve.take(3, lengths[3]!);
  assert.equal(held.size, 0, 'a tensor under the minimum allocates its own buffer only');
  const fourth = reserve.take(4, lengths[4]!);
  // 5 and 6 (2 + 2 MiB held); 7 would pass the 5 MiB held.
  assert.deepEqual([...held.keys()], [5, 6]);
  const buffers = [first, second, third, small, fourth, reserve.take(5, lengths[5]!), reserve.take(6, lengths[6]!), reserve.take(7, lengths[7]!)];
  assert.deepEqual(buffers.map((buffer) => buffer.byteLength), lengths);
  assert.equal(new Set(buffers.map((buffer) => buffer.buffer)).size, buffers.length, 'every tensor has an ArrayBuffer of its own');
  // Read again: a new buffer, never one already handed out.
  const again = reserve.take(1, lengths[1]!);
  assert.ok(!buffers.some((buffer) => buffer.buffer === again.buffer));
  // A slice's length: a buffer outside the reserve, of that length.
  assert.equal(reserve.take(4, 1000).byteLength, 1000);
  reserve.clear();
  assert.equal(held.size, 0);
});

/** Six float32 columns of 300,000 rows (1.2 MB each, over the reserve's minimum) in two row groups, and what pyarrow reads back. */
const WRITE = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
path = sys.argv[1]
rng = np.random.default_rng(3)
n = 300_000
table = pa.table({f'c{i}': (rng.integers(-4000, 4000, n) / 8).astype(np.float32) for i in range(6)})
pq.write_table(table, path, compression='snappy', row_group_size=150_000)
for column in table.column_names:
    np.save(f'{path}.{column}.npy', pq.read_table(path, columns=[column]).column(column).to_numpy())
`;

async function expected(path: string, column: string): Promise<Uint8Array> {
  await using npy = await openTensorFile(`${path}.${column}.npy`);
  return (await npy.read(npy.tensors[0]!.name)).data;
}

test('Parquet columns: results read in order and in reverse are pyarrow\'s and independent; a column read again is a new buffer; kept columns outlive close', { skip: oracleSkip('pyarrow') }, async (t) => {
  const path = join(await tempDir(t), 'columns.parquet');
  runPython(WRITE, [path]);
  const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
  const wants = await Promise.all(names.map((name) => expected(path, name)));
  // Which reads allocated ahead (the in-order pass must, or this test would not exercise held buffers).
  const bursts: number[] = [];
  const prototype = ResultReserve.prototype as unknown as { burst(index: number): void };
  const burst = prototype.burst;
  prototype.burst = function (this: unknown, index: number) { bursts.push(index); burst.call(this, index); };
  t.after(() => { prototype.burst = burst; });

  for (const order of [names, [...names].reverse()]) {
    const reader = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
    bursts.length = 0;
    const got = new Map<string, Uint8Array>();
    for (const name of order) got.set(name, (await reader.read(name)).data);
    for (const [c, name] of names.entries()) assert.deepEqual(got.get(name), wants[c], `${order[0]} first: column ${name}`);
    // In order, the second read holds c2..c5; in reverse, nothing lies after the reads.
    assert.deepEqual(bursts, order === names ? [1] : [4, 3, 2, 1, 0]);
    assert.equal(new Set([...got.values()].map((bytes) => bytes.buffer)).size, names.length, 'no two columns share an ArrayBuffer');

    // Writing one column changes no other.
    const first = got.get('c0')!;
    new Float32Array(first.buffer, first.byteOffset, first.byteLength / 4).fill(-1);
    for (const [c, name] of names.entries()) if (name !== 'c0') assert.deepEqual(got.get(name), wants[c], `column ${name} after writing c0`);

    // Read again: pyarrow's bytes in a buffer no earlier result uses (c0 was overwritten above).
    const again = (await reader.read('c0')).data;
    assert.deepEqual(again, wants[0]);
    assert.ok(![...got.values()].some((bytes) => bytes.buffer === again.buffer));

    // Kept across close (and a collection, when exposed): the results are the caller's.
    await reader.close();
    (globalThis as { gc?: () => void }).gc?.();
    for (const [c, name] of names.entries()) if (name !== 'c0') assert.deepEqual(got.get(name), wants[c], `column ${name} after close`);
    assert.deepEqual(again, wants[0], 'c0 read again, after close');
  }

  // Only some columns, then close: the held buffers are dropped; a new reader reads the rest equal.
  const partial = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
  assert.deepEqual((await partial.read('c1')).data, wants[1]);
  assert.deepEqual((await partial.read('c2')).data, wants[2]);
  await partial.close();
  await using rest = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
  for (const name of ['c5', 'c3', 'c4']) assert.deepEqual((await rest.read(name)).data, wants[names.indexOf(name)], `column ${name}`);
});
