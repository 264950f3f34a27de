/**
 * Dequantization and quantization against gguf-py 0.19 (`gguf.quants`): random blocks
 * (every bit pattern, scales included) generated in Python, dequantized by both, compared
 * bit for bit (a NaN equals any NaN: payloads are not promised); random floats quantized
 * by both, the blocks compared byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_DTYPE_INFO, isBlockDType } from '../src/core/block-dtypes.js';
import type { DType } from '../src/core/dtype.js';
import { isTensioError } from '../src/core/errors.js';
import { GGUF_DEQUANTIZABLE, ggufDequantize } from '../src/formats/gguf/dequantize.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** gguf-py's type name of a dtype. */
const ggmlName = (dtype: DType): string => (isBlockDType(dtype) ? BLOCK_DTYPE_INFO[dtype].ggmlName : ({ float16: 'F16', bfloat16: 'BF16', float32: 'F32' } as Record<string, string>)[dtype]!);

/** Compares float32 arrays bit for bit; NaN matches NaN. Returns the first difference or undefined. */
function firstDifference(a: Float32Array, b: Float32Array): string | undefined {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  const ab = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bb = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ab[i] !== bb[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `element ${i}: ${a[i]} (0x${ab[i]!.toString(16)}) vs ${b[i]} (0x${bb[i]!.toString(16)})`;
  }
  return undefined;
}

const DEQUANTIZE = String.raw`
import sys, os, numpy as np, gguf
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
out = sys.argv[1]
rng = np.random.default_rng(7)
for name in sys.argv[2:]:
    t = T[name]
    block, size = GGML_QUANT_SIZES[t]
    raw = rng.integers(0, 256, size=(4, 16 * size), dtype=np.uint8)
    if name in ('F16', 'BF16'): raw = raw.reshape(4, -1)
    raw.tofile(os.path.join(out, name + '.in'))
    if name == 'Q8_K':
        # gguf-py 0.19 has no Q8_K: ggml's dequantize_row_q8_K (y = d * qs, float32) in NumPy.
        blocks = raw.reshape(-1, size)
        d = blocks[:, :4].copy().view(np.float32)
        values = (d * blocks[:, 4:4 + block].copy().view(np.int8).astype(np.float32)).reshape(4, -1)
    else:
        values = gguf.quants.dequantize(raw, t)
    assert values.dtype == np.float32, values.dtype
    values.tofile(os.path.join(out, name + '.out'))
`;

test('dequantize: every type tensio decodes equals gguf.quants.dequantize on the same random blocks, bit for bit (Q8_K: ggml\'s formula in NumPy)', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const names = GGUF_DEQUANTIZABLE.map(ggmlName);
  runPython(DEQUANTIZE, [dir, ...names]);
  const out = new Float32Array(1 << 16);
  for (const dtype of GGUF_DEQUANTIZABLE) {
    const name = ggmlName(dtype);
    const input = new Uint8Array(readFileSync(join(dir, `${name}.in`)));
    const expected = new Float32Array(new Uint8Array(readFileSync(join(dir, `${name}.out`))).buffer);
    const fresh = ggufDequantize(dtype, input);
    assert.equal(firstDifference(fresh, expected), undefined, `${name}`);
    // Into a reused buffer, one row at a time: the same values.
    const rowBytes = input.byteLength / 4;
    for (let row = 0; row < 4; row++) {
      const values = ggufDequantize(dtype, input.subarray(row * rowBytes, (row + 1) * rowBytes), out);
      assert.equal(firstDifference(values, expected.subarray(row * values.length, (row + 1) * values.length)), undefined, `${name} row ${row}`);
    }
  }
  assert.deepEqual(names.sort(), [
    'BF16', 'F16', 'F32', 'IQ1_M', 'IQ1_S', 'IQ2_S', 'IQ2_XS', 'IQ2_XXS', 'IQ3_S', 'IQ3_XXS', 'IQ4_NL', 'IQ4_XS', 'MXFP4', 'NVFP4',
    'Q2_K', 'Q3_K', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0', 'Q8_K', 'TQ1_0', 'TQ2_0',
  ]);
});

test('dequantize: a type without a decoder is refused naming it; partial blocks are refused', () => {
  assert.throws(() => ggufDequantize('q8_1', new Uint8Array(36)), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE') && /q8_1/.test(err.message));
  assert.throws(() => ggufDequantize('q8_0', new Uint8Array(35)), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
});

const QUANTIZE = String.raw`
import sys, os, numpy as np, gguf
from gguf.constants import GGMLQuantizationType as T
out = sys.argv[1]
rng = np.random.default_rng(11)
x = (rng.standard_normal((8, 1024)) * rng.choice([1e-3, 1, 50], size=(8, 1))).astype(np.float32)
x[1, :256] = 0          # all-zero blocks (d = 0, 1/d taken as 0)
x[2, :256] = 0.75       # constant blocks (max = min)
x[3, :64] = np.round(x[3, :64] * 4) / 4   # values on the grid: ties
x[4, :32] = 2.0 ** np.arange(-16, 16)     # powers of two (log2 exact)
x[4, 32:64] = np.nextafter(np.float32(2.0) ** np.arange(-16, 16, dtype=np.float32), np.float32(0))  # just below them
x.tofile(os.path.join(out, 'x.f32'))
for name in sys.argv[2:]:
    gguf.quants.quantize(x, T[name]).tofile(os.path.join(out, name + '.q'))
`;

test('quantize: every type tensio produces equals gguf.quants.quantize on the same floats, byte for byte', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const { GGUF_QUANTIZABLE, ggufQuantize } = await import('../src/formats/gguf/quantize.js');
  const dir = await tempDir(t);
  const names = GGUF_QUANTIZABLE.map(ggmlName);
  runPython(QUANTIZE, [dir, ...names]);
  const x = new Float32Array(new Uint8Array(readFileSync(join(dir, 'x.f32'))).buffer);
  for (const dtype of GGUF_QUANTIZABLE) {
    const name = ggmlName(dtype);
    const expected = new Uint8Array(readFileSync(join(dir, `${name}.q`)));
    const got = ggufQuantize(dtype, x);
    assert.equal(got.byteLength, expected.byteLength, name);
    const at = got.findIndex((byte, i) => byte !== expected[i]);
    assert.equal(at, -1, `${name}: first different byte at ${at}`);
    // And back: dequantizing tensio's blocks equals dequantizing gguf-py's (same bytes).
    if (GGUF_DEQUANTIZABLE.includes(dtype)) assert.equal(firstDifference(ggufDequantize(dtype, got), ggufDequantize(dtype, expected)), undefined);
  }
  assert.deepEqual(names.sort(), ['BF16', 'F16', 'F32', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'TQ1_0', 'TQ2_0', 'MXFP4'].sort());
});

test('dequantize streamed: chunks that split blocks give the same values as one call, in a reused buffer', async () => {
  const { craftGguf } = await import('./helpers/gguf-craft.js');
  const { ggufOpen } = await import('../src/formats/gguf/index.js');
  const { ggufDequantizeStream, ggufDequantizeTensor } = await import('../src/formats/gguf/dequantize-stream.js');
  const blocks = new Uint8Array(6 * 144 * 3);
  for (let i = 0; i < blocks.length; i++) blocks[i] = (i * 2654435761) >>> 24;
  // Finite scales: keep each block's two float16s (d, dmin) small.
  for (let b = 0; b < 18; b++) { blocks[b * 144 + 1] = 0x2c; blocks[b * 144 + 3] = 0x28; }
  const bytes = craftGguf({ tensors: [{ name: 'w', ne: [1536, 3], type: 12, offset: 0 }], data: blocks });
  await using reader = await ggufOpen(bytes);
  assert.equal(reader.info('w').dtype, 'q4_k');
  const whole = ggufDequantize('q4_k', blocks);
  assert.deepEqual(await ggufDequantizeTensor(reader, 'w'), whole);
  for (const chunkBytes of [1, 100, 144, 1000]) {
    const parts: number[] = [];
    for await (const values of ggufDequantizeStream(reader, 'w', { chunkBytes, reuseBuffer: true })) parts.push(...values);
    assert.deepEqual(new Float32Array(parts), whole, `chunkBytes ${chunkBytes}`);
  }
});
