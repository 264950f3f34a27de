/**
 * Parquet writer options: `pageSize` outside 1 byte .. 1 GiB (page sizes are Thrift
 * i32s) refused before a file exists; zstd pages at pyarrow's default level 1 unless
 * `compressionLevel` says otherwise (the same bytes as level 1, others not); row groups
 * written from reused column buffers keep their own values and statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetMetadata } from 'hyparquet';
import { isTensioError } from '../src/core/errors.js';
import { PARQUET_DEFAULT_ZSTD_LEVEL } from '../src/formats/parquet/codecs.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import type { ParquetWriteOptions } from '../src/formats/parquet/types.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';

const ROWS = 3000;
const values = Float32Array.from({ length: ROWS * 4 }, (_, i) => Math.round(Math.sin(i / 3) * 1000) / 16 + Math.floor(i / 4000));

async function write(formatOptions: ParquetWriteOptions & Record<string, unknown>): Promise<Uint8Array> {
  const sink = memorySink();
  const writer = await parquetCreateWriter(sink, { tensors: [{ name: 't', dtype: 'float32', shape: [ROWS, 4] }], formatOptions });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  return sink.bytes();
}

test('Parquet pageSize: not a whole number of bytes from 1 to 2^30 is refused', async () => {
  for (const pageSize of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
    await assert.rejects(write({ pageSize }), (error) => isTensioError(error, 'INVALID_ARGUMENT'), String(pageSize));
  }
  // The smallest page still holds 8 values (whole values, booleans on byte boundaries).
  const reader = await parquetOpen(bytesSource(await write({ pageSize: 1 })));
  try {
    assert.deepEqual(new Float32Array((await reader.read(reader.tensors[0]!.name)).data.slice().buffer), values);
  } finally {
    await reader.close();
  }
});

test('Parquet zstd: the default level is pyarrow\'s (1), compressionLevel changes it', async () => {
  assert.equal(PARQUET_DEFAULT_ZSTD_LEVEL, 1);
  const byDefault = await write({ compression: 'zstd' });
  assert.deepEqual(byDefault, await write({ compression: 'zstd', compressionLevel: 1 }));
  const level19 = await write({ compression: 'zstd', compressionLevel: 19 });
  assert.notDeepEqual(level19, byDefault);
  const reader = await parquetOpen(bytesSource(level19));
  try {
    assert.deepEqual(new Float32Array((await reader.read(reader.tensors[0]!.name)).data.slice().buffer), values);
  } finally {
    await reader.close();
  }
});

test('Parquet row groups written from reused column buffers keep their own values and statistics', async () => {
  const bytes = await write({ rowGroupSize: 700 });
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  assert.equal(metadata.row_groups.length, 5);
  let first = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    for (const [c, chunk] of group.columns.entries()) {
      const column = Array.from({ length: rows }, (_, r) => values[(first + r) * 4 + c]!);
      const statistics = chunk.meta_data!.statistics!;
      assert.equal(Number(statistics.min_value), Math.min(...column), `row group from ${first}, col${c}: min`);
      assert.equal(Number(statistics.max_value), Math.max(...column), `row group from ${first}, col${c}: max`);
    }
    first += rows;
  }
  const reader = await parquetOpen(bytesSource(bytes));
  try {
    assert.deepEqual(new Float32Array((await reader.read(reader.tensors[0]!.name)).data.slice().buffer), values);
  } finally {
    await reader.close();
  }
});
