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

/** A dict, OrderedDict or Counter: keys in insertion order, later SETITEMs replace. */
export class PickleDict {
  readonly keys: PickleValue[] = [];
  readonly values: PickleValue[] = [];
  // Three indexes so the common keys (strings, ints) are looked up as they are, with no key text built.
  private readonly byString = new Map<string, number>();
  private readonly byNumber = new Map<number, number>();
  private readonly byForm = new Map<string, number>();
  private readonly keyTable: PickleKeyTable;

  /** `keyTable`: the run's shared table (see {@link PickleKeyTable}); a private one by default. */
  constructor(readonly kind: 'dict' | 'OrderedDict' | 'Counter' = 'dict', keyTable?: PickleKeyTable) {
    this.keyTable = keyTable ?? new PickleKeyTable();
  }

  /** Sets `key`; throws {@link PickleUnhashableError} for unhashable keys (the machine turns it into INVALID_PICKLE). */
  set(key: PickleValue, value: PickleValue): void {
    // `1`, `1.0` and `True` are one key in a Python dict, and so they are here (Map compares 0 and -0 equal too).
    if (typeof key === 'string') this.setIn(this.byString, key, key, value);
    else if (typeof key === 'number') this.setIn(this.byNumber, key, key, value);
    else if (typeof key === 'boolean') this.setIn(this.byNumber, key ? 1 : 0, key, value);
    else if (typeof key === 'bigint' && Number.isSafeInteger(Number(key)) && BigInt(Number(key)) === key) this.setIn(this.byNumber, Number(key), key, value);
    else if (key instanceof PickleComplex && key.imag === 0) this.setIn(this.byNumber, key.real, key, value);
    else this.setIn(this.byForm, this.keyTable.keyOf(key), key, value);
  }

  private setIn<K>(index: Map<K, number>, indexKey: K, key: PickleValue, value: PickleValue): void {
    const at = index.get(indexKey);
    if (at !== undefined) {
      this.values[at] = value;
      return;
    }
    index.set(indexKey, this.keys.length);
    this.keys.push(key);
    this.values.push(value);
  }

  /** The value stored under a string key, if any. */
  get(key: string): PickleValue | undefined {
    const at = this.byString.get(key);
    return at === undefined ? undefined : this.values[at];
  }

  get size(): number {
    return this.keys.length;
  }
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
