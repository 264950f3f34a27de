/**
 * Zarr over HTTP through the seam's HTTP store, with a request counter: opening a
 * consolidated store costs one request; a row slice fetches only the chunks it covers;
 * with sharding, the shard index (a suffix range) and then only the byte ranges of the
 * inner chunks the slice needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { zarrCreateWriter, zarrOpen, type ZarrReader } from '../src/formats/zarr/index.js';
import { openTensorFile } from '../src/operations/index.js';
import { putFolder, startHttpServer } from './helpers/http-server.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const ROWS = 64;
const COLS = 32;
const values = new Float32Array(ROWS * COLS).map((_, i) => i);
const bytes = new Uint8Array(values.buffer);

async function writeStore(path: string): Promise<void> {
  const tensors = [{ name: 'plain', dtype: 'float32' as const, shape: [ROWS, COLS] }, { name: 'deep/sharded', dtype: 'float32' as const, shape: [ROWS, COLS] }];
  // Inner chunks of 4×8 in shards of 16×32: 4 shards of 16 inner chunks each.
  const writer = await zarrCreateWriter(path, { tensors, formatOptions: { version: 3, compressor: 'gzip', chunks: [4, 8], shards: [16, COLS] } });
  for (const name of writer.order) await writer.add(name, bytes);
  await writer.close();
}

test('remote v3 store: one request to open (consolidated), a row slice fetches the shard index and only the inner chunks it covers', async (t) => {
  const dir = await tempDir(t);
  const server = await startHttpServer();
  t.after(() => server.close());
  const path = join(dir, 'data.zarr');
  await writeStore(path);
  await putFolder(server, path, 'data.zarr');
  const shardBytes = (await stat(join(path, 'plain', 'c', '0', '0'))).size;

  server.resetCounters();
  const reader = (await openTensorFile(`${server.origin}/range/data.zarr`)) as ZarrReader;
  t.after(() => reader.close());
  assert.equal(reader.format, 'zarr');
  assert.equal(server.counters.requests, 1, 'open reads the root zarr.json only');
  assert.deepEqual(reader.tensors.map((info) => info.name), ['deep/sharded', 'plain']);

  server.resetCounters();
  const rows = await reader.read('plain', { slice: { start: 20, end: 24 } });
  assert.deepEqual(rows.data, bytes.subarray(20 * COLS * 4, 24 * COLS * 4));
  // Rows 20..24 are inner-chunk row 5 of shard 1: the shard index (suffix range) + 4 inner chunks (32 columns / 8).
  assert.equal(server.counters.requests, 5);
  const ranged = server.log.slice(-5);
  assert.ok(ranged.every((request) => request.range !== undefined && request.path.endsWith('/plain/c/1/0')), JSON.stringify(ranged.map((r) => [r.path, r.range])));
  assert.ok(server.counters.bytes < shardBytes / 2, `${server.counters.bytes} bytes of a ${shardBytes}-byte shard`);

  // The index is cached: another slice of the same shard costs only its inner chunks.
  server.resetCounters();
  await reader.read('plain', { slice: { start: 16, end: 20 } });
  assert.equal(server.counters.requests, 4);

  const whole = await reader.read('deep/sharded');
  assert.deepEqual(whole.data, bytes);
});

test('remote v2 store written by tensio (consolidated .zmetadata): a row slice fetches one chunk per band', async (t) => {
  const dir = await tempDir(t);
  const server = await startHttpServer();
  t.after(() => server.close());
  const path = join(dir, 'v2.zarr');
  const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape: [ROWS, COLS] }], formatOptions: { version: 2, chunks: [8, COLS] } });
  await writer.add('x', bytes);
  await writer.close();
  await putFolder(server, path, 'v2.zarr');
  server.resetCounters();
  await using reader = await zarrOpen(`${server.origin}/range/v2.zarr`);
  assert.equal(server.counters.requests, 2, 'zarr.json (absent), then .zmetadata');
  server.resetCounters();
  const rows = await reader.read('x', { slice: { start: 8, end: 24 } });
  assert.deepEqual(rows.data, bytes.subarray(8 * COLS * 4, 24 * COLS * 4));
  assert.equal(server.counters.requests, 2, 'two chunks of 8 rows');
  assert.deepEqual(server.log.slice(-2).map((r) => r.path.split('/').pop()).sort(), ['1.0', '2.0']);
});

test('remote corpus: the consolidated v2 fixture group equals the local read; an unconsolidated group says what to do, its array opens by URL', { skip: sharedSkip('corpora/zarr/fixtures/v2/data.zarr', 'corpora/zarr/zarr_implementations/examples/zarr.zr') }, async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const local = sharedFile('corpora/zarr/fixtures/v2/data.zarr')!;
  await putFolder(server, local, 'data.zarr');
  await using remote = await zarrOpen(`${server.origin}/range/data.zarr`);
  await using here = await zarrOpen(local);
  assert.equal(remote.metadata.consolidated, true);
  assert.deepEqual(remote.tensors.map((info) => info.name), here.tensors.map((info) => info.name));
  for (const info of here.tensors) assert.deepEqual((await remote.read(info.name)).data, (await here.read(info.name)).data, info.name);

  const images = sharedFile('corpora/zarr/zarr_implementations/examples/zarr.zr')!;
  await putFolder(server, images, 'zarr.zr');
  await assert.rejects(zarrOpen(`${server.origin}/range/zarr.zr`), (error: Error & { code?: string }) => error.code === 'UNSUPPORTED_FEATURE' && /consolidate/.test(error.message));
  await using image = await zarrOpen(`${server.origin}/range/zarr.zr/blosc`);
  server.resetCounters();
  const band = await image.read(image.tensors[0]!.name, { slice: { start: 0, end: 100 } });
  assert.equal(band.data.byteLength, 100 * 512 * 3);
  // One band of 100 rows: 6 chunk columns (512 / 100) × 3 channel chunks.
  assert.equal(server.counters.requests, 18);
});

test('remote zip store: a .zarr.zip over HTTP reads every array equal to the local zip, by range requests (never the whole archive at once)', { skip: sharedSkip('corpora/zarr/fixtures/v3/data.zipped_from_within.zarr.zip') }, async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const local = sharedFile('corpora/zarr/fixtures/v3/data.zipped_from_within.zarr.zip')!;
  const { readFile } = await import('node:fs/promises');
  const archive = await readFile(local);
  server.put('data.zarr.zip', archive);
  server.resetCounters();
  await using remote = await zarrOpen(`${server.origin}/range/data.zarr.zip`);
  await using here = await zarrOpen(local);
  assert.deepEqual(remote.tensors.map((info) => info.name), here.tensors.map((info) => info.name));
  assert.ok(remote.tensors.length >= 35, `${remote.tensors.length} arrays`);
  for (const info of here.tensors) assert.deepEqual((await remote.read(info.name)).data, (await here.read(info.name)).data, info.name);
  assert.ok(server.log.every((request) => request.range !== undefined), 'every request is a range request');
  assert.ok(server.log.every((request) => request.bytes < archive.byteLength), 'no request fetched the whole archive');
});
