/**
 * A pickled value as short Python-like text for messages (`('cuda', 0)`, `[1, 2, …]`),
 * cut at a few hundred characters. The walk is iterative and stops as soon as the text
 * is long enough, so a list nested 10,000 deep or shared 2^k times costs a few steps.
 */
import { ERROR_MAX_QUOTED_CHARS } from '../../../core/limits.js';
import { clipInput } from '../../../core/quote.js';
import { PickleComplex, PickleDict, PickleGlobal, PickleOpaque, PickleSet, PickleStorage, PickleTensor, PickleTuple, type PickleValue } from './values.js';

/**
 * Describes `value` in at most about `maxChars` characters (then `…`).
 *
 * @example
 * ```ts
 * pickleDescribe(new PickleTuple(['cuda', 0])); // "('cuda', 0)"
 * ```
 */
export function pickleDescribe(value: PickleValue, maxChars: number = ERROR_MAX_QUOTED_CHARS): string {
  let out = '';
  // Pending work, last first: a value to describe or literal text to emit.
  const pending: Array<{ value: PickleValue } | string> = [{ value }];
  while (pending.length > 0) {
    if (out.length > maxChars) return `${out.slice(0, maxChars)}…`;
    const next = pending.pop()!;
    if (typeof next === 'string') {
      out += next;
      continue;
    }
    const item = next.value;
    const scalar = scalarText(item);
    if (scalar !== undefined) {
      out += scalar;
      continue;
    }
    let open: string;
    let close: string;
    let parts: PickleValue[];
    if (item instanceof PickleDict) {
      open = '{'; close = '}';
      parts = [];
      // Pairs stay bounded: only as many as could still fit are queued.
      for (let i = 0; i < item.keys.length && i < maxChars; i++) parts.push(new PickleTuple([item.keys[i]!, item.values[i]!]));
    } else {
      const items = Array.isArray(item) ? item : (item as PickleTuple | PickleSet).items;
      open = Array.isArray(item) ? '[' : item instanceof PickleTuple ? '(' : '{';
      close = Array.isArray(item) ? ']' : item instanceof PickleTuple ? (items.length === 1 ? ',)' : ')') : '}';
      parts = items.slice(0, maxChars);
    }
    out += open;
    pending.push(close);
    for (let i = parts.length - 1; i >= 0; i--) {
      pending.push({ value: parts[i]! });
      if (i > 0) pending.push(', ');
    }
  }
  return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
}

function scalarText(value: PickleValue): string | undefined {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return clipInput(String(value));
  if (typeof value === 'string') return `'${clipInput(value)}'`;
  if (value instanceof Uint8Array) return `b<${value.byteLength} bytes>`;
  if (value instanceof PickleComplex) return `complex(${value.real}, ${value.imag})`;
  if (value instanceof PickleGlobal) return clipInput(value.qualifiedName);
  if (value instanceof PickleStorage) return `<storage ${clipInput(value.key)}>`;
  if (value instanceof PickleTensor) return `<tensor ${value.dtype}>`;
  if (value instanceof PickleOpaque) return `<${clipInput(value.description)}>`;
  return undefined;
}
