/**
 * `tensio compress IN OUT` and `tensio decompress IN OUT`: a conversion whose output
 * format compresses every tensor (zTensor's zstd-seekable frames, npz's deflate) or
 * stores every tensor raw; every part of a `.zt` output carries a digest either way.
 */
import { TensioError } from '../core/errors.js';
import { convert, formatForOutputPath, getFormat } from '../operations/index.js';
import { pathExists } from '../storage/atomic-file-sink.js';
import { localFileSize } from '../storage/local-paths.js';
import { cliParseArgs, cliParseByteSize } from './args.js';
import { cliFormatBytes, cliFormatCount, cliJson } from './output.js';
import { cliProgressBar, cliProgressMode } from './progress.js';
import { CliUsageError, type CliCommand } from './types.js';

function compressionCommand(compress: boolean): CliCommand {
  const name = compress ? 'compress' : 'decompress';
  return {
    name,
    summary: compress ? 'write a compressed copy (.zt: zstd-seekable frames; .npz: deflate)' : 'write an uncompressed copy (.zt: raw, canonical)',
    help: `Usage: tensio ${name} IN OUT [OPTIONS]

${compress
    ? `Writes OUT with every tensor compressed. For .zt: each part becomes
zt.zstd-seekable/1 frames (1 MiB by default, level 3), each frame with its own
checksum, and a digest of the decoded bytes; a row slice of OUT decodes only the
frames it touches. For .npz: every member deflated. IN may be any readable format.`
    : `Writes OUT with every tensor stored raw. For .zt: the canonical form (64 KiB
placement, xxh3 on every part), so the same tensors give the same bytes. For .npz:
stored members. IN may be any readable format, compressed or not.`}

Arguments:
  IN              the input file (any readable format, or an http(s):// URL)
  OUT             the output file; its extension picks the format (default .zt)

Options:
${compress ? `      --level N       zstd level, 1-22 (default 3; .zt only)
      --frame-size S  decoded bytes per zstd frame, e.g. 1MiB (default; at most 16MiB; .zt only)
` : ''}  -f, --force         replace OUT if it exists
      --progress      print progress lines on stderr even when it is not a terminal
  -q, --quiet         print no progress
      --json          print {"input", "output", "tensors", "bytes", "outputSize"}
  -h, --help          show this help

Examples:
  tensio ${name} model.safetensors model${compress ? '.zstd' : ''}.zt
  tensio ${name} ${compress ? 'model.zt small.zt --level 9' : 'small.zt model.zt'}

Exit codes: 0 written; 1 bad input or OUT exists (ALREADY_EXISTS); 2 usage error;
130 interrupted (no OUT written).
`,
    async run(args, context) {
      const { values, positionals, help } = cliParseArgs(name, args, {
        force: { type: 'boolean', short: 'f' },
        progress: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        json: { type: 'boolean' },
        ...(compress ? { level: { type: 'string' as const }, 'frame-size': { type: 'string' as const } } : {}),
      }, [2, 2]);
      if (help) {
        context.stdout(this.help);
        return 0;
      }
      const [input, output] = positionals as [string, string];
      const inputPath = context.resolvePath(input);
      const outputPath = context.resolvePath(output);
      if (inputPath === outputPath) throw new TensioError('INVALID_ARGUMENT', `IN and OUT are the same path (${input}); write to another file`);
      const format = /\.[^./\\]+$/.test(output) ? formatForOutputPath(outputPath) : getFormat('zt');
      if (!format.writeOptionNames?.includes('compress')) {
        throw new CliUsageError(`${output} is ${format.name}, which has no compression option; write .zt or .npz`, name);
      }
      let compressOption: unknown = compress;
      if (compress && format.writeOptionNames.includes('canonical')) {
        const level = values.level === undefined ? undefined : Number(values.level);
        if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 22)) throw new CliUsageError(`--level takes 1..22, got ${JSON.stringify(values.level)}`, name);
        const frameBytes = typeof values['frame-size'] === 'string' ? cliParseByteSize(values['frame-size'], '--frame-size', name) : undefined;
        if (frameBytes !== undefined && (frameBytes < 1 || frameBytes > 16 * 2 ** 20)) throw new CliUsageError(`--frame-size must be 1 B..16 MiB, got ${values['frame-size']}`, name);
        compressOption = { ...(level !== undefined ? { level } : {}), ...(frameBytes !== undefined ? { frameBytes } : {}) };
      } else if (values.level !== undefined || values['frame-size'] !== undefined) {
        throw new CliUsageError(`--level and --frame-size apply to .zt output only; ${output} is ${format.name}`, name);
      }
      const force = values.force === true;
      if (!force && (await pathExists(outputPath))) throw new TensioError('ALREADY_EXISTS', `${output} already exists; pass --force to replace it`, { path: outputPath });
      const bar = cliProgressBar(context, name, cliProgressMode(values));
      let result;
      try {
        result = await convert(inputPath, outputPath, {
          to: format.name,
          overwrite: force,
          writeOptions: { compress: compressOption },
          onProgress: (progress) => bar.update(progress),
          ...(context.signal ? { signal: context.signal } : {}),
        });
      } finally {
        bar.finish();
      }
      const outputSize = await localFileSize(outputPath);
      if (values.json === true) context.stdout(cliJson({ input, output, tensors: result.tensors, bytes: result.bytes, outputSize: outputSize ?? null }));
      else context.stdout(`${input} -> ${output}: ${cliFormatCount(result.tensors)} tensor${result.tensors === 1 ? '' : 's'}, ${cliFormatBytes(result.bytes)} of data${outputSize !== undefined ? `, ${cliFormatBytes(outputSize)} written` : ''} (${format.name}${compress ? ', compressed' : ', raw'})\n`);
      return 0;
    },
  };
}

/** The `compress` subcommand. */
export const compressCommand: CliCommand = compressionCommand(true);
/** The `decompress` subcommand. */
export const decompressCommand: CliCommand = compressionCommand(false);
