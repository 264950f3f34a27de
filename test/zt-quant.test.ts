/**
 * `zt.quant_group/1` and `zt.mx/1` dequantization: Python (numpy, ml_dtypes) builds
 * the parts of group-quantized and microscaling tensors and computes their float32
 * values itself ((q − zero)·scale(g); element·2^(e−127), MXINT8 with OCP's 2^−6);
 * tensio writes the parts as a .zt, reads them back as the seam's typed layouts and
 * must give the same floats (dequantizeLayout, and convert --dequantize). Also: zt → zt
 * keeps the parts and attributes byte for byte; hostile attributes are LayoutRule;
 * the dequantized size is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import type { TensorSpec } from '../src/model/types.js';
import { dequantizeLayout } from '../src/model/dequantize-layout.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { contentId } from '../src/operations/content-id.js';
import { ZtRejectError, ztCreateWriter, ztOpen } from '../src/formats/zt/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

interface OracleCase {
  name: string;
  shape: number[];
  layout: string;
  attributes: Record<string, unknown>;
  parts: Array<{ name: string; dtype: DType; formatDtype: string; file: string }>;
  expected: string;
  kind: 'quant_group' | 'mx';
}

// Every case's parts and expected float32 values, computed in numpy (float64, then cast once).
const ORACLE = String.raw`
import json, sys, numpy as np, ml_dtypes
d = sys.argv[1]
rng = np.random.default_rng(1234)
cases = []
def save(name, arr):
    path = f'{d}/{name}.bin'; open(path, 'wb').write(np.ascontiguousarray(arr).tobytes()); return path
def pack(q, bits, word_bytes, order):
    per = (8 * word_bytes) // bits
    flat = q.reshape(-1).astype(np.int64) & ((1 << bits) - 1)
    assert flat.size % per == 0
    words = []
    for k in range(flat.size // per):
        w = 0
        for j in range(per):
            shift = j * bits if order == 'lsb_first' else 8 * word_bytes - (j + 1) * bits
            w |= int(flat[k * per + j]) << shift
        words.append(w)
    return np.array(words, dtype={1: '<u1', 2: '<u2', 4: '<u4', 8: '<u8'}[word_bytes])
def scale_index(shape, axis, group):
    # the group of each element: shape[axis] replaced by the group count, C order
    along = shape[axis]; groups = along // group if group else along
    idx = np.indices(shape)
    g = idx[axis] // group if group else idx[axis]
    sshape = list(shape); sshape[axis] = groups
    coords = [idx[i] if i != axis else g for i in range(len(shape))]
    return np.ravel_multi_index(coords, sshape), int(np.prod(sshape))
WORDS = {'u8': 1, 'u16': 2, 'u32': 4, 'u64': 8}
def quant(name, shape, bits, group, axis, word, order, data_dtype, scale_form, zero):
    signed = data_dtype.startswith('i')
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    q = rng.integers(lo, hi, size=shape)
    sidx, nscales = scale_index(shape, axis, group)
    if scale_form == 'f16_factors':
        scales = rng.uniform(-2, 2, nscales).astype(np.float16); sv = scales.astype(np.float64); sdt, sfd = 'float16', 'f16'
    elif scale_form == 'f32_factors':
        scales = rng.uniform(-2, 2, nscales).astype(np.float32); sv = scales.astype(np.float64); sdt, sfd = 'float32', 'f32'
    else:
        scales = rng.integers(110, 140, nscales).astype(np.uint8); sv = np.ldexp(1.0, scales.astype(np.int64) - 127); sdt, sfd = 'uint8', 'f8_e8m0'
    parts = [{'name': 'data', 'dtype': {'u8': 'uint8', 'i8': 'int8', 'u16': 'uint16', 'u32': 'uint32', 'i32': 'int32', 'u64': 'uint64'}[data_dtype], 'formatDtype': data_dtype, 'file': save(name + '.data', pack(q, bits, WORDS[word], order))},
             {'name': 'scales', 'dtype': sdt, 'formatDtype': sfd, 'file': save(name + '.scales', scales)}]
    zp = {'form': zero[0]}
    if zero[0] == 'none': z = np.zeros(nscales)
    elif zero[0] == 'implied': zp['value'] = zero[1]; z = np.full(nscales, float(zero[1]))
    else:
        zp['packing'] = zero[1]
        zq = rng.integers(0, 1 << bits, nscales)
        z = zq.astype(np.float64)
        zbytes = zq.astype(np.uint8) if zero[1] == 'plain' else pack(zq, bits, WORDS[word], order)
        parts.append({'name': 'zeros', 'dtype': 'uint8' if zero[1] == 'plain' else parts[0]['dtype'], 'formatDtype': 'u8' if zero[1] == 'plain' else data_dtype, 'file': save(name + '.zeros', zbytes)})
    values = ((q.astype(np.float64) - z[sidx]) * sv[sidx]).astype(np.float32)
    attrs = {'bits': bits, 'group_size': group, 'axis': axis, 'packing': {'word': word, 'order': order, 'per_word': (8 * WORDS[word]) // bits}, 'scale_form': scale_form, 'zero_point': zp}
    cases.append({'name': name, 'kind': 'quant_group', 'shape': list(shape), 'layout': 'zt.quant_group/1', 'attributes': attrs, 'parts': sorted(parts, key=lambda p: p['name']), 'expected': save(name + '.expected', values)})
def mx(name, shape, block, axis, elements):
    n = int(np.prod(shape))
    sidx, nscales = scale_index(shape, axis, block)
    e = rng.integers(115, 135, nscales).astype(np.uint8)
    e[nscales // 2] = 255  # a NaN scale
    sv = np.where(e == 255, np.nan, np.ldexp(1.0, e.astype(np.int64) - 127))
    if elements == 'i8':
        raw = rng.integers(-128, 128, n).astype(np.int8); ev = raw.astype(np.float64) / 64; data = raw; fd, dt = 'i8', 'int8'
    elif elements == 'f4_e2m1':
        codes = rng.integers(0, 16, n).astype(np.uint8)
        ev = codes.view(ml_dtypes.float4_e2m1fn).astype(np.float64)  # one code per byte: ml_dtypes' unpacked fp4
        data = (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8); fd, dt = 'f4_e2m1', 'uint8'
    else:
        t = {'f8_e4m3fn': ml_dtypes.float8_e4m3fn, 'f8_e5m2': ml_dtypes.float8_e5m2}[elements]
        codes = rng.integers(0, 256, n).astype(np.uint8)
        codes[(codes & 0x7f) >= (0x7f if elements == 'f8_e4m3fn' else 0x7c)] = 0x3c  # finite elements only
        ev = codes.view(t).astype(np.float64); data = codes; fd, dt = elements, 'uint8'
    values = (ev.reshape(shape) * sv[sidx]).astype(np.float32)
    parts = [{'name': 'data', 'dtype': dt, 'formatDtype': fd, 'file': save(name + '.data', data)},
             {'name': 'scales', 'dtype': 'uint8', 'formatDtype': 'f8_e8m0', 'file': save(name + '.scales', e)}]
    attrs = {'block_size': block, 'scale_form': 'e8m0_exponent'}
    if axis != len(shape) - 1: attrs['axis'] = axis
    cases.append({'name': name, 'kind': 'mx', 'shape': list(shape), 'layout': 'zt.mx/1', 'attributes': attrs, 'parts': parts, 'expected': save(name + '.expected', values)})
quant('q4_u32_lsb_f16', (3, 64), 4, 32, 1, 'u32', 'lsb_first', 'u32', 'f16_factors', ('none',))
quant('q3_u32_msb_per_index', (4, 10), 3, 0, 0, 'u32', 'msb_first', 'u32', 'f32_factors', ('implied', 4))
quant('q8_i8_e8m0', (2, 32), 8, 16, 1, 'u8', 'lsb_first', 'i8', 'e8m0_exponent', ('none',))
quant('q2_zeros_plain', (2, 16), 2, 8, 1, 'u8', 'lsb_first', 'u8', 'f16_factors', ('tensor', 'plain'))
quant('q4_u16_msb_zeros_packed', (8, 4), 4, 4, 0, 'u16', 'msb_first', 'u16', 'f32_factors', ('tensor', 'same_as_data'))
quant('q6_u32_implied', (5, 6), 6, 5, 0, 'u32', 'lsb_first', 'u32', 'f16_factors', ('implied', 32))
quant('q5_u64_msb', (2, 12), 5, 12, 1, 'u64', 'msb_first', 'u64', 'f32_factors', ('none',))
quant('q4_i32_signed_3d', (2, 4, 8), 4, 2, 1, 'u32', 'lsb_first', 'i32', 'f16_factors', ('none',))
mx('mxfp4', (2, 64), 32, 1, 'f4_e2m1')
mx('mxfp8_e4m3_axis0', (64, 2), 32, 0, 'f8_e4m3fn')
mx('mxfp8_e5m2_block2', (4, 6), 2, 1, 'f8_e5m2')
mx('mxint8', (1, 64), 32, 1, 'i8')
print(json.dumps(cases))
`;

async function ztFileOf(c: Pick<OracleCase, 'name' | 'shape' | 'layout' | 'attributes'>, parts: Array<{ name: string; dtype: DType; formatDtype: string; bytes: Uint8Array }>): Promise<Uint8Array> {
  const spec: TensorSpec = {
    name: c.name, dtype: 'opaque', shape: c.shape,
    layout: { kind: 'other', name: c.layout, attributes: c.attributes },
    parts: parts.map((part) => ({ name: part.name, dtype: part.dtype, shape: [part.bytes.byteLength / (part.dtype.endsWith('64') ? 8 : part.dtype.endsWith('32') ? 4 : part.dtype.endsWith('16') ? 2 : 1)], byteLength: part.bytes.byteLength, formatDtype: part.formatDtype })),
  };
  const sink = memorySink();
  const writer = await ztCreateWriter(sink, { tensors: [spec] });
  const total = new Uint8Array(parts.reduce((sum, part) => sum + part.bytes.byteLength, 0));
  let at = 0;
  for (const part of parts) { total.set(part.bytes, at); at += part.bytes.byteLength; }
  await writer.add(c.name, total);
  await writer.close();
  return sink.bytes();
}

function assertSameFloats(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: element count`);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]!) ? !Number.isNaN(actual[i]!) : actual[i] !== expected[i]) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, numpy gives ${expected[i]}`);
    }
  }
}

const floats = (bytes: Uint8Array): Float32Array => new Float32Array(Uint8Array.from(bytes).buffer);

test('quant_group and mx tensors dequantize to the floats numpy computes; convert --dequantize writes them; zt → zt keeps them', { skip: oracleSkip('numpy', 'ml_dtypes') }, async (t) => {
  const dir = await tempDir(t);
  const cases = JSON.parse(runPython(ORACLE, [dir]).stdout) as OracleCase[];
  assert.equal(cases.length, 12);
  for (const c of cases) {
    const parts = c.parts.map((part) => ({ ...part, bytes: new Uint8Array(readFileSync(part.file)) }));
    const file = join(dir, `${c.name}.zt`);
    const bytes = await ztFileOf(c, parts);
    writeFileSync(file, bytes);
    const expected = floats(readFileSync(c.expected));
    {
      await using reader = await ztOpen(bytes);
      const info = reader.info(c.name);
      assert.equal(info.layout?.kind, c.kind, `${c.name}: typed layout`);
      assert.equal(info.dtype, 'float32');
      const dense = await dequantizeLayout(reader, c.name);
      assert.deepEqual(dense.shape, c.shape);
      assertSameFloats(floats(dense.data), expected, c.name);
      for (const part of parts) assert.deepEqual((await reader.readPart(c.name, part.name)).data, part.bytes, `${c.name}: part ${part.name} readable as stored`);
    }
    // Into a format without the layout: refused without dequantize, float32 values with it.
    const out = join(dir, `${c.name}.safetensors`);
    await assert.rejects(convert(file, out), (error: unknown) => isTensioError(error, 'UNSUPPORTED_FEATURE') && /dequantize/.test((error as Error).message));
    await convert(file, out, { dequantize: true });
    {
      await using st = await openTensorFile(out);
      assert.equal(st.info(c.name).dtype, 'float32');
      assertSameFloats(floats((await st.read(c.name)).data), expected, `${c.name} via convert`);
    }
    // zt → zt: the layout, its attribute map and every part unchanged (the same content id).
    const copy = join(dir, `${c.name}.copy.zt`);
    await convert(file, copy);
    assert.equal(await contentId(copy), await contentId(file), `${c.name}: zt → zt content id`);
  }
});

const QUANT = { bits: 4, group_size: 32, axis: 1, packing: { word: 'u32', order: 'lsb_first', per_word: 8 }, scale_form: 'f16_factors', zero_point: { form: 'none' } };
const quantParts = (scalesBytes = 8) => [
  { name: 'data', dtype: 'uint32' as DType, formatDtype: 'u32', bytes: new Uint8Array(64).fill(0x21) },
  { name: 'scales', dtype: 'float16' as DType, formatDtype: 'f16', bytes: new Uint8Array(scalesBytes).map((_, i) => (i % 2 ? 0x3c : 0)) }, // 1.0
];

test('a typed quant_group layout (no attribute map) writes a file that opens to the same layout', async () => {
  const sink = memorySink();
  const spec: TensorSpec = {
    name: 'w', dtype: 'float32', shape: [2, 64],
    layout: { kind: 'quant_group', bits: 4, groupSize: 32, axis: 1, packing: { word: 'uint32', order: 'msb_first' }, scaleForm: 'f16_factors', zeroPoint: { form: 'implied', value: 8 } },
    parts: quantParts().map((part) => ({ name: part.name, dtype: part.dtype, shape: [part.bytes.byteLength / (part.dtype === 'uint32' ? 4 : 2)], byteLength: part.bytes.byteLength })),
  };
  const writer = await ztCreateWriter(sink, { tensors: [spec] });
  await writer.add('w', new Uint8Array([...quantParts()[0]!.bytes, ...quantParts()[1]!.bytes]));
  await writer.close();
  await using reader = await ztOpen(sink.bytes());
  const layout = reader.info('w').layout;
  assert.equal(layout?.kind, 'quant_group');
  assert.deepEqual(layout?.kind === 'quant_group' && { ...layout, attributes: undefined }, { ...spec.layout, attributes: undefined });
  // Words 0x21212121: msb_first nibbles from the top are 2, 1, 2, 1, …; minus 8, times 1.
  const values = floats((await dequantizeLayout(reader, 'w')).data);
  assert.deepEqual([...values.slice(0, 8)], [-6, -7, -6, -7, -6, -7, -6, -7]);
});

test('hostile quant_group/mx attributes are LayoutRule at open; the dequantized size is bounded', async () => {
  const faults: Array<[string, Record<string, unknown>, string]> = [
    ['bits given as text', { ...QUANT, bits: '4' }, 'zt.quant_group/1'],
    ['zero_point not a map', { ...QUANT, zero_point: 'none' }, 'zt.quant_group/1'],
    ['implied zero point that is not a number', { ...QUANT, zero_point: { form: 'implied', value: 'x' } }, 'zt.quant_group/1'],
    ['packing not a map', { ...QUANT, packing: 'u32' }, 'zt.quant_group/1'],
    ['group size not dividing the axis', { ...QUANT, group_size: 48 }, 'zt.quant_group/1'],
    ['scale form unknown', { ...QUANT, scale_form: 'f64_factors' }, 'zt.quant_group/1'],
    ['word narrower than the data dtype', { ...QUANT, packing: { word: 'u8', order: 'lsb_first', per_word: 2 } }, 'zt.quant_group/1'],
  ];
  for (const [what, attributes, layout] of faults) {
    await assert.rejects(ztFileOf({ name: 'w', shape: [2, 64], layout, attributes }, quantParts()).then((bytes) => ztOpen(bytes)),
      (error: unknown) => error instanceof ZtRejectError && error.rule === 'LayoutRule', what);
  }
  const mxParts = [
    { name: 'data', dtype: 'uint8' as DType, formatDtype: 'f8_e4m3fn', bytes: new Uint8Array(128) },
    { name: 'scales', dtype: 'uint8' as DType, formatDtype: 'f8_e8m0', bytes: new Uint8Array(4) },
  ];
  for (const [what, attributes] of [
    ['block size 1', { block_size: 1, scale_form: 'e8m0_exponent' }],
    ['block size 2^40 (no allocation from it)', { block_size: 2 ** 40, scale_form: 'e8m0_exponent' }],
    ['axis past the rank', { block_size: 32, scale_form: 'e8m0_exponent', axis: 5 }],
    ['no scale form', { block_size: 32 }],
  ] as const) {
    await assert.rejects(ztFileOf({ name: 'm', shape: [2, 64], layout: 'zt.mx/1', attributes }, mxParts).then((bytes) => ztOpen(bytes)),
      (error: unknown) => error instanceof ZtRejectError && error.rule === 'LayoutRule', what);
  }
  await using reader = await ztOpen(await ztFileOf({ name: 'w', shape: [2, 64], layout: 'zt.quant_group/1', attributes: QUANT }, quantParts()));
  await assert.rejects(dequantizeLayout(reader, 'w', { maxTensorBytes: 511 }), (error: unknown) => isTensioError(error, 'LIMIT_EXCEEDED') && /512/.test((error as Error).message));
  assert.equal((await dequantizeLayout(reader, 'w', { maxTensorBytes: 512 })).data.byteLength, 512);
});
