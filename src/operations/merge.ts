/**
 * `mergeTensorFiles(inputs, output)`: the tensors of several files (any readable formats)
 * in one output file (any writable format), streamed one tensor at a time. Two inputs
 * holding the same name are refused (`DUPLICATE_NAME`) unless `prefix` names every
 * tensor after its input (`<stem>.<name>`). Multi-part tensors (sparse, quantized) go in
 * as their parts when the output format holds their layout, as in `convert`.
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import type { Metadata, TensorInfo, TensorReader, TensorSpec, TensorWriter } from '../model/types.js';
import type { SourceInput } from '../storage/source-input.js';
import { bindS3Target, describeWriteTarget, type WriteTarget } from '../storage/write-target.js';
import { formatForOutputPath } from './detect.js';
import { openTensorFile } from './open.js';
import { checkOutputPath } from './output-path.js';
import { partBytes } from './convert.js';
import { getFormat, type FormatListOption } from './registry.js';

/** Options for {@link mergeTensorFiles}. */
export interface MergeOptions extends FormatListOption {
  /** Name each tensor `<input stem>.<name>` (or `prefix(index, input)`) instead of refusing collisions. */
  prefix?: boolean | ((index: number, input: SourceInput) => string);
  /** Output format (default: from the output's extension). */
  to?: string;
  /** Replace an existing output (default false). */
  overwrite?: boolean;
  /** Options for the output format's writer. */
  formatOptions?: Record<string, unknown>;
  signal?: AbortSignal;
  /** For `s3://` inputs and output: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/** What {@link mergeTensorFiles} wrote. */
export interface MergeResult {
  readonly outputFormat: string;
  readonly tensors: number;
  readonly bytes: number;
}

function stemOf(input: SourceInput, index: number): string {
  if (typeof input !== 'string' && !(input instanceof URL)) return `input${index}`;
  const base = String(input).replace(/[?#].*$/, '').replace(/\/+$/, '').split(/[\\/]/).pop() ?? `input${index}`;
  return base.replace(/(\.safetensors\.index\.json|\.[^.]+)$/, '') || `input${index}`;
}

/**
 * Merges tensor files into one.
 *
 * @example
 * ```ts
 * await mergeTensorFiles(['a.safetensors', 'b.npz'], 'ab.zt');
 * await mergeTensorFiles(['x.zt', 'x.zt'], 'twice.zt', { prefix: (i) => `copy${i}` });
 * ```
 */
export async function mergeTensorFiles(inputs: readonly SourceInput[], output: WriteTarget, options: MergeOptions = {}): Promise<MergeResult> {
  if (inputs.length === 0) throw new TensioError('INVALID_ARGUMENT', 'merge needs at least one input');
  const outputName = describeWriteTarget(output);
  if (!options.to && outputName === undefined) throw new TensioError('INVALID_ARGUMENT', 'merge to a ByteSink needs the output format: pass { to }');
  const format = options.to ? getFormat(options.to, options.formats) : formatForOutputPath(outputName!, options);
  if (!format.createWriter) throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot write ${format.name} files`);
  if (typeof output === 'string') await checkOutputPath(output, format, { parentMustExist: false });
  const readers: TensorReader[] = [];
  let writer: TensorWriter | undefined;
  try {
    const sources = new Map<string, { reader: TensorReader; name: string }>();
    const plan: TensorSpec[] = [];
    const metadata: Metadata = {};
    // Typed metadata keeps its types as in convert: per input format, the type of each key taken from it.
    const valueTypes = new Map<string, Record<string, string>>();
    const sourceTensors: TensorInfo[] = [];
    for (const [index, input] of inputs.entries()) {
      const reader = await openTensorFile(input, { ...(options.formats ? { formats: options.formats } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.s3 ? { s3: options.s3 } : {}) });
      readers.push(reader);
      const prefix = typeof options.prefix === 'function' ? options.prefix(index, input) : options.prefix ? stemOf(input, index) : undefined;
      for (const [key, value] of Object.entries(reader.metadata)) {
        if (key in metadata || key === 'unsupportedTensors') continue;
        metadata[key] = value;
        const type = reader.metadataTypes?.[key];
        if (type !== undefined) valueTypes.set(reader.format, { ...valueTypes.get(reader.format), [key]: type });
      }
      for (const info of reader.tensors) {
        // A multi-part tensor (sparse, quantized) goes in as its parts when the output holds its layout.
        if (info.layout && !(info.parts && format.capabilities.layouts.includes(info.layout.kind))) {
          throw new TensioError('UNSUPPORTED_FEATURE', `merge: ${info.name} in input ${index + 1} is a ${info.layout.kind === 'other' ? info.layout.name : info.layout.kind} tensor made of parts, which ${format.name} cannot hold; convert it with densify (sparse) or dequantize first`);
        }
        const name = prefix === undefined ? info.name : `${prefix}.${info.name}`;
        const clash = sources.get(name);
        if (clash) throw new TensioError('DUPLICATE_NAME', `merge: tensor ${JSON.stringify(name)} is in input ${[...inputs].findIndex((_, i) => readers[i] === clash.reader) + 1} and input ${index + 1}; pass --prefix to name tensors after their file`);
        const why = format.cannotWrite?.({ name, dtype: info.dtype, shape: info.shape });
        if (why) throw new TensioError('UNSUPPORTED_DTYPE', `merge: ${format.name} cannot hold ${JSON.stringify(name)}: ${why}`);
        sources.set(name, { reader, name: info.name });
        plan.push(info.layout && info.parts ? { name, dtype: info.dtype, shape: info.shape, layout: info.layout, parts: info.parts } : { name, dtype: info.dtype, shape: info.shape });
        sourceTensors.push({ ...info, name });
      }
    }
    for (const [inputFormat, types] of valueTypes) if (!(`${inputFormat}.value_types` in metadata)) metadata[`${inputFormat}.value_types`] = JSON.stringify(types);
    // One input format: the writer may keep what only that format has (zTensor object attributes).
    const inputFormats = new Set(readers.map((reader) => reader.format));
    const source = inputFormats.size === 1 ? { sourceFormat: readers[0]!.format, sourceTensors } : {};
    writer = await format.createWriter(bindS3Target(output, options.s3), { tensors: plan, metadata, overwrite: options.overwrite ?? false, ...source, ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}) });
    let bytes = 0;
    for (const name of writer.order) {
      throwIfAborted(options.signal);
      const { reader, name: original } = sources.get(name)!;
      const info = reader.info(original);
      if (info.layout && info.parts) {
        await writer.add(name, partBytes(reader, info, options.signal), options.signal ? { signal: options.signal } : {});
        bytes += info.byteLength;
        continue;
      }
      // A writer with streamChunkBytes holds its streams open together: one buffer each, as convert does.
      await writer.add(name, reader.stream(original, { reuseBuffer: true, ...(writer.streamChunkBytes ? { chunkBytes: writer.streamChunkBytes, copy: true, readAhead: false } : {}), ...(options.signal ? { signal: options.signal } : {}) }), options.signal ? { signal: options.signal } : {});
      bytes += reader.info(original).byteLength;
    }
    await writer.close();
    return { outputFormat: format.name, tensors: plan.length, bytes };
  } catch (error) {
    await writer?.abort().catch(() => undefined);
    throw error;
  } finally {
    for (const reader of readers) await reader.close().catch(() => undefined);
  }
}
