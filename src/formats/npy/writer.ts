/**
 * The `.npy` {@link TensorWriter} that `convert` uses: a plan of exactly one tensor.
 */
import { errorFactory } from '../../core/errors.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import type { TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import type { NpyWriteOptions } from './types.js';
import { npyChunks, npyDataBytes } from './write.js';

const fail = errorFactory('npy');

/**
 * Creates a writer for a `.npy` file. The plan must hold one tensor (`INVALID_ARGUMENT`
 * otherwise: several arrays go in a `.npz`).
 *
 * @example
 * ```ts
 * const writer = await npyCreateWriter('x.npy', { tensors: [{ name: 'x', dtype: 'float32', shape: [4] }] });
 * await writer.add('x', bytes);
 * await writer.close();
 * ```
 */
export async function npyCreateWriter(target: WriteTarget, options: WriterOptions & { npy?: NpyWriteOptions }): Promise<TensorWriter> {
  if (options.tensors.length !== 1) {
    fail('INVALID_ARGUMENT', `npy: a .npy file holds exactly one array, the plan has ${options.tensors.length}; write a .npz to keep several`);
  }
  const spec = options.tensors[0]!;
  npyDataBytes(spec); // refuse dtypes numpy cannot hold before any file exists
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  return createPlannedWriter({
    format: 'npy',
    order: [spec],
    async writeTensor(planned, chunks, signal) {
      for await (const chunk of npyChunks(planned, chunks, { ...options.npy, ...(signal ? { signal } : {}) })) await sink.write(chunk);
    },
    publish: () => sink.close(),
    discard: () => sink.abort(),
  });
}
