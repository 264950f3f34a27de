/**
 * Reading the little-endian structures of an HDF5 file for the direct path
 * (`data-location.ts`, `dataset-messages.ts`): a cursor over one structure's bytes, and
 * the one way out when something is not as expected — `decline`, which hands the
 * dataset back to libhdf5 instead of guessing. Pure; no Node import.
 */

/** Thrown by {@link decline}; `hdf5LocateData` turns it into `{ declined: reason }`. */
export class Declined extends Error {}

/** Gives up on the direct path with a reason (the dataset is read through libhdf5). */
export function decline(reason: string): never {
  throw new Declined(reason);
}

/** Little-endian reader over one structure's bytes; running past the end declines. */
export class Cursor {
  at = 0;
  constructor(readonly bytes: Uint8Array, private readonly offsetBytes: number, private readonly lengthBytes: number) {}

  private need(count: number): void {
    if (this.at + count > this.bytes.byteLength) decline('a structure runs past the bytes read for it');
  }

  u8(): number { this.need(1); return this.bytes[this.at++]!; }
  u16(): number { this.need(2); const v = this.bytes[this.at]! | (this.bytes[this.at + 1]! << 8); this.at += 2; return v; }
  u32(): number { this.need(4); const v = (this.bytes[this.at]! | (this.bytes[this.at + 1]! << 8) | (this.bytes[this.at + 2]! << 16)) + this.bytes[this.at + 3]! * 2 ** 24; this.at += 4; return v; }
  /** An unsigned integer of `size` bytes; `undefined` when all bits are set (the undefined address). */
  uint(size: number): number | undefined {
    this.need(size);
    let value = 0;
    let allOnes = true;
    for (let i = size - 1; i >= 0; i--) {
      const byte = this.bytes[this.at + i]!;
      if (byte !== 0xff) allOnes = false;
      value = value * 256 + byte;
    }
    this.at += size;
    if (allOnes) return undefined;
    if (!Number.isSafeInteger(value)) decline(`a ${size}-byte number is beyond 2^53`);
    return value;
  }
  address(): number | undefined { return this.uint(this.offsetBytes); }
  length(): number { return this.uint(this.lengthBytes) ?? decline('an undefined length'); }
  skip(count: number): void { this.need(count); this.at += count; }
  signature(text: string): void {
    this.need(text.length);
    for (let i = 0; i < text.length; i++) if (this.bytes[this.at + i] !== text.charCodeAt(i)) decline(`no ${text} signature where one belongs`);
    this.at += text.length;
  }
}

