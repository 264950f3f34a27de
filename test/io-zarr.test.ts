/**
 * `tensio/io`'s `fromZarr` / `toZarr` with NumPack's semantics: direct child arrays of
 * one group (sub-groups skipped unless `recursive`), `arrayNames` checked, the default
 * compressor Blosc zstd level 3 with bitshuffle, `null` = raw; stores written read equal
 * in Debian's zarr-python 2.13 (v2) and in tensio (v3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromZarr, toZarr, NumPack } from '../src/io/index.js';
import { zarrOpen } from '../src/formats/zarr/index.js';
import type { Tensor } from '../src/core/tensor.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';
import { debianZarrRead, debianZarrSkip, sha256 } from './helpers/zarr-oracle.js';

const CONSOLIDATED = 'corpora/zarr/fixtures/v3/data.zarr/consolidated';

async function members(path: string): Promise<string[]> {
  await using store = await NumPack.open(path, { readOnly: true });
  return store.getMemberList().sort();
}

test('fromZarr: direct children of the group by default, sub-groups with recursive, a named group, unknown names refused', { skip: sharedSkip(CONSOLIDATED) }, async (t) => {
  const dir = await tempDir(t);
  const source = sharedFile(CONSOLIDATED)!;
  await fromZarr(source, join(dir, 'a.npk'));
  assert.deepEqual(await members(join(dir, 'a.npk')), ['1d.chunked.i2', '2d.contiguous.i2']);
  await fromZarr(source, join(dir, 'b.npk'), { recursive: true });
  assert.deepEqual(await members(join(dir, 'b.npk')), ['1d.chunked.i2', '2d.contiguous.i2', 'nested.1d.i2']);
  await fromZarr(source, join(dir, 'c.npk'), { group: '/nested' });
  assert.deepEqual(await members(join(dir, 'c.npk')), ['1d.i2']);
  await assert.rejects(fromZarr(source, join(dir, 'd.npk'), { arrayNames: ['nope'] }), { code: 'NOT_FOUND' });
  {
    await using store = await NumPack.open(join(dir, 'b.npk'), { readOnly: true });
    const nested = await store.load('nested.1d.i2');
    assert.deepEqual([...new Int16Array(nested.data.slice().buffer)], [10, 20, 30, 40]);
  }
});

test('toZarr: NumPack default compressor (Blosc zstd 3 bitshuffle), null = raw, a group, both versions; back with fromZarr equal', async (t) => {
  const dir = await tempDir(t);
  const npk = join(dir, 'in.npk');
  const data = new Float32Array(50 * 10).map((_, i) => Math.sin(i));
  const tensor: Tensor = { dtype: 'float32', shape: [50, 10], data: new Uint8Array(data.buffer) };
  {
    await using store = await NumPack.open(npk);
    await store.save({ data: tensor });
  }
  await toZarr(npk, join(dir, 'v3.zarr'));
  const meta = JSON.parse(readFileSync(join(dir, 'v3.zarr', 'data', 'zarr.json'), 'utf8'));
  assert.deepEqual(meta.codecs[1], { name: 'blosc', configuration: { cname: 'zstd', clevel: 3, shuffle: 'bitshuffle', typesize: 4, blocksize: 0 } });
  await toZarr(npk, join(dir, 'raw.zarr'), { version: 2, compressor: null, group: '/g' });
  const zarray = JSON.parse(readFileSync(join(dir, 'raw.zarr', 'g', 'data', '.zarray'), 'utf8'));
  assert.equal(zarray.compressor, null);
  await using reader = await zarrOpen(join(dir, 'raw.zarr'), { formatOptions: { group: 'g' } });
  assert.equal(sha256((await reader.read('data')).data), sha256(tensor.data));
  if (!debianZarrSkip()) assert.equal(debianZarrRead(join(dir, 'raw.zarr'))['g/data']!.sha256, sha256(tensor.data));
  await fromZarr(join(dir, 'v3.zarr'), join(dir, 'back.npk'));
  await using back = await NumPack.open(join(dir, 'back.npk'), { readOnly: true });
  assert.equal(sha256((await back.load('data')).data), sha256(tensor.data));
});
