/**
 * `finishSplitConvert`: the last step of a conversion split into parts (see
 * `ConvertOptions.part`). The work is in `./split/finish.ts`, loaded on first use so
 * that importing the operations stays light.
 */
import type { WriteTarget } from '../storage/write-target.js';
import type { FinishSplitConvertOptions, FinishSplitConvertResult } from './split/finish.js';

export type { FinishSplitConvertOptions, FinishSplitConvertResult } from './split/finish.js';

/**
 * Checks every part of a split conversion to `output` (each part's shard exists with
 * the size, tensors and SHA-256 its manifest records; all parts are from the same plan)
 * and writes the index, the commit point. A missing, changed or mismatched part is a
 * `TensioError` naming it (`INCOMPLETE`, `NOT_FOUND`, `SIZE_MISMATCH`,
 * `CHECKSUM_MISMATCH`, `INVALID_STATE`, …) and no index is written.
 *
 * @example
 * ```ts
 * // each of 4 workers: await convert('big.pt', 'out/model.safetensors.index.json', { part: { index: i, count: 4 } });
 * const { index, shards } = await finishSplitConvert('out/model.safetensors.index.json');
 * ```
 */
export async function finishSplitConvert(output: WriteTarget, options: FinishSplitConvertOptions = {}): Promise<FinishSplitConvertResult> {
  return (await import('./split/finish.js')).finishSplitConvert(output, options);
}
