/**
 * tensio operations as the benchmarks time them, written against the model seam
 * (`getFormat(...).createWriter`, `openTensorFile`, `reader.read` / `reader.stream`) so
 * they work for every format and do not depend on each format's helper names.
 */
import type { DType, TensorSpec, TensorWriter } from '../../src/index.js';
import type { TensioModule } from './context.js';
import { timeIt } from './timing.js';

/** A tensor to write: spec plus the chunks the writer receives. */
export interface WritePlanEntry {
  name: string;
  dtype: string;
  shape: readonly number[];
  chunks: readonly Uint8Array[];
}

/** Creates a writer for a plan: the registry's `createWriter`, or a format's own factory with extra options. */
export type WriterFactory = (path: string, specs: readonly TensorSpec[]) => Promise<TensorWriter>;

/**
 * The registry's writer for `format` (what `convert` and the CLI use; durable by default).
 *
 * @example
 * ```ts
 * const factory = registryWriterFactory(tensio, 'npy');
 * ```
 */
export function registryWriterFactory(tensio: TensioModule, format: string, formatOptions?: Record<string, unknown>): WriterFactory {
  return (path, specs) => tensio.getFormat(format).createWriter!(path, { tensors: specs, overwrite: true, ...(formatOptions ? { formatOptions } : {}) });
}

/**
 * Writes the plan with a streaming writer (each tensor given as its chunks), close
 * included (publishing is part of a write). Returns seconds.
 *
 * @example
 * ```ts
 * const seconds = await tensioStreamWrite(registryWriterFactory(tensio, 'safetensors'), out, plan);
 * ```
 */
export async function tensioStreamWrite(create: WriterFactory, path: string, plan: readonly WritePlanEntry[]): Promise<number> {
  const byName = new Map(plan.map((entry) => [entry.name, entry.chunks]));
  const specs: TensorSpec[] = plan.map(({ name, dtype, shape }) => ({ name, dtype: dtype as DType, shape }));
  return timeIt(async () => {
    const writer = await create(path, specs);
    try {
      for (const name of writer.order) await writer.add(name, byName.get(name)!);
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  });
}

/**
 * Opens the file and reads every tensor with `reader.read` (owned tensors, kept until the
 * end of the timing as a loader would). Throws when the bytes read differ from `expectedBytes`.
 *
 * @example
 * ```ts
 * const seconds = await tensioReadAll(tensio, path, 2 ** 30);
 * ```
 */
export async function tensioReadAll(tensio: TensioModule, path: string, expectedBytes: number, format?: string): Promise<number> {
  let bytes = 0;
  const kept: unknown[] = [];
  const seconds = await timeIt(async () => {
    const reader = await tensio.openTensorFile(path, format ? { format } : {});
    try {
      for (const info of reader.tensors) {
        const tensor = await reader.read(info.name);
        bytes += tensor.data.byteLength;
        kept.push(tensor);
      }
    } finally {
      await reader.close();
    }
  });
  kept.length = 0;
  if (bytes !== expectedBytes) throw new Error(`read ${bytes} bytes, expected ${expectedBytes}`);
  return seconds;
}

/**
 * Opens the file and streams every tensor through one reused buffer (`reuseBuffer: true`,
 * 8 MiB chunks). Throws when the bytes streamed differ from `expectedBytes`.
 *
 * @example
 * ```ts
 * const seconds = await tensioStreamAll(tensio, path, 2 ** 30);
 * ```
 */
export async function tensioStreamAll(tensio: TensioModule, path: string, expectedBytes: number, format?: string): Promise<number> {
  let bytes = 0;
  const seconds = await timeIt(async () => {
    const reader = await tensio.openTensorFile(path, format ? { format } : {});
    try {
      for (const info of reader.tensors) {
        for await (const chunk of reader.stream(info.name, { reuseBuffer: true })) bytes += chunk.byteLength;
      }
    } finally {
      await reader.close();
    }
  });
  if (bytes !== expectedBytes) throw new Error(`streamed ${bytes} bytes, expected ${expectedBytes}`);
  return seconds;
}

/**
 * Tensor count and total bytes of a file as tensio lists them (a sanity check of written output).
 *
 * @example
 * ```ts
 * const { tensors, bytes } = await tensioListing(tensio, out);
 * ```
 */
export async function tensioListing(tensio: TensioModule, path: string): Promise<{ tensors: number; bytes: number }> {
  const reader = await tensio.openTensorFile(path);
  try {
    return { tensors: reader.tensors.length, bytes: reader.tensors.reduce((sum, info) => sum + info.byteLength, 0) };
  } finally {
    await reader.close();
  }
}
