/**
 * `tensio convert --part I/N` and `--finish` as separate processes of the built CLI,
 * the way a job runner starts them: 4 concurrent parts then a finish, compared tensor
 * by tensor with a single-process conversion and read through the index by the
 * reference safetensors library; a part killed between its shard and its manifest; a
 * part run with another N; the usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert, openTensorFile } from '../src/operations/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import type { DType } from '../src/core/dtype.js';
import { cliErrorCode } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const built = fileURLToPath(new URL('../dist/bin/tensio.js', import.meta.url));
const source = fileURLToPath(new URL('../src/bin/tensio.ts', import.meta.url));
/** The built bin when `npm run build` has run, else the source through tsx. */
const command = existsSync(built) ? [built] : ['--import', import.meta.resolve('tsx'), source];
const INDEX = 'model.safetensors.index.json';

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** One CLI process, resolved when it exits. */
function tensio(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function tensioSync(args: string[], cwd: string): Run {
  const result = spawnSync(process.execPath, [...command, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

async function writeInput(path: string): Promise<void> {
  const dtypes: DType[] = ['float32', 'bfloat16', 'float16', 'int32'];
  const tensors: Record<string, { dtype: DType; shape: number[]; data: Uint8Array }> = {};
  for (let i = 0; i < 24; i++) {
    const dtype = dtypes[i % dtypes.length]!;
    const shape = [8 + ((i * 13) % 40), 16];
    const data = new Uint8Array(shape[0]! * shape[1]! * (dtype === 'float32' || dtype === 'int32' ? 4 : 2));
    for (let j = 0; j < data.length; j++) data[j] = (i * 17 + j * 5) & 0x3f;
    tensors[`h.${i}.${i % 3 === 0 ? 'attn' : 'mlp'}.weight`] = { dtype, shape, data };
  }
  await safetensorsWrite(path, tensors, { metadata: { format: 'pt' } });
}

/** Reads every tensor of the input and, through the index, of the output with the reference library; prints mismatches. */
const PYTHON_COMPARE_THROUGH_INDEX = `
import json, os, sys, torch
from safetensors import safe_open
index_path, input_path = sys.argv[1], sys.argv[2]
index = json.load(open(index_path))
folder = os.path.dirname(index_path)
bad, count = [], 0
with safe_open(input_path, 'pt') as original:
    names = set(original.keys())
    if set(index['weight_map']) != names: bad.append('names differ')
    for name, shard in index['weight_map'].items():
        with safe_open(os.path.join(folder, shard), 'pt') as f:
            a, b = f.get_tensor(name), original.get_tensor(name)
            if a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b): bad.append(name)
            count += 1
print(json.dumps({'bad': bad, 'count': count, 'shards': sorted(set(index['weight_map'].values())), 'total_size': index['metadata']['total_size']}))
`;

test('cli split: 4 concurrent processes, then --finish; equal to one process, tensor by tensor', async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  await mkdir(join(dir, 'out'));
  const out = join('out', INDEX);
  const runs = await Promise.all([1, 2, 3, 4].map((index) => tensio(['convert', 'in.safetensors', out, '--part', `${index}/4`, '--json'], dir)));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  const parts = runs.map((run) => JSON.parse(run.stdout) as { part: number; parts: number; tensors: number; files: string[] });
  assert.deepEqual(parts.map((part) => [part.part, part.parts]), [[1, 4], [2, 4], [3, 4], [4, 4]]);
  assert.equal(parts.reduce((sum, part) => sum + part.tensors, 0), 24);
  assert.ok(!existsSync(join(dir, out)), 'no index before --finish');
  const finish = await tensio(['convert', '--finish', out, '--json'], dir);
  assert.equal(finish.code, 0, finish.stderr);
  const finished = JSON.parse(finish.stdout) as { parts: number; tensors: number; checksumsVerified: number; shards: string[] };
  assert.equal(finished.parts, 4);
  assert.equal(finished.tensors, 24);
  assert.equal(finished.checksumsVerified, 4);
  await convert(join(dir, 'in.safetensors'), join(dir, 'single.safetensors'));
  await using split = await openTensorFile(join(dir, out));
  await using single = await openTensorFile(join(dir, 'single.safetensors'));
  assert.deepEqual(split.tensors.map((info) => info.name).sort(), single.tensors.map((info) => info.name).sort());
  for (const info of single.tensors) {
    const [a, b] = [await split.read(info.name), await single.read(info.name)];
    assert.equal(a.dtype, b.dtype);
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(Buffer.from(a.data), Buffer.from(b.data), info.name);
  }
  // The human summary of a part says what to do next.
  const human = await tensio(['convert', 'in.safetensors', out, '--part', '2/4', '--force'], dir);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /converted part 2\/4 .* -> out\/model-00002-of-00004\.safetensors/);
  assert.match(human.stdout, /tensio convert --finish out\/model\.safetensors\.index\.json/);
  assert.ok(!existsSync(join(dir, out)), 'a part run with --force over a finished output removed its index');
  const again = await tensio(['convert', '--finish', out], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /4 parts checked, index written/);
});

test('cli split: the reference safetensors library reads the finished output through its index', { skip: oracleSkip('safetensors', 'torch') }, async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  const runs = await Promise.all([1, 2, 3].map((index) => tensio(['convert', 'in.safetensors', INDEX, '--part', `${index}/3`], dir)));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal((await tensio(['convert', '--finish', INDEX], dir)).code, 0);
  const result = JSON.parse(runPython(PYTHON_COMPARE_THROUGH_INDEX, [join(dir, INDEX), join(dir, 'in.safetensors')]).stdout);
  assert.deepEqual(result.bad, []);
  assert.equal(result.count, 24);
  assert.deepEqual(result.shards, ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
});

test('cli split: a part killed before its manifest makes --finish refuse naming it; running it again mends the output', async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  for (const index of [1, 3]) assert.equal((await tensio(['convert', 'in.safetensors', INDEX, '--part', `${index}/3`], dir)).code, 0);
  const killed = await tensio(['convert', 'in.safetensors', INDEX, '--part', '2/3'], dir, { TENSIO_TEST_CRASH_AFTER: 'split-part:1' });
  assert.equal(killed.signal, 'SIGKILL', `the crash hook killed the part (code ${killed.code}, ${killed.stderr})`);
  assert.ok(existsSync(join(dir, 'model-00002-of-00003.safetensors')), 'its shard was published before the kill');
  const refused = await tensio(['convert', '--finish', INDEX], dir);
  assert.equal(refused.code, 1);
  assert.equal(cliErrorCode(refused.stderr), 'INCOMPLETE');
  assert.match(refused.stderr, /part 2\/3/);
  assert.ok(!existsSync(join(dir, INDEX)));
  assert.equal((await tensio(['convert', 'in.safetensors', INDEX, '--part', '2/3'], dir)).code, 0);
  assert.equal((await tensio(['convert', '--finish', INDEX], dir)).code, 0);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('model')).sort(), [
    'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', INDEX,
  ]);
});

test('cli split: parts of different N refuse to finish; usage errors exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  assert.equal((await tensio(['convert', 'in.safetensors', INDEX, '--part', '1/2'], dir)).code, 0);
  assert.equal((await tensio(['convert', 'in.safetensors', INDEX, '--part', '2/3'], dir)).code, 0);
  const mixed = tensioSync(['convert', '--finish', INDEX], dir);
  assert.equal(mixed.code, 1);
  assert.equal(cliErrorCode(mixed.stderr), 'INVALID_STATE');
  assert.match(mixed.stderr, /of 2 parts: 1; of 3 parts: 2/);
  for (const args of [
    ['convert', 'in.safetensors', INDEX, '--part', '3/2'],
    ['convert', 'in.safetensors', INDEX, '--part', 'two'],
    ['convert', 'in.safetensors', 'out.safetensors', '--part', '1/2'],
    ['convert', 'in.safetensors', 'out.npz', '--part', '1/2'],
    ['convert', 'in.safetensors', INDEX, '--part', '1/2', '--max-shard-size', '1MB'],
    ['convert', '--finish', 'in.safetensors', INDEX],
    ['convert', '--finish', INDEX, '--dtype', 'float16'],
    ['convert', 'in.safetensors', INDEX, '--skip-checksums'],
    ['convert', 'in.safetensors'],
  ]) {
    const run = tensioSync(args, dir);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(cliErrorCode(run.stderr), 'USAGE', args.join(' '));
  }
  const help = tensioSync(['convert', '--help'], dir);
  assert.equal(help.code, 0);
  for (const runner of [/JOB_COMPLETION_INDEX/, /SLURM_ARRAY_TASK_ID/, /xargs -P/, /--finish/]) assert.match(help.stdout, runner);
});

test('cli split: --finish-when-done, 3 processes at once: the last to end writes the index', async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.safetensors'));
  const runs = await Promise.all([1, 2, 3].map((index) => tensio(['convert', 'in.safetensors', INDEX, '--part', `${index}/3`, '--finish-when-done', '--json'], dir)));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  const finished = runs.map((run) => (JSON.parse(run.stdout) as { finished?: { parts: number; tensors: number } }).finished).filter((item) => item !== undefined);
  assert.ok(finished.length >= 1, 'at least the last part finished');
  for (const item of finished) assert.deepEqual([item.parts, item.tensors], [3, 24]);
  await using reader = await openTensorFile(join(dir, INDEX));
  assert.equal(reader.tensors.length, 24);
  const usage = tensioSync(['convert', '--finish', INDEX, '--finish-when-done'], dir);
  assert.equal(usage.code, 2);
});
