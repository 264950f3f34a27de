/**
 * Child process for test/npk-mapped.test.ts: builds a store in the folder given, runs
 * every read of the NumPack API on it (load, getRows, lazy slices, with deleted rows,
 * segments and rows pending in the journal) and prints one JSON line: the sha256 of each
 * result and whether loads were mapped. Run with and without `TENSIO_NO_MMAP=1`: the
 * hashes must match.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { NumPack } from '../../src/npk/index.js';
import { isMemoryMapped, memoryMapAvailable, memoryMapJoinAvailable } from '../../src/storage/memory-map.js';
import { patternTensor } from './npk-fixtures.js';

const dir = process.argv[2]!;
const hash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const out: Record<string, string | boolean> = { mmap: memoryMapAvailable(), join: memoryMapJoinAvailable() };
const rows = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 20_000);
for (const segmentTargetBytes of [undefined, 65_536]) {
  const path = join(dir, `s${segmentTargetBytes ?? 'plain'}.npk`);
  const npk = await NumPack.open(path, { dropIfExists: true, durable: false, ...(segmentTargetBytes ? { segmentTargetBytes } : {}) });
  await npk.save({ a: patternTensor('float32', [20_000, 3], 1), b: patternTensor('int16', [4_000, 50], 2), d: patternTensor('uint8', [30_000, 5], 3) });
  await npk.drop('d', [0, 7, 29_999]);
  await npk.replace({ a: patternTensor('float32', [3, 3], 4) }, [1, 2, -1]);
  await npk.replace({ b: patternTensor('int16', [2, 50], 5) }, [0, 3_999]);
  const tag = segmentTargetBytes ? 'segmented' : 'plain';
  for (const name of ['a', 'b', 'd']) {
    const loaded = await npk.load(name);
    out[`${tag} ${name} load`] = hash(loaded.data);
    out[`${tag} ${name} load mapped`] = isMemoryMapped(loaded.data);
    const count = npk.getShape(name)[0]!;
    out[`${tag} ${name} getRows`] = hash((await npk.getRows(name, rows.map((row) => row % count))).data);
    out[`${tag} ${name} slice`] = hash((await (await npk.loadLazy(name)).slice(100, count - 100)).data);
  }
  await npk.close();
  const reopened = await NumPack.open(path, { readOnly: true });
  out[`${tag} after close`] = hash((await reopened.load('a')).data) + hash((await reopened.load('b')).data);
  await reopened.close();
}
console.log(JSON.stringify(out));
