/**
 * Huge-page result buffers (issues 12 and 15): read results of 4 MiB and more come from
 * the native addon's `allocate()` (anonymous, 2 MiB-aligned, MADV_HUGEPAGE) when it is
 * built. The bytes equal those of ordinary buffers (`TENSIO_NO_HUGEPAGES=1`, and a
 * process without the addon) for several formats; a result outlives its reader; dropped
 * buffers are given back (resident memory bounded); small results stay ordinary; and
 * what structured cloning and `postMessage` do with one is pinned down (they copy it:
 * V8 cannot hand an external buffer's memory to another owner, so a transfer list
 * leaves the original attached). Tests that need the addon skip with the reason
 * `memoryMapStatus()` gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHugePageBuffer, memoryMapStatus, openTensorFile, type Tensor } from '../src/index.js';
import { LARGE_BUFFER_MIN_BYTES, allocateUninitialized, allocateZeroed } from '../src/core/memory.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'hugepages-child.ts');
const status = memoryMapStatus();
const NO_HUGE = status.hugePageBuffers ? false : `skipped: ${status.hugePageReason}`;

const runChild = (args: string[], options: { env?: Record<string, string>; gc?: boolean } = {}) => runJsonChild(CHILD, args, options);

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A float32 tensor of 1100 × 1024 (4.3 MiB: over the huge-page threshold) and a small one. */
function sampleTensors(): Record<string, Tensor> {
  return {
    big: { dtype: 'float32', shape: [1100, 1024], data: patternBytes(1100 * 1024 * 4, 1) },
    small: { dtype: 'int16', shape: [64, 64], data: patternBytes(64 * 64 * 2, 2) },
  };
}

const FORMATS = [
  { format: 'safetensors', file: 'a.safetensors', single: false },
  { format: 'npy', file: 'a.npy', single: true },
  { format: 'zarr', file: 'a.zarr', single: false },
  { format: 'hdf5', file: 'a.h5', single: false },
];

test('status says whether huge-page buffers are in use; TENSIO_NO_HUGEPAGES=1 and TENSIO_NO_MMAP=1 turn them off', () => {
  assert.equal(typeof status.hugePageBuffers, 'boolean');
  assert.ok(status.hugePageReason.length > 20, status.hugePageReason);
  const off = runChild(['hashes'], { env: { TENSIO_NO_HUGEPAGES: '1' } });
  assert.equal(off.hugePageBuffers, false);
  assert.match(String(off.hugePageReason), /TENSIO_NO_HUGEPAGES=1/);
  const noMap = runChild(['hashes'], { env: { TENSIO_NO_MMAP: '1' } });
  assert.equal(noMap.hugePageBuffers, false);
});

test('copy reads give the same bytes in huge-page buffers as in ordinary ones, for safetensors, npy, Zarr and HDF5', { skip: NO_HUGE }, async (t) => {
  const dir = await tempDir(t, 'tensio-hugepages-');
  const all = sampleTensors();
  const paths: string[] = [];
  for (const { format, file, single } of FORMATS) {
    const path = join(dir, file);
    await writeWithFormat(format, path, single ? { big: all.big! } : all);
    paths.push(path);
  }
  const on = runChild(['hashes', ...paths]) as { hugePageBuffers: boolean; files: Record<string, Record<string, { sha: string; huge: boolean }>> };
  const off = runChild(['hashes', ...paths], { env: { TENSIO_NO_HUGEPAGES: '1' } }) as typeof on;
  const noAddon = runChild(['hashes', ...paths], { env: { TENSIO_NO_MMAP: '1' } }) as typeof on;
  assert.equal(on.hugePageBuffers, true);
  for (const [index, path] of paths.entries()) {
    const names = Object.keys(on.files[path]!);
    // A one-tensor format names its tensor itself (.npy: "data"); that tensor is `big`.
    const written = (name: string) => (FORMATS[index]!.single ? all.big! : all[name]!);
    assert.ok(FORMATS[index]!.single ? names.length === 1 : names.includes('big'), `${path}: tensors ${names.join(', ')}`);
    for (const name of names) {
      const expected = sha(written(name).data);
      assert.equal(on.files[path]![name]!.sha, expected, `${path} ${name}: huge-page read differs from what was written`);
      assert.equal(off.files[path]![name]!.sha, expected, `${path} ${name}: ordinary read differs`);
      assert.equal(noAddon.files[path]![name]!.sha, expected, `${path} ${name}: read without the addon differs`);
      assert.equal(off.files[path]![name]!.huge, false, `${path} ${name}: TENSIO_NO_HUGEPAGES=1 still gave a huge-page buffer`);
      assert.equal(noAddon.files[path]![name]!.huge, false);
      // Only results of LARGE_BUFFER_MIN_BYTES (3.5 MiB) and more are huge-page buffers.
      assert.equal(on.files[path]![name]!.huge, written(name).data.byteLength >= LARGE_BUFFER_MIN_BYTES, `${path} ${name}: huge-page buffer expected only from LARGE_BUFFER_MIN_BYTES on`);
    }
  }
});

test('a huge-page result outlives its reader and is an ordinary writable buffer', { skip: NO_HUGE }, async (t) => {
  const dir = await tempDir(t, 'tensio-hugepages-');
  const path = join(dir, 'a.safetensors');
  const all = sampleTensors();
  await writeWithFormat('safetensors', path, all);
  let tensor: Tensor;
  {
    await using reader = await openTensorFile(path);
    tensor = await reader.read('big', { copy: true });
  }
  assert.equal(isHugePageBuffer(tensor.data), true);
  assert.equal(sha(tensor.data), sha(all.big!.data));
  tensor.data[0] = (tensor.data[0]! + 1) & 0xff;
  assert.notEqual(sha(tensor.data), sha(all.big!.data));
  // Node Buffers over it view the same memory.
  const view = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  view[1] = 7;
  assert.equal(tensor.data[1], 7);
});

test('allocateZeroed hands out zeros and allocateUninitialized the exact length, huge-page or not', () => {
  for (const length of [0, 1000, LARGE_BUFFER_MIN_BYTES - 1, LARGE_BUFFER_MIN_BYTES, LARGE_BUFFER_MIN_BYTES + 12345]) {
    const zeroed = allocateZeroed(length);
    assert.equal(zeroed.byteLength, length);
    assert.equal(zeroed.some((byte) => byte !== 0), false, `allocateZeroed(${length}) holds non-zero bytes`);
    assert.equal(allocateUninitialized(length).byteLength, length);
    if (status.hugePageBuffers) assert.equal(isHugePageBuffer(zeroed), length >= LARGE_BUFFER_MIN_BYTES, `allocateZeroed(${length})`);
  }
});

test('structuredClone and postMessage copy a huge-page buffer, also when it is in the transfer list (the original stays usable)', { skip: NO_HUGE }, async () => {
  const data = allocateUninitialized(LARGE_BUFFER_MIN_BYTES);
  assert.equal(isHugePageBuffer(data), true);
  data.set(patternBytes(4096, 3));
  const expected = sha(data);
  const cloned = structuredClone(data.buffer, { transfer: [data.buffer] });
  assert.equal(data.buffer.byteLength, LARGE_BUFFER_MIN_BYTES, 'the transferred original was detached');
  assert.equal(sha(new Uint8Array(cloned)), expected);
  assert.equal(isHugePageBuffer(new Uint8Array(cloned)), false);
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<ArrayBuffer>((resolvePromise) => port2.once('message', resolvePromise));
  port1.postMessage(data.buffer, [data.buffer]);
  const delivered = await received;
  port1.close();
  port2.close();
  assert.equal(sha(new Uint8Array(delivered)), expected);
  assert.equal(data.byteLength, LARGE_BUFFER_MIN_BYTES, 'postMessage detached the original');
  assert.equal(sha(data), expected);
});

test('dropped huge-page buffers are given back: 1 GiB churned in 32 MiB results keeps resident memory bounded', { skip: NO_HUGE }, () => {
  const result = runChild(['churn', '32', '32'], { gc: true }) as { start: number; peak: number; after: number; huge: number };
  assert.equal(result.huge, 32);
  // Without collection all 1024 MiB would stay resident; V8 counts each buffer as external memory and collects.
  assert.ok(result.peak - result.start < 512, `resident memory grew by ${Math.round(result.peak - result.start)} MiB while churning 1024 MiB`);
  assert.ok(result.after - result.start < 96, `resident memory ${Math.round(result.after - result.start)} MiB above the start after collection`);
});
