#!/usr/bin/env node
/**
 * Builds tensio's optional memory-mapping addon (`native/`) with the node-gyp that npm
 * bundles, against Node headers already on this machine (never downloaded). Runs as the
 * package's `install` script, so `npm install` and `npm ci` build it when a C compiler
 * is present.
 *
 * A failed build never fails the install: tensio then reads files with ordinary
 * positional reads, and `tensio selftest` / `memoryMapStatus()` say so. Pass `--strict`
 * (`npm run build:native`) to exit non-zero when the build fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const output = join(nativeDir, 'build', 'Release', 'tensio_mmap.node');

function finish(ok, message) {
  console.log(`tensio: ${message}`);
  process.exit(ok || !strict ? 0 : 1);
}

if (process.platform === 'win32') finish(false, 'memory mapping is not built on Windows; files will be read with ordinary reads');
if (!existsSync(join(nativeDir, 'binding.gyp'))) finish(false, 'native/binding.gyp is missing; files will be read with ordinary reads');

/** A directory holding include/node/node_api.h for the running Node: npm's nodedir setting, then the Node install prefix. */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'node_api.h')));
}

/** npm sets npm_config_node_gyp for scripts; otherwise the node-gyp inside npm's own folder. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((path) => path && existsSync(path));
}

const nodeDir = findNodeDir();
if (!nodeDir) finish(false, 'no local Node headers (include/node/node_api.h) were found, so the memory-mapping addon was not built; files will be read with ordinary reads');
const nodeGyp = findNodeGyp();
if (!nodeGyp) finish(false, 'node-gyp was not found next to npm, so the memory-mapping addon was not built; files will be read with ordinary reads');

/** One node-gyp rebuild; `withV8` false leaves out native/src/tensio_mmap_v8.cc (the only C++). */
function build(withV8) {
  rmSync(output, { force: true });
  return spawnSync(process.execPath, [nodeGyp, 'rebuild', `--directory=${nativeDir}`, `--nodedir=${nodeDir}`], {
    encoding: 'utf8',
    timeout: 300_000,
    // Offline by construction: --nodedir points at local headers, so node-gyp has nothing to fetch.
    env: { ...process.env, npm_config_nodedir: nodeDir, TENSIO_NATIVE_V8: withV8 ? '1' : '0' },
  });
}

let result = build(true);
if (result.status === 0 && existsSync(output)) finish(true, `memory-mapping addon built (${output})`);
// Without a C++ compiler (or V8 headers) the C parts still build: mapped buffers are then Node-API ones, counted by V8.
const first = result;
result = build(false);
if (result.status === 0 && existsSync(output)) {
  // The compiler's own lines, not node-gyp's closing ones.
  const why = `${first.stdout ?? ''}${first.stderr ?? ''}`.trim().split('\n').filter((line) => !line.startsWith('gyp ')).slice(-3).join('\n');
  finish(true, `memory-mapping addon built without its C++ part, so V8 counts mapped buffers at their length (${output}); the C++ build said:\n${why}`);
}
const log = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
finish(false, `the memory-mapping addon did not build (a C compiler, make and python3 are needed); files will be read with ordinary reads.\n${log}`);
