/** convert's format-specific options: sharded output, nested checkpoint keys, tied weights. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { createTensor, tensorsEqual } from '../src/core/tensor.js';
import { openTensorFile } from '../src/operations/index.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { oracleSkip, runPython } from './helpers/oracle.js';

test('convert --max-shard-size writes shards plus an index that reads back as one model', async (t) => {
  const dir = await tempDir(t);
  const model = {
    a: createTensor('float32', [64, 16], new Float32Array(1024).map((_, i) => i)),
    b: createTensor('float32', [64, 16], new Float32Array(1024).map((_, i) => -i)),
    c: createTensor('int64', [8], new BigInt64Array(8).map((_, i) => BigInt(i))),
  };
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const run = await runCli(['convert', 'in.safetensors', 'model.safetensors.index.json', '--max-shard-size', '5KB'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const shards = (await readdir(dir)).filter((name) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(name));
  assert.ok(shards.length >= 2, `shards: ${shards.join(', ')}`);
  const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.equal(index.metadata.total_size, 4096 + 4096 + 64);
  const reader = await openTensorFile(join(dir, 'model.safetensors.index.json'));
  try {
    for (const [name, tensor] of Object.entries(model)) assert.ok(tensorsEqual(await reader.read(name), tensor), name);
  } finally {
    await reader.close();
  }
  const bad = await runCli(['convert', 'in.safetensors', 'x.safetensors', '--max-shard-size', 'lots'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.equal(cliErrorCode(bad.stderr), 'USAGE');
});

test('convert --key and --drop-duplicates on a nested torch checkpoint with tied weights', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, torch
embed = torch.arange(12, dtype=torch.float32).reshape(3, 4)
sd = {'embed.weight': embed, 'lm_head.weight': embed, 'bias': torch.ones(4)}
torch.save({'state_dict': sd, 'epoch': 3}, sys.argv[1])
`, [join(dir, 'ckpt.pt')]);
  const inspect = await runCli(['inspect', 'ckpt.pt', '--key', 'state_dict'], { cwd: dir });
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /embed\.weight .*shares storage with lm_head\.weight/);

  const run = await runCli(['convert', 'ckpt.pt', 'out.safetensors', '--key', 'state_dict', '--drop-duplicates'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const reader = await openTensorFile(join(dir, 'out.safetensors'));
  try {
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), ['bias', 'embed.weight']);
    assert.equal(reader.metadata['lm_head.weight'], 'embed.weight');
    const embed = await reader.read('embed.weight');
    assert.deepEqual([...new Float32Array(embed.data.slice().buffer)], Array.from({ length: 12 }, (_, i) => i));
  } finally {
    await reader.close();
  }
  // With --keep-duplicates and no --key: every tensor written with its own bytes, named by dotted path.
  const full = await runCli(['convert', 'ckpt.pt', 'full.safetensors', '--keep-duplicates'], { cwd: dir });
  assert.equal(full.code, 0, full.stderr);
  const fullReader = await openTensorFile(join(dir, 'full.safetensors'));
  try {
    assert.deepEqual(fullReader.tensors.map((info) => info.name).sort(), ['state_dict.bias', 'state_dict.embed.weight', 'state_dict.lm_head.weight']);
    assert.ok(tensorsEqual(await fullReader.read('state_dict.embed.weight'), await fullReader.read('state_dict.lm_head.weight')));
    assert.equal(fullReader.metadata.epoch, '3');
  } finally {
    await fullReader.close();
  }
});
