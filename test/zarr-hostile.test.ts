/**
 * Hostile Zarr stores: bad metadata, chunks of the wrong size, codec bombs, lying
 * shard indexes and checksums. Each must end in a `TensioError` with its code (at open
 * or at read), never a crash, a hang or an allocation the file merely asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isTensioError } from '../src/core/errors.js';
import { zarrCreateWriter, zarrOpen } from '../src/formats/zarr/index.js';
import { tempDir } from './helpers/temp.js';

type Files = Record<string, string | Uint8Array>;

const zarray = (extra: Record<string, unknown> = {}) => JSON.stringify({ zarr_format: 2, shape: [4], chunks: [4], dtype: '<i2', compressor: null, filters: null, fill_value: 0, order: 'C', ...extra });
const v3 = (extra: Record<string, unknown> = {}) => JSON.stringify({
  zarr_format: 3, node_type: 'array', shape: [4], data_type: 'int16', chunk_grid: { name: 'regular', configuration: { chunk_shape: [4] } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } }, fill_value: 0, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], ...extra,
});
const raw8 = new Uint8Array([1, 0, 2, 0, 3, 0, 4, 0]);

async function put(dir: string, files: Files): Promise<void> {
  for (const [key, value] of Object.entries(files)) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), value);
  }
}

/** [what, files, expected code, when: open or read, formatOptions] */
const CASES: [string, Files, string, 'open' | 'read', Record<string, unknown>?][] = [
  ['.zarray is not JSON', { '.zarray': '{"zarr_format": 2,' }, 'INVALID_JSON', 'open'],
  ['.zarray is a list', { '.zarray': '[1, 2]' }, 'INVALID_METADATA', 'open'],
  ['negative dimension', { '.zarray': zarray({ shape: [-1] }) }, 'INVALID_METADATA', 'open'],
  ['fractional dimension', { '.zarray': zarray({ shape: [2.5] }) }, 'INVALID_METADATA', 'open'],
  ['zero chunk side', { '.zarray': zarray({ chunks: [0] }) }, 'INVALID_METADATA', 'open'],
  ['chunk rank differs from shape rank', { '.zarray': zarray({ chunks: [2, 2] }) }, 'INVALID_METADATA', 'open'],
  ['unknown order', { '.zarray': zarray({ order: 'K' }) }, 'INVALID_METADATA', 'open'],
  ['bad dimension separator', { '.zarray': zarray({ dimension_separator: '-' }) }, 'INVALID_METADATA', 'open'],
  ['fill value of the wrong kind', { '.zarray': zarray({ fill_value: 'lots' }) }, 'INVALID_METADATA', 'open'],
  ['2^64 chunks declared', { '.zarray': zarray({ shape: [2 ** 32, 2 ** 32], chunks: [1, 1] }) }, 'LIMIT_EXCEEDED', 'open'],
  ['a 4 GiB chunk declared', { '.zarray': zarray({ shape: [2 ** 31], chunks: [2 ** 31] }) }, 'LIMIT_EXCEEDED', 'open'],
  ['metadata larger than the limit', { '.zarray': zarray({ attributes_padding: 'x'.repeat(5000) }) }, 'LIMIT_EXCEEDED', 'open', { maxMetadataBytes: 1000 }],
  ['zarr_format 3 in a .zarray', { '.zarray': zarray({ zarr_format: 3 }) }, 'INVALID_METADATA', 'open'],
  ['v3 node_type unknown', { 'zarr.json': v3({ node_type: 'table' }) }, 'INVALID_METADATA', 'open'],
  ['v3 chunk grid without a name', { 'zarr.json': v3({ chunk_grid: { configuration: {} } }) }, 'INVALID_METADATA', 'open'],
  ['v3 rectilinear chunk grid (valid, not read by tensio)', { 'zarr.json': v3({ chunk_grid: { name: 'rectilinear', configuration: {} } }) }, 'UNSUPPORTED_FEATURE', 'read'],
  ['v3 unknown chunk key encoding', { 'zarr.json': v3({ chunk_key_encoding: { name: 'hashed' } }) }, 'UNSUPPORTED_FEATURE', 'read'],
  ['v3 extension field that must be understood', { 'zarr.json': v3({ my_extension: { must_understand: true } }) }, 'UNSUPPORTED_FEATURE', 'read'],
  // 2^32 chunk rows: opening groups them into at most 2^18 bands (it used to build 2^32 band objects); reading it whole is one buffer too many.
  ['a 1-D array of 2^32 one-byte chunks, read whole', { '.zarray': zarray({ shape: [2 ** 32], chunks: [1], dtype: '|i1' }) }, 'LIMIT_EXCEEDED', 'read'],
  ['a 1-D array of 2^32 one-byte chunks with bands of 1 KiB (2^22 bands)', { '.zarray': zarray({ shape: [2 ** 32], chunks: [1], dtype: '|i1' }) }, 'LIMIT_EXCEEDED', 'open', { maxBandBytes: 2 ** 10 }],
  ['v3 storage transformer', { 'zarr.json': v3({ storage_transformers: [{ name: 'x' }] }) }, 'UNSUPPORTED_FEATURE', 'read'],
  ['v3 shard not a multiple of its chunks', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [3], codecs: [{ name: 'bytes' }] } }] }) }, 'INVALID_METADATA', 'open'],
  ['v3 nested sharding', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2], codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [1] } }] } }] }) }, 'UNSUPPORTED_FEATURE', 'read'],
  ['unknown codec', { '.zarray': zarray({ compressor: { id: 'brotli' } }), '0': raw8 }, 'UNSUPPORTED_FEATURE', 'read'],
  ['raw chunk shorter than the chunk', { '.zarray': zarray(), '0': raw8.subarray(0, 6) }, 'SIZE_MISMATCH', 'read'],
  ['raw chunk longer than the chunk', { '.zarray': zarray(), '0': new Uint8Array(9) }, 'LIMIT_EXCEEDED', 'read'],
  ['gzip bomb (a chunk inflating to 1 MiB)', { '.zarray': zarray({ compressor: { id: 'gzip', level: 1 } }), '0': gzipSync(new Uint8Array(2 ** 20)) }, 'LIMIT_EXCEEDED', 'read'],
  ['zlib stream that is not zlib', { '.zarray': zarray({ compressor: { id: 'zlib', level: 1 } }), '0': raw8 }, 'INVALID_HEADER', 'read'],
  ['blosc header declaring 1 GiB', { '.zarray': zarray({ compressor: { id: 'blosc' } }), '0': bloscHeader(2 ** 30, 16) }, 'LIMIT_EXCEEDED', 'read'],
  ['blosc header lying about its stored size', { '.zarray': zarray({ compressor: { id: 'blosc' } }), '0': bloscHeader(8, 999) }, 'SIZE_MISMATCH', 'read'],
  ['lz4 size header declaring 1 GiB', { '.zarray': zarray({ compressor: { id: 'lz4' } }), '0': new Uint8Array([0, 0, 0, 0x40, 1, 2, 3]) }, 'LIMIT_EXCEEDED', 'read'],
  ['zstd frame declaring 1 MiB', { '.zarray': zarray({ compressor: { id: 'zstd' } }), '0': zstdHeader(2 ** 20) }, 'LIMIT_EXCEEDED', 'read'],
  ['zstd chunk without a zstd magic', { '.zarray': zarray({ compressor: { id: 'zstd' } }), '0': raw8 }, 'INVALID_HEADER', 'read'],
  // No content size in its header: only decoding shows it is 100 000 bytes (the addon's libzstd stops at the chunk's 8).
  ['zstd frame without a content size that decodes past its chunk', { '.zarray': zarray({ compressor: { id: 'zstd' } }), '0': new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x03, 0x35, 0x0c, 0x09]) }, 'LIMIT_EXCEEDED', 'read'],
  ['delta filter on a big-endian array', { '.zarray': zarray({ dtype: '>i2', filters: [{ id: 'delta', dtype: '>i2' }] }), '0': raw8 }, 'UNSUPPORTED_FEATURE', 'read'],
  ['fixedscaleoffset with scale 0', { '.zarray': zarray({ dtype: '<f4', filters: [{ id: 'fixedscaleoffset', dtype: '<f4', astype: '<i2', scale: 0, offset: 0 }] }), '0': raw8 }, 'INVALID_METADATA', 'read'],
  ['v3 transpose order that is not a permutation', { 'zarr.json': v3({ shape: [2, 2], chunk_grid: { name: 'regular', configuration: { chunk_shape: [2, 2] } }, codecs: [{ name: 'transpose', configuration: { order: [0, 0] } }, { name: 'bytes' }] }), 'c/0/0': raw8 }, 'INVALID_METADATA', 'read'],
  ['v3 crc32c that does not match', { 'zarr.json': v3({ codecs: [{ name: 'bytes' }, { name: 'crc32c' }] }), 'c/0': new Uint8Array([...raw8, 1, 2, 3, 4]) }, 'CHECKSUM_MISMATCH', 'read'],
  ['v3 shard shorter than its index', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2], codecs: [{ name: 'bytes' }], index_codecs: [{ name: 'bytes' }] } }] }), 'c/0': new Uint8Array(10) }, 'TRUNCATED', 'read'],
  ['v3 shard index pointing past the shard', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2], codecs: [{ name: 'bytes' }], index_codecs: [{ name: 'bytes' }] } }] }), 'c/0': shardWithIndex([[1000, 4], [0, 4]]) }, 'TRUNCATED', 'read'],
  ['v3 shard index offset beyond 2^53', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2], codecs: [{ name: 'bytes' }], index_codecs: [{ name: 'bytes' }] } }] }), 'c/0': shardWithIndex([[2 ** 60, 4], [0, 4]]) }, 'INVALID_OFFSET', 'read'],
  ['v3 shard index checksum wrong', { 'zarr.json': v3({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2], codecs: [{ name: 'bytes' }] } }] }), 'c/0': new Uint8Array([...shardWithIndex([[0, 4], [4, 4]]), 9, 9, 9, 9]) }, 'CHECKSUM_MISMATCH', 'read'],
  ['no Zarr metadata at all', { 'readme.txt': 'hello' }, 'NOT_FOUND', 'open'],
];

function bloscHeader(nbytes: number, cbytes: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  out[0] = 2; out[1] = 1; out[2] = 1; out[3] = 2;
  view.setUint32(4, nbytes, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, cbytes, true);
  return out;
}

function zstdHeader(contentSize: number): Uint8Array {
  // magic, descriptor: 4-byte content size, single segment
  const out = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0, 0, 0, 0]);
  new DataView(out.buffer).setUint32(5, contentSize, true);
  return out;
}

function shardWithIndex(entries: [number, number][]): Uint8Array {
  const data = raw8;
  const out = new Uint8Array(data.byteLength + entries.length * 16);
  out.set(data);
  const view = new DataView(out.buffer);
  entries.forEach(([offset, length], i) => {
    view.setBigUint64(data.byteLength + i * 16, BigInt(offset), true);
    view.setBigUint64(data.byteLength + i * 16 + 8, BigInt(length), true);
  });
  return out;
}

for (const [what, files, code, when, formatOptions] of CASES) {
  test(`hostile zarr: ${what} → ${code} at ${when}`, async (t) => {
    const dir = await tempDir(t);
    const store = join(dir, 'bad.zarr');
    await put(store, files);
    let failure: unknown;
    try {
      await using reader = await zarrOpen(store, formatOptions ? { formatOptions } : {});
      assert.equal(when, 'read', `${what}: opened although the store is broken at open`);
      for (const info of reader.tensors) await reader.read(info.name);
      // An array tensio cannot read is listed, not fatal to the store: reading it by name fails with its code.
      for (const entry of (reader.metadata.unsupportedTensors ?? []) as { name: string }[]) await reader.read(entry.name);
    } catch (error) {
      failure = error;
    }
    assert.ok(isTensioError(failure), `${what}: expected a TensioError ${code}, got ${String(failure)}`);
    assert.equal((failure as { code: string }).code, code, `${what}: ${(failure as Error).message}`);
  });
}

test('hostile zarr: a string array is listed as unsupported, the rest still reads', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'mixed.zarr');
  await put(store, { '.zgroup': '{"zarr_format": 2}', 'ok/.zarray': zarray(), 'ok/0': raw8, 'text/.zarray': zarray({ dtype: '<U5' }) });
  await using reader = await zarrOpen(store);
  assert.deepEqual(reader.tensors.map((info) => info.name), ['ok']);
  assert.deepEqual((reader.metadata.unsupportedTensors as { name: string; formatDtype: string }[]).map((u) => [u.name, u.formatDtype]), [['text', '<U5']]);
});

test('hostile zarr: an array tensio cannot read (rectilinear grid, storage transformer) is listed with UNSUPPORTED_FEATURE; the store opens and the rest reads', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'mixed-v3.zarr');
  await put(store, {
    'zarr.json': JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }),
    'g/zarr.json': JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }),
    'g/ok/zarr.json': v3(), 'g/ok/c/0': raw8,
    'g/ragged/zarr.json': v3({ chunk_grid: { name: 'rectilinear', configuration: { kind: 'inline', chunk_shapes: [[1, 3]] } } }),
    'g/moved/zarr.json': v3({ storage_transformers: [{ name: 'offset' }] }),
  });
  await using reader = await zarrOpen(store, { formatOptions: { group: 'g' } });
  assert.deepEqual(reader.tensors.map((info) => info.name), ['ok']);
  assert.deepEqual([...new Int16Array((await reader.read('ok')).data.slice().buffer)], [1, 2, 3, 4]);
  const listed = reader.metadata.unsupportedTensors as { name: string; code: string }[];
  assert.deepEqual(listed.map((entry) => [entry.name, entry.code]).sort(), [['moved', 'UNSUPPORTED_FEATURE'], ['ragged', 'UNSUPPORTED_FEATURE']]);
  await assert.rejects(reader.read('ragged'), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE') && /rectilinear/.test((error as Error).message));
});

test('hostile zarr: missing chunks read as the fill value (NaN), not an error', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'sparse.zarr');
  await put(store, { '.zarray': zarray({ dtype: '<f4', shape: [4], chunks: [2], fill_value: 'NaN' }), '1': new Uint8Array(new Float32Array([5, 6]).buffer) });
  await using reader = await zarrOpen(store);
  const values = new Float32Array((await reader.read('sparse')).data.slice().buffer);
  assert.ok(Number.isNaN(values[0]) && Number.isNaN(values[1]));
  assert.deepEqual([...values.slice(2)], [5, 6]);
});

test('hostile zarr: a writer fed the wrong number of bytes leaves no store behind', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'short.zarr');
  const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype: 'int16', shape: [4] }] });
  await assert.rejects(writer.add('x', new Uint8Array(6)), { code: 'SIZE_MISMATCH' });
  await writer.abort();
  await assert.rejects(zarrOpen(path), { code: 'NOT_FOUND' });
});
