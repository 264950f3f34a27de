/**
 * The async shell over a {@link ByteSource}: reads the first 8 bytes, the 40-byte
 * footer and exactly the manifest blob, hands them to the synchronous parser and
 * validator, and builds a {@link TensorReader} over the objects. Raw parts are spans
 * (zero-copy views through {@link ZtReader.view} where the source holds the bytes in
 * memory); `zt.zstd-seekable/1` parts are chunk lists (one frame decoded at a time);
 * parts under another encoding stay addressable and are refused on decode
 * (`UNSUPPORTED_FEATURE`, naming it).
 */
import type { S3Options } from '../../storage/s3-client.js';
import { TensioError, throwIfAborted } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import { BLOCK_DTYPE_INFO, type BlockDType } from '../../core/block-dtypes.js';
import { checkMultiPartInfo, type MxLayout, type QuantGroupLayout, type TensorLayout, type TensorPartInfo } from '../../model/layouts.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import { UNSUPPORTED_TENSORS_KEY, type TensorInfo, type TensorReader, type UnsupportedTensor } from '../../model/types.js';
import { readRange, type ByteSource } from '../../storage/byte-source.js';
import { isRemoteLocation, localPathOf, openingFromEnd, openSourceInput, siblingLocation, type SourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { withLazyHeadCheck } from '../../storage/lazy-head-check.js';
import type { HttpSourceOptions } from '../../storage/http-source.js';
import { ztDigestAlgorithmOf, ztHasher, ztXxh3 } from './digest.js';
import { ztCheckStartMagic, ztParseFrame, ztParseManifest, type ZtReadOptions } from './read.js';
import {
  ZT_ENCODING_ZSTD, ZT_FOOTER_BYTES, ZT_MAGIC, ZT_LAYOUT_COO, ZT_LAYOUT_CSR, ZT_LAYOUT_DENSE, ZT_LAYOUT_MX, ZT_LAYOUT_QUANT_GROUP, ZT_LOGICAL_TYPES, ZT_STORAGE_DTYPES,
  ztDecodedSize, ztReject, ztUnsupported, type ZtFooter, type ZtManifest, type ZtObject, type ZtPart,
} from './types.js';
import { ztCheckContent, ztCheckCsrData, ztElementCount, ztIndexArray, ztValidateManifest } from './validate.js';
import { ztZstdChunks } from './zstd-seekable.js';
import { ztFloatMarks, ztFloatMarksOf } from './float-marks.js';
import type { CborValue } from './cbor.js';
import { ztV1Lineage, ztV1Open, type ZtV1Lineage, type ZtV1Reader } from './v1.js';

/** Options for {@link ztOpen}. */
export interface ZtOpenOptions extends ZtReadOptions {
  signal?: AbortSignal;
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
  /**
   * Opens a shard the manifest names. Default: positional resolution beside the root
   * (`<stem>.zt` + name n → `<stem>-<n>.zt`) when the root was opened from a path or
   * URL; none for bytes and sources (parts in shards then fail with `NOT_FOUND`).
   */
  openShard?: (name: string) => Promise<ByteSource>;
}

/** A zTensor reader: the model's {@link TensorReader} plus what only zTensor has. */
export interface ZtReader extends TensorReader {
  /** The validated manifest (undefined for a data shard). */
  readonly manifest: ZtManifest | undefined;
  /** What the footer says (a data shard has no manifest). */
  readonly footer: ZtFooter;
  /** True for a data shard: a container with no manifest. */
  readonly dataShard: boolean;
  /**
   * Checks the start magic (`HeaderMagic`) if open did not: a URL is opened from its end,
   * and its first bytes are checked by the first read near them, or here (`verify`).
   */
  checkStart(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * The stored bytes of a raw part without a copy where the source holds them in memory
   * (bytes given to `ztOpen`); an encoded part is refused (`UNSUPPORTED_FEATURE`): it is
   * never zero-copy.
   */
  view(object: string, part: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** The decoded bytes of one part (raw, or zstd-seekable decoded), content rules checked. */
  readDecoded(object: string, part: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** Recomputes one part's digest (if it has one) and its content rules; `false` when it has no digest. */
  verifyPart(object: string, part: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** Opens (once) and returns a shard the manifest names, its size checked (`ShardIdentity`). */
  openShardSource(name: string): Promise<ByteSource>;
  /** Assembles a `zt.sparse_csr/1` object, checking its data rules (`LayoutData`). */
  readCsr(object: string, options?: { signal?: AbortSignal }): Promise<ZtCsr>;
}

/** An assembled CSR matrix. */
export interface ZtCsr {
  readonly shape: readonly [number, number];
  readonly indptr: ReadonlyArray<number | bigint>;
  readonly indices: ReadonlyArray<number | bigint>;
  /** The decoded bytes of `values`. */
  readonly values: Uint8Array;
  readonly valuesDtype: DType;
}

/**
 * A first payload read starting within this many bytes of the file's start is extended
 * to offset 0 when the start magic is still unchecked (a remote file opened from its
 * end): one request either way, 64 KiB at most more on the wire. Canonical files put
 * their first blob at 64 KiB, so their first tensor read checks it.
 */
const ZT_START_CHECK_REACH = 64 * 1024;

/**
 * Reads and validates the frame and manifest of a source (footer suffix, then the
 * manifest blob) and returns them; nothing else is read. The start magic is checked
 * here when its bytes are cheap (a local file, bytes, a source that holds them);
 * otherwise (a URL opened from its end) `startChecked` is false and the caller checks
 * it later ({@link ztCheckStartMagic}).
 *
 * @example
 * ```ts
 * const { footer, manifest } = await ztReadManifestFrom(source);
 * ```
 */
export async function ztReadManifestFrom(source: ByteSource, options: ZtReadOptions & { signal?: AbortSignal } = {}): Promise<{ footer: ZtFooter; manifest: ZtManifest | undefined; startChecked: boolean }> {
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const size = source.size;
  const footerBytes = size >= ZT_FOOTER_BYTES ? await readRange(source, { suffix: ZT_FOOTER_BYTES }, readOptions) : new Uint8Array(ZT_FOOTER_BYTES);
  const startChecked = size < 8 || source.holds === undefined || source.holds(0, 8);
  const head = size < 8 ? new Uint8Array(8) : startChecked ? await source.read(0, 8, readOptions) : undefined;
  const footer = ztParseFrame(head, footerBytes, size, options);
  if (footer.kind === 'data-shard') return { footer, manifest: undefined, startChecked };
  throwIfAborted(options.signal);
  const manifestBytes = await source.read(Number(footer.offset), Number(footer.length), readOptions);
  const manifest = ztParseManifest(manifestBytes, footer.hash, ztXxh3);
  ztValidateManifest(manifest, BigInt(size - ZT_FOOTER_BYTES), [footer.offset, footer.length]);
  return { footer, manifest, startChecked };
}

/**
 * Opens a `.zt` v2 file, URL, bytes in memory or source as a {@link ZtReader}. A URL (`http(s)://` or `s3://`) is
 * opened from its end: one suffix request brings the footer (and the manifest when it
 * fits in the last 64 KiB), at most one more the rest of the manifest; the start magic is
 * checked by the first read near the start, or by `verify`.
 *
 * @example
 * ```ts
 * await using reader = await ztOpen('model.zt');
 * const w = await reader.read('lm_head.weight');
 * ```
 */
export async function ztOpen(input: SourceInput, options: ZtOpenOptions = {}): Promise<ZtReader> {
  return openAs(input, options, false) as Promise<ZtReader>;
}

/** Opens an input once and reads it as v2, or (`anyVersion`) as the v1 lineage its ends name. */
async function openAs(input: SourceInput, options: ZtOpenOptions, anyVersion: boolean): Promise<ZtReader | ZtV1Reader> {
  const sourceOptions = sourceOptionsOf(options);
  const { source, owned } = await openSourceInput(input, isRemoteLocation(input) ? openingFromEnd(sourceOptions) : sourceOptions);
  const location = typeof input === 'string' || input instanceof URL ? String(input) : undefined;
  const openShard = options.openShard ?? (location !== undefined && (isRemoteLocation(location) || localPathOf(location) !== undefined)
    ? async (name: string) => (await openSourceInput(siblingLocation(location, ztShardFileName(location, name)), sourceOptionsOf(options, undefined))).source
    : undefined);
  try {
    const lineage = anyVersion ? await ztV1LineageOf(source, options.signal) : undefined;
    if (lineage) return await ztV1Open(source, lineage, { ownsSource: owned, ...(options.maxManifestBytes !== undefined ? { maxManifestBytes: options.maxManifestBytes } : {}) });
    return await ztOpenSource(source, { ...options, ...(openShard ? { openShard } : {}), ownsSource: owned });
  } catch (error) {
    if (owned) await source.close?.();
    throw error;
  }
}

/**
 * The v1 lineage of a source, from its last and first 8 bytes. A file ending with the v2
 * magic is v2 whatever its start, so a remote file opened from its end is not asked for
 * its first bytes here.
 */
async function ztV1LineageOf(source: ByteSource, signal: AbortSignal | undefined): Promise<ZtV1Lineage | undefined> {
  const readOptions = signal ? { signal } : undefined;
  const tail = source.size >= 16 ? await source.read(source.size - 8, 8, readOptions) : undefined;
  if (tail && ZT_MAGIC.every((byte, i) => tail[i] === byte)) return undefined;
  const head = source.size >= 8 ? await source.read(0, 8, readOptions) : new Uint8Array(0);
  return ztV1Lineage(head, tail);
}

/**
 * The positional file name of shard `name` of root `location`: `<stem>-<name>.zt`.
 *
 * @example
 * ```ts
 * ztShardFileName('/m/model.zt', '00001'); // 'model-00001.zt'
 * ```
 */
export function ztShardFileName(location: string, name: string): string {
  const base = location.slice(location.replace(/\\/g, '/').lastIndexOf('/') + 1).split('?')[0]!;
  const stem = base.toLowerCase().endsWith('.zt') ? base.slice(0, -3) : base;
  return `${stem}-${name}.zt`;
}

/**
 * Opens a `.zt` of any version: v2 as a {@link ZtReader}, the v1 lineages (`ZTEN0001`,
 * `ZTEN1000`) as a {@link ZtV1Reader}. What the registry's `open` calls.
 *
 * @example
 * ```ts
 * await using reader = await ztOpenAnyVersion('old-model.zt'); // reader.metadata['zt.v1'] === 'v1.2'
 * ```
 */
export function ztOpenAnyVersion(input: SourceInput, options: ZtOpenOptions = {}): Promise<ZtReader | ZtV1Reader> {
  return openAs(input, options, true);
}

/** Opens a source as a {@link ZtReader}; see {@link ztOpen}. */
export async function ztOpenSource(source: ByteSource, options: ZtOpenOptions & { ownsSource?: boolean } = {}): Promise<ZtReader> {
  const { footer, manifest, startChecked } = await ztReadManifestFrom(source, options);
  // Parts of the root file are read through `root`: it checks the start magic on the way when open did not.
  const root = startChecked ? undefined : withLazyHeadCheck(source, { bytes: 8, reach: ZT_START_CHECK_REACH, check: ztCheckStartMagic });
  const shardSources = new Map<string, Promise<ByteSource>>();
  const sourceOf = (part: ZtPart, label: string): Promise<ByteSource> => {
    const shard = part.blob.shard;
    if (shard === undefined) return Promise.resolve(root ?? source);
    let opened = shardSources.get(shard);
    if (!opened) {
      if (!options.openShard) throw new TensioError('NOT_FOUND', `zt: ${label} lives in shard ${JSON.stringify(shard)}, and no shard can be opened beside this input (open the root by path or URL, or pass openShard)`, { format: 'zt' });
      opened = options.openShard(shard).then((shardSource) => {
        const expected = manifest!.shards.get(shard)!.size;
        if (BigInt(shardSource.size) !== expected) ztReject('ShardIdentity', `shard ${JSON.stringify(shard)} is ${shardSource.size} bytes, the manifest says ${expected}`);
        return shardSource;
      });
      shardSources.set(shard, opened);
    }
    return opened;
  };

  const tensors: TensorInfo[] = [];
  const unsupported: UnsupportedTensor[] = [];
  for (const [name, object] of manifest?.objects ?? []) {
    try {
      tensors.push(ztTensorInfo(name, object));
    } catch (error) {
      if (!(error instanceof TensioError)) throw error;
      unsupported.push({ name, formatDtype: object.layout, code: error.code, reason: error.message });
    }
  }
  const objectOf = (name: string): ZtObject => {
    const object = manifest?.objects.get(name);
    if (!object) throw new TensioError('NOT_FOUND', `zt: no object named ${JSON.stringify(name)}`, { format: 'zt' });
    return object;
  };
  const partOf = (name: string, partName: string): ZtPart => {
    const part = objectOf(name).parts.get(partName);
    if (!part) throw new TensioError('NOT_FOUND', `zt: object ${JSON.stringify(name)} has no part ${JSON.stringify(partName)}`, { format: 'zt' });
    return part;
  };
  const elementsOf = (object: ZtObject): bigint | undefined => (object.layout === ZT_LAYOUT_DENSE ? ztElementCount('', object.shape) : undefined);

  /** Where a part's decoded bytes are; content rules (bool, f4) make it a checked decode. */
  async function locatePartBytes(name: string, partName: string): Promise<TensorLocation> {
    const object = objectOf(name);
    const part = partOf(name, partName);
    const label = `${JSON.stringify(name)}/${JSON.stringify(partName)}`;
    const partSource = await sourceOf(part, label);
    const offset = Number(part.blob.offset);
    let location: TensorLocation;
    if (part.encoding === undefined) location = { kind: 'span', source: partSource, offset };
    else if (part.encoding === ZT_ENCODING_ZSTD) location = { kind: 'chunks', chunks: await ztZstdChunks(partSource, offset, Number(part.blob.length), Number(part.decodedLength), label) };
    else return { kind: 'decode', decode: () => ztUnsupported(`${label} is stored under the encoding ${JSON.stringify(part.encoding)}, which tensio cannot decode (its stored bytes stay addressable)`) };
    if (part.type === 'bool' || part.type === 'f4_e2m1') {
      const inner = location;
      const length = Number(ztDecodedSize(part));
      return {
        kind: 'decode',
        async decode(signal, options) {
          const bytes = await readLocation(inner, length, signal, options?.copy === true);
          ztCheckContent(label, part, bytes, elementsOf(object));
          return bytes;
        },
      };
    }
    return location;
  }

  async function readLocation(location: TensorLocation, length: number, signal?: AbortSignal, copy = false): Promise<Uint8Array> {
    const reader = createTensorReader({ format: 'zt', size: length, metadata: {}, tensors: [{ name: 'bytes', dtype: 'uint8', shape: [length], byteLength: length }], locate: () => location });
    return (await reader.read('bytes', { ...(signal ? { signal } : {}), copy })).data;
  }

  async function readDecoded(name: string, partName: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const part = partOf(name, partName);
    return readLocation(await locatePartBytes(name, partName), Number(ztDecodedSize(part)), options.signal);
  }

  const reader = createTensorReader({
    format: 'zt',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: {
      ...(manifest?.attributes !== undefined ? (manifest.attributes as Record<string, unknown>) : {}),
      ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}),
    },
    tensors,
    locate: (info) => locatePartBytes(info.name, 'data'), // dense and gguf.* objects: their one part
    locatePart: (info, part) => locatePartBytes(info.name, part.name),
    close: async () => {
      for (const opened of shardSources.values()) await opened.then((s) => s.close?.(), () => undefined);
      if (options.ownsSource) await source.close?.();
    },
  });

  const metadataTypes = ztFloatMarksOf(manifest?.attributesCbor as CborValue | undefined);
  return Object.assign(reader, {
    manifest,
    // Whole-number float attributes (1.0), which plain metadata cannot tell from integers.
    ...(metadataTypes ? { metadataTypes } : {}),
    openShardSource: (shard: string) => {
      if (!manifest?.shards.has(shard)) throw new TensioError('NOT_FOUND', `zt: no shard ${JSON.stringify(shard)} in the manifest`, { format: 'zt' });
      return sourceOf({ dtype: 'u8', blob: { offset: 0n, length: 0n, shard } }, `shard ${JSON.stringify(shard)}`);
    },
    footer,
    dataShard: footer.kind === 'data-shard',
    checkStart: async (checkOptions: { signal?: AbortSignal } = {}) => root?.ensureChecked(checkOptions.signal ? { signal: checkOptions.signal } : undefined),
    async view(name: string, partName: string, viewOptions: { signal?: AbortSignal } = {}) {
      const part = partOf(name, partName);
      const label = `${JSON.stringify(name)}/${JSON.stringify(partName)}`;
      if (part.encoding !== undefined) ztUnsupported(`${label} is stored under ${JSON.stringify(part.encoding)}: an encoded part has no zero-copy view (read it decoded)`);
      const partSource = await sourceOf(part, label);
      // A local file: a view over a memory mapping when the addon is in use (parts sit on 4 KiB
      // boundaries, so the mapping needs no adjustment). Bytes in memory: bytesSource.read
      // returns a view of the caller's buffer. Otherwise (HTTP, no addon) the bytes are read.
      const mapped = partSource.map?.(Number(part.blob.offset), Number(part.blob.length));
      if (mapped) return mapped.bytes;
      return partSource.read(Number(part.blob.offset), Number(part.blob.length), viewOptions.signal ? { signal: viewOptions.signal } : undefined);
    },
    readDecoded,
    async verifyPart(name: string, partName: string, verifyOptions: { signal?: AbortSignal } = {}) {
      const part = partOf(name, partName);
      const bytes = await readDecoded(name, partName, verifyOptions);
      ztCheckContent(`${JSON.stringify(name)}/${JSON.stringify(partName)}`, part, bytes, elementsOf(objectOf(name)));
      if (part.digest === undefined) return false;
      const hasher = ztHasher(ztDigestAlgorithmOf(part.digest));
      hasher.update(bytes);
      const actual = hasher.digest();
      if (actual !== part.digest) ztReject('Digest', `${JSON.stringify(name)}/${JSON.stringify(partName)}: digest is ${actual}, the manifest says ${part.digest}`);
      return true;
    },
    async readCsr(name: string, csrOptions: { signal?: AbortSignal } = {}): Promise<ZtCsr> {
      const object = objectOf(name);
      if (object.layout !== ZT_LAYOUT_CSR) throw new TensioError('INVALID_ARGUMENT', `zt: ${JSON.stringify(name)} is ${object.layout}, not ${ZT_LAYOUT_CSR}`, { format: 'zt' });
      const width = ZT_STORAGE_DTYPES[partOf(name, 'indices').dtype]!.width;
      const indptr = ztIndexArray(await readDecoded(name, 'indptr', csrOptions), width);
      const indices = ztIndexArray(await readDecoded(name, 'indices', csrOptions), width);
      const rows = Number(object.shape[0]);
      ztCheckCsrData(name, rows, object.shape[1]!, indptr, indices);
      const values = await readDecoded(name, 'values', csrOptions);
      return { shape: [rows, Number(object.shape[1])], indptr, indices, values, valuesDtype: partView(partOf(name, 'values')).dtype };
    },
  }) as ZtReader;
}

/** A part as tensio sees it: dtype, 1-D shape, byte length, the format's own type name. */
function partView(part: ZtPart): { dtype: DType; shape: number[]; byteLength: number; formatDtype: string } {
  const byteLength = safeNumber(ztDecodedSize(part), 'part size');
  const formatDtype = part.type ?? part.dtype;
  const logical = part.type === undefined ? undefined : ZT_LOGICAL_TYPES[part.type];
  if (part.type === undefined) {
    const width = ZT_STORAGE_DTYPES[part.dtype]!.width;
    if (byteLength % width === 0) return { dtype: ZT_STORAGE_DTYPES[part.dtype]!.dtype, shape: [byteLength / width], byteLength, formatDtype };
  } else if (logical && part.type !== 'f4_e2m1') {
    const unit = Number(logical.size(1n));
    if (byteLength % unit === 0) return { dtype: logical.dtype, shape: [byteLength / unit], byteLength, formatDtype };
  }
  // f4 element counts and unregistered types are not known from the bytes: raw bytes.
  return { dtype: 'uint8', shape: [byteLength], byteLength, formatDtype };
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TensioError('SIZE_OVERFLOW', `zt: ${what} ${value} is beyond 2^53`, { format: 'zt' });
  return Number(value);
}

/**
 * The model's {@link TensorInfo} of one object: dense objects as plain tensors (a
 * registered logical type as its tensio dtype, an unregistered one `opaque`), CSR and
 * COO as the seam's sparse layouts, any other layout (quant_group, mx, gguf.*, unknown)
 * as `other` with every part readable.
 */
export function ztTensorInfo(name: string, object: ZtObject): TensorInfo {
  const shape = object.shape.map((dim) => safeNumber(dim, `dimension of ${JSON.stringify(name)}`));
  const parts = [...object.parts].map(([partName, part]) => ({ partName, part, view: partView(part) }));
  const attributeFloats = object.attributesCbor === undefined ? undefined : ztFloatMarks(object.attributesCbor as CborValue);
  const extras = {
    layout: object.layout,
    ...(object.attributes !== undefined ? { attributes: object.attributes } : {}),
    ...(attributeFloats !== undefined ? { attributeFloats } : {}),
    parts: Object.fromEntries(parts.map(({ partName, part }) => [partName, {
      dtype: part.dtype,
      ...(part.type !== undefined ? { type: part.type } : {}),
      offset: Number(part.blob.offset),
      length: Number(part.blob.length),
      ...(part.blob.shard !== undefined ? { shard: part.blob.shard } : {}),
      ...(part.encoding !== undefined ? { encoding: part.encoding, decodedLength: Number(part.decodedLength) } : {}),
      ...(part.digest !== undefined ? { digest: part.digest } : {}),
    }])),
  };
  if (object.layout === ZT_LAYOUT_DENSE) {
    const part = object.parts.get('data')!;
    const byteLength = safeNumber(ztDecodedSize(part), 'part size');
    const count = ztElementCount(name, object.shape);
    let dtype: DType = 'opaque';
    if (part.type === undefined) dtype = ZT_STORAGE_DTYPES[part.dtype]!.dtype;
    else if (ZT_LOGICAL_TYPES[part.type] && !(part.type === 'f4_e2m1' && count % 2n === 1n)) dtype = ZT_LOGICAL_TYPES[part.type]!.dtype;
    return { name, dtype, shape, byteLength, formatDtype: part.type ?? part.dtype, extras };
  }
  const gguf = /^gguf\.([a-z0-9_]+)\/1$/.exec(object.layout);
  if (gguf && gguf[1]! in BLOCK_DTYPE_INFO) {
    // ggml blocks of a type tensio knows: a plain tensor of the block dtype (blocks pass through unchanged).
    const block = BLOCK_DTYPE_INFO[gguf[1] as BlockDType];
    const attributes = (object.attributes ?? {}) as Record<string, unknown>;
    if (attributes.elems_per_block === block.elementsPerBlock && attributes.block_bytes === block.bytesPerBlock) {
      return { name, dtype: gguf[1] as BlockDType, shape, byteLength: safeNumber(ztDecodedSize(object.parts.get('data')!), 'part size'), formatDtype: object.layout, extras };
    }
  }
  const partInfos: TensorPartInfo[] = parts.map(({ partName, view }) => ({ name: partName, dtype: view.dtype, shape: view.shape, byteLength: view.byteLength, formatDtype: view.formatDtype }));
  const byteLength = partInfos.reduce((sum, part) => sum + part.byteLength, 0);
  const other: TensorInfo = { name, dtype: 'opaque', shape, byteLength, formatDtype: object.layout, extras, layout: { kind: 'other', name: object.layout, ...(object.attributes !== undefined ? { attributes: object.attributes as Record<string, unknown> } : {}) }, parts: partInfos };
  const quantized = ztQuantizedLayout(object);
  if (quantized) {
    // zt.quant_group/1 and zt.mx/1 (validated at open): the seam's typed layouts, float32 once dequantized.
    const typed: TensorInfo = { ...other, dtype: 'float32', layout: quantized };
    try {
      checkMultiPartInfo(typed, 'zt');
      return typed;
    } catch {
      return other;
    }
  }
  let layout: TensorLayout | undefined;
  if (object.layout === ZT_LAYOUT_CSR) layout = { kind: 'sparse_csr' };
  else if (object.layout === ZT_LAYOUT_COO) {
    layout = { kind: 'sparse_coo' };
    const coords = partInfos.find((part) => part.name === 'coords');
    if (coords && shape.length > 0) {
      const index = partInfos.indexOf(coords);
      partInfos[index] = { ...coords, shape: [shape.length, coords.shape[0]! / shape.length] };
    }
  }
  if (layout) {
    const values = partInfos.find((part) => part.name === 'values');
    const sparse: TensorInfo = { ...other, dtype: values?.dtype ?? 'opaque', formatDtype: object.layout, layout, parts: partInfos };
    try {
      checkMultiPartInfo(sparse, 'zt');
      return sparse;
    } catch {
      return other; // values of a type tensio cannot hold as a sparse tensor: the parts stay readable
    }
  }
  return other;
}

const ZT_WORD_DTYPES: Record<string, DType> = { u8: 'uint8', u16: 'uint16', u32: 'uint32', u64: 'uint64' };

/**
 * The typed seam layout of a `zt.quant_group/1` or `zt.mx/1` object (its attributes
 * were checked at open by the validator), keeping the attribute map as read.
 */
function ztQuantizedLayout(object: ZtObject): QuantGroupLayout | MxLayout | undefined {
  const a = (object.attributes ?? {}) as Record<string, unknown>;
  if (object.layout === ZT_LAYOUT_MX) {
    const data = object.parts.get('data')!;
    const elements = data.type === undefined ? 'int8' : ZT_LOGICAL_TYPES[data.type]?.dtype;
    if (elements !== 'int8' && elements !== 'float4_e2m1' && elements !== 'float8_e4m3fn' && elements !== 'float8_e5m2') return undefined;
    return { kind: 'mx', blockSize: a.block_size as number, axis: (a.axis ?? object.shape.length - 1) as number, elements, attributes: a };
  }
  if (object.layout !== ZT_LAYOUT_QUANT_GROUP) return undefined;
  const packing = a.packing as { word: string; order: 'lsb_first' | 'msb_first' };
  const zero = a.zero_point as Record<string, unknown>;
  const zeroPoint = zero.form === 'implied' ? { form: 'implied' as const, value: Number(zero.value) }
    : zero.form === 'tensor' ? { form: 'tensor' as const, packing: zero.packing as 'same_as_data' | 'plain' }
      : { form: 'none' as const };
  if (zeroPoint.form === 'implied' && !Number.isFinite(zeroPoint.value)) return undefined;
  return {
    kind: 'quant_group',
    bits: a.bits as number,
    groupSize: a.group_size as number,
    axis: a.axis as number,
    packing: { word: ZT_WORD_DTYPES[packing.word]!, order: packing.order },
    scaleForm: a.scale_form as QuantGroupLayout['scaleForm'],
    zeroPoint,
    attributes: a,
  };
}
