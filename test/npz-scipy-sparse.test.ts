/**
 * SciPy's sparse `.npz` (`scipy.sparse.save_npz`) through the npz reader and writer:
 * files SciPy writes (CSR, CSC, COO; matrix and array; stored and deflated; int32 and
 * int64 indices; n-D COO) read as one sparse tensor whose densified bytes equal
 * SciPy's `toarray()`, convert to `.zt` sparse layouts and back, and
 * `scipy.sparse.load_npz` loads what tensio writes (the same matrix, matrix or array
 * as the input said). Files that only look like SciPy's are read as their members.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { convert, densify, openTensorFile } from '../src/index.js';
import { getFormat } from '../src/operations/index.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { createTensor } from '../src/core/tensor.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** SciPy writes every case and the dense matrix of each as `<case>.dense.npy`. */
const WRITE_CASES = `
import sys, numpy as np, scipy.sparse as sp
d = sys.argv[1]
m = sp.random(6, 9, density=0.3, format='csr', random_state=3, dtype=np.float32)
cases = {
  'csr': m, 'csc': m.tocsc(), 'coo': m.tocoo(), 'csr_array': sp.csr_array(m), 'coo_array': sp.coo_array(m),
  'csr64': sp.csr_matrix((m.data.astype(np.float64), m.indices.astype(np.int64), m.indptr.astype(np.int64)), shape=m.shape),
  'csc_deflated': m.tocsc(), 'empty': sp.csr_matrix((4, 5), dtype=np.int16),
}
for name, matrix in cases.items():
  sp.save_npz(f'{d}/{name}.npz', matrix, compressed=name.endswith('deflated'))
  np.save(f'{d}/{name}.dense.npy', matrix.toarray())
coo3 = sp.coo_array((np.array([1.5, -2.0, 3.25]), (np.array([0, 1, 2]), np.array([1, 0, 3]), np.array([2, 2, 0]))), shape=(3, 4, 3))
sp.save_npz(f'{d}/coo3d.npz', coo3)
np.save(f'{d}/coo3d.dense.npy', coo3.toarray())
`;
const CASES = ['csr', 'csc', 'coo', 'csr_array', 'coo_array', 'csr64', 'csc_deflated', 'empty', 'coo3d'];
/** SciPy's format of each case; CSR reads as sparse_csr, CSC and COO as sparse_coo. */
const SCIPY_FORMAT: Record<string, string> = { csr: 'csr', csc: 'csc', coo: 'coo', csr_array: 'csr', coo_array: 'coo', csr64: 'csr', csc_deflated: 'csc', empty: 'csr', coo3d: 'coo' };
const LAYOUT: Record<string, string> = Object.fromEntries(CASES.filter((name) => SCIPY_FORMAT[name] === 'csr').map((name) => [name, 'sparse_csr']));

/** The data bytes of a `.npy` SciPy's numpy wrote (C order, little-endian, as tensio lays tensors out). */
async function npyData(path: string): Promise<Buffer> {
  await using reader = await openTensorFile(path);
  return Buffer.from((await reader.read(reader.tensors[0]!.name)).data);
}

test('SciPy save_npz files read as one sparse tensor whose dense form equals toarray()', { skip: oracleSkip('scipy', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_CASES, [dir]);
  for (const name of CASES) {
    await using reader = await openTensorFile(join(dir, `${name}.npz`));
    assert.deepEqual(reader.tensors.map((info) => info.name), ['sparse'], `${name}: one tensor, the members are its parts`);
    const info = reader.tensors[0]!;
    assert.equal(info.layout?.kind, LAYOUT[name] ?? 'sparse_coo', `${name}: layout`);
    assert.equal(reader.metadata.scipy_format, SCIPY_FORMAT[name], `${name}: SciPy's format name in the metadata`);
    assert.equal(reader.metadata.scipy_is_array, name.endsWith('_array') || name === 'coo3d' ? true : undefined, `${name}: array or matrix`);
    assert.equal(reader.metadata.unsupportedTensors, undefined, `${name}: the bytes-typed format member is not listed as unreadable`);
    const dense = await densify(reader, 'sparse');
    assert.ok(Buffer.from(dense.data).equals(await npyData(join(dir, `${name}.dense.npy`))), `${name}: densify equals SciPy's toarray()`);
  }
});

test('SciPy loads what tensio writes: npz -> npz, and npz -> .zt -> npz, the same matrix of the same kind', { skip: oracleSkip('scipy', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_CASES, [dir]);
  for (const name of CASES) {
    await convert(join(dir, `${name}.npz`), join(dir, `${name}.direct.npz`));
    await convert(join(dir, `${name}.npz`), join(dir, `${name}.zt`));
    await using zt = await openTensorFile(join(dir, `${name}.zt`));
    assert.equal(zt.tensors[0]!.layout?.kind, LAYOUT[name] ?? 'sparse_coo', `${name}: .zt holds it sparse`);
    await convert(join(dir, `${name}.zt`), join(dir, `${name}.back.npz`));
  }
  const { stdout } = runPython(`
import sys, json, numpy as np, scipy.sparse as sp
d = sys.argv[1]
out = {}
for name in sys.argv[2].split(','):
  expected = sp.load_npz(f'{d}/{name}.npz')
  for kind in ('direct', 'back'):
    m = sp.load_npz(f'{d}/{name}.{kind}.npz')
    out[f'{name}.{kind}'] = [bool(np.array_equal(m.toarray(), expected.toarray())), str(m.dtype) == str(expected.dtype), isinstance(m, sp.sparray) == isinstance(expected, sp.sparray), m.format]
print(json.dumps(out))
`, [dir, CASES.join(',')]);
  const results = JSON.parse(stdout) as Record<string, [boolean, boolean, boolean, string]>;
  for (const name of CASES) {
    for (const kind of ['direct', 'back']) {
      const [equal, sameDtype, sameKind, format] = results[`${name}.${kind}`]!;
      assert.ok(equal, `${name}.${kind}: load_npz gives the same matrix`);
      assert.ok(sameDtype, `${name}.${kind}: same dtype`);
      assert.ok(sameKind, `${name}.${kind}: array stays array, matrix stays matrix`);
      assert.equal(format, LAYOUT[name] ? 'csr' : 'coo', `${name}.${kind}: written as ${format}`);
    }
  }
});

test('scipySparse: false lists the members as they are (format stays an unreadable bytes scalar)', { skip: oracleSkip('scipy', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_CASES, [dir]);
  await using reader = await openTensorFile(join(dir, 'csr.npz'), { format: 'npz', formatOptions: { scipySparse: false } });
  assert.deepEqual(reader.tensors.map((info) => info.name).sort(), ['data', 'indices', 'indptr', 'shape']);
  assert.deepEqual((reader.metadata.unsupportedTensors as { name: string; formatDtype: string }[]).map((entry) => [entry.name, entry.formatDtype]), [['format', '|S3']]);
});

/** An npz with SciPy's format member (written by tensio's own writer for the sparse case) and extra or missing members. */
async function sciPyLike(dir: string, name: string, members: Record<string, ReturnType<typeof createTensor>>, formatName = 'csr'): Promise<string> {
  // A real format member: write a 1x1 CSR through the writer, then take its format.npy bytes.
  const path = join(dir, `${name}.npz`);
  const { zipCreateWriter } = await import('../src/zip/write.js');
  const { atomicFileSink } = await import('../src/storage/atomic-file-sink.js');
  const { npyHeaderBytesForDescr, npySerialize } = await import('../src/formats/npy/write.js');
  const zip = zipCreateWriter(await atomicFileSink(path), { format: 'npz' });
  const header = npyHeaderBytesForDescr(`|S${formatName.length}`, []);
  const bytes = new Uint8Array(header.byteLength + formatName.length);
  bytes.set(header);
  bytes.set(new TextEncoder().encode(formatName), header.byteLength);
  await zip.add('format.npy', [bytes], { method: 'store', size: bytes.byteLength });
  for (const [key, tensor] of Object.entries(members)) {
    const file = npySerialize(tensor);
    await zip.add(`${key}.npy`, [file], { method: 'store', size: file.byteLength });
  }
  await zip.close();
  return path;
}

test('files that only look like SciPy\'s read as their members, saying why; a CSC with broken indptr fails with INVALID_LAYOUT', async (t) => {
  const dir = await tempDir(t);
  const shape = createTensor('int64', [2], new BigInt64Array([2n, 3n]));
  const data = createTensor('float32', [2], new Float32Array([1, 2]));
  const int32 = (...values: number[]) => createTensor('int32', [values.length], new Int32Array(values));
  const missing = await sciPyLike(dir, 'missing', { shape, data, indices: int32(0, 2) });
  await using missingReader = await openTensorFile(missing);
  assert.deepEqual(missingReader.tensors.map((info) => info.name).sort(), ['data', 'indices', 'shape']);
  assert.match(String(missingReader.metadata.scipySparse), /without the member indptr/);
  const unknown = await sciPyLike(dir, 'bsr', { shape, data, indices: int32(0, 2), indptr: int32(0, 1, 2) }, 'bsr');
  await using unknownReader = await openTensorFile(unknown);
  assert.match(String(unknownReader.metadata.scipySparse), /"bsr" is not one tensio reads as sparse/);
  const badShape = await sciPyLike(dir, 'badshape', { shape, data, indices: int32(0, 2), indptr: int32(0, 1) });
  await using badShapeReader = await openTensorFile(badShape);
  assert.match(String(badShapeReader.metadata.scipySparse), /indptr has shape \[2\], expected \[3\]/);
  // CSC: rows 0 and 1, columns from an indptr that decreases.
  const csc = await sciPyLike(dir, 'csc', { shape, data, indices: int32(0, 1), indptr: int32(0, 2, 1, 2) }, 'csc');
  await using cscReader = await openTensorFile(csc);
  await assert.rejects(cscReader.readPart('sparse', 'coords'), (error) => isTensioError(error, 'INVALID_LAYOUT') && /indptr\[2\] = 1 is below indptr\[1\] = 2/.test((error as Error).message));
});

test('a sparse tensor is written alone: a plan with others is refused before any file exists', async (t) => {
  const dir = await tempDir(t);
  const parts = [
    { name: 'values', dtype: 'float32' as const, shape: [1], byteLength: 4 },
    { name: 'indices', dtype: 'int32' as const, shape: [1], byteLength: 4 },
    { name: 'indptr', dtype: 'int32' as const, shape: [3], byteLength: 12 },
  ];
  const sparse = { name: 'm', dtype: 'float32' as const, shape: [2, 2], layout: { kind: 'sparse_csr' as const }, parts };
  const npz = getFormat('npz');
  assert.ok(npz.capabilities.layouts.includes('sparse_csr') && npz.capabilities.layouts.includes('sparse_coo'), 'npz declares the sparse layouts it writes');
  const out = join(dir, 'two.npz');
  await assert.rejects(npz.createWriter!(out, { tensors: [sparse, { name: 'x', dtype: 'float32', shape: [1] }] }), (error) => isTensioError(error, 'INVALID_ARGUMENT') && /one matrix per file/.test((error as Error).message));
  await assert.rejects(readFile(out), { code: 'ENOENT' });
  // Alone it is written, and read back as the same parts.
  const writer = await npz.createWriter!(join(dir, 'one.npz'), { tensors: [sparse] });
  await writer.add('m', new Uint8Array([...new Uint8Array(new Float32Array([5]).buffer), ...new Uint8Array(new Int32Array([1, 0, 1, 1]).buffer)]));
  await writer.close();
  await using reader = await openTensorFile(join(dir, 'one.npz'));
  assert.deepEqual([...new Float32Array((await densify(reader, 'sparse')).data.slice().buffer)], [0, 5, 0, 0]);
  // npzWrite of dense arrays is unchanged (no SciPy members appear).
  await npzWrite(join(dir, 'dense.npz'), { format: createTensor('float32', [1], new Float32Array([1])) });
  await using dense = await openTensorFile(join(dir, 'dense.npz'));
  assert.deepEqual(dense.tensors.map((info) => info.name), ['format']);
});
