import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyTensorFile } from '../src/operations/index.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { createTensor } from '../src/core/tensor.js';
import { tempDir } from './helpers/temp.js';

const tensors = {
  a: createTensor('float32', [64], new Float32Array(64).map((_, i) => i * 0.5)),
  b: createTensor('int16', [8, 4], new Int16Array(32).map((_, i) => i - 16)),
};

for (const compress of [false, true]) {
  test(`npz verify recomputes every member CRC (${compress ? 'deflated' : 'stored'})`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'w.npz');
    await npzWrite(path, tensors, { compress });
    const good = await verifyTensorFile(path);
    assert.equal(good.ok, true, JSON.stringify(good.problems));
    assert.equal(good.format, 'npz');
    assert.equal(good.tensors, 2);
    assert.equal(good.checksumsVerified, 2);

    // Corrupt one byte inside the first member's data (past its local header and npy header).
    const bytes = new Uint8Array(await readFile(path));
    const at = compress ? 60 : 200;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(path, bytes);
    const bad = await verifyTensorFile(path);
    assert.equal(bad.ok, false);
    assert.ok(bad.problems.some((p) => ['CHECKSUM_MISMATCH', 'INVALID_ZIP', 'INVALID_HEADER', 'TRUNCATED', 'SIZE_MISMATCH', 'LIMIT_EXCEEDED'].includes(p.code)), JSON.stringify(bad.problems));
    if (!compress) assert.ok(bad.problems.some((p) => p.code === 'CHECKSUM_MISMATCH'), JSON.stringify(bad.problems));
  });
}

test('npz verify inflates each deflated member once, and its progress total never changes', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.npz');
  // Incompressible-ish data, so the compressed size is close to the raw size.
  const values = new Float32Array(2 * 1024 * 1024).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  await npzWrite(path, { a: createTensor('float32', [values.length], values), b: tensors.b }, { compress: true });
  const file = new Uint8Array(await readFile(path));
  let bytesRead = 0;
  const counting = {
    size: file.byteLength,
    name: path,
    async read(offset: number, length: number) {
      if (offset + length > file.byteLength) throw new Error('read past the end');
      bytesRead += length;
      return file.subarray(offset, offset + length);
    },
  };
  const totals = new Set<number>();
  let lastDone = 0;
  let monotonic = true;
  const report = await verifyTensorFile(counting, {
    format: 'npz',
    onProgress: ({ done, total }) => {
      totals.add(total);
      if (done < lastDone) monotonic = false;
      lastDone = done;
    },
  });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 2);
  // Before: every member was inflated by the CRC pass and again by the structure pass (2x the file).
  assert.ok(bytesRead < file.byteLength * 1.5, `read ${bytesRead} bytes of a ${file.byteLength}-byte file`);
  assert.equal(totals.size, 1, `progress totals seen: ${[...totals].join(', ')}`);
  assert.ok(monotonic, 'progress went backwards');
  assert.equal(lastDone, [...totals][0], 'progress ends at its total');
});
