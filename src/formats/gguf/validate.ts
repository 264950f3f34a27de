/**
 * Pure checks of GGUF tensor infos, as ggml's `gguf_init_from_file_impl` makes them:
 * sizes from type and shape (blocks along `ne[0]`), offsets aligned and in record
 * order with no gaps beyond alignment padding, and every tensor inside the file.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import { tensorByteLength } from '../../core/sizes.js';
import { dtypeOfGgmlType } from './ggml-types.js';
import type { GgufTensorInfo } from './types.js';

const fail = errorFactory('gguf');

/** `value` rounded up to a multiple of `alignment`. */
export function ggufPad(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * Bytes of a tensor's data from its ggml type and `ne`, checked (`INVALID_SHAPE` when
 * `ne[0]` is not a whole number of blocks, `SIZE_OVERFLOW`); undefined for a type id
 * tensio does not know.
 */
export function ggufTensorByteLength(name: string, ne: readonly number[], ggmlType: number): number | undefined {
  const { dtype } = dtypeOfGgmlType(ggmlType);
  if (dtype === 'opaque') return undefined;
  try {
    return tensorByteLength(dtype, [...ne].reverse(), 'gguf');
  } catch (error) {
    if (error instanceof Error) error.message = `${error.message} (tensor ${quoteInput(name)})`;
    throw error;
  }
}

/**
 * Checks offsets and bounds of every tensor and fills in the byte length of tensors of
 * unknown type (the gap to the next tensor or to the end of the file). ggml requires
 * each offset to be exactly the padded end of the previous tensor; so does this check
 * while sizes are known (`INVALID_OFFSET`), and data past the end of the file is
 * `TRUNCATED`.
 */
export function ggufValidateTensors(
  infos: ReadonlyArray<Omit<GgufTensorInfo, 'byteLength'> & { byteLength: number | undefined }>,
  file: { alignment: number; dataStart: number; fileSize: number },
): GgufTensorInfo[] {
  const { alignment, dataStart, fileSize } = file;
  const dataBytes = Math.max(0, fileSize - dataStart);
  let expected: number | undefined = 0;
  const out: GgufTensorInfo[] = [];
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i]!;
    const name = quoteInput(info.name);
    if (info.offset % alignment !== 0) fail('INVALID_OFFSET', `gguf: tensor ${name} has offset ${info.offset}, not a multiple of the alignment ${alignment}`);
    if (expected !== undefined && info.offset !== expected) fail('INVALID_OFFSET', `gguf: tensor ${name} has offset ${info.offset}, expected ${expected} (tensor data must follow the infos' order, each padded to ${alignment} bytes)`);
    if (expected === undefined && out.length > 0 && info.offset < out[out.length - 1]!.offset) fail('INVALID_OFFSET', `gguf: tensor ${name} has offset ${info.offset}, before the previous tensor's ${out[out.length - 1]!.offset}`);
    let byteLength = info.byteLength;
    let inferred = false;
    if (byteLength === undefined) {
      const next = infos[i + 1];
      byteLength = Math.max(0, (next ? next.offset : dataBytes) - info.offset);
      inferred = true;
    }
    if (info.offset + byteLength > dataBytes) {
      fail('TRUNCATED', `gguf: tensor ${name} needs bytes ${dataStart + info.offset}..${dataStart + info.offset + byteLength}, but the file ends at ${fileSize}`, { offset: dataStart + info.offset });
    }
    expected = inferred ? undefined : ggufPad(info.offset + byteLength, alignment);
    out.push({ ...info, byteLength, ...(inferred ? { byteLengthInferred: true } : {}) });
  }
  return out;
}
