/**
 * Writing `.npy`: the header exactly as numpy 2.x writes it (same bytes as `np.save`),
 * then the data streamed through.
 */
import type { DType } from '../../core/dtype.js';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { tensorByteLength } from '../../core/sizes.js';
import type { Tensor } from '../../core/tensor.js';
import type { TensorBytes, TensorSpec } from '../../model/types.js';
import { chunksOf } from '../../storage/tensor-bytes.js';
import { openWriteSink } from '../../storage/write-target.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { npyCannotWrite, npyDescrFor } from './dtypes.js';
import { NPY_MAGIC } from './read.js';
import type { NpyVersion, NpyWriteOptions } from './types.js';
import { quoteInput } from '../../core/quote.js';

/** numpy's ARRAY_ALIGN: magic + length field + header is a multiple of this. */
const NPY_ALIGN = 64;
/** numpy ≥ 1.25 leaves room for the first axis to grow to this many digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** Python's repr of a shape tuple: `()`, `(5,)`, `(2, 3)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The `.npy` prefix and header for a C-order little-endian array of this dtype and
 * shape, byte for byte what `np.save` writes (numpy ≥ 1.25). Throws
 * `UNSUPPORTED_DTYPE` for dtypes numpy has no descr for.
 *
 * @example
 * ```ts
 * npyHeaderBytes({ dtype: 'float32', shape: [2, 3] }).byteLength; // 128
 * ```
 */
export function npyHeaderBytes(spec: { dtype: DType; shape: readonly number[] }, options: NpyWriteOptions = {}): Uint8Array {
  const descr = npyDescrFor(spec.dtype);
  if (!descr) return errorFactory('npy')('UNSUPPORTED_DTYPE', `npy: ${npyCannotWrite(spec.dtype)}`);
  tensorByteLength(spec.dtype, spec.shape, 'npy'); // checks the shape
  return npyHeaderBytesForDescr(descr, spec.shape, options);
}

/**
 * The `.npy` prefix and header for any `descr` numpy knows (`'|S3'` for a bytes
 * scalar, say), laid out as {@link npyHeaderBytes} lays it out. The caller vouches for
 * the descr and the shape.
 *
 * @example
 * ```ts
 * npyHeaderBytesForDescr('|S3', []); // the header of np.array(b'csr')
 * ```
 */
export function npyHeaderBytesForDescr(descr: string, shape: readonly number[], options: NpyWriteOptions = {}): Uint8Array {
  const fail = errorFactory('npy');
  const spec = { shape };
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(spec.shape)}, }`;
  if (spec.shape.length > 0) text += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(spec.shape[0]).length));
  const versions: NpyVersion[] = options.version ? [options.version] : [[1, 0], [2, 0]];
  for (const version of versions) {
    const lengthBytes = version[0] === 1 ? 2 : 4;
    const textLength = text.length + 1; // + '\n'
    const padding = NPY_ALIGN - ((NPY_MAGIC.byteLength + 2 + lengthBytes + textLength) % NPY_ALIGN);
    const headerLength = textLength + padding;
    if (version[0] === 1 && headerLength > 0xffff) {
      if (options.version) fail('INVALID_ARGUMENT', `npy: header of ${headerLength} bytes does not fit version 1.0`);
      continue;
    }
    const start = NPY_MAGIC.byteLength + 2 + lengthBytes;
    const bytes = new Uint8Array(start + headerLength);
    bytes.set(NPY_MAGIC, 0);
    bytes[6] = version[0];
    bytes[7] = 0;
    const view = new DataView(bytes.buffer);
    if (lengthBytes === 2) view.setUint16(8, headerLength, true);
    else view.setUint32(8, headerLength, true);
    // The header is ASCII (descr and digits), so latin-1 and UTF-8 agree.
    for (let i = 0; i < text.length; i++) bytes[start + i] = text.charCodeAt(i);
    bytes.fill(0x20, start + text.length, bytes.byteLength - 1);
    bytes[bytes.byteLength - 1] = 0x0a;
    return bytes;
  }
  return fail('INVALID_ARGUMENT', 'npy: no version holds this header');
}

/**
 * The header followed by the data, checked to be exactly the size the spec implies
 * (`SIZE_MISMATCH` otherwise). The stream one `.npy` file or `.npz` member is made of.
 *
 * @example
 * ```ts
 * for await (const chunk of npyChunks(spec, dataChunks)) await sink.write(chunk);
 * ```
 */
export async function* npyChunks(spec: TensorSpec, data: TensorBytes, options: NpyWriteOptions & { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
  const expected = npyDataBytes(spec);
  yield npyHeaderBytes(spec, options);
  let received = 0;
  for await (const chunk of chunksOf(data, options.signal)) {
    throwIfAborted(options.signal);
    received += chunk.byteLength;
    if (received > expected) break;
    yield chunk;
  }
  if (received !== expected) {
    errorFactory('npy')('SIZE_MISMATCH', `npy: tensor ${quoteInput(spec.name)} (${spec.dtype} [${spec.shape.join(', ')}]) needs ${expected} bytes, got ${received > expected ? `more than ${expected}` : received}`);
  }
}

/** Bytes of the data of an array of this spec; throws for dtypes numpy cannot hold. */
export function npyDataBytes(spec: { dtype: DType; shape: readonly number[] }): number {
  const reason = npyCannotWrite(spec.dtype);
  if (reason) errorFactory('npy')('UNSUPPORTED_DTYPE', `npy: ${reason}`);
  return tensorByteLength(spec.dtype, spec.shape, 'npy')!;
}

/** Total size of a `.npy` file for this spec: header plus data. */
export function npyFileBytes(spec: { dtype: DType; shape: readonly number[] }, options: NpyWriteOptions = {}): number {
  return npyHeaderBytes(spec, options).byteLength + npyDataBytes(spec);
}

/**
 * A whole `.npy` file in memory (same bytes as `np.save`).
 *
 * @example
 * ```ts
 * const bytes = npySerialize(createTensor('float32', [2], new Float32Array([1, 2])));
 * ```
 */
export function npySerialize(tensor: Tensor, options: NpyWriteOptions = {}): Uint8Array {
  const header = npyHeaderBytes(tensor, options);
  const expected = npyDataBytes(tensor);
  if (tensor.data.byteLength !== expected) {
    errorFactory('npy')('SIZE_MISMATCH', `npy: ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${expected} bytes, got ${tensor.data.byteLength}`);
  }
  const out = new Uint8Array(header.byteLength + expected);
  out.set(header, 0);
  out.set(tensor.data, header.byteLength);
  return out;
}

/** A tensor to write: a {@link Tensor}, or dtype and shape with streamed bytes. */
export interface NpyWriteInput {
  dtype: DType;
  shape: readonly number[];
  data: TensorBytes;
}

/**
 * Writes one array as a `.npy` file (atomically, for a path) or to a sink (closed at the end).
 *
 * @example
 * ```ts
 * await npyWrite('x.npy', createTensor('int32', [3], new Int32Array([1, 2, 3])));
 * ```
 */
export async function npyWrite(target: string | ByteSink, tensor: NpyWriteInput, options: NpyWriteOptions & { overwrite?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const sink = typeof target === 'string' ? await openWriteSink(target, { noOverwrite: options.overwrite === false }) : target;
  try {
    for await (const chunk of npyChunks({ name: 'data', dtype: tensor.dtype, shape: tensor.shape }, tensor.data, options)) await sink.write(chunk);
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
