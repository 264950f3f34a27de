/**
 * Casting float tensors between float widths exactly as torch's `.to(dtype)` does on
 * the CPU (checked bit for bit against torch 2.x by `test/core-cast-oracle.test.ts`):
 *
 * - every cast goes through float32, as torch does (float64 → float16 rounds twice);
 * - round to nearest, ties to even, subnormals kept;
 * - NaN from float32: float16 keeps sign and top payload bits (quieted); bfloat16
 *   becomes 0xffff; float8 e4m3fn/e5m2 become 0x7f with the sign; the fnuz types 0x80.
 *   torch's NaN bit patterns from other sources depend on its kernel path (vectorised
 *   or scalar, so on the tensor's length); tensio always goes through float32 and
 *   gives a NaN, with the sign where the target has one;
 * - overflow: float16, bfloat16 and float8_e5m2 go to ±infinity; float8_e4m3fn
 *   saturates to ±448 (infinities too); the fnuz types become NaN (0x80).
 *
 * Casts run over whole elements of byte buffers with typed-array loops and no
 * per-element allocation, so a converter can cast chunk by chunk.
 */
import type { DType } from './dtype.js';
import { TensioError } from './errors.js';
import { float32BitsToFloat16Bits } from './float-convert.js';

/** Float dtypes {@link castFloatElements} reads and writes. */
export const CASTABLE_FLOAT_DTYPES: readonly DType[] = [
  'float64', 'float32', 'float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz',
];

const ITEM_BYTES: Partial<Record<DType, number>> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2,
  float8_e4m3fn: 1, float8_e5m2: 1, float8_e4m3fnuz: 1, float8_e5m2fnuz: 1,
};

/** True when {@link castFloatElements} can read or write this dtype. */
export function isCastableFloat(dtype: DType): boolean {
  return ITEM_BYTES[dtype] !== undefined;
}

/** How one float8 type rounds, overflows and spells NaN. */
interface Float8Rules {
  mantissaBits: number;
  bias: number;
  /** Largest finite magnitude code. */
  maxCode: number;
  /** What a magnitude past `maxCode` (or an infinity) becomes: `'infinity'`, `'saturate'` or `'nan'` (0x80, fnuz). */
  overflow: 'infinity' | 'saturate' | 'nan';
  /** fnuz: a single NaN 0x80 and no negative zero. */
  fnuz: boolean;
}

const FLOAT8_RULES: Partial<Record<DType, Float8Rules>> = {
  float8_e4m3fn: { mantissaBits: 3, bias: 7, maxCode: 0x7e, overflow: 'saturate', fnuz: false },
  float8_e5m2: { mantissaBits: 2, bias: 15, maxCode: 0x7b, overflow: 'infinity', fnuz: false },
  float8_e4m3fnuz: { mantissaBits: 3, bias: 8, maxCode: 0x7f, overflow: 'nan', fnuz: true },
  float8_e5m2fnuz: { mantissaBits: 2, bias: 16, maxCode: 0x7f, overflow: 'nan', fnuz: true },
};

/** float32 bits → bfloat16 bits as torch: ties to even, every NaN becomes 0xffff. */
function float32BitsToBfloat16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 bits → a float8 code, by 32-bit integer arithmetic (exact rounding, no double rounding). */
function float32BitsToFloat8(x: number, rules: Float8Rules): number {
  const signBit = (x >>> 24) & 0x80;
  const magnitude = x & 0x7fffffff;
  if (magnitude > 0x7f800000) return rules.fnuz ? 0x80 : signBit | 0x7f;
  if (magnitude === 0x7f800000) return overflowCode(signBit, rules);
  const exponent = (magnitude >>> 23) - 127 + rules.bias;
  const dropBits = 23 - rules.mantissaBits;
  let code: number;
  if (exponent > 0) {
    // Normal in the target: keep the top mantissa bits; a carry bumps the exponent.
    if (exponent > (rules.maxCode >>> rules.mantissaBits) + 1) return overflowCode(signBit, rules);
    code = (exponent << rules.mantissaBits) | ((magnitude & 0x7fffff) >>> dropBits);
    const rest = magnitude & ((1 << dropBits) - 1);
    const midpoint = 1 << (dropBits - 1);
    if (rest > midpoint || (rest === midpoint && (code & 1))) code += 1;
  } else {
    // Subnormal in the target (float32 subnormals are far below its smallest step).
    const shift = dropBits + 1 - exponent;
    if (shift > 24 || (magnitude >>> 23) === 0) code = 0;
    else {
      const significand = (magnitude & 0x7fffff) | 0x800000;
      code = significand >>> shift;
      const rest = significand & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      if (rest > midpoint || (rest === midpoint && (code & 1))) code += 1;
    }
  }
  if (code > rules.maxCode) return overflowCode(signBit, rules);
  if (code === 0) return rules.fnuz ? 0 : signBit;
  return signBit | code;
}

function overflowCode(signBit: number, rules: Float8Rules): number {
  if (rules.overflow === 'nan') return 0x80;
  if (rules.overflow === 'saturate') return signBit | rules.maxCode;
  return signBit | (rules.maxCode + 1);
}

/** float16 bits → float32 bits: exact; NaN quieted with sign and payload kept (F16C). */
function halfToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | (mantissa ? 0x7fc00000 : 0x7f800000) | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  let e = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e -= 1;
  }
  return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

/** float8 bits → float32 bits: exact; NaN spelled as torch widens it. */
function float8ToFloat32Bits(code: number, dtype: DType): number {
  const sign = (code & 0x80) << 24;
  switch (dtype) {
    case 'float8_e5m2':
      return halfToFloat32Bits(code << 8);
    case 'float8_e4m3fn':
      if ((code & 0x7f) === 0x7f) return (sign | 0x7ff00000) >>> 0;
      break;
    default:
      if (code === 0x80) return 0x7f800001;
  }
  const rules = FLOAT8_RULES[dtype]!;
  const magnitude = code & 0x7f;
  const exponent = magnitude >>> rules.mantissaBits;
  const mantissa = magnitude & ((1 << rules.mantissaBits) - 1);
  const value = exponent === 0
    ? mantissa * 2 ** (1 - rules.bias - rules.mantissaBits)
    : (1 + mantissa / (1 << rules.mantissaBits)) * 2 ** (exponent - rules.bias);
  widenScratch[0] = value;
  return (sign | widenScratchBits[0]!) >>> 0;
}

const widenScratch = new Float32Array(1);
const widenScratchBits = new Uint32Array(widenScratch.buffer);
let halfTable: Uint32Array | undefined;
const float8Tables = new Map<DType, Uint32Array>();

function getHalfTable(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat32Bits(h);
  }
  return halfTable;
}

function getFloat8Table(dtype: DType): Uint32Array {
  let table = float8Tables.get(dtype);
  if (!table) {
    table = new Uint32Array(256);
    for (let code = 0; code < 256; code++) table[code] = float8ToFloat32Bits(code, dtype);
    float8Tables.set(dtype, table);
  }
  return table;
}

/** Reusable float32-bits buffer for the two-step casts; grows, never shrinks. */
let scratch = new Uint32Array(0);

function scratchBits(count: number): Uint32Array {
  if (scratch.length < count) scratch = new Uint32Array(Math.max(count, 1024));
  return scratch;
}

/** A typed view of `bytes`; copies to an aligned buffer only when the offset is misaligned. */
function view<T>(bytes: Uint8Array, itemBytes: number, count: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  if (bytes.byteOffset % itemBytes === 0) return make(bytes.buffer, bytes.byteOffset, count);
  const copy = bytes.slice(0, count * itemBytes);
  return make(copy.buffer, 0, count);
}

/** Decodes `count` elements of `from` into float32 bits (exact widening, torch's NaN rules). */
function decodeToFloat32Bits(source: Uint8Array, from: DType, count: number, bits: Uint32Array): void {
  switch (from) {
    case 'float32':
      bits.set(view(source, 4, count, (b, o, n) => new Uint32Array(b, o, n)));
      return;
    case 'float64': {
      // Narrowing float64 → float32 rounds to nearest even (Math.fround); NaN keeps its
      // sign and top payload bits, quieted, as the hardware conversion torch uses.
      const words = view(source, 8, count, (b, o, n) => new Uint32Array(b, o, n * 2));
      const floats = view(source, 8, count, (b, o, n) => new Float64Array(b, o, n));
      const out = new Float32Array(bits.buffer, bits.byteOffset, count);
      for (let i = 0; i < count; i++) {
        const value = floats[i]!;
        if (value === value) out[i] = value;
        else {
          const high = words[2 * i + 1]!;
          const low = words[2 * i]!;
          bits[i] = ((high & 0x80000000) | 0x7fc00000 | ((high & 0x7ffff) << 3) | (low >>> 29)) >>> 0;
        }
      }
      return;
    }
    case 'float16': {
      const table = getHalfTable();
      const halves = view(source, 2, count, (b, o, n) => new Uint16Array(b, o, n));
      for (let i = 0; i < count; i++) bits[i] = table[halves[i]!]!;
      return;
    }
    case 'bfloat16': {
      const halves = view(source, 2, count, (b, o, n) => new Uint16Array(b, o, n));
      for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
      return;
    }
    default: {
      const table = getFloat8Table(from);
      for (let i = 0; i < count; i++) bits[i] = table[source[i]!]!;
    }
  }
}

/** Encodes `count` float32 bit patterns as `to` into `target`. */
function encodeFromFloat32Bits(bits: Uint32Array, to: DType, count: number, target: Uint8Array): void {
  switch (to) {
    case 'float32':
      target.set(new Uint8Array(bits.buffer, bits.byteOffset, count * 4));
      return;
    case 'float64': {
      const floats = new Float32Array(bits.buffer, bits.byteOffset, count);
      const out = new Float64Array(count);
      const words = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) {
        const value = floats[i]!;
        if (value === value) out[i] = value;
        else {
          // Widening keeps sign and payload (quieted), as the hardware does.
          const x = bits[i]!;
          words[2 * i + 1] = ((x & 0x80000000) | 0x7ff80000 | ((x & 0x3fffff) >>> 3)) >>> 0;
          words[2 * i] = (x & 0x7) << 29;
        }
      }
      target.set(new Uint8Array(out.buffer));
      return;
    }
    case 'float16': {
      const out = new Uint16Array(count);
      // As torch (F16C): ties to even, a NaN keeps its sign and top payload bits, quieted.
      for (let i = 0; i < count; i++) out[i] = float32BitsToFloat16Bits(bits[i]!, true);
      target.set(new Uint8Array(out.buffer));
      return;
    }
    case 'bfloat16': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = float32BitsToBfloat16(bits[i]!);
      target.set(new Uint8Array(out.buffer));
      return;
    }
    default: {
      const rules = FLOAT8_RULES[to]!;
      for (let i = 0; i < count; i++) target[i] = float32BitsToFloat8(bits[i]!, rules);
    }
  }
}

/**
 * Casts `count` elements of dtype `from` in `source` to dtype `to`, written into
 * `target` (which must hold `count` elements of `to`), exactly as torch's
 * `tensor.to(dtype)` rounds. Both buffers are little-endian.
 *
 * @example
 * ```ts
 * const halves = new Uint8Array(2 * 3);
 * castFloatElements(new Uint8Array(new Float32Array([1, 1e-8, 70000]).buffer), 'float32', halves, 'float16', 3);
 * ```
 */
export function castFloatElements(source: Uint8Array, from: DType, target: Uint8Array, to: DType, count: number): void {
  const fromBytes = ITEM_BYTES[from];
  const toBytes = ITEM_BYTES[to];
  if (fromBytes === undefined || toBytes === undefined) {
    throw new TensioError('UNSUPPORTED_DTYPE', `cannot cast ${from} to ${to}: casts are between ${CASTABLE_FLOAT_DTYPES.join(', ')}`);
  }
  if (source.byteLength < count * fromBytes || target.byteLength < count * toBytes) {
    throw new TensioError('SIZE_MISMATCH', `cast of ${count} elements ${from} → ${to}: source has ${source.byteLength} bytes, target ${target.byteLength}`);
  }
  if (from === to) {
    target.set(source.subarray(0, count * fromBytes));
    return;
  }
  // Work in slices so the float32 scratch stays small whatever the chunk size.
  const step = 1 << 16;
  for (let at = 0; at < count; at += step) {
    const n = Math.min(step, count - at);
    const bits = scratchBits(n);
    decodeToFloat32Bits(source.subarray(at * fromBytes), from, n, bits);
    encodeFromFloat32Bits(bits, to, n, target.subarray(at * toBytes));
  }
}

/** Bytes per element of a castable dtype. */
export function castItemBytes(dtype: DType): number {
  const bytes = ITEM_BYTES[dtype];
  if (bytes === undefined) throw new TensioError('UNSUPPORTED_DTYPE', `${dtype} is not a dtype tensio casts`);
  return bytes;
}
