/**
 * CSV `columns: 'separate'`: each column its own named tensor with its own dtype (pandas'
 * `read_csv(dtype={...})`), and separate tensors written as the columns of one CSV that
 * pandas reads back by name; both directions against pandas, and the rules without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { csvCreateWriter, csvOpen } from '../src/formats/csv/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const pandasSkip = oracleSkip('numpy', 'pandas');

test('pandas to_csv → columns: separate with a dtype per column reads each column equal to read_csv(dtype=…)', { skip: pandasSkip }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, numpy as np, pandas as pd
d = sys.argv[1]
rng = np.random.default_rng(3)
df = pd.DataFrame({'id': np.arange(500, dtype=np.int64) * 7 - 900, 'x': rng.standard_normal(500), 'flag': rng.integers(0, 2, 500).astype(bool), 'y': rng.standard_normal(500).astype(np.float32)})
df.to_csv(d + '/t.csv', index=False)
# round_trip: pandas' default float parser is not correctly rounded; tensio's is
back = pd.read_csv(d + '/t.csv', dtype={'id': 'int32', 'x': 'float64', 'flag': 'bool', 'y': 'float32'}, float_precision='round_trip')
for name in back.columns:
    open(d + '/' + name + '.hex', 'w').write(back[name].to_numpy().tobytes().hex())
`, [dir]);
  await using reader = await csvOpen(join(dir, 't.csv'), { columns: 'separate', dtype: { id: 'int32', flag: 'bool', y: 'float32' } });
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['id', 'int32', [500]], ['x', 'float64', [500]], ['flag', 'bool', [500]], ['y', 'float32', [500]]]);
  for (const name of ['id', 'x', 'flag', 'y']) {
    const expected = Uint8Array.from(Buffer.from((await readFile(join(dir, `${name}.hex`), 'utf8')).trim(), 'hex'));
    assert.deepEqual((await reader.read(name)).data.slice(), expected, name);
  }
});

test('separate tensors → one CSV with a header row of their names; pandas read_csv gives back every column bit for bit (float32 shortest text)', { skip: pandasSkip }, async (t) => {
  const dir = await tempDir(t);
  const rows = 40_000; // more than one band of rows
  const a = Float32Array.from({ length: rows }, (_, i) => Math.fround(Math.sin(i) * 10 ** ((i % 13) - 6)));
  const b = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * 123456789012n - 9n);
  const c = Uint8Array.from({ length: rows }, (_, i) => i % 3 === 0 ? 1 : 0);
  for (const name of ['cols.csv', 'cols.csv.gz']) {
    const writer = await csvCreateWriter(join(dir, name), { tensors: [{ name: 'a', dtype: 'float32', shape: [rows] }, { name: 'b', dtype: 'int64', shape: [rows] }, { name: 'c', dtype: 'bool', shape: [rows] }], csv: { columns: 'separate' } });
    await writer.add('a', new Uint8Array(a.buffer));
    await writer.add('b', new Uint8Array(b.buffer));
    await writer.add('c', c);
    await writer.close();
    const { stdout } = runPython(`
import sys, numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1], dtype={'a': 'float32', 'b': 'int64', 'c': 'bool'}, float_precision='round_trip')
print(list(df.columns), len(df))
print(df['a'].to_numpy().tobytes().hex())
print(df['b'].to_numpy().tobytes().hex())
print(df['c'].to_numpy().astype(np.uint8).tobytes().hex())
`, [join(dir, name)]);
    const [head, ha, hb, hc] = stdout.trim().split('\n');
    assert.equal(head, `['a', 'b', 'c'] ${rows}`, name);
    assert.equal(ha, Buffer.from(a.buffer).toString('hex'), `${name}: a`);
    assert.equal(hb, Buffer.from(b.buffer).toString('hex'), `${name}: b`);
    assert.equal(hc, Buffer.from(c).toString('hex'), `${name}: c`);
  }
  // And tensio reads its own file back by name.
  await using reader = await csvOpen(join(dir, 'cols.csv.gz'), { columns: 'separate', dtype: { b: 'int64', c: 'bool', '*': 'float32' } });
  assert.deepEqual(new Float32Array((await reader.read('a')).data.slice().buffer), a);
  assert.deepEqual(new BigInt64Array((await reader.read('b')).data.slice().buffer), b);
});

test('separate columns without the oracle: names (header, col<k>, repeats), usecols, the dtype rules, refusals', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'h.csv'), 'a,b,a\n1,2.5,3\n4,5.5,6\n');
  await writeFile(join(dir, 'n.csv'), '1,2.5,3\n4,5.5,x\n');
  {
    await using reader = await csvOpen(join(dir, 'h.csv'), { columns: 'separate', dtype: { a: 'int16', '2': 'uint8' } });
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype]), [['a', 'int16'], ['b', 'float64'], ['a.1', 'int16']]);
    assert.deepEqual([...new Int16Array((await reader.read('a')).data.slice().buffer)], [1, 4]);
    assert.deepEqual([...new Float64Array((await reader.read('b')).data.slice().buffer)], [2.5, 5.5]);
  }
  {
    await using reader = await csvOpen(join(dir, 'n.csv'), { columns: 'separate', usecols: [1, 0] });
    assert.deepEqual(reader.tensors.map((info) => info.name), ['col1', 'col0']);
    assert.deepEqual([...new Float64Array((await reader.read('col1')).data.slice().buffer)], [2.5, 5.5]);
    // The bad field is in a column not read until asked: reading it names line and column.
  }
  await using bad = await csvOpen(join(dir, 'n.csv'), { columns: 'separate' });
  await assert.rejects(bad.read('col2'), (error) => isTensioError(error) && error.code === 'INVALID_VALUE' && /line 2/.test(error.message));
  await assert.rejects(csvOpen(join(dir, 'h.csv'), { dtype: { a: 'int16' } }), (error) => isTensioError(error) && error.code === 'INVALID_ARGUMENT' && /columns: 'separate'/.test(error.message));
  await assert.rejects(csvOpen(join(dir, 'h.csv'), { columns: 'separate', dtype: { z: 'int16' } }), (error) => isTensioError(error) && error.code === 'NOT_FOUND' && /"z"/.test(error.message));
  await assert.rejects(csvOpen(join(dir, 'h.csv'), { columns: 'separate', dtype: { a: 'complex64' as never } }), (error) => isTensioError(error) && error.code === 'UNSUPPORTED_DTYPE');
  // Writing: 2-D tensors are not columns; unequal rows are refused before any file exists.
  await assert.rejects(async () => {
    const writer = await csvCreateWriter(join(dir, 'w.csv'), { tensors: [{ name: 'm', dtype: 'float32', shape: [2, 3] }, { name: 'v', dtype: 'float32', shape: [2] }], csv: { columns: 'separate' } });
    await writer.add('m', new Uint8Array(24));
    await writer.add('v', new Uint8Array(8));
    await writer.close();
  }, (error) => isTensioError(error) && error.code === 'UNSUPPORTED_FEATURE' && /"m"/.test(error.message));
  await assert.rejects(csvCreateWriter(join(dir, 'u.csv'), { tensors: [{ name: 'p', dtype: 'float32', shape: [2] }, { name: 'q', dtype: 'float32', shape: [3] }], csv: { columns: 'separate' } }), (error) => isTensioError(error) && error.code === 'INVALID_SHAPE');
});
