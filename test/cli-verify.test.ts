import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, stat } from 'node:fs/promises';
import { createTensor } from '../src/core/tensor.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const model = {
  weight: createTensor('float32', [8, 8], new Float32Array(64).map((_, i) => i)),
  bias: createTensor('float32', [8], new Float32Array(8).fill(0.5)),
};

/** Flips one byte near the end of the file (inside the last tensor's data). */
async function corruptLastByte(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await stat(path);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 1);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, size - 1);
  } finally {
    await handle.close();
  }
}

test('verify exits 0 on a sound file and counts checksums', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), model, { formatOptions: { crc32: true } });
  const run = await runCli(['verify', 'm.safetensors'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^OK m\.safetensors \(safetensors\): 2 tensors, 2 checksums verified/m);
  const json = await runCli(['verify', 'm.safetensors', '--json'], { cwd: dir });
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, 2);
  assert.deepEqual(report.problems, []);
});

test('verify exits 1 on a corrupted file and names the reason', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.safetensors');
  await writeWithFormat('safetensors', path, model, { formatOptions: { crc32: true } });
  await corruptLastByte(path);
  const run = await runCli(['verify', path]);
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'CHECKSUM_MISMATCH');
  assert.match(run.stdout, /^FAILED /m);
  const json = await runCli(['verify', path, '--json']);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; problems: { code: string }[] };
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((problem) => problem.code === 'CHECKSUM_MISMATCH'));
});

test('verify exits 1 on a truncated file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.safetensors');
  await writeWithFormat('safetensors', path, model);
  const { truncate } = await import('node:fs/promises');
  await truncate(path, (await stat(path)).size - 4);
  const run = await runCli(['verify', path]);
  assert.equal(run.code, 1);
  assert.ok(cliErrorCode(run.stderr));
  assert.notEqual(cliErrorCode(run.stderr), 'INTERNAL');
});

test('verify of a missing file exits 1 with NOT_FOUND', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['verify', 'nothing.safetensors'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND');
});

test('verify exits 1 on an .npz whose member bytes changed (zip CRC-32)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.npz');
  await writeWithFormat('npz', path, model);
  const sound = await runCli(['verify', path]);
  assert.equal(sound.code, 0, sound.stderr);
  const { readFile, writeFile } = await import('node:fs/promises');
  const bytes = await readFile(path);
  const member = bytes.indexOf('weight.npy');
  const header = bytes.indexOf('\x93NUMPY', member);
  bytes[header + 128 + 10]! ^= 0xff; // inside weight's data (header padded to 128 bytes)
  await writeFile(path, bytes);
  const run = await runCli(['verify', path]);
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'CHECKSUM_MISMATCH');
});
