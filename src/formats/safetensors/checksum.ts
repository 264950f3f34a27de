/**
 * Per-tensor CRC32s kept in `__metadata__`, so a checksummed file stays a plain
 * safetensors file every reader accepts. Key: `crc32:<tensor name>`; value: the
 * zlib CRC-32 of the tensor's data bytes as exactly 8 lower-case hex digits. Fixed width
 * is what lets a streaming writer reserve the bytes in the header and patch them in
 * place after the data has gone by (no second pass over the data).
 */
import { crc32 } from 'node:zlib';
import { SAFETENSORS_CRC32_KEY_PREFIX } from './types.js';

/** The placeholder a streaming writer puts in the header before the CRC is known. */
export const SAFETENSORS_CRC32_PLACEHOLDER = '00000000';

/**
 * The metadata key holding a tensor's CRC32.
 *
 * @example
 * ```ts
 * safetensorsCrc32Key('lm_head.weight'); // 'crc32:lm_head.weight'
 * ```
 */
export function safetensorsCrc32Key(tensorName: string): string {
  return SAFETENSORS_CRC32_KEY_PREFIX + tensorName;
}

/** True for a metadata key that holds a tensio CRC32. */
export function safetensorsIsCrc32Key(key: string): boolean {
  return key.startsWith(SAFETENSORS_CRC32_KEY_PREFIX);
}

/**
 * Formats a CRC32 as the 8 hex digits stored in metadata.
 *
 * @example
 * ```ts
 * safetensorsFormatCrc32(0xcbf43926); // 'cbf43926'
 * ```
 */
export function safetensorsFormatCrc32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/**
 * Incremental CRC32 over chunks (zlib's, as `zlib.crc32` and Python's `zlib.crc32`).
 *
 * @example
 * ```ts
 * let crc = 0; for (const chunk of chunks) crc = safetensorsCrc32Update(crc, chunk);
 * ```
 */
export function safetensorsCrc32Update(previous: number, chunk: Uint8Array): number {
  return crc32(chunk, previous);
}
