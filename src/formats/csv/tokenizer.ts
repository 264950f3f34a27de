/**
 * The CSV/TXT tokenizer: one loop over bytes that finds the fields of the next record.
 * No strings are made; a field is a `[start, end)` byte range (quotes excluded).
 * Blank lines, comment lines and the `skipRows` leading lines are passed over, physical
 * lines are counted (for messages), and a record cut by the end of the buffer is
 * reported as incomplete so a streaming caller can carry it over to the next block.
 */
import { errorFactory } from '../../core/errors.js';
import type { CsvDialect } from './types.js';

const fail = errorFactory('csv');

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** `next` found no record: more bytes are needed (the record runs past the buffer). */
export const NEED_MORE = -1;
/** `next` found no record: the text is exhausted. */
export const AT_END = -2;

/** Walks records of a text buffer; reusable across buffers (state: line count, lines left to skip). */
export class CsvTokenizer {
  /** Field starts and ends of the last record (quotes excluded). */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Fields in the last record. */
  count = 0;
  /** Physical line (1-based) where the last record started. */
  recordLine = 0;
  /** Physical line (1-based) of the next byte. */
  line: number;
  /** Leading lines still to skip. */
  skipLeft: number;
  /** Offset where the last record started (its line's first byte). */
  recordStart = 0;
  /** After {@link NEED_MORE}: where the unfinished record starts (blank lines before it were consumed). */
  resumeAt = 0;

  constructor(readonly dialect: CsvDialect, firstLine = 1, skipLeft = dialect.skipRows) {
    this.line = firstLine;
    this.skipLeft = skipLeft;
  }

  private push(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const starts = new Int32Array(this.count * 2);
      starts.set(this.starts);
      const ends = new Int32Array(this.count * 2);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  private tooLong(length: number): never {
    return fail('LIMIT_EXCEEDED', `csv: line ${this.line} is longer than ${this.dialect.maxLineBytes} bytes (${length} bytes read so far); raise maxLineBytes if the file is sound`);
  }

  /**
   * Finds the next record in `bytes[pos, end)`. Returns the position after it (its
   * fields in `starts`/`ends`/`count`), {@link NEED_MORE} when it runs past `end` and
   * `final` is false, or {@link AT_END}. Offsets are relative to `bytes`.
   */
  next(bytes: Uint8Array, pos: number, end: number, final: boolean): number {
    const { delimiter, quote, comment, maxLineBytes } = this.dialect;
    const whitespace = delimiter === -1;
    for (;;) {
      while (this.skipLeft > 0) {
        const newline = bytes.indexOf(NL, pos);
        if (newline === -1 || newline >= end) {
          if (!final) {
            if (end - pos > maxLineBytes) this.tooLong(end - pos);
            this.resumeAt = pos;
            return NEED_MORE;
          }
          this.skipLeft = 0;
          return AT_END;
        }
        pos = newline + 1;
        this.line++;
        this.skipLeft--;
      }
      if (pos >= end) {
        if (final) return AT_END;
        this.resumeAt = pos;
        return NEED_MORE;
      }
      const recordStart = pos;
      let line = this.line;
      let p = pos;
      this.count = 0;
      let ended = false;
      let sawQuote = false;
      while (!ended) {
        if (whitespace) {
          while (p < end) {
            const c = bytes[p]!;
            if (c !== SPACE && c !== TAB && c !== CR) break;
            p++;
          }
          if (p < end && (bytes[p] === NL || bytes[p] === comment)) break;
          if (p >= end) break;
        }
        const start = p;
        if (p < end && bytes[p] === quote) {
          sawQuote = true;
          p++;
          let close = -1;
          while (p < end) {
            const c = bytes[p]!;
            if (c === quote) {
              if (p + 1 < end && bytes[p + 1] === quote) {
                p += 2;
                continue;
              }
              if (p + 1 >= end && !final) break; // a doubled quote may straddle the block
              close = p;
              p++;
              break;
            }
            if (c === NL) line++;
            p++;
          }
          if (close === -1) {
            if (!final) {
              if (end - recordStart > maxLineBytes) this.tooLong(end - recordStart);
              this.resumeAt = recordStart;
              return NEED_MORE;
            }
            fail('INVALID_VALUE', `csv: line ${this.line}: a quoted field opened at byte ${start - recordStart + 1} of the record is never closed`);
          }
          this.push(start + 1, close);
          while (p < end && (bytes[p] === SPACE || bytes[p] === TAB || bytes[p] === CR)) p++;
          if (p < end && bytes[p] !== delimiter && bytes[p] !== NL && bytes[p] !== comment && !whitespace) {
            fail('INVALID_VALUE', `csv: line ${line}: unexpected ${JSON.stringify(String.fromCharCode(bytes[p]!))} after a closing quote`);
          }
        } else if (whitespace) {
          while (p < end) {
            const c = bytes[p]!;
            if (c === SPACE || c === TAB || c === NL || c === CR || c === comment) break;
            p++;
          }
          this.push(start, p);
          continue;
        } else {
          while (p < end) {
            const c = bytes[p]!;
            if (c === delimiter || c === NL || c === comment) break;
            p++;
          }
          this.push(start, p);
        }
        if (p >= end) break;
        const c = bytes[p]!;
        if (c === delimiter) {
          p++;
          continue;
        }
        ended = true;
      }
      // p is at a newline, a comment, or the end of the buffer.
      if (p < end && bytes[p] === comment) {
        const newline = bytes.indexOf(NL, p);
        p = newline === -1 || newline >= end ? end : newline;
      }
      if (p >= end) {
        if (!final) {
          if (end - recordStart > maxLineBytes) this.tooLong(end - recordStart);
          this.resumeAt = recordStart;
          return NEED_MORE;
        }
      } else {
        p++; // the newline
        line++;
      }
      if (p - recordStart > maxLineBytes) this.tooLong(p - recordStart);
      this.recordLine = this.line;
      this.recordStart = recordStart;
      this.line = line;
      // Blank and comment-only lines are no records (np.loadtxt and pandas skip them).
      if (this.count === 0) {
        pos = p;
        continue;
      }
      if (this.count === 1 && !sawQuote && isBlankRange(bytes, this.starts[0]!, this.ends[0]!)) {
        pos = p;
        continue;
      }
      return p;
    }
  }
}

function isBlankRange(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c !== SPACE && c !== TAB && c !== CR) return false;
  }
  return true;
}
