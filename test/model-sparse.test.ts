/**
 * Multi-part tensors (src/model/layouts.ts) and densify (src/model/densify.ts): parts
 * read one by one (any location kind), sparse CSR/COO densified and checked against
 * scipy.sparse, every data rule refused with INVALID_LAYOUT, and convert refusing or
 * densifying them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { itemSize, type DType } from '../src/core/dtype.js';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { elementCount } from '../src/core/sizes.js';
import { createTensorReader, type TensorLocation } from '../src/model/create-reader.js';
import { densify } from '../src/model/densify.js';
import type { TensorLayout, TensorPartInfo } from '../src/model/layouts.js';
import type { TensorInfo, TensorReader } from '../src/model/types.js';
import { convertReader } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { inflateRawCodec } from '../src/storage/inflate-codec.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

interface PartBytes { name: string; dtype: DType; shape: number[]; bytes: Uint8Array; deflate?: boolean }

/** A reader holding one multi-part tensor whose parts are spans (or a deflated chunk, when asked). */
function sparseReader(name: string, layout: TensorLayout, dtype: DType, shape: number[], partList: PartBytes[]): TensorReader {
  const parts: TensorPartInfo[] = partList.map((part) => ({ name: part.name, dtype: part.dtype, shape: part.shape, byteLength: part.bytes.byteLength }));
  const info: TensorInfo = { name, dtype, shape, byteLength: parts.reduce((sum, part) => sum + part.byteLength, 0), layout, parts };
  const locations = new Map<string, TensorLocation>(partList.map((part) => {
    if (!part.deflate) return [part.name, { kind: 'span', source: bytesSource(part.bytes), offset: 0 }];
    const stored = deflateRawSync(part.bytes);
    return [part.name, { kind: 'chunks', chunks: [{ source: bytesSource(stored), offset: 0, storedLength: stored.byteLength, codec: inflateRawCodec, decodedLength: part.bytes.byteLength, byteLength: part.bytes.byteLength, format: 'test', label: `part ${part.name}` }] }];
  }));
  return createTensorReader({
    format: 'test', size: 0, metadata: {}, tensors: [info],
    locate: () => { throw new Error('a multi-part tensor has no dense location'); },
    locatePart: (_info, part) => locations.get(part.name)!,
  });
}

const bytesOf = (array: ArrayBufferView): Uint8Array => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

async function rejectsWith(promise: Promise<unknown>, code: TensioErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isTensioError(error), String(error));
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** CSR [3, 4] float32: rows [0 1.5 0 0], [], [2 0 0 -3]. */
function smallCsr(overrides: { indptr?: number[]; indices?: number[]; values?: number[]; shape?: number[] } = {}): TensorReader {
  const values = new Float32Array(overrides.values ?? [1.5, 2, -3]);
  const indices = new Int32Array(overrides.indices ?? [1, 0, 3]);
  const indptr = new Int32Array(overrides.indptr ?? [0, 1, 1, 3]);
  return sparseReader('m', { kind: 'sparse_csr' }, 'float32', overrides.shape ?? [3, 4], [
    { name: 'values', dtype: 'float32', shape: [values.length], bytes: bytesOf(values) },
    { name: 'indices', dtype: 'int32', shape: [indices.length], bytes: bytesOf(indices) },
    { name: 'indptr', dtype: 'int32', shape: [indptr.length], bytes: bytesOf(indptr) },
  ]);
}

test('a multi-part tensor: parts read and stream one by one; read() and stream() of the whole say what to do', async () => {
  const reader = smallCsr();
  const info = reader.info('m');
  assert.equal(info.layout?.kind, 'sparse_csr');
  assert.deepEqual(info.parts?.map((part) => part.name), ['values', 'indices', 'indptr']);
  assert.deepEqual([...new Int32Array((await reader.readPart('m', 'indptr')).data.buffer)], [0, 1, 1, 3]);
  const window = await reader.readPart('m', 'indices', { elements: { start: 1, end: 3 } });
  assert.deepEqual(window.shape, [2]);
  assert.deepEqual([...new Int32Array(window.data.slice().buffer)], [0, 3]);
  let streamed = 0;
  for await (const piece of reader.streamPart('m', 'values', { chunkBytes: 4 })) streamed += piece.byteLength;
  assert.equal(streamed, 12);
  await rejectsWith(reader.read('m'), 'UNSUPPORTED_FEATURE', /readPart|densify/);
  await rejectsWith((async () => { for await (const piece of reader.stream('m')) void piece; })(), 'UNSUPPORTED_FEATURE');
  await rejectsWith(reader.readPart('m', 'scales'), 'NOT_FOUND');
  await rejectsWith(reader.readPart('m', 'indptr', { elements: { start: 2, end: 9 } }), 'INVALID_SLICE');
  const dense = await densify(reader, 'm');
  assert.deepEqual(dense.shape, [3, 4]);
  assert.deepEqual([...new Float32Array(dense.data.buffer)], [0, 1.5, 0, 0, 0, 0, 0, 0, 2, 0, 0, -3]);
});

test('densify refuses every broken CSR and COO with INVALID_LAYOUT, and a dense form too large with LIMIT_EXCEEDED', async () => {
  const cases: Array<[string, Parameters<typeof smallCsr>[0], RegExp]> = [
    ['indptr not starting at 0', { indptr: [1, 1, 1, 3] }, /indptr\[0\]/],
    ['indptr decreasing', { indptr: [0, 2, 1, 3] }, /decreases/],
    ['indptr past nnz', { indptr: [0, 1, 4, 3] }, /past nnz/],
    ['indptr ending before nnz', { indptr: [0, 1, 1, 2] }, /not nnz/],
    ['column out of range', { indices: [1, 0, 4] }, /outside 4 columns/],
    ['negative column', { indices: [1, -1, 3] }, /not a valid index/],
    ['a cell twice', { indices: [1, 3, 3] }, /given twice/],
    ['values and indices of different lengths', { values: [1, 2] }, /expected \[2\]/],
    ['indptr of the wrong length', { indptr: [0, 1, 3] }, /expected \[4\]/],
    ['rank 3', { shape: [3, 4, 1] }, /rank 2/],
  ];
  for (const [what, overrides, pattern] of cases) {
    // Size problems are refused when the reader is built (open), data problems by densify.
    await rejectsWith((async () => densify(smallCsr(overrides), 'm'))(), 'INVALID_LAYOUT', pattern).catch((error: unknown) => { throw new Error(`${what}: ${String(error)}`); });
  }
  for (const overrides of [{ values: [1, 2] }, { indptr: [0, 1, 3] }, { shape: [3, 4, 1] }]) {
    assert.throws(() => smallCsr(overrides), (error: unknown) => isTensioError(error, 'INVALID_LAYOUT'), JSON.stringify(overrides));
  }
  await rejectsWith(densify(smallCsr(), 'm', { maxTensorBytes: 47 }), 'LIMIT_EXCEEDED');
  const coo = (coords: number[], shape = [2, 2, 3]) => sparseReader('c', { kind: 'sparse_coo' }, 'int16', shape, [
    { name: 'values', dtype: 'int16', shape: [2], bytes: bytesOf(new Int16Array([7, -8])) },
    { name: 'coords', dtype: 'uint64', shape: [3, 2], bytes: bytesOf(new BigUint64Array(coords.map(BigInt))) },
  ]);
  // SoA: value 0 at (1, 0, 2), value 1 at (0, 1, 0).
  const dense = await densify(coo([1, 0, 0, 1, 2, 0]), 'c');
  const expected = new Int16Array(12);
  expected[1 * 6 + 0 * 3 + 2] = 7;
  expected[0 * 6 + 1 * 3 + 0] = -8;
  assert.deepEqual([...new Int16Array(dense.data.buffer)], [...expected]);
  await rejectsWith(densify(coo([1, 0, 0, 2, 2, 0]), 'c'), 'INVALID_LAYOUT', /axis 1/);
  await rejectsWith(densify(coo([1, 1, 0, 0, 2, 2]), 'c'), 'INVALID_LAYOUT', /given twice/);
  await rejectsWith((async () => densify(coo([1, 0, 0, 1]), 'c'))(), 'INVALID_LAYOUT', /coords/);
  // A part whose bytes do not match its dtype and shape, and a byte length that is not the parts' sum.
  const info = smallCsr().info('m');
  const reopen = (changed: TensorInfo) => createTensorReader({ format: 'test', size: 0, metadata: {}, tensors: [changed], locate: () => { throw new Error('unused'); } });
  assert.throws(() => reopen({ ...info, parts: info.parts!.map((part) => (part.name === 'indptr' ? { ...part, byteLength: 12 } : part)) }), (error: unknown) => isTensioError(error, 'INVALID_LAYOUT'));
  assert.throws(() => reopen({ ...info, byteLength: info.byteLength + 1 }), (error: unknown) => isTensioError(error, 'INVALID_LAYOUT'));
  assert.throws(() => reopen({ ...info, parts: [...info.parts!, info.parts![0]!] }), (error: unknown) => isTensioError(error, 'INVALID_LAYOUT'));
});

test('densify equals scipy.sparse toarray() for CSR (sorted and unsorted, int32 and int64 indices) and COO', { skip: oracleSkip('scipy', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, json, os, numpy as np, scipy.sparse as sp
out = sys.argv[1]
rng = np.random.default_rng(7)
cases = {}
def save(name, parts, dense, kind, shape):
    meta = {'kind': kind, 'shape': list(shape), 'dtype': str(dense.dtype), 'parts': {}}
    for part, array in parts.items():
        array = np.ascontiguousarray(array)
        array.tofile(os.path.join(out, f'{name}.{part}'))
        meta['parts'][part] = {'dtype': str(array.dtype), 'shape': list(array.shape)}
    dense.tofile(os.path.join(out, f'{name}.dense'))
    cases[name] = meta
a = sp.random(300, 200, density=0.05, format='csr', dtype=np.float32, random_state=rng)
save('csr32', {'values': a.data, 'indices': a.indices.astype(np.int32), 'indptr': a.indptr.astype(np.int32)}, a.toarray(), 'sparse_csr', a.shape)
b = sp.random(257, 1000, density=0.02, format='csr', dtype=np.float64, random_state=rng)
# unsorted columns within rows: reverse each row's entries (still a valid scipy CSR)
data, indices = b.data.copy(), b.indices.copy()
for r in range(b.shape[0]):
    s, e = b.indptr[r], b.indptr[r + 1]
    data[s:e], indices[s:e] = data[s:e][::-1].copy(), indices[s:e][::-1].copy()
u = sp.csr_matrix((data, indices, b.indptr), shape=b.shape)
assert not u.has_sorted_indices
save('csr64', {'values': u.data, 'indices': u.indices.astype(np.int64), 'indptr': u.indptr.astype(np.int64)}, u.toarray(), 'sparse_csr', u.shape)
c = sp.random(120, 90, density=0.1, format='coo', dtype=np.float32, random_state=rng)
c.sum_duplicates()
perm = rng.permutation(c.nnz)
save('coo', {'values': c.data[perm], 'coords': np.stack([c.row[perm], c.col[perm]]).astype(np.int64)}, c.toarray(), 'sparse_coo', c.shape)
json.dump(cases, open(os.path.join(out, 'cases.json'), 'w'))
`, [dir]);
  const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Record<string, { kind: 'sparse_csr' | 'sparse_coo'; shape: number[]; dtype: DType; parts: Record<string, { dtype: DType; shape: number[] }> }>;
  for (const [name, spec] of Object.entries(cases)) {
    const partList: PartBytes[] = Object.entries(spec.parts).map(([part, meta], index) => ({
      name: part, dtype: meta.dtype, shape: meta.shape, bytes: new Uint8Array(readFileSync(join(dir, `${name}.${part}`))), deflate: index === 0,
    }));
    for (const part of partList) assert.equal(part.bytes.byteLength, elementCount(part.shape) * itemSize(part.dtype)!, `${name}.${part.name}`);
    const reader = sparseReader(name, { kind: spec.kind }, spec.dtype, spec.shape, partList);
    const dense = await densify(reader, name, { windowElements: 1000 });
    const expected = new Uint8Array(readFileSync(join(dir, `${name}.dense`)));
    assert.deepEqual(dense.shape, spec.shape);
    assert.ok(Buffer.from(dense.data).equals(Buffer.from(expected)), `${name}: densify equals scipy's toarray()`);
  }
});

test('convert refuses a multi-part tensor before writing, and with densify writes it dense', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'm.npy');
  await rejectsWith(convertReader(smallCsr(), out), 'UNSUPPORTED_FEATURE', /densify/);
  const result = await convertReader(smallCsr(), out, { densify: true });
  assert.equal(result.bytes, 48);
  await using back = await openTensorFile(out);
  const tensor = await back.read(back.tensors[0]!.name);
  assert.deepEqual(tensor.shape, [3, 4]);
  assert.deepEqual([...new Float32Array(tensor.data.slice().buffer)], [0, 1.5, 0, 0, 0, 0, 0, 0, 2, 0, 0, -3]);
  const quantized = sparseReader('q', { kind: 'quant_group', bits: 4, groupSize: 32, axis: 1, packing: { word: 'uint32', order: 'lsb_first' }, scaleForm: 'f16_factors', zeroPoint: { form: 'none' } }, 'float32', [2, 64], [
    { name: 'data', dtype: 'uint32', shape: [16], bytes: new Uint8Array(64) },
    { name: 'scales', dtype: 'float16', shape: [4], bytes: new Uint8Array(8) },
  ]);
  await rejectsWith(convertReader(quantized, join(dir, 'q.npy'), { densify: true }), 'UNSUPPORTED_FEATURE', /quant_group/);
  await rejectsWith(densify(quantized, 'q'), 'INVALID_LAYOUT', /not a sparse/);
  assert.equal((await quantized.readPart('q', 'scales')).data.byteLength, 8);
});
