/**
 * Third-party HDF5 filters through h5wasm-plugins: libhdf5 filter plugins (LZF, LZ4,
 * bitshuffle) compiled by the h5wasm authors as WebAssembly side modules, which
 * libhdf5 loads from a folder on its plugin search path the first time a dataset needs
 * one. Without the package (or where no file system reaches it, as in a browser) the
 * filters stay unreadable and their datasets are refused with `UNSUPPORTED_FILTER`.
 * No Node import here: the caller that can read files hands the reading function in.
 */

/** The plugins tensio installs, by HDF5 filter id: the filter's name and its library in h5wasm-plugins' `plugins/` folder. */
export const HDF5_PLUGIN_FILTERS: Readonly<Record<number, { readonly name: string; readonly library: string }>> = Object.freeze({
  32000: { name: 'lzf', library: 'libH5Zlzf.so' },
  32004: { name: 'lz4', library: 'libH5Zlz4.so' },
  32008: { name: 'bitshuffle', library: 'libH5Zbshuf.so' },
});

/** The parts of h5wasm's module the plugins need. */
export interface H5PluginHost {
  insert_plugin_search_path(path: string, index: number): number;
  readonly FS: {
    analyzePath(path: string): { exists: boolean };
    mkdirTree(path: string): unknown;
    writeFile(path: string, data: Uint8Array): void;
  };
}

/** Where libhdf5 finds the plugins in the in-memory file system (a folder of its own). */
const MEMORY_FOLDER = '/tensio-hdf5-plugins';

/**
 * The `plugins/` folder of the installed h5wasm-plugins package as a local path, or
 * `undefined` when the package is not installed (or modules are not files here).
 */
export function hdf5PluginFolder(): string | undefined {
  try {
    const main = new URL(import.meta.resolve('h5wasm-plugins'));
    if (main.protocol !== 'file:') return undefined;
    return decodeURIComponent(new URL('./plugins', main).pathname);
  } catch {
    return undefined;
  }
}

/**
 * Puts the plugin folder on libhdf5's search path for h5wasm's Node build (its file
 * system is the real one) and returns the filter ids now decodable: those whose library
 * is there. libhdf5 loads a plugin only when a dataset needs its filter.
 *
 * @example
 * ```ts
 * const ids = installHdf5PluginsOnDisk(module); // Set { 32000, 32004, 32008 }
 * ```
 */
export function installHdf5PluginsOnDisk(module: H5PluginHost): Set<number> {
  const folder = hdf5PluginFolder();
  const ids = new Set<number>();
  if (!folder) return ids;
  for (const [id, plugin] of Object.entries(HDF5_PLUGIN_FILTERS)) {
    if (module.FS.analyzePath(`${folder}/${plugin.library}`).exists) ids.add(Number(id));
  }
  if (ids.size > 0) module.insert_plugin_search_path(folder, 0);
  return ids;
}

/**
 * Copies the plugin libraries into h5wasm's in-memory file system (its other build, in
 * tensio's worker thread) with `readLibrary` (a local file read) and puts their folder on
 * libhdf5's search path. Returns the filter ids installed; none when the package is
 * missing or a library cannot be read.
 *
 * @example
 * ```ts
 * const ids = installHdf5PluginsInMemory(module, (path) => readFileSync(path));
 * ```
 */
export function installHdf5PluginsInMemory(module: H5PluginHost, readLibrary: (path: string) => Uint8Array): Set<number> {
  const folder = hdf5PluginFolder();
  const ids = new Set<number>();
  if (!folder) return ids;
  module.FS.mkdirTree(MEMORY_FOLDER);
  for (const [id, plugin] of Object.entries(HDF5_PLUGIN_FILTERS)) {
    let bytes: Uint8Array;
    try {
      bytes = readLibrary(`${folder}/${plugin.library}`);
    } catch {
      continue;
    }
    module.FS.writeFile(`${MEMORY_FOLDER}/${plugin.library}`, bytes);
    ids.add(Number(id));
  }
  if (ids.size > 0) module.insert_plugin_search_path(MEMORY_FOLDER, 0);
  return ids;
}
