/**
 * tensio's Snappy compressor (Parquet pages): every input round-trips through
 * hyparquet's decompressor and the Python `snappy`-compatible decoder pyarrow uses (the
 * interop tests read whole files); here, the edges of the format: empty and tiny inputs,
 * 64 KiB block boundaries, long matches split into copies, incompressible bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snappyUncompress } from 'hyparquet';
import { snappyCompress } from '../src/formats/parquet/snappy-compress.js';

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
