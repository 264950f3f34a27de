/**
 * Raw `fs` baselines for the same bytes a format benchmark writes or reads: what plain
 * Node gets from the system calls a pure-TS library must make (perf-anchors.md §4.1).
 */
import { closeSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { timeIt } from './timing.js';

/** Chunk size of the raw baselines: large positional calls, as perf-anchors.md recommends. */
export const RAW_CHUNK_BYTES = 8 * 2 ** 20;

/** Readers never ask for more than this per call (Linux caps a read at 2 GiB - 4 KiB). */
const MAX_CALL_BYTES = 2 ** 30;

/**
 * Removes the paths if present and flushes dirty pages system-wide (untimed), so every
 * write starts from the same writeback state — the peers' harness does the same.
 *
 * @example
 * ```ts
 * freshTarget('/tmp/x/raw.bin', '/tmp/x/out.safetensors');
 * ```
 */
export function freshTarget(...paths: string[]): void {
  // Unlinking every output of the phase first drops their dirty pages, so the sync is
  // cheap and no contender pays for flushing another one's file.
  for (const path of paths) {
    try {
      unlinkSync(path);
    } catch {
      // absent already
    }
  }
  spawnSync('sync');
}

/**
 * Writes the pieces in order with `fs.writeSync` to a new file, no fsync unless asked.
 * Returns seconds (open to close).
 *
 * @example
 * ```ts
 * const seconds = await rawWrite(path, [header, ...chunks]);
 * ```
 */
export async function rawWrite(path: string, pieces: readonly Uint8Array[], options: { fsync?: boolean } = {}): Promise<number> {
  return timeIt(() => {
    const fd = openSync(path, 'w');
    try {
      for (const piece of pieces) {
        let done = 0;
        while (done < piece.byteLength) done += writeSync(fd, piece, done, piece.byteLength - done);
      }
      if (options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** Reads exactly `target.byteLength` bytes at `position` (several `readSync` calls when the kernel returns fewer). */
export function readFully(fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.byteLength) {
    const got = readSync(fd, target, done, Math.min(target.byteLength - done, MAX_CALL_BYTES), position + done);
    if (got === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += got;
  }
}

/**
 * The buffer a raw reused-read contender reads into: allocated once per benchmark group
 * and written once here, before any timing, so no timed read pays a page fault for it
 * and the contender measures only the copy out of the page cache (the fastest a read of
 * those bytes can be in this process: the honest upper reference for ratios).
 *
 * @example
 * ```ts
 * const reused = rawReusedBuffer();
 * const seconds = await rawReadReused(path, [{ offset: 0, length: size }], reused);
 * ```
 */
export function rawReusedBuffer(bytes = RAW_CHUNK_BYTES): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(bytes);
  buffer.fill(0);
  return buffer;
}

/**
 * Reads every span of a file through one reused buffer (from {@link rawReusedBuffer}),
 * a buffer's worth at a time; `each`, when given, runs on every piece read, inside the
 * timing (the mmap group's "+ sum" contenders). Returns seconds.
 *
 * @example
 * ```ts
 * const seconds = await rawReadReused(path, [{ offset: 128, length: size - 128 }], rawReusedBuffer());
 * ```
 */
export async function rawReadReused(path: string, spans: readonly { offset: number; length: number }[], buffer: Uint8Array, each?: (bytes: Uint8Array) => void): Promise<number> {
  return timeIt(() => {
    const fd = openSync(path, 'r');
    try {
      readSpansReused(fd, spans, buffer, each);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The loop of the reused-buffer contenders, untimed: every span of `fd` read through
 * `buffer`, a buffer's worth at a time (the last piece of a span a view of its start),
 * `each` on every piece. Returns the bytes read.
 *
 * @example
 * ```ts
 * const bytes = readSpansReused(fd, spans, rawReusedBuffer(), (piece) => { total += sum(piece); });
 * ```
 */
export function readSpansReused(fd: number, spans: readonly { offset: number; length: number }[], buffer: Uint8Array, each?: (bytes: Uint8Array) => void): number {
  let bytes = 0;
  for (const span of spans) {
    for (let at = 0; at < span.length; at += buffer.byteLength) {
      const part = Math.min(buffer.byteLength, span.length - at);
      const target = part === buffer.byteLength ? buffer : buffer.subarray(0, part);
      readFully(fd, target, span.offset + at);
      each?.(target);
      bytes += part;
    }
  }
  return bytes;
}

/**
 * {@link rawReadReused} of a safetensors file's tensors with the spans taken from the
 * file's own header inside the timing (open, the 8-byte length, `JSON.parse` of the
 * header, `data_offsets`): the work a reader does before the bytes, so a "stream" row can
 * be read against a raw side that did it too. Returns seconds.
 *
 * @example
 * ```ts
 * const seconds = await rawReadReusedWithHeader('model.safetensors', rawReusedBuffer());
 * ```
 */
export async function rawReadReusedWithHeader(path: string, buffer: Uint8Array, each?: (bytes: Uint8Array) => void): Promise<number> {
  return timeIt(() => {
    const fd = openSync(path, 'r');
    try {
      readSpansReused(fd, safetensorsHeaderSpans(fd), buffer, each);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The tensors' spans (absolute offsets) from a safetensors file's own header: the 8-byte
 * length, `JSON.parse` of the header, `data_offsets` after it — the work a minimal reader
 * does before the bytes.
 *
 * @example
 * ```ts
 * const spans = safetensorsHeaderSpans(openSync('model.safetensors', 'r'));
 * ```
 */
export function safetensorsHeaderSpans(fd: number): { offset: number; length: number }[] {
  const prefix = Buffer.alloc(8);
  readFully(fd, prefix, 0);
  const length = Number(prefix.readBigUInt64LE(0));
  const json = Buffer.allocUnsafe(length);
  readFully(fd, json, 8);
  const header = JSON.parse(json.toString('utf8')) as Record<string, { data_offsets?: [number, number] }>;
  const spans: { offset: number; length: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !entry.data_offsets) continue;
    spans.push({ offset: 8 + length + entry.data_offsets[0], length: entry.data_offsets[1] - entry.data_offsets[0] });
  }
  return spans;
}

/**
 * Reads each span into its own fresh buffer (one allocation per tensor, as a loader that
 * hands out owned tensors must); `each`, when given, runs on every buffer read, inside
 * the timing. Returns seconds; the buffers are dropped afterwards.
 *
 * @example
 * ```ts
 * const seconds = await rawReadFresh(path, [{ offset: 128, length: 1 << 24 }]);
 * ```
 */
export async function rawReadFresh(path: string, spans: readonly { offset: number; length: number }[], each?: (bytes: Uint8Array) => void): Promise<number> {
  const kept: Uint8Array[] = [];
  const seconds = await timeIt(() => {
    const fd = openSync(path, 'r');
    try {
      for (const span of spans) {
        const target = Buffer.allocUnsafeSlow(span.length);
        readFully(fd, target, span.offset);
        each?.(target);
        kept.push(target);
      }
    } finally {
      closeSync(fd);
    }
  });
  kept.length = 0;
  return seconds;
}

/**
 * Splits buffers into views of at most `chunkBytes` (no copy), the pieces both the raw
 * write and the streaming writers receive.
 *
 * @example
 * ```ts
 * const pieces = chunkViews(tensorData, RAW_CHUNK_BYTES);
 * ```
 */
export function chunkViews(data: Uint8Array, chunkBytes = RAW_CHUNK_BYTES): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    views.push(data.subarray(offset, Math.min(data.byteLength, offset + chunkBytes)));
  }
  return views;
}
