import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { craftZip } from './helpers/zip-craft.js';
import { binUnicode, craftCheckpoint, pickleBytes } from './helpers/pytorch-craft.js';
import { bytesSource, createTensor, isTensioError, memorySink, TensioError } from '../src/index.js';
import { pytorchCreateSinkWriter, pytorchEncodeStateDict, pytorchOpen } from '../src/formats/pytorch/index.js';

const FLOATS = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
const STATE_DICT = pytorchEncodeStateDict([{ name: 'w', dtype: 'float32', shape: [2, 3] }]);

async function rejectsWith(promise: Promise<unknown>, ...codes: string[]): Promise<void> {
  await assert.rejects(promise, (err) => err instanceof TensioError && codes.includes(err.code), `expected one of ${codes.join(', ')}`);
}

async function validCheckpoint(): Promise<Uint8Array> {
  const sink = memorySink();
  const writer = await pytorchCreateSinkWriter(sink, { tensors: [{ name: 'w', dtype: 'float32', shape: [2, 3] }, { name: 'b', dtype: 'int8', shape: [300] }] });
  await writer.add('w', FLOATS);
  await writer.add('b', new Uint8Array(300).fill(7));
  await writer.close();
  return sink.bytes();
}

test('a crafted (unaligned, classic zip) checkpoint reads, from any archive folder name', async () => {
  await using reader = await pytorchOpen(bytesSource(craftCheckpoint(STATE_DICT, { 0: FLOATS }, 'my_model')));
  assert.deepEqual((await reader.read('w')).data, createTensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])).data);
});

test('every truncation of a checkpoint is refused with a code', async () => {
  const file = await validCheckpoint();
  for (let cut = 0; cut < file.byteLength; cut += 37) {
    await assert.rejects(pytorchOpen(bytesSource(file.subarray(0, cut))), (err) => err instanceof TensioError, `cut at ${cut}`);
  }
});

test('storage records: missing, wrong size, view out of bounds', async () => {
  await rejectsWith(pytorchOpen(bytesSource(craftCheckpoint(STATE_DICT, {}))), 'NOT_FOUND');
  await rejectsWith(pytorchOpen(bytesSource(craftCheckpoint(STATE_DICT, { 0: FLOATS.subarray(0, 20) }))), 'SIZE_MISMATCH');
  // The pickle says 6 elements; the view [3, 3] needs 9.
  const tooBig = pytorchEncodeStateDict([{ name: 'w', dtype: 'float32', shape: [3, 3] }]);
  const patched = Buffer.from(tooBig);
  // Storage numel is the BININT1 9 after 'cpu'; make it 6 so the record and the view disagree.
  const at = patched.indexOf(Buffer.concat([binUnicodeBuffer('cpu'), Buffer.from([0x4b, 9])]));
  patched[at + binUnicodeBuffer('cpu').byteLength + 1] = 6;
  await rejectsWith(pytorchOpen(bytesSource(craftCheckpoint(new Uint8Array(patched), { 0: FLOATS }))), 'INVALID_OFFSET');
});

function binUnicodeBuffer(text: string): Buffer {
  return Buffer.from(binUnicode(text));
}

test('archive records: version, byteorder, TorchScript, no data.pkl, not a checkpoint', async () => {
  const entries = (extra: Array<{ name: string; data: Uint8Array }>) => craftZip([{ name: 'a/data.pkl', data: STATE_DICT }, { name: 'a/data/0', data: FLOATS }, ...extra]);
  const text = (value: string) => new TextEncoder().encode(value);
  await rejectsWith(pytorchOpen(bytesSource(entries([{ name: 'a/version', data: text('99\n') }]))), 'UNSUPPORTED_VERSION');
  await rejectsWith(pytorchOpen(bytesSource(entries([{ name: 'a/byteorder', data: text('middle') }]))), 'INVALID_HEADER');
  await rejectsWith(pytorchOpen(bytesSource(entries([{ name: 'a/constants.pkl', data: STATE_DICT }]))), 'UNSUPPORTED_FEATURE');
  await rejectsWith(pytorchOpen(bytesSource(craftZip([{ name: 'a/other.pkl', data: STATE_DICT }]))), 'NOT_FOUND');
  await rejectsWith(pytorchOpen(bytesSource(craftZip([{ name: 'flat.pkl', data: STATE_DICT }]))), 'INVALID_ZIP');
  await rejectsWith(pytorchOpen(bytesSource(new Uint8Array(Buffer.from('not a checkpoint at all')))), 'BAD_MAGIC');
  await rejectsWith(pytorchOpen(bytesSource(new Uint8Array(Buffer.from('PYTORCH1 mobile')))), 'UNSUPPORTED_FEATURE');
});

test('zip bombs: a deflated data.pkl is capped before it is inflated', async () => {
  const huge = new Uint8Array(64 * 2 ** 20);
  const compressed = deflateRawSync(huge, { level: 9 });
  const bomb = craftZip([{ name: 'a/data.pkl', data: new Uint8Array(compressed), method: 8, uncompressedSize: huge.byteLength }, { name: 'a/version', data: new TextEncoder().encode('3') }]);
  await rejectsWith(pytorchOpen(bytesSource(bomb), { maxPickleBytes: 2 ** 20 }), 'LIMIT_EXCEEDED');
  await assert.rejects(pytorchOpen(bytesSource(bomb), { maxEntryBytes: 2 ** 20 }), (err) => isTensioError(err));
  // A size that lies (says small, inflates big) is caught by the inflater's own bound.
  const liar = craftZip([{ name: 'a/data.pkl', data: new Uint8Array(compressed), method: 8, uncompressedSize: 100 }]);
  await assert.rejects(pytorchOpen(bytesSource(liar)), (err) => isTensioError(err));
});

test('path traversal and hostile names in the archive are refused by the zip layer', async () => {
  const evil = craftZip([{ name: '../../etc/data.pkl', data: STATE_DICT }]);
  await assert.rejects(pytorchOpen(bytesSource(evil)), (err) => isTensioError(err));
});

test('legacy files: wrong magic, wrong protocol version, storage count mismatch', async () => {
  const magic = pickleBytes(0x80, 2, 0x8a, 10, new Uint8Array([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), '.');
  const legacy = (version: number, count: bigint) => {
    const countBytes = Buffer.alloc(8);
    countBytes.writeBigInt64LE(count);
    return pickleBytes(magic, 0x80, 2, 'M', new Uint8Array(new Uint16Array([version]).buffer), '.', 0x80, 2, '}.', STATE_DICT,
      0x80, 2, ']', binUnicode('0'), 'a.', new Uint8Array(countBytes), FLOATS);
  };
  await using ok = await pytorchOpen(bytesSource(legacy(1001, 6n)));
  assert.deepEqual((await ok.read('w')).data, FLOATS);
  await rejectsWith(pytorchOpen(bytesSource(legacy(1002, 6n))), 'UNSUPPORTED_VERSION');
  await rejectsWith(pytorchOpen(bytesSource(legacy(1001, 5n))), 'SIZE_MISMATCH');
  await rejectsWith(pytorchOpen(bytesSource(legacy(1001, 2n ** 40n))), 'TRUNCATED');
  const badMagic = legacy(1001, 6n).slice();
  badMagic[13] ^= 1;
  await rejectsWith(pytorchOpen(bytesSource(badMagic)), 'BAD_MAGIC');
});

test('legacy files: one storage key named with two element types cannot read past that storage', async () => {
  const magic = pickleBytes(0x80, 2, 0x8a, 10, new Uint8Array([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), '.');
  const twoTypes = pytorchEncodeStateDict([{ name: 'w', dtype: 'float32', shape: [2, 3] }, { name: 'd', dtype: 'float64', shape: [2, 3] }]).slice();
  // Point the float64 tensor at storage "0" too: 6 doubles (48 bytes) over a 24-byte storage.
  const keyOne = Buffer.from([0x58, 1, 0, 0, 0, 0x31]);
  const at = Buffer.from(twoTypes).indexOf(keyOne);
  assert.ok(at > 0, 'storage key "1" found in the pickle');
  twoTypes[at + 5] = 0x30;
  const countBytes = Buffer.alloc(8);
  countBytes.writeBigInt64LE(6n);
  const file = pickleBytes(magic, 0x80, 2, 'M', new Uint8Array(new Uint16Array([1001]).buffer), '.', 0x80, 2, '}.', twoTypes,
    0x80, 2, ']', binUnicode('0'), 'a.', new Uint8Array(countBytes), FLOATS, new Uint8Array(64).fill(0xee));
  await rejectsWith((async () => {
    await using reader = await pytorchOpen(bytesSource(file));
    await reader.read('d');
  })(), 'INVALID_OFFSET', 'SIZE_MISMATCH', 'INVALID_PICKLE', 'TRAILING_BYTES');
});

test('zip checkpoints: one storage key named with two element types cannot read past its record', async () => {
  const twoTypes = pytorchEncodeStateDict([{ name: 'w', dtype: 'float32', shape: [2, 3] }, { name: 'd', dtype: 'float64', shape: [2, 3] }]).slice();
  const keyOne = Buffer.from([0x58, 1, 0, 0, 0, 0x31]);
  const at = Buffer.from(twoTypes).indexOf(keyOne);
  assert.ok(at > 0, 'storage key "1" found in the pickle');
  twoTypes[at + 5] = 0x30;
  const file = craftCheckpoint(twoTypes, { 0: FLOATS, 9: new Uint8Array(64).fill(0xee) });
  await rejectsWith((async () => {
    await using reader = await pytorchOpen(bytesSource(file));
    await reader.read('d');
  })(), 'INVALID_OFFSET', 'SIZE_MISMATCH', 'INVALID_PICKLE');
});
