/**
 * GGUF reading against the real thing: the 12 llama.cpp vocabulary files (every key's
 * type and value as gguf-py 0.19 reads them), hyllama's dummy.gguf (every scalar type,
 * 10 f32 tensors of known values), and files gguf-py's GGUFWriter writes here (both
 * byte orders, nested arrays, plain and quantized tensors, a split model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ggufOpen, type GgufArray, type GgufTypedValue } from '../src/formats/gguf/index.js';
import { openTensorFile } from '../src/operations/index.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const VOCAB = 'corpora/gguf/llama.cpp-vocab';
const DUMMY = 'corpora/gguf/hyllama/dummy.gguf';

/** gguf-py's type spelling (`UINT32`, `ARRAY[STRING]`) of a typed value. */
function ggufPyType(value: GgufTypedValue): string {
  return value.type === 'array' ? `ARRAY[${value.value.itemType.toUpperCase()}]` : value.type.toUpperCase();
}

test('the 12 llama.cpp vocabulary files: every key with its gguf-py type and value, counts, alignment, data offset', { skip: sharedSkip(`${VOCAB}/EXPECTED.gguf-py.json`) }, async () => {
  const folder = sharedFile(VOCAB)!;
  const expected = JSON.parse(readFileSync(join(folder, 'EXPECTED.gguf-py.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  const files = readdirSync(folder).filter((name) => name.endsWith('.gguf')).sort();
  assert.equal(files.length, 12);
  for (const file of files) {
    const want = expected[file]!;
    await using reader = await ggufOpen(join(folder, file));
    const header = reader.gguf;
    assert.equal(header.version, want.version, file);
    assert.equal(header.metadata.size, want.kv_count, file);
    assert.equal(header.tensors.length, want.tensor_count, file);
    assert.equal(header.alignment, want.alignment, file);
    assert.equal(header.dataStart, want.data_offset, file);
    let keys = 0;
    for (const [key, entry] of Object.entries(want)) {
      if (typeof entry !== 'object' || entry === null) continue;
      keys++;
      const e = entry as { type: string; value?: unknown; len?: number; first?: unknown; last?: unknown };
      const got = header.metadata.get(key);
      assert.ok(got, `${file}: ${key} missing`);
      assert.equal(ggufPyType(got), e.type, `${file}: ${key}`);
      if (got.type === 'array') {
        const items = got.value.items as ArrayLike<unknown>;
        assert.equal(items.length, e.len, `${file}: ${key} length`);
        const first = Array.isArray(e.first) ? e.first[0] : e.first;
        const last = Array.isArray(e.last) ? e.last[0] : e.last;
        assert.equal(items[0], first, `${file}: ${key} first`);
        assert.equal(items[items.length - 1], last, `${file}: ${key} last`);
        assert.deepEqual(reader.metadata[key], Array.from(items), `${file}: ${key} plain`);
      } else {
        // EXPECTED cuts long strings to a prefix and '...', with the full byte length beside it.
        const text = e.value;
        if (typeof text === 'string' && text.endsWith('...') && e.len !== undefined && e.len + 3 !== new TextEncoder().encode(text).byteLength) {
          assert.ok((got.value as string).startsWith(text.slice(0, -3)), `${file}: ${key} prefix`);
        } else {
          assert.equal(got.value, text, `${file}: ${key}`);
        }
        if (e.len !== undefined) assert.equal(new TextEncoder().encode(got.value as string).byteLength, e.len);
      }
    }
    assert.equal(keys, want.kv_count, `${file}: every key compared`);
    // Files named by content: the sha256 recorded is of these very bytes.
    assert.equal(createHash('sha256').update(readFileSync(join(folder, file))).digest('hex'), want.sha256);
  }
});

test('hyllama dummy.gguf: every scalar type typed as written, arrays, 10 f32 tensors with their values', { skip: sharedSkip(DUMMY) }, async () => {
  const path = sharedFile(DUMMY)!;
  const expected = JSON.parse(readFileSync(join(path, '..', 'EXPECTED.dummy.json'), 'utf8')) as {
    version: number; kv: Record<string, unknown>; data_start: number;
    tensors: Array<{ name: string; dims: number[]; type: number; offset: number; f32_first: number; n: number }>;
  };
  await using reader = await openTensorFile(path);
  assert.equal(reader.format, 'gguf');
  const gguf = (reader as Awaited<ReturnType<typeof ggufOpen>>).gguf;
  assert.equal(gguf.version, expected.version);
  assert.equal(gguf.dataStart, expected.data_start);
  const types = Object.fromEntries([...gguf.metadata].map(([key, value]) => [key, value.type === 'array' ? `array:${value.value.itemType}` : value.type]));
  assert.deepEqual(types, {
    'some.parameter.uint8': 'uint8', 'some.parameter.int8': 'int8', 'some.parameter.uint16': 'uint16', 'some.parameter.int16': 'int16',
    'some.parameter.uint32': 'uint32', 'some.parameter.int32': 'int32', 'some.parameter.float32': 'float32', 'some.parameter.uint64': 'uint64',
    'some.parameter.int64': 'int64', 'some.parameter.float64': 'float64', 'some.parameter.bool': 'bool', 'some.parameter.string': 'string',
    'some.parameter.arr.i16': 'array:int16', 'some.parameter.arr.f32': 'array:float32', 'some.parameter.arr.str': 'array:string',
  });
  for (const [key, value] of Object.entries(expected.kv)) {
    const got = reader.metadata[key];
    // 64-bit integers stay exact (bigint); the JSON file holds them as numbers.
    if (typeof got === 'bigint') assert.equal(got, key.endsWith('uint64') ? 1311768467463790320n : -1311768467463790321n, key);
    else assert.deepEqual(got, value, key);
  }
  assert.ok((gguf.metadata.get('some.parameter.arr.i16')!.value as GgufArray).items instanceof Int16Array);
  assert.equal(reader.tensors.length, 10);
  for (const want of expected.tensors) {
    const info = reader.info(want.name);
    assert.deepEqual(info.shape, [...want.dims].reverse(), want.name);
    assert.equal(info.dtype, 'float32');
    assert.equal(info.extras!.dataOffset, expected.data_start + want.offset);
    const tensor = await reader.read(want.name);
    const values = new Float32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength / 4);
    assert.equal(values.length, want.n);
    assert.ok(values.every((v) => v === want.f32_first), `${want.name}: all ${want.f32_first}`);
  }
});

/** Writes GGUF files with gguf-py's GGUFWriter and dumps what its GGUFReader sees. */
const WRITE_WITH_GGUF_PY = String.raw`
import sys, json, hashlib, numpy as np, gguf
out, endian = sys.argv[1], sys.argv[2]
w = gguf.GGUFWriter(out, 'llama', endianess=gguf.GGUFEndian.BIG if endian == 'big' else gguf.GGUFEndian.LITTLE)
w.add_uint8('t.u8', 200); w.add_int8('t.i8', -100); w.add_uint16('t.u16', 60000); w.add_int16('t.i16', -30000)
w.add_uint32('t.u32', 4000000000); w.add_int32('t.i32', -2000000000); w.add_float32('t.f32', 0.1)
w.add_uint64('t.u64', 18446744073709551615); w.add_int64('t.i64', -9223372036854775808); w.add_float64('t.f64', 0.1)
w.add_bool('t.bool', True); w.add_string('t.str', 'héllo ✓'); w.add_array('t.arr.i32', [1, -2, 3]); w.add_array('t.arr.f32', [0.5, 1.5])
w.add_array('t.arr.str', ['a', 'ß', '']); w.add_array('t.arr.bool', [True, False]); w.add_array('t.nested', [[1, 2], [3, 4, 5]])
w.add_custom_alignment(64)
rng = np.random.default_rng(1)
w.add_tensor('f32', rng.standard_normal((3, 5)).astype(np.float32))
w.add_tensor('f16', rng.standard_normal((2, 7)).astype(np.float16))
w.add_tensor('i32', np.arange(-4, 4, dtype=np.int32).reshape(2, 4))
w.add_tensor('f64', rng.standard_normal(3))
q = gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), gguf.GGMLQuantizationType.Q8_0)
w.add_tensor('q8', q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
q = gguf.quants.quantize(rng.standard_normal((3, 256)).astype(np.float32), gguf.GGMLQuantizationType.Q4_0)
w.add_tensor('q4', q, raw_dtype=gguf.GGMLQuantizationType.Q4_0)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
r = gguf.GGUFReader(out)
fields = {}
for k, f in r.fields.items():
    if k.startswith('GGUF.') or k == 't.nested': continue
    v = f.contents()
    if hasattr(v, 'item'): v = v.item()
    if isinstance(v, list): v = [x.item() if hasattr(x, 'item') else x for x in v]
    fields[k] = {'types': [t.name for t in f.types], 'value': v if not isinstance(v, int) or abs(v) < 2**53 else str(v)}
tensors = []
for t in r.tensors:
    d = t.data
    if d.dtype.byteorder == '>': d = d.byteswap().view(d.dtype.newbyteorder('<'))
    tensors.append({'name': t.name, 'type': int(t.tensor_type), 'ne': [int(x) for x in t.shape], 'sha256': hashlib.sha256(np.ascontiguousarray(d).tobytes()).hexdigest(), 'offset': int(t.data_offset)})
print(json.dumps({'fields': fields, 'tensors': tensors, 'alignment': int(r.alignment), 'data_offset': int(r.data_offset)}))
`;

const GGUF_PY_TYPES: Record<string, string> = { UINT8: 'uint8', INT8: 'int8', UINT16: 'uint16', INT16: 'int16', UINT32: 'uint32', INT32: 'int32', FLOAT32: 'float32', BOOL: 'bool', STRING: 'string', ARRAY: 'array', UINT64: 'uint64', INT64: 'int64', FLOAT64: 'float64' };

for (const endian of ['little', 'big'] as const) {
  test(`files gguf-py's GGUFWriter writes (${endian}-endian) read equal: types, values, nested arrays, tensors byte for byte`, { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
    const dir = await tempDir(t);
    {
      const path = join(dir, `written-${endian}.gguf`);
      const dump = JSON.parse(runPython(WRITE_WITH_GGUF_PY, [path, endian]).stdout) as {
        fields: Record<string, { types: string[]; value: unknown }>; tensors: Array<{ name: string; type: number; ne: number[]; sha256: string; offset: number }>; alignment: number; data_offset: number;
      };
      await using reader = await ggufOpen(path);
      assert.equal(reader.gguf.bigEndian, endian === 'big');
      assert.equal(reader.gguf.alignment, 64);
      assert.equal(reader.gguf.dataStart, dump.data_offset);
      for (const [key, field] of Object.entries(dump.fields)) {
        const got = reader.gguf.metadata.get(key)!;
        assert.ok(got, key);
        assert.equal(got.type, GGUF_PY_TYPES[field.types[0]!], key);
        if (got.type === 'array') assert.equal(got.value.itemType, GGUF_PY_TYPES[field.types[1]!], key);
        const plain = reader.metadata[key];
        if (typeof plain === 'bigint') assert.equal(plain.toString(), String(field.value), key);
        else if (got.type === 'float32') assert.equal(plain, Math.fround(field.value as number), key);
        else assert.deepEqual(plain, field.value, key);
      }
      const nested = reader.gguf.metadata.get('t.nested')!;
      assert.equal(nested.type, 'array');
      const outer = nested.value as GgufArray;
      assert.equal(outer.itemType, 'array');
      assert.deepEqual((outer.items as GgufArray[]).map((inner) => [inner.itemType, Array.from(inner.items as Int32Array)]), [['int32', [1, 2]], ['int32', [3, 4, 5]]]);
      assert.deepEqual(reader.metadata['t.nested'], [[1, 2], [3, 4, 5]]);
      assert.deepEqual(reader.tensors.map((t) => t.name), dump.tensors.map((t) => t.name));
      for (const want of dump.tensors) {
        const info = reader.info(want.name);
        assert.equal(info.formatDtypeId, want.type, want.name);
        assert.deepEqual(info.extras!.ne, want.ne, want.name);
        assert.deepEqual(info.shape, [...want.ne].reverse(), want.name);
        assert.equal(info.extras!.dataOffset, want.offset, want.name);
        const tensor = await reader.read(want.name);
        assert.equal(createHash('sha256').update(tensor.data).digest('hex'), want.sha256, `${want.name} bytes`);
      }
      assert.deepEqual(reader.tensors.map((info) => info.dtype), ['float32', 'float16', 'int32', 'float64', 'q8_0', 'q4_0']);
    }
  });
}

test('a split model gguf-py writes (split_max_tensors) opens as one reader from any split name', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  {
    const dump = JSON.parse(runPython(String.raw`
import sys, json, os, numpy as np, gguf
w = gguf.GGUFWriter(os.path.join(sys.argv[1], 'model.gguf'), 'llama', split_max_tensors=2)
for i in range(5): w.add_tensor(f'w{i}', np.full((2, 3), i, dtype=np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
print(json.dumps(sorted(os.listdir(sys.argv[1]))))
`, [dir]).stdout) as string[];
    assert.deepEqual(dump, ['model-00001-of-00003.gguf', 'model-00002-of-00003.gguf', 'model-00003-of-00003.gguf']);
    await using reader = await ggufOpen(join(dir, 'model-00002-of-00003.gguf'));
    assert.deepEqual(reader.tensors.map((t) => t.name), ['w0', 'w1', 'w2', 'w3', 'w4']);
    assert.equal(reader.splits.length, 3);
    for (let i = 0; i < 5; i++) {
      const tensor = await reader.read(`w${i}`);
      assert.deepEqual(Array.from(new Float32Array(tensor.data.slice().buffer)), new Array(6).fill(i));
    }
    await using one = await ggufOpen(join(dir, 'model-00002-of-00003.gguf'), { followSplits: false });
    assert.deepEqual(one.tensors.map((info) => info.name), ['w2', 'w3']);
  }
});
