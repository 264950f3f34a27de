/**
 * Every registered format that can write, each given a file of [256, 256] tensors of every
 * element dtype it holds (64 KiB and up, so mapping applies): the inputs of the mapped-read
 * equality tests (test/read-each.test.ts).
 */
import { join } from 'node:path';
import { BUILT_IN_FORMATS, DTYPES, type DType, type Tensor } from '../../src/index.js';
import { isBlockDType } from '../../src/core/block-dtypes.js';
import { itemSize } from '../../src/core/dtype.js';
import { writeWithFormat } from './cli.js';

/** Bytes that differ per position and per seed (bool gets 0/1, its only valid values). */
function seededBytes(length: number, dtype: DType, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = ((i * 131 + seed * 7919 + (i >>> 8)) & 0xff) & (dtype === 'bool' ? 1 : 0xff);
  return bytes;
}

/** Every element dtype a format's writer holds, as [256, 256] tensors (64 KiB and up, so mapping applies). */
export function sampleTensors(dtypes: readonly DType[]): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  dtypes.forEach((dtype, index) => {
    const size = itemSize(dtype)!;
    tensors[`t_${dtype}`] = { dtype, shape: [256, 256], data: seededBytes(256 * 256 * size, dtype, index + 1) };
  });
  return tensors;
}

/** Formats whose bytes on disk are the tensor's bytes when tensio writes them: these must map. */
export const MAPPED_FORMATS = new Set(['safetensors', 'npy', 'npz', 'pytorch', 'zt', 'gguf', 'npk']);

export interface Written {
  format: string;
  path: string;
  tensors: Record<string, Tensor>;
}

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
