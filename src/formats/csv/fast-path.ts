/**
 * The parser's fast path: plain records of floats (`1.5,-2e-3,7\n`: no quotes, blanks,
 * comments, missing values or column selection) parsed in one pass over their bytes,
 * each number converted while its field is walked. Anything else stops the fast path at
 * the start of that record, and the general tokenizer (`tokenizer.ts`) takes it, with
 * its exact errors; the two give the same values.
 */
import { csvParseFloat, roundToFloat32 } from './numbers.js';

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

/**
 * Parses as many plain records as possible from `text[pos, end)` (each ending in `\n`,
 * optionally `\r\n`) into `values` from element `at`, `fields` floats per record, at
 * most `maxRows` records. Returns the records parsed; `state.pos` is left at the first
 * byte not consumed (the start of a record the fast path declined).
 */
export function csvFastFloatRecords(
  text: Uint8Array, state: { pos: number }, end: number, delimiter: number, fields: number,
  single: boolean, values: Float32Array | Float64Array, at: number, maxRows: number,
): number {
  let pos = state.pos;
  let rows = 0;
  records: while (rows < maxRows) {
    let out = at + rows * fields;
    for (let k = 0; k < fields; k++) {
      const fieldStart = pos;
      let c = pos < end ? text[pos]! : -1;
      let negative = false;
      if (c === 0x2d || c === 0x2b) {
        negative = c === 0x2d;
        c = ++pos < end ? text[pos]! : -1;
      }
      let mantissa = 0;
      let significant = 0;
      let pendingZeros = 0;
      let exponent = 0;
      let digits = 0;
      while (c >= 0x30 && c <= 0x39) {
        digits++;
        if (c === 0x30) {
          if (significant > 0) pendingZeros++;
        } else {
          if (pendingZeros > 0) {
            mantissa *= POW10[pendingZeros > 22 ? 22 : pendingZeros]!;
            significant += pendingZeros;
            pendingZeros = 0;
          }
          mantissa = mantissa * 10 + (c - 0x30);
          significant++;
        }
        c = ++pos < end ? text[pos]! : -1;
      }
      if (c === 0x2e) {
        c = ++pos < end ? text[pos]! : -1;
        while (c >= 0x30 && c <= 0x39) {
          digits++;
          exponent--;
          if (c === 0x30) {
            if (significant > 0) pendingZeros++;
          } else {
            if (pendingZeros > 0) {
              mantissa *= POW10[pendingZeros > 22 ? 22 : pendingZeros]!;
              significant += pendingZeros;
              pendingZeros = 0;
            }
            mantissa = mantissa * 10 + (c - 0x30);
            significant++;
          }
          c = ++pos < end ? text[pos]! : -1;
        }
      }
      exponent += pendingZeros;
      if (digits === 0) break records;
      if (c === 0x65 || c === 0x45) {
        c = ++pos < end ? text[pos]! : -1;
        let expNegative = false;
        if (c === 0x2d || c === 0x2b) {
          expNegative = c === 0x2d;
          c = ++pos < end ? text[pos]! : -1;
        }
        let e = 0;
        let expDigits = 0;
        while (c >= 0x30 && c <= 0x39) {
          if (e < 100_000) e = e * 10 + (c - 0x30);
          expDigits++;
          c = ++pos < end ? text[pos]! : -1;
        }
        if (expDigits === 0) break records;
        exponent += expNegative ? -e : e;
      }
      // The field must end here: a delimiter between fields, a line end after the last.
      if (k < fields - 1) {
        if (c !== delimiter) break records;
      } else if (c === 0x0d) {
        if (pos + 1 >= end || text[pos + 1] !== 0x0a) break records;
        pos++;
      } else if (c !== 0x0a) {
        break records;
      }
      let value: number;
      if (mantissa === 0) value = 0;
      else if (significant <= 15 && exponent >= -22 && exponent <= 22) {
        value = exponent >= 0 ? mantissa * POW10[exponent]! : mantissa / POW10[-exponent]!;
      } else {
        // Long mantissa or far exponent: the general number parser (Number() inside).
        const parsed = csvParseFloat(text, fieldStart, pos);
        if (typeof parsed !== 'number') break records;
        value = parsed; // signed already
        negative = false;
      }
      if (negative) value = -value;
      values[out++] = single ? roundToFloat32(value, text, fieldStart, pos) : value;
      pos++; // past the delimiter or the newline
    }
    rows++;
    state.pos = pos; // a declined record leaves state.pos at its start
  }
  return rows;
}

/** True when the fast path applies: a one-byte delimiter, every field kept in order, a float dtype. */
export function csvFastPathApplies(delimiter: number, fields: number, select: Int32Array, dtype: string): boolean {
  if (delimiter === -1 || (dtype !== 'float32' && dtype !== 'float64') || select.length !== fields) return false;
  for (let k = 0; k < fields; k++) if (select[k] !== k) return false;
  return true;
}
