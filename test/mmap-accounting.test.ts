/**
 * Mapped buffers and V8's external-memory count (issue 15, sessions 27 and 29). By default
 * (an addon built for this Node major) a mapping is an ArrayBuffer V8 does not count
 * (native/src/tensio_mmap_v8.cc), charged 1 MiB plus page tables, whose backing store owns
 * the mapping: a large mapped tensor starts no collection, the buffer detaches and moves
 * like any (web byte streams do), transfer lists copy it, and the charge is given back once.
 * `TENSIO_MMAP_COUNTED=1` makes Node-API external buffers, counted by V8 at their length.
 * Both give the same bytes and keep the lifetime rule. Tests that need the charged kind
 * skip with the reason when the addon cannot make it.
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
const COUNTED = { TENSIO_MMAP_COUNTED: '1' };
/** Whether this addon makes charged buffers (the default when it can). */
function chargedSkip(): string | false {
  if (!status.enabled) return `skipped: ${status.reason}`;
  return status.mappingAccounting === 'charged' ? false : `skipped: this addon makes only counted buffers (${String(status.mappingAccounting)}: built for another Node major, before session 29, or without its C++ part)`;
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

test('mapping status says how mapped buffers are counted: charged by default where the addon can, counted with TENSIO_MMAP_COUNTED=1', { skip: NO_ADDON }, () => {
  assert.ok(status.mappingAccounting === 'charged' || status.mappingAccounting === 'counted', String(status.mappingAccounting));
  const counted = runChild(['hashes'], { env: COUNTED });
  assert.equal(counted.mapping, true);
  assert.equal(counted.accounting, 'counted');
});

test('a charged large mapped tensor starts no collection: V8 sees its charge, not its length (the counted kind does start them)', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'big.npy');
  const bytes = 256 * 2 ** 20;
  sparseNpy(path, bytes);
  const charged = runChild(['collections', path, '3'], { gc: true });
  assert.deepEqual([charged.accounting, charged.mapped, charged.bytes], ['charged', 3, 3 * bytes]);
  assert.equal(charged.majorCollections, 0, JSON.stringify(charged));
  // process.memoryUsage().external counts ArrayBuffer backing stores: a charged mapping is not one.
  assert.ok((charged.external as number) < 2 ** 20, JSON.stringify(charged));
  // The control: the same maps as Node-API external buffers start V8's marking at every one.
  const counted = runChild(['collections', path, '3'], { gc: true, env: COUNTED });
  assert.deepEqual([counted.accounting, counted.mapped], ['counted', 3]);
  assert.ok((counted.external as number) >= 3 * bytes, JSON.stringify(counted));
  assert.ok((counted.majorCollections as number) >= 1, JSON.stringify(counted));
});

test('a charged mapping is charged 1 MiB plus page tables in V8\'s counter, given back exactly once when collected (the counted kind: its length, given back too)', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.npy');
  const bytes = 16 * 2 ** 20;
  sparseNpy(path, bytes);
  const charge = 2 ** 20 + bytes / 512;
  // Other allocations move the same counter a little (Node's own buffers): 20 charges are 20 MiB, a tolerance of 2 MiB tells them apart.
  const near = (value: unknown, target: number) => Math.abs((value as number) - target) < 2 * 2 ** 20;
  const charged = runChild(['charge', path, 'data', '20'], { gc: true });
  assert.deepEqual([charged.accounting, charged.mapped, charged.live], ['charged', 20, 0], JSON.stringify(charged));
  assert.ok(near(charged.whileKept, 20 * charge), JSON.stringify(charged));
  assert.ok(near(charged.afterDrop, 0), `charge not given back exactly once: ${JSON.stringify(charged)}`);
  const counted = runChild(['charge', path, 'data', '20'], { gc: true, env: COUNTED });
  assert.deepEqual([counted.accounting, counted.mapped, counted.live], ['counted', 20, 0], JSON.stringify(counted));
  assert.ok(near(counted.afterDrop, 0), JSON.stringify(counted));
});

test('a mapped buffer moved through a web byte stream keeps its mapping after the emptied original is collected, and releases it once the moved bytes are (both kinds)', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.npy');
  const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1048576,), }";
  const header = new Uint8Array(128).fill(0x20);
  header.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, 118, 0]);
  header.set(new TextEncoder().encode(dict), 10);
  header[127] = 0x0a;
  writeFileSync(path, Buffer.concat([header, patternBytes(1 << 20, 17)]));
  for (const env of [{}, COUNTED]) {
    const result = runChild(['stream-detach', path, 'data'], { gc: true, env });
    assert.deepEqual([result.mapped, result.detached, result.originalCollected], [true, true, true], JSON.stringify(result));
    assert.equal(result.sumMoved, result.expected, JSON.stringify(result));
    assert.equal(result.liveWhileMovedHeld, 1, `the moved bytes lost their mapping: ${JSON.stringify(result)}`);
    assert.equal(result.liveAfterDrop, 0, JSON.stringify(result));
  }
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

test('counted mapped buffers (TENSIO_MMAP_COUNTED=1): transfer lists copy them, same bytes', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 20], patternBytes(1 << 20, 13)) });
  const result = runChild(['transfer', path, 'a'], { env: COUNTED });
  assert.equal(result.accounting, 'counted');
  assert.deepEqual(result.transfer, { mapped: true, cloneEqual: true, postEqual: true, lengthAfter: 1 << 20, sameAsCopy: true }, JSON.stringify(result));
});

test('charged and counted buffers: the same bytes for every mapped format, mappings outlive the reader and are released once collected', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const { written } = await writeEveryFormat(dir);
  const paths = written.map((entry) => entry.path);
  const counted = runChild(['hashes', ...paths], { env: COUNTED });
  const charged = runChild(['hashes', ...paths]);
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
  for (const env of [COUNTED, {}]) {
    const result = runChild(['outlive', big, 'a'], { gc: true, env });
    assert.equal(result.mapped, true);
    assert.equal(result.sumAfterClose, result.expected);
    assert.ok((result.liveAfterDrop as number) < (result.liveWhileHeld as number), `mapping not released after GC (${String(result.accounting)}): ${JSON.stringify(result)}`);
  }
});

test('charged mappings made in worker threads are released when the workers end, without a crash', { skip: NOT_CHARGED }, async (t) => {
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
  const result = JSON.parse(execFileSync(process.execPath, ['-e', main], { encoding: 'utf8', env: { ...process.env } }).trim()) as { seen: { charged: boolean; live: number; first: number }[]; after: number };
  assert.equal(result.seen.length, 3);
  assert.ok(result.seen.every((entry) => entry.charged && entry.live >= 20 && entry.first === 3), JSON.stringify(result.seen));
  assert.equal(result.after, 0);
});

test('a populate job keeps its mapping alive while pending when its buffer is moved through a web byte stream and the moved bytes are collected, then lets go once settled (issue 15, both kinds)', { skip: NOT_CHARGED }, async (t) => {
  const dir = await tempDir(t, 'tensio-mmap-accounting-');
  const path = join(dir, 'big.npy');
  const bytes = 64 * 2 ** 20;
  sparseNpy(path, bytes);
  const fifo = join(dir, 'worker-gate');
  execFileSync('mkfifo', [fifo]);
  for (const env of [{}, COUNTED]) {
    // One libuv worker, blocked on the FIFO until the child opens it for writing: the job stays queued meanwhile.
    const result = runChild(['populate-detach', path, 'data', fifo], { gc: true, env: { UV_THREADPOOL_SIZE: '1', ...env } });
    assert.deepEqual([result.mapped, result.detached], [true, true], JSON.stringify(result));
    assert.deepEqual(result.collected, ['moved'], `the moved bytes' buffer was not collected, so this proves nothing: ${JSON.stringify(result)}`);
    assert.equal(result.pendingBytes, bytes, `the job was not pending: ${JSON.stringify(result)}`);
    // Before the job held the backing store: 0 here, and the job rejected (ENOMEM from madvise on the unmapped range).
    assert.equal(result.liveWhilePending, 1, `the mapping was released under a pending populate job: ${JSON.stringify(result)}`);
    assert.match(String(result.ended), /^resolved (populate|willneed)$/, JSON.stringify(result));
    assert.equal(result.liveAfterSettled, 0, `the job did not let go of the mapping: ${JSON.stringify(result)}`);
  }
});
