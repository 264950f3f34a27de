/**
 * `tensio convert` table flags: CSV options (delimiter, header row, skip rows, comments,
 * a dtype per column, columns mode, fmt) and Parquet/Arrow compression and row groups,
 * each applied to the side whose format takes it; values checked against NumPy/pyarrow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openTensorFile } from '../src/operations/index.js';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const CSV = '# measurements\nid;x;y\n1;0.5;-2\n2;1.25;3e-3\n# a comment line\n3;-7.0;1e300\n';

test('convert CSV → Parquet: --columns separate, --column-dtype per column, --delimiter, --compression zstd, --row-group-size', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 't.csv'), CSV);
  const run = await runCli(['convert', 't.csv', 't.parquet', '--columns', 'separate', '--column-dtype', 'id=int64,*=float32', '--delimiter', ';', '--compression', 'zstd', '--row-group-size', '2'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  await using reader = await openTensorFile(join(dir, 't.parquet'), { formatOptions: { columns: 'separate' } });
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['id', 'int64', [3]], ['x', 'float32', [3]], ['y', 'float32', [3]]]);
  assert.deepEqual([...new BigInt64Array((await reader.read('id')).data.slice().buffer)], [1n, 2n, 3n]);
  assert.deepEqual([...new Float32Array((await reader.read('y')).data.slice().buffer)], [-2, Math.fround(3e-3), Infinity]);
  assert.equal(reader.metadata['parquet.compression'], 'ZSTD');
  assert.equal(reader.metadata['parquet.rowGroups'], 2);
});

test('convert TXT → CSV with --skip-rows, --delimiter whitespace, --fmt %.6g, --out-header-row yes, --out-delimiter: the bytes np.savetxt writes', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'in.txt'), 'title line\nunits line\n1.5   2.25e-7  3\n-4 5.125 6e10\n');
  const run = await runCli(['convert', 'in.txt', 'out.csv', '--skip-rows', '2', '--delimiter', 'whitespace', '--fmt', '%.6g', '--out-header-row', 'yes', '--out-delimiter', ';'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  runPython(`
import sys, numpy as np
a = np.loadtxt(sys.argv[1] + '/in.txt', skiprows=2)
np.savetxt(sys.argv[1] + '/np.csv', a, fmt='%.6g', delimiter=';', header='col0;col1;col2')
`, [dir]);
  assert.equal(await readFile(join(dir, 'out.csv'), 'utf8'), await readFile(join(dir, 'np.csv'), 'utf8'));
});

test('convert CSV with --comments none and --header-row no reads every line as data; flags a side does not take are usage errors (exit 2)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'h.csv'), '1,2\n#3,4\n');
  const noComments = await runCli(['convert', 'h.csv', 'h.npy', '--comments', 'none', '--header-row', 'no'], { cwd: dir });
  assert.equal(noComments.code, 1, 'a # field is not a number once # starts no comment');
  assert.match(noComments.stderr, /line 2/);
  await writeFile(join(dir, 'g.csv'), 'a,b\n1,2\n3,4\n');
  const ok = await runCli(['convert', 'g.csv', 'g.csv.npy', '--header-row', 'no', '--column-dtype', 'float32'], { cwd: dir });
  assert.equal(ok.code, 1, 'the header read as data is not numbers');
  for (const [args, flag] of [
    [['convert', 'g.csv', 'g.parquet', '--fmt', '%.3f'], 'fmt'],
    [['convert', 'g.csv', 'g.npy', '--compression', 'zstd'], 'compression'],
    [['convert', 'g.csv', 'g.npy', '--compression-level', '3'], 'compression-level'],
    [['convert', 'g.csv', 'g.feather', '--compression', 'zstd', '--compression-level', 'high'], 'compression-level'],
    [['convert', 'g.csv', 'g.npy', '--columns', 'sideways'], 'columns'],
    [['convert', 'g.csv', 'g.csv2.csv', '--delimiter', ';;'], 'delimiter'],
    [['convert', 'g.csv', 'g.npy', '--out-delimiter', ';'], 'out-delimiter'],
  ] as const) {
    const run = await runCli([...args], { cwd: dir });
    assert.equal(run.code, 2, `${flag}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`--${flag}`));
  }
  const help = await runCli(['convert', '--help']);
  for (const flag of Object.keys((await import('../src/cli/table-options.js')).CLI_TABLE_OPTIONS)) assert.match(help.stdout, new RegExp(`--${flag}\\b`), flag);
  assert.equal(cliErrorCode(noComments.stderr), 'INVALID_VALUE');
});

test('convert → Feather with --compression zstd --compression-level: level 19 writes a smaller file than the default level 1, both read back equal; a level with lz4 is refused', async (t) => {
  const dir = await tempDir(t);
  const lines = ['a,b'];
  for (let row = 0; row < 20_000; row++) lines.push(`${Math.floor(row / 9) % 500},${(row % 13) * 0.5}`);
  await writeFile(join(dir, 't.csv'), `${lines.join('\n')}\n`);
  const sizes: number[] = [];
  for (const level of [[], ['--compression-level', '19']]) {
    const out = `t${level.length}.feather`;
    const run = await runCli(['convert', 't.csv', out, '--compression', 'zstd', ...level], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    sizes.push((await readFile(join(dir, out))).byteLength);
    const reader = await openTensorFile(join(dir, out));
    const tensor = await reader.read(reader.tensors[0]!.name);
    assert.deepEqual(tensor.shape, [20_000, 2]);
    assert.equal(new Float64Array(tensor.data.slice().buffer)[2 * 9], 1, 'row 9 column a');
    await reader.close();
  }
  assert.ok(sizes[1]! < sizes[0]!, `level 19: ${sizes[1]} bytes, default: ${sizes[0]} bytes`);
  const lz4 = await runCli(['convert', 't.csv', 'l.feather', '--compression', 'lz4', '--compression-level', '5'], { cwd: dir });
  assert.notEqual(lz4.code, 0);
  assert.match(lz4.stderr, /zstd only/);
});
