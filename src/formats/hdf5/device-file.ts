/**
 * A read-only file in h5wasm's in-memory file system whose reads are answered by a
 * function (a range reader) instead of bytes held in memory, so libhdf5 reads a file
 * of any size, from anywhere, one `pread` at a time. No Node import: the same node works
 * in a browser worker (answering with `FileReaderSync` or a synchronous range request).
 */

/** Answers one read: fills `target` with the bytes at `position` (the caller keeps them in range). */
export type SyncRangeRead = (target: Uint8Array, position: number) => void;

/** The parts of Emscripten's `FS` the file needs. */
export interface EmscriptenFs {
  mkdir(path: string): unknown;
  createFile(parent: string, name: string, properties: object, canRead: boolean, canWrite: boolean): EmscriptenNode;
  ErrnoError: new (errno: number) => Error;
}

interface EmscriptenNode {
  stream_ops: Record<string, unknown>;
}

/** Emscripten's errno for an I/O error (EIO): libhdf5 sees a failed read and unwinds cleanly. */
const EIO = 29;

/**
 * Creates `/devices/NAME` of `size` bytes whose reads call `read`. A read that throws
 * is passed to `onError` (keep it: libhdf5 only reports "read failed") and becomes an
 * I/O error inside libhdf5, never a JavaScript exception through WebAssembly frames.
 *
 * @example
 * ```ts
 * const path = mountRangeFile(module.FS, 'data.h5', size, (target, at) => target.set(bytes.subarray(at, at + target.byteLength)), console.error);
 * const file = new h5wasm.File(path, 'r');
 * ```
 */
export function mountRangeFile(fs: EmscriptenFs, name: string, size: number, read: SyncRangeRead, onError: (error: unknown) => void): string {
  try {
    fs.mkdir('/devices');
  } catch {
    // Already there (a second file in the same module).
  }
  const node = fs.createFile('/devices', name, {}, true, false);
  // MEMFS reports a file's size from `usedBytes` (libhdf5 checks the end of file against it).
  Object.defineProperty(node, 'usedBytes', { get: () => size });
  node.stream_ops = {
    ...node.stream_ops,
    read(_stream: unknown, heap: Int8Array, at: number, length: number, position: number): number {
      const count = Math.max(0, Math.min(length, size - position));
      if (count === 0) return 0;
      try {
        read(new Uint8Array(heap.buffer, heap.byteOffset + at, count), position);
      } catch (error) {
        onError(error);
        throw new fs.ErrnoError(EIO);
      }
      return count;
    },
    write(): number {
      throw new fs.ErrnoError(EIO);
    },
  };
  return `/devices/${name}`;
}
