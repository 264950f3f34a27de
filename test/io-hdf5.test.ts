/**
 * `tensio/io`'s `fromHdf5` / `toHdf5` with NumPack's semantics: direct child datasets of
 * one group (sub-groups skipped unless `recursive`), `datasetNames` relative to the
 * group and checked; `toHdf5` writes gzip level 4 in chunks of `estimate_chunk_rows`
 * rows by default, `compression: null` uncompressed (still chunked, as NumPack), into a group; h5py reads what it writes equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fromHdf5, toHdf5, NumPack } from '../src/io/index.js';
import { hdf5CreateWriter } from '../src/formats/hdf5/index.js';
import type { Tensor } from '../src/core/tensor.js';
import { patternTensor } from './helpers/npk-fixtures.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function members(path: string): Promise<string[]> {
  await using store = await NumPack.open(path, { readOnly: true });
  return store.getMemberList().sort();
}

test('fromHdf5: direct children of the group by default, sub-groups with recursive, a named group, datasetNames, unknown names refused', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'tree.h5');
  const tensors: Record<string, Tensor> = {
    a: patternTensor('float32', [6, 2], 1),
    b: patternTensor('int16', [4], 2),
    'g/c': patternTensor('uint8', [3, 3], 3),
    'g/h/d': patternTensor('float64', [2], 4),
  };
  const writer = await hdf5CreateWriter(source, { tensors: Object.entries(tensors).map(([name, x]) => ({ name, dtype: x.dtype, shape: x.shape })) });
  for (const name of writer.order) await writer.add(name, tensors[name]!.data);
  await writer.close();
  await fromHdf5(source, join(dir, 'root.npk'));
  assert.deepEqual(await members(join(dir, 'root.npk')), ['a', 'b']);
  await fromHdf5(source, join(dir, 'all.npk'), { recursive: true });
  assert.deepEqual(await members(join(dir, 'all.npk')), ['a', 'b', 'g.c', 'g.h.d']);
  await fromHdf5(source, join(dir, 'g.npk'), { group: '/g' });
  assert.deepEqual(await members(join(dir, 'g.npk')), ['c']);
  await fromHdf5(source, join(dir, 'named.npk'), { group: 'g', datasetNames: ['h/d'] });
  assert.deepEqual(await members(join(dir, 'named.npk')), ['h.d']);
  await assert.rejects(fromHdf5(source, join(dir, 'x.npk'), { datasetNames: ['nope'] }), { code: 'NOT_FOUND' });
  await using store = await NumPack.open(join(dir, 'all.npk'), { readOnly: true });
  for (const [name, tensor] of Object.entries(tensors)) assert.equal(sha((await store.load(name.split('/').join('.'))).data), sha(tensor.data), name);
});

test('toHdf5: gzip 4 in estimate_chunk_rows chunks by default, compression null uncompressed, into a group; h5py reads it equal; back with fromHdf5', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const npk = join(dir, 'in.npk');
  const data = patternTensor('float32', [5000, 7], 9);
  const ids = patternTensor('int64', [300], 8);
  {
    await using store = await NumPack.open(npk);
    await store.save({ data, ids });
  }
  await toHdf5(npk, join(dir, 'gz.h5'), { chunkSize: 28_000 });
  await toHdf5(npk, join(dir, 'raw.h5'), { compression: null, group: '/g', arrayNames: ['data'] });
  const { stdout } = runPython(String.raw`
import h5py, hashlib, json, sys, numpy as np
out = {}
for path in sys.argv[1:]:
    with h5py.File(path, 'r') as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[path.split('/')[-1] + ':' + name] = {'chunks': obj.chunks, 'compression': obj.compression, 'opts': obj.compression_opts,
                    'sha': hashlib.sha256(np.ascontiguousarray(obj[()]).tobytes()).hexdigest()}
        f.visititems(visit)
print(json.dumps(out))
`, [join(dir, 'gz.h5'), join(dir, 'raw.h5')]);
  const seen = JSON.parse(stdout) as Record<string, { chunks: number[] | null; compression: string | null; opts: number | null; sha: string }>;
  assert.deepEqual(Object.keys(seen).sort(), ['gz.h5:data', 'gz.h5:ids', 'raw.h5:g/data']);
  assert.deepEqual(seen['gz.h5:data'], { chunks: [1000, 7], compression: 'gzip', opts: 4, sha: sha(data.data) }); // 28 000 B / 28 B per row
  assert.deepEqual(seen['gz.h5:ids'], { chunks: [300], compression: 'gzip', opts: 4, sha: sha(ids.data) });
  // NumPack passes chunks to h5py whatever the compression: 100 MiB / 28 B rows → every row in one chunk.
  assert.deepEqual(seen['raw.h5:g/data'], { chunks: [5000, 7], compression: null, opts: null, sha: sha(data.data) });
  await fromHdf5(join(dir, 'raw.h5'), join(dir, 'back.npk'), { group: 'g' });
  await using back = await NumPack.open(join(dir, 'back.npk'), { readOnly: true });
  assert.equal(sha((await back.load('data')).data), sha(data.data));
});
