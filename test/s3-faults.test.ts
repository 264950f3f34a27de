/**
 * S3 under faults: a TCP proxy between tensio and the Swift S3 server (started once for
 * this file) drops connections in the middle of a part or of a body, or delays answers.
 * Each fault is either retried within the configured bounds (the object is then whole
 * and correct) or fails cleanly with a TensioError and the multipart upload aborted on
 * the server (no open upload, no object). Also: `noSignRequest` sends no signature.
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

async function throughProxy(): Promise<{ proxy: FaultProxy; options: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } }> {
  proxy ??= await startFaultProxy(env.current!.server.endpoint);
  proxy.delayMs = 0;
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
  const failure = await (async () => {
    try {
      for (let i = 0; i < 16; i++) await sink.write(pattern(MiB, i + 1));
      await sink.close();
      return undefined;
    } catch (error) {
      return error;
    }
  })();
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
