/**
 * Parsing a zTensor v2 file: the frame (magic, footer) and the manifest, in the
 * reference's check order (§1.9 steps 1-11). Synchronous over bytes; `reader.ts` reads
 * the footer and the manifest blob from a source and hands them here. The manifest hash
 * function is passed in so that this file stays free of native modules.
 */
import { CborFloat, CborMap, cborDecodeStrict, cborToPlain, type CborValue } from './cbor.js';
import { ztCheckDigestSyntax, ztCheckName, ztCheckShardName } from './names.js';
import {
  ZT_ALIGN_FLOOR, ZT_FOOTER_BYTES, ZT_MAGIC, ZT_MAX_MANIFEST_BYTES, ZT_MIN_FILE_BYTES,
  ZT_STORAGE_DTYPES, ZT_VERSION, ztCompareNames, ztReject,
  type ZtFooter, type ZtManifest, type ZtObject, type ZtPart, type ZtShard,
} from './types.js';

/** Options of the frame and manifest checks. */
export interface ZtReadOptions {
  /** Largest manifest read, default and reference 1 GiB (`maxManifestBytes`). */
  maxManifestBytes?: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks the frame from the first 8 bytes, the last 40 and the size (steps 1-8), and
 * says where the manifest is, or that the file is a data shard. `head` undefined: the
 * start magic (step 2) is checked later with {@link ztCheckStartMagic} — a remote file
 * opened from its end does not have its first bytes yet.
 *
 * @example
 * ```ts
 * const footer = ztParseFrame(head8, last40, size); // { kind: 'manifest', offset, length, hash }
 * ```
 */
export function ztParseFrame(head: Uint8Array | undefined, footer: Uint8Array, size: number, options: ZtReadOptions = {}): ZtFooter {
  if (size < ZT_MIN_FILE_BYTES) ztReject('FileTooSmall', `file is ${size} bytes, a .zt file has at least ${ZT_MIN_FILE_BYTES}`);
  if (head !== undefined) ztCheckStartMagic(head);
  if (footer.length !== ZT_FOOTER_BYTES) throw new RangeError(`footer must be ${ZT_FOOTER_BYTES} bytes`);
  if (!sameBytes(footer.subarray(32, 40), ZT_MAGIC)) ztReject('FooterMagic', 'the file does not end with the zTensor v2 magic (a truncated file, or a crashed append)');
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  const version = view.getUint32(24, true);
  if (version !== ZT_VERSION) ztReject('Version', `footer version is ${version}, this reader knows version ${ZT_VERSION}`);
  const offset = view.getBigUint64(0, true);
  const length = view.getBigUint64(8, true);
  const hash = view.getBigUint64(16, true);
  const reserved = view.getUint32(28, true);
  if (length === 0n) {
    if (offset !== 0n || hash !== 0n) ztReject('ManifestBounds', `footer says manifest length 0 (a data shard) but offset ${offset} and hash ${hash} are not 0`);
    return { kind: 'data-shard' };
  }
  const max = BigInt(options.maxManifestBytes ?? ZT_MAX_MANIFEST_BYTES);
  if (length > max) ztReject('ManifestTooLarge', `manifest is ${length} bytes, more than the ${max} allowed (maxManifestBytes)`);
  if (offset % BigInt(ZT_ALIGN_FLOOR) !== 0n || offset < BigInt(ZT_ALIGN_FLOOR)) {
    ztReject('BlobAlignment', `manifest offset ${offset} is not a multiple of ${ZT_ALIGN_FLOOR} at or past ${ZT_ALIGN_FLOOR}`);
  }
  if (offset + length > BigInt(size - ZT_FOOTER_BYTES)) {
    ztReject('ManifestBounds', `manifest [${offset}, +${length}] runs past the data region (${size - ZT_FOOTER_BYTES} bytes before the footer)`);
  }
  return { kind: 'manifest', offset, length, hash, reserved };
}

/**
 * Step 2: the file starts with the zTensor v2 magic (`HeaderMagic` otherwise).
 *
 * @example
 * ```ts
 * ztCheckStartMagic(await source.read(0, 8));
 * ```
 */
export function ztCheckStartMagic(head: Uint8Array): void {
  if (!sameBytes(head.subarray(0, 8), ZT_MAGIC)) ztReject('HeaderMagic', 'the file does not start with the zTensor v2 magic 89 5A 54 32 0D 0A 1A 0A');
}

/**
 * Checks the manifest bytes against the footer's XXH3-64 (step 9), decodes the strict
 * CBOR (step 10) and parses the schema (step 11).
 *
 * @example
 * ```ts
 * const manifest = ztParseManifest(bytes, footer.hash, xxh3);
 * ```
 */
export function ztParseManifest(bytes: Uint8Array, expectedHash: bigint, xxh3: (bytes: Uint8Array) => bigint): ZtManifest {
  const actual = xxh3(bytes);
  if (actual !== expectedHash) {
    ztReject('ManifestHash', `manifest XXH3-64 is ${actual.toString(16).padStart(16, '0')}, the footer says ${expectedHash.toString(16).padStart(16, '0')}`);
  }
  return ztManifestFromCbor(cborDecodeStrict(bytes));
}

/** Step 11: the manifest schema, in encoded-key order, as the reference's `Manifest::from_value`. */
export function ztManifestFromCbor(root: CborValue): ZtManifest {
  if (!(root instanceof CborMap)) return ztReject('Schema', 'the manifest root must be a map');
  let objects: Map<string, ZtObject> | undefined;
  let shards = new Map<string, ZtShard>();
  let attributes: unknown;
  let attributesCbor: CborValue | undefined;
  for (const [key, value] of root.entries) {
    if (typeof key !== 'string') continue; // non-text root keys are ignored
    if (key === 'attributes') {
      attributes = attributesOf(value, 'file attributes');
      attributesCbor = value;
    }
    else if (key === 'shards') shards = parseShards(value);
    else if (key === 'objects') objects = parseObjects(value);
  }
  if (!objects) return ztReject('Schema', 'the manifest has no "objects" map');
  return { objects, shards, ...(attributes !== undefined ? { attributes, attributesCbor } : {}) };
}

export { ztCheckName, ztCheckShardName, ztCheckDigestSyntax } from './names.js';

function asMap(value: CborValue, what: string): CborMap {
  if (!(value instanceof CborMap)) return ztReject('Schema', `${what} must be a map`);
  return value;
}

function asText(value: CborValue, what: string): string {
  if (typeof value !== 'string') return ztReject('Schema', `${what} must be text`);
  return value;
}

function asU64(value: CborValue, what: string): bigint {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n) return value;
  return ztReject('Schema', `${what} must be an unsigned integer${value instanceof CborFloat ? ` (got the float ${value.value})` : ''}`);
}

function asU64Array(value: CborValue, what: string): bigint[] {
  if (!Array.isArray(value)) return ztReject('Schema', `${what} must be an array`);
  return value.map((item) => asU64(item, what));
}

/** Attributes: a map whose keys are text names; values are free (the codec already refused tags). */
function attributesOf(value: CborValue, what: string): unknown {
  const map = asMap(value, `${what}`);
  for (const [key] of map.entries) {
    if (typeof key !== 'string') ztReject('Schema', `${what}: keys must be text`);
    ztCheckName(key, `${what} key`);
  }
  return cborToPlain(map);
}

function sortedByName<T>(entries: Array<[string, T]>): Map<string, T> {
  return new Map(entries.sort(([a], [b]) => ztCompareNames(a, b)));
}

function parseShards(value: CborValue): Map<string, ZtShard> {
  const entries: Array<[string, ZtShard]> = [];
  for (const [key, entry] of asMap(value, '"shards"').entries) {
    if (typeof key !== 'string') ztReject('Schema', 'shard table keys must be text');
    ztCheckShardName(key);
    let size: bigint | undefined;
    let digest: string | undefined;
    for (const [field, fieldValue] of asMap(entry, `shard ${JSON.stringify(key)}`).entries) {
      if (field === 'size' && (typeof fieldValue === 'number' || typeof fieldValue === 'bigint') && fieldValue >= 0) size = BigInt(fieldValue);
      else if (field === 'digest' && typeof fieldValue === 'string') digest = fieldValue;
    }
    if (size === undefined) ztReject('Schema', `shard ${JSON.stringify(key)} has no unsigned "size"`);
    if (digest === undefined) ztReject('Schema', `shard ${JSON.stringify(key)} has no text "digest"`);
    ztCheckDigestSyntax(digest);
    entries.push([key, { size, digest }]);
  }
  return sortedByName(entries);
}

function parseObjects(value: CborValue): Map<string, ZtObject> {
  const entries: Array<[string, ZtObject]> = [];
  for (const [key, entry] of asMap(value, '"objects"').entries) {
    const name = asText(key, 'object name');
    ztCheckName(name, 'object name');
    entries.push([name, parseObject(name, entry)]);
  }
  return sortedByName(entries);
}

function parseObject(name: string, value: CborValue): ZtObject {
  let shape: bigint[] | undefined;
  let layout: string | undefined;
  let attributes: unknown;
  let attributesCbor: CborValue | undefined;
  let parts: Map<string, ZtPart> | undefined;
  for (const [key, field] of asMap(value, `object ${JSON.stringify(name)}`).entries) {
    if (key === 'shape') shape = asU64Array(field, `"shape" of ${JSON.stringify(name)}`);
    else if (key === 'layout') layout = asText(field, `"layout" of ${JSON.stringify(name)}`);
    else if (key === 'attributes') {
      attributes = attributesOf(field, `attributes of ${JSON.stringify(name)}`);
      attributesCbor = field;
    } else if (key === 'parts') parts = parseParts(name, field);
  }
  if (!shape || layout === undefined || !parts) return ztReject('Schema', `object ${JSON.stringify(name)} needs "shape", "layout" and "parts"`);
  if (parts.size === 0) ztReject('Schema', `object ${JSON.stringify(name)} has no parts`);
  return { shape, layout, parts, ...(attributes !== undefined ? { attributes, attributesCbor } : {}) };
}

function parseParts(objectName: string, value: CborValue): Map<string, ZtPart> {
  const entries: Array<[string, ZtPart]> = [];
  for (const [key, entry] of asMap(value, `"parts" of ${JSON.stringify(objectName)}`).entries) {
    const name = asText(key, 'part name');
    ztCheckName(name, 'part name');
    entries.push([name, parsePart(`${JSON.stringify(objectName)}/${JSON.stringify(name)}`, entry)]);
  }
  return sortedByName(entries);
}

function parsePart(label: string, value: CborValue): ZtPart {
  let dtype: string | undefined;
  let type: string | undefined;
  let blob: [bigint, bigint] | undefined;
  let shard: string | undefined;
  let encoding: string | undefined;
  let decodedLength: bigint | undefined;
  let digest: string | undefined;
  for (const [key, field] of asMap(value, `part ${label}`).entries) {
    if (key === 'dtype') {
      dtype = asText(field, `"dtype" of ${label}`);
      if (!(dtype in ZT_STORAGE_DTYPES)) ztReject('Schema', `${label}: unknown dtype ${JSON.stringify(dtype.slice(0, 40))} (storage dtypes: ${Object.keys(ZT_STORAGE_DTYPES).join(' ')})`);
    } else if (key === 'type') type = asText(field, `"type" of ${label}`);
    else if (key === 'blob') {
      const numbers = asU64Array(field, `"blob" of ${label}`);
      if (numbers.length !== 2) ztReject('Schema', `${label}: "blob" must be [offset, length], got ${numbers.length} elements`);
      blob = [numbers[0]!, numbers[1]!];
    } else if (key === 'shard') {
      shard = asText(field, `"shard" of ${label}`);
      ztCheckShardName(shard);
    } else if (key === 'encoding') encoding = asText(field, `"encoding" of ${label}`);
    else if (key === 'decoded_length') decodedLength = asU64(field, `"decoded_length" of ${label}`);
    else if (key === 'digest') {
      digest = asText(field, `"digest" of ${label}`);
      ztCheckDigestSyntax(digest);
    }
  }
  if (dtype === undefined || !blob) return ztReject('Schema', `part ${label} needs "dtype" and "blob"`);
  if ((encoding !== undefined) !== (decodedLength !== undefined)) ztReject('Schema', `part ${label}: "decoded_length" is required exactly when "encoding" is present`);
  return {
    dtype,
    blob: { offset: blob[0], length: blob[1], ...(shard !== undefined ? { shard } : {}) },
    ...(type !== undefined ? { type } : {}),
    ...(encoding !== undefined ? { encoding } : {}),
    ...(decodedLength !== undefined ? { decodedLength } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}
