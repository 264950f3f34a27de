import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { npyHeaderBytes, npyOpen, npyReadHeaderFromBytes } from '../src/formats/npy/index.js';

/** A v1 .npy with this header text (padded as numpy pads) and data. */
function npyWithHeader(text: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const body = Buffer.from(`${text}\n`, version === 3 ? 'utf8' : 'latin1');
  const prefix = Buffer.alloc(8 + lengthBytes);
  prefix.write('\x93NUMPY', 'latin1');
  prefix[6] = version;
  if (version === 1) prefix.writeUInt16LE(body.length, 8);
  else prefix.writeUInt32LE(body.length, 8);
  return new Uint8Array(Buffer.concat([prefix, body, data]));
}

const good = (shape = '(2,)', descr = "'<i4'", fortran = 'False') => `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

async function rejectsWith(bytes: Uint8Array, code: TensioErrorCode, options = {}): Promise<void> {
  await assert.rejects(npyOpen(bytes, options), (err: unknown) => {
    assert.ok(isTensioError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.format, 'npy');
    return true;
  });
}

test('the baseline crafted file reads', async () => {
  const reader = await npyOpen(npyWithHeader(good(), new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0])));
  assert.deepEqual([...new Int32Array((await reader.read('data')).data.buffer)], [1, 2]);
});

test('bad magic, bad version and a truncated prefix are refused', async () => {
  const bytes = npyWithHeader(good(), new Uint8Array(8));
  const badMagic = bytes.slice();
  badMagic[1] = 0x4f;
  await rejectsWith(badMagic, 'BAD_MAGIC');
  for (const [major, minor] of [[0, 0], [4, 0], [1, 1]]) {
    const badVersion = bytes.slice();
    badVersion[6] = major!;
    badVersion[7] = minor!;
    await rejectsWith(badVersion, 'UNSUPPORTED_VERSION');
  }
  await rejectsWith(bytes.subarray(0, 9), 'TRUNCATED');
  await rejectsWith(bytes.subarray(0, 40), 'TRUNCATED');
});

test('a header above the limit is refused (and the limit can be raised)', async () => {
  const text = good() + ' '.repeat(3000);
  await rejectsWith(npyWithHeader(text, new Uint8Array(8)), 'HEADER_TOO_LARGE', { maxHeaderBytes: 1000 });
  const reader = await npyOpen(npyWithHeader(text, new Uint8Array(8)), { maxHeaderBytes: 5000 });
  assert.equal(reader.tensors.length, 1);
  const v2 = Buffer.alloc(12);
  v2.write('\x93NUMPY\x02\x00', 'latin1');
  v2.writeUInt32LE(0xfffffff0, 8);
  await rejectsWith(v2, 'HEADER_TOO_LARGE');
});

test('headers that are not a dict, or not a literal, are refused', async () => {
  for (const text of ["['descr', '<i4']", "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)} junk", "__import__('os').system('true')",
    "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), ", "{'descr': '<i4' 'fortran_order': False}", "{'descr': b'<i4', 'fortran_order': False, 'shape': (2,)}"]) {
    await rejectsWith(npyWithHeader(text, new Uint8Array(8)), 'INVALID_HEADER');
  }
});

test('missing, extra and repeated keys are refused', async () => {
  await rejectsWith(npyWithHeader("{'descr': '<i4', 'shape': (2,)}", new Uint8Array(8)), 'INVALID_HEADER');
  await rejectsWith(npyWithHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", new Uint8Array(8)), 'INVALID_HEADER');
  await rejectsWith(npyWithHeader("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", new Uint8Array(8)), 'DUPLICATE_KEY');
});

test('bad shapes are refused: list, parenthesised int, negative, non-int, too many dims', async () => {
  for (const shape of ['[2]', '(2)', '(-1,)', "('2',)", '(2.5,)', '(None,)', `(${Array.from({ length: 65 }, () => '1').join(', ')})`, '(99999999999999999999,)']) {
    await rejectsWith(npyWithHeader(good(shape), new Uint8Array(8)), shape === '(2.5,)' ? 'INVALID_HEADER' : 'INVALID_SHAPE');
  }
});

test('a non-bool fortran_order is refused', async () => {
  for (const value of ['0', "'False'", 'None']) await rejectsWith(npyWithHeader(good('(2,)', "'<i4'", value), new Uint8Array(8)), 'INVALID_HEADER');
});

test('object dtypes are UNSAFE_PICKLE; strings, datetimes, structured and long doubles are UNSUPPORTED_DTYPE', async () => {
  for (const descr of ["'|O'", "'O'", "[('a', '|O')]", "[('a', [('b', '<O8')])]"]) await rejectsWith(npyWithHeader(good('(2,)', descr), new Uint8Array(8)), 'UNSAFE_PICKLE');
  for (const descr of ["'|S4'", "'<U3'", "'<M8[s]'", "'<m8[ns]'", "[('a', '<i4'), ('b', '<f4')]", "'<f16'", "'<c32'", "'!i4'", "'float32'"]) {
    await rejectsWith(npyWithHeader(good('(2,)', descr), new Uint8Array(64)), 'UNSUPPORTED_DTYPE');
  }
  await rejectsWith(npyWithHeader(good('(2,)', '7'), new Uint8Array(8)), 'INVALID_HEADER');
});

test('data shorter than the shape implies is TRUNCATED; trailing bytes are ignored like np.load and counted', async () => {
  await rejectsWith(npyWithHeader(good('(3,)'), new Uint8Array(8)), 'TRUNCATED');
  const reader = await npyOpen(npyWithHeader(good('(2,)'), new Uint8Array(11)));
  assert.equal(reader.metadata.trailingBytes, 3);
  assert.equal((await reader.read('data')).data.byteLength, 8);
});

test('a v3 header must be UTF-8; Python 2 long ints and trailing commas are accepted', async () => {
  const bytes = npyWithHeader(good(), new Uint8Array(8), 3);
  const broken = Buffer.from(bytes);
  broken[14] = 0xff;
  await rejectsWith(broken, 'INVALID_UTF8');
  const header = npyReadHeaderFromBytes(npyWithHeader("{'descr':'<i4','fortran_order':False,'shape':(2L,3L,),}", new Uint8Array(24)));
  assert.deepEqual(header.shape, [2, 3]);
});

test('the writer refuses dtypes numpy has no descr for', () => {
  for (const dtype of ['bfloat16', 'float8_e4m3fn', 'float4_e2m1', 'opaque'] as const) {
    assert.throws(() => npyHeaderBytes({ dtype, shape: [2] }), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE'));
  }
});

test('mutated headers parse or throw TensioError, nothing else', async () => {
  const valid = npyWithHeader(good('(2, 3)', "'>f4'", 'True'), new Uint8Array(24));
  let seed = 99;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let refused = 0;
  for (let round = 0; round < 500; round++) {
    const bytes = valid.slice();
    const at = Math.floor(random() * 80);
    bytes[at] = Math.floor(random() * 256);
    try {
      const reader = await npyOpen(bytes);
      await reader.read('data');
    } catch (err) {
      assert.ok(isTensioError(err), `round ${round}: ${String(err)}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'no mutant was refused');
});
