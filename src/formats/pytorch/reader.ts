/**
 * `pytorchOpen`: a checkpoint (zip or legacy) as a {@link TensorReader}. Contiguous
 * little-endian tensors are read straight from their storage record; strided views,
 * big-endian storages and deflated records are decoded one tensor at a time.
 */
import { TensioError, errorFactory } from '../../core/errors.js';
import { MAX_TENSOR_BYTES } from '../../core/limits.js';
import { checkedSize, elementCount } from '../../core/sizes.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { pytorchCollect } from './collect.js';
import { pytorchByteSwap, pytorchGather, pytorchSpanElements } from './gather.js';
import { pytorchIsLegacy, pytorchReadLegacy } from './legacy.js';
import type { PickleTensor } from './pickle/values.js';
import { pytorchReadZip } from './read.js';
import { pytorchIsContiguous } from './rebuild.js';
import type { PytorchOpenOptions, PytorchParsed, PytorchStorageAccess } from './types.js';

const FORMAT = 'pytorch';
const fail: ReturnType<typeof errorFactory> = errorFactory(FORMAT);

/**
 * Names listed in a tensor's `extras.sharedWith` (the other views of its storage);
 * `extras.sharedCount` says how many there are in all.
 */
export const PYTORCH_SHARED_NAMES_LISTED = 8;

/** True when bytes start a zip archive (`PK\x03\x04`), which is all torch checks. */
export function pytorchIsZip(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/**
 * Parses a checkpoint's container and pickle (nothing executed), without naming tensors.
 *
 * @example
 * ```ts
 * const parsed = await pytorchParse(await fileSource('model.pt'));
 * console.log(parsed.container); // 'zip'
 * ```
 */
export async function pytorchParse(source: ByteSource, options: PytorchOpenOptions = {}): Promise<PytorchParsed> {
  const head = await source.read(0, Math.min(16, source.size), options.signal ? { signal: options.signal } : undefined);
  if (pytorchIsZip(head)) return pytorchReadZip(source, options);
  if (pytorchIsLegacy(head)) return pytorchReadLegacy(source, options);
  if (Buffer.from(head.subarray(0, 8)).toString('latin1') === 'PYTORCH1') {
    return fail('UNSUPPORTED_FEATURE', 'pytorch: PYTORCH1 (TorchScript mobile) files are not supported');
  }
  return fail('BAD_MAGIC', `pytorch: ${source.name ?? 'input'} is neither a zip checkpoint (PK\\x03\\x04) nor a legacy one (pickle magic number)`);
}

/** Bytes each swapped word spans: complex numbers swap their two halves separately. */
function swapUnit(tensor: PickleTensor): number {
  return tensor.dtype === 'complex64' || tensor.dtype === 'complex128' ? tensor.itemSize / 2 : tensor.itemSize;
}

/**
 * A tensor's bytes in tensio's layout: only the storage span the view covers is read,
 * then gathered (strided views) and byte-swapped (big-endian files).
 */
async function decodeTensor(tensor: PickleTensor, access: PytorchStorageAccess, name: string, signal?: AbortSignal): Promise<Uint8Array> {
  const count = elementCount(tensor.shape, FORMAT);
  const spanBytes = pytorchSpanElements(tensor.shape, tensor.stride) * tensor.itemSize;
  if (spanBytes > MAX_TENSOR_BYTES || count * tensor.itemSize > MAX_TENSOR_BYTES) {
    fail('LIMIT_EXCEEDED', `pytorch: tensor ${name} spans ${spanBytes} bytes of its storage, more than ${MAX_TENSOR_BYTES} in one buffer; stream it instead`);
  }
  if (count === 0) return new Uint8Array(0);
  const span = await access.readRange(tensor.storage, tensor.storageOffset * tensor.itemSize, spanBytes, signal);
  // A fresh buffer either way: callers own what read() returns, and the swap works in place.
  const out = pytorchIsContiguous(tensor.shape, tensor.stride) ? span.slice(0, count * tensor.itemSize) : pytorchGather(span, tensor.shape, tensor.stride, tensor.itemSize);
  if (access.byteOrder === 'big') pytorchByteSwap(out, swapUnit(tensor));
  return out;
}

/** Identity of a view: tensors with equal signatures read exactly the same bytes. */
function viewSignature(tensor: PickleTensor): string {
  return `${tensor.storage.key}|${tensor.storage.viewOffset}|${tensor.storageOffset}|${tensor.formatDtype}|${tensor.shape.join(',')}|${tensor.stride.join(',')}`;
}

/**
 * Opens a PyTorch checkpoint (`torch.save` output, zip or legacy) for reading. The
 * pickle is interpreted against an allow-list and never executed; a file that names
 * any other global is refused with `UNSAFE_PICKLE`, listing the globals it references.
 * Tensors are named by dotted path (`state_dict.encoder.weight`); plain values land in
 * `metadata`.
 *
 * @example
 * ```ts
 * await using reader = await pytorchOpen('checkpoint.pt', { key: 'state_dict' });
 * const weight = await reader.read('encoder.weight');
 * ```
 */
export async function pytorchOpen(input: string | ByteSource, options: PytorchOpenOptions = {}): Promise<TensorReader> {
  // A path or URL is opened here (and closed with the reader); a source is the caller's.
  const owned = typeof input === 'string' ? (await openSourceInput(input, sourceOptionsOf(options))).source : undefined;
  const source = owned ?? (input as ByteSource);
  try {
    const parsed = await pytorchParse(source, options);
    const collected = pytorchCollect(parsed.value, {
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.maxNestingDepth !== undefined ? { maxNestingDepth: options.maxNestingDepth } : {}),
      ...(options.maxMetadataValues !== undefined ? { maxMetadataValues: options.maxMetadataValues } : {}),
      ...(parsed.budget ? { budget: parsed.budget } : {}),
    });
    const metadata: Record<string, unknown> = { ...collected.metadata };
    const byStorage = new Map<string, string[]>();
    for (const { name, tensor } of collected.tensors) {
      const names = byStorage.get(tensor.storage.key) ?? [];
      names.push(name);
      byStorage.set(tensor.storage.key, names);
    }
    const tensors = new Map<string, PickleTensor>();
    const infos: TensorInfo[] = [];
    const firstView = new Map<string, TensorInfo>();
    for (const { name, tensor, bare } of collected.tensors) {
      const byteLength = checkedSize(BigInt(elementCount(tensor.shape, FORMAT)) * BigInt(tensor.itemSize), FORMAT, `byte length of ${name}`);
      const contiguous = pytorchIsContiguous(tensor.shape, tensor.stride);
      // Bounded: 200,000 views of one storage must not each list the other 199,999 (quadratic memory).
      const sharing = byStorage.get(tensor.storage.key)!;
      const sharedWith = sharing.slice(0, PYTORCH_SHARED_NAMES_LISTED + 1).filter((other) => other !== name).slice(0, PYTORCH_SHARED_NAMES_LISTED);
      const info: TensorInfo = {
        name,
        dtype: tensor.dtype,
        shape: tensor.shape,
        byteLength,
        formatDtype: tensor.formatDtype,
        extras: {
          storageKey: tensor.storage.key,
          storageOffset: tensor.storageOffset + tensor.storage.viewOffset,
          // The generic storage facts of model/shared-storage.ts (tied weights).
          storageByteOffset: tensor.storageOffset * tensor.itemSize + tensor.storage.viewOffset * tensor.storage.itemSize,
          storageByteSpan: pytorchSpanElements(tensor.shape, tensor.stride) * tensor.itemSize,
          storageBytes: tensor.storage.numel * tensor.storage.itemSize,
          stride: tensor.stride,
          contiguous,
          location: tensor.storage.location,
          ...(bare ? { bare: true } : {}),
          ...(tensor.parameter ? { parameter: true } : {}),
          ...(tensor.requiresGrad ? { requiresGrad: true } : {}),
          ...(sharedWith.length > 0 ? { sharedWith, sharedCount: sharing.length - 1, tied: true } : {}),
        },
      };
      const signature = viewSignature(tensor);
      const duplicateOf = options.dropDuplicates ? firstView.get(signature) : undefined;
      if (duplicateOf && (options.dropDuplicates === true || (typeof options.dropDuplicates === 'function' && options.dropDuplicates(info, duplicateOf)))) {
        metadata[name] = duplicateOf.name;
        continue;
      }
      if (!firstView.has(signature)) firstView.set(signature, info);
      tensors.set(name, tensor);
      infos.push(info);
    }
    const access = parsed.storages;
    return createTensorReader({
      format: FORMAT,
      ...(typeof input === 'string' ? { path: input } : source.name !== undefined ? { path: source.name } : {}),
      size: source.size,
      metadata,
      tensors: infos,
      locate(info): TensorLocation | Promise<TensorLocation> {
        const tensor = tensors.get(info.name)!;
        const raw = access.rawOffset(tensor.storage);
        const littleEndianBytes = access.byteOrder === 'little' || swapUnit(tensor) === 1;
        const contiguous = littleEndianBytes && pytorchIsContiguous(tensor.shape, tensor.stride);
        if (raw !== undefined && contiguous) {
          return { kind: 'span', source, offset: raw + tensor.storageOffset * tensor.itemSize };
        }
        // A deflated record streams (bounded inflate) instead of being inflated whole.
        const chunk = contiguous ? access.chunk?.(tensor.storage, tensor.storageOffset * tensor.itemSize, info.byteLength) : undefined;
        if (chunk) return chunk.then((byteChunk) => ({ kind: 'chunks', chunks: [byteChunk] }));
        return { kind: 'decode', decode: (signal) => decodeTensor(tensor, access, info.name, signal) };
      },
      ...(owned ? { close: async () => { await owned.close?.(); } } : {}),
    });
  } catch (error) {
    await owned?.close?.();
    if (error instanceof TensioError && owned && error.path === undefined) {
      throw new TensioError(error.code, error.message, { format: error.format, path: owned.name, ...(error.offset !== undefined ? { offset: error.offset } : {}), cause: error.cause });
    }
    throw error;
  }
}
