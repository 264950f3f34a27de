/**
 * The GGUF v3 {@link TensorWriter}: the header (typed metadata, every tensor info and
 * offset, computed from the plan) first, then each tensor's data padded to the
 * alignment, streamed. With `quantize`, float tensors of two or more dimensions are
 * quantized on the way (block by block, as gguf-py's `quantize`); others go as they are.
 */
import { isBlockDType } from '../../core/block-dtypes.js';
import type { DType } from '../../core/dtype.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { tensorByteLength } from '../../core/sizes.js';
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import type { Metadata, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { GGUF_DEFAULT_ALIGNMENT } from './read.js';
import { GGML_TYPE_METADATA_PREFIX, ggmlTypeOfDType, dtypeOfGgmlType } from './ggml-types.js';
import { ggufCanQuantize, ggufQuantize } from './quantize.js';
import { dequantizeGeometry } from './dequantize-stream.js';
import { ggufDequantize } from './dequantize.js';
import type { GgufTypedValue } from './types.js';
import { GGUF_VALUE_TYPES_KEY, ggufRecordedTypes, ggufRetyped } from './value-types.js';
import { ggufHeaderBytes, ggufTypedValue, type GgufTensorEntry } from './write.js';
import { ggufPad } from './validate.js';
import { ggufCannotWrite } from './descriptor.js';

const fail = errorFactory('gguf');

/** ggml's `GGML_QNT_VERSION`, written as `general.quantization_version` when blocks are stored. */
export const GGML_QNT_VERSION = 2;

/** GGUF writer options (`formatOptions` of `createWriter`). */
export interface GgufWriteOptions {
  /** Data alignment, a power of two (default 32; another is written as `general.alignment`). */
  alignment?: number;
  /** Quantize float tensors of ≥ 2 dimensions to this type (`'q8_0'`, `'q4_0'`, …, `'float16'`, `'bfloat16'`). */
  quantize?: DType;
  /** `general.architecture` (overrides the metadata's). */
  arch?: string;
}

export { ggufCannotWrite } from './descriptor.js';

const FLOATS = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

/** The type a tensor is stored as: `quantize` for float tensors of ≥ 2 dims whose rows hold whole blocks. */
export function ggufStoredDType(spec: TensorSpec, quantize: DType | undefined): DType {
  if (!quantize || !FLOATS.has(spec.dtype) || spec.shape.length < 2 || spec.dtype === quantize) return spec.dtype;
  const block = DTYPE_INFO[quantize].block;
  if (block && spec.shape[spec.shape.length - 1]! % block.elements !== 0) return spec.dtype;
  return quantize;
}

/** Metadata entries in file order: architecture first (as gguf-py writes it), alignment and quantization version added. */
function metadataEntries(metadata: Metadata | undefined, options: GgufWriteOptions, alignment: number, hasBlocks: boolean): Array<[string, GgufTypedValue]> {
  const entries = new Map<string, GgufTypedValue>();
  // Types recorded by `convert` from a GGUF input, restored here (see value-types.ts).
  const recorded = ggufRecordedTypes(metadata);
  const typed = (key: string, value: unknown): GgufTypedValue => {
    const spec = recorded.get(key);
    return (spec !== undefined ? ggufRetyped(value, spec) : undefined) ?? ggufTypedValue(key, value);
  };
  const arch = options.arch ?? metadata?.['general.architecture'];
  if (arch !== undefined) entries.set('general.architecture', typed('general.architecture', arch));
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (key === 'general.architecture' || key === 'general.alignment' || key === GGUF_VALUE_TYPES_KEY || key.startsWith(GGML_TYPE_METADATA_PREFIX)) continue;
    entries.set(key, typed(key, value));
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) entries.set('general.alignment', { type: 'uint32', value: alignment });
  if (hasBlocks && !entries.has('general.quantization_version')) entries.set('general.quantization_version', { type: 'uint32', value: GGML_QNT_VERSION });
  return [...entries];
}

/** Float32 values of plain float elements (float32, float16, bfloat16, float64) in `bytes`. */
function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  if (dtype === 'float64') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(bytes.byteLength / 8);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  return ggufDequantize(dtype, bytes);
}

/** Quantizes a stream of plain float bytes block by block (partial elements and blocks carried over). */
async function* quantizeChunks(chunks: AsyncIterable<Uint8Array>, from: DType, to: DType): AsyncGenerator<Uint8Array> {
  const itemBytes = DTYPE_INFO[from].bits / 8;
  const { elements } = dequantizeGeometry(to);
  const groupBytes = itemBytes * elements; // input bytes of one output block
  let pending = new Uint8Array(0);
  for await (const chunk of chunks) {
    const joined = pending.byteLength === 0 ? chunk : concatBytes(pending, chunk);
    const whole = Math.floor(joined.byteLength / groupBytes) * groupBytes;
    if (whole > 0) yield ggufQuantize(to, toFloat32(from, joined.subarray(0, whole)));
    pending = joined.slice(whole);
  }
  if (pending.byteLength !== 0) fail('SIZE_MISMATCH', `gguf: ${pending.byteLength} bytes left over after the last whole ${to} block`);
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/**
 * Creates a GGUF v3 writer publishing to a path, sink or store key. Tensors are written
 * in plan order; metadata values may be typed (`{ type: 'uint32', value: 4096 }`) or
 * plain (typed as gguf-py types them).
 *
 * @example
 * ```ts
 * const writer = await ggufCreateWriter('tiny.gguf', { tensors: [{ name: 'w', dtype: 'float32', shape: [2, 32] }],
 *   metadata: { 'general.architecture': 'llama' }, gguf: { quantize: 'q8_0' } });
 * await writer.add('w', bytes);
 * await writer.close();
 * ```
 */
export async function ggufCreateWriter(target: WriteTarget, options: WriterOptions & { gguf?: GgufWriteOptions }): Promise<TensorWriter> {
  const gguf = options.gguf ?? {};
  const alignment = gguf.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) fail('INVALID_ARGUMENT', `gguf: alignment ${alignment} is not a power of two`);
  if (gguf.quantize !== undefined && !ggufCanQuantize(gguf.quantize)) fail('UNSUPPORTED_DTYPE', `gguf: tensio cannot quantize to ${gguf.quantize}`);
  plannedWriterCheckPlan('gguf', options.tensors);
  const stored: DType[] = [];
  const entries: GgufTensorEntry[] = [];
  let offset = 0;
  for (const spec of options.tensors) {
    const reason = ggufCannotWrite(spec);
    if (reason) fail('UNSUPPORTED_DTYPE', `gguf: ${reason}`);
    const dtype = ggufStoredDType(spec, gguf.quantize);
    const bytes = tensorByteLength(dtype, spec.shape, 'gguf')!;
    stored.push(dtype);
    entries.push({ name: spec.name, ne: [...spec.shape].reverse(), ggmlType: ggmlTypeOfDType(dtype)!.id, offset });
    offset = ggufPad(offset + bytes, alignment);
  }
  const hasBlocks = entries.some((entry) => isBlockDType(dtypeOfGgmlType(entry.ggmlType).dtype));
  const header = ggufHeaderBytes(metadataEntries(options.metadata, gguf, alignment, hasBlocks), entries, alignment);
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  const storedOf = new Map(options.tensors.map((spec, i) => [spec.name, stored[i]!]));
  let headerWritten = false;
  const writeHeader = async () => { if (!headerWritten) { headerWritten = true; await sink.write(header); } };
  return createPlannedWriter({
    format: 'gguf',
    order: options.tensors,
    async writeTensor(spec, chunks) {
      await writeHeader();
      const dtype = storedOf.get(spec.name)!;
      let written = 0;
      const source = dtype === spec.dtype ? chunks : quantizeChunks(chunks, spec.dtype, dtype);
      for await (const chunk of source) { await sink.write(chunk); written += chunk.byteLength; }
      const padding = ggufPad(written, alignment) - written;
      if (padding > 0) await sink.write(new Uint8Array(padding));
    },
    async publish() { await writeHeader(); await sink.close(); },
    discard: () => sink.abort(),
  });
}
