/** tensio/io's PyTorch pair: fromTorchFile/toTorchFile and fromTorch/toTorch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fromTorch, fromTorchFile, toTorch, toTorchFile, NumPack } from '../src/io/index.js';
import { createTensor, tensorsEqual, isTensioError } from '../src/index.js';
import { pytorchWrite } from '../src/formats/pytorch/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const features = createTensor('float32', [3, 2], new Float32Array([1, 2, 3, 4, 5, 6]));
const labels = createTensor('int64', [3], new BigInt64Array([0n, 1n, 2n]));

test('fromTorch/toTorch: a state dict or one tensor into a store and back', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'm.npk');
  await fromTorch({ features, labels }, store, { dropIfExists: true });
  await fromTorch(features, store, { arrayName: 'again' });
  const back = await toTorch(store);
  assert.deepEqual(Object.keys(back).sort(), ['again', 'features', 'labels']);
  assert.ok(tensorsEqual(back.features!, features));
  assert.ok(tensorsEqual(back.labels!, labels));
  assert.ok(tensorsEqual((await toTorch(store, { arrayNames: ['again'] })).again!, features));
  await assert.rejects(toTorch(store, { arrayNames: ['nope'] }), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('fromTorchFile/toTorchFile round trip through a tensio-written checkpoint', async (t) => {
  const dir = await tempDir(t);
  await pytorchWrite(join(dir, 'in.pt'), { features, labels });
  await fromTorchFile(join(dir, 'in.pt'), join(dir, 's.npk'), { dropIfExists: true });
  await using npk = await NumPack.open(join(dir, 's.npk'), { readOnly: true });
  assert.deepEqual(npk.getMemberList().sort(), ['features', 'labels']);
  assert.ok(tensorsEqual(await npk.load('features'), features));
  await toTorchFile(join(dir, 's.npk'), join(dir, 'out.pt'), { arrayNames: ['labels'] });
  assert.ok((await stat(join(dir, 'out.pt'))).size > 0);
  await assert.rejects(toTorchFile(join(dir, 's.npk'), join(dir, 'x.pt'), { arrayNames: ['missing'] }), (e) => isTensioError(e, 'NOT_FOUND'));
});

test('fromTorchFile reads what torch.save wrote (dict, bare tensor, nested key); torch.load reads toTorchFile output', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`
import sys, torch
d = sys.argv[1]
torch.save({'features': torch.arange(6, dtype=torch.float32).reshape(3, 2), 'labels': torch.arange(3), 'epoch': 3}, d + '/dict.pt')
torch.save(torch.arange(4, dtype=torch.int16), d + '/bare.pt')
torch.save({'state_dict': {'w': torch.ones(2, 2, dtype=torch.float64)}, 'step': 7}, d + '/nested.pt')
`, [dir]);
  const store = join(dir, 's.npk');
  await fromTorchFile(join(dir, 'dict.pt'), store, { dropIfExists: true });
  await fromTorchFile(join(dir, 'bare.pt'), store);
  await fromTorchFile(join(dir, 'nested.pt'), store, { key: 'state_dict' });
  await assert.rejects(fromTorchFile(join(dir, 'nested.pt'), store, { key: 'no_such_key' }), (e) => isTensioError(e, 'NOT_FOUND'));
  {
    await using npk = await NumPack.open(store, { readOnly: true });
    assert.deepEqual(npk.getMemberList().sort(), ['bare', 'features', 'labels', 'w']);
    assert.deepEqual([...new Float32Array((await npk.load('features')).data.slice().buffer)], [0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...new Int16Array((await npk.load('bare')).data.slice().buffer)], [0, 1, 2, 3]);
    assert.deepEqual((await npk.load('w')).shape, [2, 2]);
  }
  await toTorchFile(store, join(dir, 'out.pt'));
  const { stdout } = runPython(`
import sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
print(sorted(sd.keys()), sd['features'].flatten().tolist(), sd['bare'].tolist(), sd['labels'].dtype, sd['w'].sum().item())
`, [join(dir, 'out.pt')]);
  assert.equal(stdout.trim(), "['bare', 'features', 'labels', 'w'] [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] [0, 1, 2, 3] torch.int64 4.0");
});

test('fromTorchFile refuses a malicious pickle and creates no store', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const marker = join(dir, 'pwned');
  runPython(`
import sys, os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ' + sys.argv[2],))
torch.save({'w': torch.ones(2), 'evil': Evil()}, sys.argv[1])
`, [join(dir, 'evil.pt'), marker]);
  await assert.rejects(fromTorchFile(join(dir, 'evil.pt'), join(dir, 's.npk')), (e) => isTensioError(e, 'UNSAFE_PICKLE'));
  await assert.rejects(readFile(marker), (e) => (e as NodeJS.ErrnoException).code === 'ENOENT');
  await assert.rejects(stat(join(dir, 's.npk')), (e) => (e as NodeJS.ErrnoException).code === 'ENOENT');
});
