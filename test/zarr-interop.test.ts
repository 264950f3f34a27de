/**
 * Zarr stores zarr-python writes, beyond the corpus: Debian's zarr-python 2.13 writes
 * every Blosc compressor × shuffle (none, byte, bit) for three dtypes, the filters
 * (delta, fixedscaleoffset, bitround, shuffle), big-endian and Fortran-order arrays,
 * NaN fill values with chunks never written, nested groups and a `/` dimension separator;
 * tensio reads every array equal to what zarr-python reads back (sha256 of its
 * little-endian C-order bytes), whole and by N-d slices. And v3 layouts zarr-python may
 * write but tensio's writer does not (a shard index at the start, the v2 chunk key
 * encoding, a "." separator), made from a tensio store by moving bytes and keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { zarrOpen } from '../src/formats/zarr/index.js';
import { tempDir } from './helpers/temp.js';
import { debianZarrSkip, sha256 } from './helpers/zarr-oracle.js';

const WRITE = String.raw`
import sys, json, hashlib, zarr, numcodecs, numpy as np
path = sys.argv[1]
root = zarr.open_group(path, mode='w')
rng = np.random.default_rng(5)
data = {
    'f4': (rng.standard_normal((50, 33)) * 100).astype('<f4'),
    'i8': rng.integers(-2**40, 2**40, (50, 33)).astype('<i8'),
    'u2': rng.integers(0, 2**16, (50, 33)).astype('<u2'),
}
out = {}
def digest(name, z):
    a = np.ascontiguousarray(z[...])
    out[name] = {'sha256': hashlib.sha256(a.astype(a.dtype.newbyteorder('<')).tobytes()).hexdigest(), 'shape': list(a.shape)}
blosc = root.create_group('blosc')
for cname in ['lz4', 'lz4hc', 'zstd', 'zlib', 'blosclz']:
    for shuffle in [0, 1, 2]:
        for dtype, array in data.items():
            name = 'blosc/%s_%d_%s' % (cname, shuffle, dtype)
            digest(name, blosc.create_dataset(name.split('/')[1], data=array, chunks=(16, 10), compressor=numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle)))
ramp = np.arange(-500, 500, dtype='<i4').reshape(40, 25)
digest('filters/delta_i4', root.create_dataset('filters/delta_i4', data=ramp, chunks=(7, 25), filters=[numcodecs.Delta(dtype='<i4')], compressor=numcodecs.Zlib(1)))
digest('filters/delta_u1_astype', root.create_dataset('filters/delta_u1_astype', data=(np.arange(300) % 256).astype('u1'), chunks=(64,), filters=[numcodecs.Delta(dtype='u1')], compressor=None))
values = np.linspace(-10, 10, 999).astype('<f8')
digest('filters/fixedscaleoffset_f8', root.create_dataset('filters/fixedscaleoffset_f8', data=values, chunks=(100,), filters=[numcodecs.FixedScaleOffset(offset=0, scale=100, dtype='<f8', astype='<i4')], compressor=numcodecs.Blosc('zstd', 3, 2)))
digest('filters/bitround_f4', root.create_dataset('filters/bitround_f4', data=data['f4'], chunks=(10, 33), filters=[numcodecs.BitRound(keepbits=6)], compressor=numcodecs.GZip(5)))
digest('filters/shuffle_i8', root.create_dataset('filters/shuffle_i8', data=data['i8'], chunks=(9, 9), filters=[numcodecs.Shuffle(elementsize=8)], compressor=numcodecs.LZ4()))
digest('layout/big_endian_f8', root.create_dataset('layout/big_endian_f8', data=values.astype('>f8'), chunks=(128,), compressor=numcodecs.Blosc('lz4', 5, 1)))
digest('layout/fortran_i2', root.create_dataset('layout/fortran_i2', data=np.arange(7 * 11 * 13, dtype='<i2').reshape(7, 11, 13), chunks=(3, 4, 5), order='F', compressor=numcodecs.Zstd(3)))
sparse = root.create_dataset('layout/nan_fill_f4', shape=(30, 30), chunks=(8, 8), dtype='<f4', fill_value=float('nan'), compressor=numcodecs.Zlib(1))
sparse[3:9, 20:25] = 7.25
digest('layout/nan_fill_f4', sparse)
slash = zarr.open_array(path + '/layout/slash_separator_u4', mode='w', shape=(20, 6), chunks=(5, 5), dtype='<u4', dimension_separator='/', compressor=numcodecs.GZip(1))
slash[...] = np.arange(120, dtype='<u4').reshape(20, 6)
digest('layout/slash_separator_u4', slash)
zarr.consolidate_metadata(path)
print(json.dumps(out))
`;

test('every array Debian zarr-python 2.13 writes (15 Blosc cname × shuffle per dtype, filters, big-endian, F order, NaN fill, / separator) reads equal in tensio, whole and by N-d slices', { skip: debianZarrSkip() }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'python.zarr');
  const result = spawnSync('/usr/bin/python3', ['-c', WRITE, path], { encoding: 'utf8', timeout: 300_000, maxBuffer: 16 * 2 ** 20 });
  assert.equal(result.status, 0, result.stderr);
  const expected = JSON.parse(result.stdout) as Record<string, { sha256: string; shape: number[] }>;
  assert.equal(Object.keys(expected).length, 45 + 5 + 4);
  await using reader = await zarrOpen(path);
  assert.equal(reader.metadata.consolidated, true);
  assert.deepEqual(reader.tensors.map((info) => info.name).sort(), Object.keys(expected).sort());
  for (const [name, reference] of Object.entries(expected)) {
    const tensor = await reader.read(name);
    assert.deepEqual([...tensor.shape], reference.shape, name);
    assert.equal(sha256(tensor.data), reference.sha256, name);
  }
  // The NaN fill around the one written block, by an N-d slice across written and missing chunks.
  const box = new Float32Array((await reader.read('layout/nan_fill_f4', { slice: [[2, 4], [19, 21]] })).data.slice().buffer);
  assert.ok(Number.isNaN(box[0]) && Number.isNaN(box[1]) && Number.isNaN(box[2]), `${[...box]}`);
  assert.equal(box[3], 7.25);
  // F order, by an N-d slice: element [i, j, k] is i*143 + j*13 + k.
  const fortran = new Int16Array((await reader.read('layout/fortran_i2', { slice: [[5, 7], [9, 10], [11, 13]] })).data.slice().buffer);
  assert.deepEqual([...fortran], [5 * 143 + 9 * 13 + 11, 5 * 143 + 9 * 13 + 12, 6 * 143 + 9 * 13 + 11, 6 * 143 + 9 * 13 + 12]);
});

/** The parts of a v3 array document the layout test edits. */
interface ArrayDocument { codecs: { configuration?: Record<string, unknown> }[]; chunk_key_encoding: unknown }

test('v3 layouts tensio reads but does not write: a shard index at the start of each shard, the v2 chunk key encoding, a "." separator', async (t) => {
  const { zarrCreateWriter } = await import('../src/formats/zarr/index.js');
  const { crc32c } = await import('@node-rs/crc32');
  const { cp, readFile, readdir, rename, writeFile } = await import('node:fs/promises');
  const dir = await tempDir(t);
  const shape = [20, 12];
  const values = new Uint8Array(new Float32Array(20 * 12).map((_, i) => i * 1.5 - 40).buffer);
  const write = async (path: string, formatOptions: Record<string, unknown>) => {
    const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape }], formatOptions });
    await writer.add('x', values);
    await writer.close();
  };
  /** Edits the array's zarr.json and its copy in the root's consolidated metadata. */
  const editMeta = async (path: string, edit: (meta: ArrayDocument) => void) => {
    const own = JSON.parse(await readFile(join(path, 'x', 'zarr.json'), 'utf8')) as ArrayDocument;
    edit(own);
    await writeFile(join(path, 'x', 'zarr.json'), JSON.stringify(own));
    const root = JSON.parse(await readFile(join(path, 'zarr.json'), 'utf8'));
    if (root.consolidated_metadata) root.consolidated_metadata.metadata.x = own;
    await writeFile(join(path, 'zarr.json'), JSON.stringify(root));
  };

  // Shards of 8 × 12 in inner chunks of 4 × 6: 4 inner chunks, an index of 4 × 16 bytes + crc32c.
  const atStart = join(dir, 'start.zarr');
  await write(atStart, { compressor: 'gzip', chunks: [4, 6], shards: [8, 12] });
  const indexBytes = 4 * 16;
  for (const row of await readdir(join(atStart, 'x', 'c'))) {
    const path = join(atStart, 'x', 'c', row, '0');
    const shard = new Uint8Array(await readFile(path));
    const data = shard.subarray(0, shard.byteLength - indexBytes - 4);
    const index = new DataView(shard.slice(data.byteLength, data.byteLength + indexBytes).buffer);
    for (let i = 0; i < 4; i += 1) {
      const offset = index.getBigUint64(i * 16, true);
      if (offset !== 0xffffffffffffffffn) index.setBigUint64(i * 16, offset + BigInt(indexBytes + 4), true);
    }
    const moved = new Uint8Array(shard.byteLength);
    moved.set(new Uint8Array(index.buffer));
    new DataView(moved.buffer).setUint32(indexBytes, crc32c(Buffer.from(index.buffer)) >>> 0, true);
    moved.set(data, indexBytes + 4);
    await writeFile(path, moved);
  }
  await editMeta(atStart, (meta) => {
    meta.codecs[0]!.configuration!.index_location = 'start';
  });

  // The v2 key encoding ("0.1") and the default one with a "." separator ("c.0.1").
  const v2Keys = join(dir, 'v2keys.zarr');
  const dotKeys = join(dir, 'dotkeys.zarr');
  await write(v2Keys, { compressor: 'zstd', chunks: [8, 5] });
  await cp(v2Keys, dotKeys, { recursive: true });
  for (const [path, encoding, keyOf] of [[v2Keys, { name: 'v2', configuration: { separator: '.' } }, (r: string, c: string) => `${r}.${c}`], [dotKeys, { name: 'default', configuration: { separator: '.' } }, (r: string, c: string) => `c.${r}.${c}`]] as const) {
    for (const row of await readdir(join(path, 'x', 'c'))) {
      for (const column of await readdir(join(path, 'x', 'c', row))) await rename(join(path, 'x', 'c', row, column), join(path, 'x', keyOf(row, column)));
    }
    await editMeta(path, (meta) => {
      meta.chunk_key_encoding = encoding;
    });
  }

  for (const path of [atStart, v2Keys, dotKeys]) {
    await using reader = await zarrOpen(path);
    assert.equal(sha256((await reader.read('x')).data), sha256(values), path);
    const box = await reader.read('x', { slice: [[5, 13], [3, 9]] });
    const expected = new Float32Array(8 * 6).map((_, i) => (5 + Math.floor(i / 6)) * 12 + 3 + (i % 6)).map((k) => k * 1.5 - 40);
    assert.deepEqual([...new Float32Array(box.data.slice().buffer)], [...expected], path);
    assert.ok(reader.fetchStats.chunkReads > 0);
  }
});
