/**
 * HDF5 filter plugins (h5wasm-plugins: LZF 32000, LZ4 32004, bitshuffle 32008) against
 * files written by the reference implementations: h5py's own LZF, and LZ4 / bitshuffle+LZ4
 * chunks made with the python-lz4 library in the filters' framing (the HDF5 LZ4 filter:
 * big-endian total and block size, each block's length; bitshuffle: the same header and a
 * bit transpose per block, checked below against jhdf's corpus chunks written by the real
 * bitshuffle) and stored with h5py's write_direct_chunk. Every dataset reads equal to
 * numpy's array; damaged chunks are TensioErrors, never a crash, and the process's own
 * libhdf5 keeps working; a filter tensio lacks (zfp) is refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { hdf5PluginFolder } from '../src/formats/hdf5/plugins.js';
import { unsupportedTensorsOf } from '../src/model/select.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const pluginSkip = hdf5PluginFolder() ? false : 'skipped: the h5wasm-plugins package is not installed (LZF, LZ4 and bitshuffle datasets are refused with UNSUPPORTED_FILTER instead)';
const skip = pluginSkip || oracleSkip('h5py', 'numpy', 'lz4');

/** Writes the plugin datasets (and a zfp one) with h5py and python-lz4; prints chunk addresses and numpy's sha256 per dataset. */
const GENERATE = String.raw`import h5py, numpy as np, sys, struct, json, lz4.block
from h5py import h5p, h5z, h5s, h5t, h5d

def bitshuffle(raw, s):
    # bitshuffle's bit transpose of one block of n elements (n a multiple of 8): [n, s bytes, 8 bits] -> [s, 8, n/8]
    n = len(raw) // s
    bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(n, s).T[:, :, None], axis=2, bitorder='little')
    return np.packbits(bits.transpose(0, 2, 1), axis=2, bitorder='little').tobytes()

def lz4_filter_chunk(raw, block):
    # HDF5 lz4 filter (32004): BE u64 total, BE u32 block bytes, then per block BE u32 length + LZ4 block (stored as is when it does not shrink)
    out = [struct.pack('>QI', len(raw), block)]
    for at in range(0, len(raw), block):
        piece = raw[at:at + block]
        packed = lz4.block.compress(piece, store_size=False)
        if len(packed) >= len(piece): packed = piece
        out.append(struct.pack('>I', len(packed)) + packed)
    return b''.join(out)

def bitshuffle_lz4_chunk(raw, s, block_elems):
    # bitshuffle filter (32008) with LZ4: BE u64 total, BE u32 block bytes, per block BE u32 length + LZ4 of the shuffled
    # block; the last partial block rounded down to 8 elements; the remaining < 8 elements stored as they are
    n = len(raw) // s
    out = [struct.pack('>QI', len(raw), block_elems * s)]
    at = 0
    while n - at >= 8:
        m = min(block_elems, n - at); m -= m % 8
        packed = lz4.block.compress(bitshuffle(raw[at * s:(at + m) * s], s), store_size=False)
        out.append(struct.pack('>I', len(packed)) + packed)
        at += m
    out.append(raw[at * s:])
    return b''.join(out)

def direct(f, name, data, chunk_rows, filter_id, cd, encode):
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_chunk((chunk_rows,) + data.shape[1:])
    dcpl.set_filter(filter_id, h5z.FLAG_OPTIONAL, cd)
    tid = h5t.py_create(data.dtype)
    d = h5d.create(f.id, name.encode(), tid, h5s.create_simple(data.shape), dcpl=dcpl)
    for r in range(0, data.shape[0], chunk_rows):
        block = np.zeros((chunk_rows,) + data.shape[1:], data.dtype)
        part = data[r:r + chunk_rows]
        block[:len(part)] = part
        d.write_direct_chunk((r,) + (0,) * (data.ndim - 1), encode(block.tobytes()), 0)

path = sys.argv[1]
rng = np.random.default_rng(7)
walk = np.cumsum(rng.integers(-3, 4, size=(70, 1000)), axis=1)
with h5py.File(path, 'w') as f:
    direct(f, 'lz4', walk.astype('<f4'), 16, 32004, (16384,), lambda raw: lz4_filter_chunk(raw, 16384))
    direct(f, 'bitshuffle_lz4', walk.astype('<i4'), 16, 32008, (0, 4, 4, 1024, 2), lambda raw: bitshuffle_lz4_chunk(raw, 4, 1024))
    direct(f, 'bitshuffle_lz4_i2', walk.astype('<i2')[:, :999], 7, 32008, (0, 4, 2, 0, 2), lambda raw: bitshuffle_lz4_chunk(raw, 2, 4096))
    f.create_dataset('lzf', data=walk.astype('<f8'), chunks=(16, 1000), compression='lzf')
    direct(f, 'zfp', walk.astype('<f4')[:8], 8, 32013, (), lambda raw: raw)
    info = {}
    for name in ['lz4', 'bitshuffle_lz4', 'bitshuffle_lz4_i2', 'lzf']:
        c = f[name].id.get_chunk_info(0)
        info[name] = {'offset': c.byte_offset, 'size': c.size}
import hashlib
expected = {'lz4': walk.astype('<f4'), 'bitshuffle_lz4': walk.astype('<i4'), 'bitshuffle_lz4_i2': walk.astype('<i2')[:, :999], 'lzf': walk.astype('<f8')}
print(json.dumps({'chunks': info, 'sha256': {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in expected.items()}}))
`;

/** Checks the numpy bit transpose above against chunks the real bitshuffle wrote (jhdf's corpus, no compression). */
const CHECK_BITSHUFFLE = String.raw`
import h5py, numpy as np, sys
def bitshuffle(raw, s):
    n = len(raw) // s
    bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(n, s).T[:, :, None], axis=2, bitorder='little')
    return np.packbits(bits.transpose(0, 2, 1), axis=2, bitorder='little').tobytes()
with h5py.File(sys.argv[1]) as f:
    for name in ['int8_bs0_comp0', 'int16_bs0_comp0', 'float32_bs0_comp0', 'float64_bs0_comp0']:
        d = f[name]
        info = d.id.get_chunk_info(0)
        with open(sys.argv[1], 'rb') as raw_file:
            raw_file.seek(info.byte_offset)
            stored = raw_file.read(info.size)
        s = d.dtype.itemsize
        data = np.arange(20, dtype=d.dtype).tobytes()
        assert stored == bitshuffle(data[:16 * s], s) + data[16 * s:], name
print('ok')
`;

interface Generated { chunks: Record<string, { offset: number; size: number }>; sha256: Record<string, string> }

async function generate(dir: string): Promise<{ path: string; generated: Generated }> {
  const path = join(dir, 'plugins.h5');
  const generated = JSON.parse(runPython(GENERATE, [path]).stdout) as Generated;
  return { path, generated };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('the bit transpose the test writes bitshuffle chunks with is the real bitshuffle (jhdf corpus chunks)', { skip: oracleSkip('h5py', 'numpy') || sharedSkip('corpora/hdf5/jhdf/bitshuffle_datasets.hdf5') }, () => {
  assert.equal(runPython(CHECK_BITSHUFFLE, [sharedFile('corpora/hdf5/jhdf/bitshuffle_datasets.hdf5')!]).stdout.trim(), 'ok');
});

test('LZ4 (several blocks per chunk), bitshuffle+LZ4 (partial last block, ragged edge chunks) and h5py LZF datasets read equal to numpy, from a path and from bytes', { skip }, async (t) => {
  const { path, generated } = await generate(await tempDir(t));
  await using reader = await hdf5Open(path);
  for (const [name, digest] of Object.entries(generated.sha256)) {
    const tensor = await reader.read(name);
    assert.equal(sha256(tensor.data), digest, `${name} equals numpy's array`);
    // A row slice decodes only the chunks it touches, equal to the same rows of the whole.
    const slice = await reader.read(name, { slice: { start: 17, end: 40 } });
    const rowBytes = tensor.data.byteLength / tensor.shape[0]!;
    assert.deepEqual(new Uint8Array(slice.data), new Uint8Array(tensor.data.subarray(17 * rowBytes, 40 * rowBytes)), `${name} rows 17..40`);
  }
  // The same file as bytes (libhdf5 in a worker thread over range reads) reads the same.
  const { openTensorFile } = await import('../src/operations/index.js');
  await using fromBytes = await openTensorFile(new Uint8Array(await readFile(path)), { format: 'hdf5' });
  for (const [name, digest] of Object.entries(generated.sha256)) assert.equal(sha256((await fromBytes.read(name)).data), digest, `${name} from bytes`);
});

test('a dataset whose filter tensio lacks (zfp, 32013; and LZF/LZ4/bitshuffle without h5wasm-plugins) is refused with UNSUPPORTED_FILTER naming it, never read', { skip: oracleSkip('h5py', 'numpy', 'lz4') }, async (t) => {
  const { path } = await generate(await tempDir(t));
  await using reader = await hdf5Open(path);
  const refused = new Map(unsupportedTensorsOf(reader.metadata).map((entry) => [entry.name, entry]));
  const expected = pluginSkip ? ['bitshuffle_lz4', 'bitshuffle_lz4_i2', 'lz4', 'lzf', 'zfp'] : ['zfp'];
  assert.deepEqual([...refused.keys()].sort(), expected);
  const names: Record<string, RegExp> = { zfp: /zfp \(filter 32013\)/, lz4: /lz4 \(filter 32004\)/, lzf: /lzf \(filter 32000\)/, bitshuffle_lz4: /bitshuffle \(filter 32008\)/, bitshuffle_lz4_i2: /bitshuffle \(filter 32008\)/ };
  for (const name of expected) {
    assert.equal(refused.get(name)!.code, 'UNSUPPORTED_FILTER');
    assert.match(refused.get(name)!.reason, names[name]!);
    await assert.rejects(reader.read(name), (error) => isTensioError(error, 'UNSUPPORTED_FILTER') && names[name]!.test((error as Error).message));
  }
});

/** Damage to one dataset's first chunk; `offset` is the chunk's first byte. */
const DAMAGE: Array<{ dataset: string; what: string; damage: (bytes: Uint8Array, offset: number) => void; aborts?: boolean }> = [
  { dataset: 'lz4', what: 'block bytes scrambled', damage: (b, o) => { for (let i = 40; i < 80; i++) b[o + i]! ^= 0x5a; } },
  { dataset: 'lz4', what: 'total size smaller than the chunk', damage: (b, o) => { b[o + 6] = 0; } },
  { dataset: 'lz4', what: 'total size larger than the chunk', damage: (b, o) => { b[o + 5] = 0x10; } },
  { dataset: 'lz4', what: 'a block length past the chunk', damage: (b, o) => { b[o + 12] = 0x7f; } },
  { dataset: 'lz4', what: 'block size 0', damage: (b, o) => { b.fill(0, o + 8, o + 12); } },
  { dataset: 'bitshuffle_lz4', what: 'total size smaller than the chunk', damage: (b, o) => { b[o + 6] = 0; } },
  // The plugin reads out of bounds here: libhdf5 aborts, in its worker only.
  { dataset: 'bitshuffle_lz4', what: 'total size larger than the chunk', damage: (b, o) => { b[o + 5] = 0x10; }, aborts: true },
  { dataset: 'bitshuffle_lz4', what: 'a block length past the chunk', damage: (b, o) => { b[o + 12] = 0x7f; } },
  // The LZF plugin's error path calls a symbol h5wasm 0.10 lacks: it fails in its worker only.
  { dataset: 'lzf', what: 'compressed bytes scrambled', damage: (b, o) => { for (let i = 40; i < 80; i++) b[o + i]! ^= 0x5a; }, aborts: true },
  { dataset: 'lzf', what: 'a back reference before the start', damage: (b, o) => { b[o] = 0xff; b[o + 1] = 0xff; } },
];

test('hdf5 hostile: damaged LZ4, bitshuffle and LZF chunks are TensioErrors naming the dataset; the process keeps reading HDF5', { skip }, async (t) => {
  const dir = await tempDir(t);
  const { path, generated } = await generate(dir);
  const original = new Uint8Array(await readFile(path));
  const healthy = join(dir, 'healthy.h5');
  const writer = await hdf5CreateWriter(healthy, { tensors: [{ name: 'x', dtype: 'float32', shape: [4] }], compression: 'gzip' });
  await writer.add('x', new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer));
  await writer.close();
  for (const [index, { dataset, what, damage, aborts }] of DAMAGE.entries()) {
    const bytes = original.slice();
    damage(bytes, generated.chunks[dataset]!.offset);
    const bad = join(dir, `bad-${index}.h5`);
    await writeFile(bad, bytes);
    await using reader = await hdf5Open(bad);
    await assert.rejects(reader.read(dataset), (error) => isTensioError(error) && ['INVALID_HEADER', 'TRUNCATED'].includes(error.code) && error.message.includes(`/${dataset}`), `${dataset}: ${what}`);
    if (!aborts) continue;
    // After a plugin took its libhdf5 down, the other datasets of the same file still read
    // (a fresh worker) and so does another file, through the process's own libhdf5.
    const other = dataset === 'lz4' ? 'lzf' : 'lz4';
    assert.equal(sha256((await reader.read(other)).data), generated.sha256[other], `${other} after ${dataset}: ${what}`);
    await using ok = await hdf5Open(healthy);
    assert.deepEqual([...new Float32Array((await ok.read('x')).data.slice().buffer)], [1, 2, 3, 4], `after ${dataset}: ${what}`);
  }
});
