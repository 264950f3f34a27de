/**
 * Conversion split into parts (`convert(…, { part })`, `tensio convert --part I/N`,
 * `finishSplitConvert` / `--finish`): the deal into parts, the part manifests, the
 * checks a finish makes, and the result read back tensor by tensor against a
 * single-process conversion of the same input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convert, finishSplitConvert, openTensorFile } from '../src/operations/index.js';
import { isTensioError } from '../src/core/errors.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { assignSplitParts, parseSplitPart } from '../src/operations/split/plan.js';
import { folderStore } from '../src/storage/folder-store.js';
import type { DType } from '../src/core/dtype.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const INDEX = 'model.safetensors.index.json';
const MANIFESTS = '.model.safetensors.parts';

/** A checkpoint of `count` tensors of varied sizes and dtypes, bytes derived from the name. */
async function writeInput(path: string, count = 13): Promise<void> {
  const dtypes: DType[] = ['float32', 'bfloat16', 'float16', 'int64', 'uint8'];
  const sizes: Record<string, number> = { float32: 4, bfloat16: 2, float16: 2, int64: 8, uint8: 1 };
  const tensors: Record<string, { dtype: DType; shape: number[]; data: Uint8Array }> = {};
  for (let i = 0; i < count; i++) {
    const dtype = dtypes[i % dtypes.length]!;
    const shape = [1 + ((i * 37) % 11), 3 + (i % 4) * 5];
    const data = new Uint8Array(shape[0]! * shape[1]! * sizes[dtype]!);
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) & 0x7f; // finite floats
    tensors[`model.layers.${i}.weight`] = { dtype, shape, data };
  }
  await safetensorsWrite(path, tensors, { metadata: { format: 'pt' } });
}

/** Every tensor of two readable outputs, equal name by name (dtype, shape, bytes). */
async function assertSameTensors(actualPath: string, expectedPath: string): Promise<number> {
  await using actual = await openTensorFile(actualPath);
  await using expected = await openTensorFile(expectedPath);
  assert.deepEqual(actual.tensors.map((info) => info.name).sort(), expected.tensors.map((info) => info.name).sort());
  for (const info of expected.tensors) {
    const [a, b] = [await actual.read(info.name), await expected.read(info.name)];
    assert.equal(a.dtype, b.dtype, info.name);
    assert.deepEqual(a.shape, b.shape, info.name);
    assert.deepEqual(Buffer.from(a.data), Buffer.from(b.data), info.name);
  }
  return expected.tensors.length;
}

async function expectCode(promise: Promise<unknown>, code: string, mention?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isTensioError(error), `not a TensioError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (mention) assert.match(error.message, mention);
    return true;
  });
}

/** Runs all `count` parts in this process (one after the other) to `out`. */
async function runParts(input: string, out: string, count: number, options: Parameters<typeof convert>[2] = {}): Promise<void> {
  for (let index = 1; index <= count; index++) await convert(input, out, { ...options, part: { index, count } });
}

test('split: the deal is deterministic, balanced by bytes, largest first, ties to the lower part', () => {
  const items = [8, 4, 4, 3, 3, 2, 0, 0].map((bytes, at) => ({ name: `t${at}`, bytes }));
  const parts = assignSplitParts(items, 3);
  assert.deepEqual(parts, assignSplitParts(items, 3));
  // 8 → p0; 4 → p1; 4 → p2; 3 → p1 (a tie: the lower part); 3 → p2; 2 → p1 (7 = 7: the lower part);
  // the zero-byte ones to the lightest part, p2 (7 bytes).
  const totals = [0, 0, 0];
  items.forEach((item, at) => (totals[parts[at]!]! += item.bytes));
  assert.deepEqual(totals, [8, 9, 7]);
  assert.deepEqual(parts, [0, 1, 2, 1, 2, 1, 2, 2]);
  // Many equal tensors spread evenly by count too (zero-byte ones included).
  const equal = assignSplitParts(Array.from({ length: 10 }, (_, at) => ({ name: `e${at}`, bytes: 0 })), 4);
  assert.deepEqual([0, 1, 2, 3].map((part) => equal.filter((p) => p === part).length), [3, 3, 2, 2]);
  assert.deepEqual(parseSplitPart('2/4'), { index: 2, count: 4 });
  for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2', '-1/3']) assert.throws(() => parseSplitPart(bad), (e: unknown) => isTensioError(e, 'INVALID_ARGUMENT'));
});

test('split: 4 parts then finish equal a single-process conversion tensor by tensor, and read as one checkpoint', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, 'out');
  await mkdir(out);
  const results = [];
  for (let index = 1; index <= 4; index++) results.push(await convert(input, join(out, INDEX), { part: { index, count: 4 }, dtype: { bfloat16: 'float32' } }));
  assert.equal(results.reduce((sum, result) => sum + result.tensors, 0), 13);
  // Before the finish there is no index: the output is not a checkpoint yet.
  await assert.rejects(stat(join(out, INDEX)));
  const finished = await finishSplitConvert(join(out, INDEX));
  assert.equal(finished.parts, 4);
  assert.equal(finished.tensors, 13);
  assert.equal(finished.checksumsVerified, 4);
  assert.deepEqual((await readdir(out)).filter((name) => !name.startsWith('.')).sort(), ['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors', INDEX]);
  // Parts are balanced: no shard more than the largest tensor above the mean.
  const sizes = results.map((result) => result.bytes);
  const mean = sizes.reduce((a, b) => a + b, 0) / 4;
  assert.ok(Math.max(...sizes) - mean <= 11 * 18 * 8, `parts ${sizes.join(', ')}`);
  const single = join(dir, 'single.safetensors');
  await convert(input, single, { dtype: { bfloat16: 'float32' } });
  assert.equal(await assertSameTensors(join(out, INDEX), single), 13);
  const index = JSON.parse(await readFile(join(out, INDEX), 'utf8'));
  assert.equal(index.metadata.format, 'pt');
  assert.equal(index.metadata.total_size, finished.bytes);
});

test('split: a part run again replaces only its own shard; finish is repeatable', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, INDEX);
  await runParts(input, out, 3);
  const before = await Promise.all([1, 2, 3].map((part) => stat(join(dir, `model-0000${part}-of-00003.safetensors`))));
  await convert(input, out, { part: { index: 2, count: 3 } });
  const after = await Promise.all([1, 2, 3].map((part) => stat(join(dir, `model-0000${part}-of-00003.safetensors`))));
  assert.equal(after[0]!.ino, before[0]!.ino);
  assert.equal(after[2]!.ino, before[2]!.ino);
  assert.notEqual(after[1]!.ino, before[1]!.ino, 'part 2 published a new file');
  await finishSplitConvert(out);
  const again = await finishSplitConvert(out);
  assert.equal(again.tensors, 13);
  assert.equal(await assertSameTensors(out, input), 13);
  // A part re-run after the finish needs overwrite, and removes the index before anything else.
  await expectCode(convert(input, out, { part: { index: 1, count: 3 } }), 'ALREADY_EXISTS');
  await convert(input, out, { part: { index: 1, count: 3 }, overwrite: true });
  await assert.rejects(stat(out));
  await finishSplitConvert(out);
  assert.equal(await assertSameTensors(out, input), 13);
});

test('split: finish refuses a missing part, parts of another count or plan, and a changed shard, naming the part', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, INDEX);
  await expectCode(finishSplitConvert(out), 'INCOMPLETE', /no part/);
  await convert(input, out, { part: { index: 1, count: 4 } });
  await convert(input, out, { part: { index: 2, count: 4 } });
  await convert(input, out, { part: { index: 4, count: 4 } });
  await expectCode(finishSplitConvert(out), 'INCOMPLETE', /part 3\/4/);
  // A part run with another N.
  await convert(input, out, { part: { index: 3, count: 3 } });
  await expectCode(finishSplitConvert(out), 'INVALID_STATE', /of 3 parts: 3.*of 4 parts: 1, 2, 4|of 4 parts: 1, 2, 4.*of 3 parts: 3/);
  await folderStore(dir).delete(`${MANIFESTS}/part-00003-of-00003.json`);
  // A part with another plan (another dtype option).
  await convert(input, out, { part: { index: 3, count: 4 }, dtype: 'float16' });
  await expectCode(finishSplitConvert(out), 'INVALID_STATE', /part 3\/4 was converted with another plan/);
  await convert(input, out, { part: { index: 3, count: 4 } });
  // Shards changed after their part finished.
  const shard2 = join(dir, 'model-00002-of-00004.safetensors');
  const original = await readFile(shard2);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 1]! ^= 1;
  await writeFile(shard2, flipped);
  await expectCode(finishSplitConvert(out), 'CHECKSUM_MISMATCH', /part 2\/4/);
  assert.equal((await finishSplitConvert(out, { checksums: false })).checksumsVerified, 0, 'sizes and headers only');
  await folderStore(dir).delete(INDEX);
  await writeFile(shard2, original.subarray(0, original.length - 4));
  await expectCode(finishSplitConvert(out), 'SIZE_MISMATCH', /part 2\/4/);
  await folderStore(dir).delete('model-00002-of-00004.safetensors');
  await expectCode(finishSplitConvert(out), 'NOT_FOUND', /part 2\/4/);
  await assert.rejects(stat(out), 'no index after a refused finish');
  await convert(input, out, { part: { index: 2, count: 4 } });
  await finishSplitConvert(out);
  assert.equal(await assertSameTensors(out, input), 13);
});

test('split: hostile part manifests are refused with a code, naming the part', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, INDEX);
  await runParts(input, out, 2);
  const key = join(dir, MANIFESTS, 'part-00002-of-00002.json');
  const good = JSON.parse(await readFile(key, 'utf8'));
  const other = JSON.parse(await readFile(join(dir, MANIFESTS, 'part-00001-of-00002.json'), 'utf8'));
  const text = (value: unknown) => JSON.stringify(value);
  const cases: [string, string, string][] = [
    ['not JSON', '{"part": 2,', 'INVALID_JSON'],
    ['not UTF-8', '', 'INVALID_UTF8'],
    ['duplicate key', text(good).replace('{', '{"part":2,'), 'DUPLICATE_KEY'],
    ['an array', '[]', 'INVALID_JSON'],
    ['another version', text({ ...good, tensio_split_manifest: 2 }), 'UNSUPPORTED_VERSION'],
    ['part number unlike its name', text({ ...good, part: 1 }), 'INVALID_METADATA'],
    ['a shard outside the folder', text({ ...good, shards: [{ ...good.shards[0], file: '../model-00002-of-00002.safetensors' }] }), 'INVALID_METADATA'],
    ['another part\'s shard', text({ ...good, shards: [{ ...other.shards[0] }] }), 'INVALID_METADATA'],
    ['two shards', text({ ...good, shards: [good.shards[0], good.shards[0]] }), 'INVALID_METADATA'],
    ['a fractional size', text({ ...good, shards: [{ ...good.shards[0], size: 1.5 }] }), 'INVALID_METADATA'],
    ['a huge size', text({ ...good, shards: [{ ...good.shards[0], size: 1e300 }] }), 'INVALID_METADATA'],
    ['no checksum', text({ ...good, shards: [{ ...good.shards[0], checksum: 'abc' }] }), 'INVALID_METADATA'],
    ['an unknown checksum algorithm', text({ ...good, shards: [{ ...good.shards[0], checksum: `md5:${'0'.repeat(32)}` }] }), 'INVALID_METADATA'],
    ['a wrong checksum', text({ ...good, shards: [{ ...good.shards[0], checksum: `xxh3:${'0'.repeat(16)}` }] }), 'CHECKSUM_MISMATCH'],
    ['a wrong SHA-256', text({ ...good, shards: [{ ...good.shards[0], checksum: `sha256:${'0'.repeat(64)}` }] }), 'CHECKSUM_MISMATCH'],
    ['a tensor the shard lacks', text({ ...good, shards: [{ ...good.shards[0], tensors: [...good.shards[0].tensors.slice(1), 'ghost'] }] }), 'INVALID_METADATA'],
    ['a tensor of part 1', text({ ...good, shards: [{ ...good.shards[0], tensors: [...good.shards[0].tensors.slice(1), other.shards[0].tensors[0]] }] }), 'DUPLICATE_NAME'],
    ['a tensor too few', text({ ...good, shards: [{ ...good.shards[0], tensors: good.shards[0].tensors.slice(1) }] }), 'INVALID_METADATA'],
    ['a non-string tensor name', text({ ...good, shards: [{ ...good.shards[0], tensors: [1] }] }), 'INVALID_METADATA'],
    ['another plan', text({ ...good, plan: 'f'.repeat(64) }), 'INVALID_STATE'],
    ['more bytes than the plan', text({ ...good, tensor_bytes: good.plan_bytes + 1 }), 'INVALID_METADATA'],
    ['non-string index metadata', text({ ...good, index_metadata: { format: 1 } }), 'INVALID_METADATA'],
  ];
  for (const [what, body, code] of cases) {
    await writeFile(key, what === 'not UTF-8' ? Buffer.from([0xff, 0xfe]) : body);
    await expectCode(finishSplitConvert(out), code, /part 2\/2/).catch((error: unknown) => {
      throw new Error(`${what}: ${(error as Error).message}`);
    });
    await assert.rejects(stat(out), `${what}: no index written`);
  }
  await writeFile(key, text(good));
  await expectCode(finishSplitConvert(out, { maxManifestBytes: 100 }), 'LIMIT_EXCEEDED', /part 1\/2/);
  await writeFile(join(dir, MANIFESTS, 'part-00003-of-00002.json'), text(good));
  await expectCode(finishSplitConvert(out), 'INVALID_NAME');
  await folderStore(dir).delete(`${MANIFESTS}/part-00003-of-00002.json`);
  await finishSplitConvert(out);
  assert.equal(await assertSameTensors(out, input), 13);
});

test('split: outputs that are not sharded checkpoints are refused; more parts than tensors leave empty parts', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input, 3);
  await expectCode(convert(input, join(dir, 'out.npz'), { part: { index: 1, count: 2 }, dtype: 'float32' }), 'UNSUPPORTED_FEATURE', /safetensors, pytorch/);
  await expectCode(convert(input, join(dir, INDEX), { part: { index: 1, count: 2 }, writeOptions: { maxShardBytes: 100 } }), 'INVALID_ARGUMENT');
  await expectCode(convert(input, join(dir, INDEX), { part: { index: 3, count: 2 } }), 'INVALID_ARGUMENT');
  const out = join(dir, INDEX);
  await runParts(input, out, 5);
  const finished = await finishSplitConvert(out);
  assert.equal(finished.shards.length, 3, 'parts 4 and 5 got no tensor and wrote no shard');
  assert.equal(await assertSameTensors(out, input), 3);
  // A later run with fewer parts (overwrite) replaces the set; the finish removes the old shards.
  await runParts(input, out, 2, { overwrite: true });
  const second = await finishSplitConvert(out);
  assert.deepEqual(second.removedFiles.map((file) => file.slice(dir.length + 1)).sort(), ['model-00001-of-00005.safetensors', 'model-00002-of-00005.safetensors', 'model-00003-of-00005.safetensors']);
  assert.equal(await assertSameTensors(out, input), 3);
});

test('split: a store key as the output (any Store: the folder store here)', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const store = folderStore(join(dir, 'bucket'));
  for (let index = 1; index <= 2; index++) await convert(input, { store, key: `ckpt/${INDEX}` }, { part: { index, count: 2 } });
  const finished = await finishSplitConvert({ store, key: `ckpt/${INDEX}` });
  assert.equal(finished.index, join(dir, 'bucket', 'ckpt', INDEX));
  assert.equal(await assertSameTensors(finished.index, input), 13);
});

test('split: PyTorch .bin shards (pytorch_model.bin.index.json) in parts', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, 'pytorch_model.bin.index.json');
  await runParts(input, out, 3);
  const finished = await finishSplitConvert(out);
  assert.equal(finished.outputFormat, 'pytorch');
  assert.ok(finished.shards.every((file) => /pytorch_model-0000\d-of-00003\.bin$/.test(file)));
  assert.equal(await assertSameTensors(out, input), 13);
});

test('split: finishWhenComplete makes the last part write the index; concurrent parts all end finished', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, INDEX);
  const first = await convert(input, out, { part: { index: 2, count: 3, finishWhenComplete: true } });
  const second = await convert(input, out, { part: { index: 3, count: 3, finishWhenComplete: true } });
  assert.equal(first.finished, undefined);
  assert.equal(second.finished, undefined);
  await assert.rejects(stat(out), 'no index while part 1 is missing');
  const last = await convert(input, out, { part: { index: 1, count: 3, finishWhenComplete: true } });
  assert.equal(last.finished?.parts, 3);
  assert.equal(await assertSameTensors(out, input), 13);
  // Four parts at once, over the finished output: whichever ends last finishes; maybe several.
  const results = await Promise.all([1, 2, 3, 4].map((index) => convert(input, out, { overwrite: true, part: { index, count: 4, finishWhenComplete: true } })));
  assert.ok(results.some((result) => result.finished?.parts === 4));
  assert.equal(await assertSameTensors(out, input), 13);
  assert.equal(JSON.parse(await readFile(out, 'utf8')).weight_map['model.layers.0.weight'].endsWith('-of-00004.safetensors'), true);
  // A finish that refuses (another plan in part 1) throws from the last part, naming it; its own manifest stays.
  await convert(input, join(dir, 'b', INDEX), { part: { index: 1, count: 2 }, dtype: 'float16' });
  await expectCode(convert(input, join(dir, 'b', INDEX), { part: { index: 2, count: 2, finishWhenComplete: true } }), 'INVALID_STATE', /part 2\/2 was written, but finishing the conversion refused: .*part 2\/2 was converted with another plan/);
  await stat(join(dir, 'b', MANIFESTS, 'part-00002-of-00002.json'));
});

test('split: torch.load reads the PyTorch .bin shards of a split conversion through their index', { skip: oracleSkip('torch', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, 'pytorch_model.bin.index.json');
  await runParts(input, out, 3);
  await finishSplitConvert(out);
  const script = `
import json, os, sys, torch
from safetensors.torch import load_file
index_path, input_path = sys.argv[1], sys.argv[2]
index = json.load(open(index_path))
reference = load_file(input_path)
seen = 0
for shard in sorted(set(index['weight_map'].values())):
    state = torch.load(os.path.join(os.path.dirname(index_path), shard), weights_only=True)
    for name, tensor in state.items():
        assert index['weight_map'][name] == shard, name
        assert tensor.dtype == reference[name].dtype and tensor.shape == reference[name].shape, name
        assert torch.equal(tensor.contiguous().view(torch.uint8), reference[name].contiguous().view(torch.uint8)), name
        seen += 1
print(seen, len(reference))
`;
  assert.equal(runPython(script, [out, input]).stdout.trim(), '13 13');
});

test('split: parts record XXH3-64 checksums by default, SHA-256 when asked (sha256sum can check those)', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeInput(input);
  const out = join(dir, INDEX);
  await convert(input, out, { part: { index: 1, count: 2 } });
  await convert(input, out, { part: { index: 2, count: 2, checksum: 'sha256' } });
  const manifest = async (part: number) => JSON.parse(await readFile(join(dir, MANIFESTS, `part-0000${part}-of-00002.json`), 'utf8')).shards[0].checksum as string;
  assert.match(await manifest(1), /^xxh3:[0-9a-f]{16}$/);
  const { createHash } = await import('node:crypto');
  assert.equal(await manifest(2), `sha256:${createHash('sha256').update(await readFile(join(dir, 'model-00002-of-00002.safetensors'))).digest('hex')}`);
  assert.equal((await finishSplitConvert(out)).checksumsVerified, 2);
  await expectCode(convert(input, out, { overwrite: true, part: { index: 1, count: 2, checksum: 'md5' as 'sha256' } }), 'INVALID_ARGUMENT');
});
