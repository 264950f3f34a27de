/**
 * The zip container shared by .npz and PyTorch .pt: types of the reader and writer.
 * (Implementation: `read.ts`, `write.ts`; zip is a container, not a tensor format.)
 */
import type { TensorBytes } from '../storage/tensor-bytes.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { ByteChunk } from '../storage/chunked-bytes.js';

/** One member of a zip archive, from the central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate; others are refused when read. */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  /** Offset of the local file header. */
  readonly localHeaderOffset: number;
  /** General-purpose flags (bit 0: encrypted, refused). */
  readonly flags: number;
}

/** Limits and names for {@link ZipArchive} reading. */
export interface ZipOpenOptions {
  /** Format name for error messages, e.g. `'npz'` or `'pytorch'`. Default `'zip'`. */
  format?: string;
  /** Most entries accepted (default ZIP_MAX_ENTRIES). */
  maxEntries?: number;
  /** Largest expanded size of one entry (default ZIP_MAX_ENTRY_BYTES). */
  maxEntryBytes?: number;
  /** Largest central directory read into memory (default ZIP_MAX_DIRECTORY_BYTES). */
  maxDirectoryBytes?: number;
  signal?: AbortSignal;
}

/** A zip archive opened for random access over a ByteSource. */
export interface ZipArchive {
  /** Format name used in errors (from {@link ZipOpenOptions.format}). */
  readonly format: string;
  /** The source the archive reads from (not owned: closing it is the caller's job). */
  readonly source: ByteSource;
  readonly entries: readonly ZipEntry[];
  /** The entry with this exact name, if any. */
  entry(name: string): ZipEntry | undefined;
  /** Absolute offset of an entry's data, taken from its local header (torch pads it there). */
  dataOffset(entry: ZipEntry, options?: { signal?: AbortSignal }): Promise<number>;
  /** Whole entry, inflated if deflated, size and (unless `checkCrc: false`) CRC checked. */
  readEntry(entry: ZipEntry, options?: { signal?: AbortSignal; checkCrc?: boolean }): Promise<Uint8Array>;
  /** Entry bytes in chunks (inflating as it goes), with the size and CRC checked at the end. */
  streamEntry(entry: ZipEntry, options?: { signal?: AbortSignal; chunkBytes?: number; checkCrc?: boolean }): AsyncIterable<Uint8Array>;
  /**
   * The entry as a chunk for a `chunks` tensor location: streamed with bounded memory
   * (deflated entries inflate incrementally), its CRC-32 checked when decoded to the end.
   */
  entryChunk(entry: ZipEntry, options?: ZipEntryChunkOptions): Promise<ByteChunk>;
}

/** Which part of an entry a chunk stands for. */
export interface ZipEntryChunkOptions {
  /** Decoded bytes before the part wanted (e.g. the `.npy` header). Default 0. */
  skip?: number;
  /** Bytes wanted after `skip`. Default: the rest of the entry. */
  byteLength?: number;
  /** Check the CRC-32 when the entry is decoded to its end. Default true. */
  checkCrc?: boolean;
  signal?: AbortSignal;
}

/** Options for one entry written by a {@link ZipWriter}. */
export interface ZipAddOptions {
  /** `'store'` (default) or `'deflate'`. */
  method?: 'store' | 'deflate';
  /** Pad the local header (torch's `FB` extra field) so the data starts at a multiple of this. */
  alignment?: number;
  /**
   * Uncompressed size, when known in advance for streamed data (a `Uint8Array` knows its
   * own). Checked against the bytes received. A streamed entry without it is written
   * with zip64 sizes, since it might pass 4 GiB.
   */
  size?: number;
  signal?: AbortSignal;
}

/** Sequential zip writer: entries are streamed to a ByteSink; sizes and CRCs go in data descriptors. */
export interface ZipWriter {
  add(name: string, data: TensorBytes, options?: ZipAddOptions): Promise<void>;
  /** Writes the central directory (zip64 records when needed or forced) and closes the sink. */
  close(): Promise<void>;
  abort(): Promise<void>;
  /** Bytes written to the sink so far. */
  readonly position: number;
}

/** Options for creating a {@link ZipWriter}. */
export interface ZipWriterOptions {
  /** Always write the zip64 end records (torch does). Default: only when needed. */
  forceZip64?: boolean;
  /** Format name for error messages. Default `'zip'`. */
  format?: string;
}
