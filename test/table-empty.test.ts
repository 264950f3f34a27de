/**
 * Empty tables round-trip (NumPack fails there): tensors of 0 rows, 0 columns, and rows
 * but no columns are written as Arrow (file and stream) and Parquet, read back by tensio
 * with their shape, and read by pyarrow with the same numbers of rows and columns; empty
 * tables pyarrow writes read in tensio as float64 `(rows, columns)`. CSV keeps the
 * column count of a 0-row table only through a header row. Last, which Arrow columns
 * read zero-copy (a view of the file's memory map) and which are copies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { csvOpen } from '../src/formats/csv/index.js';
import { getFormat } from '../src/operations/registry.js';
import { isMemoryMapped, memoryMapAvailable } from '../src/storage/memory-map.js';
import { openTensorFile } from '../src/operations/open.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const SHAPES: [DType, number[]][] = [['float32', [0, 3]], ['float64', [0, 0]], ['float64', [4, 0]], ['int32', [0]]];
const FILES = [['arrow', 'feather', {}], ['arrow', 'arrows', { ipc: 'stream' }], ['parquet', 'parquet', {}]] as const;

async function writeEmpty(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [format, extension, formatOptions] of FILES) {
    for (const [dtype, shape] of SHAPES) {
      const path = join(dir, `e-${shape.join('x') || 'scalar'}.${extension}`);
      const writer = await getFormat(format).createWriter!(path, { tensors: [{ name: 'data', dtype, shape }], formatOptions });
      await writer.add('data', new Uint8Array(0));
      await writer.close();
      paths.push(path);
    }
  }
  return paths;
}

test('empty tensors written as Arrow (file, stream) and Parquet read back with their shape and dtype', async (t) => {
  const dir = await tempDir(t);
  const paths = await writeEmpty(dir);
  for (const [index, path] of paths.entries()) {
    const [dtype, shape] = SHAPES[index % SHAPES.length]!;
    await using reader = await openTensorFile(path);
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['data', dtype, shape]], path);
    assert.equal((await reader.read('data')).data.byteLength, 0);
  }
});

test('pyarrow reads the empty tables tensio writes (rows and columns kept, rows without columns too), and tensio reads pyarrow\'s', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const paths = await writeEmpty(dir);
  const { stdout } = runPython(`
import sys, pyarrow as pa, pyarrow.feather as feather, pyarrow.ipc as ipc, pyarrow.parquet as pq
d = sys.argv[1]
for path in sys.argv[2:]:
    if path.endswith('.arrows'): table = ipc.open_stream(path).read_all()
    elif path.endswith('.feather'): table = feather.read_table(path)
    else: table = pq.read_table(path)
    print(table.num_rows, table.num_columns)
empty3 = pa.table({'a': pa.array([], pa.float32()), 'b': pa.array([], pa.float32()), 'c': pa.array([], pa.int64())})
feather.write_feather(empty3, d + '/py-0x3.feather')
pq.write_table(empty3, d + '/py-0x3.parquet')
feather.write_feather(pa.table({}), d + '/py-0x0.feather')
pq.write_table(pa.table({}), d + '/py-0x0.parquet')
`, [dir, ...paths]);
  const expected = FILES.flatMap(() => SHAPES.map(([, shape]) => `${shape[0]} ${shape.length === 1 ? 1 : shape[1]}`));
  assert.deepEqual(stdout.trim().split('\n'), expected);
  for (const extension of ['feather', 'parquet']) {
    await using three = await openTensorFile(join(dir, `py-0x3.${extension}`));
    assert.deepEqual(three.tensors.map((info) => [info.dtype, info.shape]), [['float64', [0, 3]]], extension);
    await using none = await openTensorFile(join(dir, `py-0x0.${extension}`));
    assert.deepEqual(none.tensors.map((info) => [info.dtype, info.shape]), [['float64', [0, 0]]], extension);
  }
});

test('CSV: a 0-row table keeps its columns through a header row; without one the text holds no column count', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'empty.csv');
  const writer = await getFormat('csv').createWriter!(path, { tensors: [{ name: 'data', dtype: 'float32', shape: [0, 3] }], formatOptions: { header: ['a', 'b', 'c'], comments: '' } });
  await writer.add('data', new Uint8Array(0));
  await writer.close();
  await using named = await csvOpen(path, { header: true });
  assert.deepEqual(named.tensors.map((info) => info.shape), [[0, 3]]);
  assert.deepEqual(named.metadata.columns, ['a', 'b', 'c']);
  // np.savetxt of a (0, 3) array writes nothing: (0, 0) is all an empty text can say.
  const bareWriter = await getFormat('csv').createWriter!(join(dir, 'bare.csv'), { tensors: [{ name: 'data', dtype: 'float32', shape: [0, 3] }] });
  await bareWriter.add('data', new Uint8Array(0));
  await bareWriter.close();
  await using bare = await csvOpen(join(dir, 'bare.csv'));
  assert.deepEqual(bare.tensors.map((info) => info.shape), [[0, 0]]);
});

test('Arrow zero-copy: an uncompressed, null-free numeric column of one record batch in a local file reads as a view of a memory map; a compressed one, or one spread over several batches, is a copy', { skip: memoryMapAvailable() ? false : 'skipped: the mmap addon is not built or is off' }, async (t) => {
  const dir = await tempDir(t);
  const { arrowOpen } = await import('../src/formats/arrow/index.js');
  for (const [rows, batchRows, compression, mapped] of [[100_000, 100_000, 'none', true], [100_000, 100_000, 'zstd', false], [100_000, 25_000, 'none', false]] as const) {
    const path = join(dir, `z-${batchRows}-${compression}.feather`);
    const writer = await getFormat('arrow').createWriter!(path, { tensors: [{ name: 'x', dtype: 'float32', shape: [rows] }, { name: 'y', dtype: 'int64', shape: [rows] }], formatOptions: { columns: 'separate', compression, batchRows } });
    await writer.add('x', new Uint8Array(Float32Array.from({ length: rows }, (_, i) => i / 2).buffer));
    await writer.add('y', new Uint8Array(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * 3n).buffer));
    await writer.close();
    await using reader = await arrowOpen(path, { formatOptions: { columns: 'separate' } } as never);
    for (const name of ['x', 'y']) assert.equal(isMemoryMapped((await reader.read(name)).data), mapped, `${name}: batches of ${batchRows}, ${compression}`);
    assert.equal(new Float32Array((await reader.read('x')).data.slice().buffer)[rows - 1], (rows - 1) / 2);
  }
});
