/**
 * `convert` flags for tables (CSV/TXT, Arrow/Feather, Parquet). A flag names a format
 * option; `--delimiter`, `--comments` and `--header-row` set the input's when its format
 * reads that option, else the output's, and `--out-delimiter`, `--out-comments`,
 * `--out-header-row` set the output's (for text to text); `--columns` sets both sides
 * that take it. A flag no side takes is a usage error naming the formats that do.
 */
import type { TensorFormat } from '../model/types.js';
import { BUILT_IN_FORMATS } from '../operations/index.js';
import { CliUsageError } from './types.js';

/** parseArgs definitions of the table flags. */
export const CLI_TABLE_OPTIONS = {
  delimiter: { type: 'string' },
  'skip-rows': { type: 'string' },
  comments: { type: 'string' },
  'header-row': { type: 'string' },
  'out-delimiter': { type: 'string' },
  'out-comments': { type: 'string' },
  'out-header-row': { type: 'string' },
  'column-dtype': { type: 'string' },
  columns: { type: 'string' },
  fmt: { type: 'string' },
  compression: { type: 'string' },
  'compression-level': { type: 'string' },
  'row-group-size': { type: 'string' },
} as const;

/** The help lines of the table flags (in `convert --help`). */
export const CLI_TABLE_HELP = `Tables (csv/txt, arrow/feather, parquet):
      --columns stack|separate
                      stack (default, NumPack's): the numeric columns are one 2-D
                      array (rows, columns) named data; separate: each column its own
                      tensor named after it, and each tensor written as its own column
                      (applies to input and output)
      --delimiter CHAR
                      csv/txt field separator: one character, tab, space, or (input)
                      whitespace; input default: detected (, tab ; |)
      --skip-rows N   csv/txt input: lines skipped before the header or data
      --comments TEXT csv/txt comment character on input (default #; none for
                      none); on output the header line's prefix (default '# ', ''
                      with --columns separate)
      --header-row yes|no|auto
                      csv/txt input: the first record names the columns (default
                      auto: when none of its fields is a number); output: write a
                      line of column names (yes) or none (no)
                      (--delimiter, --comments, --header-row set the input's options
                      when it is csv/txt, else the output's)
      --out-delimiter CHAR, --out-comments TEXT, --out-header-row yes|no
                      the same for the output when both sides are csv/txt
      --column-dtype DTYPE | NAME=DTYPE,...
                      csv/txt input: element type (default float64), or one per
                      column by header name or field index (id=int64,flag=bool,
                      *=float32 for the rest; needs --columns separate)
      --fmt FORMAT    csv/txt output: printf-style number format as np.savetxt takes
                      it (%.18e, %.6g, %d); default: shortest round-trip text
      --compression NAME
                      parquet output: snappy (default), zstd, gzip, brotli, none;
                      arrow/feather output: lz4, zstd, none (default)
      --compression-level N
                      parquet output: the gzip (1-9) or zstd level; arrow/feather
                      output: the zstd level (-7 to 22; default 1, as pyarrow)
      --row-group-size N
                      parquet output: rows per row group (default 100000)
`;

type Values = Record<string, unknown>;

/**
 * What one flag sets on each side: the option name, and its value read from the flag's
 * text (undefined: not on this side). `inputFirst`: the output's only when the input's
 * format does not take it.
 */
interface TableFlag {
  readonly option: string;
  readonly inputFirst?: boolean;
  input?(text: string): unknown;
  output?(text: string): unknown;
}

const delimiterOf = (text: string, reading: boolean): string | undefined => {
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', space: ' ', comma: ',', semicolon: ';', pipe: '|' };
  // whitespace describes input only: a text output keeps its own default.
  if (text === 'whitespace') return reading ? text : undefined;
  const value = named[text] ?? text;
  if (value.length !== 1) throw new CliUsageError(`--delimiter takes one character (or tab, space${reading ? ', whitespace' : ''}), got ${JSON.stringify(text)}`, 'convert');
  return value;
};

const wholeNumber = (flag: string) => (text: string): number => {
  if (!/^\d+$/.test(text)) throw new CliUsageError(`--${flag} takes a whole number, got ${JSON.stringify(text)}`, 'convert');
  return Number(text);
};

const integer = (flag: string) => (text: string): number => {
  if (!/^-?\d+$/.test(text)) throw new CliUsageError(`--${flag} takes a whole number (negative for zstd's fast levels), got ${JSON.stringify(text)}`, 'convert');
  return Number(text);
};

const yesNo = (text: string, auto: boolean): boolean | 'auto' => {
  const flag = auto ? '--header-row' : '--header-row/--out-header-row';
  if (text === 'yes' || text === 'true') return true;
  if (text === 'no' || text === 'false') return false;
  if (auto && text === 'auto') return 'auto';
  throw new CliUsageError(`${flag} takes yes${auto ? ', no or auto' : ' or no'}${auto ? '' : ' on output'}, got ${JSON.stringify(text)}`, 'convert');
};

const dtypeOf = (text: string): string | Record<string, string> => {
  if (!text.includes('=')) return text;
  const map: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.lastIndexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new CliUsageError(`--column-dtype takes DTYPE or NAME=DTYPE,... (e.g. id=int64,*=float32), got ${JSON.stringify(pair)}`, 'convert');
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return map;
};

const columnsOf = (text: string): string => {
  if (text !== 'stack' && text !== 'separate') throw new CliUsageError(`--columns takes stack or separate, got ${JSON.stringify(text)}`, 'convert');
  return text;
};

const FLAGS: Readonly<Record<keyof typeof CLI_TABLE_OPTIONS, TableFlag>> = {
  delimiter: { option: 'delimiter', inputFirst: true, input: (text) => delimiterOf(text, true), output: (text) => delimiterOf(text, false) },
  'skip-rows': { option: 'skipRows', input: wholeNumber('skip-rows') },
  comments: { option: 'comments', inputFirst: true, input: (text) => (text === 'none' ? null : text), output: (text) => text },
  'header-row': { option: 'header', inputFirst: true, input: (text) => yesNo(text, true), output: (text) => yesNo(text, false) },
  'out-delimiter': { option: 'delimiter', output: (text) => delimiterOf(text, false) },
  'out-comments': { option: 'comments', output: (text) => text },
  'out-header-row': { option: 'header', output: (text) => yesNo(text, false) },
  'column-dtype': { option: 'dtype', input: dtypeOf },
  columns: { option: 'columns', input: columnsOf, output: columnsOf },
  fmt: { option: 'fmt', output: (text) => text },
  compression: { option: 'compression', output: (text) => text },
  'compression-level': { option: 'compressionLevel', output: integer('compression-level') },
  'row-group-size': { option: 'rowGroupSize', output: wholeNumber('row-group-size') },
};

/**
 * The read and write options the table flags set, for `input` and `output` formats.
 * Throws a usage error for a flag neither format takes.
 *
 * @example
 * ```ts
 * const { readOptions, writeOptions } = cliTableOptions(values, getFormat('csv'), getFormat('parquet'));
 * ```
 */
export function cliTableOptions(values: Values, input: TensorFormat, output: TensorFormat): { readOptions: Record<string, unknown>; writeOptions: Record<string, unknown> } {
  const readOptions: Record<string, unknown> = {};
  const writeOptions: Record<string, unknown> = {};
  for (const [flag, rule] of Object.entries(FLAGS) as [keyof typeof FLAGS, TableFlag][]) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const read = rule.input !== undefined && input.openOptionNames?.includes(rule.option) === true ? rule.input(text) : undefined;
    const written = rule.output !== undefined && !(rule.inputFirst && read !== undefined) && output.writeOptionNames?.includes(rule.option) === true ? rule.output(text) : undefined;
    const reads = read !== undefined;
    const writes = written !== undefined;
    if (reads) readOptions[rule.option] = read;
    if (writes) writeOptions[rule.option] = written;
    if (!reads && !writes) {
      const takers = (side: 'input' | 'output') => BUILT_IN_FORMATS
        .filter((format) => rule[side] !== undefined && (side === 'input' ? format.openOptionNames : format.writeOptionNames)?.includes(rule.option))
        .map((format) => format.name);
      const sides = [['input', takers('input')], ['output', takers('output')]].filter(([, names]) => names!.length > 0).map(([side, names]) => `${(names as string[]).join('/')} ${side as string}`);
      throw new CliUsageError(`--${flag} applies to ${sides.join(' or ')}; here the input is ${input.name} and the output ${output.name}`, 'convert');
    }
  }
  return { readOptions, writeOptions };
}
