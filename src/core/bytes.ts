/**
 * Byte helpers that run anywhere (Node and browsers): Latin-1 text, equality and byte
 * swapping on `Uint8Array`s. Where Node's `Buffer` does the same natively it is used when
 * present (found on `globalThis`, never imported), so Node keeps its speed and the
 * parsers stay free of Node-only code.
 */

interface NodeBufferLike {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array & {
    swap16(): unknown;
    swap32(): unknown;
    swap64(): unknown;
    equals(other: Uint8Array): boolean;
  };
}

const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

/**
 * Bytes as Latin-1 text: one character per byte, code points 0-255 (what Python's
 * `latin1` codec and pickle's text opcodes mean; `TextDecoder('latin1')` is
 * windows-1252 and differs at 0x80-0x9f).
 *
 * @example
 * ```ts
 * latin1Decode(new Uint8Array([0x41, 0xe9])); // 'Aé'
 * ```
 */
export function latin1Decode(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at < bytes.byteLength; at += 8192) {
    out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  }
  return out;
}

/**
 * Latin-1 text as bytes (each code unit's low 8 bits, as Node's `Buffer.from(text, 'latin1')`).
 *
 * @example
 * ```ts
 * latin1Encode('Aé'); // Uint8Array [0x41, 0xe9]
 * ```
 */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) out[index] = text.charCodeAt(index) & 0xff;
  return out;
}

/**
 * True when both views hold the same bytes.
 *
 * @example
 * ```ts
 * bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (NodeBuffer) return NodeBuffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * Reverses the byte order of every `unit`-byte word (2, 4 or 8) of `data`, in place.
 *
 * @example
 * ```ts
 * const data = new Uint8Array([1, 2, 3, 4]); byteSwapInPlace(data, 2); // [2, 1, 4, 3]
 * ```
 */
export function byteSwapInPlace(data: Uint8Array, unit: number): void {
  if (unit !== 2 && unit !== 4 && unit !== 8) return;
  if (NodeBuffer) {
    const view = NodeBuffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (unit === 2) view.swap16();
    else if (unit === 4) view.swap32();
    else view.swap64();
    return;
  }
  for (let word = 0; word + unit <= data.byteLength; word += unit) {
    for (let low = word, high = word + unit - 1; low < high; low++, high--) {
      const byte = data[low]!;
      data[low] = data[high]!;
      data[high] = byte;
    }
  }
}
