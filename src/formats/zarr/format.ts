/**
 * The `zarr` entry of the format registry. Cheap to import: detection and planning only;
 * the reader, writer and codec libraries load on first use (`implementation.ts`).
 */
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import type { DType } from '../../core/dtype.js';
import { lazyFormat } from '../../model/lazy-format.js';
import type { TensorFormat, TensorSpec, SniffProbe } from '../../model/types.js';
import { zarrV2Dtype, zarrV3Dtype } from './dtypes.js';

/** Dtypes the Zarr writer holds (v2 lacks bfloat16; v3 has it). */
export const ZARR_DTYPES: readonly DType[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'bfloat16', 'float32', 'float64', 'complex64', 'complex128'];

/** Why Zarr cannot hold a tensor of this spec, or undefined. */
export function zarrCannotWrite(spec: TensorSpec): string | undefined {
  const block = blockDTypeRefusal(spec.dtype, 'Zarr');
  if (block) return block;
  return zarrV2Dtype(spec.dtype) || zarrV3Dtype(spec.dtype) ? undefined : `dtype ${spec.dtype} has no Zarr data type`;
}

/** A zip whose name ends in `.zarr.zip` is a zipped Zarr store. */
export function zarrSniff(head: Uint8Array, probe?: SniffProbe): boolean {
  const zip = head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  return zip && /\.zarr\.zip$/i.test((probe?.name ?? '').replace(/[?#].*$/, ''));
}

/**
 * Zarr v2/v3 stores: folders (or `.zarr.zip` files, or base URLs) of chunked arrays.
 *
 * @example
 * ```ts
 * await convert('model.safetensors', 'model.zarr', { formatOptions: { version: 3, compressor: 'zstd' } });
 * ```
 */
export const zarrFormat: TensorFormat = lazyFormat({
  name: 'zarr',
  extensions: ['.zarr', '.zarr.zip'],
  layoutExtensions: ['.zarr'],
  sniff: zarrSniff,
  cannotWrite: zarrCannotWrite,
  capabilities: {
    tensors: 'many',
    dtypes: ZARR_DTYPES,
    layouts: ['dense'],
    needsShapesFirst: false,
    canAppend: false,
    checksums: 'optional',
    folder: true,
  },
  // tensio's decoder checks a chunk's (or a shard index's) crc32c as it reads it.
  checkedOnRead: (info) => ['codecs', 'indexCodecs'].some((key) => Array.isArray(info.extras?.[key]) && (info.extras[key] as unknown[]).includes('crc32c')),
  openOptionNames: ['group', 'recursive', 'maxChunks', 'maxChunkBytes', 'maxMetadataBytes', 'maxBandBytes'],
  writeOptionNames: ['version', 'compressor', 'level', 'chunks', 'shards'],
  provides: { open: true, write: true, folders: true },
}, async () => (await import('./implementation.js')).zarrImplementation);
