/**
 * `tensio convert IN OUT`: any readable format to any writable one through the
 * library's `convert`, with a progress bar on a terminal and no partial output file
 * on failure or Ctrl-C.
 */
import { basename, dirname, join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { isRemoteLocation } from '../storage/source-input.js';
import { checkOutputPath, convert, detectFormat, formatForOutputPath, getFormat, type ConvertOptions } from '../operations/index.js';
import { parseDTypeCast } from '../operations/dtype-cast.js';
import { isDType } from '../core/dtype.js';
import { BUILT_IN_FORMATS } from '../operations/index.js';
import { pathExists } from '../storage/atomic-file-sink.js';
import { localFileSize } from '../storage/local-paths.js';
import { cliParseArgs, cliParseByteSize, cliRefuseIgnoredOptions, cliStringList } from './args.js';
import { cliFormatBytes, cliFormatCount, cliFormatSeconds, cliFormatThroughput, cliJson } from './output.js';
import { cliProgressBar, cliProgressMode } from './progress.js';
import { cliParseMetadata, cliParseTensorList, cliRenameRules } from './select-options.js';
import { CliUsageError, type CliCommand } from './types.js';
import { CLI_HEADER_HELP, CLI_HEADER_OPTION, cliHttpOptions } from './http-options.js';
import { isS3Url } from '../storage/s3-location.js';
import { CLI_SPLIT_EXAMPLES, CLI_SPLIT_HELP, cliFinishSplit, cliSplitPart } from './convert-split.js';
import { CLI_TABLE_HELP, CLI_TABLE_OPTIONS, cliTableOptions } from './table-options.js';

/** Size of a file; undefined for a folder (a store) or nothing. */
const fileSize = localFileSize;

/** CLI options that are input-format options: flag name → the format's `formatOptions` key. */
const CONVERT_FORMAT_OPTIONS = { key: 'key', 'allow-unknown-globals': 'allowUnknownGlobals', 'void-dtype': 'voidDtype' } as const;

/** The `convert` subcommand. */
export const convertCommand: CliCommand = {
  name: 'convert',
  summary: 'convert a tensor file to another format with bounded memory',
  help: `Usage: tensio convert IN OUT [OPTIONS]
       tensio convert IN OUT --part I/N [OPTIONS]   (one part of a split conversion)
       tensio convert --finish OUT                  (after every part: write the index)

Converts IN to OUT, streaming tensor by tensor (one chunk in memory at a time where
the formats allow it). The input format comes from IN's first bytes (then its
extension); the output format from OUT's extension unless --to names it. OUT
appears only when everything was written (atomic rename): a failure or Ctrl-C
leaves no partial file. An existing OUT is refused unless --force is given; OUT's
folder must exist, and an OUT that is a folder is refused (except for folder
formats: npk). An option the input format would ignore (--key on safetensors) is
a usage error. A tensor whose dtype the output format cannot hold is refused
(UNSUPPORTED_DTYPE) before anything is written; pick the others with --tensors.

Tied weights (one storage under several names, as in GPT-2's embeddings) are
written once for every output but PyTorch, under the name safetensors'
save_model keeps, with {removed: kept} recorded in the metadata; the summary
says so. Entries the input lists as unreadable (an npz member of strings) are
left out with a warning.

Arguments:
  IN                  the file or folder to read, an http(s):// URL or s3://bucket/key
  OUT                 the file or folder to write, or s3://bucket/key (a streamed
                      multipart upload, visible only once complete)

Options:
      --to FORMAT     output format (default: from OUT's extension)
      --from FORMAT   input format (default: detected)
  -f, --force         replace OUT if it exists
      --tensors LIST  only these tensors: comma separated names or globs
                      ('transformer.h.0.*'; * any characters, ? one)
      --rename FROM=TO
                      write tensor FROM as TO; FROM may hold one * carried into
                      TO's * ('model.*=*'); repeatable
      --strip-prefix PREFIX
                      drop PREFIX from the names that start with it
                      (Lightning's model.)
      --metadata KEY=VALUE
                      add a metadata entry (e.g. format=pt, as save_model
                      writes); repeatable
      --dtype DTYPE   cast float tensors to DTYPE (float32, float16, bfloat16, float64,
                      float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz),
                      rounding exactly as torch's .to() does, chunk by chunk;
                      FROM:TO[,FROM:TO] casts only tensors of dtype FROM
                      (e.g. bfloat16:float32, to write a bf16 model as npz)
      --crc32         ask the output format to store a CRC32 per tensor, for
                      formats whose writer supports it (others ignore it)
      --compress      npz: deflate every member (np.savez_compressed)
      --quantize TYPE GGUF output: quantize float tensors of 2+ dimensions whose
                      rows hold whole blocks to TYPE (q8_0, q4_0, q4_1, q5_0,
                      q5_1, tq1_0, tq2_0, mxfp4, float16, bfloat16), byte for byte
                      as gguf-py's quantize; 1-D tensors (norms, biases) stay
      --arch NAME     GGUF output: general.architecture (llama, qwen2, …)
      --dequantize    write GGUF block-quantized tensors (q4_k, q8_0, …) as float32
                      values, as gguf-py's dequantize, and zTensor zt.quant_group/1
                      and zt.mx/1 tensors as (q − zero)·scale and element·2^(e−127)
                      float32 values (then cast with --dtype float16|bfloat16).
                      Without it a format that has
                      no such dtypes gets each tensor's raw blocks as uint8
                      [..., row bytes] and ggml_type:<name> in its metadata, which
                      a later conversion back to GGUF restores exactly
      --header-reserve SIZE
                      safetensors output: leave SIZE bytes of spaces in the header
                      (4096, 64KiB) so that 'tensio edit OUT --set KEY=VALUE' later
                      rewrites only the header, in place, instead of the whole file
      --max-shard-size SIZE
                      safetensors: write a sharded checkpoint (model-00001-of-0000N
                      .safetensors + OUT as the index) with shards of at most SIZE
                      (bytes, or with a unit: 500MB, 5GB, 2GiB); OUT must end in
                      .safetensors.index.json. One shard is written as
                      model.safetensors without an index. With --force over an
                      existing checkpoint, the new set is published first (index
                      last) and the old shards are removed after
${CLI_SPLIT_HELP}      --zarr-version 2|3
                      Zarr output: format version (default 3, as zarr-python 3;
                      2 for zarr-python 2 and other v2 readers)
      --compressor NAME
                      Zarr output: default (Blosc zstd level 3 with bitshuffle,
                      as NumPack), none, blosc, zstd, gzip, zlib or lz4
                      (zlib and lz4: version 2 only)
      --chunks SHAPE  Zarr output: chunk shape (e.g. 1024,256) for arrays of that
                      rank, or a chunk size (1MiB, the default)
      --shards SHAPE  Zarr v3 output: shard shape (a multiple of the chunk shape),
                      or a number of chunk rows per shard
      --allow-unknown-globals
                      PyTorch input: read a checkpoint whose pickle names globals
                      outside the allow-list (argparse.Namespace, numpy scalars, a
                      config class) by making each an inert placeholder, never
                      imported or called; its tensors convert as usual
      --key PATH      PyTorch input: convert only the tensors under this dotted
                      path of a nested checkpoint (e.g. state_dict), named
                      relative to it
      --keep-duplicates
                      write tied weights once per name (the old behaviour)
      --drop-duplicates
                      write tied weights once even for PyTorch output
      --verify        first check every checksum IN carries (zip CRC-32s of .pt/.bin
                      and .npz, safetensors crc32 metadata), as 'tensio verify' does;
                      a corrupt IN is refused (exit 1, naming the tensors concerned)
                      and nothing is written. Without it only structure is checked
      --void-dtype DTYPE
                      npy/npz input: read void arrays (<V2) as DTYPE; numpy
                      saves ml_dtypes' bfloat16 as <V2
${CLI_TABLE_HELP}      --progress      print progress on stderr even when it is not a terminal
                      (a line per second); default: a bar on a terminal, a line
                      every 10 s otherwise
  -q, --quiet         print no progress
      --json          print one JSON object describing what was done
${CLI_HEADER_HELP.replace(/^ {6}--header 'NAME: VALUE'\n/, "      --header 'NAME: VALUE'\n").replace(/\n {18}/g, '\n                      ')}
  -h, --help          show this help

Examples:
  tensio convert pytorch_model.bin model.safetensors
  tensio convert model.safetensors w.npz --tensors embed.weight,lm_head.weight
  tensio convert model.safetensors layer0.npz --tensors 'transformer.h.0.*'
  tensio convert data.npz store --to npk --force
  tensio convert last.ckpt model.safetensors --key state_dict \\
      --strip-prefix model. --metadata format=pt
  tensio convert model.safetensors model.npz --dtype bfloat16:float32
  tensio convert model-f32.safetensors model-f16.safetensors --dtype float16
  tensio convert big.pt model.safetensors.index.json --max-shard-size 5GB
  tensio convert model.safetensors model.zarr --zarr-version 2 --compressor zstd
  tensio convert table.csv table.parquet --columns separate \
      --column-dtype id=int64,*=float32 --compression zstd
  tensio convert data.txt data.csv --delimiter whitespace --skip-rows 2 --fmt %.6g
${CLI_SPLIT_EXAMPLES}
Exit codes: 0 converted; 1 bad input, unsupported pair or OUT exists
(ALREADY_EXISTS); 2 usage error; 130 interrupted (no OUT written).
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('convert', args, {
      to: { type: 'string' },
      from: { type: 'string' },
      force: { type: 'boolean', short: 'f' },
      tensors: { type: 'string' },
      rename: { type: 'string', multiple: true },
      'strip-prefix': { type: 'string' },
      metadata: { type: 'string', multiple: true },
      crc32: { type: 'boolean' },
      compress: { type: 'boolean' },
      quantize: { type: 'string' },
      arch: { type: 'string' },
      dequantize: { type: 'boolean' },
      'max-shard-size': { type: 'string' },
      'header-reserve': { type: 'string' },
      part: { type: 'string' },
      finish: { type: 'boolean' },
      'finish-when-done': { type: 'boolean' },
      'skip-checksums': { type: 'boolean' },
      'zarr-version': { type: 'string' },
      compressor: { type: 'string' },
      chunks: { type: 'string' },
      shards: { type: 'string' },
      key: { type: 'string' },
      'allow-unknown-globals': { type: 'boolean' },
      'keep-duplicates': { type: 'boolean' },
      'drop-duplicates': { type: 'boolean' },
      dtype: { type: 'string' },
      verify: { type: 'boolean' },
      'void-dtype': { type: 'string' },
      progress: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      json: { type: 'boolean' },
      ...CLI_HEADER_OPTION,
      ...CLI_TABLE_OPTIONS,
    }, [1, 2]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    if (values.finish === true) {
      if (positionals.length !== 1) throw new CliUsageError(`--finish takes OUT only (the index the parts wrote to), got ${positionals.length} arguments`, 'convert');
      return cliFinishSplit(positionals[0]!, values, context);
    }
    if (positionals.length !== 2) throw new CliUsageError(`convert needs 2 arguments (IN OUT), got ${positionals.length}; to finish a split conversion: tensio convert --finish OUT`, 'convert');
    if (values['skip-checksums'] === true) throw new CliUsageError('--skip-checksums applies to --finish only', 'convert');
    const [input, output] = positionals as [string, string];
    const inputPath = context.resolvePath(input);
    const outputPath = context.resolvePath(output);
    if (inputPath === outputPath) {
      throw new TensioError('INVALID_ARGUMENT', `IN and OUT are the same path (${input}); write to another file`, { path: inputPath });
    }
    if (values['keep-duplicates'] === true && values['drop-duplicates'] === true) throw new CliUsageError('--keep-duplicates and --drop-duplicates contradict each other; pass one', 'convert');
    if (values.progress === true && values.quiet === true) throw new CliUsageError('--progress and --quiet contradict each other; pass one', 'convert');
    const tensors = cliParseTensorList(values.tensors as string | undefined, 'convert');
    const renames = cliRenameRules(cliStringList(values.rename), values['strip-prefix'] as string | undefined, 'convert');
    const extraMetadata = cliParseMetadata(cliStringList(values.metadata), 'convert');
    const voidDtype = values['void-dtype'] as string | undefined;
    if (voidDtype !== undefined && !isDType(voidDtype)) throw new CliUsageError(`--void-dtype needs a tensio dtype such as bfloat16 or float8_e4m3fn, got ${JSON.stringify(voidDtype)}`, 'convert');
    let dtype: ConvertOptions['dtype'];
    if (typeof values.dtype === 'string') {
      try {
        dtype = parseDTypeCast(values.dtype);
      } catch (error) {
        throw new CliUsageError(`--dtype: ${error instanceof Error ? error.message.replace(/^dtype cast: /, '') : String(error)}`, 'convert');
      }
    }
    // The help promises this; any other OUT would name a file that is never written.
    if (typeof values['max-shard-size'] === 'string' && !output.toLowerCase().endsWith('.safetensors.index.json')) {
      throw new CliUsageError(`--max-shard-size writes a sharded checkpoint: OUT must end in .safetensors.index.json (e.g. ${join(dirname(output), 'model.safetensors.index.json')}), not ${output}`, 'convert');
    }
    const force = values.force === true;
    const http = cliHttpOptions(values.header, inputPath, context, 'convert');
    const inputFormat = typeof values.from === 'string' ? getFormat(values.from) : await detectFormat(inputPath, { ...(http ? { http } : {}), ...(context.signal ? { signal: context.signal } : {}) });
    cliRefuseIgnoredOptions(values, CONVERT_FORMAT_OPTIONS, inputFormat, input, 'convert');
    const outputFormat = typeof values.to === 'string' ? getFormat(values.to) : formatForOutputPath(outputPath);
    const table = cliTableOptions(values, inputFormat, outputFormat);
    const part = typeof values.part === 'string' ? cliSplitPart(values.part, output, outputFormat, values['max-shard-size'], values['finish-when-done'] === true) : undefined;
    if (!part && values['finish-when-done'] === true) throw new CliUsageError('--finish-when-done applies to --part only', 'convert');
    if (values.compress === true && !outputFormat.writeOptionNames?.includes('compress')) {
      throw new CliUsageError(`--compress applies to ${BUILT_IN_FORMATS.filter((format) => format.writeOptionNames?.includes('compress')).map((format) => format.name).join(', ')} output only; ${output} is ${outputFormat.name}`, 'convert');
    }
    for (const option of ['quantize', 'arch'] as const) {
      if (typeof values[option] === 'string' && !outputFormat.writeOptionNames?.includes(option)) {
        throw new CliUsageError(`--${option} applies to ${BUILT_IN_FORMATS.filter((format) => format.writeOptionNames?.includes(option)).map((format) => format.name).join(', ')} output only; ${output} is ${outputFormat.name}`, 'convert');
      }
    }
    const quantize = typeof values.quantize === 'string' ? values.quantize.toLowerCase() : undefined;
    if (quantize !== undefined && !isDType(quantize)) throw new CliUsageError(`--quantize needs a type such as q8_0 or q4_0, got ${JSON.stringify(values.quantize)}`, 'convert');
    // A split part to s3:// has no local folder to check; its part writer refuses an existing index.
    const remotePart = part !== undefined && isS3Url(outputPath);
    if (!remotePart) await checkOutputPath(outputPath, outputFormat);
    if (!remotePart && !force && (await pathExists(outputPath))) {
      throw new TensioError('ALREADY_EXISTS', `${output} already exists; pass --force to replace it`, { path: outputPath });
    }

    const writeOptions: Record<string, unknown> = {};
    if (values.crc32 === true) writeOptions.crc32 = true;
    if (values.compress === true) writeOptions.compress = true;
    if (quantize !== undefined) writeOptions.quantize = quantize;
    if (typeof values.arch === 'string') writeOptions.arch = values.arch;
    if (typeof values['header-reserve'] === 'string') {
      if (!outputFormat.writeOptionNames?.includes('headerReserve')) throw new CliUsageError(`--header-reserve applies to safetensors output only; ${output} is ${outputFormat.name}`, 'convert');
      writeOptions.headerReserve = cliParseByteSize(values['header-reserve'], '--header-reserve', 'convert');
    }
    if (typeof values['max-shard-size'] === 'string') writeOptions.maxShardBytes = cliParseByteSize(values['max-shard-size'], '--max-shard-size', 'convert');
    Object.assign(writeOptions, cliZarrWriteOptions(values, outputFormat.name));
    const readOptions: Record<string, unknown> = {};
    if (typeof values.key === 'string') readOptions.key = values.key;
    if (values['allow-unknown-globals'] === true) readOptions.allowUnknownGlobals = true;
    if (voidDtype !== undefined) readOptions.voidDtype = voidDtype;
    Object.assign(readOptions, table.readOptions);
    Object.assign(writeOptions, table.writeOptions);

    const bar = cliProgressBar(context, 'convert', cliProgressMode(values));
    const options: ConvertOptions = {
      overwrite: force,
      onProgress: (progress) => bar.update(progress),
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      from: inputFormat.name,
      ...(tensors ? { tensors } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
      ...(values.verify === true ? { verify: true } : {}),
      ...(values.dequantize === true ? { dequantize: true } : {}),
      ...(renames.rename ? { rename: renames.rename } : {}),
      ...(extraMetadata ? { extraMetadata } : {}),
      ...(values['keep-duplicates'] === true ? { keepDuplicates: true } : {}),
      ...(values['drop-duplicates'] === true ? { dropDuplicates: true } : {}),
      ...(Object.keys(writeOptions).length > 0 ? { writeOptions } : {}),
      ...(Object.keys(readOptions).length > 0 ? { readOptions } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      ...(http ? { http } : {}),
      ...(part ? { part } : {}),
    };
    const started = context.now();
    let result;
    try {
      result = await convert(inputPath, outputPath, options);
    } finally {
      bar.finish();
    }
    const seconds = (context.now() - started) / 1000;
    // Report what was actually written: a sharded output is several files (or one
    // model.safetensors when everything fits one shard), named as the user named OUT.
    const shown = (file: string) => (!isRemoteLocation(file) && dirname(file) === dirname(outputPath) ? join(dirname(output), basename(file)) : file);
    const files = result.files.map(shown);
    const written = files.length > 1 ? files[files.length - 1]! : (files[0] ?? output);
    const sizes = await Promise.all(result.files.map(fileSize));
    const outputSize = sizes.every((size) => size !== undefined) ? sizes.reduce((sum: number, size) => sum + size!, 0) : undefined;
    const removedFiles = result.removedFiles.map(shown);
    for (const rule of renames.unused()) context.stderr(`tensio: warning: ${rule} matched no tensor\n`);
    if (result.skipped.length > 0) {
      context.stderr(`tensio: warning: left out ${result.skipped.length} entr${result.skipped.length === 1 ? 'y' : 'ies'} tensio cannot read: ${result.skipped.join(', ')} (see tensio inspect ${input})\n`);
    }
    if (values.json === true) {
      context.stdout(cliJson({ input, ...result, output: part ? output : written, files, removedFiles, seconds, outputSize: outputSize ?? null, ...(part ? { part: part.index, parts: part.count } : {}) }));
      return 0;
    }
    if (part) {
      const shard = files.length > 1 ? files[0]! : undefined;
      context.stdout(
        `converted part ${part.index}/${part.count} of ${input} (${result.inputFormat}) -> ${shard ?? 'no shard (no tensors fell to this part)'}\n` +
        `  ${cliFormatCount(result.tensors)} tensor${result.tensors === 1 ? '' : 's'}, ${cliFormatBytes(result.bytes)} of tensor data in ${cliFormatSeconds(seconds)} (${cliFormatThroughput(result.bytes, seconds)})\n` +
        (result.finished
          ? `  every part is done: finished ${output}, ${result.finished.parts} parts checked, index written\n`
          : `  when every part is done: tensio convert --finish ${output}${values['finish-when-done'] === true ? ' (or the last part run with --finish-when-done does it)' : ''}\n`),
      );
      return 0;
    }
    const duplicates = Object.entries(result.duplicates);
    context.stdout(
      `converted ${input} (${result.inputFormat}) -> ${written} (${result.outputFormat})\n` +
      `  ${cliFormatCount(result.tensors)} tensor${result.tensors === 1 ? '' : 's'}${result.cast > 0 ? ` (${cliFormatCount(result.cast)} cast)` : ''}, ${cliFormatBytes(result.bytes)} of tensor data` +
      `${outputSize !== undefined ? `, output ${cliFormatBytes(outputSize)}${files.length > 1 ? ` in ${files.length} files (${files.length - 1} shards + index)` : ''}` : ''}` +
      ` in ${cliFormatSeconds(seconds)} (${cliFormatThroughput(result.bytes, seconds)})\n` +
      (result.checksumsVerified !== undefined ? `  input verified first: ${cliFormatCount(result.checksumsVerified)} checksum${result.checksumsVerified === 1 ? '' : 's'} matched\n` : '') +
      (removedFiles.length > 0 ? `  removed ${removedFiles.length} file${removedFiles.length === 1 ? '' : 's'} of the replaced checkpoint: ${removedFiles.slice(0, 5).join(', ')}${removedFiles.length > 5 ? ', …' : ''}\n` : '') +
      (duplicates.length > 0
        ? `  tied weights written once: ${duplicates.map(([removed, kept]) => `${removed} -> ${kept}`).join(', ')} (recorded in the metadata; --keep-duplicates writes every name)\n`
        : ''),
    );
    return 0;
  },
};

/** Zarr writer options from `--zarr-version`, `--compressor`, `--chunks` and `--shards`; refused for other outputs. */
function cliZarrWriteOptions(values: Record<string, unknown>, outputFormat: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = (['zarr-version', 'compressor', 'chunks', 'shards'] as const).filter((name) => typeof values[name] === 'string');
  if (given.length === 0) return out;
  if (outputFormat !== 'zarr') throw new CliUsageError(`--${given[0]} applies to Zarr output only; the output is ${outputFormat}`, 'convert');
  const version = values['zarr-version'];
  if (typeof version === 'string') {
    if (version !== '2' && version !== '3') throw new CliUsageError(`--zarr-version takes 2 or 3, got ${JSON.stringify(version)}`, 'convert');
    out.version = Number(version);
  }
  if (typeof values.compressor === 'string') out.compressor = values.compressor;
  const shape = (text: string, flag: string, sizeAllowed: boolean): number[] | number => {
    if (/^\d+(,\d+)+$/.test(text) || (/^\d+$/.test(text) && !sizeAllowed)) return text.split(',').map(Number);
    if (sizeAllowed) return cliParseByteSize(text, flag, 'convert');
    throw new CliUsageError(`${flag} takes a shape such as 1024,256, got ${JSON.stringify(text)}`, 'convert');
  };
  if (typeof values.chunks === 'string') out.chunks = shape(values.chunks, '--chunks', true);
  if (typeof values.shards === 'string') out.shards = /^\d+$/.test(values.shards) ? Number(values.shards) : shape(values.shards, '--shards', false);
  return out;
}
