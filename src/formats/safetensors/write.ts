/**
 * Writing safetensors exactly as the reference `serialize` does: tensors sorted by dtype
 * alignment (descending) then name, compact JSON with `__metadata__` first, header
 * padded with spaces to a multiple of 8. Data goes out as the caller's own buffers.
 */
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { tensorByteLength } from '../../core/sizes.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import type { Tensor } from '../../core/tensor.js';
import type { TensorSpec } from '../../model/types.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { openWriteSink } from '../../storage/write-target.js';
import { safetensorsFormatCrc32, safetensorsIsCrc32Key, safetensorsCrc32Key, safetensorsCrc32Update, SAFETENSORS_CRC32_PLACEHOLDER } from './checksum.js';
import { SAFETENSORS_METADATA_KEY, safetensorsDtypeName, safetensorsDtypeRank } from './types.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('safetensors');
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const ABOVE_SURROGATES = /[\ud800-\uffff]/;

function compareNames(a: { name: string; key: Buffer | undefined }, b: { name: string; key: Buffer | undefined }): number {
  if (a.key === undefined && b.key === undefined) return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return Buffer.compare(a.key ?? Buffer.from(a.name, 'utf8'), b.key ?? Buffer.from(b.name, 'utf8'));
}

/** One tensor's place in a planned file. */
export interface SafetensorsLayoutEntry extends TensorSpec {
  readonly formatDtype: string;
  /** `[begin, end)` relative to the data buffer. */
  readonly begin: number;
  readonly end: number;
  readonly byteLength: number;
}

/** A planned file: the header bytes and where every tensor goes. */
export interface SafetensorsLayout {
  /** The first `8 + N` bytes of the file. */
  readonly header: Uint8Array;
  readonly dataStart: number;
  /** Tensors in file order. */
  readonly entries: readonly SafetensorsLayoutEntry[];
  /** Total file size. */
  readonly fileSize: number;
  /** Absolute file offset of each tensor's 8 CRC32 hex digits (when CRCs are on). */
  readonly crc32Offsets: ReadonlyMap<string, number>;
}

/** Options for {@link safetensorsPlanLayout}. */
export interface SafetensorsLayoutOptions {
  /** `__metadata__`; omitted from the header when undefined (an empty object is written as `{}`, as the reference does). */
  metadata?: Readonly<Record<string, string>>;
  /** Reserve `crc32:<name>` metadata entries: `true` for placeholders, or the known values. */
  crc32?: boolean | ReadonlyMap<string, number>;
  /** Keep the plan's order instead of the reference order (tensors may then be unaligned). */
  preserveOrder?: boolean;
  /** Largest header written (the reference reader refuses more than 100 MB). */
  maxHeaderBytes?: number;
  /**
   * Spaces reserved after the header's JSON (the header length then rounded up to 8), so
   * that `tensio edit` can later grow `__metadata__` in place, without moving the data.
   * The spec allows trailing spaces inside the header length; every reader trims them.
   */
  headerReserve?: number;
}

/**
 * Checks a plan and lays the file out: order, offsets, header bytes.
 * Throws `INVALID_NAME`, `RESERVED_NAME`, `DUPLICATE_NAME`, `UNSUPPORTED_DTYPE`,
 * `INVALID_SHAPE`, `SIZE_MISMATCH`, `INVALID_METADATA` or `HEADER_TOO_LARGE`.
 *
 * @example
 * ```ts
 * const layout = safetensorsPlanLayout([{ name: 'w', dtype: 'float32', shape: [2, 2] }]);
 * layout.entries[0].begin; // 0
 * ```
 */
export function safetensorsPlanLayout(specs: readonly TensorSpec[], options: SafetensorsLayoutOptions = {}): SafetensorsLayout {
  const seen = new Set<string>();
  const planned = specs.map((spec) => {
    const { name, dtype, shape } = spec;
    if (typeof name !== 'string' || name === '' || LONE_SURROGATE.test(name)) fail('INVALID_NAME', `safetensors: tensor name ${quoteInput(name)} is empty or not valid Unicode`);
    if (name === SAFETENSORS_METADATA_KEY) fail('RESERVED_NAME', `safetensors: ${SAFETENSORS_METADATA_KEY} is reserved and cannot name a tensor`);
    if (seen.has(name)) fail('DUPLICATE_NAME', `safetensors: tensor name ${quoteInput(name)} appears twice`);
    seen.add(name);
    const formatDtype = safetensorsDtypeName(dtype);
    if (!formatDtype) fail('UNSUPPORTED_DTYPE', `safetensors: tensor ${quoteInput(name)} has dtype ${dtype}, which safetensors cannot hold`);
    const byteLength = planByteLength(dtype, shape);
    // UTF-16 order equals UTF-8 byte order (Rust's String order) unless surrogates meet U+E000..U+FFFF.
    const key = ABOVE_SURROGATES.test(name) ? Buffer.from(name, 'utf8') : undefined;
    return { name, dtype, shape: [...shape], formatDtype: formatDtype!, byteLength, key, rank: safetensorsDtypeRank(dtype) };
  });
  if (!options.preserveOrder) {
    planned.sort((a, b) => b.rank - a.rank || compareNames(a, b));
  }
  let offset = 0;
  const entries: SafetensorsLayoutEntry[] = planned.map((entry) => {
    const begin = offset;
    offset += entry.byteLength;
    return { name: entry.name, dtype: entry.dtype, shape: entry.shape, formatDtype: entry.formatDtype, byteLength: entry.byteLength, begin, end: offset };
  });

  const metadataEntries = checkMetadata(options.metadata, options.crc32 !== undefined && options.crc32 !== false);
  const parts: string[] = ['{'];
  let length = 1;
  const crcRelative = new Map<string, number>();
  const push = (text: string) => {
    parts.push(text);
    length += Buffer.byteLength(text, 'utf8');
  };
  if (options.metadata !== undefined || (options.crc32 !== undefined && options.crc32 !== false)) {
    push(`${JSON.stringify(SAFETENSORS_METADATA_KEY)}:{`);
    let first = true;
    for (const [key, value] of metadataEntries) {
      push(`${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`);
      first = false;
    }
    if (options.crc32) {
      const known = options.crc32 instanceof Map ? options.crc32 : undefined;
      for (const entry of entries) {
        push(`${first ? '' : ','}${JSON.stringify(safetensorsCrc32Key(entry.name))}:"`);
        crcRelative.set(entry.name, length);
        const value = known?.get(entry.name);
        push(`${value === undefined ? SAFETENSORS_CRC32_PLACEHOLDER : safetensorsFormatCrc32(value)}"`);
        first = false;
      }
    }
    push('}');
  }
  // Past the metadata no offsets are needed: one join, one length.
  const hasMetadata = parts.length > 1;
  const tensorJson = entries.map((entry) => `${JSON.stringify(entry.name)}:{"dtype":"${entry.formatDtype}","shape":[${entry.shape.join(',')}],"data_offsets":[${entry.begin},${entry.end}]}`).join(',');
  push(`${hasMetadata && entries.length > 0 ? ',' : ''}${tensorJson}}`);
  const reserve = options.headerReserve ?? 0;
  if (!Number.isSafeInteger(reserve) || reserve < 0) fail('INVALID_ARGUMENT', `safetensors: headerReserve must be a whole number of bytes >= 0, got ${String(reserve)}`);
  const reserved = length + reserve;
  const headerLength = reserved + ((8 - (reserved % 8)) % 8);
  const limit = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  if (headerLength > limit) fail('HEADER_TOO_LARGE', `safetensors: the header would take ${headerLength} bytes, over the limit ${limit} readers accept`);
  const header = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerLength), true);
  Buffer.from(header.buffer, 8, headerLength).write(parts.join(''), 0, 'utf8');
  const crc32Offsets = new Map<string, number>();
  for (const [name, relative] of crcRelative) crc32Offsets.set(name, 8 + relative);
  return { header, dataStart: 8 + headerLength, entries, fileSize: 8 + headerLength + offset, crc32Offsets };
}

/** Bytes of a planned tensor: Number math on the common path, the checked BigInt helper otherwise. */
function planByteLength(dtype: TensorSpec['dtype'], shape: readonly number[]): number {
  let elements = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return tensorByteLength(dtype, shape, 'safetensors')!; // throws INVALID_SHAPE
    elements *= dim;
  }
  const bits = elements * DTYPE_INFO[dtype].bits;
  if (bits > Number.MAX_SAFE_INTEGER || bits % 8 !== 0) return tensorByteLength(dtype, shape, 'safetensors')!; // throws
  return bits / 8;
}

function checkMetadata(metadata: Readonly<Record<string, string>> | undefined, dropCrcKeys: boolean): [string, string][] {
  if (metadata === undefined) return [];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) fail('INVALID_METADATA', 'safetensors: metadata must be an object of strings');
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') fail('INVALID_METADATA', `safetensors: metadata value of ${quoteInput(key)} must be a string, got ${typeof value}`);
    if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) fail('INVALID_METADATA', `safetensors: metadata entry ${quoteInput(key)} is not valid Unicode`);
    if (dropCrcKeys && safetensorsIsCrc32Key(key)) continue; // stale CRCs from an input file; fresh ones are written
    out.push([key, value]);
  }
  return out;
}

/** Tensors to write: a record or a map from name to tensor. */
export type SafetensorsTensors = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

/** Options for {@link safetensorsSerialize} and {@link safetensorsWrite}. */
export interface SafetensorsWriteOptions {
  metadata?: Readonly<Record<string, string>>;
  /** Record a CRC32 of each tensor in `__metadata__` (`crc32:<name>`). Default false. */
  crc32?: boolean;
  /** Replace an existing file (path targets only). Default true. */
  overwrite?: boolean;
  signal?: AbortSignal;
}

function entriesOf(tensors: SafetensorsTensors): [string, Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, Tensor>);
}

function prepare(tensors: SafetensorsTensors, options: SafetensorsWriteOptions): { layout: SafetensorsLayout; byName: Map<string, Tensor> } {
  const list = entriesOf(tensors);
  const byName = new Map(list);
  const layout = safetensorsPlanLayout(list.map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })), {
    ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    ...(options.crc32 ? { crc32: new Map(list.map(([name, tensor]) => [name, safetensorsCrc32Update(0, tensor.data)])) } : {}),
  });
  for (const entry of layout.entries) {
    const data = byName.get(entry.name)!.data;
    if (data.byteLength !== entry.byteLength) {
      fail('SIZE_MISMATCH', `safetensors: tensor ${quoteInput(entry.name)} (${entry.dtype}, shape [${entry.shape.join(', ')}]) needs ${entry.byteLength} bytes, got ${data.byteLength}`);
    }
  }
  return { layout, byName };
}

/**
 * Serializes tensors to safetensors bytes in memory, byte-identical to the reference
 * `safetensors.serialize` (and `safetensors.numpy.save`) for the same input.
 *
 * @example
 * ```ts
 * const bytes = safetensorsSerialize({ w: createTensor('float32', [2], new Float32Array([1, 2])) }, { metadata: { format: 'pt' } });
 * ```
 */
export function safetensorsSerialize(tensors: SafetensorsTensors, options: Omit<SafetensorsWriteOptions, 'overwrite' | 'signal'> = {}): Uint8Array {
  const { layout, byName } = prepare(tensors, options);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.header, 0);
  for (const entry of layout.entries) out.set(byName.get(entry.name)!.data, layout.dataStart + entry.begin);
  return out;
}

/**
 * Writes tensors as a safetensors file (atomically, for a path) or into a sink. The
 * tensors' own buffers are written one after another; nothing is concatenated.
 *
 * @example
 * ```ts
 * await safetensorsWrite('model.safetensors', { 'lm_head.weight': weight }, { metadata: { format: 'pt' } });
 * ```
 */
export async function safetensorsWrite(target: string | ByteSink, tensors: SafetensorsTensors, options: SafetensorsWriteOptions = {}): Promise<void> {
  const { layout, byName } = prepare(tensors, options);
  const sink = typeof target === 'string' ? await openWriteSink(target, { noOverwrite: options.overwrite === false }) : target;
  try {
    await sink.write(layout.header);
    for (const entry of layout.entries) {
      throwIfAborted(options.signal);
      const data = byName.get(entry.name)!.data;
      if (data.byteLength > 0) await sink.write(data);
    }
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
