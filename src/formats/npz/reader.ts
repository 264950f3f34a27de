/**
 * Opening a `.npz` as a {@link TensorReader}: one tensor per `<key>.npy` member.
 */
import { openSourceInput, sourceOptionsOf, type RemoteOptions } from '../../storage/source-input.js';
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorPartInfo } from '../../model/layouts.js';
import { UNSUPPORTED_TENSORS_KEY, type TensorInfo, type TensorReader, type UnsupportedTensor } from '../../model/types.js';
import { toByteSource, type ByteInput, type ByteSource } from '../../storage/byte-source.js';
import { withCache } from '../../storage/cached-source.js';
import { fileSource } from '../../storage/file-source.js';
import { zipOpen } from '../../zip/read.js';
import type { ZipArchive, ZipEntry } from '../../zip/types.js';
import { npyIsTensioLayout, npyToTensioLayout } from '../npy/layout.js';
import { NpyDtypeError } from '../npy/dtypes.js';
import { npyTensorInfo } from '../npy/reader.js';
import type { NpyHeader } from '../npy/types.js';
import { npzReadMemberHeader } from './read.js';
import type { NpzOpenOptions } from './types.js';
import { npzKeyOf } from './validate.js';
import { quoteInput } from '../../core/quote.js';
import { SCIPY_FORMAT_KEY, SCIPY_FORMAT_MAX_BYTES, scipyFormatName, scipySparseView, type ScipySparseView } from './scipy-sparse.js';

interface NpzMember {
  entry: ZipEntry;
  header: NpyHeader;
  /** Absolute offset of the array data, for stored members. */
  dataOffset?: number;
}

/** The error with the member named in its message (once), so every npz error says which member. */
function withMemberName(error: unknown, memberName: string): unknown {
  if (!(error instanceof TensioError) || error.message.includes(JSON.stringify(memberName))) return error;
  const message = error.message.replace(/^npz: /, '');
  return new TensioError(error.code, `npz: member ${quoteInput(memberName)}: ${message}`, {
    format: error.format,
    ...(error.path !== undefined ? { path: error.path } : {}),
    ...(error.offset !== undefined ? { offset: error.offset } : {}),
    cause: error.cause ?? error,
  });
}

/**
 * Opens `.npz` data from a source. Stored members already in tensio's layout are read
 * straight from the archive (spans); deflated ones stream through a bounded inflate
 * (chunks), CRC-checked when read to the end; members that need converting (big-endian,
 * Fortran order) are decoded one tensor at a time. Members that are not `.npy` are listed in
 * `metadata.otherMembers`.
 *
 * @example
 * ```ts
 * const reader = await npzOpenSource(bytesSource(fileBytes));
 * ```
 */
export async function npzOpenSource(source: ByteSource, options: NpzOpenOptions & { ownsSource?: boolean } = {}): Promise<TensorReader> {
  let zip: ZipArchive;
  const members = new Map<string, NpzMember>();
  const otherMembers: string[] = [];
  const unsupported: UnsupportedTensor[] = [];
  const signal = options.signal ? { signal: options.signal } : {};
  /** SciPy's `format` member (a bytes scalar), when the archive has one: a sparse matrix may follow. */
  let scipyFormatEntry: ZipEntry | undefined;
  try {
    // Member headers are a few small reads each, back to back in the file: a block cache
    // turns a million of them into a few thousand reads (large reads pass through).
    // A source that caches already (a remote one) is used as it is: two caches multiply what is fetched.
    zip = await zipOpen(source.cached ? source : withCache(source, { blockBytes: 256 * 1024, maxBlocks: 16 }), {
      format: 'npz',
      ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
      ...(options.maxEntryBytes !== undefined ? { maxEntryBytes: options.maxEntryBytes } : {}),
      ...signal,
    });
    for (const entry of zip.entries) {
      throwIfAborted(options.signal);
      const key = npzKeyOf(entry.name);
      if (key === undefined) {
        if (!entry.name.endsWith('/')) otherMembers.push(entry.name);
        continue;
      }
      let header: NpyHeader;
      try {
        header = await npzReadMemberHeader(zip, entry, options);
      } catch (error) {
        // A member of a dtype tensio cannot hold (strings, objects, records) is listed,
        // not fatal: the other members stay readable. Anything else is damage.
        if (error instanceof NpyDtypeError) {
          if (key === SCIPY_FORMAT_KEY) scipyFormatEntry = entry;
          unsupported.push({ name: key, formatDtype: error.descr, code: error.code, reason: error.message.replace(/^npz: /, '') });
          continue;
        }
        throw withMemberName(error, entry.name);
      }
      const member: NpzMember = { entry, header };
      if (entry.method === 0) member.dataOffset = (await zip.dataOffset(entry, signal)) + header.dataOffset;
      members.set(key, member);
    }
  } catch (error) {
    if (options.ownsSource) await source.close?.();
    throw error;
  }
  let tensors: TensorInfo[] = [...members].map(([key, member]) => npyTensorInfo(key, member.header, {
    member: member.entry.name,
    compressed: member.entry.method !== 0,
    ...(member.dataOffset !== undefined ? { fileOffset: member.dataOffset } : {}),
  }));

  async function locate(info: TensorInfo): Promise<TensorLocation> {
    const member = members.get(info.name)!;
    const { header } = member;
    if (npyIsTensioLayout(header)) {
      if (member.dataOffset !== undefined) return { kind: 'span', source, offset: member.dataOffset };
      // A deflated member streams: one chunk, inflated as far as a slice needs, CRC-checked when read to its end.
      const chunk = await zip.entryChunk(member.entry, { skip: header.dataOffset, byteLength: header.byteLength, checkCrc: options.checkCrc !== false });
      return { kind: 'chunks', chunks: [chunk] };
    }
    return {
      kind: 'decode',
      async decode(abortSignal) {
        try {
          const whole = await zip.readEntry(member.entry, { ...(abortSignal ? { signal: abortSignal } : {}), ...(options.checkCrc === false ? { checkCrc: false } : {}) });
          return npyToTensioLayout(whole.subarray(header.dataOffset, header.dataOffset + header.byteLength), header);
        } catch (error) {
          throw withMemberName(error, member.entry.name);
        }
      },
    };
  }

  // A SciPy save_npz file reads as its one sparse tensor (formatOptions.scipySparse: false lists the members).
  let sparse: ScipySparseView | undefined;
  let sparseNote: string | undefined;
  if (scipyFormatEntry && options.scipySparse !== false) {
    try {
      const found = await readScipySparse(scipyFormatEntry);
      if ('info' in found) sparse = found;
      else sparseNote = found.skipped;
    } catch (error) {
      if (options.ownsSource) await source.close?.();
      throw withMemberName(error, scipyFormatEntry.name);
    }
  }
  async function readScipySparse(entry: ZipEntry): ReturnType<typeof scipySparseView> {
    if (entry.uncompressedSize > SCIPY_FORMAT_MAX_BYTES) return { skipped: `member ${quoteInput(entry.name)} is ${entry.uncompressedSize} bytes, not SciPy's format name` };
    const name = scipyFormatName(await zip.readEntry(entry, { ...signal, ...(options.checkCrc === false ? { checkCrc: false } : {}) }));
    if (name === undefined) return { skipped: `member ${quoteInput(entry.name)} is not a bytes or text scalar` };
    const infos = new Map(tensors.map((info) => [info.name, info]));
    const readMember = async (key: string, abortSignal?: AbortSignal): Promise<Uint8Array> => {
      const info = infos.get(key)!;
      const location = await locate(info);
      if (location.kind === 'decode') return location.decode(abortSignal);
      const reader = createTensorReader({ format: 'npz', size: source.size, metadata: {}, tensors: [info], locate: () => location });
      return (await reader.read(key, abortSignal ? { signal: abortSignal } : {})).data;
    };
    return scipySparseView(name, { members: infos, locate, read: readMember }, options.signal);
  }
  if (sparse) {
    const consumed = sparse.consumed;
    tensors = [sparse.info, ...tensors.filter((info) => !consumed.has(info.name))];
    const remaining = unsupported.filter((entry) => entry.name !== SCIPY_FORMAT_KEY);
    unsupported.length = 0;
    unsupported.push(...remaining);
  }

  return createTensorReader({
    format: 'npz',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: {
      ...(otherMembers.length > 0 ? { otherMembers } : {}),
      ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}),
      ...(sparse ? sparse.metadata : {}),
      ...(sparseNote ? { scipySparse: `not read as sparse: ${sparseNote}` } : {}),
    },
    tensors,
    locate,
    ...(sparse ? { locatePart: (_info: TensorInfo, part: TensorPartInfo) => sparse!.locatePart(part) } : {}),
    ...(options.ownsSource ? { close: async () => { await source.close?.(); } } : {}),
  });
}

/**
 * Opens a `.npz` file (path, source or bytes) as a {@link TensorReader}; keys are the
 * member names without `.npy` (`arr_0`, … for positional arrays).
 *
 * @example
 * ```ts
 * await using reader = await npzOpen('arrays.npz');
 * const x = await reader.read('x');
 * ```
 */
export async function npzOpen(input: string | ByteInput, options: NpzOpenOptions & RemoteOptions = {}): Promise<TensorReader> {
  if (typeof input !== 'string') return npzOpenSource(toByteSource(input), options);
  // A path, or an http(s):// or s3:// URL with the call's own settings.
  const { source } = await openSourceInput(input, sourceOptionsOf(options));
  return npzOpenSource(source, { ...options, ownsSource: true });
}
