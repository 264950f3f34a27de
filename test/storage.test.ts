import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesSource, toByteSource } from '../src/storage/byte-source.js';
import { fileSource } from '../src/storage/file-source.js';
import { withCache } from '../src/storage/cached-source.js';
import { memorySink, sinkWriteMany } from '../src/storage/byte-sink.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { isTensioError } from '../src/core/errors.js';
import { tempDir } from './helpers/temp.js';

const pattern = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 0xff);

test('bytesSource reads views, checks ranges and honours abort', async () => {
  const source = bytesSource(pattern, 'mem');
  assert.deepEqual([...(await source.read(10, 3))], [...pattern.subarray(10, 13)]);
  await assert.rejects(source.read(pattern.length - 2, 3), (e) => isTensioError(e, 'TRUNCATED'));
  await assert.rejects(source.read(-1, 1), (e) => isTensioError(e, 'TRUNCATED'));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(source.read(0, 1, { signal: controller.signal }), (e) => isTensioError(e, 'ABORTED'));
  assert.equal(toByteSource(pattern).size, pattern.length);
});

for (const syncReads of [true, false]) {
  test(`fileSource positional reads (syncReads: ${syncReads}), missing files and folders`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'data.bin');
    await writeFile(path, pattern);
    await using source = await fileSource(path, { syncReads });
    assert.equal(source.size, pattern.length);
    assert.deepEqual([...(await source.read(123_456, 1000))], [...pattern.subarray(123_456, 124_456)]);
    const target = new Uint8Array(50);
    await source.readInto!(target, 299_950);
    assert.deepEqual([...target], [...pattern.subarray(299_950)]);
    await assert.rejects(source.read(299_990, 11), (e) => isTensioError(e, 'TRUNCATED'));
    await assert.rejects(fileSource(join(dir, 'absent.bin')), (e) => isTensioError(e, 'NOT_FOUND'));
    await assert.rejects(fileSource(dir), (e) => isTensioError(e, 'INVALID_ARGUMENT'));
  });
}

test('withCache coalesces small reads into aligned blocks and passes large reads through', async () => {
  let underlying = 0;
  const inner = bytesSource(pattern);
  const counting = { ...inner, read: (offset: number, length: number) => { underlying += 1; return inner.read(offset, length); } };
  const cached = withCache(counting, { blockBytes: 4096, maxBlocks: 4, passThroughBytes: 65_536 });
  for (let offset = 0; offset < 4000; offset += 8) {
    assert.deepEqual([...(await cached.read(offset, 8))], [...pattern.subarray(offset, offset + 8)]);
  }
  assert.equal(underlying, 1, 'five hundred small reads in one block cost one underlying read');
  // A read across a block boundary is stitched from two blocks.
  assert.deepEqual([...(await cached.read(4090, 20))], [...pattern.subarray(4090, 4110)]);
  assert.equal(cached.stats.underlyingReads, 2);
  const big = await cached.read(100_000, 70_000);
  assert.deepEqual([...big.subarray(0, 5)], [...pattern.subarray(100_000, 100_005)]);
  assert.equal(cached.stats.underlyingReads, 3);
  // LRU: touching more than maxBlocks blocks evicts the oldest.
  for (let block = 10; block < 16; block++) await cached.read(block * 4096, 1);
  const before = cached.stats.underlyingReads;
  await cached.read(0, 1);
  assert.equal(cached.stats.underlyingReads, before + 1, 'block 0 was evicted');
  await assert.rejects(cached.read(pattern.length, 1), (e) => isTensioError(e, 'TRUNCATED'));
});

test('memorySink gathers writes and refuses use after close or abort', async () => {
  const sink = memorySink();
  await sink.write(pattern.subarray(0, 10));
  await sink.write(pattern.subarray(10, 25));
  assert.throws(() => sink.bytes(), (e) => isTensioError(e, 'INVALID_STATE'));
  await sink.close();
  assert.deepEqual([...sink.bytes()], [...pattern.subarray(0, 25)]);
  await assert.rejects(sink.write(pattern), (e) => isTensioError(e, 'INVALID_STATE'));
});

test('atomicFileSink publishes only on close; abort keeps the old file and leaves no temporary', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'target.bin');
  await writeFile(path, 'old');
  const sink = await atomicFileSink(path);
  await sink.write(pattern.subarray(0, 1000));
  assert.equal(await readFile(path, 'utf8'), 'old', 'target untouched while writing');
  await sink.abort();
  assert.equal(await readFile(path, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['target.bin']);

  const second = await atomicFileSink(path);
  await second.write(pattern.subarray(0, 1000));
  await second.write(pattern.subarray(1000, 3000));
  await second.close();
  assert.deepEqual(new Uint8Array(await readFile(path)), pattern.subarray(0, 3000));
  assert.deepEqual(await readdir(dir), ['target.bin']);

  await assert.rejects(atomicFileSink(path, { noOverwrite: true }), (e) => isTensioError(e, 'ALREADY_EXISTS'));
  await assert.rejects(atomicFileSink(join(dir, 'no-such-folder', 'x.bin')), (e) => isTensioError(e, 'IO_ERROR'));
  {
    await using disposed = await atomicFileSink(join(dir, 'disposed.bin'));
    await disposed.write(pattern.subarray(0, 10));
  }
  assert.deepEqual(await readdir(dir), ['target.bin'], 'await using without close() aborts');
});

test('atomicFileSink closes its file handle and removes the temporary when fsync fails at close', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.bin');
  const { open } = await import('node:fs/promises');
  const probe = await open(join(dir, 'probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
  await probe.close();
  const { sync } = prototype;
  const failed: { fd: number }[] = [];
  prototype.sync = async function (this: { fd: number }) {
    failed.push(this);
    throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
  };
  t.after(() => {
    prototype.sync = sync;
  });
  const sink = await atomicFileSink(path);
  await sink.write(pattern.subarray(0, 100));
  await assert.rejects(sink.close(), (e) => isTensioError(e, 'IO_ERROR'));
  prototype.sync = sync;
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.fd, -1, 'the temporary file handle was left open');
  assert.deepEqual((await readdir(dir)).sort(), ['probe']);
});

test('withCache: one caller aborting does not fail another caller waiting for the same block', async () => {
  const inner = bytesSource(pattern);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const slow = { ...inner, read: async (offset: number, length: number, options?: { signal?: AbortSignal }) => {
    await gate;
    return inner.read(offset, length, options);
  } };
  const cached = withCache(slow, { blockBytes: 4096 });
  const controller = new AbortController();
  const first = cached.read(0, 8, { signal: controller.signal });
  const second = cached.read(8, 8);
  controller.abort();
  release();
  await assert.rejects(first, (e) => isTensioError(e, 'ABORTED'));
  assert.deepEqual([...(await second)], [...pattern.subarray(8, 16)]);
});

test('atomicFileSink.writeMany: one gathered write of many pieces (more than one writev takes, empty ones too) lands in order; position advances; refused after close', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'gathered.bin');
  const sink = await atomicFileSink(path, { durable: false });
  assert.ok(sink.writeMany, 'the file sink gathers writes');
  // 1500 pieces of 0..6 bytes: more pieces than one writev call takes (1024), some empty.
  const pieces = Array.from({ length: 1500 }, (_, i) => Uint8Array.from({ length: i % 7 }, (_, k) => (i * 7 + k) & 0xff));
  await sink.write(Uint8Array.from([1, 2, 3]));
  await sinkWriteMany(sink, pieces);
  const expected = Buffer.concat([Uint8Array.from([1, 2, 3]), ...pieces]);
  assert.equal(sink.position, expected.byteLength);
  await sinkWriteMany(sink, [Uint8Array.from([9])]);
  await sink.close();
  assert.ok((await readFile(path)).equals(Buffer.concat([expected, Uint8Array.from([9])])));
  await assert.rejects(sink.writeMany!([Uint8Array.from([1])]), (error: unknown) => isTensioError(error) && error.code === 'INVALID_STATE');
});

test('sinkWriteMany falls back to one write per chunk for a sink without writeMany', async () => {
  const sink = memorySink();
  assert.equal(sink.writeMany, undefined);
  await sinkWriteMany(sink, [Uint8Array.from([1, 2]), new Uint8Array(0), Uint8Array.from([3])]);
  await sink.close();
  assert.deepEqual([...sink.bytes()], [1, 2, 3]);
});

test('writeFullyAt resumes short writes at the right positions and refuses a write that makes no progress', async () => {
  const { writeFullyAt } = await import('../src/storage/write-fully.js');
  const file = new Uint8Array(20);
  const calls: [number, number][] = [];
  // A handle that takes at most 3 bytes a call, then none once `stall` is set.
  let stall = false;
  const handle = {
    async write(bytes: Uint8Array, offset: number, length: number, position: number) {
      const take = stall ? 0 : Math.min(3, length);
      calls.push([position, take]);
      file.set(bytes.subarray(offset, offset + take), position);
      return { bytesWritten: take, buffer: bytes };
    },
  } as unknown as import('node:fs/promises').FileHandle;
  const bytes = Uint8Array.from({ length: 8 }, (_, i) => i + 1);
  await writeFullyAt(handle, bytes, 5, () => new Error('unexpected'));
  assert.deepEqual([...file.subarray(5, 13)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(calls, [[5, 3], [8, 3], [11, 2]]);
  stall = true;
  await assert.rejects(
    writeFullyAt(handle, bytes, 2, (byte, cause) => new Error(`failed at ${byte}: ${(cause as Error).message}`)),
    /^Error: failed at 2: no byte written of the 8 left$/,
  );
});
