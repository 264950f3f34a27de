/**
 * `dequantizeLayout(reader, name)`: a group-quantized (`quant_group`) or microscaling
 * (`mx`) multi-part tensor as float32 values, the way zTensor's spec defines them
 * (`zt.quant_group/1`: value = (q − zero) · scale(g); `zt.mx/1`: value = element ·
 * 2^(e − 127)). Memory: the float32 result plus each part once (no part is larger than
 * the result except an int8/fp8 data part, a quarter of it).
 *
 * Where the spec's prose leaves a choice, tensio reads it as follows (and says so in
 * docs/architecture.md): scales (and a `zeros` tensor) are laid out C-order over the
 * tensor's shape with `shape[axis]` replaced by the group (block) count; packed values
 * run in C order, `per_word = ⌊8·width/bits⌋` to a word, `lsb_first` from bit 0 up,
 * `msb_first` from the word's top bit down; a signed `data` (or `zeros`) dtype holds
 * two's-complement `bits`-bit values; MXINT8 elements carry OCP's implicit 2^−6.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { itemSize, type DType } from '../core/dtype.js';
import { toFloat32Array } from '../core/float-convert.js';
import { MAX_TENSOR_BYTES } from '../core/limits.js';
import { elementCount } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { quoteInput } from '../core/quote.js';
import type { MxLayout, QuantGroupLayout } from './layouts.js';
import type { TensorInfo, TensorReader } from './types.js';

/** Options for {@link dequantizeLayout}. */
export interface DequantizeLayoutOptions {
  /** Largest float32 result in bytes (default MAX_TENSOR_BYTES, the one-buffer limit). */
  maxTensorBytes?: number;
  signal?: AbortSignal;
}

/**
 * True when {@link dequantizeLayout} can turn this tensor into float32 values.
 *
 * @example
 * ```ts
 * if (canDequantizeLayout(info)) console.log(`${info.name} dequantizes to float32`);
 * ```
 */
export function canDequantizeLayout(info: TensorInfo): boolean {
  return info.layout?.kind === 'quant_group' || info.layout?.kind === 'mx';
}

/**
 * Reads a `quant_group` or `mx` tensor as float32 values of its logical shape. Throws
 * `UNSUPPORTED_FEATURE` for another layout, `LIMIT_EXCEEDED` when the result would be
 * larger than `maxTensorBytes`, `INVALID_LAYOUT` when a part's size does not match
 * the geometry.
 *
 * @example
 * ```ts
 * const weights = await dequantizeLayout(reader, 'layer.0.w'); // { dtype: 'float32', shape, data }
 * ```
 */
export async function dequantizeLayout(reader: TensorReader, name: string, options: DequantizeLayoutOptions = {}): Promise<Tensor> {
  const info = reader.info(name);
  const format = reader.format;
  const layout = info.layout;
  if (layout?.kind !== 'quant_group' && layout?.kind !== 'mx') {
    throw new TensioError('UNSUPPORTED_FEATURE', `${format}: ${quoteInput(name)} is not a quant_group or mx tensor (layout ${layout ? (layout.kind === 'other' ? layout.name : layout.kind) : 'dense'}), nothing to dequantize`, { format });
  }
  const count = elementCount(info.shape, format);
  const limit = options.maxTensorBytes ?? MAX_TENSOR_BYTES;
  if (count * 4 > limit) {
    throw new TensioError('LIMIT_EXCEEDED', `${format}: ${quoteInput(name)} dequantized is ${count * 4} bytes, more than the limit ${limit} (raise maxTensorBytes, or read its parts)`, { format });
  }
  const read = async (part: string): Promise<Tensor> => {
    throwIfAborted(options.signal);
    return reader.readPart(name, part, options.signal ? { signal: options.signal } : {});
  };
  const geometry = geometryOf(info, layout.axis, layout.kind === 'mx' ? layout.blockSize : layout.groupSize, format);
  const out = new Float32Array(count);
  if (layout.kind === 'mx') {
    const elements = mxElements(await read('data'), layout, count, format, name);
    const scales = scaleValues(await read('scales'), geometry.scaleCount, format, name);
    geometry.forEach((i, s) => { out[i] = elements(i) * scales[s]!; });
  } else {
    const q = packedValues(await read('data'), layout, count, format, name, 'data');
    const scales = scaleValues(await read('scales'), geometry.scaleCount, format, name);
    const zero = await zeroPoints(layout, geometry.scaleCount, read, format, name);
    geometry.forEach((i, s) => { out[i] = (q(i) - zero(s)) * scales[s]!; });
  }
  return { dtype: 'float32', shape: [...info.shape], data: new Uint8Array(out.buffer) };
}

interface Geometry {
  /** Scales (and zeros) the layout needs: groups along the axis × the other dimensions. */
  readonly scaleCount: number;
  /** Calls `visit(element, scaleIndex)` for every element in C order. */
  forEach(visit: (element: number, scale: number) => void): void;
}

/** Elements along `axis` fall in groups of `groupSize` (0: one group per index); the rest of the shape is kept. */
function geometryOf(info: TensorInfo, axis: number, groupSize: number, format: string): Geometry {
  const shape = info.shape;
  if (!(axis >= 0 && axis < shape.length)) invalid(format, info.name, `axis ${axis} is outside rank ${shape.length}`);
  const along = shape[axis]!;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (groupSize > 0 && along % groupSize !== 0) invalid(format, info.name, `shape[${axis}] = ${along} is not a multiple of the group size ${groupSize}`);
  const groups = groupSize > 0 ? along / groupSize : along;
  return {
    scaleCount: outer * groups * inner,
    forEach(visit) {
      let element = 0;
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < along; c++) {
          const base = (o * groups + (groupSize > 0 ? Math.floor(c / groupSize) : c)) * inner;
          for (let k = 0; k < inner; k++) visit(element++, base + k);
        }
      }
    },
  };
}

function invalid(format: string, name: string, message: string): never {
  throw new TensioError('INVALID_LAYOUT', `${format}: ${quoteInput(name)}: ${message}`, { format });
}

/** Scale factors as float32 (f32 or f16 factors, or e8m0 exponents 2^(e−127), 0xff NaN). */
function scaleValues(part: Tensor, needed: number, format: string, name: string): Float32Array {
  const values = toFloat32Array({ ...part, shape: [elementsOf(part)] });
  if (values.length !== needed) invalid(format, name, `"scales" holds ${values.length} values, the layout needs ${needed}`);
  return values;
}

function elementsOf(part: Tensor): number {
  const size = itemSize(part.dtype);
  if (size === undefined) throw new TensioError('UNSUPPORTED_DTYPE', `a part of dtype ${part.dtype} has no whole-byte element size`);
  return part.data.byteLength / size;
}

/**
 * The `bits`-bit integers packed in a part's words, as a function of the element
 * index: `per_word` values to a word, from bit 0 up (`lsb_first`) or from the top
 * down (`msb_first`); sign-extended when the part's dtype is signed.
 */
function packedValues(part: Tensor, layout: QuantGroupLayout, count: number, format: string, name: string, role: string): (index: number) => number {
  const { bits } = layout;
  const width = itemSize(layout.packing.word) ?? 0;
  const perWord = Math.floor((8 * width) / bits);
  if (perWord < 1) invalid(format, name, `${bits}-bit values do not fit ${layout.packing.word} words`);
  const words = Math.ceil(count / perWord);
  if (part.data.byteLength !== words * width) invalid(format, name, `"${role}" holds ${part.data.byteLength} bytes, ${count} ${bits}-bit values need ${words * width}`);
  const bytes = part.data;
  const mask = (1 << bits) - 1;
  const signed = part.dtype.startsWith('int');
  const msbFirst = layout.packing.order === 'msb_first';
  return (index) => {
    const slot = index % perWord;
    const bit = msbFirst ? 8 * width - (slot + 1) * bits : slot * bits;
    const at = (index - slot) / perWord * width + (bit >>> 3);
    // bits ≤ 8, so a value spans at most two bytes of its (little-endian) word.
    const pair = bytes[at]! | ((bit & 7) + bits > 8 ? bytes[at + 1]! << 8 : 0);
    const value = (pair >>> (bit & 7)) & mask;
    return signed && value & (1 << (bits - 1)) ? value - (1 << bits) : value;
  };
}

/** The zero point of each group: none (0), one implied value, or a `zeros` part (plain, or packed as the data). */
async function zeroPoints(layout: QuantGroupLayout, needed: number, read: (part: string) => Promise<Tensor>, format: string, name: string): Promise<(scale: number) => number> {
  const zero = layout.zeroPoint;
  if (zero.form === 'none') return () => 0;
  if (zero.form === 'implied') return () => zero.value;
  const part = await read('zeros');
  if (zero.packing === 'same_as_data') return packedValues(part, layout, needed, format, name, 'zeros');
  const values = numbersOf(part);
  if (values.length !== needed) invalid(format, name, `"zeros" holds ${values.length} values, the layout needs ${needed}`);
  return (scale) => values[scale]!;
}

/** A part's elements as numbers (integers exactly; 64-bit integers beyond 2^53 rounded). */
function numbersOf(part: Tensor): ArrayLike<number> {
  const count = elementsOf(part);
  const aligned = part.data.byteOffset % 8 === 0 ? part.data : part.data.slice();
  const buffer = aligned.buffer;
  const offset = aligned.byteOffset;
  switch (part.dtype) {
    case 'uint8': return new Uint8Array(buffer, offset, count);
    case 'int8': return new Int8Array(buffer, offset, count);
    case 'uint16': return new Uint16Array(buffer, offset, count);
    case 'int16': return new Int16Array(buffer, offset, count);
    case 'uint32': return new Uint32Array(buffer, offset, count);
    case 'int32': return new Int32Array(buffer, offset, count);
    case 'uint64': return Array.from(new BigUint64Array(buffer, offset, count), Number);
    case 'int64': return Array.from(new BigInt64Array(buffer, offset, count), Number);
    case 'float64': return new Float64Array(buffer, offset, count);
    default: return toFloat32Array({ ...part, shape: [count] });
  }
}

/** The 16 values of an fp4 e2m1 code (sign, 2 exponent bits, 1 mantissa bit). */
const FLOAT4_E2M1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

/** MX elements as a function of the element index: fp4 (low nibble first), fp8, or int8 · 2^−6. */
function mxElements(part: Tensor, layout: MxLayout, count: number, format: string, name: string): (index: number) => number {
  const bytes = part.data;
  const expected = layout.elements === 'float4_e2m1' ? Math.ceil(count / 2) : count;
  if (bytes.byteLength !== expected) invalid(format, name, `"data" holds ${bytes.byteLength} bytes, ${count} ${layout.elements} elements need ${expected}`);
  if (layout.elements === 'float4_e2m1') return (index) => FLOAT4_E2M1[(bytes[index >>> 1]! >>> ((index & 1) * 4)) & 0x0f]!;
  if (layout.elements === 'int8') return (index) => ((bytes[index]! << 24) >> 24) / 64;
  const values = toFloat32Array({ dtype: layout.elements satisfies DType, shape: [count], data: bytes });
  return (index) => values[index]!;
}
