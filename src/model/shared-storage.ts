/**
 * Tensors that share storage (tied weights): several names for views of one storage,
 * as PyTorch checkpoints hold them. A format that knows this sets these generic
 * `TensorInfo.extras` (the PyTorch reader does):
 * - `storageKey` (string): views with the same key share one storage (within one
 *   file: `extras.shard`, when set, scopes the key);
 * - `storageByteOffset`, `storageByteSpan` (numbers): where the view's bytes start in
 *   the storage and how many bytes lie from its first element to past its last;
 * - `storageBytes` (number): the storage's size;
 * - `stride` (numbers), when the view is strided.
 * Formats without aliasing (safetensors, npz, npy, NumPack) set none of them.
 */
import type { TensorInfo } from './types.js';

/** Where a tensor's bytes lie in a shared storage. */
export interface StorageView {
  key: string;
  byteOffset: number;
  byteSpan: number;
  storageBytes: number | undefined;
  /** Equal signatures read exactly the same bytes as the same dtype and shape. */
  signature: string;
}

/**
 * The storage view of a tensor, or undefined when its format keeps no storage facts.
 *
 * @example
 * ```ts
 * storageViewOf(reader.info('lm_head.weight'))?.key;
 * ```
 */
export function storageViewOf(info: TensorInfo): StorageView | undefined {
  const extras = info.extras;
  if (!extras || typeof extras.storageKey !== 'string' || typeof extras.storageByteOffset !== 'number' || typeof extras.storageByteSpan !== 'number') return undefined;
  const stride = Array.isArray(extras.stride) ? extras.stride.join(',') : '';
  // Storage keys are per file: the shards of a sharded checkpoint each have a storage "0".
  const key = typeof extras.shard === 'string' ? `${extras.shard}/${extras.storageKey}` : extras.storageKey;
  return {
    key,
    byteOffset: extras.storageByteOffset,
    byteSpan: extras.storageByteSpan,
    storageBytes: typeof extras.storageBytes === 'number' ? extras.storageBytes : undefined,
    signature: `${key}|${extras.storageByteOffset}|${info.dtype}|${info.formatDtype ?? ''}|${info.shape.join(',')}|${stride}`,
  };
}

/** Python's string order (by code point), which `sorted()` in safetensors uses. */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const difference = left[index]!.codePointAt(0)! - right[index]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/**
 * Exact duplicates among `infos` (the same bytes under several names), as
 * `removed name → kept name`. The kept name is the one `safetensors.torch.save_model`
 * keeps: among the names whose view covers its whole storage, the first in sorted
 * order (the first sorted name when none does). Views that overlap only in part are
 * not duplicates and stay.
 *
 * @example
 * ```ts
 * findTiedDuplicates(reader.tensors); // Map { 'transformer.wte.weight' => 'lm_head.weight' }
 * ```
 */
export function findTiedDuplicates(infos: readonly TensorInfo[]): Map<string, string> {
  const groups = new Map<string, { name: string; complete: boolean }[]>();
  for (const info of infos) {
    const view = storageViewOf(info);
    if (!view) continue;
    const complete = view.byteOffset === 0 && view.storageBytes !== undefined && info.byteLength === view.storageBytes && view.byteSpan === info.byteLength;
    const group = groups.get(view.signature) ?? [];
    group.push({ name: info.name, complete });
    groups.set(view.signature, group);
  }
  const removed = new Map<string, string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const candidates = group.some((member) => member.complete) ? group.filter((member) => member.complete) : group;
    const kept = candidates.map((member) => member.name).sort(compareCodePoints)[0]!;
    for (const member of group) if (member.name !== kept) removed.set(member.name, kept);
  }
  return removed;
}

/**
 * Names of tensors whose bytes lie inside bytes an earlier tensor of the same storage
 * already covers: counting them again would count tied weights twice.
 *
 * @example
 * ```ts
 * const counted = reader.tensors.filter((info) => !sharedRepeats(reader.tensors).has(info.name));
 * ```
 */
export function sharedRepeats(infos: readonly TensorInfo[]): Set<string> {
  const covered = new Map<string, [number, number][]>();
  const repeats = new Set<string>();
  for (const info of infos) {
    const view = storageViewOf(info);
    if (!view || view.byteSpan === 0) continue;
    const ranges = covered.get(view.key) ?? [];
    const end = view.byteOffset + view.byteSpan;
    if (ranges.some(([start, stop]) => start <= view.byteOffset && end <= stop)) {
      repeats.add(info.name);
      continue;
    }
    ranges.push([view.byteOffset, end]);
    covered.set(view.key, ranges);
  }
  return repeats;
}
