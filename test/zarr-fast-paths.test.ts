/**
 * The Zarr read and write fast paths, and that they give the same bytes as the general
 * ones: uncompressed chunks that are a whole band (or an aligned slice) read straight
 * into the result through `Store.readWholeInto`, missing chunks and ragged last bands
 * around them, slices and streams; gzip chunks decoded ahead on the thread pool; a
 * writer fed one reused buffer (as convert's streams are) cutting chunks from it
 * without a copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { TensioError } from '../src/core/errors.js';
import { folderStore } from '../src/storage/folder-store.js';
import type { Store } from '../src/storage/store.js';
import type { TensorReader } from '../src/model/types.js';
import { zarrCreateWriter, zarrOpen } from '../src/formats/zarr/index.js';
import type { ZarrWriteOptions } from '../src/formats/zarr/index.js';
import { tempDir } from './helpers/temp.js';

/** Float32 values 0, 1, 2, … as bytes. */
function counting(count: number): Uint8Array {
  return new Uint8Array(new Float32Array(count).map((_, i) => i).buffer);
}

/** Streams `bytes` in pieces of `piece` bytes, all views of ONE buffer refilled for each piece. */
async function* reusedBuffer(bytes: Uint8Array, piece: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(piece);
  for (let at = 0; at < bytes.byteLength; at += piece) {
    const length = Math.min(piece, bytes.byteLength - at);
    buffer.set(bytes.subarray(at, at + length));
    yield buffer.subarray(0, length);
    buffer.fill(0xee); // what a reader reusing its buffer would leave there
  }
}

async function writeStore(path: string, dtype: DType, shape: number[], data: Uint8Array | AsyncIterable<Uint8Array>, options: ZarrWriteOptions): Promise<void> {
  const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype, shape }], formatOptions: options as Record<string, unknown> });
  await writer.add('x', data);
  await writer.close();
}

/**
 * The fixture of these tests: a float32 array `x` of `shape` holding 0, 1, 2, … written
 * to `<dir>/<name>` with `options`; its path and its bytes.
 */
async function countingStore(dir: string, name: string, shape: number[], options: ZarrWriteOptions): Promise<{ path: string; data: Uint8Array }> {
  const path = join(dir, name);
  const data = counting(shape.reduce((a, b) => a * b, 1));
  await writeStore(path, 'float32', shape, data, options);
  return { path, data };
}

/** The bytes of `x` read whole, or of its rows `[start, end)`. */
async function readX(reader: TensorReader, slice?: { start: number; end: number }): Promise<Uint8Array> {
  return new Uint8Array((await reader.read('x', slice ? { slice } : undefined)).data);
}

/** The bytes of `x` streamed, pieces joined. */
async function streamX(reader: TensorReader, options?: { chunkBytes: number }): Promise<Uint8Array> {
  const pieces: number[] = [];
  for await (const piece of reader.stream('x', options)) pieces.push(...piece);
  return Uint8Array.from(pieces);
}

/** Sets the v2 fill value of array `x` in `.zarray` and in the consolidated `.zmetadata`. */
function setV2FillValue(store: string, fill: number): void {
  const zarray = JSON.parse(readFileSync(join(store, 'x', '.zarray'), 'utf8')) as Record<string, unknown>;
  zarray.fill_value = fill;
  writeFileSync(join(store, 'x', '.zarray'), JSON.stringify(zarray));
  const consolidated = JSON.parse(readFileSync(join(store, '.zmetadata'), 'utf8')) as { metadata: Record<string, unknown> };
  consolidated.metadata['x/.zarray'] = zarray;
  writeFileSync(join(store, '.zmetadata'), JSON.stringify(consolidated));
}

test('uncompressed chunks of whole rows read straight into the result: whole, slices, streams, ragged last band, one fetch per chunk', async (t) => {
  const dir = await tempDir(t);
  for (const version of [2, 3] as const) {
    const { path, data } = await countingStore(dir, `v${version}.zarr`, [10, 6], { version, compressor: 'none', chunks: [4, 6] });
    await using reader = await zarrOpen(path);
    assert.deepEqual(await readX(reader), data, `v${version} whole`);
    assert.equal(reader.fetchStats.chunkReads, 3, `v${version}: 3 chunks, one read each`);
    assert.equal(reader.fetchStats.bytesRead, 3 * 4 * 6 * 4, `v${version}: every chunk stored whole (the last padded)`);
    // Rows 3..9: a partial first band, a full one, a partial ragged last one.
    assert.deepEqual(await readX(reader, { start: 3, end: 9 }), data.subarray(3 * 24, 9 * 24), `v${version} slice`);
    assert.deepEqual(await streamX(reader, { chunkBytes: 40 }), data, `v${version} stream`);
  }
});

test('full bands and aligned slices of an uncompressed store take Store.readWholeInto (no other read); ragged bands, gzip stores and stores without it read the usual way, equal', async (t) => {
  const dir = await tempDir(t);
  const calls = { whole: 0, read: 0 };
  const counted = (path: string, withWhole = true): Store => {
    const inner = folderStore(path);
    const { readWholeInto: _dropped, ...rest } = inner;
    return {
      ...rest,
      read: (key, range, options) => {
        if (/^x\/\d/.test(key)) calls.read += 1; // chunk keys only, not metadata
        return inner.read(key, range, options);
      },
      ...(withWhole ? { readWholeInto: (key: string, target: Uint8Array, options?: { signal?: AbortSignal }) => { calls.whole += 1; return inner.readWholeInto!(key, target, options); } } : {}),
    };
  };
  const { path: plain, data } = await countingStore(dir, 'plain.zarr', [10, 6], { version: 2, compressor: 'none', chunks: [4, 6] });
  {
    await using reader = await zarrOpen(counted(plain));
    assert.deepEqual(await readX(reader), data);
    assert.deepEqual(calls, { whole: 2, read: 1 }, 'two full bands in place, the ragged third read and cropped');
    assert.deepEqual(await readX(reader, { start: 4, end: 8 }), data.subarray(4 * 24, 8 * 24));
    assert.deepEqual(calls, { whole: 3, read: 1 }, 'a slice of exactly one chunk in place');
    assert.deepEqual(await streamX(reader), data);
    assert.deepEqual(calls, { whole: 5, read: 2 }, 'a stream reads each chunk once (bands read in place are not also read ahead)');
  }
  calls.whole = 0;
  calls.read = 0;
  {
    await using reader = await zarrOpen(counted(plain, false));
    assert.deepEqual(await readX(reader), data);
    assert.deepEqual(calls, { whole: 0, read: 3 }, 'without readWholeInto: every chunk read');
  }
  const { path: gzip } = await countingStore(dir, 'gzip.zarr', [10, 6], { version: 2, compressor: 'gzip', chunks: [4, 6] });
  calls.read = 0;
  {
    await using reader = await zarrOpen(counted(gzip));
    assert.deepEqual(await readX(reader), data);
    assert.deepEqual(calls, { whole: 0, read: 3 }, 'compressed chunks are decoded, never read in place');
    assert.deepEqual(await streamX(reader), data);
    assert.deepEqual(calls, { whole: 0, read: 6 }, 'a stream fetches and decodes each chunk once, ahead of its band');
  }
});

test('missing uncompressed chunks read as the fill value (zero and non-zero) beside chunks read in place', async (t) => {
  const { path, data } = await countingStore(await tempDir(t), 'holes.zarr', [12, 3], { version: 2, compressor: 'none', chunks: [4, 3] });
  rmSync(join(path, 'x', '1.0'));
  const expected = new Float32Array(data.buffer.slice(0));
  // Fill 0: a band read into uninitialised memory must still come out zero.
  {
    await using reader = await zarrOpen(path);
    const got = new Float32Array((await readX(reader)).buffer);
    expected.fill(0, 12, 24);
    assert.deepEqual(got, expected);
  }
  setV2FillValue(path, 1.5);
  {
    await using reader = await zarrOpen(path);
    const got = new Float32Array((await readX(reader)).buffer);
    expected.fill(1.5, 12, 24);
    assert.deepEqual(got, expected);
    assert.deepEqual(new Float32Array((await streamX(reader)).buffer), expected);
  }
});

test('an uncompressed chunk of the wrong size is still refused by the general path (short: SIZE_MISMATCH, long: LIMIT_EXCEEDED)', async (t) => {
  const { path } = await countingStore(await tempDir(t), 'bad.zarr', [8, 2], { version: 2, compressor: 'none', chunks: [4, 2] });
  const chunk = join(path, 'x', '1.0');
  const good = readFileSync(chunk);
  writeFileSync(chunk, good.subarray(0, good.byteLength - 4));
  {
    await using reader = await zarrOpen(path);
    await assert.rejects(reader.read('x'), (error: unknown) => error instanceof TensioError && error.code === 'SIZE_MISMATCH');
  }
  writeFileSync(chunk, new Uint8Array(good.byteLength + 4));
  {
    await using reader = await zarrOpen(path);
    await assert.rejects(reader.read('x'), (error: unknown) => error instanceof TensioError && error.code === 'LIMIT_EXCEEDED');
  }
});

test('folderStore.readWholeInto: reads a key of exactly the target size, else reads nothing and returns the size; missing key NOT_FOUND', async (t) => {
  const dir = await tempDir(t);
  const store = folderStore(dir);
  await store.write('a/b', new Uint8Array([1, 2, 3, 4]));
  const exact = new Uint8Array(4);
  assert.equal(await store.readWholeInto!('a/b', exact), 4);
  assert.deepEqual(exact, new Uint8Array([1, 2, 3, 4]));
  const larger = new Uint8Array(6).fill(9);
  assert.equal(await store.readWholeInto!('a/b', larger), 4);
  assert.deepEqual(larger, new Uint8Array(6).fill(9), 'nothing read when the sizes differ');
  await assert.rejects(store.readWholeInto!('a/missing', exact), (error: unknown) => error instanceof TensioError && error.code === 'NOT_FOUND');
  await assert.rejects(store.readWholeInto!('../outside', exact), (error: unknown) => error instanceof TensioError && error.code === 'INVALID_NAME');
});

test('a writer fed views of one reused buffer stores every chunk as given (pieces smaller, equal to and larger than a band), for none and gzip', async (t) => {
  const dir = await tempDir(t);
  const shape = [50, 8];
  const data = counting(400); // bands of 4 rows × 8 × 4 bytes = 128 bytes; 13 bands, the last 2 rows
  for (const compressor of ['none', 'gzip'] as const) {
    for (const piece of [40, 128, 1000, 1600]) {
      const path = join(dir, `${compressor}-${piece}.zarr`);
      await writeStore(path, 'float32', shape, reusedBuffer(data, piece), { version: 2, compressor, chunks: [4, 8] });
      await using reader = await zarrOpen(path);
      assert.deepEqual(await readX(reader), data, `${compressor}, pieces of ${piece} bytes`);
    }
  }
});

test('gzip chunks several per band, decoded ahead on the thread pool, read back equal (whole, slice, after a jump backwards)', async (t) => {
  const { path, data } = await countingStore(await tempDir(t), 'gzip.zarr', [40, 10], { version: 3, compressor: 'gzip', chunks: [3, 4] });
  await using reader = await zarrOpen(path);
  assert.deepEqual(await readX(reader), data);
  assert.deepEqual(await readX(reader, { start: 20, end: 31 }), data.subarray(20 * 40, 31 * 40));
  assert.deepEqual(await readX(reader, { start: 1, end: 5 }), data.subarray(40, 5 * 40));
});
