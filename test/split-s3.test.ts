/**
 * A split conversion whose output is on S3 (OpenStack Swift's S3 API on loopback, as the
 * S3 storage tests run it): 4 parts written concurrently through an `s3Store`, the
 * finish checking every shard through ranged reads and writing the index, the result
 * read back from the bucket tensor by tensor; a missing part refused with nothing
 * written at the index key, and no multipart upload left open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convert, finishSplitConvert, openTensorFile } from '../src/operations/index.js';
import { isTensioError } from '../src/core/errors.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { s3Store } from '../src/storage/s3-store.js';
import type { DType } from '../src/core/dtype.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';
import { tempDir } from './helpers/temp.js';

const env = useSwiftS3('tensio-split');
const INDEX = 'model.safetensors.index.json';

async function writeInput(path: string): Promise<void> {
  const dtypes: DType[] = ['float32', 'bfloat16', 'int64'];
  const tensors: Record<string, { dtype: DType; shape: number[]; data: Uint8Array }> = {};
  for (let i = 0; i < 16; i++) {
    const dtype = dtypes[i % dtypes.length]!;
    const shape = [16 + i * 9, 64];
    const data = new Uint8Array(shape[0]! * shape[1]! * (dtype === 'bfloat16' ? 2 : dtype === 'float32' ? 4 : 8));
    for (let j = 0; j < data.length; j++) data[j] = (i * 13 + j * 3) & 0x3f;
    tensors[`blocks.${i}.weight`] = { dtype, shape, data };
  }
  await safetensorsWrite(path, tensors, { metadata: { format: 'pt' } });
}

test('split on S3: 4 concurrent parts through an S3 store, finish, read back from the bucket', { skip: s3Skip }, async (t) => {
  const { bucket } = env.current!;
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const store = s3Store(`s3://${bucket}/split/run1`);
  const output = { store, key: INDEX };
  await assert.rejects(finishSplitConvert(output), (error: unknown) => isTensioError(error, 'INCOMPLETE'));
  await Promise.all([1, 2, 3, 4].map((index) => convert(input, output, { part: { index, count: 4 } })));
  assert.equal(await store.has(INDEX), false, 'no index before the finish');
  await store.delete('.model.safetensors.parts/part-00003-of-00004.json');
  await assert.rejects(finishSplitConvert(output), (error: unknown) => isTensioError(error, 'INCOMPLETE') && /part 3\/4/.test((error as Error).message));
  assert.equal(await store.has(INDEX), false, 'a refused finish writes no index');
  await convert(input, output, { part: { index: 3, count: 4 } });
  const finished = await finishSplitConvert(output);
  assert.equal(finished.parts, 4);
  assert.equal(finished.checksumsVerified, 4);
  assert.equal(finished.index, `s3://${bucket}/split/run1/${INDEX}`);
  const index = JSON.parse(new TextDecoder().decode(await store.read(INDEX))) as { weight_map: Record<string, string> };
  await using original = await openTensorFile(input);
  assert.deepEqual(Object.keys(index.weight_map).sort(), original.tensors.map((info) => info.name).sort());
  for (const shard of new Set(Object.values(index.weight_map))) {
    await using reader = await openTensorFile(await store.open(shard), { format: 'safetensors' });
    for (const info of reader.tensors) {
      assert.equal(index.weight_map[info.name], shard);
      const [a, b] = [await reader.read(info.name), await original.read(info.name)];
      assert.equal(a.dtype, b.dtype);
      assert.deepEqual(a.shape, b.shape);
      assert.deepEqual(Buffer.from(a.data), Buffer.from(b.data), info.name);
    }
  }
  assert.deepEqual(await env.current!.openUploads(), []);
});

test('split on S3 from the CLI: 4 processes write to s3://, a fifth finishes', { skip: s3Skip }, async (t) => {
  const { bucket, options } = env.current!;
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  const { spawn } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const built = fileURLToPath(new URL('../dist/bin/tensio.js', import.meta.url));
  const command = existsSync(built) ? [built] : ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../src/bin/tensio.ts', import.meta.url))];
  const credentials = options.credentials as { accessKeyId: string; secretAccessKey: string };
  const s3Env = { AWS_ENDPOINT_URL: options.endpoint!, AWS_REGION: options.region ?? 'us-east-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  const run = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], { cwd: dir, env: { ...process.env, ...s3Env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const out = `s3://${bucket}/split/cli/${INDEX}`;
  const parts = await Promise.all([1, 2, 3, 4].map((index) => run(['convert', 'in.safetensors', out, '--part', `${index}/4`, '--json'])));
  for (const part of parts) assert.equal(part.code, 0, part.stderr);
  const finish = await run(['convert', '--finish', out, '--json']);
  assert.equal(finish.code, 0, finish.stderr);
  const finished = JSON.parse(finish.stdout) as { parts: number; tensors: number; checksumsVerified: number; index: string };
  assert.deepEqual([finished.parts, finished.tensors, finished.checksumsVerified, finished.index], [4, 16, 4, out]);
  const store = s3Store(`s3://${bucket}/split/cli/`);
  assert.deepEqual((await store.list('', { recursive: false })).filter((key) => !key.startsWith('.')), [
    'model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors', INDEX,
  ]);
  const again = await run(['convert', 'in.safetensors', out, '--part', '1/4']);
  assert.equal(again.code, 1, 'a finished output on S3 is not overwritten without --force');
  assert.match(again.stderr, /ALREADY_EXISTS/);
});
