/**
 * CSV text → array bytes as {@link ChunkCodec}s, so a CSV array is a `chunks` location
 * of the model seam: each run of whole rows (plain text) or the whole gunzip stream
 * (`.csv.gz`) decodes on its own, in bounded memory, and row slices decode only the
 * runs they touch.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import type { ChunkCodec, StoredRange } from '../../storage/chunk-codec.js';
import { gunzipCodec } from '../../storage/inflate-codec.js';
import { csvParseRun } from './read.js';
import { CsvTokenizer, NEED_MORE } from './tokenizer.js';
import { csvFastFloatRecords, csvFastPathApplies } from './fast-path.js';
import { csvConvertRecord, csvTypedView, type CsvColumnGroup, type CsvValues } from './read.js';
import type { CsvChunkPlan, CsvDialect, CsvDType } from './types.js';

const fail = errorFactory('csv');

/** What a decode produces: `rows` records of `fields` fields, of which `select` become the columns. */
export interface CsvRowLayout {
  readonly rows: number;
  readonly fields: number;
  readonly select: Int32Array;
  readonly dtype: CsvDType;
  /** Physical line (1-based) of the first byte decoded. */
  readonly firstLine: number;
}

/** Text read from the source per request when a run is decoded piecewise. */
const TEXT_READ_BYTES = 2 ** 20;

/** Plain-text blocks of a stored range. */
async function* rawBlocks(stored: StoredRange, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < stored.length; at += TEXT_READ_BYTES) {
    throwIfAborted(signal);
    yield await stored.source.read(stored.offset + at, Math.min(TEXT_READ_BYTES, stored.length - at), signal ? { signal } : undefined);
  }
}

/**
 * Parses text arriving in blocks into `rows × columns` values, yielding pieces of at
 * most about `pieceBytes` (whole rows). `dialect.skipRows` and the header are honoured
 * from the first block (the gzip case re-reads from the file start).
 */
export async function* csvDecodeBlocks(blocks: AsyncIterable<Uint8Array>, dialect: CsvDialect, layout: CsvRowLayout, pieceBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const { rows, fields, select, dtype, firstLine } = layout;
  for await (const pieces of csvDecodeBlockGroups(blocks, dialect, { rows, fields, firstLine, groups: [{ select, dtype }] }, pieceBytes, signal)) yield pieces[0]!;
}

/** {@link CsvRowLayout} with several outputs filled in one pass (see `csvParseRunGroups`). */
export interface CsvGroupLayout {
  readonly rows: number;
  readonly fields: number;
  readonly groups: readonly CsvColumnGroup[];
  readonly firstLine: number;
}

/**
 * {@link csvDecodeBlocks} for several outputs at once: each yielded band holds the same
 * rows of every group (`band[g]` is `groups[g]`'s values), about `pieceBytes` in all.
 */
export async function* csvDecodeBlockGroups(blocks: AsyncIterable<Uint8Array>, dialect: CsvDialect, layout: CsvGroupLayout, pieceBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array[]> {
  const { rows, fields, groups } = layout;
  const groupRowBytes = groups.map(({ select, dtype }) => select.length * (DTYPE_INFO[dtype].bits / 8));
  const rowBytes = Math.max(1, groupRowBytes.reduce((sum, bytes) => sum + bytes, 0));
  const pieceRows = Math.max(1, Math.floor(pieceBytes / rowBytes));
  const tokenizer = new CsvTokenizer(dialect, layout.firstLine);
  let headerLeft = dialect.header === true;
  let carry = new Uint8Array(0);
  let row = 0;
  let bandRows = 0;
  let band: Uint8Array[] = [];
  let values: CsvValues[] = [];
  const newBand = (): void => {
    bandRows = Math.min(pieceRows, rows - row);
    band = groupRowBytes.map((bytes) => allocateUninitialized(bandRows * bytes));
    values = groups.map(({ dtype }, g) => csvTypedView(dtype, band[g]!));
  };
  newBand();
  let bandRow = 0;
  const iterator = blocks[Symbol.asyncIterator]();
  const only = groups.length === 1 ? groups[0]! : undefined;
  const fast = only !== undefined && csvFastPathApplies(dialect.delimiter, fields, only.select, only.dtype);
  const cursor = { pos: 0 };
  let final = false;
  while (row < rows) {
    throwIfAborted(signal);
    const next = await iterator.next();
    final = next.done === true;
    const block = next.done ? new Uint8Array(0) : next.value;
    let bytes = block;
    if (carry.byteLength > 0) {
      bytes = new Uint8Array(carry.byteLength + block.byteLength);
      bytes.set(carry, 0);
      bytes.set(block, carry.byteLength);
    }
    let pos = 0;
    const states = groups.map(({ select, dtype }) => ({ tokenizer, text: bytes, select, dtype }));
    while (row < rows) {
      if (fast && !headerLeft && tokenizer.skipLeft === 0) {
        cursor.pos = pos;
        const parsed = csvFastFloatRecords(bytes, cursor, bytes.byteLength, dialect.delimiter, fields, only.dtype === 'float32', values[0] as Float32Array | Float64Array, bandRow * fields, Math.min(rows - row, bandRows - bandRow));
        if (parsed > 0) {
          tokenizer.line += parsed;
          pos = cursor.pos;
          bandRow += parsed;
          row += parsed;
          if (bandRow === bandRows) {
            yield band;
            bandRow = 0;
            if (row < rows) newBand();
          }
          continue;
        }
      }
      const at = tokenizer.next(bytes, pos, bytes.byteLength, final);
      if (at < 0) {
        if (at === NEED_MORE) pos = tokenizer.resumeAt;
        else pos = bytes.byteLength;
        break;
      }
      pos = at;
      if (headerLeft) {
        headerLeft = false;
        continue;
      }
      if (tokenizer.count !== fields) {
        fail('INVALID_SHAPE', `csv: line ${tokenizer.recordLine} has ${tokenizer.count} fields, expected ${fields}; ragged rows cannot form an array`);
      }
      for (let g = 0; g < groups.length; g++) csvConvertRecord(states[g]!, values[g]!, bandRow * groups[g]!.select.length);
      bandRow++;
      row++;
      if (bandRow === bandRows) {
        yield band;
        bandRow = 0;
        if (row < rows) newBand();
      }
    }
    carry = bytes.slice(pos);
    if (final) break;
  }
  if (row < rows) fail('TRUNCATED', `csv: the text ends after ${row} of ${rows} rows (the file changed since it was scanned?)`);
  await iterator.return?.();
}

/**
 * The codec of one run of plain-text rows: decoded in one call when small (the usual
 * case: runs are about 4 MiB), else block by block.
 */
export function csvRunCodec(dialect: CsvDialect, plan: CsvChunkPlan, fields: number, select: Int32Array, dtype: CsvDType): ChunkCodec {
  const runDialect: CsvDialect = { ...dialect, skipRows: 0, header: false };
  const layout: CsvRowLayout = { rows: plan.rows, fields, select, dtype, firstLine: plan.firstLine };
  return {
    name: 'csv',
    decode: (stored, options) => csvDecodeBlocks(rawBlocks(stored, options.signal), runDialect, layout, options.pieceBytes, options.signal),
    decodeWhole(stored) {
      const width = DTYPE_INFO[dtype].bits / 8;
      const out = allocateUninitialized(plan.rows * select.length * width);
      csvParseRun(runDialect, stored, plan.firstLine, plan.rows, fields, select, dtype, out);
      return out;
    },
  };
}

/** The codec of a whole `.csv.gz`: gunzip, then parse from the first line (skipRows and header again). */
export function csvGzipCodec(dialect: CsvDialect, rows: number, fields: number, select: Int32Array, dtype: CsvDType, maxTextBytes: number): ChunkCodec {
  const layout: CsvRowLayout = { rows, fields, select, dtype, firstLine: 1 };
  return {
    name: 'gzip+csv',
    decode: (stored, options) => csvDecodeBlocks(gunzipCodec.decode(stored, { pieceBytes: 2 ** 20, decodedLength: maxTextBytes, ...(options.signal ? { signal: options.signal } : {}) }), dialect, layout, options.pieceBytes, options.signal),
  };
}
