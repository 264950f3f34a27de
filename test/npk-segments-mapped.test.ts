/**
 * Segmented NumPack arrays over memory mappings (`NpkArrayData.mapRows`, `gatherMapped`,
 * `mapFileRanges` in the addon):
 * - tensio writes segments that are whole pages, so a load of a segmented array is one
 *   mapping with every segment placed side by side, equal to a copy;
 * - random rows are copied out of one mapping per segment, in the order asked, with
 *   pending (journaled) rows laid over; appends remap the grown files;
 * - the store's later in-place writes (the fold) do not show in a view loaded before;
 * - segments NumPack sized (not whole pages) load by reads, with the same bytes;
 * - the joined mapping refuses misaligned pieces and files shortened before the map,
 *   and a segment shortened under a live view gives zeros and a fault flag, not a crash;
 * - a sparse segmented array over 4 GiB gathers rows past 4 GiB.
 * The addon turned off (`TENSIO_NO_MMAP=1`) gives the same bytes: test/npk-mapped.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NumPack } from '../src/npk/index.js';
import { npkEncodeMetadata } from '../src/npk/metadata.js';
import { npkDecodeManifest, npkRowsPerSegment } from '../src/npk/segments.js';
import { isMemoryMapped, joinedMappable, mapFileRanges, memoryMapAvailable, memoryMapJoinAvailable, memoryMapStatus } from '../src/storage/memory-map.js';
import { tempDir } from './helpers/temp.js';
import { patternTensor, takeRows } from './helpers/npk-fixtures.js';
import type { Tensor } from '../src/core/tensor.js';

const CHILD = fileURLToPath(new URL('./helpers/npk-segments-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NO_ADDON = memoryMapAvailable() ? false : `skipped: ${memoryMapStatus().reason}`;
/** Joined mappings need the addon's mapJoined (an addon built before it reads instead). */
const NO_JOIN = NO_ADDON || (memoryMapJoinAvailable() ? false : 'skipped: the built addon has no mapJoined (built before it existed); run `npm run build:native`');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
/** 64 KiB: 1,536 rows of 40 bytes per segment (NumPack's count, 1,638, rounded down to whole pages). */
const TARGET = 65_536;

/** Rows `rows` of `tensor` replaced by the rows of `by`, in order. */
function withRows(tensor: Tensor, rows: number[], by: Uint8Array): Uint8Array {
  const out = tensor.data.slice();
  const rowBytes = tensor.data.byteLength / tensor.shape[0]!;
  rows.forEach((row, i) => out.set(by.subarray(i * rowBytes, (i + 1) * rowBytes), row * rowBytes));
  return out;
}

/** Row numbers below `rows` in a scrambled order, with repeats. */
function scrambled(count: number, rows: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + (i % 3) * 104_729) % rows);
}

test('segments tensio writes are whole pages: a load is one mapping of all segments, equal to a copy; gathers map each segment once', { skip: NO_JOIN }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 's.npk');
  const tensor = patternTensor('float32', [30_000, 10], 1); // 1.2 MB: 20 segments
  {
    await using npk = await NumPack.open(path, { durable: false, segmentTargetBytes: TARGET });
    await npk.save({ a: tensor });
  }
  const segments = npkDecodeManifest(readFileSync(join(path, 'data_a.npkseg')), 40);
  assert.equal(segments.length, 20);
  assert.ok(segments.slice(0, -1).every((segment) => segment.rows === 1536 && segment.bytes % 4096 === 0), 'every full segment is whole pages');
  await using npk = await NumPack.open(path, { readOnly: true });
  const before = memoryMapStatus().liveMappings!;
  const rows = scrambled(10_000, 30_000);
  const gathered = await npk.getRows('a', rows);
  assert.ok(same(gathered.data, takeRows(tensor, rows).data), 'rows in the order asked');
  assert.ok(memoryMapStatus().liveMappings! >= before + segments.length, 'one mapping per segment, kept by the open array');
  assert.ok(same((await npk.getRows('a', [29_999, 0, 1535, 1536])).data, takeRows(tensor, [29_999, 0, 1535, 1536]).data), 'segment boundaries');
  const loaded = await npk.load('a');
  assert.ok(isMemoryMapped(loaded.data), 'a segmented load is a mapping');
  assert.ok(same(loaded.data, tensor.data));
  const copy = await npk.load('a', { copy: true });
  assert.ok(!isMemoryMapped(copy.data) && same(copy.data, tensor.data));
  const lazy = await npk.loadLazy('a');
  const slice = await lazy.slice(1000, 25_001); // starts mid-page, crosses 15 segment boundaries
  assert.ok(isMemoryMapped(slice.data) && same(slice.data, tensor.data.subarray(1000 * 40, 25_001 * 40)));
  const inOne = await lazy.slice(1536 * 3 + 7, 1536 * 4); // inside one segment, under MAP_MIN_BYTES: read
  assert.ok(same(inOne.data, tensor.data.subarray((1536 * 3 + 7) * 40, 1536 * 4 * 40)));
  assert.ok(same((await lazy.getRows(rows)).data, gathered.data));
});

test('segmented: pending rows laid over loads and gathers; a view loaded before keeps its rows through the fold; writes into it stay private', { skip: NO_JOIN }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'p.npk');
  const tensor = patternTensor('int32', [20_000, 10], 2);
  {
    await using npk = await NumPack.open(path, { durable: false, segmentTargetBytes: TARGET });
    await npk.save({ a: tensor });
  }
  const fresh = patternTensor('int32', [4, 10], 3);
  const changed = [0, 1536 * 7 + 5, 1535, 19_999]; // segments 0, 7 and the last; a segment's last row
  const updated = withRows(tensor, changed, fresh.data);
  const npk = await NumPack.open(path, { segmentTargetBytes: TARGET });
  const first = await npk.load('a');
  assert.ok(isMemoryMapped(first.data));
  await npk.replace({ a: fresh }, changed);
  assert.ok(same(first.data, tensor.data), 'the earlier load is unchanged by the replace');
  const second = await npk.load('a');
  assert.ok(isMemoryMapped(second.data) && same(second.data, updated), 'a load shows the pending rows');
  const rows = [...changed, ...scrambled(3000, 20_000)];
  assert.ok(same((await npk.getRows('a', rows)).data, takeRows({ ...tensor, data: updated }, rows).data), 'a gather shows the pending rows');
  await npk.close(); // the fold writes the rows into the segment files under both views
  assert.ok(same(first.data, tensor.data), 'the first load keeps the rows it was loaded with');
  assert.ok(same(second.data, updated));
  second.data[0] = second.data[0]! ^ 0xff; // copy-on-write: the file does not change
  const segment0 = readFileSync(join(path, 'data_a_segments', 'seg_000000.npkd'));
  assert.equal(segment0[0], updated[0]);
  await using reopened = await NumPack.open(path, { readOnly: true });
  assert.ok(same((await reopened.load('a')).data, updated));
});

test('segmented: appends fill the last segment, then add whole-page segments; loads and gathers see the new rows', { skip: NO_JOIN }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.npk');
  const tensor = patternTensor('float32', [4_000, 10], 4); // 2 full segments and 928 rows
  const extra = patternTensor('float32', [2_500, 10], 5);
  await using npk = await NumPack.open(path, { durable: false, segmentTargetBytes: TARGET });
  await npk.save({ a: tensor });
  const rows = scrambled(2000, 4_000);
  assert.ok(same((await npk.getRows('a', rows)).data, takeRows(tensor, rows).data)); // maps the 3 segments
  await npk.append({ a: extra });
  const all = new Uint8Array([...tensor.data, ...extra.data]);
  const whole: Tensor = { dtype: 'float32', shape: [6_500, 10], data: all };
  const segments = npkDecodeManifest(readFileSync(join(path, 'data_a.npkseg')), 40);
  assert.deepEqual(segments.map((segment) => segment.rows), [1536, 1536, 1536, 1536, 356]);
  const after = scrambled(5000, 6_500);
  assert.ok(same((await npk.getRows('a', after)).data, takeRows(whole, after).data), 'the grown segment is mapped again');
  const loaded = await npk.load('a');
  assert.ok(isMemoryMapped(loaded.data) && same(loaded.data, all));
});

test('segments NumPack sized (not whole pages) after two of tensio\'s: loads read, gathers map each segment; the same bytes', async (t) => {
  const dir = await tempDir(t);
  const tensor = patternTensor('float32', [20_000, 3], 6); // 12-byte rows: NumPack's 5,461 rows make 65,532-byte segments
  const perSegment = npkRowsPerSegment(TARGET, 12);
  assert.equal(perSegment, 5461);
  // What NumPack's append leaves after tensio's segments: sizes differ, so a row's segment is found by search.
  const sizes = [5120, 5120, perSegment, perSegment];
  await mkdir(join(dir, 'data_a_segments'));
  const segments = [];
  for (let index = 0, row = 0; row < 20_000; row += sizes[index]!, index++) {
    const rows = Math.min(sizes[index]!, 20_000 - row);
    const file = `data_a_segments/seg_${String(index).padStart(6, '0')}.npkd`;
    await writeFile(join(dir, file), tensor.data.subarray(row * 12, (row + rows) * 12));
    segments.push({ file, rows, bytes: rows * 12 });
  }
  await writeFile(join(dir, 'data_a.npkseg'), JSON.stringify({ version: 1, segments }, null, 2));
  await writeFile(join(dir, 'metadata.npkm'), npkEncodeMetadata([{ name: 'a', shape: [20_000, 3], dataFile: 'data_a.npkseg', lastModified: 0, sizeBytes: tensor.data.byteLength, dtype: 'float32' }]));
  await using npk = await NumPack.open(dir, { readOnly: true });
  const loaded = await npk.load('a');
  assert.equal(isMemoryMapped(loaded.data), false, 'segment boundaries off the page grid cannot be mapped side by side');
  assert.ok(same(loaded.data, tensor.data));
  const rows = scrambled(6000, 20_000);
  assert.ok(same((await npk.getRows('a', rows)).data, takeRows(tensor, rows).data));
  const slice = await (await npk.loadLazy('a')).slice(5000, 12_000);
  assert.ok(same(slice.data, tensor.data.subarray(5000 * 12, 12_000 * 12)));
});

test('mapFileRanges: pieces end to end as one view; misaligned boundaries refused; a file shorter than its piece is SOURCE_CHANGED', { skip: NO_JOIN }, async (t) => {
  assert.equal(joinedMappable([{ fd: 3, offset: 100, length: 3996 }, { fd: 4, offset: 0, length: 10 }], 4096), true);
  assert.equal(joinedMappable([{ fd: 3, offset: 0, length: 4095 }, { fd: 4, offset: 0, length: 10 }], 4096), false, 'the first piece ends mid-page');
  assert.equal(joinedMappable([{ fd: 3, offset: 0, length: 4096 }, { fd: 4, offset: 12, length: 10 }], 4096), false, 'a later piece starts mid-page in its file');
  assert.equal(joinedMappable([{ fd: 3, offset: 0, length: 0 }], 4096), false, 'an empty piece');
  const dir = await tempDir(t);
  const bytes = patternTensor('uint8', [2 * 8192 + 100], 7).data;
  const paths = [0, 1, 2].map((index) => join(dir, `p${index}`));
  writeFileSync(paths[0]!, bytes.subarray(0, 8192));
  writeFileSync(paths[1]!, bytes.subarray(8192, 16_384));
  writeFileSync(paths[2]!, bytes.subarray(16_384));
  const fds = paths.map((path) => openSync(path, 'r'));
  t.after(() => fds.forEach((fd) => closeSync(fd)));
  // The first piece starts mid-page (kept in its page) and ends on its file's page 2.
  const joined = mapFileRanges([{ fd: fds[0]!, offset: 300, length: 8192 - 300 }, { fd: fds[1]!, offset: 0, length: 8192 }, { fd: fds[2]!, offset: 0, length: 100 }], 'pieces');
  assert.ok(joined && isMemoryMapped(joined));
  assert.ok(same(joined!, bytes.subarray(300)));
  assert.equal(mapFileRanges([{ fd: fds[1]!, offset: 0, length: 4000 }, { fd: fds[2]!, offset: 0, length: 10 }], 'misaligned'), undefined);
  assert.throws(() => mapFileRanges([{ fd: fds[1]!, offset: 0, length: 8192 }, { fd: fds[2]!, offset: 0, length: 200 }], 'short'), (error: { code?: string }) => error.code === 'SOURCE_CHANGED');
});

test('a segment shortened under a live segmented view: zeros from the cut on and a fault flag, not a crash', { skip: NO_JOIN }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 't.npk');
  const tensor = patternTensor('float32', [6_000, 10], 8);
  {
    await using npk = await NumPack.open(path, { durable: false, segmentTargetBytes: TARGET });
    await npk.save({ a: tensor });
  }
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, path], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(result.mapped, true);
  assert.equal(result.faulted, true);
  assert.equal(result.firstSegmentIntact, true, 'the segment before the cut keeps its bytes');
  assert.equal(result.zerosAfterCut, true, 'every byte from the page past the cut to the end reads as zero');
});

test('a sparse segmented array over 4 GiB: rows past 4 GiB gathered out of per-segment mappings, a slice across segments mapped', { skip: NO_JOIN }, async (t) => {
  const dir = await tempDir(t);
  const rowBytes = 4096;
  const perSegment = 65_536; // 256 MiB segments
  const count = 18; // 4.5 GiB
  const rows = perSegment * count;
  await mkdir(join(dir, 'data_a_segments'));
  const marks = [5, perSegment * 16 + 3, perSegment * 17 - 1, perSegment * 17, rows - 1]; // the last three past 4 GiB
  const segments = [];
  for (let index = 0; index < count; index++) {
    const file = `data_a_segments/seg_${String(index).padStart(6, '0')}.npkd`;
    const fd = openSync(join(dir, file), 'w');
    try {
      ftruncateSync(fd, perSegment * rowBytes);
      for (const mark of marks) {
        if (Math.floor(mark / perSegment) === index) writeSync(fd, Uint8Array.of(mark % 251 + 1), 0, 1, (mark % perSegment) * rowBytes + 7);
      }
    } finally {
      closeSync(fd);
    }
    segments.push({ file, rows: perSegment, bytes: perSegment * rowBytes });
  }
  assert.equal(statSync(join(dir, segments[17]!.file)).size, 2 ** 28);
  await writeFile(join(dir, 'data_a.npkseg'), JSON.stringify({ version: 1, segments }));
  await writeFile(join(dir, 'metadata.npkm'), npkEncodeMetadata([{ name: 'a', shape: [rows, rowBytes], dataFile: 'data_a.npkseg', lastModified: 0, sizeBytes: rows * rowBytes, dtype: 'uint8' }]));
  await using npk = await NumPack.open(dir, { readOnly: true });
  const asked = [...marks].reverse();
  const got = await npk.getRows('a', asked);
  asked.forEach((mark, i) => {
    assert.equal(got.data[i * rowBytes + 7], mark % 251 + 1, `row ${mark}`);
    assert.equal(got.data[i * rowBytes + 8], 0);
  });
  const slice = await (await npk.loadLazy('a')).slice(perSegment * 17 - 2, perSegment * 17 + 30); // across the last boundary
  assert.ok(isMemoryMapped(slice.data));
  assert.equal(slice.data[rowBytes + 7], (perSegment * 17 - 1) % 251 + 1);
  assert.equal(slice.data[2 * rowBytes + 7], (perSegment * 17) % 251 + 1);
});
