/**
 * Writing `.npz`: each array streams through the zip writer as one `<key>.npy` member
 * (stored like `np.savez`, or deflated like `np.savez_compressed`), one member at a
 * time, so memory stays at one chunk whatever the file size.
 */
import { errorFactory } from '../../core/errors.js';
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import type { TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { zipCreateWriter } from '../../zip/write.js';
import { npyCannotWrite } from '../npy/dtypes.js';
import { npyChunks, npyFileBytes, type NpyWriteInput } from '../npy/write.js';
import type { NpzWriteOptions } from './types.js';
import { npzMemberName } from './validate.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('npz');

/**
 * Creates a writer for a `.npz` holding the planned arrays (keys are the tensor names).
 * Refuses dtypes numpy has no descr for and unsafe keys before any file exists.
 *
 * @example
 * ```ts
 * const writer = await npzCreateWriter('out.npz', { tensors: plan, compress: true });
 * for (const name of writer.order) await writer.add(name, bytesOf(name));
 * await writer.close();
 * ```
 */
export async function npzCreateWriter(target: WriteTarget, options: Pick<WriterOptions, 'tensors' | 'overwrite'> & NpzWriteOptions): Promise<TensorWriter> {
  plannedWriterCheckPlan('npz', options.tensors);
  for (const spec of options.tensors) {
    const reason = npyCannotWrite(spec.dtype);
    if (reason) fail('UNSUPPORTED_DTYPE', `npz: cannot hold ${quoteInput(spec.name)}: ${reason}`);
    npzMemberName(spec.name);
    npyFileBytes(spec); // checks the shape
  }
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  const zip = zipCreateWriter(sink, { format: 'npz' });
  return createPlannedWriter({
    format: 'npz',
    order: options.tensors,
    async writeTensor(spec, chunks, addSignal) {
      const signal = addSignal ?? options.signal;
      await zip.add(npzMemberName(spec.name), npyChunks(spec, chunks, signal ? { signal } : {}), {
        method: options.compress ? 'deflate' : 'store',
        size: npyFileBytes(spec),
        ...(signal ? { signal } : {}),
      });
    },
    publish: () => zip.close(),
    discard: () => zip.abort(),
  });
}

/**
 * Writes arrays to a `.npz` (atomically, for a path; a sink is closed at the end).
 * Arrays are written in the order given.
 *
 * @example
 * ```ts
 * await npzWrite('arrays.npz', { x: createTensor('float32', [2], new Float32Array([1, 2])) }, { compress: true });
 * ```
 */
export async function npzWrite(target: WriteTarget, arrays: Readonly<Record<string, NpyWriteInput>> | ReadonlyArray<readonly [string, NpyWriteInput]>, options: NpzWriteOptions = {}): Promise<void> {
  const list = Array.isArray(arrays) ? (arrays as ReadonlyArray<readonly [string, NpyWriteInput]>) : Object.entries(arrays as Record<string, NpyWriteInput>);
  const writer = await npzCreateWriter(target, { ...options, tensors: list.map(([name, array]) => ({ name, dtype: array.dtype, shape: array.shape })) });
  try {
    for (const [name, array] of list) await writer.add(name, array.data);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
