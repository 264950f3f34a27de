/**
 * Huge-page result buffers: large read results (`LARGE_BUFFER_MIN_BYTES`, 3.5 MiB, and
 * more) allocated by the native addon as anonymous, 2 MiB-aligned buffers advised
 * `MADV_HUGEPAGE`, so first touch takes a fault per 2 MiB instead of per 4 KiB. Importing
 * this module in Node registers the allocator with `core/memory.ts` (core imports nothing
 * from storage); `memory-map.ts` imports it, so every path that can map also gets these
 * buffers. The addon itself is reached through `memory-map.ts`' loader, loaded at the
 * first large allocation.
 */
import { LARGE_BUFFER_MIN_BYTES, registerLargeBufferAllocator } from '../core/memory.js';
import { loadedAddon } from './memory-map.js';

/**
 * The environment variable that turns huge-page result buffers off (`TENSIO_NO_HUGEPAGES=1`):
 * large read results then come from `Buffer.allocUnsafeSlow` like small ones.
 * `TENSIO_NO_MMAP=1` turns them off too (the addon is not loaded at all).
 */
export const NO_HUGEPAGES_ENV = 'TENSIO_NO_HUGEPAGES';

/** The addon's allocate(), when huge-page buffers are on in this process. */
function hugePageAllocate(): ((length: number) => ArrayBuffer) | undefined {
  const flag = typeof process === 'undefined' ? undefined : process.env?.[NO_HUGEPAGES_ENV];
  if (flag !== undefined && flag !== '' && flag !== '0') return undefined;
  const addon = loadedAddon();
  return addon?.allocate ? addon.allocate.bind(addon) : undefined;
}

function hugePageReason(): string {
  const flag = typeof process === 'undefined' ? undefined : process.env?.[NO_HUGEPAGES_ENV];
  if (flag !== undefined && flag !== '' && flag !== '0') return `huge-page buffers are off because ${NO_HUGEPAGES_ENV}=${flag}; read results are ordinary buffers`;
  const addon = loadedAddon();
  if (!addon) return 'huge-page buffers need the native addon, which is not in use; read results are ordinary buffers';
  if (!addon.allocate) return 'the native addon was built before it could allocate huge-page buffers; rebuild it with `npm run build:native`';
  return `read results of ${LARGE_BUFFER_MIN_BYTES >> 20} MiB and more are anonymous 2 MiB-aligned buffers advised MADV_HUGEPAGE (the kernel decides whether it backs them with huge pages)`;
}

/** Buffers {@link largeBufferAllocator} made, so {@link isHugePageBuffer} needs no native call. */
const hugePageBuffers = new WeakSet<ArrayBufferLike>();

/**
 * The large-buffer allocator registered with `core/memory.ts` when this module is
 * imported. The addon is loaded (lazily, once) at the first large allocation, not at
 * import, so importing tensio stays free of native work; `TENSIO_NO_HUGEPAGES` is read
 * at every large allocation (one lookup per 3.5 MiB or more is nothing). Any refusal
 * (address space, an old addon) answers `undefined` and the caller allocates ordinarily.
 */
function largeBufferAllocator(length: number): ArrayBuffer | undefined {
  const allocate = hugePageAllocate();
  if (!allocate) return undefined;
  try {
    const buffer = allocate(length);
    hugePageBuffers.add(buffer);
    return buffer;
  } catch {
    return undefined;
  }
}

if (typeof process !== 'undefined' && process.versions?.node) registerLargeBufferAllocator(largeBufferAllocator);

/**
 * True when `view` lies in a huge-page buffer the addon allocated for a read result
 * (an ordinary, writable, private buffer; only its page size differs).
 *
 * @example
 * ```ts
 * const tensor = await reader.read('weight', { copy: true });
 * console.log(isHugePageBuffer(tensor.data));
 * ```
 */
export function isHugePageBuffer(view: ArrayBufferView): boolean {
  return hugePageBuffers.has(view.buffer);
}

/**
 * Whether huge-page buffers are in use and why, for `memoryMapStatus()`.
 *
 * @example
 * ```ts
 * const { hugePageBuffers, hugePageReason } = hugePageStatus();
 * if (!hugePageBuffers) console.warn(hugePageReason);
 * ```
 */
export function hugePageStatus(): { hugePageBuffers: boolean; hugePageReason: string } {
  return { hugePageBuffers: hugePageAllocate() !== undefined, hugePageReason: hugePageReason() };
}
