/**
 * Encoding GGUF v3 (little-endian): typed values, plain JavaScript values typed the way
 * gguf-py's `GGUFWriter` types them, and the header (metadata, tensor infos, padding).
 * Synchronous over bytes; `writer.ts` streams tensor data after it.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import { GGUF_VALUE_TYPES, type GgufArray, type GgufArrayItems, type GgufTypedValue, type GgufValueType } from './types.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_VALUE_SIZES } from './read.js';
import { ggufPad } from './validate.js';

const fail = errorFactory('gguf');
const utf8 = new TextEncoder();

/** True when `value` is already a {@link GgufTypedValue} (`{ type, value }` with a GGUF type name). */
export function isGgufTypedValue(value: unknown): value is GgufTypedValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value && 'value' in value
    && (GGUF_VALUE_TYPES as readonly string[]).includes((value as { type: string }).type) && Object.keys(value).length === 2;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The item type gguf-py would give these plain items (all the same kind). */
function itemTypeOf(items: readonly unknown[], key: string): GgufValueType {
  if (items.length === 0) return 'int32';
  const first = items[0];
  const kind = Array.isArray(first) || ArrayBuffer.isView(first) ? 'array' : typeof first;
  if (!items.every((item) => (Array.isArray(item) || ArrayBuffer.isView(item) ? 'array' : typeof item) === kind)) {
    fail('INVALID_METADATA', `gguf: the array ${quoteInput(key)} mixes item kinds; GGUF arrays hold one type`);
  }
  switch (kind) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'array': return 'array';
    case 'bigint': return (items as bigint[]).some((v) => v > 2n ** 63n - 1n) ? 'uint64' : 'int64';
    case 'number': {
      const numbers = items as number[];
      if (!numbers.every(Number.isInteger)) return 'float32';
      return numbers.every((v) => v >= INT32_MIN && v <= INT32_MAX) ? 'int32' : 'int64';
    }
    default: return fail('INVALID_METADATA', `gguf: ${quoteInput(key)} holds ${kind} items, which GGUF cannot store`);
  }
}

const TYPED_ARRAY_TYPES: ReadonlyArray<[new (...args: never[]) => ArrayBufferView, GgufValueType]> = [
  [Uint8Array, 'uint8'], [Int8Array, 'int8'], [Uint16Array, 'uint16'], [Int16Array, 'int16'], [Uint32Array, 'uint32'], [Int32Array, 'int32'],
  [Float32Array, 'float32'], [Float64Array, 'float64'], [BigUint64Array, 'uint64'], [BigInt64Array, 'int64'],
];

/**
 * A metadata value as a typed GGUF value: typed values pass through; plain values are
 * typed as gguf-py's `GGUFWriter` types them (string, bool, integer → int32 (int64
 * beyond), other number → float32, bigint → int64 (uint64 beyond), arrays by their
 * items, typed arrays by their element type).
 *
 * @example
 * ```ts
 * ggufTypedValue('llama.context_length', { type: 'uint32', value: 4096 }); // kept
 * ggufTypedValue('general.name', 'tiny'); // { type: 'string', value: 'tiny' }
 * ```
 */
export function ggufTypedValue(key: string, value: unknown): GgufTypedValue {
  if (isGgufTypedValue(value)) return value;
  switch (typeof value) {
    case 'string': return { type: 'string', value };
    case 'boolean': return { type: 'bool', value };
    case 'bigint': return value > 2n ** 63n - 1n ? { type: 'uint64', value } : { type: 'int64', value };
    case 'number':
      if (!Number.isInteger(value)) return { type: 'float32', value };
      return value >= INT32_MIN && value <= INT32_MAX ? { type: 'int32', value } : { type: 'int64', value: BigInt(value) };
    default: break;
  }
  if (ArrayBuffer.isView(value)) {
    const found = TYPED_ARRAY_TYPES.find(([ctor]) => value instanceof ctor);
    if (found) return { type: 'array', value: { itemType: found[1], items: value as unknown as GgufArrayItems } };
  }
  if (Array.isArray(value)) {
    if (!hasGgufShape(value)) return asJsonText(value);
    return { type: 'array', value: arrayOf(key, value) };
  }
  // Objects and null have no GGUF type. They come from other formats' metadata (a
  // table's column list, a checkpoint's nested config): kept as JSON text, as safetensors
  // keeps its non-string metadata, rather than refusing the whole conversion.
  if (value === null || typeof value === 'object') return asJsonText(value);
  return fail('INVALID_METADATA', `gguf: the value of ${quoteInput(key)} is ${typeof value}, which GGUF cannot store`);
}

/** True when every item (recursively) has a GGUF type and each array holds one kind. */
function hasGgufShape(items: readonly unknown[]): boolean {
  const kindOf = (item: unknown): string => (Array.isArray(item) || ArrayBuffer.isView(item) ? 'array' : item === null ? 'null' : typeof item);
  const kinds = new Set(items.map(kindOf));
  if (kinds.size > 1) return false;
  const [kind] = kinds;
  if (kind === undefined || kind === 'string' || kind === 'boolean' || kind === 'number' || kind === 'bigint') return true;
  if (kind === 'array') return items.every((item) => ArrayBuffer.isView(item) || hasGgufShape(item as unknown[]));
  return false;
}

function asJsonText(value: unknown): GgufTypedValue {
  return { type: 'string', value: JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) };
}

function arrayOf(key: string, items: readonly unknown[]): GgufArray {
  const itemType = itemTypeOf(items, key);
  if (itemType === 'array') return { itemType, items: items.map((item) => (ggufTypedValue(key, item).value as GgufArray)) };
  if (itemType === 'string' || itemType === 'bool') return { itemType, items: [...items] as string[] | boolean[] };
  const ctor = TYPED_ARRAY_TYPES.find(([, type]) => type === itemType)![0] as unknown as { from(items: readonly unknown[]): GgufArrayItems };
  return { itemType, items: ctor.from(itemType === 'int64' || itemType === 'uint64' ? items.map((v) => BigInt(v as number | bigint)) : items) };
}

/** Grows as values are appended; little-endian. */
class Encoder {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private room(n: number): number {
    if (this.length + n > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.length + n));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // room() first, then this.view/this.bytes: growing replaces them (`this.view.set…(this.room(4))`
  // would read the old view before room() runs and write past its end).
  u32(v: number): void { const at = this.room(4); this.view.setUint32(at, v, true); }
  u64(v: number | bigint): void { const at = this.room(8); this.view.setBigUint64(at, BigInt(v), true); }
  raw(bytes: Uint8Array): void { const at = this.room(bytes.byteLength); this.bytes.set(bytes, at); }
  string(text: string): void { const bytes = utf8.encode(text); this.u64(bytes.byteLength); this.raw(bytes); }

  scalar(type: GgufValueType, v: number | bigint | boolean, what: string): void {
    const at = this.room(GGUF_VALUE_SIZES[type]);
    const view = this.view;
    const checkInt = (min: number, max: number) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail('INVALID_METADATA', `gguf: ${what} = ${String(v)} is not a ${type}`);
    };
    switch (type) {
      case 'uint8': checkInt(0, 255); view.setUint8(at, v as number); break;
      case 'int8': checkInt(-128, 127); view.setInt8(at, v as number); break;
      case 'uint16': checkInt(0, 65535); view.setUint16(at, v as number, true); break;
      case 'int16': checkInt(-32768, 32767); view.setInt16(at, v as number, true); break;
      case 'uint32': checkInt(0, 2 ** 32 - 1); view.setUint32(at, v as number, true); break;
      case 'int32': checkInt(INT32_MIN, INT32_MAX); view.setInt32(at, v as number, true); break;
      case 'float32': view.setFloat32(at, Number(v), true); break;
      case 'float64': view.setFloat64(at, Number(v), true); break;
      case 'uint64': {
        const b = BigInt(v as number | bigint);
        if (b < 0n || b >= 2n ** 64n) fail('INVALID_METADATA', `gguf: ${what} = ${b} is not a uint64`);
        view.setBigUint64(at, b, true);
        break;
      }
      case 'int64': {
        const b = BigInt(v as number | bigint);
        if (b < -(2n ** 63n) || b >= 2n ** 63n) fail('INVALID_METADATA', `gguf: ${what} = ${b} is not an int64`);
        view.setBigInt64(at, b, true);
        break;
      }
      case 'bool': view.setUint8(at, v ? 1 : 0); break;
      default: fail('INVALID_METADATA', `gguf: ${type} is not a scalar type`);
    }
  }

  array(array: GgufArray, what: string): void {
    this.u32(GGUF_VALUE_TYPES.indexOf(array.itemType));
    const items = array.items as ArrayLike<unknown>;
    this.u64(items.length);
    if (array.itemType === 'string') for (const item of items as string[]) this.string(item);
    else if (array.itemType === 'array') for (const item of items as GgufArray[]) this.array(item, what);
    else for (let i = 0; i < items.length; i++) this.scalar(array.itemType, items[i] as number, `${what}[${i}]`);
  }

  value(value: GgufTypedValue, what: string): void {
    this.u32(GGUF_VALUE_TYPES.indexOf(value.type));
    if (value.type === 'string') this.string(value.value);
    else if (value.type === 'array') this.array(value.value, what);
    else this.scalar(value.type, value.value, what);
  }

  result(): Uint8Array { return this.bytes.subarray(0, this.length); }
}

/** One tensor info to write (ggml order: `ne[0]` fastest; offset from the data start). */
export interface GgufTensorEntry {
  readonly name: string;
  readonly ne: readonly number[];
  readonly ggmlType: number;
  readonly offset: number;
}

/**
 * The bytes of a GGUF v3 header: magic, version, counts, metadata in the order given,
 * tensor infos, zero padding up to `alignment` (the data section starts right after).
 * `general.alignment` must agree with `alignment` when present.
 *
 * @example
 * ```ts
 * const header = ggufHeaderBytes([['general.architecture', { type: 'string', value: 'llama' }]], [], 32);
 * ```
 */
export function ggufHeaderBytes(metadata: Iterable<readonly [string, GgufTypedValue]>, tensors: readonly GgufTensorEntry[], alignment = GGUF_DEFAULT_ALIGNMENT): Uint8Array {
  const entries = [...metadata];
  const encoder = new Encoder();
  encoder.raw(Uint8Array.of(0x47, 0x47, 0x55, 0x46));
  encoder.u32(3);
  encoder.u64(tensors.length);
  encoder.u64(entries.length);
  const seen = new Set<string>();
  for (const [key, value] of entries) {
    if (key.length === 0) fail('INVALID_METADATA', 'gguf: a metadata key is empty');
    if (seen.has(key)) fail('DUPLICATE_KEY', `gguf: key ${quoteInput(key)} given twice`);
    seen.add(key);
    if (key === 'general.alignment' && (value.type !== 'uint32' || value.value !== alignment)) fail('INVALID_METADATA', `gguf: general.alignment must be the uint32 ${alignment} the data is laid out with`);
    encoder.string(key);
    encoder.value(value, quoteInput(key));
  }
  for (const tensor of tensors) {
    encoder.string(tensor.name);
    encoder.u32(tensor.ne.length);
    for (const dim of tensor.ne) encoder.u64(dim);
    encoder.u32(tensor.ggmlType);
    encoder.u64(tensor.offset);
  }
  const padded = ggufPad(encoder.length, alignment);
  encoder.raw(new Uint8Array(padded - encoder.length));
  return encoder.result();
}
