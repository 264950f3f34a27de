/**
 * The N-d box copy between two C-order arrays that chunked formats all need: a decoded
 * chunk placed into a band or a read box (Zarr, HDF5), or a chunk cut out of a band
 * (the Zarr writer). One implementation, so the folding of whole trailing axes into one
 * `set` per run is done (and tested) once.
 */

/** C-order byte strides of a shape. */
function stridesOf(shape: readonly number[], elementBytes: number): number[] {
  const strides = new Array<number>(shape.length);
  let stride = elementBytes;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/**
 * Writes `fill` (one element) over `out[at, at + length)`, or zeros when `fill` is
 * undefined.
 */
function fillRun(out: Uint8Array, at: number, length: number, fill: Uint8Array | undefined): void {
  if (!fill) {
    out.fill(0, at, at + length);
    return;
  }
  if (length === 0) return;
  out.set(fill, at);
  // Doubling copies: log2(elements) calls instead of one per element.
  for (let done = fill.byteLength; done < length; done *= 2) out.copyWithin(at + done, at, at + Math.min(done, length - done));
}

/** One side of a {@link copyBox}: a C-order array's bytes and shape, and the box's corner in it. */
export interface BoxSide<Bytes extends Uint8Array | undefined = Uint8Array> {
  readonly bytes: Bytes;
  /** The array's shape in elements. */
  readonly shape: readonly number[];
  /** Where the box starts in the array, per axis (elements). */
  readonly start: readonly number[];
}

/**
 * Copies the box of `extent` elements per axis from `from` (at `from.start`) into `to`
 * (at `to.start`); both arrays are C order with elements of `elementBytes` bytes, and the
 * box must lie inside both. A `from` without bytes (a missing chunk) writes `fill` (one
 * element) over the box instead, or zeros when `fill` is undefined or all zero.
 *
 * Trailing axes that the box covers whole in both arrays fold into one contiguous run,
 * copied with one `set` (a box of whole rows is a single `set`).
 *
 * @example
 * ```ts
 * // rows 2..4 and columns 1..3 of a 4×5 float32 array into the corner of a 2×2 chunk
 * copyBox({ bytes: chunk, shape: [2, 2], start: [0, 0] }, { bytes: band, shape: [4, 5], start: [2, 1] }, [2, 2], 4);
 * ```
 */
export function copyBox(to: BoxSide, from: BoxSide<Uint8Array | undefined>, extent: readonly number[], elementBytes: number, fill?: Uint8Array): void {
  const rank = extent.length;
  if (extent.some((side) => side <= 0)) return;
  const source = from.bytes;
  const zero = !source && (!fill || fill.every((byte) => byte === 0));
  const toStrides = stridesOf(to.shape, elementBytes);
  const fromStrides = stridesOf(from.shape, elementBytes);
  // The run: the innermost axis plus every trailing axis the box spans whole in both arrays
  // (their strides then agree, so one run of bytes is the same elements on both sides).
  let inner = rank - 1;
  while (inner > 0 && extent[inner] === to.shape[inner] && extent[inner] === from.shape[inner]) inner -= 1;
  const runBytes = rank === 0 ? elementBytes : extent[inner]! * toStrides[inner]!;
  // Every index of the box on the axes before `inner`: one run each. The run's offsets
  // move with the index (one add per step) instead of being summed again per run.
  const index = new Array<number>(Math.max(inner, 0)).fill(0);
  let toAt = 0;
  let fromAt = 0;
  for (let axis = 0; axis < rank; axis += 1) {
    toAt += to.start[axis]! * toStrides[axis]!;
    fromAt += from.start[axis]! * fromStrides[axis]!;
  }
  for (;;) {
    if (source) to.bytes.set(source.subarray(fromAt, fromAt + runBytes), toAt);
    else fillRun(to.bytes, toAt, runBytes, zero ? undefined : fill);
    let axis = inner - 1;
    while (axis >= 0) {
      index[axis]! += 1;
      toAt += toStrides[axis]!;
      fromAt += fromStrides[axis]!;
      if (index[axis]! < extent[axis]!) break;
      toAt -= extent[axis]! * toStrides[axis]!;
      fromAt -= extent[axis]! * fromStrides[axis]!;
      index[axis] = 0;
      axis -= 1;
    }
    if (axis < 0) return;
  }
}
