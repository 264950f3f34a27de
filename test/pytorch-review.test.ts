import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/index.js';
import { PickleDict, pickleRun, pickleScanGlobals, pytorchPickleHooks, pytorchStorageFromId } from '../src/formats/pytorch/index.js';
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

test('_rebuild_from_type_v2 nested in itself is refused with a code, not a stack overflow', () => {
  const levels = 100_000;
  const chunks: Buffer[] = [Buffer.from('\x80\x02ctorch._tensor\n_rebuild_from_type_v2\nq\x00', 'latin1')];
  for (let i = 0; i < levels; i++) chunks.push(Buffer.from('h\x00N', 'latin1'));
  chunks.push(Buffer.from(')', 'latin1'), Buffer.alloc(levels, 0x87), Buffer.from('R.', 'latin1'));
  assert.throws(() => run(new Uint8Array(Buffer.concat(chunks))), (err) => isTensioError(err));
});

test('a dict key that is a tuple DAG (each level shares its child twice) is hashed once per shared child, not 2^40 times', () => {
  // () then 40 × (DUP, TUPLE2): a 100-byte key whose expansion has 2^40 leaves. Interned
  // forms name children by id, so hashing it takes 40 steps (it used to need a limit).
  const parts: Array<number | string> = [0x80, 2, '}', ')'];
  for (let i = 0; i < 40; i++) parts.push('2', 0x86);
  parts.push('Ns.');
  const { value } = run(pickleBytes(...parts));
  assert.ok(value instanceof PickleDict);
  assert.equal(value.size, 1);
});
