/**
 * Numbers → text by printf-style formats for the CSV/TXT writer, as `np.savetxt` takes
 * them (`%.18e`, `%.6g`, `%10.3f`, `%d`, …).
 *
 * A value exactly halfway between two outputs (`'%.1e' % 0.125`, or `%.18e` of
 * 3262234208.8564453125) rounds half to even, as C's printf and Python do (ECMAScript's
 * `toExponential`/`toFixed` alone would round it up).
 */
import { errorFactory } from '../../core/errors.js';
import { csvEmitExponential } from './format-exponential.js';
import { csvShortestFloat64 } from './format-shortest.js';
import { csvNonFiniteText as nonFinite, type CsvTextBuffer } from './text-buffer.js';

const fail = errorFactory('csv');

/** One parsed printf conversion. */
interface Conversion {
  readonly prefix: string;
  readonly suffix: string;
  readonly flags: string;
  readonly width: number;
  readonly precision: number | undefined;
  readonly conversion: 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'd' | 'i' | 's';
}

const CONVERSION = /%([-+ 0#]*)(\d*)(?:\.(\d+))?([eEfFgGdis])/g;

/** Parses a format holding one conversion per column or one for all columns. */
function parseFormat(format: string): Conversion[] {
  const conversions: Conversion[] = [];
  let last = 0;
  let prefix = '';
  for (const match of format.replaceAll('%%', '\u0000').matchAll(CONVERSION)) {
    prefix = format.slice(last, match.index).replaceAll('\u0000', '%');
    if (conversions.length > 0) {
      // The text between two conversions belongs to the previous one.
      const previous = conversions.pop()!;
      conversions.push({ ...previous, suffix: prefix });
      prefix = '';
    }
    conversions.push({
      prefix,
      suffix: '',
      flags: match[1] ?? '',
      width: match[2] ? Number(match[2]) : 0,
      precision: match[3] !== undefined ? Number(match[3]) : undefined,
      conversion: match[4] as Conversion['conversion'],
    });
    last = match.index! + match[0].length;
  }
  if (conversions.length === 0) fail('INVALID_ARGUMENT', `csv: fmt ${JSON.stringify(format)} has no conversion such as %.18e, %g, %d`);
  const tail = format.replaceAll('%%', '\u0000').slice(last).replaceAll('\u0000', '%');
  const final = conversions.pop()!;
  conversions.push({ ...final, suffix: final.suffix + tail });
  for (const c of conversions) {
    if (c.precision !== undefined && c.precision > 100) fail('INVALID_ARGUMENT', `csv: fmt precision ${c.precision} is above 100`);
  }
  return conversions;
}

/** Python's exponent form: at least two digits (`e+05`). */
function pythonExponent(text: string): string {
  const at = text.indexOf('e');
  if (at === -1) return text;
  const sign = text[at + 1]!;
  const digits = text.slice(at + 2);
  return `${text.slice(0, at)}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
}

const bitsScratch = new Float64Array(1);
const bitsWords = new Uint32Array(bitsScratch.buffer);
const LOG10_5 = Math.log10(5);

/** |value| = odd × 2^exponent2 exactly (value finite, not 0). */
function oddBinary(value: number): { odd: number; exponent2: number } {
  bitsScratch[0] = Math.abs(value);
  const high = bitsWords[1]!;
  const biased = (high >>> 20) & 0x7ff;
  let odd = (high & 0xfffff) * 2 ** 32 + bitsWords[0]!;
  let exponent2 = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) odd += 2 ** 52;
  while (odd % 2 === 0) {
    odd /= 2;
    exponent2++;
  }
  return { odd, exponent2 };
}

/**
 * Whether `%.{precision}e` can meet an exact tie: the exact decimal expansion must have
 * exactly precision + 2 significant digits. Integers below 10^(precision+1) have fewer; a
 * value odd × 2^-k has exactly as many as odd × 5^k, estimated here with a margin.
 */
function mayTieExponential(value: number, precision: number): boolean {
  const { odd, exponent2 } = oddBinary(value);
  if (exponent2 >= 0) return Math.abs(value) >= 10 ** (precision + 1);
  const digits = Math.floor(Math.log10(odd) + -exponent2 * LOG10_5) + 1;
  return Math.abs(digits - (precision + 2)) <= 1;
}

/**
 * `value.toExponential(precision)`, except that an exact tie (the binary value ends in
 * a 5 right after the last digit kept) rounds half to even as C's printf and Python do;
 * ECMAScript rounds it up. Ties are common for large values with few fraction bits.
 */
function exponentialEven(value: number, precision: number): string {
  const text = value.toExponential(precision);
  if (precision >= 99 || value === 0 || !mayTieExponential(value, precision)) return text;
  const full = value.toExponential(100);
  const e = full.indexOf('e');
  const digits = full[0]! + full.slice(2, e);
  if (digits[precision + 1] !== '5' || !/^0*$/.test(digits.slice(precision + 2))) return text;
  if ((digits.charCodeAt(precision) - 0x30) % 2 === 1) return text; // rounding up reaches the even digit
  return (precision === 0 ? digits[0]! : `${digits[0]!}.${digits.slice(1, precision + 1)}`) + full.slice(e);
}

/** `value.toFixed(precision)` with exact ties rounded half to even (see {@link exponentialEven}). */
function fixedEven(value: number, precision: number): string {
  const text = value.toFixed(precision);
  if (precision >= 100 || value === 0) return text;
  // A tie needs the exact fraction to end right after the cut: -exponent2 fraction digits.
  if (oddBinary(value).exponent2 !== -(precision + 1)) return text;
  const full = value.toFixed(100);
  const point = full.indexOf('.');
  const fraction = full.slice(point + 1);
  if (fraction[precision] !== '5' || !/^0*$/.test(fraction.slice(precision + 1))) return text;
  const kept = precision === 0 ? full.charCodeAt(point - 1) : fraction.charCodeAt(precision - 1);
  if ((kept - 0x30) % 2 === 1) return text;
  return precision === 0 ? full.slice(0, point) : `${full.slice(0, point)}.${fraction.slice(0, precision)}`;
}

function fixed(value: number, precision: number): string {
  if (Math.abs(value) < 1e21) return fixedEven(value, precision);
  // toFixed switches to exponent form from 1e21; the integer is exact as a BigInt.
  const integer = BigInt(value).toString();
  return precision > 0 ? `${integer}.${'0'.repeat(precision)}` : integer;
}

/** Strips trailing fraction zeros (and a bare point) from a %g result's mantissa. */
function stripZeros(text: string): string {
  const e = text.indexOf('e');
  let mantissa = e === -1 ? text : text.slice(0, e);
  const exponent = e === -1 ? '' : text.slice(e);
  if (mantissa.includes('.')) mantissa = mantissa.replace(/0+$/, '').replace(/\.$/, '');
  return mantissa + exponent;
}

function formatMagnitude(value: number, c: Conversion): string {
  switch (c.conversion) {
    case 'e':
    case 'E': {
      const text = pythonExponent(exponentialEven(value, c.precision ?? 6));
      return c.conversion === 'E' ? text.toUpperCase() : text;
    }
    case 'f':
    case 'F':
      return fixed(value, c.precision ?? 6);
    case 'g':
    case 'G': {
      const p = c.precision === undefined ? 6 : Math.max(1, c.precision);
      const exponentForm = exponentialEven(value, p - 1);
      const x = Number(exponentForm.slice(exponentForm.indexOf('e') + 1));
      let text = x >= -4 && x < p ? fixed(value, p - 1 - x) : pythonExponent(exponentForm);
      if (!c.flags.includes('#')) text = stripZeros(text);
      return c.conversion === 'G' ? text.toUpperCase() : text;
    }
    case 'd':
    case 'i':
      return fixed(Math.trunc(value), 0);
    case 's':
      return csvShortestFloat64(value);
  }
}

/** Applies sign flags and width to a formatted magnitude. */
function pad(body: string, negative: boolean, c: Conversion, numeric: boolean): string {
  const sign = negative ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
  const length = sign.length + body.length;
  if (length >= c.width) return sign + body;
  if (c.flags.includes('-')) return sign + body + ' '.repeat(c.width - length);
  if (c.flags.includes('0') && numeric) return sign + '0'.repeat(c.width - length) + body;
  return ' '.repeat(c.width - length) + sign + body;
}

/** Formats one value with one conversion. */
function formatOne(value: number | bigint, c: Conversion): string {
  if (typeof value === 'bigint') {
    if (c.conversion === 'd' || c.conversion === 'i' || c.conversion === 's') {
      const negative = value < 0n;
      return pad((negative ? -value : value).toString(), negative, c, true);
    }
    value = Number(value);
  }
  const upper = c.conversion === 'E' || c.conversion === 'F' || c.conversion === 'G';
  if (!Number.isFinite(value)) {
    const text = nonFinite(value, upper);
    const negative = text.startsWith('-');
    return pad(negative ? text.slice(1) : text, negative, c, false);
  }
  const negative = value < 0 || Object.is(value, -0);
  return pad(formatMagnitude(Math.abs(value), c), negative, c, true);
}

/** Whether a conversion is plain `%.{p}e` / `%.{p}E` (no flags, no width), which {@link csvEmitExponential} writes without strings. */
function plainExponential(c: Conversion): boolean {
  return (c.conversion === 'e' || c.conversion === 'E') && c.flags === '' && c.width === 0 && (c.precision ?? 6) <= 18;
}

/** A compiled `fmt` (see {@link csvCompileFormat}). */
export interface CsvCompiledFormat {
  /** The text of one value of a column, with the text around its conversion. */
  format(value: number | bigint, column: number): string;
  /** Conversions in the format: 1 (every column) or one per column. */
  readonly perColumn: number;
  /** True when a whole-row format string gave several conversions (its text replaces the delimiter). */
  readonly rowFormat: boolean;
}

/** A compiled `fmt` as the writer uses it: `emit` appends a value's text to the output buffer. */
export interface CsvFormatEmitter extends CsvCompiledFormat {
  /** The text of `format`, appended to `out` (plain `%.{p}e` conversions without building strings). */
  emit(out: CsvTextBuffer, value: number | bigint, column: number): void;
}

/**
 * A compiled `fmt`: `format(value, column)` gives the text of one value, `emit` appends
 * it to a text buffer. One conversion applies to every column; several (`'%d,%.3f'` or
 * an array) give one per column, and then the text around them replaces the delimiter
 * (as `np.savetxt` does with a row format).
 *
 * @example
 * ```ts
 * const fmt = csvCompileFormat('%.18e');
 * fmt.format(1, 0); // '1.000000000000000000e+00'
 * ```
 */
export function csvCompileFormat(fmt: string | readonly string[]): CsvCompiledFormat {
  return csvFormatEmitter(fmt);
}

/**
 * {@link csvCompileFormat} with `emit`, for the writer.
 *
 * @example
 * ```ts
 * const out = new CsvTextBuffer();
 * csvFormatEmitter('%.18e').emit(out, 1, 0); // out holds '1.000000000000000000e+00'
 * ```
 */
export function csvFormatEmitter(fmt: string | readonly string[]): CsvFormatEmitter {
  const conversions = typeof fmt === 'string' ? parseFormat(fmt) : fmt.map((one) => {
    const parsed = parseFormat(one);
    if (parsed.length !== 1) fail('INVALID_ARGUMENT', `csv: each per-column fmt holds one conversion, got ${JSON.stringify(one)}`);
    return parsed[0]!;
  });
  const single = conversions.length === 1 ? conversions[0]! : undefined;
  const fast = conversions.map(plainExponential);
  const conversionOf = (column: number): Conversion => {
    const c = single ?? conversions[column];
    if (!c) return fail('INVALID_ARGUMENT', `csv: fmt has ${conversions.length} conversions, the row has more columns`);
    return c;
  };
  return {
    perColumn: conversions.length,
    rowFormat: typeof fmt === 'string' && conversions.length > 1,
    format(value, column) {
      const c = conversionOf(column);
      return c.prefix + formatOne(value, c) + c.suffix;
    },
    emit(out, value, column) {
      const c = conversionOf(column);
      if (c.prefix !== '') out.text(c.prefix);
      // The exact string path takes what the fast one leaves (ties, non-finite values, bigints).
      if (!(typeof value === 'number' && fast[single ? 0 : column] && csvEmitExponential(out, value, c.precision ?? 6, c.conversion === 'E'))) out.text(formatOne(value, c));
      if (c.suffix !== '') out.text(c.suffix);
    },
  };
}
