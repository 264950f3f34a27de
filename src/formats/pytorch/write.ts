/**
 * Writing `.pt` files that `torch.load(path, weights_only=True)` accepts: a zip whose
 * `data.pkl` is a protocol-2 pickle of an OrderedDict of tensors (only opcodes torch's
 * safe unpickler implements), then one 64-byte-aligned stored record per tensor.
 */
import { TensioError, errorFactory } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import { elementCount } from '../../core/sizes.js';
import type { Tensor } from '../../core/tensor.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import type { TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { zipCreateWriter } from '../../zip/write.js';
import { PYTORCH_WRITE_DTYPES } from './dtypes.js';
import { PickleEncoder } from './pickle/encode.js';
import { pytorchContiguousStrides } from './rebuild.js';
import type { PytorchWriteFormatOptions, PytorchWriteOptions } from './types.js';
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import { quoteInput } from '../../core/quote.js';

const FORMAT = 'pytorch';
const fail: ReturnType<typeof errorFactory> = errorFactory(FORMAT);
/** Python's pickler batches SETITEMS by this many pairs. */
const BATCH = 1000;
const ALIGNMENT = 64;

export { pytorchCannotWrite } from './dtypes.js';
import { pytorchCannotWrite } from './dtypes.js';

/** Pickles one tensor as torch does: `_rebuild_tensor_v2/v3` over storage `data/<index>`. */
function encodeTensor(pickle: PickleEncoder, spec: TensorSpec, index: number): void {
  const entry = PYTORCH_WRITE_DTYPES[spec.dtype];
  if (!entry) fail('UNSUPPORTED_DTYPE', `pytorch: cannot write ${spec.name} of dtype ${spec.dtype}`);
  const numel = elementCount(spec.shape, FORMAT);
  pickle.global('torch._utils', entry.storageClass ? '_rebuild_tensor_v2' : '_rebuild_tensor_v3');
  pickle.mark();
  // The persistent id: ('storage', storage_type, key, location, numel).
  pickle.mark();
  pickle.string('storage');
  if (entry.storageClass) pickle.global('torch', entry.storageClass);
  else pickle.global('torch.storage', 'UntypedStorage');
  pickle.string(String(index));
  pickle.string('cpu');
  pickle.int(entry.storageClass ? numel : numel * entry.itemSize);
  pickle.tuple();
  pickle.binPersId();
  pickle.int(0);
  pickle.intTuple(spec.shape);
  pickle.intTuple(pytorchContiguousStrides(spec.shape));
  pickle.bool(false);
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  if (!entry.storageClass) pickle.global('torch', entry.dtypeName!);
  pickle.tuple();
  pickle.reduce();
}

/**
 * The `data.pkl` of a checkpoint holding these tensors, in order, each in its own
 * storage `data/<i>` (contiguous strides, offset 0, location `cpu`).
 *
 * @example
 * ```ts
 * const pickle = pytorchEncodeStateDict([{ name: 'w', dtype: 'float32', shape: [2, 3] }]);
 * ```
 */
export function pytorchEncodeStateDict(specs: readonly TensorSpec[]): Uint8Array {
  const pickle = new PickleEncoder();
  pickle.proto(2);
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  specs.forEach((spec, index) => {
    if (index % BATCH === 0) pickle.mark();
    pickle.string(spec.name);
    encodeTensor(pickle, spec, index);
    if (index % BATCH === BATCH - 1 || index === specs.length - 1) pickle.setItems();
  });
  pickle.stop();
  return pickle.bytes();
}

/**
 * The `data.pkl` of `torch.save(tensor)`: one bare tensor in storage `data/0`, which
 * `torch.load` returns as a tensor, not a dict.
 *
 * @example
 * ```ts
 * const pickle = pytorchEncodeBareTensor({ name: 'tensor', dtype: 'float32', shape: [4] });
 * ```
 */
export function pytorchEncodeBareTensor(spec: TensorSpec): Uint8Array {
  const pickle = new PickleEncoder();
  pickle.proto(2);
  encodeTensor(pickle, spec, 0);
  pickle.stop();
  return pickle.bytes();
}

/**
 * True when the writer should pickle a bare tensor: asked for (`formatOptions.bareTensor`),
 * or converting a bare-tensor checkpoint to a checkpoint (the reader marks it
 * `extras.bare`), so `.pt` → `.pt` keeps what `torch.load` returns.
 */
function wantsBareTensor(options: WriterOptions<PytorchWriteFormatOptions>): boolean {
  if (options.tensors.length !== 1) {
    if (options.formatOptions?.bareTensor === true) fail('INVALID_ARGUMENT', `pytorch: bareTensor needs exactly one tensor, the plan has ${options.tensors.length}`);
    return false;
  }
  if (options.formatOptions?.bareTensor !== undefined) return options.formatOptions.bareTensor === true;
  const source = options.sourceTensors?.[0];
  return options.sourceFormat === FORMAT && source?.name === options.tensors[0]!.name && source.extras?.bare === true;
}

function checkPlan(specs: readonly TensorSpec[]): void {
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) fail('DUPLICATE_NAME', `pytorch: tensor ${quoteInput(spec.name)} is planned twice`);
    names.add(spec.name);
    const reason = pytorchCannotWrite(spec);
    if (reason) fail('UNSUPPORTED_DTYPE', `pytorch: cannot write ${quoteInput(spec.name)}: ${reason}`);
    elementCount(spec.shape, FORMAT);
  }
}

function byteLengthOf(spec: TensorSpec): number {
  return elementCount(spec.shape, FORMAT) * PYTORCH_WRITE_DTYPES[spec.dtype as DType]!.itemSize;
}

/**
 * A streaming writer to any sink. `data.pkl` is written first (so the plan is needed up
 * front); each tensor's bytes then stream into `data/<i>` in plan order.
 *
 * @example
 * ```ts
 * const writer = await pytorchCreateSinkWriter(memorySink(), { tensors: [{ name: 'w', dtype: 'float32', shape: [2] }] });
 * await writer.add('w', new Uint8Array(8)); await writer.close();
 * ```
 */
export async function pytorchCreateSinkWriter(sink: ByteSink, options: WriterOptions<PytorchWriteFormatOptions> & { archiveName?: string }): Promise<TensorWriter> {
  const specs = options.tensors;
  checkPlan(specs);
  const root = options.archiveName ?? options.formatOptions?.archiveName ?? 'archive';
  if (!/^[\w.-]+$/.test(root)) fail('INVALID_NAME', `pytorch: archive name ${quoteInput(root)} must be a plain folder name`);
  const zip = zipCreateWriter(sink, { forceZip64: true, format: FORMAT });
  try {
    const pickle = wantsBareTensor(options) ? pytorchEncodeBareTensor(specs[0]!) : pytorchEncodeStateDict(specs);
    await zip.add(`${root}/data.pkl`, pickle, { alignment: ALIGNMENT });
    await zip.add(`${root}/.format_version`, new TextEncoder().encode('1'), { alignment: ALIGNMENT });
    await zip.add(`${root}/.storage_alignment`, new TextEncoder().encode('64'), { alignment: ALIGNMENT });
    await zip.add(`${root}/byteorder`, new TextEncoder().encode('little'), { alignment: ALIGNMENT });
  } catch (error) {
    await zip.abort();
    throw error;
  }
  // Storage keys are the tensors' positions in the plan, as pytorchEncodeStateDict pickled them.
  const storageKey = new Map(specs.map((spec, index) => [spec.name, index]));
  return createPlannedWriter({
    format: FORMAT,
    order: specs,
    byteLength: byteLengthOf,
    async writeTensor(spec, chunks, signal) {
      await zip.add(`${root}/data/${storageKey.get(spec.name)}`, chunks, { alignment: ALIGNMENT, size: byteLengthOf(spec), ...(signal ? { signal } : {}) });
    },
    async publish() {
      await zip.add(`${root}/version`, new TextEncoder().encode('3\n'), { alignment: ALIGNMENT });
      await zip.close();
    },
    discard: () => zip.abort(),
  });
}

/**
 * A writer that publishes a `.pt` file on `close()` to a path (atomically), a sink or a
 * store key (the registry's `createWriter`).
 *
 * @example
 * ```ts
 * const writer = await pytorchCreateWriter('model.pt', { tensors: plan });
 * for (const name of writer.order) await writer.add(name, bytesOf(name));
 * await writer.close();
 * ```
 */
export async function pytorchCreateWriter(target: WriteTarget, options: WriterOptions<PytorchWriteFormatOptions>): Promise<TensorWriter> {
  checkPlan(options.tensors);
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  try {
    return await pytorchCreateSinkWriter(sink, options);
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/**
 * Writes tensors to a `.pt` file that `torch.load(path, weights_only=True)` loads as an
 * OrderedDict. Metadata is not written: a state dict holds tensors only.
 *
 * @example
 * ```ts
 * await pytorchWrite('weights.pt', { w: createTensor('float32', [2], new Float32Array([1, 2])) });
 * ```
 */
export async function pytorchWrite(target: WriteTarget, tensors: Readonly<Record<string, Tensor>>, options: PytorchWriteOptions = {}): Promise<void> {
  const names = Object.keys(tensors);
  const writer = await pytorchCreateWriter(target, {
    tensors: names.map((name) => ({ name, dtype: tensors[name]!.dtype, shape: tensors[name]!.shape })),
    overwrite: options.overwrite ?? true,
    ...(options.archiveName ? { formatOptions: { archiveName: options.archiveName } } : {}),
  });
  try {
    for (const name of writer.order) await writer.add(name, tensors[name]!.data, options.signal ? { signal: options.signal } : {});
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
