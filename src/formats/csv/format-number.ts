/**
 * Numbers → text for the CSV/TXT writer: the shortest text that reads back to the same
 * value (the default, for float64 and float32 alike), and printf-style formats as
 * `np.savetxt` takes them (`%.18e`, `%.6g`, `%10.3f`, `%d`, …).
 *
 * A value exactly halfway between two outputs (`'%.1e' % 0.125`, or `%.18e` of
 * 3262234208.8564453125) rounds half to even, as C's printf and Python do (ECMAScript's
 * `toExponential`/`toFixed` alone would round it up).
 */
import { errorFactory } from '../../core/errors.js';
import { csvEmitExponential } from './format-exponential.js';

const fail = errorFactory('csv');

/** Text of non-finite values, as numpy writes them. */
function nonFinite(value: number, upper: boolean): string {
  const text = Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return upper ? text.toUpperCase() : text;
}

/**
 * The shortest text that reads back to exactly `value` as a float64 (JavaScript's own
 * `String(number)` is that), with `nan`/`inf`/`-inf` and `-0` kept.
 *
 * @example
 * ```ts
 * csvShortestFloat64(0.1); // '0.1'
 * ```
 */
export function csvShortestFloat64(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value, false);
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  return String(value);
}

/**
 * Bytes of text, appended in place: the writer's output buffer. Numbers are emitted
 * straight into it (no string per value on the shortest path).
 */
export class CsvTextBuffer {
  bytes: Uint8Array;
  length = 0;
  constructor(capacity = 2 ** 20 + 4096) {
    this.bytes = new Uint8Array(capacity);
  }
  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.length + n <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  /** Appends ASCII/Latin-1 text. */
  text(value: string): void {
    this.ensure(value.length);
    const { bytes } = this;
    let at = this.length;
    for (let i = 0; i < value.length; i++) bytes[at++] = value.charCodeAt(i);
    this.length = at;
  }
  /** Appends text as UTF-8 (header names). */
  utf8(value: string): void {
    const encoded = new TextEncoder().encode(value);
    this.ensure(encoded.byteLength);
    this.bytes.set(encoded, this.length);
    this.length += encoded.byteLength;
  }
  /** Takes the bytes written so far (a copy) and empties the buffer. */
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

const DIGITS = new Uint8Array(32);

/**
 * Appends `d × 10^k` (d a positive integer below 2^53) the way Python's `repr(float)`
 * (and numpy's `str`) lays a shortest number out: positional from 1e-4 up to 1e16
 * with at least one fraction digit (`100.0`, `0.0001`), else `1e-05` / `9.9e+19`. pandas
 * then infers a float column from it, where a bare `100` or a 20-digit integer would
 * read as int64 or as text.
 */
function emitDecimal(out: CsvTextBuffer, negative: boolean, d: number, k: number): void {
  while (d % 10 === 0) {
    d /= 10;
    k++;
  }
  let n = 0;
  while (d > 0) {
    const q = Math.floor(d / 10);
    DIGITS[n++] = 0x30 + (d - q * 10);
    d = q;
  }
  // DIGITS holds the digits in reverse order; reverse them in place.
  for (let a = 0, b = n - 1; a < b; a++, b--) {
    const t = DIGITS[a]!;
    DIGITS[a] = DIGITS[b]!;
    DIGITS[b] = t;
  }
  emitDigits(out, negative, n, n + k);
}

/** Lays out DIGITS[0, n) with `point` digits before the decimal point, Python repr style. */
function emitDigits(out: CsvTextBuffer, negative: boolean, n: number, point: number): void {
  out.ensure(n + 32);
  const bytes = out.bytes;
  let at = out.length;
  if (negative) bytes[at++] = 0x2d;
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      bytes[at++] = 0x30;
      bytes[at++] = 0x2e;
      for (let i = 0; i < -point; i++) bytes[at++] = 0x30;
      for (let i = 0; i < n; i++) bytes[at++] = DIGITS[i]!;
    } else if (point < n) {
      for (let i = 0; i < point; i++) bytes[at++] = DIGITS[i]!;
      bytes[at++] = 0x2e;
      for (let i = point; i < n; i++) bytes[at++] = DIGITS[i]!;
    } else {
      for (let i = 0; i < n; i++) bytes[at++] = DIGITS[i]!;
      for (let i = n; i < point; i++) bytes[at++] = 0x30;
      bytes[at++] = 0x2e;
      bytes[at++] = 0x30;
    }
  } else {
    bytes[at++] = DIGITS[0]!;
    if (n > 1) {
      bytes[at++] = 0x2e;
      for (let i = 1; i < n; i++) bytes[at++] = DIGITS[i]!;
    }
    bytes[at++] = 0x65;
    let exponent = point - 1;
    bytes[at++] = exponent < 0 ? 0x2d : 0x2b;
    exponent = Math.abs(exponent);
    if (exponent < 10) bytes[at++] = 0x30;
    const text = String(exponent);
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  }
  out.length = at;
}

/** Appends a number given as JavaScript's `String()` text (`-1.5e-7`, `123.45`), re-laid out Python repr style. */
function emitJsText(out: CsvTextBuffer, text: string): void {
  let i = 0;
  const negative = text.charCodeAt(0) === 0x2d;
  if (negative) i++;
  let n = 0;
  let point = -1;
  let leadingZeros = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      point = n + leadingZeros;
      continue;
    }
    if (c === 0x65) break;
    if (n === 0 && c === 0x30) {
      leadingZeros++;
      continue;
    }
    DIGITS[n++] = c;
  }
  let digitsBeforePoint = point === -1 ? n + leadingZeros : point;
  digitsBeforePoint -= leadingZeros; // leading zeros sit before the first significant digit
  if (i < text.length) digitsBeforePoint += Number(text.slice(i + 1));
  while (n > 1 && DIGITS[n - 1] === 0x30) n--;
  emitDigits(out, negative, n, digitsBeforePoint);
}

const POWERS_OF_TEN: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POWERS_OF_TEN.push(p);

/**
 * Appends the shortest text that reads back to exactly `value`, as float32 when
 * `single` (`value` must then be a float32 value), else as float64. The nearest
 * p-digit decimal is tried for p = 1, 2, … (one exact power of ten each, checked by
 * reading it back); float64 values needing more than 15 digits, and exponents past
 * ±22, take the engine's own shortest `String(value)`. Laid out as Python's `repr`
 * (`0.1`, `100.0`, `1e-05`, `1.7976931348623157e+308`).
 *
 * @example
 * ```ts
 * const out = new CsvTextBuffer();
 * csvEmitShortest(out, Math.fround(0.1), true); // '0.1'
 * csvEmitShortest(out, 1e20, false); // '1e+20'
 * ```
 */
export function csvEmitShortest(out: CsvTextBuffer, value: number, single: boolean): void {
  if (!Number.isFinite(value) || value === 0) {
    out.text(value === 0 ? (Object.is(value, -0) ? '-0.0' : '0.0') : nonFinite(value, false));
    return;
  }
  const magnitude = Math.abs(value);
  const e10 = Math.floor(Math.log10(magnitude));
  const maxDigits = single ? 9 : 15;
  for (let digits = 1; digits <= maxDigits; digits++) {
    const k = e10 - digits + 1;
    if (k > 22 || k < -22) break;
    let d: number;
    let candidate: number;
    if (k >= 0) {
      const scale = POWERS_OF_TEN[k]!;
      d = Math.round(magnitude / scale);
      candidate = d * scale;
    } else {
      const scale = POWERS_OF_TEN[-k]!;
      d = Math.round(magnitude * scale);
      candidate = d / scale;
    }
    if (single ? Math.fround(candidate) === magnitude : candidate === magnitude) {
      if (d > 0) {
        emitDecimal(out, value < 0, d, k);
        return;
      }
    }
  }
  emitJsText(out, single ? csvShortestFloat32(value) : String(value));
}

/**
 * The shortest text that reads back to exactly `value` as a float32 (`value` must be a
 * float32 value): at most 9 significant digits, fewer when they suffice.
 *
 * @example
 * ```ts
 * csvShortestFloat32(Math.fround(0.1)); // '0.1'
 * ```
 */
export function csvShortestFloat32(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value, false);
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(Number(value.toPrecision(9)));
}

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
