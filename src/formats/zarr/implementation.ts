/**
 * The heavy half of the Zarr registry entry, imported on first use (`lazyFormat`):
 * open, write and folder sniffing.
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { folderStore } from '../../storage/folder-store.js';
import { zarrOpen } from './reader.js';
import { zarrCreateWriter } from './write.js';

/** True when a folder holds a Zarr root (`zarr.json`, `.zgroup`, `.zarray` or `.zmetadata`). */
export async function zarrIsStore(path: string): Promise<boolean> {
  const store = folderStore(path);
  for (const key of ['zarr.json', '.zgroup', '.zarray', '.zmetadata']) if (await store.has(key).catch(() => false)) return true;
  return false;
}

/** What the lazy `zarr` entry loads. */
export const zarrImplementation: FormatImplementation = {
  open: (input, options) => zarrOpen(input, options),
  createWriter: zarrCreateWriter,
  sniffFolder: zarrIsStore,
};
