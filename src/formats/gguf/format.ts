/**
 * The GGUF entry of the format registry.
 */
import type { TensorFormat } from '../../model/types.js';
import { ggufHasMagic } from './read.js';
import { ggufOpen } from './reader.js';
import type { GgufOpenOptions } from './types.js';

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
    dtypes: [],
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
  openOptionNames: OPEN_OPTION_NAMES,
};
