/**
 * The legacy (non-zip) checkpoint format of torch < 1.6 and `_use_new_zipfile_serialization=False`:
 * five pickles back to back (magic number, protocol version, sys_info, the object, the
 * storage keys), then per storage an i64 element count and its raw bytes.
 */
import { TensioError, errorFactory } from '../../core/errors.js';
import { PICKLE_MAX_BYTES } from '../../core/limits.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { pickleRun } from './pickle/machine.js';
import { PickleDict, PickleStorage, PickleTuple, pickleTypeName, type PickleValue } from './pickle/values.js';
import { pytorchPickleHooks, pytorchStorageFromId } from './pickle-hooks.js';
import { pytorchPickleBudget, pytorchRunPickle } from './read.js';
import type { PickleWorkBudget } from './pickle/budget.js';
import { pickleDescribe } from './pickle/describe.js';
import type { PickleHooks } from './pickle/machine.js';
import type { PytorchOpenOptions, PytorchParsed } from './types.js';

const FORMAT = 'pytorch';
const fail: ReturnType<typeof errorFactory> = errorFactory(FORMAT);

/** `torch.serialization.MAGIC_NUMBER`. */
export const PYTORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
/** `torch.serialization.PROTOCOL_VERSION`. */
export const PYTORCH_LEGACY_PROTOCOL_VERSION = 1001;
export { PYTORCH_LEGACY_PREFIX, pytorchIsLegacy } from './sniff.js';

/** Hooks for the small header pickles: plain data only, any global refused. */
const PLAIN_HOOKS: PickleHooks = {
  global: (module, name, offset) => fail('UNSAFE_PICKLE', `pytorch: legacy header pickle references ${module}.${name}`, { offset }),
  call: (_callable, _args, opcode, offset) => fail('UNSAFE_PICKLE', `pytorch: ${opcode} in a legacy header pickle`, { offset }),
  build: (_target, _state, offset) => fail('UNSAFE_PICKLE', 'pytorch: BUILD in a legacy header pickle', { offset }),
  persistentLoad: (_id, offset) => fail('INVALID_PICKLE', 'pytorch: persistent id in a legacy header pickle', { offset }),
};

interface LegacyPickles {
  value: PickleValue;
  littleEndian: boolean;
  keys: string[];
  /** Storage facts by root key (dtype and element count as the pickle declares them). */
  roots: Map<string, PickleStorage>;
  dataStart: number;
  protocol: number;
  budget: PickleWorkBudget;
}

async function parsePickles(bytes: Uint8Array, options: PytorchOpenOptions): Promise<LegacyPickles> {
  const magic = pickleRun(bytes, { hooks: PLAIN_HOOKS, format: FORMAT });
  if (magic.value !== PYTORCH_LEGACY_MAGIC) fail('BAD_MAGIC', 'pytorch: invalid magic number; corrupt file?');
  const version = pickleRun(bytes, { hooks: PLAIN_HOOKS, format: FORMAT, start: magic.end });
  if (version.value !== PYTORCH_LEGACY_PROTOCOL_VERSION) fail('UNSUPPORTED_VERSION', `pytorch: invalid legacy protocol version ${pickleDescribe(version.value)}`);
  const sysInfo = pickleRun(bytes, { hooks: PLAIN_HOOKS, format: FORMAT, start: version.end });
  const littleEndian = sysInfo.value instanceof PickleDict ? sysInfo.value.get('little_endian') !== false : true;

  const roots = new Map<string, PickleStorage>();
  const hooks = pytorchPickleHooks({
    allowUnknownGlobals: options.allowUnknownGlobals === true,
    loadStorage(id, offset) {
      // The key names the root storage and numel counts its elements; a view (very old files) is a window of it.
      const root = pytorchStorageFromId(id, offset);
      if (!roots.has(id.key)) roots.set(id.key, root);
      if (!id.view) return root;
      return new PickleStorage(id.key, root.dtype, root.formatDtype, root.itemSize, id.view.size, id.location, id.view.offset);
    },
  });
  const budget = pytorchPickleBudget(bytes.byteLength - sysInfo.end, options);
  const main = await pytorchRunPickle(bytes, hooks, options, sysInfo.end, budget);
  const keyList = pickleRun(bytes, { hooks: PLAIN_HOOKS, format: FORMAT, start: main.end });
  const list: PickleValue = keyList.value instanceof PickleTuple ? [...keyList.value.items] : keyList.value;
  if (!Array.isArray(list)) fail('INVALID_PICKLE', `pytorch: legacy storage key list is a ${pickleTypeName(list)}`);
  const keys = (list as PickleValue[]).map((key) => {
    if (typeof key === 'string') return key;
    if (key instanceof Uint8Array) return Buffer.from(key).toString('latin1');
    if (typeof key === 'number') return String(key);
    return fail('INVALID_PICKLE', `pytorch: legacy storage key is a ${pickleTypeName(key)}`);
  });
  return { value: main.value, littleEndian, keys, roots, dataStart: keyList.end, protocol: main.protocol, budget };
}

/**
 * Parses a legacy checkpoint: the pickles (read from a prefix that grows until they fit)
 * and the data section's per-storage counts, checked against the pickle.
 *
 * @example
 * ```ts
 * const parsed = await pytorchReadLegacy(await fileSource('old.pt'), {});
 * ```
 */
export async function pytorchReadLegacy(source: ByteSource, options: PytorchOpenOptions): Promise<PytorchParsed> {
  const signal = options.signal;
  const maxPickleBytes = Math.min(source.size, options.maxPickleBytes ?? PICKLE_MAX_BYTES);
  let length = Math.min(maxPickleBytes, 1 << 20);
  let parsed: LegacyPickles;
  for (;;) {
    const prefix = await source.read(0, length, signal ? { signal } : undefined);
    try {
      parsed = await parsePickles(prefix, options);
      break;
    } catch (error) {
      if (!(error instanceof TensioError) || error.code !== 'TRUNCATED' || length >= maxPickleBytes) {
        if (error instanceof TensioError && error.code === 'TRUNCATED' && length < source.size) {
          fail('LIMIT_EXCEEDED', `pytorch: legacy pickles are longer than ${maxPickleBytes} bytes (maxPickleBytes)`);
        }
        throw error;
      }
      length = Math.min(maxPickleBytes, length * 4);
    }
  }

  // Data section: for each key in order, i64 element count then the bytes.
  const dataOffsets = new Map<string, number>();
  let at = parsed.dataStart;
  for (const key of parsed.keys) {
    const root = parsed.roots.get(key);
    if (!root) fail('INVALID_PICKLE', `pytorch: legacy storage key ${key} is listed but no tensor names it, so its size is unknown`);
    const countBytes = await source.read(at, 8, signal ? { signal } : undefined);
    const count = new DataView(countBytes.buffer, countBytes.byteOffset, 8).getBigInt64(0, parsed.littleEndian);
    if (count < 0n || count * BigInt(root.itemSize) > BigInt(source.size - at - 8)) {
      fail('TRUNCATED', `pytorch: legacy storage ${key} claims ${count} elements of ${root.itemSize} bytes at byte ${at + 8} but the file ends at ${source.size}`, { offset: at });
    }
    if (count !== BigInt(root.numel)) {
      fail('SIZE_MISMATCH', `pytorch: legacy storage ${key} has ${count} elements but the pickle declares ${root.numel}`, { offset: at });
    }
    dataOffsets.set(key, at + 8);
    at += 8 + Number(count) * root.itemSize;
  }
  const byteOrder = parsed.littleEndian ? 'little' : 'big';
  const start = (storage: PickleStorage): number => {
    const offset = dataOffsets.get(storage.key);
    if (offset === undefined) fail('NOT_FOUND', `pytorch: legacy storage ${storage.key} is not in the data section`);
    const root = parsed.roots.get(storage.key)!;
    // In bytes: a pickle may name one key with two storage types of different widths.
    if ((storage.viewOffset + storage.numel) * storage.itemSize > root.numel * root.itemSize) {
      fail('INVALID_OFFSET', `pytorch: storage view [${storage.viewOffset}, +${storage.numel}) of ${storage.itemSize}-byte elements runs past storage ${storage.key} of ${root.numel * root.itemSize} bytes`);
    }
    return offset + storage.viewOffset * storage.itemSize;
  };
  // Check every storage the pickle named now, so a bad file fails at open, not at read.
  for (const key of parsed.roots.keys()) if (!dataOffsets.has(key)) fail('NOT_FOUND', `pytorch: legacy storage ${key} is not in the data section`);
  return {
    container: 'legacy',
    value: parsed.value,
    budget: parsed.budget,
    details: { byteOrder, pickleProtocol: parsed.protocol },
    storages: {
      byteOrder,
      rawOffset: start,
      readRange: (storage, byteOffset, size, readSignal) => source.read(start(storage) + byteOffset, size, readSignal ? { signal: readSignal } : undefined),
    },
  };
}
