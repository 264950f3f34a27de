/**
 * The PyTorch checkpoint entry in the format registry.
 */
import type { OpenOptions, TensorFormat, VerifyOptions } from '../../model/types.js';
import { pytorchIsLegacy } from './legacy.js';
import { pytorchOpen } from './reader.js';
import type { PytorchOpenOptions } from './types.js';
import { pytorchCannotWrite, pytorchCreateWriter } from './write.js';
import { fileSource } from '../../storage/file-source.js';
import { zipVerifyTensorFile } from '../shared/zip-verify.js';
import { verifyByReading } from '../../model/verify-by-reading.js';

/**
 * `pytorch`: `torch.save` checkpoints (`.pt`, `.pth`, `.bin`, `.ckpt`), zip or legacy.
 * A zip whose first record is `<root>/data.pkl` is a checkpoint; when the name does not
 * fit in the sniffed head, the registry's extension tiebreak decides against `.npz`.
 * Legacy files are recognised by their pickled magic number.
 *
 * @example
 * ```ts
 * getFormat('pytorch') === pytorchFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
/** Open options for verify: the format options it was given (e.g. limits), never a `key` that would hide tensors. */
function pytorchVerifyOpenOptions(options: VerifyOptions = {}): PytorchOpenOptions {
  const { key: _key, dropDuplicates: _drop, ...rest } = (options.formatOptions ?? {}) as PytorchOpenOptions;
  return rest;
}

export const pytorchFormat: TensorFormat = {
  name: 'pytorch',
  extensions: ['.pt', '.pth', '.bin', '.ckpt'],
  sniff(head) {
    if (pytorchIsLegacy(head)) return true;
    if (!(head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)) return false;
    // torch's first record is always <root>/data.pkl; when its name fits in the head, check it.
    const nameLength = head.byteLength >= 28 ? head[26]! | (head[27]! << 8) : Infinity;
    if (30 + nameLength > head.byteLength) return true;
    return Buffer.from(head.subarray(30, 30 + nameLength)).toString('latin1').endsWith('/data.pkl');
  },
  open(input, options: OpenOptions = {}) {
    const formatOptions = (options.formatOptions ?? {}) as PytorchOpenOptions;
    return pytorchOpen(input, { ...formatOptions, ...(options.signal ? { signal: options.signal } : {}) });
  },
  createWriter: pytorchCreateWriter,
  cannotWrite: pytorchCannotWrite,
  openOptionNames: ['key', 'dropDuplicates', 'maxPickleBytes', 'maxEntries', 'maxEntryBytes', 'maxMemoEntries', 'maxStackDepth', 'maxContainerLength', 'maxNestingDepth', 'maxLongBytes'],
  async verify(input, options) {
    // Zip checkpoints carry a CRC32 per record; legacy files carry none.
    const source = typeof input === 'string' ? await fileSource(input) : input;
    let head: Uint8Array;
    try {
      head = await source.read(0, Math.min(4, source.size));
    } finally {
      if (typeof input === 'string') await source.close?.();
    }
    if (pytorchIsLegacy(head) || head[0] !== 0x50) return verifyByReading(pytorchFormat, input, options);
    // A tensor's bytes are in its storage's record `<archive>/data/<key>`.
    return zipVerifyTensorFile(input, 'pytorch', (file) => pytorchOpen(file, pytorchVerifyOpenOptions(options)), options,
      (info) => (typeof info.extras?.storageKey === 'string' ? `data/${info.extras.storageKey}` : undefined));
  },
};
