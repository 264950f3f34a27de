/**
 * The codecs the browser bundle brings instead of Node's native ones (issue 14): LZ4
 * frames (Arrow), brotli (Parquet), zstd compression (zstd-wasm), a streaming SHA-256
 * and XXH32/XXH64. First each against the library Node uses, byte for byte (no browser
 * needed); then in headless Chromium: files that need each codec, written by tensio's
 * Node writers on the native libraries, are read from a `File`, and files the page
 * compresses are read back in Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { brotliCompressSync } from 'node:zlib';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import lz4 from 'lz4-napi';
import { xxh32 as nativeXxh32, xxh64 as nativeXxh64 } from '@node-rs/xxhash';
import { convert, createTensor, openTensorFile, toFloat32Array, verifyTensorFile } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { isTensioError, TensioError } from '../src/core/errors.js';
import { Sha256 } from '../src/browser/node/sha256.js';
import { xxh32, xxh64 } from '../src/browser/native/xxhash-classic.js';
import { compressFrameSync, decompressFrameSync } from '../src/browser/native/lz4.js';
import { brotliDecompressSync } from '../src/browser/node/zlib.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { parquetReadMetadata } from '../src/formats/parquet/reader.js';
import { prepareBrowserFiles, chromiumSkip, FIXTURE_VALUES, openBundlePage } from './helpers/browser.js';

/** Deterministic test bytes: a mix of runs (compressible) and noise. */
function sampleBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = (i >> 9) % 3 === 0 ? (i >> 4) & 0xff : state >>> 24;
  }
  return out;
}

const LENGTHS = [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 55, 56, 63, 64, 65, 127, 1000, 70_000];

test('the TypeScript SHA-256 equals node:crypto, fed whole and in uneven chunks', () => {
  for (const length of [...LENGTHS, 1 << 20]) {
    const bytes = sampleBytes(length);
    const whole = new Sha256().update(bytes).digest('hex');
    assert.equal(whole, createHash('sha256').update(bytes).digest('hex'), `length ${length}`);
    const chunked = new Sha256();
    for (let at = 0, step = 1; at < length; at += step, step = (step * 7 + 3) % 97 + 1) chunked.update(bytes.subarray(at, at + step));
    assert.equal(chunked.digest('hex'), whole, `length ${length} in chunks`);
  }
  assert.equal(new Sha256().update('zTensor').digest('hex'), createHash('sha256').update('zTensor').digest('hex'), 'text is UTF-8');
});

test('XXH32 and XXH64 in TypeScript equal @node-rs/xxhash for every length class and seeds', () => {
  for (const length of LENGTHS) {
    // An unaligned view: the hashes read through a DataView at any offset.
    const bytes = sampleBytes(length + 3, length).subarray(3);
    for (const seed of [0, 1, 0x9e3779b1]) {
      assert.equal(xxh32(bytes, seed), nativeXxh32(bytes, seed), `xxh32 length ${length} seed ${seed}`);
      assert.equal(xxh64(bytes, BigInt(seed)), nativeXxh64(bytes, BigInt(seed)), `xxh64 length ${length} seed ${seed}`);
    }
  }
});

test('the LZ4 frame decoder reads lz4-napi frames (linked and not, concatenated) and refuses broken ones with TensioError', () => {
  for (const length of [0, 10, 300_000, 5_000_000]) {
    const bytes = sampleBytes(length);
    const frame = new Uint8Array(lz4.compressFrameSync(Buffer.from(bytes)));
    assert.deepEqual(decompressFrameSync(frame), bytes, `length ${length}`);
  }
  const bytes = sampleBytes(200_000);
  const frame = new Uint8Array(lz4.compressFrameSync(Buffer.from(bytes)));
  const twice = new Uint8Array(frame.byteLength * 2);
  twice.set(frame);
  twice.set(frame, frame.byteLength);
  const both = decompressFrameSync(twice);
  assert.equal(both.byteLength, 400_000);
  assert.deepEqual(both.subarray(200_000), bytes);
  // Every truncation, and damage to the magic, version, header checksum and a block size.
  for (let cut = 0; cut < frame.byteLength; cut += Math.max(1, frame.byteLength >> 6)) {
    assert.throws(() => decompressFrameSync(frame.subarray(0, cut)), (error) => isTensioError(error), `cut at ${cut}`);
  }
  for (const [at, xor] of [[0, 1], [4, 0x80], [6, 1], [7, 0x7f], [10, 0x40]] as const) {
    const broken = frame.slice();
    broken[at]! ^= xor;
    assert.throws(() => decompressFrameSync(broken), (error) => isTensioError(error), `byte ${at} ^ ${xor}`);
  }
  // A hand-made frame with block and content checksums (the decoder checks both).
  const literal = new TextEncoder().encode('tensio checks block and content checksums');
  const block = new Uint8Array([literal.byteLength >= 15 ? 0xf0 : literal.byteLength << 4, ...(literal.byteLength >= 15 ? [literal.byteLength - 15] : []), ...literal]);
  const descriptor = new Uint8Array([0x40 | 0x20 | 0x10 | 0x04, 0x40]);
  const parts = [
    [0x04, 0x22, 0x4d, 0x18], [...descriptor], [(nativeXxh32(descriptor, 0) >>> 8) & 0xff],
    u32(block.byteLength), [...block], u32(nativeXxh32(block, 0)), u32(0), u32(nativeXxh32(literal, 0)),
  ].flat();
  const checked = new Uint8Array(parts);
  assert.deepEqual(decompressFrameSync(checked), literal);
  const wrongContent = checked.slice();
  wrongContent[wrongContent.byteLength - 1]! ^= 1;
  assert.throws(() => decompressFrameSync(wrongContent), /content checksum/);
});

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

test('the TypeScript LZ4 frame compressor writes frames lz4-napi (liblz4) decodes equal: random, compressible and mixed inputs of every length class', () => {
  let seed = 11;
  const random = (length: number): Uint8Array => sampleBytes(length, seed++).map((b, i) => (b * 31 + i * 17 + seed) & 0xff);
  const inputs: [string, Uint8Array][] = [];
  for (const length of [...LENGTHS, 1 << 20]) {
    inputs.push([`mixed ${length}`, sampleBytes(length, length + 5)]);
    inputs.push([`random ${length}`, random(length)]);
    inputs.push([`zeros ${length}`, new Uint8Array(length)]);
    inputs.push([`cycle ${length}`, new Uint8Array(length).map((_, i) => (i % 7) * 3)]);
  }
  // More than one 4 MiB block, with matches near every block edge.
  inputs.push(['two blocks', new Uint8Array(4 * 1024 * 1024 + 70_001).map((_, i) => (i % 1021) & 0xff)]);
  for (const [label, bytes] of inputs) {
    const frame = compressFrameSync(bytes);
    assert.deepEqual(new Uint8Array(lz4.decompressFrameSync(Buffer.from(frame))), bytes, `${label}: lz4-napi`);
    assert.deepEqual(decompressFrameSync(frame), bytes, `${label}: tensio's decoder`);
    if (label.startsWith('zeros') && bytes.byteLength >= 1000) assert.ok(frame.byteLength < bytes.byteLength / 20, `${label}: ${frame.byteLength} bytes is not compressed`);
    if (label.startsWith('random') && bytes.byteLength >= 1000) assert.ok(frame.byteLength <= bytes.byteLength + 32, `${label}: stored raw, ${frame.byteLength} bytes`);
  }
});

test('the brotli stand-in is bounded: a stream decoding past the expected size is refused, a short or cut stream never comes back zero-padded', () => {
  const bytes = sampleBytes(50_000, 7);
  const compressed = new Uint8Array(brotliCompressSync(bytes));
  // More than expected: refused with the numbers, before the decoder's buffer grows to hold it.
  assert.throws(() => brotliDecompressSync(compressed, { maxOutputLength: 1000 }), (error) =>
    isTensioError(error, 'LIMIT_EXCEEDED') && /1000 bytes expected/.test((error as Error).message) && new RegExp(`${compressed.byteLength} compressed bytes`).test((error as Error).message));
  // Less than expected: only the bytes decoded come back (the caller compares the size), not zeros.
  const short = brotliDecompressSync(compressed, { maxOutputLength: bytes.byteLength + 4096 });
  assert.equal(short.byteLength, bytes.byteLength);
  assert.deepEqual(short, bytes);
  // Cut anywhere: a TensioError, or fewer bytes than the whole (never the full size padded with zeros).
  let refused = 0;
  for (let cut = 0; cut < compressed.byteLength; cut += Math.max(1, Math.floor(compressed.byteLength / 97))) {
    try {
      const out = brotliDecompressSync(compressed.subarray(0, cut), { maxOutputLength: bytes.byteLength });
      assert.ok(out.byteLength < bytes.byteLength, `cut at ${cut}: ${out.byteLength} bytes`);
    } catch (error) {
      assert.ok(error instanceof TensioError, `cut at ${cut}: ${(error as Error).message}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'some cut streams are refused outright');
  // Garbage of many seeds: always a TensioError or a short result, never a crash or a larger output.
  for (let seed = 1; seed <= 200; seed++) {
    const garbage = sampleBytes(64 + seed, seed * 7919);
    try {
      assert.ok(brotliDecompressSync(garbage, { maxOutputLength: 4096 }).byteLength <= 4096);
    } catch (error) {
      assert.ok(error instanceof TensioError, `seed ${seed}: ${(error as Error).message}`);
    }
  }
});

test('the brotli stand-in decodes zlib brotli streams to their size, refuses garbage with TensioError and a call without the size', () => {
  const bytes = sampleBytes(300_000);
  const compressed = new Uint8Array(brotliCompressSync(bytes));
  assert.deepEqual(brotliDecompressSync(compressed, { maxOutputLength: bytes.byteLength }), bytes);
  // Garbage (a brotli stream's window bits and meta-block headers are checked as it decodes;
  // this one's first meta-block claims 41553 bytes, past the 1000 expected).
  const garbage = new Uint8Array(64).map((_, i) => i * 37);
  assert.throws(() => brotliDecompressSync(garbage, { maxOutputLength: 1000 }), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));
  assert.throws(() => brotliDecompressSync(garbage.map((b) => b ^ 0x5a), { maxOutputLength: 1000 }), (error) => isTensioError(error));
  assert.throws(() => brotliDecompressSync(compressed), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
});

const skip = chromiumSkip();

/** Run in the page: opens each file from a File, reads `w`, verifies; then compresses in the page. */
const PAGE = String.raw`async (names) => {
  const tensio = await import('/tensio.js');
  const fileOf = async (name) => new File([await (await fetch('/files/' + name)).blob()], name);
  const out = {};
  for (const name of names) {
    try {
      const reader = await tensio.openTensorFile(tensio.blobSource(await fileOf(name)));
      const values = Array.from(tensio.toFloat32Array(await reader.read('w')));
      const report = await tensio.verifyTensorFile(tensio.blobSource(await fileOf(name)));
      out[name] = { format: reader.format, values, verified: report.ok, problems: report.problems };
    } catch (error) {
      out[name] = { error: (error.code ?? 'NO_CODE') + ': ' + error.message };
    }
  }
  // Compression in the page, to memory: returned as base64 for Node to read back.
  const writes = [['zstd.feather', 'arrow', { compression: 'zstd' }], ['lz4.feather', 'arrow', { compression: 'lz4' }], ['zstd.parquet', 'parquet', { compression: 'zstd' }], ['snappy.parquet', 'parquet', { compression: 'snappy' }], ['zstd.zt', 'zt', { compress: true, canonical: false }], ['sha256.zt', 'zt', { digest: 'sha256', canonical: false }]];
  for (const [label, to, writeOptions] of writes) {
    try {
      const sink = tensio.memorySink();
      await tensio.convert(tensio.blobSource(await fileOf('compressible.safetensors')), sink, { to, writeOptions });
      let text = '';
      for (const byte of sink.bytes()) text += String.fromCharCode(byte);
      out['written:' + label] = { base64: btoa(text) };
    } catch (error) {
      out['written:' + label] = { error: (error.code ?? 'NO_CODE') + ': ' + error.message };
    }
  }
  return out;
}`;

interface PageResult {
  format?: string;
  values?: number[];
  verified?: boolean;
  problems?: unknown[];
  error?: string;
  base64?: string;
}

test('in headless Chromium: lz4 Arrow, brotli and zstd Parquet, zTensor with XXH3, SHA-256 and zstd frames read and verified from a File; zstd and lz4 Arrow, zstd and snappy Parquet and zTensor written in the page read back and verified in Node', { skip, timeout: 180_000 }, async (t) => {
  const { dir, bundle, files } = await prepareBrowserFiles(t, 'tensio-browser-codecs-');
  const source = join(files, 'one.safetensors');
  // What the page compresses: 4096 float32 of a short cycle (small buffers are stored raw).
  const cycle = new Float32Array(4096).map((_, i) => (i % 7) - 3);
  await safetensorsWrite(join(files, 'compressible.safetensors'), { w: createTensor('float32', [1024, 4], new Uint8Array(cycle.buffer)) });
  const written: Record<string, [string, Record<string, unknown>]> = {
    'lz4.feather': ['arrow', { compression: 'lz4' }],
    'brotli.parquet': ['parquet', { compression: 'brotli' }],
    'zstd.parquet': ['parquet', { compression: 'zstd' }],
    // zTensor: zstd-seekable parts (XXH64 frame checksums) with SHA-256 digests; raw with XXH3.
    'sha256-zstd.zt': ['zt', { compress: true, digest: 'sha256', canonical: false }],
    'xxh3.zt': ['zt', {}],
  };
  for (const [name, [format, writeOptions]] of Object.entries(written)) {
    await convert(source, join(files, name), { to: format, writeOptions: writeOptions as never });
  }
  // The fixtures hold what the page must decode (the write options took effect).
  const zt = await readFile(join(files, 'sha256-zstd.zt'));
  assert.ok(zt.includes('sha256:') && zt.includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'sha256-zstd.zt has SHA-256 digests and zstd frames');
  assert.ok((await readFile(join(files, 'xxh3.zt'))).includes('xxh3:'), 'xxh3.zt has XXH3 digests');
  const { server, page, pageErrors } = await openBundlePage(t, { bundle, files });
  await page.goto(`${server.origin}/files/harness.html`);
  const results = (await page.evaluate(`(${PAGE})(${JSON.stringify(Object.keys(written))})`)) as Record<string, PageResult>;

  for (const [name, [format]] of Object.entries(written)) {
    const result = results[name]!;
    assert.equal(result.error, undefined, `${name}: ${result.error}`);
    assert.equal(result.format, format, name);
    assert.deepEqual(result.values, FIXTURE_VALUES, `${name} values`);
    assert.equal(result.verified, true, `${name} verify: ${JSON.stringify(result.problems)}`);
  }
  for (const name of ['zstd.feather', 'lz4.feather', 'zstd.parquet', 'snappy.parquet', 'zstd.zt', 'sha256.zt']) {
    const result = results[`written:${name}`]!;
    assert.equal(result.error, undefined, `${name} written in the page: ${result.error}`);
    const path = join(dir, `from-page-${name}`);
    await writeFile(path, Buffer.from(result.base64!, 'base64'));
    const bytes = await readFile(path);
    // Node reads it with the native zstd binding and xxhash: the page really compressed (a zstd frame is in there).
    if (name.startsWith('zstd')) assert.ok(bytes.includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), `${name}: no zstd frame in what the page wrote`);
    // lz4: the page's TypeScript compressor wrote the frames, lz4-napi (liblz4) decodes them here.
    if (name.startsWith('lz4')) assert.ok(bytes.includes(Buffer.from([0x04, 0x22, 0x4d, 0x18])), `${name}: no lz4 frame in what the page wrote`);
    // snappy: hysnappy's WebAssembly compressor ran in the page (the bundle has no other).
    if (name === 'snappy.parquet') {
      const metadata = await parquetReadMetadata(bytesSource(bytes));
      assert.equal(metadata.row_groups[0]!.columns[0]!.meta_data!.codec, 'SNAPPY');
      assert.ok(bytes.byteLength < cycle.byteLength, `${name}: ${bytes.byteLength} bytes for ${cycle.byteLength} of values`);
    }
    if (name.endsWith('.zt')) {
      const report = await verifyTensorFile(path);
      assert.equal(report.ok, true, `${name} verified in Node: ${JSON.stringify(report.problems)}`);
    }
    const reader = await openTensorFile(path);
    assert.deepEqual(Array.from(toFloat32Array(await reader.read('w'))), Array.from(cycle), `${name} read back in Node`);
    await reader.close?.();
  }
  assert.deepEqual(pageErrors, []);
});
