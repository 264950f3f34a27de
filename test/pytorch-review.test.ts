import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError, pickleRun, pickleScanGlobals, pytorchPickleHooks, pytorchStorageFromId } from '../src/index.js';
import { pickleBytes } from './helpers/pytorch-craft.js';

const hooks = pytorchPickleHooks({ loadStorage: (id, at) => pytorchStorageFromId(id, at) });
const run = (bytes: Uint8Array) => pickleRun(bytes, { hooks, format: 'pytorch' });

test('globals whose module is an Object.prototype name are refused as unsafe, not a TypeError', () => {
  for (const module of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    assert.throws(() => run(pickleBytes(0x80, 2, `c${module}\nx\n`, '.')), (err) => isTensioError(err, 'UNSAFE_PICKLE'), module);
    const report = pickleScanGlobals(pickleBytes(0x80, 2, `c${module}\nx\n`, '.'));
    assert.equal(report.error, undefined, module);
    assert.deepEqual(report.globals.map((ref) => [ref.global, ref.allowed]), [[`${module}.x`, false]]);
  }
});
