/**
 * Formats whose implementation needs a heavy library (Arrow, Parquet, HDF5, Zarr, an S3
 * SDK) stay cheap to list: the registry entry holds only what detection and planning
 * need (name, extensions, capabilities, `sniff`), and the implementation module is
 * imported the first time a file is opened, written or verified. `import('tensio')`
 * then never loads the library.
 */
import { bindWriteTarget } from './write-target-binder.js';
import type { TensorFormat } from './types.js';

/** What a lazily loaded implementation provides. */
export type FormatImplementation = Pick<TensorFormat, 'open' | 'createWriter' | 'verify' | 'sniffFolder' | 'listPickleGlobals' | 'editMetadata'>;

/** The cheap part of a lazy format, plus which operations its implementation has. */
export type LazyFormatDescriptor = Omit<TensorFormat, 'open' | 'createWriter' | 'verify' | 'sniffFolder' | 'listPickleGlobals' | 'editMetadata'> & {
  /** Which operations the implementation provides (so `format.open` etc. exist before it loads). */
  readonly provides: { open?: boolean; write?: boolean; verify?: boolean; folders?: boolean; pickles?: boolean; edit?: boolean };
};

/**
 * A {@link TensorFormat} whose `open`, `createWriter`, `verify`, `sniffFolder`,
 * `listPickleGlobals` and `editMetadata` import
 * the implementation on first use (once; concurrent first uses share the import).
 *
 * @example
 * ```ts
 * export const parquetFormat = lazyFormat({ name: 'parquet', extensions: ['.parquet'], capabilities, sniff: parquetSniff,
 *   provides: { open: true } }, async () => (await import('./parquet/implementation.js')).parquetImplementation);
 * ```
 */
export function lazyFormat(descriptor: LazyFormatDescriptor, load: () => Promise<FormatImplementation>): TensorFormat {
  let loading: Promise<FormatImplementation> | undefined;
  const implementation = (): Promise<FormatImplementation> => (loading ??= load().catch((error: unknown) => {
    loading = undefined; // a failed import (missing optional dependency) may be retried
    throw error;
  }));
  const { provides, ...cheap } = descriptor;
  const missing = (what: string): never => {
    throw new Error(`${descriptor.name}: the implementation does not provide ${what}, although the descriptor says it does`);
  };
  return {
    ...cheap,
    ...(provides.open ? { open: async (input, options) => ((await implementation()).open ?? missing('open'))(input, options) } : {}),
    ...(provides.write ? { createWriter: async (path, options) => ((await implementation()).createWriter ?? missing('createWriter'))(await bindWriteTarget(path, options.s3), options) } : {}),
    ...(provides.verify ? { verify: async (input, options) => ((await implementation()).verify ?? missing('verify'))(input, options) } : {}),
    ...(provides.folders ? { sniffFolder: async (path) => ((await implementation()).sniffFolder ?? missing('sniffFolder'))(path) } : {}),
    ...(provides.pickles ? { listPickleGlobals: async (input, options) => ((await implementation()).listPickleGlobals ?? missing('listPickleGlobals'))(input, options) } : {}),
    ...(provides.edit ? { editMetadata: async (path, edits, options) => ((await implementation()).editMetadata ?? missing('editMetadata'))(path, edits, options) } : {}),
  };
}
