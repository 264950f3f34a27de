/**
 * Hostile HDF5 inputs: one thing wrong each, every one a TensioError with its code —
 * never a crash, a hang, garbage bytes or a raw library error. Files are written by
 * tensio's writer (or h5py where noted) and then damaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { hdf5PluginFolder } from '../src/formats/hdf5/plugins.js';
import { openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import { unsupportedTensorsOf } from '../src/model/select.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

async function sample(path: string, options: Record<string, unknown> = {}): Promise<Uint8Array> {
  const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'g/x', dtype: 'float32', shape: [64, 16] }, { name: 'y', dtype: 'int64', shape: [8] }], metadata: { note: 'hostile' }, ...options });
  await writer.add('g/x', new Uint8Array(new Float32Array(64 * 16).map((_, i) => i).buffer));
  await writer.add('y', new Uint8Array(64).fill(7));
  await writer.close();
  return new Uint8Array(await readFile(path));
}

/** Opens and reads everything; returns the error code, or 'ok'. */
async function outcome(path: string): Promise<string> {
  try {
    await using reader = await hdf5Open(path);
    for (const info of reader.tensors) await reader.read(info.name);
    return 'ok';
  } catch (error) {
    assert.ok(isTensioError(error), `not a TensioError: ${String((error as Error)?.stack ?? error)}`);
    return error.code;
  }
}

const CASES: Array<{ name: string; damage: (bytes: Uint8Array) => Uint8Array; codes: TensioErrorCode[]; options?: Record<string, unknown> }> = [
  { name: 'signature damaged', damage: (b) => { b[1] = 0x58; return b; }, codes: ['BAD_MAGIC', 'INVALID_HEADER'] },
  { name: 'superblock checksum wrong', damage: (b) => { b[44] ^= 0xff; return b; }, codes: ['CHECKSUM_MISMATCH', 'INVALID_HEADER'] },
  { name: 'end-of-file address past the file', damage: (b) => { new DataView(b.buffer).setUint32(28, b.byteLength * 4, true); return b; }, codes: ['TRUNCATED', 'INVALID_HEADER', 'CHECKSUM_MISMATCH'] },
  { name: 'truncated to half', damage: (b) => b.slice(0, b.byteLength >> 1), codes: ['TRUNCATED', 'INVALID_HEADER'] },
  { name: 'truncated to the superblock', damage: (b) => b.slice(0, 48), codes: ['TRUNCATED', 'INVALID_HEADER'] },
  { name: 'root object header byte flipped', damage: (b) => { const at = new DataView(b.buffer).getUint32(36, true); b[at + 9] ^= 0x20; return b; }, codes: ['CHECKSUM_MISMATCH', 'INVALID_HEADER'] },
  { name: 'empty file', damage: () => new Uint8Array(0), codes: ['BAD_MAGIC', 'INVALID_HEADER', 'TRUNCATED'] },
  { name: 'deflated chunk damaged (no checksum filter)', damage: (b) => { for (let i = 60; i < 90; i++) b[i] ^= 0x5a; return b; }, codes: ['INVALID_HEADER', 'TRUNCATED'], options: { compression: 'gzip' } },
  { name: 'deflated chunk damaged under Fletcher-32', damage: (b) => { b[70] ^= 0x01; return b; }, codes: ['CHECKSUM_MISMATCH'], options: { compression: 'gzip', fletcher32: true } },
];

for (const hostile of CASES) {
  test(`hdf5 hostile: ${hostile.name} -> ${hostile.codes.join(' or ')}`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'bad.h5');
    const bytes = await sample(path, hostile.options);
    await writeFile(path, hostile.damage(bytes));
    const code = await outcome(path);
    assert.ok((hostile.codes as string[]).includes(code), `${hostile.name}: got ${code}`);
    // verify reports it as a problem (or refuses to open) rather than passing.
    try {
      const report = await verifyTensorFile(path, { format: 'hdf5' });
      assert.equal(report.ok, false, `${hostile.name}: verify passed`);
    } catch (error) {
      assert.ok(isTensioError(error), String(error));
    }
  });
}

test('hdf5 hostile: a path that does not exist is NOT_FOUND; bytes (and URLs) are read in place by range, no temporary copy is made', async (t) => {
  await assert.rejects(hdf5Open('/nonexistent/file.h5'), (error) => isTensioError(error, 'NOT_FOUND'));
  const copies = async () => (await readdir(tmpdir())).filter((name) => name.includes('copy.h5') && name.includes('.tensio-'));
  const before = new Set(await copies());
  // A signature and nothing else: libhdf5 refuses it, with a code.
  await assert.rejects(openTensorFile(new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(100).fill(0)]), { format: 'hdf5' }), (error) => isTensioError(error));
  // A real file, as bytes: read like the file itself.
  const dir = await tempDir(t);
  const path = join(dir, 'x.h5');
  const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'g/x', dtype: 'float32', shape: [2, 3] }] });
  await writer.add('g/x', new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
  await writer.close();
  const reader = await openTensorFile(new Uint8Array(await readFile(path)), { format: 'hdf5' });
  assert.deepEqual([...new Float32Array((await reader.read('g/x')).data.slice().buffer)], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual((await copies()).filter((name) => !before.has(name)), [], 'no local copy while open');
  await reader.close();
  await assert.rejects(reader.read('g/x'), (error) => isTensioError(error, 'INVALID_STATE'));
});

test('hdf5 hostile: writer refuses bad names, unknown attribute targets, oversized attributes and bad options before writing anything', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.h5');
  const plan = (name: string) => ({ tensors: [{ name, dtype: 'float32' as const, shape: [2] }] });
  for (const name of ['a//b', 'a/./b', '../x', '/']) await assert.rejects(hdf5CreateWriter(path, plan(name)), (error) => isTensioError(error, 'INVALID_NAME'), name);
  await assert.rejects(hdf5CreateWriter(path, { tensors: [{ name: 'a', dtype: 'float32', shape: [2] }, { name: 'a/b', dtype: 'float32', shape: [2] }] }), (error) => isTensioError(error, 'INVALID_NAME'));
  await assert.rejects(hdf5CreateWriter(path, { ...plan('x'), attributes: { '/nope': { a: 1 } } }), (error) => isTensioError(error, 'NOT_FOUND'));
  await assert.rejects(hdf5CreateWriter(path, { ...plan('x'), attributes: { '/': { big: 'x'.repeat(70_000) } } }), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));
  await assert.rejects(hdf5CreateWriter(path, { ...plan('x'), compressionLevel: 12 }), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
  await assert.rejects(hdf5CreateWriter(path, { tensors: [{ name: 'c', dtype: 'complex64', shape: [2] }] }), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE'));
  await assert.rejects(readFile(path), { code: 'ENOENT' });
});

test('hdf5 hostile: h5py files with a group cycle, dangling and external links, and an LZF dataset (read through the plugin, or refused without it) open without following links or reading garbage', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'links.h5');
  runPython(String.raw`
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    g = f.create_group('g')
    g['x'] = np.arange(4, dtype='f4')
    g['soft'] = h5py.SoftLink('/g/x')
    g['dangling'] = h5py.SoftLink('/nowhere')
    g['external'] = h5py.ExternalLink('/etc/passwd', '/x')
    f.create_dataset('lzf', data=np.arange(100, dtype='f4'), compression='lzf', chunks=(10,))
`, [path]);
  await using reader = await hdf5Open(path);
  assert.deepEqual(reader.metadata['hdf5.links'], ['/g/dangling -> /nowhere (soft)', '/g/external -> /etc/passwd:/x (external)', '/g/soft -> /g/x (soft)']);
  if (hdf5PluginFolder()) {
    // LZF through h5wasm-plugins: read, equal to what h5py wrote.
    assert.deepEqual(reader.tensors.map((info) => info.name), ['g/x', 'lzf']);
    assert.deepEqual([...new Float32Array((await reader.read('lzf')).data.slice().buffer)], Array.from({ length: 100 }, (_, i) => i));
  } else {
    assert.deepEqual(reader.tensors.map((info) => info.name), ['g/x']);
    assert.deepEqual(unsupportedTensorsOf(reader.metadata).map((entry) => entry.code), ['UNSUPPORTED_FILTER']);
  }
  const cycle = join(dir, 'cycle.h5');
  runPython(String.raw`
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    g = f.create_group('g')
    g['x'] = np.arange(3, dtype='i4')
    g['back'] = g  # a hard link to its own group
`, [cycle]);
  assert.equal(await outcome(cycle), 'LIMIT_EXCEEDED');
});
