/**
 * Filtered HDF5 chunks decoded by tensio (`src/formats/hdf5/chunk-filters.ts`,
 * `filtered-chunks.ts`, `dataset-messages.ts`, `core/byte-shuffle.ts`), without the
 * oracle: chunk grids built by hand over bytes (deflate, shuffle, Fletcher-32 in h5py's
 * order, a filter skipped by the chunk's mask, N-d grids with clipped edge chunks,
 * chunks never written as the fill value) read equal to the array they encode, whole,
 * sliced and streamed; each hostile chunk fails with its own TensioError code (a
 * deflate bomb, a stream one byte short, a corrupt stream, a truncated stream, a bad
 * Fletcher-32); the pipeline and fill value messages decode as libhdf5 decodes them;
 * tensio's own gzip files read equal through the direct path and through libhdf5.
 * h5py's files are in `hdf5-filtered-interop.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { shuffleBytes, unshuffleBytesInto } from '../src/core/byte-shuffle.js';
import { hdf5Fletcher32 } from '../src/formats/hdf5/checksums.js';
import { hdf5DecodePipeline, hdf5FillElement, type Hdf5PipelineFilter } from '../src/formats/hdf5/dataset-messages.js';
import { HDF5_CHUNKS_IN_FLIGHT, hdf5FilteredBands } from '../src/formats/hdf5/filtered-chunks.js';
import type { Hdf5StoredChunk } from '../src/formats/hdf5/data-location.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { HDF5_LIBHDF5_ONLY_ENV } from '../src/formats/hdf5/reader.js';
import { isMemoryMapped, memoryMapAvailable, memoryMapStatus } from '../src/storage/memory-map.js';
import { bytesSource, type ByteSource } from '../src/storage/byte-source.js';
import { readChunkedBytes, streamChunkedBytes } from '../src/storage/chunked-bytes.js';
import { countingSource } from './helpers/counting-source.js';
import { directLocations } from './helpers/hdf5-direct.js';
import { tempDir } from './helpers/temp.js';

const MiB = 2 ** 20;
const DEFLATE: Hdf5PipelineFilter = { id: 1, clientData: [1] };
const FLETCHER: Hdf5PipelineFilter = { id: 3, clientData: [] };
const shuffle = (elementBytes: number): Hdf5PipelineFilter => ({ id: 2, clientData: [elementBytes] });

/** Runs one chunk through `pipeline` as libhdf5 writes it, skipping the filters whose bit is set in `mask`. */
function encode(chunk: Uint8Array, pipeline: readonly Hdf5PipelineFilter[], mask = 0): Uint8Array {
  let bytes = chunk;
  pipeline.forEach((filter, i) => {
    if (mask & (1 << i)) return;
    if (filter.id === 2) bytes = shuffleBytes(bytes, filter.clientData[0]!);
    else if (filter.id === 1) bytes = deflateSync(bytes, { level: filter.clientData[0]! });
    else {
      const out = new Uint8Array(bytes.byteLength + 4);
      out.set(bytes);
      new DataView(out.buffer).setUint32(bytes.byteLength, hdf5Fletcher32(bytes), true);
      bytes = out;
    }
  });
  return bytes;
}

/** The C-order bytes of `data` (shape `space`) cut into chunks of `chunkShape`, edge chunks padded with `pad`. */
function chunkOf(data: Uint8Array, space: readonly number[], chunkShape: readonly number[], elementBytes: number, at: readonly number[], pad = 0xee): Uint8Array {
  const chunkElements = chunkShape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(chunkElements * elementBytes).fill(pad);
  for (let e = 0; e < chunkElements; e++) {
    let rest = e;
    let linear = 0;
    let inside = true;
    const index = new Array<number>(space.length);
    for (let k = space.length - 1; k >= 0; k--) {
      index[k] = rest % chunkShape[k]!;
      rest = Math.floor(rest / chunkShape[k]!);
    }
    for (let k = 0; k < space.length; k++) {
      const position = at[k]! * chunkShape[k]! + index[k]!;
      if (position >= space[k]!) inside = false;
      linear = linear * space[k]! + position;
    }
    if (inside) out.set(data.subarray(linear * elementBytes, (linear + 1) * elementBytes), e * elementBytes);
  }
  return out;
}

interface GridCase {
  space: number[];
  chunkShape: number[];
  elementBytes: number;
  pipeline: Hdf5PipelineFilter[];
  /** Grid indexes of chunks never written. */
  missing?: number[][];
  fill?: Uint8Array;
  /** Stored bytes per chunk (by grid index joined with ','), replacing the encoded ones. */
  replace?: Record<string, Uint8Array>;
  masks?: Record<string, number>;
}

/** A file of encoded chunks and the `ByteChunk` bands over it, with the array they hold. */
function buildGrid(c: GridCase, data?: Uint8Array, wrap: (file: Uint8Array) => ByteSource = (file) => bytesSource(file)) {
  const { space, chunkShape, elementBytes, pipeline } = c;
  const total = space.reduce((a, b) => a * b, elementBytes);
  const array = data ?? Uint8Array.from({ length: total }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
  const gridShape = space.map((d, k) => Math.ceil(d / chunkShape[k]!));
  const count = gridShape.reduce((a, b) => a * b, 1);
  const chunkBytes = chunkShape.reduce((a, b) => a * b, elementBytes);
  const parts: Uint8Array[] = [];
  const chunks: Hdf5StoredChunk[] = [];
  let offset = 0;
  const expected = new Uint8Array(array);
  for (let linear = 0; linear < count; linear++) {
    const at = new Array<number>(space.length);
    for (let k = space.length - 1, rest = linear; k >= 0; k--) {
      at[k] = rest % gridShape[k]!;
      rest = Math.floor(rest / gridShape[k]!);
    }
    const key = at.join(',');
    if (c.missing?.some((m) => m.join(',') === key)) continue;
    const mask = c.masks?.[key] ?? 0;
    const stored = c.replace?.[key] ?? encode(chunkOf(array, space, chunkShape, elementBytes, at), pipeline, mask);
    parts.push(stored);
    chunks.push({ grid: at, offset, storedBytes: stored.byteLength, filterMask: mask });
    offset += stored.byteLength;
  }
  if (c.missing) {
    // The missing chunks' elements read as the fill value.
    const fill = c.fill ?? new Uint8Array(elementBytes);
    for (let e = 0; e < total / elementBytes; e++) {
      const index = new Array<number>(space.length);
      for (let k = space.length - 1, rest = e; k >= 0; k--) {
        index[k] = rest % space[k]!;
        rest = Math.floor(rest / space[k]!);
      }
      const key = index.map((i, k) => Math.floor(i / chunkShape[k]!)).join(',');
      if (c.missing.some((m) => m.join(',') === key)) expected.set(fill, e * elementBytes);
    }
  }
  const file = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    file.set(part, at);
    at += part.byteLength;
  }
  const bands = hdf5FilteredBands(wrap(file), { path: '/x', space, elementBytes, chunkShape, chunkBytes, chunks, pipeline, ...(c.missing ? { fill: c.fill ?? new Uint8Array(elementBytes) } : {}) }, 32 * MiB);
  assert.ok(bands, 'bands within bounds');
  return { bands, expected, total };
}

async function streamed(bands: Parameters<typeof streamChunkedBytes>[0], pieceBytes = 4096): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const piece of streamChunkedBytes(bands, { pieceBytes })) pieces.push(piece.slice());
  return new Uint8Array(Buffer.concat(pieces));
}

test('byte shuffle: unshuffle undoes shuffle for element sizes 1-16, aligned or not, with leftover bytes', () => {
  for (const elementBytes of [1, 2, 3, 4, 5, 8, 12, 16]) {
    for (const length of [0, 1, elementBytes, 7 * elementBytes + 3, 1000 * elementBytes, 1000 * elementBytes + elementBytes - 1]) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
      const shuffled = shuffleBytes(input, elementBytes);
      for (const shift of [0, 1, 4]) {
        const backing = new Uint8Array(length + shift);
        const out = backing.subarray(shift);
        unshuffleBytesInto(shuffled, out, elementBytes);
        assert.deepEqual(out, input, `element ${elementBytes}, length ${length}, offset ${shift}`);
      }
    }
  }
  // Plane layout: byte j of every element together.
  assert.deepEqual(shuffleBytes(Uint8Array.of(1, 2, 3, 4, 5, 6, 9), 2), Uint8Array.of(1, 3, 5, 2, 4, 6, 9));
});

test('filter pipeline message: versions 1 and 2 decode to ids and client data in order', () => {
  // Version 2: deflate(6) without a name, then a named plugin filter 32000 with 2 values.
  const v2 = Uint8Array.of(2, 2, 1, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0x00, 0x7d, 4, 0, 0, 0, 2, 0, 0x6c, 0x7a, 0x66, 0, 1, 0, 0, 0, 2, 0, 0, 0);
  assert.deepEqual(hdf5DecodePipeline(v2), [{ id: 1, clientData: [6] }, { id: 32000, clientData: [1, 2] }]);
  // Version 1: shuffle with an 8-byte padded name and one value (padded to two), then Fletcher-32 without values.
  const name = [...'shuffle'].map((ch) => ch.charCodeAt(0));
  const v1 = Uint8Array.of(1, 2, 0, 0, 0, 0, 0, 0, 2, 0, 8, 0, 1, 0, 1, 0, ...name, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0);
  assert.deepEqual(hdf5DecodePipeline(v1), [{ id: 2, clientData: [4] }, { id: 3, clientData: [] }]);
});

test('fill value message: default zeros, a defined value, and the cases libhdf5 leaves unset are declined', () => {
  const declined = (f: () => unknown) => assert.throws(f, (error: Error) => error.constructor.name === 'Declined');
  // Version 2, fill time "if set" (2), defined, 4 bytes: -7.5 as float32.
  const value = new Uint8Array(new Float32Array([-7.5]).buffer);
  assert.deepEqual(hdf5FillElement(Uint8Array.of(2, 1, 2, 1, 4, 0, 0, 0, ...value), undefined, 4), value);
  // Version 2, defined with size 0: libhdf5's default, zeros.
  assert.deepEqual(hdf5FillElement(Uint8Array.of(2, 1, 2, 1, 0, 0, 0, 0), undefined, 4), new Uint8Array(4));
  // Version 3: flags 0x20 (value present) with fill time "if set" (2 << 2).
  assert.deepEqual(hdf5FillElement(Uint8Array.of(3, 0x20 | (2 << 2) | 2, 4, 0, 0, 0, ...value), undefined, 4), value);
  // Version 3 with no value flag: the default.
  assert.deepEqual(hdf5FillElement(Uint8Array.of(3, (2 << 2) | 2), undefined, 2), new Uint8Array(2));
  declined(() => hdf5FillElement(Uint8Array.of(3, 0x10 | (2 << 2) | 2), undefined, 4)); // undefined value
  declined(() => hdf5FillElement(Uint8Array.of(3, (1 << 2) | 2), undefined, 4)); // fill time "never"
  declined(() => hdf5FillElement(Uint8Array.of(2, 1, 2, 0), undefined, 4)); // not defined, "if set"
  declined(() => hdf5FillElement(Uint8Array.of(2, 1, 2, 1, 2, 0, 0, 0, 1, 2), undefined, 4)); // 2-byte value for 4-byte elements
  declined(() => hdf5FillElement(undefined, undefined, 4)); // no message at all
  assert.deepEqual(hdf5FillElement(undefined, Uint8Array.of(4, 0, 0, 0, ...value), 4), value); // the old message only
});

test('filtered chunk grids read equal to their array: h5py\'s orders, a masked filter, N-d edges, missing chunks; whole, sliced, streamed', async () => {
  const fill = new Uint8Array(new Float32Array([-7.5]).buffer);
  const cases: (GridCase & { name: string })[] = [
    { name: 'deflate, chunks spanning the row', space: [300, 16], chunkShape: [64, 16], elementBytes: 4, pipeline: [DEFLATE] },
    { name: 'shuffle + deflate + fletcher32', space: [300, 16], chunkShape: [64, 16], elementBytes: 4, pipeline: [shuffle(4), DEFLATE, FLETCHER] },
    { name: 'deflate + shuffle (libhdf5 keeps any order)', space: [101, 3], chunkShape: [10, 3], elementBytes: 8, pipeline: [DEFLATE, shuffle(8)] },
    { name: 'fletcher32 first, then deflate', space: [50], chunkShape: [7], elementBytes: 2, pipeline: [FLETCHER, DEFLATE] },
    { name: 'deflate skipped for one chunk (mask bit 1)', space: [40, 8], chunkShape: [10, 8], elementBytes: 4, pipeline: [shuffle(4), DEFLATE], masks: { '1,0': 0b10, '3,0': 0b11 } },
    { name: 'N-d grid with clipped edge chunks', space: [37, 21, 5], chunkShape: [8, 6, 4], elementBytes: 4, pipeline: [shuffle(4), DEFLATE, FLETCHER] },
    { name: 'N-d grid, chunks never written read as the fill value', space: [30, 20], chunkShape: [8, 8], elementBytes: 4, pipeline: [DEFLATE], missing: [[0, 1], [2, 0], [3, 2]], fill },
    { name: 'unfiltered grid with missing rows of chunks (zeros)', space: [30, 20], chunkShape: [8, 20], elementBytes: 4, pipeline: [], missing: [[1, 0], [3, 0]] },
    { name: 'one-byte elements (shuffle is a copy)', space: [1000], chunkShape: [300], elementBytes: 1, pipeline: [shuffle(1), DEFLATE] },
  ];
  for (const c of cases) {
    const { bands, expected, total } = buildGrid(c);
    assert.deepEqual(await readChunkedBytes(bands, 0, total), expected, `${c.name}: whole`);
    const rowBytes = total / c.space[0]!;
    const from = rowBytes * Math.floor(c.space[0]! / 3);
    const to = rowBytes * (c.space[0]! - 2);
    assert.deepEqual(await readChunkedBytes(bands, from + 3, to - 1), expected.subarray(from + 3, to - 1), `${c.name}: slice`);
    assert.deepEqual(await streamed(bands), expected, `${c.name}: stream`);
  }
});

test('many chunks decode concurrently and land in order (1 MiB float32 chunks, 24 of them): a whole read has HDF5_CHUNKS_IN_FLIGHT chunks pending at once, a stream several', async () => {
  const space = [24 * 256, 1024];
  const data = new Uint8Array(new Float32Array(space[0]! * space[1]!).map((_, i) => Math.fround(Math.sin(i) * 100)).buffer);
  let source: ReturnType<typeof countingSource> | undefined;
  const { bands, expected, total } = buildGrid({ space, chunkShape: [256, 1024], elementBytes: 4, pipeline: [shuffle(4), DEFLATE] }, data, (file) => (source = countingSource(file)));
  assert.deepEqual(await readChunkedBytes(bands, 0, total), expected);
  assert.equal(source!.maxRunning, HDF5_CHUNKS_IN_FLIGHT, 'chunks read (then inflated) at once by a whole read');
  source!.maxRunning = 0;
  assert.deepEqual(await streamed(bands, MiB), expected);
  assert.ok(source!.maxRunning >= 2, `a stream decodes bands ahead (${source!.maxRunning} reads pending at once)`);
});

test('hostile chunks: each fails with its code (bomb, short, corrupt, truncated, Fletcher-32), whole and streamed', async () => {
  const base: GridCase = { space: [40, 8], chunkShape: [10, 8], elementBytes: 4, pipeline: [DEFLATE] };
  const chunkBytes = 10 * 8 * 4;
  const good = deflateSync(new Uint8Array(chunkBytes).fill(3));
  const corrupt = new Uint8Array(good); // a copy (Buffer.slice would be a view)
  corrupt[0] = 0x00; // not a zlib header
  const withFletcher = encode(new Uint8Array(chunkBytes).fill(9), [DEFLATE, FLETCHER]);
  withFletcher[5] ^= 0x10;
  const hostile: { name: string; c: GridCase; code: TensioErrorCode }[] = [
    { name: 'inflates past the chunk (a bomb)', c: { ...base, replace: { '2,0': deflateSync(new Uint8Array(8 * MiB)) } }, code: 'LIMIT_EXCEEDED' },
    { name: 'inflates to a byte less', c: { ...base, replace: { '2,0': deflateSync(new Uint8Array(chunkBytes - 1)) } }, code: 'SIZE_MISMATCH' },
    { name: 'a corrupt deflate stream', c: { ...base, replace: { '2,0': corrupt } }, code: 'INVALID_HEADER' },
    { name: 'a truncated deflate stream', c: { ...base, replace: { '2,0': good.subarray(0, good.byteLength - 6) } }, code: 'TRUNCATED' },
    { name: 'a bad Fletcher-32', c: { ...base, pipeline: [DEFLATE, FLETCHER], replace: { '2,0': withFletcher } }, code: 'CHECKSUM_MISMATCH' },
    { name: 'no room for the Fletcher-32', c: { ...base, pipeline: [DEFLATE, FLETCHER], replace: { '2,0': Uint8Array.of(1, 2) } }, code: 'TRUNCATED' },
  ];
  for (const { name, c, code } of hostile) {
    const { bands, total } = buildGrid(c);
    await assert.rejects(readChunkedBytes(bands, 0, total), (error) => isTensioError(error, code) || assert.fail(`${name}: ${String(error)}`), `${name}: whole`);
    await assert.rejects(streamed(bands), (error) => isTensioError(error, code), `${name}: stream`);
    // The chunks before it still read.
    assert.equal((await readChunkedBytes(bands, 0, 2 * (total / 4))).byteLength, total / 2, `${name}: rows before it`);
  }
});

test('tensio\'s gzip files: the direct path decodes them (its codec, not libhdf5), equal to libhdf5\'s read and to the data; a damaged chunk is CHECKSUM_MISMATCH under Fletcher-32', async (t) => {
  const dir = await tempDir(t);
  const data = new Uint8Array(new Float32Array(1000 * 24).map((_, i) => Math.fround(Math.cos(i / 7) * 1000)).buffer);
  for (const options of [{ compression: 'gzip' as const, compressionLevel: 1 }, { compression: 'gzip' as const, compressionLevel: 9, shuffle: true, fletcher32: true }]) {
    const path = join(dir, `x-${options.compressionLevel}.h5`);
    const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'g/x', dtype: 'float32', shape: [1000, 24] }], chunkRows: 64, ...options });
    await writer.add('g/x', data);
    await writer.close();
    const [entry] = await directLocations(path);
    assert.ok(entry && !('declined' in entry.where) && entry.where.kind === 'chunks', JSON.stringify(entry?.where));
    assert.match(entry.where.kind === 'chunks' ? entry.where.chunks[0]!.codec.name : '', /deflate/);
    assert.deepEqual(await entry.read(), data);
    for (const directRead of [true, false]) {
      await using reader = await hdf5Open(path, { directRead });
      assert.deepEqual((await reader.read('g/x')).data, data, `directRead ${directRead}`);
      assert.deepEqual((await reader.read('g/x', { slice: { start: 70, end: 333 } })).data, data.subarray(70 * 96, 333 * 96), `directRead ${directRead} slice`);
    }
  }
  // Damage one stored byte of the Fletcher-32 file's third chunk (found by its deflate stream).
  const path = join(dir, 'x-9.h5');
  const bytes = new Uint8Array(readFileSync(path));
  const third = deflateSync(shuffleBytes(data.subarray(128 * 96, 192 * 96), 4), { level: 9 });
  const at = Buffer.from(bytes).indexOf(Buffer.from(third));
  assert.ok(at > 0, 'the chunk is in the file');
  bytes[at + 20] ^= 0x01;
  writeFileSync(path, bytes);
  await using reader = await hdf5Open(path);
  await assert.rejects(reader.read('g/x'), (error) => isTensioError(error, 'CHECKSUM_MISMATCH'));
  assert.deepEqual((await reader.read('g/x', { slice: { start: 0, end: 128 } })).data, data.subarray(0, 128 * 96), 'chunks before it read');
});

test('TENSIO_HDF5_LIBHDF5_ONLY=1 sends every dataset through libhdf5: an unfiltered dataset is then not a mapped view, and reads the same bytes', async (t) => {
  if (!memoryMapAvailable()) {
    t.skip(`skipped: the mmap addon is not loaded (${memoryMapStatus().reason}), so the direct path cannot be told apart by its mapped view`);
    return;
  }
  const dir = await tempDir(t);
  const path = join(dir, 'plain.h5');
  const data = new Uint8Array(new Float32Array(4096 * 16).map((_, i) => i * 0.5).buffer);
  const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape: [4096, 16] }] });
  await writer.add('x', data);
  await writer.close();
  const saved = process.env[HDF5_LIBHDF5_ONLY_ENV];
  try {
    for (const value of [undefined, '1']) {
      if (value === undefined) delete process.env[HDF5_LIBHDF5_ONLY_ENV];
      else process.env[HDF5_LIBHDF5_ONLY_ENV] = value;
      await using reader = await hdf5Open(path);
      const read = (await reader.read('x')).data;
      assert.deepEqual(read, data, `${HDF5_LIBHDF5_ONLY_ENV}=${value ?? '(unset)'}`);
      assert.equal(isMemoryMapped(read), value === undefined, `${HDF5_LIBHDF5_ONLY_ENV}=${value ?? '(unset)'}: mapped view only on the direct path`);
    }
  } finally {
    if (saved === undefined) delete process.env[HDF5_LIBHDF5_ONLY_ENV];
    else process.env[HDF5_LIBHDF5_ONLY_ENV] = saved;
  }
});
