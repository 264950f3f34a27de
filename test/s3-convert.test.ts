/**
 * `s3://` wherever a path is accepted, against a real S3-compatible server (Swift with
 * s3api, started once for this file): the CLI's convert / inspect / verify / diff with a
 * sharded checkpoint on S3 (index and shards) converted S3 → S3, every format written to
 * S3 and read back from S3 through the registry, the CLI's environment and error codes,
 * and no multipart upload left open at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { BUILT_IN_FORMATS } from '../src/operations/registry.js';
import { createTensor } from '../src/core/tensor.js';
import { s3Store } from '../src/storage/s3-store.js';
import { isTensioError } from '../src/core/errors.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';
import { SWIFT_CREDENTIALS } from './helpers/swift-s3.js';

const env = useSwiftS3('tensio-convert');
const skip = s3Skip;

/** The CLI's environment for the test server (the AWS variables, as a user would set them). */
function awsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { AWS_ENDPOINT_URL: env.current!.server.endpoint, AWS_ACCESS_KEY_ID: SWIFT_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SWIFT_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', ...overrides };
}

function model(): Record<string, ReturnType<typeof createTensor>> {
  const out: Record<string, ReturnType<typeof createTensor>> = {};
  for (let layer = 0; layer < 6; layer++) {
    const values = new Float32Array(300 * 200);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 0.001 + layer) * 10;
    out[`layers.${layer}.weight`] = createTensor('float32', [300, 200], values);
  }
  return out;
}

test('CLI: local → sharded checkpoint on S3 (index + shards), inspect, S3 → S3 convert, verify and diff', { skip }, async (t) => {
  const { bucket, openUploads } = env.current!;
  const dir = await tempDir(t);
  const local = join(dir, 'model.safetensors');
  await writeWithFormat('safetensors', local, model());
  const index = `s3://${bucket}/ckpt/model.safetensors.index.json`;
  const sharded = await runCli(['convert', local, index, '--max-shard-size', '600KB', '--json'], { env: awsEnv() });
  assert.equal(sharded.code, 0, sharded.stderr);
  const written = JSON.parse(sharded.stdout) as { files: string[] };
  assert.equal(written.files.length, 3 + 1, 'three shards of two 240 KB tensors, and the index');
  const keys = await s3Store(`s3://${bucket}/ckpt/`).list();
  assert.deepEqual(keys, ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json']);

  const inspected = await runCli(['inspect', index, '--json'], { env: awsEnv() });
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal((JSON.parse(inspected.stdout) as { tensors: unknown[] }).tensors.length, 6);

  // S3 → S3: the sharded checkpoint into another sharded checkpoint and into one npz.
  const again = await runCli(['convert', index, `s3://${bucket}/ckpt-copy/model.safetensors.index.json`, '--max-shard-size', '1MB'], { env: awsEnv() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /-> s3:\/\/tensio-convert\/ckpt-copy\//, 'the summary names the s3:// output as given');
  const npz = `s3://${bucket}/out/model.npz`;
  const toNpz = await runCli(['convert', index, npz], { env: awsEnv() });
  assert.equal(toNpz.code, 0, toNpz.stderr);
  const verified = await runCli(['verify', npz], { env: awsEnv() });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const diffed = await runCli(['diff', local, npz, '--json'], { env: awsEnv() });
  assert.equal(diffed.code, 0, diffed.stdout + diffed.stderr);
  const diffedCopy = await runCli(['diff', local, `s3://${bucket}/ckpt-copy/model.safetensors.index.json`], { env: awsEnv() });
  assert.equal(diffedCopy.code, 0, diffedCopy.stdout + diffedCopy.stderr);

  // An existing output is refused without --force, replaced with it.
  const refused = await runCli(['convert', local, npz], { env: awsEnv() });
  assert.equal(refused.code, 1);
  assert.equal(cliErrorCode(refused.stderr), 'ALREADY_EXISTS');
  assert.equal((await runCli(['convert', local, npz, '--force'], { env: awsEnv() })).code, 0);
  assert.deepEqual(await openUploads(), []);
});

test('CLI: S3 errors are their own codes with exit 1; the endpoint comes from --endpoint-url too', { skip }, async () => {
  const { bucket, server } = env.current!;
  const { AWS_ENDPOINT_URL: _endpoint, ...withoutEndpoint } = awsEnv();
  await s3Store(`s3://${bucket}/`).write('errors/x.npy', new Uint8Array([1]));
  const missing = await runCli(['inspect', `s3://${bucket}/errors/none.safetensors`, '--endpoint-url', server.endpoint], { env: withoutEndpoint });
  assert.equal(missing.code, 1);
  assert.equal(cliErrorCode(missing.stderr), 'NOT_FOUND');
  assert.match(missing.stderr, /errors\/none\.safetensors/);
  const badKey = await runCli(['inspect', `s3://${bucket}/errors/x.npy`], { env: awsEnv({ AWS_SECRET_ACCESS_KEY: 'wrong' }) });
  assert.equal(cliErrorCode(badKey.stderr), 'BAD_CREDENTIALS');
  const noBucket = await runCli(['inspect', 's3://no-such-bucket-x/x.npy'], { env: awsEnv() });
  assert.equal(cliErrorCode(noBucket.stderr), 'BUCKET_NOT_FOUND');
  assert.match(noBucket.stderr, /no-such-bucket-x/);
  const usage = await runCli(['inspect', `s3://${bucket}/x.npy`, '--endpoint-url'], { env: awsEnv() });
  assert.equal(usage.code, 2);
  const http = await runCli(['convert', `s3://${bucket}/errors/x.npy`, 'https://example.com/x.npy'], { env: awsEnv() });
  assert.equal(cliErrorCode(http.stderr), 'UNSUPPORTED_FEATURE');
});

test('every single-file format is written to S3 and read back from S3; folder formats say why not', { skip }, async (t) => {
  const { bucket, openUploads } = env.current!;
  const dir = await tempDir(t);
  const values = new Float32Array(64 * 32).map((_, i) => (i % 97) * 0.5 - 3);
  const tensor = createTensor('float32', [64, 32], values);
  const local = join(dir, 'one.safetensors');
  await writeWithFormat('safetensors', local, { weight: tensor });
  const checked: string[] = [];
  for (const format of BUILT_IN_FORMATS) {
    if (!format.createWriter && !('provides' in format)) continue;
    const extension = format.extensions[0];
    if (!extension) continue;
    const target = `s3://${bucket}/formats/one${extension}`;
    if (format.capabilities.folder || format.name === 'zarr') {
      await assert.rejects(convert(local, target, { to: format.name }), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE'), `${format.name}: a folder format is refused on S3 with a reason`);
      continue;
    }
    await convert(local, target, { to: format.name });
    await using reader = await openTensorFile(target, { format: format.name });
    assert.equal(reader.tensors.length, 1, format.name);
    const read = await reader.read(reader.tensors[0]!.name);
    const got = read.dtype === 'float32' ? new Float32Array(read.data.buffer, read.data.byteOffset, read.data.byteLength / 4) : Float32Array.from(new Float64Array(read.data.buffer, read.data.byteOffset, read.data.byteLength / 8));
    assert.deepEqual([...got], [...values], `${format.name}: the values read back from S3`);
    checked.push(format.name);
  }
  for (const name of ['safetensors', 'pytorch', 'npy', 'npz', 'gguf', 'hdf5', 'zt', 'csv', 'arrow', 'parquet']) assert.ok(checked.includes(name), `${name} was checked (${checked.join(', ')})`);
  assert.deepEqual(await openUploads(), []);
});

test('writes to S3 stream with nothing staged on disk, for every single-file format but HDF5 (its writer patches the superblock): staging "never" shows it', { skip }, async (t) => {
  const { bucket, openUploads } = env.current!;
  const dir = await tempDir(t);
  const tensor = createTensor('float32', [64, 32], new Float32Array(64 * 32).map((_, i) => i * 0.5));
  const local = join(dir, 'one.safetensors');
  await writeWithFormat('safetensors', local, { weight: tensor });
  const PATCHING = new Set(['hdf5']);
  const streamed: string[] = [];
  for (const format of BUILT_IN_FORMATS) {
    const extension = format.extensions[0];
    if (!extension || format.capabilities.folder || format.name === 'zarr') continue;
    const target = `s3://${bucket}/unstaged/one${extension}`;
    if (PATCHING.has(format.name)) {
      await assert.rejects(convert(local, target, { to: format.name, staging: 'never' }), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE') && /patch/.test((e as Error).message), `${format.name}: refused without staging, saying why`);
      continue;
    }
    await convert(local, target, { to: format.name, staging: 'never' });
    streamed.push(format.name);
  }
  for (const name of ['safetensors', 'pytorch', 'npy', 'npz', 'gguf', 'zt', 'csv', 'arrow', 'parquet']) assert.ok(streamed.includes(name), `${name} streamed (${streamed.join(', ')})`);
  // safetensors' crc32 option patches its header: the same refusal, and staged by default.
  await assert.rejects(convert(local, `s3://${bucket}/unstaged/crc.safetensors`, { staging: 'never', writeOptions: { crc32: true } }), (e) => isTensioError(e, 'UNSUPPORTED_FEATURE'));
  await convert(local, `s3://${bucket}/unstaged/crc.safetensors`, { writeOptions: { crc32: true } });
  assert.deepEqual(await openUploads(), []);
});
