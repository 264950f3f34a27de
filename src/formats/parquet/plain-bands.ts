/**
 * A flat numeric column chunk of the fast read path (`plain-pages.ts`) placed a band of
 * rows at a time ({@link parquetPlainChunkBands}), for the band walk of a stacked read
 * (`row-group-bands.ts`): a chunk in memory whose pages decode all at once or a few ahead
 * of placing, or a chunk read page by page as placing goes ({@link ReadPageSupply} over a
 * `ParquetPageReader`), each band placed by a `PagePlacer` (`page-placer.ts`).
 *
 * Apart from `plain-pages.ts` because it is the other consumer of the same pieces:
 * that file finds, checks and decodes a chunk's pages and decodes a whole chunk at once;
 * this one only schedules reads and decodes as placing goes and hands out the bands.
 * What a chunk this path does not take, and the one damage it refuses, are as there.
 */
import { anchorShape } from '../../core/shape-anchors.js';
import { bytesSource } from '../../storage/byte-source.js';
import { ENCODING_PLAIN, ENCODING_PLAIN_DICTIONARY, PAGE_DATA, PAGE_DATA_V2, PAGE_DICTIONARY } from './page-headers.js';
import type { ParquetGatherJob } from './gather-native.js';
import { PagePlacer, parquetPlainRefusal, type PageSupply, type ParquetRowsLayout, type ParquetValidityTarget, type PendingPage, type StartedPage } from './page-placer.js';
import { ParquetPageReader, type ParquetBandScratch, type ParquetStoredPage } from './page-stream.js';
import {
  AheadSupply, dataPageTaken, decodePage, dictionaryOf, plainPagesOrNothing, sameMemory, startDecodes, startDictionary, startedSupply, type ParquetPlainChunk,
} from './plain-pages.js';

/** A column chunk placed a band of rows at a time ({@link parquetPlainChunkBands}). */
export interface ParquetPlainBands {
  /**
   * The chunk's next `count` rows: a view of their decoded page when they are PLAIN values
   * of one page without nulls (no copy), else placed into `out` from row 0 (`count ×
   * itemBytes` bytes at least, 4-byte aligned; null rows as zero bytes with their bit
   * cleared in `validity`) and `out` returned; undefined when the chunk turns out not to be
   * one this path takes (the caller then decodes it the general way). Throws only the
   * refusal of a damaged dictionary index stream ({@link parquetPlainRefusal}).
   */
  place(count: number, out: Uint8Array, validity: ParquetValidityTarget): Promise<Uint8Array | undefined>;
  /**
   * The chunk's next `count` rows as a view of their decoded page when they are PLAIN
   * values of one page without nulls (no copy, `out` untouched), else written into rows
   * of `out` (from its start, see {@link ParquetRowsLayout}) and `out` returned; undefined
   * when the chunk turns out not to be one this path takes. Throws only a refusal, as
   * {@link place} does. With `gather`
   * (`gather-native.ts`), the rows of dictionary pages without nulls are added
   * to it instead: written only when the caller runs it on `out`.
   */
  placeInRows(count: number, out: Uint8Array, layout: ParquetRowsLayout, validity: ParquetValidityTarget, gather?: ParquetGatherJob): Promise<Uint8Array | undefined>;
  /**
   * Moves past the chunk's next `count` rows without placing them (a row range starting
   * inside the row group): pages wholly inside them are passed over, never read or
   * decoded when the chunk is read as placing goes. False when the chunk turns out not to
   * be one this path takes.
   */
  skip(count: number): Promise<boolean>;
  /** Resolves once every page decode has settled: call it before reusing any buffer the pages were decoded into, or the chunk. */
  settle(): Promise<void>;
}

/**
 * {@link parquetPlainChunkBands} of a chunk in memory (a whole read): its pages found and
 * checked at once ({@link plainPagesOrNothing}), every decode started at once, placed in order.
 */
async function chunkInMemoryBands(chunk: Uint8Array, shape: ParquetPlainChunk, reading: ParquetBandsReading): Promise<ParquetPlainBands | undefined> {
  const found = plainPagesOrNothing(chunk, shape);
  if (!found) return undefined;
  const bounded = Number.isFinite(reading.ahead) && reading.scratch !== undefined;
  const started = bounded ? startDictionary(found, shape) : startDecodes(found, shape, () => undefined);
  const supply = bounded ? new AheadSupply(started, shape, Math.max(1, reading.ahead), reading.scratch!) : startedSupply(started);
  const settle = async () => { await Promise.allSettled(started.pending); };
  let dictionary: Awaited<ReturnType<typeof dictionaryOf>>;
  try {
    dictionary = await dictionaryOf(started, shape);
  } catch {
    dictionary = undefined;
  }
  if (!dictionary) {
    await settle();
    return undefined;
  }
  return bandsOf(new PagePlacer(shape, supply, dictionary.dictionary, dictionary.entries), settle);
}

/**
 * The {@link ParquetPlainBands} of a placer: what placing throws is a chunk this path does
 * not take (undefined), except a refusal and, when `failure` gives one, a read's own
 * failure, which are thrown.
 */
function bandsOf(placer: PagePlacer, settle: () => Promise<void>, failure?: () => unknown): ParquetPlainBands {
  const guarded = async <T>(run: () => Promise<T | undefined>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (parquetPlainRefusal(error)) throw error;
      const read = failure?.();
      if (read) throw read;
      return undefined;
    }
  };
  return {
    place: (count, out, validity) => guarded(async () => (await placer.view(count)) ?? ((await placer.place(count, out, 0, validity)) ? out : undefined)),
    placeInRows: (count, out, layout, validity, gather) => guarded(async () => (await placer.view(count)) ?? ((await placer.place(count, out, 0, validity, layout, gather)) ? out : undefined)),
    skip: async (count) => (await guarded(async () => (await placer.skip(count)) || undefined)) === true,
    settle,
  };
}

/** How {@link parquetPlainChunkBands} reads a chunk's pages. */
export interface ParquetBandsReading {
  /**
   * Data pages of a {@link ParquetPageReader} whose decodes run ahead of placing: `Infinity`
   * reads and starts every page at once; a finite number (a streamed read: 1) reads and
   * decodes that many pages ahead only once placing nears the end of the current page (its
   * last two bands), so a column holds one decoded page most of the time and two around a
   * page's end, not two all along. A chunk in memory (a whole read) starts every page at
   * once, or with a finite `ahead` and a {@link scratch}, keeps that many pages decoding
   * ahead of the page being placed, into the scratch's buffers.
   */
  readonly ahead: number;
  /**
   * Start reading and decoding the first data pages now (default true). False when the
   * caller skips rows first ({@link ParquetPlainBands.skip}): pages it passes over are then
   * never read.
   */
  readonly prime?: boolean;
  /** Where a read's decoded pages (and a streamed read's windows) go back to as placing leaves them (see {@link ParquetBandScratch}). */
  readonly scratch?: ParquetBandScratch;
}

/**
 * A chunk's pages read as placing needs them ({@link ParquetPageReader}), each checked as
 * `plainPages` (plain-pages.ts) checks a whole chunk's, its decode started `ahead` pages before it is placed.
 */
class ReadPageSupply implements PageSupply {
  private readonly queue: StartedPage[] = [];
  private values = 0;
  private ended = false;
  private filling: Promise<void> = Promise.resolve();
  /** Decodes started and not yet settled (settled ones are dropped: the pages they made are the placer's to hold). */
  private readonly pending = new Set<Promise<Uint8Array>>();
  /** What a read of the chunk threw (damaged sizes, an abort, an I/O error): the caller rethrows it rather than fall back. */
  failure: unknown;

  /** A read started by {@link soon} is running. */
  private priming = false;

  /**
   * @param lazy Pages are read ahead only when placing nears the end of the last ({@link soon}), not as soon as one is taken:
   *   a streamed read then holds the next page for the last band or two of the current one, not all along.
   */
  constructor(private readonly reader: ParquetPageReader, private readonly shape: ParquetPlainChunk, private readonly indexed: boolean, private readonly ahead: number, private readonly scratch?: ParquetBandScratch, private readonly lazy = false) {}

  /** A page read already (the chunk's first), taken before the reader's next. */
  private held: ParquetStoredPage | undefined;

  hold(page: ParquetStoredPage): void {
    this.held = page;
  }

  /** Starts reading and decoding pages ahead of placing (see {@link ParquetBandsReading.ahead}). */
  prime(): void {
    this.filling = this.filling.then(() => this.topUp()).catch((error: unknown) => { this.failure ??= error; });
  }

  async next(pass: number): Promise<StartedPage | { skipped: number } | undefined> {
    if (this.queue.length === 0) {
      await this.filling;
      if (this.failure) throw this.failure;
      if (this.queue.length === 0) {
        let read: StartedPage | { skipped: number } | undefined;
        try {
          read = await this.read(pass);
        } catch (error) {
          this.failure ??= error;
          throw error;
        }
        if (!read || 'skipped' in read) return read;
        this.queue.push(read);
      }
    }
    const page = this.queue.shift()!;
    if (!this.lazy) this.prime();
    return page;
  }

  soon(): void {
    if (this.lazy && !this.ended && this.queue.length === 0 && !this.priming) {
      this.priming = true;
      this.prime();
      this.filling = this.filling.then(() => { this.priming = false; });
    }
  }

  /** Resolves once no read is running and every decode has settled. */
  async settle(): Promise<void> {
    await this.filling;
    await Promise.allSettled([...this.pending]);
  }

  private async topUp(): Promise<void> {
    while (!this.ended && this.queue.length < this.ahead) {
      const read = await this.read(0);
      if (read && 'page' in read) this.queue.push(read);
    }
  }

  /** The next data page started, or passed over (at most `pass` rows), or undefined at the end or at a page not taken. */
  private async read(pass: number): Promise<StartedPage | { skipped: number } | undefined> {
    if (this.ended) return undefined;
    const { shape } = this;
    const held = this.held;
    this.held = undefined;
    const stored = held ?? await this.reader.next((header) => pass > 0 && (header.type === PAGE_DATA || header.type === PAGE_DATA_V2)
      && header.values !== undefined && header.values >= 0 && header.values <= pass && this.values + header.values <= shape.rows);
    if (!stored) {
      this.ended = true;
      return undefined;
    }
    const { header } = stored;
    if (!stored.body) {
      this.values += header.values!;
      return { skipped: header.values! };
    }
    const body = stored.body;
    const page = { header, body };
    if (!dataPageTaken(page, shape, this.indexed) || (this.values += header.values!) > shape.rows) {
      this.ended = true;
      return undefined;
    }
    let decoded: PendingPage;
    try {
      decoded = decodePage(page, shape, undefined);
    } catch {
      // A page a synchronous decoder refuses: this path does not take the chunk.
      this.ended = true;
      return undefined;
    }
    // A compressed page's stored bytes are done with once decoded (a v2 page's levels are read from them when placed):
    // its window goes back then, not when placing leaves the page.
    const bodyDone = (made: Uint8Array | undefined) => {
      if (made && !sameMemory(made, body) && (header.type === PAGE_DATA || shape.maxDefinition === 0)) stored.release(true);
    };
    if (decoded instanceof Promise) {
      const running = decoded;
      this.pending.add(running);
      running.then((made) => { this.pending.delete(running); bodyDone(made); }, () => this.pending.delete(running));
    } else {
      bodyDone(decoded);
    }
    const { scratch } = this;
    return {
      page, decoded,
      done(made) {
        stored.release();
        // A page stored uncompressed decodes to a view of its window: that goes back with the window.
        if (made && !sameMemory(made, body)) scratch?.retire(made);
      },
    };
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a streamed read makes a supply per column chunk. */
anchorShape(() => new ReadPageSupply(
  new ParquetPageReader({ source: bytesSource(new Uint8Array(0)), offset: 0, length: 0 }, { readAhead: 0, where: '' }),
  { rows: 0, itemBytes: 4, maxDefinition: 0, decompress: undefined },
  false,
  0,
));

/**
 * A column chunk for the fast path (see `parquetDecodePlainChunk`, plain-pages.ts) placed band by
 * band: each {@link ParquetPlainBands.place} gathers or copies the next rows, so a stacked
 * read places a band of rows of every column into a small buffer it reuses (or straight
 * into the tensor's rows), instead of decoding each whole column into fresh memory first.
 *
 * `chunk` is the chunk's stored bytes (in memory), or a {@link ParquetPageReader} over
 * them that reads as placing goes (a streamed read: with `reading.ahead` 1 it holds the
 * page being placed, the next one decoding, and the reader's window). Undefined when the
 * chunk is not one this path takes (known from its first page; a later page this path does
 * not take makes `place` answer undefined there). The reader's own failures (a page
 * running past the chunk, an abort, an I/O error) are thrown, from here or from `place`.
 */
export async function parquetPlainChunkBands(chunk: Uint8Array | ParquetPageReader, shape: ParquetPlainChunk, reading: ParquetBandsReading = { ahead: Number.POSITIVE_INFINITY }): Promise<ParquetPlainBands | undefined> {
  if (chunk instanceof Uint8Array) return chunkInMemoryBands(chunk, shape, reading);
  if (shape.maxDefinition > 1 || !(shape.itemBytes === 4 || shape.itemBytes === 8)) return undefined;
  const reader = chunk;
  // The first page: the dictionary when the chunk has one (placing needs it whole first), else the first data page.
  const first = await reader.next();
  const indexed = first?.header.type === PAGE_DICTIONARY;
  let dictionaryPage: Promise<Uint8Array | undefined> | undefined;
  if (first && indexed) {
    const { header, body } = first;
    const entries = header.values ?? -1;
    if ((header.encoding !== ENCODING_PLAIN && header.encoding !== ENCODING_PLAIN_DICTIONARY) || entries < 0 || header.uncompressed < entries * shape.itemBytes) return undefined;
    dictionaryPage = (async () => {
      try {
        return await (shape.decompress ? shape.decompress(body!, header.uncompressed) : body);
      } catch {
        return undefined;
      }
    })();
  }
  const supply = new ReadPageSupply(reader, shape, indexed, Math.max(0, reading.ahead), reading.scratch, Number.isFinite(reading.ahead));
  // Not a dictionary: the first data page, read already, is the supply's first.
  if (first && !indexed) supply.hold(first);
  // The data pages start decoding while the dictionary does (a whole read: every page at once).
  if (reading.prime !== false) supply.prime();
  let dictionary: { dictionary: Uint32Array | undefined; entries: number } = { dictionary: undefined, entries: 0 };
  if (first && dictionaryPage) {
    const entries = first.header.values!;
    const plain = await dictionaryPage;
    if (!plain || plain.byteLength < entries * shape.itemBytes) {
      await supply.settle();
      return undefined;
    }
    const words = (entries * shape.itemBytes) / 4;
    // A decoded page of its own (compressed chunks) is used in place and kept until the scratch's `finish`, once every
    // band and gather has settled (not retired: no later band may reuse it); a copy was fresh memory each row group
    // (see dictionaryOf). A view of the stored window (uncompressed), or a page at an odd offset, is copied out.
    const own = !sameMemory(plain, first.body!) && plain.byteOffset % 4 === 0;
    dictionary = { dictionary: own ? new Uint32Array(plain.buffer, plain.byteOffset, words) : new Uint32Array(plain.slice(0, entries * shape.itemBytes).buffer), entries };
    first.release(true);
    if (!own && !sameMemory(plain, first.body!)) reading.scratch?.retire(plain);
  }
  // The supply's own failure (a read that threw) is thrown, not taken for a chunk this path does not take.
  return bandsOf(new PagePlacer(shape, supply, dictionary.dictionary, dictionary.entries), () => supply.settle(), () => supply.failure);
}
