/**
 * `readEach` (read-ahead across tensors) and `populate` (fault-ahead of mappings): the
 * same bytes as a plain `read()` for every format, mapped or copied, with the addon and
 * in a process without it (TENSIO_NO_MMAP=1); the read-ahead memory bound; a file
 * shortened under a populating mapping ends the loop with SOURCE_CHANGED, not a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor, isMemoryMapped, memoryMapPopulateAvailable, memoryMapStatus, openTensorFile, populateMappedView, readEach, type ReadTensorOptions, type Tensor, type TensorInfo, type TensorReader } from '../src/index.js';
import { isTensioError } from '../src/core/errors.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { MAPPED_FORMATS, writeEveryFormat } from './helpers/every-format.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'mmap-child.ts');
const status = memoryMapStatus();
const NO_POPULATE = status.enabled && memoryMapPopulateAvailable() ? false : `skipped: ${status.enabled ? 'the addon predates populate(); rebuild it with npm run build:native' : status.reason}`;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const runChild = (args: string[], env: Record<string, string> = {}) => runJsonChild(CHILD, args, { env });

test('readEach gives every tensor of every format with the bytes of read(), mapped, copied, populated, and without the addon', async (t) => {
  const dir = await tempDir(t, 'tensio-each-');
  const { written } = await writeEveryFormat(dir);
  assert.ok(written.length >= 5, `only ${written.length} formats written`);
  const expected: Record<string, Record<string, string>> = {};
  const mappedFormats = new Set<string>();
  for (const { format, path } of written) {
    await using reader = await openTensorFile(path);
    const hashes: Record<string, string> = {};
    for (const info of reader.tensors) hashes[info.name] = sha((await reader.read(info.name, { copy: true })).data);
    expected[path] = hashes;
    for (const options of [{}, { copy: true }, { aheadBytes: 0 }, { aheadBytes: 1 << 30, populate: false }]) {
      const seen: string[] = [];
      for await (const { name, tensor } of readEach(reader, options)) {
        seen.push(name);
        assert.equal(sha(tensor.data), hashes[name], `${path} ${name} ${JSON.stringify(options)}`);
        if (isMemoryMapped(tensor.data)) mappedFormats.add(format);
        if ('copy' in options) assert.equal(isMemoryMapped(tensor.data), false, `${path} ${name}: copy: true mapped`);
      }
      assert.deepEqual(seen, reader.tensors.map((info) => info.name), `${path}: order or count`);
    }
    // A populated row slice is the same bytes too.
    const first = reader.tensors[0]!;
    const rows = await reader.read(first.name, { slice: { start: 1, end: 100 }, populate: true });
    assert.equal(sha(rows.data), sha((await reader.read(first.name, { slice: { start: 1, end: 100 }, copy: true })).data), `${path}: populated row slice`);
  }
  if (status.enabled) {
    for (const format of MAPPED_FORMATS) {
      if (written.some((entry) => entry.format === format)) assert.ok(mappedFormats.has(format), `${format}: readEach did not map (mapped: ${[...mappedFormats].join(', ')})`);
    }
  }
  {
    await using reader = await openTensorFile(written[0]!.path);
    await assert.rejects(async () => { for await (const item of readEach(reader, { names: ['missing'] })) void item; }, (error) => isTensioError(error) && error.code === 'NOT_FOUND');
  }

  const paths = written.map((entry) => entry.path);
  for (const env of [{ TENSIO_NO_MMAP: '1' }, {}] as Record<string, string>[]) {
    const child = runChild(['each-hashes', ...paths], env);
    assert.equal(child.mapping, env.TENSIO_NO_MMAP === undefined && status.enabled);
    for (const [path, hashes] of Object.entries(expected)) {
      const got = (child.files as Record<string, Record<string, { mapped: string; copied: string; wasMapped: boolean }>>)[path]!;
      for (const [name, hash] of Object.entries(hashes)) {
        assert.deepEqual([got[name]!.mapped, got[name]!.copied], [hash, hash], `${path} ${name} with ${JSON.stringify(env)}`);
        if (env.TENSIO_NO_MMAP) assert.equal(got[name]!.wasMapped, false);
      }
    }
  }
});

/** A reader over in-memory tensors whose reads finish only when the test says, recording what is in flight. */
function gatedReader(sizes: readonly number[]) {
  const tensors: TensorInfo[] = sizes.map((size, index) => ({ name: `t${index}`, dtype: 'uint8', shape: [size], byteLength: size }) as TensorInfo);
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const optionsSeen: ReadTensorOptions[] = [];
  const reader = {
    format: 'test', size: 0, metadata: {}, tensors,
    info: (name: string) => tensors.find((info) => info.name === name)!,
    has: (name: string) => tensors.some((info) => info.name === name),
    read: (name: string, options: ReadTensorOptions = {}) => {
      started.push(name);
      optionsSeen.push(options);
      const size = tensors.find((info) => info.name === name)!.byteLength;
      return new Promise<Tensor>((done) => release.set(name, () => done(createTensor('uint8', [size], new Uint8Array(size).fill(1)))));
    },
  } as unknown as TensorReader;
  return { reader, started, release, optionsSeen };
}

const turn = () => new Promise((done) => setImmediate(done));

test('readEach reads ahead of the caller, never holding more than aheadBytes (or one larger tensor) not yet handed out', async () => {
  // Units of 1 KiB: the large ones go off the JavaScript thread, the small ones are read synchronously.
  const sizes = [300, 300, 300, 900, 100, 100, 2000, 50].map((size) => size * 1024);
  for (const aheadBytes of [0, 250, 700, 1000, 10_000].map((size) => size * 1024)) {
    const { reader, started, release, optionsSeen } = gatedReader(sizes);
    const iterator = readEach(reader, { aheadBytes });
    const handed: string[] = [];
    let mostPending = 0;
    let mostCount = 0;
    let next = iterator.next();
    for (;;) {
      await turn();
      // Started but not handed out: what the bound covers.
      const pending = started.filter((name) => !handed.includes(name));
      const pendingBytes = pending.reduce((sum, name) => sum + sizes[Number(name.slice(1))]!, 0);
      const largest = Math.max(...pending.map((name) => sizes[Number(name.slice(1))]!));
      assert.ok(pending.length <= 1 || pendingBytes <= aheadBytes, `aheadBytes ${aheadBytes}: ${pendingBytes} bytes in ${pending.join(',')} pending`);
      assert.ok(pendingBytes <= Math.max(aheadBytes, largest));
      mostPending = Math.max(mostPending, pendingBytes);
      mostCount = Math.max(mostCount, pending.length);
      // Finish the oldest read; the iterator hands tensors out in order.
      const oldest = pending[0];
      if (oldest) release.get(oldest)!();
      await turn();
      const result = await Promise.race([next, turn().then(() => undefined)]);
      if (result === undefined) continue;
      if (result.done) break;
      handed.push(result.value.name);
      next = iterator.next();
    }
    assert.deepEqual(handed, sizes.map((_, index) => `t${index}`), `aheadBytes ${aheadBytes}: order`);
    if (aheadBytes === 0) assert.equal(mostCount, 1, 'aheadBytes 0 reads one tensor at a time');
    if (aheadBytes >= 700 * 1024) assert.ok(mostCount >= 2, `aheadBytes ${aheadBytes}: never read ahead (${mostCount})`);
    assert.ok(mostPending > 0);
    // Every read asked for population of mappings; those of 1 MiB and more for I/O off the JavaScript thread.
    assert.ok(optionsSeen.every((options) => options.populate === true));
    assert.deepEqual(started.filter((_, index) => optionsSeen[index]!.offThread === true), ['t6'], 'only the 2000 KiB tensor goes off the JavaScript thread');
  }
  const { reader } = gatedReader([10]);
  await assert.rejects(async () => { for await (const item of readEach(reader, { aheadBytes: -1 })) void item; }, (error) => isTensioError(error) && error.code === 'INVALID_ARGUMENT');
});

test('populateMappedView: a mapped tensor is populated on a worker, other views are refused', { skip: NO_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-each-');
  const path = join(dir, 'p.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('float32', [1 << 18], new Float32Array(1 << 18).fill(1.5)) });
  await using reader = await openTensorFile(path);
  const tensor = await reader.read('a');
  assert.equal(isMemoryMapped(tensor.data), true);
  const method = await populateMappedView(tensor.data, path);
  assert.ok(method === 'populate' || method === 'willneed', String(method));
  assert.equal(new Float32Array(tensor.data.buffer, tensor.data.byteOffset, 4)[3], 1.5);
  assert.equal(populateMappedView((await reader.read('a', { copy: true })).data, path), undefined);
});

test('a file shortened under a populating read-ahead: SOURCE_CHANGED from the loop and from populate, not a crash', { skip: NO_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-each-');
  const path = join(dir, 'cut.safetensors');
  await writeWithFormat('safetensors', path, {
    a: createTensor('uint8', [1 << 20], new Uint8Array(1 << 20).fill(1)),
    b: createTensor('uint8', [1 << 20], new Uint8Array(1 << 20).fill(2)),
    c: createTensor('uint8', [1 << 20], new Uint8Array(1 << 20).fill(3)),
  });
  const result = runChild(['truncate-each', path]);
  assert.equal(result.mapped, true);
  // Which of the two notices the cut first is a race: the explicit populate (EFAULT), or the
  // fault-ahead job still touching 'a' when it was cut (its SIGBUS flags the mapping, and the
  // zeros put there populate without error). The loop must fail the same way after either.
  assert.ok(result.populate === 'SOURCE_CHANGED' || (result.populate === undefined && result.faultedAfterPopulate === true), `populate: ${String(result.populate)}, faulted: ${String(result.faultedAfterPopulate)}`);
  assert.equal(result.error, 'SOURCE_CHANGED');
  // The first tensor was handed out and summed (its cut half read as zeros); the loop stopped at the next step.
  assert.deepEqual(result.given, ['a']);
});

test('populate jobs queued in worker threads that end mid-way neither crash the process nor stall later jobs', { skip: NO_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-each-');
  const path = join(dir, 'w.bin');
  writeFileSync(path, new Uint8Array(1 << 24).fill(5));
  // Each worker queues 20 populate jobs of 16 MiB and is terminated at once, while its queue drains.
  const worker = `const addon = require(${JSON.stringify(status.addonPath)}); const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r');
    for (let i = 0; i < 20; i++) addon.populate(addon.map(fd, 0, 1 << 24)).catch(() => {});
    require('node:worker_threads').parentPort.postMessage('queued');`;
  const main = `const { Worker } = require('node:worker_threads'); const addon = require(${JSON.stringify(status.addonPath)});
    const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r');
    (async () => { const methods = [];
      for (let round = 0; round < 3; round++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        await new Promise((resolve) => w.on('message', resolve));
        const own = addon.populate(addon.map(fd, 0, 1 << 24)); // while the worker's queue drains
        await w.terminate();
        methods.push(await own, await addon.populate(addon.map(fd, 4096, 1 << 20)));
      }
      console.log(JSON.stringify({ methods })); })();`;
  const result = JSON.parse(execFileSync(process.execPath, ['-e', main], { encoding: 'utf8' }).trim()) as { methods: string[] };
  assert.equal(result.methods.length, 6);
  assert.ok(result.methods.every((method) => method === 'populate' || method === 'willneed'), result.methods.join(', '));
});
