import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { createTensor } from '../src/core/tensor.js';
import { fromFloat32Array } from '../src/core/float-convert.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const model = {
  'embed.weight': createTensor('float32', [3, 4], new Float32Array(12).map((_, i) => i / 2)),
  'layer.norm': fromFloat32Array(new Float32Array([1, 2, 3]), 'bfloat16', [3]),
  'ids': createTensor('int64', [2], new BigInt64Array([7n, -7n])),
  'mask': createTensor('bool', [4], [true, false, false, true]),
};

test('inspect --json prints exactly one object with the documented keys', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), model, { metadata: { format: 'pt', note: 'hello' } });
  const run = await runCli(['inspect', 'm.safetensors', '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trimEnd().split('\n').length, 1, 'one line of JSON');
  const doc = JSON.parse(run.stdout) as Record<string, unknown>;
  for (const key of ['format', 'path', 'size', 'metadata', 'tensors']) assert.ok(key in doc, key);
  assert.equal(doc.format, 'safetensors');
  assert.equal(doc.path, 'm.safetensors');
  assert.equal(doc.size, (await stat(join(dir, 'm.safetensors'))).size);
  assert.deepEqual(doc.metadata, { format: 'pt', note: 'hello' });
  const tensors = doc.tensors as Record<string, unknown>[];
  assert.equal(tensors.length, 4);
  for (const entry of tensors) assert.deepEqual(Object.keys(entry).sort(), ['byteLength', 'dtype', 'name', 'shape']);
  const byName = Object.fromEntries(tensors.map((entry) => [entry.name, entry]));
  assert.deepEqual(byName['embed.weight'], { name: 'embed.weight', dtype: 'float32', shape: [3, 4], byteLength: 48 });
  assert.deepEqual(byName['layer.norm'], { name: 'layer.norm', dtype: 'bfloat16', shape: [3], byteLength: 6 });
  assert.deepEqual(byName.ids, { name: 'ids', dtype: 'int64', shape: [2], byteLength: 16 });
  assert.deepEqual(byName.mask, { name: 'mask', dtype: 'bool', shape: [4], byteLength: 4 });
  const totals = doc.totals as { tensors: number; parameters: number; bytes: number; dtypes: Record<string, { count: number; parameters: number; bytes: number }> };
  assert.equal(totals.tensors, 4);
  assert.equal(totals.parameters, 12 + 3 + 2 + 4);
  assert.equal(totals.bytes, 48 + 6 + 16 + 4);
  assert.deepEqual(totals.dtypes.int64, { count: 1, parameters: 2, bytes: 16 });
});

test('inspect prints format, metadata, every tensor and a dtype breakdown', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), model, { metadata: { note: 'hello' } });
  const run = await runCli(['inspect', join(dir, 'm.safetensors')]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^format\s+safetensors$/m);
  assert.match(run.stdout, /^parameters\s+21$/m);
  assert.match(run.stdout, /^\s+note\s+hello$/m);
  assert.match(run.stdout, /^\s+embed\.weight\s+float32\s+\[3, 4\]\s+48$/m);
  assert.match(run.stdout, /^\s+layer\.norm\s+bfloat16\s+\[3\]\s+6$/m);
  assert.match(run.stdout, /^dtypes$/m);
  assert.match(run.stdout, /^\s+bool\s+1\s+4\s+4 B$/m);
});

test('inspect of a file that is not a tensor file exits 1 with a code', async (t) => {
  const dir = await tempDir(t);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'notes.md'), 'just some text, not tensors');
  const run = await runCli(['inspect', 'notes.md'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'UNKNOWN_FORMAT');
  // `.txt` is a tensor format (NumPack's from_txt): words in it are refused when opened,
  // naming the line and column, not reported as an array.
  await writeFile(join(dir, 'notes.txt'), 'just some text, not tensors');
  const txt = await runCli(['inspect', 'notes.txt'], { cwd: dir });
  assert.equal(txt.code, 1);
  assert.equal(cliErrorCode(txt.stderr), 'INVALID_VALUE');
  assert.match(txt.stderr, /line 1, column 1/);
});

test('inspect of a truncated safetensors file exits 1 with a code, not a crash', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.safetensors');
  await writeWithFormat('safetensors', path, model);
  const { truncate } = await import('node:fs/promises');
  await truncate(path, (await stat(path)).size - 5);
  const run = await runCli(['inspect', path]);
  assert.equal(run.code, 1);
  assert.ok(cliErrorCode(run.stderr), run.stderr);
  assert.notEqual(cliErrorCode(run.stderr), 'INTERNAL');
});

test('inspect of a NumPack store shows logical shapes and deleted rows', async (t) => {
  const dir = await tempDir(t);
  const { NumPack } = await import('../src/npk/numpack.js');
  const store = await NumPack.open(join(dir, 'data.npk'), { dropIfExists: true });
  try {
    await store.save({ rows: createTensor('float32', [5, 2], new Float32Array(10).map((_, i) => i)) });
    await store.drop('rows', [1, 3]);
  } finally {
    await store.close();
  }
  const run = await runCli(['inspect', 'data.npk'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^format\s+npk$/m);
  assert.match(run.stdout, /^\s+rows\s+float32\s+\[3, 2\]\s+24\s+physical \[5, 2\], 2 deleted rows$/m);
  const json = await runCli(['inspect', 'data.npk', '--json'], { cwd: dir });
  const doc = JSON.parse(json.stdout) as { format: string; tensors: unknown[] };
  assert.equal(doc.format, 'npk');
  assert.deepEqual(doc.tensors, [{ name: 'rows', dtype: 'float32', shape: [3, 2], byteLength: 24 }]);
});

test('inspect of a sharded checkpoint shows one model from the index or the first shard', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('safetensors', join(dir, 'model.safetensors.index.json'), model, { formatOptions: { maxShardBytes: 50 } });
  const { readdir } = await import('node:fs/promises');
  const shards = (await readdir(dir)).filter((name) => /^model-\d+-of-\d+\.safetensors$/.test(name)).sort();
  assert.ok(shards.length >= 2, `several shards written: ${shards.join(', ')}`);
  for (const entry of ['model.safetensors.index.json', shards[0]!]) {
    const run = await runCli(['inspect', entry, '--json'], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as { format: string; tensors: { name: string }[] };
    assert.equal(doc.format, 'safetensors');
    assert.deepEqual(doc.tensors.map((entry) => entry.name).sort(), Object.keys(model).sort(), entry);
  }
});

test('inspect of a table: columns with Parquet footer min/max; --stats reads every value (Arrow: none in the file), --json "columns"; --stats of a non-table is a usage error', async (t) => {
  const dir = await tempDir(t);
  const values = Float32Array.from({ length: 600 }, (_, i) => (i % 3 === 1 ? -i : i / 2));
  values[4] = NaN; // row 1, col1
  const table = { t: createTensor('float32', [200, 3], values) };
  await writeWithFormat('parquet', join(dir, 't.parquet'), table, { formatOptions: { rowGroupSize: 70 } });
  await writeWithFormat('arrow', join(dir, 't.feather'), table, { formatOptions: { batchRows: 64 } });
  const expected = [0, 1, 2].map((c) => {
    const column = [...values].filter((_, i) => i % 3 === c && !Number.isNaN(values[i]!));
    return { min: Math.min(...column), max: Math.max(...column) };
  });

  const parquet = await runCli(['inspect', 't.parquet', '--json'], { cwd: dir });
  assert.equal(parquet.code, 0, parquet.stderr);
  const fromFooter = (JSON.parse(parquet.stdout) as { columns: Record<string, unknown>[] }).columns;
  assert.deepEqual(fromFooter.map((column) => [column.name, column.min, column.max, column.statistics]), expected.map((e, c) => [`col${c}`, e.min, e.max, 'file']));
  const text = await runCli(['inspect', 't.parquet'], { cwd: dir });
  assert.match(text.stdout, /columns \(3; min\/max from the file's statistics/);

  const arrow = await runCli(['inspect', 't.feather', '--json'], { cwd: dir });
  const noStats = (JSON.parse(arrow.stdout) as { columns: Record<string, unknown>[] }).columns;
  assert.ok(noStats.every((column) => column.min === undefined && column.statistics === undefined), 'Arrow files record no min/max');
  const read = await runCli(['inspect', 't.feather', '--json', '--stats'], { cwd: dir });
  assert.equal(read.code, 0, read.stderr);
  const readColumns = (JSON.parse(read.stdout) as { columns: Record<string, unknown>[] }).columns;
  assert.deepEqual(readColumns.map((column) => [column.min, column.max, column.count, column.nanCount, column.statistics]), expected.map((e, c) => [e.min, e.max, 200, c === 1 ? 1 : 0, 'read']));
  const readText = await runCli(['inspect', 't.feather', '--stats'], { cwd: dir });
  assert.match(readText.stdout, /columns \(3; min\/max read from every value\)\n +NAME +TYPE +NULLS +MIN +MAX +NAN/);

  await writeWithFormat('safetensors', join(dir, 'm.safetensors'), table);
  const refused = await runCli(['inspect', 'm.safetensors', '--stats'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--stats computes per-column statistics of tables/);
});
