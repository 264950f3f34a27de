/**
 * h5py's filtered datasets decoded by tensio straight from the file (deflate, shuffle
 * and Fletcher-32 in `src/formats/hdf5/chunk-filters.ts`): gzip levels 1 and 9,
 * shuffle + gzip, gzip + Fletcher-32, N-d chunk grids with edge chunks, chunks never
 * written with a fill value (filtered and not), a chunk stored with deflate skipped by
 * its filter mask, both chunk indexes h5py writes (version-1 B-tree by default; fixed
 * array and single chunk with libver 'v110'): each read is the direct path's (not
 * libhdf5's) and equals h5py's bytes (sha256), whole, as row slices and N-d slices,
 * streamed, and equal to the libhdf5 path's read. Chunks h5py stores as given
 * (`write_direct_chunk`): a deflate bomb, a stream one element short, a corrupt stream
 * and a bad Fletcher-32 each fail with their TensioError code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { hdf5Open } from '../src/formats/hdf5/index.js';
import { directLocations } from './helpers/hdf5-direct.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const WRITE = String.raw`
import h5py, hashlib, json, sys, zlib, numpy as np
path, libver = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
smooth = lambda n: (np.sin(np.arange(n) / 13.0) * 1000).astype('<f4')
out = {}
with h5py.File(path, 'w', libver=libver) as f:
    f.create_dataset('gzip1', data=smooth(300 * 64).reshape(300, 64), chunks=(50, 64), compression='gzip', compression_opts=1)
    f.create_dataset('gzip9', data=smooth(300 * 64).reshape(300, 64), chunks=(64, 64), compression='gzip', compression_opts=9)
    f.create_dataset('shuffle_gzip', data=rng.integers(-30000, 30000, (123, 45)).astype('<i2'), chunks=(20, 45), shuffle=True, compression='gzip')
    f.create_dataset('gzip_fletcher', data=rng.standard_normal((97, 33)), chunks=(16, 33), compression='gzip', fletcher32=True)
    f.create_dataset('grid', data=smooth(70 * 50 * 30).reshape(70, 50, 30), chunks=(16, 16, 8), shuffle=True, compression='gzip', fletcher32=True)
    f.create_dataset('grid_u8', data=rng.integers(0, 255, (41, 77)).astype('u1'), chunks=(10, 9), compression='gzip', compression_opts=4)
    f.create_dataset('one_chunk', data=smooth(1000), chunks=(1000,), compression='gzip')
    d = f.create_dataset('fill_gzip', shape=(100, 40), dtype='<f4', chunks=(10, 10), fillvalue=-7.5, compression='gzip')
    d[20:35, 5:25] = smooth(15 * 20).reshape(15, 20)
    d = f.create_dataset('fill_raw', shape=(60, 12), dtype='<i4', chunks=(8, 12), fillvalue=42)
    d[10:30] = np.arange(20 * 12, dtype='<i4').reshape(20, 12)
    f.create_dataset('never_written', shape=(30, 30), dtype='<f8', chunks=(10, 10), compression='gzip', fillvalue=np.nan)
    d = f.create_dataset('masked', shape=(40, 8), dtype='<f4', chunks=(10, 8), shuffle=True, compression='gzip')
    d[...] = smooth(320).reshape(40, 8)
    # Chunk 1 stored shuffled but not deflated: the mask's bit 1 (the pipeline's second filter) says so.
    raw = np.ascontiguousarray(smooth(80).reshape(10, 8) + 5)
    shuffled = raw.view('u1').reshape(-1, 4).T.copy().tobytes()
    d.id.write_direct_chunk((10, 0), shuffled, 0b10)
# Read back from a fresh open (the writing handle's chunk cache does not know the mask).
with h5py.File(path, 'r') as f:
    for name, obj in f.items():
        a = obj[()]
        out[name] = {'sha': hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(),
                     'rows': hashlib.sha256(np.ascontiguousarray(a[3:len(a) - 2]).tobytes()).hexdigest(),
                     'block': hashlib.sha256(np.ascontiguousarray(a[5:9, 2:7] if a.ndim > 1 else a[5:9]).tobytes()).hexdigest()}
print(json.dumps(out))
`;

const HOSTILE = String.raw`
import h5py, sys, zlib, numpy as np
path = sys.argv[1]
with h5py.File(path, 'w') as f:
    chunk = np.arange(100, dtype='<f4').reshape(10, 10)
    def dataset(name, stored, **kw):
        d = f.create_dataset(name, shape=(30, 10), dtype='<f4', chunks=(10, 10), compression='gzip', **kw)
        d[...] = np.arange(300, dtype='<f4').reshape(30, 10)
        d.id.write_direct_chunk((10, 0), stored)
    dataset('bomb', zlib.compress(bytes(4 * 2 ** 20)))
    dataset('short', zlib.compress(chunk.tobytes()[:-4]))
    good = zlib.compress(chunk.tobytes())
    dataset('corrupt', b'\x00' + good[1:])
    body = zlib.compress(chunk.tobytes())
    import struct
    def fletcher32(data):
        if len(data) % 2: data += b'\x00'
        s1 = s2 = 0
        for i in range(0, len(data), 2):
            s1 = (s1 + (data[i] << 8 | data[i + 1])) % 65535
            s2 = (s2 + s1) % 65535
        return (s2 << 16) | s1
    dataset('bad_fletcher', body + struct.pack('<I', fletcher32(body) ^ 0x40), fletcher32=True)
`;

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// 'v110' writes layout message version 4 (fixed-array and single-chunk indexes); HDF5 2.0's 'latest' writes
// version 5, which the direct path declines (libhdf5 reads it).
for (const libver of ['earliest', 'v110']) {
  test(`h5py (libver ${libver}) gzip, shuffle, Fletcher-32, N-d grids, fill values and a masked chunk: the direct path reads h5py's bytes`, { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, `filtered-${libver}.h5`);
    const expected = JSON.parse(runPython(WRITE, [path, libver]).stdout) as Record<string, { sha: string; rows: string; block: string }>;
    const entries = await directLocations(path);
    assert.deepEqual(entries.map((entry) => entry.name).sort(), Object.keys(expected).sort());
    for (const entry of entries) {
      // Every one is decoded by tensio, not handed to libhdf5.
      assert.ok(!('declined' in entry.where), `${entry.name}: declined (${'declined' in entry.where ? entry.where.declined : ''})`);
      assert.equal(entry.where.kind, 'chunks', entry.name);
      assert.equal(sha(await entry.read()), expected[entry.name]!.sha, `${entry.name}: direct read`);
    }
    for (const directRead of [true, false]) {
      await using reader = await hdf5Open(path, { directRead });
      for (const [name, want] of Object.entries(expected)) {
        const info = reader.info(name);
        assert.equal(sha((await reader.read(name)).data), want.sha, `${name} (directRead ${directRead})`);
        assert.equal(sha((await reader.read(name, { slice: { start: 3, end: info.shape[0]! - 2 } })).data), want.rows, `${name} rows (directRead ${directRead})`);
        const block = info.shape.length > 1 ? [[5, 9], [2, 7]] as [number, number][] : [[5, 9]] as [number, number][];
        assert.equal(sha((await reader.read(name, { slice: block })).data), want.block, `${name} block (directRead ${directRead})`);
        const pieces: Uint8Array[] = [];
        for await (const piece of reader.stream(name, { chunkBytes: 3000 })) pieces.push(piece.slice());
        assert.equal(sha(Buffer.concat(pieces)), want.sha, `${name} streamed (directRead ${directRead})`);
      }
    }
  });
}

test('h5py chunks stored as given: a deflate bomb, a short stream, a corrupt stream and a bad Fletcher-32 each fail with their code; the other chunks read', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'hostile.h5');
  runPython(HOSTILE, [path]);
  const codes: Record<string, TensioErrorCode> = { bomb: 'LIMIT_EXCEEDED', short: 'SIZE_MISMATCH', corrupt: 'INVALID_HEADER', bad_fletcher: 'CHECKSUM_MISMATCH' };
  await using reader = await hdf5Open(path);
  const rows = new Float32Array(Array.from({ length: 100 }, (_, i) => i));
  for (const [name, code] of Object.entries(codes)) {
    await assert.rejects(reader.read(name), (error) => isTensioError(error, code), name);
    const first = (await reader.read(name, { slice: { start: 0, end: 10 } })).data;
    assert.deepEqual(new Float32Array(first.slice().buffer), rows, `${name}: the chunk before it`);
  }
});
