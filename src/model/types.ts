/**
 * The model seam: what every format turns into (a {@link TensorReader}) and what every
 * format is written from (a {@link TensorWriter}). Conversion only ever talks to these.
 */
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import type { S3Options } from '../storage/s3-client.js';
import type { StagingPolicy, WriteTarget } from '../storage/write-target.js';
import type { TensioErrorCode } from '../core/errors.js';
import type { TensorSlice } from './nd-slice.js';
import type { TensorLayout, TensorPartInfo } from './layouts.js';

/** Name, dtype and shape: what a writer must know before the bytes arrive. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /**
   * A multi-part tensor (sparse, quantized, …) for a writer whose capabilities list its
   * layout kind: `add` then receives the parts' bytes one after the other, in `parts` order.
   */
  readonly layout?: TensorLayout;
  readonly parts?: readonly TensorPartInfo[];
}

/** One tensor as a file describes it. */
export interface TensorInfo extends TensorSpec {
  /**
   * Bytes of the tensor's data in tensio's layout (little-endian, C order); for a
   * multi-part tensor, the sum of its parts' bytes.
   */
  readonly byteLength: number;
  /** The format's own dtype name (`'BF16'`, `'<f2'`, `'torch.HalfStorage'`); always set for `opaque`. */
  readonly formatDtype?: string;
  /**
   * The format's own numeric dtype id, for formats that number their types (a GGUF
   * `ggml_type`, a NumPack dtype code), so an unknown one is reported as the file wrote it.
   */
  readonly formatDtypeId?: number;
  /** Format extras: file offsets, storage keys, layout, encoding, digests, checksums. */
  readonly extras?: Readonly<Record<string, unknown>>;
  /**
   * How a multi-part tensor is made of its {@link TensorInfo.parts} (sparse CSR/COO,
   * group-quantized, MX, …); absent for a dense tensor. See `src/model/layouts.ts`.
   */
  readonly layout?: TensorLayout;
  /** The arrays a multi-part tensor is made of (with `layout`); read them with `readPart`. */
  readonly parts?: readonly TensorPartInfo[];
}

/** File-level metadata. safetensors keeps strings only; other formats keep plain data. */
export type Metadata = Record<string, unknown>;

/**
 * Metadata key under which a reader lists entries it found but cannot read as tensors
 * (an `.npz` member holding strings or Python objects), as {@link UnsupportedTensor}s.
 * They are not in `tensors`; `convert` skips them, says so, and does not copy this key.
 */
export const UNSUPPORTED_TENSORS_KEY = 'unsupportedTensors';

/** One entry a reader lists under {@link UNSUPPORTED_TENSORS_KEY}. */
export interface UnsupportedTensor {
  /** The name it would have as a tensor. */
  readonly name: string;
  /** The format's own dtype, e.g. `'<U5'`, `'|O'`. */
  readonly formatDtype?: string;
  /** Why it cannot be read, e.g. `'UNSUPPORTED_DTYPE'`. */
  readonly code: TensioErrorCode;
  readonly reason: string;
}

/** Progress report for long operations; `total` is in the same unit as `done` (bytes). */
export interface Progress {
  readonly done: number;
  readonly total: number;
  /** What is being worked on, e.g. a tensor name. */
  readonly item?: string;
}

/** Options for {@link TensorReader.read}. */
export interface ReadTensorOptions {
  /**
   * Rows `[start, end)` along the first axis (`{ start, end }`), or a slice along any
   * dimensions (`[[0, 8], null, [128, 256]]`: one `[start, end]`, `[start]` or `null` per
   * leading dimension, as safetensors' `get_slice` and numpy take them). Negative numbers
   * count from the end; bounds are clamped as Python does. Only the bytes the slice
   * covers are read from a span.
   */
  slice?: { start: number; end?: number } | TensorSlice;
  /**
   * Always return bytes in fresh memory (default false). Without it, a tensor (or row
   * slice) of a local file is a view over a memory mapping when the native addon is in
   * use and its bytes are aligned for the dtype: zero-copy, copy-on-write, valid for as
   * long as it is referenced (after `close()` too). See `memoryMapStatus()`.
   */
  copy?: boolean;
  /**
   * Fault-ahead of a view over a memory mapping: its page tables are set up on the
   * addon's populate worker (one libuv thread, `MADV_POPULATE_READ`, from the mapping's
   * end back towards the front the caller starts at), so the caller's first touches do
   * not each stop for a page fault; the read itself still returns at once, nothing is
   * awaited. `true` asks for it, `false` leaves the view lazy (each page faults in when
   * first touched, and pages never touched are never read from disk).
   *
   * Default `true`: a caller of `read()` of a whole tensor is taken to use the whole
   * tensor (one that wants part of it asks for a `slice`, which maps and populates only
   * that part), and first-touch faults are most of what a mapped read + sum costs the
   * caller. Measured on this 2-core VM (session 28, bench/README.md): a 256 MiB `.npy`
   * cached in small folios, read + summed, took the JavaScript thread 80 ms with the
   * worker against 166 ms without; 64 MiB in 256 tensors of 256 KiB, 44 against 64 ms,
   * and still 103 against 131 ms in 1,024 tensors of 64 KiB (the smallest that is
   * mapped), so there is no size below which the default switches off. In the quiet
   * 1 GiB mmap bench group of session 27, populated reads + sum ran at 1.03x
   * `np.load(mmap_mode='r')` + sum and 1.52x `torch.load` + sum, lazy ones at 0.92x and
   * 1.34x (the goals are 1x and 1.5x). What it costs: the worker's CPU
   * (about what the faults would have cost the caller: the total CPU stays within ~10%),
   * which needs a second core to pay off; and when the caller touches only a little of a
   * huge tensor, that CPU is spent for nothing and a file not in the page cache is read
   * from disk in full: pass `false` then (lazy: pages never touched are never read).
   * The default job is skipped (the view is lazy) while the worker still has more than
   * `READ_POPULATE_BACKLOG_BYTES` (64 MiB) of earlier jobs to do, so a caller reading
   * tensors faster than they can be populated queues no unbounded backlog; an addon built
   * before it could report that backlog (`memoryMapPopulatePending()`) leaves the default
   * lazy. A job holds its mapping until it settles (on a turn of the event loop), runs
   * after the jobs asked for before it (one queue, one worker per process), stops at its
   * next 4 MiB window when the reader is closed, and never fails the read: a file shortened under it shows as
   * `memoryMapPopulateError(view)` / `memoryMapFaulted(view)`. No effect on bytes read
   * into memory, or when the addon cannot populate (`memoryMapPopulateAvailable()`).
   *
   * Across tensors (session 30): populated whole-tensor reads that go through a file's
   * tensors in file order (each read starting where the tensor after the previous one
   * starts) also map the tensors after the one asked for, up to 64 MiB of them and not
   * while the worker is behind, and queue their jobs, so the caller's next `read()`
   * finds its pages populated instead of faulting the front of each tensor itself
   * (`src/model/next-span-map-ahead.ts`); any other read drops them, as does `close()`.
   */
  populate?: boolean;
  /**
   * Do the read's file I/O on a libuv worker thread even where the source reads
   * synchronously by default (local files), so the event loop and the caller's other
   * work go on meanwhile (default false; `readEach` asks for it for the tensors it reads
   * ahead). Synchronous reads are faster when nothing else is waiting.
   */
  offThread?: boolean;
  signal?: AbortSignal;
}

/** Options for {@link TensorReader.readPart}. */
export interface ReadPartOptions extends ReadTensorOptions {
  /**
   * Elements `[start, end)` of the part in C order (flattened), for parts whose dtype has
   * a whole-byte element size; the result is 1-D. Not combined with `slice`.
   */
  elements?: { start: number; end: number };
}

/** Options for {@link TensorReader.stream}. */
export interface StreamTensorOptions {
  /** Bytes per chunk, default 8 MiB. */
  chunkBytes?: number;
  /**
   * Yield views of reused buffers (one, or two with `readAhead`) instead of a fresh
   * buffer per chunk (each chunk is valid only until the next is requested). Default
   * false. Conversion turns it on.
   */
  reuseBuffer?: boolean;
  /**
   * Read each chunk into memory (`true`) or yield views over a memory mapping of a local
   * file (`false`; copy-on-write views that stay valid while referenced). The default
   * depends on `reuseBuffer`: with it, chunks are read into the reused buffers (a
   * consumer of a reused buffer touches each chunk and moves on, and on the machines
   * measured copying out of the page cache costs that consumer less than faulting
   * mapped pages in: bench/README.md, session 26); without it, mapped views (no
   * copy; nothing is paid for bytes the consumer never touches). Sources that cannot map
   * (remote, no native addon, `TENSIO_NO_MMAP=1`) always read.
   */
  copy?: boolean;
  /**
   * With `reuseBuffer` and chunks read into memory from a local file: read the next
   * chunk on libuv's thread pool while the consumer works on the current one, into a
   * second reused buffer (default true; the stream then holds two buffers of
   * `chunkBytes`), and, as it hands out its last chunk, the first chunk of the tensor
   * that follows in the file (one such read per reader, into a pooled buffer; the next
   * stream that starts there takes it over, any other drops it). `false` reads each
   * chunk only when it is asked for, into one buffer.
   */
  readAhead?: boolean;
  signal?: AbortSignal;
}

/**
 * A readable tensor file: metadata and tensor infos up front (only headers were read),
 * tensor data on request.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('model.safetensors');
 * for (const info of reader.tensors) console.log(info.name, info.dtype, info.shape);
 * const w = await reader.read('lm_head.weight');
 * ```
 */
export interface TensorReader {
  /** Format name, e.g. `'safetensors'`. */
  readonly format: string;
  /** Path or URL, when there is one. */
  readonly path?: string;
  /** Total bytes of the file(s). */
  readonly size: number;
  readonly metadata: Readonly<Metadata>;
  /**
   * The format's own type of each metadata value, for formats whose metadata is typed
   * (GGUF: `uint32`, `array:float32`, …). `convert` records it as JSON text under
   * `<format>.value_types`, so that format's writer gives the values their types back
   * after a trip through formats that lose them.
   */
  readonly metadataTypes?: Readonly<Record<string, string>>;
  /** Tensors in file order. */
  readonly tensors: readonly TensorInfo[];
  /** The info for one tensor; throws `NOT_FOUND`. */
  info(name: string): TensorInfo;
  /** True when the file holds a tensor of that name. */
  has(name: string): boolean;
  /** Reads one tensor (or a slice of its rows) into memory. */
  read(name: string, options?: ReadTensorOptions): Promise<Tensor>;
  /** Streams one tensor's bytes in chunks, in tensio's layout. */
  stream(name: string, options?: StreamTensorOptions): AsyncIterable<Uint8Array>;
  /**
   * Reads one part of a multi-part tensor (e.g. `'indptr'` of a CSR tensor), or a row
   * slice / flat element range of it. `NOT_FOUND` for a part the tensor does not have.
   */
  readPart(name: string, part: string, options?: ReadPartOptions): Promise<Tensor>;
  /** Streams one part of a multi-part tensor in chunks. */
  streamPart(name: string, part: string, options?: StreamTensorOptions): AsyncIterable<Uint8Array>;
  /**
   * Places one dense tensor in a WebAssembly memory (grown for it): mapped in place when
   * the tensor is contiguous bytes of a local file and the native addon maps here, else
   * copied in (`src/model/wasm-memory.ts`). Readers without it are served by
   * `readIntoWasmMemory` of `tensio/io`, which copies.
   */
  readIntoWasmMemory?(name: string, memory: WasmMemoryLike, options?: ReadIntoWasmMemoryOptions): Promise<WasmTensor>;
  /**
   * Places several dense tensors like {@link readIntoWasmMemory}, growing the memory once
   * for all of them (V8 starts garbage collections over every grow). Readers without it
   * are served by `readAllIntoWasmMemory` of `tensio/io`, which copies.
   */
  readAllIntoWasmMemory?(names: readonly string[], memory: WasmMemoryLike, options?: ReadIntoWasmMemoryOptions): Promise<WasmTensor[]>;
  /** Releases files; safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export type { TensorBytes } from '../storage/tensor-bytes.js';
import type { ReadIntoWasmMemoryOptions, WasmMemoryLike, WasmTensor } from './wasm-memory.js';
import type { TensorBytes } from '../storage/tensor-bytes.js';

/**
 * A tensor file being written. The writer knows the whole plan up front (formats such
 * as safetensors put every offset in the header), publishes atomically on `close()`
 * and leaves nothing behind on `abort()`.
 */
export interface TensorWriter {
  readonly format: string;
  /** Order in which `add()` must be called: the order of the data in the file. */
  readonly order: readonly string[];
  /**
   * Writes one planned tensor's bytes; the byte count is checked against the plan. A
   * writer that interleaves several tensors row by row (a table of separate columns) may
   * keep a stream and read it only in `close()`, a band of rows from each stream in turn:
   * keep every stream's source open until `close()` settles.
   */
  add(name: string, data: TensorBytes, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Chunk size the writer would like its streams read in, when it holds several open at
   * once (a table of separate columns: about one band of rows each); callers that choose
   * no chunk size of their own use it. Its presence says the streams are held open
   * together, so `convert` and `merge` read them into buffers (`copy: true`) rather than
   * as views of memory maps: the mapped pages of every input would stay resident (in
   * RSS) until the last band, the whole input for a 2 GiB file.
   */
  readonly streamChunkBytes?: number;
  /** Finishes the file and publishes it; throws if a planned tensor is missing. */
  close(): Promise<void>;
  /** Throws the partial file away. Safe to call after close. */
  abort(): Promise<void>;
  /**
   * The files this writer publishes when they are not just the output path (a sharded
   * checkpoint: its shards, then its index; one shard: `model.safetensors`).
   */
  readonly files?: readonly string[];
  /** Files of a replaced output removed after `close()` published the new one (old shards). */
  readonly removedFiles?: readonly string[];
}

/**
 * A format's own options, when it does not say which: any keys. A format declares its
 * own as the type parameters of {@link TensorFormat} (e.g. `TensorFormat<NpzOpenOptions,
 * { compress?: boolean }>`), and the operations type `formatOptions` by format name
 * (`FormatOptionsByName` in `src/operations/format-options.ts`).
 */
export type AnyFormatOptions = Record<string, unknown>;

/**
 * A format's options as a plain object type (an interface has no implicit index
 * signature, so it would not pass where {@link AnyFormatOptions} is expected).
 */
export type FormatOptionsOf<T> = { [K in keyof T]: T[K] };

/** Options every format's writer factory takes; `W` is the format's own `formatOptions`. */
export interface WriterOptions<W extends object = AnyFormatOptions> {
  /** The plan: every tensor the file will hold. */
  tensors: readonly TensorSpec[];
  metadata?: Metadata;
  /** Replace an existing file. Default true for library calls; the CLI asks for `--force`. */
  overwrite?: boolean;
  /** Format-specific options (e.g. safetensors `{ crc32: true }`). */
  formatOptions?: W;
  /** For an `s3://` target: endpoint, region, profile, credentials, part size, concurrency (over `setS3Defaults`). */
  s3?: S3Options;
  /**
   * A writer that must patch bytes already written (safetensors `crc32`) into a target
   * that cannot (`canWriteAt` false): `'local'` (default) stages through a local
   * temporary file, `'never'` refuses with `UNSUPPORTED_FEATURE`.
   */
  staging?: StagingPolicy;
  /**
   * When converting: the format the tensors were read from and their infos (same order
   * as `tensors`), so a writer of the same format can keep facts of its own (a bare
   * tensor `.pt` stays bare). Writers must not require them.
   */
  sourceFormat?: string;
  sourceTensors?: readonly TensorInfo[];
}

/** Options every format's open takes; `O` is the format's own `formatOptions`. */
export interface OpenOptions<O extends object = AnyFormatOptions> {
  signal?: AbortSignal;
  /** For `http(s)://` inputs: request headers (tokens), retries, timeouts, concurrency. */
  http?: HttpSourceOptions;
  /** For `s3://` inputs: endpoint, region, profile, credentials, anonymous (over `setS3Defaults` and the AWS chain). */
  s3?: S3Options;
  /** Format-specific options (limits, names). */
  formatOptions?: O;
}

/** What detection saw of a file: see {@link TensorFormat.sniff}. */
export interface SniffProbe {
  /** The first bytes (up to 4 KiB, fewer for a smaller file). */
  readonly head: Uint8Array;
  /** The last bytes (up to 4 KiB) when reading them was cheap; undefined over HTTP. */
  readonly tail?: Uint8Array;
  /** Total size in bytes. */
  readonly size: number;
  /** Path or URL, when there is one. */
  readonly name?: string;
}

/**
 * How tensors are laid out in a format's files: `'dense'` (one array per tensor) or a
 * multi-part {@link TensorLayout} kind (`'sparse_csr'`, `'sparse_coo'`, `'quant_group'`,
 * `'mx'`, `'other'`). Today every built-in format is dense; writers take one byte stream
 * per tensor, so `convert` writes a multi-part tensor only densified.
 */
export type TensorLayoutKind = 'dense' | TensorLayout['kind'];

/**
 * What a format declares it can do. `selftest`, `convert` and `inspect` read these
 * instead of probing a format by catching its exceptions.
 */
export interface FormatCapabilities {
  /** `'one'`: a file holds exactly one tensor (`.npy`); `'many'`: any number. */
  readonly tensors: 'one' | 'many';
  /** The dtypes its writer can hold (empty when it cannot write). Reading may surface others as `opaque`. */
  readonly dtypes: readonly DType[];
  /** The tensor layouts it can hold. */
  readonly layouts: readonly TensorLayoutKind[];
  /** True when a writer must know every tensor's shape before the first byte (a header up front). */
  readonly needsShapesFirst: boolean;
  /** True when tensors (or rows) can be appended to an existing file or store in place. */
  readonly canAppend: boolean;
  /** Checksums its files carry: never, when asked for (safetensors `crc32`), or always (zip CRC-32s). */
  readonly checksums: 'none' | 'optional' | 'always';
  /**
   * True when a file of this format is a folder (a NumPack store): an existing folder at
   * the output path is then replaced (with overwrite) instead of refused.
   */
  readonly folder: boolean;
}

/** A global a pickle references (`module.name`), and whether tensio's allow-list accepts it. */
export interface PickleGlobalAllowance {
  readonly global: string;
  readonly allowed: boolean;
}

/** A format tensio can read and/or write, as the registry knows it. */
export interface TensorFormat<O extends object = AnyFormatOptions, W extends object = AnyFormatOptions> {
  /** Short name used by `--to` and in `inspect` output. */
  readonly name: string;
  /** File extensions, lower case, with the dot. */
  readonly extensions: readonly string[];
  /**
   * True when these bytes look like this format. `head` is the first bytes (up to
   * 4 KiB); `probe` adds the last bytes when reading them was cheap (local files, bytes
   * in memory), the size and the name, for formats that identify themselves at the end
   * or past offset 0.
   */
  sniff(head: Uint8Array, probe?: SniffProbe): boolean;
  /** True when this folder (or index file's folder) is in this format, for formats stored as folders. */
  sniffFolder?(path: string): Promise<boolean>;
  /**
   * Extensions that name a layout of several files (an index file, a store folder):
   * a path or URL ending in one is handed to `open`/`verify` as a string, and the
   * format reaches the other files through storage (`siblingLocation`, a `Store`),
   * instead of being opened as one byte source. Used for `http(s)://` inputs.
   */
  readonly layoutExtensions?: readonly string[];
  /**
   * True for formats indexed by a footer (zTensor): a remote file known to be in this
   * format before its first byte is read (its URL ends in one of `extensions`, or the
   * caller named the format) is opened with a suffix read of its last bytes instead of
   * its first ones, and is not sniffed.
   */
  readonly openFromEnd?: boolean;
  /**
   * True when `open(path)` of a local regular file in this format is exactly `open` of
   * that file's source (no index file, sibling or folder is looked for): `openTensorFile`
   * then hands the file detection opened over to `open` instead of closing it and having
   * the format open it again (one open, stat and close fewer per file).
   */
  readonly opensLocalFileAsSource?: boolean;
  /** Opens a file, folder or source for reading. */
  open?(input: string | ByteSource, options?: OpenOptions<O>): Promise<TensorReader>;
  /**
   * Creates a writer that publishes to `target`: a local path (atomic), a `ByteSink`, or
   * `{ store, key }`. A format whose files are several (sharded checkpoints, NumPack
   * stores) refuses a bare sink with `UNSUPPORTED_FEATURE`.
   */
  createWriter?(target: WriteTarget, options: WriterOptions<W>): Promise<TensorWriter>;
  /**
   * Deep check of a file (a path or a source): structure plus every checksum or digest it carries. Formats
   * without checksums can leave it out; {@link verifyTensorFile} then opens the file and
   * reads every tensor through.
   */
  verify?(input: string | ByteSource, options?: VerifyOptions<O>): Promise<VerifyReport>;
  /** Why this format cannot hold a tensor of this spec, or undefined when it can. */
  cannotWrite?(spec: TensorSpec): string | undefined;
  /**
   * True when reading this tensor checks a checksum the file carries (libhdf5 checks a
   * dataset's Fletcher-32 on every chunk read, tensio's Zarr decoder a `crc32c`): the
   * generic verify, which reads everything, then counts the tensor as verified when its
   * read succeeds. A format with a `verify` of its own does not need it.
   */
  checkedOnRead?(info: TensorInfo): boolean;
  /**
   * Present when the format's files hold pickles (PyTorch): every global the pickles
   * reference, each with whether tensio's allow-list accepts it, found without running
   * them. `tensio inspect` lists them (and says which made a file refused); a format
   * without it holds no pickles.
   */
  listPickleGlobals?(input: string | ByteSource, options?: { signal?: AbortSignal }): Promise<readonly PickleGlobalAllowance[]>;
  /**
   * Changes a local file's metadata without touching its tensors: in place when the new
   * header fits where the old one was, otherwise through a streamed rewrite published
   * atomically (to `output` when given). Formats without it cannot be edited.
   */
  editMetadata?(path: string, edits: MetadataEdits, options?: { output?: string; signal?: AbortSignal }): Promise<MetadataEditResult>;
  /** What the format can hold and do; operations read this instead of trying and catching. */
  readonly capabilities: FormatCapabilities;
  /**
   * Present when the format is written as sharded checkpoints (`<prefix>-00001-of-0000N<ext>`
   * plus `<prefix><ext>.index.json`): its shard extension and default prefix. A split
   * conversion (`convert(…, { part })`) writes one shard per part with the format's
   * own single-file writer, so only such formats can be written in parts.
   */
  readonly shardedOutput?: { readonly extension: string; readonly defaultPrefix: string };
  /**
   * True when the format can hold one tensor under several names (PyTorch: views of
   * one storage). `convert` keeps every tied name for such an output; for the others
   * it writes tied duplicates once (see `ConvertOptions.keepDuplicates`).
   */
  readonly aliasing?: boolean;
  /**
   * The `formatOptions` keys `open` understands (e.g. `['key', 'dropDuplicates']`), so
   * callers can refuse an option the input format would silently ignore.
   */
  readonly openOptionNames?: readonly string[];
  /** The `formatOptions` keys `createWriter` understands (e.g. `['compress']`). */
  readonly writeOptionNames?: readonly string[];
}

/** Options for verification; `O` is the format's own `formatOptions` (those of its open). */
export interface VerifyOptions<O extends object = AnyFormatOptions> {
  signal?: AbortSignal;
  /** For `http(s)://` inputs: request headers (tokens), retries, timeouts, concurrency. */
  http?: HttpSourceOptions;
  /** For `s3://` inputs: endpoint, region, profile, credentials, anonymous (over `setS3Defaults` and the AWS chain). */
  s3?: S3Options;
  onProgress?: (progress: Progress) => void;
  /** Format-specific options. */
  formatOptions?: O;
}

/** One problem verification found. */
export interface VerifyProblem {
  /** Why, e.g. `'CHECKSUM_MISMATCH'`. */
  readonly code: TensioErrorCode;
  readonly message: string;
  /** The tensor concerned, when there is one (the first, when several share the bad bytes). */
  readonly tensor?: string;
  /** Every tensor whose bytes the problem touches (e.g. all views of a corrupt PyTorch storage record). */
  readonly tensors?: readonly string[];
}

/** What verification found. `ok` is true only when `problems` is empty. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly format: string;
  readonly path: string;
  readonly tensors: number;
  /** Checksums or digests that were recomputed and matched. */
  readonly checksumsVerified: number;
  /** Tensors that carry no checksum (structure checked only). */
  readonly withoutChecksum: number;
  readonly problems: readonly VerifyProblem[];
  /** Findings that do not make the file unsound (e.g. stray shard files beside an index). */
  readonly warnings?: readonly VerifyProblem[];
  /** What the checksums cover, in words (e.g. `zip CRC-32s of 7 records: 2 holding the data of 3 tensors, 5 others`). */
  readonly checksumNote?: string;
}

/** Metadata changes for {@link TensorFormat.editMetadata}, applied in this order: types, sets, deletes. */
export interface MetadataEdits {
  /** Keys to set, each value as text (parsed as the key's type: its existing one, or the one `types` gives). */
  readonly set?: ReadonlyArray<readonly [string, string]>;
  /** Keys whose value type to set, for formats with typed metadata (GGUF: `uint32`, `string`, `array:int32`, …). */
  readonly types?: ReadonlyArray<readonly [string, string]>;
  /** Keys to remove. */
  readonly delete?: readonly string[];
}

/** What {@link TensorFormat.editMetadata} did. */
export interface MetadataEditResult {
  /** `'in-place'`: only the header bytes were rewritten; `'rewrite'`: a new file was streamed and published. */
  readonly mode: 'in-place' | 'rewrite';
  /** The file written (the input itself, or the output asked for). */
  readonly output: string;
  /** Header bytes before and after (the data section starts after them). */
  readonly headerBytes: { readonly before: number; readonly after: number };
  /** Keys set, retyped or deleted. */
  readonly changed: readonly string[];
}
