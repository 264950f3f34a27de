/**
 * The fast read path for the common numeric column: a flat column chunk of PLAIN data
 * pages (v1 or v2), or dictionary-encoded ones after a PLAIN dictionary page, REQUIRED or
 * OPTIONAL (nulls: zero bytes and a cleared validity bit), whose physical values are the bytes of the tensor
 * dtype (FLOAT → float32, DOUBLE → float64, INT32 → int32/uint32, INT64 → int64/uint64).
 * PLAIN of such a type is the little-endian values themselves, so each page is
 * decompressed and its values copied once into the column's output; hyparquet's
 * generic decoder built arrays value by value and the table layer copied them again.
 *
 * Anything else (other encodings, nested columns, page counts that do not add up,
 * undecodable pages or definition levels) returns `undefined`: the caller then decodes the
 * chunk the general way, which checks it and gives the errors. So this path never
 * decides what a damaged file means, it only skips work on a sound one.
 */
import { pageHeader, ThriftCursor, type ParquetPageHeader } from './page-headers.js';
import { allocateZeroed } from '../../core/memory.js';

const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENCODING_PLAIN = 0;
/** PLAIN_DICTIONARY (deprecated spelling, Parquet 1.0 writers) and RLE_DICTIONARY: indices into the dictionary page. */
const ENCODING_PLAIN_DICTIONARY = 2;
const ENCODING_RLE_DICTIONARY = 8;

function isDictionaryEncoding(encoding: number): boolean {
  return encoding === ENCODING_PLAIN_DICTIONARY || encoding === ENCODING_RLE_DICTIONARY;
}

/**
 * Decompresses one page body to exactly `size` bytes (sync or async). `into`, when
 * given, is exactly `size` bytes where the page's values belong (the column's own
 * bytes): a decoder that can write there returns it, any other returns a buffer of its
 * own (the caller then copies).
 */
export type ParquetPageDecompress = (bytes: Uint8Array, size: number, into?: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** What the fast path needs to know about a column chunk. */
export interface ParquetPlainChunk {
  /** Rows of the row group: the pages must declare exactly this many values. */
  readonly rows: number;
  /** Bytes of one value (4 or 8). */
  readonly itemBytes: number;
  /** 0 for a REQUIRED column, 1 for an OPTIONAL one (definition level 0: a null row). */
  readonly maxDefinition: number;
  /** The chunk's codec; undefined for UNCOMPRESSED. */
  readonly decompress: ParquetPageDecompress | undefined;
  /**
   * Where to put the values (`rows × itemBytes` bytes, 4-byte aligned: the tensor's own
   * bytes of a one-column read), instead of a new buffer; ignored when it does not fit.
   * It may be written even when the chunk then turns out not to be one this path takes.
   */
  readonly into?: Uint8Array;
  /** Where a new values buffer comes from (stale bytes: every one is written); default `allocateZeroed`. */
  readonly allocate?: (length: number) => Uint8Array;
}

interface PlainPage {
  readonly header: ParquetPageHeader;
  readonly body: Uint8Array;
}

/** A chunk's pages for this path: an optional PLAIN dictionary page, then data pages. */
interface PlainPages {
  readonly dictionary: PlainPage | undefined;
  readonly pages: PlainPage[];
}

/**
 * The pages of a chunk when every data page is a v1/v2 data page in PLAIN, or in a
 * dictionary encoding after a PLAIN dictionary page (what pyarrow and DuckDB write by
 * default: a dictionary until it grows too large, then PLAIN), and their values add up to `rows`.
 */
function plainPages(chunk: Uint8Array, shape: ParquetPlainChunk): PlainPages | undefined {
  const cursor = new ThriftCursor(chunk);
  const pages: PlainPage[] = [];
  let dictionary: PlainPage | undefined;
  let values = 0;
  // A trailing byte or two after the last page is what parquetCheckChunk tolerates too.
  while (cursor.at < chunk.byteLength - 1) {
    const header = pageHeader(cursor);
    if (header.compressed > chunk.byteLength - cursor.at) return undefined;
    const body = chunk.subarray(cursor.at, cursor.at + header.compressed);
    cursor.advance(header.compressed);
    if (header.type === PAGE_DICTIONARY && !dictionary && pages.length === 0) {
      const entries = header.values ?? -1;
      if ((header.encoding !== ENCODING_PLAIN && header.encoding !== ENCODING_PLAIN_DICTIONARY) || entries < 0 || header.uncompressed < entries * shape.itemBytes) return undefined;
      dictionary = { header, body };
      continue;
    }
    if (header.type !== PAGE_DATA && header.type !== PAGE_DATA_V2) return undefined;
    const indexed = isDictionaryEncoding(header.encoding ?? -1);
    if (!(header.encoding === ENCODING_PLAIN || (indexed && dictionary))) return undefined;
    const count = header.values ?? -1;
    // An OPTIONAL column's page holds values for its defined rows only: fewer bytes when some are null.
    if (count < 0 || (!indexed && shape.maxDefinition === 0 && header.uncompressed < count * shape.itemBytes)) return undefined;
    if (header.type === PAGE_DATA_V2 && (!header.v2 || header.v2.repetitionBytes !== 0 || (header.v2.nulls !== 0 && shape.maxDefinition === 0))) return undefined;
    values += count;
    if (values > shape.rows) return undefined;
    pages.push({ header, body });
  }
  return values === shape.rows ? { dictionary, pages } : undefined;
}

/** A read position in an RLE / bit-packed hybrid stream. */
interface HybridCursor {
  at: number;
}

/**
 * The ULEB128 header of the hybrid run at `cursor.at` (low bit: 1 bit-packed, 0 RLE; the
 * rest: the group or repeat count), moving the cursor past it; -1 when the bytes end
 * first or the header is longer than five bytes.
 */
function hybridRunHeader(stream: Uint8Array, cursor: HybridCursor): number {
  let header = 0;
  let shift = 0;
  for (;;) {
    if (cursor.at >= stream.byteLength || shift > 28) return -1;
    const byte = stream[cursor.at++]!;
    header += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return header;
    shift += 7;
  }
}

/**
 * Whether an RLE / bit-packed hybrid stream of width-1 levels holds `count` ones (every
 * value defined). Runs past `count` or a stream that ends early: no.
 */
export function parquetAllLevelsOne(stream: Uint8Array, count: number): boolean {
  let seen = 0;
  const cursor: HybridCursor = { at: 0 };
  while (seen < count) {
    const header = hybridRunHeader(stream, cursor);
    if (header < 0) return false;
    let at = cursor.at;
    if (header & 1) {
      // Bit-packed: groups of 8 one-bit values; those past `count` are padding.
      const run = (header >>> 1) * 8;
      const take = Math.min(run, count - seen);
      const bytes = Math.ceil(run / 8);
      if (at + bytes > stream.byteLength) return false;
      for (let i = 0; i < take >> 3; i++) if (stream[at + i] !== 0xff) return false;
      const rest = take & 7;
      if (rest && (stream[at + (take >> 3)]! & ((1 << rest) - 1)) !== (1 << rest) - 1) return false;
      at += bytes;
      seen += take;
    } else {
      const run = header >>> 1;
      if (run === 0 || run > count - seen || at >= stream.byteLength || stream[at] !== 1) return false;
      at += 1;
      seen += run;
    }
    cursor.at = at;
  }
  return true;
}

/** Little-endian u32 at `at`, or -1 when the bytes end first. */
function u32(bytes: Uint8Array, at: number): number {
  if (at + 4 > bytes.byteLength) return -1;
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * The definition levels and the values section of one decoded v1 page (levels: a 4-byte
 * length, then the stream; none for a REQUIRED column), or undefined when they do not fit.
 */
function splitV1(page: Uint8Array, shape: ParquetPlainChunk): { levels: Uint8Array | undefined; section: Uint8Array } | undefined {
  if (shape.maxDefinition !== 1) return { levels: undefined, section: page };
  const length = u32(page, 0);
  if (length < 0 || 4 + length > page.byteLength) return undefined;
  return { levels: page.subarray(4, 4 + length), section: page.subarray(4 + length) };
}

/**
 * Decodes an RLE / bit-packed hybrid stream of `count` width-1 definition levels into
 * `defined` (one byte per row, 1 defined, 0 null) and answers how many are 1; -1 for a
 * stream this path does not take (a level above 1, a run past `count`, bytes that end
 * first), which the general path then decodes and reports.
 */
export function parquetDefinitionLevels(stream: Uint8Array, count: number, defined: Uint8Array): number {
  if (defined.byteLength < count) return -1;
  let seen = 0;
  let ones = 0;
  const cursor: HybridCursor = { at: 0 };
  while (seen < count) {
    const header = hybridRunHeader(stream, cursor);
    if (header < 0) return -1;
    let at = cursor.at;
    if (header % 2 === 1) {
      // Bit-packed, one bit per level: the group bytes are the bits themselves; those past `count` are padding.
      const groups = Math.floor(header / 2);
      if (at + groups > stream.byteLength) return -1;
      const take = Math.min(groups * 8, count - seen);
      for (let i = 0; i < take; i++) {
        const bit = (stream[at + (i >> 3)]! >> (i & 7)) & 1;
        defined[seen + i] = bit;
        ones += bit;
      }
      at += groups;
      seen += take;
    } else {
      const run = Math.floor(header / 2);
      if (run === 0 || run > count - seen || at >= stream.byteLength || stream[at]! > 1) return -1;
      const level = stream[at]!;
      at += 1;
      defined.fill(level, seen, seen + run);
      if (level === 1) ones += run;
      seen += run;
    }
    cursor.at = at;
  }
  return ones;
}

/**
 * Spreads the `present` values packed at the start of rows `[first, first + count)` of
 * `out` (32-bit words, `words` per value) to the rows `defined` marks, from the last row
 * back so nothing is overwritten before it moves; null rows get zero words and their
 * validity bit (row `first + r`) cleared, as the general path leaves them.
 */
function spreadNulls(out: Uint32Array, first: number, count: number, present: number, words: number, defined: Uint8Array, validity: Uint8Array): void {
  let from = (first + present) * words;
  for (let row = count - 1; row >= 0; row--) {
    let to = (first + row + 1) * words;
    if (defined[row] === 1) {
      for (let k = 0; k < words; k++) out[--to] = out[--from]!;
    } else {
      for (let k = 0; k < words; k++) out[--to] = 0;
      const bit = first + row;
      validity[bit >> 3]! &= ~(1 << (bit & 7));
    }
  }
}

/**
 * Writes `count` values of a dictionary-encoded values section (one bit-width byte, then
 * an RLE / bit-packed hybrid stream of indices) into `out` at `outAt` by copying the
 * indexed dictionary entries (as 32-bit words, so float bit patterns are kept exactly).
 * False for anything unexpected (a width over 32, an index past the dictionary, a stream
 * that ends early): the general path then decodes the chunk and reports it.
 */
export function parquetGatherDictionary(section: Uint8Array, count: number, dictionary: Uint32Array, entries: number, out: Uint32Array, outAt: number, words: number): boolean {
  if (section.byteLength < 1) return count === 0;
  const width = section[0]!;
  if (width > 32) return false;
  const byteWidth = (width + 7) >> 3;
  const cursor: HybridCursor = { at: 1 };
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  let seen = 0;
  let target = outAt * words;
  while (seen < count) {
    const header = hybridRunHeader(section, cursor);
    if (header < 0) return false;
    let at = cursor.at;
    if (header % 2 === 1) {
      // Bit-packed: groups of 8 values, least significant bit first; those past `count` are padding.
      const groups = Math.floor(header / 2);
      const bytes = groups * width;
      if (at + bytes > section.byteLength) return false;
      const take = Math.min(groups * 8, count - seen);
      target = width <= PACKED_WINDOW_MAX_WIDTH && take * width < 2 ** 31
        ? (words === 1 ? gatherPacked1(section, view, at, take, width, dictionary, entries, out, target) : gatherPacked2(section, view, at, take, width, dictionary, entries, out, target))
        : gatherPackedWide(section, at, take, width, dictionary, entries, out, target, words);
      if (target < 0) return false;
      at += bytes;
      seen += take;
    } else {
      const run = Math.floor(header / 2);
      if (run === 0 || at + byteWidth > section.byteLength) return false;
      let index = 0;
      for (let i = 0; i < byteWidth; i++) index += section[at + i]! * 2 ** (8 * i);
      at += byteWidth;
      if (index >= entries) return false;
      const take = Math.min(run, count - seen);
      if (words === 1) {
        out.fill(dictionary[index]!, target, target + take);
        target += take;
      } else {
        const low = dictionary[2 * index]!;
        const high = dictionary[2 * index + 1]!;
        for (let i = 0; i < take; i++) { out[target++] = low; out[target++] = high; }
      }
      seen += take;
    }
    cursor.at = at;
  }
  return true;
}

/**
 * Widest bit-packed index read with one unaligned 4-byte load: the value's bits start at
 * bit 0-7 of its first byte, so up to 25 of them lie inside the 4 bytes from there.
 */
const PACKED_WINDOW_MAX_WIDTH = 25;

/**
 * How many of `take` packed values of `width` bits from byte `at` have their 4-byte
 * window (from the value's first byte) inside `section`: those are read with one load
 * each, without a bounds test; the rest (the last few of the page) byte by byte.
 */
function windowedValues(section: Uint8Array, at: number, take: number, width: number): number {
  const room = section.byteLength - 4 - at + 1;
  if (room <= 0) return 0;
  return width === 0 ? take : Math.min(take, Math.ceil((room * 8) / width));
}

/** The `width`-bit value at bit `bit` from `section[at]`, read byte by byte, bytes past the section as zero. */
function packedValueAt(section: Uint8Array, at: number, bit: number, width: number): number {
  const first = at + Math.floor(bit / 8);
  const window = (section[first] ?? 0) + (section[first + 1] ?? 0) * 2 ** 8 + (section[first + 2] ?? 0) * 2 ** 16
    + (section[first + 3] ?? 0) * 2 ** 24 + (section[first + 4] ?? 0) * 2 ** 32;
  return Math.floor(window / 2 ** (bit % 8)) % 2 ** width;
}

/**
 * The bit-packed indices of up to 25 bits each from `section[at]` on (`take` values; the
 * caller checked that the run's bytes are there), their 4-byte dictionary entries written
 * to `out` from `target`: one unaligned little-endian load, a shift and a mask per value
 * (about 2-3 ns against 5-8 for four byte loads, 1M values of 11 bits, warm buffers).
 * The next word to write, or -1 at an index past the dictionary.
 */
function gatherPacked1(section: Uint8Array, view: DataView, at: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number): number {
  const mask = (1 << width) - 1;
  const safe = windowedValues(section, at, take, width);
  let to = target;
  let bit = 0;
  let i = 0;
  for (; i < safe; i++, bit += width) {
    const index = (view.getUint32(at + (bit >>> 3), true) >>> (bit & 7)) & mask;
    if (index >= entries) return -1;
    out[to++] = dictionary[index]!;
  }
  for (; i < take; i++, bit += width) {
    const index = packedValueAt(section, at, bit, width);
    if (index >= entries) return -1;
    out[to++] = dictionary[index]!;
  }
  return to;
}

/** {@link gatherPacked1} for 8-byte entries (two words each). */
function gatherPacked2(section: Uint8Array, view: DataView, at: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number): number {
  const mask = (1 << width) - 1;
  const safe = windowedValues(section, at, take, width);
  let to = target;
  let bit = 0;
  let i = 0;
  for (; i < safe; i++, bit += width) {
    const index = (view.getUint32(at + (bit >>> 3), true) >>> (bit & 7)) & mask;
    if (index >= entries) return -1;
    out[to++] = dictionary[2 * index]!;
    out[to++] = dictionary[2 * index + 1]!;
  }
  for (; i < take; i++, bit += width) {
    const index = packedValueAt(section, at, bit, width);
    if (index >= entries) return -1;
    out[to++] = dictionary[2 * index]!;
    out[to++] = dictionary[2 * index + 1]!;
  }
  return to;
}

/** Bit-packed indices wider than 25 bits (dictionaries of over 33 million entries), value by value. */
function gatherPackedWide(section: Uint8Array, at: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number, words: number): number {
  let to = target;
  for (let i = 0, bit = 0; i < take; i++, bit += width) {
    const index = packedValueAt(section, at, bit, width);
    if (index >= entries) return -1;
    out[to++] = dictionary[index * words]!;
    if (words === 2) out[to++] = dictionary[index * words + 1]!;
  }
  return to;
}

/** A column chunk decoded by the fast path: its values and, when some rows are null, their validity. */
export interface ParquetPlainColumn {
  /** `rows × itemBytes` bytes; a null row's bytes are zero. */
  readonly values: Uint8Array;
  /** One bit per row, least significant bit first, set = defined; absent when no row is null. */
  readonly validity?: Uint8Array;
}

/**
 * The destination of a page that decodes to exactly its values (PLAIN, REQUIRED column,
 * compressed, `count × itemBytes` decoded bytes): its rows of `out`, from `firstRow`;
 * undefined for any other page (levels before the values, dictionary indices, stored
 * uncompressed).
 */
function pageTarget(page: PlainPage, shape: ParquetPlainChunk, out: Uint8Array | undefined, firstRow: number): Uint8Array | undefined {
  if (!out || !decodesToValues(page, shape)) return undefined;
  return out.subarray(firstRow * shape.itemBytes, (firstRow + page.header.values!) * shape.itemBytes);
}

/** Whether a page decompresses to exactly its values, nothing before or after them (see {@link pageTarget}). */
function decodesToValues({ header }: PlainPage, shape: ParquetPlainChunk): boolean {
  if (!shape.decompress || shape.maxDefinition !== 0 || header.encoding !== ENCODING_PLAIN) return false;
  const bytes = header.values! * shape.itemBytes;
  const size = header.type === PAGE_DATA_V2 ? (header.v2!.compressed && header.v2!.definitionBytes === 0 ? header.uncompressed : -1) : header.uncompressed;
  return size === bytes && bytes > 0;
}

/** A page's stored values, decompressed (v2: the levels are stored uncompressed before them); undefined when they do not fit. */
function decodePage({ header, body }: PlainPage, shape: ParquetPlainChunk, target: Uint8Array | undefined): Uint8Array | Promise<Uint8Array> | undefined {
  if (header.type === PAGE_DATA_V2) {
    const levels = header.v2!.definitionBytes;
    if (levels > body.byteLength || header.uncompressed < levels) return undefined;
    const stored = body.subarray(levels);
    const size = header.uncompressed - levels;
    return header.v2!.compressed && shape.decompress && size > 0 ? shape.decompress(stored, size, target) : stored;
  }
  return shape.decompress ? shape.decompress(body, header.uncompressed, target) : body;
}

/**
 * Decodes a column chunk (its stored bytes, from its first page) straight into a new
 * buffer of `rows × itemBytes` bytes (or `shape.into`), or returns undefined when the
 * chunk is not one this path takes (see the module comment). Every page starts
 * decompressing at once (snappy and zstd run on libuv's threads), a PLAIN page of a
 * REQUIRED column straight into its rows of the output (the decoder writes the output's
 * fresh memory on its thread, and nothing is copied); the pages are then placed in order
 * as each one is ready, so the dictionary gather of one page overlaps the decoding of
 * the next. Nothing is returned (or thrown) before every decode has settled: no worker
 * thread writes a buffer after this returns. An OPTIONAL column's
 * null rows (definition level 0) are zero bytes with their validity bit clear, what the
 * general path gives them (the table layer then writes NaN for a float column).
 */
export async function parquetDecodePlainChunk(chunk: Uint8Array, shape: ParquetPlainChunk): Promise<ParquetPlainColumn | undefined> {
  if (shape.maxDefinition > 1 || !(shape.itemBytes === 4 || shape.itemBytes === 8)) return undefined;
  const found = (() => {
    try {
      return plainPages(chunk, shape);
    } catch {
      return undefined;
    }
  })();
  if (!found) return undefined;
  const { pages } = found;
  const bytes = shape.rows * shape.itemBytes;
  const into = shape.into && shape.into.byteLength === bytes && shape.into.byteOffset % 4 === 0 ? shape.into : undefined;
  // One page that decodes to the column's values (tensio's writer and pyarrow at row groups of up to
  // 1 MiB per column), no buffer given: whatever buffer it decodes into is the column's bytes.
  const alone = !into && pages.length === 1 && !found.dictionary && pages[0]!.header.type === PAGE_DATA && decodesToValues(pages[0]!, shape);
  const out = into ?? (alone ? undefined : (shape.allocate ?? allocateZeroed)(bytes));
  const pending: (Uint8Array | Promise<Uint8Array> | undefined)[] = [];
  const start = (decode: () => Uint8Array | Promise<Uint8Array> | undefined) => {
    let result: Uint8Array | Promise<Uint8Array> | undefined;
    try {
      result = decode();
    } catch {
      // A page a synchronous decoder refuses: this path does not take the chunk (placePages stops there).
      return undefined;
    }
    // Handled now, awaited (and its failure seen) when placed, or only settled when placing stops earlier.
    if (result instanceof Promise) result.catch(() => undefined);
    pending.push(result);
    return result;
  };
  try {
    const dictionaryPage = found.dictionary ? start(() => shape.decompress ? shape.decompress(found.dictionary!.body, found.dictionary!.header.uncompressed) : found.dictionary!.body) : undefined;
    let firstRow = 0;
    const decoded = pages.map((page) => {
      const target = pageTarget(page, shape, out, firstRow);
      firstRow += page.header.values!;
      return start(() => decodePage(page, shape, target));
    });
    return await placePages(chunk, shape, found, dictionaryPage, decoded, out, bytes);
  } catch {
    // The general path decodes the chunk again and reports what is wrong with it.
    return undefined;
  } finally {
    // A failure stops the placing early: the other pages may still be decoding into buffers the caller reuses.
    await Promise.allSettled(pending);
  }
}

/** Places the decoded pages in order into `out` (or the lone page's own buffer); see {@link parquetDecodePlainChunk}. */
async function placePages(chunk: Uint8Array, shape: ParquetPlainChunk, found: PlainPages, dictionaryPage: Uint8Array | Promise<Uint8Array> | undefined, decoded: (Uint8Array | Promise<Uint8Array> | undefined)[], given: Uint8Array | undefined, bytes: number): Promise<ParquetPlainColumn | undefined> {
  const { pages } = found;
  // The dictionary's values, as 32-bit words in a buffer of their own (aligned for the view).
  let dictionary: Uint32Array | undefined;
  let entries = 0;
  if (found.dictionary) {
    entries = found.dictionary.header.values!;
    const plain = await dictionaryPage!;
    if (plain.byteLength < entries * shape.itemBytes) return undefined;
    dictionary = new Uint32Array(plain.slice(0, entries * shape.itemBytes).buffer);
  }
  let out = given;
  if (!out) {
    // The lone page (see `alone`): never a view of the chunk itself, which the caller may reuse once this returns.
    const only = await decoded[0];
    if (!only || only.buffer === chunk.buffer || only.byteOffset % shape.itemBytes !== 0 || only.byteLength < bytes) return undefined;
    out = only.subarray(0, bytes);
  }
  const words = shape.itemBytes / 4;
  const outWords = dictionary || shape.maxDefinition === 1 ? new Uint32Array(out.buffer, out.byteOffset, out.byteLength / 4) : undefined;
  // Levels of the page being placed (OPTIONAL columns with nulls), and the chunk's validity once a null is seen.
  let defined: Uint8Array | undefined;
  let validity: Uint8Array | undefined;
  let at = 0;
  for (const [index, { header, body }] of pages.entries()) {
    const page = await decoded[index];
    const count = header.values!;
    if (!page) return undefined;
    let levels: Uint8Array | undefined;
    let section: Uint8Array;
    if (header.type === PAGE_DATA_V2) {
      levels = shape.maxDefinition === 1 ? body.subarray(0, header.v2!.definitionBytes) : undefined;
      section = page;
    } else {
      const split = splitV1(page, shape);
      if (!split) return undefined;
      ({ levels, section } = split);
    }
    // Rows with a value: all of them unless the levels say some are null.
    let present = count;
    if (levels && !parquetAllLevelsOne(levels, count)) {
      if (!defined || defined.byteLength < count) defined = new Uint8Array(count);
      present = parquetDefinitionLevels(levels, count, defined);
      if (present < 0) return undefined;
    }
    if (header.type === PAGE_DATA_V2 && header.v2!.nulls !== count - present) return undefined;
    const first = at / shape.itemBytes;
    if (isDictionaryEncoding(header.encoding ?? -1)) {
      if (!dictionary || !outWords || !parquetGatherDictionary(section, present, dictionary, entries, outWords, first, words)) return undefined;
    } else {
      const values = section.byteLength >= present * shape.itemBytes ? section.subarray(0, present * shape.itemBytes) : undefined;
      if (!values) return undefined;
      // A page decoded straight into its rows (pageTarget) is in place already.
      if (values.buffer !== out.buffer || values.byteOffset !== out.byteOffset + at) out.set(values, at);
    }
    if (present < count) {
      validity ??= new Uint8Array(Math.ceil(shape.rows / 8)).fill(0xff);
      spreadNulls(outWords!, first, count, present, words, defined!, validity);
    }
    at += count * shape.itemBytes;
  }
  return validity ? { values: out, validity } : { values: out };
}
