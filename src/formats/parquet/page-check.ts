/**
 * Checks made on a column chunk's pages before hyparquet decodes them, so that a few
 * hostile bytes cannot make it build arrays of hundreds of millions of elements.
 *
 * hyparquet trusts two kinds of declared sizes:
 * - value counts in page headers (`num_values`, `num_nulls`): it allocates that many
 *   values; they must fit the row group (and a limit);
 * - run lengths inside the RLE/bit-packed hybrid streams of repetition levels,
 *   definition levels and dictionary indices: an RLE run writes `count` values into a
 *   plain JavaScript array without looking at its length, so a 5-byte run header of
 *   2^30 grows the array to 2^30 elements (a fuzzed 3 KB file did, out of memory).
 *
 * The walk below follows hyparquet's own decoding of each page (the same offsets, the
 * same 32-bit varints) and refuses a run that would write past the values its page
 * declares. Only pages that hyparquet decodes through such streams are looked into (and
 * decompressed for it): levels of optional or nested columns, dictionary indices and
 * RLE booleans; a required column of PLAIN pages costs a walk over its page headers.
 *
 * Dictionary indices are also held to their dictionary: hyparquet reads an index past it
 * as a null (NaN in a float tensor) and skips an RLE run of no values, where pyarrow
 * refuses both; so does this walk (as the fast path's gather does, `hybrid-streams.ts`).
 */
import { TensioError } from '../../core/errors.js';
import {
  ENCODING_RLE, PAGE_DATA, PAGE_DATA_V2, PAGE_DICTIONARY, isDictionaryEncoding, pageHeader, ThriftCursor, type ParquetPageHeader,
} from './page-headers.js';

/** What the checks need to know about a column chunk. */
export interface ParquetChunkShape {
  /** Most values its pages may declare together (rows × values per row, or the limit). */
  readonly maxValues: number;
  /** Definition and repetition levels' maxima, from the schema path (as hyparquet computes them). */
  readonly maxDefinition: number;
  readonly maxRepetition: number;
  /** BOOLEAN physical type (its RLE values are length-prefixed, width 1). */
  readonly boolean: boolean;
  /** Decompresses one page's bytes to `size` bytes; undefined when the codec is unknown (hyparquet refuses those). */
  readonly decompress: ((bytes: Uint8Array, size: number) => Uint8Array) | undefined;
  /** "column "x" in row group 3", for messages. */
  readonly where: string;
}


const invalid = (message: string): never => { throw new TensioError('INVALID_HEADER', `parquet: ${message}`, { format: 'parquet' }); };

/** Bits needed for a level of `max` (hyparquet's `bitWidth`). */
const levelWidth = (max: number): number => 32 - Math.clz32(max);

/** The `width`-bit value (up to 32) at bit `bit` from byte `at`, or -1 when its bytes pass `end`. */
function packedValue(bytes: Uint8Array, at: number, bit: number, width: number, end: number): number {
  const first = at + Math.floor(bit / 8);
  const shift = bit % 8;
  const last = first + Math.ceil((shift + width) / 8);
  if (last > end) return -1;
  let window = 0;
  for (let byte = first, scale = 1; byte < last; byte++, scale *= 256) window += bytes[byte]! * scale;
  return Math.floor(window / 2 ** shift) % 2 ** width;
}

/** Where the dictionary indices of a data page must stay: below `entries`; `label` names the page in messages. */
interface DictionaryBound {
  readonly entries: number;
  readonly label: string;
}

/**
 * Walks one RLE/bit-packed hybrid stream as hyparquet's `readRleBitPackedHybrid` reads it
 * into an array of `length` values, starting at `at` in `bytes` (hyparquet's reader may run
 * past the stream's own length up to the end of `bytes`). Refuses an RLE run that would
 * write past `length`, a negative bit-packed run, and a zero-width bit-packed run longer
 * than what is left (hyparquet would spin on it); with `bound` (dictionary indices), an
 * index at or past its entries and an RLE run of no values. A stream that ends early is
 * left to the decoder, which stops there with an error. Returns how many values equal `count`.
 */
function walkHybrid(bytes: Uint8Array, at: number, width: number, length: number, count: number, what: string, where: string, bound?: DictionaryBound): number {
  let seen = 0;
  let matches = 0;
  const end = bytes.byteLength;
  const valueBytes = (width + 7) >> 3;
  while (seen < length) {
    // hyparquet's readVarInt: 7-bit groups OR-ed into 32 bits.
    let header = 0;
    let shift = 0;
    for (;;) {
      if (at >= end) return matches;
      const byte = bytes[at++]!;
      header |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    if (header & 1) {
      const run = (header >> 1) << 3;
      if (run < 0) invalid(`a bit-packed run of ${what} in ${where} declares ${run} values`);
      if (width === 0 && run > length - seen + 8) invalid(`a zero-width bit-packed run of ${what} in ${where} declares ${run} values, ${length - seen} are left`);
      const emitted = Math.min(run, length - seen);
      if (bound && width > 0) {
        for (let i = 0; i < emitted; i++) {
          const value = packedValue(bytes, at, i * width, width, end);
          if (value < 0) return matches;
          if (value >= bound.entries) pastDictionary(value, seen + i, bound, where);
        }
      } else if (count >= 0 && width > 0) {
        for (let i = 0; i < emitted; i++) {
          let value = 0;
          for (let bit = 0; bit < width && bit < 32; bit++) {
            const position = i * width + bit;
            const byte = at + (position >> 3);
            if (byte >= end) return matches;
            value |= ((bytes[byte]! >> (position & 7)) & 1) << bit;
          }
          if (value === count) matches++;
        }
      } else if (count === 0 && width === 0) matches += emitted;
      seen += emitted;
      // hyparquet reads the run's first byte even for an empty run, then as many as its bits need.
      const consumed = run === 0 || width === 0 ? 1 : Math.ceil((run * width) / 8);
      if (at + consumed > end) return matches;
      at += consumed;
    } else {
      const run = header >>> 1;
      if (at + valueBytes > end) return matches;
      let value = 0;
      for (let i = 0; i < valueBytes; i++) value |= bytes[at + i]! << (i << 3);
      at += valueBytes;
      if (run > length - seen) invalid(`an RLE run of ${what} in ${where} repeats a value ${run} times; its page has ${length - seen} values left`);
      if (bound && run === 0) invalid(`${where}, ${bound.label}: an RLE run of dictionary indices holds 0 values, at value ${seen} of the page`);
      if (bound && run > 0 && value >= bound.entries) pastDictionary(value, seen, bound, where);
      if (value === count) matches += run;
      seen += run;
    }
  }
  return matches;
}

/** Refuses dictionary index `index`, value `value` of its page, past the dictionary. */
function pastDictionary(index: number, value: number, bound: DictionaryBound, where: string): never {
  return invalid(`${where}, ${bound.label}: dictionary index ${index} is past the dictionary's ${bound.entries} entries, at value ${value} of the page`);
}

/** Reads a little-endian u32 length prefix; undefined when the bytes end first (the decoder fails there). */
function prefix(bytes: Uint8Array, at: number): number | undefined {
  if (at + 4 > bytes.byteLength) return undefined;
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** The values part of a page (after its levels): RLE booleans and dictionary indices, as hyparquet reads them. */
function checkValues(page: Uint8Array, at: number, header: ParquetPageHeader, values: number, shape: ParquetChunkShape, lengthPrefixedIndices: boolean, bound: DictionaryBound | undefined): void {
  const encoding = header.encoding;
  if (!(isDictionaryEncoding(encoding) || encoding === ENCODING_RLE)) return;
  if (shape.boolean) {
    if (prefix(page, at) === undefined) return;
    walkHybrid(page, at + 4, 1, values, -1, 'boolean values', shape.where);
    return;
  }
  if (at >= page.byteLength) return;
  const width = page[at]!;
  // hyparquet fills a v1 page of width 0 with zeros itself; a v2 page walks the stream.
  if (width === 0 && lengthPrefixedIndices) return;
  if (width > 32 && bound) invalid(`${shape.where}, ${bound.label}: the dictionary indices' bit width is ${width}, over 32`);
  walkHybrid(page, at + 1, width, values, -1, 'dictionary indices', shape.where, isDictionaryEncoding(encoding) ? bound : undefined);
}

/** A data page (v1): levels and values are all inside the (compressed) page. */
function checkDataPage(body: Uint8Array, header: ParquetPageHeader, shape: ParquetChunkShape, bound: DictionaryBound | undefined): void {
  const values = header.values ?? 0;
  const needsLevels = shape.maxDefinition > 0 || shape.maxRepetition > 0;
  if (!needsLevels && !isDictionaryEncoding(header.encoding) && header.encoding !== ENCODING_RLE) return;
  if (!shape.decompress) return;
  const page = shape.decompress(body, header.uncompressed);
  let at = 0;
  if (shape.maxRepetition > 0) {
    const length = prefix(page, at);
    if (length === undefined) return;
    walkHybrid(page, at + 4, levelWidth(shape.maxRepetition), values, -1, 'repetition levels', shape.where);
    at += 4 + length;
  }
  let present = values;
  if (shape.maxDefinition > 0) {
    const length = prefix(page, at);
    if (length === undefined) return;
    present = walkHybrid(page, at + 4, levelWidth(shape.maxDefinition), values, shape.maxDefinition, 'definition levels', shape.where);
    at += 4 + length;
  }
  checkValues(page, at, header, present, shape, true, bound);
}

/** A data page v2: levels are stored uncompressed before the (maybe compressed) values. */
function checkDataPageV2(body: Uint8Array, header: ParquetPageHeader, shape: ParquetChunkShape, bound: DictionaryBound | undefined): void {
  const values = header.values ?? 0;
  const v2 = header.v2!;
  if (v2.nulls < 0 || v2.nulls > values) invalid(`a data page v2 of ${shape.where} declares ${v2.nulls} nulls among ${values} values`);
  if (v2.repetitionBytes < 0 || v2.definitionBytes < 0 || v2.repetitionBytes + v2.definitionBytes > body.byteLength) {
    invalid(`a data page v2 of ${shape.where} declares ${v2.repetitionBytes} + ${v2.definitionBytes} bytes of levels in a page of ${body.byteLength}`);
  }
  if (shape.maxRepetition > 0) walkHybrid(body, 0, levelWidth(shape.maxRepetition), values, -1, 'repetition levels', shape.where);
  if (shape.maxDefinition > 0) walkHybrid(body, v2.repetitionBytes, levelWidth(shape.maxDefinition), values, -1, 'definition levels', shape.where);
  if (!(isDictionaryEncoding(header.encoding) || header.encoding === ENCODING_RLE)) return;
  const levels = v2.repetitionBytes + v2.definitionBytes;
  const size = header.uncompressed - levels;
  let page = body.subarray(levels);
  if (v2.compressed && size) {
    if (!shape.decompress) return;
    page = shape.decompress(page, size);
  }
  checkValues(page, 0, header, values - v2.nulls, shape, false, bound);
}

/**
 * Walks the pages of one column chunk (its stored bytes, from its first page) and refuses,
 * with `INVALID_HEADER` or `TRUNCATED`, what would make hyparquet allocate more than the
 * chunk can hold: pages declaring more values together than `maxValues`, a dictionary
 * larger than that, a v2 page with more nulls than values, and level or index runs
 * longer than their page (see the file comment); and dictionary indices past their
 * dictionary, a width over 32 or an RLE run of none.
 */
export function parquetCheckChunk(chunk: Uint8Array, shape: ParquetChunkShape): void {
  const cursor = new ThriftCursor(chunk);
  let total = 0;
  /** Entries of the chunk's dictionary page, once seen; data pages counted for messages. */
  let entries: number | undefined;
  let dataPages = 0;
  while (cursor.at < chunk.byteLength - 1) {
    const header = pageHeader(cursor);
    if (header.compressed > chunk.byteLength - cursor.at) {
      throw new TensioError('TRUNCATED', `parquet: a page of ${shape.where} declares ${header.compressed} bytes, ${chunk.byteLength - cursor.at} are left in its column chunk`, { format: 'parquet' });
    }
    const body = chunk.subarray(cursor.at, cursor.at + header.compressed);
    cursor.advance(header.compressed);
    if (header.values === undefined) continue;
    if (header.values < 0) invalid(`a page of ${shape.where} declares ${header.values} values`);
    // A dictionary holds at most as many distinct values as the pages that use it.
    if (header.dictionary || header.type === PAGE_DICTIONARY) {
      if (header.values > shape.maxValues) invalid(`the dictionary page of ${shape.where} declares ${header.values} values; its row group holds at most ${shape.maxValues}`);
      entries ??= header.values;
      continue;
    }
    const firstRow = total;
    total += header.values;
    if (total > shape.maxValues) invalid(`the pages of ${shape.where} declare ${total} values or more; its row group holds at most ${shape.maxValues}`);
    // Rows only for a flat column (values are rows there); nested columns' values are not.
    const rows = shape.maxRepetition === 0 ? ` (rows ${firstRow}-${total - 1})` : '';
    const bound = entries === undefined ? undefined : { entries, label: `data page ${dataPages}${rows}` };
    if (header.type === PAGE_DATA || header.type === PAGE_DATA_V2) dataPages++;
    if (header.type === PAGE_DATA) checkDataPage(body, header, shape, bound);
    else if (header.type === PAGE_DATA_V2 && header.v2) checkDataPageV2(body, header, shape, bound);
  }
}
