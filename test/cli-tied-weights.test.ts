/**
 * Issue 8 bug 5 and feature 1: tied weights (GPT-2's wte and lm_head share one
 * storage). inspect counts the storage once, as torch does; convert writes one copy
 * with the name and metadata safetensors.torch.save_model writes, and the reference
 * load_model restores the model from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openTensorFile } from '../src/operations/index.js';
import { runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** A GPT-2-shaped toy with tied input and output embeddings, saved as a state_dict. */
const MODEL = `
import torch
class Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = torch.nn.Module()
        self.transformer.wte = torch.nn.Embedding(50, 8)
        self.transformer.h = torch.nn.ModuleList([torch.nn.Linear(8, 8) for _ in range(2)])
        self.lm_head = torch.nn.Linear(8, 50, bias=False)
        self.lm_head.weight = self.transformer.wte.weight
        self.register_buffer('mask', torch.ones(4, 4))
`;

test('bug 5: inspect counts tied weights once, as torch counts unique storage', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const counts = JSON.parse(runPython(`${MODEL}
import sys, json
torch.manual_seed(0)
model = Toy()
sd = model.state_dict()
torch.save(sd, sys.argv[1])
storages = {}
for v in sd.values():
    storages[v.untyped_storage().data_ptr()] = v.untyped_storage().nbytes()
print(json.dumps({
  'tensors': len(sd),
  'uniqueBytes': sum(storages.values()),
  'uniqueElements': sum(storages.values()) // 4,
  'parameters': sum(p.numel() for p in model.parameters()),
  'buffers': sum(b.numel() for b in model.buffers()),
}))
`, [join(dir, 'pytorch_model.bin')]).stdout) as { tensors: number; uniqueBytes: number; uniqueElements: number; parameters: number; buffers: number };
  const run = await runCli(['inspect', 'pytorch_model.bin', '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout) as { totals: { tensors: number; parameters: number; bytes: number; sharedTensors: number }; tensors: { name: string; sharedWith?: string[] }[] };
  assert.equal(doc.totals.tensors, counts.tensors, 'every name is listed');
  assert.equal(doc.totals.bytes, counts.uniqueBytes, 'bytes of unique storage, as torch counts them');
  assert.equal(doc.totals.parameters, counts.uniqueElements);
  assert.equal(doc.totals.parameters, counts.parameters + counts.buffers, 'model.parameters() counts the tied weight once too');
  assert.equal(doc.totals.sharedTensors, 1);
  assert.deepEqual(doc.tensors.find((entry) => entry.name === 'lm_head.weight')?.sharedWith, ['transformer.wte.weight'], 'shared storage is in --json');
  const text = await runCli(['inspect', 'pytorch_model.bin'], { cwd: dir });
  assert.match(text.stdout, /shared storage counted once: 1 tied tensor/);
});

test('feature 1: convert writes tied weights once, exactly as save_model names them; load_model restores the model', { skip: oracleSkip('torch', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`${MODEL}
import sys
from safetensors.torch import save_model
torch.manual_seed(0)
model = Toy()
torch.save(model.state_dict(), sys.argv[1])
save_model(model, sys.argv[2])
`, [join(dir, 'pytorch_model.bin'), join(dir, 'reference.safetensors')]);
  const run = await runCli(['convert', 'pytorch_model.bin', 'model.safetensors'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /tied weights written once: transformer\.wte\.weight -> lm_head\.weight/);
  const ours = await openTensorFile(join(dir, 'model.safetensors'));
  const reference = await openTensorFile(join(dir, 'reference.safetensors'));
  try {
    assert.deepEqual(ours.tensors.map((info) => info.name).sort(), reference.tensors.map((info) => info.name).sort(), 'the same names as save_model');
    assert.deepEqual(ours.metadata, reference.metadata, 'the same {removed: kept} metadata as save_model');
    for (const info of reference.tensors) assert.deepEqual((await ours.read(info.name)).data, (await reference.read(info.name)).data, info.name);
  } finally {
    await ours.close();
    await reference.close();
  }
  const loaded = runPython(`${MODEL}
import sys
from safetensors.torch import load_model
torch.manual_seed(0)
expected = Toy()
model = Toy()
torch.nn.init.zeros_(model.transformer.wte.weight)
missing, unexpected = load_model(model, sys.argv[1])
assert not missing and not unexpected, (missing, unexpected)
assert model.lm_head.weight is model.transformer.wte.weight
for (name, a), (_, b) in zip(model.state_dict().items(), expected.state_dict().items()):
    assert torch.equal(a, b), name
print('ok')
`, [join(dir, 'model.safetensors')]);
  assert.equal(loaded.stdout.trim(), 'ok');

  const keep = await runCli(['convert', 'pytorch_model.bin', 'both.safetensors', '--keep-duplicates'], { cwd: dir });
  assert.equal(keep.code, 0, keep.stderr);
  assert.doesNotMatch(keep.stdout, /tied weights/);
  const both = await openTensorFile(join(dir, 'both.safetensors'));
  try {
    assert.ok(both.has('lm_head.weight') && both.has('transformer.wte.weight'), 'the old behaviour keeps both names');
    assert.equal(both.metadata['transformer.wte.weight'], undefined);
  } finally {
    await both.close();
  }
  // PyTorch output can alias: every name is kept by default.
  const pt = await runCli(['convert', 'pytorch_model.bin', 'copy.pt', '--json'], { cwd: dir });
  assert.equal(pt.code, 0, pt.stderr);
  assert.deepEqual(JSON.parse(pt.stdout).duplicates, {});
});
