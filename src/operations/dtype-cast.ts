/**
 * Casting float tensors while converting (`convert(…, { dtype })`, `tensio convert
 * --dtype`): which tensors a cast applies to, and the chunk-by-chunk cast of a tensor's
 * byte stream, so memory stays at one chunk whatever the tensor's size.
 */
import { isDType, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { CASTABLE_FLOAT_DTYPES, castFloatElements, castItemBytes, isCastableFloat } from '../core/float-cast.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import { quoteInput, quoteValue } from '../core/quote.js';
import { wholeItemRuns } from '../storage/tensor-bytes.js';

/**
 * A cast: one dtype (every castable float tensor becomes it), or a mapping from source
 * dtype to target dtype (only tensors of a listed dtype are cast), e.g.
 * `{ bfloat16: 'float32' }`.
 */
export type DTypeCast = DType | Readonly<Partial<Record<DType, DType>>>;

/**
 * Checks a cast and returns a function giving each dtype's target (undefined: unchanged).
 * Casts run between float64, float32, float16, bfloat16 and the four float8 types;
 * integer, bool, complex and other tensors never change.
 *
 * @example
 * ```ts
 * const target = dtypeCastPlan({ bfloat16: 'float32' });
 * target('bfloat16'); // 'float32'
 * target('float16');  // undefined
 * ```
 */
export function dtypeCastPlan(cast: DTypeCast): (dtype: DType) => DType | undefined {
  const check = (dtype: unknown, role: string): DType => {
    if (typeof dtype !== 'string' || !isDType(dtype) || !isCastableFloat(dtype)) {
      throw new TensioError('INVALID_ARGUMENT', `dtype cast: ${role} ${quoteValue(dtype)} is not a float dtype tensio casts (${CASTABLE_FLOAT_DTYPES.join(', ')})`);
    }
    return dtype;
  };
  if (typeof cast === 'string') {
    const target = check(cast, 'target');
    return (dtype) => (isCastableFloat(dtype) && dtype !== target ? target : undefined);
  }
  const mapping = new Map<DType, DType>();
  for (const [from, to] of Object.entries(cast)) mapping.set(check(from, 'source'), check(to, 'target'));
  if (mapping.size === 0) throw new TensioError('INVALID_ARGUMENT', 'dtype cast: the mapping is empty');
  return (dtype) => {
    const target = mapping.get(dtype);
    return target !== undefined && target !== dtype ? target : undefined;
  };
}

/**
 * Parses the CLI spelling of a cast: `float16` (every float tensor) or
 * `bfloat16:float32[,float16:float32…]` (only tensors of those dtypes).
 *
 * @example
 * ```ts
 * parseDTypeCast('bfloat16:float32'); // { bfloat16: 'float32' }
 * ```
 */
export function parseDTypeCast(text: string): DTypeCast {
  const parts = text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  if (parts.length === 1 && !parts[0]!.includes(':')) {
    dtypeCastPlan(parts[0] as DType);
    return parts[0] as DType;
  }
  const mapping: Partial<Record<DType, DType>> = {};
  for (const part of parts) {
    const [from, to, extra] = part.split(':').map((side) => side.trim());
    if (!from || !to || extra !== undefined) {
      throw new TensioError('INVALID_ARGUMENT', `dtype cast: ${quoteInput(part)} is not FROM:TO (e.g. bfloat16:float32)`);
    }
    if (mapping[from as DType] !== undefined) throw new TensioError('INVALID_ARGUMENT', `dtype cast: ${from} is mapped twice`);
    mapping[from as DType] = to as DType;
  }
  dtypeCastPlan(mapping);
  return mapping;
}

/**
 * Casts a tensor's byte stream from one float dtype to another, chunk by chunk. Input
 * chunks may split elements anywhere; output chunks hold at most `chunkBytes` bytes
 * and are views of one reused buffer, valid until the next is requested (as
 * conversion's `reuseBuffer` streams are).
 *
 * @example
 * ```ts
 * await writer.add(name, castStream(reader.stream(name), 'bfloat16', 'float32'));
 * ```
 */
export async function* castStream(chunks: AsyncIterable<Uint8Array>, from: DType, to: DType, chunkBytes = DEFAULT_STREAM_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  const fromBytes = castItemBytes(from);
  const toBytes = castItemBytes(to);
  const elementsPerOutput = Math.max(1, Math.floor(chunkBytes / toBytes));
  const output = new Uint8Array(elementsPerOutput * toBytes);
  const runs = wholeItemRuns(chunks, fromBytes, (carried) => {
    throw new TensioError('SIZE_MISMATCH', `cast ${from} → ${to}: the stream ended inside an element (${carried} of ${fromBytes} bytes)`);
  });
  for await (const run of runs) {
    const whole = run.byteLength / fromBytes;
    for (let done = 0; done < whole; done += elementsPerOutput) {
      const count = Math.min(elementsPerOutput, whole - done);
      castFloatElements(run.subarray(done * fromBytes), from, output, to, count);
      yield output.subarray(0, count * toBytes);
    }
  }
}
