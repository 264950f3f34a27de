/**
 * S3 under faults: a TCP proxy between tensio and the Swift S3 server (started once for
 * this file) drops connections in the middle of a part or of a body, or delays answers.
 * Each fault is either retried within the configured bounds (the object is then whole
 * and correct) or fails cleanly with a TensioError and the multipart upload aborted on
 * the server (no open upload, no object). An answer held past the client's idle timeout
 * (`timeoutMs`) counts as a dropped connection: retried by the SDK within `retries`, or
 * a `TIMEOUT` TensioError after `retries + 1` attempts, the upload aborted. Also:
 * `noSignRequest` sends no signature.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { isTensioError } from '../src/core/errors.js';
import { s3Sink } from '../src/storage/s3-sink.js';
import { s3Source } from '../src/storage/s3-source.js';
import { s3Store } from '../src/storage/s3-store.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';

const env = useSwiftS3('tensio-faults');
const skip = s3Skip;
const MiB = 2 ** 20;
let proxy: FaultProxy | undefined;
after(() => proxy?.close());

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * seed + (i >> 12)) & 0xff;
  return bytes;
}

/** Writes 16 MiB to `sink` and closes it; resolves with what was thrown (undefined: it succeeded). */
async function failureOfUpload(sink: { write(chunk: Uint8Array): Promise<void>; close(): Promise<void> }, seed: number): Promise<unknown> {
  try {
    for (let i = 0; i < 16; i++) await sink.write(pattern(MiB, i + seed));
    await sink.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

async function throughProxy(): Promise<{ proxy: FaultProxy; options: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } }> {
  proxy ??= await startFaultProxy(env.current!.server.endpoint);
  proxy.delayMs = 0;
  proxy.delayAnswers(0, 0);
  proxy.dropUploadAfter(Infinity, 0);
  proxy.dropDownloadAfter(Infinity, 0);
  const base = env.current!.options;
  return { proxy, options: { endpoint: proxy.endpoint, region: 'us-east-1', credentials: base.credentials! } };
}

test('a connection dropped mid-part is retried by the SDK within its bounds: the object is whole', { skip }, async () => {
  const { bucket, openUploads } = env.current!;
  const { proxy, options } = await throughProxy();
  const data = pattern(11 * MiB, 3);
  proxy.dropUploadAfter(2 * MiB, 1);
  const dropsBefore = proxy.drops;
  const sink = await s3Sink(`s3://${bucket}/faults/retried.bin`, { ...options, partBytes: 5 * MiB, queueSize: 2, retries: 3 });
  for (let at = 0; at < data.byteLength; at += MiB) await sink.write(data.subarray(at, at + MiB));
  await sink.close();
  assert.equal(proxy.drops - dropsBefore, 1, 'one connection was cut mid-part');
  assert.deepEqual(await s3Store(`s3://${bucket}/faults/`).read('retried.bin'), data);
  assert.deepEqual(await openUploads(), []);
});

test('a connection dropped on every attempt fails cleanly: TensioError, upload aborted, no object', { skip }, async () => {
  const { bucket, client, openUploads } = env.current!;
  const { proxy, options } = await throughProxy();
  proxy.dropUploadAfter(2 * MiB, 1000);
  const dropsBefore = proxy.drops;
  const sink = await s3Sink(`s3://${bucket}/faults/failed.bin`, { ...options, partBytes: 5 * MiB, queueSize: 2, retries: 1 });
  const started = Date.now();
  const failure = await failureOfUpload(sink, 1);
  assert.ok(isTensioError(failure), `a TensioError, got ${String(failure)}`);
  assert.ok(Date.now() - started < 60_000, 'failed within bounds');
  assert.ok(proxy.drops - dropsBefore >= 2, `every attempt was cut (${proxy.drops - dropsBefore})`);
  proxy.dropUploadAfter(Infinity, 0);
  assert.deepEqual(await openUploads(), [], 'the multipart upload was aborted on the server before the error reached the writer');
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'faults/failed.bin' })), 'no object appeared');
  await assert.rejects(sink.write(pattern(10, 1)));
});

test('a body cut short is resumed from the byte it stopped at; a slow answer within the timeout is waited for', { skip }, async () => {
  const { bucket } = env.current!;
  const { proxy, options } = await throughProxy();
  const data = pattern(4 * MiB + 3, 5);
  await s3Store(`s3://${bucket}/faults/`).write('read.bin', data);
  const source = await s3Source(`s3://${bucket}/faults/read.bin`, { ...options, readAheadDepth: 0 });
  proxy.dropDownloadAfter(MiB, 1);
  const dropsBefore = proxy.drops;
  const target = new Uint8Array(3 * MiB);
  await source.readInto(target, 100);
  assert.deepEqual(target, data.subarray(100, 100 + 3 * MiB));
  assert.equal(proxy.drops - dropsBefore, 1);
  assert.ok(source.stats.retries >= 1, 'the read was resumed');
  proxy.delayMs = 300;
  assert.deepEqual(await source.read(4 * MiB - 10, 10), data.subarray(4 * MiB - 10, 4 * MiB));
  await source.close();
  // A streamed run (a tensor read chunk by chunk, one GET) cut mid-body: asked for again
  // from the byte it stopped at, pinned to the same ETag.
  proxy.delayMs = 0;
  const streamed = await s3Source(`s3://${bucket}/faults/read.bin`, { ...options, retries: 2 });
  const requestsBefore = streamed.stats.requests;
  const retriesBefore = streamed.stats.retries;
  proxy.dropDownloadAfter(2 * MiB, 1);
  const streamedDrops = proxy.drops;
  const whole = new Uint8Array(data.byteLength - 100);
  for (let at = 0; at < whole.byteLength; at += MiB) await streamed.readInto(whole.subarray(at, at + MiB), 100 + at, { sequentialUntil: data.byteLength });
  assert.deepEqual(whole, data.subarray(100));
  assert.equal(proxy.drops - streamedDrops, 1, 'the run was cut once');
  assert.equal(streamed.stats.retries - retriesBefore, 1, 'and resumed once');
  assert.equal(streamed.stats.requests - requestsBefore, 2, 'one GET for the run, one to resume it (not one per chunk)');
  await streamed.close();
  // Cut on every attempt: a clean error after the bounded retries.
  proxy.delayMs = 0;
  const again = await s3Source(`s3://${bucket}/faults/read.bin`, { ...options, readAheadDepth: 0, retries: 2 });
  proxy.dropDownloadAfter(MiB, 1000);
  await assert.rejects(again.readInto(new Uint8Array(3 * MiB), 0), (e) => isTensioError(e, 'HTTP_ERROR', 'TIMEOUT'));
  proxy.dropDownloadAfter(Infinity, 0);
  const runCut = await s3Source(`s3://${bucket}/faults/read.bin`, { ...options, retries: 2 });
  proxy.dropDownloadAfter(100, 1000); // every answer cut before its body: no progress at all
  await assert.rejects((async () => {
    for (let at = 0; at < 4 * MiB; at += MiB) await runCut.readInto(new Uint8Array(MiB), at, { sequentialUntil: 4 * MiB });
  })(), (e) => isTensioError(e, 'HTTP_ERROR', 'TIMEOUT'));
  await runCut.close();
});

/** Idle timeout of the timeout tests, and how long their held answers wait (longer: the client gives up first). */
const TIMEOUT_MS = 2000;
const HELD_MS = 5000;
const GETS = /^GET /;
const PART_UPLOADS = /^PUT \S*[?&]partNumber=\d+/;

test('an answer held past the idle timeout is retried within bounds (reads and streamed runs): the bytes are right', { skip }, async () => {
  const { bucket } = env.current!;
  const { proxy, options } = await throughProxy();
  const data = pattern(3 * MiB + 11, 17);
  await s3Store(`s3://${bucket}/faults/`).write('slow-read.bin', data);
  const settings = { ...options, timeoutMs: TIMEOUT_MS, retries: 2 };
  // The opening GET's answer is held once: the SDK gives up on it after TIMEOUT_MS and asks again.
  const before = proxy.delays;
  proxy.delayAnswers(HELD_MS, 1, GETS);
  const source = await s3Source(`s3://${bucket}/faults/slow-read.bin`, settings);
  assert.equal(proxy.delays - before, 1, 'the first answer was held');
  assert.equal(source.size, data.byteLength);
  assert.deepEqual(await source.read(10, 1000), data.subarray(10, 1010));
  // A streamed run's GET held once: asked again, the tensor's bytes whole.
  proxy.delayAnswers(HELD_MS, 1, GETS);
  const whole = new Uint8Array(data.byteLength - 70_000);
  for (let at = 0; at < whole.byteLength; at += MiB) await source.readInto(whole.subarray(at, at + MiB), 70_000 + at, { sequentialUntil: data.byteLength });
  assert.deepEqual(whole, data.subarray(70_000));
  assert.equal(proxy.delays - before, 2, 'the run\'s answer was held too');
  await source.close();
});

test('answers held past the idle timeout on every attempt: TIMEOUT naming the key after retries + 1 attempts', { skip }, async () => {
  const { bucket } = env.current!;
  const { proxy, options } = await throughProxy();
  await s3Store(`s3://${bucket}/faults/`).write('never.bin', pattern(1000, 3));
  const retries = 1;
  proxy.delayAnswers(HELD_MS, 1000, GETS);
  const before = proxy.delays;
  await assert.rejects(s3Source(`s3://${bucket}/faults/never.bin`, { ...options, timeoutMs: TIMEOUT_MS, retries }), (e) => isTensioError(e, 'TIMEOUT') && (e as Error).message.includes(`s3://${bucket}/faults/never.bin`));
  assert.equal(proxy.delays - before, retries + 1, 'one first attempt and `retries` more, then the error');
  proxy.delayAnswers(0, 0);
});

test('an upload part answered after the idle timeout is sent again: the object is whole, no upload left open', { skip }, async () => {
  const { bucket, openUploads } = env.current!;
  const { proxy, options } = await throughProxy();
  const data = pattern(11 * MiB + 5, 19);
  const before = proxy.delays;
  proxy.delayAnswers(HELD_MS, 1, PART_UPLOADS);
  const sink = await s3Sink(`s3://${bucket}/faults/slow-part.bin`, { ...options, partBytes: 5 * MiB, queueSize: 2, retries: 3, timeoutMs: TIMEOUT_MS });
  for (let at = 0; at < data.byteLength; at += MiB) await sink.write(data.subarray(at, at + MiB));
  await sink.close();
  assert.equal(proxy.delays - before, 1, 'one part\'s answer was held');
  assert.ok(sink.uploadId, 'a multipart upload');
  assert.deepEqual(await s3Store(`s3://${bucket}/faults/`).read('slow-part.bin'), data);
  assert.deepEqual(await openUploads(), []);
});

test('upload parts never answered within the idle timeout: TIMEOUT, the upload aborted on the server, no object', { skip }, async () => {
  const { bucket, client, openUploads } = env.current!;
  const { proxy, options } = await throughProxy();
  const retries = 1;
  const queueSize = 2;
  proxy.delayAnswers(HELD_MS, 1000, PART_UPLOADS); // the abort (DELETE) and the list pass
  const before = proxy.delays;
  const sink = await s3Sink(`s3://${bucket}/faults/never-part.bin`, { ...options, partBytes: 5 * MiB, queueSize, retries, timeoutMs: TIMEOUT_MS });
  const failure = await failureOfUpload(sink, 7);
  assert.ok(isTensioError(failure, 'TIMEOUT'), `TIMEOUT, got ${String(failure)}`);
  assert.match((failure as Error).message, /faults\/never-part\.bin/);
  const attempts = proxy.delays - before;
  assert.ok(attempts >= retries + 1 && attempts <= queueSize * (retries + 1), `each part in flight tried at most retries + 1 times (${attempts} attempts)`);
  proxy.delayAnswers(0, 0);
  assert.deepEqual(await openUploads(), [], 'the multipart upload was aborted on the server before the error reached the writer');
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'faults/never-part.bin' })), 'no object appeared');
});

test('requests in flight stay within `concurrency`; upload parts in flight within `queueSize` (answers held 300 ms)', { skip }, async () => {
  const { bucket, openUploads } = env.current!;
  const { proxy, options } = await throughProxy();
  const data = pattern(4 * MiB, 29);
  await s3Store(`s3://${bucket}/faults/`).write('many.bin', data);
  const concurrency = 2;
  // No read-ahead, no block cache: each read is its own GET.
  const source = await s3Source(`s3://${bucket}/faults/many.bin`, { ...options, concurrency, readAheadDepth: 0, cache: { passThroughBytes: 1 } });
  proxy.delayAnswers(300, 1000, GETS);
  proxy.maxHeld = 0;
  const offsets = Array.from({ length: 8 }, (_, i) => (i + 1) * 300_000);
  const read = await Promise.all(offsets.map((offset) => source.read(offset, 50_000)));
  read.forEach((bytes, i) => assert.deepEqual(bytes, data.subarray(offsets[i]!, offsets[i]! + 50_000)));
  assert.equal(proxy.maxHeld, concurrency, `at most ${concurrency} GETs in flight (8 asked at once)`);
  await source.close();

  const queueSize = 2;
  const upload = pattern(26 * MiB + 1, 31);
  proxy.delayAnswers(300, 1000, PART_UPLOADS);
  proxy.maxHeld = 0;
  const sink = await s3Sink(`s3://${bucket}/faults/queued.bin`, { ...options, partBytes: 5 * MiB, queueSize });
  for (let at = 0; at < upload.byteLength; at += MiB) await sink.write(upload.subarray(at, at + MiB));
  await sink.close();
  proxy.delayAnswers(0, 0);
  assert.equal(proxy.maxHeld, queueSize, `at most ${queueSize} of the 6 parts in flight: memory ≈ (queueSize + 1) × partBytes`);
  assert.deepEqual(await s3Store(`s3://${bucket}/faults/`).read('queued.bin'), upload);
  assert.deepEqual(await openUploads(), []);
});

test('noSignRequest sends no Authorization header; credentials sign with SigV4', async (t) => {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((request, response) => {
    seen.push(request.headers.authorization);
    response.writeHead(206, { 'Content-Range': 'bytes 0-3/4', 'Content-Length': '4', ETag: '"x"' });
    response.end(Buffer.from([1, 2, 3, 4]));
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  t.after(() => new Promise<void>((resolveClose) => server.close(() => resolveClose())));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const anonymous = await s3Source('s3://public-bucket/x.bin', { endpoint, region: 'us-east-1', noSignRequest: true });
  assert.deepEqual(await anonymous.read(0, 4), new Uint8Array([1, 2, 3, 4]));
  const signed = await s3Source('s3://public-bucket/x.bin', { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
  assert.equal(signed.size, 4);
  assert.equal(seen[0], undefined, 'anonymous: no signature');
  assert.match(seen[1] ?? '', /^AWS4-HMAC-SHA256 Credential=k\//);
});
