/**
 * NumPack's `from_s3` / `to_s3` as `fromS3` / `toS3` (tensio/io), against a real
 * S3-compatible server (Swift with s3api, once for this file): every NumPack format and
 * the other tensio formats out to S3 and back into a store, a `.npy` named after its S3
 * key (NumPack named it after a temporary file), each format also by its name (NumPack's
 * and tensio's) on keys whose extension says nothing, layouts of several objects (a
 * NumPack store, a Zarr group, a sharded checkpoint) read from a prefix, and files
 * written by NumPy read from S3 / files written to S3 read by NumPy (oracle).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, sep } from 'node:path';
import { fromS3, toS3 } from '../src/io/s3-io.js';
import { fromTensor, toTensor } from '../src/io/tensor-io.js';
import { NumPack } from '../src/npk/numpack.js';
import { createTensor } from '../src/core/tensor.js';
import { isTensioError } from '../src/core/errors.js';
import { s3Store } from '../src/storage/s3-store.js';
import { tempDir } from './helpers/temp.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';
import { readdir, writeFile, readFile } from 'node:fs/promises';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { safetensorsSerialize } from '../src/formats/safetensors/write.js';

const env = useSwiftS3('tensio-io');
const skip = s3Skip;

function values(): Float64Array {
  return new Float64Array(40 * 6).map((_, i) => (i % 13) * 0.25 - 1);
}

/** A NumPack store at `path` holding {@link values} as the float64 [40, 6] array 'features'. */
async function featuresStore(path: string): Promise<string> {
  await fromTensor(createTensor('float64', [40, 6], values()), path, { arrayName: 'features' });
  return path;
}

/**
 * A NumPack store (array 'features') and the same as a Zarr group, made in `dir` and
 * uploaded file by file under `prefix` as `store.npk/` and `store.zarr/` (as `aws s3
 * sync` would). Returns the local store's path.
 */
async function uploadStoreAndZarr(dir: string, prefix: string): Promise<string> {
  const npkPath = await featuresStore(join(dir, 'store.npk'));
  const zarrPath = join(dir, 'store.zarr');
  await convert(npkPath, zarrPath, { to: 'zarr' });
  for (const [folder, name] of [[npkPath, 'store.npk/'], [zarrPath, 'store.zarr/']] as const) {
    const store = s3Store(`${prefix}${name}`);
    for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      await store.write(relative(folder, path).split(sep).join('/'), await readFile(path));
    }
  }
  return npkPath;
}

async function floatsOf(npkPath: string, arrayName: string): Promise<number[]> {
  const tensor = await toTensor(npkPath, { arrayName });
  const bytes = tensor.data;
  if (tensor.dtype === 'float64') return [...new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)];
  if (tensor.dtype === 'float32') return [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
  throw new Error(`unexpected dtype ${tensor.dtype}`);
}

test('toS3 then fromS3 for every NumPack format and the other tensio formats; arrays named after the key', { skip }, async (t) => {
  const { bucket, openUploads } = env.current!;
  const dir = await tempDir(t);
  const source = await featuresStore(join(dir, 'source.npk'));
  const expected = [...values()];
  const cases: Array<{ key: string; format?: string; arrayAfter: string }> = [
    { key: 'features.npy', arrayAfter: 'features' },
    { key: 'all.npz', arrayAfter: 'features' },
    { key: 'table.csv', arrayAfter: 'table' },
    { key: 'table.txt', arrayAfter: 'table' },
    { key: 'table.parquet', arrayAfter: 'table' },
    { key: 'table.feather', arrayAfter: 'table' },
    { key: 'data.h5', arrayAfter: 'features' },
    { key: 'model.safetensors', arrayAfter: 'features' },
    { key: 'model.pt', arrayAfter: 'features' },
    { key: 'model.gguf', arrayAfter: 'features' },
    { key: 'model.zt', arrayAfter: 'features' },
    { key: 'no-extension', format: 'safetensors', arrayAfter: 'features' },
  ];
  for (const { key, format, arrayAfter } of cases) {
    const s3Path = `s3://${bucket}/io/${key}`;
    await toS3(source, s3Path, { arrayName: 'features', ...(format ? { format } : {}) });
    const back = join(dir, `${key}.npk`);
    await fromS3(s3Path, back, { dropIfExists: true, ...(format ? { format } : {}) });
    await using npk = await NumPack.open(back, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), [arrayAfter], `${key}: the array's name after the round trip`);
    assert.deepEqual(await floatsOf(back, arrayAfter), expected, `${key}: the values after the round trip`);
  }
  assert.deepEqual(await openUploads(), []);
  // Refusals: a prefix instead of a key, a path that is not s3://, an unknown format.
  await assert.rejects(toS3(source, `s3://${bucket}/io/`), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(fromS3('/tmp/x.npy', source), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(toS3(source, `s3://${bucket}/io/x.bin`, { format: 'nope' }), (e) => isTensioError(e, 'UNKNOWN_FORMAT'));
  await assert.rejects(fromS3(`s3://${bucket}/io/none.npy`, join(dir, 'none.npk')), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('fromS3/toS3 with each format named: NumPack\'s names and tensio\'s, on keys whose extension says nothing', { skip }, async (t) => {
  const { bucket, openUploads } = env.current!;
  const dir = await tempDir(t);
  const source = await featuresStore(join(dir, 'source.npk'));
  const expected = [...values()];
  // Tables are named after the key's stem (NumPack), NumPy files too; tensor formats keep the tensor's name.
  const TABLES = new Set(['csv', 'txt', 'parquet', 'feather', 'arrow']);
  const cases: Array<{ key: string; format: string; arrayAfter?: string }> = [
    { key: 'auto.parquet', format: 'auto', arrayAfter: 'auto' },
    { key: 'one.npy', format: 'numpy', arrayAfter: 'one' },
    { key: 'all.npz', format: 'numpy', arrayAfter: 'features' },
    // NumPack's names (csv, txt, parquet and hdf5 are tensio's names too), then tensio's other formats.
    ...['csv', 'txt', 'parquet', 'feather', 'hdf5'].map((format) => ({ key: `numpack-${format}`, format })),
    ...['safetensors', 'pytorch', 'npy', 'npz', 'gguf', 'zt', 'arrow'].map((format) => ({ key: `tensio-${format}`, format })),
  ];
  for (const { key, format, arrayAfter } of cases) {
    const s3Path = `s3://${bucket}/named/${key}`;
    await toS3(source, s3Path, { arrayName: 'features', format });
    const back = join(dir, `${key}.npk`);
    await fromS3(s3Path, back, { format });
    const stem = key.replace(/\.[a-z]+$/, '');
    const name = arrayAfter ?? (TABLES.has(format) || format === 'npy' ? stem : 'features');
    await using npk = await NumPack.open(back, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), [name], `${format} (${key}): the array's name after the round trip`);
    assert.deepEqual(await floatsOf(back, name), expected, `${format} (${key}): the values after the round trip`);
  }
  // NumPack's `numpy` on a key that says neither .npy nor .npz: the bytes decide when reading;
  // writing cannot choose between the two and says so.
  const npyBytes = await s3Store(`s3://${bucket}/named/`).read('one.npy');
  await s3Store(`s3://${bucket}/named/`).write('bare-npy', npyBytes);
  await fromS3(`s3://${bucket}/named/bare-npy`, join(dir, 'bare.npk'), { format: 'numpy' });
  {
    await using npk = await NumPack.open(join(dir, 'bare.npk'), { readOnly: true });
    assert.deepEqual(npk.getMemberList(), ['bare-npy'], 'named after the key');
  }
  await assert.rejects(toS3(source, `s3://${bucket}/named/bare-out`, { format: 'numpy' }), (e) => isTensioError(e, 'INVALID_ARGUMENT') && /\.npy or \.npz/.test((e as Error).message));
  await assert.rejects(fromS3(`s3://${bucket}/named/numpack-csv`, join(dir, 'wrong.npk'), { format: 'numpy' }), (e) => isTensioError(e), 'a CSV named numpy is refused');
  // Folder formats: written to S3 is refused with the reason; read from a prefix they are.
  for (const format of ['npk', 'zarr']) {
    await assert.rejects(toS3(source, `s3://${bucket}/named/out.${format}`, { format, arrayName: 'features' }), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE') && /local folder/.test((e as Error).message), `${format}: toS3 says why not`);
  }
  assert.deepEqual(await openUploads(), []);
});

test('fromS3 reads layouts of several objects from a prefix: a NumPack store, a Zarr group, a sharded checkpoint', { skip }, async (t) => {
  const { bucket } = env.current!;
  const dir = await tempDir(t);
  await uploadStoreAndZarr(dir, `s3://${bucket}/layouts/`);
  // Two tensors of 1,920 bytes in shards of at most 2,500: two shards and the index.
  const pair = { features: createTensor('float64', [40, 6], values()), again: createTensor('float64', [40, 6], values()) };
  const pairPath = join(dir, 'pair.safetensors');
  await writeFile(pairPath, safetensorsSerialize(pair));
  await convert(pairPath, `s3://${bucket}/layouts/ckpt/model.safetensors.index.json`, { writeOptions: { maxShardBytes: 2500 } });
  assert.equal((await s3Store(`s3://${bucket}/layouts/ckpt/`).list()).length, 3, 'two shards and the index');
  const cases: Array<{ location: string; format?: string; arrays: string[] }> = [
    { location: `s3://${bucket}/layouts/store.npk/`, arrays: ['features'] },
    { location: `s3://${bucket}/layouts/store.npk/`, format: 'npk', arrays: ['features'] },
    { location: `s3://${bucket}/layouts/store.zarr/`, arrays: ['features'] },
    { location: `s3://${bucket}/layouts/store.zarr/`, format: 'zarr', arrays: ['features'] },
    { location: `s3://${bucket}/layouts/ckpt/model.safetensors.index.json`, arrays: ['again', 'features'] },
  ];
  for (const [at, { location, format, arrays }] of cases.entries()) {
    const back = join(dir, `from-${at}.npk`);
    await fromS3(location, back, format ? { format } : {});
    await using npk = await NumPack.open(back, { readOnly: true });
    assert.deepEqual(npk.getMemberList().sort(), arrays, `${location} (${format ?? 'auto'}): the arrays`);
    for (const name of arrays) assert.deepEqual(await floatsOf(back, name), [...values()], `${location} (${format ?? 'auto'}): ${name}'s values`);
  }
  await assert.rejects(fromS3(`s3://${bucket}/`, join(dir, 'root.npk')), (e) => isTensioError(e, 'INVALID_ARGUMENT'), 'a bucket alone is no input');
});

test('fromS3 reads what NumPy wrote; toS3 writes what NumPy reads (through the bucket)', { skip: skip || oracleSkip('numpy') }, async (t) => {
  const { bucket } = env.current!;
  const dir = await tempDir(t);
  runPython(`import numpy as np, sys
np.save(sys.argv[1], np.arange(24, dtype=np.int32).reshape(4, 6))
np.savez_compressed(sys.argv[2], a=np.linspace(0, 1, 7), b=np.eye(3, dtype=np.float32))`, [join(dir, 'ints.npy'), join(dir, 'pair.npz')]);
  const store = s3Store(`s3://${bucket}/numpy/`);
  await store.write('ints.npy', await readFile(join(dir, 'ints.npy')));
  await store.write('pair.npz', await readFile(join(dir, 'pair.npz')));
  const npkPath = join(dir, 'in.npk');
  await fromS3(`s3://${bucket}/numpy/ints.npy`, npkPath);
  await fromS3(`s3://${bucket}/numpy/pair.npz`, npkPath);
  {
    await using npk = await NumPack.open(npkPath, { readOnly: true });
    assert.deepEqual(npk.getMemberList().sort(), ['a', 'b', 'ints']);
  }
  await toS3(npkPath, `s3://${bucket}/numpy/out.npz`, { compressed: false });
  await writeFile(join(dir, 'out.npz'), await store.read('out.npz'));
  const printed = runPython(`import numpy as np, sys
z = np.load(sys.argv[1])
print(sorted(z.files), z['ints'].tolist() == np.arange(24).reshape(4, 6).tolist(), z['ints'].dtype, np.allclose(z['a'], np.linspace(0, 1, 7)), z['b'].dtype)`, [join(dir, 'out.npz')]).stdout.trim();
  assert.equal(printed, "['a', 'b', 'ints'] True int32 True float32");
});

test('NumPack stores and Zarr folders on S3 are read through the S3 store (writes are refused with the reason)', { skip }, async (t) => {
  const { bucket } = env.current!;
  const dir = await tempDir(t);
  const npkPath = await uploadStoreAndZarr(dir, `s3://${bucket}/folders/`);
  for (const [location, format] of [[`s3://${bucket}/folders/store.npk/`, 'npk'], [`s3://${bucket}/folders/store.zarr/`, 'zarr']] as const) {
    await using reader = await openTensorFile(location, { format });
    assert.equal(reader.tensors.length, 1, location);
    const read = await reader.read(reader.tensors[0]!.name);
    assert.deepEqual([...new Float64Array(read.data.slice().buffer)], [...values()], `${format}: the values read from S3`);
  }
  for (const [target, format] of [[`s3://${bucket}/folders/out.npk`, 'npk'], [`s3://${bucket}/folders/out.zarr`, 'zarr']] as const) {
    await assert.rejects(convert(npkPath, target, { to: format }), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE') && /local folder/.test((e as Error).message), `${format}: writing to S3 is refused with the reason`);
  }
});
