/**
 * The Snappy compressor of Parquet pages (hysnappy's WebAssembly, one shared instance):
 * every input round-trips through hyparquet's decompressor and the decoder pyarrow uses
 * (the interop tests read whole files); here, the edges of the format: empty and tiny
 * inputs, 64 KiB boundaries (copies reach at most 65535 bytes back), long matches split
 * into copies, incompressible bytes, one instance reused across calls of any size
 * (its hash table keeps positions from the previous page) and pages too large to share it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snappyUncompress } from 'hyparquet';
import { parquetSnappyCompress as snappyCompress } from '../src/formats/parquet/codecs.js';

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
