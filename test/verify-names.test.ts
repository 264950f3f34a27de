/** verify names the tensors a corrupt zip record holds (.pt storages, .npz members); convert --verify refuses a corrupt input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTensor, verifyTensorFile } from '../src/index.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Flips one byte inside the first occurrence of `needle` in the file. */
async function corrupt(path: string, needle: Uint8Array): Promise<void> {
  const bytes = Buffer.from(await readFile(path));
  const at = bytes.indexOf(Buffer.from(needle));
  assert.ok(at >= 0, 'bytes to corrupt found');
  bytes[at + 3] = bytes[at + 3]! ^ 0x40;
  await writeFile(path, bytes);
}

test('verify .pt: a corrupt storage record is reported with every tensor that uses it; counts are of tensors', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'pytorch_model.bin');
  runPython(String.raw`
import sys, torch
embed = torch.arange(64, dtype=torch.float32).reshape(16, 4) + 1000
sd = {'embed.weight': embed, 'lm_head.weight': embed, 'first_row': embed[0], 'bias': torch.full((4,), 7.0)}
torch.save(sd, sys.argv[1])
`, [path]);
  const good = await verifyTensorFile(path);
  assert.equal(good.ok, true, JSON.stringify(good.problems));
  assert.equal(good.tensors, 4);
  assert.equal(good.withoutChecksum, 0);
  assert.match(good.checksumNote ?? '', /2 holding the data of 4 tensors/);

  await corrupt(path, new Uint8Array(new Float32Array([1010, 1011, 1012, 1013]).buffer));
  const bad = await verifyTensorFile(path);
  assert.equal(bad.ok, false);
  assert.equal(bad.tensors, 4, 'tensors still counted when a record is corrupt');
  const problem = bad.problems.find((p) => p.code === 'CHECKSUM_MISMATCH')!;
  assert.ok(problem, JSON.stringify(bad.problems));
  assert.deepEqual([...problem.tensors!].sort(), ['embed.weight', 'first_row', 'lm_head.weight']);
  assert.match(problem.message, /data\/\d+ \(holds the data of tensors "embed\.weight", "lm_head\.weight", "first_row"\)/);

  const cli = await runCli(['verify', path]);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /CHECKSUM_MISMATCH \[embed\.weight \+2\]: .*embed\.weight/);

  // convert --verify refuses before writing; without it only structure is checked (the old behaviour).
  const refused = await runCli(['convert', path, join(dir, 'out.safetensors'), '--verify']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.equal(cliErrorCode(refused.stderr), 'CHECKSUM_MISMATCH');
  assert.match(refused.stderr, /nothing was written.*embed\.weight/);
  assert.deepEqual((await readdir(dir)).sort(), ['pytorch_model.bin']);
  const unchecked = await runCli(['convert', path, join(dir, 'out.safetensors')]);
  assert.equal(unchecked.code, 0, unchecked.stderr);
});

test('convert --verify on a sound input converts and reports the checksums; npz members are named by tensor', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'w.npz');
  await npzWrite(path, { alpha: createTensor('float32', [8], new Float32Array([11, 12, 13, 14, 15, 16, 17, 18])), beta: createTensor('int32', [2], new Int32Array([1, 2])) });
  const run = await runCli(['convert', path, join(dir, 'w.safetensors'), '--verify', '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).checksumsVerified, 2);
  await corrupt(path, new Uint8Array(new Float32Array([13, 14, 15, 16]).buffer));
  const bad = await verifyTensorFile(path);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.problems.map((p) => [p.code, p.tensor]), [['CHECKSUM_MISMATCH', 'alpha']]);
  assert.equal(bad.tensors, 2);
});
