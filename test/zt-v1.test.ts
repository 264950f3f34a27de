/**
 * zTensor v1 files (no v1 files exist in the corpus): the three lineages built here from
 * the byte layout the reference describes (§2) — `ZTEN0001` with its CBOR array and
 * 8-byte size, `ZTEN1000` with the 8-byte trailer (1.0) and with the 16-byte footer
 * (1.2) — dense, CSR, COO, whole-component zstd, big-endian data, CRC-32C and SHA-256
 * digests over the stored bytes, plus hostile variants, each a `TensioError`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress } from '@mongodb-js/zstd';
import { crc32c } from '@node-rs/crc32';
import { TensioError } from '../src/core/errors.js';
import { densify } from '../src/model/densify.js';
import { convert, openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import { cborEncodeCanonical, ztOpen } from '../src/formats/zt/index.js';
import { tempDir } from './helpers/temp.js';

const enc = new TextEncoder();
const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const u64 = (...values: number[]) => new Uint8Array(new BigUint64Array(values.map(BigInt)).buffer);
const crc = (bytes: Uint8Array) => `crc32c:0x${(crc32c(bytes) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/** Blobs at 64-byte alignment after `magic`; returns the bytes and each blob's offset. */
function layout(magic: string, blobs: Uint8Array[]): { body: Uint8Array[]; offsets: number[]; end: number } {
  const body: Uint8Array[] = [enc.encode(magic)];
  let at = 8;
  const offsets: number[] = [];
  for (const blob of blobs) {
    const pad = (64 - (at % 64)) % 64;
    body.push(new Uint8Array(pad));
    at += pad;
    offsets.push(at);
    body.push(blob);
    at += blob.length;
  }
  return { body, offsets, end: at };
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const piece of pieces) { out.set(piece, at); at += piece.length; }
  return out;
}

function u64le(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

async function v01(): Promise<Uint8Array> {
  const a = f32(1, 2, 3, 4, 5, 6);
  const be = new Uint8Array([0x01, 0x02, 0xff, 0xfe]); // int16 big-endian: 258, -2
  const plain = new Uint8Array(new Float64Array([0.5, -1.5, 2.25]).buffer);
  const z = new Uint8Array(await compress(Buffer.from(plain), 3));
  const { body, offsets } = layout('ZTEN0001', [a, be, z]);
  const manifest = cborEncodeCanonical([
    { name: 'a', offset: offsets[0], size: a.length, dtype: 'float32', shape: [2, 3], encoding: 'raw', layout: 'dense', checksum: crc(a) },
    { name: 'be', offset: offsets[1], size: be.length, dtype: 'int16', shape: [2], encoding: 'raw', layout: 'dense', data_endianness: 'big' },
    { name: 'z', offset: offsets[2], size: z.length, dtype: 'float64', shape: [3], encoding: 'zstd', layout: 'dense' },
  ]);
  return concat([...body, manifest, u64le(manifest.length)]);
}

function v10(): Uint8Array {
  const dense = f32(1.5, 2.5);
  const values = f32(10, 20, 30);
  const indices = u64(0, 2, 1);
  const indptr = u64(0, 2, 3);
  const cooValues = f32(7, 8);
  const coords = u64(0, 1, 2, 0); // rows [0, 1], cols [2, 0]
  const { body, offsets } = layout('ZTEN1000', [dense, values, indices, indptr, cooValues, coords]);
  const manifest = cborEncodeCanonical({
    version: '1.0', generator: 'test', attributes: { author: 'me' },
    tensors: {
      d: { dtype: 'float32', shape: [2], format: 'dense', components: { data: { offset: offsets[0], length: dense.length, digest: crc(dense) } } },
      csr: { dtype: 'float32', shape: [2, 3], format: 'sparse_csr', components: { values: { offset: offsets[1], length: 12 }, indices: { offset: offsets[2], length: 24 }, indptr: { offset: offsets[3], length: 24 } } },
      coo: { dtype: 'float32', shape: [2, 3], format: 'sparse_coo', components: { values: { offset: offsets[4], length: 8 }, coords: { offset: offsets[5], length: 32, digest: crc(coords) } } },
    },
  });
  return concat([...body, manifest, u64le(manifest.length)]);
}

async function v12(): Promise<Uint8Array> {
  const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // f16 1, -2
  const plain = new Uint8Array(new Int32Array([1, -2, 3, -4]).buffer);
  const z = new Uint8Array(await compress(Buffer.from(plain), 3));
  const { body, offsets } = layout('ZTEN1000', [half, z]);
  const manifest = cborEncodeCanonical({
    version: '1.2.0', attributes: { note: 'v1.2' },
    objects: {
      h: { shape: [2], format: 'dense', components: { data: { dtype: 'f16', offset: offsets[0], length: 4, digest: `sha256:${createHash('sha256').update(half).digest('hex')}` } } },
      z: { shape: [2, 2], format: 'dense', components: { data: { dtype: 'i32', offset: offsets[1], length: z.length, uncompressed_length: 16, encoding: 'zstd', digest: crc(z) } } },
    },
  });
  return concat([...body, manifest, u64le(manifest.length), enc.encode('ZTEN1000')]);
}

test('v0.1 (ZTEN0001): dense raw, big-endian swapped, whole-tensor zstd; CRC-32C verified', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'old.zt');
  writeFileSync(path, await v01());
  await using reader = await openTensorFile(path);
  assert.equal(reader.format, 'zt');
  assert.equal(reader.metadata['zt.v1'], 'v0.1');
  assert.deepEqual([...new Float32Array((await reader.read('a')).data.slice().buffer)], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...new Int16Array((await reader.read('be')).data.slice().buffer)], [258, -2]);
  assert.deepEqual([...new Float64Array((await reader.read('z')).data.slice().buffer)], [0.5, -1.5, 2.25]);
  const report = await verifyTensorFile(path);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 1);
  await convert(path, join(dir, 'new.zt'));
  await using upgraded = await ztOpen(join(dir, 'new.zt'));
  assert.deepEqual((await upgraded.read('z')).data, (await reader.read('z')).data);
});

test('v1.0 (ZTEN1000, 8-byte trailer): dense, CSR and COO (u64 indices) densify; a corrupted component fails verify', async (t) => {
  const dir = await tempDir(t);
  const bytes = v10();
  await using reader = await openTensorFile(bytes, { format: 'zt' });
  assert.equal(reader.metadata['zt.v1'], 'v1.0');
  assert.equal(reader.metadata.author, 'me');
  assert.deepEqual([...new Float32Array((await reader.read('d')).data.slice().buffer)], [1.5, 2.5]);
  assert.equal(reader.info('csr').layout?.kind, 'sparse_csr');
  assert.deepEqual([...new Float32Array((await densify(reader, 'csr')).data.buffer)], [10, 0, 20, 0, 30, 0]);
  assert.deepEqual([...new Float32Array((await densify(reader, 'coo')).data.buffer)], [0, 0, 7, 8, 0, 0]);
  const path = join(dir, 'v10.zt');
  const broken = bytes.slice();
  broken[64] ^= 0xff; // first byte of "d"
  writeFileSync(path, broken);
  const report = await verifyTensorFile(path);
  assert.equal(report.ok, false);
  assert.equal(report.problems[0]!.code, 'CHECKSUM_MISMATCH');
  assert.equal(report.checksumsVerified, 1, 'the coords digest still matches');
});

test('v1.2 (ZTEN1000, 16-byte footer): short dtype names, zstd with uncompressed_length, SHA-256 and CRC-32C over stored bytes', async () => {
  await using reader = await openTensorFile(await v12(), { format: 'zt' });
  assert.equal(reader.metadata['zt.v1'], 'v1.2');
  assert.equal(reader.info('h').dtype, 'float16');
  assert.deepEqual([...new Int32Array((await reader.read('z')).data.slice().buffer)], [1, -2, 3, -4]);
  const report = await verifyTensorFile(await v12(), { format: 'zt' });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 2);
});

test('hostile v1 files: each a TensioError with its code, nothing allocated from a declared size', async () => {
  const good = v10();
  const cases: Array<[string, Uint8Array, string]> = [];
  const withSize = (bytes: Uint8Array, size: bigint) => { const out = bytes.slice(); new DataView(out.buffer).setBigUint64(out.length - 8, size, true); return out; };
  cases.push(['manifest size past the file', withSize(good, 2n ** 62n), 'INVALID_OFFSET']);
  cases.push(['manifest size 0', withSize(good, 0n), 'INVALID_HEADER']);
  cases.push(['too small', new TextEncoder().encode('ZTEN1000'), 'INVALID_HEADER']);
  const manifest = (value: unknown, magic = 'ZTEN1000') => { const m = cborEncodeCanonical(value); return concat([enc.encode(magic), new Uint8Array(56), m, u64le(m.length)]); };
  cases.push(['component past EOF', manifest({ tensors: { x: { dtype: 'float32', shape: [2], format: 'dense', components: { data: { offset: 64, length: 2 ** 40 } } } } }), 'INVALID_OFFSET']);
  cases.push(['unknown dtype', manifest({ tensors: { x: { dtype: 'float128', shape: [1], format: 'dense', components: { data: { offset: 8, length: 16 } } } } }), 'UNSUPPORTED_DTYPE']);
  cases.push(['shape product overflow', manifest({ tensors: { x: { dtype: 'uint8', shape: [2 ** 40, 2 ** 40], format: 'dense', components: { data: { offset: 8, length: 1 } } } } }), 'SIZE_OVERFLOW']);
  cases.push(['size mismatch', manifest({ tensors: { x: { dtype: 'float32', shape: [4], format: 'dense', components: { data: { offset: 8, length: 4 } } } } }), 'SIZE_MISMATCH']);
  cases.push(['v0.1 root not an array', manifest({ a: 1 }, 'ZTEN0001'), 'INVALID_HEADER']);
  cases.push(['not CBOR', concat([enc.encode('ZTEN1000'), Uint8Array.of(0xff, 0xff), u64le(2)]), 'INVALID_HEADER']);
  for (const [name, bytes, code] of cases) {
    await assert.rejects(openTensorFile(bytes, { format: 'zt' }).then(async (reader) => { for (const info of reader.tensors) await reader.read(info.name); }), (error: unknown) => {
      assert.ok(error instanceof TensioError, `${name}: ${String(error)}`);
      assert.equal(error.code, code, `${name}: ${error.message}`);
      return true;
    }, name);
  }
  // A zstd component that decodes to more than it declares: refused from its block headers or its decoded size.
  const big = new Uint8Array(await compress(Buffer.alloc(1 << 20, 7), 3));
  const bomb = concat([enc.encode('ZTEN1000'), new Uint8Array(56), big]);
  const m = cborEncodeCanonical({ objects: { x: { shape: [16], format: 'dense', components: { data: { dtype: 'u8', offset: 64, length: big.length, uncompressed_length: 16, encoding: 'zstd' } } } } });
  const file = concat([bomb, m, u64le(m.length), enc.encode('ZTEN1000')]);
  await using reader = await openTensorFile(file, { format: 'zt' });
  await assert.rejects(reader.read('x'), (error: unknown) => error instanceof TensioError && error.code === 'INVALID_HEADER');
});
