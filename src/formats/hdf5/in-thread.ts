/**
 * HDF5 in the calling thread over a synchronous range reader — a browser's Web Worker
 * reading a `File` with `FileReaderSync` (the web inspector's worker): libhdf5 (h5wasm's
 * in-memory build) reads the file through `mountRangeFile`, one range at a time, never
 * whole. Node keeps `remote.ts` (a worker thread answering reads asynchronously), since
 * Node has no synchronous read of an arbitrary source.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import type { TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { hdf5DescribeFile, hdf5ReadPlanned, type Hdf5FileDescription } from './describe.js';
import { mountRangeFile, type SyncRangeRead } from './device-file.js';
import { hdf5Call, hdf5LibraryInMemory } from './library.js';
import { hdf5ReaderOf } from './reader.js';
import type { Hdf5OpenOptions } from './types.js';

/** Bytes of one band read: as remotely, a row slice reads little more than its chunks. */
const BAND_BYTES = 2 ** 20;
let mounted = 0;

/**
 * Opens `source` with libhdf5 in this thread, its reads answered by `readSync`.
 *
 * @example
 * ```ts
 * const reader = await hdf5OpenInThread(source, blobSyncReader(source)!);
 * ```
 */
export async function hdf5OpenInThread(source: ByteSource, readSync: SyncRangeRead, options: Hdf5OpenOptions = {}): Promise<TensorReader> {
  const name = source.name ?? '<bytes>';
  const library = await hdf5LibraryInMemory();
  throwIfAborted(options.signal);
  // libhdf5 only learns "read failed": the reader's own error is kept to be thrown instead.
  let readFailure: unknown;
  const path = mountRangeFile(library.fs, `source-${mounted++}.h5`, source.size, readSync, (error) => {
    readFailure ??= error;
  });
  const call = <T>(what: string, run: () => T): T => {
    try {
      return hdf5Call(what, run);
    } catch (error) {
      const failure = readFailure;
      readFailure = undefined;
      throw failure instanceof TensioError ? failure : error;
    }
  };
  const file = call(`opening ${name}`, () => library.openFile(path));
  let description: Hdf5FileDescription;
  try {
    description = call(`describing ${name}`, () => hdf5DescribeFile(library.module, file, name, options, library.pluginFilters));
  } catch (error) {
    file.close();
    throw error;
  }
  return hdf5ReaderOf(name, source.size, description, (plan) => (offset, count, bytes) => call(`reading ${name}`, () => hdf5ReadPlanned(library.module, file.file_id, plan, offset, count, bytes)), async () => {
    hdf5Call(`closing ${name}`, () => file.close());
  }, BAND_BYTES);
}
