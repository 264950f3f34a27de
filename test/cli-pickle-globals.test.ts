/**
 * `tensio inspect` learns which formats hold pickles from a declaration
 * (`TensorFormat.listPickleGlobals`), not by importing `formats/<name>/index.js` and
 * catching the failure or looking for an export named `…Globals` (issue 7, item 6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliScanPickleGlobals } from '../src/cli/pickle-globals.js';
import { BUILT_IN_FORMATS, getFormat } from '../src/operations/registry.js';
import type { TensorFormat } from '../src/model/types.js';

const fake = (extra: Partial<TensorFormat>): TensorFormat => ({
  name: 'fake', extensions: ['.fake'], sniff: () => false,
  capabilities: { tensors: 'many', dtypes: [], layouts: ['dense'], needsShapesFirst: false, canAppend: false, checksums: 'none', folder: false },
  ...extra,
});

test('a format that declares listPickleGlobals is scanned through it', async () => {
  const seen: string[] = [];
  const format = fake({ listPickleGlobals: async (input) => { seen.push(String(input)); return [{ global: 'os.system', allowed: false }, { global: 'torch._utils._rebuild_tensor_v2', allowed: true }]; } });
  assert.deepEqual(await cliScanPickleGlobals(format, '/m/a.fake'), [{ name: 'os.system', allowed: false }, { name: 'torch._utils._rebuild_tensor_v2', allowed: true }]);
  assert.deepEqual(seen, ['/m/a.fake']);
});

test('a format without the declaration holds no pickles: no scan, no probing', async () => {
  assert.equal(await cliScanPickleGlobals(fake({}), '/m/a.fake'), undefined);
  assert.equal(await cliScanPickleGlobals(undefined, '/m/a.fake'), undefined);
});

test('a failing scan gives undefined (the open error already says why)', async () => {
  assert.equal(await cliScanPickleGlobals(fake({ listPickleGlobals: async () => { throw new Error('truncated'); } }), '/m/a.fake'), undefined);
});

test('among the built-ins exactly pytorch declares that its files hold pickles', () => {
  assert.deepEqual(BUILT_IN_FORMATS.filter((format) => format.listPickleGlobals).map((format) => format.name), ['pytorch']);
  assert.equal(typeof getFormat('pytorch').listPickleGlobals, 'function');
});
