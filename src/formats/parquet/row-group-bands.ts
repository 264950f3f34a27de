/**
 * A stacked read's band walk over one Parquet row group (`TableBatch.bands`): every wanted
 * column's chunk set up for the fast path (`chunk-setup.ts`), placed a band of rows at a
 * time (`plain-bands.ts`), into band buffers or straight into the stacked tensor's rows
 * (dictionary pieces gathered on the addon's workers, `gather-native.ts`); what the fast
 * path does not take falls back to the row group decoded whole (`reader.ts`'s `load`).
 */
import type { FileMetaData, RowGroup } from 'hyparquet';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import type { TableColumn } from '../../model/table.js';
import type { TableColumnBatch } from '../../model/table-cells.js';
import type { TableBand, TableBandOptions } from '../../model/table-reader.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { ScratchPool } from '../../storage/scratch-pool.js';
import { parquetPlainChunkSetup, type PlainChunkSetup } from './chunk-setup.js';
import { parquetNativeGather, type ParquetGatherJob } from './gather-native.js';
import { parquetPlainRefusal, type ParquetValidityTarget } from './page-placer.js';
import { ParquetBandScratch, ParquetPageReader, type ParquetChunkRange } from './page-stream.js';
import { parquetPlainChunkBands, type ParquetPlainBands } from './plain-bands.js';
import type { ParquetTopField } from './schema.js';
import { parquetStoredChunks } from './stored-chunks.js';

const fail = errorFactory('parquet');

/** One row group as the band walk sees it: the reader's file, footer and pools, and the batch's whole-group fallback. */
export interface ParquetBandedRowGroup {
  readonly source: ByteSource;
  readonly metadata: FileMetaData;
  readonly group: RowGroup;
  /** The row group's index in the footer (for messages). */
  readonly index: number;
  readonly rows: number;
  /** "row group 3", for messages. */
  readonly label: string;
  readonly columns: readonly TableColumn[];
  readonly fields: readonly ParquetTopField[];
  /** Largest column chunk, stored or decoded (option maxColumnChunkBytes). */
  readonly maxChunk: number;
  /** Stored chunks, band buffers (a whole read's), reused across reads (`TABLE_READ_SCRATCH`). */
  readonly pool: ScratchPool;
  /** A streamed read's windows and decoded pages. */
  readonly streamPool: ScratchPool;
  /** Refuses a wanted column without metadata or whose chunk runs past the end of the file. */
  checkChunks(wanted: readonly number[]): void;
  /** The row group's wanted columns decoded whole (`TableBatch.load`): the fallback. */
  load(wanted: readonly number[], signal?: AbortSignal): Promise<readonly (TableColumnBatch | undefined)[]>;
  /** Gives back what {@link load} took from the pool. */
  release(data: readonly (TableColumnBatch | undefined)[]): void;
}

/** What one band walk holds while it runs (every buffer settled and given back when it ends). */
interface BandWalk {
  /** Per wanted column (by position): its chunk set up, undefined when the fast path does not take it. */
  readonly setups: (PlainChunkSetup<Uint8Array | ParquetChunkRange> | undefined)[];
  /** Per wanted column: its pages placed band by band. */
  readonly placers: (ParquetPlainBands | undefined)[];
  /** Per wanted column: a band's packed values, when the caller gives no rows to write into. */
  readonly buffers: Uint8Array[];
  /** Bands whose native gather may still be running, oldest first. */
  readonly inFlight: { gathered: Promise<boolean>; band: TableBand }[];
  /** Every column placed so far; false once one is not taken (the rest goes the general way). */
  placed: boolean;
  /** Rows before this one were yielded; a fallback goes on from here. */
  yielded: number;
  /** The windows and decoded pages of every column (see {@link ParquetBandScratch}). */
  readonly scratch: ParquetBandScratch;
}

/** Rows a stacked read places per band ({@link PARQUET_BAND_BYTES} of the band's columns, at least 1,024). */
function bandRowsFor(rowBytes: number): number {
  return Math.max(1024, Math.floor(PARQUET_BAND_BYTES / Math.max(1, rowBytes)));
}

/** Awaits every promise (none left running, so no buffer is reused under a read) and throws the first failure. */
async function settledAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/**
 * Stored bytes a streamed read reads past the page it needs (`ParquetPageReader`): the
 * next page's header, and a small page whole; a ~1 MiB page (pyarrow's and tensio's
 * default) is then one read, its first 64 KiB copied from the last window.
 */
const PARQUET_STREAM_READ_AHEAD = 64 * 2 ** 10;

/**
 * Data pages per column a whole (not streamed) read keeps decoding ahead of the page being
 * placed: the pages of the next band or two (pyarrow writes 20,000-row pages; a band of 32
 * float32 columns is 32,768 rows), so placing seldom waits for a decode.
 */
const PARQUET_WHOLE_READ_AHEAD = 4;

/**
 * Smallest row group (decoded bytes of the wanted columns) a stacked read places in
 * bands. Below it the whole decoded columns come from the shared table scratch (`TABLE_READ_SCRATCH`), warm from the
 * last row group (tensio's default 100,000 rows × 32 float32 columns is 12.8 MB), and
 * placing them whole cost less CPU than bands (interleaved, 1M × 32 float32 in row groups
 * of 100,000, load 5-8: snappy 493 against 553 ms, zstd 866 against 922); a row group of
 * pyarrow's default million rows placed in bands: 652 → 412 ms CPU (dictionary pages),
 * 977 → 685 (dictionary then PLAIN).
 */
const PARQUET_BANDED_MIN_BYTES = 16 * 2 ** 20;

/**
 * Bytes of the decoded columns a stacked read places at a time: the band buffers are
 * reused band after band, where whole decoded columns were fresh memory for a row group
 * of a million rows (pyarrow's default), written once and read once by the join. Not
 * smaller: each band gathers every column from its own dictionary in turn, and a band of
 * a few thousand values per column finds a large dictionary (pyarrow's 1 MiB) out of the
 * caches every time. Interleaved, 1M × 32 float32, random values (dictionary then PLAIN),
 * CPU against whole columns, load ~6: 1 MiB bands 760 → 793 ms, 4 MiB 807 → 648, 8 MiB
 * 655 → 498; the bench table (16,000 distinct values) 406 → 349, 426 → 327, 429 → 317.
 */
const PARQUET_BAND_BYTES = 4 * 2 ** 20;

/**
 * Bands of a stacked read whose native dictionary gather may run while the JavaScript
 * thread prepares the next one: enough to keep a libuv worker busy behind it, few enough
 * that their rows (4 MiB each) stay in cache until `place` joins the other columns.
 */
const PARQUET_GATHER_BANDS_IN_FLIGHT = 3;

/** The values of a column placed straight into the tensor's rows (`TableColumnBatch.placed`). */
const NO_VALUES = new Uint8Array(0);

/** Where a band's columns go in the tensor's rows: the band's rows, a row's bytes, and each wanted column's first word in a row. */
interface BandRows {
  readonly rows: Uint8Array;
  readonly rowBytes: number;
  readonly columnWords: readonly number[];
}

/**
 * The next `count` rows of every wanted column placed: into the tensor's rows (`into`,
 * with `gather` holding the dictionary pieces its native job writes there), else into the
 * walk's band buffers; the band's columns, or undefined when a column's page is not one
 * this path takes. Its own function, not part of the walk: V8 optimizes this while the
 * first read is still running, and the walk's generator, much of which runs once a read,
 * is smaller to compile when it becomes hot.
 */
async function placeBand(walk: BandWalk, wanted: readonly number[], count: number, into: BandRows | undefined, gather: ParquetGatherJob | undefined): Promise<(TableColumnBatch | undefined)[] | undefined> {
  const { placers, buffers, setups, inFlight } = walk;
  const data: (TableColumnBatch | undefined)[] = [];
  for (let position = 0; position < wanted.length; position++) {
    const validity: ParquetValidityTarget = { rows: count };
    let bytes: Uint8Array | undefined;
    try {
      bytes = into ? await placers[position]!.placeInRows(count, into.rows, { rowWords: into.rowBytes / 4, columnWord: into.columnWords[position]! }, validity, gather)
        : await placers[position]!.place(count, buffers[position]!, validity);
    } catch (error) {
      // A refusal here comes after the pieces the native jobs still hold: damage they find comes first, as the JavaScript gather meets it.
      if (into && gather && parquetPlainRefusal(error)) {
        for (const earlier of inFlight) await earlier.gathered;
        if (gather.pieces > 0) await gather.run(into.rows).catch((found: unknown) => { if (parquetPlainRefusal(found)) throw found; });
      }
      throw error;
    }
    if (!bytes) return undefined;
    const extra = validity.bits ? { validity: validity.bits } : {};
    data[wanted[position]!] = into && bytes === into.rows ? { values: NO_VALUES, placed: true, ...extra } : { values: bytes.subarray(0, count * setups[position]!.shape.itemBytes), ...extra };
  }
  return data;
}

/**
 * Jobs one whole row group's join into the tensor's rows is split into: one per core of
 * the host this was measured on (2), so the join runs on both while this thread waits.
 */
const PARQUET_WHOLE_JOIN_JOBS = 2;

/**
 * Rows `[first, to)` of a row group decoded whole (`data`, row 0 = the group's row 0)
 * written into the tensor's rows (`rowsFor`) by the addon's gather jobs, each column a
 * PLAIN piece (`gather-native.ts`: a worker writes a tile of rows at a time, every column
 * into it, then the next tile): the band of them, its columns `placed`. Undefined, with
 * nothing written, when the addon has no PLAIN pieces here (or `TENSIO_PARQUET_GATHER=js`)
 * or a column has fewer values than its rows (the caller's join then names the column).
 * A column's null rows are written as its values held them and passed on with its
 * validity, for the caller to write as NaN. Why: the join of a row group under
 * {@link PARQUET_BANDED_MIN_BYTES} (tensio's default 100,000-row groups) ran on the
 * JavaScript thread, blocked, at about a third of a stacked read's time (tensio's own
 * 1M × 32 float32 snappy file: 230 of ~430 ms, `--cpu-prof`).
 */
async function joinedNatively(data: readonly (TableColumnBatch | undefined)[], columns: readonly TableColumn[], wanted: readonly number[], first: number, to: number, rowsFor: TableBandOptions['rowsFor']): Promise<TableBand | undefined> {
  const makeJob = rowsFor ? parquetNativeGather() : undefined;
  if (!makeJob || to <= first) return undefined;
  const items = wanted.map((column) => DTYPE_INFO[columns[column]!.dtype ?? 'uint8'].bits / 8);
  const usable = wanted.every((column, position) => {
    const values = data[column];
    const item = items[position]!;
    return values !== undefined && !values.placed && (item === 4 || item === 8) && values.values.byteLength >= to * item;
  });
  if (!usable) return undefined;
  const rows = to - first;
  const rowWords = items.reduce((sum, item) => sum + item / 4, 0);
  const target = rowsFor!(first, rows);
  if (target.byteLength !== rows * rowWords * 4 || target.byteOffset % 4 !== 0) return undefined;
  const jobs: ParquetGatherJob[] = [];
  const step = Math.ceil(rows / PARQUET_WHOLE_JOIN_JOBS);
  for (let lo = first; lo < to; lo += step) {
    const hi = Math.min(to, lo + step);
    const job = makeJob();
    if (!job.addValues) return undefined;
    let word = 0;
    wanted.forEach((column, position) => {
      const item = items[position]!;
      job.addValues!(data[column]!.values.subarray(lo * item, hi * item), item / 4, (lo - first) * rowWords + word, rowWords);
      word += item / 4;
    });
    jobs.push(job);
  }
  await settledAll(jobs.map((job) => job.run(target)));
  // A column's null rows were written with whatever its values held there: its validity goes with the band (counted
  // from the band's first row), and the caller writes those rows as NaN (tableBatchToBytes' placed columns).
  const placed: (TableColumnBatch | undefined)[] = [];
  for (const column of wanted) {
    const { validity, validityBitOffset = 0 } = data[column]!;
    placed[column] = validity ? { values: NO_VALUES, placed: true, validity, validityBitOffset: validityBitOffset + first } : { values: NO_VALUES, placed: true };
  }
  return { data: placed, first, rows, dataFirst: first, target };
}

/**
 * The caller has taken `band`: what only it and earlier bands used may be reused. A
 * function of the module, not a closure of each read: the band walk's optimized code calls
 * it, and a closure made anew by the next read was a "wrong call target" that threw that
 * code away in the middle of the read (`node --trace-deopt`).
 */
function bandTaken(walk: BandWalk, band: TableBand): void {
  walk.yielded = band.first + band.rows;
  walk.scratch.release(band.first);
}

/**
 * The row group in bands of ~4 MiB of the wanted columns (`TableBatch.bands`), each column through
 * `plain-bands.ts`: read whole for a whole read (the row group's stored chunks held, mapped or in one buffer: `stored-chunks.ts`;
 * its pages decoded a few ahead of placing into the walk's reused slabs, ~3 MiB a column of pyarrow's 1M × 32
 * random float32 group where its decoded pages were 146 MB), read page by page for a stream (`streaming`: per column
 * the page being placed, the next one near its end, a 64 KiB read-ahead window; ~150 MiB above baseline
 * for pyarrow's 1M × 32 float32 groups, where the whole row group was ~530). What falls back to the whole
 * row group decoded the general way (hyparquet; memory: the wanted columns' stored chunks and decoded
 * columns at once, as before bands): a row group under 16 MiB of the wanted columns (bounded by that), and
 * a column the fast path does not take — a type other than FLOAT/DOUBLE/INT32/INT64 read as its own
 * dtype, nested or repeated, definition levels over 1, an encoding other than PLAIN or a dictionary, a
 * page that fails to decode or whose counts do not add up. A stream that meets such a page mid-group goes
 * on from the first row it has not yielded. Sizes that cannot be right (a page past its chunk) are thrown,
 * not fallen back on.
 */
export async function* parquetRowGroupBands(rowGroup: ParquetBandedRowGroup, wanted: readonly number[], options: TableBandOptions = {}): AsyncGenerator<TableBand> {
  const { source, metadata, group, index, rows, columns, fields, maxChunk, pool, streamPool } = rowGroup;
  const { signal, rowsFor, streaming = false } = options;
  const from = options.from ?? 0;
  const to = options.to ?? rows;
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && to <= rows)) fail('INVALID_SLICE', `parquet: rows ${from}..${to} of ${rowGroup.label}, which holds ${rows}`);
  rowGroup.checkChunks(wanted);
  if (from >= to) return;
  /** The rest from `first` on from the whole row group, decoded the ordinary way (in a whole read, joined into the tensor's rows on the addon's workers when it can be). */
  async function* whole(first: number) {
    const data = await rowGroup.load(wanted, signal);
    try {
      const joined = streaming ? undefined : await joinedNatively(data, columns, wanted, first, to, rowsFor);
      yield joined ?? { data, first, rows: to - first, dataFirst: 0 };
    } finally {
      rowGroup.release(data);
    }
  }
  const wantedRowBytes = wanted.reduce((sum, column) => sum + DTYPE_INFO[columns[column]!.dtype ?? 'uint8'].bits / 8, 0);
  if (rows * wantedRowBytes < PARQUET_BANDED_MIN_BYTES) {
    yield* whole(from);
    return;
  }
  const metas = wanted.map((column) => group.columns[fields[column]!.leafIndex!]?.meta_data);
  // A whole read: each column's chunk read whole and its first pages' decodes started as soon as it is read (they decode
  // side by side on libuv's threads), the stored chunks in one mapping of the file, or else one fresh buffer, when their
  // size is known and bounded (their size from the footer, taken only when it is plausible: within the file), else the
  // pool, chunk by chunk (stored-chunks.ts). Its pages decode PARQUET_WHOLE_READ_AHEAD ahead of placing into pieces of
  // the walk's slabs (ParquetBandScratch), each reused once the bands placed from it are taken (epochs: the band's first row; -1 while skipping): the decoded
  // row group is never held whole (it was, in the same fresh buffer: 146 + 146 MB for pyarrow's 1M × 32 random float32
  // row group). A streamed read reads each chunk page by page through a window of its stored bytes (ParquetPageReader),
  // and reads and decodes the next page only near the current one's end, from the reader's own pool.
  let storedChunks = streaming ? undefined : parquetStoredChunks(source, metas);
  const scratch = new ParquetBandScratch(streaming ? streamPool : pool, !streaming);
  scratch.epoch = -1;
  const walk: BandWalk = { setups: [], placers: [], buffers: [], inFlight: [], placed: true, yielded: from, scratch };
  const { setups, placers, buffers, inFlight } = walk;
  try {
    await settledAll(wanted.map(async (column, position) => {
      const where = `column "${columns[column]!.name}" in row group ${index}`;
      if (streaming) {
        const setup = setups[position] = await parquetPlainChunkSetup(source, metadata, fields[column]!, columns[column]!.dtype, rows, metas[position], maxChunk, undefined, where, signal, undefined, scratch);
        const reader = setup && new ParquetPageReader(setup.chunk, { readAhead: PARQUET_STREAM_READ_AHEAD, where, scratch, ...(signal ? { signal } : {}) });
        placers[position] = reader && await parquetPlainChunkBands(reader, setup.shape, { ahead: 1, prime: from === 0, scratch });
      } else {
        const setup = setups[position] = await parquetPlainChunkSetup(source, metadata, fields[column]!, columns[column]!.dtype, rows, metas[position], maxChunk, pool, where, signal, storedChunks, undefined, scratch);
        placers[position] = setup && await parquetPlainChunkBands(setup.chunk, setup.shape, { ahead: PARQUET_WHOLE_READ_AHEAD, scratch });
      }
    }));
    walk.placed = wanted.every((_, position) => placers[position] !== undefined);
    if (walk.placed && from > 0) walk.placed = (await settledAll(placers.map((placer) => placer!.skip(from)))).every(Boolean);
    const rowBytes = setups.reduce((sum, setup) => sum + (setup?.shape.itemBytes ?? 0), 0);
    const bandRows = bandRowsFor(rowBytes);
    const columnWords: number[] = [];
    setups.reduce((word, setup) => { columnWords.push(word); return word + (setup?.shape.itemBytes ?? 0) / 4; }, 0);
    // Columns written straight into the tensor's rows when the caller gives them (see TableBatch.bands):
    // no band buffers, and a dictionary page's gather puts each value in its row (no join).
    if (walk.placed && !rowsFor) for (const setup of setups) buffers.push(pool.take(Math.min(bandRows, to - from) * setup!.shape.itemBytes));
    // Into the tensor's rows, the band's dictionary pieces are gathered by one native job (gather-native.ts) while
    // this thread prepares the next bands; a band is yielded (and the caller joins its other columns into the
    // same rows) only once its job is done, so no two threads write one band at once.
    const nativeGather = rowsFor ? parquetNativeGather() : undefined;
    for (let first = from; walk.placed && first < to; first += bandRows) {
      const count = Math.min(bandRows, to - first);
      scratch.epoch = first;
      const target = rowsFor?.(first, count);
      const band = target && target.byteLength === count * rowBytes && target.byteOffset % 4 === 0 ? target : undefined;
      const gather = band ? nativeGather?.() : undefined;
      const data = await placeBand(walk, wanted, count, band && { rows: band, rowBytes, columnWords }, gather);
      if (!data) {
        walk.placed = false;
        break;
      }
      const ready: TableBand = { data, first, rows: count, dataFirst: first, ...(band ? { target: band } : {}) };
      if (!gather && inFlight.length === 0) {
        storedChunks?.checkIntact();
        yield ready;
        bandTaken(walk, ready);
        continue;
      }
      // A damaged index the native gather found is refused (page-placer.ts made its error); anything else goes the general way.
      const gathered = gather && gather.pieces > 0 ? gather.run(band!).then(() => true, (error: unknown) => {
        if (parquetPlainRefusal(error)) throw error;
        return false;
      }) : Promise.resolve(true);
      gathered.catch(() => undefined);
      inFlight.push({ gathered, band: ready });
      while (walk.placed && inFlight.length > (first + count < to ? PARQUET_GATHER_BANDS_IN_FLIGHT : 0)) {
        const oldest = inFlight.shift()!;
        if (!(await oldest.gathered)) walk.placed = false;
        else {
          storedChunks?.checkIntact();
          yield oldest.band;
          bandTaken(walk, oldest.band);
        }
      }
    }
  } catch (error) {
    // Zeros read from a file cut under the mapping can look like any damage (a bad page header, an index past
    // the dictionary, a failed decode): the cut is what happened, so it is what is reported.
    storedChunks?.checkIntact();
    throw error;
  } finally {
    // No native gather still writing the tensor (the general path may write it next), and every read and decode
    // settled before any buffer goes back to the pool (also when the caller stops early).
    await Promise.allSettled(inFlight.map((band) => band.gathered));
    await Promise.all(placers.map((placer) => placer?.settle()));
    for (const setup of setups) setup?.finish();
    for (const buffer of buffers) pool.give(buffer);
    scratch.finish();
    // Nothing of the read stays reachable from this generator's context: V8 can keep a context alive after
    // its function is done (a pending optimization of a closure made in it), and the stored chunks (146 MB for
    // pyarrow's 1M × 32 random float32 row group) stayed alive through the next read.
    storedChunks = undefined;
    setups.length = 0;
    placers.length = 0;
    buffers.length = 0;
  }
  // A column this path does not take, or a page that turned out damaged: the rest of the row group the general way
  // (it reports what is wrong), holding the whole group's columns.
  if (!walk.placed) yield* whole(walk.yielded);
}
