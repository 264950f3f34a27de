/**
 * The zTensor-facing CLI: `tensio id` (one id for the same tensors in any format,
 * compressed or not), `tensio compress` / `decompress` (zstd-seekable on and off, every
 * part digested, the round trip byte-identical to the canonical file), `tensio merge`
 * (mixed input formats, collisions refused unless --prefix), `convert` in and out of
 * `.zt`, `verify` of a `.zt`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../src/core/tensor.js';
import { ztOpen } from '../src/formats/zt/index.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const tensor = (dtype: Tensor['dtype'], shape: number[], fill: (i: number) => number, bytesPer: number): Tensor => {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * bytesPer);
  for (let i = 0; i < data.length; i++) data[i] = fill(i) & 0xff;
  return { dtype, shape, data };
};

test('id, compress, decompress, convert and verify agree on the same tensors', async (t) => {
  const dir = await tempDir(t);
  const tensors = { 'layer.w': tensor('float32', [64, 256], (i) => (i * 7) % 13, 4), 'layer.b': tensor('float16', [256], (i) => i, 2), tok: tensor('int64', [3], (i) => i, 8) };
  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), tensors);
  await writeWithFormat('npz', join(dir, 'm.npz'), tensors);
  assert.equal((await runCli(['convert', join(dir, 'm.safetensors'), join(dir, 'm.zt')])).code, 0);
  const compressed = await runCli(['compress', join(dir, 'm.zt'), join(dir, 'small.zt'), '--frame-size', '16KiB', '--json']);
  assert.equal(compressed.code, 0, compressed.stderr);
  assert.ok((JSON.parse(compressed.stdout) as { outputSize: number }).outputSize < readFileSync(join(dir, 'm.zt')).length);
  {
    await using reader = await ztOpen(join(dir, 'small.zt'));
    for (const object of reader.manifest!.objects.values()) {
      for (const part of object.parts.values()) {
        assert.equal(part.encoding, 'zt.zstd-seekable/1');
        assert.match(part.digest ?? '', /^xxh3:[0-9a-f]{16}$/);
      }
    }
  }
  assert.equal((await runCli(['decompress', join(dir, 'small.zt'), join(dir, 'again.zt')])).code, 0);
  assert.deepEqual(readFileSync(join(dir, 'again.zt')), readFileSync(join(dir, 'm.zt')), 'decompress gives back the canonical file byte for byte');
  const ids = await Promise.all(['m.safetensors', 'm.npz', 'm.zt', 'small.zt'].map((name) => runCli(['id', join(dir, name)])));
  for (const run of ids) assert.equal(run.code, 0, run.stderr);
  assert.match(ids[0]!.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.deepEqual(new Set(ids.map((run) => run.stdout)).size, 1, ids.map((run) => run.stdout).join(''));
  const other = await runCli(['id', '--algo', 'xxh3', join(dir, 'm.zt')]);
  assert.match(other.stdout, /^xxh3:[0-9a-f]{16}\n$/);
  const verify = await runCli(['verify', join(dir, 'small.zt'), '--json']);
  assert.equal(verify.code, 0, verify.stdout);
  assert.equal((JSON.parse(verify.stdout) as { checksumsVerified: number }).checksumsVerified, 3);
  assert.equal((await runCli(['convert', join(dir, 'small.zt'), join(dir, 'back.safetensors')])).code, 0);
  assert.deepEqual(readFileSync(join(dir, 'back.safetensors')), readFileSync(join(dir, 'm.safetensors')));
  const usage = await runCli(['compress', join(dir, 'm.zt'), join(dir, 'x.zt'), '--level', '99']);
  assert.equal(usage.code, 2);
  const exists = await runCli(['compress', join(dir, 'm.zt'), join(dir, 'small.zt')]);
  assert.equal(exists.code, 1);
  assert.equal(cliErrorCode(exists.stderr), 'ALREADY_EXISTS');
});

test('merge: mixed formats into one .zt; a clash is refused unless --prefix', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'a.safetensors'), { w: tensor('float32', [2, 2], (i) => i, 4), x: tensor('uint8', [3], (i) => i, 1) });
  await writeWithFormat('npz', join(dir, 'b.npz'), { w: tensor('float32', [2, 2], (i) => 100 + i, 4), y: tensor('int16', [2], (i) => i, 2) });
  const clash = await runCli(['merge', '-o', join(dir, 'ab.zt'), join(dir, 'a.safetensors'), join(dir, 'b.npz')]);
  assert.equal(clash.code, 1);
  assert.equal(cliErrorCode(clash.stderr), 'DUPLICATE_NAME');
  const merged = await runCli(['merge', '-o', join(dir, 'ab.zt'), '--prefix', join(dir, 'a.safetensors'), join(dir, 'b.npz')]);
  assert.equal(merged.code, 0, merged.stderr);
  await using reader = await ztOpen(join(dir, 'ab.zt'));
  assert.deepEqual(reader.tensors.map((info) => info.name), ['a.w', 'a.x', 'b.w', 'b.y']);
  assert.deepEqual([...(await reader.read('b.w')).data.subarray(0, 4)], [100, 101, 102, 103]);
  const noClash = await runCli(['merge', '-o', join(dir, 'ax.safetensors'), join(dir, 'a.safetensors')]);
  assert.equal(noClash.code, 0, noClash.stderr);
  assert.equal((await runCli(['merge', join(dir, 'a.safetensors')])).code, 2);
});

test('tensio/io: fromZtFile into a NumPack store and toZtFile back (canonical, and compressed)', async (t) => {
  const { fromZtFile, toZtFile } = await import('../src/io/index.js');
  const dir = await tempDir(t);
  const tensors = { w: tensor('float32', [8, 4], (i) => i * 3, 4), ids: tensor('int64', [5], (i) => i, 8) };
  await writeWithFormat('zt', join(dir, 'm.zt'), tensors);
  await fromZtFile(join(dir, 'm.zt'), join(dir, 'm.npk'));
  await toZtFile(join(dir, 'm.npk'), join(dir, 'back.zt'));
  assert.deepEqual(readFileSync(join(dir, 'back.zt')), readFileSync(join(dir, 'm.zt')), 'canonical: the same tensors give the same bytes');
  await toZtFile(join(dir, 'm.npk'), join(dir, 'small.zt'), { compress: { frameBytes: 64 } });
  await using reader = await ztOpen(join(dir, 'small.zt'));
  assert.deepEqual((await reader.read('w')).data, tensors.w.data);
  assert.equal(reader.manifest!.objects.get('w')!.parts.get('data')!.encoding, 'zt.zstd-seekable/1');
});
