/** Deterministic test data: varied bytes that the same seed always reproduces. */
import { itemSize, type DType } from '../../src/core/dtype.js';
import type { Tensor } from '../../src/core/tensor.js';

/**
 * `length` bytes from a xorshift32 stream seeded with `seed` (the same seed, the same
 * bytes; different seeds, different bytes), so a test can write them, read them back and
 * compare without storing a fixture. `mask` is ANDed into each byte (1: only 0/1, for bool).
 */
export function patternBytes(length: number, seed = 1, mask = 0xff): Uint8Array {
  const data = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1; // xorshift32 never leaves 0, so 0 is not a state
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data[i] = x & mask;
  }
  return data;
}

/** A deterministic tensor with varied bytes (bool: 0/1, its only valid values); `seed` changes the content. */
export function patternTensor(dtype: DType, shape: readonly number[], seed = 1): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape: [...shape], data: patternBytes(count * itemSize(dtype)!, seed, dtype === 'bool' ? 1 : 0xff) };
}
