/**
 * Parsing numeric CSV/TXT text, synchronously over bytes: the dialect (delimiter given
 * or detected), a scan that counts records and cuts the text into runs of whole rows
 * (so the array's shape is known before any number is converted, and each run decodes
 * on its own), and the conversion of one run into the array's bytes. The async shells
 * (`reader.ts`) feed these functions blocks of a file or of a gunzip stream.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { CSV_CHUNK_TEXT_BYTES, CSV_MAX_LINE_BYTES } from '../../core/limits.js';
import { clipInput } from '../../core/quote.js';
import { AT_END, CsvTokenizer, NEED_MORE } from './tokenizer.js';
import { csvFastFloatRecords, csvFastPathApplies } from './fast-path.js';
import { csvParseBool, csvParseFloat, csvParseInteger, PARSE_FAILED, PARSE_MISSING, roundToFloat32 } from './numbers.js';
import type { CsvChunkPlan, CsvDialect, CsvDType, CsvReadOptions, CsvScan } from './types.js';

const fail = errorFactory('csv');

/** Delimiters tried by detection, in order of preference. */
const DETECTED_DELIMITERS = [',', '\t', ';', '|'];
/** Lines looked at to detect the delimiter. */
const DETECT_LINES = 20;

function oneByte(what: string, value: string): number {
  if (value.length !== 1 || value.charCodeAt(0) > 0x7f) fail('INVALID_ARGUMENT', `csv: ${what} must be one ASCII character, got ${JSON.stringify(value)}`);
  const code = value.charCodeAt(0);
  if (code === 0x0a || code === 0x0d) fail('INVALID_ARGUMENT', `csv: ${what} cannot be a line break`);
  return code;
}

/**
 * Detects the delimiter from the first lines of text: the first of `,` tab `;` `|` that
 * appears the same number of times (at least once) on every sampled line; otherwise
 * whitespace when lines hold several blank-separated tokens; otherwise `,` (one column).
 *
 * @example
 * ```ts
 * csvDetectDelimiter(new TextEncoder().encode('1;2\n3;4\n'), '#'); // ';'
 * ```
 */
export function csvDetectDelimiter(head: Uint8Array, comments: string | null = '#', skipRows = 0): string {
  const text = new TextDecoder('latin1').decode(head);
  const lines = text.split('\n').slice(skipRows);
  // The last piece may be cut short by the sample's end.
  if (!text.endsWith('\n') && lines.length > 1) lines.pop();
  const sample: string[] = [];
  for (const raw of lines) {
    const line = (comments ? raw.split(comments)[0]! : raw).replace(/\r$/, '');
    if (line.trim() === '') continue;
    sample.push(line);
    if (sample.length === DETECT_LINES) break;
  }
  if (sample.length === 0) return ',';
  for (const candidate of DETECTED_DELIMITERS) {
    const counts = sample.map((line) => line.split(candidate).length - 1);
    // The first line may be a header with the same count; all counts equal and positive.
    if (counts[0]! > 0 && counts.every((count) => count === counts[0])) return candidate;
  }
  if (sample.every((line) => line.trim().split(/[ \t]+/).length > 1)) return 'whitespace';
  return ',';
}

/**
 * The reading rules from options (and the head of the text, when the delimiter is to be
 * detected).
 *
 * @example
 * ```ts
 * csvResolveDialect({ delimiter: ';' }, head).delimiter; // 0x3b
 * ```
 */
export function csvResolveDialect(options: CsvReadOptions, head: Uint8Array, defaultDelimiter?: string): CsvDialect {
  const comments = options.comments === undefined ? '#' : options.comments;
  const skipRows = options.skipRows ?? 0;
  if (!Number.isSafeInteger(skipRows) || skipRows < 0) fail('INVALID_ARGUMENT', `csv: skipRows must be a whole number ≥ 0, got ${skipRows}`);
  const delimiterText = options.delimiter ?? defaultDelimiter ?? csvDetectDelimiter(head, comments, skipRows);
  const delimiter = delimiterText === 'whitespace' || delimiterText === ' ' && defaultDelimiter === 'whitespace' ? -1 : oneByte('delimiter', delimiterText);
  const quoteText = options.quote === undefined ? (delimiter === -1 ? null : '"') : options.quote;
  const quote = quoteText === null ? -1 : oneByte('quote', quoteText);
  const comment = comments === null || comments === '' ? -1 : oneByte('comments', comments);
  if (delimiter !== -1 && (delimiter === quote || delimiter === comment)) fail('INVALID_ARGUMENT', `csv: the delimiter ${JSON.stringify(delimiterText)} is also the quote or comment character`);
  const maxLineBytes = options.maxLineBytes ?? CSV_MAX_LINE_BYTES;
  // TXT (whitespace by default) is NumPack's from_txt / np.loadtxt: no header row unless
  // asked, so words in a .txt are an error rather than column names of an empty array.
  const header = options.header ?? (defaultDelimiter === 'whitespace' ? false : 'auto');
  return { delimiter, quote, comment, skipRows, header, maxLineBytes };
}

/** Text of a field, quotes unescaped (for header names and messages). */
function fieldText(bytes: Uint8Array, start: number, end: number, quote: number): string {
  let text = new TextDecoder('utf-8').decode(bytes.subarray(start, end)).trim();
  if (quote !== -1) {
    const q = String.fromCharCode(quote);
    text = text.split(q + q).join(q);
  }
  return text;
}

/**
 * Scans text fed block by block: counts records and columns, reads the header, checks
 * that every record has as many fields as the first (ragged rows are `INVALID_SHAPE`
 * naming the line) and cuts the text into runs of about `chunkTextBytes` of whole rows.
 *
 * @example
 * ```ts
 * const scanner = new CsvScanner(dialect, {});
 * for (const block of blocks) scanner.feed(block, false);
 * const scan = scanner.finish();
 * ```
 */
export class CsvScanner {
  private readonly tokenizer: CsvTokenizer;
  private carry: Uint8Array = new Uint8Array(0);
  /** Text offset of `carry[0]`. */
  private carryOffset = 0;
  private columns = -1;
  private rows = 0;
  private names: string[] | undefined;
  private readonly chunks: CsvChunkPlan[] = [];
  private chunkStart = -1;
  private chunkLine = 1;
  private chunkRows = 0;
  private textBytes = 0;
  private readonly chunkTextBytes: number;
  private readonly maxRows: number;
  private done = false;

  constructor(readonly dialect: CsvDialect, options: Pick<CsvReadOptions, 'chunkTextBytes' | 'maxRows'>) {
    this.tokenizer = new CsvTokenizer(dialect);
    this.chunkTextBytes = options.chunkTextBytes ?? CSV_CHUNK_TEXT_BYTES;
    this.maxRows = options.maxRows ?? Infinity;
  }

  /** Feeds the next block of text (`final` with the last one). The block may be reused by the caller afterwards. */
  feed(block: Uint8Array, final: boolean): void {
    if (this.done) return;
    let bytes = block;
    if (this.carry.byteLength > 0) {
      bytes = new Uint8Array(this.carry.byteLength + block.byteLength);
      bytes.set(this.carry, 0);
      bytes.set(block, this.carry.byteLength);
    }
    const base = this.carryOffset; // text offset of bytes[0]
    this.textBytes += block.byteLength;
    let pos = 0;
    const end = bytes.byteLength;
    const tokenizer = this.tokenizer;
    const { quote, comment, maxLineBytes } = this.dialect;
    // Without quotes in the block, records are lines: count them with a memchr-fast
    // indexOf; field counts are checked when the rows are parsed.
    const lines = quote === -1 || bytes.indexOf(quote) === -1;
    for (;;) {
      if (lines && this.columns !== -1 && tokenizer.skipLeft === 0) {
        let newline = bytes.indexOf(0x0a, pos);
        while (newline !== -1) {
          if (newline - pos > maxLineBytes) fail('LIMIT_EXCEEDED', `csv: line ${tokenizer.line} is longer than ${maxLineBytes} bytes (${newline - pos} bytes); raise maxLineBytes if the file is sound`);
          let first = pos;
          while (first < newline && (bytes[first] === 0x20 || bytes[first] === 0x09 || bytes[first] === 0x0d)) first++;
          if (first < newline && bytes[first] !== comment) {
            if (this.chunkStart === -1) {
              this.chunkStart = base + pos;
              this.chunkLine = tokenizer.line;
            }
            this.rows++;
            this.chunkRows++;
          }
          tokenizer.line++;
          pos = newline + 1;
          if (this.chunkStart !== -1 && base + pos - this.chunkStart >= this.chunkTextBytes) this.closeChunk(base + pos);
          if (this.rows >= this.maxRows) {
            this.done = true;
            this.closeChunk(base + pos);
            return;
          }
          newline = bytes.indexOf(0x0a, pos);
        }
      }
      const next = tokenizer.next(bytes, pos, end, final);
      if (next === NEED_MORE) {
        pos = tokenizer.resumeAt;
        break;
      }
      if (next === AT_END) {
        pos = end;
        break;
      }
      if (this.names === undefined && this.columns === -1 && (this.dialect.header === true || (this.dialect.header === 'auto' && looksLikeHeader(bytes, tokenizer)))) {
        this.names = [];
        for (let k = 0; k < tokenizer.count; k++) this.names.push(fieldText(bytes, tokenizer.starts[k]!, tokenizer.ends[k]!, this.dialect.quote));
        this.columns = tokenizer.count;
        pos = next;
        continue;
      }
      if (this.columns === -1) this.columns = tokenizer.count;
      else if (tokenizer.count !== this.columns) {
        fail('INVALID_SHAPE', `csv: line ${tokenizer.recordLine} has ${tokenizer.count} fields, expected ${this.columns} (as ${this.names ? 'the header' : 'the first row'}); ragged rows cannot form an array`);
      }
      if (this.chunkStart === -1) {
        // A run starts at the start of its first record's line (after any skipped lines).
        this.chunkStart = base + tokenizer.recordStart;
        this.chunkLine = tokenizer.recordLine;
      }
      this.rows++;
      this.chunkRows++;
      pos = next;
      const runBytes = base + pos - this.chunkStart;
      if (runBytes >= this.chunkTextBytes) this.closeChunk(base + pos);
      if (this.rows >= this.maxRows) {
        this.done = true;
        this.closeChunk(base + pos);
        return;
      }
    }
    this.carry = bytes.slice(pos);
    this.carryOffset = base + pos;
    if (final && this.chunkRows > 0) this.closeChunk(base + pos);
  }

  private closeChunk(endOffset: number): void {
    if (this.chunkRows === 0) return;
    this.chunks.push({ offset: this.chunkStart, length: endOffset - this.chunkStart, rows: this.chunkRows, firstLine: this.chunkLine });
    this.chunkStart = -1;
    this.chunkRows = 0;
  }

  /** The scan's result, after the final block (the dialect's `header` decided). */
  finish(): CsvScan {
    return {
      dialect: { ...this.dialect, header: this.names !== undefined },
      columns: Math.max(0, this.columns),
      rows: this.rows,
      ...(this.names ? { names: this.names } : {}),
      chunks: this.chunks,
      textBytes: this.textBytes,
    };
  }
}

/** `header: 'auto'`: a first record none of whose fields is a number or empty (`a,b,c`) names the columns. */
function looksLikeHeader(bytes: Uint8Array, tokenizer: CsvTokenizer): boolean {
  for (let k = 0; k < tokenizer.count; k++) {
    if (csvParseFloat(bytes, tokenizer.starts[k]!, tokenizer.ends[k]!) !== PARSE_FAILED) return false;
  }
  return tokenizer.count > 0;
}

/** Writes parsed values into an array's buffer, by dtype. */
export interface CsvValueSink {
  readonly dtype: CsvDType;
  readonly bytes: Uint8Array;
}

/** Range of each integer dtype. */
const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255], uint16: [0, 65535], uint32: [0, 2 ** 32 - 1],
};

/**
 * Fields parsed into one output: the fields `select` lists, in its order, as `dtype`,
 * `rows × select.length` values row-major. A stacked array is one group; separate
 * columns are one group per dtype (split into columns afterwards), so a run of text is
 * tokenized once whatever the number of columns.
 */
export interface CsvColumnGroup {
  readonly select: Int32Array;
  readonly dtype: CsvDType;
}

/**
 * Converts a run of whole records (`text`, which starts at physical line `firstLine`,
 * `fields` fields per record) into `rows × select.length` values of `dtype` (the
 * fields `select` lists, in its order), written to `out` (little-endian, C order).
 * Returns rows written. A field that is not a number of the dtype is `INVALID_VALUE`
 * naming line and column; a missing value (empty, `nan`, `NA`, …) is NaN for floats and
 * `INVALID_VALUE` for integer and bool dtypes; a row with another field count is
 * `INVALID_SHAPE` naming the line.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(2 * 2 * 8);
 * csvParseRun(dialect, new TextEncoder().encode('1,2\n3,4\n'), 1, 2, 2, Int32Array.of(0, 1), 'float64', out);
 * ```
 */
export function csvParseRun(dialect: CsvDialect, text: Uint8Array, firstLine: number, rows: number, fields: number, select: Int32Array, dtype: CsvDType, out: Uint8Array): number {
  return csvParseRunGroups(dialect, text, firstLine, rows, fields, [{ select, dtype }], [out]);
}

/**
 * {@link csvParseRun} for several outputs at once: one pass over the text fills
 * `outs[g]` with `rows × groups[g].select.length` values of `groups[g].dtype`.
 *
 * @example
 * ```ts
 * csvParseRunGroups(dialect, text, 1, 2, 3, [{ select: Int32Array.of(0, 2), dtype: 'float64' }, { select: Int32Array.of(1), dtype: 'int32' }], [a, b]);
 * ```
 */
export function csvParseRunGroups(dialect: CsvDialect, text: Uint8Array, firstLine: number, rows: number, fields: number, groups: readonly CsvColumnGroup[], outs: readonly Uint8Array[]): number {
  const tokenizer = new CsvTokenizer(dialect, firstLine, 0);
  const states = groups.map(({ select, dtype }) => ({ tokenizer, text, select, dtype }));
  const values = groups.map(({ select, dtype }, g) => {
    const width = DTYPE_INFO[dtype].bits / 8;
    if (outs[g]!.byteLength !== rows * select.length * width) fail('SIZE_MISMATCH', `csv: output of ${outs[g]!.byteLength} bytes for ${rows}×${select.length} ${dtype}`);
    return csvTypedView(dtype, outs[g]!);
  });
  let row = 0;
  let pos = 0;
  const end = text.byteLength;
  const only = groups.length === 1 ? groups[0]! : undefined;
  const fast = only !== undefined && csvFastPathApplies(dialect.delimiter, fields, only.select, only.dtype);
  const cursor = { pos: 0 };
  while (row < rows) {
    if (fast) {
      cursor.pos = pos;
      const parsed = csvFastFloatRecords(text, cursor, end, dialect.delimiter, fields, only.dtype === 'float32', values[0] as Float32Array | Float64Array, row * fields, rows - row);
      row += parsed;
      tokenizer.line += parsed;
      pos = cursor.pos;
      if (row === rows) break;
    }
    const next = tokenizer.next(text, pos, end, true);
    if (next < 0) fail('TRUNCATED', `csv: the text ends at line ${tokenizer.line} after ${row} of ${rows} rows (the file changed since it was scanned?)`);
    if (tokenizer.count !== fields) {
      fail('INVALID_SHAPE', `csv: line ${tokenizer.recordLine} has ${tokenizer.count} fields, expected ${fields}; ragged rows cannot form an array`);
    }
    for (let g = 0; g < groups.length; g++) csvConvertRecord(states[g]!, values[g]!, row * groups[g]!.select.length);
    row++;
    pos = next;
  }
  return row;
}

export type CsvValues = Float64Array | Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

export function csvTypedView(dtype: CsvDType, out: Uint8Array): CsvValues {
  const Ctor = DTYPE_INFO[dtype].typedArray!;
  if (out.byteOffset % Ctor.BYTES_PER_ELEMENT !== 0) fail('INVALID_ARGUMENT', 'csv: misaligned output buffer');
  return new Ctor(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength / Ctor.BYTES_PER_ELEMENT) as CsvValues;
}

function badField(state: { tokenizer: CsvTokenizer; text: Uint8Array; dtype: CsvDType }, column: number, why: string): never {
  const t = state.tokenizer;
  const raw = new TextDecoder('latin1').decode(state.text.subarray(t.starts[column]!, t.ends[column]!));
  return fail('INVALID_VALUE', `csv: line ${t.recordLine}, column ${column + 1}: ${why} ${clipInput(JSON.stringify(raw))} as ${state.dtype}`);
}

export function csvConvertRecord(state: { tokenizer: CsvTokenizer; text: Uint8Array; select: Int32Array; dtype: CsvDType }, values: CsvValues, at: number): void {
  const { tokenizer, text, select, dtype } = state;
  const starts = tokenizer.starts;
  const ends = tokenizer.ends;
  if (dtype === 'float64' || dtype === 'float32') {
    const single = dtype === 'float32';
    for (let j = 0; j < select.length; j++) {
      const k = select[j]!;
      const parsed = csvParseFloat(text, starts[k]!, ends[k]!);
      if (typeof parsed === 'number') values[at + j] = single ? roundToFloat32(parsed, text, starts[k]!, ends[k]!) : parsed;
      else if (parsed === PARSE_MISSING) values[at + j] = NaN;
      else badField(state, k, 'cannot read');
    }
    return;
  }
  if (dtype === 'bool') {
    for (let j = 0; j < select.length; j++) {
      const k = select[j]!;
      const parsed = csvParseBool(text, starts[k]!, ends[k]!);
      if (parsed === PARSE_MISSING) badField(state, k, 'missing value (bool has no NaN):');
      if (parsed === PARSE_FAILED) badField(state, k, 'cannot read');
      values[at + j] = parsed ? 1 : 0;
    }
    return;
  }
  const wide = dtype === 'int64' || dtype === 'uint64';
  const range = INT_RANGE[dtype];
  for (let j = 0; j < select.length; j++) {
      const k = select[j]!;
    const parsed = csvParseInteger(text, starts[k]!, ends[k]!);
    if (parsed === PARSE_MISSING) badField(state, k, `missing value (${dtype} has no NaN; read as float64 to keep it as NaN):`);
    if (parsed === PARSE_FAILED) badField(state, k, 'cannot read');
    if (wide) {
      const big = typeof parsed === 'bigint' ? parsed : BigInt(parsed);
      const fits = dtype === 'int64' ? big >= -(2n ** 63n) && big < 2n ** 63n : big >= 0n && big < 2n ** 64n;
      if (!fits) badField(state, k, 'out of range:');
      values[at + j] = big as never;
    } else {
      if (typeof parsed === 'bigint' || parsed < range![0] || parsed > range![1]) badField(state, k, 'out of range:');
      values[at + j] = parsed as number;
    }
  }
}
