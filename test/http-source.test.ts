import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpSource } from '../src/storage/http-source.js';
import { httpStore } from '../src/storage/http-store.js';
import { readStoreText } from '../src/storage/store.js';
import { isTensioError } from '../src/core/errors.js';
import { startHttpServer } from './helpers/http-server.js';

const big = new Uint8Array(3 * 2 ** 20 + 123).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
const small = new Uint8Array(1000).map((_, i) => i & 0xff);

async function server(t: { after(fn: () => unknown): void }) {
  const s = await startHttpServer();
  t.after(() => s.close());
  s.put('big.bin', big);
  s.put('small.bin', small);
  s.put('dir/sub file.bin', small);
  s.put('empty.bin', new Uint8Array(0));
  return s;
}

const fast = { retryDelayMs: 1 };

test('http: opening takes one request that learns the size; reads are exact; cache and coalescing', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('range', 'big.bin'), fast);
  assert.equal(source.size, big.byteLength);
  assert.equal(source.rangeSupported, true);
  assert.equal(s.counters.requests, 1);
  assert.deepEqual(await source.read(10, 100), big.subarray(10, 110)); // from the head block
  assert.equal(s.counters.requests, 1);
  // 3 small blocks in a row → one coalesced request
  assert.deepEqual(await source.read(200_000, 150_000), big.subarray(200_000, 350_000));
  assert.equal(s.counters.requests, 2);
  // a large read passes through as one request, straight into the caller's buffer
  const target = new Uint8Array(2 ** 20 + 5);
  await source.readInto(target, 1_500_000);
  assert.deepEqual(target, big.subarray(1_500_000, 1_500_000 + target.byteLength));
  assert.equal(s.counters.requests, 3);
  // the end, concurrently with others
  const [a, b] = await Promise.all([source.read(big.byteLength - 10, 10), source.read(700_000, 10)]);
  assert.deepEqual(a, big.subarray(big.byteLength - 10));
  assert.deepEqual(b, big.subarray(700_000, 700_010));
  await assert.rejects(source.read(big.byteLength - 5, 6), (e) => isTensioError(e, 'TRUNCATED'));
});

test('http: small and empty files', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('range', 'small.bin'));
  assert.equal(source.size, 1000);
  assert.deepEqual(await source.read(0, 1000), small);
  await using empty = await httpSource(s.url('range', 'empty.bin'));
  assert.equal(empty.size, 0);
  await assert.rejects(httpSource(s.url('range', 'absent.bin')), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('http: a server that ignores Range is read from the front only, never whole', async (t) => {
  const s = await server(t);
  {
    await using source = await httpSource(s.url('norange', 'big.bin'), { ...fast, noRangeMaxBytes: 2 ** 20 });
    assert.equal(source.rangeSupported, false);
    assert.equal(source.size, big.byteLength);
    assert.ok(s.log[0]!.bytes === big.byteLength, 'the server sent its whole body');
    assert.ok(source.stats.bytesReceived < 2 * 65536 + 65536, `read only the front: ${source.stats.bytesReceived} bytes`);
    assert.deepEqual(await source.read(0, 100), big.subarray(0, 100));
    // within the limit: a new request, bytes before the offset skipped, the connection closed early
    assert.deepEqual(await source.read(500_000, 1000), big.subarray(500_000, 501_000));
    assert.ok(source.stats.bytesReceived < 1_000_000, `${source.stats.bytesReceived}`);
    await assert.rejects(source.read(2_000_000, 10), (e) => isTensioError(e, 'RANGE_NOT_SUPPORTED'));
  }
  {
    await using source = await httpSource(s.url('norange', 'small.bin'));
    assert.deepEqual(await source.read(900, 100), small.subarray(900));
  }
  {
    await using source = await httpSource(s.url('nolength', 'small.bin'));
    assert.equal(source.size, 1000);
    assert.deepEqual(await source.read(0, 1000), small);
  }
  await assert.rejects(httpSource(s.url('nolength', 'big.bin'), { noRangeMaxBytes: 2 ** 20 }), (e) => isTensioError(e, 'RANGE_NOT_SUPPORTED'));
});

test('http: a dropped connection is retried from where it stopped', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('drop', 'big.bin'), fast);
  const target = new Uint8Array(2 ** 21);
  await source.readInto(target, 100_000);
  assert.deepEqual(target, big.subarray(100_000, 100_000 + 2 ** 21));
  assert.ok(source.stats.retries >= 2, `${source.stats.retries} retries`);
  const resumed = s.log.filter((r) => r.range?.startsWith('bytes=') && r.range !== 'bytes=0-65535');
  assert.ok(resumed.some((r) => r.range === `bytes=${100_000 + 2 ** 20}-${100_000 + 2 ** 21 - 1}`), 'the retry asked only for the missing half');
  await assert.rejects(httpSource(s.url('drop', 'big.bin'), { retries: 0 }), (e) => isTensioError(e, 'IO_ERROR'));
});

test('http: 503 twice then success; retries are bounded', async (t) => {
  const s = await server(t);
  {
    await using source = await httpSource(s.url('flaky', 'small.bin'), fast);
    assert.equal(source.size, 1000);
    assert.equal(source.stats.retries, 2);
  }
  await assert.rejects(httpSource(s.url('flaky', 'big.bin'), { retries: 1, retryDelayMs: 1 }), (e) => isTensioError(e, 'HTTP_ERROR'));
});

test('http: redirects to another host never carry credentials; same host keeps them', async (t) => {
  const s = await server(t);
  s.resetCounters();
  {
    await using source = await httpSource(s.url('redirect', 'small.bin'), { headers: { Authorization: 'Bearer secret', Cookie: 'a=b', 'X-Other': '1' } });
    assert.deepEqual(await source.read(0, 1000), small);
  }
  const landed = s.log.filter((r) => r.path === '/range/small.bin');
  assert.ok(landed.length >= 1);
  for (const r of landed) {
    assert.equal(r.host, 'localhost');
    assert.equal(r.authorization, undefined, 'Authorization must not reach another host');
    assert.equal(r.cookie, undefined, 'Cookie must not reach another host');
  }
  assert.equal(s.log.find((r) => r.path === '/redirect/small.bin')!.authorization, 'Bearer secret');
  s.resetCounters();
  {
    await using source = await httpSource(s.url('redirect', 'small.bin'));
    assert.equal(source.size, 1000);
  }
  s.resetCounters();
  {
    await using source = await httpSource(s.url('redirect-same', 'small.bin'), { headers: { Authorization: 'Bearer secret' } });
    assert.equal(source.size, 1000);
  }
  assert.equal(s.log.find((r) => r.path === '/range/small.bin')!.authorization, 'Bearer secret');
  // tokens: 401 without, fine with
  await assert.rejects(httpSource(s.url('private', 'small.bin')), (e) => isTensioError(e, 'ACCESS_DENIED'));
  await using ok = await httpSource(s.url('private', 'small.bin'), { headers: { Authorization: 'Bearer secret' } });
  assert.equal(ok.size, 1000);
});

test('http: a file that changes while read is SOURCE_CHANGED (If-Match, and ETag compared)', async (t) => {
  const s = await server(t);
  for (const mode of ['changing', 'changing-noifmatch']) {
    await using source = await httpSource(s.url(mode, 'big.bin'), fast);
    await assert.rejects(source.read(2 ** 20, 10), (e) => isTensioError(e, 'SOURCE_CHANGED'), mode);
  }
});

test('http: hostile answers are TensioErrors with their codes', async (t) => {
  const s = await server(t);
  await assert.rejects(httpSource(s.url('lie-range', 'big.bin'), fast), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  await assert.rejects(httpSource(s.url('lie-length', 'big.bin'), fast), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  await assert.rejects(httpSource(s.url('huge', 'big.bin'), fast), (e) => isTensioError(e, 'SIZE_OVERFLOW'));
  await assert.rejects(httpSource(s.url('loop', 'big.bin'), fast), (e) => isTensioError(e, 'TOO_MANY_REDIRECTS'));
  await assert.rejects(httpSource(s.url('redirect', 'big.bin'), { maxRedirects: 0 }), (e) => isTensioError(e, 'TOO_MANY_REDIRECTS'));
  await assert.rejects(httpSource('ftp://127.0.0.1/x'), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(httpSource(s.url('gzip', 'big.bin'), fast), (e) => isTensioError(e, 'HTTP_ERROR'));
});

test('http: slow server — abort signal stops a read promptly; idle timeout counts as a drop', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('slow', 'big.bin'), fast);
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(source.read(1_000_000, 2 ** 20, { signal: controller.signal }), (e) => isTensioError(e, 'ABORTED'));
  assert.ok(Date.now() - started < 5000);
  const opened = new AbortController();
  opened.abort();
  await assert.rejects(httpSource(s.url('slow', 'big.bin'), { signal: opened.signal }), (e) => isTensioError(e, 'ABORTED'));
  await assert.rejects(httpSource(s.url('slow', 'big.bin'), { timeoutMs: 5, retries: 1, retryDelayMs: 1 }), (e) => isTensioError(e, 'TIMEOUT'));
});

test('http: concurrency limit holds requests in flight', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('slow', 'big.bin'), { concurrency: 2, cache: { passThroughBytes: 1 } });
  s.resetCounters();
  const reads = Array.from({ length: 8 }, (_, i) => source.read(i * 300_000, 1000));
  const results = await Promise.all(reads);
  results.forEach((bytes, i) => assert.deepEqual(bytes, big.subarray(i * 300_000, i * 300_000 + 1000)));
  assert.equal(s.counters.requests, 8);
  assert.equal(s.counters.maxInFlight, 2);
});

test('httpStore: keys relative to a base URL, suffix ranges, read-only', async (t) => {
  const s = await server(t);
  const store = httpStore(`${s.origin}/range/`, fast);
  t.after(() => store.close());
  assert.equal(store.canList, false);
  assert.equal(store.canWrite, false);
  assert.equal(await store.has('small.bin'), true);
  assert.equal(await store.has('absent.bin'), false);
  assert.equal(await store.has('empty.bin'), true);
  assert.deepEqual(await store.read('dir/sub file.bin'), small);
  s.resetCounters();
  assert.deepEqual(await store.read('big.bin', { suffix: 22 }), big.subarray(big.byteLength - 22));
  assert.equal(s.counters.requests, 1);
  assert.equal(s.log[0]!.range, 'bytes=-22', 'a real suffix request, no HEAD');
  assert.deepEqual(await store.read('small.bin', { suffix: 5000 }), small);
  assert.deepEqual(await store.read('big.bin', { offset: 5, length: 10 }), big.subarray(5, 15));
  await assert.rejects(store.read('small.bin', { offset: 995, length: 10 }), (e) => isTensioError(e, 'TRUNCATED'));
  await assert.rejects(store.read('absent.bin'), (e) => isTensioError(e, 'NOT_FOUND'));
  await assert.rejects(store.read('../escape'), (e) => isTensioError(e, 'INVALID_NAME'));
  await assert.rejects(store.list(), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE'));
  await assert.rejects(store.write('x', small), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE'));
  await using opened = await store.open('big.bin');
  assert.equal(opened.size, big.byteLength);
  const noRange = httpStore(`${s.origin}/norange/`, fast);
  t.after(() => noRange.close());
  assert.deepEqual(await noRange.read('small.bin', { suffix: 10 }), small.subarray(990));
  assert.equal(await readStoreText(noRange, 'small.bin').then((text) => text.length > 0), true);
});

test('openTensorFile, verifyTensorFile and convert read a single-file format from a URL', async (t) => {
  const { safetensorsSerialize } = await import('../src/formats/safetensors/write.js');
  const { openTensorFile, verifyTensorFile, convert } = await import('../src/operations/index.js');
  const { tempDir } = await import('./helpers/temp.js');
  const { join } = await import('node:path');
  const s = await server(t);
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  s.put('m.safetensors', safetensorsSerialize({ w: { dtype: 'float32', shape: [2, 2], data } }));
  {
    await using reader = await openTensorFile(s.url('private', 'm.safetensors'), { http: { headers: { Authorization: 'Bearer secret' } } });
    assert.equal(reader.format, 'safetensors');
    assert.equal(reader.path, s.url('private', 'm.safetensors'));
    assert.deepEqual((await reader.read('w')).data, data);
  }
  {
    await using reader = await openTensorFile(new URL(s.url('range', 'm.safetensors')));
    assert.deepEqual(reader.tensors[0]!.shape, [2, 2]);
  }
  assert.equal((await verifyTensorFile(s.url('range', 'm.safetensors'))).ok, true);
  const dir = await tempDir(t);
  await convert(s.url('range', 'm.safetensors'), join(dir, 'm.npy'));
  {
    await using reader = await openTensorFile(join(dir, 'm.npy'));
    assert.deepEqual((await reader.read(reader.tensors[0]!.name)).data, data);
  }
});

test('http: sequential large reads are fetched ahead; a seek or a changed file is still right', async (t) => {
  const s = await server(t);
  await using source = await httpSource(s.url('range', 'big.bin'), { readAheadDepth: 2 });
  const chunk = new Uint8Array(2 ** 20);
  for (let offset = 0; offset + chunk.byteLength <= big.byteLength; offset += chunk.byteLength) {
    await source.readInto(chunk, offset);
    assert.deepEqual(chunk, big.subarray(offset, offset + chunk.byteLength), `chunk at ${offset}`);
  }
  const requests = s.counters.requests;
  assert.ok(requests <= 1 + 3 + 2, `${requests} requests: one per chunk plus at most depth ahead`);
  await source.readInto(chunk, 12345); // a seek: read-ahead dropped, the bytes still right
  assert.deepEqual(chunk, big.subarray(12345, 12345 + chunk.byteLength));
  await using changing = await httpSource(s.url('changing', 'big.bin'), { readAheadDepth: 2 });
  await assert.rejects(changing.readInto(chunk, 0), (e) => isTensioError(e, 'SOURCE_CHANGED'));
});
