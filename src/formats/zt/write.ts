/**
 * Writing zTensor v2. Tensors arrive one by one (in bytewise name order, the canonical
 * blob order) and stream straight to the sink; the manifest and footer go at the end,
 * so nothing is patched and any sink works. Canonical form by default: 64 KiB
 * placement packed from 65536, blobs by name, identical content stored once, an xxh3
 * digest on every part, NFC names, raw parts, no shards — the same tensors give the
 * same bytes. Options: zstd-seekable compression, another alignment, sha256 or no
 * digests, file attributes (all but the last make the file non-canonical).
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { tensorByteLength } from '../../core/sizes.js';
import { bytesEqual } from '../../core/bytes.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import type { Metadata, TensorInfo, TensorSpec, TensorWriter } from '../../model/types.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { fileSource } from '../../storage/file-source.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { cborDecodeStrict, cborEncodeCanonical, CborFloat, CborMap } from './cbor.js';
import { ztReadManifestFrom } from './reader.js';
import { ZT_VALUE_TYPES_KEY, ztRecordedFloatMarks, ztWithFloatMarks } from './float-marks.js';
import { ztHasher, ztXxh3, type ZtDigestAlgorithm } from './digest.js';
import { ztCheckName } from './names.js';
import { ztCannotWrite, ztLayoutAttributes, ztLayoutName, ztPartStorage, ztStorageOf } from './dtypes.js';
import { ZT_ALIGN_CANONICAL, ZT_ALIGN_FLOOR, ZT_ENCODING_ZSTD, ZT_FOOTER_BYTES, ZT_MAGIC, ZT_VERSION, ztCompareNames } from './types.js';
import { byteSplitter } from '../../storage/byte-splitter.js';
import { ztZstdEncoder } from './zstd-seekable.js';

/** Options of the zTensor writer (`formatOptions` of `convert`). */
export interface ZtWriteOptions {
  /**
   * Canonical form (default: true unless `compress`, `align` or `digest` other than
   * xxh3 is given, which make the file non-canonical). Asking for canonical together
   * with one of those is `INVALID_ARGUMENT`.
   */
  canonical?: boolean;
  /** Blob alignment, a power of two ≥ 4096 (default 65536; 4096 with `compress`). */
  align?: number;
  /** Store every part as `zt.zstd-seekable/1` (true for level 3 and 1 MiB frames). */
  compress?: boolean | { level?: number; frameBytes?: number };
  /** Digest on every part: `'xxh3'` (default), `'sha256'` or `'none'`. */
  digest?: ZtDigestAlgorithm | 'none';
  /**
   * Largest tensor checked for repeating an earlier blob of the same length (dedup). The
   * check holds nothing in memory: a tensor's chunks are compared with the earlier blobs
   * (read back from the temporary file) as they arrive, and written only once no blob
   * still matches. Default: no limit (canonical form stores identical content once); 0
   * turns dedup off.
   */
  dedupMaxBytes?: number;
  /**
   * Append to the existing `.zt` at the target path as a new generation: its bytes are
   * copied into the new file (published atomically, so a crash leaves the previous
   * generation), the new blobs and a manifest naming old and new objects follow, and the
   * old manifest stays behind as an unreferenced blob. Alignment defaults to the file's.
   * Never canonical. A name already in the file is `DUPLICATE_NAME`.
   */
  append?: boolean;
  signal?: AbortSignal;
}

/** What a conversion tells the writer about its input (see the model's writer options). */
export interface ZtSourceOptions {
  /** The input's format: from `'zt'`, object attributes and their float marks are carried over. */
  sourceFormat?: string;
  /** The input's tensors (their `extras.attributes` and `extras.attributeFloats`). */
  sourceTensors?: readonly TensorInfo[];
}

interface WrittenBlob {
  readonly offset: number;
  readonly length: number;
}

interface PlannedObject {
  readonly spec: TensorSpec;
  readonly name: string;
  readonly byteLength: number;
  part?: Record<string, unknown>;
}

const ZEROS = new Uint8Array(ZT_ALIGN_CANONICAL);
/** Bytes read back at a time when the writer copies from its own temporary file. */
const COPY_BYTES = 8 * 2 ** 20;
/** Bytes compared first when a tensor is checked against an earlier blob (most differ there). */
const FIRST_COMPARE_BYTES = 4096;

/** Whether `chunk` equals the blob's bytes at `at` (within the blob), read back from the file. */
async function sameAsStored(source: ByteSource, blob: WrittenBlob, at: number, chunk: Uint8Array): Promise<boolean> {
  if (at + chunk.length > blob.length) return false;
  const head = Math.min(FIRST_COMPARE_BYTES, chunk.length);
  if (!bytesEqual(await source.read(blob.offset + at, head), chunk.subarray(0, head))) return false;
  return head === chunk.length || bytesEqual(await source.read(blob.offset + at + head, chunk.length - head), chunk.subarray(head));
}

/**
 * A streaming zTensor writer over a plan; `add` in `writer.order` (bytewise name order).
 *
 * @example
 * ```ts
 * const writer = await ztCreateWriter('model.zt', { tensors: plan });
 * for (const name of writer.order) await writer.add(name, bytesOf(name));
 * await writer.close();
 * ```
 */
export async function ztCreateWriter(target: WriteTarget, options: { tensors: readonly TensorSpec[]; metadata?: Metadata; overwrite?: boolean } & ZtSourceOptions & ZtWriteOptions): Promise<TensorWriter> {
  const compress = options.compress === true ? {} : options.compress || undefined;
  const digest = options.digest ?? 'xxh3';
  const previous = options.append ? await ztPreviousGeneration(target) : undefined;
  const nonCanonicalBecause = [previous ? 'append' : '', compress ? 'compress' : '', options.align !== undefined ? 'align' : '', digest !== 'xxh3' ? `digest ${digest}` : ''].filter(Boolean);
  if (options.canonical === true && nonCanonicalBecause.length > 0) {
    throw new TensioError('INVALID_ARGUMENT', `zt: canonical form cannot have ${nonCanonicalBecause.join(', ')} (canonical parts are raw, at 64 KiB, with xxh3 digests)`, { format: 'zt' });
  }
  // Compressed files are never canonical; like the reference's save_file(compression=True) they pack at the 4 KiB floor.
  const align = options.align ?? previous?.align ?? (compress ? ZT_ALIGN_FLOOR : ZT_ALIGN_CANONICAL);
  if (!Number.isInteger(align) || align < ZT_ALIGN_FLOOR || (align & (align - 1)) !== 0 || align > 2 ** 30) {
    throw new TensioError('INVALID_ARGUMENT', `zt: alignment ${align} must be a power of two from ${ZT_ALIGN_FLOOR} to 2^30`, { format: 'zt' });
  }
  const dedupMax = options.dedupMaxBytes ?? Number.POSITIVE_INFINITY;
  const attributes = options.metadata ? ztAttributesFrom(options.metadata) : undefined;
  const objectAttributes = ztObjectAttributes(options);

  // NFC names, bytewise order, no two tensors under one name after normalising.
  const planned: PlannedObject[] = [];
  const byName = new Map<string, PlannedObject>();
  for (const spec of options.tensors) {
    const why = ztCannotWrite(spec);
    if (why) throw new TensioError('UNSUPPORTED_DTYPE', `zt: cannot hold ${JSON.stringify(spec.name)}: ${why}`, { format: 'zt' });
    const name = spec.name.normalize('NFC');
    if (byName.has(name)) throw new TensioError('DUPLICATE_NAME', `zt: ${JSON.stringify(spec.name)} and ${JSON.stringify(byName.get(name)!.spec.name)} are the same name in NFC [NameCollision]`, { format: 'zt' });
    const object: PlannedObject = { spec, name, byteLength: spec.parts ? spec.parts.reduce((sum, part) => sum + part.byteLength, 0) : tensorByteLength(spec.dtype, spec.shape, 'zt') ?? 0 };
    byName.set(name, object);
    planned.push(object);
  }
  planned.sort((a, b) => ztCompareNames(a.name, b.name));

  const sink: ByteSink = await openWriteSink(target, { noOverwrite: options.overwrite === false && !previous, format: 'zt' });
  const readBackPath = (sink as { temporaryPath?: string }).temporaryPath;
  /** Raw blobs written so far, by length: the candidates a later tensor may repeat. */
  const writtenByLength = new Map<number, WrittenBlob[]>();
  const objectsOut = new Map<string, unknown>(previous?.objects ?? []);
  for (const object of planned) {
    if (objectsOut.has(object.name)) {
      await sink.abort();
      throw new TensioError('DUPLICATE_NAME', `zt: the file already holds ${JSON.stringify(object.name)}; an appended generation cannot repeat a name [NameCollision]`, { format: 'zt' });
    }
  }

  async function padTo(position: number): Promise<void> {
    while (sink.position < position) await sink.write(ZEROS.subarray(0, Math.min(ZEROS.length, position - sink.position)));
  }
  const alignUp = (position: number): number => Math.ceil(position / align) * align;

  /**
   * A raw tensor that may repeat an earlier blob of its length: each chunk is compared
   * with the same range of every earlier blob still matching (read back from the
   * temporary file; the first 4 KiB first, as most candidates differ there) and nothing
   * is written while one matches. When none does, the equal prefix is copied from the
   * last one standing and the tensor goes on as a new blob. Memory: one chunk.
   */
  async function writeDeduplicated(chunks: AsyncIterable<Uint8Array>, candidates: readonly WrittenBlob[], onChunk: (chunk: Uint8Array) => void, signal?: AbortSignal): Promise<{ offset: number; length: number; repeated: boolean }> {
    const source = await fileSource(readBackPath!);
    let live = candidates;
    let seen = 0;
    let offset: number | undefined;
    const startNewBlob = async (prefixFrom: WrittenBlob, prefixBytes: number): Promise<void> => {
      await padTo(alignUp(sink.position));
      offset = sink.position;
      for (let at = 0; at < prefixBytes; at += COPY_BYTES) await sink.write(await source.read(prefixFrom.offset + at, Math.min(COPY_BYTES, prefixBytes - at)));
    };
    try {
      for await (const chunk of chunks) {
        throwIfAborted(signal);
        onChunk(chunk);
        if (offset === undefined) {
          const survivors: WrittenBlob[] = [];
          for (const blob of live) if (await sameAsStored(source, blob, seen, chunk)) survivors.push(blob);
          if (survivors.length === 0) await startNewBlob(live[0]!, seen);
          else live = survivors;
        }
        if (offset !== undefined) await sink.write(chunk);
        seen += chunk.length;
      }
      // A stream shorter than the blobs is not a repeat (the planned writer then reports its size).
      if (offset === undefined && seen !== live[0]!.length) await startNewBlob(live[0]!, seen);
    } finally {
      await source.close?.();
    }
    if (offset === undefined) return { offset: live[0]!.offset, length: live[0]!.length, repeated: true };
    return { offset, length: sink.position - offset, repeated: false };
  }

  /** One raw or compressed blob from a byte stream: where it went, its decoded length, its digest. */
  async function writeBlob(chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<{ blob: [number, number]; decodedLength?: number; digest?: string }> {
    const hasher = digest === 'none' ? undefined : ztHasher(digest);
    await padTo(alignUp(sink.position));
    const offset = sink.position;
    let decoded = 0;
    const encoder = compress ? ztZstdEncoder(compress) : undefined;
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      hasher?.update(chunk);
      decoded += chunk.length;
      if (encoder) for (const frame of await encoder.add(chunk)) await sink.write(frame);
      else await sink.write(chunk);
    }
    if (encoder) for (const frame of await encoder.finish()) await sink.write(frame);
    const length = sink.position - offset;
    const at = length === 0 ? alignUp(Math.max(sink.position, align)) : offset;
    return { blob: [at, length], ...(encoder ? { decodedLength: decoded } : {}), ...(hasher ? { digest: hasher.digest() } : {}) };
  }

  /** A multi-part tensor: its parts arrive one after the other, each its own blob. */
  async function writeParts(spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    const object = byName.get(spec.name.normalize('NFC'))!;
    const split = byteSplitter(chunks);
    const parts = new Map<string, unknown>();
    for (const part of spec.parts!) {
      const storage = ztPartStorage(part)!;
      const written = await writeBlob(split.take(part.byteLength), signal);
      parts.set(part.name.normalize('NFC'), {
        dtype: storage.dtype,
        ...(storage.type !== undefined ? { type: storage.type } : {}),
        blob: written.blob,
        ...(written.decodedLength !== undefined ? { encoding: ZT_ENCODING_ZSTD, decoded_length: written.decodedLength } : {}),
        ...(written.digest ? { digest: written.digest } : {}),
      });
    }
    // Drain: the planned writer counts the bytes (too many is its SIZE_MISMATCH).
    await split.drain();
    const layout = spec.layout!;
    const layoutAttributes = ztLayoutAttributes(layout);
    // Sparse layouts have no typed attributes in the model: a .zt input's own are carried over.
    const attributes = objectAttributes(spec.name, layoutAttributes);
    objectsOut.set(object.name, { shape: spec.shape, layout: ztLayoutName(layout)!, ...(attributes !== undefined ? { attributes } : {}), parts });
  }

  async function writeTensor(spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    if (spec.parts) return writeParts(spec, chunks, signal);
    const object = byName.get(spec.name.normalize('NFC'))!;
    const storage = ztStorageOf(spec.dtype)!;
    const hasher = digest === 'none' ? undefined : ztHasher(digest);
    const xxh = digest === 'xxh3' ? hasher : ztHasher('xxh3');
    let blob: { offset: number; length: number };
    let decodedLength: number | undefined;
    // Only a tensor the length of a raw blob already written can repeat one.
    const candidates = !compress && readBackPath !== undefined && object.byteLength > 0 && object.byteLength <= dedupMax ? writtenByLength.get(object.byteLength) : undefined;
    const hash = (chunk: Uint8Array): void => {
      hasher?.update(chunk);
      if (xxh !== hasher) xxh?.update(chunk);
    };
    if (candidates) {
      const result = await writeDeduplicated(chunks, candidates, hash, signal);
      blob = { offset: result.offset, length: result.length };
      if (!result.repeated) candidates.push(blob);
    } else {
      await padTo(alignUp(sink.position));
      const offset = sink.position;
      if (compress) {
        const encoder = ztZstdEncoder(compress);
        let decoded = 0;
        for await (const chunk of chunks) {
          throwIfAborted(signal);
          hasher?.update(chunk);
          decoded += chunk.length;
          for (const frame of await encoder.add(chunk)) await sink.write(frame);
        }
        for (const frame of await encoder.finish()) await sink.write(frame);
        decodedLength = decoded;
      } else {
        for await (const chunk of chunks) {
          throwIfAborted(signal);
          hash(chunk);
          await sink.write(chunk);
        }
      }
      blob = { offset, length: sink.position - offset };
      if (!compress && blob.length > 0) writtenByLength.set(blob.length, [blob]);
    }
    // A zero-length blob needs an aligned offset too; it may sit anywhere (it overlaps nothing).
    if (blob.length === 0) blob = { offset: alignUp(Math.max(sink.position, align)), length: 0 };
    const part: Record<string, unknown> = {
      dtype: storage.dtype,
      ...(storage.type !== undefined ? { type: storage.type } : {}),
      blob: [blob.offset, blob.length],
      ...(decodedLength !== undefined ? { encoding: ZT_ENCODING_ZSTD, decoded_length: decodedLength } : {}),
      ...(hasher ? { digest: hasher.digest() } : {}),
    };
    const attributes = storage.attributes ?? objectAttributes(spec.name, undefined);
    objectsOut.set(object.name, {
      shape: spec.shape,
      layout: storage.layout ?? 'dense',
      ...(attributes !== undefined ? { attributes } : {}),
      parts: { data: part },
    });
  }

  async function publish(): Promise<void> {
    const mergedAttributes = previous?.attributes || attributes ? new Map([...(previous?.attributes ?? []), ...(attributes ?? [])]) : undefined;
    const manifest = cborEncodeCanonical({ objects: new Map(objectsOut), ...(previous?.shards ? { shards: previous.shards } : {}), ...(mergedAttributes ? { attributes: mergedAttributes } : {}) });
    await padTo(alignUp(Math.max(sink.position, align)));
    const manifestOffset = sink.position;
    await sink.write(manifest);
    await sink.write(ztFooterBytes(manifestOffset, manifest));
    await sink.close();
  }

  if (previous) {
    // The previous generation, byte for byte, into the new file (published atomically by the sink).
    const source = await fileSource(previous.path);
    try {
      const step = 8 * 2 ** 20;
      for (let at = 0; at < source.size; at += step) await sink.write(await source.read(at, Math.min(step, source.size - at)));
    } catch (error) {
      await sink.abort();
      throw error;
    } finally {
      await source.close?.();
    }
  } else {
    await sink.write(ZT_MAGIC);
  }
  return createPlannedWriter({
    format: 'zt',
    order: planned.map((object) => object.spec),
    writeTensor: (spec, chunks, signal) => writeTensor(spec, chunks, signal ?? options.signal),
    byteLength: (spec) => (spec.parts ? spec.parts.reduce((sum, part) => sum + part.byteLength, 0) : tensorByteLength(spec.dtype, spec.shape, 'zt')),
    publish,
    discard: () => sink.abort(),
  });
}

/**
 * The attributes an object is written with, as the CBOR encoder takes them: the given
 * ones (a layout's), else — from a `.zt` input — the input object's own (dense and
 * sparse objects have no attributes in the model); either with the input object's
 * whole-number floats made floats again (`float-marks.ts`). Undefined: none.
 */
export function ztObjectAttributes(options: ZtSourceOptions): (name: string, given: Readonly<Record<string, unknown>> | undefined) => unknown {
  const sourceExtras = new Map(options.sourceFormat === 'zt' ? (options.sourceTensors ?? []).map((info) => [info.name, info.extras ?? {}]) : []);
  return (name, given) => {
    const extras = sourceExtras.get(name);
    const attributes = given ?? extras?.attributes as Readonly<Record<string, unknown>> | undefined;
    return attributes === undefined ? undefined : ztWithFloatMarks(toCborValue(attributes, 0), extras?.attributeFloats);
  };
}

/**
 * File metadata as manifest attributes (undefined when none): keys must be valid names;
 * values that CBOR cannot carry (functions, symbols) are dropped; non-integral numbers
 * stay floats, and so do whole numbers that the float marks under `zt.value_types` name
 * (a `.zt` input's `1.0`). The marks key itself is not written.
 */
export function ztAttributesFrom(metadata: Metadata): Map<string, unknown> | undefined {
  const marks = ztRecordedFloatMarks(metadata);
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(metadata)) {
    if (key === ZT_VALUE_TYPES_KEY) continue;
    ztCheckName(key, 'attribute key');
    const converted = toCborValue(value, 0);
    if (converted !== undefined) out.set(key, ztWithFloatMarks(converted, marks[key]));
  }
  return out.size > 0 ? out : undefined;
}

function toCborValue(value: unknown, depth: number): unknown {
  if (depth > 30) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint' || value instanceof Uint8Array) return value;
  // Integers as CBOR integers; a whole number past 2^53 came from a float (the decoder gives bigints for big integers).
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : new CborFloat(value);
  if (Array.isArray(value)) return value.map((item) => toCborValue(item, depth + 1) ?? null);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (typeof value === 'object') {
    const map = new Map<string, unknown>();
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const converted = toCborValue(item, depth + 1);
      if (converted !== undefined) map.set(key, converted);
    }
    return map;
  }
  return undefined;
}

/**
 * The 40-byte footer of a generation whose manifest starts at `manifestOffset`: offset,
 * length and XXH3-64 of the manifest, the version, the magic.
 *
 * @example
 * ```ts
 * await sink.write(manifest);
 * await sink.write(ztFooterBytes(manifestOffset, manifest));
 * ```
 */
export function ztFooterBytes(manifestOffset: number, manifest: Uint8Array): Uint8Array {
  return ztFooterFields(manifestOffset, manifest.length, ztXxh3(manifest));
}

/**
 * The 40-byte footer from its fields (all zero for a data shard, which has no manifest).
 *
 * @example
 * ```ts
 * ztFooterFields(0, 0, 0n); // a data shard's footer
 * ```
 */
export function ztFooterFields(manifestOffset: number, manifestLength: number, hash: bigint): Uint8Array {
  const footer = new Uint8Array(ZT_FOOTER_BYTES);
  const view = new DataView(footer.buffer);
  view.setBigUint64(0, BigInt(manifestOffset), true);
  view.setBigUint64(8, BigInt(manifestLength), true);
  view.setBigUint64(16, hash, true);
  view.setUint32(24, ZT_VERSION, true);
  footer.set(ZT_MAGIC, 32);
  return footer;
}

/** What an appended generation keeps of the file before it. */
export interface ZtPreviousGeneration {
  readonly path: string;
  readonly objects: Array<[string, unknown]>;
  readonly shards?: Map<string, unknown>;
  readonly attributes?: Map<string, unknown>;
  /** The largest power of two (≥ 4096, ≤ 64 KiB) dividing every blob offset. */
  readonly align: number;
  /** Bytes of the current manifest. */
  readonly manifestBytes: number;
}

/**
 * The current generation of the `.zt` file at `target`: its objects, shards and
 * attributes as their own CBOR (so anything unknown survives), and its alignment.
 */
export async function ztPreviousGeneration(target: WriteTarget): Promise<ZtPreviousGeneration> {
  if (typeof target !== 'string') throw new TensioError('INVALID_ARGUMENT', 'zt: append needs the path of an existing .zt file', { format: 'zt' });
  const source = await fileSource(target);
  let footer;
  let manifest;
  let manifestBytes;
  try {
    ({ footer, manifest } = await ztReadManifestFrom(source));
    if (footer.kind === 'data-shard' || !manifest) throw new TensioError('UNSUPPORTED_FEATURE', `zt: ${target} is a data shard (no manifest); append to its root`, { format: 'zt' });
    manifestBytes = await source.read(Number(footer.offset), Number(footer.length));
  } finally {
    await source.close?.();
  }
  // Objects re-encoded from the manifest's own CBOR, so attributes and unknown fields survive exactly.
  const root = cborDecodeStrict(manifestBytes) as CborMap;
  const objectsValue = root.get('objects') as CborMap;
  const objects = objectsValue.entries.map(([key, value]) => [key as string, value] as [string, unknown]);
  const shardsValue = root.get('shards');
  const attributesValue = root.get('attributes');
  let align = ZT_ALIGN_CANONICAL;
  const offsets = [footer.offset, ...[...manifest.objects.values()].flatMap((object) => [...object.parts.values()].filter((part) => part.blob.shard === undefined && part.blob.length > 0n).map((part) => part.blob.offset))];
  while (align > ZT_ALIGN_FLOOR && offsets.some((offset) => offset % BigInt(align) !== 0n)) align /= 2;
  return {
    path: target,
    objects,
    ...(shardsValue instanceof CborMap ? { shards: new Map(shardsValue.entries.map(([k, v]) => [k as string, v])) } : {}),
    ...(attributesValue instanceof CborMap ? { attributes: new Map(attributesValue.entries.map(([k, v]) => [k as string, v])) } : {}),
    align,
    manifestBytes: manifestBytes.length,
  };
}
