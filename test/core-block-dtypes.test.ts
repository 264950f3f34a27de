/**
 * Block-quantized dtypes (src/core/block-dtypes.ts): ggml's geometry checked against
 * gguf-py, byte lengths computed from shapes, raw blocks passed through read, slices and
 * convert unchanged, and writers without such dtypes refusing them with a reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { BLOCK_DTYPE_INFO, BLOCK_DTYPES, blockDTypeOfGgmlType, isBlockDType } from '../src/core/block-dtypes.js';
import { dtypeInfo, isDType, itemSize } from '../src/core/dtype.js';
import { isTensioError } from '../src/core/errors.js';
import { tensorByteLength } from '../src/core/sizes.js';
import { createTensor } from '../src/core/tensor.js';
import { createTensorReader } from '../src/model/create-reader.js';
import type { TensorFormat, TensorWriter } from '../src/model/types.js';
import { convertReader } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { BUILT_IN_FORMATS } from '../src/operations/registry.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { chunksOf } from '../src/storage/tensor-bytes.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

test('block geometry equals gguf-py GGML_QUANT_SIZES (Q8_1 aside: gguf-py keeps an old 40-byte layout, ggml has 36)', { skip: oracleSkip('gguf') }, () => {
  const out = runPython(`
import json
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
print(json.dumps({t.name: [t.value, *GGML_QUANT_SIZES[t]] for t in T if t in GGML_QUANT_SIZES}))
`).stdout;
  const reference = JSON.parse(out.trim().split('\n').pop()!) as Record<string, [number, number, number]>;
  let compared = 0;
  for (const [ggmlName, [id, elements, bytes]] of Object.entries(reference)) {
    const ours = blockDTypeOfGgmlType(id);
    if (elements === 1) {
      assert.equal(ours, undefined, `${ggmlName} is a plain type, not a block type`);
      continue;
    }
    assert.ok(ours, `gguf-py's ${ggmlName} (id ${id}) has a block dtype`);
    const info = BLOCK_DTYPE_INFO[ours];
    assert.equal(info.ggmlName, ggmlName);
    assert.equal(info.elementsPerBlock, elements, ggmlName);
    assert.equal(info.bytesPerBlock, ggmlName === 'Q8_1' ? 36 : bytes, ggmlName);
    if (ggmlName === 'Q8_1') assert.equal(bytes, 40, 'gguf-py fixed Q8_1: drop the exception');
    compared += 1;
  }
  assert.ok(compared >= 25, `compared ${compared} block types`);
  // Every block dtype of ours that gguf-py knows was compared; the newer ones are listed here.
  const unknownToGgufPy = BLOCK_DTYPES.filter((name) => !(BLOCK_DTYPE_INFO[name].ggmlName in reference));
  for (const name of unknownToGgufPy) assert.ok(['q2_0'].includes(name), `${name} not in this gguf-py`);
});

test('block dtypes are DTypes with kind block; byte length comes from the shape, the last axis in whole blocks', () => {
  for (const name of BLOCK_DTYPES) {
    assert.ok(isDType(name) && isBlockDType(name));
    assert.equal(dtypeInfo(name).kind, 'block');
    assert.equal(itemSize(name), undefined);
  }
  assert.equal(isBlockDType('float16'), false);
  assert.equal(tensorByteLength('q4_0', [2, 64]), 2 * 2 * 18);
  assert.equal(tensorByteLength('q4_k', [4096, 4096]), 4096 * 16 * 144);
  assert.equal(tensorByteLength('mxfp4', [32]), 17);
  assert.equal(tensorByteLength('q8_0', [0, 32]), 0);
  // 2^40 rows of one Q8_0 block: still exact (BigInt), and a safe integer.
  assert.equal(tensorByteLength('q8_0', [2 ** 40, 32]), 2 ** 40 * 34);
  for (const shape of [[2, 33], [31], [], [32, 16]]) {
    assert.throws(() => tensorByteLength('q4_0', shape), (error: unknown) => isTensioError(error, 'INVALID_SHAPE'), `[${shape}]`);
  }
  assert.throws(() => createTensor('q4_0', [1, 32], new Uint8Array(17)), (error: unknown) => isTensioError(error, 'SIZE_MISMATCH'));
  assert.equal(createTensor('q4_0', [1, 32], new Uint8Array(18)).data.byteLength, 18);
});

test('raw Q8_0, Q4_0 and Q5_1 blocks made by gguf-py: rows slice and convert pass them through unchanged', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  for (const [dtype, ggml] of [['q8_0', 'Q8_0'], ['q4_0', 'Q4_0'], ['q5_1', 'Q5_1']] as const) {
    const path = join(dir, `${dtype}.bin`);
    runPython(`
import sys, numpy as np, gguf
from gguf.quants import quantize
a = (np.arange(24 * 512, dtype=np.float32).reshape(24, 512) % 97 - 48) / 13
q = quantize(a, gguf.GGMLQuantizationType.${ggml})
open(sys.argv[1], 'wb').write(q.tobytes())
`, [path]);
    const bytes = new Uint8Array(readFileSync(path));
    const shape = [24, 512];
    assert.equal(tensorByteLength(dtype, shape), bytes.byteLength, `${dtype}: gguf-py's byte count`);
    const info = { name: 'w', dtype, shape, byteLength: tensorByteLength(dtype, shape)!, formatDtype: ggml, formatDtypeId: BLOCK_DTYPE_INFO[dtype].ggmlTypeId };
    const reader = createTensorReader({ format: 'test', size: bytes.byteLength, metadata: {}, tensors: [info], locate: () => ({ kind: 'span', source: bytesSource(bytes), offset: 0 }) });
    const rowBytes = bytes.byteLength / 24;
    const rows = await reader.read('w', { slice: { start: 5, end: 9 } });
    assert.deepEqual(rows.shape, [4, 512]);
    assert.ok(Buffer.from(rows.data).equals(Buffer.from(bytes.subarray(5 * rowBytes, 9 * rowBytes))));

    // A writer that holds block dtypes receives the blocks byte for byte.
    let received: Uint8Array | undefined;
    const holdsBlocks: TensorFormat = {
      name: 'blocks-test',
      extensions: ['.blocks'],
      capabilities: { tensors: 'many', dtypes: [dtype], layouts: ['dense'], needsShapesFirst: false, canAppend: false, checksums: 'none', folder: false },
      sniff: () => false,
      cannotWrite: (spec) => (isBlockDType(spec.dtype) ? undefined : 'only block dtypes'),
      async createWriter(_path, options): Promise<TensorWriter> {
        assert.deepEqual(options.tensors.map((spec) => spec.dtype), [dtype]);
        return {
          format: 'blocks-test',
          order: options.tensors.map((spec) => spec.name),
          async add(_name, data) {
            const parts: Uint8Array[] = [];
            for await (const chunk of chunksOf(data)) parts.push(chunk.slice());
            received = new Uint8Array(Buffer.concat(parts));
          },
          async close() {},
          async abort() {},
        };
      },
    };
    const result = await convertReader(reader, join(dir, `${dtype}.blocks`), { formats: [...BUILT_IN_FORMATS, holdsBlocks], chunkBytes: 1000 });
    assert.equal(result.bytes, bytes.byteLength);
    assert.ok(received && Buffer.from(received).equals(Buffer.from(bytes)), `${dtype}: blocks unchanged`);

    // Built-in formats that declare block dtypes (GGUF, zTensor) keep the blocks as blocks;
    // the others say why they cannot hold them, and `convert` gives them the raw blocks as
    // one uint8 tensor (the ggml type goes to the metadata where the format has some).
    for (const format of BUILT_IN_FORMATS.filter((entry) => entry.createWriter)) {
      const out = join(dir, `out-${dtype}-${format.name}${format.extensions[0] ?? ''}`);
      const holds = format.capabilities.dtypes.includes(dtype);
      const reason = format.cannotWrite?.({ name: 'w', dtype, shape });
      if (holds) assert.equal(reason, undefined, `${format.name} declares ${dtype}`);
      else assert.ok(reason && reason.includes('block-quantized'), `${format.name}: ${reason}`);
      await convertReader(reader, out, { to: format.name });
      const typed = format.openOptionNames?.includes('dtype');
      const back = await openTensorFile(out, { format: format.name, ...(typed ? { formatOptions: { dtype: 'uint8' } } : {}) });
      try {
        assert.equal(back.tensors.length, 1, `${format.name}: one tensor`);
        const written = back.tensors[0]!;
        assert.equal(written.dtype, holds ? dtype : 'uint8', `${format.name}: dtype`);
        assert.ok(Buffer.from((await back.read(written.name)).data).equals(Buffer.from(bytes)), `${format.name}: ${dtype} blocks unchanged`);
      } finally {
        await back.close();
      }
    }
  }
});

test('an unknown foreign dtype stays readable as opaque bytes with the format\'s own name; writers refuse it with a code', async (t) => {
  const dir = await tempDir(t);
  const header = JSON.stringify({ w: { dtype: 'Q4_K_FUTURE', shape: [2, 256], data_offsets: [0, 288] } });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const file = new Uint8Array(8 + padded.length + 288);
  new DataView(file.buffer).setBigUint64(0, BigInt(padded.length), true);
  file.set(new TextEncoder().encode(padded), 8);
  file.fill(0x5a, 8 + padded.length);
  const { openTensorFile } = await import('../src/operations/open.js');
  await using reader = await openTensorFile(file, { format: 'safetensors' });
  const info = reader.info('w');
  assert.equal(info.dtype, 'opaque');
  assert.equal(info.formatDtype, 'Q4_K_FUTURE');
  assert.equal(info.byteLength, 288);
  const tensor = await reader.read('w');
  assert.equal(tensor.data.byteLength, 288);
  assert.equal(tensor.data[0], 0x5a);
  await assert.rejects(convertReader(reader, join(dir, 'out.npy')), (error: unknown) => isTensioError(error, 'UNSUPPORTED_DTYPE'));
});
