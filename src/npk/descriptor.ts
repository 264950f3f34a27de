/**
 * The cheap part of the `npk` registry entry: name, extensions, capabilities and the
 * dtype check. The registry lists npk through `lazyFormat` with this, so
 * `import('tensio')` loads the NumPack store code (`format.ts`) only on first use.
 */
import { blockDTypeRefusal } from '../core/block-dtypes.js';
import type { LazyFormatDescriptor } from '../model/lazy-format.js';
import type { TensorSpec } from '../model/types.js';
import { NPK_DTYPES, npkSupportsDtype } from './dtype-codes.js';

/**
 * Why a store cannot hold a tensor of this spec, or undefined.
 *
 * @example
 * ```ts
 * npkCannotWrite({ name: 'x', dtype: 'bfloat16', shape: [2] }); // "dtype bfloat16 is not one of NumPack's …"
 * ```
 */
export function npkCannotWrite(spec: TensorSpec): string | undefined {
  return npkSupportsDtype(spec.dtype) ? undefined : blockDTypeRefusal(spec.dtype, 'NumPack') ?? `dtype ${spec.dtype} is not one of NumPack's ${NPK_DTYPES.join(', ')}`;
}

/** Everything of the npk entry but its operations (see `format.ts`). */
export const npkDescriptor = {
  name: 'npk',
  extensions: ['.npk'],
  // A store is a folder: detection goes by `sniffFolder` (the implementation's).
  sniff: () => false,
  layoutExtensions: ['.npk'],
  cannotWrite: npkCannotWrite,
  capabilities: {
    tensors: 'many' as const,
    dtypes: NPK_DTYPES,
    layouts: ['dense' as const],
    // Each array's file is written on its own; the catalogue is written at close.
    needsShapesFirst: false,
    canAppend: true,
    checksums: 'none' as const,
    folder: true,
  },
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
