/**
 * float32 to ggml blocks, byte for byte as gguf-py 0.19's `gguf.quants.quantize`
 * computes them (NumPy float32 arithmetic, the same operations in the same order:
 * `Math.fround` after each step, round-half-away-from-zero as gguf-py's `np_roundf`,
 * float16 scales rounded to nearest even). Plain loops into a caller's buffer.
 */
import type { DType } from '../../core/dtype.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../../core/float-convert.js';

const fail = errorFactory('gguf');
const fround = Math.fround;

/** Encodes `blocks` blocks of `x` from `i` into `out` at `o`. */
type BlockEncoder = (x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number) => void;

function putHalf(out: Uint8Array, o: number, value: number): void {
  const h = float32ToFloat16Bits(value);
  out[o] = h & 255;
  out[o + 1] = h >> 8;
}

/**
 * gguf-py's `np_roundf` (`floor(a) + floor(2 (a - floor(a)))` with the sign of `v`: half
 * away from zero) as one floor: for a float32 `a`, `a + 0.5` is exact in a double, so
 * `floor(a + 0.5)` is the same integer. NaN stays NaN (`& 255` makes it 0 as NumPy's cast does here).
 */
function roundf(v: number): number {
  return v < 0 ? -Math.floor(0.5 - v) : Math.floor(v + 0.5);
}

/** 1/d as gguf-py's `np.where(d == 0, 0, 1 / d)` in float32. */
const inverse = (d: number): number => (d === 0 ? 0 : fround(1 / d));

/** Reinterprets int32 bits as a float32 (the largest magnitude, found on the bits). */
const bitsScratch = new Int32Array(1);
const bitsAsFloat = new Float32Array(bitsScratch.buffer);

/** The same float32 values as int32 bits (the sign in bit 31; |x| orders as an integer). */
const bitsOf = (x: Float32Array): Int32Array => new Int32Array(x.buffer, x.byteOffset, x.length);

/**
 * Branch-free: random signs make `roundf`'s branch a coin flip for the CPU, and those
 * misses were most of Q8_0's time. The largest magnitude is taken on the bits (a NaN
 * wins, as in NumPy's `max`); a quant is `floor(|v| + 0.5)` (exact in a double; `| 0`
 * floors a non-negative value, NaN gives 0) with the sign of `x` (`id` ≥ 0, so it is
 * the sign of `v`) applied as two's complement; the `Uint8Array` store takes it mod 256.
 */
function q8_0(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  const bits = bitsOf(x);
  for (let b = 0; b < blocks; b++, i += 32, o += 34) {
    let largest = 0;
    for (let j = 0; j < 32; j++) { const a = bits[i + j]! & 0x7fffffff; largest = a > largest ? a : largest; }
    bitsScratch[0] = largest;
    const d = fround(bitsAsFloat[0]! / 127);
    const id = inverse(d);
    putHalf(out, o, d);
    const at = o + 2;
    for (let j = 0; j < 32; j++) {
      const magnitude = (Math.abs(fround(x[i + j]! * id)) + 0.5) | 0;
      const sign = bits[i + j]! >> 31;
      out[at + j] = (magnitude ^ sign) - sign;
    }
  }
}

/** The element of largest magnitude, signed (first one on ties, as `argmax`). */
function signedMax(x: Float32Array, i: number, n: number): number {
  let best = 0;
  let at = i;
  for (let j = 0; j < n; j++) { const a = Math.abs(x[i + j]!); if (a > best) { best = a; at = i + j; } }
  return x[at]!;
}

const clip = (q: number, max: number): number => (q > max ? max : q);

function q4_0(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 32, o += 18) {
    const d = fround(signedMax(x, i, 32) / -8);
    const id = inverse(d);
    putHalf(out, o, d);
    for (let j = 0; j < 16; j++) {
      const lo = clip(Math.trunc(fround(fround(x[i + j]! * id) + 8.5)) & 255, 15);
      const hi = clip(Math.trunc(fround(fround(x[i + 16 + j]! * id) + 8.5)) & 255, 15);
      out[o + 2 + j] = lo | (hi << 4);
    }
  }
}

function minMax(x: Float32Array, i: number, n: number): [number, number] {
  let min = x[i]!;
  let max = x[i]!;
  for (let j = 1; j < n; j++) { const v = x[i + j]!; if (v < min) min = v; if (v > max) max = v; }
  return [min, max];
}

function q4_1(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 32, o += 20) {
    const [min, max] = minMax(x, i, 32);
    const d = fround(fround(max - min) / 15);
    const id = inverse(d);
    putHalf(out, o, d);
    putHalf(out, o + 2, min);
    for (let j = 0; j < 16; j++) {
      const lo = clip(Math.trunc(fround(fround(fround(x[i + j]! - min) * id) + 0.5)) & 255, 15);
      const hi = clip(Math.trunc(fround(fround(fround(x[i + 16 + j]! - min) * id) + 0.5)) & 255, 15);
      out[o + 4 + j] = lo | (hi << 4);
    }
  }
}

/** Packs 32 five-bit quants: the 5th bits as a little-endian u32 at `o`, nibbles after it. */
function pack5(q: Uint8Array, out: Uint8Array, o: number): void {
  let qh = 0;
  for (let j = 0; j < 32; j++) qh |= ((q[j]! >> 4) & 1) << j;
  out[o] = qh & 255; out[o + 1] = (qh >>> 8) & 255; out[o + 2] = (qh >>> 16) & 255; out[o + 3] = (qh >>> 24) & 255;
  for (let j = 0; j < 16; j++) out[o + 4 + j] = (q[j]! & 15) | ((q[j + 16]! << 4) & 255);
}

const q5 = new Uint8Array(32);

function q5_0(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 32, o += 22) {
    const d = fround(signedMax(x, i, 32) / -16);
    const id = inverse(d);
    putHalf(out, o, d);
    for (let j = 0; j < 32; j++) q5[j] = clip(Math.trunc(fround(fround(x[i + j]! * id) + 16.5)) & 255, 31);
    pack5(q5, out, o + 2);
  }
}

function q5_1(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 32, o += 24) {
    const [min, max] = minMax(x, i, 32);
    const d = fround(fround(max - min) / 31);
    const id = inverse(d);
    putHalf(out, o, d);
    putHalf(out, o + 2, min);
    for (let j = 0; j < 32; j++) q5[j] = clip(Math.trunc(fround(fround(fround(x[i + j]! - min) * id) + 0.5)) & 255, 31);
    pack5(q5, out, o + 4);
  }
}

/** Ternary quants (0, 1, 2 for −1, 0, 1) of a 256-element block, and its scale. */
const trits = new Uint8Array(256);
function ternary(x: Float32Array, i: number): number {
  let d = 0;
  for (let j = 0; j < 256; j++) { const a = Math.abs(x[i + j]!); if (a > d) d = a; }
  const id = inverse(d);
  for (let j = 0; j < 256; j++) trits[j] = (roundf(fround(x[i + j]! * id)) + 1) & 255;
  return d;
}

function tq2_0(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 256, o += 66) {
    const d = ternary(x, i);
    for (let g = 0; g < 2; g++) {
      for (let j = 0; j < 32; j++) {
        const at = g * 128 + j;
        out[o + g * 32 + j] = (trits[at]! | (trits[at + 32]! << 2) | (trits[at + 64]! << 4) | (trits[at + 96]! << 6)) & 255;
      }
    }
    putHalf(out, o + 64, d);
  }
}

const POW3_DOWN = [81, 27, 9, 3, 1];

function tq1_0(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  // Five (or four) trits as one base-3 number, stored as a fraction of 256 rounded up.
  const put = (at: number, v: number) => { out[at] = ((v * 256 + 242) / 243) | 0; };
  for (let b = 0; b < blocks; b++, i += 256, o += 54) {
    const d = ternary(x, i);
    for (let j = 0; j < 32; j++) { let v = 0; for (let p = 0; p < 5; p++) v += trits[p * 32 + j]! * POW3_DOWN[p]!; put(o + j, v); }
    for (let j = 0; j < 16; j++) { let v = 0; for (let p = 0; p < 5; p++) v += trits[160 + p * 16 + j]! * POW3_DOWN[p]!; put(o + 32 + j, v); }
    for (let j = 0; j < 4; j++) { let v = 0; for (let p = 0; p < 4; p++) v += trits[240 + p * 4 + j]! * POW3_DOWN[p]!; put(o + 48 + j, v); }
    putHalf(out, o + 52, d);
  }
}

/** E2M1 values doubled, as MXFP4 stores them (the scale carries the half). */
const E2M1_DOUBLED = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const nibbles = new Uint8Array(32);

function mxfp4(x: Float32Array, i: number, out: Uint8Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, i += 32, o += 17) {
    let amax = 0;
    for (let j = 0; j < 32; j++) { const a = Math.abs(x[i + j]!); if (a > amax) amax = a; }
    // gguf-py: floor(log2(d)) - 2 + 127 in float32, then uint8.
    const e = amax > 0 ? (Math.floor(fround(Math.log2(amax))) - 2 + 127) & 255 : 0;
    scratchBits[0] = e < 2 ? (0x00200000 << e) >>> 0 : ((e - 1) << 23) >>> 0;
    const d = scratch[0]!;
    for (let j = 0; j < 32; j++) {
      const v = x[i + j]!;
      let best = 0;
      let bestErr = Infinity;
      for (let k = 0; k < 16; k++) {
        const err = Math.abs(fround(fround(d * E2M1_DOUBLED[k]!) - v));
        if (err < bestErr) { bestErr = err; best = k; }
      }
      nibbles[j] = best;
    }
    out[o] = e;
    for (let j = 0; j < 16; j++) out[o + 1 + j] = nibbles[j]! | (nibbles[j + 16]! << 4);
  }
}

function bf16(x: Float32Array, i: number, out: Uint8Array, o: number, count: number): void {
  for (let j = 0; j < count; j++, o += 2) {
    const h = float32ToBfloat16Bits(x[i + j]!);
    out[o] = h & 255;
    out[o + 1] = h >> 8;
  }
}

function f16(x: Float32Array, i: number, out: Uint8Array, o: number, count: number): void {
  for (let j = 0; j < count; j++, o += 2) putHalf(out, o, x[i + j]!);
}

function f32(x: Float32Array, i: number, out: Uint8Array, o: number, count: number): void {
  out.set(new Uint8Array(x.buffer, x.byteOffset + i * 4, count * 4), o);
}

const ENCODERS: Partial<Record<DType, BlockEncoder>> = { float32: f32, float16: f16, bfloat16: bf16, q4_0, q4_1, q5_0, q5_1, q8_0, tq1_0, tq2_0, mxfp4 };

/** The dtypes {@link ggufQuantize} produces from float32. */
export const GGUF_QUANTIZABLE: readonly DType[] = Object.keys(ENCODERS) as DType[];

/** True when {@link ggufQuantize} produces this dtype. */
export function ggufCanQuantize(dtype: DType): boolean {
  return ENCODERS[dtype] !== undefined;
}

/**
 * Blocks of `dtype` from float32 values (a whole number of blocks), written into `out`
 * when given (reused across calls) or a new array; byte for byte what
 * `gguf.quants.quantize` writes. `UNSUPPORTED_DTYPE` names a type tensio cannot produce.
 *
 * @example
 * ```ts
 * const blocks = ggufQuantize('q8_0', weights); // 34 bytes per 32 values
 * ```
 */
export function ggufQuantize(dtype: DType, values: Float32Array, out?: Uint8Array): Uint8Array {
  const encode = ENCODERS[dtype];
  if (!encode) fail('UNSUPPORTED_DTYPE', `gguf: tensio cannot quantize to ${dtype} (it quantizes to ${GGUF_QUANTIZABLE.join(', ')})`);
  const block = DTYPE_INFO[dtype].block ?? { elements: 1, bytes: DTYPE_INFO[dtype].bits / 8 };
  if (values.length % block.elements !== 0) fail('INVALID_SHAPE', `gguf: ${values.length} values are not a whole number of ${dtype} blocks of ${block.elements}`);
  const blocks = values.length / block.elements;
  const bytes = blocks * block.bytes;
  const target = out ? out.subarray(0, bytes) : new Uint8Array(bytes);
  if (target.byteLength < bytes) fail('INVALID_ARGUMENT', `gguf: the output holds ${out!.byteLength} bytes, ${bytes} are needed`);
  encode!(values, 0, target, 0, blocks);
  return target;
}
