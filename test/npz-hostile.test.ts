import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { npyHeaderBytes, npySerialize } from '../src/formats/npy/index.js';
import { npzCreateWriter, npzOpen, npzSniff, npzWrite } from '../src/formats/npz/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { craftZip } from './helpers/zip-craft.js';

async function openAndReadAll(bytes: Uint8Array, options = {}): Promise<void> {
  const reader = await npzOpen(bytes, options);
  for (const info of reader.tensors) await reader.read(info.name);
}

async function rejectsWith(bytes: Uint8Array, code: TensioErrorCode, options = {}): Promise<void> {
  await assert.rejects(openAndReadAll(bytes, options), (err: unknown) => {
    assert.ok(isTensioError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.format, 'npz');
    return true;
  });
}

const member = (shape: number[]) => npySerialize({ dtype: 'uint8', shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1)) });

test('zip bomb: a deflated member inflating past its declared size is LIMIT_EXCEEDED', async () => {
  const header = npyHeaderBytes({ dtype: 'uint8', shape: [100] });
  const payload = new Uint8Array(header.byteLength + 20 * 2 ** 20);
  payload.set(header);
  const compressed = deflateRawSync(payload);
  await rejectsWith(craftZip([{ name: 'x.npy', data: compressed, method: 8, uncompressedSize: header.byteLength + 100 }]), 'LIMIT_EXCEEDED');
});

test('a member declaring more than maxEntryBytes, and more entries than maxEntries, are refused', async () => {
  const ok = craftZip([{ name: 'x.npy', data: deflateRawSync(member([4096])), method: 8, uncompressedSize: member([4096]).byteLength }]);
  await rejectsWith(ok, 'LIMIT_EXCEEDED', { maxEntryBytes: 1000 });
  const many = craftZip(Array.from({ length: 50 }, (_, index) => ({ name: `a${index}.npy`, data: member([1]) })));
  await rejectsWith(many, 'LIMIT_EXCEEDED', { maxEntries: 10 });
  assert.equal((await npzOpen(many)).tensors.length, 50);
});

test('an object-dtype member is listed as unsupported (UNSAFE_PICKLE), never loaded; the other members stay readable (issue 8 bug 6)', async () => {
  const bytes = Buffer.from(member([3])).toString('latin1').replace("'|u1'", "'|O' ");
  const reader = await npzOpen(craftZip([{ name: 'o.npy', data: new Uint8Array(Buffer.from(bytes, 'latin1')) }, { name: 'ok.npy', data: member([3]) }]));
  assert.deepEqual(reader.tensors.map((info) => info.name), ['ok']);
  assert.deepEqual(reader.metadata.unsupportedTensors, [{ name: 'o', formatDtype: '|O', code: 'UNSAFE_PICKLE', reason: (reader.metadata.unsupportedTensors as { reason: string }[])[0]!.reason }]);
  assert.match((reader.metadata.unsupportedTensors as { reason: string }[])[0]!.reason, /object dtype/);
  // Read by name, it is refused with the listed code and reason (never loaded).
  await assert.rejects(reader.read('o'), (error) => isTensioError(error, 'UNSAFE_PICKLE') && /object dtype/.test((error as Error).message));
});

test('every member error names the member (issue 8 bug 6)', async () => {
  const short = member([64]).subarray(0, 100);
  await assert.rejects(npzOpen(craftZip([{ name: 'good.npy', data: member([3]) }, { name: 'broken.npy', data: short }])), (error) => isTensioError(error, 'TRUNCATED') && /"broken\.npy"/.test(error.message));
});

test('a member whose data is shorter than its header says is TRUNCATED (stored and deflated)', async () => {
  const short = member([64]).subarray(0, 100);
  await rejectsWith(craftZip([{ name: 's.npy', data: short }]), 'TRUNCATED');
  await rejectsWith(craftZip([{ name: 'd.npy', data: deflateRawSync(short), method: 8, uncompressedSize: short.byteLength }]), 'TRUNCATED');
  await rejectsWith(craftZip([{ name: 'h.npy', data: deflateRawSync(short.subarray(0, 30)), method: 8, uncompressedSize: 30 }]), 'TRUNCATED');
});

test('traversal names and bad magic in a member are refused', async () => {
  await rejectsWith(craftZip([{ name: '../x.npy', data: member([1]) }]), 'INVALID_NAME');
  await rejectsWith(craftZip([{ name: 'x.npy', data: new Uint8Array(64) }]), 'BAD_MAGIC');
});

test('a CRC mismatch in a deflated member is CHECKSUM_MISMATCH unless checkCrc is false', async () => {
  const bytes = member([10]);
  const zip = craftZip([{ name: 'x.npy', data: deflateRawSync(bytes), method: 8, uncompressedSize: bytes.byteLength, crc: 1 }]);
  await rejectsWith(zip, 'CHECKSUM_MISMATCH');
  await openAndReadAll(zip, { checkCrc: false });
});

test('the writer refuses unsafe keys, dtypes numpy lacks, and sizes that disagree with the plan', async () => {
  await assert.rejects(npzCreateWriter(memorySink(), { tensors: [{ name: '../evil', dtype: 'int8', shape: [1] }] }), (err: unknown) => isTensioError(err, 'INVALID_NAME'));
  await assert.rejects(npzCreateWriter(memorySink(), { tensors: [{ name: 'b', dtype: 'bfloat16', shape: [1] }] }), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE'));
  await assert.rejects(npzWrite(memorySink(), { x: { dtype: 'int32', shape: [2], data: new Uint8Array(7) } }), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
  const writer = await npzCreateWriter(memorySink(), { tensors: [{ name: 'a', dtype: 'int8', shape: [1] }] });
  await assert.rejects(writer.close(), (err: unknown) => isTensioError(err, 'INCOMPLETE'));
  await writer.abort();
});

test('sniff accepts zip magic (also empty archives) and nothing else', () => {
  assert.equal(npzSniff(new Uint8Array([0x50, 0x4b, 3, 4])), true);
  assert.equal(npzSniff(new Uint8Array([0x50, 0x4b, 5, 6])), true);
  assert.equal(npzSniff(new Uint8Array([0x93, 0x4e, 0x55, 0x4d])), false);
  assert.equal(npzSniff(new Uint8Array([0x50, 0x4b])), false);
});
