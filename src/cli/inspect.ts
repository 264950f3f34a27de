/**
 * `tensio inspect PATH [--json]`: format, size, metadata and every tensor, from the
 * headers only (no tensor data is read). Refused pickles are reported with the
 * globals they reference.
 */
import { detectFormat, getFormat, openTensorFile } from '../operations/index.js';
import { isTensioError, type TensioError } from '../core/errors.js';
import type { TensorFormat, TensorInfo, TensorReader } from '../model/types.js';
import { cliParseArgs, cliRefuseIgnoredOptions } from './args.js';
import { cliFormatBytes, cliFormatCount, cliFormatShape, cliFormatTable, cliFormatValue, cliJson, cliTruncate } from './output.js';
import { cliDtypeLabel, cliInspectTotals, cliPrefixTotals, cliShardOf, cliSplitUnsupported, cliTensorJsonExtras, cliTensorView, type CliInspectSort } from './inspect-view.js';
import { cliFormatGlobals, cliPickleGlobals, cliPickleGlobalsFromMetadata, cliScanPickleGlobals, type CliPickleGlobal } from './pickle-globals.js';
import { CliUsageError, type CliCommand, type CliContext } from './types.js';
import { isDType } from '../core/dtype.js';
import { isTableReader, tableStreamStatistics } from '../model/table-stats.js';
import { CLI_HEADER_HELP, CLI_HEADER_OPTION, cliHttpOptions } from './http-options.js';
import { isRemoteLocation } from '../storage/source-input.js';

export type { CliDtypeTotals, CliInspectTotals } from './inspect-view.js';
export { cliInspectTotals } from './inspect-view.js';

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
  if (typeof extras.hint === 'string') parts.push(extras.hint);
  // Chunked formats (Zarr, HDF5): chunk grid, shards and the codec/filter pipeline.
  if (Array.isArray(extras.chunks)) parts.push(`chunks ${cliFormatShape(extras.chunks as number[])}`);
  if (Array.isArray(extras.shards)) parts.push(`shards ${cliFormatShape(extras.shards as number[])}`);
  const pipeline = Array.isArray(extras.codecs) ? extras.codecs : Array.isArray(extras.filters) ? extras.filters : undefined;
  if (pipeline && pipeline.length > 0) parts.push((pipeline as unknown[]).map(String).join('+'));
  return parts.join(', ');
}

/** What `inspect` was asked to show. */
interface InspectView {
  tensors: TensorInfo[];
  sort: CliInspectSort;
  /** True when --filter or --regex left some tensors out. */
  filtered: boolean;
  summary: boolean;
  /** Table formats: their columns, with statistics from the file or read (--stats). */
  columns?: InspectColumn[];
}

/** One table column as `inspect` shows it. */
interface InspectColumn {
  name: string;
  type: string;
  dtype?: string;
  nullCount?: number;
  min?: number | bigint;
  max?: number | bigint;
  /** Where min/max come from: the file's own statistics (Parquet footer) or reading every value (--stats). */
  statistics?: 'file' | 'read';
  /** With --stats: values read and NaNs among them (nulls of float columns read as NaN). */
  count?: number;
  nanCount?: number;
}

/** The columns of a table reader, with the statistics its file records or, with `read`, computed by streaming it. */
async function inspectColumns(reader: TensorReader, read: boolean, signal?: AbortSignal): Promise<InspectColumn[] | undefined> {
  if (!isTableReader(reader)) return undefined;
  const columns: InspectColumn[] = reader.schema.columns.map((column) => ({
    name: column.name, type: column.typeName, ...(column.dtype ? { dtype: column.dtype } : {}),
    ...(column.nullCount !== undefined ? { nullCount: column.nullCount } : {}),
    ...(column.min !== undefined && column.max !== undefined ? { min: column.min, max: column.max, statistics: 'file' as const } : {}),
  }));
  if (read) {
    for (const stats of await tableStreamStatistics(reader, signal)) {
      const column = columns.find((entry) => entry.name === stats.name);
      if (!column) continue;
      column.statistics = 'read';
      column.count = stats.count;
      column.nanCount = stats.nanCount;
      if (stats.min !== undefined) { column.min = stats.min; column.max = stats.max!; } else { delete column.min; delete column.max; }
    }
  }
  return columns;
}

function inspectColumnsText(columns: readonly InspectColumn[]): string {
  const read = columns.some((column) => column.statistics === 'read');
  const source = read ? 'min/max read from every value' : columns.some((column) => column.statistics === 'file') ? 'min/max from the file\'s statistics; --stats reads every value' : 'no statistics in the file; --stats reads every value';
  const rows = columns.map((column) => [
    column.name, column.type, column.nullCount === undefined ? '?' : cliFormatCount(column.nullCount),
    column.min === undefined ? '' : String(column.min), column.max === undefined ? '' : String(column.max),
    ...(read ? [column.nanCount === undefined ? '' : cliFormatCount(column.nanCount)] : []),
  ]);
  const header = ['NAME', 'TYPE', 'NULLS', 'MIN', 'MAX', ...(read ? ['NAN'] : [])];
  return `\ncolumns (${columns.length}; ${source})\n${cliFormatTable([header, ...rows], { align: ['left', 'left', 'right', 'right', 'right', 'right'] })}`;
}

const SORT_WORDS: Record<CliInspectSort, string> = { file: 'file order', name: 'sorted by name', size: 'sorted by size, largest first' };

/**
 * Metadata with every array longer than `max` items cut to its first `max`:
 * `{ truncated: true, length, head }` (text output prints it as such), nested arrays too.
 *
 * @example
 * ```ts
 * cliShortenArrays({ tokens: new Array(50000).fill('a') }, 2); // { tokens: { truncated: true, length: 50000, head: ['a', 'a'] } }
 * ```
 */
export function cliShortenArrays(metadata: Readonly<Record<string, unknown>>, max: number): Record<string, unknown> {
  const shorten = (value: unknown): unknown => {
    if (!Array.isArray(value)) return value;
    if (value.length <= max) return value.map(shorten);
    return { truncated: true, length: value.length, head: value.slice(0, max).map(shorten) };
  };
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, shorten(value)]));
}

/** The human report for an open reader. */
function inspectText(reader: TensorReader, path: string, globals: readonly CliPickleGlobal[] | undefined, view: InspectView): string {
  const totals = cliInspectTotals(view.tensors);
  const { unsupported, metadata } = cliSplitUnsupported(reader.metadata);
  const shards = new Set(view.tensors.map(cliShardOf).filter((shard) => shard !== undefined));
  const counted = totals.sharedTensors > 0 ? ` (shared storage counted once: ${cliFormatCount(totals.sharedTensors)} tied tensor${totals.sharedTensors === 1 ? '' : 's'} not counted again)` : '';
  let text = cliFormatTable([
    ['path', path],
    ['format', reader.format],
    ['size', `${cliFormatBytes(reader.size)} (${cliFormatCount(reader.size)} bytes)`],
    ...(shards.size > 0 ? [['shards', cliFormatCount(shards.size)]] : []),
    ['tensors', `${cliFormatCount(totals.tensors)}${view.filtered ? ` matching (of ${cliFormatCount(reader.tensors.length)})` : ''}`],
    ['parameters', `${cliFormatCount(totals.parameters)}${counted}`],
    ['data', `${cliFormatBytes(totals.bytes)} (${cliFormatCount(totals.bytes)} bytes)`],
    // What a sharded index records as metadata.total_size: the bytes of every tensor.
    ...(shards.size > 0 ? [['total_size', cliFormatCount(view.tensors.reduce((sum, info) => sum + info.byteLength, 0))]] : []),
  ], { indent: '' });

  const metadataEntries = Object.entries(metadata).filter(([, value]) => value !== undefined);
  if (!view.summary) {
    text += `\nmetadata (${metadataEntries.length} ${metadataEntries.length === 1 ? 'entry' : 'entries'})\n`;
    if (metadataEntries.length > 0) {
      text += cliFormatTable(metadataEntries.map(([key, value]) => [key, cliFormatValue(value)]));
    }
  }
  if (globals && !view.summary) {
    text += `\npickle globals (${globals.length})\n${cliFormatGlobals(globals)}`;
  }
  if (unsupported.length > 0) {
    text += `\nunsupported (${unsupported.length}; listed, not readable, left out by convert)\n`;
    text += cliFormatTable([['NAME', 'DTYPE', 'WHY'], ...unsupported.map((entry) => [entry.name, entry.formatDtype ?? '?', `${entry.code}: ${cliTruncate(entry.reason, 100)}`])]);
  }

  if (!view.summary) {
    const withShard = shards.size > 0;
    const rows = view.tensors.map((info) => [
      info.name,
      cliDtypeLabel(info),
      cliFormatShape(info.shape),
      cliFormatCount(info.byteLength),
      ...(withShard ? [cliShardOf(info) ?? ''] : []),
      describeExtras(info),
    ]);
    text += `\ntensors (${view.tensors.length}, ${SORT_WORDS[view.sort]})\n`;
    if (rows.length > 0) {
      const header = ['NAME', 'DTYPE', 'SHAPE', 'BYTES', ...(withShard ? ['SHARD'] : []), ''];
      text += cliFormatTable([header, ...rows], { align: ['left', 'left', 'left', 'right', 'left', 'left'] });
    }
  } else {
    const prefixRows = Object.entries(cliPrefixTotals(view.tensors))
      .map(([prefix, entry]) => [prefix, cliFormatCount(entry.count), cliFormatCount(entry.parameters), cliFormatBytes(entry.bytes)]);
    if (prefixRows.length > 0) {
      text += `\nby name prefix\n${cliFormatTable([['PREFIX', 'TENSORS', 'PARAMETERS', 'BYTES'], ...prefixRows], { align: ['left', 'right', 'right', 'right'] })}`;
    }
  }

  if (view.columns) text += inspectColumnsText(view.columns);

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
 * shape, byteLength}]` are the stable contract; `totals` (shared storage counted
 * once), `order`, per-tensor `shard`, `sharedWith`, `byteOrder`, `memoryOrder`,
 * `formatDtype`, `unsupported` and, with summary, `prefixes` are extra.
 *
 * @example
 * ```ts
 * const doc = cliInspectJson(reader, 'model.safetensors');
 * ```
 */
export function cliInspectJson(reader: TensorReader, path: string, globals?: readonly CliPickleGlobal[], view?: InspectView): Record<string, unknown> {
  const tensors = view?.tensors ?? [...reader.tensors];
  const { unsupported } = cliSplitUnsupported(reader.metadata);
  const shards = new Set(tensors.map(cliShardOf).filter((shard) => shard !== undefined));
  return {
    format: reader.format,
    path,
    size: reader.size,
    metadata: reader.metadata,
    order: view?.sort ?? 'file',
    tensors: view?.summary ? [] : tensors.map((info) => ({ name: info.name, dtype: info.dtype, shape: [...info.shape], byteLength: info.byteLength, ...cliTensorJsonExtras(info) })),
    totals: cliInspectTotals(tensors),
    ...(shards.size > 0 ? { shards: shards.size, total_size: tensors.reduce((sum, info) => sum + info.byteLength, 0) } : {}),
    ...(view?.summary ? { prefixes: cliPrefixTotals(tensors) } : {}),
    ...(unsupported.length > 0 ? { unsupported } : {}),
    ...(globals ? { pickleGlobals: globals } : {}),
    ...(view?.columns ? { columns: view.columns.map((column) => ({ ...column, ...(typeof column.min === 'bigint' ? { min: String(column.min) } : {}), ...(typeof column.max === 'bigint' ? { max: String(column.max) } : {}) })) } : {}),
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
  PATH            the file or folder to inspect, an http(s):// URL or an
                  s3://bucket/key (read with range requests: only the headers travel)

Totals count shared storage once: of tensors that are views of one storage (tied
weights such as GPT-2's wte and lm_head), the bytes and elements are counted once
(torch's count of unique storage); the tensor count includes every name. Entries a
file holds but tensio cannot read (an npz member of strings or objects) are listed
as unsupported. Tensors are shown in file order unless --sort says otherwise.

Options:
      --json      print one JSON object: {"format", "path", "size", "metadata",
                  "order", "tensors": [{"name", "dtype", "shape", "byteLength",
                  "shard"?, "sharedWith"?, "byteOrder"?, "memoryOrder"?,
                  "formatDtype"? (opaque)}], "totals", "shards"?, "total_size"?,
                  "unsupported"?, "prefixes"? (with --summary), "columns"?
                  (tables: [{"name", "type", "dtype"?, "nullCount"?, "min"?,
                  "max"?, "statistics"?: "file"|"read", "count"?, "nanCount"?}])}, plus
                  "pickleGlobals": [{"name", "allowed"}] for pickle-based files;
                  for a refused pickle: {"format", "path", "error", "pickleGlobals"}
      --filter GLOB
                  only tensors whose name matches GLOB ('transformer.h.0.*';
                  * any characters, ? one); totals follow
      --regex RE  only tensors whose name contains a match of the JavaScript
                  regular expression RE ('attn\\.(q|k|v)_proj')
      --full      show metadata arrays whole; by default an array longer than 16
                  items (64 with --json) shows its first items and its length,
                  in --json as {"truncated": true, "length", "type"?, "head"}
      --stats     tables: read every value and show each column's min, max and
                  NaN count (without it, min/max are shown where the file records
                  them: Parquet footer statistics); --json: "columns"
      --sort KEY  order tensors by name or size (largest first); default: file
      --summary   no per-tensor list: totals by name prefix (layers and
                  optimizer state as one row each) and by dtype
      --void-dtype DTYPE
                  npy/npz: read void arrays (<V2) as DTYPE (ml_dtypes' bfloat16)
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
  tensio inspect pytorch_model.bin --summary
  tensio inspect model.safetensors --filter 'transformer.h.0.*' --sort size
  tensio inspect table.feather --stats

Exit codes: 0 shown; 1 unreadable or refused (tensio: CODE: message); 2 usage error.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('inspect', args, {
      json: { type: 'boolean' },
      from: { type: 'string' },
      key: { type: 'string' },
      'shard-only': { type: 'boolean' },
      'allow-unknown-globals': { type: 'boolean' },
      filter: { type: 'string' },
      regex: { type: 'string' },
      sort: { type: 'string' },
      summary: { type: 'boolean' },
      full: { type: 'boolean' },
      stats: { type: 'boolean' },
      'void-dtype': { type: 'string' },
      ...CLI_HEADER_OPTION,
    }, [1, 1]);
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
      const remote = isRemoteLocation(resolved);
      const refused = { key: 'key', 'shard-only': 'followIndex', 'allow-unknown-globals': 'allowUnknownGlobals', 'void-dtype': 'voidDtype' };
      const voidDtype = values['void-dtype'] as string | undefined;
      if (voidDtype !== undefined && !isDType(voidDtype)) throw new CliUsageError(`--void-dtype needs a tensio dtype such as bfloat16, got ${JSON.stringify(voidDtype)}`, 'inspect');
      format = typeof values.from === 'string' ? getFormat(values.from) : remote ? undefined : await detectFormat(resolved);
      if (format) cliRefuseIgnoredOptions(values, refused, format, path, 'inspect');
      const formatOptions = {
        ...(typeof values.key === 'string' ? { key: values.key } : {}),
        ...(values['allow-unknown-globals'] === true ? { allowUnknownGlobals: true } : {}),
        ...(values['shard-only'] === true ? { followIndex: false } : {}),
        ...(voidDtype !== undefined ? { voidDtype } : {}),
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
        const globals = cliPickleGlobalsFromMetadata(reader.metadata) ?? await cliScanPickleGlobals(format, resolved, context.signal);
        const shown = cliTensorView(reader.tensors, {
          ...(typeof values.filter === 'string' ? { filter: values.filter } : {}),
          ...(typeof values.regex === 'string' ? { regex: values.regex } : {}),
          ...(typeof values.sort === 'string' ? { sort: values.sort } : {}),
        });
        const columns = await inspectColumns(reader, values.stats === true, context.signal);
        if (values.stats === true && !columns) throw new CliUsageError(`--stats computes per-column statistics of tables (Parquet, Arrow/Feather); ${path} is ${reader.format}`, 'inspect');
        const view = { ...shown, filtered: shown.tensors.length !== reader.tensors.length, summary: values.summary === true, ...(columns ? { columns } : {}) };
        // Long metadata arrays (GGUF token lists of 100k strings) are cut unless --full asks for them whole.
        const shownReader = values.full === true ? reader : Object.create(reader, { metadata: { value: cliShortenArrays(reader.metadata, json ? 64 : 16) } }) as TensorReader;
        context.stdout(json ? cliJson(cliInspectJson(shownReader, path, globals, view)) : inspectText(shownReader, path, globals, view));
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
