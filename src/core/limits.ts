/**
 * Named limits. Each guards against a hostile or broken file asking for unbounded
 * memory or time; each can be raised by the option named beside it.
 */

/** safetensors JSON header cap, as the reference Rust reader (`maxHeaderBytes`). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Sharded checkpoints: largest `*.index.json` read; an index is JSON like a safetensors header and gets the same cap (`maxIndexBytes`; safetensors: `maxHeaderBytes`). */
export const SHARDED_INDEX_MAX_BYTES = 100_000_000;

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

/** Pickles (PyTorch data.pkl): largest pickle parsed, 1 GiB; real ones with 1M+ tensors stay far below (`maxPickleBytes`). */
export const PICKLE_MAX_BYTES = 2 ** 30;

/** Pickles: most memo entries (each costs memory; torch memoizes ~6 per tensor) (`maxMemoEntries`). */
export const PICKLE_MAX_MEMO_ENTRIES = 16_000_000;

/** Pickles: most values on the machine's stack at once (`maxStackDepth`). */
export const PICKLE_MAX_STACK_DEPTH = 16_000_000;

/** Pickles: most items in one list, tuple, dict or set (`maxContainerLength`). */
export const PICKLE_MAX_CONTAINER_LENGTH = 16_000_000;

/** Pickles: deepest MARK nesting and deepest value nesting walked (`maxNestingDepth`). */
export const PICKLE_MAX_NESTING_DEPTH = 1000;

/** Pickles: longest LONG1/LONG4 integer in bytes; bigger ones only cost time (`maxLongBytes`). */
export const PICKLE_MAX_LONG_BYTES = 4096;

/** Pickles: most plain values kept as metadata; shared sub-objects could otherwise expand exponentially (`maxMetadataValues`). */
export const PICKLE_MAX_METADATA_VALUES = 4_000_000;

/**
 * NumPack stores: largest row (one index of the first dimension) an array may have, 2 GiB.
 * Rows are the unit every read, stream and verify of a store moves, so one row must fit
 * in one buffer; a catalogue declaring bigger rows is refused at open (`maxRowBytes`).
 */
export const NPK_MAX_ROW_BYTES = 2 ** 31;

/**
 * NumPack stores: largest journal (`.tensio-journal`, the log of appends and replaces
 * since the catalogue was last rewritten) an opener reads, 256 MiB (`maxJournalBytes`).
 * A writer folds its journal into `metadata.npkm` long before (at
 * {@link NPK_JOURNAL_CHECKPOINT_BYTES}), so only a damaged or hostile one is this big.
 */
export const NPK_MAX_JOURNAL_BYTES = 256 * 2 ** 20;

/** NumPack stores: a writer folds its journal into `metadata.npkm` once it grows past this, 8 MiB. */
export const NPK_JOURNAL_CHECKPOINT_BYTES = 8 * 2 ** 20;

/**
 * NumPack stores: rows an append or replace writes into its journal record (so one
 * fsync of the journal makes them durable and a replace all-or-nothing), 1 MiB; bigger
 * appends are synced in place first, bigger replaces are written in place unjournaled.
 */
export const NPK_JOURNAL_INLINE_BYTES = 2 ** 20;

/** HTTP: most redirects followed for one request; a loop or a chain longer than this is refused (`maxRedirects`). */
export const HTTP_MAX_REDIRECTS = 5;

/** HTTP: retries of one request after a 5xx/429 answer or a dropped connection, with exponential backoff (`retries`). */
export const HTTP_MAX_RETRIES = 3;

/** HTTP: requests in flight at once per source or store (`concurrency`). */
export const HTTP_MAX_CONCURRENCY = 4;

/** HTTP: milliseconds a connection may stay silent before it counts as dropped (`timeoutMs`). */
export const HTTP_IDLE_TIMEOUT_MS = 30_000;

/**
 * HTTP: when a server ignores Range requests (answers 200 with the whole body), the most
 * bytes read from the front of the body, 16 MiB: a file this small is held whole, a
 * larger one can be read only this far (`noRangeMaxBytes`).
 */
export const HTTP_NO_RANGE_MAX_BYTES = 16 * 2 ** 20;

/** S3: requests in flight at once per client (ranged reads and part uploads together) (`concurrency`). */
export const S3_MAX_CONCURRENCY = 8;

/** S3: retries of one request after a 5xx/throttling answer or a dropped connection, SDK retries included (`retries`). */
export const S3_MAX_RETRIES = 3;

/**
 * S3 uploads: bytes per multipart part, 8 MiB (S3's minimum is 5 MiB; 10,000 parts of
 * 8 MiB reach 78 GiB, so larger outputs need a larger `partBytes`).
 */
export const S3_PART_BYTES = 8 * 2 ** 20;

/** S3 uploads: parts uploaded at once; memory held by an upload is about (this + 1) × part size (`queueSize`). */
export const S3_UPLOAD_QUEUE = 4;

/**
 * S3 reads: bytes one streamed `GetObject` (a tensor streamed chunk by chunk) may hold
 * ahead of its reader, 16 MiB (two default stream chunks); at most two such reads are
 * open per source (`streamBufferBytes`).
 */
export const S3_STREAM_BUFFER_BYTES = 16 * 2 ** 20;

/** S3: milliseconds a connection may stay silent before it counts as dropped (`timeoutMs`). */
export const S3_IDLE_TIMEOUT_MS = 30_000;

/** Error messages: longest message kept whole; longer ones are cut (`boundMessage` in core/quote.ts). Fixed. */
export const ERROR_MAX_MESSAGE_CHARS = 2000;

/** Error messages: most characters of file content (a name, a dtype string, a JSON snippet) quoted in one message. Fixed: messages are for people. */
export const ERROR_MAX_QUOTED_CHARS = 200;

/**
 * Pickles: work allowed per pickle byte, on top of {@link PICKLE_BASE_WORK}. A unit is
 * one item copied, walked or hashed by something that can touch shared structure more
 * than once (`set(list)`, `OrderedDict(pairs)`, dict keys, metadata, names): real
 * checkpoints spend about 2 per byte, a hostile one that reuses one big list a million
 * times would spend millions (`maxPickleWork` sets the total).
 */
export const PICKLE_WORK_PER_BYTE = 16;

/** Pickles: work every pickle may spend whatever its size (see {@link PICKLE_WORK_PER_BYTE}) (`maxPickleWork`). */
export const PICKLE_BASE_WORK = 1_000_000;

/** GGUF: longest string (key, value, tensor name), 64 MiB; chat templates and merges stay far below; ggml allows 1 GiB (`maxStringBytes`). */
export const GGUF_MAX_STRING_BYTES = 64 * 2 ** 20;

/** GGUF: most items in one metadata array, 16 Mi; the largest vocabularies hold ~260 k tokens; ggml allows 2^30 (`maxArrayLength`). */
export const GGUF_MAX_ARRAY_LENGTH = 2 ** 24;

/** GGUF: deepest array nesting (arrays of arrays; ggml refuses any, the spec allows them; huggingface.js stops at 4) (`maxArrayDepth`). */
export const GGUF_MAX_ARRAY_DEPTH = 4;

/** GGUF: most metadata keys (huggingface.js: 1e5) (`maxKeys`). */
export const GGUF_MAX_KV_COUNT = 100_000;

/** GGUF: most tensors (huggingface.js: 1e7; the largest MoE models hold ~10^5) (`maxTensors`). */
export const GGUF_MAX_TENSORS = 10_000_000;

/** GGUF: largest header (metadata and tensor infos), 1 GiB (`maxHeaderBytes`). */
export const GGUF_MAX_HEADER_BYTES = 2 ** 30;

/** GGUF: most dimensions of a tensor (ggml's `GGML_MAX_DIMS`) (`maxDims`). */
export const GGUF_MAX_DIMS = 4;

/** GGUF: longest tensor name in bytes (ggml's `GGML_MAX_NAME` 64, with its terminator) (`maxNameBytes`). */
export const GGUF_MAX_NAME_BYTES = 63;

/** GGUF: largest `general.alignment`, 1 MiB; an unbounded one would pad the data section without end (`maxAlignment`). */
export const GGUF_MAX_ALIGNMENT = 2 ** 20;

/** HDF5: most groups and datasets walked in one file (`maxObjects`). */
export const HDF5_MAX_OBJECTS = 1_000_000;

/** HDF5: largest attribute value read into metadata, 1 MiB; larger ones are listed without their value (`maxAttributeBytes`). */
export const HDF5_MAX_ATTRIBUTE_BYTES = 2 ** 20;
/** CSV/TXT: longest record (line) in bytes, 64 MiB; a longer one is refused instead of buffered (`maxLineBytes`). */
export const CSV_MAX_LINE_BYTES = 64 * 2 ** 20;

/** CSV/TXT: text per run of rows decoded as one chunk, 4 MiB (`chunkTextBytes`); a run also ends only at a record end. */
export const CSV_CHUNK_TEXT_BYTES = 4 * 2 ** 20;

/**
 * CSV/TXT: memory for separate columns parsed together but not yet read, 64 MiB
 * (`columnStashBytes`); past it they wait in a spill file on local disk.
 */
export const CSV_COLUMN_STASH_BYTES = 64 * 2 ** 20;

/**
 * CSV/TXT: largest gzip expansion accepted, as decompressed bytes per compressed byte
 * plus 64 MiB (`maxGzipRatio`). Text tables compress 3-20×; deflate can reach 1032×,
 * which a bomb of blank lines uses.
 */
export const CSV_MAX_GZIP_RATIO = 200;

/** Arrow IPC: bytes of one message's metadata flatbuffer or of the file footer; real ones are kilobytes (`maxMetadataBytes`). */
export const ARROW_MAX_METADATA_BYTES = 64 * 2 ** 20;

/** Parquet: bytes of the footer (FileMetaData); real ones are kilobytes to a few megabytes (`maxFooterBytes`). */
export const PARQUET_MAX_FOOTER_BYTES = 256 * 2 ** 20;

/** Parquet: uncompressed bytes one column chunk of one row group may decode to (`maxColumnChunkBytes`). */
export const PARQUET_MAX_COLUMN_CHUNK_BYTES = 2 ** 31;

/**
 * Parquet: values the pages of one column chunk may declare together (`maxChunkValues`).
 * The decoder builds JavaScript arrays of that many levels or dictionary indices (8 bytes
 * and more each); pyarrow writes row groups of 1 Mi rows, Spark of 128 MB.
 */
export const PARQUET_MAX_CHUNK_VALUES = 2 ** 26;

/** Zarr: most chunks (stored keys) one array may declare; each costs a file or a request (`maxChunks`). */
export const ZARR_MAX_CHUNKS = 2 ** 40;

/** Zarr: largest decoded chunk (one buffer), 1 GiB (`maxChunkBytes`). */
export const ZARR_MAX_CHUNK_BYTES = 2 ** 30;

/**
 * Zarr: largest band (rows of the array, or a narrower box when one row is larger) that a
 * stream or a full read decodes into one buffer, 256 MiB (`maxBandBytes`). Wider chunk
 * rows are read in narrower bands, each decoding its chunks again.
 */
export const ZARR_MAX_BAND_BYTES = 256 * 2 ** 20;

/** Zarr: largest metadata document read (`.zarray`, `zarr.json`, `.zmetadata`), 64 MiB (`maxMetadataBytes`). */
export const ZARR_MAX_METADATA_BYTES = 64 * 2 ** 20;

/** Split conversions (`convert --part I/N`): most parts; part numbers keep huggingface_hub's 5-digit shard names (`maxParts`). */
export const SPLIT_MAX_PARTS = 99_999;

/** Split conversions: largest part manifest read; it lists its tensors' names as an index does, and gets the index's cap (`maxManifestBytes`). */
export const SPLIT_MAX_MANIFEST_BYTES = 100_000_000;
