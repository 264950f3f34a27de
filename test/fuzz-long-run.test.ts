/**
 * The long-run fuzzer (`npm run fuzz`) end to end: a short run counts its inputs and
 * writes a summary, and a target that fails on purpose shows every failure class told
 * apart (exception, hang, crash, memory) with the failing inputs kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/temp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runner = fileURLToPath(new URL('./fuzz/run.ts', import.meta.url));

function fuzz(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', runner, ...args], { cwd: root, encoding: 'utf8', timeout: 900_000, env: { ...process.env, ...env } });
}

test('npm run fuzz: a short npy run counts its inputs and writes a summary', async (t) => {
  const out = await tempDir(t);
  const run = fuzz(['--format', 'npy', '--minutes', '0.3', '--seed', '7', '--out', out]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const inputs = Number(/npy: (\d+) inputs/.exec(run.stdout)?.[1]);
  assert.ok(inputs > 0, run.stdout);
  const summary = JSON.parse(await readFile(join(out, 'npy', 'summary-7.json'), 'utf8')) as { inputs: number; byClass: Record<string, number> };
  assert.equal(summary.inputs, inputs);
  assert.equal(Object.values(summary.byClass).reduce((a, b) => a + b, 0), inputs);
});

test('npm run fuzz: exceptions, hangs, crashes and memory blow-ups are classified and kept', async (t) => {
  const out = await tempDir(t);
  // Run seed 1's first 8 mutants are, in order: ok, memory, memory, exception x3, crash, hang.
  const run = fuzz(['--format', 'faults', '--minutes', '12', '--inputs', '8', '--seed', '1', '--hang-ms', '1500', '--max-mb', '300', '--out', out], { TENSIO_FUZZ_FAULTS: '1' });
  assert.equal(run.status, 1, 'failures make the run exit 1');
  const summary = JSON.parse(await readFile(join(out, 'faults', 'summary-1.json'), 'utf8')) as { byClass: Record<string, number> };
  for (const outcome of ['ok', 'exception', 'hang', 'crash', 'memory']) assert.ok(summary.byClass[outcome]! > 0, `${outcome}: ${JSON.stringify(summary.byClass)}`);
  const kept = (await readdir(join(out, 'faults'))).filter((name) => !name.startsWith('summary'));
  for (const outcome of ['exception', 'hang', 'crash', 'memory']) assert.ok(kept.some((name) => name.startsWith(`${outcome}-`)), `${outcome} kept: ${kept.join(', ')}`);
  const info = JSON.parse(await readFile(join(out, 'faults', kept.find((name) => name.startsWith('exception-'))!, 'info.json'), 'utf8')) as { detail: string };
  assert.match(info.detail, /TypeError/);
});
