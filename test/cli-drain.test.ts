import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./helpers/drain-child.ts', import.meta.url));

/** Runs the drain child with piped stdio, reading nothing for `delayMs` so the pipes fill up. */
async function runChild(bytes: number, delayMs: number, mode = 'drain'): Promise<{ code: number | null; stdout: number; stderr: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, String(bytes), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pause();
  proc.stderr.pause();
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  let stdout = 0;
  let stderr = 0;
  proc.stdout.on('data', (chunk: Buffer) => { stdout += chunk.byteLength; });
  proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.byteLength; });
  proc.stdout.resume();
  proc.stderr.resume();
  const code = await new Promise<number | null>((resolve) => proc.on('close', (status) => resolve(status)));
  return { code, stdout, stderr };
}

test('the CLI exit path drains piped stdout and stderr: 1 MiB each arrives whole through slow readers', async () => {
  const bytes = 2 ** 20;
  const run = await runChild(bytes, 1500);
  assert.equal(run.code, 3);
  assert.equal(run.stderr, bytes);
  assert.equal(run.stdout, bytes);
});
