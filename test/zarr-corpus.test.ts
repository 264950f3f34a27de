/**
 * The Zarr corpus (`../shared/corpora/zarr`): every numeric array of zarrita's fixtures,
 * written by zarr-python, read by tensio equal to the reference: Debian's zarr-python
 * 2.13 for v2 (computed at test time), zarrita for v3 (zarr-python 3 does not install
 * here); float16 (which zarrita cannot read) against the documented generator pattern;
 * zip stores equal to their folders; the zarr_implementations image equal in its four
 * codecs.
 */
import { test } from 'node:test';
import { isTensioError } from '../src/core/errors.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as zarrita from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import { zarrOpen } from '../src/formats/zarr/index.js';
import { openTensorFile } from '../src/operations/index.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { debianZarrRead, debianZarrSkip, sha256, zarritaCOrderBytes } from './helpers/zarr-oracle.js';

const V2 = 'corpora/zarr/fixtures/v2/data.zarr';
const V3 = 'corpora/zarr/fixtures/v3/data.zarr';
const IMPL = 'corpora/zarr/zarr_implementations/examples/zarr.zr';

async function digests(input: string, options: Parameters<typeof zarrOpen>[1] = {}): Promise<Map<string, { shape: readonly number[]; dtype: string; sha256: string }>> {
  const reader = await zarrOpen(input, options);
  try {
    const out = new Map<string, { shape: readonly number[]; dtype: string; sha256: string }>();
    for (const info of reader.tensors) out.set(info.name, { shape: info.shape, dtype: info.dtype, sha256: sha256((await reader.read(info.name)).data) });
    return out;
  } finally {
    await reader.close();
  }
}

test('v2 fixtures: every numeric array equals Debian zarr-python 2.13', { skip: sharedSkip(V2) || debianZarrSkip() }, async () => {
  const path = sharedFile(V2)!;
  const expected = debianZarrRead(path);
  const actual = await digests(path);
  assert.ok(Object.keys(expected).length >= 24, `reference found ${Object.keys(expected).length} arrays`);
  assert.deepEqual([...actual.keys()].sort(), Object.keys(expected).sort());
  const failedHere = Object.entries(expected).filter(([, reference]) => reference.error);
  // Debian's numcodecs 0.11 predates zstd's `checksum` option; that array follows the arange pattern of its raw sibling.
  assert.deepEqual(failedHere.map(([name]) => name), ['1d.contiguous.zstd.i2']);
  assert.equal(actual.get('1d.contiguous.zstd.i2')!.sha256, actual.get('1d.contiguous.raw.i2')!.sha256);
  for (const [name, reference] of Object.entries(expected)) {
    if (reference.error) continue;
    const mine = actual.get(name)!;
    assert.deepEqual([...mine.shape], reference.shape, name);
    assert.equal(mine.sha256, reference.sha256, `${name} (${reference.dtype})`);
  }
});

test('v2 fixtures: strings and objects are listed as unsupported, not tensors', { skip: sharedSkip(V2) }, async () => {
  await using reader = await zarrOpen(sharedFile(V2)!);
  const unsupported = (reader.metadata.unsupportedTensors as { name: string; formatDtype?: string }[]).map((entry) => entry.name).sort();
  assert.deepEqual(unsupported, ['1d.contiguous.S7', '1d.contiguous.U13.be', '1d.contiguous.U13.le', '1d.contiguous.U7', '1d.contiguous.json2.O', '2d.chunked.U7', '3d.chunked.O']);
  // Read by name, a string array is an UNSUPPORTED_DTYPE error naming the array and what it holds, not NOT_FOUND.
  await assert.rejects(reader.read('2d.chunked.U7'), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE') && /2d\.chunked\.U7.*fixed-length unicode string/.test((error as Error).message));
  await assert.rejects(reader.read('1d.contiguous.S7'), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE') && /fixed-length bytes/.test((error as Error).message));
});

test('v3 fixtures: string arrays (vlen, compressed, empty, unicode) are listed as unsupported and refused by name with UNSUPPORTED_DTYPE', { skip: sharedSkip(V3) }, async () => {
  await using reader = await zarrOpen(sharedFile(V3)!);
  const strings = (reader.metadata.unsupportedTensors as { name: string; formatDtype?: string; code: string }[]).filter((entry) => entry.formatDtype === 'string');
  assert.deepEqual(strings.map((entry) => entry.name).sort(), ['1d.chunked.string.vlen', '1d.contiguous.string.compressed', '1d.contiguous.string.vlen', '1d.string.empty', '1d.string.unicode', '2d.chunked.string.vlen']);
  for (const entry of strings) {
    assert.equal(entry.code, 'UNSUPPORTED_DTYPE');
    await assert.rejects(reader.read(entry.name), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE') && (error as Error).message.includes(entry.name) && /strings/.test((error as Error).message));
  }
});

test('v2 zip stores (zipped from within and from the parent) equal the folder', { skip: sharedSkip(V2) }, async () => {
  const folder = await digests(sharedFile(V2)!);
  for (const zip of ['data.zipped_from_within.zarr.zip', 'data.zipped_from_parent.zarr.zip']) {
    const zipped = await digests(sharedFile(`corpora/zarr/fixtures/v2/${zip}`)!);
    assert.deepEqual([...zipped.entries()].sort(), [...folder.entries()].sort(), zip);
  }
});

test('v3 fixtures: every numeric array equals zarrita (sharding, transpose, delta, big-endian, ragged, fill)', { skip: sharedSkip(V3) }, async () => {
  const path = sharedFile(V3)!;
  const actual = await digests(path);
  const root = zarrita.root(new FileSystemStore(path));
  let compared = 0;
  for (const [name, mine] of actual) {
    if (name.endsWith('.f2.le')) continue; // zarrita cannot read float16 (next test)
    const array = await zarrita.open.v3(root.resolve(name), { kind: 'array' });
    const chunk = await zarrita.get(array);
    assert.deepEqual([...mine.shape], chunk.shape, name);
    assert.equal(mine.sha256, sha256(zarritaCOrderBytes(chunk as never)), name);
    compared += 1;
  }
  assert.ok(compared >= 35, `compared ${compared} arrays`);
});

test('v3 float16 follows the generator pattern of its float32 sibling ([-1000.5, 0, 1000.5, 0])', { skip: sharedSkip(V3) }, async () => {
  await using reader = await zarrOpen(sharedFile(V3)!);
  const f2 = await reader.read('1d.contiguous.f2.le');
  assert.equal(f2.dtype, 'float16');
  // -1000.5 is exact in float16 (spacing 0.5 between 512 and 1024): sign 1, exponent 24, mantissa 977.
  assert.deepEqual([...new Uint16Array(f2.data.slice().buffer)], [0xe3d1, 0, 0x63d1, 0]);
  const f4 = await reader.read('1d.contiguous.f4.le');
  assert.deepEqual([...new Float32Array(f4.data.slice().buffer)], [-1000.5, 0, 1000.5, 0]);
});

test('v3 zip stores equal the folder; consolidated metadata names nested arrays', { skip: sharedSkip(V3) }, async () => {
  const folder = await digests(sharedFile(V3)!);
  for (const zip of ['data.zipped_from_within.zarr.zip', 'data.zipped_from_parent.zarr.zip', 'data.uncompressed.zarr.zip']) {
    const zipped = await digests(sharedFile(`corpora/zarr/fixtures/v3/${zip}`)!);
    assert.deepEqual([...zipped.entries()].sort(), [...folder.entries()].sort(), zip);
  }
  await using consolidated = await zarrOpen(join(sharedFile(V3)!, 'consolidated'));
  assert.equal(consolidated.metadata.consolidated, true);
  assert.deepEqual(consolidated.tensors.map((t) => t.name), ['1d.chunked.i2', '2d.contiguous.i2', 'nested/1d.i2']);
});

test('zarr_implementations: raw, gzip, zlib and blosc decode to the same image (pixel sum 90,124,324), equal to Debian zarr', { skip: sharedSkip(IMPL) }, async () => {
  const base = sharedFile(IMPL)!;
  const variants = readdirSync(base).filter((name) => !name.startsWith('.')).sort();
  assert.deepEqual(variants, ['blosc', 'gzip', 'raw', 'zlib']);
  const hashes = new Set<string>();
  for (const variant of variants) {
    await using reader = await openTensorFile(join(base, variant));
    assert.equal(reader.format, 'zarr');
    const [info] = reader.tensors;
    assert.deepEqual(info!.shape, [512, 512, 3]);
    const image = await reader.read(info!.name);
    let sum = 0;
    for (const value of image.data) sum += value;
    assert.equal(sum, 90_124_324, variant);
    hashes.add(sha256(image.data));
  }
  assert.equal(hashes.size, 1);
  if (!debianZarrSkip()) {
    const reference = debianZarrRead(join(base, 'blosc'));
    assert.equal(Object.values(reference)[0]!.sha256, [...hashes][0]);
  }
});

test('group and recursive options: NumPack from_zarr sees direct children only', { skip: sharedSkip(V3) }, async () => {
  const path = join(sharedFile(V3)!, 'consolidated');
  await using flat = await zarrOpen(path, { formatOptions: { recursive: false } });
  assert.deepEqual(flat.tensors.map((t) => t.name), ['1d.chunked.i2', '2d.contiguous.i2']);
  await using nested = await zarrOpen(path, { formatOptions: { group: '/nested' } });
  assert.deepEqual(nested.tensors.map((t) => t.name), ['1d.i2']);
  await assert.rejects(zarrOpen(path, { formatOptions: { group: 'missing' } }), { code: 'NOT_FOUND' });
});
