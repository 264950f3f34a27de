/**
 * Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding) for zTensor
 * manifests: a strict decoder of our own that rejects everything the reference
 * decoder rejects, each under its rule, and an encoder that produces canonical bytes.
 *
 * The decoder never allocates for a declared length before checking that the input
 * holds it, and nests at most {@link ZT_MAX_CBOR_DEPTH} deep (iteration depth is bounded,
 * so recursion is too).
 */
import { ZT_MAX_CBOR_DEPTH, ztReject } from './types.js';
import { float16BitsToNumber } from '../../core/float-convert.js';

/** A CBOR float (kept apart from integers: a shape dimension must be an unsigned integer). */
export class CborFloat {
  constructor(readonly value: number) {}
}

/** A CBOR map with its entries in encoded order; keys may be any CBOR value. */
export class CborMap {
  constructor(readonly entries: ReadonlyArray<readonly [CborValue, CborValue]>) {}
  /** The value under a text key, or undefined. */
  get(key: string): CborValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}

/** A decoded CBOR value. Integers beyond ±2^53 are bigints. */
export type CborValue = number | bigint | string | Uint8Array | boolean | null | CborFloat | CborMap | CborValue[];

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one deterministic CBOR item that spans all of `bytes`.
 *
 * @example
 * ```ts
 * cborDecodeStrict(Uint8Array.of(0xa0)); // CborMap {}
 * cborDecodeStrict(Uint8Array.of(0x18, 0x05)); // throws CborDeterminism (5 fits the head)
 * ```
 */
export function cborDecodeStrict(bytes: Uint8Array): CborValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;

  const need = (n: number, what: string): void => {
    if (n > bytes.length - at) ztReject('CborSyntax', `manifest CBOR: ${what} needs ${n} bytes at offset ${at}, ${bytes.length - at} remain`);
  };

  /** Reads a head's argument; returns it as number when safe, else bigint. */
  function argument(info: number, start: number): number | bigint {
    if (info < 24) return info;
    if (info === 24) {
      need(1, 'a 1-byte argument');
      const v = bytes[at++]!;
      if (v < 24) ztReject('CborDeterminism', `manifest CBOR: argument ${v} at offset ${start} is not in its shortest form`);
      return v;
    }
    if (info === 25) {
      need(2, 'a 2-byte argument');
      const v = view.getUint16(at);
      at += 2;
      if (v < 0x100) ztReject('CborDeterminism', `manifest CBOR: argument ${v} at offset ${start} is not in its shortest form`);
      return v;
    }
    if (info === 26) {
      need(4, 'a 4-byte argument');
      const v = view.getUint32(at);
      at += 4;
      if (v < 0x10000) ztReject('CborDeterminism', `manifest CBOR: argument ${v} at offset ${start} is not in its shortest form`);
      return v;
    }
    // info === 27
    need(8, 'an 8-byte argument');
    const v = view.getBigUint64(at);
    at += 8;
    if (v < 0x100000000n) ztReject('CborDeterminism', `manifest CBOR: argument ${v} at offset ${start} is not in its shortest form`);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  function length(arg: number | bigint, what: string, minBytesEach: number): number {
    // Every element takes at least `minBytesEach` bytes: a count the rest cannot hold is refused before allocating.
    const remaining = bytes.length - at;
    if (typeof arg === 'bigint' || arg * minBytesEach > remaining) {
      ztReject('CborSyntax', `manifest CBOR: ${what} declares ${String(arg)} items/bytes at offset ${at}, only ${remaining} bytes remain`);
    }
    return arg;
  }

  function item(depth: number): CborValue {
    if (depth > ZT_MAX_CBOR_DEPTH) ztReject('CborDepth', `manifest CBOR nests deeper than ${ZT_MAX_CBOR_DEPTH} levels (offset ${at})`);
    need(1, 'an item');
    const start = at;
    const initial = bytes[at++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info === 31) ztReject('CborSyntax', `manifest CBOR: indefinite length or break (0x${initial.toString(16)}) at offset ${start}`);
    if (info >= 28) ztReject('CborSyntax', `manifest CBOR: reserved additional information ${info} at offset ${start}`);
    if (major === 7) return simple(info, start);
    const arg = argument(info, start);
    switch (major) {
      case 0:
        return arg;
      case 1:
        return typeof arg === 'bigint' || arg >= Number.MAX_SAFE_INTEGER ? -1n - BigInt(arg) : -1 - arg;
      case 2: {
        const n = length(arg, 'a byte string', 1);
        const out = bytes.slice(at, at + n);
        at += n;
        return out;
      }
      case 3: {
        const n = length(arg, 'a text string', 1);
        const raw = bytes.subarray(at, at + n);
        at += n;
        try {
          return strictUtf8.decode(raw);
        } catch {
          return ztReject('CborSyntax', `manifest CBOR: text string at offset ${start} is not valid UTF-8`);
        }
      }
      case 4: {
        const n = length(arg, 'an array', 1);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        const n = length(arg, 'a map', 2);
        const entries: Array<readonly [CborValue, CborValue]> = [];
        let previous: Uint8Array | undefined;
        for (let i = 0; i < n; i++) {
          const keyStart = at;
          const key = item(depth + 1);
          const keyBytes = bytes.subarray(keyStart, at);
          if (previous) {
            const order = compareBytes(previous, keyBytes);
            if (order === 0) ztReject('CborDuplicateKey', `manifest CBOR: map key at offset ${keyStart} repeats the previous key`);
            if (order > 0) ztReject('CborDeterminism', `manifest CBOR: map key at offset ${keyStart} sorts before the previous key (keys must ascend by encoded bytes)`);
          }
          previous = keyBytes;
          entries.push([key, item(depth + 1)]);
        }
        return new CborMap(entries);
      }
      default: // 6: tags
        return ztReject('CborSyntax', `manifest CBOR: tag ${String(arg)} at offset ${start} (tags are not allowed)`);
    }
  }

  function simple(info: number, start: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 25) {
      need(2, 'a half float');
      const bits = view.getUint16(at);
      at += 2;
      const value = float16BitsToNumber(bits);
      if (Number.isNaN(value) && bits !== 0x7e00) ztReject('CborDeterminism', `manifest CBOR: NaN at offset ${start} must be f9 7e00`);
      return new CborFloat(value);
    }
    if (info === 26) {
      need(4, 'a single float');
      const value = view.getFloat32(at);
      at += 4;
      if (Number.isNaN(value) || fitsHalf(value)) ztReject('CborDeterminism', `manifest CBOR: float32 ${value} at offset ${start} is not in its shortest form`);
      return new CborFloat(value);
    }
    if (info === 27) {
      need(8, 'a double float');
      const value = view.getFloat64(at);
      at += 8;
      if (Number.isNaN(value) || Math.fround(value) === value) ztReject('CborDeterminism', `manifest CBOR: float64 ${value} at offset ${start} is not in its shortest form`);
      return new CborFloat(value);
    }
    return ztReject('CborSyntax', `manifest CBOR: simple value ${info === 24 ? `(1-byte) ${bytes[at] ?? '?'}` : info} at offset ${start} (only false, true and null are allowed)`);
  }

  const value = item(0);
  if (at !== bytes.length) ztReject('CborSyntax', `manifest CBOR: ${bytes.length - at} trailing bytes after the root item at offset ${at}`);
  return value;
}

/**
 * Encodes a value as deterministic CBOR: shortest heads, map keys sorted by their
 * encoded bytes, floats in the shortest form that round-trips (NaN as `f9 7e00`).
 * Plain JavaScript numbers that are integers become CBOR integers; other numbers and
 * {@link CborFloat}s become floats. A plain object is a map with text keys.
 *
 * @example
 * ```ts
 * cborEncodeCanonical({ objects: {} }); // a1 67 6f626a65637473 a0
 * ```
 */
export function cborEncodeCanonical(value: unknown): Uint8Array {
  const out = new ByteBuilder();
  encodeInto(out, value, 0);
  return out.finish();
}

function encodeInto(out: ByteBuilder, value: unknown, depth: number): void {
  if (depth > ZT_MAX_CBOR_DEPTH) throw new RangeError(`CBOR value nests deeper than ${ZT_MAX_CBOR_DEPTH} levels`);
  if (value === null || value === undefined) return out.byte(0xf6);
  if (value === false) return out.byte(0xf4);
  if (value === true) return out.byte(0xf5);
  if (typeof value === 'bigint') {
    if (value >= 0n) return head(out, 0, value);
    return head(out, 1, -1n - value);
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Object.is(value, -0)) return value >= 0 ? head(out, 0, value) : head(out, 1, -1 - value);
    return encodeFloat(out, value);
  }
  if (value instanceof CborFloat) return encodeFloat(out, value.value);
  if (typeof value === 'string') {
    const bytes = textEncoder.encode(value);
    head(out, 3, bytes.length);
    return out.bytes(bytes);
  }
  if (value instanceof Uint8Array) {
    head(out, 2, value.length);
    return out.bytes(value);
  }
  if (Array.isArray(value)) {
    head(out, 4, value.length);
    for (const element of value) encodeInto(out, element, depth + 1);
    return;
  }
  const entries: Array<readonly [unknown, unknown]> = value instanceof CborMap ? [...value.entries]
    : value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const encoded = entries.map(([key, item]) => {
    const keyOut = new ByteBuilder();
    encodeInto(keyOut, key, depth + 1);
    return { key: keyOut.finish(), item };
  });
  encoded.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < encoded.length; i++) {
    if (compareBytes(encoded[i - 1]!.key, encoded[i]!.key) === 0) throw new RangeError('CBOR map has two equal keys');
  }
  head(out, 5, encoded.length);
  for (const { key, item } of encoded) {
    out.bytes(key);
    encodeInto(out, item, depth + 1);
  }
}

function head(out: ByteBuilder, major: number, arg: number | bigint): void {
  const m = major << 5;
  const n = typeof arg === 'bigint' ? arg : BigInt(arg);
  if (n < 24n) out.byte(m | Number(n));
  else if (n < 0x100n) { out.byte(m | 24); out.byte(Number(n)); }
  else if (n < 0x10000n) { out.byte(m | 25); out.u16(Number(n)); }
  else if (n < 0x100000000n) { out.byte(m | 26); out.u32(Number(n)); }
  else if (n < 0x10000000000000000n) { out.byte(m | 27); out.u64(n); }
  else throw new RangeError(`integer ${n} does not fit CBOR's 64-bit argument`);
}

function encodeFloat(out: ByteBuilder, value: number): void {
  if (Number.isNaN(value)) { out.byte(0xf9); out.u16(0x7e00); return; }
  if (fitsHalf(value)) { out.byte(0xf9); out.u16(numberToHalf(value)); return; }
  if (Math.fround(value) === value) { out.byte(0xfa); out.f32(value); return; }
  out.byte(0xfb);
  out.f64(value);
}

/** Bytewise lexicographic order (a prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** True when a (non-NaN) number is exactly representable as a half float. */
function fitsHalf(value: number): boolean {
  if (Number.isNaN(value)) return false;
  return float16BitsToNumber(numberToHalf(value)) === value && (value !== 0 || Object.is(float16BitsToNumber(numberToHalf(value)), value));
}

/** The half-float bits of a number, truncating (callers check the round trip). */
function numberToHalf(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | 0x7c00;
  if (magnitude === 0) return sign;
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent -= 1; // log2 rounding
  if (exponent < -14) return sign | (Math.round(magnitude / 2 ** -24) & 0x3ff); // subnormal (or 0x400 overflow → checked by round trip)
  if (exponent > 15) return sign | 0x7c00;
  const fraction = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  if (fraction === 1024) return exponent + 1 > 15 ? sign | 0x7c00 : sign | ((exponent + 16) << 10);
  return sign | ((exponent + 15) << 10) | fraction;
}

const textEncoder = new TextEncoder();

/** A growable byte buffer for the encoder. */
class ByteBuilder {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
  byte(value: number): void { this.reserve(1); this.buffer[this.length++] = value; }
  u16(value: number): void { this.reserve(2); this.view.setUint16(this.length, value); this.length += 2; }
  u32(value: number): void { this.reserve(4); this.view.setUint32(this.length, value); this.length += 4; }
  u64(value: bigint): void { this.reserve(8); this.view.setBigUint64(this.length, value); this.length += 8; }
  f32(value: number): void { this.reserve(4); this.view.setFloat32(this.length, value); this.length += 4; }
  f64(value: number): void { this.reserve(8); this.view.setFloat64(this.length, value); this.length += 8; }
  bytes(value: Uint8Array): void { this.reserve(value.length); this.buffer.set(value, this.length); this.length += value.length; }
  finish(): Uint8Array { return this.buffer.slice(0, this.length); }
}

/**
 * A decoded CBOR value as plain JavaScript for metadata and attributes: maps with text
 * keys become objects (other keys are written as their JSON text), floats numbers,
 * byte strings `Uint8Array`s, big integers bigints.
 *
 * @example
 * ```ts
 * cborToPlain(cborDecodeStrict(bytes)); // { float: 1.25, neg: -42, nested: [null, true], raw: Uint8Array [0, 1, 2] }
 * ```
 */
export function cborToPlain(value: CborValue): unknown {
  if (value instanceof CborFloat) return value.value;
  if (Array.isArray(value)) return value.map(cborToPlain);
  if (value instanceof CborMap) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value.entries) {
      out[typeof key === 'string' ? key : JSON.stringify(cborToPlain(key), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))] = cborToPlain(item);
    }
    return out;
  }
  return value;
}
