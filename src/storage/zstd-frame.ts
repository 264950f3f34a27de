/**
 * The one reader of zstd frame headers (RFC 8878 §3.1): what a frame's headers promise
 * before it is decoded, so that a decoder which takes no output limit is only handed
 * frames that cannot make it allocate more than the caller expects, and the others go to
 * a decoder that stops at the limit. Parquet pages, Arrow body buffers, Zarr chunks and
 * zt's seekable frames all read headers here, each turning a {@link ZstdFrameProblem}
 * into its own error. With tensio's addon, libzstd writes into a buffer of the expected
 * size and never past it; these bounds are for the paths without it.
 */
import { Decompress } from 'fzstd';
import { TensioError } from '../core/errors.js';

/** The magic number that opens a zstd frame (§3.1.1). */
export const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames (§3.1.2) open with one of the 16 magics 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MAGIC_BASE = 0x184d2a50;
/** The most one zstd block decodes to: Block_Maximum_Size is the window, at most 128 KiB (§3.1.1.2.4). */
export const ZSTD_MAX_BLOCK_BYTES = 128 * 1024;
/** The largest window a frame may ask a decoder to keep when it is not single-segment: zstd's own default limit for decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
export const ZSTD_MAX_WINDOW_BYTES = 2 ** 27;

/** What one zstd frame's header says (§3.1.1.1). */
export interface ZstdFrameHeader {
  /** Where the frame starts in the input (its magic). */
  readonly start: number;
  /** Where its first block header starts. */
  readonly blocksStart: number;
  /** The window a decoder must keep (the content size for a single-segment frame). */
  readonly windowBytes: number;
  /** The content size the header declares, when it declares one (above 2^53 it is rounded, never equal to a real size). */
  readonly contentSize?: number;
  /** The dictionary id, 0 when the frame names none. */
  readonly dictionaryId: number;
  /** True when a 4-byte content checksum follows the last block. */
  readonly checksum: boolean;
}

/** What one zstd frame's block headers say (§3.1.1.2), walked without decoding anything. */
export interface ZstdFrameBlocks {
  /** The most its blocks can decode to: raw and RLE blocks their size, compressed blocks 128 KiB each. */
  readonly outputBound: number;
  /** Where the frame ends (after its checksum); undefined when the walk stopped early. */
  readonly end?: number;
  /** The stored content checksum (low 32 bits of XXH64), when the frame has one and was walked to its end. */
  readonly storedChecksum?: number;
}

/** Why bytes are not a well-formed zstd frame, for each caller to turn into its own error. */
export interface ZstdFrameProblem {
  readonly problem: 'magic' | 'reserved-bit' | 'header-cut' | 'block-cut' | 'reserved-block' | 'block-too-large' | 'trailing-bytes';
  /** One sentence without a prefix, e.g. `'a block header runs past the frame'`. */
  readonly message: string;
}

/** True when `result` is a {@link ZstdFrameProblem}. */
export function isZstdFrameProblem(result: object): result is ZstdFrameProblem {
  return 'problem' in result;
}

const problem = (kind: ZstdFrameProblem['problem'], message: string): ZstdFrameProblem => ({ problem: kind, message });

/**
 * Reads the header of the zstd frame at `start` of `input`: magic, Frame_Header_Descriptor
 * (its reserved bit must be 0), Window_Descriptor, Dictionary_ID and Frame_Content_Size
 * (1, 2, 4 or 8 bytes; the 2-byte form adds 256).
 *
 * @example
 * ```ts
 * const header = zstdFrameHeader(chunk);
 * if (!isZstdFrameProblem(header)) console.log(header.contentSize);
 * ```
 */
export function zstdFrameHeader(input: Uint8Array, start = 0): ZstdFrameHeader | ZstdFrameProblem {
  if (input.byteLength - start < 5) return problem('magic', 'does not start with the zstd magic');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.getUint32(start, true) !== ZSTD_MAGIC) return problem('magic', 'does not start with the zstd magic');
  const descriptor = input[start + 4]!;
  if (descriptor & 0x08) return problem('reserved-bit', 'sets the reserved frame-header bit');
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
  // Frame_Content_Size_Flag 0 means no field, except in a single-segment frame (1 byte).
  const contentBytes = [singleSegment, 2, 4, 8][descriptor >> 6]!;
  let at = start + 5;
  const blocksStart = at + (singleSegment ? 0 : 1) + dictionaryBytes + contentBytes;
  if (blocksStart > input.byteLength) return problem('header-cut', `header of ${blocksStart - start} bytes runs past the ${input.byteLength - start} of the frame`);
  let windowBytes = 0;
  if (!singleSegment) {
    // Window_Descriptor: 2^(10 + Exponent), plus Mantissa eighths of that.
    const base = 2 ** (10 + (input[at]! >> 3));
    windowBytes = base + (base / 8) * (input[at]! & 7);
    at += 1;
  }
  const dictionaryId = dictionaryBytes === 0 ? 0 : dictionaryBytes === 1 ? input[at]! : dictionaryBytes === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
  at += dictionaryBytes;
  let contentSize: number | undefined;
  if (contentBytes === 1) contentSize = input[at]!;
  else if (contentBytes === 2) contentSize = view.getUint16(at, true) + 256;
  else if (contentBytes === 4) contentSize = view.getUint32(at, true);
  else if (contentBytes === 8) contentSize = Number(view.getBigUint64(at, true));
  if (singleSegment) windowBytes = contentSize!;
  return { start, blocksStart, windowBytes, ...(contentSize === undefined ? {} : { contentSize }), dictionaryId, checksum: (descriptor & 0x04) !== 0 };
}

/**
 * Walks the block headers of the frame `header` describes (3 bytes each: Last_Block,
 * Block_Type, Block_Size), then its checksum. Stops walking, without an `end`, once the
 * bound passes `stopAbove`.
 *
 * @example
 * ```ts
 * const blocks = zstdFrameBlocks(frame, header, expected + ZSTD_MAX_BLOCK_BYTES);
 * ```
 */
export function zstdFrameBlocks(input: Uint8Array, header: ZstdFrameHeader, stopAbove = Number.POSITIVE_INFINITY): ZstdFrameBlocks | ZstdFrameProblem {
  let at = header.blocksStart;
  let outputBound = 0;
  for (;;) {
    if (at + 3 > input.byteLength) return problem('block-cut', 'a block header runs past the frame');
    const bits = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16);
    at += 3;
    const type = (bits >> 1) & 3;
    const blockSize = bits >>> 3;
    if (type === 3) return problem('reserved-block', 'uses the reserved block type');
    if (blockSize > ZSTD_MAX_BLOCK_BYTES) return problem('block-too-large', `has a block of ${blockSize} bytes (at most ${ZSTD_MAX_BLOCK_BYTES})`);
    // Raw: Block_Size bytes follow; RLE: one byte repeated Block_Size times; compressed: Block_Size stored bytes.
    outputBound += type === 2 ? ZSTD_MAX_BLOCK_BYTES : blockSize;
    if (outputBound > stopAbove) return { outputBound };
    at += type === 1 ? 1 : blockSize;
    if (bits & 1) break;
  }
  if (at > input.byteLength) return problem('block-cut', 'its last block runs past the frame');
  if (!header.checksum) return { outputBound, end: at };
  if (at + 4 > input.byteLength) return problem('block-cut', 'its content checksum runs past the frame');
  return { outputBound, end: at + 4, storedChecksum: new DataView(input.buffer, input.byteOffset, input.byteLength).getUint32(at, true) };
}

/** The layout of the zstd frames of one input, read from their headers only. */
export interface ZstdFrameLayout {
  /** The largest window any frame asks for. */
  readonly windowBytes: number;
  /** The most the frames' blocks can decode to, summed. */
  readonly outputBound: number;
  /** The content size of all frames, when every frame declares one. */
  readonly contentSize?: number;
}

/**
 * The layout of `input` when it is whole zstd frames and nothing else (skippable frames,
 * §3.1.2, are stepped over; no frames at all decode to nothing), else undefined. Walks
 * the headers without decoding anything; stops walking once the bound passes `stopAbove`.
 *
 * @example
 * ```ts
 * const layout = zstdFrameLayout(page);
 * if (layout?.contentSize === pageSize) decodeFast(page);
 * ```
 */
export function zstdFrameLayout(input: Uint8Array, stopAbove = Number.POSITIVE_INFINITY): ZstdFrameLayout | undefined {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let at = 0;
  let windowBytes = 0;
  let outputBound = 0;
  let contentSize: number | undefined = 0;
  while (at < input.byteLength) {
    if (at + 8 <= input.byteLength && (view.getUint32(at, true) & 0xfffffff0) === SKIPPABLE_MAGIC_BASE) {
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    const header = zstdFrameHeader(input, at);
    if (isZstdFrameProblem(header)) return undefined;
    const blocks = zstdFrameBlocks(input, header, stopAbove - outputBound);
    if (isZstdFrameProblem(blocks)) return undefined;
    windowBytes = Math.max(windowBytes, header.windowBytes);
    outputBound += blocks.outputBound;
    contentSize = contentSize === undefined || header.contentSize === undefined ? undefined : contentSize + header.contentSize;
    if (blocks.end === undefined) return { windowBytes, outputBound, ...(contentSize === undefined ? {} : { contentSize }) };
    at = blocks.end;
  }
  if (at !== input.byteLength) return undefined;
  return { windowBytes, outputBound, ...(contentSize === undefined ? {} : { contentSize }) };
}

/**
 * The decoded size `input`'s zstd frames declare: their total when they walk cleanly and
 * every one declares a size, else what the first frame's header declares (a damaged
 * input is then judged by its first header; the decoder says what else is wrong).
 *
 * @example
 * ```ts
 * if (zstdDeclaredSize(chunk) > chunkBytes) refuse();
 * ```
 */
export function zstdDeclaredSize(input: Uint8Array): number | undefined {
  const layout = zstdFrameLayout(input);
  if (layout) return layout.contentSize;
  const header = zstdFrameHeader(input);
  return isZstdFrameProblem(header) ? undefined : header.contentSize;
}

/**
 * Whether a decoder may be asked to keep a window of `windowBytes` to produce `size`
 * bytes: up to the size itself, or zstd's own default decoder limit (128 MiB), past which
 * libzstd refuses a frame too ("Frame requires too much memory").
 *
 * @example
 * ```ts
 * if (!zstdWindowAllowed(header.windowBytes, expected)) refuse();
 * ```
 */
export function zstdWindowAllowed(windowBytes: number, size: number): boolean {
  return windowBytes <= Math.max(size, ZSTD_MAX_WINDOW_BYTES);
}

/**
 * Whether `input` is whole zstd frames whose blocks cannot decode to more than `size`
 * bytes plus one block (each block header bounds its output), which declare no more than
 * that either and ask for no window past {@link zstdWindowAllowed}: a decoder that takes
 * no output limit and allocates what a header declares (@mongodb-js/zstd; fzstd, its
 * stand-in in the browser bundle) cannot be made to allocate more.
 *
 * @example
 * ```ts
 * if (zstdFrameFits(page, 65536)) out = await zstd.decompress(page);
 * ```
 */
export function zstdFrameFits(input: Uint8Array, size: number): boolean {
  const limit = size + ZSTD_MAX_BLOCK_BYTES;
  const layout = zstdFrameLayout(input, limit);
  return layout !== undefined && layout.outputBound <= limit && (layout.contentSize ?? 0) <= limit && zstdWindowAllowed(layout.windowBytes, size);
}

/**
 * Decodes zstd frames that must hold exactly `size` bytes, in memory bounded by `size`
 * and the frames' window (at most 128 MiB, zstd's default decoder limit), whatever their
 * blocks claim: fzstd's streaming decoder, stopped with `LIMIT_EXCEEDED` at the first
 * byte past `size`; frames declaring another size are refused first. For frames
 * {@link zstdFrameFits} does not vouch for (no content size and blocks that flush early,
 * or a hostile frame) and Parquet's synchronous page path. Damaged frames are
 * `INVALID_HEADER`; `format` goes on every error.
 *
 * @example
 * ```ts
 * const values = zstdDecodeExactly(frame, 4000, 'arrow: column x values', 'arrow');
 * ```
 */
export function zstdDecodeExactly(frame: Uint8Array, size: number, what: string, format?: string): Uint8Array {
  const options = format === undefined ? undefined : { format };
  const layout = zstdFrameLayout(frame);
  if (!layout) throw new TensioError('INVALID_HEADER', `${what}: not well-formed zstd frames (${frame.byteLength} bytes)`, options);
  if (!zstdWindowAllowed(layout.windowBytes, size)) {
    throw new TensioError('LIMIT_EXCEEDED', `${what}: the zstd frame asks for a ${layout.windowBytes}-byte window, more than its ${size} bytes need (limit ${ZSTD_MAX_WINDOW_BYTES})`, options);
  }
  if (layout.contentSize !== undefined && layout.contentSize !== size) {
    throw new TensioError(layout.contentSize > size ? 'LIMIT_EXCEEDED' : 'SIZE_MISMATCH', `${what}: the zstd frame declares ${layout.contentSize} bytes, ${size} expected`, options);
  }
  const out = new Uint8Array(size);
  let written = 0;
  const decoder = new Decompress((chunk) => {
    if (chunk.byteLength > size - written) {
      throw new TensioError('LIMIT_EXCEEDED', `${what}: the zstd frame decodes to more than its ${size} bytes`, options);
    }
    out.set(chunk, written);
    written += chunk.byteLength;
  });
  try {
    decoder.push(frame, true);
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    throw new TensioError('INVALID_HEADER', `${what}: cannot decode zstd: ${(cause as Error).message}`, { ...options, cause });
  }
  if (written !== size) throw new TensioError('SIZE_MISMATCH', `${what}: the zstd frame decodes to ${written} bytes, ${size} expected`, options);
  return out;
}
