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

test('bin: Ctrl-C during a conversion exits 130 and leaves no output or temporary file', async (t) => {
  const { open, readdir } = await import('node:fs/promises');
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const dir = await tempDir(t);
  // A 1 GiB safetensors file made sparse: header written, data left as a hole (instant, no disk used).
  const dataBytes = 2 ** 30;
  const header = new TextEncoder().encode(JSON.stringify({ big: { dtype: 'U8', shape: [dataBytes], data_offsets: [0, dataBytes] } }).padEnd(64, ' '));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.byteLength));
  const handle = await open(join(dir, 'big.safetensors'), 'w');
  await handle.write(prefix, 0, 8, 0);
  await handle.write(header, 0, header.byteLength, 8);
  await handle.truncate(8 + header.byteLength + dataBytes);
  await handle.close();

  const child = spawn(process.execPath, [...command, 'convert', 'big.safetensors', 'big.npy'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Interrupt as soon as the writer's temporary file exists: the conversion is under way.
  let interrupted = false;
  for (let waited = 0; waited < 30_000 && child.exitCode === null; waited += 5) {
    if ((await readdir(dir)).some((name) => name.endsWith('.tmp'))) {
      child.kill('SIGINT');
      interrupted = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const code = await exited;
  assert.ok(interrupted, `the conversion finished before it could be interrupted: ${stderr}`);
  assert.equal(code, 130, stderr);
  assert.equal(cliErrorCode(stderr), 'ABORTED');
  assert.deepEqual(await readdir(dir), ['big.safetensors']);
});
