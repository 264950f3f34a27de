/**
 * The Snappy compressor of Parquet pages (hysnappy's WebAssembly, one shared instance):
 * every input round-trips through hyparquet's decompressor and the decoder pyarrow uses
 * (the interop tests read whole files); here, the edges of the format: empty and tiny
 * inputs, 64 KiB boundaries (copies reach at most 65535 bytes back), long matches split
 * into copies, incompressible bytes, one instance reused across calls of any size
 * (its hash table keeps positions from the previous page) and pages too large to share it.
 * Reading: the native decoder (`snappy-native.ts`: tensio's addon, when it is loaded; its
 * own edges are in snappy-addon.test.ts) and the hysnappy fallback
 * (`TENSIO_PARQUET_SNAPPY=wasm`) read the same bytes, and a page whose snappy preamble
 * disagrees with its header never reaches the native one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snappyUncompress } from 'hyparquet';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetPageDecompressor, parquetSnappyCompress as snappyCompress } from '../src/formats/parquet/codecs.js';
import { parquetCreateWriter, parquetOpen } from '../src/formats/parquet/index.js';
import { parquetSnappyCompressor, parquetSnappyDecoder, snappyDeclaredLength } from '../src/formats/parquet/snappy-native.js';
import { addonSnappyDecoder } from '../src/storage/native-snappy.js';
import { withEnv } from './helpers/env.js';

function roundTrip(input: Uint8Array): Uint8Array {
  const compressed = snappyCompress(input);
  const back = new Uint8Array(input.byteLength);
  snappyUncompress(compressed, back);
  assert.deepEqual(Buffer.from(back), Buffer.from(input), `${input.byteLength} bytes`);
  return compressed;
}

test('snappy: inputs of every shape round-trip through hyparquet\'s decompressor', () => {
  let seed = 3;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (const size of [0, 1, 4, 14, 15, 16, 60, 61, 255, 256, 4096, 65535, 65536, 65537, 200_000]) {
    roundTrip(new Uint8Array(size));
    roundTrip(Uint8Array.from({ length: size }, () => random() * 256));
    roundTrip(Uint8Array.from({ length: size }, () => random() * 3));
    roundTrip(Uint8Array.from({ length: size }, (_, i) => (i % 41) ^ (i >> 11)));
  }
  // Zeros compress to copies of 64 bytes: 1 MiB in well under 1/20 of its size.
  assert.ok(roundTrip(new Uint8Array(2 ** 20)).byteLength < 2 ** 20 / 20);
  // Random bytes stay within Snappy's bound (literals only).
  const noise = Uint8Array.from({ length: 100_000 }, () => random() * 256);
  assert.ok(roundTrip(noise).byteLength <= 32 + noise.byteLength + noise.byteLength / 6);
});

test('snappy: pages above the shared instance\'s 16 MiB get their own instance, and the shared one still works after', () => {
  const large = new Uint8Array(17 * 2 ** 20);
  for (let i = 0; i < large.length; i++) large[i] = (i * 7) >> 12;
  const compressed = roundTrip(large);
  assert.ok(compressed.byteLength < large.byteLength / 10, `17 MiB of runs compressed to ${compressed.byteLength} bytes`);
  roundTrip(Uint8Array.from({ length: 70_000 }, (_, i) => (i % 251) ^ (i >> 9)));
});

test('snappy: the preamble length is read as Snappy\'s varint, malformed ones are -1', () => {
  assert.equal(snappyDeclaredLength(Uint8Array.of(0)), 0);
  assert.equal(snappyDeclaredLength(Uint8Array.of(0x7f)), 127);
  assert.equal(snappyDeclaredLength(Uint8Array.of(0x80, 0x80, 0x40)), 2 ** 20);
  assert.equal(snappyDeclaredLength(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)), 0xffffffff);
  assert.equal(snappyDeclaredLength(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)), -1);
  assert.equal(snappyDeclaredLength(Uint8Array.of(0x80, 0x80)), -1);
  assert.equal(snappyDeclaredLength(new Uint8Array(0)), -1);
  for (const size of [0, 1, 300, 70_000, 2 ** 20]) assert.equal(snappyDeclaredLength(snappyCompress(new Uint8Array(size))), size);
});

test('snappy: the addon\'s codec is used when it is loaded, and TENSIO_PARQUET_SNAPPY=wasm turns it off', async () => {
  assert.equal(await withEnv('TENSIO_PARQUET_SNAPPY', 'wasm', async () => parquetSnappyDecoder()), undefined);
  assert.equal(await withEnv('TENSIO_PARQUET_SNAPPY', 'wasm', async () => parquetSnappyCompressor()), undefined);
  assert.equal(parquetSnappyCompressor() !== undefined, addonSnappyDecoder() !== undefined, 'both directions come from the addon');
  const addon = addonSnappyDecoder() !== undefined;
  const page = Uint8Array.from({ length: 300_000 }, (_, i) => (i % 97) ^ (i >> 10));
  const compressed = snappyCompress(page);
  const native = await withEnv('TENSIO_PARQUET_SNAPPY', undefined, () => parquetPageDecompressor('SNAPPY', 2 ** 30));
  const wasm = await withEnv('TENSIO_PARQUET_SNAPPY', 'wasm', () => parquetPageDecompressor('SNAPPY', 2 ** 30));
  const fromNative = native!(compressed, page.byteLength);
  const fromWasm = wasm!(compressed, page.byteLength);
  // Without the addon (TENSIO_NO_MMAP=1, no compiler) reads fall back to hysnappy, synchronously.
  assert.equal(fromNative instanceof Promise, addon, addon ? 'native pages decode asynchronously (libuv threads)' : 'no addon: pages decode on hysnappy');
  assert.ok(!(fromWasm instanceof Promise), 'the fallback decodes synchronously');
  assert.deepEqual(Buffer.from(await fromNative), Buffer.from(page));
  assert.deepEqual(Buffer.from(fromWasm), Buffer.from(page));
});

test('snappy: a page whose preamble disagrees with its header goes to the bounded decoder, which refuses it', async () => {
  const page = new Uint8Array(4096).fill(5);
  const compressed = snappyCompress(page);
  const decompress = await withEnv('TENSIO_PARQUET_SNAPPY', undefined, () => parquetPageDecompressor('SNAPPY', 2 ** 20));
  // The header claims fewer bytes than the block holds: never the native decoder (it would allocate the preamble's length).
  assert.throws(() => decompress!(compressed, 1000), { code: 'SIZE_MISMATCH', message: /declares 4096 bytes in its block, its header says 1000/ });
  assert.throws(() => decompress!(Uint8Array.of(0x80, 0x80), 1000), { code: 'SIZE_MISMATCH', message: /no valid length/ });
  // A header above the column's page bound is refused before any decoding.
  assert.throws(() => decompress!(compressed, 2 ** 21), { code: 'LIMIT_EXCEEDED' });
});

test('snappy: files written by the native compressor and by hysnappy read to the same bytes on either decoder, stacked and as separate columns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensio-snappy-'));
  try {
    const rows = 70_000;
    const values = Float32Array.from({ length: rows * 6 }, (_, i) => Math.round(Math.sin(i) * 1000) / 8);
    const written: Buffer[] = [];
    for (const [writerCodec, env] of [['native', undefined], ['wasm', 'wasm']] as const) {
      const file = join(dir, `${writerCodec}.parquet`);
      await withEnv('TENSIO_PARQUET_SNAPPY', env, async () => {
        const writer = await parquetCreateWriter(file, { tensors: [{ name: 'table', dtype: 'float32', shape: [rows, 6] }], formatOptions: { compression: 'snappy', rowGroupSize: 30_000, pageSize: 50_000 } });
        await writer.add('table', new Uint8Array(values.buffer));
        await writer.close();
      });
      written.push(readFileSync(file));
      const readAll = async (columns: 'stack' | 'separate') => {
        await using reader = await parquetOpen(file, { formatOptions: { columns } });
        const out: Buffer[] = [];
        for (const tensor of reader.tensors) out.push(Buffer.from((await reader.read(tensor.name)).data));
        return out;
      };
      for (const columns of ['stack', 'separate'] as const) {
        const native = await withEnv('TENSIO_PARQUET_SNAPPY', undefined, () => readAll(columns));
        const wasm = await withEnv('TENSIO_PARQUET_SNAPPY', 'wasm', () => readAll(columns));
        assert.equal(native.length, columns === 'stack' ? 1 : 6);
        assert.deepEqual(native, wasm, columns);
      }
      assert.deepEqual((await withEnv('TENSIO_PARQUET_SNAPPY', undefined, () => readAll('stack')))[0], Buffer.from(values.buffer), writerCodec);
    }
    // Two encoders: both files valid, their bytes differ (so the loop above read two different files).
    assert.notDeepEqual(written[0], written[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
