/**
 * Sharded checkpoints: the huggingface_hub split and naming, the index, reading as one
 * reader (index, folder or a shard path), index validation, and the reference reading
 * every shard tensio writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convert, createTensor, detectFormat, isTensioError, openTensorFile, type Tensor } from '../src/index.js';
import { safetensorsOpen, safetensorsSerialize, safetensorsShardedWriter, safetensorsSplitShards, safetensorsVerify, safetensorsWrite, safetensorsWriteSharded } from '../src/formats/safetensors/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { PYTHON_DUMP_SAFETENSORS } from './helpers/safetensors-python.js';

function bytes(length: number, salt: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + salt * 7) & 0xff);
}

/** Tensors of 40, 40, 30, 200 and 10 bytes, in that (state-dict) order. */
function stateDict(): Record<string, Tensor> {
  return {
    'layer.0.weight': createTensor('float32', [10], bytes(40, 1)),
    'layer.0.bias': createTensor('int16', [20], bytes(40, 2)),
    'layer.1.weight': createTensor('uint8', [30], bytes(30, 3)),
    'embed.weight': createTensor('bfloat16', [10, 10], bytes(200, 4)),
    'head.bias': createTensor('float64', [1, 0, 3], new Uint8Array(0)),
    'head.weight': createTensor('int8', [10], bytes(10, 5)),
  };
}

test('safetensors sharded: split follows huggingface_hub (oversized tensors alone, state-dict order)', () => {
  const plan = Object.entries(stateDict()).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  const shards = safetensorsSplitShards(plan, 100).map((shard) => shard.map((spec) => spec.name));
  assert.deepEqual(shards, [['layer.0.weight', 'layer.0.bias'], ['embed.weight'], ['layer.1.weight', 'head.bias', 'head.weight']]);
  assert.throws(() => safetensorsSplitShards(plan, 0), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
});

test('safetensors sharded: write, index, and read back as one reader from index, folder or shard', async (t) => {
  const folder = await tempDir(t);
  const tensors = stateDict();
  const { files, indexPath } = await safetensorsWriteSharded(folder, tensors, { maxShardBytes: 100, metadata: { format: 'pt' } });
  assert.deepEqual((await readdir(folder)).sort(), [
    'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json',
  ]);
  assert.equal(files.length, 4);
  const index = JSON.parse(await readFile(indexPath!, 'utf8')) as { metadata: Record<string, unknown>; weight_map: Record<string, string> };
  assert.equal(index.metadata.total_size, 320);
  assert.equal(index.metadata.format, 'pt');
  assert.equal(index.weight_map['embed.weight'], 'model-00002-of-00003.safetensors');
  assert.equal(Object.keys(index.weight_map).length, 6);
  for (const input of [indexPath!, folder, join(folder, 'model-00001-of-00003.safetensors'), join(folder, 'model-00003-of-00003.safetensors')]) {
    const reader = await safetensorsOpen(input);
    assert.equal(reader.tensors.length, 6, input);
    for (const [name, tensor] of Object.entries(tensors)) {
      const read = await reader.read(name);
      assert.deepEqual(read.shape, tensor.shape);
      assert.deepEqual(read.data, tensor.data, `${name} via ${input}`);
    }
    assert.deepEqual((await reader.read('embed.weight', { slice: { start: 2, end: 4 } })).data, tensors['embed.weight']!.data.subarray(40, 80));
    assert.equal(reader.metadata.format, 'pt');
    await reader.close();
  }
  const single = await safetensorsOpen(join(folder, 'model-00002-of-00003.safetensors'), { followIndex: false });
  assert.deepEqual(single.tensors.map((info) => info.name), ['embed.weight']);
  await single.close();
  assert.equal((await detectFormat(folder)).name, 'safetensors');
  const viaRegistry = await openTensorFile(folder);
  assert.equal(viaRegistry.tensors.length, 6);
  await viaRegistry.close();
});

test('safetensors sharded: one shard is a plain model.safetensors without an index', async (t) => {
  const folder = await tempDir(t);
  const { files, indexPath } = await safetensorsWriteSharded(join(folder, 'model.safetensors'), stateDict());
  assert.equal(indexPath, undefined);
  assert.deepEqual(files, [join(folder, 'model.safetensors')]);
  assert.deepEqual(await readdir(folder), ['model.safetensors']);
  assert.deepEqual(new Uint8Array(await readFile(files[0]!)), safetensorsSerialize(stateDict()));
});

test('safetensors sharded: the index is checked against its shards', async (t) => {
  const folder = await tempDir(t);
  const { indexPath } = await safetensorsWriteSharded(folder, stateDict(), { maxShardBytes: 100 });
  const original = await readFile(indexPath!, 'utf8');
  const index = JSON.parse(original) as { metadata: unknown; weight_map: Record<string, string> };
  const expectCode = async (weightMap: Record<string, string>, code: string) => {
    await writeFile(indexPath!, JSON.stringify({ metadata: index.metadata, weight_map: weightMap }));
    await assert.rejects(safetensorsOpen(indexPath!), (e) => isTensioError(e) && e.code === code, code);
  };
  await expectCode({ ...index.weight_map, ghost: 'model-00001-of-00003.safetensors' }, 'NOT_FOUND');
  await expectCode({ ...index.weight_map, 'head.weight': 'model-00001-of-00003.safetensors' }, 'DUPLICATE_NAME');
  await expectCode({ ...index.weight_map, extra: 'model-00009-of-00009.safetensors' }, 'NOT_FOUND');
  await expectCode({ ...index.weight_map, evil: '../outside.safetensors' }, 'INVALID_NAME');
  await writeFile(indexPath!, '{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}');
  await assert.rejects(safetensorsOpen(indexPath!), (e) => isTensioError(e, 'DUPLICATE_KEY'));
  await writeFile(indexPath!, original);
  // The same tensor stored in two shards.
  // head.weight is in shard 3; a shard 2 that also holds it makes two copies.
  await safetensorsWrite(join(folder, 'model-00002-of-00003.safetensors'), { 'embed.weight': stateDict()['embed.weight']!, 'head.weight': stateDict()['head.weight']! });
  await assert.rejects(safetensorsOpen(indexPath!), (e) => isTensioError(e, 'DUPLICATE_NAME'));
  await rm(join(folder, 'model-00002-of-00003.safetensors'));
  await assert.rejects(safetensorsOpen(folder), (e) => isTensioError(e, 'NOT_FOUND'));
  const report = await safetensorsVerify(folder);
  assert.equal(report.ok, false);
  assert.equal(report.problems[0]!.code, 'NOT_FOUND');
});

test('safetensors sharded: convert to an index path shards with CRC32, verify checks every shard', async (t) => {
  const folder = await tempDir(t);
  const input = join(folder, 'in.safetensors');
  await safetensorsWrite(input, stateDict(), { metadata: { format: 'pt' } });
  const output = join(folder, 'out', 'ckpt.safetensors.index.json');
  await convert(input, output, { writeOptions: { maxShardBytes: 100, crc32: true } });
  assert.deepEqual((await readdir(join(folder, 'out'))).sort(), [
    'ckpt-00001-of-00003.safetensors', 'ckpt-00002-of-00003.safetensors', 'ckpt-00003-of-00003.safetensors', 'ckpt.safetensors.index.json',
  ]);
  const report = await safetensorsVerify(output);
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, 6);
  const writer = await safetensorsShardedWriter(join(folder, 'aborted'), { tensors: [{ name: 'a', dtype: 'uint8', shape: [80] }, { name: 'b', dtype: 'uint8', shape: [80] }], maxShardBytes: 100 });
  await writer.add('a', new Uint8Array(80));
  await writer.abort();
  assert.deepEqual(await readdir(join(folder, 'aborted')), [], 'abort leaves no shard behind');
});

test('safetensors sharded: the reference reads every shard tensio writes, as the index maps them', { skip: oracleSkip('safetensors', 'torch') }, async (t) => {
  const folder = await tempDir(t);
  const tensors = stateDict();
  const { indexPath } = await safetensorsWriteSharded(folder, tensors, { maxShardBytes: 100, metadata: { format: 'pt' }, crc32: true });
  const index = JSON.parse(await readFile(indexPath!, 'utf8')) as { weight_map: Record<string, string> };
  const shardPaths = [...new Set(Object.values(index.weight_map))].map((name) => join(folder, name));
  const dumped = JSON.parse(runPython(PYTHON_DUMP_SAFETENSORS, shardPaths).stdout) as Record<string, { metadata: Record<string, string>; tensors: Record<string, { hex: string; dtype: string; crc32: string }> }>;
  for (const [name, tensor] of Object.entries(tensors)) {
    const shard = dumped[join(folder, index.weight_map[name]!)]!;
    assert.equal(shard.tensors[name]!.hex, Buffer.from(tensor.data).toString('hex'), name);
    assert.equal(shard.metadata[`crc32:${name}`], shard.tensors[name]!.crc32);
  }
  const seen = Object.values(dumped).flatMap((file) => Object.keys(file.tensors)).sort();
  assert.deepEqual(seen, Object.keys(tensors).sort(), 'each tensor in exactly one shard');
});

test('safetensors sharded: a shard tensor the index does not list opens, whatever its name (constructor, __proto__)', async (t) => {
  const folder = await tempDir(t);
  const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  await safetensorsWrite(join(folder, names[0]!), { a: createTensor('uint8', [2], bytes(2, 1)), constructor: createTensor('uint8', [1], bytes(1, 2)) });
  await safetensorsWrite(join(folder, names[1]!), new Map([['b', createTensor('uint8', [3], bytes(3, 3))], ['__proto__', createTensor('uint8', [1], bytes(1, 4))]]));
  await writeFile(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: names[0], b: names[1] } }));
  const reader = await safetensorsOpen(folder);
  t.after(() => reader.close());
  assert.deepEqual(reader.tensors.map((info) => info.name).sort(), ['__proto__', 'a', 'b', 'constructor']);
});
