/**
 * Writers publish to a path, a ByteSink or `{ store, key }` (issue 7, item 3). Every
 * built-in writer runs against an in-memory sink that can patch (`writeAt`) and one that
 * cannot; the one writer that must patch (safetensors with crc32) stages through a local
 * temporary file or, with `staging: 'never'`, refuses with a reason. Layouts of several
 * files (sharded safetensors, NumPack stores) take a store key and refuse a bare sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memorySink, type ByteSink, type MemorySink } from '../src/storage/byte-sink.js';
import { folderStore } from '../src/storage/folder-store.js';
import type { Store } from '../src/storage/store.js';
import { openWriteSink } from '../src/storage/write-target.js';
import { isTensioError } from '../src/core/errors.js';
import { BUILT_IN_FORMATS, getFormat } from '../src/operations/registry.js';
import { convert, openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import type { TensorSpec } from '../src/model/types.js';
import { tempDir } from './helpers/temp.js';

/** A memory sink that cannot patch, as an object-store upload; counts its calls. */
function sequentialSink(): MemorySink & { writes: number } {
  const inner = memorySink();
  const sink = {
    writes: 0,
    get position() {
      return inner.position;
    },
    canWriteAt: false,
    async write(chunk: Uint8Array) {
      sink.writes++;
      await inner.write(chunk);
    },
    close: () => inner.close(),
    abort: () => inner.abort(),
    bytes: () => inner.bytes(),
  };
  return sink;
}

/** A memory sink that can patch and counts how often it was patched. */
function patchableSink(): MemorySink & { patches: number } {
  const inner = memorySink();
  const sink = {
    patches: 0,
    get position() {
      return inner.position;
    },
    canWriteAt: true as const,
    write: (chunk: Uint8Array) => inner.write(chunk),
    async writeAt(at: number, bytes: Uint8Array) {
      sink.patches++;
      await inner.writeAt!(at, bytes);
    },
    close: () => inner.close(),
    abort: () => inner.abort(),
    bytes: () => inner.bytes(),
  };
  return sink;
}

const plan: TensorSpec[] = [
  { name: 'a', dtype: 'float32', shape: [3, 4] },
  { name: 'b', dtype: 'int16', shape: [5] },
];
const dataOf = (spec: TensorSpec): Uint8Array => {
  const length = spec.shape.reduce((x, y) => x * y, 1) * (spec.dtype === 'float32' ? 4 : 2);
  return new Uint8Array(length).map((_, i) => (i * 7 + spec.name.charCodeAt(0)) & 0xff);
};

async function writeAll(format: string, target: Parameters<NonNullable<ReturnType<typeof getFormat>['createWriter']>>[0], specs: TensorSpec[], formatOptions?: Record<string, unknown>, staging?: 'local' | 'never'): Promise<void> {
  const writer = await getFormat(format).createWriter!(target, { tensors: specs, ...(formatOptions ? { formatOptions } : {}), ...(staging ? { staging } : {}) });
  try {
    for (const name of writer.order) await writer.add(name, dataOf(specs.find((spec) => spec.name === name)!));
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function assertReadsBack(bytes: Uint8Array, format: string, specs: TensorSpec[]): Promise<void> {
  // Text (csv, txt) keeps no dtype: read it back as the one written.
  const typed = getFormat(format).openOptionNames?.includes('dtype');
  await using reader = await openTensorFile(bytes, { format, ...(typed ? { formatOptions: { dtype: specs[0]!.dtype } } : {}) });
  for (const spec of specs) {
    // One-array formats without names (.npy, CSV/TXT as bytes) name their array themselves.
    const unnamed = getFormat(format).capabilities.tensors === 'one' && !reader.tensors.some((info) => info.name === spec.name);
    const tensor = await reader.read(unnamed ? reader.tensors[0]!.name : spec.name);
    assert.deepEqual(tensor.shape, spec.shape, `${format} ${spec.name} shape`);
    assert.deepEqual(Buffer.from(tensor.data), Buffer.from(dataOf(spec)), `${format} ${spec.name} bytes`);
  }
}

// The built-in writers, read back byte for byte from the sink.
const singleFileWriters = ['safetensors', 'npy', 'npz', 'pytorch'];

test('single-file writers: the built-ins are registered writers of single files', () => {
  for (const name of singleFileWriters) assert.ok(getFormat(name).createWriter && !getFormat(name).capabilities.folder, name);
});

// Every other registered single-file writer (formats added later) must at least take a sink
// as a target: its bytes arrive in the sink, or it refuses with a TensioError saying why
// (a library that needs a local file), never a TypeError from treating the sink as a path.
const otherWriters = BUILT_IN_FORMATS.filter((format) => format.createWriter && !format.capabilities.folder && !singleFileWriters.includes(format.name));
for (const format of otherWriters) {
  test(`${format.name} takes a ByteSink as its target (bytes arrive, or a TensioError says why)`, async () => {
    const sink = sequentialSink();
    const specs = format.capabilities.tensors === 'one' ? plan.slice(0, 1) : plan;
    try {
      await writeAll(format.name, sink, specs);
    } catch (error) {
      assert.ok(isTensioError(error), `${format.name}: ${String(error)}`);
      return;
    }
    assert.ok(sink.bytes().byteLength > 0);
  });
}

for (const format of singleFileWriters) {
  const specs = getFormat(format).capabilities.tensors === 'one' ? plan.slice(0, 1) : plan;
  for (const kind of ['can writeAt', 'cannot writeAt'] as const) {
    test(`${format} writes to an in-memory sink that ${kind}; the bytes read back`, async () => {
      const sink = kind === 'can writeAt' ? patchableSink() : sequentialSink();
      await writeAll(format, sink, specs);
      await assertReadsBack(sink.bytes(), format, specs);
    });
  }
}

test('safetensors crc32 to a sink that can writeAt patches it in place (no staging)', async () => {
  const sink = patchableSink();
  await writeAll('safetensors', sink, plan, { crc32: true });
  assert.equal(sink.patches, plan.length, 'each reserved CRC placeholder is patched in the sink itself');
  const report = await verifyTensorFile(sink.bytes(), { format: 'safetensors' });
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, plan.length);
});

test('safetensors crc32 to a sink that cannot writeAt stages through a local temporary file, then copies', async () => {
  const before = new Set(await readdir(tmpdir()));
  const sink = sequentialSink();
  await writeAll('safetensors', sink, plan, { crc32: true });
  const report = await verifyTensorFile(sink.bytes(), { format: 'safetensors' });
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, plan.length, 'the CRCs patched in the staging file reached the sink');
  await assertReadsBack(sink.bytes(), 'safetensors', plan);
  const left = (await readdir(tmpdir())).filter((name) => !before.has(name) && name.includes('.tensio-'));
  assert.deepEqual(left, [], 'the staging file is removed');
});

test('safetensors crc32 with staging "never" refuses a sink that cannot writeAt, saying why; the sink is aborted', async () => {
  const sink = sequentialSink();
  await assert.rejects(writeAll('safetensors', sink, plan, { crc32: true }, 'never'), (error) => {
    assert.ok(isTensioError(error, 'UNSUPPORTED_FEATURE'));
    assert.match((error as Error).message, /crc32/);
    assert.match((error as Error).message, /canWriteAt/);
    return true;
  });
  assert.equal(sink.writes, 0, 'nothing was written');
  assert.throws(() => sink.bytes(), (error) => isTensioError(error, 'INVALID_STATE'), 'an aborted sink has no bytes');
});

test('an aborted staged write aborts the destination and leaves no staging file', async () => {
  const before = new Set(await readdir(tmpdir()));
  const sink = sequentialSink();
  const writer = await getFormat('safetensors').createWriter!(sink, { tensors: plan, formatOptions: { crc32: true } });
  await writer.add(writer.order[0]!, dataOf(plan.find((spec) => spec.name === writer.order[0])!));
  await writer.abort();
  assert.throws(() => sink.bytes(), (error) => isTensioError(error, 'INVALID_STATE'));
  const left = (await readdir(tmpdir())).filter((name) => !before.has(name) && name.includes('.tensio-'));
  assert.deepEqual(left, []);
});

test('a store key is a target: single files go through store.sink, atomically', async (t) => {
  const dir = await tempDir(t);
  const store = folderStore(dir);
  for (const [format, key] of [['npz', 'sub/a.npz'], ['pytorch', 'b.pt'], ['safetensors', 'c.safetensors'], ['npy', 'd/e.npy']] as const) {
    const specs = format === 'npy' ? plan.slice(0, 1) : plan;
    await writeAll(format, { store, key }, specs, format === 'safetensors' ? { crc32: true } : undefined);
    await assertReadsBack(await store.read(key), format, specs);
  }
  assert.deepEqual(await store.list(), ['b.pt', 'c.safetensors', 'd/e.npy', 'sub/a.npz']);
});

test('sharded safetensors: a store key works, a bare sink is refused', async (t) => {
  const dir = await tempDir(t);
  const store = folderStore(dir);
  await writeAll('safetensors', { store, key: 'ckpt/model.safetensors.index.json' }, plan, { maxShardBytes: 48 });
  assert.deepEqual(await store.list('ckpt/'), ['ckpt/model-00001-of-00002.safetensors', 'ckpt/model-00002-of-00002.safetensors', 'ckpt/model.safetensors.index.json']);
  await assertReadsBackPath(join(dir, 'ckpt', 'model.safetensors.index.json'));
  await assert.rejects(writeAll('safetensors', memorySink(), plan, { maxShardBytes: 48 }), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
});

async function assertReadsBackPath(path: string): Promise<void> {
  await using reader = await openTensorFile(path);
  for (const spec of plan) assert.deepEqual(Buffer.from((await reader.read(spec.name)).data), Buffer.from(dataOf(spec)));
}

test('npk: a folder store key works; a sink or a non-local store is refused with UNSUPPORTED_FEATURE', async (t) => {
  const dir = await tempDir(t);
  await writeAll('npk', { store: folderStore(dir), key: 'arrays.npk' }, plan);
  await assertReadsBackPath(join(dir, 'arrays.npk'));
  for (const sink of [patchableSink(), sequentialSink()]) {
    await assert.rejects(writeAll('npk', sink, plan), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
  }
  const other: Store = { ...folderStore(dir) }; // same methods, but not a folderStore
  await assert.rejects(writeAll('npk', { store: other, key: 'x.npk' }, plan), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
});

test('a read-only store refuses writes with UNSUPPORTED_FEATURE', async (t) => {
  const dir = await tempDir(t);
  const readOnly: Store = { ...folderStore(dir), canWrite: false };
  await assert.rejects(openWriteSink({ store: readOnly, key: 'x.npy' }), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
});

test('convert: to a sink (format from `to`), to a store key, and a sink without `to` is refused', async (t) => {
  const dir = await tempDir(t);
  const store = folderStore(dir);
  await writeAll('safetensors', { store, key: 'in.safetensors' }, plan);
  const input = join(dir, 'in.safetensors');
  const sink: ByteSink & { bytes(): Uint8Array } = sequentialSink();
  const result = await convert(input, sink, { to: 'npz' });
  assert.deepEqual(result.files, []);
  await assertReadsBack(sink.bytes(), 'npz', plan);
  const stored = await convert(input, { store, key: 'out/x.pt' });
  assert.deepEqual(stored.files, [store.locate('out/x.pt')]);
  assert.equal(stored.outputFormat, 'pytorch');
  await assertReadsBack(await store.read('out/x.pt'), 'pytorch', plan);
  const crcSink = sequentialSink();
  await convert(input, crcSink, { to: 'safetensors', writeOptions: { crc32: true } });
  assert.equal((await verifyTensorFile(crcSink.bytes(), { format: 'safetensors' })).checksumsVerified, plan.length);
  await assert.rejects(convert(input, sequentialSink(), { to: 'safetensors', writeOptions: { crc32: true }, staging: 'never' }), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
  await assert.rejects(convert(input, memorySink()), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
});

test('every folder format (capabilities.folder) refuses a bare sink with UNSUPPORTED_FEATURE, before writing', async () => {
  const folderWriters = BUILT_IN_FORMATS.filter((format) => format.createWriter && format.capabilities.folder);
  assert.ok(folderWriters.some((format) => format.name === 'npk'));
  for (const format of folderWriters) {
    const sink = sequentialSink();
    await assert.rejects(format.createWriter!(sink, { tensors: plan }), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'), format.name);
    assert.equal(sink.writes, 0, format.name);
  }
});
