/**
 * Arrow IPC Tensor and SparseTensor messages (pyarrow `pa.ipc.write_tensor`, as streams
 * of such messages): each dense tensor reads as one tensor (named `tensor`, or
 * `tensor_<i>` when the stream holds several). Row-major data is read in place; other
 * strides are gathered into C order. Sparse tensors are listed as unsupported entries
 * with their layout: pyarrow (25) has no writer for SparseTensor messages
 * (`ipc.write_tensor` takes a dense `pa.Tensor` only and refuses a `SparseCOOTensor`;
 * Arrow C++'s `ipc::WriteSparseTensor` is not exposed to Python), so there is no
 * reference file a sparse reader could be checked against.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { elementCount, tensorByteLength } from '../../core/sizes.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader, UnsupportedTensor } from '../../model/types.js';
import { UNSUPPORTED_TENSORS_KEY } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { FlatTable } from './flatbuffers.js';
import { arrowParseSparseTensor, arrowParseTensor } from './read.js';
import { ARROW_MESSAGE, type ArrowTensorHeader } from './types.js';
import { allocateZeroed } from '../../core/memory.js';

const fail = errorFactory('arrow');

/** A Tensor or SparseTensor message found in a stream. */
export interface ScannedTensorMessage {
  readonly headerType: number;
  readonly header: FlatTable;
  readonly bodyOffset: number;
  readonly bodyLength: number;
}

function cStrides(shape: readonly number[], item: number): number[] {
  const strides = new Array<number>(shape.length);
  let stride = item;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= Math.max(1, shape[i]!);
  }
  return strides;
}

/** Gathers a strided tensor into C order (elements one by one; tensor messages are small in practice). */
function gather(raw: Uint8Array, shape: readonly number[], strides: readonly number[], item: number): Uint8Array {
  const count = elementCount(shape, 'arrow');
  const out = allocateZeroed(count * item);
  const index = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < count; e++) {
    let at = 0;
    for (let d = 0; d < shape.length; d++) at += index[d]! * strides[d]!;
    out.set(raw.subarray(at, at + item), e * item);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The reader of a tensor stream. */
export function arrowTensorReader(source: ByteSource, messages: readonly ScannedTensorMessage[], close: () => Promise<void>): TensorReader {
  const infos: TensorInfo[] = [];
  const locations = new Map<string, TensorLocation>();
  const unsupported: UnsupportedTensor[] = [];
  messages.forEach((message, index) => {
    const name = messages.length === 1 ? 'tensor' : `tensor_${index}`;
    if (message.headerType === ARROW_MESSAGE.SparseTensor) {
      const sparse = arrowParseSparseTensor(message.header);
      unsupported.push({ name, formatDtype: sparse.typeName, code: 'UNSUPPORTED_FEATURE', reason: `a sparse ${sparse.index.kind} tensor of shape [${sparse.shape.join(', ')}] with ${sparse.nonZeroLength} non-zeros; tensio reads dense Arrow tensors only (write it dense: pyarrow's sparse_tensor.to_tensor(), then ipc.write_tensor)` });
      return;
    }
    const header: ArrowTensorHeader = arrowParseTensor(message.header);
    if (!header.dtype) {
      unsupported.push({ name, formatDtype: header.typeName, code: 'UNSUPPORTED_DTYPE', reason: `tensor of type ${header.typeName}` });
      return;
    }
    const dtype = header.dtype;
    const item = DTYPE_INFO[dtype].bits / 8;
    const byteLength = tensorByteLength(dtype, header.shape, 'arrow')!;
    if (dtype === 'bool') {
      unsupported.push({ name, formatDtype: 'bool', code: 'UNSUPPORTED_DTYPE', reason: 'bit-packed boolean tensors are not read' });
      return;
    }
    const strides = header.strides.length === 0 ? cStrides(header.shape, item) : header.strides;
    if (strides.length !== header.shape.length) fail('INVALID_HEADER', `arrow: tensor ${name} has ${strides.length} strides for ${header.shape.length} dimensions`);
    const count = elementCount(header.shape, 'arrow');
    // The furthest byte any element reaches must be inside the data buffer, itself inside the body.
    let last = 0;
    for (let d = 0; d < strides.length; d++) {
      if (strides[d]! < 0) fail('INVALID_HEADER', `arrow: tensor ${name} has a negative stride ${strides[d]}`);
      last += (header.shape[d]! - 1) * strides[d]!;
    }
    const span = count === 0 ? 0 : last + item;
    if (header.data.offset + header.data.length > message.bodyLength || span > header.data.length) {
      fail('INVALID_OFFSET', `arrow: tensor ${name} needs ${span} bytes of data, its buffer holds ${header.data.length} at ${header.data.offset} of a ${message.bodyLength}-byte body`);
    }
    const at = message.bodyOffset + header.data.offset;
    const contiguous = cStrides(header.shape, item).every((stride, d) => header.shape[d]! <= 1 || stride === strides[d]);
    locations.set(name, contiguous ? { kind: 'span', source, offset: at } : {
      kind: 'decode',
      decode: async (signal) => gather(await source.read(at, span, signal ? { signal } : undefined), header.shape, strides, item),
    });
    infos.push({ name, dtype, shape: header.shape, byteLength, formatDtype: header.typeName, extras: { dimNames: header.dimNames, strides, ...(contiguous ? {} : { order: 'strided' }) } });
  });
  return createTensorReader({
    format: 'arrow',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: { 'arrow.ipc': 'tensor stream', ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}) },
    tensors: infos,
    locate: (info) => locations.get(info.name)!,
    close,
  });
}
