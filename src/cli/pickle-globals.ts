/**
 * Finding the pickle globals a file references, for `inspect`, without the CLI
 * knowing any format: the list may sit in the reader's metadata, on the refusal error,
 * or come from the format's declared scan (`TensorFormat.listPickleGlobals`).
 */
import type { TensioError } from '../core/errors.js';
import type { Metadata, TensorFormat } from '../model/types.js';
import { BUILT_IN_FORMATS } from '../operations/registry.js';
import type { CliContext } from './types.js';

/** One global a pickle references; `allowed` when the format says whether its allow-list accepts it. */
export interface CliPickleGlobal {
  name: string;
  allowed?: boolean;
}

/** Turns whatever shape a format reports globals in into {@link CliPickleGlobal}s. */
function normalizeGlobals(value: unknown): CliPickleGlobal[] | undefined {
  if (value instanceof Set) value = [...value];
  if (value && typeof value === 'object' && !Array.isArray(value) && 'globals' in value) value = (value as { globals: unknown }).globals;
  if (!Array.isArray(value)) return undefined;
  const found = new Map<string, CliPickleGlobal>();
  for (const item of value) {
    let entry: CliPickleGlobal | undefined;
    if (typeof item === 'string') entry = { name: item };
    else if (item && typeof item === 'object') {
      const record = item as Record<string, unknown>;
      const name = typeof record.global === 'string' ? record.global
        : typeof record.module === 'string' && typeof record.name === 'string' ? `${record.module}.${record.name}` : undefined;
      if (name !== undefined) entry = { name, ...(typeof record.allowed === 'boolean' ? { allowed: record.allowed } : {}) };
    }
    if (entry && !found.has(entry.name)) found.set(entry.name, entry);
  }
  return found.size > 0 || value.length === 0 ? [...found.values()] : undefined;
}

/**
 * Globals as indented lines, those outside the allow-list marked.
 *
 * @example
 * ```ts
 * cliFormatGlobals([{ name: 'os.system', allowed: false }]); // '  os.system  (not allowed)\n'
 * ```
 */
export function cliFormatGlobals(globals: readonly CliPickleGlobal[]): string {
  return globals.map((entry) => `  ${entry.name}${entry.allowed === false ? '  (not allowed)' : ''}\n`).join('');
}

/**
 * The pickle globals listed in a reader's metadata (a key whose name ends in
 * `globals`, e.g. `pickleGlobals`), or undefined when the format keeps none there.
 *
 * @example
 * ```ts
 * cliPickleGlobalsFromMetadata({ pickleGlobals: ['torch._utils._rebuild_tensor_v2'] });
 * ```
 */
export function cliPickleGlobalsFromMetadata(metadata: Readonly<Metadata>): CliPickleGlobal[] | undefined {
  for (const [key, value] of Object.entries(metadata)) {
    if (/globals$/i.test(key)) {
      const names = normalizeGlobals(value);
      if (names) return names;
    }
  }
  return undefined;
}

/**
 * The format's own scan of the globals its pickles reference (`listPickleGlobals`, a
 * declared capability: formats without pickles have none); undefined when the format
 * has no such scan, or when the scan fails (a refusal or the open error already says why).
 *
 * @example
 * ```ts
 * const globals = await cliScanPickleGlobals(getFormat('pytorch'), '/models/a.pt');
 * ```
 */
export async function cliScanPickleGlobals(format: TensorFormat | undefined, path: string, signal?: AbortSignal): Promise<CliPickleGlobal[] | undefined> {
  if (!format?.listPickleGlobals) return undefined;
  try {
    return normalizeGlobals(await format.listPickleGlobals(path, signal ? { signal } : {}));
  } catch {
    return undefined;
  }
}

/**
 * The globals a refused pickle references: from the error (its own `globals` field or
 * its cause's), else from the format's `listPickleGlobals`, else undefined.
 *
 * @example
 * ```ts
 * const globals = await cliPickleGlobals(error, format, 'evil.pt', context);
 * ```
 */
export async function cliPickleGlobals(error: TensioError, format: TensorFormat | undefined, path: string, context: CliContext): Promise<CliPickleGlobal[] | undefined> {
  for (const holder of [error, error.cause]) {
    if (holder && typeof holder === 'object') {
      for (const key of ['globals', 'pickleGlobals']) {
        const names = normalizeGlobals((holder as Record<string, unknown>)[key]);
        if (names) return names;
      }
    }
  }
  const scanner = format ?? BUILT_IN_FORMATS.find((candidate) => candidate.name === error.format);
  return cliScanPickleGlobals(scanner, context.resolvePath(path), context.signal);
}
