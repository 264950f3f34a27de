/**
 * Every registered format that can write, each given a file of [256, 256] tensors of every
 * element dtype it holds (64 KiB and up, so mapping applies): the inputs of the mapped-read
 * equality tests (test/mmap.test.ts, test/read-each.test.ts).
 */
import { join } from 'node:path';
import { BUILT_IN_FORMATS, DTYPES, type DType, type Tensor } from '../../src/index.js';
import { isBlockDType } from '../../src/core/block-dtypes.js';
import { itemSize } from '../../src/core/dtype.js';
import { writeWithFormat } from './cli.js';
import { patternTensor } from './patterns.js';

/** Every element dtype a format's writer holds, as [256, 256] tensors (64 KiB and up, so mapping applies). */
export function sampleTensors(dtypes: readonly DType[]): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  dtypes.forEach((dtype, index) => {
    tensors[`t_${dtype}`] = patternTensor(dtype, [256, 256], index + 1);
  });
  return tensors;
}

/** Formats whose bytes on disk are the tensor's bytes when tensio writes them: these must map. */
export const MAPPED_FORMATS = new Set(['safetensors', 'npy', 'npz', 'pytorch', 'zt', 'gguf', 'npk']);

/** One file `writeEveryFormat` wrote: its format, path and the tensors in it. */
export interface Written {
  format: string;
  path: string;
  tensors: Record<string, Tensor>;
}

/** Writes one sample file per writable format into `dir` (several for one-tensor formats); `notes` says which writes failed and why. */
export async function writeEveryFormat(dir: string): Promise<{ written: Written[]; notes: string[] }> {
  const written: Written[] = [];
  const notes: string[] = [];
  for (const format of BUILT_IN_FORMATS) {
    if (!format.createWriter) continue;
    const dtypes = DTYPES.filter((dtype) => !isBlockDType(dtype) && itemSize(dtype) !== undefined && !format.cannotWrite?.({ name: 'x', dtype, shape: [256, 256] }));
    const all = sampleTensors(dtypes);
    const groups = format.capabilities.tensors === 'one' ? Object.entries(all).map(([name, tensor]) => ({ [name]: tensor })) : [all];
    for (const [index, tensors] of groups.entries()) {
      const path = join(dir, `sample-${index}${format.extensions[0] ?? `.${format.name}`}`);
      try {
        await writeWithFormat(format.name, path, tensors);
        written.push({ format: format.name, path, tensors });
      } catch (error) {
        notes.push(`${format.name}: ${(error as Error).message}`);
      }
    }
  }
  return { written, notes };
}
