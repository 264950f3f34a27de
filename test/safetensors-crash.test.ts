/**
 * Crash safety: a child process streams a multi-MB safetensors file over an existing
 * target in many small blocks and is SIGKILLed at random points. The target must then
 * be the old file byte for byte or the complete new one, never a torn mix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor } from '../src/index.js';
import { safetensorsOpen, safetensorsVerify, safetensorsWrite } from '../src/formats/safetensors/index.js';
import { tempDir } from './helpers/temp.js';

const TENSORS = 8;
const TENSOR_BYTES = 512 * 1024;
const BLOCK_BYTES = 4096;
const BLOCKS_PER_REPORT = 16;
const REPORTS = (TENSORS * TENSOR_BYTES) / BLOCK_BYTES / BLOCKS_PER_REPORT;

/** The bytes of tensor `t` (shared by child and parent through this formula). */
function expectedTensor(t: number): Uint8Array {
  const out = new Uint8Array(TENSOR_BYTES);
  for (let i = 0; i < TENSOR_BYTES; i++) out[i] = (t * 131 + i * 7) & 0xff;
  return out;
}

function childScript(indexUrl: string): string {
  return `
import { safetensorsStreamWriter } from ${JSON.stringify(indexUrl)};
const target = process.argv[2];
const plan = Array.from({ length: ${TENSORS} }, (_, t) => ({ name: 't' + t, dtype: 'uint8', shape: [${TENSOR_BYTES}] }));
const writer = await safetensorsStreamWriter(target, { tensors: plan, metadata: { generation: 'new' }, crc32: true });
process.stdout.write('started\\n');
let blocks = 0;
for (const name of writer.order) {
  const t = Number(name.slice(1));
  for (let at = 0; at < ${TENSOR_BYTES}; at += ${BLOCK_BYTES}) {
    const block = new Uint8Array(${BLOCK_BYTES});
    for (let i = 0; i < block.length; i++) block[i] = (t * 131 + (at + i) * 7) & 0xff;
    await writer.writeBlock(name, block);
    if (++blocks % ${BLOCKS_PER_REPORT} === 0) {
      process.stdout.write('progress\\n');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}
process.stdout.write('closing\\n');
await writer.close();
process.stdout.write('done\\n');
`;
}

/** Runs the child and kills it after it has printed `killAfterLines` lines (or lets it finish). */
function runChild(script: string, target: string, killAfterLines: number): Promise<{ finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, target], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
    let lines = 0;
    let finished = false;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        if (line === 'done') finished = true;
        lines++;
        if (lines >= killAfterLines && !finished) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ finished });
      else reject(new Error(`child failed (${code}): ${stderr}`));
    });
  });
}

test('safetensors crash safety: SIGKILL while streaming leaves the old file or the complete new one', async (t) => {
  const folder = await tempDir(t);
  const target = join(folder, 'model.safetensors');
  await safetensorsWrite(target, { old: createTensor('float32', [3], new Float32Array([1, 2, 3])) }, { metadata: { generation: 'old' } });
  const script = join(folder, 'child.mts');
  await writeFile(script, childScript(new URL('../src/formats/safetensors/index.ts', import.meta.url).href));

  // Kill points spread over the whole write, plus one run allowed to finish.
  const killPoints = [1, ...Array.from({ length: 4 }, () => 2 + Math.floor(Math.random() * (REPORTS + 1))), REPORTS + 2, Number.POSITIVE_INFINITY];
  let sawNew = false;
  let killedMidWrite = 0;
  for (const killAfterLines of killPoints) {
    const before = await readFile(target);
    const { finished } = await runChild(script, target, killAfterLines);
    // A run killed after the header was written leaves its temporary until the next write
    // into this folder removes it (stale temporaries of dead processes are cleaned up), so
    // look right after each run: proof the kills landed mid-write.
    if (!finished && (await readdir(folder)).some((name) => name.startsWith('.model.safetensors.tensio-') && name.endsWith('.tmp'))) killedMidWrite++;
    const after = await readFile(target);
    if (after.equals(before)) {
      assert.equal(finished, false, 'a finished run must have replaced the file');
      continue;
    }
    // Not the old bytes: it must be the complete, valid new file.
    const reader = await safetensorsOpen(target);
    assert.equal(reader.metadata.generation, 'new');
    assert.equal(reader.tensors.length, TENSORS);
    for (let i = 0; i < TENSORS; i++) assert.deepEqual((await reader.read(`t${i}`)).data, expectedTensor(i));
    await reader.close();
    const report = await safetensorsVerify(target);
    assert.equal(report.ok, true);
    assert.equal(report.checksumsVerified, TENSORS);
    sawNew = true;
  }
  assert.equal(sawNew, true, 'the run left to finish published the new file');
  assert.ok(killedMidWrite >= 1, 'some killed runs were writing (their temporaries were left)');
  // The last, finished run removed the temporaries the killed runs left behind.
  const strays = (await readdir(folder)).filter((name) => name.startsWith('.model.safetensors.tensio-') && name.endsWith('.tmp'));
  assert.deepEqual(strays, [], 'stale temporaries of killed writers are removed by the next write');
});
