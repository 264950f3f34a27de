/**
 * Numbers → shortest text for the CSV/TXT writer (the default, for float64 and float32
 * alike): the shortest text that reads back to the same value, laid out as Python's
 * `repr` (`0.1`, `100.0`, `1e-05`).
 */
import { csvNonFiniteText as nonFinite, type CsvTextBuffer } from './text-buffer.js';

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
