/**
 * Numbers → text for the CSV/TXT writer: the shortest text that reads back to the same
 * value (the default, for float64 and float32 alike), and printf-style formats as
 * `np.savetxt` takes them (`%.18e`, `%.6g`, `%10.3f`, `%d`, …).
 *
 * One known difference from C's printf: a value exactly halfway between two outputs
 * (`'%.1e' % 0.125`) rounds up here (ECMAScript's `toExponential`/`toFixed` rule),
 * where C rounds the exact binary value half to even. Such ties need the binary value
 * to end exactly at the cut; `%.18e` of a float64 never meets one.
 */
import { errorFactory } from '../../core/errors.js';

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

const DIGITS = new Uint8Array(20);

/**
 * Appends `d × 10^k` (d a positive integer below 2^53) as JavaScript's `String` would
 * write that number: plain digits up to 21 integer places, `0.000001` down to 1e-6,
 * else `1.5e-7` / `1e+21`.
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
  // DIGITS holds the digits in reverse order.
  out.ensure(n + 32);
  const bytes = out.bytes;
  let at = out.length;
  if (negative) bytes[at++] = 0x2d;
  const point = n + k; // digits before the decimal point
  if (k >= 0 && point <= 21) {
    for (let i = n - 1; i >= 0; i--) bytes[at++] = DIGITS[i]!;
    for (let i = 0; i < k; i++) bytes[at++] = 0x30;
  } else if (point > 0 && point <= 21) {
    for (let i = n - 1; i >= n - point; i--) bytes[at++] = DIGITS[i]!;
    bytes[at++] = 0x2e;
    for (let i = n - point - 1; i >= 0; i--) bytes[at++] = DIGITS[i]!;
  } else if (point <= 0 && point > -6) {
    bytes[at++] = 0x30;
    bytes[at++] = 0x2e;
    for (let i = 0; i < -point; i++) bytes[at++] = 0x30;
    for (let i = n - 1; i >= 0; i--) bytes[at++] = DIGITS[i]!;
  } else {
    bytes[at++] = DIGITS[n - 1]!;
    if (n > 1) {
      bytes[at++] = 0x2e;
      for (let i = n - 2; i >= 0; i--) bytes[at++] = DIGITS[i]!;
    }
    bytes[at++] = 0x65;
    const exponent = point - 1;
    bytes[at++] = exponent < 0 ? 0x2d : 0x2b;
    const text = String(Math.abs(exponent));
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  }
  out.length = at;
}

const POWERS_OF_TEN: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POWERS_OF_TEN.push(p);

/**
 * Appends the shortest text that reads back to exactly `value`, as float32 when
 * `single` (`value` must then be a float32 value), else as float64. The nearest
 * p-digit decimal is tried for p = 1, 2, … (one exact power of ten each, checked by
 * reading it back); float64 values needing more than 15 digits, and exponents past
 * ±22, take the engine's own shortest `String(value)`.
 *
 * @example
 * ```ts
 * const out = new CsvTextBuffer();
 * csvEmitShortest(out, Math.fround(0.1), true); // '0.1'
 * ```
 */
export function csvEmitShortest(out: CsvTextBuffer, value: number, single: boolean): void {
  if (!Number.isFinite(value) || value === 0) {
    out.text(value === 0 ? (Object.is(value, -0) ? '-0' : '0') : nonFinite(value, false));
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
  out.text(single ? csvShortestFloat32(value) : String(value));
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

function fixed(value: number, precision: number): string {
  if (Math.abs(value) < 1e21) return value.toFixed(precision);
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
      const text = pythonExponent(value.toExponential(c.precision ?? 6));
      return c.conversion === 'E' ? text.toUpperCase() : text;
    }
    case 'f':
    case 'F':
      return fixed(value, c.precision ?? 6);
    case 'g':
    case 'G': {
      const p = c.precision === undefined ? 6 : Math.max(1, c.precision);
      const exponentForm = value.toExponential(p - 1);
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

/**
 * A compiled `fmt`: `format(value, column)` gives the text of one value. One conversion
 * applies to every column; several (`'%d,%.3f'` or an array) give one per column, and
 * then the text around them replaces the delimiter (as `np.savetxt` does with a row format).
 *
 * @example
 * ```ts
 * const fmt = csvCompileFormat('%.18e');
 * fmt.format(1, 0); // '1.000000000000000000e+00'
 * ```
 */
export function csvCompileFormat(fmt: string | readonly string[]): { format(value: number | bigint, column: number): string; readonly perColumn: number; readonly rowFormat: boolean } {
  const conversions = typeof fmt === 'string' ? parseFormat(fmt) : fmt.map((one) => {
    const parsed = parseFormat(one);
    if (parsed.length !== 1) fail('INVALID_ARGUMENT', `csv: each per-column fmt holds one conversion, got ${JSON.stringify(one)}`);
    return parsed[0]!;
  });
  const single = conversions.length === 1 ? conversions[0]! : undefined;
  return {
    perColumn: conversions.length,
    rowFormat: typeof fmt === 'string' && conversions.length > 1,
    format(value, column) {
      const c = single ?? conversions[column];
      if (!c) return fail('INVALID_ARGUMENT', `csv: fmt has ${conversions.length} conversions, the row has more columns`);
      return c.prefix + formatOne(value, c) + c.suffix;
    },
  };
}
