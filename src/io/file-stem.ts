/**
 * The name NumPack gives an array imported from a single file: the file's stem.
 */
import { basename, extname } from 'node:path';
import { isHttpUrl, localPathOf, type SourceInput } from '../storage/source-input.js';

/**
 * The stem of a path or URL input, or `undefined` for bytes and other sources. The
 * format's own extensions (`known`, e.g. `/\.csv(\.gz)?$/i`) are removed whole, so
 * `a.csv.gz` is `a` (NumPack's `Path.stem` would keep `a.csv`); any other extension is
 * removed as `Path.stem` does, so `x.data` is `x`, as in NumPack.
 */
export function fileStemOf(input: SourceInput, known: RegExp): string | undefined {
  if (typeof input !== 'string' && !(input instanceof URL)) return undefined;
  const path = isHttpUrl(input) ? decodeURIComponent(new URL(String(input)).pathname) : (localPathOf(input) ?? String(input));
  const name = basename(path);
  const stripped = name.replace(known, '');
  return stripped !== name ? stripped : basename(name, extname(name));
}
