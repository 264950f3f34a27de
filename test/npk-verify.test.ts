/**
 * Issue 16: `verify` of a NumPack store checks what a store can be checked for (the
 * catalogue against the files, data sizes against shapes and dtypes, bitmaps against row
 * counts, leftovers of an interrupted publish), and the hostile stores of the campaign
 * (../shared/regressions) are refused at open with a code instead of a RangeError later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { NumPack, npkDecodeMetadata, npkEncodeMetadata, NPK_METADATA_FILE } from '../src/npk/index.js';
import { openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';
import { runCli } from './helpers/cli.js';
import { patternTensor } from './helpers/npk-fixtures.js';
import { sharedPath } from './helpers/shared.js';

async function sampleStore(dir: string): Promise<string> {
  const path = join(dir, 's.npk');
  const npk = await NumPack.open(path, { durable: false, segmentTargetBytes: 64 });
  await npk.save({ x: patternTensor('int32', [6, 2], 1), y: patternTensor('float32', [100], 2) });
  await npk.drop('x', [1]);
  await npk.close();
  return path;
}

async function problemsOf(path: string): Promise<string[]> {
  const report = await verifyTensorFile(path);
  assert.equal(report.ok, report.problems.length === 0);
  return report.problems.map((problem) => `${problem.code} ${problem.message}`);
}

test('a sound store verifies; each kind of damage is named', async (t) => {
  const dir = await tempDir(t);
  const path = await sampleStore(dir);
  assert.deepEqual(await problemsOf(path), []);
  const names = await readdir(path);
  assert.ok(names.includes('deleted_x.npkb') && names.includes('data_y.npkseg'), JSON.stringify(names));

  // A data file shorter than its shape and dtype need.
  await truncate(join(path, 'data_x.npkd'), 40);
  assert.match((await problemsOf(path)).join('\n'), /TRUNCATED .*data_x\.npkd .* 40 bytes; 6 rows of 8 bytes need 48/);
  await unlink(join(path, 'data_x.npkd'));
  assert.match((await problemsOf(path)).join('\n'), /NOT_FOUND .*data_x\.npkd of "x" is missing/);

  // A segment missing.
  const other = await sampleStore(await tempDir(t));
  await unlink(join(other, 'data_y_segments', 'seg_000001.npkd'));
  assert.match((await problemsOf(other)).join('\n'), /NOT_FOUND .*segment data_y_segments\/seg_000001\.npkd/);

  // A bitmap of another row count (the catalogue grew without it), then one lying about its count.
  const third = await sampleStore(await tempDir(t));
  const meta = npkDecodeMetadata(await readFile(join(third, NPK_METADATA_FILE)));
  const bitmap = await readFile(join(third, 'deleted_x.npkb'));
  const grown = Buffer.from(bitmap);
  grown.writeBigUInt64LE(7n, 0);
  await writeFile(join(third, 'deleted_x.npkb'), grown);
  assert.match((await problemsOf(third)).join('\n'), /SIZE_MISMATCH .*bitmap of "x" covers 7 rows, the catalogue says 6/);
  const lying = Buffer.from(bitmap);
  lying.writeBigUInt64LE(3n, 8);
  await writeFile(join(third, 'deleted_x.npkb'), lying);
  assert.match((await problemsOf(third)).join('\n'), /INVALID_METADATA .*declares 3 deleted rows, its bits say 1/);
  const past = Buffer.from(bitmap);
  past[16 + 1]! |= 0x80; // row 15 of a 6-row array
  await writeFile(join(third, 'deleted_x.npkb'), past);
  assert.match((await problemsOf(third)).join('\n'), /marks row 15 active, past its 6 rows/);
  await writeFile(join(third, 'deleted_x.npkb'), bitmap);
  // size_bytes that disagrees with the shape.
  await writeFile(join(third, NPK_METADATA_FILE), npkEncodeMetadata(meta.arrays.map((entry) => ({ ...entry, sizeBytes: entry.sizeBytes + 1 }))));
  assert.match((await problemsOf(third)).join('\n'), /SIZE_MISMATCH .*size_bytes of "x" is 49/);
  await writeFile(join(third, NPK_METADATA_FILE), npkEncodeMetadata(meta.arrays));
  assert.deepEqual(await problemsOf(third), []);

  // Stray files, leftovers of an uncommitted publish, and an interrupted one.
  await writeFile(join(third, 'deleted_gone.npkb'), new Uint8Array(24));
  await writeFile(join(third, 'data_x.npkd.tensio-staged-0123456789ab'), new Uint8Array(8));
  await writeFile(join(third, '.tensio-publish'), '{}');
  const problems = (await problemsOf(third)).join('\n');
  assert.match(problems, /INVALID_METADATA .*deleted_gone\.npkb: stray file/);
  assert.match(problems, /INVALID_STATE .*tensio-staged-0123456789ab: leftover of a publish interrupted before its commit/);
  assert.match(problems, /INVALID_STATE .*\.tensio-publish: a publish was interrupted after its commit/);
  // verify never writes: the files are still there.
  assert.ok((await readdir(third)).includes('.tensio-publish'));
});

test('regressions 1-2: hostile catalogues are refused at open with a code (verify, inspect, convert: exit 1, never 3)', async (t) => {
  const fuzz = sharedPath('regressions/fuzz-npk');
  const stores = [
    ...(fuzz ? (await readdir(fuzz)).filter((name) => name.endsWith('.npk')).map((name) => join(fuzz, name)) : []),
    ...['npk_dim_2p40.npk', 'npk_dim_1g.npk', 'npk_dim_unsafe.npk'].map((name) => sharedPath(`regressions/${name}`)).filter((path): path is string => path !== undefined),
  ];
  if (stores.length === 0) {
    t.skip('../shared/regressions is missing (the hostile-input campaign files)');
    return;
  }
  assert.equal(stores.length, 6);
  for (const store of stores) {
    await assert.rejects(NumPack.open(store, { readOnly: true }), (error) => isTensioError(error) && ['LIMIT_EXCEEDED', 'TRUNCATED', 'SIZE_OVERFLOW'].includes(error.code), store);
    await assert.rejects(openTensorFile(store), (error) => isTensioError(error), store);
    const report = await verifyTensorFile(store);
    assert.equal(report.ok, false, store);
    assert.ok(report.problems.length > 0);
    for (const [command, extra] of [['verify', []], ['inspect', []], ['convert', ['out.safetensors']]] as const) {
      const run = await runCli([command, store, ...extra], { cwd: await tempDir(t) });
      assert.equal(run.code, 1, `${command} ${store}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /RangeError|INTERNAL/);
    }
  }
  // The unsafe one specifically: its byte length is above 2^53.
  const unsafe = sharedPath('regressions/npk_dim_unsafe.npk');
  if (unsafe) await assert.rejects(NumPack.open(unsafe, { readOnly: true }), (error) => isTensioError(error, 'SIZE_OVERFLOW'));
});
