/**
 * The `.npy` {@link TensorWriter} that `convert` uses: a plan of exactly one tensor.
 */
import { errorFactory } from '../../core/errors.js';
import type { TensorBytes, TensorWriter, WriterOptions } from '../../model/types.js';
import { atomicFileSink } from '../../storage/atomic-file-sink.js';
import type { ByteSink } from '../../storage/byte-sink.js';
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
export async function npyCreateWriter(target: string | ByteSink, options: WriterOptions & { npy?: NpyWriteOptions }): Promise<TensorWriter> {
  if (options.tensors.length !== 1) {
    fail('INVALID_ARGUMENT', `npy: a .npy file holds exactly one array, the plan has ${options.tensors.length}; write a .npz to keep several`);
  }
  const spec = options.tensors[0]!;
  npyDataBytes(spec); // refuse dtypes numpy cannot hold before any file exists
  const sink = typeof target === 'string' ? await atomicFileSink(target, { noOverwrite: options.overwrite === false }) : target;
  let state: 'open' | 'written' | 'closed' | 'aborted' = 'open';
  return {
    format: 'npy',
    order: [spec.name],
    async add(name: string, data: TensorBytes, addOptions?: { signal?: AbortSignal }) {
      if (state !== 'open') fail('INVALID_STATE', `npy: cannot add to a writer that is ${state}`);
      if (name !== spec.name) fail('NOT_FOUND', `npy: ${JSON.stringify(name)} is not the planned tensor ${JSON.stringify(spec.name)}`);
      state = 'written';
      for await (const chunk of npyChunks(spec, data, { ...options.npy, ...(addOptions?.signal ? { signal: addOptions.signal } : {}) })) await sink.write(chunk);
    },
    async close() {
      if (state !== 'written') fail('INVALID_STATE', state === 'open' ? `npy: tensor ${JSON.stringify(spec.name)} was never added` : `npy: writer is ${state}`);
      await sink.close();
      state = 'closed';
    },
    async abort() {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      await sink.abort();
    },
  };
}
