/**
 * Zarr N-d slices and bands: a slice (`read(name, { slice: [[a, b], …] })`) fetches and
 * decodes only the chunks it touches — over HTTP, one request per chunk, or with sharding
 * the shard index and one range per inner chunk — and equals the same box read by zarrita
 * (v3 corpus) or cut from the whole array. Streams of arrays whose chunk rows are wider
 * than `maxBandBytes` come in narrower bands; an array larger than memory opens, slices
 * and streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zarrita from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import { isTensioError } from '../src/core/errors.js';
import { itemSize, type DType } from '../src/core/dtype.js';
import { zarrCreateWriter, zarrOpen, type ZarrReader, type ZarrWriteOptions } from '../src/formats/zarr/index.js';
import { putFolder, startHttpServer } from './helpers/http-server.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';
import { sha256, zarritaCOrderBytes } from './helpers/zarr-oracle.js';

type Box = [number, number][];

/** The C-order bytes of `box` cut element by element out of an array's C-order bytes (the reference, independent of tensio's chunk code). */
function cutBox(bytes: Uint8Array, shape: readonly number[], size: number, box: Box): Uint8Array {
  const outShape = box.map(([start, end]) => end - start);
  const count = outShape.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const out = new Uint8Array(count * size);
  for (let i = 0; i < count; i += 1) {
    let rest = i;
    let offset = 0;
    for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
      offset += (box[axis]![0] + (rest % outShape[axis]!)) * strides[axis]!;
      rest = Math.floor(rest / outShape[axis]!);
    }
    out.set(bytes.subarray(offset * size, offset * size + size), i * size);
  }
  return out;
}

/** A few boxes of a shape: a middle block, the last row, a corner element, and seeded random ones. */
function boxesOf(shape: readonly number[], random: () => number, extra: number): Box[] {
  const middle: Box = shape.map((n) => [Math.floor(n / 3), Math.max(Math.floor(n / 3) + 1, n - Math.floor(n / 4))]);
  const lastRow: Box = shape.map((n, axis) => (axis === 0 ? [n - 1, n] : [0, n]));
  const corner: Box = shape.map((n) => [n - 1, n]);
  const randoms = Array.from({ length: extra }, () => shape.map((n): [number, number] => {
    const a = Math.floor(random() * n);
    const b = Math.floor(random() * n);
    return [Math.min(a, b), Math.max(a, b) + 1];
  }));
  return [middle, lastRow, corner, ...randoms];
}

function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

test('v3 corpus: N-d slices of every numeric array (sharded, ragged, transposed, big-endian, filled) equal zarrita\'s get of the same box', { skip: sharedSkip('corpora/zarr/fixtures/v3/data.zarr') }, async () => {
  const path = sharedFile('corpora/zarr/fixtures/v3/data.zarr')!;
  await using reader = await zarrOpen(path);
  const root = zarrita.root(new FileSystemStore(path));
  const random = seeded(7);
  let compared = 0;
  for (const info of reader.tensors) {
    if (info.shape.length === 0 || info.shape.includes(0) || info.dtype === 'float16') continue; // zarrita cannot read float16 on Node 20
    const array = await zarrita.open.v3(root.resolve(info.name), { kind: 'array' });
    for (const box of boxesOf(info.shape, random, 3)) {
      const mine = await reader.read(info.name, { slice: box });
      const theirs = await zarrita.get(array, box.map(([start, end]) => zarrita.slice(start, end)));
      assert.deepEqual([...mine.shape], (theirs as { shape: number[] }).shape, `${info.name} ${JSON.stringify(box)}`);
      assert.equal(sha256(mine.data), sha256(zarritaCOrderBytes(theirs as never)), `${info.name} ${JSON.stringify(box)}`);
      compared += 1;
    }
  }
  assert.ok(compared >= 150, `compared ${compared} slices`);
});

test('v2 corpus: N-d and row slices of every numeric array (C and F order, ragged, filters) equal the box cut from the whole array', { skip: sharedSkip('corpora/zarr/fixtures/v2/data.zarr') }, async () => {
  await using reader = await zarrOpen(sharedFile('corpora/zarr/fixtures/v2/data.zarr')!);
  const random = seeded(11);
  let compared = 0;
  for (const info of reader.tensors) {
    if (info.shape.length === 0 || info.shape.includes(0)) continue;
    const whole = (await reader.read(info.name)).data;
    const size = itemSize(info.dtype)!;
    for (const box of boxesOf(info.shape, random, 3)) {
      const mine = await reader.read(info.name, { slice: box });
      assert.equal(sha256(mine.data), sha256(cutBox(whole, info.shape, size, box)), `${info.name} ${JSON.stringify(box)}`);
      const rows = await reader.read(info.name, { slice: { start: box[0]![0], end: box[0]![1] } });
      assert.equal(sha256(rows.data), sha256(cutBox(whole, info.shape, size, info.shape.map((n, axis) => (axis === 0 ? box[0]! : [0, n])))), `${info.name} rows ${box[0]}`);
      compared += 1;
    }
  }
  assert.ok(compared >= 80, `compared ${compared} slices`);
});

interface Written { path: string; bytes: Uint8Array; shape: number[]; dtype: DType }

async function writeArray(path: string, dtype: DType, shape: number[], formatOptions: ZarrWriteOptions): Promise<Written> {
  const size = itemSize(dtype)!;
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(count * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i += 1) {
    if (dtype === 'float32') view.setFloat32(i * 4, i * 0.5 - 7, true);
    else if (dtype === 'int16') view.setInt16(i * 2, (i * 37) % 30000, true);
    else bytes[i] = i % 251;
  }
  const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype, shape }], formatOptions: formatOptions as Record<string, unknown> });
  await writer.add('x', bytes);
  await writer.close();
  return { path, bytes, shape, dtype };
}

test('tensio-written stores (v3 plain and sharded, v2 C order): random N-d slices equal the box cut from the written bytes', async (t) => {
  const dir = await tempDir(t);
  const shape = [37, 23, 11];
  const variants: [string, ZarrWriteOptions][] = [
    ['v3-gzip', { compressor: 'gzip', chunks: [8, 5, 4] }],
    ['v3-sharded', { compressor: 'zstd', chunks: [4, 5, 4], shards: [8, 10, 8] }],
    ['v2-zlib', { version: 2, compressor: 'zlib', chunks: [6, 7, 11] }],
  ];
  for (const [label, options] of variants) {
    const written = await writeArray(join(dir, `${label}.zarr`), 'float32', shape, options);
    await using reader = await zarrOpen(written.path);
    const random = seeded(label.length);
    for (const box of boxesOf(shape, random, 25)) {
      const mine = await reader.read('x', { slice: box });
      assert.deepEqual([...mine.shape], box.map(([a, b]) => b - a), `${label} ${JSON.stringify(box)}`);
      assert.equal(sha256(mine.data), sha256(cutBox(written.bytes, shape, 4, box)), `${label} ${JSON.stringify(box)}`);
    }
    // Slices with a dimension left out, negative and empty ranges, as numpy clamps them.
    assert.deepEqual((await reader.read('x', { slice: [[-3], null, [2, 5]] })).data, cutBox(written.bytes, shape, 4, [[34, 37], [0, 23], [2, 5]]));
    assert.equal((await reader.read('x', { slice: [[5, 5]] })).data.byteLength, 0);
  }
});

test('remote: an N-d slice fetches exactly the chunks it touches (4 requests), with sharding the two shard indexes and the 4 inner-chunk ranges; a row slice fetches its whole bands', async (t) => {
  const dir = await tempDir(t);
  const server = await startHttpServer();
  t.after(() => server.close());
  const shape = [64, 64];
  const plain = await writeArray(join(dir, 'plain.zarr'), 'float32', shape, { compressor: 'gzip', chunks: [8, 8] });
  await writeArray(join(dir, 'sharded.zarr'), 'float32', shape, { compressor: 'gzip', chunks: [8, 8], shards: [32, 32] });
  await putFolder(server, join(dir, 'plain.zarr'), 'plain.zarr');
  await putFolder(server, join(dir, 'sharded.zarr'), 'sharded.zarr');
  // Rows 10..20 are chunk rows 1 and 2, columns 30..40 chunk columns 3 and 4 (shard columns 0 and 1).
  const box: Box = [[10, 20], [30, 40]];
  const expected = cutBox(plain.bytes, shape, 4, box);
  const cases: [string, number, (path: string) => boolean][] = [
    ['plain', 4, (path) => /\/plain\.zarr\/x\/c\/[12]\/[34]$/.test(path)],
    ['sharded', 6, (path) => /\/sharded\.zarr\/x\/c\/0\/[01]$/.test(path)],
  ];
  for (const [variant, requests, touched] of cases) {
    await using reader = (await zarrOpen(`${server.origin}/range/${variant}.zarr`)) as ZarrReader;
    server.resetCounters();
    const slice = await reader.read('x', { slice: box });
    assert.deepEqual(slice.data, expected, variant);
    assert.equal(server.counters.requests, requests, `${variant}: ${JSON.stringify(server.log.map((r) => [r.path, r.range]))}`);
    assert.ok(server.log.every((request) => request.range !== undefined && touched(request.path)), `${variant}: ${JSON.stringify(server.log.map((r) => r.path))}`);
  }
  await using reader = await zarrOpen(`${server.origin}/range/plain.zarr`);
  server.resetCounters();
  const rows = await reader.read('x', { slice: { start: 10, end: 20 } });
  assert.deepEqual(rows.data, cutBox(plain.bytes, shape, 4, [[10, 20], [0, 64]]));
  assert.equal(server.counters.requests, 16, 'two chunk rows of 8 chunks');
});

test('bands: chunk rows wider than maxBandBytes stream in narrower bands (one index of the leading axes, or fewer rows than a chunk), equal to the written bytes', async (t) => {
  const dir = await tempDir(t);
  const shape = [4, 3, 1000];
  const written = await writeArray(join(dir, 'wide.zarr'), 'int16', shape, { compressor: 'gzip', chunks: [2, 2, 300] });
  // Rows of 6000 bytes and 2000-byte [i, j] slabs exceed 1000: bands are [i, j, 300 columns] (600 bytes), 12 × 4 of them.
  // At 500 bytes a chunk's 300 columns are cut in two (250 + 50), the last chunk's 100 columns are one band: 12 × 7 bands.
  for (const [maxBandBytes, bands] of [[1000, 48], [500, 84], [undefined, 2]] as const) {
    await using reader = await zarrOpen(written.path, { formatOptions: maxBandBytes === undefined ? {} : { maxBandBytes } });
    const pieces: Uint8Array[] = [];
    for await (const piece of reader.stream('x', { chunkBytes: 2 ** 20 })) pieces.push(piece.slice());
    assert.equal(pieces.length, bands, `maxBandBytes ${maxBandBytes}`);
    if (maxBandBytes !== undefined) assert.ok(pieces.every((piece) => piece.byteLength <= maxBandBytes), `maxBandBytes ${maxBandBytes}: ${pieces.map((p) => p.byteLength)}`);
    assert.equal(sha256(Buffer.concat(pieces)), sha256(written.bytes), `maxBandBytes ${maxBandBytes}`);
    assert.equal(sha256((await reader.read('x')).data), sha256(written.bytes), `read(), maxBandBytes ${maxBandBytes}`);
    assert.deepEqual((await reader.read('x', { slice: { start: 1, end: 3 } })).data, cutBox(written.bytes, shape, 2, [[1, 3], [0, 3], [0, 1000]]));
  }
});

test('an array larger than memory (64 GiB declared, one chunk written) opens, slices and streams; read() of the whole is LIMIT_EXCEEDED', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'huge.zarr');
  await mkdir(store, { recursive: true });
  const [rows, cols, chunkRows, chunkCols] = [2 ** 20, 2 ** 14, 64, 4096];
  await writeFile(join(store, '.zarray'), JSON.stringify({ zarr_format: 2, shape: [rows, cols], chunks: [chunkRows, chunkCols], dtype: '<f4', compressor: null, filters: null, fill_value: 'NaN', order: 'C' }));
  const chunk = new Float32Array(chunkRows * chunkCols).map((_, i) => i);
  await writeFile(join(store, '0.0'), new Uint8Array(chunk.buffer));
  await using reader = (await zarrOpen(store)) as ZarrReader;
  assert.equal(reader.tensors[0]!.byteLength, 2 ** 36);
  await assert.rejects(reader.read('huge'), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));

  const before = reader.fetchStats.chunkReads;
  const slice = await reader.read('huge', { slice: [[60, 70], [4090, 4100]] });
  assert.deepEqual(slice.shape, [10, 10]);
  const values = new Float32Array(slice.data.slice().buffer);
  for (let r = 0; r < 10; r += 1) {
    for (let c = 0; c < 10; c += 1) {
      const [row, col] = [60 + r, 4090 + c];
      const value = values[r * 10 + c]!;
      if (row < chunkRows && col < chunkCols) assert.equal(value, row * chunkCols + col, `[${row}, ${col}]`);
      else assert.ok(Number.isNaN(value), `[${row}, ${col}] is the fill value`);
    }
  }
  // Four chunks touched, one of them stored (missing ones are not reads).
  assert.equal(reader.fetchStats.chunkReads - before, 1);

  // The first band (64 rows × 16384 columns, 4 MiB) streams without the rest.
  for await (const piece of reader.stream('huge', { chunkBytes: 4 * 2 ** 20 })) {
    const first = new Float32Array(piece.slice().buffer);
    assert.equal(first.length, chunkRows * cols);
    assert.deepEqual([first[0], first[chunkCols - 1], first[cols + 1]], [0, chunkCols - 1, chunkCols + 1]);
    assert.ok(Number.isNaN(first[chunkCols]!));
    break;
  }
});
