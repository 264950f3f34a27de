/**
 * The cheap part of the PyTorch registry entry: name, extensions, capabilities, sniffing
 * and the dtype check, without the pickle machine, the zip reader or the writer. The
 * registry lists pytorch through `lazyFormat` with this, so `import('tensio')` loads
 * the implementation (`format.ts`) only when a checkpoint is opened, written or verified.
 */
import type { DType } from '../../core/dtype.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import { PYTORCH_WRITE_DTYPES, pytorchCannotWrite } from './dtypes.js';
import { pytorchSniff } from './sniff.js';

/** Everything of the pytorch entry but its operations (see `format.ts`). */
export const pytorchDescriptor = {
  name: 'pytorch',
  extensions: ['.pt', '.pth', '.bin', '.ckpt', '.bin.index.json'],
  layoutExtensions: ['.bin.index.json'],
  // Split conversions write one `pytorch_model-0000I-of-0000N.bin` per part (transformers' sharded .bin).
  shardedOutput: { extension: '.bin', defaultPrefix: 'pytorch_model' },
  capabilities: {
    tensors: 'many' as const,
    dtypes: Object.keys(PYTORCH_WRITE_DTYPES) as DType[],
    layouts: ['dense' as const],
    // data.pkl (every tensor's shape and storage) is the archive's first record.
    needsShapesFirst: true,
    canAppend: false,
    // Zip checkpoints carry a CRC-32 per record (torch may write zeros); legacy files none.
    checksums: 'always' as const,
    folder: false,
  },
  sniff: pytorchSniff,
  cannotWrite: pytorchCannotWrite,
  aliasing: true,
  openOptionNames: ['key', 'dropDuplicates', 'allowUnknownGlobals', 'maxPickleBytes', 'maxEntries', 'maxEntryBytes', 'maxMemoEntries', 'maxStackDepth', 'maxContainerLength', 'maxNestingDepth', 'maxLongBytes', 'followIndex', 'maxIndexBytes'],
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
