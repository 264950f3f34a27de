/**
 * The async shell over a {@link ByteSource}: reads the prefix, then exactly the header,
 * and builds a {@link TensorReader} holding the file's one array.
 */
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../../model/types.js';
import { readIntoFrom, toByteSource, type ByteInput, type ByteSource } from '../../storage/byte-source.js';
import { fileSource } from '../../storage/file-source.js';
import { npyVoidAdvice } from './dtypes.js';
import { npyIsTensioLayout, npyToTensioLayout } from './layout.js';
import { NPY_PREFIX_BYTES, npyParseHeader, npyReadPrefix } from './read.js';
import type { NpyHeader, NpyOpenOptions, NpyReadOptions } from './types.js';
import { allocateUninitialized } from '../../core/memory.js';

/** Default name of the one tensor a `.npy` file holds (NumPack's name for a lone array). */
export const NPY_DEFAULT_ARRAY_NAME = 'data';

/**
 * Reads and checks the header of `.npy` data held by a source, starting at `offset`
 * (non-zero for a stored `.npz` member), reading only the prefix and header bytes.
 * `size` is how many bytes the `.npy` spans (default: to the end of the source).
 *
 * @example
 * ```ts
 * const header = await npyReadHeader(await fileSource('x.npy'));
 * console.log(header.descr, header.shape);
 * ```
 */
export async function npyReadHeader(input: ByteInput, options: NpyReadOptions & { offset?: number; size?: number; signal?: AbortSignal } = {}): Promise<NpyHeader> {
  const source = toByteSource(input);
  const offset = options.offset ?? 0;
  const size = options.size ?? source.size - offset;
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const first = await source.read(offset, Math.min(NPY_PREFIX_BYTES, size), readOptions);
  const prefix = npyReadPrefix(first, size, options);
  const headerBytes = await source.read(offset + prefix.headerStart, prefix.headerLength, readOptions);
  return npyParseHeader(headerBytes, prefix, size, options);
}

/** The {@link TensorInfo} of a parsed header. `extras.dataOffset` is relative to the `.npy` start. */
export function npyTensorInfo(name: string, header: NpyHeader, extras: Record<string, unknown> = {}): TensorInfo {
  // Built by assignment, not spread: a spread copy becomes a slow dictionary object three
  // times the size, and an npz of a million members keeps a million of these.
  const facts: Record<string, unknown> = {};
  for (const key of Object.keys(extras)) facts[key] = extras[key];
  facts.dataOffset = header.dataOffset;
  facts.version = `${header.version[0]}.${header.version[1]}`;
  facts.fortranOrder = header.fortranOrder;
  facts.bigEndian = header.bigEndian;
  // An opaque void array: say what it may be and how to read it as that.
  if (header.dtype === 'opaque') facts.hint = npyVoidAdvice(header.itemSize);
  // The header is not handed out, so its shape is shared rather than copied.
  return { name, dtype: header.dtype, shape: header.shape, byteLength: header.byteLength, formatDtype: header.descr, extras: facts };
}

/**
 * Where the array's bytes are: a span when they are already in tensio's layout (no
 * extra copy), else a decode that reads, swaps and transposes one array's worth.
 */
export function npyLocate(source: ByteSource, header: NpyHeader, absoluteDataOffset: number): TensorLocation {
  if (npyIsTensioLayout(header)) return { kind: 'span', source, offset: absoluteDataOffset };
  return {
    kind: 'decode',
    async decode(signal) {
      const raw = allocateUninitialized(header.byteLength);
      await readIntoFrom(source, raw, absoluteDataOffset, signal ? { signal } : undefined);
      return npyToTensioLayout(raw, header);
    },
  };
}

/**
 * Opens `.npy` data from a source as a {@link TensorReader} holding one tensor (named
 * by `arrayName`, default `'data'`). Trailing bytes after the array are ignored, as
 * `np.load` ignores them, and counted in `metadata.trailingBytes`.
 *
 * @example
 * ```ts
 * const reader = await npyOpenSource(bytesSource(fileBytes), { arrayName: 'x' });
 * ```
 */
export async function npyOpenSource(source: ByteSource, options: NpyOpenOptions & { ownsSource?: boolean } = {}): Promise<TensorReader> {
  let header: NpyHeader;
  try {
    header = await npyReadHeader(source, options);
  } catch (error) {
    if (options.ownsSource) await source.close?.();
    throw error;
  }
  const trailingBytes = source.size - header.dataOffset - header.byteLength;
  const info = npyTensorInfo(options.arrayName ?? NPY_DEFAULT_ARRAY_NAME, header);
  return createTensorReader({
    format: 'npy',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: trailingBytes > 0 ? { trailingBytes } : {},
    tensors: [info],
    locate: () => npyLocate(source, header, header.dataOffset),
    ...(options.ownsSource ? { close: async () => { await source.close?.(); } } : {}),
  });
}

/**
 * Opens a `.npy` file (path, source or bytes) as a {@link TensorReader} with one tensor.
 *
 * @example
 * ```ts
 * await using reader = await npyOpen('weights.npy');
 * const tensor = await reader.read('data');
 * ```
 */
export async function npyOpen(input: string | ByteInput, options: NpyOpenOptions = {}): Promise<TensorReader> {
  if (typeof input !== 'string') return npyOpenSource(toByteSource(input), options);
  return npyOpenSource(await fileSource(input), { ...options, ownsSource: true });
}
