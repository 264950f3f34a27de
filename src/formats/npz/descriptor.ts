/**
 * The cheap part of the `.npz` registry entry: name, extensions, capabilities, sniffing
 * and the dtype check. The registry lists npz through `lazyFormat` with this, so
 * `import('tensio')` loads the zip reader and writer (`format.ts`) only on first use.
 */
import type { DType } from '../../core/dtype.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import { NPY_DESCR_BY_DTYPE, npyCannotWrite } from '../npy/dtypes.js';

/**
 * True for zip magic (`PK\x03\x04`, or `PK\x05\x06` for an empty archive). PyTorch
 * checkpoints are zips too: the registry's extension tiebreak tells them apart.
 *
 * @example
 * ```ts
 * npzSniff(head); // true for any zip
 * ```
 */
export function npzSniff(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** Everything of the npz entry but its operations (see `format.ts`). */
export const npzDescriptor = {
  name: 'npz',
  extensions: ['.npz'],
  capabilities: {
    tensors: 'many' as const,
    dtypes: Object.keys(NPY_DESCR_BY_DTYPE) as DType[],
    // A sparse tensor is written alone, as scipy.sparse.save_npz writes one matrix.
    layouts: ['dense' as const, 'sparse_csr' as const, 'sparse_coo' as const],
    // Each member carries its own .npy header, written when that member starts.
    needsShapesFirst: false,
    canAppend: false,
    checksums: 'always' as const,
    folder: false,
  },
  sniff: npzSniff,
  cannotWrite: (spec) => npyCannotWrite(spec.dtype) ?? spec.parts?.map((part) => npyCannotWrite(part.dtype)).find((reason) => reason !== undefined),
  writeOptionNames: ['compress'],
  openOptionNames: ['voidDtype', 'maxHeaderBytes', 'maxRank', 'maxEntries', 'maxEntryBytes', 'checkCrc', 'scipySparse'],
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
