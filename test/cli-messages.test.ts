/**
 * Issue 8 bug 8: a file of another kind, read as safetensors or PyTorch, gets a
 * message saying what it is not (and what it may be), not a limit to raise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createTensor } from '../src/core/tensor.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

test('bug 8: a text file named .safetensors is "not a safetensors file"', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'notes.safetensors'), 'These are my notes about the model, not tensors.\n');
  for (const command of ['inspect', 'verify']) {
    const run = await runCli([command, 'notes.safetensors'], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /not a safetensors file/, `${command}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr + run.stdout, /maxHeaderBytes/);
  }
});

test('bug 8: an npz read with --from pytorch or --from safetensors says it is not one', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('npz', join(dir, 'a.npz'), { x: createTensor('float32', [3], new Float32Array([1, 2, 3])) });
  const asTorch = await runCli(['inspect', 'a.npz', '--from', 'pytorch'], { cwd: dir });
  assert.equal(asTorch.code, 1);
  assert.match(asTorch.stderr, /not a PyTorch checkpoint/);
  assert.match(asTorch.stderr, /npz/, 'names the likely format');
  const asSafetensors = await runCli(['convert', 'a.npz', 'b.npy', '--from', 'safetensors'], { cwd: dir });
  assert.equal(cliErrorCode(asSafetensors.stderr), 'INVALID_HEADER');
  assert.match(asSafetensors.stderr, /not a safetensors file/);
});
