/**
 * Recognising PyTorch checkpoints from their first bytes, without loading the pickle
 * machine: the registry's lazy entry sniffs with this alone.
 */
import { latin1Decode } from '../../core/bytes.js';

/** The first bytes of every legacy checkpoint: PROTO 2, LONG1 of 10 bytes (the magic number). */
export const PYTORCH_LEGACY_PREFIX = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/**
 * True when bytes start like a legacy checkpoint.
 *
 * @example
 * ```ts
 * pytorchIsLegacy(head); // true for torch.save(..., _use_new_zipfile_serialization=False)
 * ```
 */
export function pytorchIsLegacy(head: Uint8Array): boolean {
  return head.byteLength >= PYTORCH_LEGACY_PREFIX.byteLength && PYTORCH_LEGACY_PREFIX.every((byte, i) => head[i] === byte);
}

/**
 * True when the first bytes look like a torch checkpoint: a legacy pickle, or a zip whose
 * first record is `<root>/data.pkl` (when the name does not fit in the head, any zip:
 * the registry's extension tiebreak decides against `.npz`).
 *
 * @example
 * ```ts
 * pytorchSniff(await source.read(0, 64)); // true for torch.save output
 * ```
 */
export function pytorchSniff(head: Uint8Array): boolean {
  if (pytorchIsLegacy(head)) return true;
  if (!(head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)) return false;
  // torch's first record is always <root>/data.pkl; when its name fits in the head, check it.
  const nameLength = head.byteLength >= 28 ? head[26]! | (head[27]! << 8) : Infinity;
  if (30 + nameLength > head.byteLength) return true;
  return latin1Decode(head.subarray(30, 30 + nameLength)).endsWith('/data.pkl');
}
