/**
 * The deletion bitmap `deleted_<name>.npkb`: one bit per physical row, 1 = active,
 * 0 = deleted; bit `row % 64` of little-endian u64 word `row / 64`. NumPack writes a
 * 16-byte header first (u64 total_rows, u64 deleted_count) that its spec omits; older
 * stores hold the bare words. Logical row i is the i-th active physical row.
 */
import { errorFactory } from '../core/errors.js';
import { checkedSize } from '../core/sizes.js';
import { quoteInput } from '../core/quote.js';

const fail: ReturnType<typeof errorFactory> = errorFactory('npk');
const HEADER_BYTES = 16;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** 32-bit words for `rows` rows, rounded up to whole u64 words as the file stores them. */
function wordsFor(rows: number): number {
  return Math.ceil(rows / 64) * 2;
}

/**
 * A deletion bitmap in memory. Words are 32-bit little-endian halves of NumPack's u64
 * words, so the byte image is the file's, and bit order is the same.
 *
 * @example
 * ```ts
 * const bitmap = NpkBitmap.allActive(10);
 * bitmap.deletePhysical([0, 5]);
 * bitmap.activeCount; // 8
 * bitmap.logicalToPhysical(4); // 6
 * ```
 */
export class NpkBitmap {
  #rows: number;
  #words: Uint32Array;
  #active: number;
  #prefix: Float64Array | undefined;

  private constructor(rows: number, words: Uint32Array, active: number) {
    this.#rows = rows;
    this.#words = words;
    this.#active = active;
  }

  /** A bitmap of `rows` rows, all active. */
  static allActive(rows: number): NpkBitmap {
    const bitmap = new NpkBitmap(0, new Uint32Array(0), 0);
    bitmap.resize(rows);
    return bitmap;
  }

  /** An independent copy (changes are made on copies, so a failed change can be undone). */
  clone(): NpkBitmap {
    return new NpkBitmap(this.#rows, this.#words.slice(), this.#active);
  }

  /** Physical rows covered. */
  get totalRows(): number { return this.#rows; }
  /** Active (logical) rows. */
  get activeCount(): number { return this.#active; }
  /** Deleted rows. */
  get deletedCount(): number { return this.#rows - this.#active; }

  /** True when physical `row` is active. */
  isActive(row: number): boolean {
    return row >= 0 && row < this.#rows && ((this.#words[row >>> 5]! >>> (row & 31)) & 1) === 1;
  }

  /**
   * Grows or shrinks to `rows` physical rows; new rows are active. A bitmap shorter than
   * the data (a crash between an append's data and its bitmap) thus shows the new rows.
   */
  resize(rows: number): void {
    if (rows === this.#rows) return;
    const words = new Uint32Array(wordsFor(rows));
    words.set(this.#words.subarray(0, Math.min(words.length, this.#words.length)));
    const keep = Math.min(rows, this.#rows);
    // Clear bits past the old end (and past the new end), then set the new rows.
    this.#clearFrom(words, keep);
    for (let row = keep; row < rows;) {
      if ((row & 31) === 0 && row + 32 <= rows) { words[row >>> 5] = 0xffffffff; row += 32; continue; }
      words[row >>> 5]! |= 1 << (row & 31);
      row++;
    }
    this.#words = words;
    this.#rows = rows;
    this.#recount();
  }

  #clearFrom(words: Uint32Array, row: number): void {
    const word = row >>> 5;
    if (word < words.length && (row & 31) !== 0) words[word]! &= (1 << (row & 31)) - 1;
    words.fill(0, (row & 31) === 0 ? word : word + 1);
  }

  #recount(): void {
    let active = 0;
    for (let i = 0; i < this.#words.length; i++) active += popcount32(this.#words[i]!);
    this.#active = active;
    this.#prefix = undefined;
  }

  /** Marks physical rows deleted (already deleted or out of range: ignored). */
  deletePhysical(rows: Iterable<number>): void {
    for (const row of rows) {
      if (row >= 0 && row < this.#rows) this.#words[row >>> 5]! &= ~(1 << (row & 31));
    }
    this.#recount();
  }

  /** Marks every row deleted. */
  deleteAll(): void {
    this.#words.fill(0);
    this.#active = 0;
    this.#prefix = undefined;
  }

  /** Physical row of logical row `logical` (0 ≤ logical < activeCount). */
  logicalToPhysical(logical: number): number {
    if (this.#active === this.#rows) return logical;
    const prefix = this.#prefix ??= this.#buildPrefix();
    let low = 0;
    let high = this.#words.length - 1;
    while (low < high) { // last word whose prefix ≤ logical
      const mid = (low + high + 1) >>> 1;
      if (prefix[mid]! <= logical) low = mid; else high = mid - 1;
    }
    let bits = this.#words[low]!;
    for (let skip = logical - prefix[low]!; skip > 0; skip--) bits &= bits - 1;
    return low * 32 + lowestBit(bits);
  }

  #buildPrefix(): Float64Array {
    const prefix = new Float64Array(this.#words.length);
    let sum = 0;
    for (let i = 0; i < this.#words.length; i++) { prefix[i] = sum; sum += popcount32(this.#words[i]!); }
    return prefix;
  }

  /** First physical row ≥ `row` with the given state, or totalRows. */
  #next(row: number, active: boolean): number {
    let word = row >>> 5;
    let bits = (active ? this.#words[word]! : ~this.#words[word]!) & (~0 << (row & 31));
    while (bits === 0) {
      word++;
      if (word * 32 >= this.#rows) return this.#rows;
      bits = active ? this.#words[word]! : ~this.#words[word]!;
    }
    return Math.min(this.#rows, word * 32 + lowestBit(bits));
  }

  /**
   * Contiguous physical runs `[start, count]` holding logical rows `[start, end)`, in
   * order. With no deletions it is one run.
   */
  *physicalRuns(logicalStart: number, logicalEnd: number): Generator<[number, number]> {
    let remaining = logicalEnd - logicalStart;
    if (remaining <= 0) return;
    if (this.#active === this.#rows) { yield [logicalStart, remaining]; return; }
    let row = this.logicalToPhysical(logicalStart);
    while (remaining > 0 && row < this.#rows) {
      const stop = Math.min(this.#next(row, false), row + remaining);
      yield [row, stop - row];
      remaining -= stop - row;
      row = this.#next(stop, true);
    }
  }

  /** The file image: 16-byte header, then ceil(rows/64) u64 words. */
  encode(): Uint8Array {
    const bytes = new Uint8Array(HEADER_BYTES + this.#words.byteLength);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(this.#rows), true);
    view.setBigUint64(8, BigInt(this.deletedCount), true);
    bytes.set(new Uint8Array(this.#words.buffer, this.#words.byteOffset, this.#words.byteLength), HEADER_BYTES);
    return bytes;
  }

  /**
   * Parses a bitmap file. The 16-byte-header form is recognised by its exact length
   * (16 + 8 × ceil(total/64)); anything else must be legacy bare words (a multiple of 8
   * bytes), whose row count comes from the metadata. The active count is recomputed from
   * the bits rather than trusted from the header. The result is resized to
   * `physicalRows` (see {@link NpkBitmap.resize}).
   *
   * @example
   * ```ts
   * const bitmap = NpkBitmap.decode(await readFile('s.npk/deleted_x.npkb'), 1000);
   * ```
   */
  static decode(bytes: Uint8Array, physicalRows: number, name = '?'): NpkBitmap {
    if (bytes.byteLength < HEADER_BYTES) {
      fail('TRUNCATED', `npk: deletion bitmap of ${quoteInput(name)} has ${bytes.byteLength} bytes, fewer than the 16-byte header`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerRows = view.getBigUint64(0, true);
    let rows: number;
    let body: Uint8Array;
    if (BigInt(bytes.byteLength) === BigInt(HEADER_BYTES) + 8n * ((headerRows + 63n) / 64n)) {
      rows = checkedSize(headerRows, 'npk', `bitmap rows of ${name}`);
      body = bytes.subarray(HEADER_BYTES);
    } else if (bytes.byteLength % 8 === 0) {
      rows = Math.min(physicalRows, bytes.byteLength * 8);
      body = bytes;
    } else {
      fail('SIZE_MISMATCH', `npk: deletion bitmap of ${quoteInput(name)} has ${bytes.byteLength} bytes: neither 16 + 8 × ceil(${headerRows}/64) nor a multiple of 8`);
    }
    const words = new Uint32Array(wordsFor(rows));
    new Uint8Array(words.buffer).set(body.subarray(0, words.byteLength));
    const bitmap = new NpkBitmap(rows, words, 0);
    bitmap.#clearFrom(words, rows);
    bitmap.#recount();
    bitmap.resize(physicalRows);
    return bitmap;
  }
}
