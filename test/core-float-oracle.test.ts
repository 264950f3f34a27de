/** tensio's narrow-float encoders against ml_dtypes (the reference numpy float8/bfloat16 types). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFloat32Array, toFloat32Array } from '../src/core/float-convert.js';
import type { DType } from '../src/core/dtype.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

function sampleValues(): Float32Array {
  // Edge cases, every float8 midpoint region, and a wide random spread of magnitudes.
  const special = [0, -0, 1, -1, 0.5, 1.5, 2.5, 3.5, 448, 449, 464, 480, 500, 57344, 61439, 61440, 65536, 1e10, -1e10, Infinity, -Infinity,
    2 ** -6, 2 ** -7, 2 ** -9, 2 ** -10, 1.5 * 2 ** -10, 2 ** -16, 2 ** -17, 3 * 2 ** -18, 1e-30, 240, 248, 256, 1.4, 1.45, 1.414213, 3, 6, 0.75, 0.875];
  const values = new Float32Array(20_000);
  values.set(special);
  let state = 12345;
  for (let i = special.length; i < values.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const exponent = (state % 60) - 30;
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    values[i] = ((state / 2 ** 32) * 2 - 1) * 2 ** exponent;
  }
  return values;
}

const CASES: [DType, string][] = [
  ['float8_e4m3fn', 'float8_e4m3fn'],
  ['float8_e5m2', 'float8_e5m2'],
  ['float8_e4m3fnuz', 'float8_e4m3fnuz'],
  ['float8_e5m2fnuz', 'float8_e5m2fnuz'],
  ['float8_e8m0', 'float8_e8m0fnu'],
  ['bfloat16', 'bfloat16'],
  ['float16', 'float16'],
];

test('float8, bfloat16 and float16 encoding agrees with ml_dtypes bit for bit', { skip: oracleSkip('ml_dtypes', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const values = sampleValues();
  await writeFile(join(dir, 'values.f32'), new Uint8Array(values.buffer));
  runPython(`
import sys, numpy as np, ml_dtypes
folder = sys.argv[1]
values = np.fromfile(folder + '/values.f32', dtype='<f4')
for name in sys.argv[2:]:
    dtype = np.float16 if name == 'float16' else getattr(ml_dtypes, name)
    with np.errstate(over='ignore', invalid='ignore'):
        values.astype(dtype).view(np.uint8 if np.dtype(dtype).itemsize == 1 else '<u2').tofile(folder + '/' + name + '.bin')
`, [dir, ...CASES.map(([, name]) => name)]);
  for (const [dtype, name] of CASES) {
    const expected = new Uint8Array(await readFile(join(dir, `${name}.bin`)));
    const actual = fromFloat32Array(values, dtype).data;
    const width = dtype === 'bfloat16' || dtype === 'float16' ? 2 : 1;
    const mismatches: string[] = [];
    for (let i = 0; i < values.length; i++) {
      const a = width === 1 ? actual[i]! : actual[2 * i]! | (actual[2 * i + 1]! << 8);
      const e = width === 1 ? expected[i]! : expected[2 * i]! | (expected[2 * i + 1]! << 8);
      if (a !== e) mismatches.push(`${values[i]} -> tensio 0x${a.toString(16)} ml_dtypes 0x${e.toString(16)}`);
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${dtype}: ${mismatches.length} of ${values.length} differ`);
  }
});

test('float8 decoding of all 256 codes agrees with ml_dtypes', { skip: oracleSkip('ml_dtypes', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const float8 = CASES.filter(([dtype]) => dtype.startsWith('float8'));
  runPython(`
import sys, numpy as np, ml_dtypes
folder = sys.argv[1]
codes = np.arange(256, dtype=np.uint8)
for name in sys.argv[2:]:
    codes.view(getattr(ml_dtypes, name)).astype(np.float32).tofile(folder + '/' + name + '.f32')
`, [dir, ...float8.map(([, name]) => name)]);
  const codes = new Uint8Array(256).map((_, i) => i);
  for (const [dtype, name] of float8) {
    const expected = new Float32Array(new Uint8Array(await readFile(join(dir, `${name}.f32`))).buffer);
    const actual = toFloat32Array({ dtype, shape: [256], data: codes });
    for (let code = 0; code < 256; code++) {
      if (Number.isNaN(expected[code])) assert.ok(Number.isNaN(actual[code]), `${dtype} code ${code} should be NaN`);
      else assert.ok(Object.is(actual[code], expected[code]), `${dtype} code ${code}: tensio ${actual[code]} ml_dtypes ${expected[code]}`);
    }
  }
});
