/**
 * Parsing Zarr metadata documents (synchronous, over decoded JSON): v2 `.zarray` plus
 * `.zattrs`, v3 `zarr.json`, into {@link ZarrArrayMeta}. Dtypes, fill values, chunk key
 * encodings and codec lists are normalised here; `reader.ts` fetches the documents.
 */
import type { DType } from '../../core/dtype.js';
import { dtypeInfo, itemSize } from '../../core/dtype.js';
import { TensioError } from '../../core/errors.js';
import { float32ToFloat16Bits } from '../../core/float-convert.js';
import { V2_KINDS, V3_TYPES } from './dtypes.js';
import type { ZarrArrayMeta, ZarrCodecSpec, ZarrSharding, ZarrUnreadable } from './types.js';
import { zarrCheckShapes, zarrFail } from './validate.js';

type Json = Record<string, unknown>;

export { zarrV2Dtype, zarrV3Dtype } from './dtypes.js';

/** Parses JSON text of a metadata key; `INVALID_JSON` names the key. */
export function zarrParseJson(bytes: Uint8Array, key: string): Json {
  let value: unknown;
  try {
    // zarr-python writes NaN/Infinity bare in v2 fill values; JSON.parse refuses them, so quote them first.
    // Integer fill values past 2^53 (int64/uint64 extremes) would lose digits as numbers: quoted too, read as BigInt.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
      .replace(/(:\s*)(-?Infinity|NaN)(\s*[,}\]])/g, '$1"$2"$3')
      .replace(/("fill_value"\s*:\s*)(-?\d{16,})(\s*[,}\]])/g, '$1"$2"$3');
    value = JSON.parse(text);
  } catch (cause) {
    throw new TensioError('INVALID_JSON', `zarr: ${key} is not valid JSON: ${(cause as Error).message}`, { format: 'zarr', cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TensioError('INVALID_METADATA', `zarr: ${key} is not a JSON object`, { format: 'zarr' });
  return value as Json;
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/** What a non-numeric v2 dtype holds, for messages: `<U7` fixed-length unicode, `|S7` bytes, `|O` Python objects. */
function v2TypeName(formatDtype: string): string {
  const kind = formatDtype.replace(/^[<>|]/, '')[0];
  return kind === 'U' ? 'fixed-length unicode string dtype' : kind === 'S' ? 'fixed-length bytes dtype' : kind === 'O' ? 'object dtype' : 'dtype';
}

/**
 * A v2 array from its `.zarray` (and `.zattrs`): the normalised metadata, or why tensio
 * cannot read it as a tensor (strings, objects, structured dtypes).
 *
 * @example
 * ```ts
 * zarrParseV2Array('x', { zarr_format: 2, shape: [4], chunks: [2], dtype: '<i2', compressor: null, filters: null, fill_value: 0, order: 'C' }, {});
 * ```
 */
export function zarrParseV2Array(path: string, zarray: Json, attributes: Json): ZarrArrayMeta | ZarrUnreadable {
  if (zarray.zarr_format !== 2) zarrFail(path, `zarr_format is ${JSON.stringify(zarray.zarr_format)}, expected 2`);
  zarrCheckShapes(path, zarray.shape, zarray.chunks);
  const formatDtype = zarray.dtype;
  if (typeof formatDtype !== 'string') return { path, reason: `structured dtype ${JSON.stringify(formatDtype)} is not a tensor dtype`, formatDtype: JSON.stringify(formatDtype) };
  const match = /^([<>|])([a-zA-Z]\d*)$/.exec(formatDtype);
  const dtype = match ? V2_KINDS[match[2]!] : undefined;
  if (!match || !dtype) return { path, formatDtype, reason: `array /${path}: ${v2TypeName(formatDtype)} ${formatDtype} is not a numeric dtype; tensio reads numeric arrays only (read strings and objects with zarr-python)` };
  const order = zarray.order ?? 'C';
  if (order !== 'C' && order !== 'F') zarrFail(path, `order ${JSON.stringify(order)} is not "C" or "F"`);
  const separator = zarray.dimension_separator ?? '.';
  if (separator !== '.' && separator !== '/') zarrFail(path, `dimension_separator ${JSON.stringify(separator)} is not "." or "/"`);
  const codecs: ZarrCodecSpec[] = [];
  const filters = zarray.filters ?? [];
  if (!Array.isArray(filters)) zarrFail(path, 'filters is not a list');
  for (const filter of filters) codecs.push(v2Codec(path, filter));
  if (zarray.compressor !== null && zarray.compressor !== undefined) codecs.push(v2Codec(path, zarray.compressor));
  for (const codec of codecs) {
    if (codec.name === 'vlen-utf8' || codec.name === 'vlen-bytes' || codec.name === 'json2' || codec.name === 'pickle' || codec.name === 'msgpack2') {
      return { path, formatDtype, reason: `object codec ${codec.name} holds Python objects, not a tensor` };
    }
  }
  return {
    zarrFormat: 2, path, shape: zarray.shape as number[], chunkShape: zarray.chunks as number[], dtype, formatDtype,
    bigEndian: match[1] === '>' && itemSize(dtype)! > 1, order, fillValue: fillBytes(path, dtype, zarray.fill_value),
    codecs, chunkKeySeparator: separator, chunkKeyPrefix: false, attributes,
  };
}

function v2Codec(path: string, value: unknown): ZarrCodecSpec {
  const config = asObject(value);
  if (typeof config.id !== 'string') zarrFail(path, `codec ${JSON.stringify(value)} has no "id"`);
  return { name: config.id, config };
}

function v3Codecs(path: string, value: unknown): ZarrCodecSpec[] {
  if (!Array.isArray(value)) zarrFail(path, 'codecs is not a list');
  return value.map((item) => {
    if (typeof item === 'string') return { name: item.replace(/^numcodecs\./, ''), config: {} };
    const spec = asObject(item);
    if (typeof spec.name !== 'string') zarrFail(path, `codec ${JSON.stringify(item)} has no "name"`);
    return { name: spec.name.replace(/^numcodecs\./, ''), config: asObject(spec.configuration) };
  });
}

/** Fails with `UNSUPPORTED_FEATURE`: valid metadata that asks for something tensio does not read. */
function unsupported(path: string, what: string): never {
  throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array ${JSON.stringify(path || '/')} uses ${what}`, { format: 'zarr' });
}

/** The fields of a v3 array document the specification defines. */
const V3_ARRAY_FIELDS = new Set(['zarr_format', 'node_type', 'shape', 'data_type', 'chunk_grid', 'chunk_key_encoding', 'fill_value', 'codecs', 'attributes', 'storage_transformers', 'dimension_names', 'consolidated_metadata']);

/**
 * Extension fields (v3): an object field tensio does not know must be understood unless
 * it says `"must_understand": false`, so reading on could misread the data.
 */
function checkExtensionFields(path: string, doc: Json): void {
  for (const [key, value] of Object.entries(doc)) {
    if (V3_ARRAY_FIELDS.has(key) || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    if ((value as Json).must_understand !== false) unsupported(path, `the extension field ${JSON.stringify(key)}, which must be understood`);
  }
}

/**
 * A v3 array from its `zarr.json`.
 *
 * @example
 * ```ts
 * zarrParseV3Array('x', JSON.parse(text));
 * ```
 */
export function zarrParseV3Array(path: string, doc: Json): ZarrArrayMeta | ZarrUnreadable {
  // A data type may be named by an object (`{ "name": "float32", "configuration": {} }`).
  const named = asObject(doc.data_type);
  const dataType = typeof named.name === 'string' && Object.keys(asObject(named.configuration)).length === 0 ? named.name : doc.data_type;
  const dtype = typeof dataType === 'string' ? V3_TYPES[dataType] : undefined;
  const formatDtype = typeof dataType === 'string' ? dataType : JSON.stringify(dataType);
  checkExtensionFields(path, doc);
  const grid = asObject(doc.chunk_grid);
  if (typeof grid.name !== 'string') zarrFail(path, `chunk_grid ${JSON.stringify(doc.chunk_grid)} has no name`);
  if (grid.name !== 'regular') unsupported(path, `chunk grid ${JSON.stringify(grid.name)} (tensio reads "regular" grids)`);
  const chunkShape = asObject(grid.configuration).chunk_shape;
  zarrCheckShapes(path, doc.shape, chunkShape);
  if (!dtype) return { path, formatDtype, reason: `array /${path}: data type ${formatDtype}${/^(string|fixed_length_utf32|fixed_length_bytes|variable_length_bytes|bytes)$/.test(formatDtype) ? ' (strings/bytes)' : ''} is not a numeric type; tensio reads numeric arrays only (read it with zarr-python)` };
  // The encoding may be given by name alone (`"chunk_key_encoding": "v2"`).
  const keyEncoding = typeof doc.chunk_key_encoding === 'string' ? { name: doc.chunk_key_encoding } as Json : asObject(doc.chunk_key_encoding);
  const keyConfig = asObject(keyEncoding.configuration);
  let prefix: boolean;
  let separator: unknown;
  if (keyEncoding.name === 'default' || keyEncoding.name === undefined) {
    prefix = true;
    separator = keyConfig.separator ?? '/';
  } else if (keyEncoding.name === 'v2') {
    prefix = false;
    separator = keyConfig.separator ?? '.';
  } else unsupported(path, `chunk key encoding ${JSON.stringify(keyEncoding.name)} (tensio reads "default" and "v2")`);
  if (separator !== '.' && separator !== '/') zarrFail(path, `chunk key separator ${JSON.stringify(separator)} is not "." or "/"`);
  if (Array.isArray(doc.storage_transformers) && doc.storage_transformers.length > 0) {
    throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array ${JSON.stringify(path || '/')} uses storage transformers, which tensio does not support`, { format: 'zarr' });
  }
  const codecs = v3Codecs(path, doc.codecs);
  let sharding: ZarrSharding | undefined;
  const shardAt = codecs.findIndex((codec) => codec.name === 'sharding_indexed');
  if (shardAt >= 0) {
    if (shardAt !== codecs.length - 1 || shardAt !== 0) {
      throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array ${JSON.stringify(path || '/')}: sharding_indexed must be the only codec for tensio to read it by ranges (codecs: ${codecs.map((c) => c.name).join(', ')})`, { format: 'zarr' });
    }
    const config = codecs[0]!.config;
    zarrCheckShapes(path, chunkShape, config.chunk_shape, 'inner chunk shape');
    const inner = config.chunk_shape as number[];
    (chunkShape as number[]).forEach((size, axis) => {
      if (size % inner[axis]! !== 0) zarrFail(path, `shard shape ${JSON.stringify(chunkShape)} is not a multiple of the inner chunk shape ${JSON.stringify(inner)}`);
    });
    const location = config.index_location ?? 'end';
    if (location !== 'start' && location !== 'end') zarrFail(path, `index_location ${JSON.stringify(location)} is not "start" or "end"`);
    const innerCodecs = v3Codecs(path, config.codecs);
    if (innerCodecs.some((codec) => codec.name === 'sharding_indexed')) {
      throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array ${JSON.stringify(path || '/')} nests sharding inside sharding, which tensio does not read`, { format: 'zarr' });
    }
    sharding = { innerChunkShape: inner, codecs: innerCodecs, indexCodecs: v3Codecs(path, config.index_codecs ?? [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }]), indexLocation: location };
  }
  const bytesCodec = (sharding?.codecs ?? codecs).find((codec) => codec.name === 'bytes');
  const endian = bytesCodec?.config.endian;
  return {
    zarrFormat: 3, path, shape: doc.shape as number[], chunkShape: chunkShape as number[], dtype, formatDtype,
    bigEndian: endian === 'big' && itemSize(dtype)! > 1, order: 'C', fillValue: fillBytes(path, dtype, doc.fill_value),
    codecs: sharding ? [] : codecs, chunkKeySeparator: separator, chunkKeyPrefix: prefix, ...(sharding ? { sharding } : {}),
    attributes: asObject(doc.attributes),
  };
}

/** The stored key of the chunk at grid coordinates `coords`, relative to the array. */
export function zarrChunkKey(meta: Pick<ZarrArrayMeta, 'chunkKeyPrefix' | 'chunkKeySeparator'>, coords: readonly number[]): string {
  if (meta.chunkKeyPrefix) return coords.length === 0 ? 'c' : `c${meta.chunkKeySeparator}${coords.join(meta.chunkKeySeparator)}`;
  return coords.length === 0 ? '0' : coords.join(meta.chunkKeySeparator);
}

/** One element of a fill value in little-endian bytes (zeros for `null`). */
export function fillBytes(path: string, dtype: DType, value: unknown): Uint8Array {
  const size = itemSize(dtype)!;
  const out = new Uint8Array(size);
  if (value === null || value === undefined || value === 0 || value === false) return out;
  const view = new DataView(out.buffer);
  const kind = dtypeInfo(dtype).kind;
  if (typeof value === 'string' && /^0x[0-9a-fA-F]+$/.test(value)) {
    // v3 raw bit pattern (`"0x7fc00000"`), big-endian hex of the value's bits.
    const hex = value.slice(2).padStart(size * 2, '0');
    if (hex.length !== size * 2) zarrFail(path, `fill value ${value} does not have ${size} bytes`);
    for (let i = 0; i < size; i += 1) out[size - 1 - i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  if (kind === 'complex') {
    const parts = Array.isArray(value) ? value : [value, 0];
    const half = size / 2;
    parts.slice(0, 2).forEach((part, i) => out.set(fillBytes(path, half === 4 ? 'float32' : 'float64', part), i * half));
    return out;
  }
  if (kind === 'bool') {
    if (typeof value !== 'boolean' && typeof value !== 'number') zarrFail(path, `fill value ${JSON.stringify(value)} is not a boolean`);
    out[0] = value ? 1 : 0;
    return out;
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value) && kind !== 'float') {
    // A quoted big integer (see zarrParseJson), kept exact.
    const bits = BigInt.asUintN(size * 8, BigInt(value));
    for (let i = 0; i < size; i += 1) out[i] = Number((bits >> BigInt(8 * i)) & 0xffn);
    return out;
  }
  const number = typeof value === 'number' ? value
    : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value)
    : value === 'NaN' ? Number.NaN : value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : undefined;
  if (number === undefined) zarrFail(path, `fill value ${JSON.stringify(value)} is not a number for dtype ${dtype}`);
  if (kind === 'float') {
    if (dtype === 'float64') view.setFloat64(0, number, true);
    else if (dtype === 'float32') view.setFloat32(0, number, true);
    else if (dtype === 'float16') view.setUint16(0, float32ToFloat16Bits(number), true);
    else if (dtype === 'bfloat16') {
      const f = new DataView(new ArrayBuffer(4));
      f.setFloat32(0, number, true);
      view.setUint16(0, f.getUint16(2, true), true);
    }
    return out;
  }
  if (!Number.isInteger(number)) zarrFail(path, `fill value ${number} is not an integer for dtype ${dtype}`);
  if (size === 8) view.setBigUint64(0, BigInt.asUintN(64, BigInt(number)), true);
  else for (let i = 0; i < size; i += 1) out[i] = Number((BigInt.asUintN(size * 8, BigInt(number)) >> BigInt(8 * i)) & 0xffn);
  return out;
}
