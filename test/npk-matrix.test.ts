/**
 * NumPack's own test matrix (test_numpack.py, conftest.py): 14 dtypes × 5 shapes for
 * save / load / getShape / drop / append / replace / getRows / metadata, with values
 * checked against a byte-level np.delete / concatenate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumPack } from '../src/npk/index.js';
import type { Tensor } from '../src/core/tensor.js';
import { tempDir } from './helpers/temp.js';
import { NPK_MATRIX_DTYPES, NPK_MATRIX_SHAPES, concatRows, deleteRows, fromRows, patternTensor, rowsOf, takeRows } from './helpers/npk-fixtures.js';

function assertSame(actual: Tensor, expected: Tensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), `${what}: bytes differ`);
}

for (const dtype of NPK_MATRIX_DTYPES) {
  test(`npk matrix ${dtype}: save, load, getShape, getRows, append, replace, drop over 5 shapes`, async (t) => {
    const dir = await tempDir(t);
    const path = `${dir}/m.npk`;
    const originals = NPK_MATRIX_SHAPES.map((shape, i) => patternTensor(dtype, shape, i + 1));
    const names = originals.map((_, i) => `a${i}`);
    {
      await using npk = await NumPack.open(path, { durable: false });
      await npk.save(Object.fromEntries(names.map((name, i) => [name, originals[i]!])));
      for (const [i, name] of names.entries()) {
        assertSame(await npk.load(name), originals[i]!, `${name} load`);
        assert.deepEqual(npk.getShape(name), originals[i]!.shape);
        assert.deepEqual(npk.getMetadata().arrays[name]!.shape, originals[i]!.shape);
        assert.ok(npk.getModifyTime(name)! > 0);
        assertSame(await npk.getRows(name, [1, 2, 3]), takeRows(originals[i]!, [1, 2, 3]), `${name} getRows`);
      }
      assert.deepEqual(npk.getMemberList().sort(), [...names].sort());
    }
    // Reopen between steps, as NumPack's tests do.
    await using npk = await NumPack.open(path, { durable: false });
    const expected = new Map<string, Tensor>();
    for (const [i, name] of names.entries()) {
      const original = originals[i]!;
      const extra = patternTensor(dtype, original.shape, 100 + i);
      await npk.append({ [name]: extra });
      let want = concatRows(original, extra);
      assertSame(await npk.load(name), want, `${name} after append`);
      const rows = rowsOf(want);
      const replacement = fromRows(original, [rows[rows.length - 1]!]);
      await npk.replace({ [name]: replacement }, 1);
      want = fromRows(want, rows.map((row, r) => (r === 1 ? rows[rows.length - 1]! : row)));
      assertSame(await npk.load(name), want, `${name} after replace`);
      await npk.drop(name, [0, -1, 4]);
      want = deleteRows(want, [0, -1, 4]);
      assert.deepEqual(npk.getShape(name), want.shape);
      assert.deepEqual(npk.getMetadata().arrays[name]!.shape[0], original.shape[0]! * 2, 'physical rows kept');
      expected.set(name, want);
    }
    await npk.close();
    await using again = await NumPack.open(path, { readOnly: true });
    for (const name of names) assertSame(await again.load(name), expected.get(name)!, `${name} after reopen`);
  });
}

test('npk matrix: drop(name) keeps the array listed with 0 rows and its dtype', async (t) => {
  const dir = await tempDir(t);
  await using npk = await NumPack.open(`${dir}/d.npk`, { durable: false });
  for (const dtype of NPK_MATRIX_DTYPES) {
    const a1 = patternTensor(dtype, [10, 3], 1);
    const a2 = patternTensor(dtype, [10, 3], 2);
    await npk.save({ array1: a1, array2: a2 });
    await npk.drop('array1');
    const loaded = await npk.load('array1');
    assert.deepEqual(loaded.shape, [0, 3]);
    assert.equal(loaded.dtype, dtype);
    assertSame(await npk.load('array2'), a2, 'array2 intact');
    await npk.save({ array1: a1 });
    await npk.drop(['array1', 'array2']);
    assert.deepEqual(npk.getMemberList().sort(), ['array1', 'array2']);
    assert.deepEqual(npk.getShape('array2'), [0, 3]);
  }
});
