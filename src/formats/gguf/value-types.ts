/**
 * GGUF value types carried through other formats. A converted file's plain metadata
 * loses GGUF's types (a `uint32` becomes a number, a `float32` 1.0 looks like an integer,
 * safetensors keeps text only), so `convert` records the type of every key of a GGUF
 * input under {@link GGUF_VALUE_TYPES_KEY} (`{ 'llama.context_length': 'uint32',
 * 'tokenizer.ggml.scores': 'array:float32', … }`), and the GGUF writer gives each value
 * its recorded type back: from plain values (zTensor attributes, NumPack) or their text
 * (safetensors `__metadata__`). A value that no longer fits its recorded type (changed
 * on the way) is typed as a plain value is.
 */
import type { Metadata } from '../../model/types.js';
import { GGUF_VALUE_TYPES, type GgufArray, type GgufArrayItems, type GgufTypedValue, type GgufValueType } from './types.js';

/** Metadata key holding the GGUF type of every other key (an object, or its JSON text). */
export const GGUF_VALUE_TYPES_KEY = 'gguf.value_types';

/** A value's type as text: `uint32`, `string`, `array:float32`, `array:array:int32`. */
export function ggufValueTypeName(value: GgufTypedValue): string {
  return value.type === 'array' ? `array:${arrayItemTypeName(value.value)}` : value.type;
}

function arrayItemTypeName(array: GgufArray): string {
  if (array.itemType !== 'array') return array.itemType;
  const first = (array.items as GgufArray[])[0];
  // An empty array of arrays has no inner type to record; any reads back as empty.
  return first ? `array:${arrayItemTypeName(first)}` : 'array:uint8';
}

/** The type name of every key of a GGUF header's metadata. */
export function ggufValueTypesOf(metadata: ReadonlyMap<string, GgufTypedValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of metadata) out[key] = ggufValueTypeName(value);
  return out;
}

/** The recorded types in a metadata object (an object, or JSON text of one), or an empty map. */
export function ggufRecordedTypes(metadata: Metadata | undefined): Map<string, string> {
  let recorded = metadata?.[GGUF_VALUE_TYPES_KEY];
  if (typeof recorded === 'string') {
    try { recorded = JSON.parse(recorded); } catch { return new Map(); }
  }
  if (typeof recorded !== 'object' || recorded === null || Array.isArray(recorded)) return new Map();
  return new Map(Object.entries(recorded as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

const isValueType = (name: string): name is GgufValueType => (GGUF_VALUE_TYPES as readonly string[]).includes(name);

/** Thrown inside {@link ggufRetyped} when a value does not fit; never escapes it. */
class NoFit extends Error {}

const INTEGER_RANGES: Partial<Record<GgufValueType, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], uint32: [0, 2 ** 32 - 1], int32: [-(2 ** 31), 2 ** 31 - 1],
};
const BIGINT_RANGES: Partial<Record<GgufValueType, [bigint, bigint]>> = { uint64: [0n, 2n ** 64n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n] };

/** A plain scalar (or the text of one) as `type`. */
function scalar(type: GgufValueType, value: unknown): number | bigint | boolean | string {
  if (type === 'string') {
    if (typeof value !== 'string') throw new NoFit();
    return value;
  }
  const bigRange = BIGINT_RANGES[type];
  // 64-bit integers as text: digits, or (safetensors) the JSON text of a string of digits.
  if (bigRange && typeof value === 'string' && /^"?-?\d+"?$/.test(value)) value = BigInt(value.replace(/"/g, ''));
  if (typeof value === 'string') value = parseText(value);
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw new NoFit();
    return value;
  }
  if (type === 'float32' || type === 'float64') {
    if (typeof value !== 'number') throw new NoFit();
    return value;
  }
  if (bigRange) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) value = BigInt(value);
    if (typeof value !== 'bigint' || value < bigRange[0] || value > bigRange[1]) throw new NoFit();
    return value;
  }
  const range = INTEGER_RANGES[type]!;
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) throw new NoFit();
  return value;
}

function parseText(text: string): unknown {
  try { return JSON.parse(text); } catch { throw new NoFit(); }
}

const TYPED_ARRAYS: Partial<Record<GgufValueType, { from(items: ArrayLike<unknown>): GgufArrayItems }>> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
  float32: Float32Array, float64: Float64Array, uint64: BigUint64Array, int64: BigInt64Array,
} as unknown as Partial<Record<GgufValueType, { from(items: ArrayLike<unknown>): GgufArrayItems }>>;

/** Plain items (or the JSON text of them) as an array of `spec` (`float32`, `array:int32`, …). */
function array(spec: string, value: unknown): GgufArray {
  if (typeof value === 'string') value = parseText(value);
  if (ArrayBuffer.isView(value)) value = Array.from(value as unknown as ArrayLike<unknown>);
  if (!Array.isArray(value)) throw new NoFit();
  if (spec.startsWith('array:')) return { itemType: 'array', items: value.map((item) => array(spec.slice(6), item)) };
  if (!isValueType(spec) || spec === 'array') throw new NoFit();
  const items = value.map((item) => scalar(spec, item));
  const typed = TYPED_ARRAYS[spec];
  return { itemType: spec, items: typed ? typed.from(items) : (items as string[] | boolean[]) };
}

/**
 * `value` with its recorded GGUF type `spec`, or undefined when it does not fit that type
 * (the caller then types it as a plain value).
 *
 * @example
 * ```ts
 * ggufRetyped(4096, 'uint32');               // { type: 'uint32', value: 4096 }
 * ggufRetyped('[1.5,2]', 'array:float32');   // from safetensors text
 * ```
 */
export function ggufRetyped(value: unknown, spec: string): GgufTypedValue | undefined {
  try {
    if (spec.startsWith('array:')) return { type: 'array', value: array(spec.slice(6), value) };
    if (!isValueType(spec) || spec === 'array') return undefined;
    return { type: spec, value: scalar(spec, value) } as GgufTypedValue;
  } catch (error) {
    if (error instanceof NoFit) return undefined;
    throw error;
  }
}
