/**
 * `safetensorsVerify`: structure (the full reference validation, on every shard) plus
 * every `crc32:<name>` checksum recomputed over the tensor's bytes.
 */
import { isTensioError } from '../../core/errors.js';
import type { TensorInfo, VerifyOptions, VerifyReport } from '../../model/types.js';
import type { SafetensorsOpenFormatOptions } from './types.js';
import { verifyTensors, type TensorCheck } from '../../model/verify-loop.js';
import { safetensorsCrc32Update, safetensorsFormatCrc32 } from './checksum.js';
import { toByteSource, type ByteInput } from '../../storage/byte-source.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { safetensorsOpenSource } from './reader.js';
import { safetensorsResolveTarget, safetensorsVerifySharded } from './sharded.js';
import { quoteInput, quoteValue } from '../../core/quote.js';

/**
 * Verifies a safetensors file or sharded checkpoint (an index, a folder, or a shard
 * its index names; `followIndex: false` checks one shard alone). A sharded checkpoint
 * is checked shard by shard, the index against the shards, and stray shard files are
 * reported as warnings. Never throws for a bad file:
 * problems come back in the report (`CHECKSUM_MISMATCH` per bad tensor, or the
 * structural error). Tensors without a recorded CRC count in `withoutChecksum`.
 *
 * @example
 * ```ts
 * const report = await safetensorsVerify('model.safetensors');
 * if (!report.ok) for (const p of report.problems) console.error(p.code, p.tensor, p.message);
 * ```
 */
export async function safetensorsVerify(input: string | ByteInput, options: VerifyOptions<SafetensorsOpenFormatOptions> & { maxHeaderBytes?: number; followIndex?: boolean } = {}): Promise<VerifyReport> {
  if (typeof input !== 'string') return safetensorsVerifyFile(input, options);
  const path = input;
  const maxHeaderBytes = options.maxHeaderBytes ?? options.formatOptions?.maxHeaderBytes;
  const followIndex = options.followIndex ?? (options.formatOptions?.followIndex !== false);
  let target;
  try {
    target = await safetensorsResolveTarget(path, { ...(maxHeaderBytes !== undefined ? { maxHeaderBytes } : {}), followIndex });
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    return { ok: false, format: 'safetensors', path, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [{ code: error.code, message: error.message }] };
  }
  if (target.kind === 'index') return safetensorsVerifySharded(target.path, { ...options, ...(maxHeaderBytes !== undefined ? { maxHeaderBytes } : {}) });
  return safetensorsVerifyFile(target.path, { ...options, ...(maxHeaderBytes !== undefined ? { maxHeaderBytes } : {}) });
}

/**
 * Verifies one safetensors file alone (never following an index): the full
 * structural validation, then every recorded `crc32:<name>` recomputed.
 *
 * @example
 * ```ts
 * const report = await safetensorsVerifyFile('model-00001-of-00002.safetensors');
 * ```
 */
export async function safetensorsVerifyFile(input: string | ByteInput, options: VerifyOptions<SafetensorsOpenFormatOptions> & { maxHeaderBytes?: number } = {}): Promise<VerifyReport> {
  const path = typeof input === 'string' ? input : input instanceof Uint8Array ? '<bytes>' : (input.name ?? '<source>');
  const maxHeaderBytes = options.maxHeaderBytes ?? options.formatOptions?.maxHeaderBytes;
  const tally = await verifyTensors(
    async () => safetensorsOpenSource(typeof input === 'string' ? (await openSourceInput(input, sourceOptionsOf(options))).source : toByteSource(input), { ownsSource: typeof input === 'string', ...(maxHeaderBytes !== undefined ? { maxHeaderBytes } : {}), ...(options.signal ? { signal: options.signal } : {}) }),
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      checkTensor: crc32Check,
    },
  );
  return { ok: tally.problems.length === 0, format: 'safetensors', path, ...tally };
}

/** A tensor's recorded `crc32:<name>` recomputed; tensors without one are not read. */
function crc32Check(info: TensorInfo): TensorCheck {
  const recorded = info.extras?.crc32;
  if (recorded === undefined) return 'skip';
  if (typeof recorded !== 'string' || !/^[0-9a-fA-F]{8}$/.test(recorded)) {
    return { problem: { code: 'INVALID_METADATA', tensor: info.name, message: `safetensors: crc32 of ${quoteInput(info.name)} is ${quoteValue(recorded)}, not 8 hex digits` } };
  }
  let crc = 0;
  return {
    update(chunk) {
      crc = safetensorsCrc32Update(crc, chunk);
    },
    finish() {
      if (safetensorsFormatCrc32(crc) === recorded.toLowerCase()) return undefined;
      return { code: 'CHECKSUM_MISMATCH', tensor: info.name, message: `safetensors: tensor ${quoteInput(info.name)} has CRC32 ${safetensorsFormatCrc32(crc)}, the header records ${recorded}` };
    },
  };
}
