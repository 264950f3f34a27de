/**
 * A minimal, bounds-checked FlatBuffers reader for Arrow's metadata (Schema, Message,
 * Footer, Tensor). Every offset read from the buffer is checked against its length, so
 * a hostile file gives `INVALID_HEADER`, never a read outside the buffer or a loop.
 * Field numbers are the `.fbs` field order (slot = 4 + 2 × index in the vtable).
 */
import { errorFactory } from '../../core/errors.js';

const fail = errorFactory('arrow');

/** Bounds every walk: more tables than this in one metadata buffer is a hostile file. */
const MAX_TABLE_VISITS = 1_000_000;

/** A FlatBuffer being read, with a shared visit budget. */
export class FlatBuffer {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  private visits = 0;

  constructor(bytes: Uint8Array, readonly what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Fails unless `[at, at + size)` is inside the buffer. */
  check(at: number, size: number): void {
    if (!(at >= 0 && size >= 0 && at + size <= this.bytes.byteLength)) {
      fail('INVALID_HEADER', `arrow: ${this.what} refers to bytes ${at}..${at + size} outside its ${this.bytes.byteLength} bytes`);
    }
  }

  u8(at: number): number { this.check(at, 1); return this.view.getUint8(at); }
  i16(at: number): number { this.check(at, 2); return this.view.getInt16(at, true); }
  u16(at: number): number { this.check(at, 2); return this.view.getUint16(at, true); }
  i32(at: number): number { this.check(at, 4); return this.view.getInt32(at, true); }
  u32(at: number): number { this.check(at, 4); return this.view.getUint32(at, true); }
  /** An int64 as a number; `SIZE_OVERFLOW` past 2^53. */
  i64(at: number): number {
    this.check(at, 8);
    const value = this.view.getBigInt64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      fail('SIZE_OVERFLOW', `arrow: ${this.what} holds the integer ${value}, beyond 2^53`);
    }
    return Number(value);
  }

  /** The root table. */
  root(): FlatTable {
    return this.table(this.u32(0));
  }

  /** The table at `at` (an absolute position). */
  table(at: number): FlatTable {
    if (++this.visits > MAX_TABLE_VISITS) fail('LIMIT_EXCEEDED', `arrow: ${this.what} has more than ${MAX_TABLE_VISITS} tables`);
    const vtable = at - this.i32(at);
    const vtableBytes = this.u16(vtable);
    const tableBytes = this.u16(vtable + 2);
    if (vtableBytes < 4 || vtableBytes % 2 !== 0) fail('INVALID_HEADER', `arrow: ${this.what} has a vtable of ${vtableBytes} bytes`);
    this.check(vtable, vtableBytes);
    this.check(at, tableBytes);
    return new FlatTable(this, at, vtable, vtableBytes);
  }
}

/** One table: fields looked up through its vtable. */
export class FlatTable {
  constructor(readonly buffer: FlatBuffer, readonly at: number, private readonly vtable: number, private readonly vtableBytes: number) {}

  /** Absolute position of field `index`, or 0 when absent. */
  field(index: number): number {
    const slot = 4 + 2 * index;
    if (slot + 2 > this.vtableBytes) return 0;
    const offset = this.buffer.u16(this.vtable + slot);
    return offset === 0 ? 0 : this.at + offset;
  }

  has(index: number): boolean { return this.field(index) !== 0; }
  u8(index: number, fallback = 0): number { const at = this.field(index); return at ? this.buffer.u8(at) : fallback; }
  bool(index: number, fallback = false): boolean { const at = this.field(index); return at ? this.buffer.u8(at) !== 0 : fallback; }
  i16(index: number, fallback = 0): number { const at = this.field(index); return at ? this.buffer.i16(at) : fallback; }
  i32(index: number, fallback = 0): number { const at = this.field(index); return at ? this.buffer.i32(at) : fallback; }
  i64(index: number, fallback = 0): number { const at = this.field(index); return at ? this.buffer.i64(at) : fallback; }

  /** Position of the target of an offset field (a table, string or vector), or 0. */
  private indirect(index: number): number {
    const at = this.field(index);
    return at ? at + this.buffer.u32(at) : 0;
  }

  /** A sub-table, or undefined. */
  table(index: number): FlatTable | undefined {
    const at = this.indirect(index);
    return at ? this.buffer.table(at) : undefined;
  }

  /** A UTF-8 string, or undefined. */
  string(index: number): string | undefined {
    const at = this.indirect(index);
    if (!at) return undefined;
    const length = this.buffer.u32(at);
    this.buffer.check(at + 4, length);
    return new TextDecoder('utf-8', { fatal: false }).decode(this.buffer.bytes.subarray(at + 4, at + 4 + length));
  }

  /** A vector: its element count and the position of element 0 (`elementBytes` each, checked). */
  vector(index: number, elementBytes: number): { length: number; start: number } {
    const at = this.indirect(index);
    if (!at) return { length: 0, start: 0 };
    const length = this.buffer.u32(at);
    this.buffer.check(at + 4, length * elementBytes);
    return { length, start: at + 4 };
  }

  /** A vector of tables. */
  tables(index: number): FlatTable[] {
    const { length, start } = this.vector(index, 4);
    const out: FlatTable[] = [];
    for (let i = 0; i < length; i++) {
      const at = start + 4 * i;
      out.push(this.buffer.table(at + this.buffer.u32(at)));
    }
    return out;
  }

  /** A vector of int64s as numbers. */
  int64s(index: number): number[] {
    const { length, start } = this.vector(index, 8);
    return Array.from({ length }, (_, i) => this.buffer.i64(start + 8 * i));
  }
}
