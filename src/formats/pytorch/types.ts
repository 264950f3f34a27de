/**
 * Options and shared shapes of the PyTorch checkpoint format (`.pt`, `.pth`, `.bin`, `.ckpt`).
 */
import type { S3Options } from '../../storage/s3-client.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import type { PickleWorkBudget } from './pickle/budget.js';
import type { PickleLimits } from './pickle/machine.js';
import type { PickleStorage, PickleValue } from './pickle/values.js';
import type { TensorInfo } from '../../model/types.js';
import type { HttpSourceOptions } from '../../storage/http-source.js';

/** Decides whether a tensor that repeats an earlier one exactly (same storage, offset, shape, stride) is dropped. */
export type PytorchDropDuplicates = boolean | ((removed: TensorInfo, kept: TensorInfo) => boolean);

/** Options for {@link pytorchOpen} (also accepted as `formatOptions` / convert's `readOptions`). */
export interface PytorchOpenOptions extends PickleLimits {
  /** For `http(s)://` inputs (a remote checkpoint, index or shards): headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
  /** Read only this sub-tree (e.g. `'state_dict'`, or a dotted path); names are relative to it. */
  key?: string;
  /**
   * Drop exact duplicates (tied weights saved twice): keep the first name and record
   * `{ removed: kept }` in metadata, as `safetensors.torch.save_model` does. Default false.
   */
  dropDuplicates?: PytorchDropDuplicates;
  /**
   * Read checkpoints that reference globals outside the allow-list (an
   * `argparse.Namespace`, numpy scalars, a config class) by representing each such
   * global, and whatever the pickle builds from it, as an inert placeholder: never
   * imported, never called. Tensors elsewhere in the file read as usual; the
   * placeholders show in metadata as `<module.name(…) placeholder>`. Default false:
   * such files are refused with `UNSAFE_PICKLE`.
   */
  allowUnknownGlobals?: boolean;
  /** Most plain values kept in metadata (default PICKLE_MAX_METADATA_VALUES). */
  maxMetadataValues?: number;
  /** Largest pickle read (default PICKLE_MAX_BYTES). */
  maxPickleBytes?: number;
  /** Most zip entries (default ZIP_MAX_ENTRIES). */
  maxEntries?: number;
  /** Largest zip entry (default ZIP_MAX_ENTRY_BYTES). */
  maxEntryBytes?: number;
  signal?: AbortSignal;
}

/** Byte order of a checkpoint's storages. */
export type PytorchByteOrder = 'little' | 'big';

/**
 * Where a checkpoint's storages are: the container-specific half of a reader
 * (zip records or the legacy format's data section).
 */
export interface PytorchStorageAccess {
  readonly byteOrder: PytorchByteOrder;
  /** Absolute source offset of a storage's first byte, when its bytes are stored raw. */
  rawOffset(storage: PickleStorage): number | undefined;
  /** `length` bytes of a storage starting `byteOffset` bytes into it. */
  readRange(storage: PickleStorage, byteOffset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * `length` bytes of a compressed storage as a streamable chunk (a deflated zip record),
   * when the container compresses it; undefined for raw storages.
   */
  chunk?(storage: PickleStorage, byteOffset: number, length: number): Promise<ByteChunk> | undefined;
}

/** A parsed checkpoint before its tensors are named: the pickled value and where storages live. */
export interface PytorchParsed {
  /** `'zip'` (torch ≥ 1.6) or `'legacy'`. */
  readonly container: 'zip' | 'legacy';
  readonly value: PickleValue;
  readonly storages: PytorchStorageAccess;
  /** The main pickle's work budget, what is left of it pays for naming the tensors. */
  readonly budget?: PickleWorkBudget;
  /** Facts for metadata-free reporting: archive root, version record, pickle protocol. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** Options for {@link pytorchWrite} and the registry writer (`formatOptions`). */
export interface PytorchWriteOptions {
  /** Replace an existing file. Default true. */
  overwrite?: boolean;
  /** Archive folder name inside the zip. Default `'archive'`. */
  archiveName?: string;
  signal?: AbortSignal;
}

/** The pytorch writer's `formatOptions` (convert's `writeOptions`). */
export type PytorchWriteFormatOptions = {
  /** Pickle the one planned tensor bare (`torch.save(tensor)`) instead of a state dict. */
  bareTensor?: boolean;
  /** Archive folder name inside the zip. Default `'archive'`. */
  archiveName?: string;
};
