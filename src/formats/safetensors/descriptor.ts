/**
 * The cheap part of the safetensors registry entry: name, extensions, capabilities,
 * sniffing and the dtype check, without the reader, the writers, verify or edit. The
 * registry lists safetensors through `lazyFormat` with this, so `import('tensio')`
 * loads the implementation (`format.ts`) only when a file is opened, written, verified
 * or edited.
 */
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import type { TensorSpec } from '../../model/types.js';
import { SAFETENSORS_DTYPES, SAFETENSORS_METADATA_KEY, safetensorsDtypeName } from './types.js';

/**
 * True when the first bytes look like safetensors: a little-endian u64 header length
 * within the reader's limit, then (after optional JSON whitespace) `{`.
 *
 * @example
 * ```ts
 * safetensorsSniff(await source.read(0, 64)); // true for a safetensors file
 * ```
 */
export function safetensorsSniff(head: Uint8Array): boolean {
  if (head.byteLength < 9) return false;
  const length = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) return false;
  const end = Math.min(head.byteLength, 8 + Number(length));
  for (let at = 8; at < end; at++) {
    const byte = head[at]!;
    if (byte === 0x7b) return true;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return false;
}

/**
 * Why safetensors cannot hold a tensor of this spec (`complex128`, `opaque`, the
 * reserved name `__metadata__`), or undefined when it can.
 *
 * @example
 * ```ts
 * safetensorsCannotWrite({ name: 'z', dtype: 'complex128', shape: [2] }); // 'safetensors has no complex128 dtype'
 * ```
 */
export function safetensorsCannotWrite(spec: TensorSpec): string | undefined {
  if (spec.name === SAFETENSORS_METADATA_KEY) return `${SAFETENSORS_METADATA_KEY} is reserved and cannot name a tensor`;
  if (!safetensorsDtypeName(spec.dtype)) return blockDTypeRefusal(spec.dtype, 'safetensors') ?? `safetensors has no ${spec.dtype} dtype`;
  return undefined;
}

/** Everything of the safetensors entry but its operations (see `format.ts`). */
export const safetensorsDescriptor = {
  name: 'safetensors',
  extensions: ['.safetensors', '.safetensors.index.json'],
  layoutExtensions: ['.safetensors.index.json'],
  // Split conversions write one `model-0000I-of-0000N.safetensors` per part.
  shardedOutput: { extension: '.safetensors', defaultPrefix: 'model' },
  capabilities: {
    tensors: 'many' as const,
    dtypes: [...new Set(SAFETENSORS_DTYPES.map(([, dtype]) => dtype))],
    layouts: ['dense' as const],
    // Every offset is in the JSON header at the front of the file.
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'optional' as const,
    folder: false,
  },
  sniff: safetensorsSniff,
  cannotWrite: safetensorsCannotWrite,
  openOptionNames: ['maxHeaderBytes', 'followIndex'],
  writeOptionNames: ['crc32', 'maxShardBytes', 'headerReserve'],
} satisfies Omit<LazyFormatDescriptor, 'provides'>;
