/**
 * GGUF metadata of every value type through `convert`: GGUF → GGUF, GGUF → zTensor →
 * GGUF and GGUF → safetensors → GGUF end with the same keys, value types (nested arrays
 * included) and values as the gguf-py file they started from, and the same tensors
 * (F32, F16 and raw Q8_0 / Q4_K blocks, byte for byte), as gguf-py's `GGUFReader` reads
 * them. The middle files hold the values where they fit: zTensor attributes as values,
 * safetensors `__metadata__` as text; both carry the types under `gguf.value_types`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTensorFile } from '../src/operations/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';
import { runCli } from './helpers/cli.js';

const WRITE = String.raw`
import sys, numpy as np, gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V
rng = np.random.default_rng(5)
w = gguf.GGUFWriter(sys.argv[1], 'llama')
w.add_quantization_version(2)
w.add_uint8('t.u8', 200); w.add_int8('t.i8', -100); w.add_uint16('t.u16', 60000); w.add_int16('t.i16', -30000)
w.add_uint32('t.u32', 4000000000); w.add_int32('t.i32', -2000000000); w.add_float32('t.f32', 0.1); w.add_float32('t.f32_whole', 1.0)
w.add_bool('t.bool', False); w.add_string('t.str', 'héllo [1,2] "q"'); w.add_string('t.str_number', '4096')
w.add_uint64('t.u64', 2**64 - 3); w.add_int64('t.i64', -2**63 + 5); w.add_float64('t.f64', 1/3); w.add_float64('t.f64_whole', 2.0)
for name, vt, values in [('u8', V.UINT8, [0, 255]), ('i8', V.INT8, [-128, 127]), ('u16', V.UINT16, [65535]), ('i16', V.INT16, [-1, 2]),
                         ('u32', V.UINT32, [1, 2**32 - 1]), ('i32', V.INT32, [-5, 6]), ('f32', V.FLOAT32, [0.5, 1.0, -2.25, 0.1]),
                         ('u64', V.UINT64, [2**64 - 1, 7]), ('i64', V.INT64, [-2**63, 3]), ('f64', V.FLOAT64, [1/3, 4.0]),
                         ('bool', V.BOOL, [True, False, True]), ('str', V.STRING, ['a', '', 'ü'])]:
    w.add_array('a.' + name, values) if vt in (V.STRING,) else w.add_key_value('a.' + name, values, V.ARRAY, sub_type=vt)
w.add_key_value('a.nested', [[1, 2], [3]], V.ARRAY, sub_type=V.ARRAY)
def blocks(t, rows, n, scale_at):
    size = gguf.GGML_QUANT_SIZES[t][1]
    b = rng.integers(0, 256, size=(rows, n, size), dtype=np.uint8)
    for at in scale_at: b[..., at:at + 2] = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
    return b.reshape(rows, n * size)
w.add_tensor('blk.0.q4k', blocks(T.Q4_K, 3, 2, [0, 2]), raw_dtype=T.Q4_K)
w.add_tensor('blk.0.q8', blocks(T.Q8_0, 4, 3, [0]), raw_dtype=T.Q8_0)
w.add_tensor('half', rng.standard_normal((2, 8)).astype(np.float16))
w.add_tensor('norm', rng.standard_normal(64).astype(np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
`;

/** Each file's metadata (types and repr of values, keys in order) and tensors (type, shape, sha256 of the bytes), as gguf-py reads them. */
const DUMP = String.raw`
import sys, json, hashlib, gguf
out = []
for path in sys.argv[1:]:
    r = gguf.GGUFReader(path)
    fields = [[k, [gguf.GGUFValueType(t).name for t in f.types], repr(f.contents())] for k, f in r.fields.items() if not k.startswith('GGUF.')]
    tensors = sorted([t.name, t.tensor_type.name, [int(x) for x in t.shape], hashlib.sha256(t.data.tobytes()).hexdigest()] for t in r.tensors)
    out.append({'fields': fields, 'tensors': tensors})
print(json.dumps(out))
`;

interface Dump { fields: Array<[string, string[], string]>; tensors: unknown[] }

test('gguf metadata of every value type and its tensors survive convert to gguf, through .zt and through safetensors, as GGUFReader reads them', { skip: oracleSkip('gguf', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.gguf');
  runPython(WRITE, [input]);
  const steps: Array<[string, string]> = [
    [input, 'same.gguf'],
    [input, 'mid.zt'], ['mid.zt', 'from-zt.gguf'],
    [input, 'mid.safetensors'], ['mid.safetensors', 'from-st.gguf'],
  ];
  for (const [from, to] of steps) {
    const run = await runCli(['convert', from.startsWith('/') ? from : join(dir, from), join(dir, to)]);
    assert.equal(run.code, 0, `${from} → ${to}: ${run.stderr}`);
  }
  const [original, ...trips] = JSON.parse(runPython(DUMP, [input, ...['same.gguf', 'from-zt.gguf', 'from-st.gguf'].map((name) => join(dir, name))]).stdout) as Dump[];
  assert.equal(original!.fields.length, 30, 'the input holds every value type');
  assert.ok(original!.fields.some(([key, types]) => key === 'a.nested' && types.join() === 'ARRAY,ARRAY,INT32'));
  for (const [index, trip] of trips.entries()) {
    const what = ['gguf → gguf', 'gguf → zt → gguf', 'gguf → safetensors → gguf'][index]!;
    // zTensor keeps attributes in name order: the keys come back sorted there.
    const order = (fields: Dump['fields']) => (index === 1 ? [...fields].sort(([a], [b]) => (a < b ? -1 : 1)) : fields);
    assert.deepEqual(order(trip.fields), order(original!.fields), `${what}: keys, types and values`);
    assert.deepEqual(trip.tensors, original!.tensors, `${what}: tensors`);
  }
  // The middle files hold the values as their formats can.
  await using zt = await openTensorFile(join(dir, 'mid.zt'));
  assert.equal(zt.metadata['t.u32'], 4000000000);
  assert.equal(zt.metadata['t.u64'], 2n ** 64n - 3n);
  assert.deepEqual(zt.metadata['a.str'], ['a', '', 'ü']);
  assert.equal(zt.info('blk.0.q4k').dtype, 'q4_k');
  assert.equal(JSON.parse(zt.metadata['gguf.value_types'] as string)['a.nested'], 'array:array:int32');
  await using st = await openTensorFile(join(dir, 'mid.safetensors'));
  assert.equal(st.metadata['t.f32_whole'], '1');
  assert.equal(st.metadata['a.u64'], '["18446744073709551615","7"]');
  assert.equal(JSON.parse(st.metadata['gguf.value_types'] as string)['t.f32_whole'], 'float32');
});

test('a value changed on the way (--metadata) is typed as a plain value, not forced into its old type', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.gguf');
  runPython(String.raw`
import sys, gguf
w = gguf.GGUFWriter(sys.argv[1], 'llama'); w.add_uint32('llama.context_length', 4096); w.add_uint32('llama.block_count', 2)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
`, [input]);
  const run = await runCli(['convert', input, join(dir, 'out.gguf'), '--metadata', 'llama.context_length=long']);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(runPython(String.raw`
import sys, json, gguf
r = gguf.GGUFReader(sys.argv[1])
print(json.dumps({k: [gguf.GGUFValueType(f.types[0]).name, f.contents()] for k, f in r.fields.items() if not k.startswith('GGUF.')}))
`, [join(dir, 'out.gguf')]).stdout) as Record<string, [string, unknown]>;
  assert.deepEqual(out['llama.context_length'], ['STRING', 'long']);
  assert.deepEqual(out['llama.block_count'], ['UINT32', 2]);
});

test('the 12 llama.cpp vocabulary files (30k–100k-string arrays, headers up to 4 MB) convert gguf → gguf to the same bytes (every key, type and value in order), padded to the alignment', { skip: sharedSkip('corpora/gguf/llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf') }, async (t) => {
  const dir = await tempDir(t);
  const folder = sharedFile('corpora/gguf/llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf')!.replace(/[^/]+$/, '');
  const names = readdirSync(folder).filter((name) => name.endsWith('.gguf'));
  assert.equal(names.length, 12);
  for (const name of names) {
    const output = join(dir, name);
    const run = await runCli(['convert', join(folder, name), output]);
    assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    // llama.cpp wrote these tokenizer-only files without padding after the header; tensio pads to 32.
    const original = readFileSync(join(folder, name));
    const converted = readFileSync(output);
    assert.equal(converted.byteLength, Math.ceil(original.byteLength / 32) * 32, name);
    const at = original.findIndex((byte, i) => byte !== converted[i]);
    assert.equal(at, -1, `${name}: first different byte at ${at}`);
    assert.ok(converted.subarray(original.byteLength).every((byte) => byte === 0), `${name}: zero padding`);
  }
});
