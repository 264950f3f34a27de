/**
 * Pure checks of a safetensors header, in the order the reference reader makes them
 * (`Metadata::validate` in safetensors 0.8): offsets tile the data buffer exactly, and
 * each tensor's byte span is what its dtype and shape imply.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import type { SafetensorsTensorEntry } from './types.js';

const fail = errorFactory('safetensors');
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = 2n ** 64n - 1n;

/** An entry before its byte length is checked. */
export type UncheckedTensorEntry = Omit<SafetensorsTensorEntry, 'byteLength'>;

/**
 * Sorts entries by `(begin, end)` and checks them as the reference does, tensor by
 * tensor: `INVALID_OFFSET` (holes, overlaps, end before begin), `SIZE_OVERFLOW` (shape
 * product), `SIZE_MISMATCH` (sub-byte tensors not filling whole bytes, or a span that
 * differs from dtype × shape). Returns the sorted entries and the end of the data.
 *
 * @example
 * ```ts
 * const { tensors, dataEnd } = safetensorsValidateEntries(entries);
 * ```
 */
export function safetensorsValidateEntries(entries: readonly UncheckedTensorEntry[]): { tensors: SafetensorsTensorEntry[]; dataEnd: number } {
  // Array.prototype.sort is stable, like Rust's sort_by. Headers usually list tensors in
  // data order already: then the sort (and its copy) is skipped.
  const byOffsets = (a: UncheckedTensorEntry, b: UncheckedTensorEntry) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1];
  let inOrder = true;
  for (let i = 1; i < entries.length && inOrder; i++) inOrder = byOffsets(entries[i - 1]!, entries[i]!) <= 0;
  const sorted = inOrder ? entries : [...entries].sort(byOffsets);
  const tensors: SafetensorsTensorEntry[] = [];
  let start = 0;
  for (const entry of sorted) {
    const [begin, end] = entry.dataOffsets;
    if (begin !== start || end < begin) {
      fail('INVALID_OFFSET', `safetensors: invalid offset for tensor ${quoteInput(entry.name)}: data_offsets [${begin}, ${end}] but the previous tensor ends at ${start}`);
    }
    start = end;
    const byteLength = end - begin;
    if (entry.dtype !== 'opaque') checkSpan(entry, byteLength);
    // Entries that already carry their byte length (the parser sets it) are kept as they are: no copy per tensor.
    tensors.push('byteLength' in entry && (entry as SafetensorsTensorEntry).byteLength === byteLength ? entry as SafetensorsTensorEntry : { ...entry, byteLength });
  }
  return { tensors, dataEnd: start };
}

/**
 * The final reference check: the data buffer ends exactly at the end of the file.
 * Throws `TRAILING_BYTES` (extra bytes, e.g. a polyglot file) or `TRUNCATED`.
 *
 * @example
 * ```ts
 * safetensorsCheckFileSize(dataStart, dataEnd, source.size);
 * ```
 */
export function safetensorsCheckFileSize(dataStart: number, dataEnd: number, fileSize: number): void {
  const expected = dataStart + dataEnd;
  if (expected < fileSize) {
    fail('TRAILING_BYTES', `safetensors: incomplete metadata, file not fully covered: tensors end at byte ${expected} but the file has ${fileSize} bytes`, { offset: expected });
  }
  if (expected > fileSize) {
    fail('TRUNCATED', `safetensors: tensors end at byte ${expected} but the file has only ${fileSize} bytes`, { offset: fileSize });
  }
}

/** dtype × shape against the byte span; Number math while exact, BigInt beyond 2^53. */
function checkSpan(entry: UncheckedTensorEntry, byteLength: number): void {
  const bitsPerElement = DTYPE_INFO[entry.dtype].bits;
  let elements = 1;
  for (const dim of entry.shape) {
    elements *= dim;
    if (elements > Number.MAX_SAFE_INTEGER) break;
  }
  if (elements * bitsPerElement <= Number.MAX_SAFE_INTEGER) {
    const bits = elements * bitsPerElement;
    if (bits % 8 !== 0) misaligned(entry, BigInt(bits));
    if (bits / 8 !== byteLength) mismatch(entry, BigInt(bits), byteLength);
    return;
  }
  let exact = 1n;
  for (const dim of entry.shape) {
    exact *= BigInt(dim);
    // The reference multiplies in checked u64 from the left: an overflow stands even if a later dimension is 0.
    if (exact > U64_MAX) {
      fail('SIZE_OVERFLOW', `safetensors: tensor ${quoteInput(entry.name)} of shape [${entry.shape.join(', ')}] overflows a 64-bit element count`);
    }
  }
  const bits = exact * BigInt(bitsPerElement);
  // The reference computes in usize (u64); tensio's sizes must stay safe integers.
  if (bits / 8n > MAX_SAFE) {
    fail('SIZE_OVERFLOW', `safetensors: tensor ${quoteInput(entry.name)} of shape [${entry.shape.join(', ')}] and dtype ${entry.formatDtype} has ${exact} elements, too many to address`);
  }
  if (bits % 8n !== 0n) misaligned(entry, bits);
  if (BigInt(byteLength) !== bits / 8n) mismatch(entry, bits, byteLength);
}

function misaligned(entry: UncheckedTensorEntry, bits: bigint): never {
  return fail('SIZE_MISMATCH', `safetensors: tensor ${quoteInput(entry.name)} (${entry.formatDtype}, shape [${entry.shape.join(', ')}]) holds ${bits} bits, not a whole number of bytes`);
}

function mismatch(entry: UncheckedTensorEntry, bits: bigint, byteLength: number): never {
  const [begin, end] = entry.dataOffsets;
  return fail('SIZE_MISMATCH', `safetensors: tensor ${quoteInput(entry.name)} (${entry.formatDtype}, shape [${entry.shape.join(', ')}]) needs ${bits / 8n} bytes but data_offsets [${begin}, ${end}] span ${byteLength}`);
}
