/**
 * Fault-ahead of one big mapping (`populate` on `read`, `readEach` and
 * `readAllIntoWasmMemory`): the bytes equal `read()`'s, with and without the addon; the
 * job stops on `release()` and on the reader's `close()` without hanging or crashing; a
 * file shortened under it gives a `TensioError` (SOURCE_CHANGED), kept for the caller
 * to ask for, never an unhandled rejection; `memoryMapStatus()` says whether populate
 * works here; `readEach` keeps at most READ_EACH_MAX_COPIES copies on the thread pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor, fileSource, isMemoryMapped, memoryMapFaulted, memoryMapPopulateError, memoryMapPopulatePending, memoryMapStatus, openTensorFile, type ByteSource, readEach, READ_EACH_MAX_COPIES, type ReadTensorOptions, type Tensor, type TensorInfo, type TensorReader } from '../src/index.js';
import { readAllIntoWasmMemory, wasmMappingUnavailableReason, type WasmMemoryLike } from '../src/io/index.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'fault-ahead-child.ts');
const status = memoryMapStatus();
const wasmUnavailable = wasmMappingUnavailableReason();
const NO_WASM_POPULATE = wasmUnavailable !== undefined ? `skipped: ${wasmUnavailable}` : status.populate === 'unavailable' ? `skipped: ${status.populateReason}` : false;
const MiB = 2 ** 20;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const runChild = (args: string[], options: { env?: Record<string, string> } = {}) => runJsonChild(CHILD, args, options);

const newMemory = () => new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => WasmMemoryLike } }).WebAssembly.Memory({ initial: 1, maximum: 65536 });

/** A safetensors file of a 9 MiB, a 1 MiB and a 100 KiB tensor, and a 9 MiB `.npy`; their copied bytes' hashes. */
async function sampleFiles(dir: string): Promise<{ paths: string[]; expected: Record<string, Record<string, string>> }> {
  const st = join(dir, 'fa.safetensors');
  const npy = join(dir, 'fa.npy');
  await writeWithFormat('safetensors', st, {
    big: createTensor('float32', [9 * 256 * 1024], patternBytes(9 * MiB, 1)),
    mid: createTensor('int16', [512 * 1024], patternBytes(MiB, 2)),
    small: createTensor('uint8', [100 * 1024], patternBytes(100 * 1024, 3)),
  });
  await writeWithFormat('npy', npy, { data: createTensor('float64', [9 * 128 * 1024], patternBytes(9 * MiB, 4)) });
  const expected: Record<string, Record<string, string>> = {};
  for (const path of [st, npy]) {
    await using reader = await openTensorFile(path);
    expected[path] = {};
    for (const info of reader.tensors) expected[path]![info.name] = sha((await reader.read(info.name, { copy: true })).data);
  }
  return { paths: [st, npy], expected };
}

test('memoryMapStatus says whether populate works here, and TENSIO_NO_MMAP=1 turns it off', () => {
  assert.ok(['populate', 'willneed', 'unavailable'].includes(status.populate), status.populate);
  assert.ok(status.populateReason.length > 20, status.populateReason);
  if (status.enabled) assert.notEqual(status.populate, 'unavailable', 'this addon has populate(): rebuild it with npm run build:native');
  const off = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/index.ts').then((m) => console.log(JSON.stringify(m.memoryMapStatus())))"], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TENSIO_NO_MMAP: '1' } }).trim()) as { populate: string; populateReason: string };
  assert.equal(off.populate, 'unavailable');
  assert.match(off.populateReason, /native addon/);
});

test('readAllIntoWasmMemory with populate gives the bytes of read(), mapped and populated; without the addon copied', { skip: NO_WASM_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-fa-');
  const { paths, expected } = await sampleFiles(dir);
  for (const path of paths) {
    for (const env of [{}, { TENSIO_NO_MMAP: '1' }] as Record<string, string>[]) {
      const json = runChild(['place', path], { env });
      const tensors = json.tensors as Record<string, { sha: string; mapped: boolean; populated: string }>;
      for (const [name, hash] of Object.entries(expected[path]!)) {
        assert.equal(tensors[name]!.sha, hash, `${path} ${name} ${JSON.stringify(env)}`);
        if (env.TENSIO_NO_MMAP) {
          assert.deepEqual([tensors[name]!.mapped, tensors[name]!.populated], [false, 'none'], `${path} ${name}: no addon, nothing to populate`);
        } else if (tensors[name]!.mapped) {
          assert.equal(tensors[name]!.populated, status.populate, `${path} ${name}`);
        }
      }
      if (!env.TENSIO_NO_MMAP) assert.equal(tensors[path.endsWith('.npy') ? 'data' : 'big']!.mapped, true, `${path}: the 9 MiB tensor maps`);
    }
  }
});

test('fault-ahead stops on release() and on close() without hanging; the bytes stay right', { skip: NO_WASM_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-fa-');
  const path = join(dir, 'big.npy');
  const bytes = patternBytes(48 * MiB, 7);
  await writeWithFormat('npy', path, { data: createTensor('uint8', [bytes.byteLength], bytes) });
  const expected = sha(bytes);
  {
    // Released at once: the job ends (any outcome but an error), the region reads zeros.
    const memory = newMemory();
    await using reader = await openTensorFile(path);
    const [placed] = await readAllIntoWasmMemory(reader, ['data'], memory, { populate: true });
    assert.equal(placed!.mapped, true);
    placed!.release();
    assert.ok(['populate', 'willneed', 'none'].includes(await placed!.populated()));
    const region = new Uint8Array(memory.buffer, placed!.region.byteOffset, placed!.region.byteLength);
    assert.equal(region.every((byte) => byte === 0), true, 'released pages are zeros');
  }
  {
    // The reader closed at once: the job stops at its next window; the mapped bytes stay valid.
    const memory = newMemory();
    const reader = await openTensorFile(path);
    const [placed] = await readAllIntoWasmMemory(reader, ['data'], memory, { populate: true });
    await reader.close();
    assert.ok(['populate', 'willneed', 'none'].includes(await placed!.populated()));
    assert.equal(sha(new Uint8Array(memory.buffer, placed!.pointer, placed!.byteLength)), expected);
    placed!.release();
  }
  {
    // The same for a mapped view read with populate: close, then every byte is still the file's.
    const reader = await openTensorFile(path);
    const tensor = await reader.read('data', { populate: true });
    await reader.close();
    assert.equal(sha(tensor.data), expected);
  }
});

/** Whether read() populates mapped views by default here (an addon that reports its populate backlog). */
const defaultPopulates = memoryMapPopulatePending() !== undefined;

/** A file source whose mapped views count the populate jobs asked of them (and their lengths). */
async function countingSource(path: string): Promise<{ source: ByteSource; jobs: number[] }> {
  const inner = await fileSource(path);
  const jobs: number[] = [];
  const source: ByteSource = {
    size: inner.size,
    name: inner.name,
    read: (offset, length, options) => inner.read(offset, length, options),
    close: () => inner.close(),
    ...(inner.map ? {
      map(offset: number, length: number) {
        const mapped = inner.map!(offset, length);
        return mapped && { ...mapped, populate: () => { jobs.push(mapped.bytes.byteLength); return mapped.populate?.(); } };
      },
    } : {}),
  };
  return { source, jobs };
}

test('read() populates a mapped view by default; populate: false, copies and the addon-absent path start no job; the bytes are the same', async (t) => {
  const dir = await tempDir(t, 'tensio-fa-');
  const { paths, expected } = await sampleFiles(dir);
  for (const path of paths) {
    const { source, jobs } = await countingSource(path);
    try {
      await using reader = await openTensorFile(source, { format: path.endsWith('.npy') ? 'npy' : 'safetensors' });
      const mappedLengths: number[] = [];
      for (const info of reader.tensors) {
        const tensor = await reader.read(info.name);
        assert.equal(sha(tensor.data), expected[path]![info.name], `${path} ${info.name} default`);
        if (isMemoryMapped(tensor.data)) mappedLengths.push(tensor.data.byteLength);
      }
      // Every mapped view (and only those) got one populate job of its whole length; an addon that cannot tell its backlog keeps read() lazy.
      assert.deepEqual(jobs, defaultPopulates ? mappedLengths : [], `${path}: one job per mapped view`);
      if (status.enabled) assert.ok(mappedLengths.length > 0, `${path}: its 9 MiB tensor maps`);
      jobs.length = 0;
      for (const info of reader.tensors) {
        assert.equal(sha((await reader.read(info.name, { populate: false })).data), expected[path]![info.name], `${path} ${info.name} lazy`);
        assert.equal(sha((await reader.read(info.name, { copy: true })).data), expected[path]![info.name], `${path} ${info.name} copy`);
      }
      assert.deepEqual(jobs, [], `${path}: populate: false and copy: true start no job`);
      // A row slice maps and populates only its own rows.
      const big = reader.tensors.find((info) => info.byteLength === 9 * MiB)!;
      const slice = await reader.read(big.name, { slice: { start: 0, end: big.shape[0]! / 9 } });
      if (isMemoryMapped(slice.data)) assert.deepEqual(jobs, defaultPopulates ? [MiB] : [], `${path}: the slice's 1 MiB alone`);
    } finally {
      await source.close?.();
    }
    // Without the addon the same bytes come back, read, and nothing is populated.
    const json = runChild(['read-default', path], { env: { TENSIO_NO_MMAP: '1' } });
    const tensors = json.tensors as Record<string, { sha: string; mapped: boolean; populateError: string | null }>;
    for (const [name, hash] of Object.entries(expected[path]!)) assert.deepEqual(tensors[name], { sha: hash, mapped: false, populateError: null }, `${path} ${name} TENSIO_NO_MMAP=1`);
  }
});

test('read() closed while its default populate job runs: no hang, no error, every byte still as in the file', async (t) => {
  const dir = await tempDir(t, 'tensio-fa-');
  const path = join(dir, 'big.npy');
  const bytes = patternBytes(64 * MiB, 9);
  await writeWithFormat('npy', path, { data: createTensor('uint8', [bytes.byteLength], bytes) });
  const reader = await openTensorFile(path);
  const tensor = await reader.read('data');
  // Closed at once: the job (queued or at its first window) stops at its next 4 MiB window.
  await reader.close();
  assert.equal(sha(tensor.data), sha(bytes));
  assert.equal(memoryMapPopulateError(tensor.data), undefined);
  assert.equal(memoryMapFaulted(tensor.data), false);
  // The job settled and released its hold: a child process that exits on its own proves no job is left hanging.
  const json = runChild(['read-default-close', path]);
  assert.equal(json.sha, sha(bytes));
  if (status.enabled) assert.equal(json.mapped, true);
});

test('a file shortened under fault-ahead: SOURCE_CHANGED (or the faulted mapping), never a crash; the error is kept for the caller', { skip: NO_WASM_POPULATE }, async (t) => {
  const dir = await tempDir(t, 'tensio-fa-');
  const wasmPath = join(dir, 'cut.npy');
  const bytes = new Uint8Array(32 * MiB).fill(1);
  await writeWithFormat('npy', wasmPath, { data: createTensor('uint8', [bytes.byteLength], bytes) });
  const json = runChild(['truncate-wasm', wasmPath, 'data']);
  assert.equal(json.mapped, true);
  // Racing with the worker: either it met the cut (SOURCE_CHANGED) or it was done and the sum's touch met zero pages.
  assert.ok(json.populated === 'SOURCE_CHANGED' || (json.populated === undefined && json.faulted === true), JSON.stringify(json));
  assert.ok((json.sum as number) < bytes.byteLength, 'the cut half reads as zeros');
  // Cut before the job ran: always SOURCE_CHANGED.
  assert.equal(json.cutFirst, 'SOURCE_CHANGED');

  const viewPath = join(dir, 'cut.safetensors');
  await writeWithFormat('safetensors', viewPath, { a: createTensor('uint8', [4 * MiB], new Uint8Array(4 * MiB).fill(2)) });
  const view = runChild(['truncate-view', viewPath, 'a']);
  assert.deepEqual([view.populate, view.kept], ['SOURCE_CHANGED', 'SOURCE_CHANGED']);
});

test('readEach keeps at most READ_EACH_MAX_COPIES copies on the thread pool at once', async () => {
  const sizes = [2, 2, 2, 2, 2, 2].map((size) => size * MiB);
  const tensors: TensorInfo[] = sizes.map((size, index) => ({ name: `t${index}`, dtype: 'uint8', shape: [size], byteLength: size }) as TensorInfo);
  const inFlight = new Set<string>();
  let most = 0;
  const release = new Map<string, () => void>();
  const reader = {
    format: 'test', size: 0, metadata: {}, tensors,
    info: (name: string) => tensors.find((info) => info.name === name)!,
    has: (name: string) => tensors.some((info) => info.name === name),
    read: (name: string, options: ReadTensorOptions = {}) => {
      assert.equal(options.offThread, true, 'a 2 MiB copy goes off the JavaScript thread');
      inFlight.add(name);
      most = Math.max(most, inFlight.size);
      return new Promise<Tensor>((done) => release.set(name, () => {
        inFlight.delete(name);
        done(createTensor('uint8', [2 * MiB], new Uint8Array(2 * MiB)));
      }));
    },
  } as unknown as TensorReader;
  const iterator = readEach(reader, { copy: true, aheadBytes: 64 * MiB });
  const handed: string[] = [];
  for (;;) {
    const next = iterator.next();
    // Finish every read in flight, oldest first, letting the loop start more in between.
    for (let spin = 0; spin < 20 && inFlight.size > 0; spin++) {
      release.get([...inFlight][0]!)!();
      await new Promise((done) => setImmediate(done));
    }
    const result = await next;
    if (result.done) break;
    handed.push(result.value.name);
  }
  assert.deepEqual(handed, tensors.map((info) => info.name));
  assert.equal(most, READ_EACH_MAX_COPIES, `at most ${READ_EACH_MAX_COPIES} copies at once (the 64 MiB bound alone would allow 6)`);
});
