/**
 * Dict keys compared as Python compares them, at a cost linear in the distinct objects
 * involved. Every hashable value gets a short canonical form; a tuple or frozenset's
 * form names its items by their interned id (`t:3,8,8`), never by their text, so a key
 * that shares its children 2^k times over costs k steps, not 2^k, and a long string
 * inside a key is written once. The walk is iterative: key nesting cannot exhaust the
 * call stack.
 */
import { latin1Decode } from '../../../core/bytes.js';
import { PickleWorkBudget } from './budget.js';
import { PickleComplex, PickleGlobal, PickleSet, PickleTuple, pickleTypeName, type PickleValue } from './values.js';

/**
 * Forms of the values that need no table: `1`, `1.0`, `True` and `1n` share `n:1`, as in
 * a Python dict. (A dict indexes plain string and number keys directly; these forms are
 * for the other keys and for the items of tuple keys.)
 */
export function pickleScalarKey(key: PickleValue): string | undefined {
  if (key === null) return 'N';
  if (typeof key === 'boolean') return key ? 'n:1' : 'n:0';
  if (typeof key === 'number') return `n:${key}`;
  if (typeof key === 'bigint') return Number.isSafeInteger(Number(key)) && BigInt(Number(key)) === key ? `n:${Number(key)}` : `b:${key}`;
  if (typeof key === 'string') return `s:${key}`;
  if (key instanceof Uint8Array) return `y:${latin1Decode(key)}`;
  if (key instanceof PickleGlobal) return `g:${key.qualifiedName}`;
  if (key instanceof PickleComplex) return key.imag === 0 ? `n:${key.real}` : `c:${key.real},${key.imag}`;
  return undefined;
}

/** Thrown for a list, dict or set used as a key; the machine reports it as `INVALID_PICKLE`. */
export class PickleUnhashableError extends Error {}

/**
 * Canonical dict-key forms for one pickle run. Share one table between all dicts of a
 * run so a key reused by many dicts is interned once.
 *
 * @example
 * ```ts
 * const table = new PickleKeyTable();
 * table.keyOf(new PickleTuple([1, 'a'])) === table.keyOf(new PickleTuple([1.0, 'a'])); // true
 * ```
 */
export class PickleKeyTable {
  private readonly ids = new Map<string, number>();
  private readonly objectForms = new WeakMap<PickleTuple | PickleSet, string>();

  constructor(private readonly budget?: PickleWorkBudget) {}

  /** The form under which `key` is stored in a dict; throws {@link PickleUnhashableError}. */
  keyOf(key: PickleValue): string {
    const scalar = pickleScalarKey(key);
    if (scalar !== undefined) return scalar;
    if (!isComposite(key)) throw new PickleUnhashableError(`unhashable key of type ${pickleTypeName(key)}`);
    const known = this.objectForms.get(key);
    if (known !== undefined) return known;
    // Post-order walk with an explicit stack: a composite's form is made once all its items have one.
    const pending: Array<PickleTuple | PickleSet> = [key];
    const entered = new Set<PickleTuple | PickleSet>();
    while (pending.length > 0) {
      const node = pending[pending.length - 1]!;
      if (this.objectForms.has(node)) {
        pending.pop();
        continue;
      }
      if (!entered.has(node)) {
        entered.add(node);
        this.budget?.spend(node.items.length + 1, 'hashing a dict key');
        for (const item of node.items) {
          if (pickleScalarKey(item) !== undefined) continue;
          if (!isComposite(item)) throw new PickleUnhashableError(`unhashable key item of type ${pickleTypeName(item)}`);
          if (this.objectForms.has(item)) continue;
          if (entered.has(item)) throw new PickleUnhashableError('a dict key contains itself');
          pending.push(item);
        }
        continue;
      }
      pending.pop();
      this.objectForms.set(node, this.formOf(node));
    }
    return this.objectForms.get(key)!;
  }

  /** A node's form once all its items have one. */
  private formOf(node: PickleTuple | PickleSet): string {
    const itemIds = node.items.map((item) => this.idOf(pickleScalarKey(item) ?? this.objectForms.get(item as PickleTuple | PickleSet)!));
    if (node instanceof PickleTuple) return `t:${itemIds.join(',')}`;
    // A frozenset equals another with the same members, whatever their order or repeats.
    return `f:${[...new Set(itemIds)].sort((a, b) => a - b).join(',')}`;
  }

  private idOf(form: string): number {
    let id = this.ids.get(form);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(form, id);
    }
    return id;
  }
}

function isComposite(value: PickleValue): value is PickleTuple | PickleSet {
  return value instanceof PickleTuple || (value instanceof PickleSet && value.frozen);
}
