/**
 * `stream()` with a reused buffer (issue 15): by default a local file's chunks are read
 * into two reused buffers, the next one on libuv's thread pool while the consumer holds
 * the current one (src/model/create-reader.ts, `streamReadAhead`); `copy: false` still
 * gives mapped views. Every path gives the bytes of `read()`, for every format with a
 * stream, with the addon and without it (`TENSIO_NO_MMAP=1`); leaving early, `close()`
 * during a read ahead, an abort and a file cut short end the stream with a code, never a
 * hang, a crash or a buffer handed to the next stream while still being written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesSource, createTensor, fileSource, isMemoryMapped, memoryMapStatus, openTensorFile, type ByteSource, type StreamTensorOptions } from '../src/index.js';
import { safetensorsSerialize } from '../src/formats/safetensors/index.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { writeEveryFormat } from './helpers/every-format.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'stream-read-ahead-child.ts');
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const VARIANTS: Record<string, StreamTensorOptions> = {
  'reused (default: read ahead)': { reuseBuffer: true },
  'reused, views': { reuseBuffer: true, copy: false },
  'reused, one buffer': { reuseBuffer: true, readAhead: false },
  'reused, copy': { reuseBuffer: true, copy: true },
  'fresh chunks': {},
};

test('every stream path equals read() for every format with a stream, mapped or not', async (t) => {
  const dir = await tempDir(t, 'tensio-stream-ahead-');
  const { written } = await writeEveryFormat(dir);
  assert.ok(written.length >= 10, `formats written: ${written.map((entry) => entry.format).join(', ')}`);
  for (const map of [true, false]) {
    for (const { format, path } of written) {
      // Unmapped: one file opened with map: false (folder formats are covered by test/mmap.test.ts's TENSIO_NO_MMAP=1 child).
      if (!map && statSync(path).isDirectory()) continue;
      const source = map ? undefined : await fileSource(path, { map: false });
      await using reader = await openTensorFile(source ?? path);
      if (source) t.after(() => source.close());
      for (const info of reader.tensors) {
        if (info.layout) continue;
        const expected = sha((await reader.read(info.name, { copy: true })).data);
        for (const [label, options] of Object.entries(VARIANTS)) {
          const hash = createHash('sha256');
          let bytes = 0;
          // 40 000 bytes: several chunks of every sample tensor, none a multiple of a page.
          for await (const chunk of reader.stream(info.name, { chunkBytes: 40_000, ...options })) {
            hash.update(chunk);
            bytes += chunk.byteLength;
          }
          assert.equal(bytes, info.byteLength, `${format} ${info.name} ${label} (map ${map}): length`);
          assert.equal(hash.digest('hex'), expected, `${format} ${info.name} ${label} (map ${map}): bytes differ from read()`);
        }
      }
    }
  }
});

test('a reused-buffer stream reads into memory by default; copy: false gives mapped views where the addon maps', async (t) => {
  const dir = await tempDir(t, 'tensio-stream-ahead-');
  const path = join(dir, 'a.safetensors');
  await writeWithFormat('safetensors', path, { a: createTensor('uint8', [1 << 20], patternBytes(1 << 20, 3)) });
  await using reader = await openTensorFile(path);
  const mappedOf = async (options: StreamTensorOptions) => {
    const seen = [];
    for await (const chunk of reader.stream('a', { chunkBytes: 256 * 1024, ...options })) seen.push(isMemoryMapped(chunk));
    return seen;
  };
  assert.deepEqual(await mappedOf({ reuseBuffer: true }), [false, false, false, false]);
  const maps = memoryMapStatus().enabled;
  assert.deepEqual(await mappedOf({ reuseBuffer: true, copy: false }), [maps, maps, maps, maps]);
  assert.deepEqual(await mappedOf({}), [maps, maps, maps, maps]);
});

for (const withAddon of [true, false]) {
  const skip = withAddon && !memoryMapStatus().enabled ? `skipped: ${memoryMapStatus().reason}` : false;
  test(`read-ahead streams ${withAddon ? 'with the addon' : 'without the addon (TENSIO_NO_MMAP=1)'}: equal bytes; break, close(), abort and a cut file end with a code`, { skip }, async (t) => {
    const dir = await tempDir(t, 'tensio-stream-ahead-');
    const big = join(dir, 'big.safetensors');
    const cut = join(dir, 'cut.safetensors');
    const bigBytes = 7 * 2 ** 20 + 12;
    await writeWithFormat('safetensors', big, {
      big: createTensor('uint8', [bigBytes], patternBytes(bigBytes, 5)),
      other: createTensor('uint8', [3 * 2 ** 20 + 4], patternBytes(3 * 2 ** 20 + 4, 9)),
    });
    await writeWithFormat('safetensors', cut, { big: createTensor('uint8', [bigBytes], patternBytes(bigBytes, 5)) });
    const result = runJsonChild(CHILD, [big, cut], { env: { TENSIO_NO_MMAP: withAddon ? '' : '1' } });
    assert.equal(result.mapping, withAddon);
    const expected = sha(patternBytes(bigBytes, 5));
    assert.equal(result.read, expected);
    assert.deepEqual(result.hashes, { default: expected, views: expected, copy: expected, oneBuffer: expected, fresh: expected });
    assert.equal(result.defaultMapped, false);
    assert.equal(result.viewsMapped, withAddon);
    assert.equal(result.firstChunk, 3 * 2 ** 20);
    // The stream left with a read in flight did not write into the next stream's buffer.
    assert.equal(result.other, result.otherRead);
    assert.equal(result.other, sha(patternBytes(3 * 2 ** 20 + 4, 9)));
    assert.equal(result.aborted, 'ABORTED');
    assert.deepEqual([result.closed, result.closedChunks], ['INVALID_STATE', 1]);
    assert.deepEqual([result.closedOneBuffer, result.closedOneBufferChunks], ['INVALID_STATE', 1]);
    // Cut after the first chunk: the third chunk's read (started after the cut) meets the new end.
    assert.equal(result.cut, 'SOURCE_CHANGED');
    assert.ok((result.cutChunks as number) >= 1 && (result.cutChunks as number) <= 2, `chunks before the error: ${String(result.cutChunks)}`);
  });
}

test('leaving a read-ahead stream early waits for the read in flight before its buffers can serve another stream', async () => {
  // A source whose off-thread reads past the first chunk wait until released: the read in flight is under the test's control.
  const chunkBytes = 64 * 1024;
  const file = safetensorsSerialize({ a: createTensor('uint8', [4 * chunkBytes], patternBytes(4 * chunkBytes, 7)) });
  const memory = bytesSource(file);
  const dataStart = file.byteLength - 4 * chunkBytes;
  const held: (() => void)[] = [];
  const source: ByteSource = {
    size: memory.size,
    readsOffThread: true,
    read: (offset, length, options) => memory.read(offset, length, options),
    async readInto(target, offset, options) {
      if (options?.offThread && offset >= dataStart + chunkBytes) await new Promise<void>((resolve) => held.push(resolve));
      target.set(await memory.read(offset, target.byteLength));
    },
  };
  const reader = await openTensorFile(source, { format: 'safetensors' });
  const chunks = reader.stream('a', { chunkBytes, reuseBuffer: true })[Symbol.asyncIterator]();
  const first = await chunks.next();
  assert.equal(sha(first.value as Uint8Array), sha(patternBytes(4 * chunkBytes, 7).subarray(0, chunkBytes)));
  assert.equal(held.length, 1, 'the second chunk is being read ahead');
  let left = false;
  const leaving = chunks.return!(undefined).then(() => { left = true; });
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(left, false, 'return() settled while a read was still writing into a stream buffer');
  held.shift()!();
  await leaving;
  assert.equal(left, true);
  await reader.close();
});
