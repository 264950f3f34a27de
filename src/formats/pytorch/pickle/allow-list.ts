/**
 * The globals a checkpoint may name, mirroring torch's `weights_only` unpickler
 * (`_get_allowed_globals`). A global is only ever looked up here, never imported.
 */
import { PYTORCH_DTYPES, PYTORCH_SIZELESS_DTYPES, PYTORCH_STORAGE_CLASSES } from '../dtypes.js';

/** Python 2 module names, remapped first as `_compat_pickle` does. */
const PY2_MODULES: Readonly<Record<string, string>> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
};

/** Modules refused even if someone adds them to the allow-list (torch blocks them too). */
const BLOCKED_MODULES = new Set(['os', 'sys', 'posix', 'nt', 'subprocess', 'runpy', 'pty', 'socket', 'shutil']);

const TENSOR_CLASSES = [
  'DoubleTensor', 'FloatTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor',
  'CharTensor', 'ByteTensor', 'BoolTensor', 'ComplexFloatTensor', 'ComplexDoubleTensor',
];

const REBUILD_FUNCTIONS = [
  'tensor', 'tensor_v2', 'tensor_v3', 'parameter', 'parameter_with_state', 'qtensor', 'sparse_tensor',
  'meta_tensor_no_storage', 'wrapper_subclass', 'device_tensor_from_numpy', 'device_tensor_from_cpu_tensor',
];

const QSCHEMES = ['per_tensor_affine', 'per_tensor_symmetric', 'per_channel_affine', 'per_channel_symmetric', 'per_channel_affine_float_qparams'];

/** Every allowed `module.name`. */
export const PICKLE_ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'collections.OrderedDict',
  'collections.Counter',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  '_codecs.encode',
  'builtins.bytearray',
  'builtins.set',
  'builtins.frozenset',
  'builtins.complex',
  'torch.storage.UntypedStorage',
  'torch.storage.TypedStorage',
  'torch._tensor._rebuild_from_type_v2',
  ...Object.keys(PYTORCH_DTYPES).map((name) => `torch.${name}`),
  ...PYTORCH_SIZELESS_DTYPES.map((name) => `torch.${name}`),
  ...Object.keys(PYTORCH_STORAGE_CLASSES).map((name) => `torch.${name}`),
  ...TENSOR_CLASSES.map((name) => `torch.${name}`),
  ...QSCHEMES.map((name) => `torch.${name}`),
  ...REBUILD_FUNCTIONS.map((name) => `torch._utils._rebuild_${name}`),
]);

/**
 * The canonical `[module, name]` of a global after Python 2 remapping.
 *
 * @example
 * ```ts
 * pickleCanonicalGlobal('__builtin__', 'set'); // ['builtins', 'set']
 * ```
 */
export function pickleCanonicalGlobal(module: string, name: string): [string, string] {
  // Own properties only: a module named `__proto__` or `constructor` must not reach Object.prototype.
  return [Object.hasOwn(PY2_MODULES, module) ? PY2_MODULES[module]! : module, name];
}

/**
 * True when a checkpoint may reference `module.name` (after Python 2 remapping).
 *
 * @example
 * ```ts
 * pickleGlobalAllowed('torch._utils', '_rebuild_tensor_v2'); // true
 * pickleGlobalAllowed('posix', 'system'); // false
 * ```
 */
export function pickleGlobalAllowed(module: string, name: string): boolean {
  const [canonicalModule, canonicalName] = pickleCanonicalGlobal(module, name);
  const root = canonicalModule.split('.')[0]!;
  if (BLOCKED_MODULES.has(root)) return false;
  return PICKLE_ALLOWED_GLOBALS.has(`${canonicalModule}.${canonicalName}`);
}
