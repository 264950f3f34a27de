/**
 * Zarr codec pipelines: turning one stored chunk into its elements in tensio's layout
 * (little-endian, C order, the full chunk shape), and the reverse for the writer.
 *
 * Decoding is exact and bounded: every bytes→bytes stage knows how many bytes it must
 * produce (elements × item size of that stage), refuses more (`LIMIT_EXCEEDED`: a codec
 * bomb) and fewer (`SIZE_MISMATCH`). gzip/zlib run on `node:zlib` with an output cap;
 * blosc, lz4 and zstd frames declare their decoded size in their headers, which is
 * checked before anything is decoded. Blosc, lz4 and zstd encoding go through
 * numcodecs.js (the wasm builds of c-blosc, lz4 and zstd that zarrita uses), zstd
 * decoding through the system's libzstd in tensio's addon (`storage/native-zstd.ts`: into
 * a buffer of the chunk's size, never past it), else @mongodb-js/zstd (native) when the
 * frames' block headers bound them near the chunk's size, and otherwise a decoder that
 * stops at the chunk's end (`storage/zstd-frame.ts`); they are imported on first use only.
 */
import { promisify } from 'node:util';
import { deflate, gunzip, gzip, inflate } from 'node:zlib';
import type { DType } from '../../core/dtype.js';
import { itemSize } from '../../core/dtype.js';
import { TensioError } from '../../core/errors.js';
import { byteSwapInPlace } from '../../core/bytes.js';
import { unshuffleBytesInto } from '../../core/byte-shuffle.js';
import { allocateUninitialized } from '../../core/memory.js';
import { addonZstdDecoder } from '../../storage/native-zstd.js';
import { isZstdFrameProblem, zstdDeclaredSize, zstdDecodeExactly, zstdFrameFits, zstdFrameHeader } from '../../storage/zstd-frame.js';
import type { ZarrCodecSpec } from './types.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

/** Largest zlib output piece: bigger chunks are produced in pieces of this and joined (one copy). */
const ZLIB_PIECE_MAX = 16 * 2 ** 20;

/** zlib's output piece size for compressing `length` bytes: above deflate's bound, so the output of a chunk up to 16 MiB is one buffer. */
function deflateChunkSize(length: number): number {
  return Math.min(ZLIB_PIECE_MAX, Math.max(64, length + (length >>> 8) + 1024));
}

/** A decoder of one stored chunk into little-endian C-order bytes of the full chunk shape. */
export type ZarrChunkDecoder = (stored: Uint8Array) => Promise<Uint8Array>;

const V2_NAMES: Record<string, DType> = { i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', f2: 'float16', f4: 'float32', f8: 'float64', b1: 'bool' };

/** The tensio dtype a codec's `dtype`/`astype` names (`'<i2'` or `'int16'`); big-endian filter dtypes are refused. */
function codecDtype(what: string, value: unknown, fallback: DType): DType {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') {
    const v2 = /^([<|])([a-z]\d+)$/.exec(value);
    const found = v2 ? V2_NAMES[v2[2]!] : (['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'] as const).find((name) => name === value);
    if (found) return found;
  }
  throw new TensioError('UNSUPPORTED_FEATURE', `zarr: ${what} dtype ${JSON.stringify(value)} is not one tensio decodes (little-endian numeric only)`, { format: 'zarr' });
}

type Numeric = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

function typed(dtype: DType, bytes: Uint8Array): Numeric {
  const size = itemSize(dtype)!;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const count = Math.floor(aligned.byteLength / size);
  const { buffer, byteOffset } = aligned;
  switch (dtype) {
    case 'int8': return new Int8Array(buffer, byteOffset, count);
    case 'uint8': case 'bool': return new Uint8Array(buffer, byteOffset, count);
    case 'int16': return new Int16Array(buffer, byteOffset, count);
    case 'uint16': return new Uint16Array(buffer, byteOffset, count);
    case 'int32': return new Int32Array(buffer, byteOffset, count);
    case 'uint32': return new Uint32Array(buffer, byteOffset, count);
    case 'float32': return new Float32Array(buffer, byteOffset, count);
    case 'float64': return new Float64Array(buffer, byteOffset, count);
    case 'int64': return new BigInt64Array(buffer, byteOffset, count);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, count);
    default: throw new TensioError('UNSUPPORTED_FEATURE', `zarr: numeric filters on ${dtype} are not supported`, { format: 'zarr' });
  }
}

function bytesOf(array: Numeric): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Stored bytes longer or shorter than a stage must produce. */
function checkLength(name: string, produced: number, expected: number): void {
  if (produced > expected) throw new TensioError('LIMIT_EXCEEDED', `zarr: ${name} decodes to ${produced} bytes, more than the ${expected} the chunk holds (codec bomb?)`, { format: 'zarr' });
  if (produced < expected) throw new TensioError('SIZE_MISMATCH', `zarr: ${name} decodes to ${produced} bytes, the chunk holds ${expected}`, { format: 'zarr' });
}

// Heavy codec libraries, imported once on first use.
type NumcodecsCodec = { encode(data: Uint8Array): Promise<Uint8Array> | Uint8Array; decode(data: Uint8Array): Promise<Uint8Array> | Uint8Array };
let bloscModule: Promise<{ fromConfig(config: Record<string, unknown>): NumcodecsCodec }> | undefined;
let lz4Module: Promise<{ fromConfig(config: Record<string, unknown>): NumcodecsCodec }> | undefined;
let zstdEncoderModule: Promise<{ fromConfig(config: Record<string, unknown>): NumcodecsCodec }> | undefined;
let zstdModule: Promise<{ compress(data: Uint8Array, level?: number): Promise<Uint8Array>; decompress(data: Uint8Array): Promise<Uint8Array> }> | undefined;
const loadBlosc = () => (bloscModule ??= import('numcodecs/blosc').then((m) => m.default as never));
const loadLz4 = () => (lz4Module ??= import('numcodecs/lz4').then((m) => m.default as never));
const loadZstdEncoder = () => (zstdEncoderModule ??= import('numcodecs/zstd').then((m) => m.default as never));
const loadZstd = () => (zstdModule ??= import('@mongodb-js/zstd').then((m) => (m as unknown as { default?: unknown }).default as never ?? (m as never)));

/**
 * The decoded size a zstd chunk's frames declare (`storage/zstd-frame.ts`), or undefined
 * when they do not say; a chunk that does not open with a zstd frame header is refused.
 */
export function zstdFrameContentSize(frame: Uint8Array): number | undefined {
  const header = zstdFrameHeader(frame);
  if (isZstdFrameProblem(header)) {
    if (header.problem === 'magic') throw new TensioError('INVALID_HEADER', 'zarr: zstd chunk does not start with a zstd frame magic', { format: 'zarr' });
    throw new TensioError(header.problem === 'header-cut' ? 'TRUNCATED' : 'INVALID_HEADER', `zarr: zstd frame ${header.message}`, { format: 'zarr' });
  }
  return zstdDeclaredSize(frame);
}

/** Decodes one bytes→bytes stage producing exactly `expected` bytes. */
async function decodeBytesStage(codec: ZarrCodecSpec, input: Uint8Array, expected: number, elementSize: number): Promise<Uint8Array> {
  const { name, config } = codec;
  switch (name) {
    case 'gzip':
    case 'zlib': {
      let out: Uint8Array;
      try {
        // On the thread pool (read-ahead keeps several chunks decoding at once). The cap is
        // one byte past the expected size, so a longer stream shows as a bomb; one output
        // piece holds it all (up to 16 MiB), so nothing is joined.
        const limits = { maxOutputLength: Math.max(1, expected + 1), chunkSize: Math.min(ZLIB_PIECE_MAX, Math.max(64, expected + 1)) };
        out = await (name === 'gzip' ? gunzipAsync : inflateAsync)(input, limits);
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') throw new TensioError('LIMIT_EXCEEDED', `zarr: ${name} chunk decodes past the ${expected} bytes it holds (codec bomb?)`, { format: 'zarr', cause });
        throw new TensioError(code === 'Z_BUF_ERROR' ? 'TRUNCATED' : 'INVALID_HEADER', `zarr: cannot decode ${name} chunk: ${(cause as Error).message}`, { format: 'zarr', cause });
      }
      checkLength(name, out.byteLength, expected);
      return out;
    }
    case 'zstd': {
      const declared = zstdFrameContentSize(input);
      if (declared !== undefined) checkLength('zstd frame header', declared, expected);
      // The addon's libzstd decodes into a buffer of the chunk's size and stops at its end, so
      // a frame that does not declare its size cannot decode past the chunk (a bomb) either.
      const decodeInto = expected > 0 ? addonZstdDecoder() : undefined;
      if (decodeInto) {
        const into = allocateUninitialized(expected);
        const written = await decodeInto(input, into).catch((cause: unknown) => {
          const message = (cause as Error).message;
          if (/Destination buffer is too small/.test(message)) throw new TensioError('LIMIT_EXCEEDED', `zarr: zstd chunk decodes past the ${expected} bytes it holds (codec bomb?)`, { format: 'zarr', cause });
          throw new TensioError('INVALID_HEADER', `zarr: cannot decode zstd chunk: ${message}`, { format: 'zarr', cause });
        });
        checkLength('zstd', written, expected);
        return into;
      }
      // @mongodb-js/zstd takes no output limit: frames whose headers do not bound them near the
      // chunk's size (no content size and blocks that could decode past it) go to the decoder
      // that stops at the chunk's end.
      if (!zstdFrameFits(input, expected)) return zstdDecodeExactly(input, expected, 'zarr: zstd chunk', 'zarr');
      const out = await (await loadZstd()).decompress(input).catch((cause: unknown) => {
        throw new TensioError('INVALID_HEADER', `zarr: cannot decode zstd chunk: ${(cause as Error).message}`, { format: 'zarr', cause });
      });
      checkLength('zstd', out.byteLength, expected);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'lz4': {
      if (input.byteLength < 4) throw new TensioError('TRUNCATED', `zarr: lz4 chunk of ${input.byteLength} bytes has no size header`, { format: 'zarr' });
      const declared = new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true);
      checkLength('lz4 size header', declared, expected);
      const out = await decodeWith((await loadLz4()).fromConfig({ id: 'lz4' }), 'lz4', input);
      checkLength('lz4', out.byteLength, expected);
      return out;
    }
    case 'blosc': {
      if (input.byteLength < 16) throw new TensioError('TRUNCATED', `zarr: blosc chunk of ${input.byteLength} bytes is shorter than its 16-byte header`, { format: 'zarr' });
      const header = new DataView(input.buffer, input.byteOffset, 16);
      checkLength('blosc header', header.getUint32(4, true), expected);
      const cbytes = header.getUint32(12, true);
      if (cbytes !== input.byteLength) throw new TensioError('SIZE_MISMATCH', `zarr: blosc header says ${cbytes} stored bytes, the chunk has ${input.byteLength}`, { format: 'zarr' });
      const out = await decodeWith((await loadBlosc()).fromConfig({ id: 'blosc' }), 'blosc', input);
      checkLength('blosc', out.byteLength, expected);
      return out;
    }
    case 'shuffle': {
      checkLength('shuffle', input.byteLength, expected);
      const size = Number(config.elementsize ?? elementSize);
      if (!Number.isSafeInteger(size) || size < 1) throw new TensioError('INVALID_METADATA', `zarr: shuffle elementsize ${JSON.stringify(config.elementsize)} is not a positive integer`, { format: 'zarr' });
      return unshuffle(input, size);
    }
    case 'crc32c': {
      if (input.byteLength < 4) throw new TensioError('TRUNCATED', 'zarr: crc32c chunk is shorter than its checksum', { format: 'zarr' });
      const body = input.subarray(0, input.byteLength - 4);
      const stored = new DataView(input.buffer, input.byteOffset + body.byteLength, 4).getUint32(0, true);
      const actual = await crc32c(body);
      if (actual !== stored) throw new TensioError('CHECKSUM_MISMATCH', `zarr: crc32c of a chunk is 0x${actual.toString(16)}, stored 0x${stored.toString(16)}`, { format: 'zarr' });
      checkLength('crc32c', body.byteLength, expected);
      return body;
    }
    default:
      throw new TensioError('UNSUPPORTED_FEATURE', `zarr: codec ${JSON.stringify(name)} is not supported (tensio decodes gzip, zlib, zstd, lz4, blosc, shuffle, delta, fixedscaleoffset, bitround, crc32c, bytes, transpose, sharding_indexed)`, { format: 'zarr' });
  }
}

async function decodeWith(codec: NumcodecsCodec, name: string, input: Uint8Array): Promise<Uint8Array> {
  try {
    return await codec.decode(input);
  } catch (cause) {
    throw new TensioError('INVALID_HEADER', `zarr: cannot decode ${name} chunk: ${(cause as Error)?.message ?? String(cause)}`, { format: 'zarr', cause });
  }
}

let crc32cFunction: Promise<(data: Uint8Array) => number> | undefined;
/** CRC-32C (Castagnoli) of bytes, through @node-rs/crc32. */
export async function crc32c(data: Uint8Array): Promise<number> {
  const fn = await (crc32cFunction ??= import('@node-rs/crc32').then((m) => (bytes: Uint8Array) => m.crc32c(bytes as Buffer)));
  return fn(data) >>> 0;
}

/** numcodecs' Shuffle undone (the byte shuffle HDF5's filter uses too): byte j of element i was stored at `j * count + i`. */
function unshuffle(input: Uint8Array, size: number): Uint8Array {
  if (size === 1) return input;
  const out = new Uint8Array(input.byteLength);
  unshuffleBytesInto(input, out, size);
  return out;
}

/**
 * Transposes a C-order array of shape `shape` by `perm` (output axis k is input axis
 * `perm[k]`), returning C-order bytes of the permuted shape.
 */
export function permuteAxes(input: Uint8Array, shape: readonly number[], perm: readonly number[], size: number): Uint8Array {
  const rank = shape.length;
  if (perm.every((axis, k) => axis === k)) return input;
  const inStrides = new Array<number>(rank);
  let stride = size;
  for (let axis = rank - 1; axis >= 0; axis -= 1) {
    inStrides[axis] = stride;
    stride *= shape[axis]!;
  }
  const outShape = perm.map((axis) => shape[axis]!);
  const strides = perm.map((axis) => inStrides[axis]!);
  const out = new Uint8Array(input.byteLength);
  if (out.byteLength === 0) return out;
  const index = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastStride = strides[last]!;
  const lastSize = outShape[last]!;
  let at = 0;
  let base = 0;
  for (;;) {
    let from = base;
    for (let i = 0; i < lastSize; i += 1) {
      for (let b = 0; b < size; b += 1) out[at + b] = input[from + b]!;
      at += size;
      from += lastStride;
    }
    let axis = last - 1;
    while (axis >= 0) {
      index[axis]! += 1;
      base += strides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      base -= strides[axis]! * outShape[axis]!;
      index[axis] = 0;
      axis -= 1;
    }
    if (axis < 0) return out;
  }
}

function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, k) => {
    inverse[axis] = k;
  });
  return inverse;
}

function checkPermutation(order: unknown, rank: number): number[] {
  const perm = Array.isArray(order) ? order : [];
  const ok = perm.length === rank && [...perm].sort((a, b) => a - b).every((axis, k) => axis === k);
  if (!ok) throw new TensioError('INVALID_METADATA', `zarr: transpose order ${JSON.stringify(order)} is not a permutation of 0..${rank - 1}`, { format: 'zarr' });
  return perm as number[];
}

/** Decodes an array→array stage (flat elements of `from` to elements of `to`). */
function decodeArrayStage(codec: ZarrCodecSpec, input: Uint8Array, arrayDtype: DType): Uint8Array {
  const { name, config } = codec;
  const dtype = codecDtype(name, config.dtype, arrayDtype);
  const astype = codecDtype(name, config.astype, dtype);
  if (name === 'bitround') return input; // rounding is lossy and its decode is the identity
  const encoded = typed(astype, input);
  const out = typed(dtype, new Uint8Array(encoded.length * itemSize(dtype)!));
  if (name === 'delta') {
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
      let sum = 0n;
      for (let i = 0; i < encoded.length; i += 1) {
        sum += BigInt(encoded[i]!);
        out[i] = out instanceof BigInt64Array ? BigInt.asIntN(64, sum) : BigInt.asUintN(64, sum);
      }
      return bytesOf(out);
    }
    // Typed-array stores wrap integers exactly as numpy's cumulative sum does.
    let sum = 0;
    const plain = out as Exclude<Numeric, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < encoded.length; i += 1) {
      plain[i] = sum + Number(encoded[i]!);
      sum = plain[i]!;
    }
    return bytesOf(out);
  }
  if (name === 'fixedscaleoffset') {
    const scale = Number(config.scale);
    const offset = Number(config.offset ?? 0);
    if (!Number.isFinite(scale) || scale === 0 || !Number.isFinite(offset)) throw new TensioError('INVALID_METADATA', `zarr: fixedscaleoffset scale ${JSON.stringify(config.scale)} / offset ${JSON.stringify(config.offset)} are not finite (scale non-zero)`, { format: 'zarr' });
    const plain = out as Exclude<Numeric, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < encoded.length; i += 1) plain[i] = Number(encoded[i]!) / scale + offset;
    return bytesOf(out);
  }
  throw new TensioError('UNSUPPORTED_FEATURE', `zarr: codec ${JSON.stringify(name)} is not supported`, { format: 'zarr' });
}

const ARRAY_CODECS = new Set(['delta', 'fixedscaleoffset', 'bitround', 'transpose']);

/** Item size after an array stage in encode direction. */
function encodedItemSize(codec: ZarrCodecSpec, current: DType): DType {
  if (codec.name === 'delta' || codec.name === 'fixedscaleoffset') return codecDtype(codec.name, codec.config.astype, codecDtype(codec.name, codec.config.dtype, current));
  return current;
}

/**
 * The decoder of one stored chunk of a v2 array (`codecs` = filters then compressor)
 * or a v3 array (`codecs` = array→array, `bytes`, bytes→bytes), producing little-endian
 * C-order bytes of `chunkShape`.
 *
 * @example
 * ```ts
 * const decode = zarrChunkDecoder({ zarrFormat: 2, dtype: 'int16', bigEndian: false, order: 'C', codecs, chunkShape: [4] });
 * const bytes = await decode(stored);
 * ```
 */
export function zarrChunkDecoder(meta: { zarrFormat: 2 | 3; dtype: DType; bigEndian: boolean; order: 'C' | 'F'; codecs: readonly ZarrCodecSpec[]; chunkShape: readonly number[] }): ZarrChunkDecoder {
  const size = itemSize(meta.dtype)!;
  const elements = meta.chunkShape.reduce((a, b) => a * b, 1);
  // Walk the encode direction once to know each stage's shape and element type.
  const arrayStages: { codec: ZarrCodecSpec; shape: readonly number[]; dtype: DType }[] = [];
  const bytesStages: ZarrCodecSpec[] = [];
  let shape: readonly number[] = meta.chunkShape;
  let dtype: DType = meta.dtype;
  for (const codec of meta.codecs) {
    if (codec.name === 'bytes') continue;
    if (ARRAY_CODECS.has(codec.name) && bytesStages.length === 0) {
      arrayStages.push({ codec, shape, dtype });
      if (codec.name === 'transpose') shape = checkPermutation(codec.config.order, shape.length).map((axis) => shape[axis]!);
      dtype = encodedItemSize(codec, dtype);
      if (meta.bigEndian && codec.name !== 'transpose') throw new TensioError('UNSUPPORTED_FEATURE', `zarr: ${codec.name} on a big-endian array is not supported`, { format: 'zarr' });
    } else if (ARRAY_CODECS.has(codec.name)) {
      throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array codec ${codec.name} after a compressor is not supported`, { format: 'zarr' });
    } else bytesStages.push(codec);
  }
  const storedElementSize = itemSize(dtype)!;
  return async (stored) => {
    let bytes = stored;
    const expected = elements * storedElementSize;
    for (let i = bytesStages.length - 1; i >= 0; i -= 1) {
      bytes = await decodeBytesStage(bytesStages[i]!, bytes, expected + (bytesStages[i]!.name === 'crc32c' ? 0 : 0), storedElementSize);
    }
    checkLength('chunk', bytes.byteLength, expected);
    if (meta.bigEndian && size > 1) {
      if (bytes === stored) bytes = stored.slice(); // never swap the caller's buffer in place
      const width = meta.dtype === 'complex64' || meta.dtype === 'complex128' ? size / 2 : size;
      byteSwapInPlace(bytes, width);
    }
    for (let i = arrayStages.length - 1; i >= 0; i -= 1) {
      const stage = arrayStages[i]!;
      if (stage.codec.name === 'transpose') {
        const perm = checkPermutation(stage.codec.config.order, stage.shape.length);
        const encodedShape = perm.map((axis) => stage.shape[axis]!);
        bytes = permuteAxes(bytes, encodedShape, inversePermutation(perm), size);
      } else bytes = decodeArrayStage(stage.codec, bytes, stage.dtype);
    }
    if (meta.order === 'F' && meta.chunkShape.length > 1) {
      const reversed = [...meta.chunkShape].reverse();
      bytes = permuteAxes(bytes, reversed, reversed.map((_, k) => reversed.length - 1 - k), size);
    }
    return bytes;
  };
}

/** What the writer compresses with. */
export type ZarrCompressor = 'default' | 'none' | 'blosc' | 'zstd' | 'gzip' | 'zlib' | 'lz4';

/** The compressors {@link zarrEncodeChunk} knows. */
export const ZARR_COMPRESSORS: readonly ZarrCompressor[] = ['default', 'none', 'blosc', 'zstd', 'gzip', 'zlib', 'lz4'];

/**
 * Compresses one chunk's little-endian C-order bytes. `default` is NumPack's choice:
 * Blosc with zstd at level 3 and bitshuffle.
 */
export async function zarrEncodeChunk(compressor: ZarrCompressor, bytes: Uint8Array, level?: number): Promise<Uint8Array> {
  switch (compressor) {
    case 'none': return bytes;
    case 'default': return (await loadBlosc()).fromConfig({ id: 'blosc', cname: 'zstd', clevel: level ?? 3, shuffle: 2, blocksize: 0 }).encode(bytes);
    case 'blosc': return (await loadBlosc()).fromConfig({ id: 'blosc', cname: 'lz4', clevel: level ?? 5, shuffle: 1, blocksize: 0 }).encode(bytes);
    // numcodecs' zstd (ZSTD_compress) records the content size in the frame header, which
    // numcodecs 0.11's decoder requires; @mongodb-js/zstd's compress leaves it out.
    case 'zstd': return (await loadZstdEncoder()).fromConfig({ id: 'zstd', level: level ?? 3 }).encode(bytes);
    // On the thread pool: the writer keeps several chunks compressing at once. One output
    // buffer holds any deflate stream of the input (its bound is about 1.001 × input).
    case 'gzip': return gzipAsync(bytes, { level: level ?? 1, chunkSize: deflateChunkSize(bytes.byteLength) });
    case 'zlib': return deflateAsync(bytes, { level: level ?? 1, chunkSize: deflateChunkSize(bytes.byteLength) });
    case 'lz4': return (await loadLz4()).fromConfig({ id: 'lz4', acceleration: 1 }).encode(bytes);
    default: throw new TensioError('INVALID_ARGUMENT', `zarr: unknown compressor ${JSON.stringify(compressor)}; use one of ${ZARR_COMPRESSORS.join(', ')}`, { format: 'zarr' });
  }
}
