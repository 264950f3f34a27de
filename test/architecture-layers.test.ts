/**
 * The layers of docs/architecture.md, checked on the import graph of `src/` (type-only
 * imports included: a folder cycle through types is still a cycle):
 * core → storage → zip / model → formats (+ npk) → operations → io → cli → bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { folderOf, importsOf, SRC, sourceFiles } from './helpers/import-graph.js';

/** Which folders each folder may import from (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  storage: ['core'],
  zip: ['core', 'storage'],
  model: ['core', 'storage'],
  formats: ['core', 'storage', 'zip', 'model'],
  npk: ['core', 'storage', 'model'],
  operations: ['core', 'storage', 'zip', 'model', 'formats', 'npk'],
  io: ['core', 'storage', 'zip', 'model', 'formats', 'npk', 'operations'],
  cli: ['core', 'storage', 'zip', 'model', 'formats', 'npk', 'operations', 'io'],
  bin: ['cli'],
  // The browser entry and its Node stand-ins: above the operations, beside the CLI (never imported by it).
  browser: ['core', 'storage', 'zip', 'model', 'formats', 'npk', 'operations'],
  '(root)': ['core', 'storage', 'zip', 'model', 'formats', 'npk', 'operations'],
};

const files = sourceFiles();
const edges = files.flatMap((file) => importsOf(file));

test('the import graph was read (sanity: files and edges found)', () => {
  assert.ok(files.length > 50, `only ${files.length} files under ${SRC}`);
  assert.ok(edges.filter((edge) => edge.to).length > 200);
  for (const edge of edges) if (edge.to) assert.ok(existsSync(join(SRC, edge.to)), `${edge.from} imports ${edge.specifier}, which is not a file`);
});

test('every folder imports only from the folders below it', () => {
  const unknown = [...new Set(files.map(folderOf))].filter((folder) => !(folder in ALLOWED));
  assert.deepEqual(unknown, [], 'a new folder under src/ needs its place in the layers (here and in docs/architecture.md)');
  const wrong = edges
    .filter((edge) => edge.to && folderOf(edge.to) !== folderOf(edge.from) && !ALLOWED[folderOf(edge.from)]!.includes(folderOf(edge.to)))
    .map((edge) => `${edge.from} -> ${edge.to}`);
  assert.deepEqual(wrong, []);
});

test('no cycle between folders', () => {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (!edge.to || folderOf(edge.to) === folderOf(edge.from)) continue;
    if (!graph.has(folderOf(edge.from))) graph.set(folderOf(edge.from), new Set());
    graph.get(folderOf(edge.from))!.add(folderOf(edge.to));
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (folder: string, path: string[]): void => {
    if (state.get(folder) === 'done') return;
    if (state.get(folder) === 'open') {
      cycles.push([...path.slice(path.indexOf(folder)), folder].join(' -> '));
      return;
    }
    state.set(folder, 'open');
    for (const next of graph.get(folder) ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of graph.keys()) visit(folder, []);
  assert.deepEqual(cycles, []);
});

test('core imports nothing outside core', () => {
  const outside = edges.filter((edge) => folderOf(edge.from) === 'core' && edge.to && folderOf(edge.to) !== 'core');
  assert.deepEqual(outside.map((edge) => `${edge.from} -> ${edge.specifier}`), []);
});

test('zip depends only on core and storage; formats never import operations, io or cli', () => {
  const zipOut = edges.filter((edge) => folderOf(edge.from) === 'zip' && edge.to && !['zip', 'core', 'storage'].includes(folderOf(edge.to)));
  assert.deepEqual(zipOut.map((edge) => `${edge.from} -> ${edge.to}`), []);
  const formatsUp = edges.filter((edge) => ['formats', 'npk'].includes(folderOf(edge.from)) && edge.to && ['operations', 'io', 'cli', 'bin', '(root)'].includes(folderOf(edge.to)));
  assert.deepEqual(formatsUp.map((edge) => `${edge.from} -> ${edge.to}`), []);
});

test('formats are listed, not registered by side effect: no bare import of a src module', () => {
  const bare = edges.filter((edge) => edge.to && edge.sideEffect).map((edge) => `${edge.from}: import '${edge.specifier}'`);
  assert.deepEqual(bare, []);
});

test('only src/storage/ touches the file system: no other module imports node:fs or node:fs/promises', () => {
  // The CLI's own stdin/stdout handling goes through process streams, not node:fs; if it
  // ever needs node:fs, list that exact file here with the reason.
  const allowedOutsideStorage = new Set<string>([]);
  const fsImports = edges.filter((edge) => /^(node:)?fs(\/promises)?$/.test(edge.specifier) && !edge.typeOnly);
  assert.ok(fsImports.some((edge) => folderOf(edge.from) === 'storage'), 'sanity: storage itself imports node:fs');
  const outside = fsImports.filter((edge) => folderOf(edge.from) !== 'storage' && !allowedOutsideStorage.has(edge.from));
  assert.deepEqual(outside.map((edge) => `${edge.from} -> ${edge.specifier}`), []);
});
