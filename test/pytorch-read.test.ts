import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { assertMatchesFixture, TORCH_FIXTURE_SCRIPT } from './helpers/pytorch-fixtures.js';
import { debianTorchSkip, runDebianPython } from './helpers/debian-torch.js';
import { bytesSource, convert, isTensioError, openTensorFile, memorySink } from '../src/index.js';
import { pytorchOpen } from '../src/formats/pytorch/index.js';
import { zipCreateWriter, zipOpen } from '../src/zip/index.js';

async function torchFixtures(t: Parameters<typeof tempDir>[0], run: (script: string, args: string[]) => string): Promise<{ dir: string; files: string[] }> {
  const dir = await tempDir(t);
  const files = JSON.parse(run(TORCH_FIXTURE_SCRIPT, [dir]).trim().split('\n').pop()!) as string[];
  return { dir, files };
}

// torch takes seconds to import: the 2.13 fixtures are written once for the whole file.
let shared: Promise<{ dir: string; files: string[] }> | undefined;
function torch213Fixtures(): Promise<{ dir: string; files: string[] }> {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'tensio-pytorch-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    shared = Promise.resolve({ dir, files: JSON.parse(runPython(TORCH_FIXTURE_SCRIPT, [dir]).stdout.trim().split('\n').pop()!) as string[] });
  }
  return shared;
}

test('reads every checkpoint torch 2.13 writes: dtypes, views, tied, nested, legacy, empty, bare', { skip: oracleSkip('torch') }, async (t) => {
  const { dir, files } = await torch213Fixtures();
  assert.equal(files.length, 7);
  for (const file of files) {
    await using reader = await pytorchOpen(join(dir, file));
    const checked = await assertMatchesFixture(reader, dir, file);
    assert.ok(checked > 0, file);
    assert.equal(reader.tensors.length, checked, `${file}: no unexpected tensors`);
  }

  await using dtypes = await pytorchOpen(join(dir, 'dtypes.pt'));
  assert.equal(dtypes.info('float8_e4m3fn').formatDtype, 'torch.float8_e4m3fn');
  assert.equal(dtypes.info('float32').formatDtype, 'torch.FloatStorage');
  assert.equal(dtypes.tensors.length, 17);

  await using views = await pytorchOpen(join(dir, 'views.pt'));
  assert.equal(views.info('t').extras?.contiguous, false);
  assert.deepEqual(views.info('t').extras?.stride, [1, 6]);
  assert.equal(views.info('flat_offset').extras?.storageOffset, 5);
  assert.ok((views.info('base').extras?.sharedWith as string[]).includes('t'));
  const slice = await views.read('slice', { slice: { start: 1 } });
  assert.deepEqual(slice.shape, [1, 3]);

  await using nested = await pytorchOpen(join(dir, 'nested.pt'));
  assert.equal(nested.metadata.epoch, 3);
  assert.equal(nested.metadata.name, 'run1');
  assert.deepEqual(nested.metadata.best, { loss: 0.5, flags: [true, null] });
  assert.equal((nested.metadata['optimizer.param_groups'] as Array<{ lr: number }>)[0]!.lr, 0.001);
  assert.equal(nested.info('param').extras?.parameter, true);

  await using sub = await pytorchOpen(join(dir, 'nested.pt'), { key: 'state_dict' });
  assert.deepEqual(sub.tensors.map((info) => info.name), ['0.weight', '0.bias', '2.weight', '2.bias']);
  await assert.rejects(pytorchOpen(join(dir, 'nested.pt'), { key: 'nope' }), (err) => isTensioError(err, 'NOT_FOUND'));

  await using bare = await openTensorFile(join(dir, 'bare.pt'));
  assert.equal(bare.format, 'pytorch');
  assert.deepEqual(bare.tensors.map((info) => info.name), ['tensor']);
});

test('tied weights: reported as shared, and dropDuplicates keeps the first name', { skip: oracleSkip('torch') }, async () => {
  const { dir } = await torch213Fixtures();
  await using all = await pytorchOpen(join(dir, 'tied.pt'));
  assert.deepEqual(all.tensors.map((info) => info.name), ['emb.weight', 'head.weight']);
  assert.equal(all.info('head.weight').extras?.tied, true);
  assert.deepEqual(all.info('emb.weight').extras?.sharedWith, ['head.weight']);
  await using deduped = await pytorchOpen(join(dir, 'tied.pt'), { dropDuplicates: true });
  assert.deepEqual(deduped.tensors.map((info) => info.name), ['emb.weight']);
  assert.equal(deduped.metadata['head.weight'], 'emb.weight');
  await using chooser = await pytorchOpen(join(dir, 'tied.pt'), { dropDuplicates: (removed) => removed.name !== 'head.weight' });
  assert.equal(chooser.tensors.length, 2);
});

test('convert .pt to .safetensors: tied weights written once by default (issue 8 feature 1), every name with keepDuplicates', { skip: oracleSkip('torch') }, async (t) => {
  const { dir } = await torch213Fixtures();
  const out = await tempDir(t);
  await convert(join(dir, 'tied.pt'), join(out, 'all.safetensors'), { keepDuplicates: true });
  await using all = await openTensorFile(join(out, 'all.safetensors'));
  assert.deepEqual(all.tensors.map((info) => info.name).sort(), ['emb.weight', 'head.weight']);
  assert.deepEqual((await all.read('head.weight')).data, (await all.read('emb.weight')).data);
  await convert(join(dir, 'tied.pt'), join(out, 'dedup.safetensors'));
  await using dedup = await openTensorFile(join(out, 'dedup.safetensors'));
  assert.deepEqual(dedup.tensors.map((info) => info.name), ['emb.weight']);
  assert.equal(dedup.metadata['head.weight'], 'emb.weight');
  // Strided views become contiguous tensors.
  await convert(join(dir, 'views.pt'), join(out, 'views.safetensors'));
  await using views = await openTensorFile(join(out, 'views.safetensors'));
  await using source = await pytorchOpen(join(dir, 'views.pt'));
  for (const info of source.tensors) assert.deepEqual((await views.read(info.name)).data, (await source.read(info.name)).data, info.name);
});

test('big-endian archives are byte-swapped on read (byteorder record)', { skip: oracleSkip('torch') }, async () => {
  const { dir } = await torch213Fixtures();
  // Every dtype, plus strided views (gather and swap together).
  for (const file of ['dtypes.pt', 'views.pt']) await checkBigEndian(join(dir, file), file.replace('.pt', ''));
});

async function checkBigEndian(path: string, root: string): Promise<void> {
  await using little = await pytorchOpen(path);
  // Re-pack the same archive with byteorder=big and every storage record byte-swapped.
  const archive = await zipOpen(bytesSource(await readFile(path)));
  const sink = memorySink();
  const zip = zipCreateWriter(sink);
  const swapBy: Record<string, number> = {};
  for (const info of little.tensors) {
    const size = { complex64: 4, complex128: 8 }[info.dtype as string] ?? info.byteLength / Math.max(1, info.shape.reduce((a, b) => a * b, 1));
    swapBy[`${root}/data/${String(info.extras?.storageKey)}`] = size;
  }
  for (const entry of archive.entries) {
    let data = await archive.readEntry(entry);
    if (entry.name.endsWith('/byteorder')) data = new TextEncoder().encode('big');
    const unit = swapBy[entry.name];
    if (unit) {
      data = data.slice();
      for (let at = 0; at < data.byteLength; at += unit) data.subarray(at, at + unit).reverse();
    }
    await zip.add(entry.name, data, { alignment: 64 });
  }
  await zip.close();
  await using big = await pytorchOpen(bytesSource(sink.bytes()));
  for (const info of little.tensors) {
    assert.deepEqual((await big.read(info.name)).data, (await little.read(info.name)).data, info.name);
  }
}

test('torch 1.13 (Debian) checkpoints read: zip and legacy', { skip: debianTorchSkip() }, async (t) => {
  const { dir, files } = await torchFixtures(t, runDebianPython);
  for (const file of files) {
    await using reader = await pytorchOpen(join(dir, file));
    assert.ok((await assertMatchesFixture(reader, dir, file)) > 0, file);
  }
});

test('a .pt file given as bytes works like a path, and .bin is detected', { skip: oracleSkip('torch') }, async (t) => {
  const { dir } = await torch213Fixtures();
  const out = await tempDir(t);
  const bytes = await readFile(join(dir, 'nested.pt'));
  await writeFile(join(out, 'x.bin'), bytes);
  await using fromBytes = await pytorchOpen(bytesSource(bytes));
  await using fromBin = await openTensorFile(join(out, 'x.bin'));
  assert.equal(fromBin.format, 'pytorch');
  assert.deepEqual((await fromBytes.read('param')).data, (await fromBin.read('param')).data);
});
