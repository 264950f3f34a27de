/**
 * The cheap part of the `.npy` registry entry: name, extensions, capabilities, sniffing
 * and the dtype check. The registry lists npy through `lazyFormat` with this, so
 * `import('tensio')` loads the reader and writer (`format.ts`) only on first use.
 */
import type { DType } from '../../core/dtype.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import { NPY_DESCR_BY_DTYPE, npyCannotWrite } from './dtypes.js';
import { npyHasMagic } from './sniff.js';

/** Everything of the npy entry but its operations (see `format.ts`). */
export const npyDescriptor = {
  name: 'npy',
  extensions: ['.npy'],
  capabilities: {
    tensors: 'one' as const,
    dtypes: Object.keys(NPY_DESCR_BY_DTYPE) as DType[],
    layouts: ['dense' as const],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'none' as const,
    folder: false,
  },
  sniff: npyHasMagic,
  // open(path) is npyOpenSource over the file's source: detection's open file is handed over.
  opensLocalFileAsSource: true,
  cannotWrite: (spec) => npyCannotWrite(spec.dtype),
  openOptionNames: ['voidDtype', 'maxHeaderBytes', 'maxRank', 'arrayName'],
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
