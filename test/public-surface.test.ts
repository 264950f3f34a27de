/**
 * The public surface, snapshotted: the exported names of every package entry point
 * (package.json `exports`) are compared with `test/public-surface.json`, so a change of
 * the public API is always deliberate. After an intended change, regenerate the list:
 *
 *   TENSIO_UPDATE_SURFACE=1 node --import tsx --test test/public-surface.test.ts
 *
 * and commit it with the change (the diff shows what was added or removed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const snapshotPath = join(root, 'test', 'public-surface.json');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }> };

/** Entry point → its source module (`./dist/x/index.js` → `src/x/index.ts`). */
function entryPoints(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    out.set(subpath === '.' ? 'tensio' : `tensio/${subpath.slice(2)}`, source);
  }
  return out;
}

test('every package entry point exports exactly the names in test/public-surface.json', async () => {
  const surface: Record<string, string[]> = {};
  for (const [name, source] of entryPoints()) {
    const module = (await import(pathToFileURL(join(root, source)).href)) as Record<string, unknown>;
    surface[name] = Object.keys(module).sort();
  }
  assert.ok(surface.tensio && surface.tensio.includes('openTensorFile'), 'the root entry was read (sanity)');
  if (process.env.TENSIO_UPDATE_SURFACE === '1') {
    writeFileSync(snapshotPath, `${JSON.stringify(surface, null, 2)}\n`);
    return;
  }
  const committed = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Record<string, string[]>;
  for (const entry of new Set([...Object.keys(surface), ...Object.keys(committed)])) {
    const now = new Set(surface[entry] ?? []);
    const then = new Set(committed[entry] ?? []);
    const added = [...now].filter((name) => !then.has(name));
    const removed = [...then].filter((name) => !now.has(name));
    assert.deepEqual({ entry, added, removed }, { entry, added: [], removed: [] }, `the public surface of ${entry} changed; if intended, regenerate test/public-surface.json (see the top of this file)`);
  }
});

test('each format has its own subpath entry, and the NumPack-style helpers live in tensio/io', () => {
  const entries = entryPoints();
  for (const name of ['tensio', 'tensio/io', 'tensio/safetensors', 'tensio/pytorch', 'tensio/npy', 'tensio/npz']) assert.ok(entries.has(name), `${name} missing from package.json exports`);
});
