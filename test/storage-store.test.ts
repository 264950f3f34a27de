import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytesSource, readRange } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { folderStore } from '../src/storage/folder-store.js';
import { checkStoreKey, joinKey, keyFolder } from '../src/storage/store.js';
import { describeSourceInput, isHttpUrl, localPathOf, openSourceInput, storeOfInput } from '../src/storage/source-input.js';
import { isTensioError } from '../src/core/errors.js';
import { openTensorFile } from '../src/operations/index.js';
import { verifyTensorFile } from '../src/operations/index.js';
import { convert } from '../src/operations/index.js';
import { safetensorsSerialize } from '../src/formats/safetensors/write.js';
import { npySerialize } from '../src/formats/npy/write.js';
import { tempDir } from './helpers/temp.js';

const pattern = new Uint8Array(5000).map((_, i) => (i * 13 + 1) & 0xff);

test('readRange: offset ranges and suffix ranges (clamped to the size)', async () => {
  const source = bytesSource(pattern);
  assert.deepEqual([...(await readRange(source, { offset: 10, length: 4 }))], [...pattern.subarray(10, 14)]);
  assert.deepEqual([...(await readRange(source, { suffix: 22 }))], [...pattern.subarray(5000 - 22)]);
  assert.equal((await readRange(source, { suffix: 1 << 20 })).byteLength, 5000);
  await assert.rejects(readRange(source, { suffix: -1 }), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
});

test('sinks declare whether they can patch; memory and atomic file sinks can', async (t) => {
  const memory = memorySink();
  assert.equal(memory.canWriteAt, true);
  await memory.write(new Uint8Array([1, 2, 3]));
  await memory.write(new Uint8Array([4, 5, 6]));
  await memory.writeAt!(2, new Uint8Array([9, 9]));
  await assert.rejects(memory.writeAt!(5, new Uint8Array([1, 1])), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  await memory.close();
  assert.deepEqual([...memory.bytes()], [1, 2, 9, 9, 5, 6]);
  const dir = await tempDir(t);
  const file = await atomicFileSink(join(dir, 'x.bin'));
  assert.equal(file.canWriteAt, true);
  await file.abort();
});

test('store keys: relative /-separated names only', () => {
  for (const good of ['a', 'a/b.bin', 'data_x.npkd', 'x y/z']) assert.doesNotThrow(() => checkStoreKey(good));
  for (const bad of ['', '/a', 'a/../b', '..', 'a//b', 'a\\b', './a', 'a/', 'a\0b']) {
    assert.throws(() => checkStoreKey(bad), (e) => isTensioError(e, 'INVALID_NAME'), bad);
  }
  assert.doesNotThrow(() => checkStoreKey('a/', { folder: true }));
  assert.equal(keyFolder('a/b/c.bin'), 'a/b/');
  assert.equal(keyFolder('c.bin'), '');
  assert.equal(joinKey('a/', 'b.bin'), 'a/b.bin');
  assert.throws(() => joinKey('a/', '../../etc/passwd'), (e) => isTensioError(e, 'INVALID_NAME'));
});

test('folderStore: write atomically, list, read whole/range/suffix, open, delete', async (t) => {
  const dir = await tempDir(t);
  const store = folderStore(join(dir, 'root'));
  assert.equal(store.canList && store.canWrite, true);
  assert.deepEqual(await store.list(), []); // the folder does not exist yet
  await store.write('a.bin', pattern);
  await store.write('sub/deeper/b.bin', new Uint8Array([1, 2, 3]));
  assert.deepEqual(await store.list(), ['a.bin', 'sub/deeper/b.bin']);
  assert.deepEqual(await store.list('sub/'), ['sub/deeper/b.bin']);
  assert.deepEqual(await store.list('', { recursive: false }), ['a.bin', 'sub/']);
  assert.deepEqual([...(await store.read('a.bin'))], [...pattern]);
  assert.deepEqual([...(await store.read('a.bin', { offset: 100, length: 5 }))], [...pattern.subarray(100, 105)]);
  assert.deepEqual([...(await store.read('a.bin', { suffix: 7 }))], [...pattern.subarray(5000 - 7)]);
  await assert.rejects(store.read('a.bin', { offset: 4999, length: 2 }), (e) => isTensioError(e, 'TRUNCATED'));
  await assert.rejects(store.read('missing.bin'), (e) => isTensioError(e, 'NOT_FOUND'));
  await assert.rejects(store.read('../escape.bin'), (e) => isTensioError(e, 'INVALID_NAME'));
  assert.equal(await store.has('a.bin'), true);
  assert.equal(await store.has('sub'), false);
  await using source = await store.open('a.bin');
  assert.equal(source.size, 5000);
  await assert.rejects(store.write('a.bin', pattern, { noOverwrite: true }), (e) => isTensioError(e, 'ALREADY_EXISTS'));
  const sink = await store.sink('c.bin');
  await sink.write(new Uint8Array([7]));
  assert.equal(await store.has('c.bin'), false, 'nothing is visible before close()');
  await sink.close();
  assert.equal(await store.has('c.bin'), true);
  await store.delete('c.bin');
  await store.delete('c.bin'); // missing: not an error
  assert.equal(await store.has('c.bin'), false);
  // no temporary files left behind
  assert.deepEqual((await readdir(join(dir, 'root'))).sort(), ['a.bin', 'sub']);
});

test('source inputs: paths, file: URLs, http URLs and bytes are told apart', async (t) => {
  assert.equal(isHttpUrl('https://h/x'), true);
  assert.equal(isHttpUrl(new URL('http://h/x')), true);
  assert.equal(isHttpUrl('/tmp/x'), false);
  assert.equal(localPathOf('file:///tmp/x.npy'), '/tmp/x.npy');
  assert.equal(localPathOf(new URL('file:///tmp/x.npy')), '/tmp/x.npy');
  assert.equal(localPathOf('https://h/x.npy'), undefined);
  assert.equal(localPathOf('rel/x.npy'), 'rel/x.npy');
  assert.equal(describeSourceInput('https://user:secret@h/x.npy'), 'https://h/x.npy');
  assert.equal(describeSourceInput(new Uint8Array(1)), '<bytes>');
  const dir = await tempDir(t);
  await writeFile(join(dir, 'x.bin'), pattern);
  const opened = await openSourceInput(pathToFileURL(join(dir, 'x.bin')));
  assert.equal(opened.owned, true);
  assert.equal(opened.source.size, 5000);
  await opened.source.close?.();
  const wrapped = await openSourceInput(pattern);
  assert.equal(wrapped.owned, false);
  const { store, key } = storeOfInput(join(dir, 'x.bin'));
  assert.equal(key, 'x.bin');
  assert.deepEqual(await store.list(), ['x.bin']);
  await assert.rejects(openSourceInput('ftp://h/x'), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE'));
});

const tensors = { w: { dtype: 'float32' as const, shape: [2, 3], data: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer) } };

test('openTensorFile, verifyTensorFile and convert accept bytes, sources and file: URLs', async (t) => {
  const file = safetensorsSerialize(tensors);
  {
    await using reader = await openTensorFile(file);
    assert.equal(reader.format, 'safetensors');
    assert.deepEqual((await reader.read('w')).shape, [2, 3]);
  }
  {
    await using reader = await openTensorFile(bytesSource(npySerialize({ dtype: 'int16', shape: [4], data: new Uint8Array(8) }), 'x.npy'));
    assert.equal(reader.format, 'npy');
    assert.deepEqual(reader.tensors[0]!.shape, [4]);
  }
  await assert.rejects(openTensorFile(new Uint8Array([1, 2, 3, 4])), (e) => isTensioError(e, 'UNKNOWN_FORMAT'));
  await assert.rejects(openTensorFile(42 as never), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  const report = await verifyTensorFile(file);
  assert.equal(report.ok, true);
  assert.equal(report.tensors, 1);
  const broken = file.slice(0, file.byteLength - 4);
  const bad = await verifyTensorFile(broken, { format: 'safetensors' });
  assert.equal(bad.ok, false);
  const dir = await tempDir(t);
  const out = join(dir, 'out.npz');
  await convert(file, out);
  const input = join(dir, 'in.safetensors');
  await writeFile(input, file);
  {
    await using reader = await openTensorFile(pathToFileURL(input));
    assert.equal(reader.tensors.length, 1);
  }
  {
    await using reader = await openTensorFile(out);
    assert.equal(reader.format, 'npz');
    assert.deepEqual([...(await reader.read('w')).data], [...tensors.w.data]);
  }
});
