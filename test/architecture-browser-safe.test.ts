/**
 * The browser-safe core: `core/`, `model/` and every format's parsing files (`read.ts`,
 * `validate.ts`, `types.ts`, `dtypes.ts`, `literal.ts`, `strict-json.ts`, the pickle machine)
 * import nothing from `node:` and use no Node `Buffer` directly (a feature-detected
 * `globalThis.Buffer` fast path is allowed). The walk follows run-time imports and stops
 * at `storage/`, the layer where Node-only code lives (files, zlib); the Node-bound
 * storage modules the parsers reach are listed exactly, so a new one is a deliberate
 * change (the browser build swaps these).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importsOf, SRC, sourceFiles } from './helpers/import-graph.js';

const PARSER_FILE = /^formats\/[^/]+\/(read|validate|types|dtypes|literal|strict-json)\.ts$|^formats\/pytorch\/pickle\//;
const starts = sourceFiles().filter((file) => file.startsWith('core/') || file.startsWith('model/') || PARSER_FILE.test(file));

/** Files reached from the starts through run-time imports, not entering storage/. */
function walk(): { files: Set<string>; storageReached: Set<string> } {
  const files = new Set<string>();
  const storageReached = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const edge of importsOf(file)) {
      if (!edge.to || edge.typeOnly) continue;
      if (edge.to.startsWith('storage/')) storageReached.add(edge.to);
      else if (!files.has(edge.to)) queue.push(edge.to);
    }
  }
  return { files, storageReached };
}

/** Direct use of Node's Buffer global (`Buffer.from`, `Buffer.alloc`, …), comments excluded. */
function usesNodeBuffer(file: string): boolean {
  const text = readFileSync(join(SRC, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return /(?<![\w.])Buffer\s*\.\s*(from|alloc|allocUnsafe|allocUnsafeSlow|concat|compare|byteLength|isBuffer)\b/.test(text) || /\bnew\s+Buffer\b/.test(text);
}

/** Node-only code a storage module reaches (its own node: imports, or through other storage modules). */
function storageIsNodeBound(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  return importsOf(file).some((edge) => (!edge.typeOnly && edge.specifier.startsWith('node:')) || (edge.to?.startsWith('storage/') && !edge.typeOnly && storageIsNodeBound(edge.to, seen)));
}

const { files, storageReached } = walk();

test('the walk covers core, model and every format parser (sanity)', () => {
  for (const file of ['core/dtype.ts', 'model/create-reader.ts', 'formats/safetensors/read.ts', 'formats/npy/read.ts', 'formats/pytorch/pickle/machine.ts', 'zip/directory.ts']) {
    assert.ok(files.has(file), `${file} not reached`);
  }
});

test('core, model and the format parsers import nothing from node:', () => {
  const nodeImports = [...files].flatMap((file) => importsOf(file).filter((edge) => edge.specifier.startsWith('node:') && !edge.typeOnly).map((edge) => `${file}: ${edge.specifier}`));
  assert.deepEqual(nodeImports, []);
});

test('core, model and the format parsers use no Node Buffer directly', () => {
  assert.deepEqual([...files].filter(usesNodeBuffer), []);
});

test('the Node-bound storage modules the parsers reach are exactly the known ones', () => {
  // Known today: the chunk reader checks CRC-32s with zlib.crc32, deflate goes through
  // node:zlib, the npy shell opens local paths, and model/read-each.ts asks whether a
  // tensor is a view of a memory map (memory-map.ts loads the addon through node:module;
  // in the browser bundle it finds none and says so). The browser build replaces the node: imports.
  const nodeBound = [...storageReached].filter((file) => storageIsNodeBound(file)).sort();
  assert.deepEqual(nodeBound, ['storage/chunked-bytes.ts', 'storage/file-source.ts', 'storage/inflate-codec.ts', 'storage/memory-map.ts']);
});
