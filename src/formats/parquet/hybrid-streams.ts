/**
 * Parquet's RLE / bit-packed hybrid streams as the fast read path (`plain-pages.ts`) meets
 * them: definition levels of width 1 (all ones, or one byte per row), and the dictionary
 * indices of RLE_DICTIONARY pages gathered straight into a column's words, a piece at a
 * time so a page can be placed in bands. Levels these do not take return -1 / false, and
 * the caller falls back to the general decoder. A damaged dictionary index stream is
 * not handed on: the gather stops with {@link DictionaryIndexStream.damage} set (what is
 * wrong and at which value), and the caller refuses the file with it. hyparquet would
 * read an index past the dictionary as a null (NaN) and a width over 32 with a wrapped
 * mask; pyarrow 25 refuses each of these ("Unexpected end of stream", "Invalid or
 * corrupted bit_width 33").
 */
import { anchorShape } from '../../core/shape-anchors.js';

/** A read position in an RLE / bit-packed hybrid stream. */
interface HybridCursor {
  at: number;
}

/**
 * The ULEB128 header of the hybrid run at `cursor.at` (low bit: 1 bit-packed, 0 RLE; the
 * rest: the group or repeat count), moving the cursor past it; -1 when the bytes end
 * first or the header is longer than five bytes.
 */
function hybridRunHeader(stream: Uint8Array, cursor: HybridCursor): number {
  let header = 0;
  let shift = 0;
  for (;;) {
    if (cursor.at >= stream.byteLength || shift > 28) return -1;
    const byte = stream[cursor.at++]!;
    header += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return header;
    shift += 7;
  }
}

/**
 * Whether an RLE / bit-packed hybrid stream of width-1 levels holds `count` ones (every
 * value defined). Runs past `count` or a stream that ends early: no.
 */
export function parquetAllLevelsOne(stream: Uint8Array, count: number): boolean {
  let seen = 0;
  const cursor: HybridCursor = { at: 0 };
  while (seen < count) {
    const header = hybridRunHeader(stream, cursor);
    if (header < 0) return false;
    let at = cursor.at;
    if (header & 1) {
      // Bit-packed: groups of 8 one-bit values; those past `count` are padding.
      const run = (header >>> 1) * 8;
      const take = Math.min(run, count - seen);
      const bytes = Math.ceil(run / 8);
      if (at + bytes > stream.byteLength) return false;
      for (let i = 0; i < take >> 3; i++) if (stream[at + i] !== 0xff) return false;
      const rest = take & 7;
      if (rest && (stream[at + (take >> 3)]! & ((1 << rest) - 1)) !== (1 << rest) - 1) return false;
      at += bytes;
      seen += take;
    } else {
      const run = header >>> 1;
      if (run === 0 || run > count - seen || at >= stream.byteLength || stream[at] !== 1) return false;
      at += 1;
      seen += run;
    }
    cursor.at = at;
  }
  return true;
}

/**
 * Decodes an RLE / bit-packed hybrid stream of `count` width-1 definition levels into
 * `defined` (one byte per row, 1 defined, 0 null) and answers how many are 1; -1 for a
 * stream this path does not take (a level above 1, a run past `count`, bytes that end
 * first), which the general path then decodes and reports.
 */
export function parquetDefinitionLevels(stream: Uint8Array, count: number, defined: Uint8Array): number {
  if (defined.byteLength < count) return -1;
  let seen = 0;
  let ones = 0;
  const cursor: HybridCursor = { at: 0 };
  while (seen < count) {
    const header = hybridRunHeader(stream, cursor);
    if (header < 0) return -1;
    let at = cursor.at;
    if (header % 2 === 1) {
      // Bit-packed, one bit per level: the group bytes are the bits themselves; those past `count` are padding.
      const groups = Math.floor(header / 2);
      if (at + groups > stream.byteLength) return -1;
      const take = Math.min(groups * 8, count - seen);
      for (let i = 0; i < take; i++) {
        const bit = (stream[at + (i >> 3)]! >> (i & 7)) & 1;
        defined[seen + i] = bit;
        ones += bit;
      }
      at += groups;
      seen += take;
    } else {
      const run = Math.floor(header / 2);
      if (run === 0 || run > count - seen || at >= stream.byteLength || stream[at]! > 1) return -1;
      const level = stream[at]!;
      at += 1;
      defined.fill(level, seen, seen + run);
      if (level === 1) ones += run;
      seen += run;
    }
    cursor.at = at;
  }
  return ones;
}

/**
 * Spreads the `present` values packed at the start of rows `[first, first + count)` of
 * `out` (32-bit words, `words` per value) to the rows `defined` marks, from the last row
 * back so nothing is overwritten before it moves; null rows get zero words and their
 * validity bit (row `bitFirst + r`; default `first + r`) cleared, as the general path leaves them.
 */
export function spreadNulls(out: Uint32Array, first: number, count: number, present: number, words: number, defined: Uint8Array, validity: Uint8Array, bitFirst = first): void {
  let from = (first + present) * words;
  for (let row = count - 1; row >= 0; row--) {
    let to = (first + row + 1) * words;
    if (defined[row] === 1) {
      for (let k = 0; k < words; k++) out[--to] = out[--from]!;
    } else {
      for (let k = 0; k < words; k++) out[--to] = 0;
      const bit = bitFirst + row;
      validity[bit >> 3]! &= ~(1 << (bit & 7));
    }
  }
}

/**
 * Writes `count` values of a dictionary-encoded values section (one bit-width byte, then
 * an RLE / bit-packed hybrid stream of indices) into `out` at `outAt` by copying the
 * indexed dictionary entries (as 32-bit words, so float bit patterns are kept exactly).
 * False for a damaged stream (a width over 32, an index past the dictionary, a stream
 * that ends early: see {@link DictionaryIndexStream.gather}).
 */
export function parquetGatherDictionary(section: Uint8Array, count: number, dictionary: Uint32Array, entries: number, out: Uint32Array, outAt: number, words: number): boolean {
  if (section.byteLength < 1) return count === 0;
  return new DictionaryIndexStream(section, dictionary, entries, words).gather(count, out, outAt * words);
}

/**
 * What is wrong with a dictionary index stream ({@link DictionaryIndexStream.damage}):
 * the reason, in words, and the value (counted from the section's first index) that
 * could not be read.
 */
export interface DictionaryStreamDamage {
  readonly reason: string;
  readonly value: number;
}

/** The reason given for an index past the dictionary (the native gather words it the same way). */
export function dictionaryIndexPast(index: number, entries: number): string {
  return `dictionary index ${index} is past the dictionary's ${entries} entries`;
}

/**
 * A place in a dictionary-encoded values section ({@link DictionaryIndexStream.place}):
 * the byte of the next run header, the indices left in the current run, and that run
 * (bit-packed: its first byte and the bit of its next index; RLE: its index).
 */
export interface DictionaryStreamPlace {
  readonly at: number;
  readonly left: number;
  readonly packed: boolean;
  readonly runAt: number;
  readonly bit: number;
  readonly index: number;
}

/**
 * A dictionary-encoded values section read a piece at a time: {@link gather} writes the
 * entries of the next indices and keeps its place inside the current run, so a page can
 * be placed in bands of rows (a stacked read places every column's band before the next).
 */
export class DictionaryIndexStream {
  private readonly width: number;
  private readonly view: DataView;
  /** Where the next run header is. */
  private at = 1;
  /** Indices left in the current run. */
  private left = 0;
  private packed = false;
  /** Bit-packed run: its first byte and the bit (from there) of its next index. */
  private runAt = 0;
  private bit = 0;
  /** RLE run: its dictionary index. */
  private index = 0;
  /** Indices gathered or skipped so far (the damage's place). */
  private taken = 0;
  /**
   * Set when {@link gather} or {@link skip} stopped at damage (a width over 32, a run
   * header cut or longer than five bytes, a bit-packed run past the section, an RLE run
   * of no values or whose value is cut, an index past the dictionary): the stream is
   * not one any decoder should read. Undefined when they stopped at a run this path does
   * not take (a bit-packed run of 2^31 bits or more), which the general decoder then reads.
   */
  damage: DictionaryStreamDamage | undefined;

  /** The dictionary's bytes, made on first use ({@link dictionaryBytes}). */
  private bytes: Uint8Array | undefined;

  constructor(readonly section: Uint8Array, readonly dictionary: Uint32Array, readonly entries: number, readonly words: number) {
    this.width = section.byteLength > 0 ? section[0]! : 0;
    this.view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  }

  /** The dictionary as bytes (a view of it), for the native gather. */
  get dictionaryBytes(): Uint8Array {
    return (this.bytes ??= new Uint8Array(this.dictionary.buffer, this.dictionary.byteOffset, this.dictionary.byteLength));
  }

  /** Where the stream is now: what a gather that continues it starts from (the native one, `gather-native.ts`). */
  place(): DictionaryStreamPlace {
    return { at: this.at, left: this.left, packed: this.packed, runAt: this.runAt, bit: this.bit, index: this.index };
  }

  /**
   * A copy of this stream put back at `place`, `position` values in (what {@link place}
   * and {@link position} answered then): to find the first damage of values a
   * {@link skip} went past, whose bit-packed indices it did not read.
   */
  resumed(place: DictionaryStreamPlace, position: number): DictionaryIndexStream {
    const copy = new DictionaryIndexStream(this.section, this.dictionary, this.entries, this.words);
    ({ at: copy.at, left: copy.left, packed: copy.packed, runAt: copy.runAt, bit: copy.bit, index: copy.index } = place);
    copy.taken = position;
    return copy;
  }

  /** Indices gathered or skipped so far: the value (from the section's first) the next one is. */
  get position(): number {
    return this.taken;
  }

  /** Records damage `reason` at value `value` (default: the next one) and answers false. */
  private damaged(reason: string, value = this.taken): false {
    this.damage = { reason, value };
    return false;
  }

  /** The damage of a width over 32 or an empty section with values asked of it; false when there is none. */
  private unreadable(count: number): boolean {
    if (this.width > 32) return !this.damaged(`the dictionary indices' bit width is ${this.width}, over 32`);
    if (count > 0 && this.section.byteLength < 1) return !this.damaged("the dictionary indices' section is empty");
    return false;
  }

  /**
   * Moves past the next `count` indices without writing them, reading only the run
   * headers (an RLE run's index is checked against the dictionary as {@link gather}
   * checks it; bit-packed indices are checked by whoever gathers them later from
   * {@link place}); false where {@link gather} would stop at a header.
   */
  skip(count: number): boolean {
    if (this.unreadable(count)) return false;
    while (count > 0) {
      if (this.left === 0 && !this.nextRun()) return false;
      const take = Math.min(this.left, count);
      if (this.packed) this.bit += take * this.width;
      this.left -= take;
      this.taken += take;
      count -= take;
    }
    return true;
  }

  /**
   * Writes the entries of the next `count` indices into `out` from word `target`, each
   * value `step` words after the one before (default: the entry's words, packed; a stacked
   * read gives its row's words, writing the column straight into the tensor's rows); false
   * at damage ({@link damage} says what and where) or a run this path does not take.
   */
  gather(count: number, out: Uint32Array, target: number, step = this.words): boolean {
    const { width, words, dictionary, entries, section } = this;
    if (this.unreadable(count)) return false;
    let to = target;
    while (count > 0) {
      if (this.left === 0 && !this.nextRun()) return false;
      const take = Math.min(this.left, count);
      if (this.packed) {
        // Values whose 4-byte window lies inside the section with one load each, the last few (and widths over 25 bits) value by value.
        const windowed = width > PACKED_WINDOW_MAX_WIDTH ? 0 : windowedValues(section, this.runAt, this.bit, take, width);
        if (windowed > 0) {
          to = words === 1 ? gatherPacked1(this.view, this.runAt, this.bit, windowed, width, dictionary, entries, out, to, step)
            : gatherPacked2(this.view, this.runAt, this.bit, windowed, width, dictionary, entries, out, to, step);
          if (to < 0) return this.indexPast(take);
        }
        if (windowed < take) {
          to = gatherPackedEach(section, this.runAt, this.bit + windowed * width, take - windowed, width, dictionary, entries, out, to, words, step);
          if (to < 0) return this.indexPast(take);
        }
        this.bit += take * width;
      } else if (words === 1 && step === 1) {
        out.fill(dictionary[this.index]!, to, to + take);
        to += take;
      } else if (words === 1) {
        const value = dictionary[this.index]!;
        for (let i = 0; i < take; i++, to += step) out[to] = value;
      } else {
        const low = dictionary[2 * this.index]!;
        const high = dictionary[2 * this.index + 1]!;
        for (let i = 0; i < take; i++, to += step) { out[to] = low; out[to + 1] = high; }
      }
      this.left -= take;
      this.taken += take;
      count -= take;
    }
    return true;
  }

  /**
   * The damage of the first index past the dictionary among the next `take` of the
   * current bit-packed run (found again here: the gather loops answer only -1, as a
   * loop that returned its counter ran 15-30% slower).
   */
  private indexPast(take: number): false {
    for (let i = 0; i < take; i++) {
      const index = packedValueAt(this.section, this.runAt, this.bit + i * this.width, this.width);
      if (index >= this.entries) return this.damaged(dictionaryIndexPast(index, this.entries), this.taken + i);
    }
    return this.damaged('a bit-packed run of dictionary indices could not be gathered');
  }

  /**
   * Reads the next run header (and an RLE run's index); false when the stream ends or is
   * damaged ({@link damage} set), or at a run this path does not take.
   */
  private nextRun(): boolean {
    const { section, width } = this;
    const cursor: HybridCursor = { at: this.at };
    const header = hybridRunHeader(section, cursor);
    if (header < 0) return this.damaged('a run header of the dictionary indices is cut or longer than 5 bytes');
    let at = cursor.at;
    if (header % 2 === 1) {
      // Bit-packed: groups of 8 values, least significant bit first; those past the page's count are padding, never asked for
      // (but inside the section: pyarrow and hyparquet refuse a run whose padding is cut too).
      const groups = Math.floor(header / 2);
      const bytes = groups * width;
      if (at + bytes > section.byteLength) return this.damaged(`a bit-packed run of ${groups * 8} dictionary indices (${bytes} bytes) runs past the section's ${section.byteLength - at} bytes left`);
      // Bit positions inside a run stay below 2^31 (shifts and masks on 32-bit integers): a run as long is left to the general decoder.
      if (bytes * 8 >= 2 ** 31) return false;
      this.packed = true;
      this.runAt = at;
      this.bit = 0;
      this.left = groups * 8;
      at += bytes;
    } else {
      const run = Math.floor(header / 2);
      const byteWidth = (width + 7) >> 3;
      // An RLE run of no values is no run (pyarrow refuses it; hyparquet skips it).
      if (run === 0) return this.damaged('an RLE run of dictionary indices holds 0 values');
      if (at + byteWidth > section.byteLength) return this.damaged(`the value of an RLE run of dictionary indices is cut (${byteWidth} bytes, ${section.byteLength - at} left)`);
      let index = 0;
      for (let i = 0; i < byteWidth; i++) index += section[at + i]! * 2 ** (8 * i);
      at += byteWidth;
      if (index >= this.entries) return this.damaged(dictionaryIndexPast(index, this.entries));
      this.packed = false;
      this.index = index;
      this.left = run;
    }
    this.at = at;
    return true;
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a stream is made per data page. */
anchorShape(() => new DictionaryIndexStream(new Uint8Array(0), new Uint32Array(0), 0, 1));

/**
 * Widest bit-packed index read with one unaligned 4-byte load: the value's bits start at
 * bit 0-7 of its first byte, so up to 25 of them lie inside the 4 bytes from there.
 */
const PACKED_WINDOW_MAX_WIDTH = 25;

/**
 * How many of `take` packed values of `width` bits, from bit `bit` of byte `at` on, have
 * their 4-byte window (from the value's first byte) inside `section`: those are read with
 * one load each, without a bounds test; the rest (the last few of the page) byte by byte.
 */
function windowedValues(section: Uint8Array, at: number, bit: number, take: number, width: number): number {
  const room = (section.byteLength - 4 - at) * 8 + 7 - bit;
  if (room < 0) return 0;
  return width === 0 ? take : Math.min(take, Math.floor(room / width) + 1);
}

/** The `width`-bit value at bit `bit` from `section[at]`, read byte by byte, bytes past the section as zero. */
function packedValueAt(section: Uint8Array, at: number, bit: number, width: number): number {
  const first = at + Math.floor(bit / 8);
  const window = (section[first] ?? 0) + (section[first + 1] ?? 0) * 2 ** 8 + (section[first + 2] ?? 0) * 2 ** 16
    + (section[first + 3] ?? 0) * 2 ** 24 + (section[first + 4] ?? 0) * 2 ** 32;
  return Math.floor(window / 2 ** (bit % 8)) % 2 ** width;
}

/**
 * The bit-packed indices of up to 25 bits each from bit `bit` of byte `at` on (`take`
 * values whose 4-byte windows lie inside the section, {@link windowedValues}), their
 * 4-byte dictionary entries written to `out` from `target`: one unaligned little-endian
 * load, a shift and a mask per value (about 2 ns against 5-8 for four byte loads, 1M
 * values of 11 bits, warm buffers), each value `step` words after the one before. The
 * next word to write, or -1 at an index past the dictionary. Nothing else in it: a loop
 * that optimizes before a colder one runs would deoptimize there on every call.
 */
function gatherPacked1(view: DataView, at: number, bit: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number, step: number): number {
  const mask = (1 << width) - 1;
  let to = target;
  for (let i = 0; i < take; i++, bit += width, to += step) {
    const index = (view.getUint32(at + (bit >>> 3), true) >>> (bit & 7)) & mask;
    if (index >= entries) return -1;
    out[to] = dictionary[index]!;
  }
  return to;
}

/** {@link gatherPacked1} for 8-byte entries (two words each). */
function gatherPacked2(view: DataView, at: number, bit: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number, step: number): number {
  const mask = (1 << width) - 1;
  let to = target;
  for (let i = 0; i < take; i++, bit += width, to += step) {
    const index = (view.getUint32(at + (bit >>> 3), true) >>> (bit & 7)) & mask;
    if (index >= entries) return -1;
    out[to] = dictionary[2 * index]!;
    out[to + 1] = dictionary[2 * index + 1]!;
  }
  return to;
}

/** Bit-packed indices value by value: a page's last few (their window would pass its end) and widths over 25 bits; -1 at an index past the dictionary. */
function gatherPackedEach(section: Uint8Array, at: number, bit: number, take: number, width: number, dictionary: Uint32Array, entries: number, out: Uint32Array, target: number, words: number, step: number): number {
  let to = target;
  for (let i = 0; i < take; i++, bit += width, to += step) {
    const index = packedValueAt(section, at, bit, width);
    if (index >= entries) return -1;
    out[to] = dictionary[index * words]!;
    if (words === 2) out[to + 1] = dictionary[index * words + 1]!;
  }
  return to;
}
