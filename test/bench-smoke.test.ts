/**
 * Smoke test of the benchmark harness: a tiny `--quick` run of the safetensors and npy
 * benchmarks must exit 0 and print ratio rows. No timing is asserted (machines are noisy);
 * the real benchmark runs only with `npm run bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('bench/run.ts --quick --only safetensors,npy exits 0 and prints ratio rows', () => {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'safetensors,npy', '--size-mib', '2'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 2 ** 20,
  });
  assert.equal(result.status, 0, `bench exited ${result.status}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  const ratioRows = result.stdout.split('\n').filter((line) => /\|\s*\d+\.\d+x\s*\|/.test(line));
  assert.ok(ratioRows.length > 0, `no ratio rows in:\n${result.stdout.slice(-3000)}`);
  assert.match(result.stdout, /== summary: /);
  assert.match(result.stdout, /== npy \(2 MiB\) ==/);
});
