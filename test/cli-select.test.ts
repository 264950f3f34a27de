/**
 * Issue 8 features 6, 7, 10, 12 and bugs 6, 7: selecting and renaming tensors,
 * inspect views, progress lines off a terminal, --compress, npz members tensio
 * cannot read, and ml_dtypes' bfloat16 saved as a 2-byte void.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTensor } from '../src/core/tensor.js';
import { openTensorFile } from '../src/operations/index.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

async function lightning(dir: string): Promise<void> {
  const f = (n: number) => createTensor('float32', [2], new Float32Array([n, n + 1]));
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), {
    'model.transformer.h.0.attn.weight': f(0),
    'model.transformer.h.0.mlp.weight': f(2),
    'model.transformer.h.1.attn.weight': f(4),
    'model.lm_head.weight': f(6),
    'extra.scale': f(8),
  }, { metadata: { note: 'x' } });
}

test('feature 7: --tensors globs, "did you mean", --rename, --strip-prefix, --metadata', async (t) => {
  const dir = await tempDir(t);
  await lightning(dir);
  const glob = await runCli(['convert', 'in.safetensors', 'h0.safetensors', '--tensors', 'model.transformer.h.0.*'], { cwd: dir });
  assert.equal(glob.code, 0, glob.stderr);
  const h0 = await openTensorFile(join(dir, 'h0.safetensors'));
  assert.deepEqual(h0.tensors.map((info) => info.name), ['model.transformer.h.0.attn.weight', 'model.transformer.h.0.mlp.weight']);
  await h0.close();

  const typo = await runCli(['convert', 'in.safetensors', 'x.safetensors', '--tensors', 'model.lm_head.weigth'], { cwd: dir });
  assert.equal(typo.code, 1);
  assert.equal(cliErrorCode(typo.stderr), 'NOT_FOUND');
  assert.match(typo.stderr, /did you mean "model\.lm_head\.weight"/);
  const none = await runCli(['convert', 'in.safetensors', 'x.safetensors', '--tensors', 'decoder.*'], { cwd: dir });
  assert.equal(cliErrorCode(none.stderr), 'NOT_FOUND');

  const renamed = await runCli(['convert', 'in.safetensors', 'out.safetensors', '--strip-prefix', 'model.', '--rename', 'extra.scale=scale', '--metadata', 'format=pt', '--metadata', 'source=test'], { cwd: dir });
  assert.equal(renamed.code, 0, renamed.stderr);
  const out = await openTensorFile(join(dir, 'out.safetensors'));
  try {
    assert.deepEqual(out.tensors.map((info) => info.name).sort(), ['lm_head.weight', 'scale', 'transformer.h.0.attn.weight', 'transformer.h.0.mlp.weight', 'transformer.h.1.attn.weight']);
    assert.deepEqual(out.metadata, { note: 'x', format: 'pt', source: 'test' });
    assert.deepEqual([...new Float32Array((await out.read('scale')).data.slice().buffer)], [8, 9]);
  } finally {
    await out.close();
  }
  const pattern = await runCli(['convert', 'in.safetensors', 'p.safetensors', '--rename', 'model.transformer.h.*=layers.*', '--tensors', 'model.transformer.*'], { cwd: dir });
  assert.equal(pattern.code, 0, pattern.stderr);
  const p = await openTensorFile(join(dir, 'p.safetensors'));
  assert.deepEqual(p.tensors.map((info) => info.name).sort(), ['layers.0.attn.weight', 'layers.0.mlp.weight', 'layers.1.attn.weight']);
  await p.close();
  const clash = await runCli(['convert', 'in.safetensors', 'c.safetensors', '--rename', 'extra.scale=model.lm_head.weight'], { cwd: dir });
  assert.equal(cliErrorCode(clash.stderr), 'DUPLICATE_NAME');
  const bad = await runCli(['convert', 'in.safetensors', 'c.safetensors', '--metadata', 'novalue'], { cwd: dir });
  assert.equal(bad.code, 2);
});

test('feature 7: --key that matches nothing lists the available keys', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, torch
torch.save({'state_dict': {'w': torch.ones(2)}, 'epoch': 3, 'optimizer_states': []}, sys.argv[1])
`, [join(dir, 'last.ckpt')]);
  const run = await runCli(['convert', 'last.ckpt', 'out.safetensors', '--key', 'model'], { cwd: dir });
  assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND');
  assert.match(run.stderr, /available keys: "state_dict", "epoch", "optimizer_states"/);
});

test('feature 6: inspect --filter, --regex, --sort, --summary and the stated order', async (t) => {
  const dir = await tempDir(t);
  await lightning(dir);
  const filtered = JSON.parse((await runCli(['inspect', 'in.safetensors', '--json', '--filter', 'model.transformer.*', '--sort', 'name'], { cwd: dir })).stdout) as { order: string; tensors: { name: string }[]; totals: { tensors: number } };
  assert.equal(filtered.order, 'name');
  assert.deepEqual(filtered.tensors.map((entry) => entry.name), ['model.transformer.h.0.attn.weight', 'model.transformer.h.0.mlp.weight', 'model.transformer.h.1.attn.weight']);
  assert.equal(filtered.totals.tensors, 3);
  const regex = JSON.parse((await runCli(['inspect', 'in.safetensors', '--json', '--regex', 'attn\\.weight$'], { cwd: dir })).stdout) as { tensors: { name: string }[] };
  assert.equal(regex.tensors.length, 2);
  const summary = await runCli(['inspect', 'in.safetensors', '--summary'], { cwd: dir });
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /model\.transformer\.h\.\*\s+3\s+6/);
  assert.doesNotMatch(summary.stdout, /attn\.weight/, 'no per-tensor list');
  const text = await runCli(['inspect', 'in.safetensors'], { cwd: dir });
  assert.match(text.stdout, /tensors \(5, file order\)/);
  const badSort = await runCli(['inspect', 'in.safetensors', '--sort', 'dtype'], { cwd: dir });
  assert.equal(badSort.code, 2);
});

test('feature 10: --progress prints plain lines when stderr is not a terminal; --quiet prints none', async (t) => {
  const dir = await tempDir(t);
  await lightning(dir);
  const progress = await runCli(['convert', 'in.safetensors', 'a.npz', '--progress'], { cwd: dir, isTTY: false });
  assert.equal(progress.code, 0, progress.stderr);
  assert.match(progress.stderr, /^convert: \d+% /m);
  assert.doesNotMatch(progress.stderr, /\x1b/, 'no control characters in a log');
  const quiet = await runCli(['convert', 'in.safetensors', 'b.npz', '--quiet'], { cwd: dir, isTTY: true });
  assert.equal(quiet.stderr, '');
  const both = await runCli(['convert', 'in.safetensors', 'c.npz', '--quiet', '--progress'], { cwd: dir });
  assert.equal(both.code, 2);
});

test('feature 12: --compress writes deflated npz members numpy reads', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), { zeros: createTensor('float32', [256], new Float32Array(256)) });
  const run = await runCli(['convert', 'in.safetensors', 'out.npz', '--compress'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const checked = runPython(`
import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
a = np.load(sys.argv[1])['zeros']
assert a.dtype == np.float32 and a.shape == (256,) and not a.any()
print('ok')
`, [join(dir, 'out.npz')]);
  assert.equal(checked.stdout.trim(), 'ok');
  const notNpz = await runCli(['convert', 'in.safetensors', 'x.safetensors', '--compress'], { cwd: dir });
  assert.equal(notNpz.code, 2);
});

test('bugs 6 and 7: npz members of strings and objects are listed, the others convert; <V2 reads as bfloat16', { skip: oracleSkip('numpy', 'ml_dtypes', 'torch', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, numpy as np, ml_dtypes
bf = np.array([[1.5, -2.25, 3.0], [0.0, 65280.0, -0.5]], dtype=np.float32).astype(ml_dtypes.bfloat16)
np.savez(sys.argv[1], w=np.arange(4, dtype=np.float32), names=np.array(['a', 'bc']), obj=np.array([{'a': 1}], dtype=object), bf=bf)
`, [join(dir, 'mixed.npz')]);
  const inspect = await runCli(['inspect', 'mixed.npz', '--json'], { cwd: dir });
  assert.equal(inspect.code, 0, inspect.stderr);
  const doc = JSON.parse(inspect.stdout) as { tensors: { name: string; dtype: string; byteOrder?: string; memoryOrder?: string }[]; unsupported: { name: string; formatDtype: string; code: string }[] };
  assert.deepEqual(doc.tensors.map((entry) => entry.name), ['w', 'bf']);
  assert.deepEqual(doc.tensors[0], { name: 'w', dtype: 'float32', shape: [4], byteLength: 16, byteOrder: 'little', memoryOrder: 'C' });
  assert.deepEqual(doc.unsupported.map((entry) => [entry.name, entry.formatDtype, entry.code]), [['names', '<U2', 'UNSUPPORTED_DTYPE'], ['obj', '|O', 'UNSAFE_PICKLE']]);
  const text = await runCli(['inspect', 'mixed.npz'], { cwd: dir });
  assert.match(text.stdout, /unsupported \(2/);
  assert.match(text.stdout, /--void-dtype bfloat16/, 'the opaque member says how to read it');

  const one = await runCli(['convert', 'mixed.npz', 'w.safetensors', '--tensors', 'w'], { cwd: dir });
  assert.equal(one.code, 0, one.stderr);
  const refused = await runCli(['convert', 'mixed.npz', 'names.safetensors', '--tensors', 'names'], { cwd: dir });
  assert.equal(cliErrorCode(refused.stderr), 'UNSUPPORTED_DTYPE');
  assert.match(refused.stderr, /"names" \(<U2\)/);
  const opaque = await runCli(['convert', 'mixed.npz', 'all.safetensors'], { cwd: dir });
  assert.equal(cliErrorCode(opaque.stderr), 'UNSUPPORTED_DTYPE');
  assert.match(opaque.stderr, /--void-dtype bfloat16/);
  assert.doesNotMatch(opaque.stderr, /write safetensors/, 'no advice to write the format that refused it');

  const all = await runCli(['convert', 'mixed.npz', 'all.safetensors', '--void-dtype', 'bfloat16'], { cwd: dir });
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stderr, /left out 2 entries tensio cannot read: names, obj/);
  const same = runPython(`
import sys, numpy as np, ml_dtypes, torch
from safetensors.torch import load_file
t = load_file(sys.argv[1])
assert sorted(t) == ['bf', 'w'], sorted(t)
ref = torch.tensor([[1.5, -2.25, 3.0], [0.0, 65280.0, -0.5]], dtype=torch.bfloat16)
assert t['bf'].dtype == torch.bfloat16 and torch.equal(t['bf'], ref)
print('ok')
`, [join(dir, 'all.safetensors')]);
  assert.equal(same.stdout.trim(), 'ok');
  const badSize = await runCli(['convert', 'mixed.npz', 'x.safetensors', '--void-dtype', 'float32'], { cwd: dir });
  assert.equal(cliErrorCode(badSize.stderr), 'INVALID_ARGUMENT');
});
