/**
 * The fast read path for flat numeric columns (`plain-pages.ts`, and `plain-bands.ts` for
 * a chunk placed a band of rows at a time): which chunks it takes
 * (PLAIN and dictionary-encoded v1 and v2 pages, required and optional columns, with
 * nulls too, every codec) and which it leaves to hyparquet (page counts that do not add
 * up, damaged levels or pages), checked on chunks pyarrow writes; and the files read
 * equal to pyarrow through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parquetMetadata } from 'hyparquet';
import { typedView } from '../src/core/tensor.js';
import { parquetPageDecompressor } from '../src/formats/parquet/codecs.js';
import { parquetDecodePlainChunk } from '../src/formats/parquet/plain-pages.js';
import { parquetAllLevelsOne, parquetDefinitionLevels, parquetGatherDictionary } from '../src/formats/parquet/hybrid-streams.js';
import { pageHeader, ThriftCursor } from '../src/formats/parquet/page-headers.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

test('definition levels: all-ones streams (RLE runs, bit-packed groups with padding) and the rest', () => {
  // RLE run of 10 ones: header 10 << 1, value byte 1.
  assert.equal(parquetAllLevelsOne(Uint8Array.from([20, 1]), 10), true);
  assert.equal(parquetAllLevelsOne(Uint8Array.from([20, 0]), 10), false, 'a run of zeros is nulls');
  assert.equal(parquetAllLevelsOne(Uint8Array.from([22, 1]), 10), false, 'a run past the page');
  assert.equal(parquetAllLevelsOne(Uint8Array.from([10, 1, 10, 1]), 10), true, 'two runs');
  assert.equal(parquetAllLevelsOne(Uint8Array.from([10, 1]), 10), false, 'ends early');
  // Bit-packed: 2 groups of 8 (header (2 << 1) | 1), 10 values, the last 6 bits padding.
  assert.equal(parquetAllLevelsOne(Uint8Array.from([5, 0xff, 0x03]), 10), true);
  assert.equal(parquetAllLevelsOne(Uint8Array.from([5, 0xff, 0x01]), 10), false, 'value 9 is a null');
  assert.equal(parquetAllLevelsOne(Uint8Array.from([5, 0xef, 0xff]), 10), false, 'value 4 is a null');
  assert.equal(parquetAllLevelsOne(Uint8Array.from([5, 0xff]), 10), false, 'cut');
  assert.equal(parquetAllLevelsOne(new Uint8Array(0), 0), true);
});

/** The stored bytes of every column chunk of a file, with its metadata. */
function chunksOf(bytes: Uint8Array) {
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  let firstRow = 0;
  return metadata.row_groups.flatMap((group) => {
    const from = firstRow;
    firstRow += Number(group.num_rows);
    return group.columns.map((chunk) => {
      const meta = chunk.meta_data!;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      return { name: meta.path_in_schema[0]!, rows: Number(group.num_rows), firstRow: from, codec: meta.codec, dictionary: Boolean(meta.dictionary_page_offset), bytes: bytes.subarray(start, start + Number(meta.total_compressed_size)) };
    });
  });
}

test('tensio-written chunks decode through the fast path; damaged ones are left to the general path', async (t) => {
  const dir = await tempDir(t);
  const rows = 5000;
  const values = Float32Array.from({ length: rows * 2 }, (_, i) => Math.sin(i) * 1000);
  const path = join(dir, 't.parquet');
  const writer = await parquetCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 2] }], formatOptions: { compression: 'snappy', pageSize: 4096 } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  const [first] = chunksOf(new Uint8Array(readFileSync(path)));
  const decompress = await parquetPageDecompressor('SNAPPY', 2 ** 20);
  const decoded = await parquetDecodePlainChunk(first!.bytes, { rows, itemBytes: 4, maxDefinition: 0, decompress });
  assert.ok(decoded, 'a PLAIN required chunk of several pages is taken');
  assert.equal(decoded.validity, undefined);
  // Given the caller's buffer (a one-column read's tensor bytes), the values are decoded into it.
  const into = new Uint8Array(rows * 4);
  const direct = await parquetDecodePlainChunk(first!.bytes, { rows, itemBytes: 4, maxDefinition: 0, decompress, into });
  assert.equal(direct?.values, into, 'decoded into the given buffer');
  assert.deepEqual(new Float32Array(into.buffer), Float32Array.from({ length: rows }, (_, r) => values[r * 2]!));
  const misaligned = new Uint8Array(rows * 4 + 1).subarray(1);
  assert.notEqual((await parquetDecodePlainChunk(first!.bytes, { rows, itemBytes: 4, maxDefinition: 0, decompress, into: misaligned }))?.values, misaligned, 'a misaligned buffer is not used');
  assert.deepEqual(new Float32Array(decoded.values.buffer, decoded.values.byteOffset, rows), Float32Array.from({ length: rows }, (_, r) => values[r * 2]!));
  assert.equal(await parquetDecodePlainChunk(first!.bytes, { rows: rows + 1, itemBytes: 4, maxDefinition: 0, decompress }), undefined, 'pages short of the row group');
  assert.equal(await parquetDecodePlainChunk(first!.bytes, { rows: rows - 1, itemBytes: 4, maxDefinition: 0, decompress }), undefined, 'pages past the row group');
  assert.equal(await parquetDecodePlainChunk(first!.bytes.subarray(0, 900), { rows, itemBytes: 4, maxDefinition: 0, decompress }), undefined, 'cut chunk');
  assert.equal(await parquetDecodePlainChunk(first!.bytes, { rows, itemBytes: 4, maxDefinition: 1, decompress }), undefined, 'levels expected, values found');
  // The general path still refuses a file whose first page header is garbage with a TensioError.
  const cut = new Uint8Array(readFileSync(path));
  cut.fill(0xff, 4, 12);
  await assert.rejects(async () => {
    const { bytesSource } = await import('../src/storage/byte-source.js');
    const reader = await parquetOpen(bytesSource(cut));
    await reader.read('t');
  }, (error: unknown) => (error as { name?: string }).name === 'TensioError');
});

test('pyarrow-written PLAIN pages (v1 and v2, required and optional, none/snappy/zstd/gzip, several pages and row groups) read equal; dictionary and null chunks take the fast path too', { skip: oracleSkip('pyarrow', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const script = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n = 3001
rng = np.random.default_rng(5)
cols = {
  'f32': pa.array(rng.standard_normal(n).astype('float32')),
  'f64': pa.array(rng.standard_normal(n)),
  'i32': pa.array(rng.integers(-2**31, 2**31, n, dtype='int32')),
  'i64': pa.array(rng.integers(-2**62, 2**62, n, dtype='int64')),
  'u32': pa.array(rng.integers(0, 2**32, n, dtype='uint32')),
  'nulls': pa.array(np.arange(n, dtype='float64'), mask=np.arange(n) % 7 == 0),
}
fields = [pa.field(k, v.type, nullable=(k in ('f64', 'nulls'))) for k, v in cols.items()]
table = pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields))
for version in ('1.0', '2.0'):
    for codec in ('none', 'snappy', 'zstd', 'gzip'):
        pq.write_table(table, f'{sys.argv[1]}/plain-{version}-{codec}.parquet', compression=codec, use_dictionary=False, data_page_version=version, data_page_size=4096, row_group_size=1300)
pq.write_table(table, f'{sys.argv[1]}/plain-dict.parquet', use_dictionary=True, row_group_size=1300)
# A dictionary that outgrows its limit: dictionary pages first, then PLAIN ones in the same chunk (pyarrow's default behaviour on large float columns).
pq.write_table(table, f'{sys.argv[1]}/plain-dict-fallback.parquet', use_dictionary=True, row_group_size=1300, data_page_size=4096, dictionary_pagesize_limit=2048)
# Few distinct values: the indices are long RLE runs and short bit-packed groups, v2 pages, zstd.
runs = pa.Table.from_arrays([pa.array((np.arange(n) // 37 % 5).astype(t)) for t in ('float32', 'float64', 'int32', 'int64', 'uint32')] + [cols['nulls']], names=['f32', 'f64', 'i32', 'i64', 'u32', 'nulls'])
pq.write_table(runs, f'{sys.argv[1]}/plain-dict-runs.parquet', use_dictionary=True, data_page_version='2.0', compression='zstd', row_group_size=1300)
`;
  runPython(script, [dir]);
  const EXPECT = String.raw`
import sys, json, math, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(json.dumps({n: ['nan' if v is None else str(v) for v in t.column(n).to_pylist()] for n in t.column_names}))
`;
  for (const name of ['1.0-none', '1.0-snappy', '1.0-zstd', '1.0-gzip', '2.0-none', '2.0-snappy', '2.0-zstd', '2.0-gzip', 'dict', 'dict-fallback', 'dict-runs']) {
    const path = join(dir, `plain-${name}.parquet`);
    // Every chunk goes the fast way: dictionary-encoded ones and the one with nulls too.
    const chunks = chunksOf(new Uint8Array(readFileSync(path)));
    if (name.startsWith('dict')) assert.ok(chunks.some((chunk) => chunk.dictionary && chunk.name !== 'nulls'), `${name} has dictionary chunks`);
    for (const chunk of chunks) {
      const itemBytes = chunk.name === 'f64' || chunk.name === 'i64' || chunk.name === 'nulls' ? 8 : 4;
      const optional = name === 'dict-runs' ? 1 : chunk.name === 'f64' || chunk.name === 'nulls' ? 1 : 0;
      const decoded = await parquetDecodePlainChunk(chunk.bytes, { rows: chunk.rows, itemBytes, maxDefinition: optional, decompress: chunk.codec === 'UNCOMPRESSED' ? undefined : await parquetPageDecompressor(chunk.codec, 2 ** 20) });
      assert.ok(decoded, `${name} ${chunk.name}: fast path taken`);
      // The nulls column (every 7th row null) keeps its nulls as cleared validity bits and zero bytes.
      const nullRows = Array.from({ length: chunk.rows }, (_, r) => r).filter((r) => chunk.name === 'nulls' && (chunk.firstRow + r) % 7 === 0);
      const cleared = Array.from({ length: chunk.rows }, (_, r) => r).filter((r) => decoded.validity && (decoded.validity[r >> 3]! & (1 << (r & 7))) === 0);
      assert.deepEqual(cleared, nullRows, `${name} ${chunk.name}: null rows`);
      for (const r of nullRows) assert.equal(new Float64Array(decoded.values.buffer, decoded.values.byteOffset, chunk.rows)[r], 0, `${name}: null row ${r} is zero bytes`);
    }
    const expected = JSON.parse(runPython(EXPECT, [path]).stdout) as Record<string, string[]>;
    const reader = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
    try {
      for (const column of Object.keys(expected)) {
        const tensor = await reader.read(column);
        const got = [...(typedView(tensor) as ArrayLike<number | bigint> & Iterable<number | bigint>)].map((value) => (typeof value === 'number' && Number.isNaN(value) ? 'nan' : String(value)));
        const want = expected[column]!.map((text) => (column.startsWith('f') || column === 'nulls') && text !== 'nan' ? String(Number(column === 'f32' ? Math.fround(Number(text)) : Number(text))) : text);
        assert.deepEqual(got, want, `${name} ${column}`);
      }
    } finally {
      await reader.close();
    }
  }
  // An index past the dictionary, or a cut index stream, is left to the general path.
  const [dictionaryChunk] = chunksOf(new Uint8Array(readFileSync(join(dir, 'plain-dict-runs.parquet')))).filter((chunk) => chunk.name === 'i32');
  const decompress = await parquetPageDecompressor(dictionaryChunk!.codec, 2 ** 20);
  assert.ok(await parquetDecodePlainChunk(dictionaryChunk!.bytes, { rows: dictionaryChunk!.rows, itemBytes: 4, maxDefinition: 1, decompress }));
  assert.equal(await parquetDecodePlainChunk(dictionaryChunk!.bytes, { rows: dictionaryChunk!.rows + 1, itemBytes: 4, maxDefinition: 1, decompress }), undefined, 'pages short of the row group');
});

test('parquetGatherDictionary: RLE runs and bit-packed groups of every width copy the indexed entries; an index past the dictionary or a cut stream is refused', () => {
  for (const width of [0, 1, 3, 7, 8, 13, 17, 24, 31, 32]) {
    const entries = width === 0 ? 1 : Math.min(2 ** width, 1000);
    const dictionary = Uint32Array.from({ length: entries }, (_, i) => (i * 2654435761) >>> 0);
    const count = 100;
    const indices = Array.from({ length: count }, (_, i) => (i * 7919) % entries);
    // Stream: a run of 20 copies of index entries-1, then 80 values bit-packed (10 groups).
    const body: number[] = [width, 20 << 1];
    for (let b = 0; b < ((width + 7) >> 3); b++) body.push(Math.floor((entries - 1) / 2 ** (8 * b)) & 0xff);
    body.push((10 << 1) | 1);
    const bits: number[] = [];
    for (const index of indices.slice(20)) for (let b = 0; b < width; b++) bits.push(Math.floor(index / 2 ** b) % 2);
    for (let i = 0; i < bits.length; i += 8) body.push(bits.slice(i, i + 8).reduce((sum, bit, k) => sum + bit * 2 ** k, 0));
    const section = Uint8Array.from(body);
    const want = [...Array(20).fill(entries - 1), ...indices.slice(20)].map((index) => dictionary[index]!);
    const out = new Uint32Array(count + 2);
    assert.ok(parquetGatherDictionary(section, count, dictionary, entries, out, 2, 1), `width ${width}`);
    assert.deepEqual([...out.subarray(2)], want, `width ${width}`);
    if (width > 0) assert.equal(parquetGatherDictionary(section, count, dictionary, entries - 1, new Uint32Array(count), 0, 1), false, `width ${width}: index past the dictionary`);
    assert.equal(parquetGatherDictionary(section.subarray(0, section.byteLength - 1), count, dictionary, entries, new Uint32Array(count), 0, 1), false, `width ${width}: cut stream`);
  }
  // Two words per value (8-byte types).
  const wide = Uint32Array.from([1, 2, 3, 4]);
  const out = new Uint32Array(6);
  assert.ok(parquetGatherDictionary(Uint8Array.from([1, 3 << 1, 1]), 3, wide, 2, out, 0, 2));
  assert.deepEqual([...out], [3, 4, 3, 4, 3, 4]);
});

test('parquetDefinitionLevels: RLE runs and bit-packed groups of width-1 levels into one byte per row; levels above 1, runs past the page and cut streams are refused', () => {
  const defined = new Uint8Array(16);
  // A run of 3 ones, a run of 2 zeros, then one bit-packed group: 0b00101101 (5 values used).
  assert.equal(parquetDefinitionLevels(Uint8Array.from([3 << 1, 1, 2 << 1, 0, (1 << 1) | 1, 0b00101101]), 10, defined), 6);
  assert.deepEqual([...defined.subarray(0, 10)], [1, 1, 1, 0, 0, 1, 0, 1, 1, 0]);
  assert.equal(parquetDefinitionLevels(Uint8Array.from([10 << 1, 0]), 10, defined), 0, 'all null');
  assert.equal(parquetDefinitionLevels(Uint8Array.from([10 << 1, 2]), 10, defined), -1, 'a level above 1');
  assert.equal(parquetDefinitionLevels(Uint8Array.from([11 << 1, 1]), 10, defined), -1, 'a run past the page');
  assert.equal(parquetDefinitionLevels(Uint8Array.from([(2 << 1) | 1, 0xff]), 10, defined), -1, 'cut bit-packed group');
  assert.equal(parquetDefinitionLevels(Uint8Array.from([5 << 1, 1]), 10, defined), -1, 'ends early');
  assert.equal(parquetDefinitionLevels(Uint8Array.from([20 << 1, 1]), 20, defined), -1, 'more rows than the buffer holds');
});

test('OPTIONAL float columns with nulls take the fast path (PLAIN, dictionary, dictionary then PLAIN; v1 and v2; all-null pages) and read equal to pyarrow, nulls as NaN; a damaged chunk is refused with its code', { skip: oracleSkip('pyarrow', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const script = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n = 5000
rng = np.random.default_rng(11)
mask = rng.random(n) < 0.3
mask[1000:2200] = True   # whole pages of nulls
mask[3000:3400] = False  # and pages of none
f32 = pa.array(rng.standard_normal(n).astype('float32'), mask=mask)
f64 = pa.array(np.round(rng.standard_normal(n), 1), mask=np.roll(mask, 17))
table = pa.table({'a': f32, 'b': f64})
d = sys.argv[1]
for version in ('1.0', '2.0'):
    pq.write_table(table, f'{d}/plain-{version}.parquet', use_dictionary=False, data_page_version=version, data_page_size=2048, row_group_size=2500, compression='snappy')
    pq.write_table(table, f'{d}/dict-{version}.parquet', data_page_version=version, data_page_size=2048, row_group_size=2500, compression='zstd')
    pq.write_table(table, f'{d}/fallback-{version}.parquet', data_page_version=version, data_page_size=2048, dictionary_pagesize_limit=1024, row_group_size=2500, compression='none')
`;
  runPython(script, [dir]);
  const EXPECT = String.raw`
import sys, json, numpy as np, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
a = np.column_stack([c.to_numpy(zero_copy_only=False).astype('float64') for c in t.columns])
print(json.dumps(['nan' if v != v else repr(float(v)) for v in a.ravel()]))
`;
  for (const name of ['plain-1.0', 'plain-2.0', 'dict-1.0', 'dict-2.0', 'fallback-1.0', 'fallback-2.0']) {
    const path = join(dir, `${name}.parquet`);
    for (const chunk of chunksOf(new Uint8Array(readFileSync(path)))) {
      const itemBytes = chunk.name === 'a' ? 4 : 8;
      const decompress = chunk.codec === 'UNCOMPRESSED' ? undefined : await parquetPageDecompressor(chunk.codec, 2 ** 20);
      const decoded = await parquetDecodePlainChunk(chunk.bytes, { rows: chunk.rows, itemBytes, maxDefinition: 1, decompress });
      assert.ok(decoded?.validity, `${name} ${chunk.name} row ${chunk.firstRow}: fast path taken, with nulls`);
      // A chunk cut short, or with its pages' rows not adding up, is not taken.
      assert.equal(await parquetDecodePlainChunk(chunk.bytes.subarray(0, chunk.bytes.byteLength >> 1), { rows: chunk.rows, itemBytes, maxDefinition: 1, decompress }), undefined, `${name}: cut chunk`);
      assert.equal(await parquetDecodePlainChunk(chunk.bytes, { rows: chunk.rows + 1, itemBytes, maxDefinition: 1, decompress }), undefined, `${name}: rows`);
    }
    const want = JSON.parse(runPython(EXPECT, [path]).stdout) as string[];
    for (const dtype of ['float64', 'float32'] as const) {
      // Stacked (rows, 2) as float64 (promoted) — and column by column in their own dtypes.
      if (dtype === 'float32') {
        const reader = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
        try {
          for (const [position, column] of ['a', 'b'].entries()) {
            const got = [...(typedView(await reader.read(column)) as Float32Array | Float64Array)].map((v) => (Number.isNaN(v) ? 'nan' : String(v)));
            const expected = want.filter((_, i) => i % 2 === position).map((text) => (text === 'nan' ? 'nan' : String(column === 'a' ? Math.fround(Number(text)) : Number(text))));
            assert.deepEqual(got, expected, `${name} ${column} separate`);
          }
        } finally {
          await reader.close();
        }
        continue;
      }
      const reader = await parquetOpen(path);
      try {
        const tensor = await reader.read(reader.tensors[0]!.name);
        assert.equal(tensor.dtype, 'float64');
        assert.deepEqual([...(typedView(tensor) as Float64Array)].map((v) => (Number.isNaN(v) ? 'nan' : String(v))), want.map((text) => (text === 'nan' ? 'nan' : String(Number(text)))), `${name} stacked`);
      } finally {
        await reader.close();
      }
    }
  }
  // A damaged definition-level stream: not taken by the fast path, refused by the general one with its code.
  const path = join(dir, 'fallback-1.0.parquet');
  const bytes = new Uint8Array(readFileSync(path));
  const [chunk] = chunksOf(bytes).filter((candidate) => candidate.name === 'a');
  const damaged = bytes.slice();
  // The first data page's levels: its header follows the dictionary page; find the 4-byte length of its levels and make it run past the page.
  const at = chunk!.bytes.byteOffset + dataPageBodyOffset(chunk!.bytes);
  new DataView(damaged.buffer).setUint32(at, 0x7fffff00, true);
  const [broken] = chunksOf(damaged).filter((candidate) => candidate.name === 'a');
  assert.equal(await parquetDecodePlainChunk(broken!.bytes, { rows: broken!.rows, itemBytes: 4, maxDefinition: 1, decompress: undefined }), undefined, 'damaged levels are left to the general path');
  const { bytesSource } = await import('../src/storage/byte-source.js');
  await assert.rejects(async () => {
    const reader = await parquetOpen(bytesSource(damaged), { formatOptions: { columns: 'separate' } });
    await reader.read('a');
  }, (error: unknown) => (error as { name?: string }).name === 'TensioError' && (error as { code?: string }).code === 'INVALID_HEADER' && /column "a" in row group 0/.test((error as Error).message));
});

/** Where the body of a chunk's first data page starts (after its dictionary page, if any). */
function dataPageBodyOffset(chunk: Uint8Array): number {
  const cursor = new ThriftCursor(chunk);
  for (;;) {
    const header = pageHeader(cursor);
    if (header.type !== 2) return cursor.at;
    cursor.advance(header.compressed);
  }
}

test('parquetPlainChunkBands: chunks placed in bands of any size (runs and pages split across bands; nulls, dictionary, PLAIN fallback, v1 and v2) equal the whole-chunk decode; a damaged page stops placing and every decode settles', { skip: oracleSkip('pyarrow', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n = 6000
rng = np.random.default_rng(3)
mask = rng.random(n) < 0.2
mask[2000:2600] = True
table = pa.table({'a': pa.array((rng.integers(0, 50, n) / 4).astype('float32'), mask=mask), 'b': pa.array(rng.standard_normal(n), mask=np.roll(mask, 5)), 'r': pa.array(rng.random(n, dtype='float32'))})
d = sys.argv[1]
for version in ('1.0', '2.0'):
    pq.write_table(table, f'{d}/bands-{version}.parquet', data_page_version=version, data_page_size=1024, dictionary_pagesize_limit=2048, compression='snappy')
`, [dir]);
  const { parquetPlainChunkBands } = await import('../src/formats/parquet/plain-bands.js');
  let stopped = 0;
  for (const version of ['1.0', '2.0']) {
    const bytes = new Uint8Array(readFileSync(join(dir, `bands-${version}.parquet`)));
    for (const chunk of chunksOf(bytes)) {
      const itemBytes = chunk.name === 'b' ? 8 : 4;
      const decompress = await parquetPageDecompressor(chunk.codec, 2 ** 20);
      const shape = { rows: chunk.rows, itemBytes, maxDefinition: 1, decompress };
      const whole = await parquetDecodePlainChunk(chunk.bytes, shape);
      assert.ok(whole, `${version} ${chunk.name}: fast path taken`);
      for (const sizes of [[1, 7, 333], [4096], [chunk.rows]]) {
        const bands = await parquetPlainChunkBands(chunk.bytes, shape);
        assert.ok(bands, `${version} ${chunk.name}: bands taken`);
        const values = new Uint8Array(chunk.rows * itemBytes);
        const validity = new Uint8Array(Math.ceil(chunk.rows / 8)).fill(0xff);
        let at = 0;
        for (let band = 0; at < chunk.rows; band++) {
          const count = Math.min(sizes[band % sizes.length]!, chunk.rows - at);
          const target = { rows: count } as { rows: number; bits?: Uint8Array };
          const placed = await bands!.place(count, new Uint8Array(count * itemBytes), target);
          assert.ok(placed, `${version} ${chunk.name}: band at row ${at}`);
          values.set(placed!.subarray(0, count * itemBytes), at * itemBytes);
          for (let row = 0; row < count; row++) if (target.bits && !((target.bits[row >> 3]! >> (row & 7)) & 1)) validity[(at + row) >> 3]! &= ~(1 << ((at + row) & 7));
          at += count;
        }
        await bands!.settle();
        assert.deepEqual(values, whole!.values, `${version} ${chunk.name}: values in bands of ${sizes.join(', ')}`);
        assert.deepEqual(validity, whole!.validity ?? new Uint8Array(Math.ceil(chunk.rows / 8)).fill(0xff), `${version} ${chunk.name}: validity in bands of ${sizes.join(', ')}`);

        // The same bands placed into rows of a stacked tensor (this column one word past a row's
        // start, other columns' words around it left alone): a dictionary gather writes each
        // value in its row, a PLAIN view is handed back as a view, nulls are zero words.
        const words = itemBytes / 4;
        const rowWords = words + 3;
        const intoRows = await parquetPlainChunkBands(chunk.bytes, shape);
        const rowValues = new Uint8Array(chunk.rows * itemBytes);
        const rowValidity = new Uint8Array(Math.ceil(chunk.rows / 8)).fill(0xff);
        let inRows = 0;
        at = 0;
        for (let band = 0; at < chunk.rows; band++) {
          const count = Math.min(sizes[band % sizes.length]!, chunk.rows - at);
          const target = { rows: count } as { rows: number; bits?: Uint8Array };
          const rowsOut = new Uint32Array(count * rowWords).fill(0xabcdef01);
          const rowBytes = new Uint8Array(rowsOut.buffer);
          const placed = await intoRows!.placeInRows(count, rowBytes, { rowWords, columnWord: 1 }, target);
          assert.ok(placed, `${version} ${chunk.name}: band into rows at row ${at}`);
          const got = new Uint32Array(rowValues.buffer, at * itemBytes, count * words);
          if (placed === rowBytes) {
            inRows++;
            for (let row = 0; row < count; row++) {
              for (let w = 0; w < words; w++) got[row * words + w] = rowsOut[row * rowWords + 1 + w]!;
              assert.equal(rowsOut[row * rowWords], 0xabcdef01, `${version} ${chunk.name}: the word before row ${at + row}'s value is untouched`);
              for (let w = 1 + words; w < rowWords; w++) assert.equal(rowsOut[row * rowWords + w], 0xabcdef01, `${version} ${chunk.name}: the words after row ${at + row}'s value are untouched`);
            }
          } else {
            assert.ok(rowsOut.every((word) => word === 0xabcdef01), `${version} ${chunk.name}: a view leaves the rows alone`);
            new Uint8Array(rowValues.buffer, at * itemBytes, count * itemBytes).set(placed!.subarray(0, count * itemBytes));
          }
          for (let row = 0; row < count; row++) if (target.bits && !((target.bits[row >> 3]! >> (row & 7)) & 1)) rowValidity[(at + row) >> 3]! &= ~(1 << ((at + row) & 7));
          at += count;
        }
        await intoRows!.settle();
        assert.ok(inRows > 0, `${version} ${chunk.name}: some bands were written into rows`);
        assert.deepEqual(rowValues, whole!.values, `${version} ${chunk.name}: values placed into rows in bands of ${sizes.join(', ')}`);
        assert.deepEqual(rowValidity, validity, `${version} ${chunk.name}: validity placed into rows in bands of ${sizes.join(', ')}`);
      }
      // The last page's snappy block damaged (its first element made a copy from 4 GiB back): placing stops before the chunk's end, and every decode settles.
      const damaged = chunk.bytes.slice();
      const cursor = new ThriftCursor(damaged);
      let body = 0;
      let compressed = true;
      while (cursor.at < damaged.byteLength - 1) {
        const header = pageHeader(cursor);
        body = cursor.at + (header.type === 3 ? header.v2!.definitionBytes + header.v2!.repetitionBytes : 0);
        // pyarrow stores a v2 page uncompressed when snappy does not make it smaller (random float64): nothing to damage then.
        compressed = header.type !== 3 || header.v2!.compressed;
        cursor.advance(header.compressed);
      }
      while (damaged[body]! & 0x80) body++;
      damaged.fill(0xff, body + 1, body + 6);
      const bands = compressed ? await parquetPlainChunkBands(damaged, shape) : undefined;
      if (bands) {
        let placed = 0;
        while (placed < chunk.rows && await bands.place(Math.min(500, chunk.rows - placed), new Uint8Array(500 * itemBytes), { rows: 500 })) placed += Math.min(500, chunk.rows - placed);
        assert.ok(placed < chunk.rows, `${version} ${chunk.name}: a damaged last page stops placing`);
        await bands.settle();
        stopped++;
      }
    }
  }
  assert.ok(stopped >= 3, `damaged chunks placed and stopped: ${stopped}`);
});
