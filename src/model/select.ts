/**
 * Which tensors a conversion writes, under which names: `--tensors` patterns (exact
 * names or globs), renames, and tied duplicates dropped. One place, so every output
 * format sees the same selection and the errors say what to try instead.
 */
import { TensioError, type TensioErrorCode } from '../core/errors.js';
import { findTiedDuplicates } from './shared-storage.js';
import { UNSUPPORTED_TENSORS_KEY, type Metadata, type TensorInfo, type TensorReader, type UnsupportedTensor } from './types.js';
import { quoteInput } from '../core/quote.js';

/** How to choose and name the tensors of a conversion. */
export interface SelectTensorsOptions {
  /** Exact names or globs (`*` any run of characters, `?` one character). Default: all. */
  tensors?: readonly string[];
  /** The name each tensor gets in the output (after the selection). Default: its own. */
  rename?: (name: string) => string;
  /** Drop exact duplicates (tied weights), keeping the name `save_model` keeps. */
  dropDuplicates?: boolean;
}

/** One tensor to write: where it comes from and its name in the output. */
export interface SelectedTensor {
  info: TensorInfo;
  outputName: string;
}

/** What {@link selectTensors} chose. */
export interface TensorSelection {
  tensors: SelectedTensor[];
  /** Entries the reader could not read (an npz member of strings), left out. */
  skipped: UnsupportedTensor[];
  /** Tied duplicates left out: removed output name → kept output name. */
  duplicates: Record<string, string>;
}

/** True when a `--tensors` entry is a glob rather than a name. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/**
 * A glob as a regular expression matching whole names: `*` any run of characters
 * (dots included), `?` one character, everything else literal.
 *
 * @example
 * ```ts
 * globToRegExp('transformer.h.0.*').test('transformer.h.0.attn.c_attn.weight'); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/** Edit distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to three names close to `wanted`: the nearest by edit distance, or the names that
 * end with it (`weight` → `lm_head.weight`), for a "did you mean" hint.
 *
 * @example
 * ```ts
 * suggestNames('lm_head.weigth', names); // ['lm_head.weight']
 * ```
 */
export function suggestNames(wanted: string, names: readonly string[]): string[] {
  const suffix = names.filter((name) => name.endsWith(`.${wanted}`) || name.endsWith(wanted));
  if (suffix.length > 0 && suffix.length <= 3) return suffix;
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return names
    .map((name) => ({ name, distance: editDistance(wanted, name) }))
    .filter((entry) => entry.distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map((entry) => entry.name);
}

/** The entries a reader lists as unreadable (see {@link UNSUPPORTED_TENSORS_KEY}). */
export function unsupportedTensorsOf(metadata: Readonly<Metadata>): UnsupportedTensor[] {
  const listed = metadata[UNSUPPORTED_TENSORS_KEY];
  return Array.isArray(listed) ? (listed as UnsupportedTensor[]) : [];
}

/**
 * Chooses the tensors to write, in file order, and their output names. Throws
 * `NOT_FOUND` (with close names) for a name or glob that matches nothing, the entry's
 * own code for a name the reader lists as unsupported, and `DUPLICATE_NAME` when two
 * tensors would get one output name.
 *
 * @example
 * ```ts
 * const { tensors } = selectTensors(reader, { tensors: ['transformer.h.0.*'] });
 * ```
 */
export function selectTensors(reader: TensorReader, options: SelectTensorsOptions = {}): TensorSelection {
  const names = reader.tensors.map((info) => info.name);
  const unsupported = unsupportedTensorsOf(reader.metadata);
  let chosen: Set<string> | undefined;
  if (options.tensors) {
    chosen = new Set();
    for (const pattern of options.tensors) {
      if (isGlob(pattern)) {
        const regex = globToRegExp(pattern);
        const matches = names.filter((name) => regex.test(name));
        if (matches.length === 0) {
          throw new TensioError('NOT_FOUND', `no tensor matches ${quoteInput(pattern)} in ${reader.path ?? 'the input'} (${names.length} tensors; see tensio inspect)`, { format: reader.format });
        }
        for (const name of matches) chosen.add(name);
        continue;
      }
      if (reader.has(pattern)) {
        chosen.add(pattern);
        continue;
      }
      const entry = unsupported.find((candidate) => candidate.name === pattern);
      if (entry) {
        throw new TensioError(entry.code as TensioErrorCode, `${reader.format}: ${quoteInput(pattern)}${entry.formatDtype ? ` (${entry.formatDtype})` : ''} cannot be converted: ${entry.reason}`, { format: reader.format });
      }
      const close = suggestNames(pattern, names);
      throw new TensioError('NOT_FOUND', `${reader.format}: no tensor named ${quoteInput(pattern)}${reader.path ? ` in ${reader.path}` : ''}${close.length > 0 ? `; did you mean ${close.map((name) => JSON.stringify(name)).join(', ')}?` : ''}`, { format: reader.format });
    }
  }
  const infos = reader.tensors.filter((info) => !chosen || chosen.has(info.name));
  const removed = options.dropDuplicates ? findTiedDuplicates(infos) : new Map<string, string>();
  const rename = options.rename ?? ((name: string) => name);
  const tensors: SelectedTensor[] = [];
  const duplicates: Record<string, string> = {};
  const sources = new Map<string, string>();
  for (const info of infos) {
    const kept = removed.get(info.name);
    if (kept !== undefined) {
      duplicates[rename(info.name)] = rename(kept);
      continue;
    }
    const outputName = rename(info.name);
    const earlier = sources.get(outputName);
    if (earlier !== undefined) {
      throw new TensioError('DUPLICATE_NAME', `${quoteInput(earlier)} and ${quoteInput(info.name)} would both be written as ${quoteInput(outputName)}; change the renames`);
    }
    if (outputName.length === 0) throw new TensioError('INVALID_NAME', `${quoteInput(info.name)} would be renamed to an empty name`);
    sources.set(outputName, info.name);
    tensors.push({ info, outputName });
  }
  return { tensors, skipped: chosen ? [] : unsupported, duplicates };
}
