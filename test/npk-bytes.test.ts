/**
 * The on-disk format byte by byte: metadata.npkm (reference §1.2), dtype codes (§1.3),
 * the deletion bitmap with and without its 16-byte header (§1.6), segment manifests
 * (§1.4), and stores assembled by hand in that layout, read by tensio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isTensioError } from '../src/core/errors.js';
import { NpkBitmap, NumPack, npkDecodeManifest, npkDecodeMetadata, npkEncodeMetadata, npkDtypeCode, npkDtypeFromCode } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { NPK_MATRIX_DTYPES, arange2d, deleteRows, values } from './helpers/npk-fixtures.js';

const code = (...codes: string[]) => (err: unknown) => isTensioError(err) && codes.includes(err.code);

/** Little-endian byte builder for hand-made files. */
class Bytes {
  parts: number[] = [];
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u32(v: number) { for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: number | bigint) { let b = BigInt(v); for (let i = 0; i < 8; i++) { this.parts.push(Number(b & 0xffn)); b >>= 8n; } return this; }
  str(s: string) { const e = Buffer.from(s, 'utf8'); this.u32(e.length); this.parts.push(...e); return this; }
  get() { return Uint8Array.from(this.parts); }
}

/** One metadata entry exactly as §1.2 lays it out (block info optional). */
function entry(b: Bytes, name: string, shape: number[], file: string, code: number, itemBytes: number, blocks?: number) {
  b.str(name).u32(shape.length);
  for (const d of shape) b.u64(d);
  b.str(file).u64(1_700_000_000_000_000n).u64(shape.reduce((x, y) => x * y, 1) * itemBytes).u8(code);
  b.u8(0).u32(0).u64(0).u64(0); // compression
  if (blocks === undefined) return b.u8(0);
  b.u8(1).u8(1).u64(4096).u64(blocks).u32(blocks);
  for (let i = 0; i < blocks; i++) b.u64(i).u64(1).u64(1);
  return b;
}

test('metadata.npkm: encoder output is the documented layout byte for byte', () => {
  const encoded = npkEncodeMetadata([{ name: 'x', shape: [3, 2], dataFile: 'data_x.npkd', lastModified: 1_700_000_000_000_000, sizeBytes: 24, dtype: 'float32' }]);
  const expected = new Bytes().u32(0x424b504e).u32(1).u64(24).u32(1);
  entry(expected, 'x', [3, 2], 'data_x.npkd', 10, 4);
  assert.deepEqual([...encoded], [...expected.get()]);
  assert.equal(encoded.byteLength, 20 + 51 + 1 + 11 + 16);
  assert.deepEqual([...encoded.subarray(0, 4)], [0x4e, 0x50, 0x4b, 0x42]);
  assert.equal(npkEncodeMetadata([]).byteLength, 20);
});

test('metadata.npkm: decoder reads block info, keeps the last of duplicate names, rejects bad input', () => {
  const b = new Bytes().u32(0x424b504e).u32(7).u64(0).u32(3);
  entry(b, 'a', [4], 'data_a.npkd', 7, 4, 2);
  entry(b, 'b', [], 'data_b.npkd', 11, 8);
  entry(b, 'a', [5], 'data_a.npkd', 8, 8);
  const meta = npkDecodeMetadata(b.get());
  assert.equal(meta.version, 7);
  assert.deepEqual(meta.arrays.map((a) => [a.name, a.dtype, a.shape]), [['b', 'float64', []], ['a', 'int64', [5]]]);
  const good = b.get();
  assert.throws(() => npkDecodeMetadata(Uint8Array.from([0x4e, 0x50, 0x4b, 0x43, ...good.subarray(4)])), code('BAD_MAGIC'));
  for (const cut of [0, 3, 19, 40, good.length - 1]) assert.throws(() => npkDecodeMetadata(good.subarray(0, cut)), code('TRUNCATED'), `cut at ${cut}`);
  const unknown = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(1);
  entry(unknown, 'u', [1], 'data_u.npkd', 14, 4);
  assert.throws(() => npkDecodeMetadata(unknown.get()), code('UNSUPPORTED_DTYPE'));
  const huge = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(0xffffffff);
  assert.throws(() => npkDecodeMetadata(huge.get()), code('TRUNCATED'));
});

test('dtype codes: the 14 codes in order, round trip; others refused', () => {
  NPK_MATRIX_DTYPES.forEach((dtype, i) => {
    assert.equal(npkDtypeFromCode(npkDtypeCode(dtype)), dtype);
  });
  assert.deepEqual(NPK_MATRIX_DTYPES.map(npkDtypeCode).sort((a, b) => a - b), [...Array(14).keys()]);
  assert.equal(npkDtypeCode('bool'), 0);
  assert.equal(npkDtypeCode('int8'), 5);
  assert.equal(npkDtypeCode('float16'), 9);
  assert.equal(npkDtypeCode('complex128'), 13);
  assert.throws(() => npkDtypeCode('bfloat16'), code('UNSUPPORTED_DTYPE'));
  assert.throws(() => npkDtypeFromCode(255), code('UNSUPPORTED_DTYPE'));
});

test('bitmap: header form, legacy header-less words, bit order, resize', () => {
  const bitmap = NpkBitmap.allActive(70);
  bitmap.deletePhysical([0, 63, 64]);
  const bytes = bitmap.encode();
  assert.equal(bytes.byteLength, 16 + 16);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getBigUint64(0, true), 70n);
  assert.equal(view.getBigUint64(8, true), 3n);
  assert.equal(view.getBigUint64(16, true), 0x7fffffffffffffffn - 1n); // bits 1..62 set
  assert.equal(view.getBigUint64(24, true), 0b111110n); // rows 65..69 active, 64 deleted
  const back = NpkBitmap.decode(bytes, 70);
  assert.equal(back.activeCount, 67);
  assert.equal(back.logicalToPhysical(0), 1);
  assert.equal(back.logicalToPhysical(62), 65);
  assert.deepEqual([...back.physicalRuns(60, 67)], [[61, 2], [65, 5]]);
  const legacy = NpkBitmap.decode(bytes.subarray(16), 70);
  assert.equal(legacy.activeCount, 67);
  assert.equal(legacy.totalRows, 70);
  assert.throws(() => NpkBitmap.decode(new Uint8Array(12), 10), code('TRUNCATED'));
  assert.throws(() => NpkBitmap.decode(new Uint8Array(21), 10), code('SIZE_MISMATCH'));
  back.resize(130);
  assert.equal(back.activeCount, 127);
  assert.ok(back.isActive(129));
});

test('segment manifest: version and paths checked, 0-row segments skipped', () => {
  const manifest = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
  const ok = npkDecodeManifest(manifest({ version: 1, segments: [{ file: 'data_x_segments/seg_000000.npkd', rows: 2, bytes: 8 }, { file: 'data_x_segments/seg_000001.npkd', rows: 0, bytes: 0 }] }), 4);
  assert.equal(ok.length, 1);
  assert.throws(() => npkDecodeManifest(manifest({ version: 2, segments: [] }), 4), code('UNSUPPORTED_VERSION'));
  assert.throws(() => npkDecodeManifest(manifest({ version: 1, segments: [{ file: '../x', rows: 1, bytes: 4 }] }), 4), code('INVALID_METADATA'));
  assert.throws(() => npkDecodeManifest(manifest({ version: 1, segments: [{ file: 'a', rows: 3, bytes: 4 }] }), 4), code('SIZE_MISMATCH'));
  assert.throws(() => npkDecodeManifest(new TextEncoder().encode('{'), 4), code('INVALID_JSON'));
});

test('hand-built store: plain array with header bitmap, legacy bitmap, segmented array, 0-d', async (t) => {
  const dir = await tempDir(t);
  const x = arange2d(10, 3);
  const y = arange2d(5, 2, 100);
  const seg = arange2d(7, 2, 1000);
  const meta = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(4);
  entry(meta, 'x', [10, 3], 'data_x.npkd', 10, 4);
  entry(meta, 'y', [5, 2], 'data_y.npkd', 10, 4);
  entry(meta, 'seg', [7, 2], 'data_seg.npkseg', 10, 4);
  entry(meta, 'z', [], 'data_z.npkd', 7, 4);
  await writeFile(`${dir}/metadata.npkm`, meta.get());
  await writeFile(`${dir}/data_x.npkd`, x.data);
  await writeFile(`${dir}/data_y.npkd`, y.data);
  await writeFile(`${dir}/data_z.npkd`, Uint8Array.of(42, 0, 0, 0));
  // rows 2 and 7 of x deleted: bits of one u64 word, header (total 10, deleted 2)
  await writeFile(`${dir}/deleted_x.npkb`, new Bytes().u64(10).u64(2).u64(0b1101111011).get());
  // legacy header-less bitmap for y: row 0 deleted; 16 bytes = 2 words, not 16 + 8·ceil(…)
  await writeFile(`${dir}/deleted_y.npkb`, new Bytes().u64(0b11110).u64(0).get());
  await mkdir(`${dir}/data_seg_segments`);
  await writeFile(`${dir}/data_seg_segments/seg_000000.npkd`, seg.data.subarray(0, 4 * 8));
  await writeFile(`${dir}/data_seg_segments/seg_000001.npkd`, seg.data.subarray(4 * 8));
  await writeFile(`${dir}/data_seg.npkseg`, JSON.stringify({ version: 1, segments: [
    { file: 'data_seg_segments/seg_000000.npkd', rows: 4, bytes: 32 },
    { file: 'data_seg_segments/seg_000001.npkd', rows: 3, bytes: 24 },
  ] }, null, 2));
  await using npk = await NumPack.open(dir, { readOnly: true });
  assert.deepEqual(npk.getShape('x'), [8, 3]);
  assert.deepEqual(values(await npk.load('x')), values(deleteRows(x, [2, 7])));
  assert.deepEqual(values(await npk.load('y')), values(deleteRows(y, [0])));
  assert.deepEqual(values(await npk.load('seg')), values(seg));
  assert.deepEqual(values(await npk.getRows('seg', [3, 4])), [1006, 1007, 1008, 1009]);
  assert.deepEqual([...(await npk.load('z')).data], [42, 0, 0, 0]);
  assert.equal(npk.getMetadata().arrays.z!.dtype, 'int32');
});

test('corrupt stores are errors, never empty stores', async (t) => {
  const dir = await tempDir(t);
  await writeFile(`${dir}/metadata.npkm`, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]));
  await assert.rejects(NumPack.open(dir), code('BAD_MAGIC'));
  await assert.rejects(NumPack.open(dir, { readOnly: true }), code('BAD_MAGIC'));
  await writeFile(`${dir}/metadata.npkm`, new Bytes().u32(0x424b504e).u32(1).u64(0).u32(2).get());
  await assert.rejects(NumPack.open(dir), code('TRUNCATED'));
  // a store whose data file is shorter than its shape: refused at open (issue 16)
  const meta = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(1);
  entry(meta, 'x', [10, 3], 'data_x.npkd', 10, 4);
  await writeFile(`${dir}/metadata.npkm`, meta.get());
  await writeFile(`${dir}/data_x.npkd`, new Uint8Array(100));
  await assert.rejects(NumPack.open(dir, { readOnly: true }), code('TRUNCATED'));
  // names and data files that would leave the folder
  const evil = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(1);
  entry(evil, 'x', [1], '../outside.npkd', 10, 4);
  await writeFile(`${dir}/metadata.npkm`, evil.get());
  await assert.rejects(NumPack.open(dir, { readOnly: true }), code('INVALID_METADATA'));
  const evilName = new Bytes().u32(0x424b504e).u32(1).u64(0).u32(1);
  entry(evilName, '../x', [1], 'data_x.npkd', 10, 4);
  await writeFile(`${dir}/metadata.npkm`, evilName.get());
  await assert.rejects(NumPack.open(dir, { readOnly: true }), code('INVALID_NAME'));
  // and the file written by tensio after a save is what the decoder reads
  const fresh = `${dir}/fresh.npk`;
  {
    await using npk = await NumPack.open(fresh);
    await npk.save({ a: arange2d(2, 2) });
  }
  assert.deepEqual(npkDecodeMetadata(await readFile(`${fresh}/metadata.npkm`)).arrays.map((a) => a.name), ['a']);
});
