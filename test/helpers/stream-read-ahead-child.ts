/**
 * Child process of test/stream-read-ahead.test.ts, run with and without the addon
 * (`TENSIO_NO_MMAP=1`): `stream()` of a local file's tensors through every path, and the
 * read-ahead stream's ways of ending. Prints one JSON line.
 *
 * Usage: `stream-read-ahead-child.ts BIG CUT` — BIG holds tensors `big` (7 MiB + 12 bytes: three chunks of 3 MiB)
 * and `other`; CUT holds `big` only and is shortened during the last scenario.
 * Reports sha256 of `read({ copy: true })` and of each stream variant, whether the default
 * reused-buffer chunks were mapped, and the error codes of: a break then another stream,
 * close() during read-ahead, an abort, and a file cut after the first chunk.
 */
import { createHash } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { isMemoryMapped, memoryMapStatus, openTensorFile, type StreamTensorOptions } from '../../src/index.js';
import { errorCodeOf } from './child-memory.js';

const [big, cut] = process.argv.slice(2) as [string, string];
const CHUNK = 3 * 2 ** 20; // the first chunk splits (two halves of 1.5 MiB); then 3 MiB and 1 MiB + 12 bytes

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const out: Record<string, unknown> = { mapping: memoryMapStatus().enabled };
{
  await using reader = await openTensorFile(big);
  out.read = sha((await reader.read('big', { copy: true })).data);
  const variants: Record<string, StreamTensorOptions> = {
    default: { reuseBuffer: true },
    views: { reuseBuffer: true, copy: false },
    copy: { reuseBuffer: true, copy: true },
    oneBuffer: { reuseBuffer: true, readAhead: false },
    fresh: {},
  };
  const hashes: Record<string, string> = {};
  for (const [name, options] of Object.entries(variants)) {
    const hash = createHash('sha256');
    let mapped = false;
    for await (const chunk of reader.stream('big', { chunkBytes: CHUNK, ...options })) {
      mapped ||= isMemoryMapped(chunk);
      hash.update(chunk);
    }
    hashes[name] = hash.digest('hex');
    out[`${name}Mapped`] = mapped;
  }
  out.hashes = hashes;

  // Leaving after the first chunk (a read of the next in flight), then streaming another tensor:
  // its bytes must not be overwritten by the read the first stream left behind.
  for await (const chunk of reader.stream('big', { chunkBytes: CHUNK, reuseBuffer: true })) {
    out.firstChunk = chunk.byteLength;
    break;
  }
  const other = createHash('sha256');
  for await (const chunk of reader.stream('other', { chunkBytes: CHUNK, reuseBuffer: true })) other.update(chunk);
  out.other = other.digest('hex');
  out.otherRead = sha((await reader.read('other', { copy: true })).data);

  // An abort while the consumer holds the first chunk ends the stream with ABORTED at the next.
  const controller = new AbortController();
  out.aborted = await errorCodeOf(async () => {
    for await (const chunk of reader.stream('big', { chunkBytes: CHUNK, reuseBuffer: true, signal: controller.signal })) {
      void chunk;
      controller.abort();
    }
  });
}
for (const [key, options] of [['closed', {}], ['closedOneBuffer', { readAhead: false }]] as const) {
  // close() while the next chunk is being read ahead (or, with one buffer, before it is read): the next step fails, nothing hangs.
  const reader = await openTensorFile(big);
  const chunks: number[] = [];
  out[key] = await errorCodeOf(async () => {
    for await (const chunk of reader.stream('big', { chunkBytes: CHUNK, reuseBuffer: true, ...options })) {
      chunks.push(chunk.byteLength);
      if (chunks.length === 1) await reader.close();
    }
  });
  out[`${key}Chunks`] = chunks.length;
}
{
  // The file cut short after the first chunk: the third chunk's read meets the new end.
  const reader = await openTensorFile(cut);
  let chunks = 0;
  out.cut = await errorCodeOf(async () => {
    for await (const chunk of reader.stream('big', { chunkBytes: CHUNK, reuseBuffer: true })) {
      if (chunks === 0) truncateSync(cut, 4096);
      chunks++;
      void chunk;
    }
  });
  out.cutChunks = chunks;
  await reader.close();
}
console.log(JSON.stringify(out));
