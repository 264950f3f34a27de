/**
 * The one place tensio talks to libhdf5: h5wasm's Node build (HDF5 2.0 compiled to
 * WebAssembly, its file system mapped onto the real one, so files are read with
 * positional reads, never loaded whole). Loaded on first use only (the registry entry
 * is lazy), with libhdf5's error stack turned into thrown errors instead of text on
 * stderr, and every error turned into a {@link TensioError}.
 */
import { TensioError, type TensioErrorCode } from '../../core/errors.js';
import type { EmscriptenFs } from './device-file.js';
import { installHdf5PluginsInMemory, installHdf5PluginsOnDisk, type H5PluginHost } from './plugins.js';
import type { Hdf5DatasetMetadata, Hdf5Filter } from './types.js';

/** The h5wasm functions tensio calls (a narrow view of its Emscripten module). */
export interface H5Module extends H5PluginHost {
  activate_throwing_error_handler(): number;
  get_names(fileId: bigint, path: string, recursive: boolean): string[];
  get_type(fileId: bigint, path: string): number;
  get_symbolic_link(fileId: bigint, path: string): string | null;
  get_external_link(fileId: bigint, path: string): { filename?: string; obj_path?: string };
  get_dataset_metadata(fileId: bigint, path: string): Hdf5DatasetMetadata;
  get_dataset_filters(fileId: bigint, path: string): Hdf5Filter[];
  get_dataset_data(fileId: bigint, path: string, count: bigint[] | null, offset: bigint[] | null, strides: bigint[] | null, pointer: bigint): number;
  get_attribute_names(fileId: bigint, path: string): string[];
  get_attribute_metadata(fileId: bigint, path: string, name: string): Hdf5DatasetMetadata;
  /** An HDF5 object reference (`hobj_ref_t`): the object header's address relative to the base address, its 8 bytes little-endian. */
  create_object_reference(fileId: bigint, path: string): ArrayLike<number>;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  readonly HEAPU8: Uint8Array;
}

/** An open HDF5 file (h5wasm's `File`, the part tensio uses). */
export interface H5File {
  readonly file_id: bigint;
  get(path: string): { attrs?: Record<string, { json_value: unknown }> } | null;
  close(): number;
}

/** The loaded library. */
export interface H5Library {
  readonly module: H5Module;
  openFile(path: string): H5File;
  /** Ids of the plugin filters (LZF, LZ4, bitshuffle) this library decodes besides its built-in ones. */
  readonly pluginFilters: ReadonlySet<number>;
}

/** The library built with an in-memory file system, where tensio mounts range-read files. */
export interface H5MemoryLibrary extends H5Library {
  readonly fs: EmscriptenFs;
}

let loading: Promise<H5Library> | undefined;

/**
 * Loads h5wasm once per process (about 200 ms), switches libhdf5 to throwing errors and
 * puts h5wasm-plugins' folder on its plugin path (a plugin is loaded on first use).
 *
 * @example
 * ```ts
 * const { module, openFile } = await hdf5Library();
 * ```
 */
export function hdf5Library(): Promise<H5Library> {
  loading ??= (async () => {
    const h5wasm = (await import('h5wasm/node')) as unknown as {
      ready: Promise<H5Module>;
      File: new (path: string, mode: string) => H5File;
    };
    const module = await h5wasm.ready;
    module.activate_throwing_error_handler();
    return { module, pluginFilters: installHdf5PluginsOnDisk(module), openFile: (path: string) => new h5wasm.File(path, 'r') };
  })().catch((error: unknown) => {
    loading = undefined;
    throw new TensioError('UNSUPPORTED_FEATURE', `hdf5: cannot load h5wasm (${(error as Error).message}); it is a dependency of tensio: reinstall the package`, { format: 'hdf5', cause: error });
  });
  return loading;
}

let loadingInMemory: Promise<H5MemoryLibrary> | undefined;

/**
 * Loads h5wasm's other build once per thread: the same libhdf5 over Emscripten's
 * in-memory file system instead of the real one (about 70 ms), for files mounted with
 * `mountRangeFile` (any source, read by range). Used by the worker of `remote.ts`, which
 * passes `readPluginLibrary` (a local file read) so the plugin filters are copied in; a
 * browser's worker has none and decodes only the built-in filters. The first call of the
 * thread decides.
 *
 * @example
 * ```ts
 * const { module, fs, openFile } = await hdf5LibraryInMemory((path) => readFileSync(path));
 * ```
 */
export function hdf5LibraryInMemory(readPluginLibrary?: (path: string) => Uint8Array): Promise<H5MemoryLibrary> {
  loadingInMemory ??= (async () => {
    const h5wasm = (await import('h5wasm')) as unknown as {
      ready: Promise<H5Module & { FS: EmscriptenFs }>;
      File: new (path: string, mode: string) => H5File;
    };
    const module = await h5wasm.ready;
    module.activate_throwing_error_handler();
    const pluginFilters = readPluginLibrary ? installHdf5PluginsInMemory(module, readPluginLibrary) : new Set<number>();
    return { module, fs: module.FS, pluginFilters, openFile: (path: string) => new h5wasm.File(path, 'r') };
  })().catch((error: unknown) => {
    loadingInMemory = undefined;
    throw new TensioError('UNSUPPORTED_FEATURE', `hdf5: cannot load h5wasm (${(error as Error).message}); it is a dependency of tensio: reinstall the package`, { format: 'hdf5', cause: error });
  });
  return loadingInMemory;
}

/**
 * The lines of a libhdf5 error stack worth showing: `H5Dread(): can't read data`, …,
 * most specific last, at most three.
 */
function summarizeHdf5Error(text: string): string {
  const steps = [...text.matchAll(/in (\w+)\(\): ([^\n]+)/g)].map((m) => `${m[1]}(): ${m[2]!.trim()}`);
  const minor = [...text.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1]!.trim());
  const last = steps.slice(-3);
  if (last.length === 0) return text.split('\n')[0]!.slice(0, 300);
  return `${last.join(' ← ')}${minor.length ? ` (${minor[minor.length - 1]})` : ''}`;
}

/** The code for a libhdf5 failure, from its error stack. */
function codeOf(text: string): TensioErrorCode {
  if (/checksum|fletcher/i.test(text)) return 'CHECKSUM_MISMATCH';
  if (/filter.*(not registered|not available|can't be found|unable to load)|required filter/i.test(text)) return 'UNSUPPORTED_FILTER';
  if (/truncated|file size|eof|end of file|addr overflow|address.*past/i.test(text)) return 'TRUNCATED';
  if (/signature|not an hdf5 file|unable to find a valid file signature/i.test(text)) return 'BAD_MAGIC';
  return 'INVALID_HEADER';
}

/**
 * Runs one libhdf5 call; a failure becomes a {@link TensioError} saying what was being
 * done (`what`), the code read off libhdf5's error stack, and its last steps. A
 * WebAssembly abort (the library's own assertion) is `IO_ERROR`: the library is
 * unusable for the rest of the process.
 *
 * @example
 * ```ts
 * const names = hdf5Call('listing group /data', () => module.get_names(fileId, '/data', false));
 * ```
 */
export function hdf5Call<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw hdf5Error(what, error);
  }
}

/** The {@link TensioError} for a failed libhdf5 call (see {@link hdf5Call}). */
export function hdf5Error(what: string, error: unknown): TensioError {
  if (error instanceof TensioError) return error;
  if (error instanceof Error && error.name === 'RuntimeError') {
    return new TensioError('IO_ERROR', `hdf5: libhdf5 aborted while ${what} (${error.message}); restart the process before reading more HDF5 files`, { format: 'hdf5', cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new TensioError(codeOf(text), `hdf5: ${what}: ${summarizeHdf5Error(text)}`, { format: 'hdf5', cause: error });
}
