/**
 * What `inspect` shows of a reader's tensors: which (`--filter`, `--regex`), in which
 * order (`--sort`), their totals with shared storage counted once, and the
 * `--summary` breakdown by name prefix.
 */
import { elementCount } from '../core/sizes.js';
import { globToRegExp, unsupportedTensorsOf } from '../model/select.js';
import { sharedRepeats } from '../model/shared-storage.js';
import type { Metadata, TensorInfo, UnsupportedTensor } from '../model/types.js';
import { CliUsageError } from './types.js';

/** Per-dtype (or per-prefix) totals in `inspect` output. */
export interface CliDtypeTotals {
  count: number;
  parameters: number;
  bytes: number;
}

/**
 * Totals over the tensors shown. `parameters` and `bytes` count shared storage once:
 * a tensor whose bytes lie inside another's of the same storage (tied weights) is
 * counted in `tensors` and in `sharedTensors`, not again in `parameters`/`bytes`.
 */
export interface CliInspectTotals {
  tensors: number;
  parameters: number;
  bytes: number;
  /** Tensors whose storage was already counted (tied weights). */
  sharedTensors: number;
  dtypes: Record<string, CliDtypeTotals>;
}

/** How `inspect` orders tensors: as the file stores them, or sorted. */
export type CliInspectSort = 'file' | 'name' | 'size';

/** The dtype label of a tensor: `opaque(<V2)` for bytes of an unknown dtype. */
export function cliDtypeLabel(info: TensorInfo): string {
  return info.dtype === 'opaque' && info.formatDtype ? `opaque(${info.formatDtype})` : info.dtype;
}

/**
 * Tensor count, parameter count and bytes (shared storage counted once), and the same
 * per dtype.
 *
 * @example
 * ```ts
 * cliInspectTotals(reader.tensors).parameters; // GPT-2 with tied embeddings: 124,439,808
 * ```
 */
export function cliInspectTotals(tensors: readonly TensorInfo[]): CliInspectTotals {
  const repeats = sharedRepeats(tensors);
  const totals: CliInspectTotals = { tensors: tensors.length, parameters: 0, bytes: 0, sharedTensors: repeats.size, dtypes: {} };
  for (const info of tensors) {
    const entry = (totals.dtypes[cliDtypeLabel(info)] ??= { count: 0, parameters: 0, bytes: 0 });
    entry.count += 1;
    if (repeats.has(info.name)) continue;
    const parameters = elementCount(info.shape);
    entry.parameters += parameters;
    entry.bytes += info.byteLength;
    totals.parameters += parameters;
    totals.bytes += info.byteLength;
  }
  return totals;
}

/**
 * The group a name falls in for `--summary`: its dotted components up to the first
 * number (`transformer.h.0.attn.bias` → `transformer.h.*`), else all but the last
 * (`transformer.wte.weight` → `transformer.wte`), so layers and optimizer state
 * (`optimizer.state.*`) each make one row.
 *
 * @example
 * ```ts
 * cliNamePrefix('model.layers.11.mlp.up_proj.weight'); // 'model.layers.*'
 * ```
 */
export function cliNamePrefix(name: string): string {
  const parts = name.split('.');
  const numeric = parts.findIndex((part) => /^\d+$/.test(part));
  if (numeric > 0) return `${parts.slice(0, numeric).join('.')}.*`;
  if (numeric === 0) return '*';
  return parts.length > 1 ? parts.slice(0, -1).join('.') : name;
}

/**
 * Totals by name prefix (see {@link cliNamePrefix}), shared storage counted once, in
 * the order the prefixes first appear.
 */
export function cliPrefixTotals(tensors: readonly TensorInfo[]): Record<string, CliDtypeTotals> {
  const repeats = sharedRepeats(tensors);
  const groups: Record<string, CliDtypeTotals> = {};
  for (const info of tensors) {
    const entry = (groups[cliNamePrefix(info.name)] ??= { count: 0, parameters: 0, bytes: 0 });
    entry.count += 1;
    if (repeats.has(info.name)) continue;
    entry.parameters += elementCount(info.shape);
    entry.bytes += info.byteLength;
  }
  return groups;
}

/** `--filter GLOB`, `--regex RE`, `--sort KEY` as given. */
export interface CliTensorViewOptions {
  filter?: string;
  regex?: string;
  sort?: string;
}

/**
 * The tensors to show: those matching `--filter` (a glob) and `--regex` (a
 * JavaScript regular expression searched in the name), in file order or sorted by
 * name or by size (largest first). Totals follow the tensors shown.
 *
 * @example
 * ```ts
 * cliTensorView(reader.tensors, { filter: 'transformer.h.0.*', sort: 'size' });
 * ```
 */
export function cliTensorView(tensors: readonly TensorInfo[], options: CliTensorViewOptions, command = 'inspect'): { tensors: TensorInfo[]; sort: CliInspectSort } {
  let shown = [...tensors];
  if (options.filter !== undefined) {
    const glob = globToRegExp(options.filter);
    shown = shown.filter((info) => glob.test(info.name));
  }
  if (options.regex !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(options.regex);
    } catch (error) {
      throw new CliUsageError(`--regex: ${error instanceof Error ? error.message : String(error)}`, command);
    }
    shown = shown.filter((info) => regex.test(info.name));
  }
  const sort = (options.sort ?? 'file') as CliInspectSort;
  if (!['file', 'name', 'size'].includes(sort)) throw new CliUsageError(`--sort takes name, size or file, got ${JSON.stringify(options.sort)}`, command);
  if (sort === 'name') shown.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sort === 'size') shown.sort((a, b) => b.byteLength - a.byteLength || (a.name < b.name ? -1 : 1));
  return { tensors: shown, sort };
}

/** Entries the reader found but cannot read, and the metadata without that list. */
export function cliSplitUnsupported(metadata: Readonly<Metadata>): { unsupported: UnsupportedTensor[]; metadata: Metadata } {
  const unsupported = unsupportedTensorsOf(metadata);
  const { unsupportedTensors: _listed, ...rest } = metadata;
  return { unsupported, metadata: rest };
}

/** The shard a tensor is stored in, for sharded checkpoints (`extras.shard`). */
export function cliShardOf(info: TensorInfo): string | undefined {
  const shard = info.extras?.shard;
  return typeof shard === 'string' ? shard : undefined;
}

/**
 * Facts worth a key in `--json` beyond name/dtype/shape/byteLength: the shard, the
 * names sharing its storage, and for NumPy arrays the byte order and memory order
 * the file stores (tensio's bytes are always little-endian C order); for opaque
 * tensors, the format's own dtype; for chunked formats (Zarr, HDF5), chunks, shards,
 * codecs or filters and attributes.
 */
export function cliTensorJsonExtras(info: TensorInfo): Record<string, unknown> {
  const extras = info.extras ?? {};
  const out: Record<string, unknown> = {};
  const shard = cliShardOf(info);
  if (shard !== undefined) out.shard = shard;
  if (Array.isArray(extras.sharedWith) && extras.sharedWith.length > 0) out.sharedWith = extras.sharedWith;
  if (typeof extras.bigEndian === 'boolean') out.byteOrder = extras.bigEndian ? 'big' : 'little';
  if (typeof extras.fortranOrder === 'boolean') out.memoryOrder = extras.fortranOrder ? 'F' : 'C';
  if (info.dtype === 'opaque' && info.formatDtype !== undefined) out.formatDtype = info.formatDtype;
  // Chunked formats (Zarr, HDF5): the chunk grid, shards, codec or filter pipeline and attributes.
  for (const key of ['chunks', 'shards', 'codecs', 'filters', 'attributes'] as const) {
    if (extras[key] !== undefined && extras[key] !== null) out[key] = extras[key];
  }
  return out;
}
