/**
 * `readEach`: every tensor of a reader, in order, with the next ones read while the
 * caller works on the current one. One function over the {@link TensorReader} interface,
 * so it serves every format the same way (safetensors, `.pt`, `.npy`/npz, NumPack, …).
 *
 * What "read ahead" means depends on how `read()` gets the bytes:
 * - a view over a memory mapping (a local file with the native addon): the mapping is
 *   made at once and its page tables are populated on a libuv worker thread
 *   (`ReadTensorOptions.populate`), so the caller's first touch of each page does not
 *   stop for a fault. The addon runs those jobs one at a time, in tensor order;
 * - bytes read into memory (`copy: true`, remote sources, no addon): the reads are
 *   started ahead with `offThread` (tensors of 1 MiB and more), so a local file's
 *   copies run on libuv's threads while the caller works.
 *
 * Memory bound: the tensors whose read has started but that were not yet handed to the
 * caller hold at most `aheadBytes` bytes, or one tensor when a single tensor is larger
 * (so a large tensor is still read); the tensor the caller holds is not counted, nor are
 * the ones it keeps. For copies this is memory; for mappings it is address space and
 * page tables (about 0.2% of the bytes), the page-cache pages being the file's.
 *
 * Thread bound: at most {@link READ_EACH_MAX_COPIES} copies run on libuv's thread pool at
 * once (its 4 threads are shared with every other file and zlib job of the process; on a
 * 2-core machine two copies already keep both cores busy), and population runs on one
 * worker thread (the addon's queue).
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { isMemoryMapped, memoryMapAvailable, memoryMapFaulted, memoryMapPopulateError } from '../storage/memory-map.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorReader } from './types.js';

/** Default of {@link ReadEachOptions.aheadBytes}: 64 MiB. */
export const READ_EACH_AHEAD_BYTES = 64 * 2 ** 20;

/**
 * Tensors of at least this many bytes are read off the JavaScript thread when they are
 * copies (`ReadTensorOptions.offThread`); smaller ones cost less than the trip through
 * libuv's thread pool and are read synchronously.
 */
export const READ_EACH_OFF_THREAD_MIN_BYTES = 1024 * 1024;

/**
 * Most copies {@link readEach} has in flight on libuv's thread pool at once (when it
 * copies: `copy: true`, or no mapping in this process); further read-ahead waits for one
 * of them to finish.
 */
export const READ_EACH_MAX_COPIES = 2;

/** Options for {@link readEach}. */
export interface ReadEachOptions {
  /** The tensors to read, in this order (default: every tensor, in file order). */
  names?: readonly string[];
  /**
   * Bytes of tensors read ahead of the one the caller holds (default
   * {@link READ_EACH_AHEAD_BYTES}); a single larger tensor is still read ahead alone.
   * 0 reads one tensor at a time, each only when asked for (a mapped, populated `read()`
   * in file order still maps up to 64 MiB of the next tensors itself: see
   * `ReadTensorOptions.populate`; `populate: false` turns that off too).
   */
  aheadBytes?: number;
  /** Read every tensor into fresh memory instead of mapping it (`ReadTensorOptions.copy`). */
  copy?: boolean;
  /**
   * Populate the page tables of mapped tensors ahead of the caller (default true: a
   * caller that iterates every tensor is taken to touch every byte). `false` maps only.
   */
  populate?: boolean;
  signal?: AbortSignal;
}

/** One tensor handed out by {@link readEach}. */
export interface ReadEachItem {
  readonly name: string;
  readonly tensor: Tensor;
}

interface Pending {
  readonly name: string;
  readonly bytes: number;
  readonly tensor: Promise<Tensor>;
}

/**
 * Reads the tensors of `reader` one after another, yielding each as soon as it is ready
 * while the next ones (up to `aheadBytes`) are read ahead; see the module comment for
 * what that does for mapped and copied tensors and for the memory bound. Leaving the
 * loop early is fine: reads already started finish and are dropped.
 *
 * A file shortened under a mapped tensor the caller was given (its missing pages then
 * read as zeros: `memoryMapFaulted`) fails the next step with `SOURCE_CHANGED`, so a
 * loop that sums every tensor cannot finish with a wrong total unnoticed.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('model.pt');
 * let total = 0;
 * for await (const { name, tensor } of readEach(reader)) total += sum(tensor.data);
 * ```
 */
export async function* readEach(reader: TensorReader, options: ReadEachOptions = {}): AsyncGenerator<ReadEachItem> {
  const names = options.names ?? reader.tensors.map((info) => info.name);
  const aheadBytes = options.aheadBytes ?? READ_EACH_AHEAD_BYTES;
  if (!(aheadBytes >= 0) || !Number.isFinite(aheadBytes)) {
    throw new TensioError('INVALID_ARGUMENT', `readEach: aheadBytes must be a finite number of bytes >= 0, got ${aheadBytes}`);
  }
  // Unknown names fail here, before anything is read.
  const sizes = names.map((name) => reader.info(name).byteLength);
  const baseOptions = {
    ...(options.copy ? { copy: true } : {}),
    populate: options.populate ?? true,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  // Small reads stay synchronous: a trip through the thread pool costs more than they do.
  const offThreadOptions = { ...baseOptions, offThread: true };
  const pending: Pending[] = [];
  let pendingBytes = 0;
  let next = 0;
  // Copies on the thread pool not yet finished (counted only where reads are copies: mapped reads return at once).
  const copies = options.copy === true || !memoryMapAvailable();
  let copiesInFlight = 0;

  /** Starts reads while they fit the bounds; one is always allowed when none is in flight. */
  const fill = (): void => {
    while (next < names.length) {
      const bytes = sizes[next]!;
      if (pending.length > 0 && pendingBytes + bytes > aheadBytes) return;
      const offThread = bytes >= READ_EACH_OFF_THREAD_MIN_BYTES;
      if (pending.length > 0 && copies && offThread && copiesInFlight >= READ_EACH_MAX_COPIES) return;
      const name = names[next++]!;
      const tensor = reader.read(name, offThread ? offThreadOptions : baseOptions);
      if (copies && offThread) {
        copiesInFlight++;
        // Settles before the loop awaits it; a finished copy lets the next step start another.
        const settled = () => { copiesInFlight--; };
        tensor.then(settled, settled);
      } else {
        tensor.catch(() => undefined); // awaited in order below, or dropped when the loop is left
      }
      pending.push({ name, bytes, tensor });
      pendingBytes += bytes;
      if (aheadBytes === 0) return;
    }
  };

  let given: ReadEachItem | undefined;
  const checkGiven = (): void => {
    if (!given || !isMemoryMapped(given.tensor.data)) return;
    if (memoryMapFaulted(given.tensor.data)) {
      throw new TensioError('SOURCE_CHANGED', `${reader.path ?? 'the file'} was shortened while tensor ${given.name} (${given.tensor.data.byteLength} bytes) was mapped: some of its bytes read as zeros`, { ...(reader.path ? { path: reader.path } : {}) });
    }
    // A populate job that failed (the file shortened before the caller touched the missing pages) is not lost either.
    const failed = memoryMapPopulateError(given.tensor.data);
    if (failed) throw failed;
  };

  while (next < names.length || pending.length > 0) {
    throwIfAborted(options.signal);
    checkGiven();
    if (pending.length === 0) fill();
    const head = pending.shift()!;
    pendingBytes -= head.bytes;
    const tensor = await head.tensor;
    // The next reads start before the caller gets this one, so they overlap its work.
    if (aheadBytes > 0) fill();
    given = { name: head.name, tensor };
    yield given;
  }
  checkGiven();
}
