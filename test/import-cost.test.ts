/**
 * What `import('tensio')` loads: the root entry never pulls in a heavy format library
 * (apache-arrow today; Parquet, HDF5, Zarr and S3 libraries later). A child process
 * imports the entry with a module-resolution hook that records every module it
 * resolves; the test reads that record. (The cold-import time is a benchmark, not a
 * test: `npm run bench -- --only import`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HEAVY = ['apache-arrow', 'flatbuffers'];

/** Every module URL resolved while a fresh process runs `code` (an ES module body). */
async function modulesLoadedBy(t: Parameters<typeof tempDir>[0], code: string): Promise<string[]> {
  const log = join(await tempDir(t), 'resolved.log');
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

test("import('tensio') (the root entry) loads no heavy format library", async (t) => {
  const entry = pathToFileURL(join(root, 'src', 'index.ts')).href;
  const modules = await modulesLoadedBy(t, `await import(${JSON.stringify(entry)});`);
  assert.ok(modules.some((url) => url.endsWith('/src/index.ts')), 'the hook saw the root entry (sanity)');
  assert.ok(modules.some((url) => url.endsWith('/src/operations/registry.ts')), 'the hook saw the registry (sanity)');
  const heavy = modules.filter((url) => HEAVY.some((name) => url.includes(`/node_modules/${name}/`)));
  assert.deepEqual(heavy, []);
});

test("tensio/io loads apache-arrow only when an Arrow helper is called", async (t) => {
  const entry = pathToFileURL(join(root, 'src', 'io', 'index.ts')).href;
  const before = await modulesLoadedBy(t, `await import(${JSON.stringify(entry)});`);
  assert.deepEqual(before.filter((url) => url.includes('/node_modules/apache-arrow/')), []);
  const after = await modulesLoadedBy(t, `const io = await import(${JSON.stringify(entry)}); const { createTensor } = await import(${JSON.stringify(pathToFileURL(join(root, 'src', 'core', 'tensor.ts')).href)});
await io.tensorToArrow(createTensor('float32', [2], new Float32Array([1, 2])));`);
  assert.ok(after.some((url) => url.includes('/node_modules/apache-arrow/')), 'calling tensorToArrow loads apache-arrow (so the first check can see it)');
});
