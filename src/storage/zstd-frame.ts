/**
 * What a zstd frame's headers promise before it is decoded (RFC 8878 §3.1.1), so that a
 * decoder which takes no output limit is only handed frames that cannot make it allocate
 * more than the caller expects, and the others go to a decoder that stops at the limit.
 * Used by Parquet pages and Arrow body buffers on the paths without tensio's addon (with
 * it, libzstd writes into a buffer of the expected size and never past it).
 */
import { Decompress } from 'fzstd';
import { TensioError } from '../core/errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
/** The most one zstd block decodes to (Block_Maximum_Size). */
const ZSTD_MAX_BLOCK_BYTES = 128 * 1024;
/** The largest window a frame may ask a decoder to keep when it is not single-segment: zstd's own default limit for decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
const ZSTD_MAX_WINDOW_BYTES = 2 ** 27;

/** The layout of one zstd frame, read from its headers only. */
export interface ZstdFrameLayout {
  /** The window a decoder must keep (the content size for a single-segment frame). */
  readonly windowBytes: number;
  /** The most its blocks can decode to: raw and RLE blocks their size, compressed blocks 128 KiB each. */
  readonly outputBound: number;
  /** The content size its header declares, when it declares one. */
  readonly contentSize?: number;
}

/**
 * The layout of `frame` when it is exactly one zstd frame (magic, header, blocks each
 * inside the input, optional checksum, nothing after), else undefined. Walks the block
 * headers without decoding anything; stops walking once the bound passes `stopAbove`.
 */
export function zstdFrameLayout(frame: Uint8Array, stopAbove = Number.POSITIVE_INFINITY): ZstdFrameLayout | undefined {
  if (frame.byteLength < 9) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return undefined;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
  const contentBytes = [singleSegment, 2, 4, 8][descriptor >> 6]!;
  let at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  let contentSize: number | undefined;
  if (contentBytes === 1) contentSize = frame[at]!;
  else if (contentBytes === 2) contentSize = view.getUint16(at, true) + 256;
  else if (contentBytes === 4) contentSize = view.getUint32(at, true);
  else if (contentBytes === 8) contentSize = Number(view.getBigUint64(at, true));
  let windowBytes: number;
  if (singleSegment) {
    windowBytes = contentSize!;
  } else {
    const base = 2 ** (10 + (frame[5]! >> 3));
    windowBytes = base + (base / 8) * (frame[5]! & 7);
  }
  at += contentBytes;
  const sized = contentSize === undefined ? {} : { contentSize };
  let outputBound = 0;
  for (;;) {
    if (at + 3 > frame.byteLength) return undefined;
    const header = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
    at += 3;
    const type = (header >> 1) & 3;
    const blockSize = header >>> 3;
    if (type === 3 || blockSize > ZSTD_MAX_BLOCK_BYTES) return undefined;
    outputBound += type === 2 ? ZSTD_MAX_BLOCK_BYTES : blockSize;
    if (outputBound > stopAbove) return { windowBytes, outputBound, ...sized };
    at += type === 1 ? 1 : blockSize;
    if (header & 1) break;
  }
  return at + ((descriptor & 0x04) ? 4 : 0) === frame.byteLength ? { windowBytes, outputBound, ...sized } : undefined;
}

/**
 * Whether `frame` is exactly one zstd frame whose blocks cannot decode to more than
 * `size` bytes plus one block (each block header bounds its output), so a decoder that
 * takes no output limit (@mongodb-js/zstd) cannot be made to allocate more.
 *
 * @example
 * ```ts
 * if (zstdFrameFits(page, 65536)) out = await zstd.decompress(page);
 * ```
 */
export function zstdFrameFits(frame: Uint8Array, size: number): boolean {
  const limit = size + ZSTD_MAX_BLOCK_BYTES;
  const layout = zstdFrameLayout(frame, limit);
  return layout !== undefined && layout.outputBound <= limit;
}

/**
 * Decodes one zstd frame that must hold exactly `size` bytes, in memory bounded by `size`
 * and the frame's window (at most 128 MiB, zstd's default decoder limit), whatever its
 * blocks claim: fzstd's streaming decoder, stopped with `LIMIT_EXCEEDED` at the first
 * byte past `size`. For frames {@link zstdFrameFits} does not vouch for (no content size
 * and blocks that flush early, or a hostile frame); slow (pure JavaScript), so only those.
 *
 * @example
 * ```ts
 * const values = zstdDecodeExactly(frame, 4000, 'arrow: column x values');
 * ```
 */
export function zstdDecodeExactly(frame: Uint8Array, size: number, what: string): Uint8Array {
  const layout = zstdFrameLayout(frame);
  if (!layout) throw new TensioError('INVALID_HEADER', `${what}: not one well-formed zstd frame (${frame.byteLength} bytes)`);
  if (layout.windowBytes > Math.max(size, ZSTD_MAX_WINDOW_BYTES)) {
    throw new TensioError('LIMIT_EXCEEDED', `${what}: the zstd frame asks for a ${layout.windowBytes}-byte window, more than its ${size} bytes need (limit ${ZSTD_MAX_WINDOW_BYTES})`);
  }
  const out = new Uint8Array(size);
  let written = 0;
  const decoder = new Decompress((chunk) => {
    if (chunk.byteLength > size - written) {
      throw new TensioError('LIMIT_EXCEEDED', `${what}: the zstd frame decodes to more than its ${size} bytes`);
    }
    out.set(chunk, written);
    written += chunk.byteLength;
  });
  decoder.push(frame, true);
  if (written !== size) throw new TensioError('SIZE_MISMATCH', `${what}: the zstd frame decodes to ${written} bytes, ${size} expected`);
  return out;
}
