/**
 * S3 storage against a real S3-compatible server (OpenStack Swift with s3api, started
 * once for this file): store put/get/range/suffix, the pinned source, streamed
 * multipart uploads, the error codes, and aborted uploads leaving nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isTensioError } from '../src/core/errors.js';
import { s3Store, s3StoreOf } from '../src/storage/s3-store.js';
import { s3Source } from '../src/storage/s3-source.js';
import { s3Sink } from '../src/storage/s3-sink.js';
import { parseS3Url } from '../src/storage/s3-location.js';
import { s3Connect } from '../src/storage/s3-client.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';
import { createTensor } from '../src/core/tensor.js';
import { safetensorsSerialize } from '../src/formats/safetensors/write.js';
import { openTensorFile } from '../src/operations/open.js';
import { SWIFT_OTHER_CREDENTIALS } from './helpers/swift-s3.js';

const env = useSwiftS3('tensio-storage');
const skip = s3Skip;
const MiB = 2 ** 20;

function pattern(length: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * seed + (i >> 13)) & 0xff;
  return bytes;
}

test('s3 location: bucket and key, refusing bad bucket names', () => {
  assert.deepEqual(parseS3Url('s3://models/a/b.npy'), { bucket: 'models', key: 'a/b.npy' });
  assert.deepEqual(parseS3Url('s3://models'), { bucket: 'models', key: '' });
  assert.throws(() => parseS3Url('s3://A_B/x'), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => parseS3Url('s3:///x'), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
});

test('s3 store: write, read whole, range and suffix range, has, list, delete', { skip }, async () => {
  const { bucket } = env.current!;
  const store = s3Store(`s3://${bucket}/store-basics`);
  const data = pattern(100_000);
  await store.write('a/x.bin', data);
  await store.write('a/deep/y.bin', data.subarray(0, 10));
  await store.write('top.bin', new Uint8Array(0));
  assert.deepEqual(await store.read('a/x.bin'), data);
  assert.deepEqual(await store.read('a/x.bin', { offset: 1000, length: 1000 }), data.subarray(1000, 2000));
  assert.deepEqual(await store.read('a/x.bin', { suffix: 10 }), data.subarray(data.byteLength - 10));
  assert.deepEqual(await store.read('a/x.bin', { suffix: 10 ** 9 }), data, 'a suffix longer than the object is all of it');
  assert.deepEqual(await store.read('top.bin'), new Uint8Array(0));
  assert.deepEqual(await store.read('top.bin', { suffix: 5 }), new Uint8Array(0));
  assert.equal(await store.has('a/x.bin'), true);
  assert.equal(await store.has('a/none.bin'), false);
  assert.deepEqual(await store.list(), ['a/deep/y.bin', 'a/x.bin', 'top.bin']);
  assert.deepEqual(await store.list('a/', { recursive: false }), ['a/deep/', 'a/x.bin']);
  await assert.rejects(store.read('a/x.bin', { offset: 99_990, length: 20 }), (e) => isTensioError(e, 'TRUNCATED'));
  await assert.rejects(store.read('a/missing.bin'), (e) => isTensioError(e, 'NOT_FOUND') && /a\/missing\.bin/.test((e as Error).message));
  await store.delete('a/x.bin');
  await store.delete('a/x.bin'); // a missing key is not an error
  assert.equal(await store.has('a/x.bin'), false);
  await assert.rejects(store.write('../x', data), (e) => isTensioError(e, 'INVALID_NAME'));
  const { store: parent, key } = s3StoreOf(`s3://${bucket}/store-basics/a/deep/y.bin`);
  assert.equal(key, 'y.bin');
  assert.deepEqual(await parent.read(key), data.subarray(0, 10));
});

test('s3 source: one request to open, exact ranged reads, read-ahead, ETag pinning', { skip }, async () => {
  const { bucket, client } = env.current!;
  const data = pattern(3 * MiB + 17);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'source/obj.bin', Body: data }));
  const source = await s3Source(`s3://${bucket}/source/obj.bin`);
  const before = source.stats.requests;
  assert.equal(source.size, data.byteLength);
  assert.match(source.etag ?? '', /^"[0-9a-f]{32}"$/);
  assert.deepEqual(await source.read(5, 100), data.subarray(5, 105));
  assert.equal(source.stats.requests, before, 'the head came with the opening request');
  assert.deepEqual(await source.read(data.byteLength - 9, 9), data.subarray(data.byteLength - 9));
  // streamed in 1 MiB chunks (read-ahead on)
  const whole = new Uint8Array(data.byteLength);
  for (let at = 0; at < whole.byteLength; at += MiB) await source.readInto(whole.subarray(at, Math.min(at + MiB, whole.byteLength)), at);
  assert.deepEqual(whole, data);
  await assert.rejects(source.read(data.byteLength - 2, 5), (e) => isTensioError(e, 'TRUNCATED'));
  // replaced while open: the next uncached read fails instead of mixing versions
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'source/obj.bin', Body: pattern(3 * MiB + 17, 11) }));
  await assert.rejects(source.read(2 * MiB, 200_000), (e) => isTensioError(e, 'SOURCE_CHANGED'));
  await source.close();
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'source/empty.bin', Body: new Uint8Array(0) }));
  const empty = await s3Source(`s3://${bucket}/source/empty.bin`);
  assert.equal(empty.size, 0);
  assert.deepEqual(await empty.read(0, 0), new Uint8Array(0));
});

test('s3 source: a tensor streamed chunk by chunk is ONE GetObject (with a small chunk size too); a replaced object fails mid-stream', { skip }, async () => {
  const { bucket, client } = env.current!;
  const tensors = { a: createTensor('uint8', [5 * MiB + 3], pattern(5 * MiB + 3, 3)), b: createTensor('uint8', [3 * MiB], pattern(3 * MiB, 5)), tiny: createTensor('uint8', [10], pattern(10, 9)) };
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'source/model.safetensors', Body: safetensorsSerialize(tensors) }));
  for (const chunkBytes of [MiB, 64 * 1024]) {
    const reader = await openTensorFile(`s3://${bucket}/source/model.safetensors`);
    const { stats } = await s3Connect({});
    const before = stats.requests;
    for (const name of ['a', 'b', 'tiny'] as const) {
      const pieces: Uint8Array[] = [];
      for await (const piece of reader.stream(name, { chunkBytes })) pieces.push(piece.slice());
      assert.deepEqual(Buffer.concat(pieces), Buffer.from(tensors[name].data), `${name} at ${chunkBytes}-byte chunks`);
    }
    // a (6 or 81 chunks) starts one GET to the object's end; b and tiny, next in file order, continue it.
    assert.equal(stats.requests - before, 1, `requests for three tensors in ${chunkBytes}-byte chunks`);
    await reader.close();
  }
  // Replaced while a tensor streams: SOURCE_CHANGED, never bytes of two versions.
  const reader = await openTensorFile(`s3://${bucket}/source/model.safetensors`, { s3: { ...env.current!.options } });
  const stream = reader.stream('a', { chunkBytes: MiB })[Symbol.asyncIterator]();
  await stream.next();
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'source/model.safetensors', Body: safetensorsSerialize({ a: createTensor('uint8', [5 * MiB + 3], pattern(5 * MiB + 3, 11)) }) }));
  // One GET answers with one version: the run already open finishes with the old bytes
  // (never a mix); a read that needs a new request after the change fails.
  for (;;) if ((await stream.next()).done) break;
  await assert.rejects(reader.read('tiny'), (e) => isTensioError(e, 'SOURCE_CHANGED'));
  await reader.close();
});

test('s3 source opened from its end: one suffix GET gives the size and the last bytes; a read across its start asks only for the rest', { skip }, async () => {
  const { bucket, client } = env.current!;
  const data = pattern(3 * MiB + 29, 23);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'suffix/obj.bin', Body: data }));
  const { stats } = await s3Connect({});
  const before = stats.requests;
  const source = await s3Source(`s3://${bucket}/suffix/obj.bin`, { openFrom: 'end' });
  assert.equal(stats.requests - before, 1, 'one request to open');
  assert.equal(source.size, data.byteLength);
  const tailStart = data.byteLength - 65536;
  assert.equal(source.holds(tailStart, 65536), true);
  assert.equal(source.holds(tailStart - 1, 2), false);
  assert.equal(source.holds(0, 8), false, 'the start was not fetched');
  assert.deepEqual(await source.read(data.byteLength - 100, 100), data.subarray(data.byteLength - 100));
  assert.deepEqual(await source.read(tailStart + 5, 1000), data.subarray(tailStart + 5, tailStart + 1005));
  assert.equal(stats.requests - before, 1, 'bytes of the tail are served without a request');
  const across = new Uint8Array(150_000);
  await source.readInto(across, tailStart - 100_000);
  assert.deepEqual(across, data.subarray(tailStart - 100_000, tailStart + 50_000));
  assert.equal(stats.requests - before, 2, 'a read across the tail\'s start: one request for the bytes before it');
  await source.close();
  // Shorter than the suffix: the whole object, which is the head too. Empty: a HEAD after the 416.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'suffix/small.bin', Body: data.subarray(0, 1000) }));
  const small = await s3Source(`s3://${bucket}/suffix/small.bin`, { openFrom: 'end' });
  assert.equal(small.size, 1000);
  assert.equal(small.holds(0, 1000), true);
  assert.deepEqual(await small.read(0, 1000), data.subarray(0, 1000));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'suffix/empty.bin', Body: new Uint8Array(0) }));
  const empty = await s3Source(`s3://${bucket}/suffix/empty.bin`, { openFrom: 'end' });
  assert.equal(empty.size, 0);
  assert.match(empty.etag ?? '', /^"[0-9a-f]{32}"$/);
});

test('remote header-only open: safetensors in 1 request of at most 64 KiB; a .zt from its end in 1 suffix request, its tensors read whole after', { skip }, async () => {
  const { bucket, client } = env.current!;
  const tensors: Record<string, ReturnType<typeof createTensor>> = {};
  for (let i = 0; i < 6; i++) tensors[`layers.${i}.weight`] = createTensor('uint8', [MiB / 2], pattern(MiB / 2, 3 + i));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'header/model.safetensors', Body: safetensorsSerialize(tensors) }));
  const { convert } = await import('../src/operations/convert.js');
  await convert(`s3://${bucket}/header/model.safetensors`, `s3://${bucket}/header/model.zt`);
  const { stats } = await s3Connect({});
  for (const key of ['model.safetensors', 'model.zt']) {
    const [requests, bytes] = [stats.requests, stats.bytesReceived];
    await using reader = await openTensorFile(`s3://${bucket}/header/${key}`);
    assert.equal(reader.tensors.length, 6, key);
    assert.equal(stats.requests - requests, 1, `${key}: one request lists the tensors`);
    assert.ok(stats.bytesReceived - bytes <= 65536, `${key}: at most 64 KiB received (${stats.bytesReceived - bytes})`);
    // The reads after the header-only open are whole and checked (the .zt's start magic included).
    for (const [name, tensor] of Object.entries(tensors)) assert.deepEqual(Buffer.from((await reader.read(name)).data), Buffer.from(tensor.data), `${key}: ${name}`);
  }
});

test('s3 sink: a streamed multipart upload, invisible until close, with the parts S3 expects', { skip }, async () => {
  const { bucket, client, openUploads } = env.current!;
  const data = pattern(12 * MiB + 5, 13);
  const sink = await s3Sink(`s3://${bucket}/upload/big.bin`, { partBytes: 5 * MiB, queueSize: 2 });
  // written in odd-sized chunks, the buffer reused between writes (the sink must copy)
  const scratch = new Uint8Array(777_777);
  for (let at = 0; at < data.byteLength; at += scratch.byteLength) {
    const piece = data.subarray(at, Math.min(at + scratch.byteLength, data.byteLength));
    scratch.set(piece);
    await sink.write(scratch.subarray(0, piece.byteLength));
    scratch.fill(0);
  }
  assert.equal(sink.position, data.byteLength);
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'upload/big.bin' })), 'nothing visible before close');
  await sink.close();
  assert.ok(sink.uploadId, 'a multipart upload was made');
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'upload/big.bin' }));
  assert.equal(head.ContentLength, data.byteLength);
  assert.match(head.ETag ?? '', /-3"$/, 'three parts: 5 + 5 + 2 MiB');
  assert.deepEqual(await s3Store(`s3://${bucket}/upload/`).read('big.bin'), data);
  assert.deepEqual(await openUploads(), []);
  // small output: one PutObject
  const small = await s3Sink(`s3://${bucket}/upload/small.bin`);
  await small.write(pattern(1000));
  await small.close();
  assert.equal(small.uploadId, undefined);
  assert.deepEqual(await s3Store(`s3://${bucket}/upload/`).read('small.bin'), pattern(1000));
  await assert.rejects(s3Sink(`s3://${bucket}/upload/small.bin`, { noOverwrite: true }), (e) => isTensioError(e, 'ALREADY_EXISTS'));
});

test('s3 sink: abort after parts were sent leaves no upload, no parts and no object', { skip }, async () => {
  const { bucket, client, openUploads } = env.current!;
  const sink = await s3Sink(`s3://${bucket}/upload/aborted.bin`, { partBytes: 5 * MiB, queueSize: 2 });
  for (let i = 0; i < 12; i++) await sink.write(pattern(MiB, i + 1));
  await new Promise((resolveWait) => setTimeout(resolveWait, 300)); // let the first parts reach the server
  await sink.abort();
  assert.ok(sink.uploadId, 'a multipart upload had been created before the abort');
  assert.deepEqual(await openUploads(), []);
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'upload/aborted.bin' })));
  await assert.rejects(sink.write(pattern(10)), (e) => isTensioError(e, 'INVALID_STATE'));
  // aborted through a signal
  const controller = new AbortController();
  const signalled = await s3Sink(`s3://${bucket}/upload/signalled.bin`, { partBytes: 5 * MiB, signal: controller.signal });
  for (let i = 0; i < 6; i++) await signalled.write(pattern(MiB, i + 3));
  controller.abort();
  await assert.rejects(signalled.close(), (e) => isTensioError(e, 'ABORTED'));
  assert.deepEqual(await openUploads(), [], 'close() after the signal waits for the abort on the server');
});

test('s3 errors: wrong credentials, missing bucket, missing key, access denied — each its own code naming bucket and key', { skip }, async () => {
  const { bucket, options } = env.current!;
  const wrong = { ...options, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'wrong' } };
  await s3Store(`s3://${bucket}/`).write('errors/x.bin', pattern(10));
  await assert.rejects(s3Source(`s3://${bucket}/errors/x.bin`, wrong), (e) => isTensioError(e, 'BAD_CREDENTIALS') && (e as Error).message.includes(`s3://${bucket}/errors/x.bin`));
  await assert.rejects(s3Source('s3://no-such-bucket-here/errors/x.bin', options), (e) => isTensioError(e, 'BUCKET_NOT_FOUND') && (e as Error).message.includes('no-such-bucket-here'));
  await assert.rejects(s3Source(`s3://${bucket}/errors/none.bin`, options), (e) => isTensioError(e, 'NOT_FOUND') && (e as Error).message.includes('errors/none.bin'));
  const other = { ...options, credentials: { ...SWIFT_OTHER_CREDENTIALS } };
  await assert.rejects(s3Source(`s3://${bucket}/errors/x.bin`, other), (e) => isTensioError(e, 'ACCESS_DENIED') && (e as Error).message.includes(bucket));
  const sink = await s3Sink(`s3://${bucket}/errors/w.bin`, wrong);
  await sink.write(pattern(10));
  await assert.rejects(sink.close(), (e) => isTensioError(e, 'BAD_CREDENTIALS'));
});

test('noOverwrite is a conditional write: a key published after the HEAD check is not replaced (Swift: conditional complete; conditional PutObject is 501 there)', { skip }, async () => {
  const { bucket, client, openUploads } = env.current!;
  const theirs = pattern(4096, 3);
  for (const [key, size] of [['race/small.bin', 1000], ['race/large.bin', 6 * MiB + 1]] as const) {
    // The HEAD passes (nothing there yet); another writer publishes before this upload completes.
    const sink = await s3Sink(`s3://${bucket}/${key}`, { noOverwrite: true, partBytes: 5 * MiB });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: theirs }));
    await sink.write(pattern(size, 9));
    await assert.rejects(sink.close(), (e) => isTensioError(e, 'ALREADY_EXISTS') && (e as Error).message.includes(key), `${key}: the other writer's object is kept`);
    assert.deepEqual(await s3Store(`s3://${bucket}/`).read(key), theirs, `${key}: not replaced`);
  }
  assert.deepEqual(await openUploads(), [], 'the refused uploads were aborted');
  // Without a rival the same conditional uploads publish, small and large.
  for (const [key, size] of [['race/fresh-small.bin', 1000], ['race/fresh-large.bin', 6 * MiB + 1]] as const) {
    const sink = await s3Sink(`s3://${bucket}/${key}`, { noOverwrite: true, partBytes: 5 * MiB });
    await sink.write(pattern(size, 5));
    await sink.close();
    assert.deepEqual(await s3Store(`s3://${bucket}/`).read(key), pattern(size, 5));
  }
  const connection = await s3Connect({});
  assert.equal(connection.supports.conditionalPut, false, 'Swift answered 501 to a conditional PutObject; small objects went through a conditional one-part multipart upload');
  // A store's write with noOverwrite goes through the same sink.
  await assert.rejects(s3Store(`s3://${bucket}/`).write('race/fresh-small.bin', pattern(10), { noOverwrite: true }), (e) => isTensioError(e, 'ALREADY_EXISTS'));
  await s3Store(`s3://${bucket}/`).write('race/new.bin', pattern(10), { noOverwrite: true });
  assert.deepEqual(await s3Store(`s3://${bucket}/`).read('race/new.bin'), pattern(10));
  assert.deepEqual(await openUploads(), []);
});
