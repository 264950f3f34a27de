/**
 * Reads of datasets behind a plugin filter (LZF, LZ4, bitshuffle) from a local file,
 * kept away from the process's own libhdf5: they run in a worker thread (`remote.ts`)
 * started on the first such read. The plugins are third-party C compiled to
 * WebAssembly, and on some corrupt chunks they abort (LZF's error path calls a missing
 * symbol; bitshuffle reads out of bounds on a wrong length): an abort leaves that
 * libhdf5 instance unusable, so it must not be the one every other HDF5 file uses. After
 * a failed read the worker is dropped and the next read starts a fresh one.
 */
import { TensioError } from '../../core/errors.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { Hdf5DatasetPlan } from './describe.js';
import type { BandRead } from './reader.js';
import type { Hdf5WorkerSession } from './remote.js';

/** The plugin reads of one open file: a band reader per plan, and `close`. */
export interface Hdf5PluginReads {
  readerFor(plan: Hdf5DatasetPlan): BandRead;
  close(): Promise<void>;
}

/**
 * Plugin reads of the file `name` from `source` (the caller's; it stays open until the
 * caller closes it, after {@link Hdf5PluginReads.close}). Each failure is a {@link TensioError}; an abort inside the worker becomes
 * `INVALID_HEADER` naming the dataset (a corrupt compressed chunk). After any failure
 * the worker is ended.
 *
 * @example
 * ```ts
 * const plugins = hdf5PluginReads('data.h5', await fileSource('data.h5'));
 * const band = await plugins.readerFor(plan)(null, null, bytes);
 * ```
 */
export function hdf5PluginReads(name: string, source: ByteSource): Hdf5PluginReads {
  let session: Promise<Hdf5WorkerSession> | undefined;
  const start = async (): Promise<Hdf5WorkerSession> => {
    const { startHdf5Worker } = await import('./remote.js');
    return startHdf5Worker(source);
  };
  const drop = async (dead: Promise<Hdf5WorkerSession>): Promise<void> => {
    if (session === dead) session = undefined;
    await (await dead).stop().catch(() => undefined);
  };
  return {
    readerFor: (plan) => async (offset, count, bytes) => {
      const current = (session ??= start());
      try {
        return await (await current).call<Uint8Array>({ call: 'read', plan, offset, count, bytes });
      } catch (error) {
        // A plugin that failed may have left that libhdf5 unwound half-way (an abort, or a
        // JavaScript error through its frames): the next read starts a fresh worker.
        await drop(current);
        if (error instanceof TensioError && error.code !== 'IO_ERROR') throw error;
        throw new TensioError('INVALID_HEADER', `hdf5: a compressed chunk of ${plan.path} in ${name} could not be decoded (${(error as Error).message.replace(/; restart the process.*$/, '')}); the chunk is corrupt`, { format: 'hdf5', cause: error });
      }
    },
    close: async () => {
      const current = session;
      session = undefined;
      if (current) await (await current).stop().catch(() => undefined);
    },
  };
}
