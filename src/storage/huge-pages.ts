/**
 * Huge-page result buffers: large read results (`LARGE_BUFFER_MIN_BYTES`, 3.5 MiB, and
 * more) allocated by the native addon as anonymous, 2 MiB-aligned buffers advised
 * `MADV_HUGEPAGE`, so first touch takes a fault per 2 MiB instead of per 4 KiB. Importing
 * this module in Node registers the allocator with `core/memory.ts` (core imports nothing
 * from storage); `memory-map.ts` imports it, so every path that can map also gets these
 * buffers. The addon itself is reached through `memory-map.ts`' loader, loaded at the
 * first large allocation. A collected buffer's range is kept by the addon for about a
 * second and handed to the next allocation that fits (see {@link KEPT_RANGE_IDLE_MS}).
 */
import { LARGE_BUFFER_MIN_BYTES, registerLargeBufferAllocator } from '../core/memory.js';
import { loadedAddon, type MmapAddon } from './memory-map.js';

/**
 * The environment variable that turns huge-page result buffers off (`TENSIO_NO_HUGEPAGES=1`):
 * large read results then come from `Buffer.allocUnsafeSlow` like small ones.
 * `TENSIO_NO_MMAP=1` turns them off too (the addon is not loaded at all).
 */
export const NO_HUGEPAGES_ENV = 'TENSIO_NO_HUGEPAGES';

/** The addon, when huge-page buffers are on in this process and it can allocate them. */
function hugePageAddon(): (MmapAddon & Required<Pick<MmapAddon, 'allocate'>>) | undefined {
  const flag = typeof process === 'undefined' ? undefined : process.env?.[NO_HUGEPAGES_ENV];
  if (flag !== undefined && flag !== '' && flag !== '0') return undefined;
  const addon = loadedAddon();
  return addon?.allocate ? addon as MmapAddon & Required<Pick<MmapAddon, 'allocate'>> : undefined;
}

/**
 * How long the addon keeps the range of a collected buffer for reuse before unmapping it:
 * between one and two of these (one look of {@link armTrim}'s timer). Why kept at all: a
 * script reading files in turn frees a read's result and scratch and allocates the same
 * sizes again; fresh ranges are zeroed by the kernel page by page at first touch (on a
 * VM with free-page reporting, with host faults too), reused ones are resident already
 * (`native/src/tensio_kept.c`). A second, like the shared scratch pool's idle time: long
 * enough for a loop of reads, short enough that an idle process gives the memory back.
 */
export const KEPT_RANGE_IDLE_MS = 1000;

let trimTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Makes sure a timer trims the addon's kept ranges while any are kept or any buffer it
 * allocated is alive (whose range the addon keeps when it is collected). Never keeps the
 * process alive (`unref`); each worker thread that allocates runs its own, all trimming
 * the one process-wide list.
 */
function armTrim(addon: MmapAddon): void {
  if (trimTimer !== undefined || !addon.trimAllocations) return;
  trimTimer = setTimeout(() => {
    trimTimer = undefined;
    const [keptBytes, , live] = addon.trimAllocations!(KEPT_RANGE_IDLE_MS);
    if (keptBytes > 0 || live > 0) armTrim(addon);
  }, KEPT_RANGE_IDLE_MS);
  (trimTimer as { unref?: () => void }).unref?.();
}

/**
 * What the addon keeps of collected huge-page buffers (`bytes` in `ranges`) and how many
 * of its buffers are alive; `undefined` without an addon that keeps them. For tests and
 * benchmarks.
 *
 * @example
 * ```ts
 * const { bytes } = keptHugePageRanges() ?? { bytes: 0 };
 * ```
 */
export function keptHugePageRanges(): { bytes: number; ranges: number; live: number } | undefined {
  const addon = loadedAddon();
  if (!addon?.trimAllocations) return undefined;
  // A trim of what was kept for longer than forever drops nothing: it only reports (the addon's trim returns what stays).
  const [bytes, ranges, live] = addon.trimAllocations(Number.MAX_VALUE);
  return { bytes, ranges, live };
}

/**
 * Unmaps the kept ranges of collected huge-page buffers kept `idleMs` or longer (every
 * one by default), as the timer does after {@link KEPT_RANGE_IDLE_MS}.
 *
 * @example
 * ```ts
 * trimKeptHugePageRanges(); // before measuring memory
 * ```
 */
export function trimKeptHugePageRanges(idleMs = 0): void {
  loadedAddon()?.trimAllocations?.(idleMs);
}

/**
 * Sets the most bytes of collected huge-page buffers' ranges the addon keeps (1 GiB at
 * load; 0 keeps none, and ranges over the new limit are unmapped now); answers the
 * previous limit, or `undefined` without an addon that keeps ranges.
 *
 * @example
 * ```ts
 * const previous = setKeptHugePageLimit(0); // no reuse while this runs
 * ```
 */
export function setKeptHugePageLimit(bytes: number): number | undefined {
  return loadedAddon()?.setAllocationCacheLimit?.(bytes);
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
function largeBufferAllocator(length: number, zeroed: boolean): ArrayBuffer | undefined {
  const addon = hugePageAddon();
  if (!addon) return undefined;
  try {
    const buffer = addon.allocate(length, zeroed);
    hugePageBuffers.add(buffer);
    armTrim(addon);
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
  return { hugePageBuffers: hugePageAddon() !== undefined, hugePageReason: hugePageReason() };
}
