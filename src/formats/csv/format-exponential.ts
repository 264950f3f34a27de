/**
 * `%.{p}e` of a float64 (p from 0 to 18), bit for bit as C's printf and Python write it
 * (`np.savetxt`'s default `%.18e`), straight into the writer's byte buffer.
 *
 * Why not `value.toExponential(18)`: V8 computes 19 requested digits with its bignum
 * fallback (its fast algorithm gives up beyond ~17 digits), about 1 µs a value, and
 * the string then still needs Python's exponent and tie rounding. Here the value
 * `m × 2^q` is multiplied by a power of ten held to 106 bits (a double-double), which
 * gives the leading digits exactly and the rest with an error below 2^-38 of a unit of
 * the last digit kept. When the dropped part lies within 2^-32 of one half, an integer
 * test on `m` and `q` tells an exact tie (rounded half to even, as C does; common in
 * float32 data, whose exact expansions are short) from a value merely that close, which
 * is left to the exact string path (`csvEmitExponential` returns false). Every other
 * value rounds the same way the exact expansion would.
 */
import type { CsvTextBuffer } from './text-buffer.js';

/** Smallest and largest power of ten the digit loop needs (values from 5e-324 to 1.8e308, 1 to 9 leading digits). */
const POW10_MIN = -310;
const POW10_MAX = 340;
/** 2^27 + 1: Dekker's constant that splits a double into two halves whose products are exact. */
const SPLITTER = 134217729;
/** The fraction's distance from one half under which ties are tested exactly (the error bound is below 2^-38). */
const TIE_BAND = 2 ** -32;

interface PowerTable {
  /** 10^t = (hi[i] + lo[i]) × 2^exponent[i], hi a 53-bit integer, lo in [0, 1), for t = POW10_MIN + i. */
  readonly hi: Float64Array;
  readonly lo: Float64Array;
  readonly hiHigh: Float64Array;
  readonly hiLow: Float64Array;
  readonly exponent: Int32Array;
}

let table: PowerTable | undefined;

function bitLength(value: bigint): number {
  return value.toString(2).length;
}

/** The power table, built exactly with BigInt on first use (a few milliseconds). */
function powers(): PowerTable {
  if (table) return table;
  const size = POW10_MAX - POW10_MIN + 1;
  const built = { hi: new Float64Array(size), lo: new Float64Array(size), hiHigh: new Float64Array(size), hiLow: new Float64Array(size), exponent: new Int32Array(size) };
  for (let t = POW10_MIN; t <= POW10_MAX; t++) {
    // 10^t = n × 2^scale exactly (t ≥ 0), or to at least 128 bits (t < 0).
    let n: bigint;
    let scale: number;
    if (t >= 0) {
      n = 10n ** BigInt(t);
      scale = 0;
    } else {
      scale = -(4 * -t + 128);
      n = (1n << BigInt(-scale)) / 10n ** BigInt(-t);
    }
    const shift = bitLength(n) - 53;
    let hi: number;
    let lo = 0;
    if (shift <= 0) hi = Number(n << BigInt(-shift));
    else {
      const top = n >> BigInt(shift);
      hi = Number(top);
      const rest = n - (top << BigInt(shift));
      // The remainder as a fraction of one unit of hi, to 64 bits (more than a double keeps).
      lo = shift > 64 ? Number(rest >> BigInt(shift - 64)) / 2 ** 64 : Number(rest) / 2 ** shift;
    }
    const i = t - POW10_MIN;
    built.hi[i] = hi;
    built.lo[i] = lo;
    const c = SPLITTER * hi;
    built.hiHigh[i] = c - (c - hi);
    built.hiLow[i] = hi - built.hiHigh[i]!;
    built.exponent[i] = shift + scale;
  }
  table = built;
  return built;
}

/** 2^k for k in [-160, 64], exact (the scales the product needs: see `digitsOf`). */
const POW2_MIN = -160;
const POW2 = new Float64Array(64 - POW2_MIN + 1);
for (let k = 0, p = 2 ** POW2_MIN; k < POW2.length; k++, p *= 2) POW2[k] = p;

const PRECISION_POW10 = Array.from({ length: 11 }, (_, k) => 10 ** k);

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** Digits of one value: `high` (n1 digits) then `low` (n2 digits, zero-padded), and the decimal exponent. */
const result = { high: 0, low: 0, exponent: 0 };

/**
 * Whether `m × 2^q × 10^s` lies exactly halfway between two integers, i.e. twice it is
 * an odd integer: with m = odd × 2^z, that is z + q + s + 1 = 0 and, for s < 0, 5^-s
 * dividing the odd part (impossible past 5^22, above any 53-bit odd part).
 */
function exactTie(m: number, q: number, s: number): boolean {
  let odd = m;
  let zeros = 0;
  while (odd % 2 === 0) {
    odd /= 2;
    zeros++;
  }
  if (zeros + q + s + 1 !== 0) return false;
  if (s >= 0) return true;
  return -s <= 22 && odd % 5 ** -s === 0;
}

/**
 * The first `n1 + n2` significant digits of `magnitude` (finite, > 0) rounded half to
 * even at the last, into `result`; false when the dropped part is too close to one half
 * to decide here. n1 is 1..9, n2 is 0..10.
 */
function digitsOf(magnitude: number, n1: number, n2: number): boolean {
  const powersTable = powers();
  bits[0] = magnitude;
  const high = words[1]!;
  const biased = high >>> 20;
  // magnitude = m × 2^q exactly.
  const m = (high & 0xfffff) * 4294967296 + words[0]! + (biased === 0 ? 0 : 4503599627370496);
  const q = biased === 0 ? -1074 : biased - 1075;
  const mc = SPLITTER * m;
  const mHigh = mc - (mc - m);
  const mLow = m - mHigh;
  let exponent = Math.floor(Math.log10(magnitude));
  const firstLow = PRECISION_POW10[n1 - 1]!;
  const firstHigh = PRECISION_POW10[n1]!;
  const scaleLow = PRECISION_POW10[n2]!;
  const sc = SPLITTER * scaleLow;
  const sHigh = sc - (sc - scaleLow);
  const sLow = scaleLow - sHigh;
  // log10 can be one off next to a power of ten: at most two corrections.
  for (let attempt = 0; attempt < 3; attempt++) {
    const t = n1 - 1 - exponent;
    if (t < POW10_MIN || t > POW10_MAX) return false;
    const i = t - POW10_MIN;
    const hi = powersTable.hi[i]!;
    // y = m × (hi + lo) × 2^(q + e) as a double-double yh + yl, in [10^(n1-1), 10^n1).
    const p = m * hi;
    const e = ((mHigh * powersTable.hiHigh[i]! - p) + mHigh * powersTable.hiLow[i]! + mLow * powersTable.hiHigh[i]!) + mLow * powersTable.hiLow[i]!;
    const rest = e + m * powersTable.lo[i]!;
    const sum = p + rest;
    const sumLow = rest - (sum - p);
    const k = q + powersTable.exponent[i]! - POW2_MIN;
    if (k < 0 || k >= POW2.length) return false;
    const scale = POW2[k]!;
    const yh = sum * scale;
    const yl = sumLow * scale;
    let a = Math.floor(yh);
    // r = (yh - a) + yl in (-2^-24, 1 + 2^-24), as a double-double (Knuth's two-sum).
    const rh = yh - a;
    const r = rh + yl;
    const rb = r - rh;
    const rErr = (rh - (r - rb)) + (yl - rb);
    // x = r × 10^n2: the next n2 digits and the fraction to round on.
    const x = r * scaleLow;
    const xc = SPLITTER * r;
    const xHigh = xc - (xc - r);
    const xLow = r - xHigh;
    const xErr = ((xHigh * sHigh - x) + xHigh * sLow + xLow * sHigh) + xLow * sLow + rErr * scaleLow;
    let b = Math.floor(x);
    let fraction = (x - b) + xErr;
    if (fraction < 0) { b--; fraction += 1; } else if (fraction >= 1) { b++; fraction -= 1; }
    // yl (up to half a unit of yh's last bit, hundreds of units of the last digit kept) can
    // move y across an integer of the first n1 digits: borrow from or carry into them.
    if (b < 0) { b += scaleLow; a--; } else if (b >= scaleLow) { b -= scaleLow; a++; }
    if (a < firstLow) { exponent--; continue; }
    if (a >= firstHigh) { exponent++; continue; }
    if (Math.abs(fraction - 0.5) <= TIE_BAND) {
      // An exact tie rounds half to even (C's printf); a value merely this close is left to the exact path.
      if (!exactTie(m, q, n1 + n2 - 1 - exponent)) return false;
      if ((n2 > 0 ? b : a) % 2 === 1) b++;
    } else if (fraction > 0.5) b++;
    if (b >= scaleLow) { b -= scaleLow; a++; }
    if (a >= firstHigh) { a = firstLow; exponent++; }
    result.high = a;
    result.low = b;
    result.exponent = exponent;
    return true;
  }
  return false;
}

/** Writes the last `count` decimal digits of `value` (an integer below 2^31) ending before `end`; returns where they start. */
function writeDigits(bytes: Uint8Array, end: number, value: number, count: number): number {
  let rest = value | 0;
  for (let i = 0; i < count; i++) {
    const quotient = (rest / 10) | 0;
    bytes[--end] = 0x30 + rest - quotient * 10;
    rest = quotient;
  }
  return end;
}

/**
 * Appends `%.{precision}e` of `value` (finite; `upper` for `%E`) to `out` exactly as C's
 * printf writes it (`-1.234500000000000000e+03`, exponent of at least two digits), or
 * returns false without writing when the value needs the exact path: a precision
 * above 18, a non-finite value, or a dropped part within 2^-32 of one half that is not
 * an exact tie.
 *
 * @example
 * ```ts
 * const out = new CsvTextBuffer();
 * csvEmitExponential(out, 1, 18, false); // true: '1.000000000000000000e+00'
 * ```
 */
export function csvEmitExponential(out: CsvTextBuffer, value: number, precision: number, upper: boolean): boolean {
  if (!(precision >= 0 && precision <= 18) || !Number.isFinite(value)) return false;
  const negative = value < 0 || Object.is(value, -0);
  const digits = precision + 1;
  const n1 = Math.min(9, digits);
  const n2 = digits - n1;
  if (value === 0) {
    result.high = 0;
    result.low = 0;
    result.exponent = 0;
  } else if (!digitsOf(Math.abs(value), n1, n2)) return false;
  out.ensure(digits + 8);
  const bytes = out.bytes;
  let at = out.length;
  if (negative) bytes[at++] = 0x2d;
  // The n1 digits of high, then the n2 digits of low, written back to front; the point after the first.
  const end = at + digits + (precision > 0 ? 1 : 0);
  let cursor = end;
  const low = result.low;
  if (n2 > 5) {
    // Up to 10 digits: two halves that fit 32-bit integer arithmetic.
    const upper5 = Math.floor(low / 100000);
    cursor = writeDigits(bytes, cursor, low - upper5 * 100000, 5);
    cursor = writeDigits(bytes, cursor, upper5, n2 - 5);
  } else cursor = writeDigits(bytes, cursor, low, n2);
  cursor = writeDigits(bytes, cursor, result.high, n1 - 1);
  if (precision > 0) bytes[--cursor] = 0x2e;
  bytes[--cursor] = 0x30 + Math.floor(result.high / PRECISION_POW10[n1 - 1]!);
  at = end;
  bytes[at++] = upper ? 0x45 : 0x65;
  let exponent = result.exponent;
  bytes[at++] = exponent < 0 ? 0x2d : 0x2b;
  if (exponent < 0) exponent = -exponent;
  if (exponent >= 100) {
    bytes[at++] = 0x30 + Math.floor(exponent / 100);
    exponent %= 100;
  }
  bytes[at++] = 0x30 + Math.floor(exponent / 10);
  bytes[at++] = 0x30 + (exponent % 10);
  out.length = at;
  return true;
}
