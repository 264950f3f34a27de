/**
 * HDF5 datasets read straight from the file (`src/formats/hdf5/data-location.ts`,
 * `direct-read.ts`): for every dataset of the corpus the direct path takes, the bytes
 * it finds are h5py's (sha256 in EXPECTED.h5py.json); the ones it declines say why and
 * are read by libhdf5 (counted by reason); chunk grids that cut the trailing axes are
 * assembled band by band (row slices and streams too); datasets filtered with deflate,
 * shuffle and Fletcher-32, and grids with chunks never written, are decoded by tensio
 * (counted apart); tensio's own files (contiguous, chunked) are one span, its gzip files
 * decoded bands; a corrupt chunk index is declined.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { directLocations } from './helpers/hdf5-direct.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const CORPUS = 'corpora/hdf5/EXPECTED.h5py.json';
/**
 * Corpus datasets with deflate/shuffle/Fletcher-32 the direct path reads: 70 of the 113
 * with only these filters (the others have an index or byte order it declines).
 */
const FILTERED_TAKEN = 70;

interface ExpectedFile { datasets: Record<string, { sha256_le?: string; filters?: string[] }>; error: string | null }

test('the direct path gives h5py\'s bytes for every corpus dataset it takes, and takes most unfiltered ones', { skip: sharedSkip(CORPUS) }, async () => {
  const expected = JSON.parse(readFileSync(sharedFile(CORPUS)!, 'utf8').replace(/: (-?Infinity|NaN)/g, ': null')) as Record<string, ExpectedFile>;
  const root = join(sharedFile(CORPUS)!, '..');
  let direct = 0;
  let filtered = 0;
  let noDigest = 0;
  const declined = new Map<string, number>();
  const kinds = new Map<string, number>();
  for (const [name, file] of Object.entries(expected)) {
    if (file.error) continue;
    let entries;
    try {
      entries = await directLocations(join(root, name));
    } catch {
      continue; // files libhdf5 refuses are the corpus test's business
    }
    for (const entry of entries) {
      if ('declined' in entry.where) {
        const reason = entry.where.declined.replace(/\d+/g, 'N');
        declined.set(reason, (declined.get(reason) ?? 0) + 1);
        continue;
      }
      const sha = file.datasets[entry.name]?.sha256_le;
      const filters = file.datasets[entry.name]?.filters ?? [];
      if (!sha) {
        noDigest++; // h5py reads it as something else (a bitfield as opaque bytes)
        continue;
      }
      const bytes = await entry.read();
      assert.equal(bytes.byteLength, entry.byteLength);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, `${name}: ${entry.name} read directly differs from h5py`);
      direct++;
      if (filters.length > 0) filtered++;
      kinds.set(entry.where.kind, (kinds.get(entry.where.kind) ?? 0) + 1);
    }
  }
  console.log(`hdf5 direct: ${direct} datasets equal to h5py's (${filtered} of them filtered: gzip, shuffle, Fletcher-32), ${noDigest} without a digest (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); declined: ${[...declined].map(([k, n]) => `${k}: ${n}`).join('; ')}`);
  assert.ok(direct >= 1500, `${direct} datasets read directly`);
  assert.ok(filtered >= FILTERED_TAKEN, `${filtered} filtered datasets read directly`);
  // Reasons are counted with their digits as N ('libhdf5' too).
  assert.ok((declined.get('big-endian or a filter libhdfN decodes') ?? 0) > 0, 'other filters and big-endian data are left to libhdf5');
});

test('tensio\'s own files are read directly (contiguous and chunked as one span, gzip as decoded bands); every read equals what was written', async (t) => {
  const dir = await tempDir(t);
  const data = new Float32Array(300 * 16).map((_, i) => i * 0.5 - 7);
  const bytes = new Uint8Array(data.buffer);
  const cases: { file: string; options: Record<string, unknown>; kind: string }[] = [
    { file: 'contiguous.h5', options: {}, kind: 'span' },
    { file: 'chunked.h5', options: { chunked: true, chunkRows: 64 }, kind: 'span' },
    { file: 'gzip.h5', options: { compression: 'gzip', chunkRows: 64 }, kind: 'chunks' },
    { file: 'shuffle-gzip-fletcher.h5', options: { compression: 'gzip', shuffle: true, fletcher32: true, chunkRows: 64 }, kind: 'chunks' },
  ];
  for (const { file, options, kind } of cases) {
    const path = join(dir, file);
    const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'g/x', dtype: 'float32', shape: [300, 16] }], ...options });
    await writer.add('g/x', bytes);
    await writer.close();
    const [entry] = await directLocations(path);
    assert.equal('declined' in entry!.where ? 'declined' : entry!.where.kind, kind, file);
    await using reader = await hdf5Open(path);
    assert.deepEqual((await reader.read('g/x')).data, bytes, file);
    assert.deepEqual((await reader.read('g/x', { slice: { start: 100, end: 170 } })).data, bytes.subarray(100 * 64, 170 * 64), `${file} row slice`);
    const block = (await reader.read('g/x', { slice: [[5, 250], [3, 9]] })).data;
    assert.deepEqual(block.subarray(0, 24), bytes.subarray((5 * 16 + 3) * 4, (5 * 16 + 9) * 4), `${file} block slice`);
    assert.equal(block.byteLength, 245 * 6 * 4);
  }
});

test('a corrupt fixed-array chunk index is declined (never trusted), and the read fails through libhdf5 with a TensioError', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'chunked.h5');
  const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'x', dtype: 'int32', shape: [1000, 4] }], chunked: true, chunkRows: 100 });
  await writer.add('x', new Uint8Array(16000).fill(7));
  await writer.close();
  const bytes = new Uint8Array(readFileSync(path));
  const at = Buffer.from(bytes).indexOf('FADB');
  assert.ok(at > 0);
  bytes[at + 4 + 2 + 8] ^= 0x40; // the first chunk's address
  writeFileSync(path, bytes);
  const [entry] = await directLocations(path);
  assert.ok('declined' in entry!.where && /checksum/.test(entry!.where.declined), JSON.stringify(entry!.where));
  await using reader = await hdf5Open(path);
  await assert.rejects(reader.read('x'), (error) => isTensioError(error));
});
