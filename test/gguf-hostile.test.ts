/**
 * Hostile GGUF files: the hand-made corruptions of llama.cpp's `tests/test-gguf.cpp`
 * (`handcrafted_file_type`), generated here, each refused with its `TensioError` code
 * before any allocation its numbers ask for (the files are a few hundred bytes; a huge
 * count, length or shape must fail on arithmetic, never on memory); plus the caps of
 * `src/core/limits.ts`, each raisable by its option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { ggufOpen, type GgufOpenOptions } from '../src/formats/gguf/index.js';
import { concat, craftGguf, kvStr, kvU32, le, type CraftTensor } from './helpers/gguf-craft.js';

async function rejectsWith(bytes: Uint8Array, code: TensioErrorCode, options: GgufOpenOptions = {}): Promise<string> {
  let message = '';
  await assert.rejects(ggufOpen(bytes, options), (err: unknown) => {
    assert.ok(isTensioError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.format, 'gguf');
    message = err.message;
    return true;
  });
  return message;
}

const f32 = (name: string, ne: number[], offset: number): CraftTensor => ({ name, ne, type: 0, offset });
/** A sound file: two keys, two f32 tensors [8] and [2, 4] at offsets 0 and 32. */
const goodParts = () => ({ kv: [kvStr('general.architecture', 'test'), kvU32('test.n', 7)], tensors: [f32('a', [8], 0), f32('b', [4, 2], 32)], dataBytes: 64 });

test('the baseline crafted file reads', async () => {
  await using reader = await ggufOpen(craftGguf(goodParts()));
  assert.deepEqual(reader.tensors.map((t) => [t.name, t.shape]), [['a', [8]], ['b', [2, 4]]]);
  assert.equal(reader.metadata['test.n'], 7);
});

test('test-gguf.cpp: bad magic, version 0, version 1, a future version', async () => {
  await rejectsWith(craftGguf({ ...goodParts(), magic: new TextEncoder().encode('GGUG') }), 'BAD_MAGIC');
  assert.match(await rejectsWith(craftGguf({ ...goodParts(), version: 0 }), 'UNSUPPORTED_VERSION'), /version 0/);
  assert.match(await rejectsWith(craftGguf({ ...goodParts(), version: 1 }), 'UNSUPPORTED_VERSION'), /version 1/);
  assert.match(await rejectsWith(craftGguf({ ...goodParts(), version: 4 }), 'UNSUPPORTED_VERSION'), /version 4/);
});

test('test-gguf.cpp: huge tensor and key counts fail on the caps or the bytes left, before any allocation', async () => {
  assert.match(await rejectsWith(craftGguf({ ...goodParts(), tensorCount: 2n ** 63n }), 'LIMIT_EXCEEDED'), /9223372036854775808 tensors/);
  assert.match(await rejectsWith(craftGguf({ ...goodParts(), kvCount: 2n ** 64n - 1n }), 'LIMIT_EXCEEDED'), /metadata keys/);
  // Under the caps but more than the file could hold.
  await rejectsWith(craftGguf({ ...goodParts(), tensorCount: 1_000_000 }), 'TRUNCATED');
  await rejectsWith(craftGguf({ ...goodParts(), kvCount: 99_999 }), 'TRUNCATED');
});

test('test-gguf.cpp: bad key size, bad value type, bad value size, duplicate key', async () => {
  const base = goodParts();
  // A key length of 2^63: its bytes could never be there.
  const badKey = concat(new TextEncoder().encode('GGUF'), le.u32(3), le.u64(0), le.u64(1), le.u64(2n ** 63n), new TextEncoder().encode('k'), new Uint8Array(16));
  assert.match(await rejectsWith(badKey, 'LIMIT_EXCEEDED'), /key 0/);
  assert.match(await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 13, value: le.u32(0) }] }), 'INVALID_METADATA'), /value type 13/);
  assert.match(await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 8, value: le.str('abc', 2n ** 40n) }] }), 'LIMIT_EXCEEDED'), /1099511627776 bytes/);
  // A string value length under the cap but past the end of the file.
  await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 8, value: le.str('abc', 1_000_000) }] }), 'TRUNCATED');
  // An array of 2^62 u64s (the 43-byte file that hung gguf-py, llama.cpp#27188).
  await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 9, value: concat(le.u32(10), le.u64(2n ** 62n)) }] }), 'LIMIT_EXCEEDED');
  await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 9, value: concat(le.u32(10), le.u64(1_000_000)) }] }), 'TRUNCATED');
  await rejectsWith(craftGguf({ ...base, kv: [{ key: 'x', type: 9, value: concat(le.u32(99), le.u64(1)) }] }), 'INVALID_METADATA');
  assert.match(await rejectsWith(craftGguf({ ...base, kv: [kvU32('same', 1), kvU32('same', 2)] }), 'DUPLICATE_KEY'), /"same"/);
  await rejectsWith(craftGguf({ ...base, kv: [kvU32('', 1)] }), 'INVALID_METADATA');
  await rejectsWith(craftGguf({ ...base, kv: [{ key: 'b', type: 7, value: le.u8(2) }] }), 'INVALID_METADATA');
});

test('test-gguf.cpp: bad alignment (not a power of two, zero, wrong type, too big)', async () => {
  const base = goodParts();
  for (const value of [31, 0]) await rejectsWith(craftGguf({ ...base, kv: [kvU32('general.alignment', value)] }), 'INVALID_METADATA');
  await rejectsWith(craftGguf({ ...base, kv: [kvStr('general.alignment', '32')] }), 'INVALID_METADATA');
  await rejectsWith(craftGguf({ ...base, kv: [kvU32('general.alignment', 2 ** 30)] }), 'LIMIT_EXCEEDED');
  await using ok = await ggufOpen(craftGguf({ ...base, kv: [kvU32('general.alignment', 2 ** 30)], alignment: 2 ** 30, tensors: [], dataBytes: 0 }), { maxAlignment: 2 ** 30 });
  assert.equal(ok.gguf.alignment, 2 ** 30);
});

test('test-gguf.cpp: bad name size, duplicate tensor name, bad dims, bad shape, element count too big', async () => {
  const base = goodParts();
  const withTensors = (...tensors: CraftTensor[]) => craftGguf({ ...base, tensors });
  assert.match(await rejectsWith(withTensors(f32('n'.repeat(64), [8], 0)), 'LIMIT_EXCEEDED'), /64 bytes long/);
  await using long = await ggufOpen(withTensors(f32('n'.repeat(64), [8], 0)), { maxNameBytes: 64 });
  assert.equal(long.tensors[0]!.name.length, 64);
  assert.match(await rejectsWith(withTensors(f32('a', [8], 0), f32('a', [8], 32)), 'DUPLICATE_NAME'), /"a"/);
  assert.match(await rejectsWith(withTensors(f32('a', [1, 1, 1, 1, 1], 0)), 'LIMIT_EXCEEDED'), /5 dimensions/);
  // n_dims says 2^31 with no dims following.
  await rejectsWith(withTensors({ name: 'a', ne: [], nDims: 2 ** 31, type: 0, offset: 0 }), 'LIMIT_EXCEEDED');
  await rejectsWith(withTensors({ name: 'a', ne: [-1n], type: 0, offset: 0 }), 'INVALID_SHAPE');
  // Each dimension legal, the product past 2^63 (ggml: INT64_MAX checks).
  await rejectsWith(withTensors({ name: 'a', ne: [2 ** 32, 2 ** 32, 2 ** 32], type: 0, offset: 0 }), 'SIZE_OVERFLOW');
  // Past 2^53 bytes: no safe size.
  await rejectsWith(withTensors({ name: 'a', ne: [2 ** 32, 2 ** 22], type: 0, offset: 0 }), 'SIZE_OVERFLOW');
  // ne[0] not a whole number of Q4_0 blocks.
  assert.match(await rejectsWith(withTensors({ name: 'q', ne: [33, 2], type: 2, offset: 0 }), 'INVALID_SHAPE'), /32 elements per block/);
});

test('test-gguf.cpp: bad offset, inconsistent alignment, not enough data', async () => {
  const base = goodParts();
  const withTensors = (...tensors: CraftTensor[]) => craftGguf({ ...base, tensors });
  assert.match(await rejectsWith(withTensors(f32('a', [8], 0), f32('b', [8], 33)), 'INVALID_OFFSET'), /not a multiple of the alignment 32/);
  assert.match(await rejectsWith(withTensors(f32('a', [8], 0), f32('b', [8], 64)), 'INVALID_OFFSET'), /expected 32/);
  assert.match(await rejectsWith(withTensors(f32('a', [8], 32), f32('b', [8], 0)), 'INVALID_OFFSET'), /expected 0/);
  await rejectsWith(withTensors(f32('a', [8], 0), f32('b', [8], 2 ** 60)), 'INVALID_OFFSET');
  // Offsets laid out for alignment 16 in a file that declares 64.
  await rejectsWith(craftGguf({ kv: [kvU32('general.alignment', 64)], tensors: [f32('a', [4], 0), f32('b', [4], 16)], alignment: 64, dataBytes: 128 }), 'INVALID_OFFSET');
  assert.match(await rejectsWith(craftGguf({ ...base, dataBytes: 40 }), 'TRUNCATED'), /file ends at/);
  const whole = craftGguf(base);
  // Cut inside the header, then inside the metadata, then inside the data.
  for (const cut of [6, 30, 60, whole.byteLength - 1]) await rejectsWith(whole.subarray(0, cut), 'TRUNCATED');
});

test('test-gguf.cpp: bad tensor type: an unknown or removed ggml type id is carried as opaque with its id, never a crash', async () => {
  const bytes = craftGguf({ kv: [], tensors: [{ name: 'x', ne: [8], type: 0xffff, offset: 0 }, { name: 'old', ne: [32], type: 4, offset: 32 }, f32('f', [8], 64)], dataBytes: 96 });
  await using reader = await ggufOpen(bytes);
  const x = reader.info('x');
  assert.equal(x.dtype, 'opaque');
  assert.equal(x.formatDtypeId, 0xffff);
  assert.equal(x.formatDtype, 'type 65535');
  assert.equal(x.byteLength, 32); // the gap to the next tensor
  assert.equal(reader.info('old').formatDtype, 'Q4_2 (removed)');
  assert.equal((await reader.read('x')).data.byteLength, 32);
  assert.equal((await reader.read('f')).data.byteLength, 32);
});

test('caps: strings, arrays, nesting and the header size, each raisable by its option', async () => {
  const nest = (depth: number): Uint8Array => (depth === 0 ? concat(le.u32(4), le.u64(1), le.u32(7)) : concat(le.u32(9), le.u64(1), nest(depth - 1)));
  const deep = craftGguf({ kv: [{ key: 'deep', type: 9, value: nest(5) }] });
  assert.match(await rejectsWith(deep, 'LIMIT_EXCEEDED'), /maxArrayDepth/);
  await using deepOk = await ggufOpen(deep, { maxArrayDepth: 6 });
  assert.deepEqual(deepOk.metadata.deep, [[[[[[7]]]]]]);
  const long = craftGguf({ kv: [kvStr('s', 'x'.repeat(1000))] });
  assert.match(await rejectsWith(long, 'LIMIT_EXCEEDED', { maxStringBytes: 999 }), /maxStringBytes/);
  const array = craftGguf({ kv: [{ key: 'a', type: 9, value: concat(le.u32(5), le.u64(100), new Uint8Array(400)) }] });
  assert.match(await rejectsWith(array, 'LIMIT_EXCEEDED', { maxArrayLength: 99 }), /maxArrayLength/);
  assert.match(await rejectsWith(array, 'LIMIT_EXCEEDED', { maxHeaderBytes: 200 }), /maxHeaderBytes/);
  assert.match(await rejectsWith(array, 'LIMIT_EXCEEDED', { maxKeys: 0 }), /maxKeys/);
  assert.match(await rejectsWith(craftGguf(goodParts()), 'LIMIT_EXCEEDED', { maxTensors: 1 }), /maxTensors/);
});
