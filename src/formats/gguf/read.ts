/**
 * Synchronous GGUF header parsing over bytes (no `node:fs`): magic, version and byte
 * order, typed metadata, tensor infos. Every length is checked against its cap and
 * against the bytes the file still holds before anything is allocated; when the bytes
 * given end before the header does (a header read in growing pieces), the parser throws
 * {@link GgufNeedMore} with the byte count it needs, and the async shell (`reader.ts`)
 * reads further and parses again.
 */
import { errorFactory } from '../../core/errors.js';
import {
  GGUF_MAX_ALIGNMENT, GGUF_MAX_ARRAY_DEPTH, GGUF_MAX_ARRAY_LENGTH, GGUF_MAX_DIMS, GGUF_MAX_HEADER_BYTES,
  GGUF_MAX_KV_COUNT, GGUF_MAX_NAME_BYTES, GGUF_MAX_STRING_BYTES, GGUF_MAX_TENSORS, MAX_DIMENSION,
} from '../../core/limits.js';
import { quoteInput } from '../../core/quote.js';
import { GGUF_VALUE_TYPES, type GgufArray, type GgufArrayItems, type GgufHeader, type GgufReadOptions, type GgufTensorInfo, type GgufTypedValue, type GgufValueType } from './types.js';
import { ggufTensorByteLength, ggufValidateTensors } from './validate.js';
import { ggufHasMagic } from './sniff.js';

const fail = errorFactory('gguf');

export { GGUF_MAGIC, ggufHasMagic } from './sniff.js';

/** The alignment a file without `general.alignment` uses. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Thrown (not a user-facing error) when the bytes given end before the header does. */
export class GgufNeedMore {
  /** @param bytes how many bytes from the file start the parser needs at least */
  constructor(readonly bytes: number) {}
}


/** Bytes of one item of a fixed-size value type; 0 for string and array. */
export const GGUF_VALUE_SIZES: Readonly<Record<GgufValueType, number>> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, string: 0, array: 0, uint64: 8, int64: 8, float64: 8,
};

/** Smallest encoding of a value of each type (a string is at least its length, an array its type and count). */
function minimumBytes(type: GgufValueType): number {
  return type === 'string' ? 8 : type === 'array' ? 12 : GGUF_VALUE_SIZES[type];
}

// ignoreBOM: a value starting with U+FEFF keeps it (phi-3's vocabulary has a token that is just U+FEFF).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Reads GGUF fields in order, checking every length against the file and the caps. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private readonly fileSize: number, readonly littleEndian: boolean, private readonly maxHeaderBytes: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Makes sure `n` more bytes are available (else `TRUNCATED`, `LIMIT_EXCEEDED` or {@link GgufNeedMore}). */
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end > this.fileSize) fail('TRUNCATED', `gguf: ${what} needs ${n} bytes at offset ${this.pos}, but the file ends at ${this.fileSize}`, { offset: this.pos });
    if (end > this.maxHeaderBytes) fail('LIMIT_EXCEEDED', `gguf: the header runs past ${this.maxHeaderBytes} bytes (${what} at offset ${this.pos}); raise maxHeaderBytes to read it`, { offset: this.pos });
    if (end > this.bytes.byteLength) throw new GgufNeedMore(end);
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(): number { this.need(1, 'a u8'); return this.bytes[this.pos++]!; }
  u32(what = 'a u32'): number { this.need(4, what); const v = this.view.getUint32(this.pos, this.littleEndian); this.pos += 4; return v; }
  u64(what = 'a u64'): bigint { this.need(8, what); const v = this.view.getBigUint64(this.pos, this.littleEndian); this.pos += 8; return v; }

  /** A length-prefixed UTF-8 string, at most `max` bytes. */
  string(what: string, max: number): string {
    const start = this.pos;
    const length = this.u64(`the length of ${what}`);
    if (length > BigInt(max)) fail('LIMIT_EXCEEDED', `gguf: ${what} at offset ${start} is ${length} bytes long, over the limit of ${max} (maxStringBytes)`, { offset: start });
    const n = Number(length);
    this.need(n, what);
    const text = decodeUtf8(this.bytes, this.pos, n);
    this.pos += n;
    return text;
  }

  /**
   * `count` strings (a vocabulary: 30k–260k of them). The usual item is read inline with
   * no message built; anything unusual (a length over the cap, bytes not yet read, the
   * file's end) goes through {@link Cursor.string}, which says what and where.
   */
  stringItems(count: number, what: string, max: number): string[] {
    const items = new Array<string>(count);
    const { bytes, view, littleEndian } = this;
    const limit = Math.min(bytes.byteLength, this.fileSize, this.maxHeaderBytes);
    for (let i = 0; i < count; i++) {
      const start = this.pos;
      if (start + 8 <= limit) {
        const a = view.getUint32(start, littleEndian);
        const b = view.getUint32(start + 4, littleEndian);
        const length = littleEndian ? a : b;
        const end = start + 8 + length;
        if ((littleEndian ? b : a) === 0 && length <= max && end <= limit) {
          items[i] = decodeUtf8(bytes, start + 8, length);
          this.pos = end;
          continue;
        }
      }
      items[i] = this.string(`item ${i} of ${what}`, max);
    }
    return items;
  }

  /** A fixed-size scalar of this type. */
  scalar(type: GgufValueType, what: string): GgufTypedValue {
    const size = GGUF_VALUE_SIZES[type];
    this.need(size, what);
    const at = this.pos;
    const v = this.view;
    const le = this.littleEndian;
    this.pos += size;
    switch (type) {
      case 'uint8': return { type, value: v.getUint8(at) };
      case 'int8': return { type, value: v.getInt8(at) };
      case 'uint16': return { type, value: v.getUint16(at, le) };
      case 'int16': return { type, value: v.getInt16(at, le) };
      case 'uint32': return { type, value: v.getUint32(at, le) };
      case 'int32': return { type, value: v.getInt32(at, le) };
      case 'float32': return { type, value: v.getFloat32(at, le) };
      case 'float64': return { type, value: v.getFloat64(at, le) };
      case 'uint64': return { type, value: v.getBigUint64(at, le) };
      case 'int64': return { type, value: v.getBigInt64(at, le) };
      case 'bool': {
        const byte = v.getUint8(at);
        if (byte > 1) fail('INVALID_METADATA', `gguf: ${what} at offset ${at} is a bool of value ${byte}; only 0 and 1 are valid`, { offset: at });
        return { type, value: byte === 1 };
      }
      default: return fail('INVALID_METADATA', `gguf: ${type} is not a scalar type`);
    }
  }

  /** `count` fixed-size items as a typed array (a copy, byte-swapped for big-endian files). */
  typedItems(type: GgufValueType, count: number, what: string): GgufArrayItems {
    const size = GGUF_VALUE_SIZES[type];
    const bytes = count * size;
    this.need(bytes, what);
    const copy = this.bytes.slice(this.pos, this.pos + bytes);
    if (!this.littleEndian && size > 1) swapInPlace(copy, size);
    const at = this.pos;
    this.pos += bytes;
    const buffer = copy.buffer;
    switch (type) {
      case 'uint8': return copy;
      case 'int8': return new Int8Array(buffer);
      case 'uint16': return new Uint16Array(buffer);
      case 'int16': return new Int16Array(buffer);
      case 'uint32': return new Uint32Array(buffer);
      case 'int32': return new Int32Array(buffer);
      case 'float32': return new Float32Array(buffer);
      case 'uint64': return new BigUint64Array(buffer);
      case 'int64': return new BigInt64Array(buffer);
      case 'float64': return new Float64Array(buffer);
      case 'bool': {
        const out: boolean[] = new Array<boolean>(count);
        for (let i = 0; i < count; i++) {
          const byte = copy[i]!;
          if (byte > 1) fail('INVALID_METADATA', `gguf: item ${i} of ${what} at offset ${at + i} is a bool of value ${byte}; only 0 and 1 are valid`, { offset: at + i });
          out[i] = byte === 1;
        }
        return out;
      }
      default: return fail('INVALID_METADATA', `gguf: ${type} items are not fixed-size`);
    }
  }
}

/** Byte-swaps elements of `size` bytes in place. */
function swapInPlace(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.byteLength; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Code units of a short string being decoded (a UTF-8 byte gives at most one unit). */
const units = new Uint16Array(64);

/**
 * UTF-8 text. Short strings (most tokens) are decoded here, without a TextDecoder call;
 * one with any ill-formed sequence goes to the TextDecoder, whose replacement characters
 * are the reference. A leading U+FEFF is kept either way.
 */
export function decodeUtf8(bytes: Uint8Array, at: number, length: number): string {
  if (length <= units.length) {
    const end = at + length;
    let n = 0;
    let i = at;
    while (i < end) {
      const c = bytes[i]!;
      if (c < 0x80) { units[n++] = c; i++; continue; }
      const c1 = i + 1 < end ? bytes[i + 1]! : 0;
      if ((c1 & 0xc0) !== 0x80) { n = -1; break; }
      if (c >= 0xc2 && c < 0xe0) { units[n++] = ((c & 0x1f) << 6) | (c1 & 0x3f); i += 2; continue; }
      const c2 = i + 2 < end ? bytes[i + 2]! : 0;
      if ((c2 & 0xc0) !== 0x80) { n = -1; break; }
      if (c >= 0xe0 && c < 0xf0) {
        // Overlong forms (E0 80–9F) and surrogates (ED A0–BF) are ill-formed.
        if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) { n = -1; break; }
        units[n++] = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
        i += 3;
        continue;
      }
      const c3 = i + 3 < end ? bytes[i + 3]! : 0;
      if (c < 0xf0 || c > 0xf4 || (c3 & 0xc0) !== 0x80 || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) { n = -1; break; }
      const cp = (((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)) - 0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
      i += 4;
    }
    if (n >= 0) return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  }
  return utf8.decode(bytes.subarray(at, at + length));
}

/** The caps in force, option or default. */
function limitsOf(options: GgufReadOptions) {
  return {
    maxStringBytes: options.maxStringBytes ?? GGUF_MAX_STRING_BYTES,
    maxArrayLength: options.maxArrayLength ?? GGUF_MAX_ARRAY_LENGTH,
    maxArrayDepth: options.maxArrayDepth ?? GGUF_MAX_ARRAY_DEPTH,
    maxKeys: options.maxKeys ?? GGUF_MAX_KV_COUNT,
    maxTensors: options.maxTensors ?? GGUF_MAX_TENSORS,
    maxHeaderBytes: options.maxHeaderBytes ?? GGUF_MAX_HEADER_BYTES,
    maxDims: options.maxDims ?? GGUF_MAX_DIMS,
    maxNameBytes: options.maxNameBytes ?? GGUF_MAX_NAME_BYTES,
    maxAlignment: options.maxAlignment ?? GGUF_MAX_ALIGNMENT,
  };
}

type Limits = ReturnType<typeof limitsOf>;

function valueType(id: number, at: number, what: string): GgufValueType {
  const type = GGUF_VALUE_TYPES[id];
  if (type === undefined) fail('INVALID_METADATA', `gguf: ${what} at offset ${at} has value type ${id}; known types are 0-12`, { offset: at });
  return type;
}

function readArray(cursor: Cursor, limits: Limits, what: string, depth: number): GgufArray {
  const at = cursor.pos;
  if (depth > limits.maxArrayDepth) fail('LIMIT_EXCEEDED', `gguf: ${what} at offset ${at} nests arrays ${depth} deep, over the limit of ${limits.maxArrayDepth} (maxArrayDepth)`, { offset: at });
  const itemType = valueType(cursor.u32(`the item type of ${what}`), at, `${what}'s item type`);
  const countAt = cursor.pos;
  const count64 = cursor.u64(`the length of ${what}`);
  if (count64 > BigInt(limits.maxArrayLength)) fail('LIMIT_EXCEEDED', `gguf: ${what} at offset ${countAt} holds ${count64} items, over the limit of ${limits.maxArrayLength} (maxArrayLength)`, { offset: countAt });
  const count = Number(count64);
  // Even the smallest items must fit in what the file still holds: a huge count fails here, before any allocation.
  if (count * minimumBytes(itemType) > cursor.remaining()) {
    fail('TRUNCATED', `gguf: ${what} at offset ${countAt} holds ${count} ${itemType} items (at least ${count * minimumBytes(itemType)} bytes), but only ${cursor.remaining()} bytes remain in the file`, { offset: countAt });
  }
  if (itemType === 'string') {
    return { itemType, items: cursor.stringItems(count, what, limits.maxStringBytes) };
  }
  if (itemType === 'array') {
    const items: GgufArray[] = new Array<GgufArray>(count);
    for (let i = 0; i < count; i++) items[i] = readArray(cursor, limits, `item ${i} of ${what}`, depth + 1);
    return { itemType, items };
  }
  return { itemType, items: cursor.typedItems(itemType, count, what) };
}

function readValue(cursor: Cursor, limits: Limits, type: GgufValueType, what: string): GgufTypedValue {
  if (type === 'string') return { type, value: cursor.string(what, limits.maxStringBytes) };
  if (type === 'array') return { type, value: readArray(cursor, limits, what, 1) };
  return cursor.scalar(type, what);
}

/**
 * Parses a GGUF header from the first bytes of a file of `fileSize` bytes. Throws
 * {@link GgufNeedMore} when `bytes` ends before the header does; `TensioError`s
 * (`BAD_MAGIC`, `UNSUPPORTED_VERSION`, `TRUNCATED`, `LIMIT_EXCEEDED`, `DUPLICATE_KEY`,
 * `INVALID_METADATA`, `DUPLICATE_NAME`, `INVALID_SHAPE`, `INVALID_OFFSET`, `SIZE_OVERFLOW`)
 * for a bad one, with the offset.
 *
 * @example
 * ```ts
 * const header = ggufParseHeader(fileBytes, fileBytes.byteLength);
 * header.metadata.get('general.architecture'); // { type: 'string', value: 'llama' }
 * ```
 */
export function ggufParseHeader(bytes: Uint8Array, fileSize: number, options: GgufReadOptions = {}): GgufHeader {
  const limits = limitsOf(options);
  if (bytes.byteLength < 8 && fileSize >= 8) throw new GgufNeedMore(Math.min(fileSize, 24));
  if (!ggufHasMagic(bytes)) {
    const interrupted = bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff
      ? '; ff ff ff ff is how tensio edit marks a header it is rewriting in place: if an edit was interrupted, run tensio edit on the file again (its journal FILE.tensio-edit finishes it)' : '';
    fail('BAD_MAGIC', `gguf: the file does not start with "GGUF" (first bytes: ${quoteInput(Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' '))})${interrupted}`);
  }
  if (fileSize < 8) fail('TRUNCATED', `gguf: the file is ${fileSize} bytes long, too short for a version`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let version = view.getUint32(4, true);
  // ggml: a version whose low 16 bits are zero was written in the other byte order.
  const bigEndian = version !== 0 && (version & 0xffff) === 0;
  if (bigEndian) version = view.getUint32(4, false);
  if (version === 1) fail('UNSUPPORTED_VERSION', 'gguf: version 1 (32-bit counts) is not supported, as in ggml; convert the file with a current llama.cpp');
  if (version === 0 || version > 3) fail('UNSUPPORTED_VERSION', `gguf: version ${version} is not supported (tensio reads versions 2 and 3)`);
  const cursor = new Cursor(bytes, fileSize, !bigEndian, limits.maxHeaderBytes);
  cursor.pos = 8;
  const tensorCount64 = cursor.u64('the tensor count');
  const kvCount64 = cursor.u64('the metadata key count');
  if (tensorCount64 > BigInt(limits.maxTensors)) fail('LIMIT_EXCEEDED', `gguf: the header declares ${tensorCount64} tensors, over the limit of ${limits.maxTensors} (maxTensors)`, { offset: 8 });
  if (kvCount64 > BigInt(limits.maxKeys)) fail('LIMIT_EXCEEDED', `gguf: the header declares ${kvCount64} metadata keys, over the limit of ${limits.maxKeys} (maxKeys)`, { offset: 16 });
  const tensorCount = Number(tensorCount64);
  const kvCount = Number(kvCount64);
  // Smallest key/value: 8-byte key length + 1 byte of key + 4-byte type + 1 byte of value; smallest tensor info: name length, 1 byte, n_dims, type, offset.
  const minimum = kvCount * 14 + tensorCount * 25;
  if (minimum > cursor.remaining()) {
    fail('TRUNCATED', `gguf: ${kvCount} keys and ${tensorCount} tensors need at least ${minimum} header bytes, but only ${cursor.remaining()} bytes follow the counts`, { offset: 24 });
  }

  const metadata = new Map<string, GgufTypedValue>();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = cursor.pos;
    const key = cursor.string(`key ${i}`, limits.maxStringBytes);
    if (key.length === 0) fail('INVALID_METADATA', `gguf: key ${i} at offset ${keyAt} is empty`, { offset: keyAt });
    if (metadata.has(key)) fail('DUPLICATE_KEY', `gguf: key ${quoteInput(key)} appears twice (again at offset ${keyAt})`, { offset: keyAt });
    const typeAt = cursor.pos;
    const type = valueType(cursor.u32(`the type of ${quoteInput(key)}`), typeAt, `key ${quoteInput(key)}`);
    metadata.set(key, readValue(cursor, limits, type, `the value of ${quoteInput(key)}`));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignmentValue = metadata.get('general.alignment');
  if (alignmentValue) {
    if (alignmentValue.type !== 'uint32') fail('INVALID_METADATA', `gguf: general.alignment is a ${alignmentValue.type}; it must be a uint32`);
    alignment = alignmentValue.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) fail('INVALID_METADATA', `gguf: general.alignment ${alignment} is not a power of two`);
    if (alignment > limits.maxAlignment) fail('LIMIT_EXCEEDED', `gguf: general.alignment ${alignment} is over the limit of ${limits.maxAlignment} (maxAlignment)`);
  }

  const infos: Array<Omit<GgufTensorInfo, 'byteLength'> & { byteLength: number | undefined }> = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const nameAt = cursor.pos;
    const name = cursor.string(`the name of tensor ${i}`, limits.maxStringBytes);
    const nameBytes = cursor.pos - nameAt - 8;
    if (nameBytes > limits.maxNameBytes) fail('LIMIT_EXCEEDED', `gguf: the name of tensor ${i} (${quoteInput(name)}) is ${nameBytes} bytes long, over the limit of ${limits.maxNameBytes} (maxNameBytes; ggml's GGML_MAX_NAME)`, { offset: nameAt });
    if (names.has(name)) fail('DUPLICATE_NAME', `gguf: tensor name ${quoteInput(name)} appears twice (again at offset ${nameAt})`, { offset: nameAt });
    names.add(name);
    const dimsAt = cursor.pos;
    const nDims = cursor.u32(`the dimension count of ${quoteInput(name)}`);
    if (nDims > limits.maxDims) fail('LIMIT_EXCEEDED', `gguf: tensor ${quoteInput(name)} has ${nDims} dimensions, over the limit of ${limits.maxDims} (maxDims; ggml's GGML_MAX_DIMS)`, { offset: dimsAt });
    const ne: number[] = [];
    let elements = 1n;
    for (let d = 0; d < nDims; d++) {
      const dimAt = cursor.pos;
      const raw = cursor.u64(`dimension ${d} of ${quoteInput(name)}`);
      // ggml reads dims as int64: a value with the top bit set is negative.
      if (raw >= 1n << 63n) fail('INVALID_SHAPE', `gguf: dimension ${d} of tensor ${quoteInput(name)} is negative (${BigInt.asIntN(64, raw)})`, { offset: dimAt });
      if (raw > BigInt(MAX_DIMENSION)) fail('LIMIT_EXCEEDED', `gguf: dimension ${d} of tensor ${quoteInput(name)} is ${raw}, over the limit of ${MAX_DIMENSION} (maxDimension)`, { offset: dimAt });
      elements *= raw;
      if (elements >= 1n << 63n) fail('SIZE_OVERFLOW', `gguf: tensor ${quoteInput(name)} has more than 2^63 elements`, { offset: dimAt });
      ne.push(Number(raw));
    }
    const ggmlType = cursor.u32(`the type of ${quoteInput(name)}`);
    const offsetAt = cursor.pos;
    const offset64 = cursor.u64(`the offset of ${quoteInput(name)}`);
    if (offset64 > BigInt(Number.MAX_SAFE_INTEGER)) fail('INVALID_OFFSET', `gguf: tensor ${quoteInput(name)} has offset ${offset64}, past any file`, { offset: offsetAt });
    infos.push({ name, ne, ggmlType, offset: Number(offset64), byteLength: ggufTensorByteLength(name, ne, ggmlType) });
  }
  const headerBytes = cursor.pos;
  const dataStart = Math.ceil(headerBytes / alignment) * alignment;
  const tensors = ggufValidateTensors(infos, { alignment, dataStart, fileSize });
  return { version, bigEndian, metadata, tensors, alignment, headerBytes, dataStart };
}
