/**
 * Named limits. Each guards against a hostile or broken file asking for unbounded
 * memory or time; each can be raised by the option named beside it.
 */

/** safetensors JSON header cap, as the reference Rust reader (`maxHeaderBytes`). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Largest dimension accepted from any file (huggingface.js uses 2^32 too) (`maxDimension`). */
export const MAX_DIMENSION = 2 ** 32;

/** Largest rank accepted from any file; zTensor and numpy stop at 64 (`maxRank`). */
export const MAX_RANK = 64;

/** .npy header cap: numpy refuses larger headers unless told the file is trusted (`maxHeaderBytes`). */
export const NPY_MAX_HEADER_BYTES = 1_000_000;

/** Zip archives: most entries read from one central directory (`maxEntries`). */
export const ZIP_MAX_ENTRIES = 1_000_000;

/** Zip archives: largest expanded size of one deflated entry, 64 GiB (`maxEntryBytes`). */
export const ZIP_MAX_ENTRY_BYTES = 64 * 2 ** 30;

/** Zip archives: largest central directory read into memory, 256 MiB (`maxDirectoryBytes`). */
export const ZIP_MAX_DIRECTORY_BYTES = 256 * 2 ** 20;

/** Chunk size for streaming reads and copies: big enough for full-speed I/O, small enough to bound memory. */
export const DEFAULT_STREAM_CHUNK_BYTES = 8 * 2 ** 20;

/** Largest tensor `read()` returns in one buffer (Node's Buffer limit is 4 GiB) (`maxTensorBytes`). */
export const MAX_TENSOR_BYTES = 2 ** 32 - 1;
