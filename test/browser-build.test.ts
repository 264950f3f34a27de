/**
 * The browser bundle builds (no Chromium needed, so this runs everywhere): every Node
 * built-in the sources import has a stand-in (the build fails on any other `node:`
 * import), the inspector's files are there, and no output file imports a Node module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/temp.js';
import { buildBrowserBundle } from './helpers/browser.js';

function walk(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => (statSync(join(folder, name)).isDirectory() ? walk(join(folder, name)) : [join(folder, name)]));
}

test('npm run build:browser builds the bundle and the inspector with no Node imports left', async (t) => {
  const dir = await tempDir(t, 'tensio-browser-build-');
  buildBrowserBundle(dir);
  for (const file of ['tensio.js', 'inspector/index.html', 'inspector/inspector.css', 'inspector/app.js', 'inspector/worker.js']) {
    assert.ok(statSync(join(dir, file)).size > 0, file);
  }
  const scripts = walk(dir).filter((file) => file.endsWith('.js'));
  assert.ok(scripts.length > 10, 'code splitting made chunks');
  const leftovers = scripts.filter((file) => /\bfrom\s*"node:|\bimport\("node:|require\("node:/.test(readFileSync(file, 'utf8')));
  assert.deepEqual(leftovers, []);
});
