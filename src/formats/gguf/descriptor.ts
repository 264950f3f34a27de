/**
 * The cheap part of the GGUF registry entry: name, extensions, capabilities, sniffing
 * and the dtype check. The registry lists gguf through `lazyFormat` with this, so
 * `import('tensio')` loads the header parser, the (de)quantizers and the writer
 * (`format.ts`) only on first use.
 */
import { BLOCK_DTYPES } from '../../core/block-dtypes.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import type { TensorSpec } from '../../model/types.js';
import { ggmlTypeOfDType } from './ggml-types.js';
import { ggufHasMagic } from './sniff.js';

/** `formatOptions` keys `open` understands (the limits of `GgufOpenOptions`). */
export const GGUF_OPEN_OPTION_NAMES = ['maxStringBytes', 'maxArrayLength', 'maxArrayDepth', 'maxKeys', 'maxTensors', 'maxHeaderBytes', 'maxDims', 'maxNameBytes', 'maxAlignment', 'followSplits'] as const;

/**
 * Why GGUF cannot hold a tensor of this spec, or undefined.
 *
 * @example
 * ```ts
 * ggufCannotWrite({ name: 'x', dtype: 'complex64', shape: [2] }); // 'GGUF has no complex64 type (…)'
 * ```
 */
export function ggufCannotWrite(spec: TensorSpec): string | undefined {
  if (!ggmlTypeOfDType(spec.dtype)) return `GGUF has no ${spec.dtype} type (it holds float32, float16, bfloat16, float64, int8/16/32/64 and ggml's block types)`;
  if (spec.shape.length > 4) return `GGUF tensors have at most 4 dimensions (ggml's GGML_MAX_DIMS), ${spec.name} has ${spec.shape.length}`;
  return undefined;
}

/** Everything of the gguf entry but its operations (see `format.ts`). */
export const ggufDescriptor = {
  name: 'gguf',
  extensions: ['.gguf'],
  capabilities: {
    tensors: 'many' as const,
    dtypes: ['float32' as const, 'float16' as const, 'bfloat16' as const, 'float64' as const, 'int8' as const, 'int16' as const, 'int32' as const, 'int64' as const, ...BLOCK_DTYPES],
    layouts: ['dense' as const],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'none' as const,
    folder: false,
  },
  sniff: ggufHasMagic,
  cannotWrite: ggufCannotWrite,
  openOptionNames: GGUF_OPEN_OPTION_NAMES,
  writeOptionNames: ['alignment', 'quantize', 'arch'],
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
