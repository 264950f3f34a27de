/**
 * Types of the CSV/TXT formats: numeric text tables, one array per file.
 */

/** Element types a CSV or TXT file can be read into. */
export type CsvDType = 'float64' | 'float32' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

/** Options for reading CSV or TXT text. Every field is optional. */
export interface CsvReadOptions {
  /**
   * One ASCII character between fields, `'whitespace'` for runs of spaces and tabs (as
   * `np.loadtxt(delimiter=None)` and the `txt` format), or undefined to detect it from
   * the first lines (`,`, tab, `;`, `|`, else whitespace).
   */
  delimiter?: string;
  /** Physical lines skipped before anything else (`np.loadtxt` `skiprows`). Default 0. */
  skipRows?: number;
  /**
   * The first record after `skipRows` holds column names (kept in `metadata.columns`).
   * Default `'auto'` for CSV: it does when none of its fields is a number or empty (`a,b,c`);
   * `false` for TXT (as `np.loadtxt`);
   * `false` reads it as data (NumPack's `header=None`, which `fromCsv` uses).
   */
  header?: boolean | 'auto';
  /** Comment character: from it to the end of the line is ignored; `null` for none. Default `'#'`. */
  comments?: string | null;
  /** Quote character for quoted fields (`"a,b"`, `""` inside for a quote). Default `'"'`; `null` for none. */
  quote?: string | null;
  /**
   * Element type of the array (default `'float64'`, as `np.loadtxt`), or one per column
   * with `columns: 'separate'` (pandas' `dtype={...}`): keys are header names or field
   * indices (`'0'`, `'2'`), `'*'` the type of the columns not listed (default float64).
   */
  dtype?: CsvDType | Readonly<Record<string, CsvDType>>;
  /**
   * `'stack'` (default): one 2-D array `(rows, columns)` (NumPack's `from_csv`).
   * `'separate'`: each column its own 1-D tensor, named after its header name, else
   * `col<field index>`. The text is parsed once for all of them: the first column read
   * parses each run of rows for every column, and the others' values wait (in memory up
   * to `columnStashBytes`, then in a spill file) until read. To read a few columns of a
   * wide file, name them in `usecols`.
   */
  columns?: 'stack' | 'separate';
  /** Fields to keep as columns, in this order: indices (negative from the end) or header names (pandas `usecols`). Default all. */
  usecols?: readonly (number | string)[];
  /** Read at most this many data rows. */
  maxRows?: number;
  /** Name of the one array the file holds. Default `'data'`. */
  arrayName?: string;
  /** Longest record in bytes (`CSV_MAX_LINE_BYTES`). */
  maxLineBytes?: number;
  /** Largest gzip expansion ratio accepted (`CSV_MAX_GZIP_RATIO`). */
  maxGzipRatio?: number;
  /** Text per chunk of rows (decoded one at a time). Default `CSV_CHUNK_TEXT_BYTES`. */
  chunkTextBytes?: number;
  /** `columns: 'separate'`: memory for parsed columns waiting to be read before they spill to disk (`CSV_COLUMN_STASH_BYTES`). */
  columnStashBytes?: number;
  signal?: AbortSignal;
}

/** Options for writing CSV or TXT text. */
export interface CsvWriteOptions {
  /** Field separator. Default `','` (csv) or `' '` (txt). */
  delimiter?: string;
  /**
   * printf-style number format as `np.savetxt` takes it (`'%.18e'`, `'%.6g'`, `'%d'`,
   * `'%.3f'`, with optional flags and width). Default: the shortest text that reads back
   * to the same value (bit-exact round trip).
   */
  fmt?: string;
  /**
   * A header line: `true` writes `# col0,col1,…` (NumPack's `to_csv(header=True)`), a
   * string is written as given (after the comment prefix), an array names the columns.
   */
  header?: boolean | string | readonly string[];
  /** Prefix of the header line. Default `'# '` (as `np.savetxt`); `''` for a bare header row (pandas). */
  comments?: string;
  /** Line ending. Default `'\n'`. */
  newline?: string;
  /** gzip the output (default: when the path ends in `.gz`). */
  gzip?: boolean;
  /**
   * `'stack'` (default): one 1-D or 2-D array. `'separate'`: each planned tensor (1-D) is
   * one column, side by side, with a bare header row of their names unless `header: false`.
   */
  columns?: 'stack' | 'separate';
}

/** The resolved reading rules of one file. */
export interface CsvDialect {
  /** Delimiter byte, or -1 for whitespace runs. */
  readonly delimiter: number;
  /** Quote byte, or -1 for none. */
  readonly quote: number;
  /** Comment byte, or -1 for none. */
  readonly comment: number;
  readonly skipRows: number;
  /** After a scan, true or false; `'auto'` before it (decided by the first record). */
  readonly header: boolean | 'auto';
  readonly maxLineBytes: number;
}

/** One run of whole records, decoded as one chunk. */
export interface CsvChunkPlan {
  /** Offset of the first byte of the run in the (decompressed) text. */
  readonly offset: number;
  /** Bytes of text. */
  readonly length: number;
  /** Data rows in the run. */
  readonly rows: number;
  /** Physical line number (1-based) where the run starts. */
  readonly firstLine: number;
}

/** What a scan of the whole text found. */
export interface CsvScan {
  readonly dialect: CsvDialect;
  readonly columns: number;
  readonly rows: number;
  /** Column names from the header record, when `header` was set. */
  readonly names?: readonly string[];
  readonly chunks: readonly CsvChunkPlan[];
  /** Bytes of text scanned (the decompressed size for gzip). */
  readonly textBytes: number;
}
