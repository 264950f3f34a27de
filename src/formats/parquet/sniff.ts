/**
 * Recognising Parquet cheaply: `PAR1` at the start (and, when the tail was read, at the
 * end, or `PARE` for an encrypted footer).
 */
import type { SniffProbe } from '../../model/types.js';

const PAR1 = [0x50, 0x41, 0x52, 0x31];

/**
 * True when the bytes look like a Parquet file.
 *
 * @example
 * ```ts
 * parquetSniff(new TextEncoder().encode('PAR1…')); // true
 * ```
 */
export function parquetSniff(head: Uint8Array, probe?: SniffProbe): boolean {
  if (head.byteLength < 4 || !PAR1.every((byte, i) => head[i] === byte)) return false;
  const tail = probe?.tail;
  if (!tail || tail.byteLength < 4) return true;
  const end = tail.subarray(tail.byteLength - 4);
  return end[0] === 0x50 && end[1] === 0x41 && end[2] === 0x52 && (end[3] === 0x31 || end[3] === 0x45);
}
