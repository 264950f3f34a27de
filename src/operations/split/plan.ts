/**
 * The plan of a conversion split into parts: which tensors part I of N writes. The
 * rule is deterministic (every process that runs part I computes the same set from
 * the same input and options, with no coordination) and balanced by bytes:
 *
 * - tensors are taken largest first (output bytes), ties in plan order;
 * - each goes to the part holding the fewest bytes so far, ties to the part holding
 *   fewer tensors, then to the lower part number.
 *
 * Greedy largest-first is within 4/3 of the best possible largest part, and on real
 * checkpoints (many tensors of a few sizes) the parts come out within one tensor of
 * each other. Inside a part, tensors keep their plan (state-dict) order.
 */
import { createHash } from 'node:crypto';
import { TensioError } from '../../core/errors.js';
import { SPLIT_MAX_PARTS } from '../../core/limits.js';

/** One part of a split conversion: `index` from 1 to `count`. */
export interface SplitPart {
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `I/N` (`--part 2/4`). Throws `INVALID_ARGUMENT` unless 1 ≤ I ≤ N ≤ `maxParts`.
 *
 * @example
 * ```ts
 * parseSplitPart('2/4'); // { index: 2, count: 4 }
 * ```
 */
export function parseSplitPart(text: string, maxParts: number = SPLIT_MAX_PARTS): SplitPart {
  const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (!match) throw new TensioError('INVALID_ARGUMENT', `a part is written I/N (part I of N, e.g. 2/4), got ${JSON.stringify(text.slice(0, 40))}`);
  const part = { index: Number(match[1]), count: Number(match[2]) };
  checkSplitPart(part, maxParts);
  return part;
}

/**
 * Throws `INVALID_ARGUMENT` unless `part` is a whole I of N with 1 ≤ I ≤ N ≤ `maxParts`.
 *
 * @example
 * ```ts
 * checkSplitPart({ index: 5, count: 4 }); // throws INVALID_ARGUMENT
 * ```
 */
export function checkSplitPart(part: SplitPart, maxParts: number = SPLIT_MAX_PARTS): void {
  const { index, count } = part;
  if (!Number.isSafeInteger(count) || count < 1 || count > maxParts) {
    throw new TensioError('INVALID_ARGUMENT', `the number of parts must be a whole number from 1 to ${maxParts} (maxParts), got ${count}`);
  }
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new TensioError('INVALID_ARGUMENT', `part ${index} of ${count} does not exist: parts are numbered 1 to ${count}`);
  }
}

/** A tensor of the plan as the split sees it: its output name and output bytes. */
export interface SplitItem {
  readonly name: string;
  readonly bytes: number;
}

/**
 * The part (0-based) of every item, by the rule at the top of this file.
 *
 * @example
 * ```ts
 * assignSplitParts([{ name: 'a', bytes: 8 }, { name: 'b', bytes: 4 }, { name: 'c', bytes: 4 }], 2); // [0, 1, 1]
 * ```
 */
export function assignSplitParts(items: readonly SplitItem[], count: number): number[] {
  const order = items.map((_, position) => position).sort((a, b) => items[b]!.bytes - items[a]!.bytes || a - b);
  const bytes = new Array<number>(count).fill(0);
  const tensors = new Array<number>(count).fill(0);
  const less = (a: number, b: number) => bytes[a]! - bytes[b]! || tensors[a]! - tensors[b]! || a - b;
  // A binary min-heap of parts: T log N, for a million tensors over thousands of parts.
  const heap = Array.from({ length: count }, (_, part) => part);
  const siftDown = (at: number) => {
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < heap.length && less(heap[left]!, heap[smallest]!) < 0) smallest = left;
      if (right < heap.length && less(heap[right]!, heap[smallest]!) < 0) smallest = right;
      if (smallest === at) return;
      [heap[at], heap[smallest]] = [heap[smallest]!, heap[at]!];
      at = smallest;
    }
  };
  const assigned = new Array<number>(items.length);
  for (const position of order) {
    const part = heap[0]!;
    assigned[position] = part;
    bytes[part]! += items[position]!.bytes;
    tensors[part]! += 1;
    siftDown(0); // only the root grew
  }
  return assigned;
}

/**
 * A fingerprint of everything the parts must agree on (tensor names, dtypes and shapes
 * in plan order, the metadata, the number of parts, the output naming): parts run with
 * different inputs or options get different fingerprints, and finishing refuses to mix them.
 *
 * @example
 * ```ts
 * const id = splitPlanId({ specs, metadata, count: 4, prefix: 'model', extension: '.safetensors' });
 * ```
 */
export function splitPlanId(plan: {
  specs: readonly { name: string; dtype: string; shape: readonly number[] }[];
  metadata: Readonly<Record<string, unknown>>;
  count: number;
  prefix: string;
  extension: string;
}): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([plan.count, plan.prefix, plan.extension]));
  for (const spec of plan.specs) hash.update(`\n${JSON.stringify([spec.name, spec.dtype, spec.shape])}`);
  hash.update(`\n${JSON.stringify(Object.entries(plan.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`);
  return hash.digest('hex');
}
