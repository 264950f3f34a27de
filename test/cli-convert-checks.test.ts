/**
 * Issue 8, bugs 9-11: options the input format would ignore, a missing output folder
 * and an output that is a folder are refused before anything is read or written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir, readdir } from 'node:fs/promises';
import { createTensor } from '../src/core/tensor.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

async function smallModel(dir: string): Promise<void> {
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), {
    w: createTensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])),
  });
  await writeWithFormat('npz', join(dir, 'in.npz'), { w: createTensor('float32', [2], new Float32Array([1, 2])) });
}

test('bug 9: --key (and --void-dtype) on input that would ignore them are usage errors naming the format', async (t) => {
  const dir = await tempDir(t);
  await smallModel(dir);
  for (const args of [
    ['convert', 'in.safetensors', 'out.npz', '--key', 'state_dict'],
    ['convert', 'in.safetensors', 'out.npz', '--void-dtype', 'bfloat16'],
    ['inspect', 'in.npz', '--key', 'state_dict'],
  ]) {
    const run = await runCli(args, { cwd: dir });
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(cliErrorCode(run.stderr), 'USAGE');
    assert.match(run.stderr, /pytorch|npy/);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['in.npz', 'in.safetensors'], 'nothing written');
});

test('bug 10: a missing output folder is refused up front for every output format, naming the folder', async (t) => {
  const dir = await tempDir(t);
  await smallModel(dir);
  for (const out of ['missing/out.safetensors', 'missing/out.npz', 'missing/out.npk', 'missing/model.safetensors.index.json']) {
    const extra = out.endsWith('.index.json') ? ['--max-shard-size', '1KB'] : [];
    const run = await runCli(['convert', 'in.safetensors', out, ...extra], { cwd: dir });
    assert.equal(run.code, 1, `${out}: ${run.stderr}`);
    assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND', out);
    assert.match(run.stderr, /folder .*missing.* does not exist/, out);
    assert.doesNotMatch(run.stderr, /\.tmp/, 'no temporary file named');
  }
  assert.deepEqual((await readdir(dir)).sort(), ['in.npz', 'in.safetensors'], 'no folder was created');
});

test('bug 11: an output that is an existing folder is refused at once, --force or not (folder formats excepted)', async (t) => {
  const dir = await tempDir(t);
  await smallModel(dir);
  await mkdir(join(dir, 'out.safetensors'));
  for (const force of [[], ['--force']]) {
    const run = await runCli(['convert', 'in.safetensors', 'out.safetensors', ...force], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(cliErrorCode(run.stderr), 'INVALID_ARGUMENT');
    assert.match(run.stderr, /is a folder/);
    assert.deepEqual(await readdir(join(dir, 'out.safetensors')), [], 'the folder is untouched');
  }
  const plainFolder = await runCli(['convert', 'in.safetensors', '.', '--to', 'npz', '--force'], { cwd: dir });
  assert.equal(cliErrorCode(plainFolder.stderr), 'INVALID_ARGUMENT');
  // A NumPack store is a folder: replacing one with --force still works.
  const first = await runCli(['convert', 'in.safetensors', 'store.npk'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const again = await runCli(['convert', 'in.safetensors', 'store.npk', '--force'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
});
