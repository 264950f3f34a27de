/**
 * `%.{p}e` written without strings (`format-exponential.ts`) against the exact string
 * path (`toExponential` with C's half-to-even ties, itself checked against Python in
 * csv-read-write and csv-interop) on hard values: subnormals, ±0, the largest double,
 * every power of two, powers of ten and their neighbours, exact ties, float32 values
 * and random bit patterns, precisions 0 to 18 (exact ties on the fast path too); and the writer's `%.18e` text byte for
 * byte against `np.savetxt` on the same values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { csvEmitExponential } from '../src/formats/csv/format-exponential.js';
import { csvCompileFormat } from '../src/formats/csv/format-printf.js';
import { CsvTextBuffer } from '../src/formats/csv/text-buffer.js';
import { csvCreateWriter } from '../src/formats/csv/write.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Deterministic 32-bit random words. */
function words(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
}

/** The hard values: edges, powers, ties, float32 values and random float64 bit patterns. */
function hardValues(randomCount: number): number[] {
  const values = [0, -0, 5e-324, -5e-324, 1e-320, 2.2250738585072009e-308, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1, -1, 0.1, 0.5, 0.125, 0.375, 2.5, 9.5, 1 / 3, Math.PI, -Math.E,
    3262234208.8564453125, 9007199254740993, 2 ** 53, 2 ** 63, 2 ** 64, 1e23, 9.999999999999999e22, 5e-1, 4.35, 0.15, 1.5e-7, 123456789012345680000, 999999999999999999999];
  for (let k = -1074; k <= 1023; k++) values.push(2 ** k);
  for (let t = -323; t <= 308; t++) {
    const power = Number(`1e${t}`);
    values.push(power, power * (1 + 2 ** -52), power * (1 - 2 ** -53), Number(`9.5e${t}`), Number(`1.25e${t}`));
  }
  // Exact ties at 19 and at fewer digits: integers ending in 5 and halves of small odd numbers.
  for (let i = 1; i < 400; i += 2) values.push(i * 5 * 2 ** 40 + 5, (i * 1e15 + 5) * 1e3, i / 2 ** 20, i * 2 ** 60 + 2 ** 11);
  const next = words(11);
  const bits = new Uint32Array(2);
  const view = new Float64Array(bits.buffer);
  for (let i = 0; i < randomCount; i++) {
    bits[0] = next();
    bits[1] = next();
    values.push(view[0]!);
    values.push(Math.fround((next() / 2 ** 32 - 0.5) * 200));
  }
  return values;
}

test('%.{p}e without strings equals the exact path on hard values, precisions 0 to 18, and takes nearly every value', () => {
  const values = hardValues(4000);
  for (const precision of [0, 1, 5, 8, 9, 10, 16, 17, 18]) {
    const exact = csvCompileFormat(`%.${precision}e`);
    const upper = csvCompileFormat(`%.${precision}E`);
    const out = new CsvTextBuffer();
    let fast = 0;
    let finite = 0;
    for (const [index, value] of values.entries()) {
      if (!Number.isFinite(value)) continue;
      const random = index >= values.length - 8000;
      if (random) finite++;
      out.length = 0;
      const isUpper = precision === 9;
      if (!csvEmitExponential(out, value, precision, isUpper)) continue;
      if (random) fast++;
      const text = Buffer.from(out.bytes.subarray(0, out.length)).toString('latin1');
      assert.equal(text, (isUpper ? upper : exact).format(value, 0), `%.${precision}${isUpper ? 'E' : 'e'} of ${value}`);
    }
    // Only values within 2^-32 of one half that are not exact ties go to the exact path: next to none.
    assert.ok(fast >= finite * 0.999, `%.${precision}e: ${fast} of ${finite} finite random values on the fast path`);
  }
  // Exact ties round half to even on the fast path too.
  const out = new CsvTextBuffer();
  for (const [value, precision, text] of [[0.125, 1, '1.2e-01'], [0.375, 1, '3.8e-01'], [2.5, 0, '2e+00'], [3.5, 0, '4e+00'], [3262234208.8564453125, 18, '3.262234208856445312e+09'], [-159171265765514.16, 18, '-1.591712657655141562e+14']] as const) {
    out.length = 0;
    assert.equal(csvEmitExponential(out, value, precision, false), true, `${value} %.${precision}e on the fast path`);
    assert.equal(Buffer.from(out.bytes.subarray(0, out.length)).toString('latin1'), text);
  }
  out.length = 0;
  assert.equal(csvEmitExponential(out, 1, 19, false), false, 'precision above 18');
  assert.equal(csvEmitExponential(out, NaN, 18, false), false);
  assert.equal(out.length, 0);
});

test("fmt '%.18e' (and %.0e, %.5E, %.17e) written by tensio: the bytes np.savetxt writes, on the hard values, float64 and float32", { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const values = hardValues(20_000).filter(Number.isFinite);
  const columns = 4;
  const rows = Math.floor(values.length / columns);
  const f64 = Float64Array.from(values.slice(0, rows * columns));
  const f32 = Float32Array.from(f64, (value) => (Math.abs(value) > 3.4e38 ? 0 : value));
  await writeFile(join(dir, 'a.f64'), f64);
  await writeFile(join(dir, 'a.f32'), f32);
  runPython(`
import sys, numpy as np
d, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a = np.fromfile(d + '/a.f64', dtype='<f8').reshape(rows, cols)
b = np.fromfile(d + '/a.f32', dtype='<f4').reshape(rows, cols)
np.savetxt(d + '/np-e.csv', a, delimiter=',')
np.savetxt(d + '/np-0e.csv', a, fmt='%.0e', delimiter=',')
np.savetxt(d + '/np-5E.csv', a, fmt='%.5E', delimiter=',')
np.savetxt(d + '/np-17e.csv', a, fmt='%.17e', delimiter=',')
np.savetxt(d + '/np-f32.csv', b, delimiter=',')
`, [dir, String(rows), String(columns)]);
  for (const [name, fmt, dtype, bytes] of [['np-e.csv', '%.18e', 'float64', f64], ['np-0e.csv', '%.0e', 'float64', f64], ['np-5E.csv', '%.5E', 'float64', f64], ['np-17e.csv', '%.17e', 'float64', f64], ['np-f32.csv', '%.18e', 'float32', f32]] as const) {
    const path = join(dir, `ours-${name}`);
    const writer = await csvCreateWriter(path, { tensors: [{ name: 'a', dtype, shape: [rows, columns] }], csv: { fmt } });
    await writer.add('a', new Uint8Array(bytes.buffer));
    await writer.close();
    const ours = (await readFile(path, 'utf8')).split('\n');
    const theirs = (await readFile(join(dir, name), 'utf8')).split('\n');
    assert.equal(ours.length, theirs.length, `${name}: lines`);
    for (let i = 0; i < ours.length; i++) assert.equal(ours[i], theirs[i], `${name}: line ${i + 1} (values ${[...(bytes as Float64Array | Float32Array).subarray(i * columns, (i + 1) * columns)].join(', ')})`);
  }
});
