/**
 * Turning `.npy` data into tensio's layout (little-endian, C order): a native byte
 * swap for big-endian data, a transpose for Fortran-ordered data.
 */
import { byteSwapInPlace } from '../../core/bytes.js';
import type { NpyHeader } from './types.js';
import { allocateZeroed } from '../../core/memory.js';

/**
 * True when the data can be used as it lies in the file (little-endian, C order, or an
 * order that makes no difference for rank < 2).
 */
export function npyIsTensioLayout(header: Pick<NpyHeader, 'bigEndian' | 'fortranOrder' | 'shape'>): boolean {
  return !header.bigEndian && !(header.fortranOrder && header.shape.filter((dim) => dim !== 1).length > 1);
}

/**
 * Converts `.npy` data to tensio's layout. `data` is consumed: it may be swapped in place
 * and returned, so pass a buffer you own.
 *
 * @example
 * ```ts
 * const tensorBytes = npyToTensioLayout(rawCopy, header);
 * ```
 */
export function npyToTensioLayout(data: Uint8Array, header: Pick<NpyHeader, 'bigEndian' | 'fortranOrder' | 'shape' | 'itemSize' | 'swapUnit'>): Uint8Array {
  let out = data;
  if (header.bigEndian) npyByteSwap(out, header.swapUnit);
  if (header.fortranOrder && header.shape.length > 1) out = npyFortranToC(out, header.shape, header.itemSize);
  return out;
}

/** Reverses the byte order of every `unit`-byte word of `data`, in place (native). */
export function npyByteSwap(data: Uint8Array, unit: number): void {
  byteSwapInPlace(data, unit);
}

/**
 * Reorders column-major (Fortran) data of `shape` into row-major (C) order: one pass,
 * whole elements moved as 8-, 16- or 32-bit words.
 *
 * @example
 * ```ts
 * npyFortranToC(new Uint8Array([1, 4, 2, 5, 3, 6]), [2, 3], 1); // [1, 2, 3, 4, 5, 6]
 * ```
 */
export function npyFortranToC(data: Uint8Array, shape: readonly number[], itemSize: number): Uint8Array {
  const out = allocateZeroed(data.byteLength);
  const rank = shape.length;
  if (data.byteLength === 0 || rank < 2) {
    out.set(data);
    return out;
  }
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const wordBytes = itemSize % 4 === 0 ? 4 : itemSize % 2 === 0 ? 2 : 1;
  const Words = wordBytes === 4 ? Uint32Array : wordBytes === 2 ? Uint16Array : Uint8Array;
  const source = new Words(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / wordBytes);
  const target = new Words(out.buffer, 0, out.byteLength / wordBytes);
  const words = itemSize / wordBytes;

  // Fortran strides in elements: axis k moves by the product of the dims before it.
  const strides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    strides.push(stride);
    stride *= dim;
  }
  const last = shape[rank - 1]!;
  const lastStride = strides[rank - 1]! * words;
  const counters = new Array<number>(rank - 1).fill(0);
  const rows = data.byteLength / itemSize / last;
  let base = 0;
  let at = 0;
  for (let row = 0; row < rows; row++) {
    if (words === 1) {
      for (let i = 0, from = base; i < last; i++, from += lastStride) target[at++] = source[from]!;
    } else {
      for (let i = 0, from = base * words; i < last; i++, from += lastStride) {
        for (let word = 0; word < words; word++) target[at++] = source[from + word]!;
      }
    }
    for (let axis = rank - 2; axis >= 0; axis--) {
      counters[axis]!++;
      base += strides[axis]!;
      if (counters[axis]! < shape[axis]!) break;
      base -= strides[axis]! * shape[axis]!;
      counters[axis] = 0;
    }
  }
  return out;
}
