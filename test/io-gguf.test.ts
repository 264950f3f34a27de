/**
 * `tensio/io` GGUF helpers: a GGUF model into a NumPack store (q8_0 dequantized as
 * gguf-py does, or kept as raw uint8 blocks) and a store out to GGUF, quantized on the way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fromGgufFile, toGgufFile } from '../src/io/index.js';
import { ggufCreateWriter, ggufDequantize, ggufOpen, ggufQuantize } from '../src/formats/gguf/index.js';
import { openTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';

test('fromGgufFile dequantizes into a store (or keeps blocks); toGgufFile writes it back quantized', async (t) => {
  const dir = await tempDir(t);
  const values = new Float32Array(4 * 64).map((_, i) => Math.sin(i) * 3);
  const blocks = ggufQuantize('q8_0', values);
  const writer = await ggufCreateWriter(join(dir, 'in.gguf'), { tensors: [{ name: 'w', dtype: 'q8_0', shape: [4, 64] }, { name: 'n', dtype: 'float32', shape: [3] }], metadata: { 'general.architecture': 'test' } });
  await writer.add('w', blocks);
  await writer.add('n', new Uint8Array(new Float32Array([1, 2, 3]).buffer));
  await writer.close();

  await fromGgufFile(join(dir, 'in.gguf'), join(dir, 'f32.npk'));
  await using store = await openTensorFile(join(dir, 'f32.npk'));
  const w = await store.read('w');
  assert.equal(w.dtype, 'float32');
  assert.deepEqual(w.shape, [4, 64]);
  assert.deepEqual(new Float32Array(w.data.slice().buffer), ggufDequantize('q8_0', blocks));

  await fromGgufFile(join(dir, 'in.gguf'), join(dir, 'raw.npk'), { dequantize: false, keys: ['w'] });
  await using raw = await openTensorFile(join(dir, 'raw.npk'));
  assert.deepEqual(raw.tensors.map((info) => [info.name, info.dtype, info.shape]), [['w', 'uint8', [4, 68]]]);

  await toGgufFile(join(dir, 'f32.npk'), join(dir, 'out.gguf'), { arch: 'test', quantize: 'q8_0', metadata: { 'test.n': { type: 'uint32', value: 7 } } });
  await using out = await ggufOpen(join(dir, 'out.gguf'));
  assert.equal(out.info('w').dtype, 'q8_0');
  assert.deepEqual((await out.read('w')).data, ggufQuantize('q8_0', ggufDequantize('q8_0', blocks)));
  assert.deepEqual(out.gguf.metadata.get('test.n'), { type: 'uint32', value: 7 });
  assert.equal(out.metadata['general.architecture'], 'test');
});
