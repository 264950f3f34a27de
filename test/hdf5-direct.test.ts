/**
 * HDF5 datasets read straight from the file (`src/formats/hdf5/data-location.ts`,
 * `direct-read.ts`): for every dataset of the corpus the direct path takes, the bytes
 * it finds are h5py's (sha256 in EXPECTED.h5py.json); the ones it declines say why and
 * are read by libhdf5 (counted by reason); chunk grids that cut the trailing axes are
 * assembled band by band (row slices too); tensio's own files (contiguous, chunked)
 * are one span; a corrupt chunk index is declined.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { hdf5DescribeFile } from '../src/formats/hdf5/describe.js';
import { hdf5DirectLocation } from '../src/formats/hdf5/direct-read.js';
import { hdf5Library } from '../src/formats/hdf5/library.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import type { TensorLocation } from '../src/model/create-reader.js';
import { fileSource } from '../src/storage/file-source.js';
import { readChunkedBytes } from '../src/storage/chunked-bytes.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const CORPUS = 'corpora/hdf5/EXPECTED.h5py.json';

interface ExpectedFile { datasets: Record<string, { sha256_le?: string }>; error: string | null }

/** Every dataset of `path` with its direct location (or the reason it has none). */
async function directLocations(path: string): Promise<{ name: string; shape: readonly number[]; byteLength: number; where: TensorLocation | { declined: string }; read: () => Promise<Uint8Array> }[]> {
  const library = await hdf5Library();
  const file = library.openFile(path);
  const source = await fileSource(path, { map: false });
  try {
    const description = hdf5DescribeFile(library.module, file, path, {});
    const result = [];
    for (const info of description.tensors) {
      const plan = description.plans[info.name]!;
      const reference = library.module.create_object_reference(file.file_id, plan.path);
      let address = 0;
      for (let i = 7; i >= 0; i--) address = address * 256 + reference[i]!;
      const where = await hdf5DirectLocation(source, plan, address);
      const read = async () => {
        if ('declined' in where) throw new Error(where.declined);
        if (where.kind === 'span') return where.source.read(where.offset, info.byteLength);
        if (where.kind === 'chunks') return readChunkedBytes(where.chunks, 0, info.byteLength);
        return where.decode();
      };
      result.push({ name: info.name, shape: info.shape, byteLength: info.byteLength, where, read: async () => (await read()).slice() });
    }
    // Read before closing the source.
    const done = [];
    for (const entry of result) {
      const bytes = 'declined' in entry.where ? undefined : await entry.read();
      if (bytes && !('declined' in entry.where) && entry.where.kind === 'chunks' && entry.shape.length > 0 && entry.shape[0]! > 2) {
        // A row slice decodes only the bands it touches, and from inside them.
        const rowBytes = bytes.byteLength / entry.shape[0]!;
        const middle = await readChunkedBytes(entry.where.chunks, rowBytes, bytes.byteLength - rowBytes);
        assert.deepEqual(middle, bytes.subarray(rowBytes, bytes.byteLength - rowBytes), `${path}: ${entry.name} rows 1..-1`);
      }
      done.push({ ...entry, read: async () => bytes! });
    }
    return done;
  } finally {
    file.close();
    await source.close();
  }
}

test('the direct path gives h5py\'s bytes for every corpus dataset it takes, and takes most unfiltered ones', { skip: sharedSkip(CORPUS) }, async () => {
  const expected = JSON.parse(readFileSync(sharedFile(CORPUS)!, 'utf8').replace(/: (-?Infinity|NaN)/g, ': null')) as Record<string, ExpectedFile>;
  const root = join(sharedFile(CORPUS)!, '..');
  let direct = 0;
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
      if (!sha) {
        noDigest++; // h5py reads it as something else (a bitfield as opaque bytes)
        continue;
      }
      const bytes = await entry.read();
      assert.equal(bytes.byteLength, entry.byteLength);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, `${name}: ${entry.name} read directly differs from h5py`);
      direct++;
      kinds.set(entry.where.kind, (kinds.get(entry.where.kind) ?? 0) + 1);
    }
  }
  console.log(`hdf5 direct: ${direct} datasets equal to h5py's, ${noDigest} without a digest (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); declined: ${[...declined].map(([k, n]) => `${k}: ${n}`).join('; ')}`);
  assert.ok(direct >= 1500, `${direct} datasets read directly`);
  assert.ok((declined.get('filtered or big-endian') ?? 0) > 0, 'filtered datasets are left to libhdf5');
});

test('tensio\'s own files are read directly (contiguous and chunked as one span), gzip ones are not; every read equals what was written', async (t) => {
  const dir = await tempDir(t);
  const data = new Float32Array(300 * 16).map((_, i) => i * 0.5 - 7);
  const bytes = new Uint8Array(data.buffer);
  const cases: { file: string; options: Record<string, unknown>; kind: string }[] = [
    { file: 'contiguous.h5', options: {}, kind: 'span' },
    { file: 'chunked.h5', options: { chunked: true, chunkRows: 64 }, kind: 'span' },
    { file: 'gzip.h5', options: { compression: 'gzip', chunkRows: 64 }, kind: 'declined' },
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
