/**
 * Issue 8 features 2 and 3: sharded `.bin` checkpoints (`pytorch_model-0000N-of-0000M.bin`
 * + `pytorch_model.bin.index.json`) made by torch exactly as transformers'
 * `save_pretrained` made them (shard_checkpoint's split, `torch.save` per shard, the
 * index with indent 2 and sorted keys) read as one model from the index, the folder or
 * a shard, byte for byte against torch; converted to sharded safetensors that the
 * reference library loads back equal; and a folder holding one `pytorch_model.bin`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { convert, detectFormat, isTensioError, openTensorFile, verifyTensorFile } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Writes a GPT-2-like state dict as transformers' sharded .bin layout; prints each tensor's bytes. */
const PYTHON_WRITE_SHARDED_BIN = `
import sys, json, os, torch
folder, legacy, max_size = sys.argv[1], sys.argv[2] == '1', int(sys.argv[3])
torch.manual_seed(0)
sd = {}
sd['transformer.wte.weight'] = torch.randn(50, 16)
sd['transformer.h.0.ln_1.weight'] = torch.ones(16)
sd['transformer.h.0.attn.c_attn.weight'] = torch.randn(16, 48).to(torch.bfloat16)
sd['transformer.h.0.attn.c_attn.bias'] = torch.randn(48).to(torch.float16)
sd['transformer.h.0.attn.bias'] = torch.tril(torch.ones(8, 8, dtype=torch.bool)).view(1, 1, 8, 8)
sd['transformer.h.0.attn.c_proj.weight'] = torch.randn(16, 24).t()  # a strided view
sd['transformer.h.0.mlp.c_fc.weight'] = torch.randn(16, 64)
sd['transformer.h.0.mlp.c_fc.bias'] = torch.zeros(64, dtype=torch.float64)
sd['position_ids'] = torch.arange(32, dtype=torch.int64).unsqueeze(0)
sd['lm_head.weight'] = sd['transformer.wte.weight']  # tied to the embedding
# transformers.modeling_utils.shard_checkpoint: tensors in order, a new shard when the next would overflow.
shards, last = [{}], 0
for key, weight in sd.items():
    size = weight.numel() * weight.element_size()
    if last + size > max_size and len(shards[-1]) > 0:
        shards.append({})
        last = 0
    shards[-1][key] = weight
    last += size
weight_map, total = {}, 0
for i, shard in enumerate(shards):
    name = 'pytorch_model.bin' if len(shards) == 1 else f'pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin'
    for key in shard:
        weight_map[key] = name
        total += shard[key].numel() * shard[key].element_size()
    if legacy:
        torch.save(shard, os.path.join(folder, name), _use_new_zipfile_serialization=False)
    else:
        torch.save(shard, os.path.join(folder, name))
if len(shards) > 1:
    with open(os.path.join(folder, 'pytorch_model.bin.index.json'), 'w') as f:
        f.write(json.dumps({'metadata': {'total_size': total}, 'weight_map': weight_map}, indent=2, sort_keys=True) + '\\n')
out = {}
for key, weight in sd.items():
    raw = weight.contiguous().view(-1).view(torch.uint8) if weight.dtype != torch.bool else weight.contiguous().view(-1).to(torch.uint8)
    out[key] = {'shape': list(weight.shape), 'hex': raw.numpy().tobytes().hex(), 'shard': weight_map[key]}
print(json.dumps({'shards': len(shards), 'tensors': out}))
`;

/** Loads safetensors files with the reference library and compares them with the torch originals. */
const PYTHON_CHECK_SAFETENSORS = `
import sys, json, torch
from safetensors.torch import load_file
index_path, files = sys.argv[1], sys.argv[2:]
torch.manual_seed(0)
loaded = {}
for path in files:
    for key, value in load_file(path).items():
        assert key not in loaded, key
        loaded[key] = value
if index_path != '-':
    weight_map = json.load(open(index_path))['weight_map']
    assert sorted(weight_map) == sorted(loaded), (sorted(weight_map), sorted(loaded))
print(json.dumps({key: value.contiguous().view(-1).view(torch.uint8).numpy().tobytes().hex() if value.dtype != torch.bool else value.to(torch.uint8).numpy().tobytes().hex() for key, value in loaded.items()}))
`;

interface Written { shards: number; tensors: Record<string, { shape: number[]; hex: string; shard: string }> }

function writeShardedBin(folder: string, legacy: boolean, maxSize = 3000): Written {
  return JSON.parse(runPython(PYTHON_WRITE_SHARDED_BIN, [folder, legacy ? '1' : '0', String(maxSize)]).stdout) as Written;
}

async function assertSameAsTorch(input: string, expected: Written, label: string): Promise<void> {
  const reader = await openTensorFile(input);
  try {
    assert.equal(reader.format, 'pytorch', label);
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), Object.keys(expected.tensors).sort(), label);
    for (const [name, want] of Object.entries(expected.tensors)) {
      const tensor = await reader.read(name);
      assert.deepEqual(tensor.shape, want.shape, `${label}: ${name}`);
      assert.equal(Buffer.from(tensor.data).toString('hex'), want.hex, `${label}: ${name} byte for byte`);
      if (expected.shards > 1) assert.equal(reader.info(name).extras?.shard, want.shard, `${label}: ${name} is read from its shard`);
    }
  } finally {
    await reader.close();
  }
}

for (const legacy of [false, true]) {
  const kind = legacy ? 'legacy (_use_new_zipfile_serialization=False)' : 'zip';
  test(`sharded .bin (${kind}): read as one model from the index, the folder and a shard, byte for byte against torch`, { skip: oracleSkip('torch') }, async (t) => {
    const folder = await tempDir(t);
    const written = writeShardedBin(folder, legacy);
    assert.ok(written.shards >= 3, `several shards: ${written.shards}`);
    const first = join(folder, `pytorch_model-00001-of-${String(written.shards).padStart(5, '0')}.bin`);
    assert.equal((await detectFormat(folder)).name, 'pytorch');
    assert.equal((await detectFormat(join(folder, 'pytorch_model.bin.index.json'))).name, 'pytorch');
    for (const input of [join(folder, 'pytorch_model.bin.index.json'), folder, first]) await assertSameAsTorch(input, written, input);
    const report = await verifyTensorFile(folder);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.tensors, Object.keys(written.tensors).length);
    // --shard-only reads the shard file alone.
    const one = await runCli(['inspect', first, '--shard-only', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const firstShardTensors = Object.entries(written.tensors).filter(([, info]) => first.endsWith(info.shard)).map(([name]) => name);
    assert.deepEqual((JSON.parse(one.stdout) as { tensors: { name: string }[] }).tensors.map((x) => x.name).sort(), firstShardTensors.sort());
    // Bug 1's rule: a shard-named file the index does not list opens alone.
    const stray = join(folder, 'pytorch_model-00001-of-00009.bin');
    await copyFile(first, stray);
    const alone = await openTensorFile(stray);
    assert.deepEqual(alone.tensors.map((info) => info.name).sort(), firstShardTensors.sort());
    await alone.close();
    const withStray = await verifyTensorFile(folder);
    assert.equal(withStray.ok, true);
    assert.match(withStray.warnings?.[0]?.message ?? '', /pytorch_model-00001-of-00009\.bin/);
  });
}

test('sharded .bin → sharded safetensors and one model.safetensors: the reference loads the same tensors torch saved', { skip: oracleSkip('torch', 'safetensors') }, async (t) => {
  const folder = await tempDir(t);
  const written = writeShardedBin(folder, false);
  const out = join(folder, 'st');
  await mkdir(out);
  const run = await runCli(['convert', folder, join(out, 'model.safetensors.index.json'), '--max-shard-size', '3000', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const files = (await readdir(out)).filter((name) => name.endsWith('.safetensors')).map((name) => join(out, name));
  assert.ok(files.length >= 2);
  const loaded = JSON.parse(runPython(PYTHON_CHECK_SAFETENSORS, [join(out, 'model.safetensors.index.json'), ...files]).stdout) as Record<string, string>;
  // lm_head.weight and transformer.wte.weight were tied in memory, but each shard file
  // holds its own storages: in different shards they are two tensors, both written.
  for (const [name, want] of Object.entries(written.tensors)) assert.equal(loaded[name], want.hex, name);
  // One file, from a shard path (its index names it, so the whole model); keepDuplicates writes both tied names.
  const single = join(folder, 'model.safetensors');
  await convert(join(folder, 'pytorch_model-00002-of-' + String(written.shards).padStart(5, '0') + '.bin'), single, { keepDuplicates: true });
  const loadedSingle = JSON.parse(runPython(PYTHON_CHECK_SAFETENSORS, ['-', single]).stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(loadedSingle).sort(), Object.keys(written.tensors).sort());
  for (const [name, want] of Object.entries(written.tensors)) assert.equal(loadedSingle[name], want.hex, name);
});

test('feature 3: a folder holding one pytorch_model.bin (and training_args.bin) opens that file', { skip: oracleSkip('torch') }, async (t) => {
  const folder = await tempDir(t);
  const written = writeShardedBin(folder, false, 1_000_000);
  assert.equal(written.shards, 1);
  runPython(`import sys, torch; torch.save({'learning_rate': 0.1, 'seed': 42}, sys.argv[1])`, [join(folder, 'training_args.bin')]);
  assert.equal((await detectFormat(folder)).name, 'pytorch');
  await assertSameAsTorch(folder, written, 'folder');
  const inspect = await runCli(['inspect', folder]);
  assert.equal(inspect.code, 0, inspect.stderr);
  // Two .bin files, neither the default name: not guessed.
  await rm(join(folder, 'pytorch_model.bin'));
  runPython(`import sys, torch; torch.save({'w': torch.zeros(2)}, sys.argv[1])`, [join(folder, 'other.bin')]);
  await assert.rejects(openTensorFile(folder), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  // Sharded .bin output is refused with advice, not written as a torch zip named .index.json.
  const refused = await runCli(['convert', join(folder, 'other.bin'), join(folder, 'pytorch_model.bin.index.json')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /safetensors/);
  assert.ok(!(await readdir(folder)).includes('pytorch_model.bin.index.json'));
});
