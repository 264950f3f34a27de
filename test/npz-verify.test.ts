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
