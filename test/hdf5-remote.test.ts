/**
 * HDF5 from a URL and from bytes, without a local copy: libhdf5 runs in a worker and
 * reads the file by range (`src/formats/hdf5/remote.ts`). The local test server counts
 * requests and bytes: opening costs the metadata, a row slice the chunks it touches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { openTensorFile } from '../src/operations/index.js';
import type { TensorReader } from '../src/model/types.js';
import { startHttpServer, type TestHttpServer } from './helpers/http-server.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function serve(t: { after(fn: () => unknown): void }): Promise<TestHttpServer> {
  const server = await startHttpServer();
  t.after(() => server.close());
  return server;
}

/** A 4 MiB float32 dataset [1024, 1024] in 64-row (256 KiB) chunks, plus a small one in a group. */
async function writeChunked(path: string, compression: 'gzip' | 'none'): Promise<Uint8Array> {
  const data = new Uint8Array(1024 * 1024 * 4);
  const view = new Float32Array(data.buffer);
  for (let i = 0; i < view.length; i++) view[i] = Math.sin(i / 1000) * (i % 977);
  const writer = await hdf5CreateWriter(path, {
    tensors: [{ name: 'big', dtype: 'float32', shape: [1024, 1024] }, { name: 'g/small', dtype: 'int16', shape: [3, 5] }],
    compression, chunked: true, chunkRows: { big: 64 },
  });
  await writer.add('big', data);
  await writer.add('g/small', new Uint8Array(30).map((_, i) => i));
  await writer.close();
  return data;
}

async function sameTensors(remote: TensorReader, local: TensorReader): Promise<void> {
  assert.deepEqual(remote.tensors, local.tensors);
  assert.deepEqual(remote.metadata, local.metadata);
  for (const info of local.tensors) assert.equal(sha((await remote.read(info.name)).data), sha((await local.read(info.name)).data), info.name);
}

for (const compression of ['none', 'gzip'] as const) {
  test(`remote HDF5 (${compression}): opening reads the metadata, a row slice the chunks it touches, a full read equals the local one`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'chunked.h5');
    const data = await writeChunked(path, compression);
    const file = await readFile(path);
    const server = await serve(t);
    server.put('chunked.h5', file);

    server.resetCounters();
    await using remote = await openTensorFile(server.url('range', 'chunked.h5'));
    const opened = { ...server.counters };
    // The metadata sits after the data in tensio's files: the first 64 KiB plus the tail's blocks.
    assert.ok(opened.bytes < 300 * 1024, `opening moved ${opened.bytes} bytes of ${file.byteLength}`);
    assert.deepEqual(remote.tensors.map((info) => info.name), ['big', 'g/small']);

    server.resetCounters();
    const rows = await remote.read('big', { slice: { start: 100, end: 110 } });
    assert.equal(sha(rows.data), sha(data.subarray(100 * 4096, 110 * 4096)));
    // One band of 1 MiB (4 chunks) at most: a quarter of the file.
    assert.ok(server.counters.bytes <= 1.1 * 2 ** 20, `a 10-row slice moved ${server.counters.bytes} bytes`);
    t.diagnostic(`${compression}: open ${opened.requests} requests / ${opened.bytes} bytes; 10-row slice ${server.counters.requests} requests / ${server.counters.bytes} bytes; file ${file.byteLength} bytes`);

    await using local = await hdf5Open(path);
    await sameTensors(remote, local);
  });
}

test('remote HDF5: corpus files (B-tree v1/v2, fixed and extensible arrays, compact, fletcher32, userblock) read as they do locally', { skip: sharedSkip('corpora/hdf5/EXPECTED.h5py.json') }, async (t) => {
  const server = await serve(t);
  const files = ['pyfive/btreev2.hdf5', 'jhdf/test_chunked_datasets_latest.hdf5', 'jhdf/test_compressed_chunked_datasets_earliest.hdf5', 'jhdf/test_compact_datasets_latest.hdf5', 'pyfive/fletcher32.hdf5', 'jhdf/test_userblock_latest.hdf5'];
  let tensors = 0;
  for (const name of files) {
    const path = sharedFile(`corpora/hdf5/${name}`)!;
    server.put(name, await readFile(path));
    await using remote = await openTensorFile(server.url('range', name));
    await using local = await hdf5Open(path);
    tensors += local.tensors.length;
    await sameTensors(remote, local);
  }
  assert.ok(tensors > 20, `${tensors} datasets compared`);
});

test('HDF5 from bytes in memory opens without a temporary file and reads like the file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'chunked.h5');
  await writeChunked(path, 'gzip');
  await using fromBytes = await openTensorFile(await readFile(path));
  await using local = await hdf5Open(path);
  await sameTensors(fromBytes, local);
});

test('remote HDF5: a file that changes between requests fails with SOURCE_CHANGED, never mixed bytes; a closed reader refuses reads', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'chunked.h5');
  await writeChunked(path, 'none');
  const server = await serve(t);
  server.put('chunked.h5', await readFile(path));
  await assert.rejects(async () => {
    await using reader = await openTensorFile(server.url('changing', 'chunked.h5'));
    await reader.read('big');
  }, (error) => isTensioError(error, 'SOURCE_CHANGED'));

  const reader = await openTensorFile(server.url('range', 'chunked.h5'));
  await reader.close();
  await assert.rejects(reader.read('g/small'), (error) => isTensioError(error, 'INVALID_STATE'));
});
