/**
 * Read-ahead across tensors (issue 15; src/model/next-span-read-ahead.ts): a read-ahead
 * stream that hands out its last chunk starts the read of the next tensor's first chunk
 * (next by file offset), and the next stream that starts there takes it over. Checked
 * with an in-memory source that logs (and on request holds or fails) its off-thread
 * reads: the read is started before the consumer asks; bytes equal `read()` in any order
 * and when streams are left early; a dropped read never writes into a buffer a stream
 * holds; close() waits for it; its error reaches only a consumer who asks for its bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { bytesSource, convert, openTensorFile, TensioError, type ByteSource, type TensorReader } from '../src/index.js';
import { safetensorsSerialize } from '../src/formats/safetensors/index.js';
import type { DType } from '../src/core/dtype.js';
import { patternTensor } from './helpers/patterns.js';
import { tempDir } from './helpers/temp.js';
import { createTensorReader, type TensorLocation } from '../src/model/index.js';
import { rawCodec } from '../src/storage/chunk-codec.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const CHUNK = 64 * 1024;

/** Tensors of several dtypes: one chunk, several chunks, a short last chunk, an empty one. */
function sampleFile(): Uint8Array {
  const specs: [string, DType, number[]][] = [
    ['a', 'float32', [CHUNK / 4]],
    ['b', 'uint8', [3 * CHUNK + 17]],
    ['c', 'int64', [1000, 3]],
    ['d', 'bfloat16', [0]],
    ['e', 'bool', [CHUNK - 5]],
    ['f', 'float64', [2, CHUNK / 8]],
    ['g', 'int16', [CHUNK / 2]],
  ];
  return safetensorsSerialize(Object.fromEntries(specs.map(([name, dtype, shape], at) => [name, patternTensor(dtype, shape, at + 1)])));
}

interface LoggedRead { offset: number; length: number; offThread: boolean }

/**
 * A source over `file` that logs every read; an off-thread read at an offset in `hold`
 * waits until `release()`; one in `fail` rejects (once) with IO_ERROR.
 */
function loggingSource(file: Uint8Array, hold = new Set<number>(), fail = new Set<number>()) {
  const memory = bytesSource(file);
  const log: LoggedRead[] = [];
  const held: (() => void)[] = [];
  const source: ByteSource = {
    size: memory.size,
    readsOffThread: true,
    read: (offset, length, options) => memory.read(offset, length, options),
    async readInto(target, offset, options) {
      log.push({ offset, length: target.byteLength, offThread: options?.offThread === true });
      if (options?.offThread && hold.has(offset)) await new Promise<void>((resolve) => held.push(resolve));
      if (options?.offThread && fail.delete(offset)) throw new TensioError('IO_ERROR', `test: the read of ${target.byteLength} bytes at ${offset} failed`);
      target.set(await memory.read(offset, target.byteLength));
    },
  };
  return { source, log, held, fail, release: () => { for (const resolve of held.splice(0)) resolve(); } };
}

const offsetOf = (reader: TensorReader, name: string) => reader.info(name).extras!.dataOffset as number;
/** The non-empty tensors in file order (safetensors writes them by alignment, not by name). */
const fileOrder = (reader: TensorReader) => reader.tensors.filter((info) => info.byteLength > 0).map((info) => info.name).sort((x, y) => offsetOf(reader, x) - offsetOf(reader, y));
const ticks = async (count = 5) => { for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve)); };

/** The bytes of one stream with reused buffers (hashed chunk by chunk: each chunk is valid until the next). */
async function streamHash(reader: TensorReader, name: string, stopAfter = Infinity): Promise<string> {
  const hash = createHash('sha256');
  let chunks = 0;
  for await (const chunk of reader.stream(name, { chunkBytes: CHUNK, reuseBuffer: true })) {
    hash.update(chunk);
    if (++chunks >= stopAfter) break;
  }
  return hash.digest('hex');
}

test('streaming tensor after tensor: the next tensor\'s first chunk is being read before its stream is asked for, and that read is taken over', async () => {
  const file = sampleFile();
  const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
  const { source, log } = loggingSource(file);
  await using reader = await openTensorFile(source, { format: 'safetensors' });
  const names = reader.tensors.map((info) => info.name);
  // In file order (the reader lists safetensors tensors in data order).
  const byOffset = [...names].sort((x, y) => offsetOf(reader, x) - offsetOf(reader, y));
  assert.deepEqual(names, byOffset);
  const expected = new Map<string, string>();
  for (const name of names) expected.set(name, sha((await probe.read(name, { copy: true })).data));
  const nonEmpty = names.filter((name) => reader.info(name).byteLength > 0);
  for (const [at, name] of nonEmpty.entries()) {
    assert.equal(await streamHash(reader, name), expected.get(name), `${name}: bytes differ from read()`);
    const next = nonEmpty[at + 1];
    if (!next) continue;
    const started = log.filter((read) => read.offset === offsetOf(reader, next));
    assert.equal(started.length, 1, `${next}: its first chunk's read started before stream() was called`);
    assert.equal(started[0]!.offThread, true);
    assert.equal(started[0]!.length, Math.min(CHUNK, reader.info(next).byteLength));
  }
  // Each first chunk after the first tensor's was read once: the streams took the reads over.
  for (const name of nonEmpty.slice(1)) assert.equal(log.filter((read) => read.offset === offsetOf(reader, name)).length, 1, name);
  // The empty tensor streams nothing and does not break the chain (d sits between c and e).
  assert.equal(await streamHash(reader, 'd'), expected.get('d'));
});

test('convert streams tensor after tensor with each next first chunk read ahead, and writes the same tensors', async (t) => {
  const dir = await tempDir(t, 'tensio-stream-across-');
  const file = sampleFile();
  const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
  const { source, log } = loggingSource(file);
  const output = join(dir, 'out.safetensors');
  await convert(source, output, { from: 'safetensors' });
  const order = fileOrder(probe);
  // The first tensor is read when asked for; every later one's first read was the read ahead, taken over.
  for (const name of order.slice(1)) {
    const reads = log.filter((read) => read.offset === offsetOf(probe, name));
    assert.deepEqual(reads.map((read) => read.offThread), [true], `${name}: one read of its first chunk, started ahead`);
  }
  await using written = await openTensorFile(output);
  assert.deepEqual(written.tensors.map((info) => info.name).sort(), probe.tensors.map((info) => info.name).sort());
  for (const info of probe.tensors) {
    assert.equal(sha((await written.read(info.name, { copy: true })).data), sha((await probe.read(info.name, { copy: true })).data), info.name);
  }
});

test('out-of-order streams, streams left early and streams of other chunk sizes give the bytes of read()', async () => {
  const file = sampleFile();
  const { source } = loggingSource(file);
  await using reader = await openTensorFile(source, { format: 'safetensors' });
  const names = reader.tensors.map((info) => info.name);
  const expected = new Map<string, Uint8Array>();
  for (const name of names) expected.set(name, (await reader.read(name, { copy: true })).data);
  const orders = [[...names].reverse(), ['b', 'a', 'c', 'b', 'e', 'g', 'f', 'a'], ['a', 'a', 'b', 'b']];
  for (const order of orders) {
    for (const name of order) assert.equal(await streamHash(reader, name), sha(expected.get(name)!), `${order.join('')}: ${name}`);
  }
  // Left after the first chunk: no read of the next tensor was asked for, later streams are intact.
  for (const name of names) {
    const first = expected.get(name)!.subarray(0, CHUNK);
    assert.equal(await streamHash(reader, name, 1), sha(first), `${name} (first chunk only)`);
  }
  for (const name of names) assert.equal(await streamHash(reader, name), sha(expected.get(name)!), `${name} after partial streams`);
  // Another chunk size than the one read ahead: the read is dropped, the stream reads its own.
  for (const name of names) {
    const hash = createHash('sha256');
    for await (const chunk of reader.stream(name, { chunkBytes: 10_000, reuseBuffer: true })) hash.update(chunk);
    assert.equal(hash.digest('hex'), sha(expected.get(name)!), `${name} in chunks of 10 000 bytes`);
  }
});

test('a dropped read ahead never writes into a buffer another stream holds', async () => {
  const file = sampleFile();
  const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
  const [first, second, , other] = fileOrder(probe) as [string, string, string, string];
  const { source, held, release } = loggingSource(file, new Set([offsetOf(probe, second)]));
  await using reader = await openTensorFile(source, { format: 'safetensors' });
  const expectedOther = sha((await probe.read(other, { copy: true })).data);
  await streamHash(reader, first);
  assert.equal(held.length, 1, `${second}'s first chunk is being read ahead`);
  // The stream buffer pool is emptied (streams of another reader that hold their buffers), so a buffer given back too early would be handed out again below.
  const drained = [];
  for (let count = 0; count < 6; count++) {
    const chunks = probe.stream(other, { chunkBytes: 1000, reuseBuffer: true })[Symbol.asyncIterator]();
    await chunks.next();
    drained.push(chunks);
  }
  // Other streams instead, several at once, each holding its first chunk: the read of the second is dropped
  // while still writing, and between them these streams take every buffer the pool has; none may be its buffer.
  const expectedFirst = sha((await probe.read(other, { copy: true })).data.subarray(0, 1000));
  const open = [];
  for (let count = 0; count < 6; count++) {
    const chunks = reader.stream(other, { chunkBytes: 1000, reuseBuffer: true })[Symbol.asyncIterator]();
    open.push({ chunks, chunk: (await chunks.next()).value as Uint8Array });
  }
  release();
  await ticks();
  for (const { chunk } of open) assert.equal(sha(chunk), expectedFirst);
  for (const { chunks } of open) await chunks.return!(undefined);
  for (const chunks of drained) await chunks.return!(undefined);
  assert.equal(await streamHash(reader, other), expectedOther);
  // The second, streamed now, is read again (nothing held any more) and intact.
  assert.equal(await streamHash(reader, second), sha((await probe.read(second, { copy: true })).data));
});

test('close() waits for a read ahead in flight; after close() no read ahead starts', async () => {
  const file = sampleFile();
  const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
  const order = fileOrder(probe);
  const { source, log, held, release } = loggingSource(file, new Set([offsetOf(probe, order[1]!)]));
  const reader = await openTensorFile(source, { format: 'safetensors' });
  await streamHash(reader, order[0]!);
  assert.equal(held.length, 1);
  let closed = false;
  const closing = reader.close().then(() => { closed = true; });
  await ticks();
  assert.equal(closed, false, 'close() settled while a read ahead was still writing');
  release();
  await closing;
  assert.equal(closed, true);
  await assert.rejects(streamHash(reader, order[1]!), (error: TensioError) => error.code === 'INVALID_STATE');

  // Closed while the last chunk of a stream is being read: that stream starts no read ahead of the next tensor.
  const lastOfB = offsetOf(probe, 'b') + 3 * CHUNK;
  const afterB = order[order.indexOf('b') + 1]!;
  assert.ok(afterB, 'b (several chunks) is not the last tensor');
  const second = loggingSource(file, new Set([lastOfB]));
  const other = await openTensorFile(second.source, { format: 'safetensors' });
  const chunks = other.stream('b', { chunkBytes: CHUNK, reuseBuffer: true })[Symbol.asyncIterator]();
  for (let at = 0; at < 3; at++) await chunks.next();
  const last = chunks.next();
  await ticks();
  assert.equal(second.held.length, 1, 'the last chunk of b is being read');
  const otherClosing = other.close();
  second.release();
  await otherClosing;
  await last.catch(() => undefined);
  await chunks.return?.(undefined);
  await ticks();
  assert.equal(second.log.filter((read) => read.offset === offsetOf(probe, afterB)).length, 0, `no read ahead of ${afterB} after close()`);
  assert.equal(log.filter((read) => read.offset === offsetOf(probe, afterB)).length, 0, `no read ahead of ${afterB} after close()`);
});

test('an error of a read ahead surfaces only in a stream that asks for those bytes, with its code', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const file = sampleFile();
    const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
    const expected = async (name: string) => sha((await probe.read(name, { copy: true })).data);
    const [a, b, c] = fileOrder(probe) as [string, string, string];

    // Not asked for: the first tensor's stream is followed by the third's; the second's failed read ahead is dropped quietly.
    const quiet = loggingSource(file, new Set(), new Set([offsetOf(probe, b)]));
    const reader = await openTensorFile(quiet.source, { format: 'safetensors' });
    assert.equal(await streamHash(reader, a), await expected(a));
    await ticks();
    assert.equal(quiet.fail.size, 0, 'the read ahead of the second was made (and failed)');
    assert.equal(await streamHash(reader, c), await expected(c));
    // The second itself, asked for later, is read afresh (the failed read was dropped) and intact.
    assert.equal(await streamHash(reader, b), await expected(b));
    await reader.close();

    // Asked for: the stream of the second reports the read ahead's error with its code.
    const loud = loggingSource(file, new Set(), new Set([offsetOf(probe, b)]));
    const second = await openTensorFile(loud.source, { format: 'safetensors' });
    assert.equal(await streamHash(second, a), await expected(a));
    await assert.rejects(streamHash(second, b), (error: TensioError) => error.code === 'IO_ERROR' && /at \d+ failed/.test(error.message));
    // The reader goes on: the next stream of it reads again.
    assert.equal(await streamHash(second, b), await expected(b));

    // Failing while the reader closes: close() settles, nothing is reported.
    const closing = loggingSource(file, new Set([offsetOf(probe, b)]), new Set([offsetOf(probe, b)]));
    const third = await openTensorFile(closing.source, { format: 'safetensors' });
    await streamHash(third, a);
    const closed = third.close();
    closing.release();
    await closed;
    await second.close();
    await ticks();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('a format whose locations cost (a promise, a chunk list) is not located ahead: its streams read ahead within each tensor only', async () => {
  const size = 3 * CHUNK;
  const bytes = patternTensor('uint8', [size], 4).data;
  for (const costly of ['promise', 'chunks'] as const) {
    const { source, log } = loggingSource(bytes);
    const located: string[] = [];
    const spans: Record<string, number> = { a: 0, b: CHUNK, c: 2 * CHUNK };
    const reader = createTensorReader({
      format: 'test',
      size,
      metadata: {},
      tensors: ['a', 'b', 'c'].map((name) => ({ name, dtype: 'uint8', shape: [CHUNK], byteLength: CHUNK })),
      locate(info): TensorLocation | Promise<TensorLocation> {
        located.push(info.name);
        const span: TensorLocation = { kind: 'span', source, offset: spans[info.name]! };
        if (info.name !== 'a') return span;
        if (costly === 'promise') return Promise.resolve(span);
        return { kind: 'chunks', chunks: [{ source, offset: 0, storedLength: CHUNK, codec: rawCodec, decodedLength: CHUNK, byteLength: CHUNK, format: 'test', label: 'a' }] };
      },
    });
    for (const name of ['b', 'c']) {
      assert.equal(await streamHash(reader, name), sha(bytes.subarray(spans[name]!, spans[name]! + CHUNK)), `${costly}: ${name}`);
    }
    // b's stream ended: the listing located a (the costly one) and stopped; c was then read only when streamed.
    assert.deepEqual(located, ['b', 'a', 'c'], costly);
    assert.deepEqual(log.filter((read) => read.offset === 2 * CHUNK).map((read) => read.offThread), [false], `${costly}: c read when asked for`);
    await reader.close();
  }
});

test('a long first chunk read ahead is read in two halves at once; the stream waits for both, and an error of either reaches it', async () => {
  const MiB = 2 ** 20;
  const file = safetensorsSerialize({ x: patternTensor('uint8', [3 * MiB], 1), y: patternTensor('uint8', [3 * MiB + 5], 2) });
  const probe = await openTensorFile(bytesSource(file), { format: 'safetensors' });
  const [first, second] = fileOrder(probe) as [string, string];
  const at = offsetOf(probe, second);
  const length = probe.info(second).byteLength;
  const expected = sha((await probe.read(second, { copy: true })).data);
  // Split as a stream's own first chunk is: in the middle, rounded down to a page.
  const half = Math.floor(length / 2) - (Math.floor(length / 2) % 4096);
  for (const fails of [false, true]) {
    const { source, log, held, release } = loggingSource(file, new Set([at + half]), new Set(fails ? [at] : []));
    await using reader = await openTensorFile(source, { format: 'safetensors' });
    // The default chunk (8 MiB): each tensor is one chunk.
    for await (const chunk of reader.stream(first, { reuseBuffer: true })) assert.equal(chunk.byteLength, 3 * MiB);
    assert.deepEqual(log.filter((read) => read.offset >= at).map((read) => [read.offset - at, read.length, read.offThread]), [[0, half, true], [half, length - half, true]]);
    assert.equal(held.length, 1);
    const chunks = reader.stream(second, { reuseBuffer: true })[Symbol.asyncIterator]();
    let settled = false;
    const next = chunks.next().finally(() => { settled = true; });
    next.catch(() => undefined);
    await ticks();
    assert.equal(settled, false, 'the first chunk was handed out (or failed) before its second half was read');
    release();
    if (fails) {
      await assert.rejects(next, (error: TensioError) => error.code === 'IO_ERROR');
    } else {
      assert.equal(sha((await next).value as Uint8Array), expected);
      assert.equal((await chunks.next()).done, true);
      assert.equal(log.filter((read) => read.offset >= at).length, 2, 'the stream read nothing more of its tensor');
    }
  }
});
