/**
 * The fast read path for the common numeric column, a whole column chunk at a time: a
 * flat column chunk of PLAIN data pages (v1 or v2), or dictionary-encoded ones after a
 * PLAIN dictionary page, REQUIRED or OPTIONAL (nulls: zero bytes and a cleared validity
 * bit), whose physical values are the bytes of the tensor dtype (FLOAT → float32, DOUBLE →
 * float64, INT32 → int32/uint32, INT64 → int64/uint64). PLAIN of such a type is the
 * little-endian values themselves, so each page is decompressed and its values copied
 * once into the column's output; hyparquet's generic decoder built arrays value by value
 * and the table layer copied them again.
 *
 * This file finds and checks a chunk's pages ({@link plainPages}, {@link dataPageTaken}),
 * starts their decodes ({@link startDecodes}, {@link AheadSupply}), reads its dictionary
 * ({@link dictionaryOf}) and decodes a whole chunk ({@link parquetDecodePlainChunk});
 * `plain-bands.ts` places a chunk a band of rows at a time from the same pieces.
 *
 * Anything else (other encodings, nested columns, page counts that do not add up,
 * undecodable pages or definition levels) returns `undefined`: the caller then decodes the
 * chunk the general way, which checks it and gives the errors. One damage is refused
 * instead (by page-placer.ts, which places the pages this file lists and decodes): a
 * dictionary index stream the gather cannot read (an index past the
 * dictionary, a width over 32, a cut or overlong run header, a run past its page, an
 * empty RLE run), a `TensioError` INVALID_HEADER naming the column, page, row and what
 * is wrong ({@link parquetPlainRefusal}), because the general decoder (hyparquet) would
 * read some of these as nulls (NaN) where pyarrow refuses them.
 */
import {
  ENCODING_PLAIN, ENCODING_PLAIN_DICTIONARY, PAGE_DATA, PAGE_DATA_V2, PAGE_DICTIONARY, isDictionaryEncoding, pageHeader, ThriftCursor, type ParquetPageHeader,
} from './page-headers.js';
import { allocateZeroed } from '../../core/memory.js';
import { anchorShape } from '../../core/shape-anchors.js';
import { ScratchPool } from '../../storage/scratch-pool.js';
import { parquetNativeGather } from './gather-native.js';
import { PagePlacer, parquetPlainRefusal, type PageSupply, type ParquetValidityTarget, type PendingPage, type StartedPage } from './page-placer.js';
import { ParquetBandScratch } from './page-stream.js';

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
  /** The chunk in messages: `column "x" in row group 3`. */
  readonly where?: string;
}


/** One page of a chunk: its header and its stored (still compressed) body. */
export interface PlainPage {
  readonly header: ParquetPageHeader;
  readonly body: Uint8Array;
}

/** A chunk's pages for this path: an optional PLAIN dictionary page, then data pages. */
export interface PlainPages {
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
    if (!dataPageTaken({ header, body }, shape, dictionary !== undefined)) return undefined;
    values += header.values!;
    if (values > shape.rows) return undefined;
    pages.push({ header, body });
  }
  return values === shape.rows ? { dictionary, pages } : undefined;
}

/**
 * Whether a page is a data page this path takes: v1 or v2, PLAIN or (after a dictionary
 * page, `indexed`) dictionary-encoded, a value count, PLAIN values that fit their page,
 * no repetition levels, no nulls in a REQUIRED column.
 */
export function dataPageTaken({ header }: PlainPage, shape: ParquetPlainChunk, indexed: boolean): boolean {
  if (header.type !== PAGE_DATA && header.type !== PAGE_DATA_V2) return false;
  const dictionaryEncoded = isDictionaryEncoding(header.encoding ?? -1);
  if (!(header.encoding === ENCODING_PLAIN || (dictionaryEncoded && indexed))) return false;
  const count = header.values ?? -1;
  // An OPTIONAL column's page holds values for its defined rows only: fewer bytes when some are null.
  if (count < 0 || (!dictionaryEncoded && shape.maxDefinition === 0 && header.uncompressed < count * shape.itemBytes)) return false;
  return !(header.type === PAGE_DATA_V2 && (!header.v2 || header.v2.repetitionBytes !== 0 || (header.v2.nulls !== 0 && shape.maxDefinition === 0)));
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
export function decodePage({ header, body }: PlainPage, shape: ParquetPlainChunk, target: Uint8Array | undefined): Uint8Array | Promise<Uint8Array> | undefined {
  if (header.type === PAGE_DATA_V2) {
    const levels = header.v2!.definitionBytes;
    if (levels > body.byteLength || header.uncompressed < levels) return undefined;
    const stored = body.subarray(levels);
    const size = header.uncompressed - levels;
    return header.v2!.compressed && shape.decompress && size > 0 ? shape.decompress(stored, size, target) : stored;
  }
  return shape.decompress ? shape.decompress(body, header.uncompressed, target) : body;
}

/** The pages of a chunk in memory whose decodes {@link startDecodes} started. */
export function startedSupply(started: StartedChunk): PageSupply {
  let next = 0;
  return {
    async next() {
      if (next >= started.found.pages.length) return undefined;
      const at = next++;
      return { page: started.found.pages[at]!, decoded: started.decoded[at] };
    },
  };
}

/** A chunk in memory with only its dictionary page's decode started: {@link AheadSupply} starts the data pages'. */
export function startDictionary(found: PlainPages, shape: ParquetPlainChunk): StartedChunk {
  const started = startDecodes({ dictionary: found.dictionary, pages: [] }, shape, () => undefined);
  return { ...started, found, decoded: [] };
}

/**
 * Whether `a` is (a view of) memory `b` views: a page stored uncompressed "decodes" to a
 * view of its window. Not the same ArrayBuffer alone: a whole read's buffers are pieces of
 * shared slabs (see ParquetBandScratch).
 */
export function sameMemory(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + Math.max(1, b.byteLength) && b.byteOffset < a.byteOffset + Math.max(1, a.byteLength);
}

/**
 * The data pages of a chunk in memory (a whole read), each decode started `ahead` pages
 * before placing reaches it, into buffers of the walk's scratch that are retired as
 * placing leaves their page ({@link ParquetBandScratch}): a column holds a few decoded
 * pages, not its whole chunk decoded. Every decode started goes into `started.pending`
 * (settled before the scratch is given back).
 */
export class AheadSupply implements PageSupply {
  private next_ = 0;
  private startedUpTo = 0;

  constructor(private readonly started: StartedChunk, private readonly shape: ParquetPlainChunk, private readonly ahead: number, private readonly scratch: ParquetBandScratch) {
    this.startUpTo(ahead);
  }

  /** Starts the decodes of the pages before `end` not started yet; a page a synchronous decoder refuses ends the supply there. */
  private startUpTo(end: number): void {
    const { found, decoded, pending } = this.started;
    const last = Math.min(end, found.pages.length);
    while (this.startedUpTo < last) {
      const at = this.startedUpTo++;
      let result: PendingPage;
      try {
        result = decodePage(found.pages[at]!, this.shape, undefined);
      } catch {
        result = undefined;
      }
      if (result instanceof Promise) result.catch(() => undefined);
      decoded[at] = result;
      pending.push(result);
    }
  }

  async next(): Promise<StartedPage | undefined> {
    const { found, decoded } = this.started;
    if (this.next_ >= found.pages.length) return undefined;
    const at = this.next_++;
    // Topped up only once half the pages ahead are used: a burst of decodes finds libuv's threads awake (waking a
    // sleeping one for each page, as placing takes it, cost the JavaScript thread ~50 µs a page on this machine's VM).
    if (this.startedUpTo - (at + 1) < this.ahead / 2) this.startUpTo(at + 1 + this.ahead);
    const page = found.pages[at]!;
    const { scratch } = this;
    return {
      page,
      decoded: decoded[at],
      done(made) {
        // A page stored uncompressed "decodes" to a view of the chunk: nothing to reuse.
        if (made && !sameMemory(made, page.body)) scratch.retire(made);
      },
    };
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a supply is made per column chunk. */
anchorShape(
  () => new AheadSupply(
    { found: { dictionary: undefined, pages: [] }, dictionaryPage: undefined, decoded: [], pending: [] },
    { rows: 0, itemBytes: 4, maxDefinition: 0, decompress: undefined },
    0,
    new ParquetBandScratch(new ScratchPool(0, 0), true),
  ),
);

/** Pages of a chunk with their decodes started (see {@link startDecodes}). */
export interface StartedChunk {
  readonly found: PlainPages;
  readonly dictionaryPage: PendingPage;
  readonly decoded: PendingPage[];
  /** Every decode started, to settle before the buffers they write are reused. */
  readonly pending: PendingPage[];
}

/** Starts decompressing the dictionary and every data page (data pages into `targetOf(page, firstRow)` when it gives one). */
export function startDecodes(found: PlainPages, shape: ParquetPlainChunk, targetOf: (page: PlainPage, firstRow: number) => Uint8Array | undefined): StartedChunk {
  const pending: PendingPage[] = [];
  const start = (decode: () => PendingPage) => {
    let result: PendingPage;
    try {
      result = decode();
    } catch {
      // A page a synchronous decoder refuses: this path does not take the chunk (placing stops there).
      return undefined;
    }
    // Handled now, awaited (and its failure seen) when placed, or only settled when placing stops earlier.
    if (result instanceof Promise) result.catch(() => undefined);
    pending.push(result);
    return result;
  };
  const dictionaryPage = found.dictionary ? start(() => shape.decompress ? shape.decompress(found.dictionary!.body, found.dictionary!.header.uncompressed) : found.dictionary!.body) : undefined;
  let firstRow = 0;
  const decoded = found.pages.map((page) => {
    const target = targetOf(page, firstRow);
    firstRow += page.header.values!;
    return start(() => decodePage(page, shape, target));
  });
  return { found, dictionaryPage, decoded, pending };
}

/**
 * Rows of a column's dictionary pages one native gather job takes in a whole read of the
 * column ({@link parquetDecodePlainChunk}): 65,536 (256 KiB of float32), three or four of
 * pyarrow's 20,000-row pages, so a job starts while the next pages decode.
 */
const PARQUET_GATHER_JOB_ROWS = 65_536;

/**
 * Largest dictionary whose pages a whole read of a column gathers natively (256 KiB, an
 * L2 cache's worth); a larger one is gathered on the JavaScript thread as the pages come.
 * Lookups into a larger dictionary miss the caches, and on a worker beside the page
 * decodes they cost more: pyarrow's random float32 (1 MiB dictionaries), interleaved in
 * one process, load ~9: CPU 210 → 282 ms, wall 232 → 456; its bench table (64 KB
 * dictionaries): wall 406 → 311 at the same CPU, JavaScript thread 142 → 80.
 */
const PARQUET_NATIVE_GATHER_MAX_DICTIONARY_BYTES = 256 * 2 ** 10;

/**
 * The chunk's dictionary as 32-bit words, or undefined when it is too short: a view of its
 * decoded page (a chunk in memory keeps its pages until every decode and gather has
 * settled), copied only when the page is not 4-byte aligned (an uncompressed chunk's page
 * at an odd offset). A copy was fresh memory each time (1 MiB per column of pyarrow's
 * default files: 32 MiB per row group, malloc'd and freed, faulted again at each read, and
 * every page of it again after the process started a child): pyarrow's random float32,
 * 1M × 32, stacked, interleaved in one process (load ~6), CPU 436 → 339 ms (JavaScript
 * thread 263 → 162); after a child process each time 524 → 324.
 */
export async function dictionaryOf(started: StartedChunk, shape: ParquetPlainChunk): Promise<{ dictionary: Uint32Array | undefined; entries: number } | undefined> {
  if (!started.found.dictionary) return { dictionary: undefined, entries: 0 };
  const entries = started.found.dictionary.header.values!;
  const plain = await started.dictionaryPage;
  if (!plain || plain.byteLength < entries * shape.itemBytes) return undefined;
  const words = (entries * shape.itemBytes) / 4;
  if (plain.byteOffset % 4 === 0) return { dictionary: new Uint32Array(plain.buffer, plain.byteOffset, words), entries };
  return { dictionary: new Uint32Array(plain.slice(0, entries * shape.itemBytes).buffer), entries };
}

/** {@link plainPages}, undefined for anything it throws on. */
export function plainPagesOrNothing(chunk: Uint8Array, shape: ParquetPlainChunk): PlainPages | undefined {
  if (shape.maxDefinition > 1 || !(shape.itemBytes === 4 || shape.itemBytes === 8)) return undefined;
  try {
    return plainPages(chunk, shape);
  } catch {
    return undefined;
  }
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
 * general path gives them (the table layer then writes NaN for a float column). A damaged
 * dictionary index stream throws its refusal ({@link parquetPlainRefusal}), after every
 * decode has settled.
 */
export async function parquetDecodePlainChunk(chunk: Uint8Array, shape: ParquetPlainChunk): Promise<ParquetPlainColumn | undefined> {
  const found = plainPagesOrNothing(chunk, shape);
  if (!found) return undefined;
  const { pages } = found;
  const bytes = shape.rows * shape.itemBytes;
  const into = shape.into && shape.into.byteLength === bytes && shape.into.byteOffset % 4 === 0 ? shape.into : undefined;
  // One page that decodes to the column's values (tensio's writer and pyarrow at row groups of up to
  // 1 MiB per column), no buffer given: whatever buffer it decodes into is the column's bytes.
  const alone = !into && pages.length === 1 && !found.dictionary && pages[0]!.header.type === PAGE_DATA && decodesToValues(pages[0]!, shape);
  const given = into ?? (alone ? undefined : (shape.allocate ?? allocateZeroed)(bytes));
  const started = startDecodes(found, shape, (page, firstRow) => pageTarget(page, shape, given, firstRow));
  /** Native gather jobs started (see below): settled before anything is returned or thrown. */
  const gathers: Promise<void>[] = [];
  try {
    const dictionary = await dictionaryOf(started, shape);
    if (!dictionary) return undefined;
    let out = given;
    if (!out) {
      // The lone page (see `alone`): never a view of the chunk itself, which the caller may reuse once this returns.
      const only = await started.decoded[0];
      if (!only || only.buffer === chunk.buffer || only.byteOffset % shape.itemBytes !== 0 || only.byteLength < bytes) return undefined;
      out = only.subarray(0, bytes);
    }
    const validity: ParquetValidityTarget = { rows: shape.rows };
    const placer = new PagePlacer(shape, startedSupply(started), dictionary.dictionary, dictionary.entries);
    const nativeGather = dictionary.dictionary && dictionary.dictionary.byteLength <= PARQUET_NATIVE_GATHER_MAX_DICTIONARY_BYTES ? parquetNativeGather() : undefined;
    if (!nativeGather) {
      if (!(await placer.place(shape.rows, out, 0, validity))) return undefined;
      return validity.bits ? { values: out, validity: validity.bits } : { values: out };
    }
    // Null-free dictionary pieces gathered on libuv's threads, a job per GATHER_JOB_ROWS rows started as soon as its
    // pages are decoded, while this thread goes on to the next rows (the JavaScript gather was most of this thread's
    // time: pyarrow's bench table, 118 of 250 ms a columnar read). Not one job for the chunk at its end: that cost
    // more CPU (pyarrow's random float32: 331 → 390 ms), its pages out of the caches by then.
    let placed = true;
    for (let first = 0; placed && first < shape.rows; first += PARQUET_GATHER_JOB_ROWS) {
      const job = nativeGather();
      placed = await placer.place(Math.min(PARQUET_GATHER_JOB_ROWS, shape.rows - first), out, first, validity, undefined, job);
      if (job.pieces > 0) {
        const gathered = job.run(out);
        gathered.catch(() => undefined);
        gathers.push(gathered);
      }
    }
    // Every job settled before returning (no worker writes `out` after); a refusal among them is thrown, in order.
    const outcomes = await Promise.allSettled(gathers);
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    if (!placed) return undefined;
    return validity.bits ? { values: out, validity: validity.bits } : { values: out };
  } catch (error) {
    if (parquetPlainRefusal(error)) throw error;
    // The general path decodes the chunk again and reports what is wrong with it.
    return undefined;
  } finally {
    // A failure stops the placing early: the other pages may still be decoding into buffers the caller reuses.
    await Promise.allSettled([...started.pending, ...gathers]);
  }
}
