import { allocateZeroed } from '../../core/memory.js';
/**
 * Strided views made contiguous: a transposed or sliced tensor's elements are gathered
 * from the span of storage it covers, one contiguous run at a time, and big-endian
 * storages are byte-swapped into tensio's little-endian layout.
 */

/** Elements from the first to the last one a view addresses (0 for an empty view). */
export function pytorchSpanElements(shape: readonly number[], stride: readonly number[]): number {
  if (shape.some((dim) => dim === 0)) return 0;
  let last = 0;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * stride[i]!;
  return last + 1;
}

/** Word size used to copy elements: the largest of 4, 2, 1 that divides the item size and both alignments. */
function wordBytes(itemSize: number, a: Uint8Array, b: Uint8Array): 1 | 2 | 4 {
  for (const width of [4, 2] as const) {
    if (itemSize % width === 0 && a.byteOffset % width === 0 && b.byteOffset % width === 0) return width;
  }
  return 1;
}

function wordView(bytes: Uint8Array, width: 1 | 2 | 4): Uint8Array | Uint16Array | Uint32Array {
  if (width === 4) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (width === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return bytes;
}

/**
 * Gathers a strided view into C order. `span` starts at the view's first element
 * (strides are non-negative, so that is the storage offset). Runs along the innermost
 * contiguous dimensions are copied with `set`; single elements with a typed-array loop.
 *
 * @example
 * ```ts
 * // a [3, 2] transpose of a [2, 3] float32 matrix
 * const out = pytorchGather(span, [3, 2], [1, 3], 4);
 * ```
 */
export function pytorchGather(span: Uint8Array, shape: readonly number[], stride: readonly number[], itemSize: number): Uint8Array {
  const sizes: number[] = [];
  const steps: number[] = [];
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    count *= shape[i]!;
    if (shape[i] !== 1) {
      sizes.push(shape[i]!);
      steps.push(stride[i]!);
    }
  }
  const out = allocateZeroed(count * itemSize);
  if (count === 0) return out;
  // Fold trailing dimensions that are contiguous into one run of `run` elements.
  let run = 1;
  let outer = sizes.length;
  while (outer > 0 && steps[outer - 1] === run) {
    run *= sizes[outer - 1]!;
    outer--;
  }
  if (outer === 0) {
    out.set(span.subarray(0, count * itemSize));
    return out;
  }
  const width = wordBytes(itemSize, span, out);
  const source = wordView(span, width);
  const target = wordView(out, width);
  const runWords = (run * itemSize) / width;
  const innerSize = sizes[outer - 1]!;
  const innerStepWords = (steps[outer - 1]! * itemSize) / width;
  const index = new Array<number>(Math.max(outer - 1, 0)).fill(0);
  let base = 0; // element offset of the current outer position
  let written = 0; // words written
  for (;;) {
    let from = (base * itemSize) / width;
    if (runWords >= 32) {
      for (let j = 0; j < innerSize; j++, from += innerStepWords) {
        target.set(source.subarray(from, from + runWords), written);
        written += runWords;
      }
    } else {
      for (let j = 0; j < innerSize; j++, from += innerStepWords) {
        for (let w = 0; w < runWords; w++) target[written++] = source[from + w]!;
      }
    }
    // Odometer over the outer dimensions except the innermost one.
    let d = outer - 2;
    for (; d >= 0; d--) {
      index[d]!++;
      base += steps[d]!;
      if (index[d]! < sizes[d]!) break;
      base -= steps[d]! * sizes[d]!;
      index[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

/**
 * Reverses the bytes of every `unit`-byte word in place (big-endian storage to
 * little-endian). Complex numbers swap each half (`unit` = itemSize / 2).
 *
 * @example
 * ```ts
 * pytorchByteSwap(bytes, 4); // float32 from a big-endian machine
 * ```
 */
export function pytorchByteSwap(bytes: Uint8Array, unit: number): void {
  if (unit <= 1) return;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (unit === 2) buffer.swap16();
  else if (unit === 4) buffer.swap32();
  else if (unit === 8) buffer.swap64();
  else {
    for (let at = 0; at + unit <= bytes.byteLength; at += unit) bytes.subarray(at, at + unit).reverse();
  }
}
