/**
 * The GGUF writer against gguf-py 0.19: a file tensio writes is byte for byte the file
 * `GGUFWriter` writes from the same metadata and tensors (quantized on the way included),
 * and `GGUFReader` reads every metadata type, tensor info and tensor byte back equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ggufCreateWriter, ggufOpen, ggufQuantize } from '../src/formats/gguf/index.js';
import { convert } from '../src/operations/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s / 2 ** 32 - 0.5) * 4; }
  return out;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

test('tensio writes the same bytes as GGUFWriter: typed metadata in order, f32, f16 and a float32 tensor quantized to q8_0 on the way', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const w32 = randomFloats(4 * 64, 1);
  const w16 = new Uint16Array(3 * 8).map((_, i) => 0x3c00 + i);
  const norm = randomFloats(64, 2);
  writeFileSync(join(dir, 'w32.f32'), bytesOf(w32));
  writeFileSync(join(dir, 'norm.f32'), bytesOf(norm));
  const path = join(dir, 'tensio.gguf');
  const writer = await ggufCreateWriter(path, {
    tensors: [{ name: 'blk.0.w', dtype: 'float32', shape: [4, 64] }, { name: 'blk.0.h', dtype: 'float16', shape: [3, 8] }, { name: 'norm', dtype: 'float32', shape: [64] }],
    metadata: {
      'general.architecture': 'llama', 'general.name': 'tiny ✓', 'llama.context_length': { type: 'uint32', value: 4096 },
      'llama.rope.freq_base': { type: 'float32', value: 10000 }, 'x.i64': { type: 'int64', value: -5n }, 'x.flag': true,
      'tokenizer.ggml.tokens': ['<unk>', 'a', 'bc'], 'tokenizer.ggml.scores': new Float32Array([0, -1.5, 2]),
    },
    gguf: { quantize: 'q8_0' },
  });
  await writer.add('blk.0.w', bytesOf(w32));
  await writer.add('blk.0.h', bytesOf(w16));
  await writer.add('norm', bytesOf(norm));
  await writer.close();
  runPython(String.raw`
import sys, os, numpy as np, gguf
d = sys.argv[1]
w = gguf.GGUFWriter(os.path.join(d, 'gguf-py.gguf'), 'llama')
w.add_name('tiny ✓'); w.add_uint32('llama.context_length', 4096); w.add_float32('llama.rope.freq_base', 10000.0)
w.add_int64('x.i64', -5); w.add_bool('x.flag', True); w.add_array('tokenizer.ggml.tokens', ['<unk>', 'a', 'bc'])
w.add_key_value('tokenizer.ggml.scores', [0.0, -1.5, 2.0], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
w.add_quantization_version(2)
w32 = np.fromfile(os.path.join(d, 'w32.f32'), dtype=np.float32).reshape(4, 64)
w.add_tensor('blk.0.w', gguf.quants.quantize(w32, gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
w.add_tensor('blk.0.h', (np.arange(24, dtype=np.uint16) + 0x3c00).view(np.float16).reshape(3, 8))
w.add_tensor('norm', np.fromfile(os.path.join(d, 'norm.f32'), dtype=np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
`, [dir]);
  const ours = readFileSync(path);
  const theirs = readFileSync(join(dir, 'gguf-py.gguf'));
  assert.equal(ours.byteLength, theirs.byteLength);
  assert.equal(ours.findIndex((byte, i) => byte !== theirs[i]), -1, 'first different byte');
  // And tensio's own reader: the q8_0 blocks are the quantizer's.
  await using reader = await ggufOpen(path);
  assert.equal(reader.info('blk.0.w').dtype, 'q8_0');
  assert.deepEqual((await reader.read('blk.0.w')).data, ggufQuantize('q8_0', w32));
  assert.equal(reader.info('norm').dtype, 'float32'); // 1-D tensors stay as they are
});

test('GGUFReader reads back every metadata type, tensor infos and bytes of every plain and block dtype tensio writes (alignment 64)', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'all.gguf');
  const plans = [
    { name: 'i8', dtype: 'int8', shape: [2, 3] }, { name: 'i16', dtype: 'int16', shape: [5] }, { name: 'i32', dtype: 'int32', shape: [2, 2, 2] },
    { name: 'i64', dtype: 'int64', shape: [3] }, { name: 'f64', dtype: 'float64', shape: [1, 3] }, { name: 'bf16', dtype: 'bfloat16', shape: [4, 4] },
    { name: 'q4k', dtype: 'q4_k', shape: [2, 256] }, { name: 'iq2', dtype: 'iq2_xxs', shape: [1, 256] }, { name: 'mx', dtype: 'mxfp4', shape: [3, 32] },
  ] as const;
  const data = new Map<string, Uint8Array>();
  const writer = await ggufCreateWriter(path, {
    tensors: plans,
    metadata: {
      'general.architecture': 'test',
      'a.u8': { type: 'uint8', value: 255 }, 'a.i8': { type: 'int8', value: -128 }, 'a.u16': { type: 'uint16', value: 65535 }, 'a.i16': { type: 'int16', value: -32768 },
      'a.u32': { type: 'uint32', value: 2 ** 32 - 1 }, 'a.i32': -(2 ** 31), 'a.f32': 0.5, 'a.bool': false, 'a.str': 'ü',
      'a.u64': 2n ** 64n - 1n, 'a.i64': -(2n ** 63n), 'a.f64': { type: 'float64', value: 0.1 },
      'a.arr.u16': new Uint16Array([1, 65535]), 'a.arr.i64': [1n, -2n], 'a.arr.bool': [true, false], 'a.arr.str': ['x', ''], 'a.arr.f64': new Float64Array([0.1]),
    },
    gguf: { alignment: 64 },
  });
  let seed = 3;
  for (const plan of plans) {
    const { tensorByteLength } = await import('../src/core/sizes.js');
    const bytes = new Uint8Array(tensorByteLength(plan.dtype, plan.shape)!);
    for (let i = 0; i < bytes.length; i++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; bytes[i] = seed >>> 24; }
    data.set(plan.name, bytes);
    await writer.add(plan.name, bytes);
  }
  await writer.close();
  const dump = JSON.parse(runPython(String.raw`
import sys, json, hashlib, numpy as np, gguf
r = gguf.GGUFReader(sys.argv[1])
fields = {}
for k, f in r.fields.items():
    if k.startswith('GGUF.'): continue
    v = f.contents()
    if isinstance(v, list): v = [str(x) if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 2**53 else x for x in v]
    elif isinstance(v, int) and not isinstance(v, bool): v = str(v)
    fields[k] = {'types': [t.name for t in f.types], 'value': v}
tensors = [{'name': t.name, 'type': t.tensor_type.name, 'ne': [int(x) for x in t.shape], 'sha256': hashlib.sha256(t.data.tobytes()).hexdigest()} for t in r.tensors]
print(json.dumps({'fields': fields, 'tensors': tensors, 'alignment': int(r.alignment)}))
`, [path]).stdout) as { fields: Record<string, { types: string[]; value: unknown }>; tensors: Array<{ name: string; type: string; ne: number[]; sha256: string }>; alignment: number };
  assert.equal(dump.alignment, 64);
  const types = Object.fromEntries(Object.entries(dump.fields).map(([k, f]) => [k, f.types.join('/')]));
  assert.deepEqual(types, {
    'general.architecture': 'STRING', 'a.u8': 'UINT8', 'a.i8': 'INT8', 'a.u16': 'UINT16', 'a.i16': 'INT16', 'a.u32': 'UINT32', 'a.i32': 'INT32',
    'a.f32': 'FLOAT32', 'a.bool': 'BOOL', 'a.str': 'STRING', 'a.u64': 'UINT64', 'a.i64': 'INT64', 'a.f64': 'FLOAT64',
    'a.arr.u16': 'ARRAY/UINT16', 'a.arr.i64': 'ARRAY/INT64', 'a.arr.bool': 'ARRAY/BOOL', 'a.arr.str': 'ARRAY/STRING', 'a.arr.f64': 'ARRAY/FLOAT64',
    'general.alignment': 'UINT32', 'general.quantization_version': 'UINT32',
  });
  const values = Object.fromEntries(Object.entries(dump.fields).map(([k, f]) => [k, f.value]));
  assert.deepEqual(values, {
    'general.architecture': 'test', 'a.u8': '255', 'a.i8': '-128', 'a.u16': '65535', 'a.i16': '-32768', 'a.u32': '4294967295', 'a.i32': '-2147483648',
    'a.f32': 0.5, 'a.bool': false, 'a.str': 'ü', 'a.u64': '18446744073709551615', 'a.i64': '-9223372036854775808', 'a.f64': 0.1,
    'a.arr.u16': [1, 65535], 'a.arr.i64': [1, -2], 'a.arr.bool': [true, false], 'a.arr.str': ['x', ''], 'a.arr.f64': [0.1],
    'general.alignment': '64', 'general.quantization_version': '2',
  });
  assert.deepEqual(dump.tensors.map((x) => [x.name, x.type, x.ne]), plans.map((p) => [p.name, ({ int8: 'I8', int16: 'I16', int32: 'I32', int64: 'I64', float64: 'F64', bfloat16: 'BF16', q4_k: 'Q4_K', iq2_xxs: 'IQ2_XXS', mxfp4: 'MXFP4' } as Record<string, string>)[p.dtype], [...p.shape].reverse()]));
  for (const x of dump.tensors) assert.equal(x.sha256, createHash('sha256').update(data.get(x.name)!).digest('hex'), x.name);
});

test('convert safetensors → gguf with quantize q4_0 equals gguf-py quantize of the same tensor; 1-D tensors stay float32', { skip: oracleSkip('gguf', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, os, numpy as np, gguf
from safetensors.numpy import save_file
x = np.random.default_rng(5).standard_normal((8, 96)).astype(np.float32)
save_file({'w': x, 'b': x[0]}, os.path.join(sys.argv[1], 'in.safetensors'))
gguf.quants.quantize(x, gguf.GGMLQuantizationType.Q4_0).tofile(os.path.join(sys.argv[1], 'w.q4_0'))
`, [dir]);
  await convert(join(dir, 'in.safetensors'), join(dir, 'out.gguf'), { writeOptions: { quantize: 'q4_0', arch: 'test' } });
  await using reader = await ggufOpen(join(dir, 'out.gguf'));
  assert.equal(reader.metadata['general.architecture'], 'test');
  assert.equal(reader.info('w').dtype, 'q4_0');
  assert.deepEqual((await reader.read('w')).data, new Uint8Array(readFileSync(join(dir, 'w.q4_0'))));
  assert.equal(reader.info('b').dtype, 'float32');
});

test('metadata GGUF has no type for (objects, null, arrays of objects or of mixed kinds) is kept as JSON text', async () => {
  const { ggufTypedValue } = await import('../src/formats/gguf/write.js');
  assert.deepEqual(ggufTypedValue('table.columns', [{ name: 'a', type: 'float' }]), { type: 'string', value: '[{"name":"a","type":"float"}]' });
  assert.deepEqual(ggufTypedValue('config', { layers: 2, big: 2n ** 70n }), { type: 'string', value: '{"layers":2,"big":"1180591620717411303424"}' });
  assert.deepEqual(ggufTypedValue('nothing', null), { type: 'string', value: 'null' });
  assert.deepEqual(ggufTypedValue('mixed', [1, 'two']), { type: 'string', value: '[1,"two"]' });
  // Values with a GGUF type keep it.
  assert.equal(ggufTypedValue('tokens', ['a', 'b']).type, 'array');
  assert.equal(ggufTypedValue('nested', [[1, 2], [3]]).type, 'array');
  assert.deepEqual(ggufTypedValue('n', 7), { type: 'int32', value: 7 });
});
