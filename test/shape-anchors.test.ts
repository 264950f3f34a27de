/**
 * The shape anchors (src/core/shape-anchors.ts): after whole reads of real files, an
 * instance of each anchored class made anew still has its anchor's V8 shape, so the
 * anchor keeps the shape (and the code optimized for it) alive between reads. A field
 * that took a double in the read (as the page-header cursor's position did, from `2 **`)
 * would move new instances to another shape and fail here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJsonChild } from './helpers/json-child.js';
import { writeBandedFile } from './helpers/parquet-banded.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'shape-anchors-child.ts');
/** The classes the Parquet page path makes per read, chunk or page, each anchored where it is defined. */
const PARQUET_ANCHORED = ['AheadSupply', 'DictionaryIndexStream', 'PagePlacer', 'ParquetBandScratch', 'ParquetPageReader', 'ReadPageSupply', 'ThriftCursor'];

/** Each anchor's class and whether a new instance still has the anchor's shape, after the child read `files`. */
function anchorsAfterReading(files: string[]): { name: string; sameShape: boolean }[] {
  const result = runJsonChild(CHILD, files, { gc: true, flags: ['--allow-natives-syntax'] });
  assert.ok((result.bytes as number) > 0, 'the child read the files');
  return result.anchors as { name: string; sameShape: boolean }[];
}

function assertShapesKept(anchors: { name: string; sameShape: boolean }[]): void {
  assert.deepEqual(anchors.map(({ name }) => name).filter((name) => PARQUET_ANCHORED.includes(name)).sort(), PARQUET_ANCHORED, 'every Parquet page class is anchored');
  assert.deepEqual(anchors.filter(({ sameShape }) => !sameShape).map(({ name }) => name), [], 'classes whose new instances no longer have their anchor\'s shape');
}

test('after whole and streamed reads of tensio\'s snappy file (PLAIN pages, one banded row group), new page objects have their anchors\' shapes', async (t) => {
  const dir = await tempDir(t, 'tensio-anchors-');
  const path = join(dir, 'banded.parquet');
  // One row group over the 16 MiB a whole read takes band by band (AheadSupply, ParquetBandScratch).
  await writeBandedFile(path);
  assertShapesKept(anchorsAfterReading([path]));
});

test('after whole and streamed reads of pyarrow\'s dictionary-encoded file, new page objects have their anchors\' shapes', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t, 'tensio-anchors-');
  const path = join(dir, 'dictionary.parquet');
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(11)
# 2,000 distinct values a column: dictionary pages and RLE_DICTIONARY data pages (DictionaryIndexStream), one row group of 22 MB.
pq.write_table(pa.table({f'c{i}': (rng.integers(0, 2000, 700_000) / 8).astype(np.float32) for i in range(8)}), sys.argv[1], row_group_size=700_000)
`, [path]);
  assertShapesKept(anchorsAfterReading([path]));
});
