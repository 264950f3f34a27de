/**
 * Per-call S3 settings (`s3: { endpoint, credentials, region, partBytes, queueSize, … }`)
 * reach every library entry point that takes a path, against a real S3-compatible
 * server (Swift with s3api, once for this file). tensio's process defaults are cleared
 * and the AWS chain has nothing (no variables, no shared files, no metadata service),
 * so a call whose settings were dropped on the way fails with BAD_CREDENTIALS: each
 * entry point is shown to fail without `s3` and to work with it.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { verifyTensorFile } from '../src/operations/verify.js';
import { diffTensorFiles } from '../src/operations/diff.js';
import { mergeTensorFiles } from '../src/operations/merge.js';
import { finishSplitConvert } from '../src/operations/split/finish.js';
import { BUILT_IN_FORMATS, getFormat } from '../src/operations/registry.js';
import { contentId } from '../src/operations/content-id.js';
import { fromS3, toS3 } from '../src/io/s3-io.js';
import { fromNumpy, toNumpy } from '../src/io/numpy-io.js';
import { getSafetensorsMetadata } from '../src/io/safetensors-io.js';
import { NumPack } from '../src/npk/numpack.js';
import { fromTensor } from '../src/io/tensor-io.js';
import { createTensor } from '../src/core/tensor.js';
import { isTensioError } from '../src/core/errors.js';
import { setS3Defaults, type S3Options } from '../src/storage/s3-client.js';
import { writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';

const env = useSwiftS3('tensio-options');
const skip = s3Skip;
const MiB = 2 ** 20;

before(() => {
  // Nothing but the call's own settings: no tensio defaults, no AWS chain to fall back on.
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_CONFIG_FILE = '/nonexistent/tensio-test-aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/tensio-test-aws-credentials';
});

/** The call's settings: the test server, its credentials, and small parts (5 MiB, one at a time). */
function callOptions(): S3Options {
  return { ...env.current!.options, partBytes: 5 * MiB, queueSize: 1 };
}

function noDefaults(): void {
  setS3Defaults({});
}

const refusedWithout = (e: unknown): boolean => isTensioError(e, 'BAD_CREDENTIALS');

function weights(): Record<string, ReturnType<typeof createTensor>> {
  const big = new Float32Array((11 * MiB) / 4).map((_, i) => (i % 1013) * 0.25);
  const small = new Float32Array(600).map((_, i) => i - 300);
  return { 'layers.0.weight': createTensor('float32', [big.length / 1024, 1024], big), 'layers.0.bias': createTensor('float32', [600], small) };
}

test('convert, openTensorFile, verifyTensorFile, diffTensorFiles: the call\'s s3 settings, part size included, reach reads and writes', { skip }, async (t) => {
  const { bucket, client } = env.current!;
  noDefaults();
  const dir = await tempDir(t);
  const local = join(dir, 'model.safetensors');
  await writeWithFormat('safetensors', local, weights());
  const s3 = callOptions();
  const out = `s3://${bucket}/calls/model.safetensors`;
  await assert.rejects(convert(local, out), refusedWithout, 'without settings there are no credentials');
  await convert(local, out, { s3 });
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'calls/model.safetensors' }));
  assert.match(head.ETag ?? '', /-3"$/, 'three parts of 5 MiB (partBytes reached the upload): 5 + 5 + about 1 MiB');

  await assert.rejects(openTensorFile(out), refusedWithout);
  {
    await using reader = await openTensorFile(out, { s3 });
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), ['layers.0.bias', 'layers.0.weight']);
  }
  await assert.rejects(verifyTensorFile(out), refusedWithout);
  assert.equal((await verifyTensorFile(out, { s3 })).ok, true);
  await assert.rejects(diffTensorFiles(local, out), refusedWithout);
  assert.equal((await diffTensorFiles(local, out, { s3 })).identical, true);

  // S3 → S3 as a sharded checkpoint (index and shards through the bound store), and back to a local file.
  const index = `s3://${bucket}/calls/sharded/model.safetensors.index.json`;
  await convert(out, index, { s3, writeOptions: { maxShardBytes: 6 * MiB } });
  await assert.rejects(openTensorFile(index), refusedWithout);
  const back = join(dir, 'back.npz');
  await convert(index, back, { s3 });
  assert.equal((await diffTensorFiles(local, back)).identical, true);
  const report = await verifyTensorFile(index, { s3 });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
});

test('a format\'s own writer and reader, mergeTensorFiles, a split conversion and its finish take the call\'s s3 settings', { skip }, async (t) => {
  const { bucket } = env.current!;
  noDefaults();
  const dir = await tempDir(t);
  const local = join(dir, 'model.safetensors');
  await writeWithFormat('safetensors', local, weights());
  const s3 = callOptions();

  // The registry's writer, given an s3:// path.
  const npy = getFormat('npy');
  const values = new Float64Array(12).map((_, i) => i / 4);
  const plan = { tensors: [{ name: 'x', dtype: 'float64' as const, shape: [3, 4] }] };
  const writeNpy = async (settings: { s3?: S3Options }): Promise<void> => {
    const writer = await npy.createWriter!(`s3://${bucket}/calls/x.npy`, { ...plan, ...settings });
    try {
      await writer.add('x', new Uint8Array(values.buffer));
      await writer.close();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
  };
  await assert.rejects(writeNpy({}), refusedWithout);
  await writeNpy({ s3 });
  {
    await using reader = await openTensorFile(`s3://${bucket}/calls/x.npy`, { format: 'npy', s3 });
    assert.deepEqual([...new Float64Array((await reader.read(reader.tensors[0]!.name)).data.slice().buffer)], [...values]);
  }

  await assert.rejects(mergeTensorFiles([local, `s3://${bucket}/calls/x.npy`], `s3://${bucket}/calls/merged.safetensors`), refusedWithout);
  await mergeTensorFiles([local, `s3://${bucket}/calls/x.npy`], `s3://${bucket}/calls/merged.safetensors`, { s3 });
  {
    await using merged = await openTensorFile(`s3://${bucket}/calls/merged.safetensors`, { s3 });
    assert.equal(merged.tensors.length, 3);
  }

  const index = `s3://${bucket}/calls/split/model.safetensors.index.json`;
  await assert.rejects(convert(local, index, { part: { index: 1, count: 2 } }), refusedWithout);
  for (const part of [1, 2]) await convert(local, index, { s3, part: { index: part, count: 2 } });
  await assert.rejects(finishSplitConvert(index), refusedWithout);
  const finished = await finishSplitConvert(index, { s3 });
  assert.equal(finished.shards.length, 2);
  const back = join(dir, 'split-back.safetensors');
  await convert(index, back, { s3 });
  assert.equal((await diffTensorFiles(local, back)).identical, true);
});

test('tensio/io: fromS3/toS3, fromNumpy/toNumpy and getSafetensorsMetadata take the call\'s s3 settings', { skip }, async (t) => {
  const { bucket } = env.current!;
  noDefaults();
  const dir = await tempDir(t);
  const s3 = callOptions();
  const npkPath = join(dir, 'store.npk');
  const values = new Float64Array(30).map((_, i) => i * 1.5);
  await fromTensor(createTensor('float64', [5, 6], values), npkPath, { arrayName: 'features' });
  for (const key of ['features.npy', 'features.csv', 'features.parquet', 'model.safetensors']) {
    const location = `s3://${bucket}/calls/io/${key}`;
    await assert.rejects(toS3(npkPath, location, { arrayName: 'features' }), refusedWithout, `${key}: toS3 without settings`);
    await toS3(npkPath, location, { arrayName: 'features', s3 });
    const into = join(dir, `${key}.npk`);
    await assert.rejects(fromS3(location, into), refusedWithout, `${key}: fromS3 without settings`);
    await fromS3(location, into, { s3, dropIfExists: true });
    await using npk = await NumPack.open(into, { readOnly: true });
    assert.equal(npk.getMemberList().length, 1, key);
  }
  await toNumpy(npkPath, `s3://${bucket}/calls/io/direct.npz`, { s3 });
  await fromNumpy(`s3://${bucket}/calls/io/direct.npz`, join(dir, 'direct.npk'), { s3 });
  const summary = await getSafetensorsMetadata(`s3://${bucket}/calls/io/model.safetensors`, { s3 });
  assert.deepEqual(Object.keys(summary.tensors), ['features']);
  await assert.rejects(getSafetensorsMetadata(`s3://${bucket}/calls/io/model.safetensors`), refusedWithout);
});

test('a format\'s own open given an s3:// string, and contentId (tensio id), take the call\'s s3 settings: every single-file format', { skip }, async (t) => {
  const { bucket } = env.current!;
  noDefaults();
  const dir = await tempDir(t);
  const local = join(dir, 'one.safetensors');
  const values = new Float32Array(16 * 8).map((_, i) => (i % 13) * 0.5);
  await writeWithFormat('safetensors', local, { weight: createTensor('float32', [16, 8], values) });
  const s3 = callOptions();
  const localId = await contentId(local);
  const opened: string[] = [];
  for (const format of BUILT_IN_FORMATS) {
    const extension = format.extensions[0];
    if (!format.open || !format.createWriter || !extension || format.capabilities.folder || format.name === 'zarr') continue;
    const target = `s3://${bucket}/calls/own-open/one${extension}`;
    await convert(local, target, { to: format.name, s3 });
    await assert.rejects(format.open(target, {}), refusedWithout, `${format.name}.open without settings`);
    {
      await using reader = await format.open(target, { s3 });
      assert.equal(reader.tensors.length, 1, `${format.name}.open(s3://…, { s3 })`);
      assert.equal((await reader.read(reader.tensors[0]!.name)).data.byteLength > 0, true);
    }
    opened.push(format.name);
  }
  for (const name of ['safetensors', 'pytorch', 'npy', 'npz', 'gguf', 'hdf5', 'zt', 'csv', 'arrow', 'parquet']) assert.ok(opened.includes(name), `${name} was opened (${opened.join(', ')})`);
  const remote = `s3://${bucket}/calls/own-open/one.safetensors`;
  await assert.rejects(contentId(remote), refusedWithout, 'contentId without settings');
  assert.equal(await contentId(remote, { s3 }), localId, 'contentId of the S3 copy equals the local file\'s');
  assert.equal(await contentId(`s3://${bucket}/calls/own-open/one.zt`, { s3 }), localId, 'and of a .zt copy on S3 (its manifest digest)');
});
