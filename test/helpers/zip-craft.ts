/**
 * Builds small zip archives by hand, field by field, so hostile-input tests can put
 * exactly one wrong value in an otherwise valid file.
 */
import { crc32 } from 'node:zlib';

/** One member of a crafted zip: `data` is written as is (already compressed when method 8). */
export interface CraftEntry {
  name: string | Uint8Array;
  data: Uint8Array;
  method?: number;
  flags?: number;
  crc?: number;
  compressedSize?: number;
  uncompressedSize?: number;
  /** Overrides the local header offset stored in the central directory. */
  localHeaderOffset?: number;
  /** Local header signature (default PK\x03\x04). */
  localSignature?: number;
}

/** Whole-archive overrides. */
export interface CraftOptions {
  entryCount?: number;
  directoryOffset?: number;
  directorySize?: number;
  comment?: Uint8Array;
}

/** A classic (non-zip64) zip with the given members, sizes in the headers, no descriptors. */
export function craftZip(entries: readonly CraftEntry[], options: CraftOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? new TextEncoder().encode(entry.name) : entry.name;
    const crc = entry.crc ?? crc32(entry.data);
    const compressed = entry.compressedSize ?? entry.data.byteLength;
    const uncompressed = entry.uncompressedSize ?? entry.data.byteLength;
    const local = new Uint8Array(30 + name.byteLength);
    const l = new DataView(local.buffer);
    l.setUint32(0, entry.localSignature ?? 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(6, entry.flags ?? 0, true);
    l.setUint16(8, entry.method ?? 0, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, compressed, true);
    l.setUint32(22, uncompressed, true);
    l.setUint16(26, name.byteLength, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.byteLength);
    const c = new DataView(cd.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, entry.flags ?? 0, true);
    c.setUint16(10, entry.method ?? 0, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, compressed, true);
    c.setUint32(24, uncompressed, true);
    c.setUint16(28, name.byteLength, true);
    c.setUint32(42, entry.localHeaderOffset ?? offset, true);
    cd.set(name, 46);
    parts.push(local, entry.data);
    central.push(cd);
    offset += local.byteLength + entry.data.byteLength;
  }
  const directoryOffset = offset;
  const directorySize = central.reduce((sum, part) => sum + part.byteLength, 0);
  const comment = options.comment ?? new Uint8Array(0);
  const end = new Uint8Array(22 + comment.byteLength);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, options.entryCount ?? entries.length, true);
  e.setUint16(10, options.entryCount ?? entries.length, true);
  e.setUint32(12, options.directorySize ?? directorySize, true);
  e.setUint32(16, options.directoryOffset ?? directoryOffset, true);
  e.setUint16(20, comment.byteLength, true);
  end.set(comment, 22);
  return new Uint8Array(Buffer.concat([...parts, ...central, end]));
}
