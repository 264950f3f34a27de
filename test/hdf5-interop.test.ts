/**
 * HDF5 against h5py (libhdf5 2.0 in the oracle environment): every file tensio writes
 * reads in h5py to the same bytes, dtypes, chunks, filters and attributes; files h5py
 * writes (big-endian, float16, N-d chunk grids, gzip/shuffle/fletcher32, scale-offset,
 * resizable, attributes) read in tensio to h5py's bytes; a corrupt Fletcher-32 chunk is
 * reported by verify and refused by read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { isTensioError } from '../src/core/errors.js';
import { hdf5CreateWriter, hdf5Open, type Hdf5WriteOptions } from '../src/formats/hdf5/index.js';
import { hdf5PluginFolder } from '../src/formats/hdf5/plugins.js';
import { verifyTensorFile } from '../src/operations/index.js';
import { patternTensor } from './helpers/npk-fixtures.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const DTYPES: DType[] = ['bool', 'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64', 'float16', 'float32', 'float64'];

const H5PY_DUMP = String.raw`
import h5py, hashlib, json, sys, numpy as np
out = {}
def attr(v):
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, np.bytes_): return v.decode()
    if isinstance(v, np.ndarray): return [attr(x) for x in v.tolist()]
    if isinstance(v, np.generic): return v.item()
    return v
with h5py.File(sys.argv[1], 'r') as f:
    out['/'] = {'attrs': {k: attr(v) for k, v in f.attrs.items()}}
    def visit(name, obj):
        entry = {'attrs': {k: attr(v) for k, v in obj.attrs.items()}}
        if isinstance(obj, h5py.Dataset):
            a = obj[()]
            a = np.ascontiguousarray(np.asarray(a).astype(a.dtype.newbyteorder('<')))
            entry.update(dtype=str(obj.dtype), shape=list(obj.shape), chunks=obj.chunks, compression=obj.compression,
                         shuffle=obj.shuffle, fletcher32=obj.fletcher32, sha=hashlib.sha256(a.tobytes()).hexdigest())
        out[name] = entry
    f.visititems(visit)
print(json.dumps(out))
`;

interface Dumped { attrs: Record<string, unknown>; dtype?: string; shape?: number[]; chunks?: number[] | null; compression?: string | null; shuffle?: boolean; fletcher32?: boolean; sha?: string }

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const H5PY_NAMES: Partial<Record<DType, string>> = { bool: 'bool' };

for (const [label, options] of [
  ['contiguous', {}],
  ['chunked, no filter', { chunked: true, chunkRows: 7 }],
  ['gzip 1', { compression: 'gzip', compressionLevel: 1, chunkRows: 16 }],
  ['shuffle + gzip + fletcher32', { compression: 'gzip', shuffle: true, fletcher32: true, chunkRows: 5 }],
] as Array<[string, Hdf5WriteOptions]>) {
  test(`h5py reads every file tensio writes (${label}): bytes, dtypes, groups, chunks, filters, attributes`, { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'out.h5');
    const tensors = DTYPES.map((dtype, i) => patternTensor(dtype, i % 3 === 0 ? [33] : i % 3 === 1 ? [21, 4] : [9, 2, 3], i + 1));
    const names = DTYPES.map((dtype, i) => (i % 2 === 0 ? dtype : `group/sub ${i}/${dtype}`));
    const scalar = patternTensor('float64', [], 99);
    const empty = patternTensor('int32', [0, 4], 98);
    const plan = [...names.map((name, i) => ({ name, dtype: tensors[i]!.dtype, shape: tensors[i]!.shape })),
      { name: 'scalar', dtype: scalar.dtype, shape: scalar.shape }, { name: 'group/empty', dtype: empty.dtype, shape: empty.shape }];
    const writer = await hdf5CreateWriter(path, {
      tensors: plan, ...options, metadata: { note: 'from tensio', count: 3 },
      attributes: { '/group': { units: 'mm', scale: 0.5, steps: [1, 2, 3], names: ['a', 'bc'] }, float32: { flag: true } },
    });
    const bytesOf = (name: string) => (name === 'scalar' ? scalar.data : name === 'group/empty' ? empty.data : tensors[names.indexOf(name)]!.data);
    for (const name of writer.order) await writer.add(name, bytesOf(name));
    await writer.close();

    const dumped = JSON.parse(runPython(H5PY_DUMP, [path]).stdout) as Record<string, Dumped>;
    for (const [i, name] of names.entries()) {
      const entry = dumped[name];
      assert.ok(entry, `h5py sees ${name}`);
      assert.equal(entry.sha, sha(tensors[i]!.data), `${name}: h5py's bytes`);
      assert.equal(entry.dtype, H5PY_NAMES[DTYPES[i]!] ?? DTYPES[i], name);
      assert.deepEqual(entry.shape, tensors[i]!.shape, name);
      const chunked = options.chunked || options.compression === 'gzip';
      assert.deepEqual(entry.chunks, chunked ? [Math.min(options.chunkRows as number, tensors[i]!.shape[0]!), ...tensors[i]!.shape.slice(1)] : null, `${name} chunks`);
      assert.equal(entry.compression, options.compression === 'gzip' ? 'gzip' : null, `${name} compression`);
      assert.equal(entry.shuffle, options.shuffle === true, `${name} shuffle`);
      assert.equal(entry.fletcher32, options.fletcher32 === true, `${name} fletcher32`);
    }
    assert.equal(dumped.scalar?.sha, sha(scalar.data));
    assert.deepEqual(dumped.scalar?.shape, []);
    assert.deepEqual(dumped['group/empty']?.shape, [0, 4]);
    assert.deepEqual(dumped['/']?.attrs, { note: 'from tensio', count: 3 });
    assert.deepEqual(dumped.group?.attrs, { units: 'mm', scale: 0.5, steps: [1, 2, 3], names: ['a', 'bc'] });
    assert.deepEqual(dumped.float32?.attrs, { flag: true });

    // And tensio reads its own file back equal.
    await using reader = await hdf5Open(path);
    for (const [i, name] of names.entries()) assert.equal(sha((await reader.read(name)).data), sha(tensors[i]!.data), `tensio reads ${name}`);
    assert.deepEqual(reader.info('group/empty').shape, [0, 4]);
    assert.equal(reader.metadata['/group@units'], 'mm');
    assert.equal(reader.metadata.note, 'from tensio');
    assert.deepEqual(reader.metadata['hdf5.groups'], ['/', '/group', ...[1, 11, 3, 5, 7, 9].map((i) => `/group/sub ${i}`)]); // libhdf5 lists by name
  });
}

test('tensio reads what h5py writes: big-endian, float16, bool, N-d chunk grids, filters, scale-offset, resizable, attributes; LZF reads through the plugins or is refused by name', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'h5py.h5');
  const { stdout } = runPython(String.raw`
import h5py, numpy as np, json, sys, hashlib
rng = np.random.default_rng(5)
arrays = {
  'be_f8': (rng.standard_normal((40, 6)).astype('>f8'), {}),
  'be_i4': (rng.integers(-9, 9, (17,)).astype('>i4'), {}),
  'f16': (rng.standard_normal((30, 5)).astype('<f2'), {'chunks': (7, 2), 'compression': 'gzip', 'shuffle': True}),
  'bools': (rng.integers(0, 2, (12, 3)).astype(bool), {}),
  'grid/u2': (rng.integers(0, 60000, (50, 40, 3)).astype('<u2'), {'chunks': (8, 16, 2), 'compression': 'gzip', 'compression_opts': 9, 'fletcher32': True}),
  'grid/scaleoffset': (rng.integers(0, 1000, (64, 8)).astype('<i4'), {'chunks': (16, 8), 'scaleoffset': 0}),
  'resizable': (np.arange(100, dtype='<f4').reshape(25, 4), {'chunks': (10, 4), 'maxshape': (None, 4)}),
  'scalar': (np.float32(3.5), {}),
}
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['title'] = 'h5py file'
    f.attrs['version'] = np.int32(7)
    for name, (a, kw) in arrays.items():
        f.create_dataset(name, data=a, **kw)
    f['be_f8'].attrs['units'] = 'K'
    f.create_dataset('lzf', data=np.arange(10, dtype='f4'), compression='lzf')
    f.create_dataset('strings', data=np.array([b'a', b'bb']))
def le(a): return np.ascontiguousarray(np.asarray(a).astype(np.asarray(a).dtype.newbyteorder('<')))
print(json.dumps({k: {'sha': hashlib.sha256(le(a).tobytes()).hexdigest(), 'shape': list(np.shape(a))} for k, (a, kw) in arrays.items()}))
`, [path]);
  const expected = JSON.parse(stdout) as Record<string, { sha: string; shape: number[] }>;
  await using reader = await hdf5Open(path);
  for (const [name, want] of Object.entries(expected)) {
    const tensor = await reader.read(name);
    assert.deepEqual(tensor.shape, want.shape, name);
    assert.equal(sha(tensor.data), want.sha, `${name}: bytes equal to h5py's`);
    // Streaming in small pieces gives the same bytes (N-d chunk grids are read band by band).
    const pieces: Uint8Array[] = [];
    for await (const piece of reader.stream(name, { chunkBytes: 1000 })) pieces.push(piece.slice());
    assert.equal(sha(Buffer.concat(pieces)), want.sha, `${name}: streamed`);
  }
  assert.equal(reader.info('f16').dtype, 'float16');
  assert.equal(reader.info('be_f8').formatDtype, '>f8');
  assert.deepEqual(reader.info('grid/u2').extras?.filters, ['deflate(9)', 'fletcher32']);
  const rows = await reader.read('grid/u2', { slice: { start: 10, end: 20 } });
  assert.deepEqual(rows.shape, [10, 40, 3]);
  assert.equal(reader.metadata.title, 'h5py file');
  assert.equal(reader.metadata.version, 7);
  assert.deepEqual((reader.info('be_f8').extras?.attributes as Record<string, unknown>).units, { dtype: 'vlen string', shape: [], value: 'K' });
  const unsupported = reader.metadata.unsupportedTensors as Array<{ name: string; code: string; reason: string }>;
  if (hdf5PluginFolder() !== undefined) {
    // h5wasm-plugins is installed (a dependency): LZF decodes to what h5py wrote.
    assert.deepEqual(unsupported.map((entry) => [entry.name, entry.code]), [['strings', 'UNSUPPORTED_DTYPE']]);
    const lzf = await reader.read('lzf');
    assert.deepEqual(Array.from(new Float32Array(lzf.data.buffer, lzf.data.byteOffset, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } else {
    assert.deepEqual(unsupported.map((entry) => [entry.name, entry.code]), [['lzf', 'UNSUPPORTED_FILTER'], ['strings', 'UNSUPPORTED_DTYPE']]);
    assert.match(unsupported[0]!.reason, /lzf \(filter 32000\)/);
  }
});

test('verify reports a corrupt Fletcher-32 chunk and read refuses it (CHECKSUM_MISMATCH), for h5py and tensio files', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const h5pyPath = join(dir, 'h5py.h5');
  const { stdout } = runPython(String.raw`
import h5py, numpy as np, json, sys
with h5py.File(sys.argv[1], 'w') as f:
    d = f.create_dataset('data/x', data=np.arange(4000, dtype='<f4').reshape(100, 40), chunks=(10, 40), fletcher32=True)
    f.create_dataset('clean', data=np.arange(5, dtype='i2'))
    info = d.id.get_chunk_info(3)
print(json.dumps({'offset': info.byte_offset, 'size': info.size}))
`, [h5pyPath]);
  const chunk = JSON.parse(stdout) as { offset: number; size: number };
  const tensioPath = join(dir, 'tensio.h5');
  const writer = await hdf5CreateWriter(tensioPath, { tensors: [{ name: 'data/x', dtype: 'float32', shape: [100, 40] }], fletcher32: true, chunkRows: 10 });
  await writer.add('data/x', new Uint8Array(new Float32Array(4000).map((_, i) => i).buffer));
  await writer.close();
  for (const [path, offset] of [[h5pyPath, chunk.offset + 17], [tensioPath, 48 + 3 * (1600 + 4) + 17]] as const) {
    assert.equal((await verifyTensorFile(path)).ok, true, `${path} verifies before the corruption`);
    const bytes = await readFile(path);
    bytes[offset] ^= 0x40;
    await writeFile(path, bytes);
    const report = await verifyTensorFile(path);
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, 1, JSON.stringify(report.problems));
    assert.equal(report.problems[0]!.code, 'CHECKSUM_MISMATCH', report.problems[0]!.message);
    assert.equal(report.problems[0]!.tensor, 'data/x');
    await using reader = await hdf5Open(path);
    await assert.rejects(reader.read('data/x'), (error) => isTensioError(error, 'CHECKSUM_MISMATCH'));
  }
});
