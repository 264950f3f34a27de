/**
 * Tensor statistics (src/operations/tensor-stats.ts, the web inspector's numbers) against
 * NumPy on a file PyTorch wrote: float32 with NaN/±Inf/zeros, bfloat16, float16,
 * float8_e4m3fn and int64 — min, max, mean, std (finite values, ddof 0), counts, the
 * histogram's bin counts and edges, first values; plus the heat map grid, cancellation,
 * chunk boundaries inside an element, and a dtype it cannot decode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTensorFile, createTensor, isTensioError } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { tensorStatistics } from '../src/operations/tensor-stats.js';
import { oracleSkip } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { writeStatsFixture } from './helpers/stats-oracle.js';
import { join } from 'node:path';

const close = (actual: number, expected: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs NumPy ${expected}`);
};

test('statistics match NumPy for float32 (NaN, ±Inf, zeros), bf16, f16, f8 and int64', { skip: oracleSkip('torch', 'safetensors', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const { path, expected } = writeStatsFixture(dir, 10);
  const reader = await openTensorFile(path);
  t.after(() => reader.close?.());
  for (const [name, numpy] of Object.entries(expected)) {
    // Small chunks: elements and histogram passes cross many chunk boundaries.
    const stats = await tensorStatistics(reader, name, { bins: 10, chunkBytes: 1024 });
    assert.equal(stats.count, numpy.count, `${name} count`);
    assert.equal(stats.finite, numpy.finite, `${name} finite`);
    assert.equal(stats.min, numpy.min, `${name} min`);
    assert.equal(stats.max, numpy.max, `${name} max`);
    close(stats.mean, numpy.mean, `${name} mean`);
    close(stats.std, numpy.std, `${name} std`);
    assert.equal(stats.zeros, numpy.zeros, `${name} zeros`);
    assert.equal(stats.nan, numpy.nan, `${name} nan`);
    assert.equal(stats.positiveInfinity, numpy.posinf, `${name} +inf`);
    assert.equal(stats.negativeInfinity, numpy.neginf, `${name} -inf`);
    assert.deepEqual(stats.histogram?.counts, numpy.counts, `${name} histogram counts`);
    assert.deepEqual(stats.histogram?.edges, numpy.edges, `${name} histogram edges`);
    assert.deepEqual(stats.first.map((v) => (Number.isNaN(v) ? null : v)), numpy.first, `${name} first values`);
  }
  assert.ok(expected.normal!.nan === 1 && expected.normal!.posinf === 1 && expected.normal!.zeros >= 6, 'sanity: the fixture has the special values');
});

test('the heat map of a 2-D tensor is the mean of each grid cell', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'grid.safetensors');
  // 4 × 6 values v = row * 10 + col, mapped onto a 2 × 3 grid: each cell averages a 2 × 2 block.
  const values = new Float32Array(24).map((_, i) => Math.floor(i / 6) * 10 + (i % 6));
  await safetensorsWrite(path, { g: createTensor('float32', [4, 6], new Uint8Array(values.buffer)) });
  const reader = await openTensorFile(path);
  t.after(() => reader.close?.());
  const stats = await tensorStatistics(reader, 'g', { heatmapSize: 3 });
  assert.equal(stats.heatmap?.rows, 3);
  assert.equal(stats.heatmap?.cols, 3);
  // rows 0..3 → 3 cells: floor(r*3/4) = 0,0,1,2; cols 0..5 → floor(c*3/6) = 0,0,1,1,2,2.
  assert.deepEqual(Array.from(stats.heatmap!.values), [5.5, 7.5, 9.5, 20.5, 22.5, 24.5, 30.5, 32.5, 34.5]);
  assert.equal(stats.histogram?.counts.reduce((a, b) => a + b, 0), 24);
});

test('a constant tensor bins like NumPy (range ±0.5), an aborted run throws ABORTED, complex is refused', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'misc.safetensors');
  await safetensorsWrite(path, {
    c: createTensor('float32', [5], new Uint8Array(new Float32Array(5).fill(3).buffer)),
    z: createTensor('complex64', [2], new Uint8Array(16)),
  });
  const reader = await openTensorFile(path);
  t.after(() => reader.close?.());
  const constant = await tensorStatistics(reader, 'c', { bins: 4 });
  assert.deepEqual(constant.histogram?.edges, [2.5, 2.75, 3, 3.25, 3.5]); // np.histogram([3]*5, bins=4)
  assert.deepEqual(constant.histogram?.counts, [0, 0, 5, 0]);
  assert.equal(constant.std, 0);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(tensorStatistics(reader, 'c', { signal: controller.signal }), (error) => isTensioError(error, 'ABORTED'));
  await assert.rejects(tensorStatistics(reader, 'z'), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE'));
});
