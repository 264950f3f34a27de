/**
 * Memory-mapped reads (issue 15): the mapped path gives the same bytes as the read path
 * for every registered format and dtype, and as a process without the addon
 * (TENSIO_NO_MMAP=1); mapped tensors outlive their reader; files over 4 GiB map past
 * 4 GiB; a file shortened under a live mapping does not kill the process; misaligned
 * data, `copy: true` and small tensors are copies. Tests that need the addon skip with
 * the reason `memoryMapStatus()` gives when it was not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor, isMemoryMapped, memoryMapStatus, openTensorFile, typedView } from '../src/index.js';
import { tensorToTypedArray } from '../src/io/index.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { MAPPED_FORMATS, writeEveryFormat } from './helpers/every-format.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'mmap-child.ts');
const status = memoryMapStatus();
const NO_ADDON = status.enabled ? false : `skipped: ${status.reason}`;

const runChild = (args: string[], options: { env?: Record<string, string>; gc?: boolean } = {}) => runJsonChild(CHILD, args, options);

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('mapping status names the path in use and why', () => {
  assert.equal(typeof status.enabled, 'boolean');
  assert.ok(status.reason.length > 20, status.reason);
  const off = runChild(['hashes'], { env: { TENSIO_NO_MMAP: '1' } });
  assert.equal(off.mapping, false);
});

test('mapped read() and stream() equal the copy path and a process without the addon, for every format and dtype', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const { written } = await writeEveryFormat(dir);
  const mappedFormats = new Set<string>();
  for (const { format, path, tensors } of written) {
    await using reader = await openTensorFile(path);
    for (const info of reader.tensors) {
      const expected = Object.values(tensors).length === 1 ? Object.values(tensors)[0]! : tensors[info.name];
      if (!expected) continue;
      const mapped = await reader.read(info.name);
      const copied = await reader.read(info.name, { copy: true });
      assert.equal(isMemoryMapped(copied.data), false, `${format} ${info.name}: copy: true must not map`);
      assert.equal(sha(mapped.data), sha(copied.data), `${format} ${info.name}: mapped and copied bytes differ`);
      // Text and table formats may hold a dtype differently (that is their own tests' business).
      if (MAPPED_FORMATS.has(format) && info.dtype === expected.dtype) assert.equal(sha(mapped.data), sha(expected.data), `${format} ${info.name}: bytes differ from what was written`);
      if (isMemoryMapped(mapped.data)) {
        mappedFormats.add(format);
        // Typed-array views and the tensio/io zero-copy helpers view the mapping in place.
        assert.equal(tensorToTypedArray(mapped).copied, false, `${format} ${info.name}: zero-copy view refused`);
        assert.equal(typedView(mapped).byteLength, mapped.data.byteLength);
      }
      const rows = await reader.read(info.name, { slice: { start: 3, end: 200 } });
      const rowsCopied = await reader.read(info.name, { slice: { start: 3, end: 200 }, copy: true });
      assert.equal(sha(rows.data), sha(rowsCopied.data), `${format} ${info.name}: row slices differ`);
      const streamed = createHash('sha256');
      for await (const chunk of reader.stream(info.name, { chunkBytes: 40_000, reuseBuffer: true })) streamed.update(chunk);
      assert.equal(streamed.digest('hex'), sha(copied.data), `${format} ${info.name}: stream differs`);
    }
  }
  for (const format of MAPPED_FORMATS) {
    if (written.some((entry) => entry.format === format)) assert.ok(mappedFormats.has(format), `${format} tensors were not mapped (mapped: ${[...mappedFormats].join(', ')})`);
  }

  // The same files read by a process without the addon give the same bytes, and nothing there is mapped.
  const expected: Record<string, Record<string, string>> = {};
  for (const { path } of written) {
    await using reader = await openTensorFile(path);
    expected[path] = {};
    for (const info of reader.tensors) expected[path]![info.name] = sha((await reader.read(info.name, { copy: true })).data);
  }
  const off = runChild(['hashes', ...written.map((entry) => entry.path)], { env: { TENSIO_NO_MMAP: '1' } });
  const on = runChild(['hashes', ...written.map((entry) => entry.path)]);
  assert.equal(off.mapping, false);
  assert.equal(on.mapping, true);
  for (const [path, tensors] of Object.entries(expected)) {
    for (const [name, hash] of Object.entries(tensors)) {
      const offEntry = (off.files as Record<string, Record<string, { read: string; stream: string; mapped: boolean }>>)[path]![name]!;
      const onEntry = (on.files as Record<string, Record<string, { read: string; stream: string; mapped: boolean }>>)[path]![name]!;
      assert.deepEqual([offEntry.read, offEntry.stream, offEntry.mapped], [hash, hash, false], `${path} ${name} without the addon`);
      assert.deepEqual([onEntry.read, onEntry.stream], [hash, hash], `${path} ${name} with the addon`);
    }
  }
});

test('a mapped tensor is copy-on-write: writing into it never changes the file', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('float32', [65536], new Float32Array(65536).fill(1.5)) });
  const before = sha(readFileSync(path));
  await using reader = await openTensorFile(path);
  const tensor = await reader.read('a');
  assert.ok(isMemoryMapped(tensor.data));
  (typedView(tensor) as Float32Array).fill(-2);
  assert.equal((typedView(tensor) as Float32Array)[100], -2);
  assert.equal(sha(readFileSync(path)), before);
  assert.equal((typedView(await reader.read('a')) as Float32Array)[100], 1.5);
});

test('small tensors and misaligned data are copies; aligned data is viewed in place', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  // A safetensors file whose data starts at an odd offset (header not padded): float32 at
  // offset 8 + 61 cannot be viewed as a Float32Array, so it must come back as a copy.
  const header = JSON.stringify({ odd: { dtype: 'F32', shape: [65536], data_offsets: [0, 262144] } });
  assert.equal((8 + header.length) % 4 !== 0, true);
  const values = Float32Array.from({ length: 65536 }, (_, i) => i * 0.5);
  const file = new Uint8Array(8 + header.length + values.byteLength);
  new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
  file.set(new TextEncoder().encode(header), 8);
  file.set(new Uint8Array(values.buffer), 8 + header.length);
  const oddPath = join(dir, 'odd.safetensors');
  writeFileSync(oddPath, file);
  await using odd = await openTensorFile(oddPath);
  const misaligned = await odd.read('odd');
  assert.equal(isMemoryMapped(misaligned.data), false);
  assert.deepEqual(Array.from((typedView(misaligned) as Float32Array).subarray(0, 4)), [0, 0.5, 1, 1.5]);

  const smallPath = join(dir, 'small.safetensors');
  await writeWithFormat('safetensors', smallPath, { small: createTensor('float32', [1000], new Float32Array(1000).fill(3)), big: createTensor('float32', [65536], new Float32Array(65536).fill(4)) });
  await using small = await openTensorFile(smallPath);
  assert.equal(isMemoryMapped((await small.read('small')).data), false);
  assert.equal(isMemoryMapped((await small.read('big')).data), true);
  assert.equal(isMemoryMapped((await small.read('big', { slice: { start: 10, end: 60000 } })).data), true);
});

test('a mapped tensor outlives its reader and its mapping is released once collected', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 20], patternBytes(1 << 20, 7)) });
  const result = runChild(['outlive', path, 'a'], { gc: true });
  assert.equal(result.mapped, true);
  assert.equal(result.sumAfterClose, result.expected);
  assert.ok((result.liveWhileHeld as number) >= 1, `live mappings while held: ${String(result.liveWhileHeld)}`);
  assert.ok((result.liveAfterDrop as number) < (result.liveWhileHeld as number), `mapping not released after GC: ${JSON.stringify(result)}`);
});

test('mappings dropped without an explicit collection are released: live mappings stay bounded', { skip: NO_ADDON }, async (t) => {
  // A mapping is charged about 1 MiB to V8's external memory, not its length (native/src/tensio_mmap.c,
  // charge_for): 3000 reads of a 16 MiB tensor (48 GiB mapped in all) must still be collected as they go,
  // far below the kernel's map count limit (65,530) and the addon's table (65,536).
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 24], new Uint8Array(1 << 24).fill(5)) });
  const result = runChild(['churn', path, 'a', '3000']);
  assert.equal(result.mapped, 3000);
  assert.ok((result.most as number) >= 1 && (result.most as number) < 2000, `most live mappings at once: ${String(result.most)}`);
});

test('mappings made in worker threads are released when the workers end, without a crash', { skip: NO_ADDON }, async (t) => {
  // Each worker's finalizers run at its teardown and give back the external-memory charge to
  // that worker's V8 (tensio_mmap.c, finalize_mapping): the process must outlive it.
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'a.bin');
  writeFileSync(path, new Uint8Array(1 << 24).fill(3));
  const worker = `const addon = require(${JSON.stringify(status.addonPath)}); const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r');
    globalThis.kept = []; for (let i = 0; i < 20; i++) globalThis.kept.push(addon.map(fd, 0, 1 << 24));
    for (let i = 0; i < 100; i++) addon.map(fd, 4096, (1 << 24) - 4096);
    require('node:worker_threads').parentPort.postMessage(addon.stats().liveMappings);`;
  const main = `const { Worker } = require('node:worker_threads'); const addon = require(${JSON.stringify(status.addonPath)});
    (async () => { const seen = [];
      for (let round = 0; round < 3; round++) { const w = new Worker(${JSON.stringify(worker)}, { eval: true }); seen.push(await new Promise((resolve) => w.on('message', resolve))); await w.terminate(); }
      console.log(JSON.stringify({ seen, after: addon.stats().liveMappings })); })();`;
  const result = JSON.parse(execFileSync(process.execPath, ['-e', main], { encoding: 'utf8' }).trim()) as { seen: number[]; after: number };
  assert.equal(result.seen.length, 3);
  assert.ok(result.seen.every((live) => live >= 20), `live mappings in the workers: ${result.seen.join(', ')}`);
  assert.equal(result.after, 0);
});

test('a file shortened under a live mapping: zeros and a fault flag, not a crash; stream() fails with SOURCE_CHANGED', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const make = async (name: string) => {
    const path = join(dir, name);
    await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 20], new Uint8Array(1 << 20).fill(1)) });
    return path;
  };
  const read = runChild(['truncate-read', await make('read.safetensors'), 'a']);
  assert.equal(read.mapped, true);
  assert.equal(read.before, 4096);
  // The first half (up to the page holding the new end) keeps its ones; the rest reads as zeros.
  assert.ok((read.sum as number) >= (1 << 19) && (read.sum as number) < (1 << 19) + 4096, `sum ${String(read.sum)}`);
  assert.equal(read.faulted, true);
  assert.ok((read.faults as number) >= 1);

  const streamed = runChild(['truncate-stream', await make('stream.safetensors'), 'a']);
  assert.equal(streamed.error, 'SOURCE_CHANGED');
  assert.equal(streamed.chunks, 1);

  const before = runChild(['truncate-before-read', await make('before.safetensors'), 'a']);
  assert.equal(before.error, 'SOURCE_CHANGED');
});

test('files over 4 GiB (sparse): tensors past 4 GiB map, and a stream over a 4.5 GiB tensor crosses window boundaries', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'big.safetensors');
  const padBytes = 4.5 * 2 ** 30;
  const tailBytes = 2 ** 20;
  let header = JSON.stringify({ pad: { dtype: 'U8', shape: [padBytes], data_offsets: [0, padBytes] }, tail: { dtype: 'U8', shape: [tailBytes], data_offsets: [padBytes, padBytes + tailBytes] } });
  header += ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
  const dataStart = 8 + header.length;
  const headerBytes = new Uint8Array(dataStart);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(header.length), true);
  headerBytes.set(new TextEncoder().encode(header), 8);
  const tail = patternBytes(tailBytes, 3);
  // Marks inside the pad: at 1 GiB - 1 (the last byte of the first stream window), 1 GiB, and just past 4 GiB.
  const marks = [2 ** 30 - 1, 2 ** 30, 2 ** 32 + 5];
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, headerBytes, 0, headerBytes.byteLength, 0);
    ftruncateSync(fd, dataStart + padBytes + tailBytes);
    writeSync(fd, tail, 0, tail.byteLength, dataStart + padBytes);
    for (const [index, mark] of marks.entries()) writeSync(fd, Uint8Array.of(index + 1), 0, 1, dataStart + mark);
  } finally {
    closeSync(fd);
  }
  assert.equal(statSync(path).size, dataStart + padBytes + tailBytes);
  await using reader = await openTensorFile(path);
  const read = await reader.read('tail');
  assert.equal(isMemoryMapped(read.data), true);
  assert.equal(sha(read.data), sha(tail));
  const rows = await reader.read('pad', { slice: { start: 2 ** 32, end: 2 ** 32 + 4096 } });
  assert.equal(rows.data[5], 3);
  let at = 0;
  const found: number[] = [];
  for await (const chunk of reader.stream('pad', { chunkBytes: 256 * 2 ** 20 })) {
    for (const [index, mark] of marks.entries()) if (mark >= at && mark < at + chunk.byteLength) found[index] = chunk[mark - at]!;
    at += chunk.byteLength;
  }
  assert.equal(at, padBytes);
  assert.deepEqual(found, [1, 2, 3]);
});

test('NumPack: an array without deleted rows maps; one with deleted rows reads its logical rows', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-');
  const path = join(dir, 'store.npk');
  const { NumPack } = await import('../src/io/index.js');
  const rows = 512;
  const values = Float32Array.from({ length: rows * 64 }, (_, i) => i);
  const store = await NumPack.open(path);
  await store.save({ whole: createTensor('float32', [rows, 64], values), holes: createTensor('float32', [rows, 64], values) });
  await store.drop('holes', Int32Array.from([0, 5, 100]));
  await store.close();
  await using reader = await openTensorFile(path);
  const whole = await reader.read('whole');
  assert.equal(isMemoryMapped(whole.data), true);
  assert.equal(sha(whole.data), sha(new Uint8Array(values.buffer)));
  const holes = await reader.read('holes');
  assert.equal(isMemoryMapped(holes.data), false);
  assert.deepEqual(holes.shape, [rows - 3, 64]);
  const kept = (typedView(holes) as Float32Array);
  assert.deepEqual([kept[0], kept[64 * 4], kept[64 * 5]], [64, 6 * 64, 7 * 64]);
});
