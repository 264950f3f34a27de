/**
 * Undoing an HDF5 chunk's filter pipeline in tensio (the direct path's filtered chunks,
 * `filtered-chunks.ts`): deflate (filter 1) through Node's asynchronous zlib, which runs
 * on libuv's thread pool, so several chunks inflate at once on every core; shuffle (2)
 * undone in typed-array loops (`core/byte-shuffle.ts`); Fletcher-32 (3) checked as
 * libhdf5 checks it. Filters are undone last to first, skipping those the chunk's filter
 * mask says were skipped when it was written (an optional filter that failed, such as
 * deflate on incompressible data).
 *
 * Every failure is a TensioError naming the chunk: a corrupt deflate stream
 * (`INVALID_HEADER`, or `TRUNCATED` when it stops short), one that inflates past what the
 * chunk can hold (`LIMIT_EXCEEDED`: zlib is stopped at that bound, so a bomb costs no
 * memory), a size that does not add up (`SIZE_MISMATCH`), a Fletcher-32 mismatch
 * (`CHECKSUM_MISMATCH`).
 */
import { inflate } from 'node:zlib';
import { TensioError } from '../../core/errors.js';
import { unshuffleBytesInto } from '../../core/byte-shuffle.js';
import { hdf5Fletcher32 } from './checksums.js';
import type { Hdf5PipelineFilter } from './dataset-messages.js';
import { HDF5_DIRECT_FILTERS } from './validate.js';

const FILTER_DEFLATE = 1;
const FILTER_SHUFFLE = 2;
const FILTER_FLETCHER32 = 3;

/**
 * Why tensio cannot undo `pipeline` itself (the dataset then goes to libhdf5), or
 * `undefined` when it can: only deflate, shuffle (with its element size) and
 * Fletcher-32, each at most once.
 *
 * @example
 * ```ts
 * hdf5PipelineRefusal([{ id: 2, clientData: [4] }, { id: 1, clientData: [6] }]); // undefined
 * ```
 */
export function hdf5PipelineRefusal(pipeline: readonly Hdf5PipelineFilter[]): string | undefined {
  const seen = new Set<number>();
  for (const filter of pipeline) {
    if (!HDF5_DIRECT_FILTERS.has(filter.id)) return `filter ${filter.id} is decoded by libhdf5`;
    if (seen.has(filter.id)) return `filter ${filter.id} twice in the pipeline`;
    seen.add(filter.id);
    if (filter.id === FILTER_SHUFFLE && !(filter.clientData[0]! >= 1)) return 'a shuffle filter without its element size';
  }
  if (pipeline.length > 30) return `${pipeline.length} filters`;
  return undefined;
}

/** What undoing one chunk's filters needs. */
export interface Hdf5ChunkFilters {
  readonly pipeline: readonly Hdf5PipelineFilter[];
  /** Bytes of the chunk once decoded. */
  readonly chunkBytes: number;
}

/**
 * Undoes the filters of one stored chunk. Returns its `chunkBytes` decoded bytes: `out`
 * itself when the last step could write there (an unshuffle), else another buffer (what
 * zlib produced, or a view of `stored`) the caller copies from. `what` names the chunk
 * in errors.
 *
 * @example
 * ```ts
 * const bytes = await hdf5UndoFilters(stored, chunk.filterMask, { pipeline, chunkBytes }, 'dataset /x chunk [0, 1]', scratch);
 * ```
 */
export async function hdf5UndoFilters(stored: Uint8Array, mask: number, filters: Hdf5ChunkFilters, what: string, out: Uint8Array): Promise<Uint8Array> {
  const { pipeline, chunkBytes } = filters;
  const applied = pipeline.map((_, i) => (mask & (1 << i)) === 0);
  let bytes = stored;
  for (let i = pipeline.length - 1; i >= 0; i--) {
    if (!applied[i]) continue;
    const filter = pipeline[i]!;
    // The bytes this filter was given when writing: the chunk plus the checksums of the
    // Fletcher-32 filters before it — known unless a deflate came before it.
    let expected = chunkBytes;
    let known = true;
    for (let j = 0; j < i; j++) {
      if (!applied[j]) continue;
      if (pipeline[j]!.id === FILTER_FLETCHER32) expected += 4;
      else if (pipeline[j]!.id === FILTER_DEFLATE) known = false;
    }
    if (filter.id === FILTER_FLETCHER32) {
      bytes = checkFletcher32(bytes, what);
    } else if (filter.id === FILTER_DEFLATE) {
      bytes = await inflateBounded(bytes, expected, what);
    } else if (filter.id === FILTER_SHUFFLE) {
      const last = !applied.slice(0, i).some(Boolean);
      const target = last && out.byteLength === bytes.byteLength ? out : new Uint8Array(bytes.byteLength);
      unshuffleBytesInto(bytes, target, filter.clientData[0]!);
      bytes = target;
    } else {
      throw new TensioError('UNSUPPORTED_FILTER', `hdf5: ${what}: filter ${filter.id} is not decoded by tensio`, { format: 'hdf5' });
    }
    if (known && bytes.byteLength !== expected) {
      throw new TensioError('SIZE_MISMATCH', `hdf5: ${what} holds ${bytes.byteLength} bytes after undoing filter ${filter.id}, ${expected} expected`, { format: 'hdf5' });
    }
  }
  if (bytes.byteLength !== chunkBytes) {
    throw new TensioError('SIZE_MISMATCH', `hdf5: ${what} holds ${bytes.byteLength} bytes, a chunk is ${chunkBytes}`, { format: 'hdf5' });
  }
  return bytes;
}

/**
 * Checks and strips the Fletcher-32 checksum stored after the bytes. Like libhdf5, the
 * checksum of libhdf5 before 1.6.3 (each 16-bit half byte-swapped) is accepted too.
 */
function checkFletcher32(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.byteLength < 4) throw new TensioError('TRUNCATED', `hdf5: ${what} holds ${bytes.byteLength} bytes, too few for its Fletcher-32 checksum`, { format: 'hdf5' });
  const data = bytes.subarray(0, bytes.byteLength - 4);
  const at = bytes.byteLength - 4;
  const stored = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  const computed = hdf5Fletcher32(data);
  const swapped = (((computed & 0x00ff00ff) << 8) | ((computed >>> 8) & 0x00ff00ff)) >>> 0;
  if (stored !== computed && stored !== swapped) {
    throw new TensioError('CHECKSUM_MISMATCH', `hdf5: Fletcher-32 of ${what} is 0x${computed.toString(16).padStart(8, '0')}, stored 0x${stored.toString(16).padStart(8, '0')}: the chunk is corrupt`, { format: 'hdf5' });
  }
  return data;
}

/**
 * Inflates a zlib stream (HDF5's deflate filter) off the main thread, producing at most
 * `bytes` bytes: a stream that would make more is stopped there and refused.
 */
function inflateBounded(input: Uint8Array, bytes: number, what: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // One output buffer a little larger than the result: zlib then ends without a second one.
    inflate(input, { maxOutputLength: Math.max(1, bytes), chunkSize: Math.max(64, bytes + 64) }, (cause, result) => {
      if (!cause) {
        resolve(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
        return;
      }
      const code = (cause as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') reject(new TensioError('LIMIT_EXCEEDED', `hdf5: ${what} inflates past the ${bytes} bytes it can hold (a deflate bomb or a corrupt chunk)`, { format: 'hdf5', cause }));
      else reject(new TensioError(code === 'Z_BUF_ERROR' ? 'TRUNCATED' : 'INVALID_HEADER', `hdf5: cannot inflate ${what}: ${cause.message}`, { format: 'hdf5', cause }));
    });
  });
}
