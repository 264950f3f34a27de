/**
 * `tensio inspect PATH [--json]`: format, size, metadata and every tensor, from the
 * headers only (no tensor data is read). Refused pickles are reported with the
 * globals they reference.
 */
import { detectFormat, getFormat, openTensorFile } from '../operations/index.js';
import { isTensioError, type TensioError } from '../core/errors.js';
import { elementCount } from '../core/sizes.js';
import type { TensorFormat, TensorInfo, TensorReader } from '../model/types.js';
import { cliParseArgs, cliRefuseIgnoredOptions } from './args.js';
import { cliFormatBytes, cliFormatCount, cliFormatShape, cliFormatTable, cliFormatValue, cliJson } from './output.js';
import { cliFormatGlobals, cliPickleGlobals, cliPickleGlobalsFromMetadata, cliScanPickleGlobals, type CliPickleGlobal } from './pickle-globals.js';
import type { CliCommand, CliContext } from './types.js';
import { CLI_HEADER_HELP, CLI_HEADER_OPTION, cliHttpOptions } from './http-options.js';
import { isHttpUrl } from '../storage/source-input.js';

/** Per-dtype totals in `inspect` output. */
export interface CliDtypeTotals {
  count: number;
  parameters: number;
  bytes: number;
}

/** Totals over all tensors in `inspect` output. */
export interface CliInspectTotals {
  tensors: number;
  parameters: number;
  bytes: number;
  dtypes: Record<string, CliDtypeTotals>;
}

/**
 * Tensor count, parameter count, bytes, and the same per dtype.
 *
 * @example
 * ```ts
 * cliInspectTotals(reader.tensors).dtypes.float32?.parameters;
 * ```
 */
export function cliInspectTotals(tensors: readonly TensorInfo[]): CliInspectTotals {
  const totals: CliInspectTotals = { tensors: tensors.length, parameters: 0, bytes: 0, dtypes: {} };
  for (const info of tensors) {
    const parameters = elementCount(info.shape);
    const dtype = info.dtype === 'opaque' && info.formatDtype ? `opaque(${info.formatDtype})` : info.dtype;
    const entry = (totals.dtypes[dtype] ??= { count: 0, parameters: 0, bytes: 0 });
    entry.count += 1;
    entry.parameters += parameters;
    entry.bytes += info.byteLength;
    totals.parameters += parameters;
    totals.bytes += info.byteLength;
  }
  return totals;
}

/**
 * Extras worth a column in the human table: for folder stores whose shape is logical
 * (deleted rows left out), the physical shape on disk and the deleted row count; for
 * pickled checkpoints, the tensors sharing one storage.
 */
function describeExtras(info: TensorInfo): string {
  const extras = info.extras;
  if (!extras) return '';
  const parts: string[] = [];
  const physical = extras.physicalShape;
  if (Array.isArray(physical) && physical.join(',') !== info.shape.join(',')) parts.push(`physical ${cliFormatShape(physical as number[])}`);
  const deleted = extras.deletedRows;
  if (typeof deleted === 'number' && deleted > 0) parts.push(`${cliFormatCount(deleted)} deleted rows`);
  else if (Array.isArray(deleted) && deleted.length > 0) parts.push(`${cliFormatCount(deleted.length)} deleted rows`);
  // PyTorch: tensors that are views of one storage (tied weights).
  const sharedWith = extras.sharedWith;
  if (Array.isArray(sharedWith) && sharedWith.length > 0) {
    const total = typeof extras.sharedCount === 'number' ? extras.sharedCount : sharedWith.length;
    parts.push(`shares storage with ${sharedWith.join(', ')}${total > sharedWith.length ? ` and ${total - sharedWith.length} more` : ''}`);
  }
  return parts.join(', ');
}

/** The human report for an open reader. */
function inspectText(reader: TensorReader, path: string, globals: readonly CliPickleGlobal[] | undefined): string {
  const totals = cliInspectTotals(reader.tensors);
  let text = cliFormatTable([
    ['path', path],
    ['format', reader.format],
    ['size', `${cliFormatBytes(reader.size)} (${cliFormatCount(reader.size)} bytes)`],
    ['tensors', cliFormatCount(totals.tensors)],
    ['parameters', cliFormatCount(totals.parameters)],
    ['data', `${cliFormatBytes(totals.bytes)} (${cliFormatCount(totals.bytes)} bytes)`],
  ], { indent: '' });

  const metadataEntries = Object.entries(reader.metadata).filter(([, value]) => value !== undefined);
  text += `\nmetadata (${metadataEntries.length} ${metadataEntries.length === 1 ? 'entry' : 'entries'})\n`;
  if (metadataEntries.length > 0) {
    text += cliFormatTable(metadataEntries.map(([key, value]) => [key, cliFormatValue(value)]));
  }
  if (globals) {
    text += `\npickle globals (${globals.length})\n${cliFormatGlobals(globals)}`;
  }

  const rows = reader.tensors.map((info) => [
    info.name,
    info.dtype === 'opaque' && info.formatDtype ? `opaque(${info.formatDtype})` : info.dtype,
    cliFormatShape(info.shape),
    cliFormatCount(info.byteLength),
    describeExtras(info),
  ]);
  text += `\ntensors (${reader.tensors.length})\n`;
  if (rows.length > 0) {
    text += cliFormatTable([['NAME', 'DTYPE', 'SHAPE', 'BYTES', ''], ...rows], { align: ['left', 'left', 'left', 'right', 'left'] });
  }

  const dtypeRows = Object.entries(totals.dtypes)
    .sort(([, a], [, b]) => b.bytes - a.bytes)
    .map(([dtype, entry]) => [dtype, cliFormatCount(entry.count), cliFormatCount(entry.parameters), cliFormatBytes(entry.bytes)]);
  if (dtypeRows.length > 0) {
    text += `\ndtypes\n${cliFormatTable([['DTYPE', 'TENSORS', 'PARAMETERS', 'BYTES'], ...dtypeRows], { align: ['left', 'right', 'right', 'right'] })}`;
  }
  return text;
}

/**
 * The `--json` document. The keys `format, path, size, metadata, tensors[{name, dtype,
 * shape, byteLength}]` are the stable contract; `totals` is extra.
 *
 * @example
 * ```ts
 * const doc = cliInspectJson(reader, 'model.safetensors');
 * ```
 */
export function cliInspectJson(reader: TensorReader, path: string, globals?: readonly CliPickleGlobal[]): Record<string, unknown> {
  return {
    format: reader.format,
    path,
    size: reader.size,
    metadata: reader.metadata,
    tensors: reader.tensors.map((info) => ({ name: info.name, dtype: info.dtype, shape: [...info.shape], byteLength: info.byteLength })),
    totals: cliInspectTotals(reader.tensors),
    ...(globals ? { pickleGlobals: globals } : {}),
  };
}

/** A file refused as an unsafe pickle: say so, list what it references, exit 1. */
async function reportUnsafePickle(error: TensioError, path: string, format: TensorFormat | undefined, context: CliContext, json: boolean): Promise<number> {
  const globals = await cliPickleGlobals(error, format, path, context);
  if (json) {
    context.stdout(cliJson({ format: format?.name ?? error.format, path, error: { code: error.code, message: error.message }, pickleGlobals: globals ?? null }));
  }
  context.stderr(`tensio: ${error.code}: ${error.message}\n`);
  if (globals && !json) {
    context.stderr(`tensio: the pickle references ${globals.length} global${globals.length === 1 ? '' : 's'}:\n${cliFormatGlobals(globals)}`);
  }
  return 1;
}

/** The `inspect` subcommand. */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'show format, metadata and every tensor (reads headers only)',
  help: `Usage: tensio inspect PATH [OPTIONS]

Shows what a tensor file holds without reading its tensor data: format, file size,
metadata, and for every tensor its name, dtype, shape and byte length; then totals
(tensors, parameters, bytes) and a breakdown per dtype. PATH may be a file, a folder
store (.npk), a model folder, or a sharded checkpoint's index or one of the shards
its index names (shown as one model; --shard-only shows that file alone).
Pickle-based files (PyTorch) are parsed, never executed, and the globals their
pickles reference are listed; a file referencing a global outside the allow-list is
refused (UNSAFE_PICKLE, exit 1) with the list of what it references.

Arguments:
  PATH            the file or folder to inspect, or an http(s):// URL (read with
                  Range requests: only the headers travel)

Options:
      --json      print one JSON object: {"format", "path", "size", "metadata",
                  "tensors": [{"name", "dtype", "shape", "byteLength"}], "totals"},
                  plus "pickleGlobals": [{"name", "allowed"}] for pickle-based files;
                  for a refused pickle: {"format", "path", "error", "pickleGlobals"}
      --from FMT  skip format detection and read as FMT
      --key PATH  PyTorch: show only the tensors under this dotted path of a nested
                  checkpoint (e.g. state_dict), named relative to it
      --shard-only
                  PATH is one shard of a sharded checkpoint: show that file alone,
                  not the model its index describes
      --allow-unknown-globals
                  PyTorch: show a checkpoint whose pickle names globals outside
                  the allow-list, each as an inert placeholder (never imported or
                  called) instead of refusing it
${CLI_HEADER_HELP}
  -h, --help      show this help

Examples:
  tensio inspect model.safetensors
  tensio inspect https://huggingface.co/gpt2/resolve/main/model.safetensors
  tensio inspect model.safetensors.index.json
  tensio inspect weights.npz --json | jq '.totals.parameters'

Exit codes: 0 shown; 1 unreadable or refused (tensio: CODE: message); 2 usage error.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('inspect', args, { json: { type: 'boolean' }, from: { type: 'string' }, key: { type: 'string' }, 'shard-only': { type: 'boolean' }, 'allow-unknown-globals': { type: 'boolean' }, ...CLI_HEADER_OPTION }, [1, 1]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const path = positionals[0]!;
    const resolved = context.resolvePath(path);
    const json = values.json === true;
    const http = cliHttpOptions(values.header, resolved, context, 'inspect');
    let format: TensorFormat | undefined;
    try {
      // A remote file is detected while it is opened (one request for both); a local one first.
      const remote = isHttpUrl(resolved);
      const refused = { key: 'key', 'shard-only': 'followIndex', 'allow-unknown-globals': 'allowUnknownGlobals' };
      format = typeof values.from === 'string' ? getFormat(values.from) : remote ? undefined : await detectFormat(resolved);
      if (format) cliRefuseIgnoredOptions(values, refused, format, path, 'inspect');
      const formatOptions = {
        ...(typeof values.key === 'string' ? { key: values.key } : {}),
        ...(values['allow-unknown-globals'] === true ? { allowUnknownGlobals: true } : {}),
        ...(values['shard-only'] === true ? { followIndex: false } : {}),
      };
      const reader = await openTensorFile(resolved, {
        ...(format ? { format: format.name } : {}),
        ...(Object.keys(formatOptions).length > 0 ? { formatOptions } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
        ...(http ? { http } : {}),
      });
      format ??= getFormat(reader.format);
      try {
        cliRefuseIgnoredOptions(values, refused, format, path, 'inspect');
        const globals = cliPickleGlobalsFromMetadata(reader.metadata) ?? await cliScanPickleGlobals(format, reader.format, resolved);
        context.stdout(json ? cliJson(cliInspectJson(reader, path, globals)) : inspectText(reader, path, globals));
      } finally {
        await reader.close();
      }
      return 0;
    } catch (error) {
      if (isTensioError(error, 'UNSAFE_PICKLE')) return reportUnsafePickle(error, path, format, context, json);
      throw error;
    }
  },
};
