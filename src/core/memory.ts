/**
 * Buffer allocation for reads. Fresh memory is the real cost of loading on this class
 * of machine (first touch runs at about a third of the page-cache read speed), so
 * buffers that a read overwrites entirely are allocated without zero-filling, and large
 * ones come from a registered large-buffer allocator when one is available: in Node,
 * `src/storage/huge-pages.ts` registers the native addon's huge-page buffers (2 MiB
 * pages: one fault where 4 KiB pages take 512). Core imports nothing from storage; the
 * registration is how the addon reaches it, and the browser bundle never registers one.
 */

/**
 * Buffers of at least this many bytes come from the registered large-buffer allocator:
 * 3.5 MiB, where a mapping rounded up to 2 MiB pages wastes at most an eighth of itself;
 * below it, the rounding would waste more than the faults it saves. Not NumPy's 4 MiB: a
 * column of a million float32 (4,000,000 bytes, what a table reads as one tensor per
 * column) fell just under it and took 977 4 KiB faults (~3.4 µs each here) where 2 huge
 * pages do; Parquet 1M × 32 float32 read as 32 column tensors, interleaved against the
 * code before: 369 → 190 ms wall (pyarrow's dictionary file) with it, 493 → 396 without.
 */
export const LARGE_BUFFER_MIN_BYTES = 3.5 * 1024 * 1024;

/**
 * Makes an `ArrayBuffer` of exactly `length` bytes, zero-filled when `zeroed` (otherwise
 * its bytes may be stale: the caller overwrites them all), or answers `undefined`
 * (refused, unavailable) so the caller falls back to an ordinary allocation.
 */
export type LargeBufferAllocator = (length: number, zeroed: boolean) => ArrayBuffer | undefined;

let largeAllocator: LargeBufferAllocator | undefined;

/**
 * Installs (or with `undefined` removes) the allocator {@link allocateUninitialized} and
 * {@link allocateZeroed} use for buffers of {@link LARGE_BUFFER_MIN_BYTES} and more.
 * Called by `src/storage/huge-pages.ts` when it is imported in Node (`memory-map.ts` imports it).
 *
 * @example
 * ```ts
 * registerLargeBufferAllocator((length) => addon.allocate(length));
 * ```
 */
export function registerLargeBufferAllocator(allocator: LargeBufferAllocator | undefined): void {
  largeAllocator = allocator;
}

/** A large buffer from the registered allocator, or `undefined`. */
function allocateLarge(length: number, zeroed: boolean): Uint8Array<ArrayBuffer> | undefined {
  if (!largeAllocator || length < LARGE_BUFFER_MIN_BYTES) return undefined;
  const buffer = largeAllocator(length, zeroed);
  return buffer ? new Uint8Array(buffer) : undefined;
}

/**
 * A buffer the caller will overwrite entirely, so it need not be zeroed first: from
 * {@link LARGE_BUFFER_MIN_BYTES} on, a huge-page buffer when the native addon registered one (one a
 * collected buffer left, as it is, when the addon kept one of the size; otherwise fresh,
 * zeroed by the kernel at fault time, which costs less than 4 KiB faults); otherwise in
 * Node `Buffer.allocUnsafeSlow`, which skips the zero-fill and lets the allocator hand
 * back memory it already has. Elsewhere, a plain `Uint8Array`. The result is a
 * `Uint8Array` over a whole `ArrayBuffer` of its own or a slice of one; never hand it
 * out before every byte was written: it may hold stale data.
 *
 * @example
 * ```ts
 * const target = allocateUninitialized(info.byteLength);
 * await source.readInto(target, offset);
 * ```
 */
export function allocateUninitialized(length: number): Uint8Array<ArrayBuffer> {
  const large = allocateLarge(length, false);
  if (large) return large;
  const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array<ArrayBuffer> } }).Buffer;
  if (!NodeBuffer || length === 0) return new Uint8Array(length);
  const buffer = NodeBuffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/**
 * A zero-filled buffer (a result some of whose bytes are never written: missing chunks
 * of a fill value zero, padding): from {@link LARGE_BUFFER_MIN_BYTES} on a huge-page buffer when one is
 * registered (fresh anonymous memory is zero already; a reused one is cleared), otherwise `new Uint8Array(length)`.
 *
 * @example
 * ```ts
 * const out = allocateZeroed(shapeBytes); // chunks absent from the store stay 0
 * ```
 */
export function allocateZeroed(length: number): Uint8Array<ArrayBuffer> {
  return allocateLarge(length, true) ?? new Uint8Array(length);
}
