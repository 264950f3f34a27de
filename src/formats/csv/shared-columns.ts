/**
 * `columns: 'separate'` parsed once: every column of a CSV is its own tensor, but the
 * text is row-major, so the columns of one run of rows (or one band of a gzip stream)
 * are parsed together in one pass over its text, the asking column is handed its values
 * and the others wait in a {@link CsvColumnStash} (memory, then a spill file) until
 * they are read. Reading every column thus reads and tokenizes the text once, in memory
 * bounded by the stash's budget plus one run.
 *
 * A column asking again for a run it already had (a second read of the same tensor), or
 * whose piece could not be kept, parses that run alone: the values are the same, only
 * the work is repeated. A run whose shared parse fails (a bad field in some column) is
 * parsed again for the asking column alone, so each column reports only its own errors.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import type { ChunkCodec, StoredRange } from '../../storage/chunk-codec.js';
import { gunzipCodec } from '../../storage/inflate-codec.js';
import { CsvColumnStash } from './column-stash.js';
import { csvDecodeBlockGroups, csvDecodeBlocks } from './decode.js';
import { csvParseRunGroups, type CsvColumnGroup } from './read.js';
import type { CsvChunkPlan, CsvDialect, CsvDType } from './types.js';

const fail = errorFactory('csv');

/** Values of every column per band of a shared gzip pass. */
const GZIP_BAND_BYTES = 8 * 2 ** 20;

/** One separate column: the field it reads and its dtype. */
export interface CsvColumnSpec {
  readonly field: number;
  readonly dtype: CsvDType;
}

/** Counts of the work done, so tests can see that the text is parsed once. */
export interface CsvSharedColumnsStats {
  /** Runs (or gzip passes) parsed for every column at once. */
  sharedPasses: number;
  /** Runs (or gzip passes) parsed again for one column alone. */
  singlePasses: number;
}

/** The columns grouped by dtype (one group per dtype, fields in column order) and where each column sits. */
function groupByDType(columns: readonly CsvColumnSpec[]): { groups: CsvColumnGroup[]; place: { group: number; index: number }[] } {
  const byDType = new Map<CsvDType, number[]>();
  const place = columns.map(({ dtype }, column) => {
    let members = byDType.get(dtype);
    if (!members) byDType.set(dtype, (members = []));
    members.push(column);
    return { group: [...byDType.keys()].indexOf(dtype), index: members.length - 1 };
  });
  const groups = [...byDType.entries()].map(([dtype, members]) => ({ dtype, select: Int32Array.from(members, (column) => columns[column]!.field) }));
  return { groups, place };
}

/** Column `index` of a row-major group of `width` columns, as its own buffer. */
function columnOf(values: Uint8Array, rows: number, width: number, index: number, itemBytes: number): Uint8Array {
  if (width === 1) return values;
  const out = allocateUninitialized(rows * itemBytes);
  if (itemBytes === 1) {
    for (let row = 0, from = index; row < rows; row++, from += width) out[row] = values[from]!;
  } else if (itemBytes === 2) {
    const source = new Uint16Array(values.buffer, values.byteOffset, values.byteLength / 2);
    const target = new Uint16Array(out.buffer, out.byteOffset, rows);
    for (let row = 0, from = index; row < rows; row++, from += width) target[row] = source[from]!;
  } else {
    // 4- and 8-byte items as 32-bit words: no float conversion touches NaN payloads.
    const words = itemBytes / 4;
    const source = new Uint32Array(values.buffer, values.byteOffset, values.byteLength / 4);
    const target = new Uint32Array(out.buffer, out.byteOffset, rows * words);
    const stride = width * words;
    for (let row = 0, from = index * words, to = 0; row < rows; row++, from += stride) {
      for (let w = 0; w < words; w++) target[to++] = source[from + w]!;
    }
  }
  return out;
}

/**
 * The separate columns of one CSV reader, parsed together. Each column's tensor is a
 * `chunks` location whose codecs come from {@link runCodec} (plain text: one chunk per
 * run) or {@link gzipCodec} (one chunk: the whole gunzip stream).
 *
 * @example
 * ```ts
 * const shared = new CsvSharedColumns(dialect, fields, [{ field: 0, dtype: 'float64' }, { field: 1, dtype: 'int32' }], 64 * 2 ** 20);
 * const chunk = { ..., codec: shared.runCodec(plan, 0, 1) };
 * ```
 */
export class CsvSharedColumns {
  readonly stats: CsvSharedColumnsStats = { sharedPasses: 0, singlePasses: 0 };
  readonly #stash: CsvColumnStash;
  readonly #groups: CsvColumnGroup[];
  readonly #place: { group: number; index: number }[];
  /** Runs whose shared parse has started (each is parsed for every column once). */
  readonly #parsedRuns = new Set<number>();
  readonly #pendingRuns = new Map<number, Promise<unknown>>();
  #gzip: { bands: AsyncGenerator<Uint8Array[]>; next: number; busy: Promise<unknown> } | undefined;

  /** How a run is read: from its first record (the scan placed it past skipped lines and the header). */
  readonly #runDialect: CsvDialect;

  /** `dialect`: the file's (a gzip pass starts at the first line); `stashBytes`: memory for waiting pieces before spilling. */
  constructor(private readonly dialect: CsvDialect, private readonly fields: number, private readonly columns: readonly CsvColumnSpec[], stashBytes: number) {
    this.#runDialect = { ...dialect, skipRows: 0, header: false };
    this.#stash = new CsvColumnStash(stashBytes);
    ({ groups: this.#groups, place: this.#place } = groupByDType(columns));
  }

  /** How much the stash held and spilled. */
  get stashStats() {
    return this.#stash.stats;
  }

  /** The codec of run `run` (`plan`) of column `column`. */
  runCodec(plan: CsvChunkPlan, run: number, column: number): ChunkCodec {
    const shared = this;
    return {
      name: 'csv',
      async *decode(stored, options) {
        yield await shared.#takeRun(plan, run, column, stored, options.signal);
      },
    };
  }

  /** The codec of column `column` of a whole `.csv.gz` holding `rows` records. */
  gzipCodec(rows: number, maxTextBytes: number, column: number): ChunkCodec {
    const shared = this;
    return {
      name: 'gzip+csv',
      decode: (stored, options) => shared.#gzipPieces(rows, maxTextBytes, column, stored, options.pieceBytes, options.signal),
    };
  }

  /** Forgets waiting pieces, removes the spill file, stops a gzip pass. */
  async close(): Promise<void> {
    await this.#gzip?.bands.return(undefined);
    this.#gzip = undefined;
    await this.#stash.close();
  }

  /** Splits one band (one buffer per group) into one buffer per column. */
  #split(band: readonly Uint8Array[], rows: number): Uint8Array[] {
    return this.columns.map(({ dtype }, column) => {
      const { group, index } = this.#place[column]!;
      return columnOf(band[group]!, rows, this.#groups[group]!.select.length, index, DTYPE_INFO[dtype].bits / 8);
    });
  }

  async #takeRun(plan: CsvChunkPlan, run: number, column: number, stored: StoredRange, signal?: AbortSignal): Promise<Uint8Array> {
    throwIfAborted(signal);
    const waiting = await this.#stash.take(run, column);
    if (waiting) return waiting;
    const pending = this.#pendingRuns.get(run);
    if (pending) {
      await pending.catch(() => undefined);
      const after = await this.#stash.take(run, column);
      if (after) return after;
    } else if (!this.#parsedRuns.has(run)) {
      this.#parsedRuns.add(run);
      const parse = this.#parseRunShared(plan, run, column, stored, signal);
      this.#pendingRuns.set(run, parse);
      try {
        return await parse;
      } catch {
        // Some column's field is bad: parse this column alone below, so it fails only if the bad field is its own.
      } finally {
        this.#pendingRuns.delete(run);
      }
    }
    return this.#parseRunAlone(plan, column, stored, signal);
  }

  async #parseRunShared(plan: CsvChunkPlan, run: number, column: number, stored: StoredRange, signal?: AbortSignal): Promise<Uint8Array> {
    const text = await stored.source.read(stored.offset, stored.length, signal ? { signal } : undefined);
    const band = this.#groups.map(({ select, dtype }) => allocateUninitialized(plan.rows * select.length * (DTYPE_INFO[dtype].bits / 8)));
    csvParseRunGroups(this.#runDialect, text, plan.firstLine, plan.rows, this.fields, this.#groups, band);
    this.stats.sharedPasses++;
    const values = this.#split(band, plan.rows);
    for (let other = 0; other < values.length; other++) if (other !== column) await this.#stash.put(run, other, values[other]!);
    return values[column]!;
  }

  async #parseRunAlone(plan: CsvChunkPlan, column: number, stored: StoredRange, signal?: AbortSignal): Promise<Uint8Array> {
    const { field, dtype } = this.columns[column]!;
    const text = await stored.source.read(stored.offset, stored.length, signal ? { signal } : undefined);
    const out = allocateUninitialized(plan.rows * (DTYPE_INFO[dtype].bits / 8));
    csvParseRunGroups(this.#runDialect, text, plan.firstLine, plan.rows, this.fields, [{ select: Int32Array.of(field), dtype }], [out]);
    this.stats.singlePasses++;
    return out;
  }

  /** Column `column` of the gzip text: bands of the one shared pass, or a pass of its own when it comes back. */
  async *#gzipPieces(rows: number, maxTextBytes: number, column: number, stored: StoredRange, pieceBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const itemBytes = DTYPE_INFO[this.columns[column]!.dtype].bits / 8;
    const total = rows * itemBytes;
    let produced = 0;
    // A column that already had band 0 (a second read) cannot use the shared pass: it has moved on.
    if (!this.#gzip || this.#stash.has(0, column)) {
      if (!this.#gzip) {
        this.#gzip = {
          bands: csvDecodeBlockGroups(this.#gunzip(stored, maxTextBytes), this.dialect, { rows, fields: this.fields, groups: this.#groups, firstLine: 1 }, GZIP_BAND_BYTES),
          next: 0,
          busy: Promise.resolve(),
        };
        this.stats.sharedPasses++;
      }
      try {
        for (let band = 0; produced < total; band++) {
          throwIfAborted(signal);
          const piece = await this.#stash.take(band, column) ?? await this.#advanceGzip(band, column);
          if (!piece) break; // this column's piece was dropped: finish with a pass of its own
          produced += piece.byteLength;
          yield piece;
        }
      } catch (error) {
        // A bad field of another column stops the shared pass; this column goes on alone (and fails only on its own fields).
        if (signal?.aborted) throw error;
      }
      if (produced === total) return;
    }
    this.stats.singlePasses++;
    const { field, dtype } = this.columns[column]!;
    let skip = produced;
    for await (const piece of csvDecodeBlocks(this.#gunzip(stored, maxTextBytes), this.dialect, { rows, fields: this.fields, select: Int32Array.of(field), dtype, firstLine: 1 }, pieceBytes, signal)) {
      if (skip >= piece.byteLength) {
        skip -= piece.byteLength;
        continue;
      }
      yield skip > 0 ? piece.subarray(skip) : piece;
      skip = 0;
    }
  }

  /** Produces band `band` of the shared gzip pass (one at a time), keeps the other columns' pieces, returns this column's. */
  async #advanceGzip(band: number, column: number): Promise<Uint8Array | undefined> {
    const gzip = this.#gzip!;
    const turn = gzip.busy.then(async () => {
      if (gzip.next > band) return this.#stash.take(band, column);
      const next = await gzip.bands.next();
      if (next.done) fail('TRUNCATED', `csv: the gzip text ended before band ${band} (the file changed since it was scanned?)`);
      gzip.next++;
      const rows = next.value[0] ? next.value[0].byteLength / (this.#groups[0]!.select.length * (DTYPE_INFO[this.#groups[0]!.dtype].bits / 8)) : 0;
      const values = this.#split(next.value, rows);
      for (let other = 0; other < values.length; other++) if (other !== column) await this.#stash.put(band, other, values[other]!);
      return values[column];
    });
    gzip.busy = turn.catch(() => undefined);
    return turn;
  }

  #gunzip(stored: StoredRange, maxTextBytes: number): AsyncIterable<Uint8Array> {
    return gunzipCodec.decode(stored, { pieceBytes: 2 ** 20, decodedLength: maxTextBytes });
  }
}
