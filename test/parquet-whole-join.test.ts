/**
 * A stacked read of row groups under the banded path's threshold (tensio's default
 * 100,000-row groups): each row group is decoded whole and its columns joined into the
 * tensor's rows by the addon's gather jobs (`row-group-bands.ts`' `joinedNatively`; a
 * column's null rows then written as NaN by `model/table-cells.ts`), or, with
 * `TENSIO_PARQUET_GATHER=js`, by the JavaScript join (`table-cells.ts`), the oracle here.
 * Both read every value equal to what was written: float32 and float64, whole and a row
 * range starting and ending inside row groups, and a nullable column's null rows as NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { addonParquetGatherBandPlain } from '../src/storage/native-gather.js';
import { withEnv } from './helpers/env.js';
import { tempDir } from './helpers/temp.js';

const skip = addonParquetGatherBandPlain() ? false : 'skipped: the native addon is not loaded or predates PLAIN pieces (parquetGatherBandPlain; run `npm run build:native`)';

/** The stacked tensor of `path` (rows `[start, end)` when given), read with the native join and with the JavaScript one. */
async function readBothWays(path: string, rows?: { start: number; end: number }): Promise<{ native: Uint8Array; js: Uint8Array }> {
  const read = async () => {
    await using reader = await parquetOpen(path, rows ? { formatOptions: { rows } } : {});
    return (await reader.read(reader.tensors[0]!.name)).data;
  };
  return { native: await read(), js: await withEnv('TENSIO_PARQUET_GATHER', 'js', read) };
}

test('stacked reads of small row groups: joined natively and in JavaScript, every value as written (float32 snappy, float64 zstd, row ranges inside row groups)', { skip }, async (t) => {
  const dir = await tempDir(t);
  for (const { dtype, columns, compression } of [
    { dtype: 'float32' as const, columns: 6, compression: 'snappy' },
    { dtype: 'float64' as const, columns: 3, compression: 'zstd' },
  ]) {
    const rows = 250_000;
    const values = dtype === 'float32' ? new Float32Array(rows * columns) : new Float64Array(rows * columns);
    // Distinct in every cell (row and column recoverable), and a NaN payload that must come through as bytes.
    for (let i = 0; i < values.length; i++) values[i] = i + 0.5;
    if (dtype === 'float32') new Uint32Array(values.buffer)[7] = 0x7fc00123;
    const source = new Uint8Array(values.buffer);
    const path = join(dir, `${dtype}.parquet`);
    const writer = await parquetCreateWriter(path, { tensors: [{ name: 'table', dtype, shape: [rows, columns] }], formatOptions: { compression, rowGroupSize: 100_000 } });
    await writer.add('table', source);
    await writer.close();

    const whole = await readBothWays(path);
    assert.ok(Buffer.from(whole.native).equals(Buffer.from(source)), `${dtype}: native join, every byte as written`);
    assert.ok(Buffer.from(whole.js).equals(Buffer.from(source)), `${dtype}: JavaScript join, every byte as written`);

    // From inside the first row group to inside the second.
    const range = { start: 30_000, end: 170_001 };
    const rowBytes = columns * values.BYTES_PER_ELEMENT;
    const expected = Buffer.from(source.subarray(range.start * rowBytes, range.end * rowBytes));
    const sliced = await readBothWays(path, range);
    assert.ok(Buffer.from(sliced.native).equals(expected), `${dtype}: rows ${range.start}-${range.end}, native join`);
    assert.ok(Buffer.from(sliced.js).equals(expected), `${dtype}: rows ${range.start}-${range.end}, JavaScript join`);
  }
});

test('stacked reads of small row groups: a nullable column with nulls reads its null rows as NaN, the other columns as written, both ways, whole and in a row range', { skip }, async (t) => {
  const dir = await tempDir(t);
  const rows = 120_000;
  const a = Float32Array.from({ length: rows }, (_, i) => i * 2);
  const b = Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : i / 4));
  const c = Float32Array.from({ length: rows }, (_, i) => -i);
  const path = join(dir, 'nulls.parquet');
  writeFileSync(path, new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'a', data: a, type: 'FLOAT', nullable: false },
    { name: 'b', data: b, type: 'FLOAT', nullable: true },
    { name: 'c', data: c, type: 'FLOAT', nullable: false },
  ], rowGroupSize: 50_000 } as never)));
  const { native, js } = await readBothWays(path);
  assert.ok(Buffer.from(native).equals(Buffer.from(js)), 'the same bytes both ways');
  const read = new Float32Array(native.buffer, native.byteOffset, rows * 3);
  for (let row = 0; row < rows; row++) {
    assert.equal(read[row * 3], a[row], `a, row ${row}`);
    if (b[row] === null) assert.ok(Number.isNaN(read[row * 3 + 1]), `b, row ${row}: null as NaN`);
    else assert.equal(read[row * 3 + 1], Math.fround(b[row]!), `b, row ${row}`);
    assert.equal(read[row * 3 + 2], c[row], `c, row ${row}`);
  }
  // A row range from inside the first row group to inside the second: the null rows' bits counted from the range's first row.
  const range = { start: 30_001, end: 100_003 };
  const sliced = await readBothWays(path, range);
  const expected = Buffer.from(native.subarray(range.start * 12, range.end * 12));
  assert.ok(Buffer.from(sliced.native).equals(expected), `rows ${range.start}-${range.end}, native join`);
  assert.ok(Buffer.from(sliced.js).equals(expected), `rows ${range.start}-${range.end}, JavaScript join`);
});
