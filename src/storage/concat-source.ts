/**
 * One {@link ByteSource} made of several parts laid end to end (a NumPack array split
 * into segment files, a tensor spread over chunk files), each part opened on first use
 * so that listing a layout costs no request per part.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { checkRange, readIntoFrom, type ByteSource, type ReadOptions } from './byte-source.js';
import { allocateUninitialized } from '../core/memory.js';

/** One part: its size as the layout declares it, and how to open it. */
export interface ConcatPart {
  readonly size: number;
  /** A name for messages. */
  readonly name: string;
  open(options?: ReadOptions): Promise<ByteSource>;
}

/**
 * The parts read as one source. A part whose source turns out smaller than its
 * declared size is `TRUNCATED` when first opened.
 *
 * @example
 * ```ts
 * const whole = concatSource([{ size: 40, name: 'seg0', open: () => store.open('seg_000000.npkd') }, …]);
 * ```
 */
export function concatSource(parts: readonly ConcatPart[], name?: string): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const part of parts) {
    starts.push(size);
    size += part.size;
  }
  if (!Number.isSafeInteger(size)) throw new TensioError('SIZE_OVERFLOW', `parts of ${name ?? 'a layout'} add up to more than 2^53 bytes`);
  const opened = new Map<number, Promise<ByteSource>>();

  function openPart(index: number, options?: ReadOptions): Promise<ByteSource> {
    let pending = opened.get(index);
    if (!pending) {
      const part = parts[index]!;
      pending = part.open(options).then((source) => {
        if (source.size < part.size) {
          throw new TensioError('TRUNCATED', `${part.name} holds ${source.size} bytes, fewer than the ${part.size} its layout declares`, { path: part.name });
        }
        return source;
      });
      pending.catch(() => opened.delete(index));
      opened.set(index, pending);
    }
    return pending;
  }

  async function readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void> {
    checkRange(size, offset, target.byteLength, name);
    let done = 0;
    // The last part starting at or before the offset (binary search).
    let low = 0;
    let high = parts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    for (let index = low; done < target.byteLength; index++) {
      throwIfAborted(options?.signal);
      const within = offset + done - starts[index]!;
      const take = Math.min(parts[index]!.size - within, target.byteLength - done);
      if (take <= 0) continue;
      const source = await openPart(index, options);
      await readIntoFrom(source, target.subarray(done, done + take), within, options);
      done += take;
    }
  }

  return {
    size,
    ...(name !== undefined ? { name } : {}),
    async read(offset, length, options) {
      const target = allocateUninitialized(length);
      await readInto(target, offset, options);
      return target;
    },
    readInto,
    async close() {
      const all = [...opened.values()];
      opened.clear();
      await Promise.all(all.map((pending) => pending.then((source) => source.close?.(), () => undefined)));
    },
  };
}
