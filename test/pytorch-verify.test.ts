import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyTensorFile } from '../src/operations/index.js';
import { pytorchWrite } from '../src/formats/pytorch/index.js';
import { createTensor } from '../src/core/tensor.js';
import { tempDir } from './helpers/temp.js';

test('pytorch verify recomputes every record CRC32 and catches a flipped data byte', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'model.pt');
  const weight = createTensor('float32', [256], new Float32Array(256).map((_, i) => i / 7));
  await pytorchWrite(path, { weight, bias: createTensor('int64', [2], new BigInt64Array([5n, -5n])) });
  const good = await verifyTensorFile(path);
  assert.equal(good.ok, true, JSON.stringify(good.problems));
  assert.equal(good.format, 'pytorch');
  assert.equal(good.tensors, 2);
  // data.pkl, .format_version, .storage_alignment, byteorder, data/0, data/1, version
  assert.ok(good.checksumsVerified >= 5, `verified ${good.checksumsVerified}`);

  const bytes = new Uint8Array(await readFile(path));
  const needle = Buffer.from(weight.data.subarray(400, 416));
  const at = Buffer.from(bytes).indexOf(needle);
  assert.ok(at > 0, 'weight bytes found in the archive');
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(path, bytes);
  const bad = await verifyTensorFile(path);
  assert.equal(bad.ok, false);
  assert.ok(bad.problems.some((problem) => problem.code === 'CHECKSUM_MISMATCH'), JSON.stringify(bad.problems));
});
