/**
 * Whole (not streamed) stacked reads of a big pyarrow row group decode its pages a few at
 * a time into pieces of the shared table scratch's slabs (`ParquetBandScratch`), reused as
 * placing leaves them, not into one buffer of the row group's decoded size: the scratch a
 * read holds is counted through the pool (`TABLE_READ_SCRATCH`) and bounded well below the
 * decoded pages, and the values equal pyarrow's (a dictionary that falls back to PLAIN
 * mid-chunk, dictionary pages all through, nulls, v1 and v2 pages, snappy and zstd), also for
 * row ranges across pages and column subsets, and for reads that follow each other.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parquetOpen, parquetReadMetadata } from '../src/formats/parquet/reader.js';
import { scratchSizeClass } from '../src/formats/parquet/page-stream.js';
import { openTensorFile } from '../src/operations/open.js';
import { fileSource } from '../src/storage/file-source.js';
import { TABLE_READ_SCRATCH } from '../src/storage/scratch-pool.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const ROWS = 2_000_000;
const COLUMNS = 8;
const FILES = ['snappy-v1', 'zstd-v2'] as const;

const skip = oracleSkip('pyarrow', 'numpy');

let made: Promise<string> | undefined;
const cleanups: (() => unknown)[] = [];
after(async () => { for (const cleanup of cleanups) await cleanup(); });
/** One row group of 2,000,000 rows × 8 float32 (64 MB as a tensor: over the 16 MiB a stacked read places in bands, and many bands of 4 MiB), 16 KiB pages. */
async function files(): Promise<string> {
  made ??= (async () => {
    const dir = await tempDir({ after: (cleanup: () => unknown) => { cleanups.push(cleanup); } });
    runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
d, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(29)
nulls = rng.random(n) < 0.03
cols = {}
for k in range(8):
  if k % 4 == 0: v = rng.random(n, dtype='float32')                         # dictionary full after ~16,000 values: PLAIN after
  elif k % 4 == 1: v = (rng.integers(0, 3000, n) / 8).astype('float32')     # dictionary all through
  elif k % 4 == 2: v = rng.standard_normal(n).astype('float32')
  else: v = (rng.integers(-40, 40, n)).astype('float32')
  cols[f'c{k}'] = pa.array(v, mask=nulls if k == 3 else None)
table = pa.table(cols)
np.save(f'{d}/expected.npy', np.column_stack([table.column(k).to_numpy(zero_copy_only=False).astype('float32') for k in cols]))
common = dict(row_group_size=n, data_page_size=16 * 1024, dictionary_pagesize_limit=64 * 1024)
pq.write_table(table, f'{d}/snappy-v1.parquet', compression='snappy', **common)
pq.write_table(table, f'{d}/zstd-v2.parquet', compression='zstd', data_page_version='2.0', **common)
`, [dir, String(ROWS)]);
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
function rowsOf(values: Float32Array, start: number, end: number, pick: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7]): Float32Array {
  const out = new Float32Array((end - start) * pick.length);
  for (let row = start; row < end; row++) pick.forEach((column, at) => { out[(row - start) * pick.length + at] = values[row * COLUMNS + column]!; });
  return out;
}

/** Equal values, NaN equal to NaN (a null row); the first difference named. */
function assertSame(actual: Uint8Array, wanted: Float32Array, what: string): void {
  assert.equal(actual.byteLength, wanted.byteLength, `${what}: bytes`);
  const got = new Float32Array(actual.buffer, actual.byteOffset, actual.byteLength / 4);
  for (let i = 0; i < wanted.length; i++) {
    if (got[i] !== wanted[i] && !(Number.isNaN(got[i]) && Number.isNaN(wanted[i]))) assert.fail(`${what}: value ${i} is ${got[i]}, pyarrow has ${wanted[i]}`);
  }
}

/** Runs `read` with every take and give of the shared table scratch counted: the most bytes out at once, and the takes. */
async function counted<T>(read: () => Promise<T>): Promise<{ result: T; peak: number; takes: number }> {
  const pool = TABLE_READ_SCRATCH;
  const take = pool.take;
  const give = pool.give;
  const sizes = new Map<Uint8Array, number>();
  let out = 0;
  let peak = 0;
  let takes = 0;
  pool.take = function (this: typeof pool, length: number, most?: number) {
    const bytes = take.call(this, length, most);
    sizes.set(bytes, bytes.byteLength);
    out += bytes.byteLength;
    peak = Math.max(peak, out);
    takes++;
    return bytes;
  };
  pool.give = function (this: typeof pool, bytes: Uint8Array) {
    const size = sizes.get(bytes);
    if (size !== undefined) {
      sizes.delete(bytes);
      out -= size;
    }
    give.call(this, bytes);
  };
  try {
    const result = await read();
    assert.equal(out, 0, 'every buffer taken from the pool was given back');
    return { result, peak, takes };
  } finally {
    pool.take = take;
    pool.give = give;
  }
}

test('scratchSizeClass: 4 KiB at least, then eighths of a power of two, never less than asked, at most an eighth over', () => {
  assert.equal(scratchSizeClass(1), 4096);
  assert.equal(scratchSizeClass(4096), 4096);
  assert.equal(scratchSizeClass(80_000), 81_920);
  assert.equal(scratchSizeClass(2 ** 20), 2 ** 20);
  assert.equal(scratchSizeClass(2 ** 20 + 1), 2 ** 20 + 2 ** 17);
  for (const length of [4097, 65_535, 65_537, 100_003, 1_048_600, 5_000_000]) {
    const size = scratchSizeClass(length);
    assert.ok(size >= length && size <= length * 1.125 + 4096, `${length} → ${size}`);
  }
});

test('a whole stacked read of a big pyarrow row group holds a few decoded pages per column from the pool, not the decoded row group, and equals pyarrow (dictionary → PLAIN, nulls, v1/v2, snappy/zstd, row ranges, column subsets)', { skip }, async () => {
  const dir = await files();
  const values = await expected(dir);
  for (const file of FILES) {
    const path = join(dir, `${file}.parquet`);
    const source = await fileSource(path);
    const metadata = await parquetReadMetadata(source);
    await source.close!();
    assert.equal(metadata.row_groups.length, 1);
    const decoded = metadata.row_groups[0]!.columns.reduce((sum, chunk) => sum + Number(chunk.meta_data!.total_uncompressed_size), 0);
    const pages = metadata.row_groups[0]!.columns.some((chunk) => chunk.meta_data!.encodings.includes('PLAIN') && chunk.meta_data!.encodings.some((encoding) => encoding.includes('DICTIONARY')));
    assert.ok(pages, `${file}: some column falls back from its dictionary to PLAIN pages`);
    // Read twice: the second read reuses the first one's slabs (the pool keeps them), and is counted the same way.
    for (const round of [1, 2]) {
      const { result, peak, takes } = await counted(async () => {
        await using reader = await parquetOpen(path);
        return (await reader.read(reader.tensors[0]!.name)).data.slice();
      });
      assertSame(result, values, `${file}: read() ${round}`);
      assert.ok(takes > 0, `${file}: the decoded pages come from the pool`);
      // Held at once: each column's dictionary (64 KiB here), the pages of the bands of 4 MiB in flight (a native gather may
      // still read them) and a few pages ahead: a few slabs of 4 MiB, where the decoded pages are ~45 MB.
      assert.ok(peak <= 6 * 4.25 * 2 ** 20, `${file}: ${peak} bytes of scratch held at once (the decoded pages are ${decoded} bytes)`);
      assert.ok(peak < decoded / 2, `${file}: ${peak} bytes of scratch held at once, the decoded pages are ${decoded} bytes`);
    }
    {
      await using reader = await parquetOpen(path);
      const name = reader.tensors[0]!.name;
      assertSame((await reader.read(name, { slice: [[123_457, 1_515_001]] })).data, rowsOf(values, 123_457, 1_515_001), `${file}: rows 123457..1515001`);
    }
    {
      await using reader = await parquetOpen(path, { formatOptions: { select: ['c7', 'c0', 'c3', 'c4', 'c1', 'c2'], rows: { start: 77_777, end: 1_990_001 } } });
      const name = reader.tensors[0]!.name;
      assertSame((await reader.read(name)).data, rowsOf(values, 77_777, 1_990_001, [7, 0, 3, 4, 1, 2]), `${file}: column subset and rows`);
    }
  }
});
