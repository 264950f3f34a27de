/** Chunked bytes (src/storage/chunked-bytes.ts) and the `chunks` location of the model seam. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateRawSync } from 'node:zlib';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { rawCodec, type ChunkCodec } from '../src/storage/chunk-codec.js';
import { chunkedByteLength, readChunkedBytes, streamChunkedBytes, type ByteChunk } from '../src/storage/chunked-bytes.js';
import { inflateRawCodec } from '../src/storage/inflate-codec.js';
import { createTensorReader } from '../src/model/create-reader.js';

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return out;
}

/**
 * Three chunks, each a separate stored run with a 5-byte prefix and 3 trailing bytes that
 * are not tensor data; `deflate` compresses each run on its own (as zstd frames or
 * Parquet pages are).
 */
function makeChunks(deflate: boolean, sizes = [3000, 7_000_000, 1234]): { chunks: ByteChunk[]; expected: Uint8Array } {
  const stored: Uint8Array[] = [];
  const plain: Uint8Array[] = [];
  const chunks: ByteChunk[] = [];
  let offset = 0;
  const pieces = sizes.map((size, index) => {
    const data = pattern(size, index + 1);
    const decoded = new Uint8Array(5 + size + 3).fill(0xee);
    decoded.set(data, 5);
    return { data, decoded, bytes: deflate ? deflateRawSync(decoded) : decoded };
  });
  for (const [index, piece] of pieces.entries()) {
    plain.push(piece.data);
    stored.push(piece.bytes);
    chunks.push({
      source: undefined as never, offset, storedLength: piece.bytes.byteLength, codec: deflate ? inflateRawCodec : rawCodec,
      decodedLength: piece.decoded.byteLength, skip: 5, byteLength: piece.data.byteLength,
      check: { algorithm: 'crc32', expected: crc32(piece.decoded) }, format: 'test', label: `chunk ${index}`, corruptCode: 'INVALID_ZIP',
    });
    offset += piece.bytes.byteLength;
  }
  const source = bytesSource(new Uint8Array(Buffer.concat(stored)));
  return { chunks: chunks.map((chunk) => ({ ...chunk, source })), expected: new Uint8Array(Buffer.concat(plain)) };
}

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of iterable) parts.push(part.slice());
  return new Uint8Array(Buffer.concat(parts));
}

async function rejectsWithCode(promise: Promise<unknown>, code: TensioErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isTensioError(error), String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

for (const deflate of [false, true]) {
  test(`${deflate ? 'deflated' : 'raw'} chunks: any byte range equals the same range of the concatenation`, async () => {
    const { chunks, expected } = makeChunks(deflate);
    assert.equal(chunkedByteLength(chunks), expected.byteLength);
    assert.deepEqual(await collect(streamChunkedBytes(chunks, { pieceBytes: 65536 })), expected);
    const edges = [0, 1, 2999, 3000, 3001, 5_000_000, 7_002_999, 7_003_000, 7_003_001, expected.byteLength - 1, expected.byteLength];
    for (const start of edges) {
      for (const end of edges) {
        if (end < start) continue;
        const got = await readChunkedBytes(chunks, start, end);
        assert.ok(Buffer.from(got).equals(Buffer.from(expected.subarray(start, end))), `range ${start}..${end}`);
      }
    }
    await rejectsWithCode(readChunkedBytes(chunks, 10, expected.byteLength + 1), 'INVALID_SLICE');
  });

  test(`${deflate ? 'deflated' : 'raw'} chunks: a wrong checksum fails a full read, not a slice that stops before the chunk ends`, async () => {
    const { chunks, expected } = makeChunks(deflate);
    const bad = chunks.map((chunk, index) => (index === 1 ? { ...chunk, check: { algorithm: 'crc32' as const, expected: (chunk.check!.expected ^ 1) >>> 0 } } : chunk));
    await rejectsWithCode(collect(streamChunkedBytes(bad)), 'CHECKSUM_MISMATCH');
    // A slice covering chunk 1 entirely decodes it to the end and checks it too.
    await rejectsWithCode(readChunkedBytes(bad, 2000, 7_003_100), 'CHECKSUM_MISMATCH');
    const partial = await readChunkedBytes(bad, 2000, 4_000_000);
    assert.ok(Buffer.from(partial).equals(Buffer.from(expected.subarray(2000, 4_000_000))));
  });
}

test('deflated chunks: longer than declared is LIMIT_EXCEEDED, shorter is SIZE_MISMATCH, garbage is the chunk\'s code', async () => {
  const { chunks } = makeChunks(true);
  const big = chunks[1]!;
  await rejectsWithCode(collect(streamChunkedBytes([{ ...big, decodedLength: big.decodedLength - 10, byteLength: big.byteLength - 10 }])), 'LIMIT_EXCEEDED');
  await rejectsWithCode(collect(streamChunkedBytes([{ ...big, decodedLength: big.decodedLength + 10 }])), 'SIZE_MISMATCH');
  const garbage = bytesSource(new Uint8Array(8 * 2 ** 20).fill(0xff));
  await rejectsWithCode(collect(streamChunkedBytes([{ ...big, source: garbage, offset: 0 }])), 'INVALID_ZIP');
  // A stream cut short: the compressed bytes end early.
  await rejectsWithCode(collect(streamChunkedBytes([{ ...big, storedLength: Math.floor(big.storedLength / 2) }])), 'TRUNCATED');
  // The small (one-call) path refuses a bomb the same way.
  const small = chunks[0]!;
  await rejectsWithCode(collect(streamChunkedBytes([{ ...small, decodedLength: 100, skip: 0, byteLength: 100 }])), 'LIMIT_EXCEEDED');
});

test('inflating a zip bomb holds a few MiB at a time, not the expansion of one read', async () => {
  // 256 MiB of zeros deflates to ~260 KB: a single 1 MiB write to zlib would buffer it all.
  const zeros = new Uint8Array(256 * 2 ** 20);
  const compressed = deflateRawSync(zeros, { level: 9 });
  let largest = 0;
  let total = 0;
  for await (const piece of inflateRawCodec.decode({ source: bytesSource(compressed), offset: 0, length: compressed.byteLength }, { pieceBytes: 2 ** 20, decodedLength: zeros.byteLength })) {
    largest = Math.max(largest, piece.byteLength);
    total += piece.byteLength;
  }
  assert.equal(total, zeros.byteLength);
  assert.ok(largest <= 2 ** 20, `pieces are at most pieceBytes (largest ${largest})`);
});

test('a chunked tensor over 4 GiB streams and slices; only read() of the whole is refused', async () => {
  // A codec that makes zeros without holding them: 4.5 GiB in 1 MiB views of one buffer.
  const zeros = new Uint8Array(2 ** 20);
  const zeroCodec: ChunkCodec = {
    name: 'zeros',
    async *decode(stored, options) {
      for (let at = 0; at < stored.length; at += zeros.byteLength) yield zeros.subarray(0, Math.min(zeros.byteLength, stored.length - at, options.pieceBytes));
    },
  };
  const rowBytes = 2 ** 20;
  const rows = 4608; // 4.5 GiB
  const chunkRows = 1024;
  const source = bytesSource(new Uint8Array(0));
  const chunks: ByteChunk[] = [];
  for (let row = 0; row < rows; row += chunkRows) {
    const length = Math.min(chunkRows, rows - row) * rowBytes;
    chunks.push({ source, offset: 0, storedLength: length, codec: zeroCodec, decodedLength: length, byteLength: length, format: 'test', label: `rows ${row}` });
  }
  const info = { name: 'big', dtype: 'uint8' as const, shape: [rows, rowBytes], byteLength: rows * rowBytes };
  const reader = createTensorReader({ format: 'test', size: 0, metadata: {}, tensors: [info], locate: () => ({ kind: 'chunks', chunks }) });
  let streamed = 0;
  for await (const piece of reader.stream('big')) streamed += piece.byteLength;
  assert.equal(streamed, rows * rowBytes);
  assert.ok(streamed > 2 ** 32);
  const tail = await reader.read('big', { slice: { start: -3 } });
  assert.deepEqual(tail.shape, [3, rowBytes]);
  assert.equal(tail.data.byteLength, 3 * rowBytes);
  await rejectsWithCode(reader.read('big'), 'LIMIT_EXCEEDED');
});

test('the seam refuses a chunk list that does not add up to the tensor', async () => {
  const { chunks, expected } = makeChunks(false);
  const info = { name: 't', dtype: 'uint8' as const, shape: [expected.byteLength + 1], byteLength: expected.byteLength + 1 };
  const reader = createTensorReader({ format: 'test', size: 0, metadata: {}, tensors: [info], locate: async () => ({ kind: 'chunks', chunks }) });
  await rejectsWithCode(reader.read('t'), 'SIZE_MISMATCH');
  await rejectsWithCode(collect(reader.stream('t')), 'SIZE_MISMATCH');
});

test('a whole raw chunk (a stored zip member) reads straight into the result, its checksum checked', async () => {
  const data = pattern(100_000, 3);
  const chunk: ByteChunk = { source: bytesSource(data), offset: 0, storedLength: data.byteLength, codec: rawCodec, decodedLength: data.byteLength, byteLength: data.byteLength, check: { algorithm: 'crc32', expected: crc32(data) }, format: 'test', label: 'stored' };
  assert.ok(Buffer.from(await readChunkedBytes([chunk], 0, data.byteLength)).equals(Buffer.from(data)));
  await rejectsWithCode(readChunkedBytes([{ ...chunk, check: { algorithm: 'crc32', expected: (crc32(data) + 1) >>> 0 } }], 0, data.byteLength), 'CHECKSUM_MISMATCH');
});

test('chunks whose codec decodes into a buffer are placed straight into the result when whole, decoded piece by piece when sliced; a failure names the chunk', async () => {
  const data = [pattern(1000, 1), pattern(3000, 2), pattern(500, 3)];
  const calls = { into: 0, stream: 0 };
  const codecOf = (bytes: Uint8Array, fail = false): ChunkCodec => ({
    name: 'test-into',
    async *decode() { calls.stream++; yield bytes.slice(0, 700); yield bytes.slice(700); },
    async decodeInto(_stored, out) { calls.into++; if (fail) throw new Error('broken batch'); out.set(bytes); },
  });
  const chunks: ByteChunk[] = data.map((bytes, index) => ({ source: undefined as never, offset: 0, storedLength: 0, codec: codecOf(bytes), decodedLength: bytes.byteLength, byteLength: bytes.byteLength, format: 'test', label: `batch ${index}` }));
  const all = Buffer.concat(data);
  assert.deepEqual(Buffer.from(await readChunkedBytes(chunks, 0, all.byteLength)), all);
  assert.deepEqual(calls, { into: 3, stream: 0 });
  // A slice from inside the first chunk to inside the last: the middle one whole, the ends streamed.
  assert.deepEqual(Buffer.from(await readChunkedBytes(chunks, 600, 4200)), all.subarray(600, 4200));
  assert.deepEqual(calls, { into: 4, stream: 2 });
  const broken = [chunks[0]!, { ...chunks[1]!, codec: codecOf(data[1]!, true) }];
  await assert.rejects(readChunkedBytes(broken, 0, 4000), (error: unknown) => isTensioError(error, 'INVALID_HEADER') && /batch 1.*broken batch/.test((error as Error).message));
});
