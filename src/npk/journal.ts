/**
 * The store's journal `.tensio-journal`: a log of catalogue changes that are committed
 * but not yet folded into `metadata.npkm`, so that an append or a replace costs one
 * small write (plus one fsync when durable) instead of a catalogue republish (a temporary
 * file, its rename, folder fsync).
 *
 * Layout (little-endian). Header, 24 bytes: magic `TNPKJNL1`, u64 length and u32 CRC32 of
 * the `metadata.npkm` the journal applies to (its base), u32 CRC32 of the 20 bytes
 * before. Then records: u32 payload length, u32 CRC32 of the payload, payload = u32
 * catalogue length, the whole new catalogue (`metadata.npkm` bytes), u32 write count, and
 * per write u32 path length, the path (UTF-8, relative to the store), u64 position,
 * u64 length, the bytes.
 *
 * A record is the commit point of its change: the catalogue it holds is the store's from
 * then on, and its writes (rows of a replace, rows of a small append) are redone at
 * replay, so a torn record (bad CRC, short) and everything after it count as never
 * written. The journal applies only while `metadata.npkm` is byte for byte its base: a
 * writer that folds it in publishes the new catalogue first and removes the journal
 * after, and a journal whose base is gone is stale (its changes are in the catalogue).
 * NumPack itself never reads it; it sees the catalogue as of the last fold.
 */
import { crc32 } from 'node:zlib';
import { TensioError } from '../core/errors.js';
import { npkDecodeMetadata } from './metadata.js';
import { npkCheckRelativePath } from './names.js';
import { quoteInput } from '../core/quote.js';

/** The journal's file name in the store. */
export const NPK_JOURNAL_FILE = '.tensio-journal';
/** Header bytes. */
export const NPK_JOURNAL_HEADER_BYTES = 24;
const MAGIC = 'TNPKJNL1';

/** One positional write a record redoes: `bytes` at byte `position` of `file`. */
export interface NpkJournalWrite {
  readonly file: string;
  readonly position: number;
  readonly bytes: Uint8Array;
}

/** One committed change: the catalogue from then on and the writes to redo. */
export interface NpkJournalRecord {
  readonly catalogue: Uint8Array;
  readonly writes: readonly NpkJournalWrite[];
}

/** What a journal's bytes say, given the current `metadata.npkm`. */
export interface NpkJournalContent {
  /** False when the header is damaged or its base is not the current catalogue (a stale journal). */
  readonly applies: boolean;
  /** Whole records, in order, up to the first torn one. */
  readonly records: readonly NpkJournalRecord[];
  /** Bytes of the header and whole records (where the next record goes). */
  readonly validBytes: number;
}

/**
 * The header of a journal over the catalogue `base`.
 *
 * @example
 * ```ts
 * const header = npkEncodeJournalHeader(catalogueBytes);
 * ```
 */
export function npkEncodeJournalHeader(base: Uint8Array): Uint8Array {
  const out = new Uint8Array(NPK_JOURNAL_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setBigUint64(8, BigInt(base.byteLength), true);
  view.setUint32(16, crc32(base), true);
  view.setUint32(20, crc32(out.subarray(0, 20)), true);
  return out;
}

/**
 * One record: its length and CRC, then the catalogue and the writes.
 *
 * @example
 * ```ts
 * const record = npkEncodeJournalRecord({ catalogue, writes: [{ file: 'data_x.npkd', position: 0, bytes }] });
 * ```
 */
export function npkEncodeJournalRecord(record: NpkJournalRecord): Uint8Array {
  const encoder = new TextEncoder();
  // A replace writes many rows of the same file: each distinct path is encoded once.
  const encoded = new Map<string, Uint8Array>();
  const paths = record.writes.map((write) => {
    let path = encoded.get(write.file);
    if (!path) encoded.set(write.file, path = encoder.encode(write.file));
    return path;
  });
  let size = 8 + 4 + record.catalogue.byteLength + 4;
  record.writes.forEach((write, i) => { size += 4 + paths[i]!.byteLength + 16 + write.bytes.byteLength; });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 8;
  view.setUint32(at, record.catalogue.byteLength, true);
  out.set(record.catalogue, at + 4);
  at += 4 + record.catalogue.byteLength;
  view.setUint32(at, record.writes.length, true);
  at += 4;
  record.writes.forEach((write, i) => {
    view.setUint32(at, paths[i]!.byteLength, true);
    out.set(paths[i]!, at + 4);
    at += 4 + paths[i]!.byteLength;
    // Two 32-bit halves: no BigInt per write (positions are safe integers).
    view.setUint32(at, write.position % 2 ** 32, true);
    view.setUint32(at + 4, Math.floor(write.position / 2 ** 32), true);
    view.setUint32(at + 8, write.bytes.byteLength % 2 ** 32, true);
    view.setUint32(at + 12, Math.floor(write.bytes.byteLength / 2 ** 32), true);
    out.set(write.bytes, at + 16);
    at += 16 + write.bytes.byteLength;
  });
  view.setUint32(0, size - 8, true);
  view.setUint32(4, crc32(out.subarray(8)), true);
  return out;
}

/** Decodes one record's payload (its CRC already matched); `undefined` when its lengths do not add up. */
function decodePayload(payload: Uint8Array): NpkJournalRecord | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const need = (at: number, bytes: number) => at + bytes <= payload.byteLength;
  if (!need(0, 4)) return undefined;
  const catalogueLength = view.getUint32(0, true);
  if (!need(4, catalogueLength + 4)) return undefined;
  const catalogue = payload.subarray(4, 4 + catalogueLength);
  let at = 4 + catalogueLength;
  const count = view.getUint32(at, true);
  at += 4;
  const writes: NpkJournalWrite[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i++) {
    if (!need(at, 4)) return undefined;
    const pathLength = view.getUint32(at, true);
    if (!need(at + 4, pathLength + 16)) return undefined;
    let file: string;
    try {
      file = decoder.decode(payload.subarray(at + 4, at + 4 + pathLength));
    } catch {
      return undefined;
    }
    at += 4 + pathLength;
    const position = view.getBigUint64(at, true);
    const length = view.getBigUint64(at + 8, true);
    at += 16;
    if (position > BigInt(Number.MAX_SAFE_INTEGER) || length > BigInt(payload.byteLength - at)) return undefined;
    writes.push({ file, position: Number(position), bytes: payload.subarray(at, at + Number(length)) });
    at += Number(length);
  }
  return at === payload.byteLength ? { catalogue, writes } : undefined;
}

/**
 * Reads a journal against the current catalogue `base` (undefined when there is no
 * `metadata.npkm`). A CRC-valid record whose writes name a path outside the store is
 * refused with `INVALID_METADATA`: that is no torn write but a forged journal.
 *
 * @example
 * ```ts
 * const { applies, records } = npkDecodeJournal(journalBytes, catalogueBytes);
 * ```
 */
export function npkDecodeJournal(bytes: Uint8Array, base: Uint8Array | undefined): NpkJournalContent {
  const stale = { applies: false, records: [], validBytes: 0 };
  if (bytes.byteLength < NPK_JOURNAL_HEADER_BYTES || base === undefined) return stale;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC || view.getUint32(20, true) !== crc32(bytes.subarray(0, 20))) return stale;
  if (view.getBigUint64(8, true) !== BigInt(base.byteLength) || view.getUint32(16, true) !== crc32(base)) return stale;
  const records: NpkJournalRecord[] = [];
  let at = NPK_JOURNAL_HEADER_BYTES;
  while (at + 8 <= bytes.byteLength) {
    const length = view.getUint32(at, true);
    if (at + 8 + length > bytes.byteLength) break; // torn: the write did not finish
    const payload = bytes.subarray(at + 8, at + 8 + length);
    if (view.getUint32(at + 4, true) !== crc32(payload)) break;
    const record = decodePayload(payload);
    if (!record) break;
    for (const write of record.writes) npkCheckJournalTarget(write.file);
    try {
      npkDecodeMetadata(record.catalogue); // a forged catalogue is refused before anything is replayed
    } catch (error) {
      throw new TensioError('INVALID_METADATA', `npk: ${NPK_JOURNAL_FILE} holds a whole record whose catalogue is unreadable (${(error as Error).message.replace(/^npk: /, '')})`, { format: 'npk', cause: error });
    }
    records.push(record);
    at += 8 + length;
  }
  return { applies: true, records, validBytes: at };
}

/**
 * A record may only write array data: `data_<name>.npkd` or a segment
 * `data_<name>_segments/seg_NNNNNN.npkd` (never the catalogue, a bitmap or the lock).
 */
function npkCheckJournalTarget(file: string): void {
  npkCheckRelativePath(file, `a file written by ${NPK_JOURNAL_FILE}`);
  if (!/^data_.*\.npkd$/s.test(file) || (file.includes('/') && !/^data_[^/]*_segments\/seg_\d+\.npkd$/s.test(file))) {
    throw new TensioError('INVALID_METADATA', `npk: ${NPK_JOURNAL_FILE} writes to ${quoteInput(file)}, which is not an array data file`, { format: 'npk' });
  }
}

/** `LIMIT_EXCEEDED` for a journal bigger than an opener reads. */
export function npkCheckJournalSize(size: number, limit: number, path: string): void {
  if (size > limit) {
    throw new TensioError('LIMIT_EXCEEDED', `npk: ${NPK_JOURNAL_FILE} in ${path} is ${size} bytes, above maxJournalBytes ${limit}; a writer folds it long before, so it is damaged (move it away to open the store as of its last catalogue)`, { format: 'npk', path });
  }
}
