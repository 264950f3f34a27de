/**
 * Detection sees a file's head (4 KiB), its tail (when cheap), its size and its name:
 * a format that signs its files at the end, or past offset 0, is recognised without
 * its extension. The formats here are test-only fakes passed as `{ formats }`; the
 * built-in list is never changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTensorReader } from '../src/model/create-reader.js';
import type { SniffProbe, TensorFormat } from '../src/model/types.js';
import { BUILT_IN_FORMATS, detectFormat, detectSourceFormat, openTensorFile } from '../src/operations/index.js';
import { bytesSource, type ByteSource } from '../src/storage/byte-source.js';
import { tempDir } from './helpers/temp.js';

const TAIL_MAGIC = new TextEncoder().encode('TAILFMT1');
const OFFSET_MAGIC = new TextEncoder().encode('DEEPFMT1');

function fakeFormat(name: string, sniff: (head: Uint8Array, probe?: SniffProbe) => boolean): TensorFormat {
  return {
    name,
    extensions: [`.${name}`],
    capabilities: { tensors: 'many', dtypes: [], layouts: ['dense'], needsShapesFirst: false, canAppend: false, checksums: 'none', folder: false },
    sniff,
    async open(input) {
      const size = typeof input === 'string' ? 0 : input.size;
      return createTensorReader({ format: name, size, metadata: { seen: typeof input === 'string' ? 'path' : 'source' }, tensors: [], locate: () => { throw new Error('no tensors'); } });
    },
  };
}

const endsWith = (bytes: Uint8Array | undefined, magic: Uint8Array): boolean =>
  bytes !== undefined && bytes.byteLength >= magic.byteLength && magic.every((byte, index) => bytes[bytes.byteLength - magic.byteLength + index] === byte);

/** Signs its files in the last 8 bytes (like zTensor's and Parquet's footers). */
const tailFormat = fakeFormat('tailfmt', (_head, probe) => endsWith(probe?.tail, TAIL_MAGIC));
/** Signs its files at offset 1024 (like an HDF5 superblock after a user block). */
const offsetFormat = fakeFormat('deepfmt', (head) => head.byteLength >= 1024 + 8 && OFFSET_MAGIC.every((byte, index) => head[1024 + index] === byte));
const formats = [...BUILT_IN_FORMATS, tailFormat, offsetFormat];

function fileWithTailMagic(size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0x11);
  bytes.set(TAIL_MAGIC, size - TAIL_MAGIC.byteLength);
  return bytes;
}

test('a format that signs its files at the end is detected from the tail, whatever the extension says', async (t) => {
  const dir = await tempDir(t);
  // .bin is a pytorch extension: without the tail, the extension would pick pytorch.
  for (const size of [100 * 1024, 5000, 16]) {
    const path = join(dir, `weights-${size}.bin`);
    await writeFile(path, fileWithTailMagic(size));
    assert.equal((await detectFormat(path, { formats })).name, 'tailfmt', `size ${size}`);
  }
  // The built-in list alone still falls back to the extension, so the fake changed nothing global.
  assert.equal((await detectFormat(join(dir, 'weights-5000.bin'))).name, 'pytorch');
});

test('bytes in memory and any ByteSource are probed the same way (head, tail, size, name)', async () => {
  const bytes = fileWithTailMagic(64 * 1024);
  assert.equal((await detectSourceFormat(bytesSource(bytes, 'noext'), { formats })).name, 'tailfmt');
  await using reader = await openTensorFile(bytes, { formats });
  assert.equal(reader.format, 'tailfmt');
  const seen: SniffProbe[] = [];
  const spy = fakeFormat('spy', (_head, probe) => {
    seen.push(probe!);
    return false;
  });
  await detectSourceFormat(bytesSource(bytes, 'data.tailfmt'), { formats: [spy, tailFormat] });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.size, bytes.byteLength);
  assert.equal(seen[0]!.name, 'data.tailfmt');
  assert.equal(seen[0]!.head.byteLength, 4096);
  assert.equal(seen[0]!.tail!.byteLength, 4096);
  assert.ok(endsWith(seen[0]!.tail, TAIL_MAGIC));
});

test('a format whose magic sits past offset 0 (1024) is detected from the 4 KiB head', async (t) => {
  const dir = await tempDir(t);
  const bytes = new Uint8Array(8192);
  bytes.set(OFFSET_MAGIC, 1024);
  const path = join(dir, 'data.h5x');
  await writeFile(path, bytes);
  assert.equal((await detectFormat(path, { formats })).name, 'deepfmt');
});

test('no match in head or tail and no known extension is UNKNOWN_FORMAT', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'mystery.dat');
  await writeFile(path, new Uint8Array(3000).fill(0x11));
  await assert.rejects(detectFormat(path, { formats }), (error: unknown) => (error as { code?: string }).code === 'UNKNOWN_FORMAT');
});

test('a local file whose format opensLocalFileAsSource is opened once: the format gets the open file detection sniffed, closed with the reader (or when open fails)', async (t) => {
  const dir = await tempDir(t, 'tensio-detect-');
  const path = join(dir, 'x.bin');
  await writeFile(path, new Uint8Array([...TAIL_MAGIC, 1, 2, 3]));
  const handed: ByteSource[] = [];
  let failOpen = false;
  const sniff = (head: Uint8Array) => head.byteLength >= 8 && TAIL_MAGIC.every((byte, index) => head[index] === byte);
  const once: TensorFormat = {
    ...fakeFormat('once', sniff),
    opensLocalFileAsSource: true,
    async open(input) {
      if (typeof input === 'string') throw new Error('expected the open source, got the path');
      handed.push(input);
      if (failOpen) throw new Error('bad file');
      return createTensorReader({ format: 'once', size: input.size, metadata: {}, tensors: [], locate: () => { throw new Error('no tensors'); } });
    },
  };
  const reader = await openTensorFile(path, { formats: [once] });
  assert.equal(handed.length, 1);
  assert.equal(reader.path, path);
  assert.equal((await handed[0]!.read(0, 3)).byteLength, 3, 'the handed file is open while the reader is');
  await reader.close();
  await assert.rejects(handed[0]!.read(0, 3), 'closing the reader closed the handed file');
  failOpen = true;
  await assert.rejects(openTensorFile(path, { formats: [once] }), /bad file/);
  await assert.rejects(handed[1]!.read(0, 3), 'a failed open closed the handed file');
  // A format without the flag is opened by path, as before.
  const byPath = await openTensorFile(path, { formats: [fakeFormat('path', sniff)] });
  assert.equal(byPath.metadata.seen, 'path');
  await byPath.close();
});
