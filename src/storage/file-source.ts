/**
 * A {@link ByteSource} over a local file: positional reads on one file handle.
 * Never `readFile`: Node refuses files over 2 GiB and it would hold the whole file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fstatSync, readSync } from 'node:fs';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { checkRange, type ByteSource, type MappedBytes, type ReadOptions } from './byte-source.js';
import { MAP_MIN_BYTES, mapFileIntoWasmMemory, mapFileRange, memoryMapAvailable, memoryMapFaulted, populateMappedView, wasmMemoryBaseModulo } from './memory-map.js';
import { allocateUninitialized } from '../core/memory.js';

/** A file-backed {@link ByteSource}; close it (or use `await using`) when done. */
export interface FileSource extends ByteSource {
  readonly name: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link fileSource}. */
export interface FileSourceOptions {
  /**
   * Issue each positional read with `readSync` on the open descriptor (default true; the
   * file's size is then also asked with `fstatSync` at open).
   * Large synchronous reads run at the speed of C's `read()`, measurably faster here
   * than the thread-pool path; each call blocks the event loop for one chunk (8 MiB by
   * default, about 2 ms from the page cache). Pass `false` to keep the event loop free
   * during every read (servers handling many requests at once). A read asked for with
   * `offThread` (read-ahead) goes to the thread pool either way.
   */
  syncReads?: boolean;
  /**
   * Hand out tensors as views over a memory mapping of the file instead of copies
   * (default true when the native addon is built and `TENSIO_NO_MMAP` is not set; see
   * `memoryMapStatus()`). Pass `false` to always read into fresh memory.
   */
  map?: boolean;
  /** Ranges shorter than this are read, not mapped (default {@link MAP_MIN_BYTES}, 64 KiB). */
  mapMinBytes?: number;
}

/**
 * Opens a file for positional reads.
 *
 * @example
 * ```ts
 * await using source = await fileSource('model.safetensors');
 * const head = await source.read(0, 8);
 * ```
 */
export async function fileSource(path: string, options: FileSourceOptions = {}): Promise<FileSource> {
  const syncReads = options.syncReads ?? true;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new TensioError(code, `cannot open ${path}: ${(cause as Error).message}`, { path, cause });
  }
  let stats;
  try {
    // With synchronous reads (the default) the size is asked synchronously too: fstat of an
    // open descriptor does no I/O on a local file, and on the thread pool it was one more
    // hop (an event-loop turn) per open (session 29).
    stats = syncReads ? fstatSync(handle.fd) : await handle.stat();
  } catch (cause) {
    await handle.close().catch(() => undefined);
    throw new TensioError('IO_ERROR', `cannot stat ${path}: ${(cause as Error).message}`, { path, cause });
  }
  if (!stats.isFile()) {
    await handle.close();
    throw new TensioError('INVALID_ARGUMENT', `${path} is not a regular file`, { path });
  }
  const size = stats.size;
  let closed = false;
  // Set at close(): populate jobs over this file's mappings stop at their next 4 MiB window
  // (fault-ahead is a hint; a closed reader's consumer, if any, takes its own faults).
  const populateCancel = new Int32Array(1);
  const mapMinBytes = Math.max(1, options.mapMinBytes ?? MAP_MIN_BYTES);
  const canMap = (options.map ?? true) && memoryMapAvailable();

  async function readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void> {
    throwIfAborted(options?.signal);
    checkRange(size, offset, target.byteLength, path);
    let done = 0;
    while (done < target.byteLength) {
      // One positional read per 1 GiB at most: Node caps a single read at 2 GiB.
      const want = Math.min(target.byteLength - done, 2 ** 30);
      const bytesRead = syncReads && !options?.offThread
        ? readSync(handle.fd, target, done, want, offset + done)
        : (await handle.read(target, done, want, offset + done)).bytesRead;
      if (bytesRead === 0) {
        // The range was inside the file when it was opened (checkRange): it was shortened since.
        throw new TensioError('SOURCE_CHANGED', `${path} ended at ${offset + done} while ${target.byteLength - done} more bytes were expected: it was ${size} bytes when opened (was it truncated or rewritten in place?)`, { path, offset: offset + done });
      }
      done += bytesRead;
      throwIfAborted(options?.signal);
    }
  }

  const source: FileSource = {
    size,
    name: path,
    async read(offset, length, options) {
      checkRange(size, offset, length, path);
      const target = allocateUninitialized(length);
      await readInto(target, offset, options);
      return target;
    },
    readInto,
    readsOffThread: true,
    ...(canMap ? {
      map(offset: number, length: number): MappedBytes | undefined {
        if (closed || length < mapMinBytes) return undefined;
        checkRange(size, offset, length, path);
        const bytes = mapFileRange(handle.fd, offset, length, path);
        return bytes ? {
          bytes,
          faulted: () => memoryMapFaulted(bytes),
          populate: () => populateMappedView(bytes, path, populateCancel),
          // One fstat (no I/O): what the addon's map checks, for a mapping handed out later than it was made.
          stillThere: () => !closed && fstatSync(handle.fd).size >= offset + length,
        } : undefined;
      },
      mapIntoWasm(memory, byteOffset, offset, length) {
        if (closed || length < mapMinBytes) return undefined;
        checkRange(size, offset, length, path);
        const mapping = mapFileIntoWasmMemory(memory, byteOffset, handle.fd, offset, length, path);
        return mapping && { ...mapping, populate: () => mapping.populate?.(populateCancel) };
      },
      wasmBaseModulo: wasmMemoryBaseModulo,
    } : {}),
    async close() {
      if (closed) return;
      closed = true;
      populateCancel[0] = 1;
      await handle.close();
    },
    async [Symbol.asyncDispose]() {
      await source.close();
    },
  };
  return source;
}
