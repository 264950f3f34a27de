/**
 * Editing a GGUF file's metadata (`tensio edit`): set, retype and delete keys, keep
 * every tensor. The new header is written in place when its padded length equals the
 * old data offset (the edit fits in the alignment slack: tensor offsets are relative
 * to the data start, so nothing else moves); otherwise the file is rewritten, header
 * then the data section streamed unchanged, and published atomically.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import type { MetadataEditResult, MetadataEdits } from '../../model/types.js';
import { fileSource } from '../../storage/file-source.js';
import { fileIdentity, patchFileStart, recoverFilePatch } from '../../storage/file-patch.js';
import { rewriteFileStart } from '../../storage/file-rewrite.js';
import { ggufReadHeader } from './reader.js';
import { GGUF_VALUE_TYPES, type GgufArray, type GgufTypedValue, type GgufValueType } from './types.js';
import { ggufHeaderBytes } from './write.js';

const fail = errorFactory('gguf');

/** A value type as `edit --set-type` spells it: `uint32`, `string`, `array:int32`, `array:string`, … */
export function ggufParseTypeName(text: string): { type: GgufValueType; itemType?: GgufValueType } {
  const [outer, inner] = text.toLowerCase().split(':', 2) as [string, string | undefined];
  const known = (name: string): name is GgufValueType => (GGUF_VALUE_TYPES as readonly string[]).includes(name);
  if (outer === 'array' && inner !== undefined && known(inner) && inner !== 'array') return { type: 'array', itemType: inner };
  if (known(outer) && outer !== 'array' && inner === undefined) return { type: outer };
  return fail('INVALID_ARGUMENT', `gguf: unknown value type ${quoteInput(text)}; use one of ${GGUF_VALUE_TYPES.filter((t) => t !== 'array').join(', ')} or array:<type>`);
}

/** One scalar from text as `type`. */
function scalarFromText(key: string, type: GgufValueType, text: string): GgufTypedValue {
  const bad = (): never => fail('INVALID_ARGUMENT', `gguf: ${quoteInput(text)} is not a ${type} (for ${quoteInput(key)})`);
  switch (type) {
    case 'string': return { type, value: text };
    case 'bool': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === '1') return { type, value: true };
      if (lower === 'false' || lower === '0') return { type, value: false };
      return bad();
    }
    case 'float32': case 'float64': {
      const value = /^[-+]?(inf|infinity)$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(text) ? NaN : Number(text);
      if (text.trim() === '' || (Number.isNaN(value) && !/^nan$/i.test(text))) bad();
      return { type, value };
    }
    case 'uint64': case 'int64': {
      if (!/^-?\d+$/.test(text)) bad();
      return { type, value: BigInt(text) };
    }
    default: {
      if (!/^-?\d+$/.test(text)) bad();
      return { type: type as 'uint8', value: Number(text) };
    }
  }
}

/** A value from text: a scalar, or a JSON array for `array:<type>`. */
function valueFromText(key: string, type: GgufValueType, itemType: GgufValueType | undefined, text: string): GgufTypedValue {
  if (type !== 'array') return scalarFromText(key, type, text);
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    return fail('INVALID_ARGUMENT', `gguf: the value of ${quoteInput(key)} must be a JSON array for array:${itemType}, got ${quoteInput(text)}`);
  }
  if (!Array.isArray(items)) return fail('INVALID_ARGUMENT', `gguf: the value of ${quoteInput(key)} must be a JSON array`);
  const typed = items.map((item) => scalarFromText(key, itemType!, typeof item === 'string' ? item : JSON.stringify(item)).value);
  return { type: 'array', value: { itemType: itemType!, items: typedItems(itemType!, typed) } };
}

function typedItems(type: GgufValueType, values: unknown[]): GgufArray['items'] {
  switch (type) {
    case 'uint8': return Uint8Array.from(values as number[]);
    case 'int8': return Int8Array.from(values as number[]);
    case 'uint16': return Uint16Array.from(values as number[]);
    case 'int16': return Int16Array.from(values as number[]);
    case 'uint32': return Uint32Array.from(values as number[]);
    case 'int32': return Int32Array.from(values as number[]);
    case 'float32': return Float32Array.from(values as number[]);
    case 'float64': return Float64Array.from(values as number[]);
    case 'uint64': return BigUint64Array.from(values as bigint[]);
    case 'int64': return BigInt64Array.from(values as bigint[]);
    default: return values as string[];
  }
}

/** Text of a scalar value, to retype it. */
function textOf(value: GgufTypedValue): string {
  if (value.type === 'array') {
    const items = value.value.items as ArrayLike<unknown>;
    return JSON.stringify(Array.from(items, (item) => (typeof item === 'bigint' ? item.toString() : item)));
  }
  return String(value.value);
}

/**
 * Applies `edits` to a local GGUF file (or writes the result to `output`) and says how.
 * `general.alignment` cannot be edited (the data would have to move).
 *
 * @example
 * ```ts
 * await ggufEditMetadata('model.gguf', { set: [['general.name', 'tiny']], delete: ['general.url'] });
 * // { mode: 'in-place', … } when the new header fits the old one's padding
 * ```
 */
export async function ggufEditMetadata(path: string, edits: MetadataEdits, options: { output?: string; signal?: AbortSignal } = {}): Promise<MetadataEditResult> {
  // An earlier in-place edit killed halfway is finished first (its journal is beside the file).
  await recoverFilePatch(path);
  const identity = await fileIdentity(path);
  const source = await fileSource(path);
  try {
    const header = await ggufReadHeader(source, options.signal ? { signal: options.signal } : {});
    const metadata = new Map(header.metadata);
    const changed: string[] = [];
    const touch = (key: string) => {
      if (key === 'general.alignment') fail('INVALID_ARGUMENT', 'gguf: general.alignment cannot be edited: the tensor data is laid out with it');
      if (key.length === 0) fail('INVALID_ARGUMENT', 'gguf: a metadata key cannot be empty');
      if (!changed.includes(key)) changed.push(key);
    };
    const declared = new Map<string, { type: GgufValueType; itemType?: GgufValueType }>();
    for (const [key, typeName] of edits.types ?? []) {
      touch(key);
      const type = ggufParseTypeName(typeName);
      declared.set(key, type);
      const existing = metadata.get(key);
      if (existing && !(edits.set ?? []).some(([k]) => k === key)) metadata.set(key, valueFromText(key, type.type, type.itemType, textOf(existing)));
    }
    for (const [key, text] of edits.set ?? []) {
      touch(key);
      const existing = metadata.get(key);
      const type = declared.get(key) ?? (existing ? { type: existing.type, ...(existing.type === 'array' ? { itemType: existing.value.itemType } : {}) } : { type: 'string' as const });
      if (type.type === 'array' && type.itemType === 'array') fail('INVALID_ARGUMENT', `gguf: ${quoteInput(key)} holds nested arrays, which edit cannot set from text`);
      metadata.set(key, valueFromText(key, type.type, type.itemType, text));
    }
    for (const key of edits.delete ?? []) {
      touch(key);
      if (!metadata.delete(key)) fail('NOT_FOUND', `gguf: there is no key ${quoteInput(key)} to delete in ${path}`);
    }
    const tensors = header.tensors.map((t) => ({ name: t.name, ne: t.ne, ggmlType: t.ggmlType, offset: t.offset }));
    const bytes = ggufHeaderBytes(metadata, tensors, header.alignment);
    const result = (mode: 'in-place' | 'rewrite', output: string): MetadataEditResult => ({ mode, output, headerBytes: { before: header.dataStart, after: bytes.byteLength }, changed });
    if (options.output === undefined && bytes.byteLength === header.dataStart) {
      await source.close?.();
      await patchFileStart(path, bytes, identity, { poison: 4 }); // the magic: readers refuse the file until the header is whole
      return result('in-place', path);
    }
    const output = options.output ?? path;
    await rewriteFileStart(path, source, identity, bytes, header.dataStart, output, { format: 'gguf', signal: options.signal });
    return result('rewrite', output);
  } finally {
    await source.close?.();
  }
}
