/**
 * Issue 16: changes that fail before their commit leave the store as it was (old data,
 * old bitmap, no staged files), in memory and on disk; a converter writer that is
 * aborted leaves the old store whole; a 0-row or new-array save never inherits a stray
 * bitmap of the same name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { NumPack, npkCreateWriter } from '../src/npk/index.js';
import { verifyTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';
import { patternTensor } from './helpers/npk-fixtures.js';

async function* failingStream(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes.subarray(0, 8);
  throw new Error('source went away');
}

const leftovers = async (path: string) => (await readdir(path)).filter((name) => name.includes('.tensio-'));

test('a save that fails mid-stream keeps the old array and its bitmap, and stages nothing', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  try {
    await npk.save({ x: patternTensor('int32', [6, 2], 1) });
    await npk.drop('x', [2]);
    const before = await npk.load('x');
    await assert.rejects(npk.saveStream('x', { dtype: 'int32', shape: [6, 2] }, failingStream(patternTensor('int32', [6, 2], 2).data)), /source went away/);
    assert.deepEqual(await npk.load('x'), before);
    assert.deepEqual(npk.getShape('x'), [5, 2]);
    assert.deepEqual(await leftovers(path), []);
    // And the store keeps working: a later save publishes normally.
    await npk.save({ x: patternTensor('int32', [2, 2], 3) });
    assert.deepEqual(await npk.load('x'), patternTensor('int32', [2, 2], 3));
  } finally {
    await npk.close();
  }
  assert.ok((await verifyTensorFile(path)).ok);
  assert.deepEqual((await readdir(path)).sort(), ['data_x.npkd', 'metadata.npkm']);
});

test('a drop whose publish is refused before its commit leaves rows and bitmap as they were', async (t) => {
  const { mkdir, rm } = await import('node:fs/promises');
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  try {
    await npk.save({ x: patternTensor('int32', [6], 1) });
    await npk.drop('x', [0]);
    const before = await npk.load('x');
    // A folder squats where the new bitmap must go: the publish refuses before committing.
    await rm(join(path, 'deleted_x.npkb'));
    await mkdir(join(path, 'deleted_x.npkb'));
    await assert.rejects(npk.drop('x', [0, 1]), (error) => isTensioError(error, 'IO_ERROR'));
    assert.deepEqual(npk.getShape('x'), [5]);
    assert.deepEqual(await npk.load('x'), before);
    assert.deepEqual(await leftovers(path), []);
    await rm(join(path, 'deleted_x.npkb'), { recursive: true });
    await npk.drop('x', [0]);
    assert.deepEqual(npk.getShape('x'), [4]);
  } finally {
    await npk.close();
  }
});

test('an aborted converter writer leaves the old store whole; a closed one replaces it in one commit', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  {
    await using npk = await NumPack.open(path, { durable: false });
    await npk.save({ a: patternTensor('uint8', [4], 1), b: patternTensor('float32', [2, 3], 2) });
    await npk.drop('b', [0]);
  }
  const plan = { tensors: [{ name: 'a', dtype: 'uint8' as const, shape: [3] }, { name: 'c', dtype: 'int64' as const, shape: [2] }], overwrite: true };
  const aborted = await npkCreateWriter(path, plan);
  await aborted.add('a', patternTensor('uint8', [3], 5).data);
  await aborted.abort();
  {
    await using npk = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), ['a', 'b']);
    assert.deepEqual(await npk.load('a'), patternTensor('uint8', [4], 1));
    assert.deepEqual(npk.getShape('b'), [1, 3]);
  }
  assert.deepEqual(await leftovers(path), []);
  const writer = await npkCreateWriter(path, plan);
  await writer.add('a', patternTensor('uint8', [3], 5).data);
  await writer.add('c', patternTensor('int64', [2], 6).data);
  // Until close() the old store is what readers see.
  {
    await using npk = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), ['a', 'b']);
  }
  await writer.close();
  await using npk = await NumPack.open(path, { readOnly: true });
  assert.deepEqual(npk.getMemberList(), ['a', 'c']);
  assert.deepEqual(await npk.load('a'), patternTensor('uint8', [3], 5));
  assert.deepEqual((await readdir(path)).sort(), ['data_a.npkd', 'data_c.npkd', 'metadata.npkm']);
});

test('a new array never inherits a stray bitmap of its name; an unreadable intent is refused, not guessed', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  try {
    await npk.save({ a: patternTensor('int32', [3], 1) });
    // A bitmap left by some other tool for a name the catalogue does not list.
    await writeFile(join(path, 'deleted_x.npkb'), Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0]));
    await npk.save({ x: patternTensor('int32', [4], 2) });
    assert.deepEqual(npk.getShape('x'), [4]);
  } finally {
    await npk.close();
  }
  {
    await using reader = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(reader.getShape('x'), [4]);
  }
  await writeFile(join(path, '.tensio-publish'), '{"version":1,"id":"zz"}');
  await assert.rejects(NumPack.open(path), (error) => isTensioError(error, 'INVALID_METADATA'));
});
