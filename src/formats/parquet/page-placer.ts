/**
 * Placing a column chunk's decoded data pages, in order, into a tensor's bytes: the whole
 * column packed at once, or a band of rows of every column in turn, packed or straight
 * into row-major rows (a dictionary gather writing each value in its row). The pages come
 * from a {@link PageSupply} (plain-pages.ts: a chunk in memory with its decodes started;
 * plain-bands.ts: a streamed chunk read a page ahead), so this file knows nothing of where the bytes
 * are. It is also where the fast path's refusals of damaged dictionary indices are made
 * ({@link parquetPlainRefusal}).
 */
import { TensioError } from '../../core/errors.js';
import { anchorShape } from '../../core/shape-anchors.js';
import { DictionaryIndexStream, parquetAllLevelsOne, parquetDefinitionLevels, spreadNulls } from './hybrid-streams.js';
import type { ParquetGatherJob } from './gather-native.js';
import { PAGE_DATA_V2, isDictionaryEncoding } from './page-headers.js';
import type { ParquetPlainChunk, PlainPage } from './plain-pages.js';

/** The refusals of this path (see the module comment): errors its callers pass on rather than decoding the chunk again. */
const refusals = new WeakSet<object>();

/**
 * Whether `error` is this path's refusal of a damaged dictionary index stream (a
 * `TensioError` to pass on), not a page it merely does not take.
 */
export function parquetPlainRefusal(error: unknown): error is TensioError {
  return error instanceof TensioError && refusals.has(error);
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

/** Where a placed band's null rows are marked: `bits` (one per row of `rows`, set = defined) is made on the first null. */
export interface ParquetValidityTarget {
  readonly rows: number;
  bits?: Uint8Array;
}

/**
 * A column placed straight into row-major rows (a stacked tensor's), not packed: row r's
 * value starts at 32-bit word `r × rowWords + columnWord` of the output. Null rows get
 * zero words and their validity bit cleared, as packed.
 */
export interface ParquetRowsLayout {
  readonly rowWords: number;
  readonly columnWord: number;
}

/** A data page ready to place: its values section and where placing is in it. */
interface ReadyPage {
  /** Its place among the chunk's data pages, and its first row in the row group (for messages). */
  readonly index: number;
  readonly firstRow: number;
  readonly count: number;
  /** One byte per row (1 defined, 0 null) when some rows are null. */
  readonly defined: Uint8Array | undefined;
  readonly section: Uint8Array;
  /** The indices of a dictionary-encoded page. */
  readonly stream: DictionaryIndexStream | undefined;
  /** Values (defined rows) placed so far. */
  valueAt: number;
  /** Placing has left the page (see {@link StartedPage.done}). */
  readonly done: (() => void) | undefined;
}

export type PendingPage = Uint8Array | Promise<Uint8Array> | undefined;

/** A data page with its decode started. */
export interface StartedPage {
  readonly page: PlainPage;
  readonly decoded: PendingPage;
  /** Placing has left the page (`decoded`: what it decoded to): its buffers may be reused once the bands placed from it are done. */
  done?(decoded: Uint8Array | undefined): void;
}

/**
 * A chunk's data pages in order, each with its decode started (all at once for a chunk in
 * memory, a page ahead for a streamed one). `next(pass)`: a page of at most `pass` rows
 * may be passed over undecoded (answered `{ skipped: rows }`); undefined at the end, or at
 * a page this path does not take.
 */
export interface PageSupply {
  next(pass: number): Promise<StartedPage | { skipped: number } | undefined>;
  /** Placing is near the end of the current page: start reading and decoding the next (a streamed chunk; none holds pages ahead until then). */
  soon?(): void;
}

/**
 * A chunk's data pages placed in order, any number of rows at a time: the whole column at
 * once ({@link parquetDecodePlainChunk}) or a band of rows of every column in turn
 * ({@link parquetPlainChunkBands}). Each page is awaited when placing reaches it.
 */
export class PagePlacer {
  private current: ReadyPage | undefined;
  private rowInPage = 0;
  /** Pieces placed into rows (see `layout`) that are not a null-free dictionary gather go through here first. */
  private scratch: Uint32Array | undefined;
  /** Rows of the pages made ready (or passed over) so far, and their number. */
  private rowsBefore = 0;
  private pagesReady = 0;

  constructor(private readonly shape: ParquetPlainChunk, private readonly supply: PageSupply, private readonly dictionary: Uint32Array | undefined, private readonly entries: number) {}

  /** Tells the supply when the rows left in the current page are at most two calls' worth (`count`): the next page is wanted soon. */
  private lookAhead(count: number): void {
    if (this.current && this.current.count - this.rowInPage <= 2 * count) this.supply.soon?.();
  }

  /** The next data page made ready, or undefined when there is none or it is not one this path takes. */
  private async nextPage(): Promise<ReadyPage | undefined> {
    this.leave();
    const started = await this.supply.next(0);
    return started && 'page' in started ? this.ready(started) : undefined;
  }

  /** Says the current page is left (its buffers reusable once what was placed from it is done). */
  private leave(): void {
    this.current?.done?.();
    this.current = undefined;
  }

  /**
   * Moves past the next `count` rows without placing them (a row range that starts inside
   * the chunk): whole pages the supply can pass over are never decoded; false when a page
   * turns out not to be one this path takes.
   */
  async skip(count: number): Promise<boolean> {
    while (count > 0) {
      if (!this.current || this.rowInPage === this.current.count) {
        this.leave();
        const next = await this.supply.next(count);
        this.rowInPage = 0;
        this.current = undefined;
        if (!next) return false;
        if ('skipped' in next) {
          count -= next.skipped;
          this.rowsBefore += next.skipped;
          this.pagesReady++;
          continue;
        }
        this.current = await this.ready(next);
        if (!this.current) return false;
        continue;
      }
      const page = this.current;
      const take = Math.min(count, page.count - this.rowInPage);
      let present = take;
      if (page.defined) {
        present = 0;
        for (let row = this.rowInPage, end = row + take; row < end; row++) present += page.defined[row]!;
      }
      if (page.stream && !page.stream.skip(present)) return false;
      page.valueAt += present;
      this.rowInPage += take;
      count -= take;
    }
    return true;
  }

  /**
   * Places the next `count` rows into `out` from row `outRow` (a null row: zero bytes and
   * its bit cleared in `validity`, counted from `outRow` = 0), packed or, with `layout`,
   * into rows; false when a page turns out not to be one this path takes. With `gather`,
   * the pieces of dictionary pages without nulls are added to it instead of gathered
   * here (packed, or into rows with `layout`): they are written when the caller runs it on `out`.
   */
  async place(count: number, out: Uint8Array, outRow: number, validity: ParquetValidityTarget, layout?: ParquetRowsLayout, gather?: ParquetGatherJob): Promise<boolean> {
    const { itemBytes } = this.shape;
    const words = itemBytes / 4;
    let outWords: Uint32Array | undefined;
    let done = 0;
    while (done < count) {
      if (!this.current || this.rowInPage === this.current.count) {
        this.current = await this.nextPage();
        if (!this.current) return false;
        this.rowInPage = 0;
        continue;
      }
      this.lookAhead(count);
      const page = this.current;
      const take = Math.min(count - done, page.count - this.rowInPage);
      let present = take;
      if (page.defined) {
        present = 0;
        for (let row = this.rowInPage, end = row + take; row < end; row++) present += page.defined[row]!;
      }
      const first = outRow + done;
      if (layout) {
        outWords ??= new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
        if (!this.placeInRows(page, take, present, outWords, first, layout, validity, gather)) return false;
        page.valueAt += present;
        this.rowInPage += take;
        done += take;
        continue;
      }
      if (page.stream || present < take) outWords ??= new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
      if (page.stream && gather && present === take) {
        const start = page.stream.position;
        if (!gather.add(page.stream, take, first * words, words, (value, reason) => this.refusal(page, start + value, reason))) return this.stopped(page);
      } else if (page.stream) {
        if (!page.stream.gather(present, outWords!, first * words)) return this.stopped(page);
      } else {
        const from = page.valueAt * itemBytes;
        const values = page.section.subarray(from, from + present * itemBytes);
        // A page decoded straight into its rows (pageTarget) is in place already.
        if (values.buffer !== out.buffer || values.byteOffset !== out.byteOffset + first * itemBytes) out.set(values, first * itemBytes);
      }
      page.valueAt += present;
      if (present < take) {
        validity.bits ??= new Uint8Array(Math.ceil(validity.rows / 8)).fill(0xff);
        spreadNulls(outWords!, first, take, present, words, page.defined!.subarray(this.rowInPage), validity.bits);
      }
      this.rowInPage += take;
      done += take;
    }
    return true;
  }

  /**
   * One piece of a page (`take` rows, `present` of them with a value) into rows of
   * `out` from row `first` (see {@link ParquetRowsLayout}): a null-free dictionary gather
   * writes each value in its row at once (added to `gather` when given), and so do null-free
   * PLAIN values when `gather` is given (its native job copies them); anything else is
   * placed packed into a scratch buffer first (nulls spread there) and then copied to its rows.
   */
  private placeInRows(page: ReadyPage, take: number, present: number, out: Uint32Array, first: number, layout: ParquetRowsLayout, validity: ParquetValidityTarget, gather?: ParquetGatherJob): boolean {
    const words = this.shape.itemBytes / 4;
    const { rowWords, columnWord } = layout;
    if (page.stream && present === take) {
      const start = page.stream.position;
      const gathered = gather ? gather.add(page.stream, take, first * rowWords + columnWord, rowWords, (value, reason) => this.refusal(page, start + value, reason))
        : page.stream.gather(take, out, first * rowWords + columnWord, rowWords);
      return gathered || this.stopped(page);
    }
    if (!page.stream && present === take && gather?.addValues) {
      // PLAIN values without nulls: copied to their rows by the band's native job (its worker writes the rows, not this thread).
      const from = page.valueAt * this.shape.itemBytes;
      gather.addValues(page.section.subarray(from, from + take * this.shape.itemBytes), words, first * rowWords + columnWord, rowWords);
      return true;
    }
    if (!this.scratch || this.scratch.length < take * words) this.scratch = new Uint32Array(take * words);
    const scratch = this.scratch;
    if (page.stream) {
      if (!page.stream.gather(present, scratch, 0)) return this.stopped(page);
    } else {
      const from = page.valueAt * this.shape.itemBytes;
      new Uint8Array(scratch.buffer, 0, present * this.shape.itemBytes).set(page.section.subarray(from, from + present * this.shape.itemBytes));
    }
    if (present < take) {
      validity.bits ??= new Uint8Array(Math.ceil(validity.rows / 8)).fill(0xff);
      spreadNulls(scratch, 0, take, present, words, page.defined!.subarray(this.rowInPage), validity.bits, first);
    }
    let to = first * rowWords + columnWord;
    if (words === 1) {
      for (let i = 0; i < take; i++, to += rowWords) out[to] = scratch[i]!;
    } else {
      for (let i = 0; i < take; i++, to += rowWords) { out[to] = scratch[2 * i]!; out[to + 1] = scratch[2 * i + 1]!; }
    }
    return true;
  }

  /** Where a page's gather stopped: a refusal thrown for damage, else false (the chunk goes to the general decoder). */
  private stopped(page: ReadyPage): false {
    const damage = page.stream?.damage;
    if (damage) throw this.refusal(page, damage.value, damage.reason);
    return false;
  }

  /** The refusal of `page`'s dictionary index stream, damaged (`reason`) at its value `value`. */
  private refusal(page: ReadyPage, value: number, reason: string): TensioError {
    // The value's row: among the page's defined rows when some are null.
    let row = value;
    if (page.defined) {
      for (let seen = -1, r = 0; r < page.count; r++) if (page.defined[r] === 1 && ++seen === value) { row = r; break; }
    }
    const where = this.shape.where ? `${this.shape.where}, ` : '';
    const error = new TensioError('INVALID_HEADER', `parquet: ${where}data page ${page.index} (rows ${page.firstRow}-${page.firstRow + page.count - 1}): ${reason}, at row ${page.firstRow + row} (value ${value} of the page)`, { format: 'parquet' });
    refusals.add(error);
    return error;
  }

  /**
   * The next `count` rows as a view of their page, when they are PLAIN values of one page
   * without nulls (aligned for their type), moving past them; else undefined, nothing moved.
   */
  async view(count: number): Promise<Uint8Array | undefined> {
    const { itemBytes } = this.shape;
    if (!this.current || this.rowInPage === this.current.count) {
      this.current = await this.nextPage();
      this.rowInPage = 0;
      if (!this.current) return undefined;
    }
    this.lookAhead(count);
    const page = this.current;
    if (page.stream || page.defined || page.count - this.rowInPage < count) return undefined;
    const from = page.valueAt * itemBytes;
    const values = page.section.subarray(from, from + count * itemBytes);
    if (values.byteOffset % itemBytes !== 0) return undefined;
    page.valueAt += count;
    this.rowInPage += count;
    return values;
  }

  /** A data page decoded and split into levels and values, or undefined when it does not fit. */
  private async ready(started: StartedPage): Promise<ReadyPage | undefined> {
    const { shape } = this;
    const { header, body } = started.page;
    const page = await started.decoded;
    if (!page) return undefined;
    const count = header.values!;
    const index = this.pagesReady++;
    const firstRow = this.rowsBefore;
    this.rowsBefore += count;
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
    let defined: Uint8Array | undefined;
    if (levels && !parquetAllLevelsOne(levels, count)) {
      defined = new Uint8Array(count);
      present = parquetDefinitionLevels(levels, count, defined);
      if (present < 0) return undefined;
    }
    if (header.type === PAGE_DATA_V2 && header.v2!.nulls !== count - present) return undefined;
    let stream: DictionaryIndexStream | undefined;
    if (isDictionaryEncoding(header.encoding ?? -1)) {
      if (!this.dictionary) return undefined;
      stream = new DictionaryIndexStream(section, this.dictionary, this.entries, shape.itemBytes / 4);
    } else if (section.byteLength < present * shape.itemBytes) {
      return undefined;
    }
    return { index, firstRow, count, defined, section, stream, valueAt: 0, done: started.done && (() => started.done!(page)) };
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a placer is made per column chunk. */
anchorShape(() => new PagePlacer({ rows: 0, itemBytes: 4, maxDefinition: 0, decompress: undefined }, { next: async () => undefined }, new Uint32Array(0), 0));
