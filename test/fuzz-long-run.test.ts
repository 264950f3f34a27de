/**
 * The long-run fuzzer (`npm run fuzz`) end to end: a short run counts its inputs and
 * writes a summary, and a target that fails on purpose shows every failure class told
 * apart (exception, hang, crash, memory) with the failing inputs kept, and each failure
 * inside a long batch pinned to the input that caused it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/temp.js';
import { mutantOf, type FuzzSeed } from './fuzz/inputs.js';
import { faultKind } from './fuzz/targets.js';

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
  // Run seed 1's first 8 mutants are, in order: ok, memory, memory, exception x3, crash, hang. A hang is 5 s of CPU
  // without a report: filling 320 MiB of fresh memory (a memory mutant) took over 1.5 s on a slow, busy host.
  const run = fuzz(['--format', 'faults', '--minutes', '12', '--inputs', '8', '--seed', '1', '--hang-ms', '5000', '--max-mb', '300', '--out', out], { TENSIO_FUZZ_FAULTS: '1' });
  assert.equal(run.status, 1, 'failures make the run exit 1');
  const summary = JSON.parse(await readFile(join(out, 'faults', 'summary-1.json'), 'utf8')) as { byClass: Record<string, number> };
  for (const outcome of ['ok', 'exception', 'hang', 'crash', 'memory']) assert.ok(summary.byClass[outcome]! > 0, `${outcome}: ${JSON.stringify(summary.byClass)}`);
  const kept = (await readdir(join(out, 'faults'))).filter((name) => !name.startsWith('summary'));
  for (const outcome of ['exception', 'hang', 'crash', 'memory']) assert.ok(kept.some((name) => name.startsWith(`${outcome}-`)), `${outcome} kept: ${kept.join(', ')}`);
  const info = JSON.parse(await readFile(join(out, 'faults', kept.find((name) => name.startsWith('exception-'))!, 'info.json'), 'utf8')) as { detail: string };
  assert.match(info.detail, /TypeError/);
});

test('npm run fuzz: failures inside long batches are pinned to the exact input (counts match a replay of every mutant)', async (t) => {
  const out = await tempDir(t);
  const inputs = 300;
  const run = fuzz(['--format', 'faults', '--minutes', '12', '--inputs', String(inputs), '--seed', '8', '--hang-ms', '3000', '--max-mb', '300', '--report-ms', '200', '--out', out], { TENSIO_FUZZ_FAULTS: 'rare' });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  // Ground truth: regenerate every mutant of run seed 8 (a hang at 107, memory at 155, a crash at 157) and ask the faults rule what it does.
  const seeds: FuzzSeed[] = [{ name: 'seed.bin', folder: false, members: [{ path: 'seed.bin', bytes: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) }] }];
  const expected: Record<string, number> = { ok: 0, exception: 0, hang: 0, crash: 0, memory: 0 };
  for (let index = 0; index < inputs; index++) expected[faultKind(mutantOf(seeds, 8, index).bytes, true)]!++;
  for (const outcome of ['hang', 'crash', 'memory']) assert.ok(expected[outcome]! > 0, `run seed 8 has a ${outcome} among its ${inputs} mutants`);
  const summary = JSON.parse(await readFile(join(out, 'faults', 'summary-8.json'), 'utf8')) as { inputs: number; byClass: Record<string, number>; unattributed: string[] };
  assert.equal(summary.inputs, inputs);
  assert.deepEqual(summary.unattributed, []);
  for (const outcome of Object.keys(expected)) assert.equal(summary.byClass[outcome], expected[outcome], `${outcome}: ${JSON.stringify(summary.byClass)} vs ${JSON.stringify(expected)}`);
  // Each kept input, re-read from disk, is one that fails that way.
  const kept = (await readdir(join(out, 'faults'))).filter((name) => !name.startsWith('summary'));
  for (const folder of kept) {
    const bytes = new Uint8Array(await readFile(join(out, 'faults', folder, 'seed.bin')));
    assert.equal(faultKind(bytes, true), folder.split('-')[0], folder);
  }
});
