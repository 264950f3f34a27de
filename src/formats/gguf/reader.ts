/**
 * The async shell over a {@link ByteSource}: reads the header in growing pieces (only
 * what it needs: a remote inspect fetches the header plus at most 2 MiB), parses it
 * with `read.ts`, and builds a {@link TensorReader}. Split models
 * (`-00001-of-00003.gguf`) open as one reader over every split.
 */
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { Metadata, TensorInfo, TensorReader } from '../../model/types.js';
import { readIntoFrom, toByteSource, type ByteInput, type ByteSource } from '../../storage/byte-source.js';
import { openSourceInput, siblingLocation, sourceOptionsOf, type RemoteOptions } from '../../storage/source-input.js';
import { dtypeOfGgmlType } from './ggml-types.js';
import { ggufValueTypesOf } from './value-types.js';
import { GgufNeedMore, ggufParseHeader } from './read.js';
import type { GgufArray, GgufHeader, GgufOpenOptions, GgufReadOptions, GgufTypedValue } from './types.js';
import { itemSize } from '../../core/dtype.js';
import { allocateUninitialized } from '../../core/memory.js';

const fail = errorFactory('gguf');

/** First header read (bytes); later reads add 256 KiB, doubling up to 2 MiB a step. */
const FIRST_READ_BYTES = 256 * 1024;
const MAX_STEP_BYTES = 2 * 2 ** 20;
const LOCAL_MAX_STEP_BYTES = 64 * 2 ** 20;

/** A GGUF {@link TensorReader} with the typed header(s) it was built from. */
export interface GgufReader extends TensorReader {
  /** The typed header of the (first) file: metadata types kept, tensor infos in ggml order. */
  readonly gguf: GgufHeader;
  /** Every split's header, in split order (one entry for a single file). */
  readonly splits: readonly GgufHeader[];
}

/**
 * Reads and parses the header of a GGUF source, growing its reads until the header fits:
 * the first read is 256 KiB (or `initialReadBytes`), each further one reads only the new
 * bytes, so the bytes fetched stay within the header size plus 2 MiB.
 *
 * @example
 * ```ts
 * const header = await ggufReadHeader(await fileSource('model.gguf'));
 * console.log(header.metadata.get('general.architecture'));
 * ```
 */
export async function ggufReadHeader(input: ByteInput, options: GgufReadOptions & { signal?: AbortSignal; initialReadBytes?: number } = {}): Promise<GgufHeader> {
  const source = toByteSource(input);
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  let have = Math.min(source.size, options.initialReadBytes ?? FIRST_READ_BYTES);
  let bytes = await source.read(0, have, readOptions);
  let step = have;
  for (;;) {
    try {
      return ggufParseHeader(bytes, source.size, options);
    } catch (error) {
      if (!(error instanceof GgufNeedMore)) throw error;
      throwIfAborted(options.signal);
      // Each miss re-parses from the start, so steps grow fast: 4× for a local file (reading
      // past the header costs little there), 2× up to 2 MiB for a remote one (bytes fetched
      // stay within the header + 2 MiB).
      step = source.cached ? Math.min(MAX_STEP_BYTES, Math.max(step * 2, 64 * 1024)) : Math.min(LOCAL_MAX_STEP_BYTES, step * 4);
      const next = Math.min(source.size, Math.max(error.bytes, have + step));
      if (next <= have) fail('TRUNCATED', `gguf: the header needs ${error.bytes} bytes but the file holds ${source.size}`);
      const grown = new Uint8Array(next);
      grown.set(bytes);
      await readIntoFrom(source, grown.subarray(have), have, readOptions);
      bytes = grown;
      have = next;
    }
  }
}

/**
 * A GGUF value as plain JavaScript: numbers (bigints for 64-bit integers), booleans,
 * strings, arrays as plain arrays (typed types are in the header, `reader.gguf`).
 */
export function ggufPlainValue(value: GgufTypedValue): unknown {
  return value.type === 'array' ? plainArray(value.value) : value.value;
}

function plainArray(array: GgufArray): unknown[] {
  if (array.itemType === 'array') return (array.items as GgufArray[]).map(plainArray);
  return Array.from(array.items as ArrayLike<unknown>);
}

/** Plain metadata of a header (see {@link ggufPlainValue}). */
export function ggufPlainMetadata(header: GgufHeader): Metadata {
  const out: Metadata = {};
  for (const [key, value] of header.metadata) out[key] = ggufPlainValue(value);
  return out;
}

/** The tensio infos of a header: NumPy shapes (`ne` reversed), dtypes, ggml names and ids. */
export function ggufTensorInfos(header: GgufHeader, extras: Record<string, unknown> = {}): TensorInfo[] {
  return header.tensors.map((tensor) => {
    const { dtype, name } = dtypeOfGgmlType(tensor.ggmlType);
    return {
      name: tensor.name,
      dtype,
      shape: [...tensor.ne].reverse(),
      byteLength: tensor.byteLength,
      formatDtype: name,
      formatDtypeId: tensor.ggmlType,
      extras: {
        ...extras,
        ggmlType: name,
        ne: tensor.ne,
        dataOffset: header.dataStart + tensor.offset,
        ...(tensor.byteLengthInferred ? { byteLengthInferred: true } : {}),
        ...(header.bigEndian ? { byteOrder: 'big' } : {}),
      },
    };
  });
}

/** Where a tensor's bytes are: a span, or for a big-endian file's multi-byte plain elements a byte-swapping decode. */
function locate(source: ByteSource, header: GgufHeader, info: TensorInfo): TensorLocation {
  const offset = info.extras!.dataOffset as number;
  const size = itemSize(info.dtype);
  if (!header.bigEndian || size === undefined || size === 1) return { kind: 'span', source, offset };
  return {
    kind: 'decode',
    async decode(signal) {
      const raw = allocateUninitialized(info.byteLength);
      await readIntoFrom(source, raw, offset, signal ? { signal } : undefined);
      for (let i = 0; i < raw.byteLength; i += size) {
        for (let a = i, b = i + size - 1; a < b; a++, b--) {
          const t = raw[a]!;
          raw[a] = raw[b]!;
          raw[b] = t;
        }
      }
      return raw;
    },
  };
}

const SPLIT_NAME = /-(\d{5})-of-(\d{5})\.gguf$/i;

/**
 * Opens GGUF from a source as a {@link GgufReader} (one file; splits are followed by
 * {@link ggufOpen} given a path or URL).
 */
export async function ggufOpenSource(source: ByteSource, options: GgufOpenOptions & { ownsSource?: boolean } = {}): Promise<GgufReader> {
  let header: GgufHeader;
  try {
    header = await ggufReadHeader(source, options);
  } catch (error) {
    if (options.ownsSource) await source.close?.();
    throw error;
  }
  const reader = createTensorReader({
    format: 'gguf',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: ggufPlainMetadata(header),
    tensors: ggufTensorInfos(header),
    locate: (info) => locate(source, header, info),
    ...(options.ownsSource ? { close: async () => { await source.close?.(); } } : {}),
  });
  return Object.assign(reader, { gguf: header, splits: [header], metadataTypes: ggufValueTypesOf(header.metadata) });
}

/**
 * Opens a GGUF file (path, `http(s)://` URL, source or bytes) as a {@link GgufReader}:
 * typed metadata, tensor infos in NumPy order, data read on request. A path or URL
 * named `…-0000k-of-0000n.gguf` opens every split of the model as one reader (unless
 * `followSplits: false`).
 *
 * @example
 * ```ts
 * await using reader = await ggufOpen('model-Q8_0.gguf');
 * reader.gguf.metadata.get('llama.context_length'); // { type: 'uint32', value: 4096 }
 * ```
 */
export async function ggufOpen(input: string | ByteInput, options: GgufOpenOptions & RemoteOptions = {}): Promise<GgufReader> {
  if (typeof input !== 'string') return ggufOpenSource(toByteSource(input), options);
  const openOne = async (location: string): Promise<ByteSource> => (await openSourceInput(location, sourceOptionsOf(options))).source;
  const split = SPLIT_NAME.exec(input);
  if (!split || options.followSplits === false || Number(split[2]) === 1) return ggufOpenSource(await openOne(input), { ...options, ownsSource: true });
  const count = Number(split[2]);
  const base = input.slice(input.lastIndexOf('/') + 1).replace(SPLIT_NAME, '');
  const sources: ByteSource[] = [];
  try {
    const headers: GgufHeader[] = [];
    for (let k = 1; k <= count; k++) {
      const name = `${base}-${String(k).padStart(5, '0')}-of-${split[2]}.gguf`;
      const source = await openOne(siblingLocation(input, name));
      sources.push(source);
      const header = await ggufReadHeader(source, options);
      const no = header.metadata.get('split.no');
      if (no && Number(no.value) !== k - 1) fail('INVALID_METADATA', `gguf: ${name} says split.no = ${String(no.value)}, expected ${k - 1}`);
      headers.push(header);
    }
    const declared = headers[0]!.metadata.get('split.count');
    if (declared && Number(declared.value) !== count) fail('INVALID_METADATA', `gguf: split.count is ${String(declared.value)} but the file names say ${count} splits`);
    const tensors: TensorInfo[] = [];
    const owner = new Map<string, number>();
    headers.forEach((header, k) => {
      for (const info of ggufTensorInfos(header, { split: k })) {
        if (owner.has(info.name)) fail('DUPLICATE_NAME', `gguf: tensor ${JSON.stringify(info.name)} is in split ${owner.get(info.name)! + 1} and split ${k + 1}`);
        owner.set(info.name, k);
        tensors.push(info);
      }
    });
    const declaredTensors = headers[0]!.metadata.get('split.tensors.count');
    if (declaredTensors && Number(declaredTensors.value) !== tensors.length) fail('INVALID_METADATA', `gguf: split.tensors.count is ${String(declaredTensors.value)} but the ${count} splits hold ${tensors.length} tensors`);
    const reader = createTensorReader({
      format: 'gguf',
      path: input,
      size: sources.reduce((sum, source) => sum + source.size, 0),
      metadata: ggufPlainMetadata(headers[0]!),
      tensors,
      locate: (info) => { const k = info.extras!.split as number; return locate(sources[k]!, headers[k]!, info); },
      close: async () => { for (const source of sources) await source.close?.(); },
    });
    return Object.assign(reader, { gguf: headers[0]!, splits: headers, metadataTypes: ggufValueTypesOf(headers[0]!.metadata) });
  } catch (error) {
    for (const source of sources) await source.close?.();
    throw error;
  }
}
