/**
 * Number text ⇄ values over bytes, for the CSV/TXT parser and writer.
 *
 * Parsing is a loop over the field's bytes, with no string made for the common case:
 * up to 15 significant digits and a power of ten up to 22 give a correctly rounded
 * double with one exact multiplication or division (Clinger's fast path, as strtod
 * implementations use). Longer mantissas (`%.18e` text has 19 digits) fall back to the
 * engine's `Number()`, which is correctly rounded too. float32 results are rounded from
 * that double, except on the rare exact float32 midpoint where double rounding could
 * differ from rounding the decimal once: there the decimal is compared exactly (BigInt).
 */

/** What a field parse gives back when the text is not a number of the asked kind. */
export const PARSE_FAILED = Symbol('parse-failed');
/** What a field parse gives back for an empty or NA field. */
export const PARSE_MISSING = Symbol('parse-missing');

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

const C_0 = 0x30;
const C_9 = 0x39;
const C_DOT = 0x2e;
const C_PLUS = 0x2b;
const C_MINUS = 0x2d;
const C_SPACE = 0x20;
const C_TAB = 0x09;
const C_CR = 0x0d;

/** True for the blanks trimmed around a field (space, tab, CR). */
export function isBlank(byte: number): boolean {
  return byte === C_SPACE || byte === C_TAB || byte === C_CR;
}

/** Lower-case ASCII text of bytes [start, end) (short tokens only). */
function lowerToken(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    text += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return text;
}

/** The NA spellings pandas' `read_csv` treats as missing by default (lower-cased), besides the empty field. */
const MISSING_TOKENS = new Set(['nan', '-nan', '+nan', 'na', 'n/a', '#n/a', 'null', 'none', '<na>', '-1.#ind', '1.#qnan', '-1.#qnan', '#n/a n/a', 'n/a n/a']);

function specialFloat(bytes: Uint8Array, start: number, end: number): number | typeof PARSE_MISSING | typeof PARSE_FAILED {
  if (end - start > 9) return PARSE_FAILED;
  const token = lowerToken(bytes, start, end);
  if (MISSING_TOKENS.has(token)) return PARSE_MISSING;
  if (token === 'inf' || token === '+inf' || token === 'infinity' || token === '+infinity') return Infinity;
  if (token === '-inf' || token === '-infinity') return -Infinity;
  return PARSE_FAILED;
}

let slowText = '';
/** The exact digits and exponent of the last slow-path parse, for the float32 midpoint check. */
let lastDigits = '';
let lastExponent = 0;

/**
 * Parses the decimal text in `bytes[start, end)` (blanks around it allowed) to the
 * nearest double. Returns {@link PARSE_MISSING} for an empty or NA field and
 * {@link PARSE_FAILED} for anything that is not a number.
 *
 * @example
 * ```ts
 * csvParseFloat(new TextEncoder().encode('2.5e-3'), 0, 6); // 0.0025
 * ```
 */
export function csvParseFloat(bytes: Uint8Array, start: number, end: number): number | typeof PARSE_MISSING | typeof PARSE_FAILED {
  while (start < end && isBlank(bytes[start]!)) start++;
  while (end > start && isBlank(bytes[end - 1]!)) end--;
  if (start === end) return PARSE_MISSING;
  let i = start;
  let negative = false;
  let c = bytes[i]!;
  if (c === C_MINUS || c === C_PLUS) {
    negative = c === C_MINUS;
    i++;
  }
  let mantissa = 0;
  let significant = 0; // significant digits folded into mantissa
  let pendingZeros = 0; // zeros after the last non-zero digit, folded only if another digit follows
  let exponent = 0; // power of ten applied to mantissa
  let anyDigit = false;
  let afterDot = false;
  const digitsStart = i;
  for (; i < end; i++) {
    c = bytes[i]!;
    if (c === C_DOT) {
      if (afterDot) return PARSE_FAILED;
      afterDot = true;
      continue;
    }
    if (c < C_0 || c > C_9) break;
    anyDigit = true;
    if (afterDot) exponent--;
    if (c === C_0) {
      if (significant > 0) pendingZeros++;
      continue;
    }
    if (pendingZeros > 0) {
      significant += pendingZeros;
      mantissa *= POW10[Math.min(pendingZeros, 22)]!;
      pendingZeros = 0;
    }
    mantissa = mantissa * 10 + (c - C_0);
    significant++;
  }
  exponent += pendingZeros; // trailing zeros: a power of ten, not digits
  if (!anyDigit) return specialFloat(bytes, start, end);
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
    i++;
    let expNegative = false;
    if (i < end && (bytes[i] === C_MINUS || bytes[i] === C_PLUS)) {
      expNegative = bytes[i] === C_MINUS;
      i++;
    }
    const expStart = i;
    let e = 0;
    for (; i < end; i++) {
      c = bytes[i]!;
      if (c < C_0 || c > C_9) break;
      if (e < 100_000) e = e * 10 + (c - C_0);
    }
    if (i === expStart) return PARSE_FAILED;
    exponent += expNegative ? -e : e;
  }
  if (i !== end) return PARSE_FAILED;
  let value: number;
  if (mantissa === 0) {
    value = 0;
  } else if (significant <= 15 && exponent >= -22 && exponent <= 22) {
    value = exponent >= 0 ? mantissa * POW10[exponent]! : mantissa / POW10[-exponent]!;
  } else {
    // Rare path: many digits or a far exponent. Number() of the same text is correctly rounded.
    slowText = '';
    for (let k = digitsStart; k < end; k++) slowText += String.fromCharCode(bytes[k]!);
    value = Number(slowText);
    if (Number.isNaN(value)) return PARSE_FAILED;
  }
  return negative ? -value : value;
}

const scratch64 = new Float64Array(1);
const scratchWords = new Uint32Array(scratch64.buffer);
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Rounds a parsed double to float32 as if the decimal text had been rounded once.
 * Only an exact float32 midpoint (rare) needs the text; `text` gives it.
 */
export function roundToFloat32(value: number, bytes: Uint8Array, start: number, end: number): number {
  const rounded = Math.fround(value);
  if (rounded === value || !Number.isFinite(value)) return rounded;
  scratch64[0] = value;
  const lowWord = scratchWords[0]!; // little-endian host: word 0 holds the low mantissa bits
  const midpoint = Math.abs(value) >= FLOAT32_MIN_NORMAL ? (lowWord & 0x1fffffff) === 0x10000000 : isSubnormalMidpoint(value);
  if (!midpoint) return rounded;
  const order = compareDecimalToDouble(bytes, start, end, value);
  if (order === 0) return rounded; // the text is the midpoint itself: ties to even, as fround does
  const other = nextFloat32Away(rounded, value);
  // Pick the float32 on the side of the midpoint where the decimal lies.
  const lower = Math.min(rounded, other);
  const upper = Math.max(rounded, other);
  return order > 0 ? upper : lower;
}

function isSubnormalMidpoint(value: number): boolean {
  const a = Math.fround(value);
  const b = nextFloat32Away(a, value);
  return (a + b) / 2 === value;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The float32 neighbour of `rounded` on the side of `toward`. */
function nextFloat32Away(rounded: number, toward: number): number {
  f32[0] = rounded;
  const magnitudeUp = Math.abs(toward) > Math.abs(rounded);
  if (rounded === 0) {
    u32[0] = 1;
    return toward < 0 ? -f32[0]! : f32[0]!;
  }
  u32[0] = magnitudeUp ? u32[0]! + 1 : u32[0]! - 1;
  return f32[0]!;
}

/** Sign of (decimal text − value), computed exactly. */
function compareDecimalToDouble(bytes: Uint8Array, start: number, end: number, value: number): number {
  lastDigits = '';
  lastExponent = 0;
  let i = start;
  while (i < end && isBlank(bytes[i]!)) i++;
  while (end > i && isBlank(bytes[end - 1]!)) end--;
  let negative = false;
  if (bytes[i] === C_MINUS || bytes[i] === C_PLUS) {
    negative = bytes[i] === C_MINUS;
    i++;
  }
  let seenDot = false;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c === C_DOT) seenDot = true;
    else if (c >= C_0 && c <= C_9) {
      lastDigits += String.fromCharCode(c);
      if (seenDot) lastExponent--;
    } else break;
  }
  if (i < end) lastExponent += Number(String.fromCharCode(...bytes.subarray(i + 1, end)));
  let decimal = BigInt(lastDigits || '0');
  let binary: bigint;
  scratch64[0] = Math.abs(value);
  const high = scratchWords[1]!;
  const low = scratchWords[0]!;
  const biased = (high >>> 20) & 0x7ff;
  let significand = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exp2: number;
  if (biased === 0) exp2 = -1074;
  else {
    significand |= 1n << 52n;
    exp2 = biased - 1075;
  }
  binary = significand;
  if (lastExponent >= 0) decimal *= 10n ** BigInt(lastExponent);
  else binary *= 10n ** BigInt(-lastExponent);
  if (exp2 >= 0) binary <<= BigInt(exp2);
  else decimal <<= BigInt(-exp2);
  const order = decimal === binary ? 0 : decimal > binary ? 1 : -1;
  // Compare magnitudes, then give the sign of the signed difference.
  return negative ? -order : order;
}

/** Parsed integer: a number when it fits 2^53 exactly, else a bigint. */
export function csvParseInteger(bytes: Uint8Array, start: number, end: number): number | bigint | typeof PARSE_MISSING | typeof PARSE_FAILED {
  while (start < end && isBlank(bytes[start]!)) start++;
  while (end > start && isBlank(bytes[end - 1]!)) end--;
  if (start === end) return PARSE_MISSING;
  let i = start;
  let negative = false;
  const first = bytes[i]!;
  if (first === C_MINUS || first === C_PLUS) {
    negative = first === C_MINUS;
    i++;
  }
  if (i === end) return PARSE_FAILED;
  const digitsStart = i;
  let value = 0;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c < C_0 || c > C_9) {
      const special = specialFloat(bytes, start, end);
      return special === PARSE_MISSING ? PARSE_MISSING : PARSE_FAILED;
    }
    value = value * 10 + (c - C_0);
  }
  if (end - digitsStart <= 15) return negative ? -value : value;
  let text = negative ? '-' : '';
  for (let k = digitsStart; k < end; k++) text += String.fromCharCode(bytes[k]!);
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Parsed boolean: `0`/`1`/`true`/`false` (any case); else failed or missing. */
export function csvParseBool(bytes: Uint8Array, start: number, end: number): boolean | typeof PARSE_MISSING | typeof PARSE_FAILED {
  while (start < end && isBlank(bytes[start]!)) start++;
  while (end > start && isBlank(bytes[end - 1]!)) end--;
  if (start === end) return PARSE_MISSING;
  if (end - start === 1) {
    if (bytes[start] === 0x31) return true;
    if (bytes[start] === 0x30) return false;
  }
  if (end - start > 5) return PARSE_FAILED;
  const token = lowerToken(bytes, start, end);
  if (token === 'true') return true;
  if (token === 'false') return false;
  return MISSING_TOKENS.has(token) ? PARSE_MISSING : PARSE_FAILED;
}
