/**
 * Random row access (`getRows`, `LazyArray.getRows`): rows are gathered in physical
 * order with coalesced reads into a reused window. Checked against rows picked by hand
 * for every path of the ordering (already sorted, fewer than 1,024 rows, radix-sorted
 * above that, repeats), short and long rows, with deleted rows and segments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NumPack } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { deleteRows, patternTensor, takeRows } from './helpers/npk-fixtures.js';

/** A deterministic pseudo-random list of `count` row numbers below `rows` (with repeats). */
function randomRows(count: number, rows: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % rows;
  });
}

test('getRows matches rows picked by hand: sorted, short, radix-sorted and repeated lists; short and long rows; deleted rows; segments', async (t) => {
  const dir = await tempDir(t);
  const short = patternTensor('float32', [20_000, 3], 1); // 12-byte rows: copied byte by byte
  const long = patternTensor('int16', [3_000, 50], 2); // 100-byte rows
  const deleted = [0, 5, 6, 7, 999, 19_999];
  const lists = (rows: number): [string, number[]][] => [
    ['sorted', Array.from({ length: 3000 }, (_, i) => Math.floor((i * rows) / 3000))],
    ['short random', randomRows(500, rows, 3)],
    ['radix-sorted random with repeats', randomRows(5000, rows, 4)],
    ['descending', Array.from({ length: 2000 }, (_, i) => rows - 1 - i)],
  ];
  for (const segmentTargetBytes of [undefined, 4096]) {
    const path = join(dir, `s${segmentTargetBytes ?? ''}.npk`);
    await using npk = await NumPack.open(path, { dropIfExists: true, durable: false, ...(segmentTargetBytes ? { segmentTargetBytes } : {}) });
    await npk.save({ short, long });
    await npk.drop('short', deleted);
    const logicalShort = deleteRows(short, deleted);
    for (const [name, expected] of [['short', logicalShort], ['long', long]] as const) {
      const lazy = await npk.loadLazy(name);
      for (const [label, rows] of lists(expected.shape[0]!)) {
        const want = takeRows(expected, rows);
        const got = await npk.getRows(name, rows);
        assert.deepEqual(got.shape, want.shape, `${name} ${label}`);
        assert.ok(Buffer.from(got.data).equals(Buffer.from(want.data)), `${name} ${label} (segments ${segmentTargetBytes ?? 'none'})`);
        assert.ok(Buffer.from((await lazy.getRows(rows)).data).equals(Buffer.from(want.data)), `${name} ${label}: lazy`);
      }
    }
  }
});
