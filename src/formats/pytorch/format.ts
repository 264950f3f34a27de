/**
 * The PyTorch checkpoint entry in the format registry.
 */
import { latin1Decode } from '../../core/bytes.js';
import type { OpenOptions, TensorFormat, VerifyOptions, VerifyReport, WriterOptions } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { describeWriteTarget, type WriteTarget } from '../../storage/write-target.js';
import { TensioError } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import { PYTORCH_WRITE_DTYPES } from './dtypes.js';
import { pytorchIsLegacy } from './legacy.js';
import { pytorchOpen } from './reader.js';
import { pytorchShardLayout, resolvePytorchTarget, type PytorchOpenFormatOptions, type PytorchShardedOptions } from './sharded.js';
import type { PytorchOpenOptions, PytorchWriteFormatOptions } from './types.js';
import { pytorchCannotWrite, pytorchCreateWriter } from './write.js';
import { pytorchListGlobals } from './globals.js';
import { pytorchDescriptor } from './descriptor.js';
import { fileSource } from '../../storage/file-source.js';
import { zipVerifyTensorFile } from '../shared/zip-verify.js';
import { verifyByReading } from '../../model/verify-by-reading.js';
import { folderHasCheckpoint } from '../sharded/locate.js';
import { openShardedCheckpoint } from '../sharded/reader.js';
import { verifyShardedCheckpoint } from '../sharded/verify.js';

/** Open options for verify: the format options it was given (e.g. limits), never a `key` that would hide tensors. */
function pytorchVerifyOpenOptions(options: VerifyOptions<PytorchOpenFormatOptions> = {}): PytorchOpenOptions {
  const { key: _key, dropDuplicates: _drop, followIndex: _follow, maxIndexBytes: _max, ...rest } = options.formatOptions ?? {};
  return rest;
}

/** Verifies one checkpoint file (never following an index). */
async function pytorchVerifyFile(input: string | ByteSource, options: VerifyOptions<PytorchOpenFormatOptions> = {}): Promise<VerifyReport> {
  // Zip checkpoints carry a CRC32 per record; legacy files carry none.
  const source = typeof input === 'string' ? await fileSource(input) : input;
  let head: Uint8Array;
  try {
    head = await source.read(0, Math.min(4, source.size));
  } finally {
    if (typeof input === 'string') await source.close?.();
  }
  if (pytorchIsLegacy(head) || head[0] !== 0x50) {
    const single: TensorFormat = { ...pytorchFormat, open: (file, openOptions) => pytorchOpen(file as string | ByteSource, { ...pytorchVerifyOpenOptions(options), ...(openOptions?.signal ? { signal: openOptions.signal } : {}) }) };
    return verifyByReading(single, input, options);
  }
  // A tensor's bytes are in its storage's record `<archive>/data/<key>`.
  return zipVerifyTensorFile(input, 'pytorch', (file) => pytorchOpen(file, pytorchVerifyOpenOptions(options)), options,
    (info) => (typeof info.extras?.storageKey === 'string' ? `data/${info.extras.storageKey}` : undefined));
}

function shardLayout(formatOptions: PytorchShardedOptions | undefined) {
  return pytorchShardLayout(formatOptions ?? {}, pytorchVerifyFile);
}

/**
 * `pytorch`: `torch.save` checkpoints (`.pt`, `.pth`, `.bin`, `.ckpt`), zip or legacy.
 * A zip whose first record is `<root>/data.pkl` is a checkpoint; when the name does not
 * fit in the sniffed head, the registry's extension tiebreak decides against `.npz`.
 * Legacy files are recognised by their pickled magic number. Sharded `.bin`
 * checkpoints (`pytorch_model.bin.index.json`, a folder, or a shard its index names)
 * and a folder holding one `pytorch_model.bin` open as one model (`./sharded.ts`).
 *
 * @example
 * ```ts
 * getFormat('pytorch') === pytorchFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
export const pytorchFormat: TensorFormat<PytorchOpenFormatOptions, PytorchWriteFormatOptions> = {
  ...pytorchDescriptor,
  // A folder with a pytorch_model.bin.index.json, or one pytorch_model.bin (save_pretrained of a small model).
  sniffFolder: (path) => folderHasCheckpoint(path, shardLayout(undefined)),
  async open(input, options: OpenOptions<PytorchOpenFormatOptions> = {}) {
    const formatOptions = options.formatOptions ?? {};
    const { followIndex, maxIndexBytes: _maxIndexBytes, ...openOptions } = formatOptions;
    const signalOption = { ...(options.signal ? { signal: options.signal } : {}), ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}) };
    if (typeof input !== 'string') return pytorchOpen(input, { ...openOptions, ...signalOption });
    const layout = shardLayout({ ...options.formatOptions, ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}) });
    const target = await resolvePytorchTarget(input, layout, followIndex !== false);
    if (target.kind === 'index') return openShardedCheckpoint(target.path, layout, options.signal);
    return pytorchOpen(target.path, { ...openOptions, ...signalOption });
  },
  createWriter(target: WriteTarget, options: WriterOptions<PytorchWriteFormatOptions>) {
    const name = describeWriteTarget(target);
    if (name?.toLowerCase().endsWith('.index.json')) {
      throw new TensioError('UNSUPPORTED_FEATURE', `pytorch: tensio reads sharded .bin checkpoints but does not write them; write a sharded safetensors checkpoint (model.safetensors.index.json) instead`, { path: name });
    }
    return pytorchCreateWriter(target, options);
  },
  listPickleGlobals: async (input, options) => (await pytorchListGlobals(input, options?.signal ? { signal: options.signal } : {})).globals,
  async verify(input, options = {}) {
    if (typeof input !== 'string') return pytorchVerifyFile(input, options);
    const layout = shardLayout(options.formatOptions);
    let target;
    try {
      target = await resolvePytorchTarget(input, layout, options.formatOptions?.followIndex !== false);
    } catch (error) {
      if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
      return { ok: false, format: 'pytorch', path: input, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [{ code: error.code, message: error.message }] };
    }
    if (target.kind === 'index') return verifyShardedCheckpoint(target.path, layout, options);
    return pytorchVerifyFile(target.path, options);
  },
};
