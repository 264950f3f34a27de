import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createTensor, tensorsEqual } from '../src/core/tensor.js';
import { openTensorFile } from '../src/operations/index.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const model = {
  a: createTensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])),
  b: createTensor('int32', [4], new Int32Array([-1, 0, 1, 2])),
  c: createTensor('uint8', [3], new Uint8Array([9, 8, 7])),
};

async function expectTensors(path: string, names: string[]): Promise<void> {
  const reader = await openTensorFile(path);
  try {
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), [...names].sort());
    for (const name of names) assert.ok(tensorsEqual(await reader.read(name), model[name as keyof typeof model]), name);
  } finally {
    await reader.close();
  }
}

test('convert writes the output and says what it did', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const run = await runCli(['convert', 'in.safetensors', 'out.npz'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /safetensors\) -> out\.npz \(npz\)/);
  assert.match(run.stdout, /3 tensors/);
  await expectTensors(join(dir, 'out.npz'), ['a', 'b', 'c']);
});

test('convert --tensors keeps only the named tensors; --json describes the run', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const run = await runCli(['convert', 'in.safetensors', 'out.safetensors', '--tensors', 'a,c', '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout) as Record<string, unknown>;
  assert.equal(doc.inputFormat, 'safetensors');
  assert.equal(doc.outputFormat, 'safetensors');
  assert.equal(doc.tensors, 2);
  assert.equal(doc.bytes, 24 + 3);
  assert.equal(typeof doc.seconds, 'number');
  await expectTensors(join(dir, 'out.safetensors'), ['a', 'c']);
});

test('convert refuses to overwrite without --force (exit 1, output untouched), --force replaces', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  await writeFile(join(dir, 'out.safetensors'), 'precious');
  const refused = await runCli(['convert', 'in.safetensors', 'out.safetensors'], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.equal(cliErrorCode(refused.stderr), 'ALREADY_EXISTS');
  assert.equal(await readFile(join(dir, 'out.safetensors'), 'utf8'), 'precious');
  const forced = await runCli(['convert', 'in.safetensors', 'out.safetensors', '--force'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  await expectTensors(join(dir, 'out.safetensors'), ['a', 'b', 'c']);
  assert.deepEqual((await readdir(dir)).sort(), ['in.safetensors', 'out.safetensors'], 'no temporary files left');
});

test('convert errors: unknown output extension, missing tensor, unknown --to, same path', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const cases: [string[], string][] = [
    [['convert', 'in.safetensors', 'out.unknownext'], 'UNKNOWN_FORMAT'],
    [['convert', 'in.safetensors', 'out.safetensors', '--tensors', 'nope'], 'NOT_FOUND'],
    [['convert', 'in.safetensors', 'out.bin', '--to', 'nope'], 'UNKNOWN_FORMAT'],
    [['convert', 'in.safetensors', './in.safetensors', '--force'], 'INVALID_ARGUMENT'],
    [['convert', 'missing.safetensors', 'out.safetensors'], 'NOT_FOUND'],
  ];
  for (const [args, code] of cases) {
    const run = await runCli(args, { cwd: dir });
    assert.equal(run.code, 1, args.join(' '));
    assert.equal(cliErrorCode(run.stderr), code, `${args.join(' ')}: ${run.stderr}`);
  }
  assert.deepEqual(await readdir(dir), ['in.safetensors'], 'nothing written by failed conversions');
});

test('convert to a format that cannot hold a dtype is refused before writing', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), { w: createTensor('bfloat16', [2], new Uint8Array(4)) });
  const { getFormat } = await import('../src/operations/index.js');
  const npz = getFormat('npz');
  const refuses = npz.cannotWrite?.({ name: 'w', dtype: 'bfloat16', shape: [2] });
  const run = await runCli(['convert', 'in.safetensors', 'out.npz'], { cwd: dir });
  if (refuses) {
    assert.equal(run.code, 1);
    assert.equal(cliErrorCode(run.stderr), 'UNSUPPORTED_DTYPE');
    assert.deepEqual(await readdir(dir), ['in.safetensors']);
  } else {
    assert.equal(run.code, 0, run.stderr);
  }
});

test('convert stops at once when aborted: exit 130 and no output file', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const controller = new AbortController();
  controller.abort(new Error('interrupted'));
  const run = await runCli(['convert', 'in.safetensors', 'out.safetensors'], { cwd: dir, signal: controller.signal });
  assert.equal(run.code, 130, run.stderr);
  assert.equal(cliErrorCode(run.stderr), 'ABORTED');
  assert.deepEqual(await readdir(dir), ['in.safetensors']);
});

test('convert draws a progress bar on a TTY only and clears it', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), model);
  const tty = await runCli(['convert', 'in.safetensors', 'tty.safetensors'], { cwd: dir, isTTY: true });
  assert.equal(tty.code, 0, tty.stderr);
  assert.match(tty.stderr, /convert \[#+\] 100%/);
  assert.ok(tty.stderr.endsWith('\r\x1b[2K'), 'bar cleared at the end');
  const piped = await runCli(['convert', 'in.safetensors', 'piped.safetensors'], { cwd: dir, isTTY: false });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stderr, '');
});
