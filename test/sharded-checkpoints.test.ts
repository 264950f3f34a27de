/**
 * Sharded checkpoints from the user's side (issue 8 bugs 1-4, feature 3; issue 16's
 * verify): an index is followed only when it names the file given, --shard-only opens
 * one shard alone, --max-shard-size needs an index OUT, the files written are the ones
 * reported, a re-shard with --force leaves only the new set, verify checks the set
 * and reports strays, and a model folder with one weights file opens like a sharded one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTensor, detectFormat, isTensioError, openTensorFile, type Tensor } from '../src/index.js';
import { safetensorsOpen, safetensorsVerify, safetensorsWrite, safetensorsWriteSharded } from '../src/formats/safetensors/index.js';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/** Six tensors of 1 KiB each: 3 shards at a 2 KiB limit, 2 at 3 KiB. */
function model(salt = 0): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (let i = 0; i < 6; i++) out[`layer.${i}.weight`] = createTensor('float32', [256], new Float32Array(256).map((_, j) => j * 0.5 + i + salt));
  return out;
}

async function listFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => !name.startsWith('.')).sort();
}

test('bug 1: a shard-named file the index does not list opens and verifies alone', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWriteSharded(folder, model(), { maxShardBytes: 2048 });
  // A truncated copy named like a shard of a 9-shard set the index knows nothing about.
  const stray = join(folder, 'model-00001-of-00009.safetensors');
  await copyFile(join(folder, 'model-00001-of-00003.safetensors'), stray);
  await truncate(stray, 1000);
  await assert.rejects(safetensorsOpen(stray), (e) => isTensioError(e, 'TRUNCATED'));
  const report = await safetensorsVerify(stray);
  assert.equal(report.ok, false, 'the truncated file is not sound, whatever sits beside it');
  assert.equal(report.problems[0]!.code, 'TRUNCATED');
  const cliVerify = await runCli(['verify', stray]);
  assert.equal(cliVerify.code, 1, cliVerify.stdout);
  const cliConvert = await runCli(['convert', stray, join(folder, 'out.npz')]);
  assert.equal(cliConvert.code, 1);
  // A sound file under a shard name the index does not list: just its own tensors.
  await safetensorsWrite(join(folder, 'model-00004-of-00009.safetensors'), { extra: createTensor('uint8', [2], new Uint8Array([1, 2])) });
  const alone = await safetensorsOpen(join(folder, 'model-00004-of-00009.safetensors'));
  assert.deepEqual(alone.tensors.map((info) => info.name), ['extra']);
  await alone.close();
  // A shard the index does list still opens the whole model.
  const whole = await safetensorsOpen(join(folder, 'model-00002-of-00003.safetensors'));
  assert.equal(whole.tensors.length, 6);
  await whole.close();
});

test('bug 1: --shard-only inspects and verifies exactly one shard; without it the model', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWriteSharded(folder, model(), { maxShardBytes: 2048, crc32: true });
  const shard = join(folder, 'model-00002-of-00003.safetensors');
  const one = await runCli(['inspect', shard, '--shard-only', '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual((JSON.parse(one.stdout) as { tensors: { name: string }[] }).tensors.map((x) => x.name), ['layer.2.weight', 'layer.3.weight']);
  const all = await runCli(['inspect', shard, '--json']);
  assert.equal((JSON.parse(all.stdout) as { tensors: unknown[] }).tensors.length, 6);
  const verifyOne = await runCli(['verify', shard, '--shard-only', '--json']);
  assert.equal(verifyOne.code, 0, verifyOne.stderr);
  assert.equal((JSON.parse(verifyOne.stdout) as { tensors: number; checksumsVerified: number }).checksumsVerified, 2);
  // A corrupt byte in another shard fails the model, not the shard checked alone.
  const other = join(folder, 'model-00003-of-00003.safetensors');
  const bytes = await readFile(other);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(other, bytes);
  assert.equal((await runCli(['verify', shard, '--shard-only'])).code, 0);
  const verifyAll = await runCli(['verify', shard]);
  assert.equal(verifyAll.code, 1);
  assert.match(verifyAll.stdout, /CHECKSUM_MISMATCH/);
  // --shard-only on a format without shards is a usage error, not silently ignored.
  await writeFile(join(folder, 'x.npy'), new Uint8Array(0));
  const npz = await runCli(['convert', shard, join(folder, 'x.npz'), '--force']);
  assert.equal(npz.code, 0, npz.stderr);
  const refused = await runCli(['inspect', join(folder, 'x.npz'), '--shard-only']);
  assert.equal(refused.code, 2);
  assert.equal(cliErrorCode(refused.stderr), 'USAGE');
});

test('bug 2: --max-shard-size with OUT not ending in .safetensors.index.json is a usage error, nothing written', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWrite(join(folder, 'in.safetensors'), model());
  for (const out of ['y.safetensors', 'y.npz', 'shards']) {
    const run = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '2KiB'], { cwd: folder });
    assert.equal(run.code, 2, `${out}: ${run.stderr}`);
    assert.equal(cliErrorCode(run.stderr), 'USAGE');
    assert.match(run.stderr, /\.safetensors\.index\.json/);
  }
  assert.deepEqual(await listFiles(folder), ['in.safetensors']);
  const json = await runCli(['convert', 'in.safetensors', 'y.safetensors', '--max-shard-size', '2KiB', '--json'], { cwd: folder });
  assert.equal(json.code, 2);
  assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'USAGE');
});

test('bug 3: the files actually written and their total size are reported (one shard and several)', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWrite(join(folder, 'in.safetensors'), model());
  await mkdir(join(folder, 'one'));
  await mkdir(join(folder, 'many'));
  const single = await runCli(['convert', 'in.safetensors', 'one/model.safetensors.index.json', '--max-shard-size', '1MB', '--json'], { cwd: folder });
  assert.equal(single.code, 0, single.stderr);
  const singleResult = JSON.parse(single.stdout) as { output: string; outputSize: number; files: string[] };
  assert.equal(singleResult.output, join('one', 'model.safetensors'));
  assert.deepEqual(singleResult.files, [join('one', 'model.safetensors')]);
  assert.equal(singleResult.outputSize, (await stat(join(folder, 'one', 'model.safetensors'))).size);
  assert.deepEqual(await listFiles(join(folder, 'one')), ['model.safetensors']);

  const several = await runCli(['convert', 'in.safetensors', 'many/model.safetensors.index.json', '--max-shard-size', '2KiB', '--json'], { cwd: folder });
  assert.equal(several.code, 0, several.stderr);
  const result = JSON.parse(several.stdout) as { output: string; outputSize: number; files: string[] };
  assert.equal(result.output, join('many', 'model.safetensors.index.json'));
  const written = await listFiles(join(folder, 'many'));
  assert.deepEqual([...result.files].map((file) => file.slice('many/'.length)).sort(), written);
  let total = 0;
  for (const name of written) total += (await stat(join(folder, 'many', name))).size;
  assert.equal(result.outputSize, total, 'the size of every shard plus the index');
  const text = await runCli(['convert', 'in.safetensors', 'many/model.safetensors.index.json', '--max-shard-size', '2KiB', '--force'], { cwd: folder });
  assert.match(text.stdout, /-> many\/model\.safetensors\.index\.json \(safetensors\)/);
  assert.match(text.stdout, /in 4 files \(3 shards \+ index\)/);
});

test('bug 4: re-sharding into the same folder with --force leaves exactly the new set', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWrite(join(folder, 'in.safetensors'), model(1));
  const out = 'ckpt/model.safetensors.index.json';
  await mkdir(join(folder, 'ckpt'));
  const first = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '2KiB'], { cwd: folder });
  assert.equal(first.code, 0, first.stderr);
  const ckpt = join(folder, 'ckpt');
  assert.deepEqual(await listFiles(ckpt), ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json']);
  // Without --force the existing checkpoint is refused.
  assert.equal((await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '3KiB'], { cwd: folder })).code, 1);
  // Fewer, larger shards: the three old ones go.
  const second = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '3KiB', '--force', '--json'], { cwd: folder });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await listFiles(ckpt), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
  assert.equal((JSON.parse(second.stdout) as { removedFiles: string[] }).removedFiles.length, 3);
  // The same count again: the new set takes names the old index does not use, then the old set goes.
  const third = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '3KiB', '--force'], { cwd: folder });
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(await listFiles(ckpt), ['model-000001-of-000002.safetensors', 'model-000002-of-000002.safetensors', 'model.safetensors.index.json']);
  assert.match(third.stdout, /removed 2 files of the replaced checkpoint/);
  // One shard: model.safetensors, and neither index nor old shards remain.
  const fourth = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '1MB', '--force'], { cwd: folder });
  assert.equal(fourth.code, 0, fourth.stderr);
  assert.deepEqual(await listFiles(ckpt), ['model.safetensors']);
  const reader = await openTensorFile(ckpt);
  for (const [name, tensor] of Object.entries(model(1))) assert.deepEqual((await reader.read(name)).data, tensor.data);
  await reader.close();
  const verify = await runCli(['verify', ckpt]);
  assert.equal(verify.code, 0, verify.stdout);
  assert.doesNotMatch(verify.stdout, /warning/);
  // Sharding over the one-file form replaces it too (huggingface_hub removes it; transformers
  // would load it instead of the index): refused without --force, removed after the commit with it.
  const refused = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '3KiB'], { cwd: folder });
  assert.equal(refused.code, 1);
  assert.equal(cliErrorCode(refused.stderr), 'ALREADY_EXISTS');
  assert.deepEqual(await listFiles(ckpt), ['model.safetensors']);
  const fifth = await runCli(['convert', 'in.safetensors', out, '--max-shard-size', '3KiB', '--force'], { cwd: folder });
  assert.equal(fifth.code, 0, fifth.stderr);
  assert.deepEqual(await listFiles(ckpt), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
});

test('verify checks every shard against the index and reports stray shards as warnings', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWriteSharded(folder, model(), { maxShardBytes: 2048 });
  const sound = await safetensorsVerify(folder);
  assert.equal(sound.ok, true);
  assert.equal(sound.warnings, undefined);
  // A total_size that disagrees with the shards is reported, not fatal (writers count tied storage differently).
  const indexPath = join(folder, 'model.safetensors.index.json');
  const indexText = await readFile(indexPath, 'utf8');
  await writeFile(indexPath, indexText.replace('"total_size": 6144', '"total_size": 9999'));
  const sizeOff = await safetensorsVerify(folder);
  assert.equal(sizeOff.ok, true);
  assert.deepEqual(sizeOff.warnings?.map((warning) => warning.code), ['SIZE_MISMATCH']);
  await writeFile(indexPath, indexText);
  // A stray shard of the same prefix: the model is sound, the stray is reported.
  await safetensorsWrite(join(folder, 'model-00001-of-00002.safetensors'), { old: createTensor('uint8', [1], new Uint8Array([7])) });
  const withStray = await safetensorsVerify(folder);
  assert.equal(withStray.ok, true);
  assert.equal(withStray.warnings?.length, 1);
  assert.match(withStray.warnings![0]!.message, /model-00001-of-00002\.safetensors/);
  const cli = await runCli(['verify', folder]);
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /warning: model-00001-of-00002\.safetensors/);
  // A shard holding a tensor the weight_map does not list: readable, but not sound.
  const shard = join(folder, 'model-00003-of-00003.safetensors');
  const third = await safetensorsOpen(shard, { followIndex: false });
  const kept: Record<string, Tensor> = {};
  for (const info of third.tensors) kept[info.name] = await third.read(info.name);
  await third.close();
  await safetensorsWrite(shard, { ...kept, unlisted: createTensor('uint8', [1], new Uint8Array([1])) });
  const unlisted = await safetensorsVerify(folder);
  assert.equal(unlisted.ok, false);
  assert.deepEqual(unlisted.problems.map((problem) => [problem.code, problem.tensor]), [['INVALID_METADATA', 'unlisted']]);
  // A shard whose size disagrees with its header.
  await truncate(shard, (await stat(shard)).size - 1);
  const truncated = await safetensorsVerify(join(folder, 'model.safetensors.index.json'));
  assert.equal(truncated.ok, false);
  assert.ok(truncated.problems.some((problem) => problem.code === 'TRUNCATED' || problem.code === 'SIZE_MISMATCH' || problem.code === 'INVALID_OFFSET'), JSON.stringify(truncated.problems));
});

test('feature 3: a model folder holding one model.safetensors opens like a sharded folder', async (t) => {
  const folder = await tempDir(t);
  await safetensorsWrite(join(folder, 'model.safetensors'), model());
  await writeFile(join(folder, 'config.json'), '{"model_type": "gpt2"}');
  assert.equal((await detectFormat(folder)).name, 'safetensors');
  const reader = await openTensorFile(folder);
  assert.equal(reader.tensors.length, 6);
  await reader.close();
  const inspect = await runCli(['inspect', folder, '--json']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.equal((await runCli(['verify', folder])).code, 0);
  const converted = await runCli(['convert', folder, join(folder, 'out.npz')]);
  assert.equal(converted.code, 0, converted.stderr);
  // Two weights files and no index: which one is meant is not guessed.
  const two = await tempDir(t);
  await safetensorsWrite(join(two, 'a.safetensors'), model());
  await safetensorsWrite(join(two, 'b.safetensors'), model());
  await assert.rejects(openTensorFile(two), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
});
