/**
 * Editing a safetensors file's `__metadata__` (`tensio edit`): set and delete string
 * entries, keep every tensor and every other header entry in its order. In place when
 * the new JSON fits in the old header (the rest is padded with spaces, which every
 * reader trims, and the data does not move); otherwise the file is rewritten (header
 * padded to 8 bytes, data streamed unchanged) and published atomically. A header
 * written with room to spare (`headerReserve`, `convert --header-reserve`) keeps as
 * many spaces after a rewrite, so the next edit fits in place again.
 */
import { errorFactory } from '../../core/errors.js';
import type { MetadataEditResult, MetadataEdits } from '../../model/types.js';
import { fileSource } from '../../storage/file-source.js';
import { fileIdentity, patchFileStart, recoverFilePatch } from '../../storage/file-patch.js';
import { rewriteFileStart } from '../../storage/file-rewrite.js';
import { safetensorsParseHeaderJson, safetensorsReadHeaderLength } from './read.js';
import { JsonNumberLiteral, isJsonObject, parseStrictJson, type JsonValue } from './strict-json.js';
import { SAFETENSORS_METADATA_KEY } from './types.js';

const fail = errorFactory('safetensors');

/** Compact JSON text of a parsed value, keys in their order, numbers as written. */
function emit(value: JsonValue): string {
  if (value instanceof JsonNumberLiteral) return value.text;
  if (value instanceof Map) return `{${[...value].map(([key, item]) => `${JSON.stringify(key)}:${emit(item)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(emit).join(',')}]`;
  return JSON.stringify(value);
}

/**
 * Applies `edits` to the `__metadata__` of a local safetensors file (or writes the
 * result to `output`). Values are strings; `types` is refused (safetensors metadata is
 * untyped).
 *
 * @example
 * ```ts
 * await safetensorsEditMetadata('model.safetensors', { set: [['format', 'pt']] }); // { mode: 'in-place', … } when it fits
 * ```
 */
export async function safetensorsEditMetadata(path: string, edits: MetadataEdits, options: { output?: string; signal?: AbortSignal } = {}): Promise<MetadataEditResult> {
  if ((edits.types ?? []).length > 0) fail('INVALID_ARGUMENT', 'safetensors: __metadata__ holds strings only; --set-type does not apply');
  // An earlier in-place edit killed halfway is finished first (its journal is beside the file).
  await recoverFilePatch(path);
  const identity = await fileIdentity(path);
  const source = await fileSource(path);
  try {
    const length = safetensorsReadHeaderLength(await source.read(0, 8), source.size);
    const headerBytes = await source.read(8, length);
    safetensorsParseHeaderJson(headerBytes, source.size); // the file must be sound before it is edited
    const root = parseStrictJson(new TextDecoder().decode(headerBytes));
    if (!isJsonObject(root)) return fail('INVALID_HEADER', 'safetensors: the header is not a JSON object');
    const existing = root.get(SAFETENSORS_METADATA_KEY);
    const metadata = isJsonObject(existing) ? new Map(existing) : new Map<string, JsonValue>();
    const changed: string[] = [];
    for (const [key, value] of edits.set ?? []) { metadata.set(key, value); changed.push(key); }
    for (const key of edits.delete ?? []) {
      if (!metadata.delete(key)) fail('NOT_FOUND', `safetensors: there is no __metadata__ key ${JSON.stringify(key)} to delete in ${path}`);
      changed.push(key);
    }
    // __metadata__ first, as the reference writer puts it; none at all when it is empty.
    const entries = [...root].filter(([key]) => key !== SAFETENSORS_METADATA_KEY);
    const rebuilt = new Map<string, JsonValue>(metadata.size > 0 ? [[SAFETENSORS_METADATA_KEY, metadata], ...entries] : entries);
    const json = new TextEncoder().encode(emit(rebuilt));
    const dataStart = 8 + length;
    const result = (mode: 'in-place' | 'rewrite', output: string, after: number): MetadataEditResult => ({ mode, output, headerBytes: { before: dataStart, after }, changed });
    if (options.output === undefined && json.byteLength <= length) {
      const patch = new Uint8Array(dataStart).fill(0x20);
      new DataView(patch.buffer).setBigUint64(0, BigInt(length), true);
      patch.set(json, 8);
      await source.close?.();
      await patchFileStart(path, patch, identity, { poison: 8 }); // the header length: readers refuse the file until the header is whole
      return result('in-place', path, dataStart);
    }
    // The spaces the old header had to spare (a reserve from the writer) are kept.
    let spare = 0;
    while (spare < length && headerBytes[length - 1 - spare] === 0x20) spare++;
    const padded = Math.ceil((json.byteLength + (spare >= 8 ? spare : 0)) / 8) * 8;
    const header = new Uint8Array(8 + padded).fill(0x20);
    new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
    header.set(json, 8);
    const output = options.output ?? path;
    await rewriteFileStart(path, source, identity, header, dataStart, output, { format: 'safetensors', signal: options.signal });
    return result('rewrite', output, header.byteLength);
  } finally {
    await source.close?.();
  }
}
