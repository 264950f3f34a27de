/**
 * `convert(input, output)`: any readable format to any writable one, through the
 * model seam only, one chunk (or, where a format forces it, one tensor) in memory.
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import type { SourceInput } from '../storage/source-input.js';
import { selectTensors } from '../model/select.js';
import { UNSUPPORTED_TENSORS_KEY, type Metadata, type Progress, type TensorFormat, type TensorInfo, type TensorReader, type TensorSpec, type TensorWriter } from '../model/types.js';
import { densify } from '../model/densify.js';
import { canDequantizeLayout, dequantizeLayout } from '../model/dequantize-layout.js';
import { formatForOutputPath } from './detect.js';
import { openTensorFile } from './open.js';
import { checkOutputPath } from './output-path.js';
import { BUILT_IN_FORMATS, getFormat, type FormatListOption } from './registry.js';
import { verifyTensorFile } from './verify.js';
import { checkedSize, tensorByteLength } from '../core/sizes.js';
import { castItemBytes } from '../core/float-cast.js';
import type { DType } from '../core/dtype.js';
import { castStream, dtypeCastPlan, type DTypeCast } from './dtype-cast.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { blockConversion, loadDequantizer, type BlockConversion } from './block-convert.js';
import { bindS3Target, describeWriteTarget, type StagingPolicy, type WriteTarget } from '../storage/write-target.js';
import type { OpenFormatOptions, WriteFormatOptions } from './format-options.js';
import type { FinishSplitConvertResult } from './split/finish.js';
import { quoteInput } from '../core/quote.js';

/**
 * Options for {@link convert}. With a literal `from`/`to`, `readOptions`/`writeOptions`
 * are typed as that format's own options (`{ to: 'npz', writeOptions: { compress: true } }`).
 */
export interface ConvertOptions<From extends string = string, To extends string = string> extends FormatListOption {
  /** Input format, when detection should be skipped. */
  from?: From;
  /** Output format; by default from the output's extension. */
  to?: To;
  /** Replace an existing output. Default false: `ALREADY_EXISTS` is thrown instead. */
  overwrite?: boolean;
  /** Keep only these tensors: exact names or globs (`'transformer.h.0.*'`). */
  tensors?: readonly string[];
  /** The output name of each tensor, e.g. to strip a `model.` prefix. Default: unchanged. */
  rename?: (name: string) => string;
  /**
   * Write tied weights (one storage under several names) once per name, as before.
   * Default false: when the output format has no aliasing (all but PyTorch), exact
   * duplicates are written once under the name `safetensors.torch.save_model` keeps,
   * and `{ removed: kept }` is recorded in the metadata, as `save_model` does.
   */
  keepDuplicates?: boolean;
  /** Drop tied duplicates even for an output format with aliasing (PyTorch). */
  dropDuplicates?: boolean;
  /** Metadata to write instead of the input's. */
  metadata?: Metadata;
  /** Entries added to (or replacing in) the metadata written, e.g. `{ format: 'pt' }`. */
  extraMetadata?: Metadata;
  /** Options passed to the input format's reader (its `formatOptions`). */
  readOptions?: OpenFormatOptions<From>;
  /** For an `http(s)://` input: request headers (tokens), retries, timeouts, concurrency. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
  /** Options passed to the output format's writer (its `formatOptions`, e.g. `{ crc32: true }`). */
  writeOptions?: WriteFormatOptions<To>;
  /**
   * An output sink or store key that cannot patch bytes already written, for a writer
   * that must (safetensors `crc32`): `'local'` (default) stages the file in a local
   * temporary file, `'never'` refuses with `UNSUPPORTED_FEATURE`.
   */
  staging?: StagingPolicy;
  /**
   * Cast float tensors while converting, rounding exactly as torch's `.to()`: one dtype
   * (`'float16'`: every float64/float32/float16/bfloat16/float8 tensor becomes float16)
   * or a mapping (`{ bfloat16: 'float32' }`: only bfloat16 tensors are cast). Streamed
   * chunk by chunk; other tensors are copied unchanged.
   */
  dtype?: DTypeCast;
  /**
   * Write sparse tensors (CSR/COO parts) dense, checked by {@link densify} (each must fit
   * in one buffer). Without it a multi-part tensor is refused (`UNSUPPORTED_FEATURE`)
   * before anything is written: no format tensio writes today holds parts.
   */
  densify?: boolean;
  /**
   * Check every checksum the input carries (as {@link verifyTensorFile} does) before
   * anything is written, in a first pass over the input; a problem throws its code
   * (e.g. `CHECKSUM_MISMATCH`, naming the tensors concerned) and no output appears.
   * Default false: conversion itself only checks structure.
   */
  verify?: boolean;
  /**
   * Write block-quantized tensors (GGUF's `q4_k`, `q8_0`, …) as float32 values, and
   * GGUF's float16/bfloat16 tensors too, bit for bit as gguf-py's `dequantize`, and
   * zTensor's group-quantized and MX tensors (`dequantizeLayout`); with `dtype`
   * (`float16`, `bfloat16`) those float32 values are then cast. Without it, an output format that cannot hold a block dtype gets its raw blocks as a
   * `uint8` tensor (`[...shape[:-1], rowBytes]`) and `ggml_type:<name>` in the metadata.
   */
  dequantize?: boolean;
  /**
   * Convert only part `index` of `count` (1-based) of the plan, for a conversion split
   * across processes or machines: the tensors are dealt into `count` parts balanced by
   * bytes (largest first, to the lightest part; deterministic, see
   * `src/operations/split/plan.ts`), and this part writes its own shard
   * (`model-0000I-of-0000N.safetensors`) and a small manifest beside `output`, a sharded
   * checkpoint (`out/model.safetensors.index.json`, a folder, or `{ store, key }`).
   * Every part must be given the same input, options and `count`; once all are done,
   * {@link finishSplitConvert} checks them and writes the index.
   */
  part?: {
    index: number;
    count: number;
    /** Most parts accepted (default `SPLIT_MAX_PARTS`, 99,999). */
    maxParts?: number;
    /** The shard checksum its manifest records: `'xxh3'` (XXH3-64, default) or `'sha256'`. */
    checksum?: 'xxh3' | 'sha256';
    /**
     * After this part, finish the whole conversion if every part has finished (the last
     * part to end writes the index; `ConvertResult.finished` then says what the finish
     * did). A finish that refuses throws its error; this part's shard and manifest stay.
     */
    finishWhenComplete?: boolean;
  };
  /** Bytes per streamed chunk, default 8 MiB. */
  chunkBytes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** What {@link convert} did. */
export interface ConvertResult {
  inputFormat: string;
  outputFormat: string;
  tensors: number;
  /** Bytes of tensor data read. */
  bytes: number;
  /** Tensors whose dtype `dtype` changed. */
  cast: number;
  /**
   * The files written: the output path (or the store's name of the key), or a sharded
   * checkpoint's shards then its index; empty for a bare `ByteSink`.
   */
  files: string[];
  /** Files of a replaced output that were removed after the new one was published (old shards). */
  removedFiles: string[];
  /** With `verify`: the checksums of the input that were recomputed and matched. */
  checksumsVerified?: number;
  /** Entries of the input that could not be read (an npz member of strings), left out. */
  skipped: string[];
  /** Tied duplicates written once: removed name → kept name (also in the metadata). */
  duplicates: Record<string, string>;
  /** With `part.finishWhenComplete`, when this part was the last: what the finish did. */
  finished?: FinishSplitConvertResult;
}

/**
 * Converts a tensor file to another format with bounded memory. The output appears
 * atomically when everything was written, or not at all. `output` is a local path, a
 * `ByteSink` or `{ store, key }`; for a sink, `to` names the output format.
 *
 * @example
 * ```ts
 * await convert('model.pt', 'model.safetensors');
 * await convert('weights.safetensors', 'weights.npz', { tensors: ['embed.weight'] });
 * const sink = memorySink();
 * await convert('weights.safetensors', sink, { to: 'npz' }); // sink.bytes() is the .npz
 * ```
 */
export async function convert<From extends string = string, To extends string = string>(input: SourceInput, output: WriteTarget, options: ConvertOptions<From, To> = {}): Promise<ConvertResult> {
  const checksumsVerified = options.verify ? await verifyInput(input, options) : undefined;
  const reader = await openTensorFile(input, {
    ...(options.from ? { format: options.from } : {}),
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.readOptions ? { formatOptions: options.readOptions } : {}),
    ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
  });
  try {
    const result = await convertReader(reader, output, options);
    return checksumsVerified !== undefined ? { ...result, checksumsVerified } : result;
  } finally {
    await reader.close();
  }
}

/** `convert(…, { verify: true })`: the input's checksums, before any output exists. */
async function verifyInput(input: SourceInput, options: ConvertOptions<string, string>): Promise<number> {
  const report = await verifyTensorFile(input, {
    ...(options.from ? { format: options.from } : {}),
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.readOptions ? { formatOptions: options.readOptions } : {}),
    ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
  });
  if (!report.ok) {
    const first = report.problems[0]!;
    const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem${report.problems.length === 2 ? '' : 's'})` : '';
    throw new TensioError(first.code, `${report.path} failed verification, nothing was written: ${first.message}${more}`, { format: report.format, path: report.path });
  }
  return report.checksumsVerified;
}

/**
 * Writes everything an open {@link TensorReader} holds to `output` in another format.
 * This is the one place where any format meets any other.
 */
export async function convertReader<To extends string = string>(reader: TensorReader, output: WriteTarget, options: ConvertOptions<string, To> = {}): Promise<ConvertResult> {
  const outputName = describeWriteTarget(output);
  if (!options.to && outputName === undefined) {
    throw new TensioError('INVALID_ARGUMENT', 'convert to a ByteSink needs the output format: pass { to: "safetensors" } (or another format name)');
  }
  const outputFormat = options.to ? getFormat(options.to, options.formats) : formatForOutputPath(outputName!, options);
  if (!outputFormat.createWriter) {
    throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot write ${outputFormat.name} files yet`);
  }
  // A split part's output is a checkpoint folder (its index path, or the folder itself): checked by the part writer.
  if (typeof output === 'string' && !options.part) await checkOutputPath(output, outputFormat, { parentMustExist: false });
  // Every selection error (NOT_FOUND with close names, DUPLICATE_NAME) comes before any output exists.
  const selection = selectTensors(reader, {
    ...(options.tensors ? { tensors: options.tensors } : {}),
    ...(options.rename ? { rename: options.rename } : {}),
    dropDuplicates: options.dropDuplicates === true || (options.keepDuplicates !== true && outputFormat.aliasing !== true),
  });
  const selected = selection.tensors.map(({ info, outputName }) => ({ info: densePlanOf(info, { densify: options.densify === true, dequantize: options.dequantize === true }, outputFormat), outputName }));
  const infos = selected.map((entry) => entry.info);
  const inputName = new Map(selected.map((entry) => [entry.outputName, entry.info.name]));
  const castTarget = options.dtype !== undefined ? dtypeCastPlan(options.dtype) : () => undefined;
  const casts = new Map<string, { from: DType; to: DType }>();
  const blocks = new Map<string, BlockConversion>();
  const dequantizer = options.dequantize === true ? await loadDequantizer() : undefined;
  const plan: TensorSpec[] = selected.map(({ info, outputName: name }) => {
    const { dtype, shape, byteLength } = info;
    // A multi-part tensor the output holds as parts: written part by part, never cast.
    if (info.layout && info.parts) return { name, dtype, shape, layout: info.layout, parts: info.parts };
    const block = blockConversion(info, name, outputFormat, dequantizer, reader.metadata);
    if (block) {
      blocks.set(name, block);
      // Dequantized blocks are float32 values: `dtype` casts them as any float32 tensor.
      const to = block.spec.dtype === 'float32' ? castTarget('float32') : undefined;
      if (to === undefined) return block.spec;
      casts.set(name, { from: 'float32', to });
      return { ...block.spec, dtype: to };
    }
    const to = castTarget(dtype);
    if (to === undefined) return { name, dtype, shape };
    casts.set(name, { from: dtype, to });
    checkedSize(BigInt(byteLength / castItemBytes(dtype)) * BigInt(castItemBytes(to)), 'tensio', `byte length of ${name} as ${to}`);
    return { name, dtype: to, shape };
  });
  // Table formats (a `columns` write option) take several tensors as one table: each tensor a
  // column (equal first dimensions; N-D cells as the format allows), unless the caller chose.
  const columnsOption = (options.writeOptions as { columns?: unknown } | undefined)?.columns;
  const severalAsColumns = plan.length > 1 && outputFormat.writeOptionNames?.includes('columns') === true && columnsOption === undefined;
  if (outputFormat.capabilities.tensors === 'one' && plan.length !== 1 && !severalAsColumns && columnsOption !== 'separate') {
    throw new TensioError('INVALID_ARGUMENT', `${outputFormat.name} holds exactly one tensor per file and the input has ${plan.length}${plan.length > 1 ? '; pick one with --tensors (tensors: [name]) or write a format that holds several' : ''}`, { format: outputFormat.name });
  }
  for (const [index, spec] of plan.entries()) {
    const reason = outputFormat.capabilities.dtypes.includes(spec.dtype) || spec.parts
      ? outputFormat.cannotWrite?.(spec)
      : `${outputFormat.name} has no ${spec.dtype} dtype (it holds ${outputFormat.capabilities.dtypes.join(', ')})`;
    if (reason) {
      const hint = typeof infos[index]!.extras?.hint === 'string' ? `; ${infos[index]!.extras!.hint as string}` : '';
      throw new TensioError('UNSUPPORTED_DTYPE', `${outputFormat.name} cannot hold tensor ${quoteInput(spec.name)}: ${reason}${hint}`, { format: outputFormat.name });
    }
  }
  const total = infos.reduce((sum, info) => sum + info.byteLength, 0);
  const { [UNSUPPORTED_TENSORS_KEY]: _unsupported, ...inputMetadata } = reader.metadata;
  const metadata: Metadata = { ...(options.metadata ?? inputMetadata) };
  // A checksum recorded for a tensor's old bytes or name (safetensors' `crc32:<name>`)
  // would be wrong after a cast or a rename.
  if (!options.metadata) {
    for (const { info, outputName } of selected) {
      if (casts.has(outputName) || outputName !== info.name) delete metadata[`crc32:${info.name}`];
    }
  }
  for (const [removed, kept] of Object.entries(selection.duplicates)) {
    if (!(removed in metadata)) metadata[removed] = kept; // save_model: never overrides user data
  }
  for (const block of blocks.values()) {
    if (block.metadata) metadata[block.metadata[0]] = block.metadata[1];
    if (block.dropMetadata) delete metadata[block.dropMetadata];
  }
  Object.assign(metadata, options.extraMetadata);
  // Typed metadata (GGUF) keeps its types through formats that lose them: the types of the
  // keys copied unchanged, as JSON text (any format that keeps metadata keeps a string).
  if (!options.metadata && reader.metadataTypes) {
    const kept = Object.entries(reader.metadataTypes).filter(([key]) => key in metadata && !(options.extraMetadata && key in options.extraMetadata));
    if (kept.length > 0) metadata[`${reader.format}.value_types`] = JSON.stringify(Object.fromEntries(kept));
  }
  const writerOptions = {
    tensors: plan,
    metadata,
    overwrite: options.overwrite ?? false,
    sourceFormat: reader.format,
    sourceTensors: infos,
    ...(options.writeOptions || severalAsColumns ? { formatOptions: { ...options.writeOptions, ...(severalAsColumns ? { columns: 'separate' } : {}) } } : {}),
    ...(options.staging ? { staging: options.staging } : {}),
  };
  // An s3:// output with this call's S3 settings (endpoint, credentials, part size, …).
  const target = bindS3Target(output, options.s3);
  // A part of a split conversion: a writer of this part's tensors only (loaded on use: node:crypto).
  const writer: TensorWriter = options.part
    ? await (await import('./split/part-writer.js')).createSplitPartWriter(target, outputFormat, { ...writerOptions, part: options.part, formats: options.formats ?? BUILT_IN_FORMATS, ...(options.part.maxParts !== undefined ? { maxParts: options.part.maxParts } : {}) })
    : await outputFormat.createWriter(target, writerOptions);
  const written = options.part ? new Set(writer.order) : undefined;
  const writtenTotal = written ? infos.reduce((sum, info, at) => (written.has(plan[at]!.name) ? sum + info.byteLength : sum), 0) : total;
  let done = 0;
  try {
    for (const name of writer.order) {
      throwIfAborted(options.signal);
      const sourceName = inputName.get(name) ?? name;
      const sourceInfo = reader.info(sourceName);
      const source = sourceInfo.layout
        ? (plan.find((spec) => spec.name === name)?.parts ? partBytes(reader, sourceInfo, options.signal) : densifiedBytes(reader, sourceName, options.signal))
        : reader.stream(sourceName, {
          reuseBuffer: true,
          ...(options.chunkBytes ?? writer.streamChunkBytes ? { chunkBytes: options.chunkBytes ?? writer.streamChunkBytes } : {}),
          // Streams held open together: mapped views would keep every input's pages resident to the end,
          // and a read-ahead buffer per stream would double what they hold (one band of each is pulled in turn).
          ...(writer.streamChunkBytes ? { copy: true, readAhead: false } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      const stream = countProgress(source, (bytes) => {
        done += bytes;
        options.onProgress?.({ done, total: writtenTotal, item: name });
      });
      const cast = casts.get(name);
      const transform = blocks.get(name)?.transform;
      const decoded = transform ? transform(stream) : stream;
      const bytes = cast ? castStream(decoded, cast.from, cast.to, options.chunkBytes) : decoded;
      await writer.add(name, bytes, options.signal ? { signal: options.signal } : undefined);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const finished = options.part?.finishWhenComplete ? await finishIfLastPart(target, outputFormat.name, options) : undefined;
  return {
    inputFormat: reader.format,
    outputFormat: outputFormat.name,
    tensors: written ? written.size : plan.length,
    bytes: writtenTotal,
    cast: casts.size,
    files: [...(writer.files ?? (outputName !== undefined ? [outputName] : []))],
    removedFiles: [...(writer.removedFiles ?? [])],
    skipped: selection.skipped.map((entry) => entry.name),
    duplicates: selection.duplicates,
    ...(finished ? { finished } : {}),
  };
}

/** `part.finishWhenComplete`: the finish, when every part is done; its refusal says this part was written. */
async function finishIfLastPart(output: WriteTarget, to: string, options: ConvertOptions<string, string>): Promise<FinishSplitConvertResult | undefined> {
  const { index, count } = options.part!;
  try {
    return await (await import('./split/finish.js')).finishSplitConvertIfComplete(output, count, {
      to,
      ...(options.formats ? { formats: options.formats } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
    throw new TensioError(error.code, `part ${index}/${count} was written, but finishing the conversion refused: ${error.message}`, { ...(error.format ? { format: error.format } : {}), ...(error.path ? { path: error.path } : {}), cause: error });
  }
}

async function* countProgress(stream: AsyncIterable<Uint8Array>, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    yield chunk;
    onBytes(chunk.byteLength);
  }
}

/**
 * A multi-part tensor as the dense tensor `convert` writes (its dense dtype, shape and
 * byte length): sparse tensors with `densify`, quant_group/mx tensors as float32 with
 * `dequantize`; the tensor itself when the output holds its layout; else
 * `UNSUPPORTED_FEATURE` saying which option would write it.
 */
function densePlanOf(info: TensorInfo, allowed: { densify: boolean; dequantize: boolean }, format: TensorFormat): TensorInfo {
  if (!info.layout) return info;
  const { layout: _layout, parts: _parts, ...dense } = info;
  if (allowed.dequantize && canDequantizeLayout(info)) return { ...dense, dtype: 'float32', byteLength: tensorByteLength('float32', info.shape)! };
  if (!allowed.densify && format.capabilities.layouts.includes(info.layout.kind)) return info; // written as its parts
  const outputFormat = format.name;
  const sparse = info.layout.kind === 'sparse_csr' || info.layout.kind === 'sparse_coo';
  if (!sparse || !allowed.densify) {
    const parts = (info.parts ?? []).map((part) => part.name).join(', ');
    const hint = sparse ? ': convert with densify to write it dense' : canDequantizeLayout(info) ? ': convert with dequantize to write it as float32 values' : '';
    throw new TensioError('UNSUPPORTED_FEATURE', `${outputFormat} cannot hold ${quoteInput(info.name)}, a ${info.layout.kind === 'other' ? info.layout.name : info.layout.kind} tensor made of parts (${parts})${hint}`, { format: outputFormat });
  }
  return { ...dense, byteLength: tensorByteLength(info.dtype, info.shape)! };
}

/** A multi-part tensor's parts, one after the other in `info.parts` order (how writers take them). */
export async function* partBytes(reader: TensorReader, info: TensorInfo, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for (const part of info.parts ?? []) yield* reader.streamPart(info.name, part.name, signal ? { signal } : {});
}

/** A multi-part tensor written dense: densified (sparse) or dequantized (quant_group, mx). */
async function* densifiedBytes(reader: TensorReader, name: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const options = signal ? { signal } : {};
  yield (canDequantizeLayout(reader.info(name)) ? await dequantizeLayout(reader, name, options) : await densify(reader, name, options)).data;
}
