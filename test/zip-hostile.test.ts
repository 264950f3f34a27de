import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { zipCreateWriter, zipOpen, type ZipOpenOptions } from '../src/zip/index.js';
import { craftZip } from './helpers/zip-craft.js';

const text = (value: string) => new TextEncoder().encode(value);

async function rejectsWith(promise: Promise<unknown>, code: TensioErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTensioError(err), `expected a TensioError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

async function openBytes(bytes: Uint8Array, options: ZipOpenOptions = {}) {
  return zipOpen(bytesSource(bytes), { format: 'npz', ...options });
}

async function readAll(bytes: Uint8Array, options: ZipOpenOptions = {}): Promise<void> {
  const zip = await openBytes(bytes, options);
  for (const entry of zip.entries) await zip.readEntry(entry);
}

async function streamAll(bytes: Uint8Array, options: ZipOpenOptions = {}): Promise<void> {
  const zip = await openBytes(bytes, options);
  for (const entry of zip.entries) for await (const chunk of zip.streamEntry(entry, { chunkBytes: 4096 })) void chunk;
}

test('a crafted valid zip reads back (the baseline every hostile case changes one field of)', async () => {
  const zip = await openBytes(craftZip([{ name: 'a.txt', data: text('hello') }, { name: 'b.bin', data: deflateRawSync(text('world')), method: 8, uncompressedSize: 5, crc: 0x3a771143 }]));
  assert.deepEqual(zip.entries.map((entry) => entry.name), ['a.txt', 'b.bin']);
  assert.equal(new TextDecoder().decode(await zip.readEntry(zip.entry('a.txt')!)), 'hello');
  assert.equal(new TextDecoder().decode(await zip.readEntry(zip.entry('b.bin')!)), 'world');
  assert.equal(zip.format, 'npz');
});

test('files too small or without an end record are refused', async () => {
  await rejectsWith(openBytes(new Uint8Array(10)), 'TRUNCATED');
  await rejectsWith(openBytes(new Uint8Array(100)), 'INVALID_ZIP');
  const valid = craftZip([{ name: 'a.txt', data: text('hello') }]);
  await rejectsWith(openBytes(valid.subarray(0, valid.byteLength - 5)), 'INVALID_ZIP');
});

test('an end record pointing outside the file or past itself is refused', async () => {
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('x') }], { directoryOffset: 5000 })), 'INVALID_ZIP');
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('x') }], { directorySize: 4000 })), 'INVALID_ZIP');
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('x') }], { entryCount: 3 })), 'INVALID_ZIP');
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('x') }], { directoryOffset: 1 })), 'INVALID_ZIP');
});

test('path traversal, absolute, backslash, NUL and drive-letter names are refused', async () => {
  for (const name of ['../evil', 'a/../../evil', '/etc/passwd', 'a\\b', 'a\0b', 'C:/x', '']) {
    await rejectsWith(openBytes(craftZip([{ name, data: text('x') }])), 'INVALID_NAME');
  }
});

test('duplicate names are refused', async () => {
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('x') }, { name: 'a', data: text('y') }])), 'DUPLICATE_NAME');
});

test('a name flagged UTF-8 that is not UTF-8 is refused; an unflagged one decodes as CP437', async () => {
  await rejectsWith(openBytes(craftZip([{ name: new Uint8Array([0x61, 0xff]), data: text('x'), flags: 0x0800 }])), 'INVALID_UTF8');
  const zip = await openBytes(craftZip([{ name: new Uint8Array([0x61, 0x81]), data: text('x') }]));
  assert.equal(zip.entries[0]!.name, 'aü');
});

test('entry data running into the central directory or overlapping another entry is refused', async () => {
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('xy'), compressedSize: 500, uncompressedSize: 500 }])), 'INVALID_ZIP');
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('xyz') }, { name: 'b', data: text('xyz'), localHeaderOffset: 0 }])), 'OVERLAPPING_DATA');
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('xyzxyz') }, { name: 'b', data: text('q'), localHeaderOffset: 10 }])), 'OVERLAPPING_DATA');
});

test('a stored entry whose sizes disagree is refused', async () => {
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: text('xy'), uncompressedSize: 3 }])), 'INVALID_ZIP');
});

test('a bad local header signature is refused when the entry is read', async () => {
  await rejectsWith(readAll(craftZip([{ name: 'a', data: text('xy'), localSignature: 0x12345678 }])), 'INVALID_ZIP');
});

test('zip bomb: a deflate stream inflating past its declared size stops with LIMIT_EXCEEDED', async () => {
  const huge = deflateRawSync(new Uint8Array(16 * 2 ** 20)); // ~16 KiB of compressed zeros
  const small = craftZip([{ name: 'bomb', data: huge, method: 8, uncompressedSize: 1000 }]);
  await rejectsWith(readAll(small), 'LIMIT_EXCEEDED');
  await rejectsWith(streamAll(small), 'LIMIT_EXCEEDED');
  // Declared size above the one-shot threshold: the streaming inflater must stop too.
  const medium = craftZip([{ name: 'bomb', data: huge, method: 8, uncompressedSize: 8 * 2 ** 20 }]);
  await rejectsWith(readAll(medium), 'LIMIT_EXCEEDED');
  await rejectsWith(streamAll(medium), 'LIMIT_EXCEEDED');
});

test('a declared size beyond what deflate can produce is refused before any allocation', async () => {
  await rejectsWith(openBytes(craftZip([{ name: 'a', data: deflateRawSync(text('x')), method: 8, uncompressedSize: 2 ** 31 }])), 'INVALID_ZIP');
});

test('entry count, directory size and entry size caps can be lowered', async () => {
  const bytes = craftZip(Array.from({ length: 20 }, (_, index) => ({ name: `e${index}`, data: text('abc') })));
  await rejectsWith(openBytes(bytes, { maxEntries: 10 }), 'LIMIT_EXCEEDED');
  await rejectsWith(openBytes(bytes, { maxDirectoryBytes: 100 }), 'LIMIT_EXCEEDED');
  await rejectsWith(readAll(bytes, { maxEntryBytes: 2 }), 'LIMIT_EXCEEDED');
  assert.equal((await openBytes(bytes, { maxEntries: 20 })).entries.length, 20);
});

test('inflated size short of the declared size, corrupt and truncated deflate data are refused', async () => {
  const short = deflateRawSync(text('abc'));
  await rejectsWith(readAll(craftZip([{ name: 'a', data: short, method: 8, uncompressedSize: 10 }])), 'SIZE_MISMATCH');
  await rejectsWith(readAll(craftZip([{ name: 'a', data: new Uint8Array([0xff, 0xff, 0xff, 0xff]), method: 8, uncompressedSize: 10 }])), 'INVALID_ZIP');
  const long = deflateRawSync(new Uint8Array(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
  const cut = long.subarray(0, long.byteLength >> 1);
  const bytes = craftZip([{ name: 'a', data: cut, method: 8, uncompressedSize: 5000 }]);
  await assert.rejects(readAll(bytes), (err: unknown) => isTensioError(err, 'TRUNCATED', 'INVALID_ZIP'));
  await assert.rejects(streamAll(bytes), (err: unknown) => isTensioError(err, 'TRUNCATED', 'INVALID_ZIP'));
});

test('CRC mismatch is CHECKSUM_MISMATCH unless checkCrc is false', async () => {
  const bytes = craftZip([{ name: 'a', data: text('hello'), crc: 0 }]);
  await rejectsWith(readAll(bytes), 'CHECKSUM_MISMATCH');
  await rejectsWith(streamAll(bytes), 'CHECKSUM_MISMATCH');
  const zip = await openBytes(bytes);
  assert.equal(new TextDecoder().decode(await zip.readEntry(zip.entries[0]!, { checkCrc: false })), 'hello');
});

test('encrypted entries and unknown methods are refused when read', async () => {
  await rejectsWith(readAll(craftZip([{ name: 'a', data: text('x'), flags: 1 }])), 'UNSUPPORTED_FEATURE');
  await rejectsWith(readAll(craftZip([{ name: 'a', data: text('x'), method: 12 }])), 'UNSUPPORTED_FEATURE');
});

test('errors carry the caller format name', async () => {
  await assert.rejects(zipOpen(bytesSource(new Uint8Array(100)), { format: 'pytorch' }), (err: unknown) => isTensioError(err) && err.format === 'pytorch');
});

test('mutated archives parse or throw TensioError, nothing else', async () => {
  const sink = memorySink();
  const writer = zipCreateWriter(sink, { forceZip64: true });
  await writer.add('a.npy', text('a'.repeat(300)), { alignment: 64 });
  await writer.add('b.npy', text('b'.repeat(3000)), { method: 'deflate' });
  await writer.close();
  const valid = sink.bytes();
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let refused = 0;
  for (let round = 0; round < 400; round++) {
    const bytes = valid.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let flip = 0; flip < flips; flip++) bytes[Math.floor(random() * bytes.byteLength)] = Math.floor(random() * 256);
    try {
      await streamAll(bytes);
    } catch (err) {
      assert.ok(isTensioError(err), `round ${round}: ${String(err)}`);
      refused++;
    }
  }
  // Without refusals the loop would prove nothing (e.g. if streamAll read nothing).
  assert.ok(refused > 0, 'no mutant was refused');
});
