import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliErrorCode } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = fileURLToPath(new URL('../dist/bin/tensio.js', import.meta.url));
const source = fileURLToPath(new URL('../src/bin/tensio.ts', import.meta.url));
/** The built bin when `npm run build` has run, else the source through tsx. */
const command = existsSync(built) ? [built] : ['--import', import.meta.resolve('tsx'), source];

function tensio(args: string[], cwd = root) {
  const result = spawnSync(process.execPath, [...command, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('bin: starts with a node shebang', () => {
  const file = existsSync(built) ? built : source;
  assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('bin: --help exits 0 and prints the help on stdout', () => {
  const run = tensio(['--help']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: tensio COMMAND/m);
});

test('bin: --version exits 0', () => {
  const run = tensio(['--version']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^tensio \d+\.\d+\.\d+/);
});

test('bin: usage error exits 2, bad input exits 1, with one error line', async (t) => {
  const usage = tensio(['frobnicate']);
  assert.equal(usage.code, 2);
  assert.equal(cliErrorCode(usage.stderr), 'USAGE');
  const dir = await tempDir(t);
  const missing = tensio(['verify', 'missing.safetensors'], dir);
  assert.equal(missing.code, 1);
  assert.equal(cliErrorCode(missing.stderr), 'NOT_FOUND');
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});
