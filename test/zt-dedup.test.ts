/**
 * Canonical dedup without holding tensors: a tensor the length of earlier blobs is
 * compared with them chunk by chunk as it streams in (read back from the temporary
 * file). Identical tensors share one blob whatever their chunking; tensors that differ
 * only late (last byte, a later chunk, after several candidates fell away) are stored
 * whole and read back exactly; the file is the same bytes as one written in one piece.
 * And raw parts of a local file come back as views over a memory mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ztCreateWriter, ztOpen } from '../src/formats/zt/index.js';
import { isMemoryMapped, memoryMapStatus } from '../src/storage/memory-map.js';
import { tempDir } from './helpers/temp.js';

const SIZE = 3 * 2 ** 20 + 12_345;

function pattern(seed: number): Uint8Array {
  const out = new Uint8Array(SIZE);
  let x = seed >>> 0;
  for (let i = 0; i < SIZE; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

test('dedup streams: repeats share a blob, late differences are stored whole, bytes independent of chunking', async (t) => {
  const dir = await tempDir(t);
  const base = pattern(1);
  const lastByte = base.slice(); lastByte[SIZE - 1]! ^= 1;
  const lateChunk = base.slice(); lateChunk[2 * 2 ** 20 + 7]! ^= 0x80;
  const firstByte = base.slice(); firstByte[0]! ^= 1;
  // Bytewise name order is the write order: a (base), b (differs at the end), c (repeat of a),
  // d (a late chunk differs: a and b match its start), e (repeat of d), f (differs at once).
  const tensors: Array<[string, Uint8Array]> = [['a', base], ['b', lastByte], ['c', base], ['d', lateChunk], ['e', lateChunk], ['f', firstByte]];
  const write = async (path: string, chunkBytes: number): Promise<Uint8Array> => {
    const writer = await ztCreateWriter(path, { tensors: tensors.map(([name]) => ({ name, dtype: 'uint8', shape: [SIZE] })) });
    for (const [name, bytes] of tensors) await writer.add(name, chunked(bytes, chunkBytes));
    await writer.close();
    return new Uint8Array(readFileSync(path));
  };
  const whole = await write(join(dir, 'whole.zt'), SIZE);
  const small = await write(join(dir, 'small.zt'), 65_537);
  const tiny = await write(join(dir, 'tiny.zt'), 4093);
  assert.deepEqual(small, whole, 'the same bytes whatever the chunking');
  assert.deepEqual(tiny, whole, 'the same bytes whatever the chunking');
  await using reader = await ztOpen(join(dir, 'small.zt'));
  const offsets = new Map(tensors.map(([name]) => [name, (reader.info(name).extras!.parts as Record<string, { offset: number }>).data!.offset]));
  assert.equal(offsets.get('c'), offsets.get('a'), 'c repeats a');
  assert.equal(offsets.get('e'), offsets.get('d'), 'e repeats d');
  assert.equal(new Set(offsets.values()).size, 4, 'a, b, d and f each stored once');
  for (const [name, bytes] of tensors) assert.ok(Buffer.from((await reader.read(name)).data).equals(bytes), `${name} reads back exactly`);
  assert.ok(await reader.verifyPart('d', 'data'));
  // Four blobs of SIZE at 64 KiB placement: nothing else stored.
  const blob = Math.ceil(SIZE / 65_536) * 65_536;
  assert.ok(whole.length < 65_536 + 4 * blob + 65_536 + 4096, `file of ${whole.length} bytes holds 4 blobs`);
});

const mapStatus = memoryMapStatus();
test('raw parts of a local .zt are memory-mapped views: read(), view() and stream()', { skip: mapStatus.enabled ? false : `skipped: ${mapStatus.reason}` }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'mapped.zt');
  const writer = await ztCreateWriter(path, { tensors: [{ name: 'w', dtype: 'float32', shape: [SIZE / 4 | 0] }] });
  const bytes = pattern(5).subarray(0, (SIZE / 4 | 0) * 4);
  await writer.add('w', bytes);
  await writer.close();
  await using reader = await ztOpen(path);
  const read = await reader.read('w');
  const view = await reader.view('w', 'data');
  assert.ok(isMemoryMapped(read.data), 'read() maps');
  assert.ok(isMemoryMapped(view), 'view() maps');
  assert.ok(Buffer.from(view).equals(bytes) && Buffer.from(read.data).equals(bytes));
  for await (const chunk of reader.stream('w')) assert.ok(isMemoryMapped(chunk), 'stream() chunks are windows of a mapping');
});
