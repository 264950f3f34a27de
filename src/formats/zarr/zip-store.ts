/**
 * A read-only {@link Store} over a zip archive (a `.zarr.zip` store, as zarr-python's
 * `ZipStore` writes it): keys are member names, optionally under a prefix (a zip made
 * from the store's parent folder holds `data.zarr/...`). Stored members are read by
 * range straight from the archive; deflated ones are inflated whole (they are chunks).
 */
import { TensioError } from '../../core/errors.js';
import type { ByteRange, ByteSource, ReadOptions } from '../../storage/byte-source.js';
import type { Store } from '../../storage/store.js';
import { zipOpen } from '../../zip/index.js';
import type { ZipArchive } from '../../zip/index.js';

/** Metadata keys that mark the root of a Zarr hierarchy. */
const ROOT_KEYS = ['zarr.json', '.zgroup', '.zarray', '.zmetadata'];

/**
 * Opens a zip source as a read-only store rooted where its Zarr hierarchy starts.
 *
 * @example
 * ```ts
 * const store = await zarrZipStore(await fileSource('data.zarr.zip'));
 * await store.read('zarr.json');
 * ```
 */
export async function zarrZipStore(source: ByteSource, options: { signal?: AbortSignal } = {}): Promise<Store> {
  const archive = await zipOpen(source, { format: 'zarr', ...(options.signal ? { signal: options.signal } : {}) });
  const names = archive.entries.map((entry) => entry.name).filter((name) => !name.endsWith('/'));
  let prefix = '';
  if (!names.some((name) => ROOT_KEYS.includes(name))) {
    // zipped from the parent folder: the shallowest folder holding a root key
    const roots = names.filter((name) => ROOT_KEYS.some((key) => name.endsWith(`/${key}`))).map((name) => name.slice(0, name.lastIndexOf('/') + 1));
    roots.sort((a, b) => a.split('/').length - b.split('/').length);
    if (roots[0] !== undefined) prefix = roots[0];
  }
  return zipStoreOver(archive, prefix, source.name ?? '<zip>');
}

function zipStoreOver(archive: ZipArchive, prefix: string, name: string): Store {
  const entryOf = (key: string) => {
    const entry = archive.entry(prefix + key);
    if (!entry) throw new TensioError('NOT_FOUND', `zarr: ${name} has no member ${JSON.stringify(prefix + key)}`, { format: 'zarr' });
    return entry;
  };
  const refuse = (): never => {
    throw new TensioError('UNSUPPORTED_FEATURE', `zarr: ${name} is a zip store, which tensio reads only`, { format: 'zarr' });
  };
  return {
    name,
    canList: true,
    canWrite: false,
    locate: (key) => `${name}!/${prefix}${key}`,
    async list(listPrefix = '') {
      return archive.entries.map((entry) => entry.name).filter((entry) => !entry.endsWith('/') && entry.startsWith(prefix + listPrefix)).map((entry) => entry.slice(prefix.length)).sort();
    },
    async has(key) {
      return archive.entry(prefix + key) !== undefined;
    },
    async read(key: string, range?: ByteRange, options?: ReadOptions) {
      const entry = entryOf(key);
      const signal = options?.signal;
      let start = 0;
      let length = entry.uncompressedSize;
      if (range) {
        if ('suffix' in range) {
          length = Math.min(range.suffix, entry.uncompressedSize);
          start = entry.uncompressedSize - length;
        } else {
          start = range.offset;
          length = range.length;
          if (start + length > entry.uncompressedSize) throw new TensioError('TRUNCATED', `zarr: range ${start}+${length} runs past member ${JSON.stringify(prefix + key)} (${entry.uncompressedSize} bytes)`, { format: 'zarr' });
        }
      }
      if (entry.method === 0) {
        const at = await archive.dataOffset(entry, signal ? { signal } : {});
        return archive.source.read(at + start, length, signal ? { signal } : undefined);
      }
      const whole = await archive.readEntry(entry, { ...(signal ? { signal } : {}), checkCrc: true });
      return whole.subarray(start, start + length);
    },
    async open() {
      return refuse();
    },
    write: async () => refuse(),
    sink: async () => refuse(),
    delete: async () => refuse(),
    async close() {
      await archive.source.close?.();
    },
  };
}
