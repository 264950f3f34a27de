/**
 * The package version, read once from package.json (two folders up from both
 * `src/cli/` and `dist/cli/`, so it works from source and from the build).
 */
import { readLocalTextSync } from '../storage/local-paths.js';

let cached: string | undefined;

/**
 * tensio's version, e.g. `'0.1.0'`; `'unknown'` if package.json cannot be read.
 *
 * @example
 * ```ts
 * io.stdout(`tensio ${cliVersion()}\n`);
 * ```
 */
export function cliVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readLocalTextSync(new URL('../../package.json', import.meta.url))) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
