import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_FORMATS } from '../src/operations/index.js';
import { memoryMapStatus } from '../src/storage/memory-map.js';
import { runCli } from './helpers/cli.js';

const writable = () => BUILT_IN_FORMATS.filter((format) => format.open && format.createWriter).map((format) => format.name);

// The formats come from the registry (every entry that opens and writes), so a new
// format is checked without editing this file.
test('selftest passes for every registered read/write format', async () => {
  assert.ok(writable().length >= 2, `the registry has read/write formats: ${writable().join(', ')}`);
  const run = await runCli(['selftest']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const name of writable()) assert.match(run.stdout, new RegExp(`^PASS  ${name}\\b`, 'm'));
  assert.doesNotMatch(run.stdout, /^FAIL/m);
  // The mapping lines say what this process uses (the CLI runs in-process here).
  const mapping = memoryMapStatus();
  assert.match(run.stdout, new RegExp(`^memory mapping: ${mapping.enabled ? 'on' : 'off'} `, 'm'));
  if (mapping.mappingAccounting === 'counted') assert.match(run.stdout, /^mapped buffers: counted at their length/m);
  else if (mapping.mappingAccounting === 'charged') assert.match(run.stdout, /^mapped buffers: charged 1 MiB plus page tables each/m);
  else assert.doesNotMatch(run.stdout, /^mapped buffers:/m);
});

test('selftest --json reports every format with ok and what was converted', async () => {
  const run = await runCli(['selftest', '--json']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const doc = JSON.parse(run.stdout) as { ok: boolean; formats: { format: string; ok: boolean; tensors: number; convertedTo: string[]; failures: string[] }[]; memoryMap: { enabled: boolean; mappingAccounting?: string } };
  assert.equal(doc.ok, true);
  assert.equal(doc.memoryMap.enabled, memoryMapStatus().enabled);
  assert.equal(doc.memoryMap.mappingAccounting, memoryMapStatus().mappingAccounting);
  assert.deepEqual(doc.formats.map((entry) => entry.format).sort(), writable().sort());
  for (const entry of doc.formats) {
    assert.equal(entry.ok, true, entry.failures.join('; '));
    assert.ok(entry.tensors >= 1);
    assert.equal(entry.convertedTo.length, writable().length - 1, `${entry.format} converted to every other format`);
  }
});
