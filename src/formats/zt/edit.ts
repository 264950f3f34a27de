/**
 * `tensio edit` for zTensor: the file's attributes (the manifest's `attributes` map)
 * change without touching a blob. The edit is a new generation: the file's bytes, then a
 * manifest holding the same objects and shards with the new attributes, then its footer
 * (the footer at the end defines the file; earlier generations stay as bytes). It is
 * published atomically as a whole new file (a temporary beside it, renamed over it), so
 * a crash leaves the old file; an in-place append could not promise that.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import type { MetadataEditResult, MetadataEdits } from '../../model/types.js';
import { fileSource } from '../../storage/file-source.js';
import { openWriteSink } from '../../storage/write-target.js';
import { CborFloat, CborMap, cborEncodeCanonical } from './cbor.js';
import { ztCheckName } from './names.js';
import { ztAttributesFrom, ztFooterBytes, ztPreviousGeneration } from './write.js';

/** The value types `--set-type KEY=TYPE` names for zTensor attributes. */
export const ZT_ATTRIBUTE_TYPES = ['string', 'int', 'float', 'bool', 'json'] as const;
type AttributeType = (typeof ZT_ATTRIBUTE_TYPES)[number];

const fail = (code: 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'UNSUPPORTED_FEATURE', message: string): never => {
  throw new TensioError(code, `zt: ${message}`, { format: 'zt' });
};

/** The type an attribute value has now (what `--set` keeps when no type is given). */
function typeOf(value: unknown): AttributeType {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'int';
  if (value instanceof CborFloat) return 'float';
  return 'json';
}

/** An attribute value as text (`--set-type` on an existing key converts from this). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof CborFloat) return String(value.value);
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(plain(value), (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
}

/** CBOR values as JSON-able values (for the text of a map or list). */
function plain(value: unknown): unknown {
  if (value instanceof CborMap) return Object.fromEntries(value.entries.map(([key, item]) => [String(key), plain(item)]));
  if (value instanceof CborFloat) return value.value;
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** The CBOR value of `text` read as `type`. */
function valueFromText(key: string, type: AttributeType, text: string): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'int': {
      if (!/^-?\d{1,20}$/.test(text.trim())) fail('INVALID_ARGUMENT', `${quoteInput(key)} is an int attribute; ${quoteInput(text)} is not an integer`);
      const big = BigInt(text.trim());
      if (big < -(2n ** 64n) || big >= 2n ** 64n) fail('INVALID_ARGUMENT', `${quoteInput(key)}: ${text} does not fit CBOR's 64-bit integers`);
      return Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    case 'float': {
      const number = Number(text.trim());
      if (text.trim() === '' || (Number.isNaN(number) && text.trim().toLowerCase() !== 'nan')) fail('INVALID_ARGUMENT', `${quoteInput(key)} is a float attribute; ${quoteInput(text)} is not a number`);
      return new CborFloat(number);
    }
    case 'bool':
      if (text !== 'true' && text !== 'false') fail('INVALID_ARGUMENT', `${quoteInput(key)} is a bool attribute; give true or false, not ${quoteInput(text)}`);
      return text === 'true';
    case 'json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return fail('INVALID_ARGUMENT', `${quoteInput(key)} holds a map or list; ${quoteInput(text)} is not JSON (give JSON, or --set-type ${key}=string)`);
      }
      return ztAttributesFrom({ [key]: parsed as never })?.get(key) ?? null;
    }
  }
}

/**
 * Sets, retypes and deletes attributes of a local `.zt` file, published atomically (to
 * `output` when given). `types` name `string`, `int`, `float`, `bool` or `json`; a set
 * keeps the key's current type, a new key is a string unless typed.
 *
 * @example
 * ```ts
 * await ztEditMetadata('model.zt', { set: [['license', 'mit']], types: [['epoch', 'int']], delete: ['draft'] });
 * ```
 */
export async function ztEditMetadata(path: string, edits: MetadataEdits, options: { output?: string; signal?: AbortSignal } = {}): Promise<MetadataEditResult> {
  const previous = await ztPreviousGeneration(path);
  const output = options.output ?? path;
  const baseName = (file: string): string => file.split(/[\\/]/).pop() ?? file;
  if (previous.shards && baseName(output) !== baseName(path)) {
    fail('UNSUPPORTED_FEATURE', `${quoteInput(path)} has data shards named after it; edit it in place (no -o), or convert it to a new file`);
  }
  const attributes = new Map(previous.attributes ?? []);
  const changed: string[] = [];
  const touch = (key: string): void => {
    if (!changed.includes(key)) changed.push(key);
  };
  const declared = new Map<string, AttributeType>();
  for (const [key, typeName] of edits.types ?? []) {
    if (!(ZT_ATTRIBUTE_TYPES as readonly string[]).includes(typeName)) fail('INVALID_ARGUMENT', `attribute type ${quoteInput(typeName)} is not one of ${ZT_ATTRIBUTE_TYPES.join(', ')}`);
    touch(key);
    declared.set(key, typeName as AttributeType);
    if (attributes.has(key) && !(edits.set ?? []).some(([k]) => k === key)) attributes.set(key, valueFromText(key, typeName as AttributeType, textOf(attributes.get(key))));
  }
  for (const [key, text] of edits.set ?? []) {
    ztCheckName(key, 'attribute key');
    touch(key);
    const type = declared.get(key) ?? (attributes.has(key) ? typeOf(attributes.get(key)) : 'string');
    attributes.set(key, valueFromText(key, type, text));
  }
  for (const key of edits.delete ?? []) {
    touch(key);
    if (!attributes.delete(key)) fail('NOT_FOUND', `there is no attribute ${quoteInput(key)} to delete in ${quoteInput(path)}`);
  }
  const manifest = cborEncodeCanonical({
    objects: new Map(previous.objects),
    ...(previous.shards ? { shards: previous.shards } : {}),
    ...(attributes.size > 0 ? { attributes } : {}),
  });
  const source = await fileSource(path);
  const sink = await openWriteSink(output, { format: 'zt' });
  try {
    const step = 8 * 2 ** 20;
    for (let at = 0; at < source.size; at += step) {
      throwIfAborted(options.signal);
      await sink.write(await source.read(at, Math.min(step, source.size - at)));
    }
    // The new manifest at the file's alignment, then its footer: the new last generation.
    const manifestOffset = Math.ceil(sink.position / previous.align) * previous.align;
    if (manifestOffset > sink.position) await sink.write(new Uint8Array(manifestOffset - sink.position));
    await sink.write(manifest);
    await sink.write(ztFooterBytes(manifestOffset, manifest));
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  } finally {
    await source.close?.();
  }
  return { mode: 'rewrite', output, headerBytes: { before: previous.manifestBytes, after: manifest.length }, changed };
}
