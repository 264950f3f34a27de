/**
 * The writer side: a protocol-2 pickle emitter restricted to the opcodes torch's
 * `weights_only` unpickler implements (formats.md §2.4), so what tensio writes loads
 * with `torch.load(path, weights_only=True)`.
 */
import { TensioError } from '../../../core/errors.js';
import { PICKLE_OP as OP } from './opcodes.js';

const utf8 = new TextEncoder();

/**
 * Emits pickle opcodes into a growing buffer. GLOBALs are memoized (BINPUT once,
 * BINGET after) as Python's pickler does, keeping many-tensor pickles small.
 *
 * @example
 * ```ts
 * const pickle = new PickleEncoder();
 * pickle.proto(2); pickle.global('collections', 'OrderedDict'); pickle.emptyTuple(); pickle.reduce(); pickle.stop();
 * const bytes = pickle.bytes();
 * ```
 */
export class PickleEncoder {
  private buffer = new Uint8Array(1024);
  private length = 0;
  private readonly memo = new Map<string, number>();

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.byteLength) return;
    let size = this.buffer.byteLength * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  private byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  private raw(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  private u32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value, true);
    this.length += 4;
  }

  proto(protocol: number): void {
    this.byte(OP.PROTO);
    this.byte(protocol);
  }

  stop(): void {
    this.byte(OP.STOP);
  }

  mark(): void {
    this.byte(OP.MARK);
  }

  /** `GLOBAL module\nname\n`, memoized so each global is spelled out once. */
  global(module: string, name: string): void {
    const key = `${module}\n${name}`;
    const known = this.memo.get(key);
    if (known !== undefined) {
      this.memoGet(known);
      return;
    }
    this.byte(OP.GLOBAL);
    this.raw(utf8.encode(`${module}\n${name}\n`));
    const index = this.memo.size;
    this.memo.set(key, index);
    if (index < 256) {
      this.byte(OP.BINPUT);
      this.byte(index);
    } else {
      this.byte(OP.LONG_BINPUT);
      this.u32(index);
    }
  }

  private memoGet(index: number): void {
    if (index < 256) {
      this.byte(OP.BINGET);
      this.byte(index);
    } else {
      this.byte(OP.LONG_BINGET);
      this.u32(index);
    }
  }

  /** An int with the smallest opcode Python would use (BININT1, BININT2, BININT, LONG1). */
  int(value: number): void {
    if (!Number.isSafeInteger(value)) throw new TensioError('INVALID_ARGUMENT', `pickle: ${value} is not a safe integer`);
    if (value >= 0 && value < 256) {
      this.byte(OP.BININT1);
      this.byte(value);
    } else if (value >= 0 && value < 65536) {
      this.byte(OP.BININT2);
      this.byte(value & 0xff);
      this.byte(value >> 8);
    } else if (value >= -(2 ** 31) && value < 2 ** 31) {
      this.byte(OP.BININT);
      this.reserve(4);
      new DataView(this.buffer.buffer).setInt32(this.length, value, true);
      this.length += 4;
    } else {
      const bytes: number[] = [];
      let rest = BigInt(value);
      // Two's complement, little-endian, shortest form that keeps the sign bit right.
      do {
        bytes.push(Number(rest & 0xffn));
        rest >>= 8n;
      } while (!((rest === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (rest === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)));
      this.byte(OP.LONG1);
      this.byte(bytes.length);
      this.raw(Uint8Array.from(bytes));
    }
  }

  /** `BINUNICODE`: u32 length + UTF-8. */
  string(value: string): void {
    const encoded = utf8.encode(value);
    this.byte(OP.BINUNICODE);
    this.u32(encoded.byteLength);
    this.raw(encoded);
  }

  bool(value: boolean): void {
    this.byte(value ? OP.NEWTRUE : OP.NEWFALSE);
  }

  none(): void {
    this.byte(OP.NONE);
  }

  emptyTuple(): void {
    this.byte(OP.EMPTY_TUPLE);
  }

  emptyDict(): void {
    this.byte(OP.EMPTY_DICT);
  }

  /** Packs the last `count` values (or everything since MARK when `count` is undefined) into a tuple. */
  tuple(count?: number): void {
    if (count === 0) this.byte(OP.EMPTY_TUPLE);
    else if (count === 1) this.byte(OP.TUPLE1);
    else if (count === 2) this.byte(OP.TUPLE2);
    else if (count === 3) this.byte(OP.TUPLE3);
    else this.byte(OP.TUPLE);
  }

  /** A tuple of ints, e.g. a size or stride. */
  intTuple(values: readonly number[]): void {
    if (values.length > 3) this.mark();
    for (const value of values) this.int(value);
    this.tuple(values.length > 3 ? undefined : values.length);
  }

  reduce(): void {
    this.byte(OP.REDUCE);
  }

  binPersId(): void {
    this.byte(OP.BINPERSID);
  }

  setItems(): void {
    this.byte(OP.SETITEMS);
  }

  /** The pickle so far. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
