/**
 * The import graph of `src/`, read from the source text: every static `import … from`,
 * `export … from`, side-effect `import '…'` and dynamic `import('…')` with a literal
 * specifier. Used by the architecture tests (layers, browser-safe parsers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository's `src/`. */
export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** One import found in a source file. */
export interface ImportEdge {
  /** Importing file, relative to `src/` with forward slashes. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported file relative to `src/` (`.ts`), for relative specifiers; undefined for packages and `node:`. */
  to?: string;
  /** True for `import type` / `export type` (erased at run time). */
  typeOnly: boolean;
  /** True for `import('…')`. */
  dynamic: boolean;
  /** True for a bare `import '…'` (run for its side effects only). */
  sideEffect: boolean;
}

/** Every `.ts` file under `src/`, relative to it. */
export function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(relative(SRC, path).split('\\').join('/'));
    }
  };
  walk(SRC);
  return out.sort();
}

/** Drops comments (block and line) so examples in TSDoc are not read as imports. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The imports of one file. */
export function importsOf(file: string): ImportEdge[] {
  const text = stripComments(readFileSync(join(SRC, file), 'utf8'));
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean, dynamic: boolean, sideEffect = false): void => {
    const edge: ImportEdge = { from: file, specifier, typeOnly, dynamic, sideEffect };
    if (specifier.startsWith('.')) {
      edge.to = relative(SRC, resolve(SRC, dirname(file), specifier)).split('\\').join('/').replace(/\.js$/, '.ts');
    }
    edges.push(edge);
  };
  const staticPattern = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm;
  for (const match of text.matchAll(staticPattern)) add(match[4]!, Boolean(match[2]), false);
  for (const match of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) add(match[1]!, false, false, true);
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(match[1]!, false, true);
  return edges;
}

/** The top folder of a file under `src/` (`'core'`, `'formats'`, …), or `'(root)'` for `src/*.ts`. */
export function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? '(root)' : file.slice(0, slash);
}

/** Every file reachable from `start` through relative imports (run-time imports only unless `withTypes`). */
export function reachableFrom(start: readonly string[], withTypes = false): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of importsOf(file)) {
      if (edge.to && (withTypes || !edge.typeOnly) && !seen.has(edge.to)) queue.push(edge.to);
    }
  }
  return seen;
}
