/**
 * The byte shuffle of HDF5's shuffle filter and numcodecs' Shuffle: byte j of every
 * element stored together (plane j), the bytes left over after the last whole element
 * kept as they are. Compressors find the planes (all high bytes, all low bytes, …)
 * more alike than the interleaved elements. Tight typed-array loops: undoing it runs on
 * every chunk of a compressed read.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Shuffles `input` (`elementBytes`-byte elements) into a new buffer.
 *
 * @example
 * ```ts
 * shuffleBytes(new Uint8Array([1, 2, 3, 4]), 2); // [1, 3, 2, 4]
 * ```
 */
export function shuffleBytes(input: Uint8Array, elementBytes: number): Uint8Array {
  if (elementBytes <= 1) return input;
  const count = Math.floor(input.byteLength / elementBytes);
  const out = new Uint8Array(input.byteLength);
  for (let j = 0; j < elementBytes; j++) {
    const plane = out.subarray(j * count, (j + 1) * count);
    for (let i = 0, from = j; i < count; i++, from += elementBytes) plane[i] = input[from]!;
  }
  out.set(input.subarray(count * elementBytes), count * elementBytes);
  return out;
}

/**
 * Undoes {@link shuffleBytes}: writes the elements of the shuffled `input` into `out`
 * (the same length; must not overlap `input`). 2-, 4- and 8-byte elements are assembled
 * a word at a time when `out` is aligned for it.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(4);
 * unshuffleBytesInto(new Uint8Array([1, 3, 2, 4]), out, 2); // out = [1, 2, 3, 4]
 * ```
 */
export function unshuffleBytesInto(input: Uint8Array, out: Uint8Array, elementBytes: number): void {
  if (out.byteLength !== input.byteLength) throw new RangeError(`unshuffle: ${input.byteLength} bytes into ${out.byteLength}`);
  const count = Math.floor(input.byteLength / elementBytes);
  if (elementBytes <= 1 || count <= 1) {
    out.set(input);
    return;
  }
  const whole = count * elementBytes;
  if (LITTLE_ENDIAN && elementBytes % 4 === 0 && out.byteOffset % 4 === 0) {
    // One 32-bit word of every element at a time, from four planes.
    const words = new Uint32Array(out.buffer, out.byteOffset, whole / 4);
    const stride = elementBytes / 4;
    for (let w = 0; w < stride; w++) {
      const p0 = input.subarray(4 * w * count, (4 * w + 1) * count);
      const p1 = input.subarray((4 * w + 1) * count, (4 * w + 2) * count);
      const p2 = input.subarray((4 * w + 2) * count, (4 * w + 3) * count);
      const p3 = input.subarray((4 * w + 3) * count, (4 * w + 4) * count);
      for (let i = 0, at = w; i < count; i++, at += stride) words[at] = p0[i]! | (p1[i]! << 8) | (p2[i]! << 16) | (p3[i]! << 24);
    }
  } else if (LITTLE_ENDIAN && elementBytes === 2 && out.byteOffset % 2 === 0) {
    const halves = new Uint16Array(out.buffer, out.byteOffset, count);
    const p0 = input.subarray(0, count);
    const p1 = input.subarray(count, 2 * count);
    for (let i = 0; i < count; i++) halves[i] = p0[i]! | (p1[i]! << 8);
  } else {
    for (let j = 0; j < elementBytes; j++) {
      const plane = input.subarray(j * count, (j + 1) * count);
      for (let i = 0, at = j; i < count; i++, at += elementBytes) out[at] = plane[i]!;
    }
  }
  out.set(input.subarray(whole), whole);
}
