/**
 * Sparse tensors through `.zt`: CSR and COO objects convert `.zt` → `.zt` as their parts
 * (not densified), v1 sparse tensors upgrade to v2 layouts, and SciPy agrees on both
 * layouts: a CSR and a COO matrix built by SciPy and stored by a Python writer read back
 * in tensio as the same dense matrix, and SciPy rebuilds what tensio writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { densify } from '../src/model/densify.js';
import { convert, mergeTensorFiles, openTensorFile } from '../src/operations/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { ztOpen, ztVerify } from '../src/formats/zt/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

test('a CSR object converts .zt → .zt as parts (digests on every part), and densifies the same', { skip: sharedSkip('conformance/ztensor/valid/csr-data-valid.zt') }, async (t) => {
  const dir = await tempDir(t);
  const input = sharedFile('conformance/ztensor/valid/csr-data-valid.zt')!;
  await convert(input, join(dir, 'copy.zt'));
  await using copy = await ztOpen(join(dir, 'copy.zt'));
  const object = copy.manifest!.objects.get('m')!;
  assert.equal(object.layout, 'zt.sparse_csr/1');
  assert.deepEqual([...object.parts.keys()], ['indices', 'indptr', 'values']);
  for (const part of object.parts.values()) assert.match(part.digest ?? '', /^xxh3:/);
  await using original = await ztOpen(new Uint8Array(readFileSync(input)));
  assert.deepEqual((await densify(copy, 'm')).data, (await densify(original, 'm')).data);
  assert.equal((await ztVerify(join(dir, 'copy.zt'))).ok, true);
  const csr = await copy.readCsr('m');
  assert.deepEqual(csr.indptr, [0, 2, 3]);
  await convert(join(dir, 'copy.zt'), join(dir, 'z.zt'), { writeOptions: { compress: { frameBytes: 8 } } });
  await using compressed = await ztOpen(join(dir, 'z.zt'));
  assert.equal(compressed.manifest!.objects.get('m')!.parts.get('values')!.encoding, 'zt.zstd-seekable/1');
  assert.deepEqual((await densify(compressed, 'm')).data, (await densify(original, 'm')).data);
  // A format without sparse layouts still needs densify.
  await assert.rejects(convert(join(dir, 'copy.zt'), join(dir, 'm.safetensors')), /densify/);
  await convert(join(dir, 'copy.zt'), join(dir, 'm.safetensors'), { densify: true });
  await using dense = await openTensorFile(join(dir, 'm.safetensors'));
  assert.deepEqual((await dense.read('m')).data, (await densify(original, 'm')).data);
});

test('merge: a sparse .zt object goes into a .zt output as its parts beside dense tensors; an output without sparse layouts refuses it by name', { skip: sharedSkip('conformance/ztensor/valid/csr-data-valid.zt') }, async (t) => {
  const dir = await tempDir(t);
  const input = sharedFile('conformance/ztensor/valid/csr-data-valid.zt')!;
  await safetensorsWrite(join(dir, 'dense.safetensors'), { d: { dtype: 'float32', shape: [2], data: new Uint8Array(new Float32Array([1.5, -2]).buffer) } });
  await mergeTensorFiles([input, join(dir, 'dense.safetensors')], join(dir, 'merged.zt'));
  await using merged = await ztOpen(join(dir, 'merged.zt'));
  const object = merged.manifest!.objects.get('m')!;
  assert.equal(object.layout, 'zt.sparse_csr/1');
  assert.deepEqual([...object.parts.keys()], ['indices', 'indptr', 'values']);
  await using original = await ztOpen(new Uint8Array(readFileSync(input)));
  assert.deepEqual((await densify(merged, 'm')).data, (await densify(original, 'm')).data);
  assert.deepEqual([...new Float32Array((await merged.read('d')).data.slice().buffer)], [1.5, -2]);
  assert.equal((await ztVerify(join(dir, 'merged.zt'))).ok, true);
  await assert.rejects(mergeTensorFiles([input, join(dir, 'dense.safetensors')], join(dir, 'merged.safetensors')), (error: Error & { code?: string }) => error.code === 'UNSUPPORTED_FEATURE' && /m in input 1 is a sparse_csr tensor made of parts.*densify/.test(error.message));
});

test('SciPy agrees: CSR and COO matrices it builds read back in tensio, and it rebuilds what tensio writes', { skip: oracleSkip('scipy', 'cbor2', 'xxhash') }, async (t) => {
  const dir = await tempDir(t);
  // Python writes a .zt holding scipy's CSR (int32 indices stored as u32) and COO (coords as u64, structure of arrays).
  const { stdout } = runPython(`
import numpy as np, scipy.sparse as sp, cbor2, xxhash, struct, sys, json
rng = np.random.default_rng(5)
m = sp.random(7, 9, density=0.3, format='csr', random_state=5, dtype=np.float32)
m.sort_indices()
coo = sp.random(4, 6, density=0.4, format='coo', random_state=6, dtype=np.float64)
blobs, parts = [], {}
def add(obj, name, dtype, arr):
    blobs.append((obj, name, dtype, np.ascontiguousarray(arr).tobytes()))
add('csr', 'indices', 'u32', m.indices.astype('<u4'))
add('csr', 'indptr', 'u32', m.indptr.astype('<u4'))
add('csr', 'values', 'f32', m.data.astype('<f4'))
add('coo', 'coords', 'u64', np.concatenate([coo.row, coo.col]).astype('<u8'))
add('coo', 'values', 'f64', coo.data.astype('<f8'))
out = bytearray(b'\\x89ZT2\\r\\n\\x1a\\n')
objects = {'csr': {'shape': list(m.shape), 'layout': 'zt.sparse_csr/1', 'parts': {}}, 'coo': {'shape': list(coo.shape), 'layout': 'zt.sparse_coo/1', 'parts': {}}}
for obj, name, dtype, data in blobs:
    out += b'\\0' * (-len(out) % 4096)
    objects[obj]['parts'][name] = {'dtype': dtype, 'blob': [len(out), len(data)], 'digest': 'xxh3:%016x' % xxhash.xxh3_64_intdigest(data)}
    out += data
out += b'\\0' * (-len(out) % 4096)
man = cbor2.dumps({'objects': objects}, canonical=True)
off = len(out); out += man
out += struct.pack('<QQQII', off, len(man), xxhash.xxh3_64_intdigest(man), 2, 0) + b'\\x89ZT2\\r\\n\\x1a\\n'
open(sys.argv[1] + '/scipy.zt', 'wb').write(out)
print(json.dumps({'csr': m.toarray().ravel().tolist(), 'coo': coo.toarray().ravel().tolist()}))
`, [dir]);
  const expected = JSON.parse(stdout) as { csr: number[]; coo: number[] };
  await using reader = await ztOpen(join(dir, 'scipy.zt'));
  assert.equal(reader.info('csr').layout?.kind, 'sparse_csr');
  assert.equal(reader.info('coo').layout?.kind, 'sparse_coo');
  assert.deepEqual([...new Float32Array((await densify(reader, 'csr')).data.buffer)], expected.csr.map(Math.fround));
  assert.deepEqual([...new Float64Array((await densify(reader, 'coo')).data.buffer)], expected.coo);
  assert.equal((await ztVerify(join(dir, 'scipy.zt'))).ok, true);
  // tensio rewrites it canonically; SciPy rebuilds both matrices from tensio's file.
  await convert(join(dir, 'scipy.zt'), join(dir, 'tensio.zt'));
  const back = runPython(`
import numpy as np, scipy.sparse as sp, cbor2, xxhash, struct, sys, json
b = open(sys.argv[1] + '/tensio.zt', 'rb').read()
off, ln, h, ver, res = struct.unpack('<QQQII', b[-40:-8])
assert xxhash.xxh3_64_intdigest(b[off:off+ln]) == h
man = cbor2.loads(b[off:off+ln])
def part(obj, name, dt):
    p = man['objects'][obj]['parts'][name]; o, l = p['blob']
    assert p['digest'] == 'xxh3:%016x' % xxhash.xxh3_64_intdigest(b[o:o+l])
    return np.frombuffer(b[o:o+l], dtype=dt)
c = man['objects']['csr']
m = sp.csr_matrix((part('csr', 'values', '<f4'), part('csr', 'indices', '<u4'), part('csr', 'indptr', '<u4')), shape=tuple(c['shape']))
o = man['objects']['coo']; coords = part('coo', 'coords', '<u8').reshape(2, -1)
coo = sp.coo_matrix((part('coo', 'values', '<f8'), (coords[0], coords[1])), shape=tuple(o['shape']))
print(json.dumps({'csr': m.toarray().ravel().tolist(), 'coo': coo.toarray().ravel().tolist()}))
`, [dir]);
  assert.deepEqual(JSON.parse(back.stdout), expected);
  writeFileSync(join(dir, 'done'), '');
});

test('v1 sparse tensors upgrade to v2 sparse layouts through convert', async (t) => {
  const dir = await tempDir(t);
  const { cborEncodeCanonical } = await import('../src/formats/zt/index.js');
  const enc = new TextEncoder();
  const values = new Uint8Array(new Float32Array([10, 20, 30]).buffer);
  const indices = new Uint8Array(new BigUint64Array([0n, 2n, 1n]).buffer);
  const indptr = new Uint8Array(new BigUint64Array([0n, 2n, 3n]).buffer);
  const body = new Uint8Array(64 * 4);
  body.set(enc.encode('ZTEN1000'));
  body.set(values, 64); body.set(indices, 128); body.set(indptr, 192);
  const manifest = cborEncodeCanonical({ version: '1.0', tensors: { s: { dtype: 'float32', shape: [2, 3], format: 'sparse_csr', components: { values: { offset: 64, length: 12 }, indices: { offset: 128, length: 24 }, indptr: { offset: 192, length: 24 } } } } });
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(manifest.length), true);
  const file = new Uint8Array(body.length + manifest.length + 8);
  file.set(body); file.set(manifest, body.length); file.set(size, body.length + manifest.length);
  writeFileSync(join(dir, 'v1.zt'), file);
  await convert(join(dir, 'v1.zt'), join(dir, 'v2.zt'));
  await using reader = await ztOpen(join(dir, 'v2.zt'));
  assert.equal(reader.manifest!.objects.get('s')!.layout, 'zt.sparse_csr/1');
  assert.deepEqual([...new Float32Array((await densify(reader, 's')).data.buffer)], [10, 0, 20, 0, 30, 0]);
});
