/**
 * Reading the `.npy` header of one `.npz` member: straight from the archive when the
 * member is stored, by inflating just the first bytes when it is deflated.
 */
import { errorFactory } from '../../core/errors.js';
import { NPY_PREFIX_BYTES, npyParseHeader, npyReadPrefix } from '../npy/read.js';
import { npyReadHeader } from '../npy/reader.js';
import type { NpyHeader, NpyReadOptions } from '../npy/types.js';
import type { ZipArchive, ZipEntry } from '../../zip/types.js';
import { quoteInput } from '../../core/quote.js';

/**
 * Parses the `.npy` header of a member. Deflated members are inflated only as far as
 * the header reaches (bounded by the header limit).
 *
 * @example
 * ```ts
 * const header = await npzReadMemberHeader(zip, zip.entry('w.npy')!);
 * ```
 */
export async function npzReadMemberHeader(zip: ZipArchive, entry: ZipEntry, options: Omit<NpyReadOptions, 'format'> & { signal?: AbortSignal } = {}): Promise<NpyHeader> {
  const readOptions = { ...options, format: 'npz' };
  const signal = options.signal ? { signal: options.signal } : {};
  if (entry.method === 0) {
    const offset = await zip.dataOffset(entry, signal);
    return npyReadHeader(zip.source, { ...readOptions, offset, size: entry.uncompressedSize });
  }
  let collected = new Uint8Array(0);
  let needed = NPY_PREFIX_BYTES;
  let prefix: ReturnType<typeof npyReadPrefix> | undefined;
  for await (const chunk of zip.streamEntry(entry, { chunkBytes: 64 * 1024, ...signal })) {
    const joined = new Uint8Array(collected.byteLength + chunk.byteLength);
    joined.set(collected);
    joined.set(chunk, collected.byteLength);
    collected = joined;
    if (!prefix && collected.byteLength >= Math.min(needed, entry.uncompressedSize)) {
      prefix = npyReadPrefix(collected.subarray(0, NPY_PREFIX_BYTES), entry.uncompressedSize, readOptions);
      needed = prefix.headerStart + prefix.headerLength;
    }
    if (prefix && collected.byteLength >= needed) break; // stops the inflater
  }
  if (!prefix) prefix = npyReadPrefix(collected.subarray(0, NPY_PREFIX_BYTES), entry.uncompressedSize, readOptions);
  if (collected.byteLength < needed) errorFactory('npz')('TRUNCATED', `npz: member ${quoteInput(entry.name)} ends inside its .npy header`);
  return npyParseHeader(collected.subarray(prefix.headerStart, needed), prefix, entry.uncompressedSize, readOptions);
}
