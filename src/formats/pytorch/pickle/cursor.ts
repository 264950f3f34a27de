/**
 * Reading the operands of pickle opcodes. Every length is checked against the bytes
 * that remain before anything is allocated, so a hostile length is an error, not a
 * 4 GiB buffer.
 */
import { latin1Decode } from '../../../core/bytes.js';
import { TensioError } from '../../../core/errors.js';
import { quoteInput } from '../../../core/quote.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A position in pickle bytes with bounds-checked readers for every operand kind. */
export class PickleCursor {
  private readonly view: DataView;
  position: number;

  constructor(private readonly data: Uint8Array, start: number, private readonly format: string, private readonly maxLongBytes: number) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.position = start;
  }

  private fail(code: 'INVALID_PICKLE' | 'TRUNCATED' | 'LIMIT_EXCEEDED', message: string): never {
    throw new TensioError(code, `${this.format}: ${message}`, { format: this.format, offset: this.position });
  }

  /** Throws `TRUNCATED` unless `length` more bytes exist; returns the start. */
  need(length: number): number {
    const remaining = this.data.byteLength - this.position;
    if (!Number.isSafeInteger(length) || length < 0) this.fail('INVALID_PICKLE', `invalid length ${length} at byte ${this.position}`);
    if (length > remaining) this.fail('TRUNCATED', `pickle needs ${length} bytes at byte ${this.position} but only ${remaining} remain`);
    const at = this.position;
    this.position += length;
    return at;
  }

  u8(): number {
    return this.data[this.need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  /** A u64 length; anything beyond the input is reported as truncation by the caller's `bytes()`. */
  u64(): number {
    const value = this.view.getBigUint64(this.need(8), true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }

  /** FRAME: a length hint that must fit in the input; its contents are read as ordinary opcodes. */
  skipFrame(): void {
    const length = this.u64();
    const remaining = this.data.byteLength - this.position;
    if (length > remaining) this.fail('TRUNCATED', `FRAME of ${length} bytes at byte ${this.position} but only ${remaining} remain`);
  }

  bytes(length: number): Uint8Array {
    const at = this.need(length);
    return this.data.subarray(at, at + length);
  }

  utf8(length: number): string {
    const raw = this.bytes(length);
    try {
      return utf8Strict.decode(raw);
    } catch {
      return this.fail('INVALID_PICKLE', `string of ${length} bytes before byte ${this.position} is not valid UTF-8`);
    }
  }

  /** LONG1/LONG4: little-endian two's complement of `length` bytes. */
  long(length: number): number | bigint {
    if (length < 0) this.fail('INVALID_PICKLE', `negative LONG length ${length}`);
    if (length > this.maxLongBytes) this.fail('LIMIT_EXCEEDED', `integer of ${length} bytes exceeds ${this.maxLongBytes} (maxLongBytes)`);
    const raw = this.bytes(length);
    if (length === 0) return 0;
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]!);
    if (raw[length - 1]! & 0x80) value -= 1n << BigInt(length * 8);
    return toNumberIfSafe(value);
  }

  /** Bytes up to (not including) the next newline, which is consumed. */
  lineBytes(): Uint8Array {
    const start = this.position;
    const end = this.data.indexOf(0x0a, start);
    if (end < 0) this.fail('TRUNCATED', `text operand at byte ${start} has no terminating newline`);
    this.position = end + 1;
    return this.data.subarray(start, end);
  }

  textLine(): string {
    const raw = this.lineBytes();
    try {
      return utf8Strict.decode(raw);
    } catch {
      return this.fail('INVALID_PICKLE', 'text operand is not valid UTF-8');
    }
  }

  asciiLine(): string {
    return latin1Decode(this.lineBytes());
  }

  decimalLine(): number {
    const line = this.asciiLine();
    if (!/^\d{1,15}$/.test(line)) this.fail('INVALID_PICKLE', `memo index ${quoteInput(line.slice(0, 40))} is not a number`);
    return Number(line);
  }

  /** INT: protocol-0 integer; `01`/`00` are True/False. */
  intLine(): number | bigint | boolean {
    const line = this.asciiLine();
    if (line === '01') return true;
    if (line === '00') return false;
    return this.parseInteger(line);
  }

  longLine(): number | bigint {
    const line = this.asciiLine();
    return this.parseInteger(line.endsWith('L') ? line.slice(0, -1) : line);
  }

  private parseInteger(text: string): number | bigint {
    if (!/^[-+]?\d+$/.test(text) || text.length > this.maxLongBytes * 3) this.fail('INVALID_PICKLE', `integer operand ${quoteInput(text.slice(0, 40))} is invalid`);
    return toNumberIfSafe(BigInt(text));
  }

  floatLine(): number {
    const line = this.asciiLine().trim();
    if (/^[-+]?inf(inity)?$/i.test(line)) return line.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/i.test(line)) return Number.NaN;
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(line)) this.fail('INVALID_PICKLE', `float operand ${quoteInput(line.slice(0, 40))} is invalid`);
    return Number(line);
  }

  /** STRING: a Python 2 repr (`'abc\n'`), unescaped to bytes. */
  quotedLine(): Uint8Array {
    const line = this.asciiLine();
    const quote = line[0];
    if (line.length < 2 || (quote !== "'" && quote !== '"') || line[line.length - 1] !== quote) {
      this.fail('INVALID_PICKLE', 'STRING operand is not quoted');
    }
    const body = line.slice(1, -1);
    const out: number[] = [];
    for (let i = 0; i < body.length; i++) {
      const ch = body.charCodeAt(i);
      if (ch !== 0x5c) {
        out.push(ch & 0xff);
        continue;
      }
      const next = body[++i];
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
        out.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (next !== undefined && /[0-7]/.test(next)) {
        const digits = /^[0-7]{1,3}/.exec(body.slice(i))![0];
        out.push(parseInt(digits, 8) & 0xff);
        i += digits.length - 1;
      } else if (next !== undefined && next in simple) {
        out.push(simple[next]!);
      } else {
        out.push(0x5c);
        if (next !== undefined) out.push(next.charCodeAt(0) & 0xff);
      }
    }
    return Uint8Array.from(out);
  }

  /** UNICODE: raw-unicode-escape (`\uXXXX`, `\UXXXXXXXX`), otherwise latin-1. */
  rawUnicodeLine(): string {
    const line = this.asciiLine();
    return line.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_match, short: string | undefined, long: string | undefined) => {
      const code = parseInt(short ?? long!, 16);
      if (code > 0x10ffff) this.fail('INVALID_PICKLE', `code point ${code} out of range`);
      return String.fromCodePoint(code);
    });
  }

  /** Python 2 `str`: decoded as UTF-8 (torch.load's default encoding), kept as bytes when it is not text. */
  py2String(raw: Uint8Array): string | Uint8Array {
    try {
      return utf8Strict.decode(raw);
    } catch {
      return raw.slice();
    }
  }
}

function toNumberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
