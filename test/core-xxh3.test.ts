/**
 * The TypeScript XXH3-64 (src/core/xxh3.ts, the browser build's hash) against the
 * reference: python `xxhash.xxh3_64` (the oracle venv) for every length 0..1024 and
 * several seeds, one-shot and streamed in arbitrary chunk sizes, and for multi-MB
 * inputs; and against the native `@node-rs/xxhash` Node uses (no oracle needed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { xxh3 } from '@node-rs/xxhash';
import { Xxh3Hasher, xxh3Hash64 } from '../src/core/xxh3.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const SEEDS = [0n, 1n, 0xdeadbeefn, 0x9e3779b97f4a7c15n, 0xffffffffffffffffn];
const SHORT_MAX = 1024;
const LONG_LENGTHS = [5 * 2 ** 20 + 37, 3 * 2 ** 20];

/** Deterministic pseudo-random bytes (an LCG), so both sides hash the same input. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
}

/** A chunk-size sequence from a seed: sizes 0..max (zero-length updates included). */
function* chunkSizes(seed: number, max: number): Generator<number> {
  let x = seed >>> 0;
  for (;;) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; yield x % (max + 1); }
}

function hex(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

function streamed(bytes: Uint8Array, seed: bigint, sizes: Generator<number>): string {
  const hasher = new Xxh3Hasher(seed);
  for (let at = 0; at < bytes.length;) {
    const size = Math.min(sizes.next().value as number, bytes.length - at);
    hasher.update(bytes.subarray(at, at + size));
    at += size;
  }
  return hasher.digestHex();
}

test('the specification vectors', () => {
  assert.equal(hex(xxh3Hash64(new Uint8Array(0))), '2d06800538d394c2');
  assert.equal(hex(xxh3Hash64(new Uint8Array(8).fill(0xab))), 'f88e5e79bd7c033d');
  assert.equal(hex(xxh3Hash64(new Uint8Array(16).fill(1))), 'a74131e62938d20e');
  assert.equal(hex(xxh3Hash64(new Uint8Array(16).fill(2))), '7fa737dff26f1eba');
});

test('equal to python xxhash.xxh3_64 on every length 0..1024 and 5 seeds, one-shot and streamed; multi-MB inputs', { skip: oracleSkip('xxhash') }, async (t) => {
  const dir = await tempDir(t);
  const short = randomBytes(SHORT_MAX, 7);
  const longs = LONG_LENGTHS.map((length, i) => randomBytes(length, 100 + i));
  writeFileSync(join(dir, 'short.bin'), short);
  longs.forEach((bytes, i) => writeFileSync(join(dir, `long${i}.bin`), bytes));
  const script = `
import json, sys, xxhash
d = sys.argv[1]; seeds = [int(s) for s in sys.argv[2].split(',')]; n = int(sys.argv[3]); longs = int(sys.argv[4])
short = open(d + '/short.bin', 'rb').read()
out = {'short': [[xxhash.xxh3_64(short[:k], seed=s).hexdigest() for k in range(n + 1)] for s in seeds],
       'long': [[xxhash.xxh3_64(open(d + '/long%d.bin' % i, 'rb').read(), seed=s).hexdigest() for s in seeds] for i in range(longs)]}
print(json.dumps(out))`;
  const expected = JSON.parse(runPython(script, [dir, SEEDS.join(','), String(SHORT_MAX), String(longs.length)]).stdout) as { short: string[][]; long: string[][] };
  let compared = 0;
  SEEDS.forEach((seed, s) => {
    const sizes = chunkSizes(s + 1, 97);
    for (let length = 0; length <= SHORT_MAX; length++) {
      const input = short.subarray(0, length);
      assert.equal(hex(xxh3Hash64(input, seed)), expected.short[s]![length], `one-shot, length ${length}, seed ${seed}`);
      assert.equal(streamed(input, seed, sizes), expected.short[s]![length], `streamed, length ${length}, seed ${seed}`);
      compared += 2;
    }
    longs.forEach((bytes, i) => {
      assert.equal(hex(xxh3Hash64(bytes, seed)), expected.long[i]![s], `one-shot, ${bytes.length} bytes, seed ${seed}`);
      // Chunks of up to 1 MiB, then byte-sized ones (misaligned views take the copying path).
      assert.equal(streamed(bytes, seed, chunkSizes(s + 11, 2 ** 20)), expected.long[i]![s], `streamed (≤ 1 MiB chunks), ${bytes.length} bytes, seed ${seed}`);
      assert.equal(streamed(bytes.subarray(0, 200_003), seed, chunkSizes(s + 12, 300)), hex(xxh3Hash64(bytes.subarray(0, 200_003), seed)), 'small chunks');
      compared += 2;
    });
  });
  assert.equal(compared, SEEDS.length * (2 * (SHORT_MAX + 1) + 2 * LONG_LENGTHS.length));
});

test('equal to the native @node-rs/xxhash on random lengths, seeds and misaligned views', () => {
  const bytes = randomBytes(3 * 2 ** 20 + 1, 3);
  const lengths = [0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1023, 1024, 1025, 2047, 2048, 2049, 65_536, 1_000_003, bytes.length - 1];
  for (const seed of SEEDS) {
    for (const length of lengths) {
      for (const offset of [0, 1, 3]) {
        const input = bytes.subarray(offset, offset + Math.min(length, bytes.length - offset));
        const native = xxh3.Xxh3.withSeed(seed).update(input).digest();
        assert.equal(xxh3Hash64(input, seed), native, `length ${input.length}, offset ${offset}, seed ${seed}`);
      }
    }
  }
});

test('reading the digest does not end the stream', () => {
  const bytes = randomBytes(5000, 9);
  const hasher = new Xxh3Hasher();
  for (let at = 0; at < bytes.length; at += 300) {
    hasher.update(bytes.subarray(at, at + 300));
    assert.equal(hasher.digest(), xxh3Hash64(bytes.subarray(0, Math.min(at + 300, bytes.length))), `after ${at + 300} bytes`);
  }
});
