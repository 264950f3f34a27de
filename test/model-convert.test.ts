/** The model seam: detection, convert between every pair of formats, atomic failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT_IN_FORMATS, detectFormat, getFormat, openTensorFile } from '../src/operations/index.js';
import { convert } from '../src/operations/index.js';
import { createTensor, tensorsEqual, type Tensor } from '../src/core/tensor.js';
import { isTensioError } from '../src/core/errors.js';
import type { TensorFormat } from '../src/model/types.js';
import { tempDir } from './helpers/temp.js';

const model: Record<string, Tensor> = {
  weight: createTensor('float32', [4, 3], new Float32Array(12).map((_, i) => i - 5.5)),
  counts: createTensor('int64', [3], new BigInt64Array([0n, 2n ** 40n, -7n])),
  flags: createTensor('bool', [2, 2], [true, false, false, true]),
};

const extensionOf = (format: TensorFormat) => format.extensions.find((ext) => ext !== '.safetensors.index.json')!;

async function writeModel(format: TensorFormat, path: string, tensors: Record<string, Tensor>): Promise<void> {
  const writer = await format.createWriter!(path, { tensors: Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })) });
  for (const name of writer.order) await writer.add(name, tensors[name]!.data);
  await writer.close();
}

test('every registered format converts to every other with equal tensors', async (t) => {
  const dir = await tempDir(t);
  // Formats that hold every dtype of the model (GGUF has no bool; its conversions are tested in gguf-write.test.ts).
  const multi = BUILT_IN_FORMATS.filter((format) => format.open && format.createWriter && format.capabilities.tensors === 'many'
    && Object.values(model).every((tensor) => format.capabilities.dtypes.includes(tensor.dtype)));
  assert.ok(multi.length >= 4, multi.map((f) => f.name).join(', '));
  for (const from of multi) {
    const input = join(dir, `in-${from.name}${extensionOf(from)}`);
    await writeModel(from, input, model);
    for (const to of multi) {
      const output = join(dir, `out-${from.name}-to-${to.name}${extensionOf(to)}`);
      const result = await convert(input, output);
      assert.equal(result.inputFormat, from.name);
      assert.equal(result.outputFormat, to.name);
      assert.equal(result.tensors, 3);
      const reader = await openTensorFile(output);
      try {
        assert.equal(reader.format, to.name);
        for (const [name, tensor] of Object.entries(model)) assert.ok(tensorsEqual(await reader.read(name), tensor), `${from.name} -> ${to.name}: ${name}`);
      } finally {
        await reader.close();
      }
    }
  }
});

test('detection: magic bytes first, extension second; a single-array .npy round trip', async (t) => {
  const dir = await tempDir(t);
  await writeModel(getFormat('safetensors'), join(dir, 'a.safetensors'), model);
  await copyFile(join(dir, 'a.safetensors'), join(dir, 'misnamed.npy'));
  assert.equal((await detectFormat(join(dir, 'misnamed.npy'))).name, 'safetensors', 'content wins over a wrong extension');
  await writeModel(getFormat('pytorch'), join(dir, 'm.pt'), model);
  await copyFile(join(dir, 'm.pt'), join(dir, 'pytorch_model.bin'));
  assert.equal((await detectFormat(join(dir, 'pytorch_model.bin'))).name, 'pytorch');
  await writeModel(getFormat('npz'), join(dir, 'w.npz'), model);
  assert.equal((await detectFormat(join(dir, 'w.npz'))).name, 'npz');
  await assert.rejects(detectFormat(join(dir, 'nothing.safetensors')), (e) => isTensioError(e, 'NOT_FOUND'));

  const result = await convert(join(dir, 'a.safetensors'), join(dir, 'weight.npy'), { tensors: ['weight'] });
  assert.equal(result.tensors, 1);
  const back = await openTensorFile(join(dir, 'weight.npy'));
  try {
    assert.ok(tensorsEqual(await back.read('data'), model.weight!));
  } finally {
    await back.close();
  }
});

test('convert refuses an existing output, unknown tensors and unholdable dtypes before writing anything', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  await writeModel(getFormat('safetensors'), input, { ...model, half: createTensor('bfloat16', [2], new Uint8Array(4)) });
  await convert(input, join(dir, 'out.safetensors'));
  await assert.rejects(convert(input, join(dir, 'out.safetensors')), (e) => isTensioError(e, 'ALREADY_EXISTS'));
  await convert(input, join(dir, 'out.safetensors'), { overwrite: true });
  await assert.rejects(convert(input, join(dir, 'x.npz'), { tensors: ['nope'] }), (e) => isTensioError(e, 'NOT_FOUND'));
  await assert.rejects(convert(input, join(dir, 'x.npz')), (e) => isTensioError(e, 'UNSUPPORTED_DTYPE'));
  await assert.rejects(convert(input, join(dir, 'x.unknown')), (e) => isTensioError(e, 'UNKNOWN_FORMAT'));
  assert.deepEqual((await readdir(dir)).sort(), ['in.safetensors', 'out.safetensors']);
});

test('an aborted convert leaves neither the output nor a temporary file', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  const big: Record<string, Tensor> = {};
  for (let i = 0; i < 8; i++) big[`t${i}`] = createTensor('float32', [1024, 256], new Float32Array(1024 * 256).fill(i));
  await writeModel(getFormat('safetensors'), input, big);
  for (const target of ['out.safetensors', 'out.npz', 'out.pt']) {
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      convert(input, join(dir, target), { chunkBytes: 65_536, signal: controller.signal, onProgress: () => { if (++calls === 20) controller.abort(); } }),
      (e) => isTensioError(e, 'ABORTED'),
    );
    assert.deepEqual(await readdir(dir), ['in.safetensors'], target);
  }
});

test('tensors spanning many streamed chunks convert intact to every format (compressed npz too)', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.safetensors');
  const long = { long: createTensor('float32', [300, 100], new Float32Array(30_000).map((_, i) => Math.sin(i) * 1000)) };
  await writeModel(getFormat('safetensors'), input, long);
  const targets = BUILT_IN_FORMATS.filter((format) => format.open && format.createWriter).map((format) => ({ format: format.name, path: join(dir, `out-${format.name}${extensionOf(format)}`), writeOptions: undefined as Record<string, unknown> | undefined }));
  targets.push({ format: 'npz', path: join(dir, 'out-compressed.npz'), writeOptions: { compress: true } });
  for (const target of targets) {
    const one = getFormat(target.format).capabilities.tensors === 'one';
    await convert(input, target.path, { chunkBytes: 4096, ...(one ? { tensors: ['long'] } : {}), ...(target.writeOptions ? { writeOptions: target.writeOptions } : {}) });
    // Text (csv, txt) keeps no dtype: read it back as the one written.
    const typed = getFormat(target.format).openOptionNames?.includes('dtype');
    const reader = await openTensorFile(target.path, typed ? { formatOptions: { dtype: 'float32' } } : {});
    try {
      // A one-tensor format keeps the name where it has metadata for it (Arrow, Parquet),
      // else names its one array as NumPack does ('data').
      const name = one && !reader.tensors.some((info) => info.name === 'long') ? 'data' : 'long';
      assert.ok(tensorsEqual(await reader.read(name), long.long), target.path);
    } finally {
      await reader.close();
    }
  }
});
