/**
 * Sharded `.zt` output: data shards named positionally beside the root
 * (`model-00001.zt`, …), the root holding the manifest and the shard table; the root
 * reads every tensor through its shards, `verify` checks every shard's size and digest,
 * and the content id equals the unsharded file's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentId, convert } from '../src/operations/index.js';
import { ztOpen, ztVerify } from '../src/formats/zt/index.js';
import { writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

test('sharded output: positional shards, the root reads and verifies through them, one content id', async (t) => {
  const dir = await tempDir(t);
  const tensors = Object.fromEntries(['a', 'b', 'c', 'd'].map((name, i) => [name, { dtype: 'float32' as const, shape: [256, 16], data: new Uint8Array(16384).map((_, j) => (j * (i + 3)) & 0xff) }]));
  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), tensors);
  const result = await convert(join(dir, 'm.safetensors'), join(dir, 'model.zt'), { writeOptions: { maxShardBytes: 40000 } });
  assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.zt')).sort(), ['model-00001.zt', 'model-00002.zt', 'model.zt']);
  assert.equal(result.files.length, 3);
  await using reader = await ztOpen(join(dir, 'model.zt'));
  assert.deepEqual([...reader.manifest!.shards.keys()], ['00001', '00002']);
  for (const [name, tensor] of Object.entries(tensors)) assert.deepEqual((await reader.read(name)).data, tensor.data, name);
  const shard = await ztOpen(join(dir, 'model-00001.zt'));
  assert.equal(shard.dataShard, true);
  await shard.close();
  const report = await ztVerify(join(dir, 'model.zt'));
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 4 + 2, 'four parts and two shard digests');
  await convert(join(dir, 'm.safetensors'), join(dir, 'one.zt'));
  assert.equal(await contentId(join(dir, 'model.zt')), await contentId(join(dir, 'one.zt')));
  // A changed shard: caught by its digest (same size) in verify.
  const bytes = readFileSync(join(dir, 'model-00002.zt'));
  bytes[5000] ^= 1;
  writeFileSync(join(dir, 'model-00002.zt'), bytes);
  const broken = await ztVerify(join(dir, 'model.zt'));
  assert.equal(broken.ok, false);
  assert.ok(broken.problems.some((problem) => /\[ShardIdentity\]/.test(problem.message)), JSON.stringify(broken.problems));
});
