/**
 * PyTorch checkpoints ↔ NumPack store, NumPack's `from_pt`/`to_pt` in TypeScript: a
 * `.pt` file's tensors into a store (the pickle parsed, never executed), a store's
 * arrays out to a `.pt` that `torch.load(weights_only=True)` accepts; and the memory
 * pair `fromTorch`/`toTorch` for tensors already in hand.
 */
import type { S3Options } from '../storage/s3-client.js';
import { basename, extname } from 'node:path';
import { TensioError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { openTensorFile } from '../operations/index.js';
import { NumPack } from '../npk/numpack.js';
import { copyIntoStore, exportStore, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';
import { toTensioTensor, type TensorLike } from './tensor-io.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { describeSourceInput, type SourceInput } from '../storage/source-input.js';
import { quoteInput, quoteValue } from '../core/quote.js';

/** Options of {@link fromTorchFile}. */
export interface FromTorchFileOptions extends IntoStoreOptions {
  /**
   * Sub-tree of a nested checkpoint to import (`'state_dict'`, or a dotted path such as
   * `'model.encoder'`); array names are then relative to it. Missing → `NOT_FOUND`.
   */
  key?: string;
  /** For an `http(s)://` input: request headers (tokens), retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/**
 * Imports the tensors of a PyTorch checkpoint (`.pt`, `.pth`, `.bin`, zip or legacy)
 * into a store, one array per tensor, streaming one tensor at a time. Tensors are named
 * by their dotted path in the checkpoint; a checkpoint that is a single bare tensor
 * becomes one array named after the file stem, as in NumPack. Non-tensor values are
 * skipped. The pickle is interpreted against an allow-list and never executed: a file
 * referencing any other global is refused with `UNSAFE_PICKLE`.
 *
 * @example
 * ```ts
 * await fromTorchFile('checkpoint.pt', 'weights.npk', { key: 'state_dict', dropIfExists: true });
 * ```
 */
export async function fromTorchFile(ptPath: SourceInput, npkPath: string, options: FromTorchFileOptions = {}): Promise<void> {
  await using reader = await openTensorFile(ptPath, { format: 'pytorch', ...(options.key !== undefined ? { formatOptions: { key: options.key } } : {}), ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}) });
  // A bare tensor is named after the file stem (of a path or URL); bytes have none.
  const name = describeSourceInput(ptPath, 'tensor').replace(/[?#].*$/, '');
  const plan: [string, string][] = reader.tensors.map((info) => [
    info.name,
    info.extras?.bare === true ? basename(name, extname(name)) : info.name,
  ]);
  if (plan.length === 0) {
    throw new TensioError('NOT_FOUND', `${name}${options.key !== undefined ? ` under ${quoteInput(options.key)}` : ''} holds no tensors`, { path: name, format: 'pytorch' });
  }
  await copyIntoStore(reader, npkPath, plan, options);
}

/** Options of {@link toTorchFile}. */
export interface ToTorchFileOptions extends S3CallOptions {
  /** Arrays to write (default: all); unknown names → `NOT_FOUND` listing them. */
  arrayNames?: readonly string[];
  signal?: AbortSignal;
}

/**
 * Writes arrays of a store to a PyTorch checkpoint: an `OrderedDict` of name → tensor
 * in torch's zip layout, loadable with `torch.load(path, weights_only=True)`. Atomic and
 * streaming, one array at a time.
 *
 * @example
 * ```ts
 * await toTorchFile('weights.npk', 'weights.pt', { arrayNames: ['features', 'labels'] });
 * ```
 */
export async function toTorchFile(npkPath: string, ptPath: string, options: ToTorchFileOptions = {}): Promise<void> {
  await exportStore(npkPath, ptPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: 'pytorch',
    ...(options.arrayNames ? { arrayNames: options.arrayNames } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Options of {@link fromTorch}. */
export interface FromTorchOptions {
  /** Array name for a single tensor (default `'data'`); ignored for a record. */
  arrayName?: string;
  /** Replace the whole store first; default false (same names overwritten, others kept). */
  dropIfExists?: boolean;
}

/**
 * Saves tensors already in memory into a store: one tensor (named `arrayName`) or a
 * record of them (a state dict). Accepts tensio tensors and, by duck typing,
 * onnxruntime and TensorFlow.js tensors.
 *
 * @example
 * ```ts
 * await fromTorch({ weight, bias }, 'model.npk');
 * await fromTorch(weight, 'model.npk', { arrayName: 'weight' });
 * ```
 */
export async function fromTorch(data: TensorLike | Readonly<Record<string, TensorLike>>, npkPath: string, options: FromTorchOptions = {}): Promise<void> {
  const record: Record<string, Tensor> = {};
  if (looksLikeTensor(data)) {
    record[options.arrayName ?? 'data'] = toTensioTensor(data);
  } else {
    for (const [name, value] of Object.entries(data as Record<string, TensorLike>)) record[name] = toTensioTensor(value);
  }
  await using npk = await NumPack.open(npkPath, { dropIfExists: options.dropIfExists ?? false });
  await npk.save(record);
}

/** Options of {@link toTorch}. */
export interface ToTorchOptions {
  /** Arrays to load (default: all). */
  arrayNames?: readonly string[];
}

/**
 * Loads arrays of a store as a record of tensors (a state dict), ready for
 * `pytorchWrite` or any other writer.
 *
 * @example
 * ```ts
 * const stateDict = await toTorch('model.npk', { arrayNames: ['weight'] });
 * ```
 */
export async function toTorch(npkPath: string, options: ToTorchOptions = {}): Promise<Record<string, Tensor>> {
  await using npk = await NumPack.open(npkPath, { readOnly: true });
  const members = npk.getMemberList();
  const names = options.arrayNames ?? members;
  const missing = names.filter((name) => !members.includes(name));
  if (missing.length > 0) {
    throw new TensioError('NOT_FOUND', `not found in ${npkPath}: ${quoteValue(missing)}; it holds ${quoteValue(members)}`, { path: npkPath, format: 'npk' });
  }
  const out: Record<string, Tensor> = {};
  for (const name of names) out[name] = await npk.load(name);
  return out;
}

/** A single tensor (tensio, onnxruntime or tfjs shape) rather than a record of them. */
function looksLikeTensor(value: unknown): value is TensorLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (typeof candidate.dtype === 'string' && Array.isArray(candidate.shape))
    || (typeof candidate.type === 'string' && Array.isArray(candidate.dims));
}
