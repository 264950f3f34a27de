/**
 * Finding the pickle globals a file references, for `inspect`, without the CLI
 * knowing any format: the list may sit in the reader's metadata, on the refusal error,
 * or behind a scan function the format exports (an export named `<format>…Globals`
 * taking a path, e.g. `pytorchScanGlobals(path)`), looked up at run time.
 */
import type { TensioError } from '../core/errors.js';
import type { Metadata, TensorFormat } from '../model/types.js';
import type { CliContext } from './types.js';

/** Turns whatever shape a format reports globals in into `module.name` strings. */
function normalizeGlobals(value: unknown): string[] | undefined {
  if (value instanceof Set) value = [...value];
  if (value && typeof value === 'object' && !Array.isArray(value) && 'globals' in value) value = (value as { globals: unknown }).globals;
  if (!Array.isArray(value)) return undefined;
  const names: string[] = [];
  for (const item of value) {
    if (typeof item === 'string') names.push(item);
    else if (item && typeof item === 'object') {
      const entry = item as Record<string, unknown>;
      if (typeof entry.module === 'string' && typeof entry.name === 'string') names.push(`${entry.module}.${entry.name}`);
      else if (typeof entry.global === 'string') names.push(entry.global);
    }
  }
  return names.length > 0 || value.length === 0 ? [...new Set(names)] : undefined;
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
export function cliPickleGlobalsFromMetadata(metadata: Readonly<Metadata>): string[] | undefined {
  for (const [key, value] of Object.entries(metadata)) {
    if (/globals$/i.test(key)) {
      const names = normalizeGlobals(value);
      if (names) return names;
    }
  }
  return undefined;
}

/**
 * A function-valued property named `<prefix>…Globals` (e.g. `pytorchScanGlobals` in the
 * pytorch module, or `scanGlobals` on a format object), taking a path.
 */
function findGlobalsFunction(holder: unknown, prefix = ''): ((path: string, options?: unknown) => unknown) | undefined {
  if (!holder || (typeof holder !== 'object' && typeof holder !== 'function')) return undefined;
  const pattern = new RegExp(`^${prefix}\\w*globals$`, 'i');
  for (const key of Object.keys(holder as object)) {
    const value = (holder as Record<string, unknown>)[key];
    if (pattern.test(key) && typeof value === 'function') return value as (path: string) => unknown;
  }
  return undefined;
}

/**
 * The globals a refused pickle references: from the error (its own `globals` field or
 * its cause's), else from the format's scan function, else undefined.
 *
 * @example
 * ```ts
 * const globals = await cliPickleGlobals(error, format, '/tmp/evil.pt', context);
 * ```
 */
export async function cliPickleGlobals(error: TensioError, format: TensorFormat | undefined, path: string, context: CliContext): Promise<string[] | undefined> {
  for (const holder of [error, error.cause]) {
    if (holder && typeof holder === 'object') {
      for (const key of ['globals', 'pickleGlobals']) {
        const names = normalizeGlobals((holder as Record<string, unknown>)[key]);
        if (names) return names;
      }
    }
  }
  const formatName = format?.name ?? error.format;
  let scan = findGlobalsFunction(format);
  if (!scan && /^[a-z0-9_-]+$/.test(formatName)) {
    try {
      scan = findGlobalsFunction(await import(`../formats/${formatName}/index.js`), formatName);
    } catch {
      scan = undefined; // the format has no module of that name: nothing more to show
    }
  }
  if (!scan) return undefined;
  try {
    return normalizeGlobals(await scan(context.resolvePath(path)));
  } catch {
    return undefined; // the scan failed too; the refusal itself is the answer
  }
}
