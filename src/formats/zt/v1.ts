/**
 * zTensor v1 (read only): the three lineages before container v2 (reference §2).
 *
 * - `ZTEN0001` (0.1.x): magic, blobs (64-byte aligned), a CBOR *array* of
 *   `{name, offset, size, dtype, shape, encoding, layout, data_endianness?, checksum?}`,
 *   then the CBOR's size as a u64 LE in the last 8 bytes; no footer magic.
 * - `ZTEN1000` with an 8-byte trailer (1.0.x): the last 8 bytes are the manifest size;
 *   root `{version, generator, attributes, tensors: {name: {dtype, shape, format,
 *   components: {role: {offset, length, encoding?, digest?}}}}}`.
 * - `ZTEN1000` with a 16-byte footer (1.1/1.2): manifest size then `ZTEN1000`; root
 *   `{version, attributes?, objects: {name: {shape, format, attributes?, components:
 *   {role: {dtype, type?, offset, length, uncompressed_length?, encoding?, digest?}}}}}`.
 *
 * Manifests are serde CBOR (not deterministic), decoded leniently with cborg. Dense,
 * CSR and COO; whole-component zstd; digests (`crc32c:0x…` upper-case, `sha256:…`) are
 * over the *stored* bytes and checked by verify.
 */
import { decode as cborgDecode } from 'cborg';
import { crc32c } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import { TensioError } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import { byteSwapInPlace } from '../../core/bytes.js';
import { elementCount } from '../../core/sizes.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorPartInfo } from '../../model/layouts.js';
import type { TensorInfo, TensorReader, VerifyProblem } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { ZT_MAX_MANIFEST_BYTES } from './types.js';
import { ztZstdDecodeWhole } from './zstd-seekable.js';

/** Which v1 lineage a file is. */
export type ZtV1Lineage = 'v0.1' | 'v1.0' | 'v1.2';

const MAGIC_V01 = 'ZTEN0001';
const MAGIC_V1 = 'ZTEN1000';

const fail = (code: 'INVALID_HEADER' | 'INVALID_OFFSET' | 'INVALID_SHAPE' | 'UNSUPPORTED_DTYPE' | 'SIZE_MISMATCH' | 'INVALID_LAYOUT', message: string): never => {
  throw new TensioError(code, `zt v1: ${message}`, { format: 'zt' });
};

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** The v1 lineage the first 8 and last 8 bytes say, or undefined for anything else. */
export function ztV1Lineage(head: Uint8Array, tail: Uint8Array | undefined): ZtV1Lineage | undefined {
  const magic = ascii(head.subarray(0, 8));
  if (magic === MAGIC_V01) return 'v0.1';
  if (magic !== MAGIC_V1) return undefined;
  return tail && ascii(tail.subarray(tail.length - 8)) === MAGIC_V1 ? 'v1.2' : 'v1.0';
}

const DTYPES: Record<string, { dtype: DType; width: number }> = {
  float64: { dtype: 'float64', width: 8 }, float32: { dtype: 'float32', width: 4 }, float16: { dtype: 'float16', width: 2 }, bfloat16: { dtype: 'bfloat16', width: 2 },
  int64: { dtype: 'int64', width: 8 }, int32: { dtype: 'int32', width: 4 }, int16: { dtype: 'int16', width: 2 }, int8: { dtype: 'int8', width: 1 },
  uint64: { dtype: 'uint64', width: 8 }, uint32: { dtype: 'uint32', width: 4 }, uint16: { dtype: 'uint16', width: 2 }, uint8: { dtype: 'uint8', width: 1 }, bool: { dtype: 'bool', width: 1 },
  f64: { dtype: 'float64', width: 8 }, f32: { dtype: 'float32', width: 4 }, f16: { dtype: 'float16', width: 2 }, bf16: { dtype: 'bfloat16', width: 2 },
  i64: { dtype: 'int64', width: 8 }, i32: { dtype: 'int32', width: 4 }, i16: { dtype: 'int16', width: 2 }, i8: { dtype: 'int8', width: 1 },
  u64: { dtype: 'uint64', width: 8 }, u32: { dtype: 'uint32', width: 4 }, u16: { dtype: 'uint16', width: 2 }, u8: { dtype: 'uint8', width: 1 },
};

/** One stored component (a tensor's data, or one part of a sparse tensor). */
interface V1Component {
  readonly role: string;
  readonly dtype: DType;
  readonly width: number;
  readonly offset: number;
  readonly length: number;
  readonly decodedLength: number;
  readonly zstd: boolean;
  readonly bigEndian: boolean;
  readonly digest?: string;
}

interface V1Object {
  readonly name: string;
  readonly shape: number[];
  readonly format: string;
  readonly components: V1Component[];
  readonly attributes?: unknown;
}

function uint(value: unknown, what: string): number {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) return fail('INVALID_HEADER', `${what} is not an unsigned integer (${String(value)})`);
  return number;
}

function shapeOf(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length > 64) return fail('INVALID_SHAPE', `${JSON.stringify(name)}: shape must be an array of at most 64 dimensions`);
  const shape = value.map((dim, i) => uint(dim, `${JSON.stringify(name)} dimension ${i}`));
  elementCount(shape, 'zt');
  return shape;
}

function dtypeOf(value: unknown, name: string): { dtype: DType; width: number } {
  const found = typeof value === 'string' ? DTYPES[value] : undefined;
  if (!found) return fail('UNSUPPORTED_DTYPE', `${JSON.stringify(name)}: unknown dtype ${JSON.stringify(value)}`);
  return found;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return fail('INVALID_HEADER', `${what} must be a map`);
  return value as Record<string, unknown>;
}

/** Element counts of a sparse object's parts, from its components (decoded sizes). */
function objectsFromManifest(lineage: ZtV1Lineage, manifest: unknown, dataEnd: number): V1Object[] {
  const objects: V1Object[] = [];
  const check = (component: Omit<V1Component, 'role'>, label: string): void => {
    if (component.offset + component.length > dataEnd) fail('INVALID_OFFSET', `${label}: [${component.offset}, +${component.length}] runs past the data (${dataEnd} bytes)`);
  };
  if (lineage === 'v0.1') {
    if (!Array.isArray(manifest)) return fail('INVALID_HEADER', 'the v0.1 manifest must be a CBOR array');
    for (const [index, raw] of manifest.entries()) {
      const entry = record(raw, `manifest entry ${index}`);
      const name = typeof entry.name === 'string' ? entry.name : fail('INVALID_HEADER', `entry ${index} has no name`);
      const { dtype, width } = dtypeOf(entry.dtype, name);
      const shape = shapeOf(entry.shape, name);
      if (entry.layout !== undefined && entry.layout !== 'dense') fail('INVALID_LAYOUT', `${JSON.stringify(name)}: v0.1 layout ${JSON.stringify(entry.layout)} is not supported (dense only)`);
      const encoding = entry.encoding ?? 'raw';
      if (encoding !== 'raw' && encoding !== 'zstd') fail('INVALID_HEADER', `${JSON.stringify(name)}: unknown encoding ${JSON.stringify(encoding)}`);
      const component = {
        dtype, width, offset: uint(entry.offset, `${name} offset`), length: uint(entry.size, `${name} size`),
        decodedLength: elementCount(shape, 'zt') * width, zstd: encoding === 'zstd', bigEndian: entry.data_endianness === 'big',
        ...(typeof entry.checksum === 'string' ? { digest: entry.checksum } : {}),
      };
      check(component, JSON.stringify(name));
      objects.push({ name, shape, format: 'dense', components: [{ role: 'data', ...component }] });
    }
    return objects;
  }
  const root = record(manifest, 'the manifest');
  const table = record(lineage === 'v1.0' ? root.tensors : root.objects, lineage === 'v1.0' ? '"tensors"' : '"objects"');
  for (const [name, raw] of Object.entries(table)) {
    const entry = record(raw, JSON.stringify(name));
    const shape = shapeOf(entry.shape, name);
    const format = typeof entry.format === 'string' ? entry.format : 'dense';
    const tensorType = lineage === 'v1.0' ? dtypeOf(entry.dtype, name) : undefined;
    const components: V1Component[] = [];
    for (const [role, rawComponent] of Object.entries(record(entry.components, `${JSON.stringify(name)} components`))) {
      const c = record(rawComponent, `${JSON.stringify(name)}/${role}`);
      // v1.0 stores index parts as u64 and values/data in the tensor's dtype.
      const type = lineage === 'v1.0' ? (role === 'indices' || role === 'indptr' || role === 'coords' ? DTYPES.uint64! : tensorType!) : dtypeOf(c.dtype, `${name}/${role}`);
      const encoding = c.encoding ?? 'raw';
      if (encoding !== 'raw' && encoding !== 'zstd') fail('INVALID_HEADER', `${JSON.stringify(name)}/${role}: unknown encoding ${JSON.stringify(encoding)}`);
      const length = uint(c.length, `${name}/${role} length`);
      const decodedLength = encoding === 'zstd' ? uint(c.uncompressed_length ?? (format === 'dense' ? elementCount(shape, 'zt') * type.width : undefined), `${name}/${role} uncompressed_length`) : length;
      const component: V1Component = {
        role, dtype: type.dtype, width: type.width, offset: uint(c.offset, `${name}/${role} offset`), length, decodedLength, zstd: encoding === 'zstd', bigEndian: false,
        ...(typeof c.digest === 'string' ? { digest: c.digest } : {}),
      };
      check(component, `${JSON.stringify(name)}/${role}`);
      components.push(component);
    }
    objects.push({ name, shape, format, components, ...(entry.attributes !== undefined ? { attributes: entry.attributes } : {}) });
  }
  return objects;
}

/** The model's info of a v1 object: dense, or CSR/COO parts. */
function infoOf(object: V1Object, lineage: ZtV1Lineage): TensorInfo {
  const extras = { lineage, format: object.format, components: Object.fromEntries(object.components.map((c) => [c.role, { offset: c.offset, length: c.length, ...(c.zstd ? { encoding: 'zstd', decodedLength: c.decodedLength } : {}), ...(c.digest ? { digest: c.digest } : {}) }])) };
  const part = (role: string): V1Component => object.components.find((c) => c.role === role) ?? fail('INVALID_LAYOUT', `${JSON.stringify(object.name)} (${object.format}) has no component ${JSON.stringify(role)}`);
  if (object.format === 'dense') {
    const data = part('data');
    const expected = elementCount(object.shape, 'zt') * data.width;
    if (data.decodedLength !== expected) fail('SIZE_MISMATCH', `${JSON.stringify(object.name)}: ${data.dtype} [${object.shape.join(', ')}] needs ${expected} bytes, the component holds ${data.decodedLength}`);
    return { name: object.name, dtype: data.dtype, shape: object.shape, byteLength: expected, formatDtype: data.dtype, extras };
  }
  const partInfo = (c: V1Component, shape: number[]): TensorPartInfo => ({ name: c.role, dtype: c.dtype, shape, byteLength: c.decodedLength });
  const count = (c: V1Component): number => (c.decodedLength % c.width === 0 ? c.decodedLength / c.width : fail('SIZE_MISMATCH', `${JSON.stringify(object.name)}/${c.role}: ${c.decodedLength} bytes is not a whole number of ${c.dtype}`));
  if (object.format === 'sparse_csr') {
    const [values, indices, indptr] = [part('values'), part('indices'), part('indptr')];
    const parts = [partInfo(indices, [count(indices)]), partInfo(indptr, [count(indptr)]), partInfo(values, [count(values)])];
    return { name: object.name, dtype: values.dtype, shape: object.shape, byteLength: parts.reduce((s, p) => s + p.byteLength, 0), formatDtype: 'sparse_csr', extras, layout: { kind: 'sparse_csr' }, parts };
  }
  if (object.format === 'sparse_coo') {
    const [values, coords] = [part('values'), part('coords')];
    const rank = Math.max(1, object.shape.length);
    const parts = [partInfo(coords, [rank, count(coords) / rank]), partInfo(values, [count(values)])];
    return { name: object.name, dtype: values.dtype, shape: object.shape, byteLength: parts.reduce((s, p) => s + p.byteLength, 0), formatDtype: 'sparse_coo', extras, layout: { kind: 'sparse_coo' }, parts };
  }
  const parts = object.components.map((c) => partInfo(c, [count(c)]));
  return { name: object.name, dtype: 'opaque', shape: object.shape, byteLength: parts.reduce((s, p) => s + p.byteLength, 0), formatDtype: object.format, extras, layout: { kind: 'other', name: object.format }, parts };
}

/** The stored bytes' digest as v1 writes it: `crc32c:0x%08X` or `sha256:<hex>`. */
function storedDigest(algorithm: string, bytes: Uint8Array): string {
  if (algorithm === 'crc32c') return `crc32c:0x${(crc32c(bytes) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A v1 reader: the model's reader plus a digest check over every stored component. */
export interface ZtV1Reader extends TensorReader {
  readonly lineage: ZtV1Lineage;
  /** Checks every component digest over its stored bytes; returns counts and problems. */
  verifyDigests(): Promise<{ verified: number; without: number; problems: VerifyProblem[] }>;
}

/**
 * Opens a v1 file (any lineage) from a source.
 *
 * @example
 * ```ts
 * const reader = await ztV1Open(source, 'v1.2');
 * ```
 */
export async function ztV1Open(source: ByteSource, lineage: ZtV1Lineage, options: { ownsSource?: boolean; maxManifestBytes?: number } = {}): Promise<ZtV1Reader> {
  const trailer = lineage === 'v1.2' ? 16 : 8;
  if (source.size < 8 + trailer) fail('INVALID_HEADER', `a ${lineage} file has at least ${8 + trailer} bytes, this one ${source.size}`);
  const sizeBytes = await source.read(source.size - trailer, 8);
  const manifestLength = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 8).getBigUint64(0, true);
  const max = BigInt(Math.min(options.maxManifestBytes ?? ZT_MAX_MANIFEST_BYTES, source.size - 8 - trailer));
  if (manifestLength > max) fail('INVALID_OFFSET', `the manifest size ${manifestLength} does not fit the file (${source.size} bytes) or exceeds maxManifestBytes`);
  const manifestOffset = source.size - trailer - Number(manifestLength);
  const manifestBytes = await source.read(manifestOffset, Number(manifestLength));
  let manifest: unknown;
  try {
    manifest = cborgDecode(manifestBytes, { useMaps: false, rejectDuplicateMapKeys: true, allowUndefined: false });
  } catch (error) {
    fail('INVALID_HEADER', `the manifest is not valid CBOR: ${(error as Error).message}`);
  }
  const objects = objectsFromManifest(lineage, manifest, manifestOffset);
  const tensors = objects.map((object) => infoOf(object, lineage));
  const byName = new Map(objects.map((object) => [object.name, object]));
  if (byName.size !== objects.length) fail('INVALID_HEADER', 'two tensors share a name');

  function locate(object: V1Object, role: string): TensorLocation {
    const c = object.components.find((candidate) => candidate.role === role)!;
    if (!c.zstd && !c.bigEndian) return { kind: 'span', source, offset: c.offset };
    return {
      kind: 'decode',
      async decode() {
        const stored = await source.read(c.offset, c.length);
        const bytes = c.zstd ? await ztZstdDecodeWhole(stored, c.decodedLength, `${JSON.stringify(object.name)}/${role}`) : stored.slice();
        if (c.bigEndian && c.width > 1) byteSwapInPlace(bytes, c.width);
        return bytes;
      },
    };
  }
  const root = lineage === 'v0.1' ? undefined : (manifest as Record<string, unknown>);
  const metadata: Record<string, unknown> = { ...(root && typeof root.attributes === 'object' && root.attributes !== null ? root.attributes as Record<string, unknown> : {}), 'zt.v1': lineage };
  const reader = createTensorReader({
    format: 'zt',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata,
    tensors,
    locate: (info) => locate(byName.get(info.name)!, 'data'),
    locatePart: (info, part) => locate(byName.get(info.name)!, part.name),
    ...(options.ownsSource ? { close: async () => { await source.close?.(); } } : {}),
  });
  return Object.assign(reader, {
    lineage,
    async verifyDigests() {
      let verified = 0;
      let without = 0;
      const problems: VerifyProblem[] = [];
      for (const object of objects) {
        for (const c of object.components) {
          if (!c.digest) { without++; continue; }
          const algorithm = c.digest.slice(0, c.digest.indexOf(':'));
          if (algorithm !== 'crc32c' && algorithm !== 'sha256') { problems.push({ code: 'UNSUPPORTED_FEATURE', message: `zt v1: ${object.name}/${c.role}: digest algorithm ${JSON.stringify(algorithm)} is not supported`, tensor: object.name }); continue; }
          const actual = storedDigest(algorithm, await source.read(c.offset, c.length));
          if (actual.toLowerCase() === c.digest.toLowerCase()) verified++;
          else problems.push({ code: 'CHECKSUM_MISMATCH', message: `zt v1: ${object.name}/${c.role}: stored bytes have ${actual}, the manifest says ${c.digest}`, tensor: object.name });
        }
      }
      return { verified, without, problems };
    },
  }) as ZtV1Reader;
}
