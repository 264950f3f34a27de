/**
 * A PyTorch zip checkpoint whose records are deflated (re-zipped with ZIP_DEFLATED;
 * torch.load reads such files): each tensor streams from its record through the
 * `chunks` location, views with a storage offset included, and verify streams too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTensorFile, verifyTensorFile } from '../src/operations/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

test('deflated .pt records stream: whole tensors, views into a shared storage and row slices equal torch', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'deflated.pt');
  runPython(`
import sys, os, zipfile, torch
path, out = sys.argv[1], sys.argv[2]
base = torch.arange(6 * 4096, dtype=torch.float32).reshape(6, 4096) / 3
state = {'base': base, 'rows': base[2:5], 'ints': torch.arange(1000, dtype=torch.int64) * -7}
torch.save(state, path + '.stored')
with zipfile.ZipFile(path + '.stored') as src, zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))
loaded = torch.load(path, weights_only=True)
assert torch.equal(loaded['rows'], base[2:5])
for name, tensor in loaded.items():
    tensor.contiguous().numpy().tofile(os.path.join(out, name + '.bin'))
`, [path, dir]);
  await using reader = await openTensorFile(path);
  for (const name of ['base', 'rows', 'ints']) {
    const expected = new Uint8Array(readFileSync(join(dir, `${name}.bin`)));
    const parts: Uint8Array[] = [];
    for await (const piece of reader.stream(name, { chunkBytes: 10_000 })) parts.push(piece.slice());
    assert.ok(Buffer.concat(parts).equals(Buffer.from(expected)), `${name}: stream`);
    assert.ok(Buffer.from((await reader.read(name)).data).equals(Buffer.from(expected)), `${name}: read`);
  }
  const rows = await reader.read('rows', { slice: { start: 1, end: 2 } });
  const rowsExpected = new Uint8Array(readFileSync(join(dir, 'rows.bin')));
  assert.ok(Buffer.from(rows.data).equals(Buffer.from(rowsExpected.subarray(4096 * 4, 2 * 4096 * 4))));
  const report = await verifyTensorFile(path);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.tensors, 3);
});
