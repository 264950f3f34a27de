import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { binUnicode, pickleBytes } from './helpers/pytorch-craft.js';
import { TensioError, isTensioError } from '../src/index.js';
import { PickleTensor, pickleRun, pytorchCollect, pytorchEncodeStateDict, pytorchPickleHooks, pytorchPlainValue, pytorchStorageFromId, type PickleHooks } from '../src/formats/pytorch/index.js';

const hooks: PickleHooks = pytorchPickleHooks({ loadStorage: (id, offset) => pytorchStorageFromId(id, offset) });
const run = (bytes: Uint8Array, limits = {}) => pickleRun(bytes, { hooks, format: 'pytorch', ...limits });

function rejectsWith(fn: () => unknown, ...codes: string[]): void {
  assert.throws(fn, (err) => err instanceof TensioError && codes.includes(err.code), `expected one of ${codes.join(', ')}`);
}

test('Python pickles of plain data, protocols 0 to 5, build the same values', { skip: oracleSkip() }, () => {
  const script = String.raw`
import pickle, sys
data = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**70, -2**100], 'floats': [0.5, -2.25, 1e300],
        'text': ['', 'x', 'ü€😀', 'a' * 300], 'bytes': b'\x00\xffab', 'ba': bytearray(b'xy'), 'none': None, 'bools': (True, False),
        'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)], 'nested': {'d': {}, 'l': [], 3: 'int key'}, 'set': {7}, 'fs': frozenset([8])}
for proto in range(6):
    sys.stdout.write(pickle.dumps(data, protocol=proto).hex() + '\n')
`;
  const expected = {
    ints: [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, (2n ** 70n).toString(), (-(2n ** 100n)).toString()],
    floats: [0.5, -2.25, 1e300],
    text: ['', 'x', 'ü€😀', 'a'.repeat(300)],
    bytes: { bytes: Buffer.from([0, 255, 97, 98]).toString('base64') },
    ba: { bytes: Buffer.from('xy').toString('base64') },
    none: null,
    bools: [true, false],
    tuples: [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]],
    nested: { d: {}, l: [], 3: 'int key' },
    set: [7],
    fs: [8],
  };
  const lines = runPython(script).stdout.trim().split('\n');
  assert.equal(lines.length, 6);
  for (const [protocol, hex] of lines.entries()) {
    const { value, protocol: seen } = run(new Uint8Array(Buffer.from(hex, 'hex')));
    assert.equal(seen, protocol >= 2 ? protocol : 0);
    assert.deepEqual(pytorchPlainValue(value), expected, `protocol ${protocol}`);
  }
});

test('every truncation of a valid pickle is TRUNCATED or INVALID_PICKLE', () => {
  const pickle = pytorchEncodeStateDict([
    { name: 'w', dtype: 'float32', shape: [2, 3] },
    { name: 'f8', dtype: 'float8_e5m2', shape: [70000] },
    { name: 'big', dtype: 'int64', shape: [3, 4, 5, 6] },
  ]);
  assert.ok(run(pickle).value);
  for (let cut = 0; cut < pickle.byteLength; cut++) rejectsWith(() => run(pickle.subarray(0, cut)), 'TRUNCATED', 'INVALID_PICKLE');
});

test('lengths are bounded by the remaining input, never allocated first', () => {
  rejectsWith(() => run(pickleBytes(0x80, 2, 'X\xf0\xff\xff\xffab.')), 'TRUNCATED');
  rejectsWith(() => run(pickleBytes(0x80, 4, 0x8e, new Uint8Array([255, 255, 255, 255, 255, 255, 255, 127]), '.')), 'TRUNCATED');
  rejectsWith(() => run(pickleBytes(0x80, 4, 0x95, new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]), 'N.')), 'TRUNCATED');
  rejectsWith(() => run(pickleBytes(0x80, 2, 'T\xff\xff\xff\xff.')), 'INVALID_PICKLE');
  rejectsWith(() => run(pickleBytes(0x80, 2, 0x8b, new Uint8Array([0, 0, 0, 1]), '.')), 'LIMIT_EXCEEDED');
});

test('named limits: memo entries, stack depth, container length, nesting', () => {
  const memo = pickleBytes(0x80, 2, 'Nq\x00q\x01q\x02.');
  assert.equal(run(memo).value, null);
  rejectsWith(() => run(memo, { maxMemoEntries: 2 }), 'LIMIT_EXCEEDED');
  rejectsWith(() => run(pickleBytes(0x80, 2, 'NNNNNN.'), { maxStackDepth: 5 }), 'LIMIT_EXCEEDED');
  const list = pickleBytes(0x80, 2, ']', '(', 'K\x01'.repeat(11), 'e.');
  assert.equal((run(list).value as unknown[]).length, 11);
  rejectsWith(() => run(list, { maxContainerLength: 10 }), 'LIMIT_EXCEEDED');
  rejectsWith(() => run(pickleBytes(0x80, 2, '('.repeat(2000), ')', '.')), 'LIMIT_EXCEEDED');
});

test('malformed opcode streams are INVALID_PICKLE or UNSAFE_PICKLE, never a crash', () => {
  rejectsWith(() => run(pickleBytes(0x80, 2, 'N', 0xff, '.')), 'INVALID_PICKLE'); // unknown opcode
  rejectsWith(() => run(pickleBytes(0x80, 2, 'h\x05.')), 'INVALID_PICKLE'); // memo miss
  rejectsWith(() => run(pickleBytes(0x80, 2, '0.')), 'INVALID_PICKLE'); // pop from empty
  rejectsWith(() => run(pickleBytes(0x80, 2, 'Na.')), 'INVALID_PICKLE'); // append with nothing to append to
  rejectsWith(() => run(pickleBytes(0x80, 2, 'K\x01K\x02a.')), 'INVALID_PICKLE'); // append to an int
  rejectsWith(() => run(pickleBytes(0x80, 2, '}]Ns.')), 'INVALID_PICKLE'); // unhashable key
  rejectsWith(() => run(pickleBytes(0x80, 2, ')K\x01R.')), 'INVALID_PICKLE'); // REDUCE args not a tuple
  rejectsWith(() => run(pickleBytes(0x80, 2, ')])R.')), 'UNSAFE_PICKLE'); // REDUCE on a list
  rejectsWith(() => run(pickleBytes(0x80, 2, ']}b.')), 'UNSAFE_PICKLE'); // BUILD on a list
  rejectsWith(() => run(pickleBytes(0x80, 2, 'K\x01Q.')), 'UNSAFE_PICKLE'); // persistent id not a storage
  rejectsWith(() => run(pickleBytes(0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n)\x81.')), 'UNSAFE_PICKLE'); // NEWOBJ on a function
  rejectsWith(() => run(pickleBytes(0x80, 9, 'N.')), 'UNSUPPORTED_VERSION');
  rejectsWith(() => run(pickleBytes(0x80, 5, 0x97, '.')), 'INVALID_PICKLE'); // out-of-band buffer
  rejectsWith(() => run(pickleBytes(0x80, 2, 0x82, 0x01, '.')), 'UNSAFE_PICKLE'); // EXT1
});

/** A rebuild call: `_rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, size, stride, False, OrderedDict())`. */
function rebuild(numel: number, offset: number, size: string, stride: string): Uint8Array {
  return pickleBytes(0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n((', binUnicode('storage'), 'ctorch\nFloatStorage\n', binUnicode('0'), binUnicode('cpu'),
    'J', new Uint8Array(new Int32Array([numel]).buffer), 'tQ', 'J', new Uint8Array(new Int32Array([offset]).buffer), size, stride, '\x89ccollections\nOrderedDict\n)RtR.');
}

test('views are checked against their storage before anything is read', () => {
  const ok = run(rebuild(6, 0, 'K\x02K\x03\x86', 'K\x03K\x01\x86')).value;
  assert.ok(ok instanceof PickleTensor);
  rejectsWith(() => run(rebuild(6, 1, 'K\x02K\x03\x86', 'K\x03K\x01\x86')), 'INVALID_OFFSET'); // one past the end
  rejectsWith(() => run(rebuild(6, 0, 'K\x03K\x03\x86', 'K\x03K\x01\x86')), 'INVALID_OFFSET');
  rejectsWith(() => run(rebuild(6, 0, 'K\x02K\x03\x86', 'J\xff\xff\xff\xffK\x01\x86')), 'INVALID_SHAPE'); // negative stride
  rejectsWith(() => run(rebuild(6, 0, 'K\x02K\x03\x86', 'K\x03\x85')), 'INVALID_PICKLE'); // rank mismatch
  rejectsWith(() => run(rebuild(6, 0, '\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x85', 'K\x01\x85')), 'SIZE_OVERFLOW', 'INVALID_SHAPE');
  assert.ok(run(rebuild(0, 0, 'K\x00K\x03\x86', 'K\x03K\x01\x86')).value instanceof PickleTensor); // empty view of an empty storage
});

test('collect: cycles and exponential sharing stay linear and bounded', () => {
  // A list appended to itself.
  const cycle = run(pickleBytes(0x80, 2, ']q\x00h\x00a.')).value;
  assert.deepEqual(pytorchCollect(cycle).metadata, { value: ['<cycle>'] });
  // 60 levels of [x, x]: 2^60 paths if walked naively.
  const parts: Array<string | number | Uint8Array> = [0x80, 2, ']K\x01aq\x00'];
  for (let level = 1; level <= 60; level++) parts.push(`](h${String.fromCharCode(level - 1)}h${String.fromCharCode(level - 1)}eq${String.fromCharCode(level)}`);
  parts.push('.');
  const deep = run(pickleBytes(...parts)).value;
  assert.throws(() => pytorchCollect(deep, { maxNestingDepth: 30 }), (err) => isTensioError(err, 'LIMIT_EXCEEDED'));
  const { metadata } = pytorchCollect(deep, { maxMetadataValues: 100_000 });
  assert.match(String(metadata.value), /^<omitted/);
});
