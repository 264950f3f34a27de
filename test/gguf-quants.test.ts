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
    values = gguf.quants.dequantize(raw, t)
    assert values.dtype == np.float32, values.dtype
    values.tofile(os.path.join(out, name + '.out'))
`;

test('dequantize: every type tensio decodes equals gguf.quants.dequantize on the same random blocks, bit for bit', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
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
  assert.deepEqual(names.sort(), ['BF16', 'F16', 'F32', 'IQ4_NL', 'IQ4_XS', 'MXFP4', 'NVFP4', 'Q2_K', 'Q3_K', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0', 'TQ1_0', 'TQ2_0']);
});

test('dequantize: a type without a decoder is refused naming it; partial blocks are refused', () => {
  assert.throws(() => ggufDequantize('iq2_xxs', new Uint8Array(66)), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE') && /iq2_xxs/.test(err.message));
  assert.throws(() => ggufDequantize('q8_0', new Uint8Array(35)), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
});
