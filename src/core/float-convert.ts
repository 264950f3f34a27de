/**
 * Fast conversions between the narrow float formats and float32.
 *
 * Decoding uses lookup tables (65,536 entries for float16, 256 for each float8), built
 * once on first use; encoding uses bit operations with round-to-nearest-even. No
 * per-element object allocation anywhere: these run at GB/s on the hot path.
 */
import type { DType } from './dtype.js';
import { TensioError } from './errors.js';
import type { Tensor } from './tensor.js';
import { elementCount } from './sizes.js';

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

let float16Table: Float32Array | undefined;
const float8Tables = new Map<DType, Float32Array>();

function float16ToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return sign | 0x7f800000 | (mantissa << 13);
  if (exponent !== 0) return sign | ((exponent + 112) << 23) | (mantissa << 13);
  if (mantissa === 0) return sign;
  // Subnormal half: normalise into a float32 exponent.
  let e = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e -= 1;
  }
  return sign | (e << 23) | ((mantissa & 0x3ff) << 13);
}

function getFloat16Table(): Float32Array {
  if (!float16Table) {
    const bits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = float16ToFloat32Bits(h);
    float16Table = new Float32Array(bits.buffer);
  }
  return float16Table;
}

/** Parameters of a small float format, enough to decode any of the float8 variants. */
interface MiniFloat {
  exponentBits: number;
  mantissaBits: number;
  bias: number;
  /** e4m3fn: no infinities, only S.1111.111 is NaN. */
  finiteOnly?: boolean;
  /** fnuz: no negative zero; 0x80 is the only NaN. */
  unsignedZero?: boolean;
}

const MINIFLOATS: Partial<Record<DType, MiniFloat>> = {
  float8_e4m3fn: { exponentBits: 4, mantissaBits: 3, bias: 7, finiteOnly: true },
  float8_e5m2: { exponentBits: 5, mantissaBits: 2, bias: 15 },
  float8_e4m3fnuz: { exponentBits: 4, mantissaBits: 3, bias: 8, unsignedZero: true },
  float8_e5m2fnuz: { exponentBits: 5, mantissaBits: 2, bias: 16, unsignedZero: true },
};

function decodeMiniFloat(byte: number, f: MiniFloat): number {
  if (f.unsignedZero && byte === 0x80) return NaN;
  const sign = byte & 0x80 ? -1 : 1;
  const exponentMax = (1 << f.exponentBits) - 1;
  const exponent = (byte >> f.mantissaBits) & exponentMax;
  const mantissa = byte & ((1 << f.mantissaBits) - 1);
  if (f.finiteOnly) {
    if (exponent === exponentMax && mantissa === (1 << f.mantissaBits) - 1) return NaN;
  } else if (!f.unsignedZero && exponent === exponentMax) {
    return mantissa === 0 ? sign * Infinity : NaN;
  }
  if (exponent === 0) return sign * mantissa * 2 ** (1 - f.bias - f.mantissaBits);
  return sign * (1 + mantissa / (1 << f.mantissaBits)) * 2 ** (exponent - f.bias);
}

function getFloat8Table(dtype: DType): Float32Array {
  let table = float8Tables.get(dtype);
  if (!table) {
    table = new Float32Array(256);
    if (dtype === 'float8_e8m0') {
      // Scale-only format: 2^(e - 127); 0xff is NaN.
      for (let e = 0; e < 256; e++) table[e] = e === 255 ? NaN : 2 ** (e - 127);
    } else {
      const f = MINIFLOATS[dtype]!;
      for (let b = 0; b < 256; b++) table[b] = decodeMiniFloat(b, f);
    }
    float8Tables.set(dtype, table);
  }
  return table;
}

/**
 * The value of IEEE half-precision bits (subnormals, infinities and NaN included).
 *
 * @example
 * ```ts
 * float16BitsToNumber(0x3c00); // 1
 * ```
 */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Encodes one float32 as float16 bits: round-to-nearest-even, overflow to ±inf, NaN to 0x7e00. */
export function float32ToFloat16Bits(value: number): number {
  scratchF32[0] = value;
  return float32BitsToFloat16Bits(scratchU32[0]!);
}

/**
 * The same from float32 bits (an unsigned 32-bit integer), for loops over a `Uint32Array`
 * view. The one float32 → float16 rounding in tensio; `float-cast.ts` (torch's casts)
 * passes `keepNaNPayload`: a NaN then keeps its sign and top payload bits, quieted, as
 * F16C does, instead of becoming the canonical 0x7e00.
 */
export function float32BitsToFloat16Bits(x: number, keepNaNPayload = false): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) {
    if (!mantissa) return sign | 0x7c00;
    return keepNaNPayload ? sign | 0x7e00 | (mantissa >>> 13) : 0x7e00;
  }
  const e = exponent - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1;
  return sign | half;
}

/** Encodes one float32 as bfloat16 bits: round-to-nearest-even, NaN kept quiet. */
export function float32ToBfloat16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Finite non-negative values of a float8 format, ascending, with their codes; built once. */
interface EncodeTable {
  values: Float64Array;
  codes: Uint8Array;
  /** Code of +infinity, or -1 when the format has none (it saturates instead). */
  infinityCode: number;
  /** Where rounding goes to infinity: halfway between the largest finite value and the next one the format would have. */
  overflowThreshold: number;
}

const encodeTables = new Map<DType, EncodeTable>();

function getEncodeTable(dtype: DType): EncodeTable {
  let table = encodeTables.get(dtype);
  if (!table) {
    const decode = getFloat8Table(dtype);
    const entries: [number, number][] = [];
    let infinityCode = -1;
    for (let code = 0; code < 128; code++) {
      const value = decode[code]!;
      if (value === Infinity) infinityCode = code;
      else if (Number.isFinite(value)) entries.push([value, code]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    const values = Float64Array.from(entries, ([value]) => value);
    const max = values[values.length - 1]!;
    const previous = values[values.length - 2]!;
    table = { values, codes: Uint8Array.from(entries, ([, code]) => code), infinityCode, overflowThreshold: max + (max - previous) / 2 };
    encodeTables.set(dtype, table);
  }
  return table;
}

/**
 * float8_e8m0 (a power-of-two scale, 2^(code − 127)) as ml_dtypes converts: zero,
 * negatives, infinities and NaN have no code and become NaN (0xff); otherwise the
 * float32 exponent rounded up when the mantissa is at least one half.
 */
function encodeE8m0(value: number): number {
  if (!(value > 0) || value === Infinity) return 0xff;
  scratchF32[0] = value;
  const bits = scratchU32[0]!;
  const exponent = (bits >>> 23) & 0xff;
  if (exponent === 0) return scratchF32[0]! >= 1.5 * 2 ** -127 ? 1 : 0; // float32 subnormal
  const code = exponent + ((bits & 0x7fffff) >= 0x400000 ? 1 : 0);
  return code > 254 ? 0xff : code;
}

function encodeMiniFloat(value: number, dtype: DType): number {
  if (dtype === 'float8_e8m0') return encodeE8m0(value);
  const f = MINIFLOATS[dtype]!;
  if (Number.isNaN(value)) return f.unsignedZero ? 0x80 : f.finiteOnly ? 0x7f : 0x7e;
  if (value === 0) return Object.is(value, -0) && !f.unsignedZero ? 0x80 : 0;
  // Sign-magnitude: encode |value| with the positive codes, then set the sign bit.
  const signBit = value < 0 ? 0x80 : 0;
  const magnitude = Math.abs(value);
  const table = getEncodeTable(dtype);
  const maxCode = table.codes[table.codes.length - 1]!;
  // At exactly the threshold, round-to-nearest-even keeps an even largest code.
  if (magnitude > table.overflowThreshold || (magnitude === table.overflowThreshold && (maxCode & 1) === 1)) {
    // Past the largest value plus half a step: infinity where the format has one, else
    // NaN, as ml_dtypes and torch convert (non-saturating).
    if (table.infinityCode >= 0) return signBit | table.infinityCode;
    return f.unsignedZero ? 0x80 : signBit | 0x7f;
  }
  const { values, codes } = table;
  // Binary search for the first value >= magnitude, then round to the nearer
  // neighbour, ties to the even code (round-to-nearest-even).
  let low = 0;
  let high = values.length - 1;
  if (magnitude >= values[high]!) return signBit | codes[high]!;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle]! < magnitude) low = middle + 1;
    else high = middle;
  }
  const above = low;
  const below = Math.max(0, low - 1);
  const distanceAbove = values[above]! - magnitude;
  const distanceBelow = magnitude - values[below]!;
  let code: number;
  if (distanceAbove < distanceBelow) code = codes[above]!;
  else if (distanceBelow < distanceAbove) code = codes[below]!;
  else code = (codes[above]! & 1) === 0 ? codes[above]! : codes[below]!;
  // A magnitude that rounds to zero keeps its sign where the format has -0.
  if (code === 0 && f.unsignedZero) return 0;
  return signBit | code;
}

/**
 * Decodes a float tensor of any width into a new `Float32Array` (float64 is narrowed).
 *
 * @example
 * ```ts
 * const weights = toFloat32Array(await reader.read('w')); // bf16, f16, f8 or f32
 * ```
 */
export function toFloat32Array(tensor: Tensor): Float32Array {
  const count = elementCount(tensor.shape);
  const { data } = tensor;
  const out = new Float32Array(count);
  switch (tensor.dtype) {
    case 'float32': {
      new Uint8Array(out.buffer).set(data.subarray(0, count * 4));
      return out;
    }
    case 'float64': {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'float16': {
      const table = getFloat16Table();
      const bits = alignedUint16(data, count);
      for (let i = 0; i < count; i++) out[i] = table[bits[i]!]!;
      return out;
    }
    case 'bfloat16': {
      const bits = alignedUint16(data, count);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = bits[i]! << 16;
      return out;
    }
    case 'float8_e4m3fn':
    case 'float8_e5m2':
    case 'float8_e4m3fnuz':
    case 'float8_e5m2fnuz':
    case 'float8_e8m0': {
      const table = getFloat8Table(tensor.dtype);
      for (let i = 0; i < count; i++) out[i] = table[data[i]!]!;
      return out;
    }
    default:
      throw new TensioError('UNSUPPORTED_DTYPE', `toFloat32Array: ${tensor.dtype} is not a float type tensio decodes`);
  }
}

/**
 * Encodes float32 values as a tensor of a float dtype (float16, bfloat16, float8s,
 * float32, float64), rounding to nearest even.
 *
 * @example
 * ```ts
 * const half = fromFloat32Array(new Float32Array([1, 2.5]), 'float16', [2]);
 * ```
 */
export function fromFloat32Array(values: Float32Array, dtype: DType, shape: readonly number[] = [values.length]): Tensor {
  const count = elementCount(shape);
  if (count !== values.length) {
    throw new TensioError('SIZE_MISMATCH', `fromFloat32Array: shape [${shape.join(', ')}] holds ${count} elements, got ${values.length}`);
  }
  let data: Uint8Array;
  switch (dtype) {
    case 'float32':
      data = new Uint8Array(values.slice().buffer);
      break;
    case 'float64':
      data = new Uint8Array(Float64Array.from(values).buffer);
      break;
    case 'float16': {
      const bits = new Uint16Array(count);
      const source = new Uint32Array(values.buffer, values.byteOffset, count);
      for (let i = 0; i < count; i++) bits[i] = float32BitsToFloat16Bits(source[i]!);
      data = new Uint8Array(bits.buffer);
      break;
    }
    case 'bfloat16': {
      const bits = new Uint16Array(count);
      const source = new Uint32Array(values.buffer, values.byteOffset, count);
      for (let i = 0; i < count; i++) {
        const x = source[i]!;
        bits[i] = (x & 0x7fffffff) > 0x7f800000 ? ((x >>> 16) | 0x40) : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      data = new Uint8Array(bits.buffer);
      break;
    }
    case 'float8_e4m3fn':
    case 'float8_e5m2':
    case 'float8_e4m3fnuz':
    case 'float8_e5m2fnuz':
    case 'float8_e8m0': {
      data = new Uint8Array(count);
      for (let i = 0; i < count; i++) data[i] = encodeMiniFloat(values[i]!, dtype);
      break;
    }
    default:
      throw new TensioError('UNSUPPORTED_DTYPE', `fromFloat32Array: cannot encode floats as ${dtype}`);
  }
  return { dtype, shape: [...shape], data };
}

function alignedUint16(data: Uint8Array, count: number): Uint16Array {
  if (data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, count);
  return new Uint16Array(data.slice(0, count * 2).buffer);
}
