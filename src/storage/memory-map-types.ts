/**
 * The shapes around the optional mmap addon (`native/`): what the addon's functions take
 * and answer (`MmapAddon`), and the types `memory-map.ts` hands callers (status, populate
 * methods, WebAssembly memory mappings). Types only, so reading them loads nothing;
 * `memory-map.ts` re-exports every one, and callers import them from there.
 */
export interface MmapAddon {
  map(fd: number, offset: number, length: number): ArrayBuffer;
  /** Absent in an addon built before it existed (the caller then reads). */
  mapJoined?(triples: number[]): ArrayBuffer;
  faulted(buffer: ArrayBuffer): boolean;
  /** `externalMemory`: V8's external-memory counter (what starts collections), absent in an addon built before session 29. */
  stats(): { liveMappings: number; faults: number; pageSize: number; capacity: number; externalMemory?: number };
  /**
   * The function `map`/`mapJoined` call on every buffer they make outside V8's
   * external-memory count (`markAsUntransferable`); without it they make only Node-API
   * external buffers. Answers whether such buffers can be made (the addon was built for
   * this Node major); `TENSIO_MMAP_COUNTED` decides at every map whether they are.
   * Absent in an addon built before it existed.
   */
  setUntransferableMarker?(marker: (buffer: ArrayBuffer) => void): boolean;
  /** True in an addon whose map() makes the charged, store-owned kind by default (session 29); absent before. */
  storeOwnedBuffers?: boolean;
  mapInto(memory: WasmMemoryLike, byteOffset: number, fd: number, fileOffset: number, length: number): object;
  unmapInto(handle: object): boolean;
  intoFaulted(handle: object): boolean;
  /** Absent in an addon built before it existed (tensors are then placed without huge-page alignment). */
  baseModulo?(memory: WasmMemoryLike, modulus: number): number;
  /**
   * A 2 MiB-aligned, huge-page-advised anonymous buffer, zeroed unless `zeroed` is false
   * (then possibly a collected buffer's range as it was: `native/src/tensio_kept.c`);
   * absent in an addon built before it existed (an addon before the kept ranges ignores `zeroed`).
   */
  allocate?(length: number, zeroed?: boolean): ArrayBuffer;
  /**
   * Unmaps the ranges of collected `allocate` buffers kept `idleMs` or longer, and answers
   * `[keptBytes, keptRanges, liveBuffers]`; absent in an addon built before it existed.
   */
  trimAllocations?(idleMs: number): [number, number, number];
  /** Sets the most bytes of collected `allocate` ranges kept for reuse, answering the previous limit. */
  setAllocationCacheLimit?(bytes: number): number;
  /**
   * Page tables of a mapping (a buffer from `map`/`mapJoined`, or a handle from `mapInto`)
   * set up on a libuv worker (MADV_POPULATE_READ); absent in an addon built before it existed.
   */
  populate?(target: ArrayBuffer | object, cancel?: Int32Array): Promise<PopulateMethod>;
  /** What populate does on this kernel, tried once on one page; absent in an addon built before it existed. */
  populateProbe?(): PopulateMethod;
  /** Bytes of populate jobs not yet done by the worker (queued or running); absent in an addon built before it existed. */
  populatePending?(): number;
  /** Raw snappy decoded into `output` on a libuv worker (`native/src/tensio_snappy.c`); absent in an addon built before it existed. */
  snappyUncompressInto?(input: Uint8Array, output: Uint8Array): Promise<void>;
  /** One raw snappy block of `input` written into `output` on a libuv worker, resolving to its length; absent in an addon built before it existed. */
  snappyCompressInto?(input: Uint8Array, output: Uint8Array): Promise<number>;
  /** The most bytes `snappyCompressInto` writes for `length` input bytes. */
  snappyCompressBound?(length: number): number;
  /** zstd frames decoded into `output` by the system's libzstd on a libuv worker, resolving to the bytes written (`native/src/tensio_zstd.c`); absent in an addon built before it existed. */
  zstdDecompressInto?(input: Uint8Array, output: Uint8Array): Promise<number>;
  /** The version of the libzstd the addon loaded, or null when it found none. */
  zstdLibraryVersion?(): string | null;
  /**
   * Parquet dictionary indices gathered into `out` on a libuv worker, a band of pieces per
   * call (`native/src/tensio_gather.c`: `params` holds 11 numbers per piece); absent in an
   * addon built before it existed.
   */
  parquetGatherBand?(sections: Uint8Array[], dictionaries: Uint8Array[], params: Float64Array, out: Uint8Array): Promise<void>;
  /** parquetGatherBand, present only in an addon whose gather takes PLAIN pieces. */
  parquetGatherBandPlain?(sections: Uint8Array[], dictionaries: Uint8Array[], params: Float64Array, out: Uint8Array): Promise<void>;
}

/**
 * What {@link populateMappedView} did: `'populate'` (the page tables were set up with
 * `MADV_POPULATE_READ`, Linux 5.14 and later), `'willneed'` (an older kernel: the pages
 * were only advised `MADV_WILLNEED`, the consumer still faults them in) or `'none'`
 * (cancelled before the first window, or nothing could be done).
 */
export type PopulateMethod = 'populate' | 'willneed' | 'none';

/**
 * The part of a `WebAssembly.Memory` tensio uses (the project's TypeScript settings carry
 * no WebAssembly types; a real `WebAssembly.Memory` is one).
 */
export interface WasmMemoryLike {
  /** The memory's bytes; replaced (the old one detached) by every `grow`. */
  readonly buffer: ArrayBuffer;
  /** Adds `pages` 64 KiB pages and returns the old page count; throws a RangeError past the maximum. */
  grow(pages: number): number;
}

/** A file range mapped into a WebAssembly memory by {@link mapFileIntoWasmMemory}. */
export interface WasmMemoryMapping {
  /** Puts zero pages back over the range (what fresh wasm pages hold); true on the first call only. Stops a populate job over it. */
  release(): boolean;
  /** True once the file was shortened under the mapping and some of its bytes read as zeros. */
  faulted(): boolean;
  /**
   * Sets up the mapping's page tables on the addon's populate worker, as
   * {@link populateMappedView} does for a mapped view; `undefined` when the addon cannot.
   * Rejects with `SOURCE_CHANGED` when the file was shortened. `release()` stops it.
   */
  populate?(cancel?: Int32Array): Promise<PopulateMethod> | undefined;
}

/**
 * Whether fault-ahead (`populate` options, {@link populateMappedView}) sets up page tables
 * here: `'populate'` (`MADV_POPULATE_READ`, Linux 5.14 and later), `'willneed'` (an
 * older kernel: the pages are only advised, the consumer still takes the faults) or
 * `'unavailable'` (no addon, or an addon built before populate existed: the options do nothing).
 */
export type PopulateSupport = 'populate' | 'willneed' | 'unavailable';

/** Whether mapped reads are in use, and why (or why not). */
export interface MemoryMapStatus {
  /** True when local file reads hand out views over memory mappings. */
  readonly enabled: boolean;
  /** One sentence for people: what is in use and, when it is off, how to turn it on. */
  readonly reason: string;
  /** Where the addon was loaded from, when it was. */
  readonly addonPath?: string;
  /** Mappings alive now (not yet garbage collected). */
  readonly liveMappings?: number;
  /** Truncations under a live mapping that were caught and turned into zero pages. */
  readonly faults?: number;
  /** True when read results of `LARGE_BUFFER_MIN_BYTES` (3.5 MiB) and more are allocated as huge-page buffers by the addon. */
  readonly hugePageBuffers: boolean;
  /** One sentence: why huge-page buffers are, or are not, in use. */
  readonly hugePageReason: string;
  /** What fault-ahead (`populate` options) does in this process; see {@link PopulateSupport}. */
  readonly populate: PopulateSupport;
  /** One sentence: what `populate` options do here, and why. */
  readonly populateReason: string;
  /**
   * How mapped buffers weigh in V8's external-memory count, which starts collections:
   * `'charged'` (the default with an addon built for this Node major: left out of V8's
   * own count, charged 1 MiB plus page tables each) or `'counted'` (`TENSIO_MMAP_COUNTED=1`,
   * or an addon built for another Node major or without its C++ part: Node-API external
   * buffers, counted at their whole length).
   */
  readonly mappingAccounting?: 'charged' | 'counted';
}
