/**
 * A whole stacked Parquet read's stored chunks (src/formats/parquet/stored-chunks.ts):
 * mapped from the file when the chunks lie together, read into one fresh buffer when they
 * do not (or without the addon), the same bytes either way; a file cut under the mapping
 * is refused with SOURCE_CHANGED instead of decoding zeros.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnMetaData } from 'hyparquet';
import { memoryMapStatus } from '../src/index.js';
import { parquetOpen } from '../src/formats/parquet/index.js';
import { parquetStoredChunks } from '../src/formats/parquet/stored-chunks.js';
import { fileSource } from '../src/storage/file-source.js';
import type { ByteSource } from '../src/storage/byte-source.js';
import { runJsonChild } from './helpers/json-child.js';
import { BANDED_ROWS, writeBandedFile } from './helpers/parquet-banded.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { patternBytes } from './helpers/patterns.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const status = memoryMapStatus();
const NO_ADDON = status.enabled ? false : `skipped: ${status.reason}`;
const MiB = 2 ** 20;

/** A chunk's footer entry: its data pages at `offset`, `length` bytes stored. */
const chunkAt = (offset: number, length: number) => ({ data_page_offset: BigInt(offset), total_compressed_size: BigInt(length) }) as unknown as ColumnMetaData;

test('stored chunks lying together are mapped (the file\'s bytes), scattered ones get one buffer to read into', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-stored-');
  const path = join(dir, 'bytes.bin');
  const bytes = patternBytes(10 * MiB, 3);
  await writeFile(path, bytes);
  await using source = await fileSource(path);
  const together = parquetStoredChunks(source, [chunkAt(MiB, 2 * MiB), chunkAt(3 * MiB, 2 * MiB)])!;
  const second = together.take(3 * MiB, 2 * MiB)!;
  assert.equal(second.filled, true, 'mapped: nothing to read');
  assert.deepEqual(second.bytes, bytes.subarray(3 * MiB, 5 * MiB));
  assert.equal(together.take(6 * MiB, MiB), undefined, 'a chunk outside the mapped span has no room here');
  together.checkIntact();
  // Two 1 MiB chunks 8 MiB apart: mapping the 10 MiB between would map 5 times their bytes.
  const apart = parquetStoredChunks(source, [chunkAt(0, MiB), chunkAt(9 * MiB, MiB)])!;
  const room = apart.take(9 * MiB, MiB)!;
  assert.equal(room.filled, false, 'a buffer to read into');
  assert.equal(room.bytes.byteLength, MiB);
  // A footer whose sizes cannot be right (past the file) gets neither.
  assert.equal(parquetStoredChunks(source, [chunkAt(0, 20 * MiB)]), undefined);
  // A source that cannot read into buffers gets nothing: chunk by chunk from the pool.
  assert.equal(parquetStoredChunks({ ...source, readInto: undefined } as ByteSource, [chunkAt(0, MiB)]), undefined);
});

test('a file cut under the mapped stored chunks: checkIntact throws SOURCE_CHANGED, the process lives', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-stored-');
  const path = join(dir, 'bytes.bin');
  await writeFile(path, patternBytes(8 * MiB, 5));
  const result = runJsonChild(join(ROOT, 'test', 'helpers', 'stored-chunks-child.ts'), [path]);
  assert.deepEqual(result, { mapped: true, before: 'intact', touched: true, after: 'SOURCE_CHANGED' });
});

test('a banded stacked read maps its row group\'s chunks, and reads the same bytes as a process without the addon', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-stored-');
  const path = join(dir, 'banded.parquet');
  const rows = BANDED_ROWS;
  const values = await writeBandedFile(path);
  const maps: number[] = [];
  const source = await fileSource(path);
  const counted: ByteSource = { ...source, map: (offset, length) => { maps.push(length); return source.map!(offset, length); } };
  const fileBytes = source.size;
  const reader = await parquetOpen(counted);
  const read = (await reader.read(reader.tensors[0]!.name)).data;
  await reader.close();
  await source.close();
  assert.deepEqual(new Float32Array(read.buffer, read.byteOffset, rows * 8), values);
  assert.equal(maps.length, 1, 'one mapping for the row group');
  assert.ok(maps[0]! >= MiB && maps[0]! < fileBytes, `mapped ${maps[0]} of the file's ${fileBytes} bytes`);
  const child = runJsonChild(join(ROOT, 'test', 'helpers', 'zstd-read-child.ts'), [path], { env: { TENSIO_NO_MMAP: '1' } }) as { hashes: Record<string, string> };
  assert.deepEqual(Object.values(child.hashes), [createHash('sha256').update(read).digest('hex')]);
});

/** Cuts `path` in the middle of its row group while a whole stacked read has it mapped (in a child: SIGBUS; `when`: see the child) and checks the read fails with SOURCE_CHANGED. */
async function readCutUnderMapping(path: string, when: 'map' | 'band'): Promise<void> {
  const { size } = await stat(path);
  const result = runJsonChild(join(ROOT, 'test', 'helpers', 'stored-chunks-read-child.ts'), [path, String(Math.floor(size / 2)), when]);
  assert.ok((result.mapped as number) > size / 2, `the row group was mapped (${result.mapped} of ${size} bytes)`);
  assert.equal(result.outcome, 'SOURCE_CHANGED', JSON.stringify(result));
}

test('a file cut right after a whole stacked read maps its chunks: the read fails with SOURCE_CHANGED (PLAIN pages)', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-stored-');
  const path = join(dir, 'cut.parquet');
  await writeBandedFile(path);
  await readCutUnderMapping(path, 'map');
});

test('a file cut under a whole stacked read\'s mapped chunks: SOURCE_CHANGED too when the zeros are read as dictionary indices (an empty RLE run), not INVALID_HEADER', { skip: NO_ADDON || oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t, 'tensio-stored-');
  const path = join(dir, 'cut-dictionary.parquet');
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(5)
# Uncompressed: the zeros reach the index streams as they are (a compressed page of zeros fails to decode instead).
pq.write_table(pa.table({f'c{i}': (rng.integers(0, 2000, 700_000) / 8).astype(np.float32) for i in range(8)}), sys.argv[1], compression='none')
`, [path]);
  await readCutUnderMapping(path, 'band');
});
