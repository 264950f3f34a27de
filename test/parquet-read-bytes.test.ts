/**
 * A Parquet column selection, a row range and a row slice read only the bytes they
 * need: every read of the source is recorded and must fall in the magic, the footer or
 * a column chunk of a selected column in a row group the rows touch; the bytes read
 * add up to no more than those (the file is 8 columns × 5 row groups, so reading it
 * all would be 40 chunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetOpen, parquetReadMetadata } from '../src/formats/parquet/reader.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { recordingSource } from './helpers/recording-source.js';

const ROWS = 5000;
const COLUMNS = 8;
const GROUP_ROWS = 1000;

async function tableFile(): Promise<{ bytes: Uint8Array; values: Float32Array }> {
  const values = Float32Array.from({ length: ROWS * COLUMNS }, (_, i) => (i % 1009) * 0.5 - (i % 7));
  const sink = memorySink();
  const writer = await parquetCreateWriter(sink, { tensors: [{ name: 't', dtype: 'float32', shape: [ROWS, COLUMNS] }], formatOptions: { rowGroupSize: GROUP_ROWS, compression: 'snappy' } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  return { bytes: sink.bytes(), values };
}

/** Byte ranges of the chunks of `columns` in the row groups overlapping rows [start, end). */
async function chunkRanges(bytes: Uint8Array, columns: readonly string[], start: number, end: number): Promise<[number, number][]> {
  const metadata = await parquetReadMetadata(bytesSource(bytes));
  const ranges: [number, number][] = [];
  let first = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    if (first < end && first + rows > start) {
      for (const chunk of group.columns) {
        const meta = chunk.meta_data!;
        if (!columns.includes(meta.path_in_schema[0]!)) continue;
        const from = Number(meta.dictionary_page_offset || meta.data_page_offset);
        ranges.push([from, from + Number(meta.total_compressed_size)]);
      }
    }
    first += rows;
  }
  return ranges;
}

/** Asserts every recorded read lies in the head magic, the footer (with its length and magic) or one of `allowed`, and returns the bytes read. */
function checkReads(source: { size: number; ranges: [number, number][] }, footerStart: number, allowed: [number, number][], what: string): number {
  let total = 0;
  for (const [from, to] of source.ranges) {
    const inside = (to <= 4) || from >= footerStart || allowed.some(([a, b]) => from >= a && to <= b);
    assert.ok(inside, `${what}: read [${from}, ${to}) is outside the footer and the ${allowed.length} chunks needed (${JSON.stringify(allowed)})`);
    total += to - from;
  }
  return total;
}

function column(values: Float32Array, index: number, start: number, end: number): number[] {
  const out: number[] = [];
  for (let row = start; row < end; row++) out.push(values[row * COLUMNS + index]!);
  return out;
}

test('Parquet: a column selection, a row range and a row slice read only their column chunks (and the footer)', async () => {
  const { bytes, values } = await tableFile();
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 4).getUint32(0, true);
  const footerStart = bytes.byteLength - 8 - footerLength;
  // The head magic and the tail (footer, its length, the magic), each of which may be read twice: by the hand checks and by hyparquet.
  const footerBytes = 2 * (4 + footerLength + 8);

  // Columns 2 and 5, every row: 10 of the 40 chunks.
  {
    const source = recordingSource(bytes);
    const reader = await parquetOpen(source, { formatOptions: { select: ['col2', 'col5'], columns: 'separate' } });
    try {
      assert.deepEqual(reader.tensors.map((info) => info.name), ['col2', 'col5']);
      const col5 = await reader.read('col5');
      assert.deepEqual([...new Float32Array(col5.data.slice().buffer)], column(values, 5, 0, ROWS));
      await reader.read('col2');
    } finally {
      await reader.close();
    }
    const allowed = await chunkRanges(bytes, ['col2', 'col5'], 0, ROWS);
    assert.equal(allowed.length, 10);
    const read = checkReads(source, footerStart, allowed, 'select col2, col5');
    const needed = allowed.reduce((sum, [a, b]) => sum + b - a, 0);
    assert.ok(read <= needed + footerBytes, `select: read ${read} bytes, the chunks and footer are ${needed + footerBytes}`);
    assert.ok(read < bytes.byteLength / 3, `select: read ${read} of the file's ${bytes.byteLength} bytes`);
  }

  // Rows 2500..2600 of column 3: one chunk (row group 2).
  {
    const source = recordingSource(bytes);
    const reader = await parquetOpen(source, { formatOptions: { select: ['col3'], rows: { start: 2500, end: 2600 }, columns: 'separate' } });
    try {
      const col3 = await reader.read('col3');
      assert.deepEqual([...new Float32Array(col3.data.slice().buffer)], column(values, 3, 2500, 2600));
    } finally {
      await reader.close();
    }
    const allowed = await chunkRanges(bytes, ['col3'], 2500, 2600);
    assert.equal(allowed.length, 1);
    const read = checkReads(source, footerStart, allowed, 'rows 2500..2600 of col3');
    assert.ok(read <= allowed[0]![1] - allowed[0]![0] + footerBytes, `row range: read ${read} bytes`);
  }

  // The stacked table sliced to rows 1990..2010 (row groups 1 and 2), every column: 16 chunks.
  {
    const source = recordingSource(bytes);
    const reader = await parquetOpen(source);
    try {
      const name = reader.tensors[0]!.name;
      const slice = await reader.read(name, { slice: { start: 1990, end: 2010 } });
      assert.deepEqual(slice.shape, [20, COLUMNS]);
      assert.deepEqual([...new Float32Array(slice.data.slice().buffer)], [...values.subarray(1990 * COLUMNS, 2010 * COLUMNS)]);
    } finally {
      await reader.close();
    }
    const allowed = await chunkRanges(bytes, Array.from({ length: COLUMNS }, (_, c) => `col${c}`), 1990, 2010);
    assert.equal(allowed.length, 16);
    const read = checkReads(source, footerStart, allowed, 'slice of rows 1990..2010');
    const needed = allowed.reduce((sum, [a, b]) => sum + b - a, 0);
    assert.ok(read <= needed + footerBytes, `slice: read ${read} bytes, the chunks and footer are ${needed + footerBytes}`);
  }
});
