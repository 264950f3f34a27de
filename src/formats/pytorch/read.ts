/**
 * Zip checkpoints (torch ≥ 1.6): `<root>/data.pkl` plus one stored record per storage
 * under `<root>/data/`. The pickle is run by the allow-list machine; storages are
 * located (not read) here.
 */
import { latin1Decode } from '../../core/bytes.js';
import { TensioError, errorFactory } from '../../core/errors.js';
import { PICKLE_MAX_BYTES } from '../../core/limits.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { ZipArchive, ZipEntry } from '../../zip/types.js';
import { zipOpen } from '../../zip/read.js';
import { quoteInput } from '../../core/quote.js';
import { PickleWorkBudget } from './pickle/budget.js';
import { pickleRunAsync, type PickleHooks, type PickleRunResult } from './pickle/machine.js';
import { pickleDescribeGlobals, pickleScanGlobals } from './pickle/scan.js';
import type { PickleStorage } from './pickle/values.js';
import { pytorchPickleHooks, pytorchStorageFromId } from './pickle-hooks.js';
import type { PytorchByteOrder, PytorchOpenOptions, PytorchParsed } from './types.js';

const FORMAT = 'pytorch';
const fail: ReturnType<typeof errorFactory> = errorFactory(FORMAT);

/**
 * The work budget of a checkpoint's main pickle (see `PICKLE_WORK_PER_BYTE`), shared
 * with the step that names its tensors.
 *
 * @example
 * ```ts
 * const budget = pytorchPickleBudget(bytes.byteLength, options);
 * ```
 */
export function pytorchPickleBudget(pickleBytes: number, options: PytorchOpenOptions): PickleWorkBudget {
  return new PickleWorkBudget(pickleBytes, {
    format: FORMAT,
    ...(options.maxPickleWork !== undefined ? { maxPickleWork: options.maxPickleWork } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Runs a checkpoint pickle (yielding to the event loop as it goes, so `options.signal`
 * is honoured); when it is refused as unsafe, the error message lists the globals the
 * pickle references (found by disassembly, nothing built or run).
 *
 * @example
 * ```ts
 * const { value } = await pytorchRunPickle(bytes, hooks, options, 0, budget);
 * ```
 */
export async function pytorchRunPickle(bytes: Uint8Array, hooks: PickleHooks, options: PytorchOpenOptions, start = 0, budget?: PickleWorkBudget): Promise<PickleRunResult> {
  try {
    return await pickleRunAsync(bytes, { ...options, hooks, start, format: FORMAT, ...(budget ? { budget } : {}) });
  } catch (error) {
    if (error instanceof TensioError && error.code === 'UNSAFE_PICKLE') {
      const report = pickleScanGlobals(bytes.subarray(start));
      throw new TensioError('UNSAFE_PICKLE', `${error.message}. Globals referenced by this pickle: ${pickleDescribeGlobals(report)}. ` +
        'To read the tensors anyway, pass allowUnknownGlobals: true (CLI: --allow-unknown-globals): globals outside the allow-list then become inert placeholders, never imported or called', {
        format: FORMAT, ...(error.offset !== undefined ? { offset: error.offset } : {}), cause: error,
      });
    }
    throw error;
  }
}

/** The archive folder every record sits in: taken from the first entry's name, as torch does. */
export function pytorchArchiveRoot(archive: ZipArchive): string {
  const first = archive.entries[0];
  if (!first) fail('INVALID_ZIP', 'pytorch: the archive has no entries');
  const slash = first.name.indexOf('/');
  if (slash <= 0) {
    const npyMembers = archive.entries.some((entry) => entry.name.endsWith('.npy'));
    fail('INVALID_ZIP', `pytorch: not a PyTorch checkpoint: a zip whose first member ${quoteInput(first.name)} is not inside a folder, where torch.save puts <folder>/data.pkl${npyMembers ? '; its .npy members suggest a NumPy .npz (try --from npz)' : ''}`);
  }
  return first.name.slice(0, slash);
}

async function readSmallRecord(archive: ZipArchive, entry: ZipEntry | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!entry) return undefined;
  if (entry.uncompressedSize > 64) fail('INVALID_HEADER', `pytorch: record ${entry.name} holds ${entry.uncompressedSize} bytes, expected a short text`);
  return latin1Decode(await archive.readEntry(entry, signal ? { signal } : {})).trim();
}

/**
 * Parses a zip checkpoint: checks the version and byteorder records, runs `data.pkl`
 * and locates every storage record it names (sizes checked against the pickle).
 *
 * @example
 * ```ts
 * const parsed = await pytorchReadZip(await fileSource('model.pt'), {});
 * ```
 */
export async function pytorchReadZip(source: ByteSource, options: PytorchOpenOptions): Promise<PytorchParsed> {
  const signal = options.signal;
  const archive = await zipOpen(source, {
    format: FORMAT,
    ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
    ...(options.maxEntryBytes !== undefined ? { maxEntryBytes: options.maxEntryBytes } : {}),
    ...(signal ? { signal } : {}),
  });
  const root = pytorchArchiveRoot(archive);
  const record = (name: string) => archive.entry(`${root}/${name}`);
  if (record('constants.pkl')) {
    fail('UNSUPPORTED_FEATURE', 'pytorch: this is a TorchScript archive (constants.pkl); save a state_dict with torch.save instead');
  }
  const versionText = await readSmallRecord(archive, record('version') ?? record('.data/version'), signal);
  if (versionText !== undefined && !/^([1-9]|10)$/.test(versionText)) {
    fail('UNSUPPORTED_VERSION', `pytorch: archive version ${quoteInput(versionText)} is not in 1..10`);
  }
  const byteOrderText = await readSmallRecord(archive, record('byteorder'), signal);
  if (byteOrderText !== undefined && byteOrderText !== 'little' && byteOrderText !== 'big') {
    fail('INVALID_HEADER', `pytorch: byteorder record says ${quoteInput(byteOrderText)}, expected little or big`);
  }
  const byteOrder: PytorchByteOrder = byteOrderText === 'big' ? 'big' : 'little';
  const pickleEntry = record('data.pkl');
  if (!pickleEntry) fail('NOT_FOUND', `pytorch: not a PyTorch checkpoint: the zip has no ${root}/data.pkl record, which torch.save always writes`);
  const maxPickleBytes = options.maxPickleBytes ?? PICKLE_MAX_BYTES;
  if (pickleEntry.uncompressedSize > maxPickleBytes) {
    fail('LIMIT_EXCEEDED', `pytorch: data.pkl holds ${pickleEntry.uncompressedSize} bytes, more than ${maxPickleBytes} (maxPickleBytes)`);
  }
  const pickleBytes = await archive.readEntry(pickleEntry, signal ? { signal } : {});

  const records = new Map<string, ZipEntry>();
  const hooks = pytorchPickleHooks({
    allowUnknownGlobals: options.allowUnknownGlobals === true,
    loadStorage(id, offset) {
      const entry = record(`data/${id.key}`);
      if (!entry) fail('NOT_FOUND', `pytorch: data.pkl names storage ${id.key} but the archive has no ${root}/data/${id.key}`, { offset });
      const storage = pytorchStorageFromId(id, offset);
      const expected = BigInt(storage.numel) * BigInt(storage.itemSize);
      if (BigInt(entry.uncompressedSize) !== expected) {
        fail('SIZE_MISMATCH', `pytorch: record data/${id.key} holds ${entry.uncompressedSize} bytes but its storage needs ${storage.numel} × ${storage.itemSize} = ${expected}`, { offset });
      }
      records.set(id.key, entry);
      return storage;
    },
  });
  const budget = pytorchPickleBudget(pickleBytes.byteLength, options);
  const result = await pytorchRunPickle(pickleBytes, hooks, options, 0, budget);

  // Data offsets come from local headers (torch pads them there), so look each one up once now.
  const offsets = new Map<string, number>();
  for (const [key, entry] of records) {
    if (entry.method === 0) offsets.set(key, await archive.dataOffset(entry, signal ? { signal } : {}));
  }
  const entryOf = (storage: PickleStorage): ZipEntry => records.get(storage.key)!;
  return {
    container: 'zip',
    value: result.value,
    budget,
    details: { archiveRoot: root, version: versionText === undefined ? undefined : Number(versionText), byteOrder, pickleProtocol: result.protocol },
    storages: {
      byteOrder,
      rawOffset: (storage) => offsets.get(storage.key),
      async readRange(storage, byteOffset, length, readSignal) {
        const raw = offsets.get(storage.key);
        if (raw !== undefined) return source.read(raw + byteOffset, length, readSignal ? { signal: readSignal } : undefined);
        const whole = await archive.readEntry(entryOf(storage), readSignal ? { signal: readSignal } : {});
        return whole.subarray(byteOffset, byteOffset + length);
      },
      chunk(storage, byteOffset, length) {
        if (offsets.has(storage.key)) return undefined;
        return archive.entryChunk(entryOf(storage), { skip: byteOffset, byteLength: length });
      },
    },
  };
}
