/**
 * What `import('tensio')` loads: the root entry never pulls in a heavy format library
 * (apache-arrow today; Parquet, HDF5, Zarr and S3 libraries later), nor any format's
 * implementation (reader, writer, zip layer, pickle machine), nor Node's HTTP, TLS,
 * crypto or zlib modules: the registry lists cheap descriptors and each format loads on
 * first use. A child process imports the entry with a module-resolution hook that
 * records every module it resolves; the test reads that record. (The cold-import time
 * is a benchmark, not a test: `npm run bench -- --only import`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HEAVY = ['apache-arrow', 'flatbuffers', '@aws-sdk'];
/** Node modules only reading, writing or fetching needs (the root must not load them at import). */
const DEFERRED_BUILTINS = ['node:http', 'node:https', 'node:crypto', 'node:zlib', 'node:stream'];
/** File names that hold a format's data path, in any format's folder (its cheap sniffing lives elsewhere). */
const IMPLEMENTATION_FILES = /\/src\/(formats\/[^/]+|npk)\/(reader|writer|write|stream-writer|verify|edit|implementation)\.ts$/;

/**
 * Each format's implementation entry: `implementation.ts` beside a lazy `format.ts`, or
 * `format.ts` itself beside a `descriptor.ts` (the registry lists the descriptor). Read
 * from the tree, so a new format is covered without editing this test.
 */
function implementationEntries(): string[] {
  const folders = [...readdirSync(join(root, 'src', 'formats')).map((name) => join(root, 'src', 'formats', name)), join(root, 'src', 'npk')];
  const entries: string[] = [];
  for (const folder of folders) {
    if (existsSync(join(folder, 'implementation.ts'))) entries.push(join(folder, 'implementation.ts'));
    else if (existsSync(join(folder, 'descriptor.ts'))) entries.push(join(folder, 'format.ts'));
  }
  return entries.map((path) => pathToFileURL(path).href);
}

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

test("import('tensio') loads no format implementation, no zip layer and no HTTP, crypto or zlib module", async (t) => {
  const entry = pathToFileURL(join(root, 'src', 'index.ts')).href;
  const modules = new Set(await modulesLoadedBy(t, `await import(${JSON.stringify(entry)});`));
  const implementations = implementationEntries();
  assert.ok(implementations.length >= 12, `found the formats' implementation entries (sanity): ${implementations.length}`);
  assert.deepEqual(implementations.filter((url) => modules.has(url)), [], 'every registry entry is lazy: no implementation entry is loaded by the root');
  const src = [...modules].filter((url) => url.includes('/src/'));
  assert.ok(modules.has(pathToFileURL(join(root, 'src', 'formats', 'safetensors', 'descriptor.ts')).href), 'the registry loaded the cheap descriptors (sanity)');
  assert.deepEqual(src.filter((url) => IMPLEMENTATION_FILES.test(url)), [], 'no format reader, writer, verify or edit module');
  assert.deepEqual(src.filter((url) => url.includes('/src/zip/') || url.includes('/src/formats/pytorch/pickle') || url.includes('/src/cli/')), [], 'no zip layer, pickle machine or CLI code');
  assert.deepEqual([...modules].filter((url) => DEFERRED_BUILTINS.includes(url)), [], 'no node:http/https/crypto/zlib/stream at import');
});

test("tensio/io loads apache-arrow only when an Arrow helper is called", async (t) => {
  const entry = pathToFileURL(join(root, 'src', 'io', 'index.ts')).href;
  const before = await modulesLoadedBy(t, `await import(${JSON.stringify(entry)});`);
  assert.deepEqual(before.filter((url) => url.includes('/node_modules/apache-arrow/')), []);
  const after = await modulesLoadedBy(t, `const io = await import(${JSON.stringify(entry)}); const { createTensor } = await import(${JSON.stringify(pathToFileURL(join(root, 'src', 'core', 'tensor.ts')).href)});
await io.tensorToArrow(createTensor('float32', [2], new Float32Array([1, 2])));`);
  assert.ok(after.some((url) => url.includes('/node_modules/apache-arrow/')), 'calling tensorToArrow loads apache-arrow (so the first check can see it)');
});
