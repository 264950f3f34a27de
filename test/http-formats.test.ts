/**
 * Every format read from a URL (library and CLI), and what it costs: requests and
 * bytes counted by the local test server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { convert, openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import { safetensorsSerialize } from '../src/formats/safetensors/write.js';
import { npySerialize } from '../src/formats/npy/write.js';
import { npzWrite } from '../src/formats/npz/write.js';
import { pytorchWrite } from '../src/formats/pytorch/write.js';
import { NumPack } from '../src/npk/numpack.js';
import type { Tensor } from '../src/core/tensor.js';
import type { TensorReader } from '../src/model/types.js';
import { isTensioError } from '../src/core/errors.js';
import { startHttpServer, type TestHttpServer } from './helpers/http-server.js';
import { tempDir } from './helpers/temp.js';
import { runCli, cliErrorCode } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';

function pattern(dtype: Tensor['dtype'], shape: number[], seed: number, itemBytes = 4): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * itemBytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return { dtype, shape, data };
}

async function serve(t: { after(fn: () => unknown): void }): Promise<TestHttpServer> {
  const server = await startHttpServer();
  t.after(() => server.close());
  return server;
}

/** Puts every file under `dir` on the server below `prefix/`. */
async function putFolder(server: TestHttpServer, dir: string, prefix: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry as string);
    if ((await stat(path)).isFile()) server.put(`${prefix}/${relative(dir, path).split('\\').join('/')}`, await readFile(path));
  }
}

async function sameTensors(remote: TensorReader, local: TensorReader): Promise<void> {
  assert.deepEqual(remote.tensors.map((t) => [t.name, t.dtype, t.shape]), local.tensors.map((t) => [t.name, t.dtype, t.shape]));
  for (const info of local.tensors) {
    assert.deepEqual((await remote.read(info.name)).data, (await local.read(info.name)).data, info.name);
    if (info.shape.length > 0 && info.shape[0]! > 2) {
      assert.deepEqual((await remote.read(info.name, { slice: { start: 1, end: 3 } })).data, (await local.read(info.name, { slice: { start: 1, end: 3 } })).data, `${info.name} rows 1..3`);
    }
  }
}

test('remote safetensors: inspect of any size takes ≤ 2 requests and ≤ header + 64 KiB', async (t) => {
  const server = await serve(t);
  // small header, 32 MiB of data
  const small = safetensorsSerialize({ big: pattern('float32', [2048, 4096], 1), bias: pattern('float32', [4096], 2) });
  server.put('small-header.safetensors', small);
  // a 400 KB header (5000 tensors), 8 MiB of data
  const many: Record<string, Tensor> = {};
  for (let i = 0; i < 5000; i++) many[`model.layers.${i}.self_attn.q_proj.weight_with_a_long_name`] = pattern('float16', [16, 26], i, 2);
  const manyBytes = safetensorsSerialize(many);
  server.put('big-header.safetensors', manyBytes);
  for (const [name, bytes] of [['small-header.safetensors', small], ['big-header.safetensors', manyBytes]] as const) {
    const headerBytes = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    server.resetCounters();
    const run = await runCli(['inspect', server.url('range', name), '--json']);
    assert.equal(run.code, 0, run.stderr);
    const shown = JSON.parse(run.stdout);
    assert.equal(shown.format, 'safetensors');
    assert.ok(server.counters.requests <= 2, `${name}: ${server.counters.requests} requests`);
    assert.ok(server.counters.bytes <= headerBytes + 65536, `${name}: ${server.counters.bytes} bytes for a ${headerBytes}-byte header`);
    assert.ok(server.counters.bytes < bytes.byteLength / 4, `${name}: not the data`);
  }
});

test('remote safetensors: library reads, CLI verify and convert URL → local', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const tensors = { a: pattern('float32', [300, 50], 3), b: pattern('int64', [10], 4, 8) };
  const file = join(dir, 'm.safetensors');
  await convert(safetensorsSerialize(tensors), file, { writeOptions: { crc32: true } });
  server.put('m.safetensors', await readFile(file));
  {
    await using remote = await openTensorFile(server.url('range', 'm.safetensors'));
    await using local = await openTensorFile(file);
    await sameTensors(remote, local);
  }
  const verified = await runCli(['verify', server.url('range', 'm.safetensors'), '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(JSON.parse(verified.stdout).checksumsVerified, 2);
  const converted = await runCli(['convert', server.url('drop', 'm.safetensors'), 'out.npz'], { cwd: dir });
  assert.equal(converted.code, 0, converted.stderr);
  {
    await using out = await openTensorFile(join(dir, 'out.npz'));
    await using local = await openTensorFile(file);
    await sameTensors(out, local);
  }
  // credentials: from --header, or from the environment
  server.put('private.safetensors', await readFile(file));
  const denied = await runCli(['inspect', server.url('private', 'private.safetensors')]);
  assert.equal(denied.code, 1);
  assert.equal(cliErrorCode(denied.stderr), 'ACCESS_DENIED');
  assert.equal((await runCli(['inspect', server.url('private', 'private.safetensors'), '--header', 'Authorization: Bearer secret'])).code, 0);
  assert.equal((await runCli(['inspect', server.url('private', 'private.safetensors')], { env: { TENSIO_HTTP_TOKEN: 'secret' } })).code, 0);
  // HF_TOKEN goes to Hugging Face hosts only
  assert.equal((await runCli(['inspect', server.url('private', 'private.safetensors')], { env: { HF_TOKEN: 'secret' } })).code, 1);
  assert.equal((await runCli(['inspect', server.url('private', 'private.safetensors'), '--header', 'nonsense'])).code, 2);
  // hostile servers through the CLI: one line, the code, exit 1
  const lying = await runCli(['inspect', server.url('lie-range', 'm.safetensors')]);
  assert.equal(lying.code, 1);
  assert.equal(cliErrorCode(lying.stderr), 'SIZE_MISMATCH');
  const missing = await runCli(['inspect', server.url('range', 'absent.safetensors')]);
  assert.equal(cliErrorCode(missing.stderr), 'NOT_FOUND');
});

test('remote sharded safetensors: the index URL opens its shards by relative URL', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const tensors: Record<string, Tensor> = {};
  for (let i = 0; i < 6; i++) tensors[`layer${i}.weight`] = pattern('float32', [64, 64], i);
  await convert(safetensorsSerialize(tensors), join(dir, 'ckpt', 'model.safetensors.index.json'), { writeOptions: { maxShardBytes: 40_000, crc32: true } });
  await putFolder(server, join(dir, 'ckpt'), 'my model');
  const url = server.url('range', 'my%20model/model.safetensors.index.json');
  {
    await using remote = await openTensorFile(url);
    await using local = await openTensorFile(join(dir, 'ckpt', 'model.safetensors.index.json'));
    assert.ok((await readdir(join(dir, 'ckpt'))).length >= 4, 'several shards');
    await sameTensors(remote, local);
  }
  const report = await verifyTensorFile(url);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 6);
  const inspected = await runCli(['inspect', url, '--json']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal(JSON.parse(inspected.stdout).tensors.length, 6);
  // a shard missing on the server
  server.put('broken/model.safetensors.index.json', await readFile(join(dir, 'ckpt', 'model.safetensors.index.json')));
  await assert.rejects(openTensorFile(server.url('range', 'broken/model.safetensors.index.json')), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('remote .npy and .npz: inspect transfers headers and the central directory, not the data', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const x = pattern('float32', [1024, 2048], 5);
  server.put('x.npy', npySerialize(x));
  const arrays = { a: pattern('float32', [1024, 1024], 6), b: pattern('int16', [2048, 1024], 7, 2), c: pattern('float64', [512, 1024], 8, 8) };
  const dataBytes = Object.values(arrays).reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  for (const compress of [false, true]) {
    await npzWrite(join(dir, `${compress}.npz`), arrays, { compress });
    server.put(`${compress}.npz`, await readFile(join(dir, `${compress}.npz`)));
  }
  server.resetCounters();
  assert.equal((await runCli(['inspect', server.url('range', 'x.npy')])).code, 0);
  assert.equal(server.counters.requests, 1);
  assert.ok(server.counters.bytes <= 65536);
  for (const compress of [false, true]) {
    server.resetCounters();
    const run = await runCli(['inspect', server.url('range', `${compress}.npz`), '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).tensors.length, 3);
    console.log(`npz compress=${compress}: ${server.counters.requests} requests, ${server.counters.bytes} bytes`);
    assert.ok(server.counters.bytes < 6 * 65536, `npz (compress ${compress}): ${server.counters.bytes} bytes, ${server.counters.requests} requests, data ${dataBytes}`);
    await using remote = await openTensorFile(server.url('range', `${compress}.npz`));
    await using local = await openTensorFile(join(dir, `${compress}.npz`));
    await sameTensors(remote, local);
    assert.equal((await verifyTensorFile(server.url('range', `${compress}.npz`))).ok, true);
  }
  await using npy = await openTensorFile(server.url('norange', 'x.npy'), { http: { noRangeMaxBytes: 2 ** 20 } });
  assert.deepEqual(npy.tensors[0]!.shape, [1024, 2048]);
  await assert.rejects(npy.read(npy.tensors[0]!.name), (e) => isTensioError(e, 'RANGE_NOT_SUPPORTED'));
});

test('remote .pt (zip written by tensio): inspect reads the directory and data.pkl only', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const tensors = { 'encoder.weight': pattern('float32', [1024, 1024], 9), 'encoder.bias': pattern('float32', [1024], 10) };
  await pytorchWrite(join(dir, 'm.pt'), tensors);
  const bytes = await readFile(join(dir, 'm.pt'));
  server.put('m.pt', bytes);
  server.resetCounters();
  const run = await runCli(['inspect', server.url('range', 'm.pt'), '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).format, 'pytorch');
  console.log(`pt: ${server.counters.requests} requests, ${server.counters.bytes} bytes`);
  assert.ok(server.counters.bytes < 4 * 65536, `${server.counters.bytes} bytes in ${server.counters.requests} requests of a ${bytes.byteLength}-byte file`);
  await using remote = await openTensorFile(server.url('range', 'm.pt'));
  await using local = await openTensorFile(join(dir, 'm.pt'));
  await sameTensors(remote, local);
  assert.equal((await verifyTensorFile(server.url('range', 'm.pt'))).ok, true);
});

test('remote .pt written by torch (zip and legacy)', { skip: oracleSkip('torch') }, async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, torch
torch.manual_seed(0)
sd = {'w': torch.randn(300, 40), 'b': torch.arange(7, dtype=torch.int64), 'h': torch.randn(20, 30).half().t()}
torch.save(sd, sys.argv[1] + '/zip.pt')
torch.save(sd, sys.argv[1] + '/legacy.pt', _use_new_zipfile_serialization=False)
`, [dir]);
  for (const name of ['zip.pt', 'legacy.pt']) {
    server.put(name, await readFile(join(dir, name)));
    await using remote = await openTensorFile(server.url('range', name));
    await using local = await openTensorFile(join(dir, name));
    await sameTensors(remote, local);
    const report = await verifyTensorFile(server.url('range', name));
    assert.equal(report.ok, true, `${name}: ${JSON.stringify(report.problems)}`);
    assert.equal((await runCli(['inspect', server.url('range', name)])).code, 0);
  }
});

test('remote NumPack store: read through the HTTP store (segments, deleted rows)', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const path = join(dir, 'data.npk');
  const store = await NumPack.open(path, { segmentTargetBytes: 4096 });
  await store.save({ rows: pattern('float32', [100, 16], 11), plain: pattern('int32', [50, 3], 12), scalar: { dtype: 'float64', shape: [], data: new Uint8Array(8).fill(1) } });
  await store.drop('rows', [0, 5, 6, 7, 99]);
  await store.close();
  await putFolder(server, path, 'data.npk');
  const url = `${server.origin}/range/data.npk`;
  {
    await using remote = await openTensorFile(url);
    await using local = await openTensorFile(path);
    assert.equal(remote.format, 'npk');
    assert.deepEqual(remote.info('rows').shape, [95, 16]);
    assert.equal(remote.info('rows').extras?.segmented, true);
    await sameTensors(remote, local);
  }
  const inspected = await runCli(['inspect', `${url}/`, '--json']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal((await verifyTensorFile(url)).ok, true);
  const converted = await runCli(['convert', url, join(dir, 'out.safetensors')]);
  assert.equal(converted.code, 0, converted.stderr);
  await assert.rejects(openTensorFile(`${server.origin}/range/absent.npk`), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('bytes in memory and file: URLs open everywhere a path does', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'sub'));
  const bytes = npySerialize(pattern('uint8', [5, 5], 1, 1));
  await writeFile(join(dir, 'sub', 'x.npy'), bytes);
  const run = await runCli(['inspect', `file://${join(dir, 'sub', 'x.npy')}`]);
  assert.equal(run.code, 0, run.stderr);
  await using reader = await openTensorFile(bytes);
  assert.equal(reader.format, 'npy');
});

test('tensio/io helpers read from URLs and bytes', async (t) => {
  const { fromSafetensorsFile, getSafetensorsMetadata, fromNumpy, fromTorchFile, iterSafetensors } = await import('../src/io/index.js');
  const server = await serve(t);
  const dir = await tempDir(t);
  const w = pattern('float32', [8, 4], 13);
  server.put('m.safetensors', safetensorsSerialize({ w }));
  server.put('feat.npy', npySerialize(w));
  const summary = await getSafetensorsMetadata(server.url('private', 'm.safetensors'), { http: { headers: { Authorization: 'Bearer secret' } } });
  assert.deepEqual(summary.tensors.w, { dtype: 'float32', shape: [8, 4] });
  for await (const [name, tensor] of iterSafetensors(server.url('range', 'm.safetensors'))) assert.deepEqual([name, tensor.data], ['w', w.data]);
  await fromSafetensorsFile(server.url('range', 'm.safetensors'), join(dir, 'a.npk'));
  await fromNumpy(server.url('range', 'feat.npy'), join(dir, 'a.npk'));
  await pytorchWrite(join(dir, 'm.pt'), { w });
  await fromTorchFile(await readFile(join(dir, 'm.pt')), join(dir, 'a.npk'));
  await using store = await openTensorFile(join(dir, 'a.npk'));
  assert.deepEqual(store.tensors.map((info) => info.name).sort(), ['feat', 'w']);
  assert.deepEqual((await store.read('feat')).data, w.data);
});

test('remote sharded PyTorch .bin: the index URL opens its shards by relative URL', async (t) => {
  const server = await serve(t);
  const dir = await tempDir(t);
  const a = pattern('float32', [20, 10], 21);
  const b = pattern('float32', [30], 22);
  await pytorchWrite(join(dir, 'pytorch_model-00001-of-00002.bin'), { 'layer.a': a });
  await pytorchWrite(join(dir, 'pytorch_model-00002-of-00002.bin'), { 'layer.b': b });
  const index = { metadata: { total_size: a.data.byteLength + b.data.byteLength }, weight_map: { 'layer.a': 'pytorch_model-00001-of-00002.bin', 'layer.b': 'pytorch_model-00002-of-00002.bin' } };
  await writeFile(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify(index));
  await putFolder(server, dir, 'bin');
  await using remote = await openTensorFile(server.url('range', 'bin/pytorch_model.bin.index.json'));
  await using local = await openTensorFile(join(dir, 'pytorch_model.bin.index.json'));
  assert.equal(remote.format, 'pytorch');
  await sameTensors(remote, local);
  assert.equal((await runCli(['inspect', server.url('range', 'bin/pytorch_model.bin.index.json')])).code, 0);
});
