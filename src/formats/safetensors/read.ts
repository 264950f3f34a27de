/**
 * Synchronous safetensors header parsing over bytes (no `node:fs`): the first 8 bytes,
 * then the JSON header, validated like the reference Rust reader and in its order.
 */
import { errorFactory } from '../../core/errors.js';
import { clipInput, quoteInput } from '../../core/quote.js';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { isJsonObject, JsonNumberLiteral, parseStrictJson, type JsonValue } from './strict-json.js';
import { SAFETENSORS_METADATA_KEY, safetensorsDtypeToTensio, type SafetensorsHeader, type SafetensorsReadOptions, type SafetensorsTensorEntry } from './types.js';
import { safetensorsCheckFileSize, safetensorsValidateEntries, type UncheckedTensorEntry } from './validate.js';

const fail = errorFactory('safetensors');
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `' (it starts with "PK\x03\x04…")'`: what the first bytes look like, for a file of another kind. */
function describeStart(first8: Uint8Array): string {
  const shown = Array.from(first8, (byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
  const kind = first8[0] === 0x50 && first8[1] === 0x4b ? ', a zip archive (.npz or .pt?)' : first8[0] === 0x93 && first8[1] === 0x4e ? ', a .npy file' : '';
  return ` (it starts with "${shown}"${kind})`;
}

/**
 * Reads `N` from the first 8 bytes and checks it against the limit and the file size
 * (`HEADER_TOO_SMALL`, `HEADER_TOO_LARGE`, `INVALID_HEADER`). Returns `N`.
 *
 * @example
 * ```ts
 * const headerLength = safetensorsReadHeaderLength(await source.read(0, 8), source.size);
 * ```
 */
export function safetensorsReadHeaderLength(first8: Uint8Array, fileSize: number, options: SafetensorsReadOptions = {}): number {
  if (first8.byteLength < 8 || fileSize < 8) {
    fail('HEADER_TOO_SMALL', `safetensors: header too small: the file has ${Math.min(fileSize, first8.byteLength)} bytes, at least 8 are needed`);
  }
  const limit = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  // Checked before the limit: a text file or a zip read as safetensors declares an absurd
  // length, and "raise maxHeaderBytes" would be the wrong advice.
  if (8n + length > BigInt(fileSize)) {
    fail('INVALID_HEADER', `safetensors: not a safetensors file: its first 8 bytes declare a ${length}-byte header but the file has only ${fileSize} bytes${describeStart(first8)}`, { offset: 0 });
  }
  if (length > BigInt(limit)) {
    fail('HEADER_TOO_LARGE', `safetensors: header length ${length} exceeds limit ${limit} (raise it with maxHeaderBytes)`, { offset: 0 });
  }
  return Number(length);
}

/**
 * Parses and validates the JSON header (`headerBytes` = the N bytes after the length),
 * for a file of `fileSize` bytes. Throws `INVALID_UTF8`, `INVALID_JSON`, `DUPLICATE_KEY`,
 * `INVALID_METADATA`, `INVALID_OFFSET`, `SIZE_OVERFLOW`, `SIZE_MISMATCH`,
 * `TRAILING_BYTES` or `TRUNCATED`.
 *
 * @example
 * ```ts
 * const header = safetensorsParseHeaderJson(bytes.subarray(8, 8 + n), source.size);
 * ```
 */
export function safetensorsParseHeaderJson(headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const headerLength = headerBytes.byteLength;
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (cause) {
    return fail('INVALID_UTF8', `safetensors: invalid UTF-8 in the ${headerLength}-byte header`, { offset: 8, cause });
  }
  const root = parseStrictJson(text);
  if (!isJsonObject(root)) return fail('INVALID_JSON', 'safetensors: invalid JSON in header: the header is not a JSON object');

  let metadata: Record<string, string> = {};
  let hasMetadata = false;
  const entries: UncheckedTensorEntry[] = [];
  for (const [name, value] of root) {
    if (name === SAFETENSORS_METADATA_KEY) {
      metadata = readMetadata(value);
      hasMetadata = value !== null;
    } else {
      entries.push(readTensorEntry(name, value));
    }
  }
  const { tensors, dataEnd } = safetensorsValidateEntries(entries);
  safetensorsCheckFileSize(8 + headerLength, dataEnd, fileSize);
  return { headerLength, dataStart: 8 + headerLength, metadata, hasMetadata, tensors };
}

/**
 * Parses a whole safetensors header from bytes: `bytes` holds at least the first
 * `8 + N` bytes of a file of `fileSize` bytes (default: `bytes` is the whole file).
 *
 * @example
 * ```ts
 * const header = safetensorsReadHeader(fileBytes);
 * for (const t of header.tensors) console.log(t.name, t.formatDtype, t.shape);
 * ```
 */
export function safetensorsReadHeader(bytes: Uint8Array, options: SafetensorsReadOptions & { fileSize?: number } = {}): SafetensorsHeader {
  const fileSize = options.fileSize ?? bytes.byteLength;
  const headerLength = safetensorsReadHeaderLength(bytes.subarray(0, 8), fileSize, options);
  if (bytes.byteLength < 8 + headerLength) {
    fail('TRUNCATED', `safetensors: ${bytes.byteLength} bytes given, the header needs ${8 + headerLength}`);
  }
  return safetensorsParseHeaderJson(bytes.subarray(8, 8 + headerLength), fileSize);
}

// `__metadata__` is Option<HashMap<String, String>> in the reference: null means none.
function readMetadata(value: JsonValue): Record<string, string> {
  if (value === null) return {};
  if (!isJsonObject(value)) return fail('INVALID_METADATA', `safetensors: __metadata__ must be an object of strings, got ${describe(value)}`);
  const metadata: Record<string, string> = {};
  for (const [key, item] of value) {
    if (typeof item !== 'string') fail('INVALID_METADATA', `safetensors: __metadata__ value of ${quoteInput(key)} must be a string, got ${describe(item)}`);
    // Plain assignment would turn a "__proto__" key into a prototype change.
    if (key === '__proto__') Object.defineProperty(metadata, key, { value: item, enumerable: true, writable: true, configurable: true });
    else metadata[key] = item as string;
  }
  return metadata;
}

function readTensorEntry(name: string, value: JsonValue): UncheckedTensorEntry {
  const where = { toString: () => `tensor ${quoteInput(name)}` }; // text built only for a message
  if (!isJsonObject(value)) return fail('INVALID_JSON', `safetensors: invalid JSON in header: ${where} must be an object, got ${describe(value)}`);
  const dtypeValue = value.get('dtype');
  const shapeValue = value.get('shape');
  const offsetsValue = value.get('data_offsets');
  if (typeof dtypeValue !== 'string') fail('INVALID_JSON', `safetensors: invalid JSON in header: ${where} needs a string dtype, got ${describe(dtypeValue)}`);
  if (!Array.isArray(shapeValue)) return fail('INVALID_JSON', `safetensors: invalid JSON in header: ${where} needs a shape array, got ${describe(shapeValue)}`);
  if (!Array.isArray(offsetsValue) || offsetsValue.length !== 2) {
    return fail('INVALID_JSON', `safetensors: invalid JSON in header: ${where} needs data_offsets of exactly 2 integers, got ${describe(offsetsValue)}`);
  }
  const shape = shapeValue.map((dim) => readInteger(dim, where, 'shape'));
  const begin = readInteger(offsetsValue[0]!, where, 'data_offsets');
  const end = readInteger(offsetsValue[1]!, where, 'data_offsets');
  const dtype = safetensorsDtypeToTensio(dtypeValue as string) ?? 'opaque';
  // byteLength is end - begin; safetensorsValidateEntries checks it against dtype × shape.
  const entry: SafetensorsTensorEntry = { name, dtype, formatDtype: dtypeValue as string, shape, dataOffsets: [begin, end], byteLength: end - begin };
  return entry;
}

function readInteger(value: JsonValue, where: { toString(): string }, field: string): number {
  if (typeof value === 'number' && value >= 0 && !Object.is(value, -0)) return value;
  const what = `${where} ${field}`;
  if (value instanceof JsonNumberLiteral && value.isInteger && !value.text.startsWith('-')) {
    fail('SIZE_OVERFLOW', `safetensors: ${what} value ${clipInput(value.text)} exceeds 2^53-1, the largest integer tensio reads exactly`);
  }
  if (typeof value !== 'number' || value < 0 || Object.is(value, -0)) {
    fail('INVALID_JSON', `safetensors: invalid JSON in header: ${what} must hold non-negative integers, got ${describe(value)}`);
  }
  return value as number;
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value instanceof JsonNumberLiteral) return clipInput(value.text);
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'string' ? quoteInput(value) : JSON.stringify(value);
}
