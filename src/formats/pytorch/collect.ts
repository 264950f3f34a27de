/**
 * Finds the tensors in whatever a checkpoint pickled (a state dict, a nested
 * `{state_dict, optimizer, epoch}`, a list, a bare tensor), names them by dotted path,
 * and keeps the plain values beside them as metadata.
 */
import { TensioError } from '../../core/errors.js';
import { PICKLE_MAX_METADATA_VALUES, PICKLE_MAX_NESTING_DEPTH } from '../../core/limits.js';
import { quoteInput } from '../../core/quote.js';
import type { PickleWorkBudget } from './pickle/budget.js';
import { pickleDescribe } from './pickle/describe.js';
import {
  PickleComplex, PickleDict, PickleGlobal, PickleOpaque, PickleSet, PickleStorage, PickleTensor, PickleTuple, pickleTypeName, type PickleValue,
} from './pickle/values.js';

const FORMAT = 'pytorch';

/** A tensor found in the checkpoint, by dotted path. */
export interface PytorchNamedTensor {
  readonly name: string;
  readonly tensor: PickleTensor;
  /** True when the whole checkpoint (or the selected key) is this one tensor; it is then named `tensor`. */
  readonly bare?: boolean;
}

/** What {@link pytorchCollect} found. */
export interface PytorchCollected {
  tensors: PytorchNamedTensor[];
  /** Plain values (numbers, strings, lists/dicts of those) by dotted path. */
  metadata: Record<string, unknown>;
}

/** Options for {@link pytorchCollect}. */
export interface PytorchCollectOptions {
  /** Sub-tree to read (`'state_dict'`, or a dotted path); names are then relative to it. */
  key?: string;
  /** Deepest nesting walked (default PICKLE_MAX_NESTING_DEPTH). */
  maxNestingDepth?: number;
  /** Most plain values kept in metadata; beyond it values are replaced by a note (default PICKLE_MAX_METADATA_VALUES). */
  maxMetadataValues?: number;
  /**
   * The pickle run's work budget: naming tensors and expanding metadata spend from it, so
   * shared structure cannot make them cost more than the file allows (metadata past what
   * is left is replaced by a note; names past it end with `LIMIT_EXCEEDED`).
   */
  budget?: PickleWorkBudget;
}

/** Plain values left to convert; shared across one checkpoint so shared sub-objects cannot blow up. */
interface PlainBudget {
  remaining: number;
}

/** Thrown (not an Error: no stack trace to capture) when a {@link PlainBudget} runs out. */
class BudgetExhausted {}

type Container = PickleDict | PickleValue[] | PickleTuple | PickleSet;

function isContainer(value: PickleValue): value is Container {
  return Array.isArray(value) || value instanceof PickleDict || value instanceof PickleTuple || value instanceof PickleSet;
}

/** Values a tuple or frozenset key may expand to in a name before it is described in short instead. */
const KEY_SEGMENT_MAX_VALUES = 64;

/** A dict key as a name segment: strings as they are, numbers as text, small tuples as JSON, big ones described in short. */
function keySegment(key: PickleValue): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null) return String(key);
  // Bounded: a key that shares its children 2^k times over must not be written out whole.
  if (!fewValues(key, KEY_SEGMENT_MAX_VALUES)) return `<key ${pickleDescribe(key, 80)}>`;
  return JSON.stringify(pytorchPlainValue(key));
}

/** True when `value` holds at most `limit` values in all (counted without recursion, stopping early). */
function fewValues(value: PickleValue, limit: number): boolean {
  const pending: PickleValue[] = [value];
  let count = 0;
  while (pending.length > 0) {
    if (++count > limit) return false;
    const next = pending.pop()!;
    if (isContainer(next)) {
      if (next instanceof PickleDict) pending.push(...next.keys.slice(0, limit), ...next.values.slice(0, limit));
      else pending.push(...(Array.isArray(next) ? next : next.items).slice(0, limit));
    }
  }
  return true;
}

function entriesOf(container: Container): Array<[string, PickleValue]> {
  if (container instanceof PickleDict) return container.keys.map((key, i) => [keySegment(key), container.values[i]!]);
  const items = Array.isArray(container) ? container : container.items;
  return items.map((item, i) => [String(i), item]);
}

function valuesOf(container: Container): readonly PickleValue[] {
  if (container instanceof PickleDict) return container.values;
  return Array.isArray(container) ? container : container.items;
}

/**
 * A pickled value as plain JSON-friendly data: tuples and sets become arrays, dicts
 * objects, bytes `{ bytes: <base64> }`, big integers strings, globals their dotted name.
 *
 * @example
 * ```ts
 * pytorchPlainValue(new PickleTuple([1, 'a'])); // [1, 'a']
 * ```
 */
export function pytorchPlainValue(value: PickleValue, depth = 0, maxDepth = PICKLE_MAX_NESTING_DEPTH, ancestors = new Set<object>(), budget?: PlainBudget): unknown {
  if (budget && --budget.remaining < 0) throw new BudgetExhausted();
  if (depth > maxDepth) {
    throw new TensioError('LIMIT_EXCEEDED', `${FORMAT}: values nested deeper than ${maxDepth} (maxNestingDepth)`, { format: FORMAT });
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('base64') };
  if (value instanceof PickleComplex) return { real: value.real, imag: value.imag };
  if (value instanceof PickleGlobal) return value.qualifiedName;
  if (value instanceof PickleStorage) return `<storage ${value.key}>`;
  if (value instanceof PickleTensor) return `<tensor ${value.dtype} [${value.shape.join(', ')}]>`;
  if (value instanceof PickleOpaque) return `<${value.description}>`;
  if (ancestors.has(value)) return '<cycle>';
  ancestors.add(value);
  try {
    if (value instanceof PickleDict) {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < value.keys.length; i++) out[keySegment(value.keys[i]!)] = pytorchPlainValue(value.values[i]!, depth + 1, maxDepth, ancestors, budget);
      return out;
    }
    const items = Array.isArray(value) ? value : value.items;
    return items.map((item) => pytorchPlainValue(item, depth + 1, maxDepth, ancestors, budget));
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Walks a checkpoint's pickled value: tensors by dotted path (`state_dict.encoder.weight`,
 * list indices as numbers), plain values into metadata. A container reached a second
 * time is recorded as `{ sameAs: <first path> }` so shared structure costs linear time.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = pytorchCollect(value, { key: 'state_dict' });
 * ```
 */
export function pytorchCollect(root: PickleValue, options: PytorchCollectOptions = {}): PytorchCollected {
  const maxDepth = options.maxNestingDepth ?? PICKLE_MAX_NESTING_DEPTH;
  const selected = options.key === undefined ? root : selectKey(root, options.key);
  const tensors: PytorchNamedTensor[] = [];
  const metadata: Record<string, unknown> = {};
  const names = new Set<string>();
  const firstPath = new Map<object, string>();
  const holdsTensor = new Map<object, boolean>();
  const ancestors = new Set<object>();
  const work = options.budget;
  const maxValues = Math.min(options.maxMetadataValues ?? PICKLE_MAX_METADATA_VALUES, work ? Math.max(0, work.limit - work.spent) : Number.POSITIVE_INFINITY);
  const budget: PlainBudget = { remaining: maxValues };

  function plain(value: PickleValue, depth: number): unknown {
    const before = budget.remaining;
    try {
      return pytorchPlainValue(value, depth, maxDepth, new Set(), budget);
    } catch (error) {
      if (!(error instanceof BudgetExhausted)) throw error;
      budget.remaining = 0;
      return `<omitted: metadata holds more than ${maxValues} values (maxMetadataValues, or the pickle's work budget)>`;
    } finally {
      if (work) work.spent += before - Math.max(budget.remaining, 0);
    }
  }

  function containsTensor(value: PickleValue, depth: number): boolean {
    if (value instanceof PickleTensor) return true;
    if (!isContainer(value)) return false;
    const known = holdsTensor.get(value);
    if (known !== undefined) return known;
    if (depth > maxDepth) {
      throw new TensioError('LIMIT_EXCEEDED', `${FORMAT}: values nested deeper than ${maxDepth} (maxNestingDepth)`, { format: FORMAT });
    }
    holdsTensor.set(value, false); // a cycle back here adds nothing
    work?.spend(valuesOf(value).length, 'looking for tensors');
    const found = valuesOf(value).some((item) => containsTensor(item, depth + 1));
    holdsTensor.set(value, found);
    return found;
  }

  function addName(name: string): string {
    // Names are paths: a long key above many tensors repeats in every name, so their length is paid for.
    work?.spend(1 + Math.ceil(name.length / 64), 'naming the tensors');
    if (names.has(name)) {
      throw new TensioError('DUPLICATE_NAME', `${FORMAT}: two values are both named ${quoteInput(name)} (a key containing a dot?)`, { format: FORMAT });
    }
    names.add(name);
    return name;
  }

  function walk(value: PickleValue, path: string, depth: number): void {
    if (value instanceof PickleTensor) {
      tensors.push(path === '' ? { name: addName('tensor'), tensor: value, bare: true } : { name: addName(path), tensor: value });
      return;
    }
    if (!isContainer(value) || !containsTensor(value, depth)) {
      if (path === '' && value instanceof PickleDict) {
        for (let i = 0; i < value.keys.length; i++) metadata[addName(keySegment(value.keys[i]!))] = plain(value.values[i]!, depth + 1);
      } else {
        metadata[addName(path === '' ? 'value' : path)] = plain(value, depth);
      }
      return;
    }
    const seen = firstPath.get(value);
    if (seen !== undefined) {
      metadata[addName(path)] = ancestors.has(value) ? '<cycle>' : { sameAs: seen };
      return;
    }
    firstPath.set(value, path);
    ancestors.add(value);
    work?.spend(valuesOf(value).length, 'naming the tensors');
    for (const [segment, item] of entriesOf(value)) walk(item, path === '' ? segment : `${path}.${segment}`, depth + 1);
    ancestors.delete(value);
  }

  walk(selected, '', 0);
  return { tensors, metadata };
}

/** `'; available keys: state_dict, epoch, …'`: what `key` could have been, for the NOT_FOUND message. */
function availableKeys(container: PickleValue): string {
  const shown = 20;
  if (container instanceof PickleDict) {
    const keys = container.keys.slice(0, shown).map((key) => quoteInput(keySegment(key)));
    return keys.length === 0 ? '; it is empty' : `; available keys: ${keys.join(', ')}${container.keys.length > shown ? `, … (${container.keys.length} in all)` : ''}`;
  }
  if (Array.isArray(container) || container instanceof PickleTuple) {
    const length = (Array.isArray(container) ? container : container.items).length;
    return `; indexes 0 to ${length - 1}`;
  }
  return '';
}

function selectKey(root: PickleValue, key: string): PickleValue {
  if (root instanceof PickleDict) {
    const direct = root.get(key);
    if (direct !== undefined) return direct;
  }
  let current: PickleValue = root;
  for (const segment of key.split('.')) {
    const next: PickleValue | undefined = current instanceof PickleDict
      ? current.get(segment) ?? current.values[current.keys.findIndex((k) => keySegment(k) === segment)]
      : Array.isArray(current) || current instanceof PickleTuple
        ? (Array.isArray(current) ? current : current.items)[Number(segment)]
        : undefined;
    if (next === undefined) {
      throw new TensioError('NOT_FOUND', `${FORMAT}: the checkpoint has no ${quoteInput(key)} (stopped at ${quoteInput(segment)} in a ${pickleTypeName(current)}${availableKeys(current)})`, { format: FORMAT });
    }
    current = next;
  }
  return current;
}
