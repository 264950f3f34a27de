/**
 * What torch's globals mean when a checkpoint is read without executing it: each
 * allow-listed callable is interpreted here by name, and everything else is refused.
 */
import { latin1Decode, latin1Encode } from '../../core/bytes.js';
import { TensioError } from '../../core/errors.js';
import { clipInput, quoteInput } from '../../core/quote.js';
import { PYTORCH_STORAGE_CLASSES } from './dtypes.js';
import { pickleCanonicalGlobal, pickleGlobalAllowed } from './pickle/allow-list.js';
import { pickleDescribe } from './pickle/describe.js';
import { PickleUnhashableError } from './pickle/key-table.js';
import type { PickleHooks, PickleRunContext } from './pickle/machine.js';
import {
  PickleComplex, PickleDict, PickleGlobal, PickleOpaque, PicklePlaceholder, PickleSet, PickleStorage, PickleTensor, PickleTuple, pickleTypeName, type PickleValue,
} from './pickle/values.js';
import { pytorchRebuildTensor } from './rebuild.js';

const FORMAT = 'pytorch';

/** Classes NEWOBJ may instantiate (`cls.__new__(cls, *args)`); functions are never NEWOBJ targets. */
const NEWOBJ_CLASSES = new Set([
  'collections.OrderedDict', 'collections.Counter', 'builtins.set', 'builtins.frozenset', 'builtins.bytearray', 'builtins.complex',
  'torch.Size', 'torch.nn.parameter.Parameter', 'torch.Tensor',
]);

/** A persistent id `('storage', type, key, location, numel[, view])`, decoded. */
export interface PytorchStorageId {
  storageType: PickleGlobal;
  key: string;
  location: string;
  numel: number;
  /** Legacy format only: `(view_key, offset, size)` when the storage is a view of another. */
  view?: { key: string; offset: number; size: number };
}

/** Options for {@link pytorchPickleHooks}. */
export interface PytorchPickleHooksOptions {
  /** Resolves a decoded storage id to the storage it names (zip and legacy files differ). */
  loadStorage(id: PytorchStorageId, offset: number): PickleStorage;
  /**
   * Represent globals outside the allow-list as inert {@link PicklePlaceholder}s instead
   * of refusing the file: REDUCE, NEWOBJ and BUILD on them give placeholders too, so
   * tensors elsewhere in the checkpoint can still be read. Nothing is imported or run.
   */
  allowUnknownGlobals?: boolean;
}

function fail(code: 'INVALID_PICKLE' | 'UNSAFE_PICKLE' | 'UNSUPPORTED_FEATURE', message: string, offset: number): never {
  throw new TensioError(code, `${FORMAT}: ${message}`, { format: FORMAT, offset });
}

function asText(value: PickleValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return latin1Decode(value);
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Storage classes the loader accepts as the `storage_type` of a persistent id, with dtype and item size. */
function storageEntry(type: PickleValue, offset: number): { dtype: PickleStorage['dtype']; itemSize: number; name: string } {
  if (type instanceof PickleGlobal) {
    if (type.module === 'torch' && PYTORCH_STORAGE_CLASSES[type.name]) return { ...PYTORCH_STORAGE_CLASSES[type.name]!, name: type.qualifiedName };
    if (type.qualifiedName === 'torch.storage.UntypedStorage') return { dtype: 'uint8', itemSize: 1, name: type.qualifiedName };
  }
  return fail('INVALID_PICKLE', `persistent id names ${pickleTypeName(type)}, not a storage class`, offset);
}

/**
 * Decodes a persistent id tuple as torch writes it. Anything but `('storage', …)` is refused.
 *
 * @example
 * ```ts
 * const id = pytorchDecodeStorageId(pid, offset); // { key: '0', numel: 6, … }
 * ```
 */
export function pytorchDecodeStorageId(pid: PickleValue, offset: number): PytorchStorageId {
  if (!(pid instanceof PickleTuple) || asText(pid.items[0]) !== 'storage') {
    return fail('UNSAFE_PICKLE', `persistent id ${pickleTypeName(pid)} is not a ('storage', …) tuple; only storages may be loaded`, offset);
  }
  const [, storageType, keyValue, locationValue, numelValue, viewValue] = pid.items;
  if (!(storageType instanceof PickleGlobal)) return fail('INVALID_PICKLE', `storage type is ${pickleTypeName(storageType)}, not a global`, offset);
  const key = asText(keyValue);
  const location = asText(locationValue) ?? 'cpu';
  if (key === undefined || !/^[\w.-]{1,200}$/.test(key)) return fail('INVALID_PICKLE', `storage key ${key === undefined ? pickleDescribe(keyValue ?? null) : quoteInput(key)} is not a plain name`, offset);
  if (typeof numelValue !== 'number' || !Number.isSafeInteger(numelValue) || numelValue < 0) {
    return fail('INVALID_PICKLE', `storage ${key} has element count ${pickleDescribe(numelValue ?? null)}`, offset);
  }
  const id: PytorchStorageId = { storageType, key, location, numel: numelValue };
  if (viewValue instanceof PickleTuple) {
    const [viewKey, viewOffset, viewSize] = viewValue.items;
    const viewKeyText = asText(viewKey);
    if (viewKeyText === undefined || typeof viewOffset !== 'number' || typeof viewSize !== 'number' || !Number.isSafeInteger(viewOffset) || !Number.isSafeInteger(viewSize) || viewOffset < 0 || viewSize < 0) {
      return fail('INVALID_PICKLE', `storage view metadata of ${key} is malformed`, offset);
    }
    id.view = { key: viewKeyText, offset: viewOffset, size: viewSize };
  } else if (viewValue !== undefined && viewValue !== null) {
    return fail('UNSUPPORTED_FEATURE', `persistent id of ${key} carries ${pickleTypeName(viewValue)} (a pickled nn.Module?); only storages are read`, offset);
  }
  return id;
}

/** Builds the storage a decoded id names, with dtype facts from its storage class. */
export function pytorchStorageFromId(id: PytorchStorageId, offset: number, viewOffset = 0): PickleStorage {
  const entry = storageEntry(id.storageType, offset);
  return new PickleStorage(id.key, entry.dtype, entry.name, entry.itemSize, id.numel, id.location, viewOffset);
}

function dictFrom(kind: PickleDict['kind'], args: readonly PickleValue[], offset: number, context: PickleRunContext): PickleDict {
  const dict = new PickleDict(kind, context.keys);
  const source = args[0];
  if (source === undefined || source === null) return dict;
  const pairs = Array.isArray(source) ? source : source instanceof PickleTuple ? source.items : undefined;
  if (!pairs) return fail('INVALID_PICKLE', `${kind}() from ${pickleTypeName(source)} is not supported`, offset);
  context.budget.spend(pairs.length, `${kind}() of ${pairs.length} pairs`);
  for (const pair of pairs) {
    if (!(pair instanceof PickleTuple) || pair.items.length !== 2) return fail('INVALID_PICKLE', `${kind}() item is not a (key, value) pair`, offset);
    try {
      dict.set(pair.items[0]!, pair.items[1]!);
    } catch (cause) {
      if (!(cause instanceof PickleUnhashableError)) throw cause;
      fail('INVALID_PICKLE', cause.message, offset);
    }
  }
  return dict;
}

function setFrom(frozen: boolean, args: readonly PickleValue[], offset: number, context: PickleRunContext): PickleSet {
  const set = new PickleSet(frozen);
  const source = args[0];
  if (source === undefined) return set;
  const items = Array.isArray(source) ? source : source instanceof PickleTuple || source instanceof PickleSet ? source.items : undefined;
  if (!items) return fail('INVALID_PICKLE', `set() from ${pickleTypeName(source)} is not supported`, offset);
  // A copy per call: the same big list turned into a set a million times must run out of budget.
  context.budget.spend(items.length, `set() of ${items.length} items`);
  for (const item of items) set.items.push(item); // not push(...items): that overflows the stack past ~100k items
  return set;
}

/** Work units for copying `bytes` bytes or characters (one per 64). */
function copyUnits(bytes: number): number {
  return Math.ceil(bytes / 64);
}

function codecsEncode(args: readonly PickleValue[], offset: number, context: PickleRunContext): Uint8Array {
  const [text, encoding] = args;
  if (typeof text !== 'string') return fail('INVALID_PICKLE', `_codecs.encode of ${pickleTypeName(text)}`, offset);
  context.budget.spend(copyUnits(text.length), `_codecs.encode of ${text.length} characters`);
  const name = typeof encoding === 'string' ? encoding.toLowerCase().replace('-', '') : 'utf8';
  if (name === 'latin1' || name === 'iso88591') {
    if (/[^\u0000-\u00ff]/.test(text)) return fail('INVALID_PICKLE', '_codecs.encode: text does not fit latin-1', offset);
    return latin1Encode(text);
  }
  if (name === 'utf8' || name === 'ascii') return new TextEncoder().encode(text);
  return fail('INVALID_PICKLE', `_codecs.encode with encoding ${pickleDescribe(encoding ?? null)} is not supported`, offset);
}

function tensorArgument(value: PickleValue | undefined, what: string, offset: number): PickleTensor {
  if (value instanceof PickleTensor) return value;
  return fail('INVALID_PICKLE', `${what} expects a tensor, got ${pickleTypeName(value)}`, offset);
}

/** `torch.device('cuda', 0)` or `torch.device('cuda:0')` as the text `cuda:0`; anything else is refused. */
function deviceName(args: readonly PickleValue[], offset: number): string {
  const [type, index] = args;
  const indexOk = index === undefined || index === null || (typeof index === 'number' && Number.isSafeInteger(index));
  if (typeof type !== 'string' || !indexOk || args.length > 2) {
    return fail('INVALID_PICKLE', `torch.device${pickleDescribe(new PickleTuple(args))} is not a device (a type name and an optional index)`, offset);
  }
  const name = clipInput(type);
  return typeof index === 'number' ? `${name}:${index}` : name;
}

/** Interprets one call of an allow-listed global. */
function callGlobal(callable: PickleGlobal, args: readonly PickleValue[], offset: number, context: PickleRunContext): PickleValue {
  const name = callable.qualifiedName;
  switch (name) {
    case 'collections.OrderedDict': return dictFrom('OrderedDict', args, offset, context);
    case 'collections.Counter': return dictFrom('Counter', args, offset, context);
    case 'builtins.set': return setFrom(false, args, offset, context);
    case 'builtins.frozenset': return setFrom(true, args, offset, context);
    case 'builtins.bytearray': {
      if (args.length === 0) return new Uint8Array(0);
      if (args[0] instanceof Uint8Array) {
        context.budget.spend(copyUnits(args[0].byteLength), `bytearray of ${args[0].byteLength} bytes`);
        return args[0].slice();
      }
      return codecsEncode(args, offset, context);
    }
    case 'builtins.complex': {
      const [real = 0, imag = 0] = args;
      if (typeof real !== 'number' || typeof imag !== 'number') return fail('INVALID_PICKLE', 'complex() of non-numbers', offset);
      return new PickleComplex(real, imag);
    }
    case '_codecs.encode': return codecsEncode(args, offset, context);
    case 'torch.Size': {
      const dims = args[0];
      if (dims instanceof PickleTuple) return dims;
      if (Array.isArray(dims)) return new PickleTuple(dims);
      return fail('INVALID_PICKLE', `torch.Size of ${pickleTypeName(dims)}`, offset);
    }
    case 'torch.device': return deviceName(args, offset);
    case 'torch.serialization._get_layout': {
      if (typeof args[0] !== 'string') return fail('INVALID_PICKLE', `_get_layout of ${pickleDescribe(args[0] ?? null)}, expected a layout name`, offset);
      return new PickleOpaque(`layout ${clipInput(args[0])}`);
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': return pytorchRebuildTensor(args, undefined, offset);
    case 'torch._utils._rebuild_tensor_v3': return pytorchRebuildTensor(args, args[6], offset);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
    case 'torch.nn.parameter.Parameter': {
      const data = args[0] === undefined && name === 'torch.nn.parameter.Parameter' ? undefined : tensorArgument(args[0], name, offset);
      if (!data) return new PickleOpaque('empty parameter');
      return data.asParameter(args[1] !== false);
    }
    case 'torch._utils._rebuild_device_tensor_from_cpu_tensor': return tensorArgument(args[0], name, offset);
    case 'torch._tensor._rebuild_from_type_v2': {
      const [func, newType, innerArgs] = args;
      if (!(func instanceof PickleGlobal)) return fail('UNSAFE_PICKLE', `_rebuild_from_type_v2 calls ${pickleTypeName(func)}, not an allowed global`, offset);
      if (!(innerArgs instanceof PickleTuple)) return fail('INVALID_PICKLE', '_rebuild_from_type_v2 arguments are not a tuple', offset);
      // torch never nests it; allowing that would let a file recurse as deep as its tuples go.
      if (func.qualifiedName === name) return fail('INVALID_PICKLE', '_rebuild_from_type_v2 calls itself', offset);
      const built = callGlobal(func, innerArgs.items, offset, context);
      const isParameter = newType instanceof PickleGlobal && newType.qualifiedName === 'torch.nn.parameter.Parameter';
      return isParameter && built instanceof PickleTensor ? built.asParameter(built.requiresGrad) : built;
    }
    case 'torch._utils._rebuild_qtensor': return new PickleOpaque('quantized tensor (torch._utils._rebuild_qtensor)');
    case 'torch._utils._rebuild_sparse_tensor': return new PickleOpaque('sparse tensor (torch._utils._rebuild_sparse_tensor)');
    case 'torch._utils._rebuild_meta_tensor_no_storage': return new PickleOpaque('meta tensor without data');
    case 'torch._utils._rebuild_wrapper_subclass': return new PickleOpaque('tensor subclass (torch._utils._rebuild_wrapper_subclass)');
    default: return fail('UNSUPPORTED_FEATURE', `calling ${name} is allowed by torch but not interpreted by tensio`, offset);
  }
}

/**
 * The hooks that make the pickle machine read torch checkpoints: the allow-list,
 * symbolic rebuild calls and storage persistent ids.
 *
 * @example
 * ```ts
 * const hooks = pytorchPickleHooks({ loadStorage: (id, at) => pytorchStorageFromId(id, at) });
 * const { value } = pickleRun(dataPkl, { hooks, format: 'pytorch' });
 * ```
 */
export function pytorchPickleHooks(options: PytorchPickleHooksOptions): PickleHooks {
  return {
    global(module, name, offset) {
      if (!pickleGlobalAllowed(module, name) && options.allowUnknownGlobals) return new PicklePlaceholder(clipInput(`${module}.${name}`));
      if (!pickleGlobalAllowed(module, name)) {
        fail('UNSAFE_PICKLE', `pickle references the global ${clipInput(`${module}.${name}`)}, which is not on the allow-list (torch weights_only refuses it too); nothing was executed`, offset);
      }
      const [canonicalModule, canonicalName] = pickleCanonicalGlobal(module, name);
      return new PickleGlobal(canonicalModule, canonicalName);
    },
    call(callable, args, opcode, offset, context) {
      // Only reachable with allowUnknownGlobals: the call is not made; its result is inert.
      if (callable instanceof PicklePlaceholder) return new PicklePlaceholder(callable.global, true);
      if (!(callable instanceof PickleGlobal)) {
        return fail('UNSAFE_PICKLE', `${opcode} on ${pickleTypeName(callable)}: only allow-listed globals may be called`, offset);
      }
      if (opcode === 'NEWOBJ' && !NEWOBJ_CLASSES.has(callable.qualifiedName)) {
        return fail('UNSAFE_PICKLE', `NEWOBJ on ${callable.qualifiedName}, which is not a class torch lets a checkpoint instantiate`, offset);
      }
      return callGlobal(callable, args.items, offset, context);
    },
    build(target, state, offset) {
      // torch restricts BUILD to tensors, parameters and OrderedDicts; their state is not data.
      if (target instanceof PickleDict || target instanceof PickleTensor || target instanceof PickleOpaque) return target;
      return fail('UNSAFE_PICKLE', `BUILD on ${pickleTypeName(target)} with ${pickleTypeName(state)}: only tensors and dicts take state`, offset);
    },
    persistentLoad(id, offset) {
      return options.loadStorage(pytorchDecodeStorageId(id, offset), offset);
    },
  };
}
