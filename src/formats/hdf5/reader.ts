/**
 * Opening an HDF5 file: libhdf5 describes the file (`describe.ts`) and reads datasets
 * as hyperslabs, one band at a time, so a dataset larger than memory streams in
 * bounded memory. A local path is read by libhdf5 on this thread, straight from the
 * file; any other source (a URL, S3, bytes) by libhdf5 in a worker thread whose file
 * reads are range reads of the source (`remote.ts`): nothing is copied whole.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../../core/limits.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorReader } from '../../model/types.js';
import { bytesSource, type ByteSource } from '../../storage/byte-source.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import { fileSource, type FileSource } from '../../storage/file-source.js';
import { localFileSize } from '../../storage/local-paths.js';
import { blobSyncReader } from '../../storage/blob-source.js';
import { httpSyncReader } from '../../storage/http-sync-reader.js';
import { hdf5DescribeFile, hdf5ReadPlanned, type Hdf5DatasetPlan, type Hdf5FileDescription } from './describe.js';
import { hdf5DirectCandidate, hdf5DirectLocation } from './direct-read.js';
import { hdf5Call, hdf5Library } from './library.js';
import { hdf5PluginReads } from './plugin-reads.js';
import type { Hdf5OpenOptions } from './types.js';

export type { Hdf5Attribute, Hdf5Link } from './describe.js';

/** Reads one hyperslab of a dataset (see `hdf5ReadPlanned`). */
export type BandRead = (offset: number[] | null, count: number[] | null, bytes: number) => Uint8Array | Promise<Uint8Array>;

/** Largest hyperslab read at once from a local file (a band): bounds memory whatever the dataset's size. */
const BAND_BYTES = DEFAULT_STREAM_CHUNK_BYTES;

const EMPTY_SOURCE: ByteSource = bytesSource(new Uint8Array(0), 'libhdf5');

/**
 * Opens an HDF5 file (`.h5`, `.hdf5`, netCDF-4 `.nc`) from a local path or any
 * {@link ByteSource} (a URL, S3, bytes: read by range, never copied whole). Tensors are
 * the datasets of the whole tree with a numeric type (integers, floats incl. float16,
 * h5py's bool, enums as their base integer, arrays of these), big-endian ones
 * converted; each tensor's `extras` hold its HDF5 path, chunk shape, filters, max shape
 * and typed attributes. The metadata holds the root group's attributes by name, other
 * groups' as `'/group@name'`, `'hdf5.groups'` (every group path) and `'hdf5.links'`
 * (soft and external links, listed, not followed);
 * `metadata.unsupportedTensors` the datasets tensio cannot read, each with its code
 * (`UNSUPPORTED_DTYPE`, `UNSUPPORTED_FILTER`, `UNSUPPORTED_FEATURE`) and reason.
 *
 * @example
 * ```ts
 * await using reader = await hdf5Open('data.h5');
 * const x = await reader.read('group/x');
 * ```
 */
export async function hdf5Open(input: string | ByteSource, options: Hdf5OpenOptions = {}): Promise<TensorReader> {
  if (typeof input !== 'string') {
    // In a browser's Web Worker a File (FileReaderSync) and a URL (sync XHR with a Range
    // header) are read synchronously, so libhdf5 runs right here.
    const readSync = blobSyncReader(input) ?? httpSyncReader(input);
    if (readSync) return (await import('./in-thread.js')).hdf5OpenInThread(input, readSync, options);
    if (typeof SharedArrayBuffer === 'undefined' || typeof (globalThis as { window?: unknown }).window !== 'undefined') {
      // A web page: no worker thread answering libhdf5's reads (that is Node's way), no synchronous read here.
      throw new TensioError('UNSUPPORTED_FEATURE', `hdf5: ${input.name ?? 'this source'} cannot be read on a web page's main thread (libhdf5 reads synchronously); open the File or URL from a Web Worker (the tensio inspector does), or use the tensio CLI`, { format: 'hdf5' });
    }
    const { hdf5OpenInWorker } = await import('./remote.js');
    return hdf5OpenInWorker(input, options);
  }
  const size = await localFileSize(input);
  if (size === undefined) throw new TensioError('NOT_FOUND', `hdf5: no file at ${input}`, { format: 'hdf5', path: input });
  throwIfAborted(options.signal);
  const library = await hdf5Library();
  const file = hdf5Call(`opening ${input}`, () => library.openFile(input));
  let description: Hdf5FileDescription;
  let source: FileSource;
  try {
    description = hdf5DescribeFile(library.module, file, input, options, library.pluginFilters);
    source = await fileSource(input);
  } catch (error) {
    file.close();
    throw error;
  }
  // Little-endian datasets, unfiltered or with deflate/shuffle/Fletcher-32, are read from
  // the file directly (positioned reads or a mapping; zlib for the chunks); libhdf5 finds
  // the object, the rest is ours.
  const direct = async (plan: Hdf5DatasetPlan) => {
    if (!hdf5DirectCandidate(plan)) return undefined;
    const reference = hdf5Call(`locating ${plan.path}`, () => library.module.create_object_reference(file.file_id, plan.path));
    let address = 0;
    for (let i = Math.min(reference.length, 8) - 1; i >= 0; i--) address = address * 256 + (reference[i]! & 0xff);
    if (reference.length !== 8 || address >= source.size) return undefined;
    const location = await hdf5DirectLocation(source, plan, address);
    return 'declined' in location ? undefined : location;
  };
  // Datasets behind a plugin filter are decoded by a libhdf5 of their own (see plugin-reads.ts).
  const plugins = hdf5PluginReads(input, source);
  const readerFor = (plan: Hdf5DatasetPlan): BandRead => (plan.plugin ? plugins.readerFor(plan) : (offset, count, bytes) => hdf5ReadPlanned(library.module, file.file_id, plan, offset, count, bytes));
  return hdf5ReaderOf(input, size, description, readerFor, async () => {
    try {
      hdf5Call(`closing ${input}`, () => file.close());
    } finally {
      try {
        await plugins.close();
      } finally {
        await source.close();
      }
    }
  }, BAND_BYTES, directReadAllowed(options) ? direct : undefined);
}

/** Set to `1` to read every dataset's bytes through libhdf5 (as `directRead: false` does): for comparisons. */
export const HDF5_LIBHDF5_ONLY_ENV = 'TENSIO_HDF5_LIBHDF5_ONLY';

function directReadAllowed(options: Hdf5OpenOptions): boolean {
  if (options.directRead !== undefined) return options.directRead;
  return typeof process === 'undefined' || process.env?.[HDF5_LIBHDF5_ONLY_ENV] !== '1';
}

/**
 * The {@link TensorReader} over a described file: each tensor is a list of bands of
 * about `bandBytes` (a row slice reads the bands it touches) read by
 * `readerFor(plan)`; `close` runs once, and a read after it is `INVALID_STATE`.
 */
export function hdf5ReaderOf(path: string, size: number, description: Hdf5FileDescription, readerFor: (plan: Hdf5DatasetPlan) => BandRead, close: () => Promise<void>, bandBytes = BAND_BYTES, direct?: (plan: Hdf5DatasetPlan) => Promise<TensorLocation | undefined>): TensorReader {
  let closed = false;
  const directOf = new Map<string, Promise<TensorLocation | undefined>>();
  return createTensorReader({
    format: 'hdf5',
    path,
    size,
    metadata: description.metadata,
    tensors: description.tensors,
    locate: async (info) => {
      const plan = description.plans[info.name]!;
      if (closed) throw new TensioError('INVALID_STATE', `hdf5: ${path} is closed`, { format: 'hdf5' });
      if (direct && hdf5DirectCandidate(plan)) {
        // Located once per dataset (a few small reads of its header and chunk index).
        let found = directOf.get(info.name);
        if (!found) directOf.set(info.name, found = direct(plan));
        const location = await found;
        if (location) return location;
      }
      const read = readerFor(plan);
      const guarded: BandRead = (offset, count, bytes) => {
        if (closed) throw new TensioError('INVALID_STATE', `hdf5: ${path} is closed`, { format: 'hdf5' });
        return read(offset, count, bytes);
      };
      return { kind: 'chunks', chunks: bandsOf(plan, guarded, bandBytes) };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await close();
    },
  });
}

/**
 * Splits a dataset into bands that follow each other in C order, each at most
 * `bandBytes` when possible: along axis 0 when a row fits, else one index of the
 * outer axes at a time along the first axis whose sub-blocks fit. Bands along a chunked
 * axis cover whole chunks, so no chunk is decoded twice.
 */
function bandsOf(plan: Hdf5DatasetPlan, read: BandRead, bandBytes: number): ByteChunk[] {
  const { space, elementBytes, chunks } = plan;
  const label = (what: string) => `dataset ${plan.path} ${what}`;
  const chunkOf = (offset: number[] | null, count: number[] | null, bytes: number, what: string): ByteChunk => {
    const codec: ChunkCodec = {
      name: 'libhdf5',
      // eslint-disable-next-line require-yield
      async *decode(_stored, decodeOptions) {
        throwIfAborted(decodeOptions.signal);
        yield await read(offset, count, bytes);
      },
    };
    return { source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: bytes, byteLength: bytes, format: 'hdf5', label: label(what), corruptCode: 'INVALID_HEADER' };
  };
  if (space.length === 0) return [chunkOf(null, null, elementBytes, '(scalar)')];
  if (space.some((d) => d === 0)) return [];
  // Bytes of one index of axis k (the sub-block of the axes after k).
  const blockBytes = (k: number) => space.slice(k + 1).reduce((a, b) => a * b, elementBytes);
  let axis = 0;
  while (axis < space.length - 1 && blockBytes(axis) > bandBytes) axis++;
  const step0 = Math.max(1, Math.floor(bandBytes / blockBytes(axis)));
  const chunkAlong = chunks?.[axis];
  const step = chunkAlong && chunkAlong * blockBytes(axis) <= 4 * bandBytes ? Math.max(chunkAlong, Math.floor(step0 / chunkAlong) * chunkAlong) : step0;
  const outer = space.slice(0, axis);
  const outerCount = outer.reduce((a, b) => a * b, 1);
  const result: ByteChunk[] = [];
  const index = new Array<number>(axis).fill(0);
  for (let o = 0; o < outerCount; o++) {
    for (let start = 0; start < space[axis]!; start += step) {
      const rows = Math.min(step, space[axis]! - start);
      const offset = [...index, start, ...space.slice(axis + 1).map(() => 0)];
      const count = [...index.map(() => 1), rows, ...space.slice(axis + 1)];
      result.push(chunkOf(offset, count, rows * blockBytes(axis), `[${offset.join(', ')}] + [${count.join(', ')}]`));
    }
    for (let k = axis - 1; k >= 0; k--) {
      if (++index[k]! < space[k]!) break;
      index[k] = 0;
    }
  }
  return result;
}
