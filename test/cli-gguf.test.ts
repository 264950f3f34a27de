/**
 * The CLI with GGUF: convert GGUF → safetensors keeping raw blocks (uint8 + ggml_type
 * metadata) and back to the identical GGUF tensors, `--dequantize` against gguf-py's
 * dequantize, safetensors → GGUF with `--quantize`/`--arch` read by GGUFReader, and
 * `inspect` cutting long token arrays unless `--full`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';
import { runCli } from './helpers/cli.js';

/** gguf-py writes a model with raw Q4_K, Q6_K and Q8_0 blocks (random bytes, finite scales) and an f32 norm. */
const WRITE_QUANTIZED = String.raw`
import sys, os, numpy as np, gguf
from gguf import GGMLQuantizationType as T
rng = np.random.default_rng(3)
w = gguf.GGUFWriter(sys.argv[1], 'llama')
w.add_uint32('llama.context_length', 4096)
def blocks(t, rows, n, scale_at):
    size = gguf.GGML_QUANT_SIZES[t][1]
    b = rng.integers(0, 256, size=(rows, n, size), dtype=np.uint8)
    for at in scale_at: b[..., at:at + 2] = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
    return b.reshape(rows, n * size)
w.add_tensor('blk.0.q4k', blocks(T.Q4_K, 3, 2, [0, 2]), raw_dtype=T.Q4_K)
w.add_tensor('blk.0.q6k', blocks(T.Q6_K, 2, 1, [208]), raw_dtype=T.Q6_K)
w.add_tensor('blk.0.q8', blocks(T.Q8_0, 4, 3, [0]), raw_dtype=T.Q8_0)
w.add_tensor('norm', rng.standard_normal(64).astype(np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
`;

test('convert gguf → safetensors keeps raw blocks (uint8, ggml_type metadata); back to gguf the tensors are identical', { skip: oracleSkip('gguf', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_QUANTIZED, [join(dir, 'in.gguf')]);
  const toSt = await runCli(['convert', join(dir, 'in.gguf'), join(dir, 'raw.safetensors')]);
  assert.equal(toSt.code, 0, toSt.stderr);
  const back = await runCli(['convert', join(dir, 'raw.safetensors'), join(dir, 'back.gguf')]);
  assert.equal(back.code, 0, back.stderr);
  const out = JSON.parse(runPython(String.raw`
import sys, json, numpy as np, gguf
from safetensors import safe_open
with safe_open(sys.argv[1], 'numpy') as f:
    st = {'meta': f.metadata(), 'tensors': {k: [str(f.get_tensor(k).dtype), list(f.get_tensor(k).shape)] for k in f.keys()}}
a, b = gguf.GGUFReader(sys.argv[2]), gguf.GGUFReader(sys.argv[3])
bt = {t.name: t for t in b.tensors}
same = len(a.tensors) == len(b.tensors) and all(x.tensor_type == bt[x.name].tensor_type and list(x.shape) == list(bt[x.name].shape) and np.array_equal(x.data, bt[x.name].data) for x in a.tensors)
print(json.dumps({'st': st, 'same': same, 'types': {t.name: t.tensor_type.name for t in b.tensors}, 'ctx': int(b.fields['llama.context_length'].contents()), 'keys': list(b.fields)}))
`, [join(dir, 'raw.safetensors'), join(dir, 'in.gguf'), join(dir, 'back.gguf')]).stdout) as { st: { meta: Record<string, string>; tensors: Record<string, [string, number[]]> }; same: boolean; types: Record<string, string>; ctx: number; keys: string[] };
  assert.deepEqual(out.st.tensors['blk.0.q4k'], ['uint8', [3, 288]]);
  assert.deepEqual(out.st.tensors['blk.0.q8'], ['uint8', [4, 102]]);
  assert.deepEqual(out.st.tensors.norm, ['float32', [64]]);
  assert.equal(out.st.meta['ggml_type:blk.0.q4k'], 'Q4_K');
  assert.equal(out.st.meta['ggml_type:blk.0.q6k'], 'Q6_K');
  assert.equal(out.st.meta['llama.context_length'], '4096');
  assert.deepEqual(out.types, { 'blk.0.q4k': 'Q4_K', 'blk.0.q6k': 'Q6_K', 'blk.0.q8': 'Q8_0', norm: 'F32' });
  assert.ok(!out.keys.some((key) => key.startsWith('ggml_type:')), 'the block records are dropped once the blocks are blocks again');
  assert.ok(out.same, 'every tensor of back.gguf equals in.gguf (type, shape, bytes)');
  assert.equal(out.ctx, 4096);
});

test('convert gguf → safetensors --dequantize equals gguf.quants.dequantize bit for bit', { skip: oracleSkip('gguf', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_QUANTIZED, [join(dir, 'in.gguf')]);
  const run = await runCli(['convert', join(dir, 'in.gguf'), join(dir, 'f32.safetensors'), '--dequantize']);
  assert.equal(run.code, 0, run.stderr);
  const result = runPython(String.raw`
import sys, numpy as np, gguf
from safetensors.numpy import load_file
st = load_file(sys.argv[2])
for t in gguf.GGUFReader(sys.argv[1]).tensors:
    want = gguf.quants.dequantize(t.data, t.tensor_type)
    got = st[t.name]
    assert got.dtype == np.float32 and got.shape == want.shape, (t.name, got.shape, want.shape)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), t.name
print(len(st))
`, [join(dir, 'in.gguf'), join(dir, 'f32.safetensors')]);
  assert.equal(result.stdout.trim(), '4');
});

test('convert gguf → safetensors --dequantize --dtype float16|bfloat16 equals gguf.quants.dequantize then a round-to-nearest-even cast (NumPy, ml_dtypes)', { skip: oracleSkip('gguf', 'numpy', 'ml_dtypes') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_QUANTIZED, [join(dir, 'in.gguf')]);
  for (const dtype of ['float16', 'bfloat16']) {
    const out = join(dir, `${dtype}.safetensors`);
    const run = await runCli(['convert', join(dir, 'in.gguf'), out, '--dequantize', '--dtype', dtype]);
    assert.equal(run.code, 0, run.stderr);
    // safetensors' NumPy loader has no bfloat16: the header and bytes are read by hand.
    const result = runPython(String.raw`
import sys, json, struct, numpy as np, gguf, ml_dtypes
raw = open(sys.argv[2], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
want_dtype = {'float16': np.float16, 'bfloat16': ml_dtypes.bfloat16}[sys.argv[3]]
for t in gguf.GGUFReader(sys.argv[1]).tensors:
    want = gguf.quants.dequantize(t.data, t.tensor_type).astype(want_dtype)
    entry = header[t.name]
    assert entry['dtype'] == {'float16': 'F16', 'bfloat16': 'BF16'}[sys.argv[3]], entry
    begin, end = entry['data_offsets']
    got = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=np.uint16).reshape(entry['shape'])
    assert np.array_equal(got, want.view(np.uint16)), t.name
print(len([k for k in header if k != '__metadata__']))
`, [join(dir, 'in.gguf'), out, dtype]);
    assert.equal(result.stdout.trim(), '4', dtype);
  }
});

test('convert safetensors → gguf --quantize q8_0 --arch --metadata: GGUFReader reads the types and values', { skip: oracleSkip('gguf', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np
from safetensors.numpy import save_file
x = np.random.default_rng(9).standard_normal((16, 64)).astype(np.float32)
save_file({'w': x, 'b': x[0]}, sys.argv[1])
`, [join(dir, 'in.safetensors')]);
  const run = await runCli(['convert', join(dir, 'in.safetensors'), join(dir, 'out.gguf'), '--quantize', 'q8_0', '--arch', 'llama', '--metadata', 'general.name=tiny']);
  assert.equal(run.code, 0, run.stderr);
  const out = runPython(String.raw`
import sys, numpy as np, gguf
from safetensors.numpy import load_file
r = gguf.GGUFReader(sys.argv[1])
x = load_file(sys.argv[2])['w']
w = [t for t in r.tensors if t.name == 'w'][0]
assert w.tensor_type == gguf.GGMLQuantizationType.Q8_0
assert np.array_equal(w.data, gguf.quants.quantize(x, gguf.GGMLQuantizationType.Q8_0))
print(r.fields['general.architecture'].contents(), r.fields['general.name'].contents(), r.fields['general.quantization_version'].contents(), [t.tensor_type.name for t in r.tensors])
`, [join(dir, 'out.gguf'), join(dir, 'in.safetensors')]);
  assert.equal(out.stdout.trim(), "llama tiny 2 ['F32', 'Q8_0']");
  const refused = await runCli(['convert', join(dir, 'in.safetensors'), join(dir, 'x.npz'), '--quantize', 'q8_0']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--quantize applies to gguf output only/);
});

test('inspect cuts long metadata arrays (token lists) unless --full', { skip: sharedSkip('corpora/gguf/llama.cpp-vocab/ggml-vocab-gpt-2.gguf') }, async () => {
  const path = sharedFile('corpora/gguf/llama.cpp-vocab/ggml-vocab-gpt-2.gguf')!;
  const text = await runCli(['inspect', path]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /tokenizer\.ggml\.tokens +\{"truncated":true,"length":50257,"head":\["!"/);
  const json = JSON.parse((await runCli(['inspect', path, '--json'])).stdout) as { format: string; metadata: Record<string, unknown> };
  assert.equal(json.format, 'gguf');
  assert.deepEqual(Object.keys(json.metadata['tokenizer.ggml.tokens'] as object), ['truncated', 'length', 'head']);
  assert.equal((json.metadata['tokenizer.ggml.tokens'] as { head: string[] }).head.length, 64);
  const full = JSON.parse((await runCli(['inspect', path, '--json', '--full'])).stdout) as { metadata: Record<string, unknown> };
  assert.equal((full.metadata['tokenizer.ggml.tokens'] as string[]).length, 50257);
  assert.equal(full.metadata['gpt2.context_length'], 1024);
});
