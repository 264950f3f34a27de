/**
 * Streamed reads of a stacked tensor over pyarrow-written files with big row groups and
 * small pages (`TableBatch.bands` with `streaming`, `ParquetPageReader`): the pieces
 * equal `read()` and pyarrow's values (dictionary and PLAIN pages, a dictionary that
 * overflows into PLAIN mid-chunk, nulls, v1 and v2 pages, none (PLAIN and dictionary)/snappy/zstd), row ranges
 * crossing pages and row groups, column subsets; a big row group streams as several
 * bounded pieces from bounded reads; hostile page and chunk sizes are `TensioError`s in
 * the streamed path as in the whole read; stopping early or aborting leaves no read running.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { parquetOpen, parquetReadMetadata } from '../src/formats/parquet/reader.js';
import { openTensorFile } from '../src/operations/open.js';
import { bytesSource, type ByteSource } from '../src/storage/byte-source.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { countingSource } from './helpers/counting-source.js';
import { recordingSource } from './helpers/recording-source.js';
import { tempDir } from './helpers/temp.js';

const ROWS = 900_000;
/** Row group 0 (720,000 rows × 6 float32 = 17.3 MB) is over the 16 MiB a stacked read places in bands; group 1 is read whole. */
const GROUP_ROWS = 720_000;
const COLUMNS = 6;
const FILES = ['none-plain', 'none-dict', 'snappy-dict', 'zstd-dict', 'snappy-v2'] as const;

const skip = oracleSkip('pyarrow', 'numpy');

/** The files and pyarrow's stacked values (float32, NaN for nulls) as expected.npy, made once for the whole file of tests. */
let made: Promise<string> | undefined;
const cleanups: (() => unknown)[] = [];
after(async () => { for (const cleanup of cleanups) await cleanup(); });
async function files(): Promise<string> {
  made ??= (async () => {
    const dir = await tempDir({ after: (cleanup: () => unknown) => { cleanups.push(cleanup); } });
    runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
d, n, group = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(11)
nulls = rng.random(n) < 0.05
cols = {
  'c0': pa.array((rng.integers(0, 2000, n) / 8).astype('float32')),
  'c1': pa.array(rng.random(n, dtype='float32')),
  'c2': pa.array((rng.integers(0, 500, n) / 4).astype('float32'), mask=nulls),
  'c3': pa.array(np.repeat((np.arange(n // 1000 + 1) % 7).astype('float32'), 1000)[:n]),
  'c4': pa.array(rng.standard_normal(n).astype('float32')),
  'c5': pa.array((rng.integers(-50, 50, n)).astype('float32')),
}
table = pa.table(cols)
np.save(f'{d}/expected.npy', np.column_stack([table.column(k).to_numpy(zero_copy_only=False).astype('float32') for k in cols]))
common = dict(row_group_size=group, data_page_size=32 * 1024)
pq.write_table(table, f'{d}/none-plain.parquet', compression='none', use_dictionary=False, **common)
# Uncompressed dictionary pages: the dictionary is a view of the stored bytes (copied when not 4-byte aligned, and in a stream).
pq.write_table(table, f'{d}/none-dict.parquet', compression='none', **common)
pq.write_table(table, f'{d}/snappy-dict.parquet', compression='snappy', **common)
pq.write_table(table, f'{d}/zstd-dict.parquet', compression='zstd', **common)
pq.write_table(table, f'{d}/snappy-v2.parquet', compression='snappy', data_page_version='2.0', **common)
`, [dir, String(ROWS), String(GROUP_ROWS)]);
    return dir;
  })();
  return made;
}

async function expected(dir: string): Promise<Float32Array> {
  await using reader = await openTensorFile(join(dir, 'expected.npy'));
  const tensor = await reader.read(reader.tensors[0]!.name);
  return new Float32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength / 4);
}

/** Rows [start, end) of columns `pick` of the expected values. */
function rowsOf(values: Float32Array, start: number, end: number, pick: readonly number[] = [0, 1, 2, 3, 4, 5]): Float32Array {
  const out = new Float32Array((end - start) * pick.length);
  for (let row = start; row < end; row++) pick.forEach((column, at) => { out[(row - start) * pick.length + at] = values[row * COLUMNS + column]!; });
  return out;
}

/** Equal values, NaN equal to NaN (a null row); the first difference named. */
function assertSame(actual: Uint8Array, wanted: Float32Array, what: string): void {
  assert.equal(actual.byteLength, wanted.byteLength, `${what}: bytes`);
  const got = new Float32Array(actual.buffer, actual.byteOffset, actual.byteLength / 4);
  for (let i = 0; i < wanted.length; i++) {
    if (got[i] !== wanted[i] && !(Number.isNaN(got[i]) && Number.isNaN(wanted[i]))) assert.fail(`${what}: value ${i} (row ${Math.floor(i / 6)}) is ${got[i]}, pyarrow has ${wanted[i]}`);
  }
}

async function streamed(reader: { stream(name: string, options?: object): AsyncIterable<Uint8Array> }, name: string, options: object = {}): Promise<{ bytes: Uint8Array; pieces: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const piece of reader.stream(name, options)) parts.push(piece.slice());
  return { bytes: new Uint8Array(Buffer.concat(parts)), pieces: parts.map((part) => part.byteLength) };
}

test('Parquet stream() of a stacked tensor over pyarrow files with big row groups and small pages equals read() and pyarrow (dictionary, PLAIN, overflow, nulls, v2; none/snappy/zstd); row ranges and column subsets', { skip }, async () => {
  const dir = await files();
  const values = await expected(dir);
  for (const file of FILES) {
    const path = join(dir, `${file}.parquet`);
    {
      await using reader = await parquetOpen(path);
      const name = reader.tensors[0]!.name;
      assert.deepEqual(reader.tensors[0]!.shape, [ROWS, COLUMNS]);
      const stream = await streamed(reader, name);
      assertSame(stream.bytes, values, `${file}: stream()`);
      assertSame((await reader.read(name)).data, values, `${file}: read()`);
      // A slice across pages and the row groups' boundary, read through the streamed path of its partial chunks.
      assertSame((await reader.read(name, { slice: [[123_457, 815_001]] })).data, rowsOf(values, 123_457, 815_001), `${file}: rows 123457..815001`);
    }
    {
      await using reader = await parquetOpen(path, { formatOptions: { rows: { start: 200_001, end: 719_999 } } });
      assertSame((await streamed(reader, reader.tensors[0]!.name)).bytes, rowsOf(values, 200_001, 719_999), `${file}: rows option, stream()`);
    }
    {
      await using reader = await parquetOpen(path, { formatOptions: { select: ['c5', 'c1', 'c2'], rows: { start: 650_000 } } });
      const name = reader.tensors[0]!.name;
      const wanted = rowsOf(values, 650_000, ROWS, [5, 1, 2]);
      assertSame((await streamed(reader, name)).bytes, wanted, `${file}: column subset, stream()`);
      assertSame((await reader.read(name)).data, wanted, `${file}: column subset, read()`);
    }
  }
});

test('Parquet stream() of a big row group yields several bounded pieces from bounded reads, not the row group at once', { skip }, async () => {
  const dir = await files();
  const bytes = new Uint8Array(readFileSync(join(dir, 'snappy-dict.parquet')));
  const metadata = await parquetReadMetadata(bytesSource(bytes));
  // Row group 0's column chunks: every read of them by the stream is a window, not a chunk.
  const chunks = metadata.row_groups[0]!.columns.map((chunk) => {
    const start = Number(chunk.meta_data!.dictionary_page_offset || chunk.meta_data!.data_page_offset);
    return [start, start + Number(chunk.meta_data!.total_compressed_size)] as const;
  });
  // The columns of many distinct values (their chunks over 1 MB; c3's runs are a few KB).
  const big = chunks.filter(([from, to]) => to - from > 1_000_000);
  assert.ok(big.length >= 3, `${big.length} chunks over 1 MB`);
  const smallest = Math.min(...big.map(([from, to]) => to - from));
  const source = recordingSource(bytes, { readInto: true });
  await using reader = await parquetOpen(source as ByteSource);
  const rowBytes = COLUMNS * 4;
  const { pieces } = await streamed(reader, reader.tensors[0]!.name, { chunkBytes: 64 * 2 ** 20 });
  let row = 0;
  const group0: number[] = [];
  for (const piece of pieces) {
    if (row < GROUP_ROWS) group0.push(piece);
    row += piece / rowBytes;
  }
  assert.equal(row, ROWS);
  assert.ok(group0.length >= 4, `row group 0 came in ${group0.length} pieces`);
  assert.ok(Math.max(...group0) <= (GROUP_ROWS * rowBytes) / 4, `row group 0's largest piece is ${Math.max(...group0)} bytes of ${GROUP_ROWS * rowBytes}`);
  const inBig = source.ranges.filter(([from]) => big.some(([start, end]) => from >= start && from < end));
  assert.ok(inBig.length > 10 * big.length, `row group 0's large chunks were read in ${inBig.length} reads`);
  // Each read is a page (the largest: a dictionary page of ~1 MiB, pyarrow's limit) and a bounded read-ahead, never a chunk.
  const { pageHeader, ThriftCursor } = await import('../src/formats/parquet/page-headers.js');
  let largestPage = 0;
  for (const [from, to] of big) {
    const cursor = new ThriftCursor(bytes.subarray(from, to));
    while (cursor.at < to - from - 1) {
      const header = pageHeader(cursor);
      largestPage = Math.max(largestPage, header.compressed);
      cursor.advance(header.compressed);
    }
  }
  const largest = Math.max(...inBig.map(([from, to]) => to - from));
  assert.ok(largest <= largestPage + 66 * 1024, `the largest read of row group 0's large chunks is ${largest} bytes (largest page ${largestPage}, smallest of those chunks ${smallest})`);
});

/** Where the top-level i32 fields of a page header are (field id → varint offset and length), and its data page's num_values. */
function headerFields(bytes: Uint8Array, at: number): Map<number, { at: number; length: number }> {
  const fields = new Map<number, { at: number; length: number }>();
  const varint = (from: number) => {
    let end = from;
    while (bytes[end]! & 0x80) end++;
    return { at: from, length: end + 1 - from };
  };
  let id = 0;
  let cursor = at;
  for (;;) {
    const header = bytes[cursor++]!;
    if (header === 0) return fields;
    id += header >> 4;
    const type = header & 0x0f;
    if (type === 5) {
      const field = varint(cursor);
      fields.set(id, field);
      cursor += field.length;
    } else if (type === 12) {
      // The page's own header struct: its first field is num_values (an i32, id 1).
      assert.equal(bytes[cursor], 0x15, 'a num_values field first');
      fields.set(100 + id, varint(cursor + 1));
      return fields;
    } else {
      assert.fail(`unexpected thrift type ${type} in a page header`);
    }
  }
}

/** Writes `value` as a zigzag varint of exactly `length` bytes (padded with continuation bytes). */
function patchVarint(bytes: Uint8Array, field: { at: number; length: number }, value: number): Uint8Array {
  const out = bytes.slice();
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  for (let i = 0; i < field.length; i++) {
    out[field.at + i] = (zigzag & 0x7f) | (i < field.length - 1 ? 0x80 : 0);
    zigzag = Math.floor(zigzag / 128);
  }
  assert.equal(zigzag, 0, `${value} fits ${field.length} varint bytes`);
  return out;
}

/** The page headers of column `c0` in row group 0: each header's offset in the file and its fields. */
async function pagesOfFirstChunk(bytes: Uint8Array): Promise<{ start: number; end: number; pages: { at: number; fields: Map<number, { at: number; length: number }> }[] }> {
  const metadata = await parquetReadMetadata(bytesSource(bytes));
  const meta = metadata.row_groups[0]!.columns[0]!.meta_data!;
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  const pages: { at: number; fields: Map<number, { at: number; length: number }> }[] = [];
  const { pageHeader, ThriftCursor } = await import('../src/formats/parquet/page-headers.js');
  const cursor = new ThriftCursor(bytes.subarray(start, end));
  while (cursor.at < end - start - 1) {
    const at = start + cursor.at;
    const header = pageHeader(cursor);
    pages.push({ at, fields: headerFields(bytes, at) });
    cursor.advance(header.compressed);
  }
  return { start, end, pages };
}

async function refusedBoth(bytes: Uint8Array, codes: readonly string[], what: string): Promise<void> {
  for (const how of ['read', 'stream'] as const) {
    await using reader = await parquetOpen(bytesSource(bytes));
    const name = reader.tensors[0]!.name;
    await assert.rejects(async () => {
      if (how === 'read') await reader.read(name);
      else for await (const piece of reader.stream(name)) void piece;
    }, (error: unknown) => {
      assert.ok(error instanceof TensioError, `${what}, ${how}: a TensioError (${String(error)})`);
      assert.ok(codes.includes(error.code), `${what}, ${how}: ${error.code} (${error.message})`);
      assert.match(error.message, /\d/, `${what}, ${how}: the numbers in the message`);
      return true;
    });
  }
}

test('Parquet hostile sizes in a big row group: a page running past its column chunk, a page claiming more rows than the group, a chunk cut short in the footer — TensioErrors in the streamed path and the whole read', { skip }, async () => {
  const dir = await files();
  const bytes = new Uint8Array(readFileSync(join(dir, 'snappy-dict.parquet')));
  const { start, end, pages } = await pagesOfFirstChunk(bytes);
  assert.ok(pages.length > 10, `c0 has ${pages.length} pages`);
  const last = pages.at(-1)!;
  // Compressed size (field 3) of the last page: past the chunk's end.
  const lastCompressed = last.fields.get(3)!;
  await refusedBoth(patchVarint(bytes, lastCompressed, 2 ** (7 * lastCompressed.length - 2)), ['TRUNCATED'], 'a page past its chunk');
  // num_values of the first data page (after the dictionary page): more than the row group's rows.
  const firstData = pages[1]!.fields.get(105)!;
  assert.ok(2 ** (7 * firstData.length - 1) > GROUP_ROWS, 'room for a large count');
  await refusedBoth(patchVarint(bytes, firstData, 2 ** (7 * firstData.length - 1) - 1), ['INVALID_HEADER', 'LIMIT_EXCEEDED'], 'a page of more rows than its group');
  // The footer's total_compressed_size of the chunk (field 7, i64, after field 6: byte 0x16) 5,000 bytes short: its last page runs past it.
  const footerAt = bytes.byteLength - 8 - new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 4).getUint32(0, true);
  const zigzag = (end - start) * 2;
  const encoded: number[] = [];
  for (let value = zigzag; ; value = Math.floor(value / 128)) {
    if (value < 128) { encoded.push(value); break; }
    encoded.push((value & 0x7f) | 0x80);
  }
  const pattern = [0x16, ...encoded];
  const found: number[] = [];
  for (let at = footerAt; at < bytes.byteLength - pattern.length; at++) if (pattern.every((byte, i) => bytes[at + i] === byte)) found.push(at);
  assert.ok(found.length >= 1, 'the chunk size found in the footer');
  await refusedBoth(patchVarint(bytes, { at: found[0]! + 1, length: encoded.length }, end - start - 5000), ['TRUNCATED', 'INVALID_HEADER'], 'a chunk cut short');
});

test('Parquet stream() of a big row group stopped early (break) or aborted leaves no read running, and the reader reads right after', { skip }, async () => {
  const dir = await files();
  const values = await expected(dir);
  for (const file of ['snappy-dict', 'none-plain'] as const) {
    const source = countingSource(new Uint8Array(readFileSync(join(dir, `${file}.parquet`))), { delayMs: 2, readInto: true });
    await using reader = await parquetOpen(source);
    const name = reader.tensors[0]!.name;
    for (const stop of [1, 2, 3, 5]) {
      let pieces = 0;
      for await (const piece of reader.stream(name)) {
        assert.ok(piece.byteLength > 0);
        if (++pieces === stop) break;
      }
      assert.equal(source.running, 0, `${file}: no read under way after a break at piece ${stop}`);
    }
    let pieces = 0;
    const controller = new AbortController();
    await assert.rejects(async () => {
      for await (const piece of reader.stream(name, { signal: controller.signal })) {
        void piece;
        if (++pieces === 2) controller.abort();
      }
    }, (error: unknown) => error instanceof TensioError && error.code === 'ABORTED');
    assert.equal(source.running, 0, `${file}: no read under way after the abort`);
    // The buffers the stopped streams took went back whole: the next stream and read are right.
    assertSame((await streamed(reader, name)).bytes, values, `${file}: stream() after`);
    assertSame((await reader.read(name, { slice: [[100_000, 300_000]] })).data, rowsOf(values, 100_000, 300_000), `${file}: read() after`);
  }
});
