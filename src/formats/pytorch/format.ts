/**
 * The PyTorch checkpoint entry in the format registry.
 */
import type { OpenOptions, TensorFormat } from '../../model/types.js';
import { pytorchIsLegacy } from './legacy.js';
import { pytorchOpen } from './reader.js';
import type { PytorchOpenOptions } from './types.js';
import { pytorchCannotWrite, pytorchCreateWriter } from './write.js';

/**
 * `pytorch`: `torch.save` checkpoints (`.pt`, `.pth`, `.bin`, `.ckpt`), zip or legacy.
 * A zip's magic is shared with `.npz`, so the registry's extension tiebreak decides;
 * legacy files are recognised by their pickled magic number.
 *
 * @example
 * ```ts
 * registerFormat(pytorchFormat);
 * ```
 */
export const pytorchFormat: TensorFormat = {
  name: 'pytorch',
  extensions: ['.pt', '.pth', '.bin', '.ckpt'],
  sniff(head) {
    const zip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
    return zip || pytorchIsLegacy(head);
  },
  open(input, options: OpenOptions = {}) {
    const formatOptions = (options.formatOptions ?? {}) as PytorchOpenOptions;
    return pytorchOpen(input, { ...formatOptions, ...(options.signal ? { signal: options.signal } : {}) });
  },
  createWriter: pytorchCreateWriter,
  cannotWrite: pytorchCannotWrite,
};
