/**
 * zstd frames on the paths without tensio's addon (`src/storage/zstd-frame.ts`): the one
 * header reader (every Frame_Content_Size form, dictionary ids, skippable and concatenated
 * frames, damaged headers), what a frame's headers bound, and the decoder that stops at
 * the expected length, reached through Arrow's buffers, Zarr's chunks and Parquet's pages
 * with `TENSIO_ZSTD=package`, and zt's whole-component frames — a frame without a content
 * size whose blocks claim gigabytes is refused without decoding them all, a frame asking
 * for a huge window is refused before anything is allocated, and well-formed frames
 * without a content size still decode to their bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrowDecodeBuffer } from '../src/formats/arrow/codecs.js';
import { isTensioError } from '../src/core/errors.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isZstdFrameProblem, zstdDecodeExactly, zstdFrameBlocks, zstdFrameFits, zstdFrameHeader, zstdFrameLayout, type ZstdFrameHeader } from '../src/storage/zstd-frame.js';
import { zarrOpen } from '../src/formats/zarr/index.js';
import { parquetDecompressors, parquetPageDecompressor } from '../src/formats/parquet/codecs.js';
import { ztZstdDecodeWhole } from '../src/formats/zt/zstd-seekable.js';
import { withEnv } from './helpers/env.js';
import { tempDir } from './helpers/temp.js';

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const RAW = 0;
const RLE = 1;

/** A block header: last flag, type, size (RFC 8878 §3.1.1.2). */
function block(type: number, size: number, last: boolean, body: number[]): number[] {
  const header = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, ...body];
}

/** A frame without a content size: descriptor 0 (no checksum, no dictionary), then a window descriptor byte. */
function unsizedFrame(windowDescriptor: number, blocks: number[][]): Uint8Array {
  return Uint8Array.from([...MAGIC, 0x00, windowDescriptor, ...blocks.flat()]);
}

/** Arrow's compressed buffer: the int64 uncompressed length, then the frame. */
function arrowBuffer(length: number, frame: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(8 + frame.byteLength);
  new DataView(bytes.buffer).setBigInt64(0, BigInt(length), true);
  bytes.set(frame, 8);
  return bytes;
}

const WINDOW_128K = 7 << 3; // 2^(10 + 7)

test('zstd frame layout: the window and output bound from the headers, undefined for anything but one whole frame', () => {
  const two = unsizedFrame(WINDOW_128K, [block(RLE, 1000, false, [7]), block(RAW, 3, true, [1, 2, 3])]);
  assert.deepEqual(zstdFrameLayout(two), { windowBytes: 131072, outputBound: 1003 });
  // Single segment, 2-byte content size (value + 256): the window is the content size.
  const sized = Uint8Array.from([...MAGIC, 0x60, 0xe8, 0x02, ...block(RLE, 1000, true, [1])]);
  assert.deepEqual(zstdFrameLayout(sized), { windowBytes: 1000, outputBound: 1000, contentSize: 1000 });
  assert.equal(zstdFrameFits(two, 1003), true);
  assert.equal(zstdFrameLayout(Uint8Array.from([...two, 0])), undefined, 'a byte after the frame');
  assert.equal(zstdFrameLayout(two.subarray(0, two.byteLength - 1)), undefined, 'a cut block');
  assert.equal(zstdFrameLayout(Uint8Array.from([...MAGIC, 0x00, WINDOW_128K, ...block(3, 1, true, [0])])), undefined, 'reserved block type');
  // A window descriptor of exponent 31, mantissa 7: 2^41 + 7/8 of it.
  assert.equal(zstdFrameLayout(unsizedFrame(0xff, [block(RAW, 1, true, [9])]))!.windowBytes, 2 ** 41 + 7 * 2 ** 38);
});

test('zstd decoded exactly: a frame without a content size decodes to its bytes; more or fewer than expected is refused', () => {
  const frame = unsizedFrame(WINDOW_128K, [block(RLE, 5000, false, [42]), block(RAW, 4, true, [1, 2, 3, 4])]);
  const out = zstdDecodeExactly(frame, 5004, 'test');
  assert.equal(out.byteLength, 5004);
  assert.ok(out.subarray(0, 5000).every((byte) => byte === 42));
  assert.deepEqual([...out.subarray(5000)], [1, 2, 3, 4]);
  assert.throws(() => zstdDecodeExactly(frame, 5003, 'test'), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED');
  assert.throws(() => zstdDecodeExactly(frame, 6000, 'test'), (error: unknown) => isTensioError(error) && error.code === 'SIZE_MISMATCH' && /5004 bytes, 6000 expected/.test(error.message));
});

test('arrow without the addon: an unsized zstd bomb (RLE blocks claiming 1 GiB for a 4 KiB buffer) and a 2 TiB window are refused; a bounded unsized frame decodes', async () => {
  await withEnv('TENSIO_ZSTD', 'package', async () => {
    // 8192 RLE blocks of 128 KiB: 1 GiB from 32 KiB of input, the prefix says 4096 bytes.
    const bombBlocks = Array.from({ length: 8192 }, (_, index) => block(RLE, 131072, index === 8191, [0x55]));
    const bomb = unsizedFrame(WINDOW_128K, bombBlocks);
    const before = process.memoryUsage().rss;
    await assert.rejects(arrowDecodeBuffer(arrowBuffer(4096, bomb), 1, 8192, 'values'), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /more than its 4096 bytes/.test(error.message));
    assert.ok(process.memoryUsage().rss - before < 256 * 2 ** 20, 'the bomb was not decoded whole');
    // A 2 TiB window: refused before anything is allocated, by the package (its own window limit) or here.
    const hugeWindow = unsizedFrame(0xff, [block(RAW, 4, true, [1, 2, 3, 4])]);
    await assert.rejects(arrowDecodeBuffer(arrowBuffer(4, hugeWindow), 1, 8192, 'values'), (error: unknown) => isTensioError(error) && /memory|window/.test(error.message));
    assert.throws(() => zstdDecodeExactly(hugeWindow, 4, 'test'), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /2 ?\d+-byte window/.test(error.message));
    // A well-formed unsized frame the headers bound still goes through the package and decodes.
    const fine = unsizedFrame(WINDOW_128K, [block(RLE, 3000, true, [9])]);
    const out = await arrowDecodeBuffer(arrowBuffer(3000, fine), 1, 8192, 'values');
    assert.equal(out.byteLength, 3000);
    assert.ok(out.every((byte) => byte === 9));
  });
});

/** 8192 RLE blocks of 128 KiB without a content size: 1 GiB from 32 KiB of input. */
function gigabyteBomb(): Uint8Array {
  return unsizedFrame(WINDOW_128K, Array.from({ length: 8192 }, (_, index) => block(RLE, 131072, index === 8191, [0x55])));
}

test('zstd frame header: every Frame_Content_Size form, dictionary ids, and the faults each caller turns into its own error', () => {
  const header = (bytes: number[]): ZstdFrameHeader => {
    const result = zstdFrameHeader(Uint8Array.from([...MAGIC, ...bytes, ...block(RAW, 0, true, [])]));
    assert.ok(!isZstdFrameProblem(result), JSON.stringify(result));
    return result;
  };
  // Single segment, flag 0: a 1-byte size, which is also the window.
  assert.deepEqual(header([0x20, 200]), { start: 0, blocksStart: 6, windowBytes: 200, contentSize: 200, dictionaryId: 0, checksum: false });
  // Flag 1: 2 bytes plus 256 (0xffff + 256 = 65791), after a window descriptor and a 1-byte dictionary id.
  assert.deepEqual(header([0x41, WINDOW_128K, 9, 0xff, 0xff]), { start: 0, blocksStart: 9, windowBytes: 131072, contentSize: 65791, dictionaryId: 9, checksum: false });
  // Flag 2: 4 bytes, a 2-byte dictionary id, the checksum flag.
  assert.deepEqual(header([0x86, WINDOW_128K, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12]), { start: 0, blocksStart: 12, windowBytes: 131072, contentSize: 0x12345678, dictionaryId: 0x1234, checksum: true });
  // Flag 3: 8 bytes (2^40 here), a 4-byte dictionary id.
  assert.deepEqual(header([0xc3, WINDOW_128K, 1, 0, 0, 0x80, 0, 0, 0, 0, 0, 1, 0, 0]), { start: 0, blocksStart: 18, windowBytes: 131072, contentSize: 2 ** 40, dictionaryId: 0x80000001, checksum: false });
  // No content size: the window descriptor alone (exponent 3, mantissa 1: 8 KiB + 1 KiB).
  assert.equal(header([0x00, (3 << 3) | 1]).contentSize, undefined);
  assert.equal(header([0x00, (3 << 3) | 1]).windowBytes, 9216);
  const fault = (bytes: number[]) => {
    const result = zstdFrameHeader(Uint8Array.from(bytes));
    return isZstdFrameProblem(result) ? result.problem : 'none';
  };
  assert.equal(fault([1, 2, 3, 4, 5, 6]), 'magic');
  assert.equal(fault([...MAGIC]), 'magic');
  assert.equal(fault([...MAGIC, 0x08, WINDOW_128K, ...block(RAW, 0, true, [])]), 'reserved-bit');
  assert.equal(fault([...MAGIC, 0x80, WINDOW_128K, 1, 2]), 'header-cut');
  // The checksum must be there when the descriptor says so; nothing may follow it.
  const checked = Uint8Array.from([...MAGIC, 0x04, WINDOW_128K, ...block(RAW, 2, true, [1, 2]), 0xaa, 0xbb, 0xcc, 0xdd]);
  const head = zstdFrameHeader(checked) as ZstdFrameHeader;
  assert.deepEqual(zstdFrameBlocks(checked, head), { outputBound: 2, end: checked.byteLength, storedChecksum: 0xddccbbaa });
  const cut = zstdFrameBlocks(checked.subarray(0, checked.byteLength - 1), head);
  assert.ok(isZstdFrameProblem(cut) && cut.problem === 'block-cut');
});

test('zstd frame layout: skippable frames are stepped over and concatenated frames add up; content size only when every frame declares one', () => {
  const sized = [...MAGIC, 0x20, 10, ...block(RLE, 10, true, [1])];
  const unsized = [...MAGIC, 0x00, WINDOW_128K, ...block(RAW, 3, true, [1, 2, 3])];
  const skippable = [0x5a, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 9, 9, 9, 9];
  assert.deepEqual(zstdFrameLayout(Uint8Array.from([...skippable, ...sized, ...sized])), { windowBytes: 10, outputBound: 20, contentSize: 20 });
  assert.deepEqual(zstdFrameLayout(Uint8Array.from([...sized, ...skippable, ...unsized])), { windowBytes: 131072, outputBound: 13 });
  assert.deepEqual(zstdFrameLayout(Uint8Array.from(skippable)), { windowBytes: 0, outputBound: 0, contentSize: 0 });
  assert.equal(zstdFrameLayout(Uint8Array.from(skippable.slice(0, 10))), undefined, 'a skippable frame cut short');
  // Both frames decode, one after the other, to exactly their 13 bytes.
  assert.deepEqual([...zstdDecodeExactly(Uint8Array.from([...sized, ...skippable, ...unsized]), 13, 'test')], [...new Array<number>(10).fill(1), 1, 2, 3]);
});

test('zarr without the addon: an unsized zstd chunk whose RLE blocks claim 1 GiB stops at the chunk with LIMIT_EXCEEDED; a bounded one decodes', async (t) => {
  const dir = await tempDir(t);
  const write = async (name: string, chunk: Uint8Array) => {
    const store = join(dir, name);
    await mkdir(store, { recursive: true });
    await writeFile(join(store, '.zarray'), JSON.stringify({ zarr_format: 2, shape: [4096], chunks: [4096], dtype: '|u1', compressor: { id: 'zstd', level: 3 }, filters: null, fill_value: 0, order: 'C' }));
    await writeFile(join(store, '0'), chunk);
    return store;
  };
  const bombStore = await write('bomb.zarr', gigabyteBomb());
  const fineStore = await write('fine.zarr', unsizedFrame(WINDOW_128K, [block(RLE, 4000, false, [3]), block(RAW, 96, true, new Array<number>(96).fill(4))]));
  await withEnv('TENSIO_ZSTD', 'package', async () => {
    const before = process.memoryUsage().rss;
    await using bomb = await zarrOpen(bombStore);
    await assert.rejects(bomb.read(bomb.tensors[0]!.name), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /more than its 4096 bytes/.test(error.message));
    assert.ok(process.memoryUsage().rss - before < 256 * 2 ** 20, 'the bomb was not decoded whole');
    await using fine = await zarrOpen(fineStore);
    const tensor = await fine.read(fine.tensors[0]!.name);
    assert.equal(tensor.data.byteLength, 4096);
    assert.ok(tensor.data.subarray(0, 4000).every((byte) => byte === 3) && tensor.data.subarray(4000).every((byte) => byte === 4));
  });
});

test('parquet without the addon: zstd pages that decode to more or fewer bytes than their header says are refused on both paths, not clamped or zero-filled', async () => {
  const short = unsizedFrame(WINDOW_128K, [block(RLE, 1000, true, [7])]);
  const sync = parquetDecompressors(2 ** 20).ZSTD!;
  assert.throws(() => sync(gigabyteBomb(), 4096), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /more than its 4096 bytes/.test(error.message));
  assert.throws(() => sync(short, 4096), (error: unknown) => isTensioError(error) && error.code === 'SIZE_MISMATCH' && /1000 bytes, 4096 expected/.test(error.message));
  await withEnv('TENSIO_ZSTD', 'package', async () => {
    const page = (await parquetPageDecompressor('ZSTD', 2 ** 20))!;
    await assert.rejects(async () => page(gigabyteBomb(), 4096), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED');
    await assert.rejects(async () => page(short, 4096), (error: unknown) => isTensioError(error) && error.code === 'SIZE_MISMATCH');
    assert.ok((await page(short, 1000)).every((byte) => byte === 7));
  });
});

test('zt whole-component zstd (always the package): a frame whose blocks could decode past its length is refused before it is decoded', async () => {
  await assert.rejects(ztZstdDecodeWhole(gigabyteBomb(), 4096, 'w'), (error: unknown) => isTensioError(error) && error.code === 'INVALID_HEADER' && /blocks can decode past the 4096 bytes/.test(error.message));
  const out = await ztZstdDecodeWhole(unsizedFrame(WINDOW_128K, [block(RLE, 3000, true, [5])]), 3000, 'w');
  assert.ok(out.byteLength === 3000 && out.every((byte) => byte === 5));
});

test('zstd frames declaring more than the expected size, or a window past 128 MiB, are not handed to the package (fzstd, its browser stand-in, allocates what a header asks for)', async () => {
  // 4-byte content size 2^31 - 1, a 128 KiB window, one RLE block of 10 bytes.
  const declaresTwoGiB = Uint8Array.from([...MAGIC, 0x80, WINDOW_128K, 0xff, 0xff, 0xff, 0x7f, ...block(RLE, 10, true, [1])]);
  // Window exponent 17, mantissa 7: 2^27 + 7/8 of it (240 MiB), one RLE block of 10 bytes.
  const hugeWindow = unsizedFrame((17 << 3) | 7, [block(RLE, 10, true, [1])]);
  assert.equal(zstdFrameFits(declaresTwoGiB, 4096), false);
  assert.equal(zstdFrameFits(hugeWindow, 10), false);
  assert.equal(zstdFrameFits(unsizedFrame(WINDOW_128K, [block(RLE, 10, true, [1])]), 10), true);
  assert.throws(() => zstdDecodeExactly(declaresTwoGiB, 10, 'test'), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /declares 2147483647 bytes, 10 expected/.test(error.message));
  assert.throws(() => zstdDecodeExactly(hugeWindow, 10, 'test'), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED' && /251658240-byte window/.test(error.message));
  await withEnv('TENSIO_ZSTD', 'package', async () => {
    const page = (await parquetPageDecompressor('ZSTD', 2 ** 20))!;
    await assert.rejects(async () => page(declaresTwoGiB, 10), (error: unknown) => isTensioError(error) && error.code === 'LIMIT_EXCEEDED');
  });
  await assert.rejects(ztZstdDecodeWhole(hugeWindow, 10, 'w'), (error: unknown) => isTensioError(error) && error.code === 'INVALID_HEADER' && /251658240-byte window/.test(error.message));
});
