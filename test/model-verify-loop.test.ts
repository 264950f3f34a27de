/**
 * One verify loop for every format: each format's verification (its own, or the generic
 * read-through) reports progress up to the bytes it checked and stops with `ABORTED` when
 * the signal fires, before and during the loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import type { Progress, TensorSpec } from '../src/model/types.js';
import { BUILT_IN_FORMATS, verifyTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';

const PLAN: readonly TensorSpec[] = [
  { name: 'a', dtype: 'float32', shape: [64, 16] },
  { name: 'b', dtype: 'int32', shape: [32] },
];

/**
 * The write option that turns checksums on, for every format that declares them
 * optional; `null` when tensio's writer cannot write any (the format's verify still
 * checks them in files that carry them: see the format's own tests).
 */
const CHECKSUMS_ON: Readonly<Record<string, Record<string, unknown> | null>> = {
  safetensors: { crc32: true },
  hdf5: { fletcher32: true },
  zt: { digest: 'xxh3' },
  zarr: { version: 3, shards: [64, 16] },
  // tensio writes a CRC-32 in every page header (pyarrow only with write_page_checksum=True).
  parquet: {},
};

for (const format of BUILT_IN_FORMATS.filter((f) => f.createWriter && f.open)) {
  const plan = format.capabilities.tensors === 'one' ? PLAN.slice(0, 1) : PLAN;
  const checksumOptions = format.capabilities.checksums === 'optional' ? CHECKSUMS_ON[format.name] : undefined;
  async function writeSample(dir: string): Promise<string> {
    const path = join(dir, `sample${format.extensions[0]}`);
    const writer = await format.createWriter!(path, { tensors: plan, formatOptions: checksumOptions ?? {} });
    for (const name of writer.order) {
      const spec = plan.find((s) => s.name === name)!;
      await writer.add(name, new Uint8Array(spec.shape.reduce((n, d) => n * d, 1) * 4).fill(3));
    }
    await writer.close();
    return path;
  }

  test(`${format.name}: verify reports progress to the end and checks what the format carries`, async (t) => {
    const path = await writeSample(await tempDir(t));
    const seen: Progress[] = [];
    const report = await verifyTensorFile(path, { onProgress: (progress) => seen.push(progress) });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.tensors, plan.length);
    assert.ok(seen.length > 0, 'no progress reported');
    const last = seen.at(-1)!;
    assert.equal(last.done, last.total);
    assert.ok(last.total >= plan.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1) * 4, 0));
    for (let index = 1; index < seen.length; index++) assert.ok(seen[index]!.done >= seen[index - 1]!.done, 'progress went backwards');
    if (format.capabilities.checksums === 'optional') {
      assert.ok(format.name in CHECKSUMS_ON, `${format.name} declares optional checksums: add the write option that turns them on to CHECKSUMS_ON`);
    }
    if (format.capabilities.checksums !== 'none' && checksumOptions !== null) assert.ok(report.checksumsVerified > 0, `${format.name} declares checksums but verified none`);
    else assert.equal(report.checksumsVerified, 0);
  });

  test(`${format.name}: verify stops with ABORTED when the signal fires (before, and from a progress callback)`, async (t) => {
    const path = await writeSample(await tempDir(t));
    await assert.rejects(verifyTensorFile(path, { signal: AbortSignal.abort() }), (error) => isTensioError(error, 'ABORTED'));
    const controller = new AbortController();
    await assert.rejects(
      verifyTensorFile(path, { signal: controller.signal, onProgress: () => controller.abort() }),
      (error) => isTensioError(error, 'ABORTED'),
    );
  });
}
