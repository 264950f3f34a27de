/**
 * The CSV/TXT writer's output buffer: bytes of text appended in place, which the number
 * emitters (`format-shortest.ts`, `format-printf.ts`, `format-exponential.ts`) write
 * straight into, plus the text numpy writes for non-finite values.
 */

/** Text of non-finite values, as numpy writes them (`nan`, `inf`, `-inf`; upper case for `%E %F %G`). */
export function csvNonFiniteText(value: number, upper: boolean): string {
  const text = Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return upper ? text.toUpperCase() : text;
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
