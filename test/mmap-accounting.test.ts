/**
 * Mapped buffers and V8's external-memory count (issue 15, session 27). By default a
 * mapping is a Node-API external buffer, counted by V8 at its length: it can be
 * detached and moved like any buffer (web byte streams do), and transfer lists copy it.
 * `TENSIO_MMAP_UNCOUNTED=1` (addon built for this Node major) makes buffers V8 does not
 * count (native/src/tensio_mmap_v8.cc), charged 1 MiB plus page tables, so a large mapped
 * tensor starts no collection; those are copied by transfer lists and never detached.
 * Both give the same bytes and keep the lifetime rule. Tests that need the uncounted
 * kind skip with the reason when the addon cannot make it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { createTensor, isMemoryMapped, memoryMapStatus, openTensorFile } from '../src/index.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { writeEveryFormat } from './helpers/every-format.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'mmap-child.ts');
const status = memoryMapStatus();
const NO_ADDON = status.enabled ? false : `skipped: ${status.reason}`;
const UNCOUNTED = { TENSIO_MMAP_UNCOUNTED: '1' };
/** Whether this addon can make uncounted buffers, asked of a child with the variable set. */
function chargedSkip(): string | false {
  if (!status.enabled) return `skipped: ${status.reason}`;
  const probe = runChild(['hashes'], { env: UNCOUNTED });
  return probe.accounting === 'charged' ? false : `skipped: this addon makes only counted buffers (${String(probe.accounting)}: built for another Node major, before session 27, or without its C++ part)`;
}

const runChild = (args: string[], options: { env?: Record<string, string>; gc?: boolean } = {}) => runJsonChild(CHILD, args, options);

/** A `.npy` of `bytes` zero bytes of uint8 data, sparse (made with ftruncate: nothing written). */
function sparseNpy(path: string, bytes: number): void {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${bytes},), }`;
  const header = new Uint8Array(128).fill(0x20);
  header.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, 118, 0]);
  header.set(new TextEncoder().encode(dict), 10);
  header[127] = 0x0a;
  writeFileSync(path, header);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, 128 + bytes);
  closeSync(fd);
}

const NOT_CHARGED = chargedSkip();

test('mapping status says how mapped buffers are counted: counted by default, charged with TENSIO_MMAP_UNCOUNTED=1', { skip: NO_ADDON }, () => {
  assert.equal(status.mappingAccounting, 'counted');
  const uncounted = runChild(['hashes'], { env: UNCOUNTED });
  assert.equal(uncounted.mapping, true);
  assert.ok(uncounted.accounting === 'charged' || uncounted.accounting === 'counted', String(uncounted.accounting));
});

test('an uncounted large mapped tensor starts no collection: V8 sees its charge, not its length (the default counted kind does start them)', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'big.npy');
  const bytes = 256 * 2 ** 20;
  sparseNpy(path, bytes);
  const charged = runChild(['collections', path, '3'], { gc: true, env: UNCOUNTED });
  assert.deepEqual([charged.accounting, charged.mapped, charged.bytes], ['charged', 3, 3 * bytes]);
  assert.equal(charged.majorCollections, 0, JSON.stringify(charged));
  // process.memoryUsage().external counts ArrayBuffer backing stores: a charged mapping is not one.
  assert.ok((charged.external as number) < 2 ** 20, JSON.stringify(charged));
  // The control: the same maps as Node-API external buffers start V8's marking at every one.
  const counted = runChild(['collections', path, '3'], { gc: true });
  assert.deepEqual([counted.accounting, counted.mapped], ['counted', 3]);
  assert.ok((counted.external as number) >= 3 * bytes, JSON.stringify(counted));
  assert.ok((counted.majorCollections as number) >= 1, JSON.stringify(counted));
});

test('a mapped buffer (default kind) in a transfer list is copied; a web byte stream moves it, bytes intact', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.safetensors');
  const values = patternBytes(1 << 20, 11);
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [values.byteLength], values) });
  await using reader = await openTensorFile(path);
  const tensor = await reader.read('a');
  assert.ok(isMemoryMapped(tensor.data));
  const buffer = tensor.data.buffer as ArrayBuffer;

  const cloned = structuredClone(buffer, { transfer: [buffer] });
  assert.notEqual(cloned, buffer);
  assert.deepEqual(new Uint8Array(cloned), values);
  assert.equal(buffer.byteLength, values.byteLength, 'structuredClone detached the mapped buffer');

  const { port1, port2 } = new MessageChannel();
  const received = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
  port1.postMessage(buffer, [buffer]);
  assert.deepEqual(new Uint8Array(await received), values);
  port1.close();
  assert.equal(buffer.byteLength, values.byteLength, 'postMessage detached the mapped buffer');

  // A byte stream detaches the chunk's buffer and moves its store: the mapping goes with it.
  const moved = await reader.read('a');
  const stream = new ReadableStream({ type: 'bytes', start(controller) { controller.enqueue(moved.data); controller.close(); } });
  const { value } = await stream.getReader().read();
  assert.equal(moved.data.byteLength, 0, 'the enqueued view was not detached');
  assert.deepEqual(value, values);
  assert.deepEqual(tensor.data, values);
});

test('uncounted mapped buffers (TENSIO_MMAP_UNCOUNTED=1): transfer lists copy them, detaching throws, same bytes', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 20], patternBytes(1 << 20, 13)) });
  const result = runChild(['transfer', path, 'a'], { env: UNCOUNTED });
  assert.equal(result.accounting, 'charged');
  assert.deepEqual(result.transfer, { mapped: true, cloneEqual: true, postEqual: true, lengthAfter: 1 << 20, sameAsCopy: true }, JSON.stringify(result));
});

test('uncounted buffers (TENSIO_MMAP_UNCOUNTED=1): the same bytes for every mapped format, mappings outlive the reader and are released once collected', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const { written } = await writeEveryFormat(dir);
  const paths = written.map((entry) => entry.path);
  const counted = runChild(['hashes', ...paths]);
  const charged = runChild(['hashes', ...paths], { env: UNCOUNTED });
  const off = runChild(['hashes', ...paths], { env: { TENSIO_NO_MMAP: '1' } });
  assert.deepEqual([counted.accounting, charged.accounting], ['counted', 'charged']);
  assert.deepEqual(charged.files, counted.files);
  type Entry = { read: string; stream: string };
  for (const path of paths) {
    for (const [name, entry] of Object.entries((off.files as Record<string, Record<string, Entry>>)[path]!)) {
      const mapped = (charged.files as Record<string, Record<string, Entry>>)[path]![name]!;
      assert.deepEqual([mapped.read, mapped.stream], [entry.read, entry.stream], `${path} ${name}`);
    }
  }
  const big = join(dir, 'outlive.safetensors');
  await writeWithFormat('safetensors', big, { a: createTensor('uint8', [1 << 20], patternBytes(1 << 20, 5)) });
  for (const env of [{}, UNCOUNTED]) {
    const result = runChild(['outlive', big, 'a'], { gc: true, env });
    assert.equal(result.mapped, true);
    assert.equal(result.sumAfterClose, result.expected);
    assert.ok((result.liveAfterDrop as number) < (result.liveWhileHeld as number), `mapping not released after GC (${String(result.accounting)}): ${JSON.stringify(result)}`);
  }
});

test('uncounted mappings made in worker threads are released when the workers end, without a crash', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.bin');
  writeFileSync(path, new Uint8Array(1 << 24).fill(3));
  // The worker gives the addon its markAsUntransferable, as memory-map.ts does, so its maps are charged ones.
  const worker = `const { markAsUntransferable, parentPort } = require('node:worker_threads'); const addon = require(${JSON.stringify(status.addonPath)});
    const charged = addon.setUntransferableMarker(markAsUntransferable); const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r');
    globalThis.kept = []; for (let i = 0; i < 20; i++) globalThis.kept.push(addon.map(fd, 0, 1 << 24));
    for (let i = 0; i < 100; i++) addon.map(fd, 4096, (1 << 24) - 4096);
    parentPort.postMessage({ charged, live: addon.stats().liveMappings, first: new Uint8Array(globalThis.kept[19])[12345] });`;
  const main = `const { Worker } = require('node:worker_threads'); const addon = require(${JSON.stringify(status.addonPath)});
    (async () => { const seen = [];
      for (let round = 0; round < 3; round++) { const w = new Worker(${JSON.stringify(worker)}, { eval: true }); seen.push(await new Promise((resolve) => w.on('message', resolve))); await w.terminate(); }
      console.log(JSON.stringify({ seen, after: addon.stats().liveMappings })); })();`;
  const result = JSON.parse(execFileSync(process.execPath, ['-e', main], { encoding: 'utf8', env: { ...process.env, ...UNCOUNTED } }).trim()) as { seen: { charged: boolean; live: number; first: number }[]; after: number };
  assert.equal(result.seen.length, 3);
  assert.ok(result.seen.every((entry) => entry.charged && entry.live >= 20 && entry.first === 3), JSON.stringify(result.seen));
  assert.equal(result.after, 0);
});
