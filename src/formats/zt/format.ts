/**
 * The zTensor (`.zt`) entry of the format registry: cheap sniffing by the magic at both
 * ends; the implementation (CBOR, XXH3, zstd) loads on first use (`lazyFormat`).
 */
import { BLOCK_DTYPES } from '../../core/block-dtypes.js';
import { lazyFormat } from '../../model/lazy-format.js';
import type { FormatCapabilities, SniffProbe } from '../../model/types.js';
import { ZT_MAGIC } from './types.js';
import { ztCannotWrite } from './dtypes.js';

const startsWithMagic = (bytes: Uint8Array | undefined, at: number): boolean =>
  bytes !== undefined && at >= 0 && bytes.length >= at + 8 && ZT_MAGIC.every((byte, i) => bytes[at + i] === byte);

/**
 * True when the bytes look like zTensor v2: the magic at offset 0 and, when the tail was
 * read, again as the file's last 8 bytes.
 *
 * @example
 * ```ts
 * ztSniff(head, { head, tail, size }); // true for a .zt file
 * ```
 */
export function ztSniff(head: Uint8Array, probe?: SniffProbe): boolean {
  // zTensor v1 files start with ZTEN0001 or ZTEN1000 (read only).
  if (head.length >= 8 && (String.fromCharCode(...head.subarray(0, 8)) === 'ZTEN0001' || String.fromCharCode(...head.subarray(0, 8)) === 'ZTEN1000')) return true;
  if (!startsWithMagic(head, 0)) return false;
  const tail = probe?.tail;
  return tail === undefined || startsWithMagic(tail, tail.length - 8);
}

/** What `.zt` can hold and do. */
export const ZT_CAPABILITIES: FormatCapabilities = {
  tensors: 'many',
  dtypes: ['float64', 'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8', 'bool',
    'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0', 'float4_e2m1', 'complex64', 'complex128',
    // ggml blocks are kept as `gguf.<type>/1` layouts, byte for byte.
    ...BLOCK_DTYPES],
  layouts: ['dense', 'sparse_csr', 'sparse_coo', 'quant_group', 'mx', 'other'],
  needsShapesFirst: false,
  canAppend: true,
  checksums: 'optional',
  folder: false,
};

/**
 * The registry entry. `formatOptions`: open `{ maxManifestBytes }`.
 *
 * @example
 * ```ts
 * getFormat('zt') === ztFormat; // true: it is in BUILT_IN_FORMATS
 * ```
 */
export const ztFormat = lazyFormat({
  name: 'zt',
  extensions: ['.zt'],
  capabilities: ZT_CAPABILITIES,
  sniff: ztSniff,
  openFromEnd: true, // the manifest is found from the footer: a remote .zt opens with a suffix read
  openOptionNames: ['maxManifestBytes'],
  writeOptionNames: ['canonical', 'align', 'compress', 'digest', 'dedupMaxBytes', 'append', 'maxShardBytes'],
  cannotWrite: ztCannotWrite,
  provides: { open: true, write: true, verify: true, edit: true },
}, async () => (await import('./implementation.js')).ztImplementation);
