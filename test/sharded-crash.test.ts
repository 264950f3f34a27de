/**
 * Issue 16: overwriting a sharded safetensors checkpoint publishes as a SET. A child
 * process rewrites the checkpoint and SIGKILLs itself right after publish step k
 * (TENSIO_TEST_CRASH_AFTER=sharded-publish:k), for EVERY k until a run completes.
 * After each kill, the checkpoint read through its index (and through the folder) is
 * the old model or the new one in full, never a mix; `verify` calls it sound, and
 * reports the unreferenced shards left behind as warnings. The old model is seen up
 * to the commit point and the new one from then on; a later write cleans up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor, openTensorFile, verifyTensorFile, type Tensor } from '../src/index.js';
import { safetensorsOpen, safetensorsVerify, safetensorsWriteSharded } from '../src/formats/safetensors/index.js';
import { tempDir } from './helpers/temp.js';

const TENSOR_COUNT = 6;
const TENSOR_BYTES = 40;

/** Generation `g`'s tensors: every byte of tensor i is g * 50 + i, so any mix is visible. */
function generation(g: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (let i = 0; i < TENSOR_COUNT; i++) out[`t${i}`] = createTensor('uint8', [TENSOR_BYTES], new Uint8Array(TENSOR_BYTES).fill(g * 50 + i));
  return out;
}

const CHILD = `
import { createTensor } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
import { safetensorsWriteSharded } from ${JSON.stringify(new URL('../src/formats/safetensors/index.ts', import.meta.url).href)};
const [folder, maxShardBytes] = process.argv.slice(2);
const tensors = {};
for (let i = 0; i < ${TENSOR_COUNT}; i++) tensors['t' + i] = createTensor('uint8', [${TENSOR_BYTES}], new Uint8Array(${TENSOR_BYTES}).fill(2 * 50 + i));
await safetensorsWriteSharded(folder, tensors, { maxShardBytes: Number(maxShardBytes), crc32: true, metadata: { generation: 'new' } });
process.stdout.write('done\\n');
`;

/** Runs the child; resolves 'killed' when the hook fired, 'done' when it finished. */
function runChild(script: string, folder: string, maxShardBytes: number, crashAfter: number): Promise<'killed' | 'done'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, folder, String(maxShardBytes)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, TENSIO_TEST_CRASH_AFTER: `sharded-publish:${crashAfter}` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0 && stdout.includes('done')) resolve('done');
      else reject(new Error(`child failed (${code}, ${signal}): ${stderr}`));
    });
  });
}

/** Which generation a reader holds in full: 1 (old) or 2 (new); fails on any mix. */
async function generationOf(path: string): Promise<number> {
  const reader = await safetensorsOpen(path);
  try {
    assert.deepEqual(reader.tensors.map((info) => info.name).sort(), Object.keys(generation(1)).sort(), `tensor list via ${path}`);
    const seen = new Set<number>();
    for (const info of reader.tensors) {
      const data = (await reader.read(info.name)).data;
      const i = Number(info.name.slice(1));
      const g = (data[0]! - i) / 50;
      assert.ok(g === 1 || g === 2, `${info.name} holds bytes of no generation`);
      assert.ok(data.every((byte) => byte === data[0]), `${info.name} is torn`);
      seen.add(g);
    }
    assert.equal(seen.size, 1, `a mix of generations via ${path}: ${[...seen].join(', ')}`);
    return [...seen][0]!;
  } finally {
    await reader.close();
  }
}

interface Scenario {
  readonly name: string;
  /** Writes the old checkpoint into an empty folder. */
  setup(folder: string): Promise<void>;
  /** The new write's shard limit. */
  readonly newMaxShardBytes: number;
  /** What the folder holds after a complete run. */
  readonly finalFiles: readonly string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: '3 shards over 3 shards (same names: the new set takes 6-digit names)',
    setup: async (folder) => { await safetensorsWriteSharded(folder, generation(1), { maxShardBytes: 100, metadata: { generation: 'old' } }); },
    newMaxShardBytes: 100,
    finalFiles: ['model-000001-of-000003.safetensors', 'model-000002-of-000003.safetensors', 'model-000003-of-000003.safetensors', 'model.safetensors.index.json'],
  },
  {
    name: '2 shards over 3 shards',
    setup: async (folder) => { await safetensorsWriteSharded(folder, generation(1), { maxShardBytes: 100, metadata: { generation: 'old' } }); },
    newMaxShardBytes: 150,
    finalFiles: ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'],
  },
  {
    name: '3 shards over one model.safetensors',
    setup: async (folder) => { await safetensorsWriteSharded(join(folder, 'model.safetensors'), generation(1), { metadata: { generation: 'old' } }); },
    newMaxShardBytes: 100,
    finalFiles: ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json'],
  },
  {
    name: 'one file over 3 shards',
    setup: async (folder) => { await safetensorsWriteSharded(folder, generation(1), { maxShardBytes: 100, metadata: { generation: 'old' } }); },
    newMaxShardBytes: 10_000,
    finalFiles: ['model.safetensors'],
  },
];

for (const scenario of SCENARIOS) {
  test(`sharded publish crash safety: ${scenario.name}: SIGKILL after every step leaves the old model or the new, never a mix`, async (t) => {
    const root = await tempDir(t);
    const script = join(root, 'child.mts');
    await writeFile(script, CHILD);
    const folder = join(root, 'ckpt');
    const seen: number[] = [];
    let strayReports = 0;
    for (let step = 0; ; step++) {
      assert.ok(step < 50, 'the publish has a bounded number of steps');
      await rm(folder, { recursive: true, force: true });
      await scenario.setup(folder);
      const outcome = await runChild(script, folder, scenario.newMaxShardBytes, step);
      const files = (await readdir(folder)).filter((name) => !name.startsWith('.'));
      const hasIndex = files.includes('model.safetensors.index.json');
      const viaIndex = await generationOf(hasIndex ? join(folder, 'model.safetensors.index.json') : join(folder, 'model.safetensors'));
      assert.equal(await generationOf(folder), viaIndex, `step ${step}: the folder reads what the index reads`);
      seen.push(viaIndex);
      const report = await safetensorsVerify(folder);
      assert.equal(report.ok, true, `step ${step}: verify after the kill: ${JSON.stringify(report.problems)}`);
      assert.equal(report.tensors, TENSOR_COUNT);
      if (hasIndex) {
        const index = await safetensorsOpen(join(folder, 'model.safetensors.index.json'));
        const named = new Set(index.tensors.map((info) => info.extras!.shard as string));
        await index.close();
        const strays = files.filter((name) => name.endsWith('.safetensors') && !named.has(name));
        assert.equal(report.warnings?.length ?? 0, strays.length, `step ${step}: each stray shard is reported (${strays.join(', ')})`);
        strayReports += strays.length;
      }
      if (outcome === 'done') {
        assert.deepEqual(files.sort(), [...scenario.finalFiles].sort(), 'a complete run leaves exactly the new set');
        assert.equal(report.warnings, undefined);
        break;
      }
    }
    // Old up to the commit point, new from then on, and both were seen.
    const firstNew = seen.indexOf(2);
    assert.ok(firstNew > 0, `old model before the commit, new after: ${seen.join('')}`);
    assert.ok(seen.slice(firstNew).every((g) => g === 2) && seen.slice(0, firstNew).every((g) => g === 1), `generations by step: ${seen.join('')}`);
    assert.ok(strayReports > 0, 'kills between the renames left strays that verify reported');
    // The next write of the same prefix removes whatever a killed run left behind.
    await rm(folder, { recursive: true, force: true });
    await scenario.setup(folder);
    await runChild(script, folder, scenario.newMaxShardBytes, 1);
    await safetensorsWriteSharded(folder, generation(3), { maxShardBytes: 100 });
    const after = (await readdir(folder)).filter((name) => !name.startsWith('.'));
    const report = await safetensorsVerify(folder);
    assert.equal(report.ok, true);
    assert.equal(report.warnings, undefined, `no strays after a complete write: ${after.join(', ')}`);
    assert.equal(after.length, 4);
  });
}

test('two (six) concurrent writers of one sharded prefix: one publishes, the others get LOCKED; the result is the winner\'s, sound', async (t) => {
  const dir = await tempDir(t);
  const folder = join(dir, 'ckpt');
  const child = fileURLToPath(new URL('./helpers/sharded-writer-child.ts', import.meta.url));
  const start = Date.now() + 6000; // children load slowly (tsx): all try at the same instant
  const writers = Array.from({ length: 6 }, (_, id) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, folder, String(id + 1), String(start)], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (text: string) => { out += text; });
    const first = new Promise<string>((resolve) => {
      const check = () => (out.includes('\n') ? resolve(out.split('\n')[0]!) : undefined);
      proc.stdout!.on('data', check);
      proc.on('exit', () => resolve(out.split('\n')[0] ?? `exited: ${out}`));
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    return { id: id + 1, proc, first, exited, output: () => out };
  });
  // Every writer answers while all are still open; then all go on.
  const firsts = await Promise.all(writers.map((w) => w.first));
  for (const w of writers) w.proc.stdin!.end();
  await Promise.all(writers.map((w) => w.exited));
  t.diagnostic(writers.map((w) => `${w.id}: ${w.output().trim().replace(/\n/g, ', ')}`).join('; '));
  assert.equal(firsts.filter((line) => line === 'created').length, 1, `exactly one writer holds the prefix: ${JSON.stringify(firsts)}`);
  assert.equal(firsts.filter((line) => line === 'LOCKED').length, 5, JSON.stringify(firsts));
  const winner = writers[firsts.indexOf('created')]!;
  assert.match(winner.output(), /published/);
  const index = join(folder, 'model.safetensors.index.json');
  const report = await verifyTensorFile(index);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  const reader = await openTensorFile(index);
  try {
    for (const name of ['a', 'b', 'c']) assert.deepEqual([...new Float32Array((await reader.read(name)).data.slice().buffer)], new Array(64).fill(winner.id), name);
  } finally {
    await reader.close();
  }
  // Released on publish: the next writer goes ahead.
  await safetensorsWriteSharded(folder, { a: createTensor('float32', [1], new Float32Array([7])) }, { maxShardBytes: 256 });
  assert.deepEqual((await readdir(folder)).filter((name) => name.includes('lock')), []);
});
