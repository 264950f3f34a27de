/**
 * zstd through tensio's addon (`native/src/tensio_zstd.c`: the system's libzstd, decoding
 * into a buffer the caller gives, on a libuv worker). The decoder: frames of every kind
 * of block decode equal to @mongodb-js/zstd's output and never write outside the
 * output; damaged frames (bad magic, reserved bits, a reserved block type, truncation,
 * a wrong content checksum) and frames that would decode to more than the output holds
 * are refused with ECORRUPT and libzstd's reason, nothing allocated for their claimed
 * size. Through Parquet and Arrow: a damaged page or buffer is a TensioError, files read
 * to the same bytes through the addon, with `TENSIO_ZSTD=package` and in a process
 * without the addon (`TENSIO_NO_MMAP=1`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xxh64 } from '@node-rs/xxhash';
import { addonZstdDecoder, nativeZstdVersion, zstdDecoderStatus } from '../src/storage/native-zstd.js';
import { zstdCompressAtLevel } from '../src/storage/zstd-native.js';
import { parquetPageDecompressor } from '../src/formats/parquet/codecs.js';
import { parquetCreateWriter, parquetOpen } from '../src/formats/parquet/index.js';
import { arrowCreateWriter, arrowOpen } from '../src/formats/arrow/index.js';
import { arrowDecodeBuffer } from '../src/formats/arrow/codecs.js';
import { isTensioError } from '../src/core/errors.js';
import { tempDir } from './helpers/temp.js';
import { withEnv } from './helpers/env.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const decode = addonZstdDecoder();
const skip = decode ? false : 'skipped: the native addon is not loaded, predates zstdDecompressInto, or found no libzstd (run `npm run build:native`)';

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** A block header: 3 bytes, little-endian (size << 3 | type << 1 | last). */
const blockHeader = (size: number, type: number, last: boolean): number[] => {
  const value = size * 8 + type * 2 + (last ? 1 : 0);
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
};
/** A single-segment frame with a 4-byte content size: FHD 0xa0 (0xa4 with a checksum). */
function frame(contentSize: number, blocks: number[][], checksum?: number[]): Uint8Array {
  const size = [contentSize & 0xff, (contentSize >> 8) & 0xff, (contentSize >> 16) & 0xff, (contentSize >>> 24) & 0xff];
  return Uint8Array.from([...MAGIC, checksum ? 0xa4 : 0xa0, ...size, ...blocks.flat(), ...(checksum ?? [])]);
}
/** The low 4 bytes of XXH64 (seed 0), little-endian: zstd's content checksum. */
function contentChecksum(content: Uint8Array): number[] {
  const low = Number(xxh64(content, 0n) & 0xffffffffn);
  return [low & 0xff, (low >> 8) & 0xff, (low >> 16) & 0xff, (low >>> 24) & 0xff];
}

/** Decodes into an output of `size` bytes with guard bytes around it: a write past either end would show. */
async function decoded(input: Uint8Array, size: number): Promise<{ written: number; out: Uint8Array }> {
  const backing = new Uint8Array(size + 64).fill(0xee);
  const out = backing.subarray(32, 32 + size);
  try {
    return { written: await decode!(input, out), out };
  } finally {
    assert.ok(backing.subarray(0, 32).every((byte) => byte === 0xee) && backing.subarray(32 + size).every((byte) => byte === 0xee), 'nothing written outside the output');
  }
}

async function refusedWith(input: Uint8Array, size: number, reason: RegExp): Promise<void> {
  await assert.rejects(decoded(input, size), (error: unknown) => (error as { code?: string }).code === 'ECORRUPT' && reason.test((error as Error).message));
}

test('addon zstd: the version of the libzstd in use is reported, and TENSIO_ZSTD=package turns the addon off', { skip }, async () => {
  assert.match(nativeZstdVersion()!, /^1\.\d+\.\d+$/);
  assert.equal(await withEnv('TENSIO_ZSTD', 'package', async () => addonZstdDecoder()), undefined);
  assert.equal(await withEnv('TENSIO_ZSTD', 'package', async () => nativeZstdVersion()), undefined);
  // What `tensio selftest` prints.
  assert.deepEqual(zstdDecoderStatus(), { native: true, description: `libzstd ${nativeZstdVersion()} through tensio's addon` });
  assert.deepEqual(await withEnv('TENSIO_ZSTD', 'package', async () => zstdDecoderStatus()), { native: false, description: '@mongodb-js/zstd (TENSIO_ZSTD=package)' });
});

test('addon zstd: frames of @mongodb-js/zstd (levels -1..19) and hand-made raw and RLE blocks decode to their bytes', { skip }, async () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  for (const size of [1, 100, 4096, 131_071, 131_072, 131_073, 400_000, 1 << 20]) {
    for (const kind of ['random', 'runs', 'floats']) {
      const raw = Uint8Array.from({ length: size }, (_, i) => (kind === 'random' ? random() : kind === 'runs' ? ((i / 37) | 0) & 3 : (Math.round(Math.sin(i) * 64) & 0xff)));
      for (const level of [-1, 1, 3, 19]) {
        if (level === 19 && size > 4096) continue;
        const { written, out } = await decoded(await zstdCompressAtLevel(raw, level), size);
        assert.equal(written, size);
        assert.ok(Buffer.from(out).equals(Buffer.from(raw)), `${size} ${kind} bytes at level ${level}`);
      }
    }
  }
  // A raw block and an RLE block by hand, with a correct content checksum.
  const content = Uint8Array.from([1, 2, 3, 4, 5, ...new Array<number>(1000).fill(9)]);
  const handMade = frame(1005, [[...blockHeader(5, 0, false), 1, 2, 3, 4, 5], [...blockHeader(1000, 1, true), 9]], contentChecksum(content));
  const { written, out } = await decoded(handMade, 1005);
  assert.equal(written, 1005);
  assert.deepEqual(out, content);
  // An empty frame writes nothing.
  assert.equal((await decoded(frame(0, [blockHeader(0, 0, true)]), 16)).written, 0);
});

test('addon zstd: damaged frames are refused with ECORRUPT and libzstd\'s reason, never a write outside the output', { skip }, async () => {
  const good = await zstdCompressAtLevel(Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) ^ (i >> 9)), 3);
  const content = new Uint8Array(1000).fill(9);
  const rle = frame(1000, [[...blockHeader(1000, 1, true), 9]], contentChecksum(content));
  assert.equal((await decoded(rle, 1000)).written, 1000);
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', Uint8Array.from([0x29, ...good.subarray(1)]), /Unknown frame descriptor/i],
    ['reserved bit in the frame header', Uint8Array.from([...MAGIC, 0xa8, ...rle.subarray(5)]), /Unsupported frame parameter|corrupt/i],
    ['reserved block type', frame(10, [[...blockHeader(10, 3, true), ...new Array<number>(10).fill(0)]]), /corrupt/i],
    ['truncated in a block', good.subarray(0, good.byteLength >> 1), /Src size is incorrect|corrupt|truncated/i],
    ['only the magic', Uint8Array.from(MAGIC), /Src size is incorrect|corrupt|truncated/i],
    ['wrong content checksum', Uint8Array.from([...rle.subarray(0, rle.byteLength - 1), rle[rle.byteLength - 1]! ^ 1]), /checksum/i],
  ];
  // No frame at all is zero bytes written, not an error (the caller's length check refuses it).
  assert.equal((await decoded(new Uint8Array(0), 16)).written, 0);
  for (const [what, input, reason] of cases) await refusedWith(input, what === 'wrong content checksum' ? 1000 : 200_000, reason).then(() => undefined, (error: unknown) => { throw new Error(`${what}: ${(error as Error).message}`); });
});

test('addon zstd: a frame that would decode to more than the output is refused before writing past it, whatever it claims', { skip }, async () => {
  // Claims 1 GiB in its header (holding 1000 bytes): refused, nothing allocated for the claim.
  const before = process.memoryUsage().rss;
  await refusedWith(frame(2 ** 30, [[...blockHeader(1000, 1, true), 9]]), 4096, /too small|corrupt/i);
  // Claims and holds 100 000 bytes (an RLE block) for an output of 4096.
  await refusedWith(frame(100_000, [[...blockHeader(100_000, 1, true), 9]]), 4096, /too small|corrupt/i);
  // Claims 4096 but its blocks hold 100 000 bytes (an RLE block): refused while decoding.
  await refusedWith(frame(4096, [[...blockHeader(100_000, 1, true), 9]]), 4096, /corrupt|too small/i);
  // No content size in the header (window descriptor instead): the blocks overflow the output.
  const unsized = Uint8Array.from([...MAGIC, 0x00, 0x58, ...blockHeader(100_000, 1, true), 9]);
  await refusedWith(unsized, 4096, /Destination buffer is too small|corrupt/i);
  assert.ok(process.memoryUsage().rss - before < 64 * 2 ** 20, 'nothing of the claimed size was allocated');
  // A frame of 1000 bytes into 4096: libzstd writes 1000 and says so; the caller decides.
  assert.equal((await decoded(frame(1000, [[...blockHeader(1000, 1, true), 9]]), 4096)).written, 1000);
});

test('addon zstd: through Parquet, a damaged page, a short page and an oversized page are TensioErrors; good pages land in the buffer `allocate` gave', { skip }, async () => {
  const page = Uint8Array.from({ length: 100_000 }, (_, i) => (i % 251) ^ (i >> 8));
  const compressed = await zstdCompressAtLevel(page, 1);
  const given: Uint8Array[] = [];
  const decompress = (await parquetPageDecompressor('ZSTD', 2 ** 20, (size) => { const out = new Uint8Array(size); given.push(out); return out; }))!;
  const out = await decompress(compressed, page.byteLength);
  assert.deepEqual(out, page);
  assert.equal(out.buffer, given[0]!.buffer, 'decoded into the buffer allocate gave');
  const corrupt = Uint8Array.from(compressed);
  corrupt[0] ^= 0xff;
  await assert.rejects(async () => decompress(corrupt, page.byteLength), (error: unknown) => isTensioError(error, 'INVALID_HEADER') && /zstd page/.test((error as Error).message));
  // The header says more than the frame holds, or less.
  await assert.rejects(async () => decompress(compressed, page.byteLength + 10), (error: unknown) => isTensioError(error, 'SIZE_MISMATCH'));
  await assert.rejects(async () => decompress(compressed, page.byteLength - 10), (error: unknown) => isTensioError(error, 'INVALID_HEADER'));
  // Over the column's page bound: refused before any allocation.
  await assert.rejects(async () => decompress(compressed, 2 ** 21), (error: unknown) => isTensioError(error, 'LIMIT_EXCEEDED'));
});

test('addon zstd: through Arrow, a buffer decodes into one of its declared length; a damaged one is a TensioError', { skip }, async () => {
  const values = Uint8Array.from({ length: 80_000 }, (_, i) => (i * 13) & 0xff);
  const body = await zstdCompressAtLevel(values, 1);
  const raw = new Uint8Array(8 + body.byteLength);
  new DataView(raw.buffer).setBigInt64(0, BigInt(values.byteLength), true);
  raw.set(body, 8);
  assert.deepEqual(await arrowDecodeBuffer(raw, 1, 100_000, 'values'), values);
  const damaged = Uint8Array.from(raw);
  damaged[8] ^= 0xff;
  await assert.rejects(arrowDecodeBuffer(damaged, 1, 100_000, 'values'), (error: unknown) => isTensioError(error, 'INVALID_HEADER'));
});

test('zstd Parquet and Arrow files read to the same bytes through the addon, with TENSIO_ZSTD=package and without the addon (TENSIO_NO_MMAP=1)', async (t) => {
  const dir = await tempDir(t, 'tensio-zstd-');
  const rows = 60_000;
  const values = Float32Array.from({ length: rows * 5 }, (_, i) => Math.round(Math.sin(i) * 1000) / 8);
  const bytes = new Uint8Array(values.buffer);
  const expected = createHash('sha256').update(bytes).digest('hex');
  const parquet = join(dir, 't.parquet');
  const arrow = join(dir, 't.arrow');
  {
    const writer = await parquetCreateWriter(parquet, { tensors: [{ name: 'table', dtype: 'float32', shape: [rows, 5] }], formatOptions: { compression: 'zstd', rowGroupSize: 25_000, pageSize: 40_000 } });
    await writer.add('table', bytes);
    await writer.close();
  }
  {
    const writer = await arrowCreateWriter(arrow, { tensors: [{ name: 'table', dtype: 'float32', shape: [rows, 5] }], formatOptions: { compression: 'zstd', batchRows: 25_000 } });
    await writer.add('table', bytes);
    await writer.close();
  }
  const readAll = async (columns: 'stack' | 'separate') => {
    const out: string[] = [];
    for (const open of [() => parquetOpen(parquet, { formatOptions: { columns } }), () => arrowOpen(arrow, { formatOptions: { columns } })]) {
      await using reader = await open();
      const parts = await Promise.all(reader.tensors.map(async (tensor) => Buffer.from((await reader.read(tensor.name)).data)));
      out.push(createHash('sha256').update(columns === 'stack' ? parts[0]! : Buffer.concat(parts)).digest('hex'));
    }
    return out;
  };
  const columnMajor = new Float32Array(rows * 5);
  for (let r = 0; r < rows; r++) for (let c = 0; c < 5; c++) columnMajor[c * rows + r] = values[r * 5 + c]!;
  const expectedSeparate = createHash('sha256').update(new Uint8Array(columnMajor.buffer)).digest('hex');
  for (const env of [undefined, 'package']) {
    assert.deepEqual(await withEnv('TENSIO_ZSTD', env, () => readAll('stack')), [expected, expected], `stacked, TENSIO_ZSTD=${env ?? ''}`);
    assert.deepEqual(await withEnv('TENSIO_ZSTD', env, () => readAll('separate')), [expectedSeparate, expectedSeparate], `separate, TENSIO_ZSTD=${env ?? ''}`);
  }
  const child = runJsonChild(join(ROOT, 'test', 'helpers', 'zstd-read-child.ts'), [parquet, arrow], { env: { TENSIO_NO_MMAP: '1' } }) as { hashes: Record<string, string>; zstd: string; status: { native: boolean; description: string } };
  assert.equal(child.zstd, 'package', 'without the addon, zstd goes through @mongodb-js/zstd');
  assert.deepEqual(child.status, { native: false, description: '@mongodb-js/zstd (the native addon is not loaded)' });
  assert.deepEqual(Object.values(child.hashes), [expected, expected]);
});
