/**
 * Hand-made GGUF bytes for hostile-input tests: every field written as given (any
 * count, length, type id or offset, true or not), so a test can build exactly the
 * corruption it names, as llama.cpp's `tests/test-gguf.cpp` does.
 */

/** Little-endian field writers; each returns bytes. */
export const le = {
  u8: (v: number) => Uint8Array.of(v),
  u32(v: number): Uint8Array { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; },
  u64(v: number | bigint): Uint8Array { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true); return b; },
  f32(v: number): Uint8Array { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); return b; },
  /** A GGUF string: u64 length + UTF-8 bytes; `length` overrides the declared length. */
  str(s: string, length?: number | bigint): Uint8Array { const bytes = new TextEncoder().encode(s); return concat(le.u64(length ?? bytes.byteLength), bytes); },
};

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

/** One key/value: key, value type id, encoded value. */
export interface CraftKv { key: string; type: number; value: Uint8Array }
/** One tensor info as written. */
export interface CraftTensor { name: string; ne: Array<number | bigint>; type: number; offset: number | bigint; nDims?: number }

/** A u32 key/value. */
export const kvU32 = (key: string, value: number): CraftKv => ({ key, type: 4, value: le.u32(value) });
/** A string key/value. */
export const kvStr = (key: string, value: string): CraftKv => ({ key, type: 8, value: le.str(value) });

/**
 * A whole GGUF file: header fields as given (counts default to the real ones), header
 * padded to `alignment`, then `data` (or zeros of `dataBytes`).
 */
export function craftGguf(parts: {
  magic?: Uint8Array; version?: number; tensorCount?: number | bigint; kvCount?: number | bigint;
  kv?: CraftKv[]; tensors?: CraftTensor[]; alignment?: number; data?: Uint8Array; dataBytes?: number;
}): Uint8Array {
  const kv = parts.kv ?? [];
  const tensors = parts.tensors ?? [];
  const header = concat(
    parts.magic ?? new TextEncoder().encode('GGUF'),
    le.u32(parts.version ?? 3),
    le.u64(parts.tensorCount ?? tensors.length),
    le.u64(parts.kvCount ?? kv.length),
    ...kv.flatMap((entry) => [le.str(entry.key), le.u32(entry.type), entry.value]),
    ...tensors.flatMap((t) => [le.str(t.name), le.u32(t.nDims ?? t.ne.length), ...t.ne.map((d) => le.u64(d)), le.u32(t.type), le.u64(t.offset)]),
  );
  const alignment = parts.alignment ?? 32;
  const padded = Math.ceil(header.byteLength / alignment) * alignment;
  const data = parts.data ?? new Uint8Array(parts.dataBytes ?? 0);
  return concat(header, new Uint8Array(padded - header.byteLength), data);
}
