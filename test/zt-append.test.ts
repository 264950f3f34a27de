/**
 * Appending a generation to a `.zt`: the previous file's bytes stay first, byte for byte
 * (its manifest becomes an unreferenced blob), the new footer at EOF names old and new
 * objects, and the publish is atomic: an aborted or refused append leaves the previous
 * generation exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { ztCreateWriter, ztOpen, ztVerify } from '../src/formats/zt/index.js';
import { tempDir } from './helpers/temp.js';

async function write(path: string, tensors: Record<string, Uint8Array>, options: Record<string, unknown> = {}): Promise<void> {
  const writer = await ztCreateWriter(path, { tensors: Object.entries(tensors).map(([name, data]) => ({ name, dtype: 'uint8' as const, shape: [data.length] })), ...options });
  for (const name of writer.order) await writer.add(name, tensors[name]!);
  await writer.close();
}

test('append: a new generation after the old one; both generations readable from their footers; atomic', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.zt');
  await write(path, { a: new Uint8Array(100).fill(1), b: new Uint8Array(10).fill(2) }, { metadata: { step: 1 } });
  const first = readFileSync(path);
  await write(path, { c: new Uint8Array(50).fill(3) }, { append: true, metadata: { step: 2 } });
  const second = readFileSync(path);
  assert.deepEqual(second.subarray(0, first.length), first, 'the previous generation is kept byte for byte');
  await using reader = await ztOpen(path);
  assert.deepEqual(reader.tensors.map((info) => info.name), ['a', 'b', 'c']);
  assert.deepEqual([...(await reader.read('c')).data], new Array(50).fill(3));
  assert.deepEqual([...(await reader.read('a')).data], new Array(100).fill(1));
  assert.equal(reader.metadata.step, 2);
  assert.equal(Number(reader.manifest!.objects.get('c')!.parts.get('data')!.blob.offset) % 65536, 0, 'the alignment is inherited');
  assert.equal((await ztVerify(path)).ok, true);
  // The old generation is still a valid file on its own (its footer, cut at its end).
  await using old = await ztOpen(new Uint8Array(first));
  assert.deepEqual(old.tensors.map((info) => info.name), ['a', 'b']);

  // A name already in the file: refused before anything changes.
  await assert.rejects(write(path, { a: new Uint8Array(3) }, { append: true }), (error: TensioError) => error.code === 'DUPLICATE_NAME');
  assert.deepEqual(readFileSync(path), second);
  // An append that fails half-way (too few bytes) leaves the previous generation.
  const writer = await ztCreateWriter(path, { tensors: [{ name: 'd', dtype: 'uint8', shape: [64] }], append: true });
  await assert.rejects(writer.add('d', new Uint8Array(10)), (error: TensioError) => error.code === 'SIZE_MISMATCH');
  await writer.abort();
  assert.deepEqual(readFileSync(path), second);
  // Canonical and append contradict each other.
  await assert.rejects(ztCreateWriter(path, { tensors: [], append: true, canonical: true }), (error: TensioError) => error.code === 'INVALID_ARGUMENT');
});
