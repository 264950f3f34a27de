/**
 * Writing `.npz`: each array streams through the zip writer as one `<key>.npy` member
 * (stored like `np.savez`, or deflated like `np.savez_compressed`), one member at a
 * time, so memory stays at one chunk whatever the file size.
 */
import { errorFactory } from '../../core/errors.js';
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import type { Metadata, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { tensorByteLength } from '../../core/sizes.js';
import { byteSplitter } from '../../storage/byte-splitter.js';
import { SCIPY_FORMAT_KEY, scipyMemberPlan, type ScipyMemberPlan } from './scipy-sparse.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { zipCreateWriter } from '../../zip/write.js';
import { npyCannotWrite } from '../npy/dtypes.js';
import { npyChunks, npyFileBytes, npyHeaderBytesForDescr, type NpyWriteInput } from '../npy/write.js';
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
export async function npzCreateWriter(target: WriteTarget, options: Pick<WriterOptions, 'tensors' | 'overwrite' | 'metadata'> & NpzWriteOptions): Promise<TensorWriter> {
  plannedWriterCheckPlan('npz', options.tensors);
  const sparse = options.tensors.find((spec) => spec.layout);
  const scipy = sparse ? scipyPlanOf(sparse, options.tensors.length, options.metadata) : undefined;
  for (const spec of scipy ? scipy.members.map((member) => member.spec) : options.tensors) {
    const reason = npyCannotWrite(spec.dtype);
    if (reason) fail('UNSUPPORTED_DTYPE', `npz: cannot hold ${quoteInput(spec.name)}: ${reason}`);
    npzMemberName(spec.name);
    npyFileBytes(spec); // checks the shape
  }
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  const zip = zipCreateWriter(sink, { format: 'npz' });
  const method = options.compress ? 'deflate' : 'store';
  /** One `.npy` member, its data streamed. */
  const addMember = (spec: TensorSpec, chunks: AsyncIterable<Uint8Array> | Uint8Array, signal: AbortSignal | undefined) =>
    zip.add(npzMemberName(spec.name), npyChunks(spec, chunks, signal ? { signal } : {}), { method, size: npyFileBytes(spec), ...(signal ? { signal } : {}) });
  return createPlannedWriter({
    format: 'npz',
    order: options.tensors,
    byteLength: (spec) => (spec.parts ? spec.parts.reduce((sum, part) => sum + part.byteLength, 0) : tensorByteLength(spec.dtype, spec.shape, 'npz')),
    async writeTensor(spec, chunks, addSignal) {
      const signal = addSignal ?? options.signal;
      if (!scipy) return addMember(spec, chunks, signal);
      // The sparse matrix as scipy.sparse.save_npz writes it: its parts (in arrival order), then format and shape.
      const split = byteSplitter(chunks);
      for (const member of scipy.members) {
        if (member.from) await addMember(member.spec, split.take(member.from.length), signal);
      }
      await split.drain();
      const name = new TextEncoder().encode(scipy.formatName);
      const header = npyHeaderBytesForDescr(`|S${name.byteLength}`, []);
      const formatBytes = new Uint8Array(header.byteLength + name.byteLength);
      formatBytes.set(header);
      formatBytes.set(name, header.byteLength);
      await zip.add(npzMemberName(SCIPY_FORMAT_KEY), [formatBytes], { method, size: formatBytes.byteLength, ...(signal ? { signal } : {}) });
      for (const member of scipy.members) {
        if (member.bytes) await addMember(member.spec, member.bytes, signal);
      }
    },
    publish: () => zip.close(),
    discard: () => zip.abort(),
  });
}

/** The SciPy members of the one sparse tensor of a plan; refuses plans SciPy cannot load. */
function scipyPlanOf(spec: TensorSpec, planned: number, metadata: Metadata | undefined): { members: ScipyMemberPlan[]; formatName: string } {
  if (planned !== 1) {
    return fail('INVALID_ARGUMENT', `npz: a sparse tensor is written as scipy.sparse.save_npz writes it, one matrix per file, and the plan holds ${planned} tensors; write ${quoteInput(spec.name)} alone (--tensors), write .zt, or densify`);
  }
  const plan = scipyMemberPlan(spec, metadata);
  if ('refused' in plan) return fail('UNSUPPORTED_FEATURE', `npz: cannot hold ${quoteInput(spec.name)}: ${plan.refused}`);
  const order = spec.parts!.map((part) => part.name).join(', ');
  const sequence = plan.members.filter((member) => member.from).map((member) => member.from!.part);
  if ([...new Set(sequence)].join(', ') !== order) fail('INVALID_ARGUMENT', `npz: the parts of ${quoteInput(spec.name)} (${order}) do not map onto SciPy's members`);
  return plan;
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
