/**
 * The GGUF entry of the format registry.
 */
import type { TensorFormat } from '../../model/types.js';
import { ggufHasMagic } from './read.js';
import { ggufOpen } from './reader.js';
import type { GgufOpenOptions } from './types.js';
import { ggufCannotWrite, ggufCreateWriter, type GgufWriteOptions } from './writer.js';
import { BLOCK_DTYPES } from '../../core/block-dtypes.js';
import { ggufEditMetadata } from './edit.js';

/** `formatOptions` keys `open` understands (the limits of {@link GgufOpenOptions}). */
const OPEN_OPTION_NAMES = ['maxStringBytes', 'maxArrayLength', 'maxArrayDepth', 'maxKeys', 'maxTensors', 'maxHeaderBytes', 'maxDims', 'maxNameBytes', 'maxAlignment', 'followSplits'] as const;

/**
 * GGUF (llama.cpp): typed metadata, plain and block-quantized tensors.
 *
 * @example
 * ```ts
 * getFormat('gguf') === ggufFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
export const ggufFormat: TensorFormat = {
  name: 'gguf',
  extensions: ['.gguf'],
  capabilities: {
    tensors: 'many',
    dtypes: ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'int16', 'int32', 'int64', ...BLOCK_DTYPES],
    layouts: ['dense'],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'none',
    folder: false,
  },
  sniff: ggufHasMagic,
  open(input, options = {}) {
    const formatOptions = (options.formatOptions ?? {}) as GgufOpenOptions;
    const picked: GgufOpenOptions = {};
    for (const key of OPEN_OPTION_NAMES) if (formatOptions[key] !== undefined) (picked as Record<string, unknown>)[key] = formatOptions[key];
    return ggufOpen(input, { ...picked, ...(options.signal ? { signal: options.signal } : {}), ...(options.http ? { http: options.http } : {}) });
  },
  createWriter: (target, options) => ggufCreateWriter(target, { ...options, gguf: (options.formatOptions ?? {}) as GgufWriteOptions }),
  cannotWrite: ggufCannotWrite,
  editMetadata: ggufEditMetadata,
  openOptionNames: OPEN_OPTION_NAMES,
  writeOptionNames: ['alignment', 'quantize', 'arch'],
};
