/**
 * Map-ahead across tensors for `read()` in file order (src/model/next-span-map-ahead.ts,
 * issue 15's `.pt` row): the rule and its bounds on a fake source, and on real files the
 * bytes, a file cut under a mapping made ahead, and mappings released as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor, isMemoryMapped, memoryMapStatus, openTensorFile } from '../src/index.js';
import type { ByteSource, MappedBytes } from '../src/storage/byte-source.js';
import { MAP_AHEAD_MAX_BYTES, NextSpanMapAhead } from '../src/model/next-span-map-ahead.js';
import { nextSpanLookup } from '../src/model/next-span-read-ahead.js';
import { tempDir } from './helpers/temp.js';
import { writeWithFormat } from './helpers/cli.js';
import { patternBytes } from './helpers/patterns.js';
import { runJsonChild } from './helpers/json-child.js';

const CHILD = join(resolve(dirname(fileURLToPath(import.meta.url))), 'helpers', 'map-ahead-child.ts');
const status = memoryMapStatus();
const NO_ADDON = status.enabled ? false : `skipped: ${status.reason}`;

/** A source whose map() records what it mapped and whose mappings say what was asked of them. */
function fakeSource(size: number) {
  const maps: { offset: number; length: number }[] = [];
  let populates = 0;
  let there = true;
  const source = {
    size,
    async read() { throw new Error('not read'); },
    map(offset: number, length: number): MappedBytes {
      maps.push({ offset, length });
      return { bytes: new Uint8Array(length), faulted: () => false, populate: () => { populates++; return Promise.resolve('populate' as const); }, stillThere: () => there };
    },
  } as unknown as ByteSource;
  return { source, maps, populates: () => populates, cut: () => { there = false; } };
}

function mapAheadOver(source: ByteSource, places: { offset: number; byteLength: number }[], mayPopulate = () => true): NextSpanMapAhead {
  return new NextSpanMapAhead(nextSpanLookup(new Map([[source, places]])), mayPopulate);
}

const MiB = 2 ** 20;
const places = [0, 1, 2, 3].map((index) => ({ offset: 64 + index * MiB, byteLength: MiB - 64 }));

test('map-ahead maps the next tensors only once reads go in file order, and hands each to the read of exactly its bytes', () => {
  const { source, maps, populates } = fakeSource(4 * MiB);
  const ahead = mapAheadOver(source, places);
  ahead.afterRead(source, places[0]!.offset, places[0]!.byteLength);
  assert.equal(maps.length, 0, 'a first read maps nothing ahead');
  assert.equal(ahead.take(source, places[1]!.offset, places[1]!.byteLength), undefined);
  ahead.afterRead(source, places[1]!.offset, places[1]!.byteLength);
  assert.deepEqual(maps, [2, 3].map((index) => ({ offset: places[index]!.offset, length: places[index]!.byteLength })));
  assert.equal(populates(), 2, 'their populate jobs are queued at once, in file order');
  for (const index of [2, 3]) {
    const taken = ahead.take(source, places[index]!.offset, places[index]!.byteLength);
    assert.ok(taken, `tensor ${index} handed out`);
    assert.equal(taken.bytes.byteLength, places[index]!.byteLength);
    ahead.afterRead(source, places[index]!.offset, places[index]!.byteLength);
  }
  assert.equal(ahead.take(source, places[3]!.offset, places[3]!.byteLength), undefined, 'handed out once');
  assert.equal(maps.length, 2, 'the last tensor has no next one');
});

test('map-ahead drops what the next read does not ask for, and maps nothing after a jump', () => {
  const { source, maps } = fakeSource(4 * MiB);
  const ahead = mapAheadOver(source, places);
  ahead.afterRead(source, places[0]!.offset, places[0]!.byteLength);
  ahead.afterRead(source, places[1]!.offset, places[1]!.byteLength);
  assert.equal(maps.length, 2);
  // The caller went elsewhere (tensor 3 before 2): everything held is dropped, not handed to a later read.
  assert.equal(ahead.take(source, places[3]!.offset, places[3]!.byteLength), undefined);
  ahead.afterRead(source, places[3]!.offset, places[3]!.byteLength);
  assert.equal(ahead.take(source, places[2]!.offset, places[2]!.byteLength), undefined);
  assert.equal(ahead.take(source, places[3]!.offset, places[3]!.byteLength), undefined);
  // Same offset, other length (a part of the tensor): not handed out.
  ahead.afterRead(source, places[0]!.offset, places[0]!.byteLength);
  ahead.afterRead(source, places[1]!.offset, places[1]!.byteLength);
  assert.equal(ahead.take(source, places[2]!.offset, 100), undefined);
  assert.equal(maps.length, 4, 'only reads in file order map ahead');
});

test('map-ahead is bounded: at most 64 MiB of tensors held, none while the populate worker is behind, none after close', () => {
  const big = fakeSource(200 * MiB);
  const bigPlaces = [{ offset: 0, byteLength: MiB }, { offset: MiB, byteLength: MiB }, { offset: 2 * MiB, byteLength: MAP_AHEAD_MAX_BYTES + 1 }];
  const ahead = mapAheadOver(big.source, bigPlaces);
  ahead.afterRead(big.source, 0, MiB);
  ahead.afterRead(big.source, MiB, MiB);
  assert.equal(big.maps.length, 0, `a next tensor over ${MAP_AHEAD_MAX_BYTES} bytes is not mapped ahead`);

  // Tensors of 24 MiB: two fit the bound ahead, a third does not until one is taken.
  const step = 24 * MiB;
  const many = fakeSource(10 * step);
  const manyPlaces = Array.from({ length: 10 }, (_, index) => ({ offset: index * step, byteLength: step }));
  const bounded = mapAheadOver(many.source, manyPlaces);
  bounded.afterRead(many.source, 0, step);
  bounded.afterRead(many.source, step, step);
  assert.deepEqual(many.maps.map((map) => map.offset / step), [2, 3]);
  assert.ok(bounded.take(many.source, 2 * step, step));
  bounded.afterRead(many.source, 2 * step, step);
  assert.deepEqual(many.maps.map((map) => map.offset / step), [2, 3, 4], 'one more once one was taken');

  const busy = fakeSource(4 * MiB);
  let behind = true;
  const gated = mapAheadOver(busy.source, places, () => !behind);
  gated.afterRead(busy.source, places[0]!.offset, places[0]!.byteLength);
  gated.afterRead(busy.source, places[1]!.offset, places[1]!.byteLength);
  assert.equal(busy.maps.length, 0, 'nothing mapped ahead while the worker has a backlog');
  behind = false;
  gated.afterRead(busy.source, places[2]!.offset, places[2]!.byteLength);
  assert.equal(busy.maps.length, 1, 'the one tensor left');
  gated.close();
  assert.equal(gated.take(busy.source, places[3]!.offset, places[3]!.byteLength), undefined, 'close drops what is held');

  const cut = fakeSource(4 * MiB);
  const held = mapAheadOver(cut.source, places);
  held.afterRead(cut.source, places[0]!.offset, places[0]!.byteLength);
  held.afterRead(cut.source, places[1]!.offset, places[1]!.byteLength);
  cut.cut();
  assert.equal(held.take(cut.source, places[2]!.offset, places[2]!.byteLength), undefined, 'a mapping whose bytes left the file is not handed out');
});

/** Six tensors of 1 MiB and more (mapped: over MAP_MIN_BYTES), mixed dtypes, in a file of `format`. */
async function writeSix(path: string, format: string): Promise<Record<string, Uint8Array>> {
  const tensors: Record<string, ReturnType<typeof createTensor>> = {};
  const bytes: Record<string, Uint8Array> = {};
  for (let index = 0; index < 6; index++) {
    const data = patternBytes(MiB + index * 8192, index + 1);
    bytes[`t${index}`] = data;
    tensors[`t${index}`] = createTensor(index % 2 ? 'float32' : 'uint8', [index % 2 ? data.byteLength / 4 : data.byteLength], index % 2 ? new Float32Array(data.buffer) : data);
  }
  await writeWithFormat(format, path, tensors);
  return bytes;
}

test('read() in file order, mapped ahead, gives the same bytes as copies, for safetensors and .pt', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-map-ahead-');
  for (const [format, extension] of [['safetensors', 'safetensors'], ['pytorch', 'pt']] as const) {
    const path = join(dir, `six.${extension}`);
    const expected = await writeSix(path, format);
    await using reader = await openTensorFile(path);
    // In file order twice over (the second pass starts over: a jump back), and once in reverse.
    const order = [...reader.tensors, ...reader.tensors, ...[...reader.tensors].reverse()].map((info) => info.name);
    for (const name of order) {
      const tensor = await reader.read(name);
      assert.ok(isMemoryMapped(tensor.data), `${format} ${name} mapped`);
      assert.deepEqual(tensor.data, expected[name], `${format} ${name}`);
      assert.deepEqual((await reader.read(name, { copy: true })).data, expected[name]);
    }
  }
});

test('a file cut after the next tensor was mapped ahead: its read fails with SOURCE_CHANGED as before', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-map-ahead-');
  const path = join(dir, 'six.safetensors');
  await writeSix(path, 'safetensors');
  const result = runJsonChild(CHILD, ['truncate-ahead', path]);
  assert.equal(result.error, 'SOURCE_CHANGED');
});

test('mappings made ahead are released as the others: live mappings bounded while churning, back to the start once collected', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t, 'tensio-map-ahead-');
  const path = join(dir, 'six.safetensors');
  await writeSix(path, 'safetensors');
  const result = runJsonChild(CHILD, ['churn', path, '300'], { gc: true });
  assert.equal(result.mapped, 1800);
  assert.ok((result.most as number) < 1000, `most live mappings at once: ${String(result.most)}`);
  assert.equal(result.after, result.before, `live mappings after the churn and a collection: ${JSON.stringify(result)}`);
});
