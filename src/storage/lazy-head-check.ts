/**
 * A check of a file's first bytes (a start magic) put off until a read brings them
 * anyway. A remote file opened from its end (a suffix read of its footer) does not have
 * its first bytes, and fetching them for the check alone would cost a request: instead
 * the first read that starts within `reach` bytes of the start is extended to offset 0
 * (one request either way) and the check runs on its bytes; `ensureChecked()` reads
 * them on purpose (what `verify` calls).
 */
import { readIntoFrom, type ByteSource, type ReadOptions } from './byte-source.js';

/** Options for {@link withLazyHeadCheck}. */
export interface LazyHeadCheckOptions {
  /** How many first bytes the check needs. */
  readonly bytes: number;
  /** A read starting at or before this offset is extended to offset 0 and checks the head. */
  readonly reach: number;
  /** Throws when the head is wrong. */
  check(head: Uint8Array): void;
}

/** A source whose head is checked lazily; see {@link withLazyHeadCheck}. */
export interface LazyHeadCheckedSource extends ByteSource {
  /** True once the head passed its check. */
  readonly headChecked: boolean;
  /** Reads the head (if no read brought it yet) and checks it. */
  ensureChecked(options?: ReadOptions): Promise<void>;
}

/**
 * Wraps a source so that its first bytes are checked by the first read near them. Reads
 * further in pass through unchecked. `close` is not forwarded: the wrapped source's
 * owner closes it.
 *
 * @example
 * ```ts
 * const parts = withLazyHeadCheck(source, { bytes: 8, reach: 65536, check: (head) => checkMagic(head) });
 * await parts.read(65536, 4096); // one read of bytes 0..69631, the magic checked on the way
 * ```
 */
export function withLazyHeadCheck(source: ByteSource, options: LazyHeadCheckOptions): LazyHeadCheckedSource {
  let checked = false;
  const bytes = Math.min(options.bytes, source.size);
  const checkedRead = async (offset: number, length: number, readOptions?: ReadOptions): Promise<Uint8Array> => {
    const all = await source.read(0, Math.max(bytes, offset + length), readOptions);
    options.check(all.subarray(0, bytes));
    checked = true;
    return all.subarray(offset, offset + length);
  };
  const nearUncheckedHead = (offset: number): boolean => !checked && offset <= options.reach;
  const wrapped: LazyHeadCheckedSource = {
    size: source.size,
    ...(source.name !== undefined ? { name: source.name } : {}),
    ...(source.cached !== undefined ? { cached: source.cached } : {}),
    ...(source.holds ? { holds: source.holds.bind(source) } : {}),
    get headChecked() {
      return checked;
    },
    read: (offset, length, readOptions) => (nearUncheckedHead(offset) ? checkedRead(offset, length, readOptions) : source.read(offset, length, readOptions)),
    async readInto(target, offset, readOptions) {
      if (nearUncheckedHead(offset)) target.set(await checkedRead(offset, target.byteLength, readOptions));
      else await readIntoFrom(source, target, offset, readOptions);
    },
    async ensureChecked(readOptions) {
      if (!checked) await checkedRead(0, 0, readOptions);
    },
  };
  return wrapped;
}
