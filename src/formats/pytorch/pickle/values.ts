/**
 * What the pickle machine builds. Nothing here is a live Python object: calls to
 * allow-listed functions become these plain records, interpreted symbolically.
 */
import type { DType } from '../../../core/dtype.js';
import { PickleKeyTable } from './key-table.js';

/** A value on the pickle stack. Lists are plain arrays; `None` is `null`. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleSet
  | PickleComplex
  | PickleGlobal
  | PickleStorage
  | PickleTensor
  | PickleOpaque;

/** A Python tuple (immutable; told apart from lists because APPEND only works on lists). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** The empty tuple, one for all as in Python (tuples are immutable): 8 M `EMPTY_TUPLE`s cost one object. */
export const EMPTY_PICKLE_TUPLE = new PickleTuple(Object.freeze([]));

/** The keys and values of a dict that has none (shared: most dicts in a hostile pickle are empty). */
const NO_ITEMS: readonly PickleValue[] = Object.freeze([]);

/** A dict's items and indexes, made on its first item. */
interface DictItems {
  readonly keys: PickleValue[];
  readonly values: PickleValue[];
  // Three indexes so the common keys (strings, ints) are looked up as they are, with no key text built.
  byString?: Map<string, number>;
  byNumber?: Map<number, number>;
  byForm?: Map<string, number>;
}

/** A dict, OrderedDict or Counter: keys in insertion order, later SETITEMs replace. */
export class PickleDict {
  // Everything but the kind is made on first use: a pickle of 8 M empty dicts (8 MB) must
  // cost about what Python's 64-byte empty dicts cost, not arrays and Maps per dict.
  #items: DictItems | undefined;
  #keyTable: PickleKeyTable | undefined;

  /** `keyTable`: the run's shared table (see {@link PickleKeyTable}); a private one by default. */
  constructor(readonly kind: 'dict' | 'OrderedDict' | 'Counter' = 'dict', keyTable?: PickleKeyTable) {
    this.#keyTable = keyTable;
  }

  /** Sets `key`; throws {@link PickleUnhashableError} for unhashable keys (the machine turns it into INVALID_PICKLE). */
  set(key: PickleValue, value: PickleValue): void {
    const items = (this.#items ??= { keys: [], values: [] });
    // `1`, `1.0` and `True` are one key in a Python dict, and so they are here (Map compares 0 and -0 equal too).
    if (typeof key === 'string') setIn(items, items.byString ??= new Map(), key, key, value);
    else if (typeof key === 'number') setIn(items, items.byNumber ??= new Map(), key, key, value);
    else if (typeof key === 'boolean') setIn(items, items.byNumber ??= new Map(), key ? 1 : 0, key, value);
    else if (typeof key === 'bigint' && Number.isSafeInteger(Number(key)) && BigInt(Number(key)) === key) setIn(items, items.byNumber ??= new Map(), Number(key), key, value);
    else if (key instanceof PickleComplex && key.imag === 0) setIn(items, items.byNumber ??= new Map(), key.real, key, value);
    else setIn(items, items.byForm ??= new Map(), (this.#keyTable ??= new PickleKeyTable()).keyOf(key), key, value);
  }

  /** Keys in insertion order. */
  get keys(): readonly PickleValue[] {
    return this.#items?.keys ?? NO_ITEMS;
  }

  /** Values, in the order of {@link PickleDict.keys}. */
  get values(): readonly PickleValue[] {
    return this.#items?.values ?? NO_ITEMS;
  }

  /** The value stored under a string key, if any. */
  get(key: string): PickleValue | undefined {
    const at = this.#items?.byString?.get(key);
    return at === undefined ? undefined : this.#items!.values[at];
  }

  get size(): number {
    return this.keys.length;
  }
}

function setIn<K>(items: DictItems, index: Map<K, number>, indexKey: K, key: PickleValue, value: PickleValue): void {
  const at = index.get(indexKey);
  if (at !== undefined) {
    items.values[at] = value;
    return;
  }
  index.set(indexKey, items.keys.length);
  items.keys.push(key);
  items.values.push(value);
}

/** A set or frozenset. */
export class PickleSet {
  readonly items: PickleValue[] = [];
  constructor(readonly frozen: boolean) {}
}

/** `builtins.complex(real, imag)`. */
export class PickleComplex {
  constructor(readonly real: number, readonly imag: number) {}
}

/** A reference to an allow-listed global such as `torch.FloatStorage` (never imported). */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage named by a persistent id: which record holds it and how its bytes read. */
export class PickleStorage {
  constructor(
    /** Record key (`data/<key>` in a zip, the storage key in the legacy format). */
    readonly key: string,
    /** tensio dtype of the storage's elements (`'uint8'` for UntypedStorage). */
    readonly dtype: DType,
    /** The storage class as the file names it, e.g. `torch.FloatStorage`. */
    readonly formatDtype: string,
    readonly itemSize: number,
    /** Elements of `dtype` (bytes for UntypedStorage). */
    readonly numel: number,
    readonly location: string,
    /** Legacy storage views: elements skipped in the root storage. */
    readonly viewOffset = 0,
  ) {}
}

/** A tensor as a rebuild function describes it; data is read later. */
export class PickleTensor {
  constructor(
    readonly storage: PickleStorage,
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly dtype: DType,
    /** Original dtype name, e.g. `torch.float8_e4m3fn` or `torch.FloatStorage`. */
    readonly formatDtype: string,
    readonly itemSize: number,
    readonly requiresGrad: boolean,
    readonly parameter: boolean,
  ) {}

  /** The same tensor marked as an `nn.Parameter`. */
  asParameter(requiresGrad: boolean): PickleTensor {
    return new PickleTensor(this.storage, this.storageOffset, this.shape, this.stride, this.dtype, this.formatDtype, this.itemSize, requiresGrad, true);
  }
}

/** An allow-listed object tensio does not interpret (quantized or sparse tensors, layouts). */
export class PickleOpaque {
  constructor(readonly description: string) {}
}

/**
 * A global outside the allow-list, read with `allowUnknownGlobals`: an inert node that
 * stands for the global and for anything built from it (REDUCE, NEWOBJ, BUILD). It is
 * never imported and never called; it only keeps the global's name for messages.
 */
export class PicklePlaceholder extends PickleOpaque {
  constructor(readonly global: string, readonly built = false) {
    super(built ? `${global}(…) placeholder` : `${global} placeholder`);
  }
}

/** A short Python-like type name for messages. */
export function pickleTypeName(value: PickleValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof PickleTuple) return 'tuple';
  if (value instanceof PickleDict) return value.kind;
  if (value instanceof PickleSet) return value.frozen ? 'frozenset' : 'set';
  if (value instanceof PickleComplex) return 'complex';
  if (value instanceof PickleGlobal) return value.qualifiedName;
  if (value instanceof PickleStorage) return 'storage';
  if (value instanceof PickleTensor) return 'tensor';
  if (value instanceof PickleOpaque) return value.description;
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  return typeof value === 'string' ? 'str' : 'bool';
}
