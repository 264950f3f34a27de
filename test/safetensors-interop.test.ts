/**
 * Interop with the reference: files the Python `safetensors` library writes (through
 * torch and numpy) are read by tensio with equal bytes; files tensio writes are read by
 * the reference with equal bytes; and tensio's serializer emits byte-identical files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTensor, dtypeInfo, type DType, type Tensor } from '../src/index.js';
import { SAFETENSORS_DTYPES, safetensorsDtypeName, safetensorsOpen, safetensorsSerialize, safetensorsStreamWriter, safetensorsWrite } from '../src/formats/safetensors/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { PYTHON_DUMP_SAFETENSORS } from './helpers/safetensors-python.js';

interface Dumped { metadata: Record<string, string> | null; tensors: Record<string, { dtype: string; shape: number[]; hex: string | null; crc32: string | null }> }

/** tensio dtype → torch dtype attribute, for the dtypes torch has. */
const TORCH: Partial<Record<DType, string>> = {
  bool: 'bool', uint8: 'uint8', int8: 'int8', int16: 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32',
  int64: 'int64', uint64: 'uint64', float16: 'float16', bfloat16: 'bfloat16', float32: 'float32', float64: 'float64',
  complex64: 'complex64', float8_e4m3fn: 'float8_e4m3fn', float8_e5m2: 'float8_e5m2', float8_e8m0: 'float8_e8m0fnu',
  float8_e4m3fnuz: 'float8_e4m3fnuz', float8_e5m2fnuz: 'float8_e5m2fnuz',
};
const NUMPY: Partial<Record<DType, string>> = {
  bool: 'bool', uint8: 'uint8', int8: 'int8', int16: 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32',
  int64: 'int64', uint64: 'uint64', float16: 'float16', float32: 'float32', float64: 'float64', complex64: 'complex64',
};

let seed = 12345;
function randomBytes(length: number, isBool: boolean): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[i] = isBool ? (seed >>> 16) & 1 : (seed >>> 16) & 0xff;
  }
  return out;
}

function tensorsFor(dtypes: readonly DType[]): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  const shapes = [[], [0], [3], [2, 3, 2], [5, 0], [7]];
  for (const dtype of dtypes) {
    for (const [index, shape] of shapes.entries()) {
      const bytes = (shape.reduce((a, b) => a * b, 1) * dtypeInfo(dtype).bits) / 8;
      tensors[`${dtype}.${index}`] = createTensor(dtype, shape, randomBytes(bytes, dtype === 'bool'));
    }
  }
  // Names that exercise the name ordering: byte order of UTF-8, digits, case.
  for (const name of ['b', 'a', 'Z', 'a.10', 'a.9', 'é', 'z\u4e2d', 'z\u{1f600}']) tensors[name] = createTensor('float32', [2], randomBytes(8, false));
  return tensors;
}

/** Python that rebuilds tensors from a JSON spec file and saves them with the reference. */
const PYTHON_SAVE = `
import json, sys
for spec_path, which, out in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    spec = json.load(open(spec_path))
    tensors = {}
    if which == 'numpy':
        import numpy as np
        from safetensors.numpy import save
    else:
        import torch
        from safetensors.torch import save
    for name, t in spec['tensors'].items():
        data = bytes.fromhex(t['hex'])
        if which == 'numpy':
            tensors[name] = np.frombuffer(data, dtype=np.dtype(t['numpy'])).reshape(t['shape']).copy()
        else:
            u8 = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)
            tensors[name] = u8.view(getattr(torch, t['torch'])).reshape(t['shape']).clone()
    open(out, 'wb').write(save(tensors, metadata=spec['metadata']))
`;

/** Saves each job's tensors with the reference (one Python process for all) and returns the files' bytes. */
async function referenceSave(folder: string, which: 'numpy' | 'torch', tensors: Record<string, Tensor>, metadatas: (Record<string, string> | null)[]): Promise<Uint8Array[]> {
  const args: string[] = [];
  for (const [index, metadata] of metadatas.entries()) {
    const spec = {
      metadata,
      tensors: Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, { hex: Buffer.from(t.data).toString('hex'), shape: t.shape, numpy: NUMPY[t.dtype], torch: TORCH[t.dtype] }])),
    };
    const specPath = join(folder, `${which}-spec-${index}.json`);
    await writeFile(specPath, JSON.stringify(spec));
    args.push(specPath, which, join(folder, `${which}-reference-${index}.safetensors`));
  }
  runPython(PYTHON_SAVE, args);
  return Promise.all(metadatas.map(async (_, index) => new Uint8Array(await readFile(join(folder, `${which}-reference-${index}.safetensors`)))));
}

test('safetensors interop: serialize is byte-identical to safetensors.numpy.save', { skip: oracleSkip('safetensors', 'numpy', 'torch') }, async (t) => {
  const folder = await tempDir(t);
  const tensors = tensorsFor(Object.keys(NUMPY) as DType[]);
  const [reference, noMetadata] = await referenceSave(folder, 'numpy', tensors, [{ format: 'np' }, null]);
  assert.deepEqual(safetensorsSerialize(tensors, { metadata: { format: 'np' } }), reference);
  assert.deepEqual(safetensorsSerialize(tensors), noMetadata);
});

test('safetensors interop: serialize is byte-identical to safetensors.torch.save (bf16, float8, complex64, …)', { skip: oracleSkip('safetensors', 'torch') }, async (t) => {
  const folder = await tempDir(t);
  const tensors = tensorsFor(Object.keys(TORCH) as DType[]);
  // With several metadata keys the reference's order is its HashMap's (random per
  // process); tensio keeps the caller's order. Same entries, same length, same data.
  const metadata = { format: 'pt', alpha: '1', 'zeta key': 'ü"\\\n' };
  const [reference, several] = await referenceSave(folder, 'torch', tensors, [{ format: 'pt' }, metadata]);
  assert.deepEqual(safetensorsSerialize(tensors, { metadata: { format: 'pt' } }), reference);
  const ours = safetensorsSerialize(tensors, { metadata });
  assert.equal(ours.byteLength, several.byteLength);
  const headerLength = Number(new DataView(ours.buffer).getBigUint64(0, true));
  assert.deepEqual(ours.subarray(8 + headerLength), several.subarray(8 + headerLength));
  const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  assert.deepEqual(parse(ours), parse(several));
});

test('safetensors interop: tensio reads what the reference writes (every torch dtype plus F4), the reference reads what tensio writes (plain, streamed with CRC32)', { skip: oracleSkip('safetensors', 'torch') }, async (t) => {
  const folder = await tempDir(t);
  // tensio's files first, so one Python process (torch imports slowly) writes its own and reads all three.
  const tensors = tensorsFor(SAFETENSORS_DTYPES.map(([, dtype]) => dtype).filter((dtype) => dtypeInfo(dtype).bits >= 8));
  tensors['f4'] = createTensor('float4_e2m1', [2, 6], randomBytes(6, false));
  tensors['f6'] = createTensor('float6_e3m2', [2, 4], randomBytes(6, false));
  const plain = join(folder, 'plain.safetensors');
  await safetensorsWrite(plain, tensors, { metadata: { format: 'pt' } });
  const streamed = join(folder, 'streamed.safetensors');
  const writer = await safetensorsStreamWriter(streamed, { tensors: Object.entries(tensors).map(([name, x]) => ({ name, dtype: x.dtype, shape: x.shape })), metadata: { format: 'pt' }, crc32: true });
  for (const name of writer.order) {
    const data = tensors[name]!.data;
    for (let at = 0; at < data.byteLength; at += 4) await writer.writeBlock(name, data.subarray(at, at + 4));
  }
  await writer.close();

  const torchWritten = join(folder, 'torch-written.safetensors');
  const script = `
import sys, torch
from safetensors.torch import save_file
g = torch.Generator().manual_seed(3)
names = ${JSON.stringify(Object.values(TORCH))}
tensors = {}
for dt in names:
    for i, shape in enumerate([(), (0,), (5,), (2, 3, 4), (3, 0, 2)]):
        n = 1
        for d in shape: n *= d
        size = torch.empty((), dtype=getattr(torch, dt)).element_size()
        hi = 2 if dt == 'bool' else 256
        u8 = torch.randint(0, hi, (n * size,), dtype=torch.uint8, generator=g)
        tensors[f'{dt}.{i}'] = u8.view(getattr(torch, dt)).reshape(shape)
tensors['f4'] = torch.randint(0, 256, (6,), dtype=torch.uint8, generator=g).view(torch.float4_e2m1fn_x2).reshape(2, 3)
save_file(tensors, sys.argv[1], metadata={'format': 'pt', 'source': 'torch'})
` + PYTHON_DUMP_SAFETENSORS;
  const dumped = JSON.parse(runPython(script, [torchWritten, plain, streamed]).stdout) as Record<string, Dumped>;

  // Reference → tensio.
  const fromTorch = dumped[torchWritten]!;
  const reader = await safetensorsOpen(torchWritten);
  assert.deepEqual(reader.metadata, fromTorch.metadata);
  assert.equal(reader.tensors.length, Object.keys(fromTorch.tensors).length);
  for (const [name, expected] of Object.entries(fromTorch.tensors)) {
    const info = reader.info(name);
    assert.equal(info.formatDtype, expected.dtype, name);
    assert.equal(safetensorsDtypeName(info.dtype), expected.dtype, name);
    assert.deepEqual(info.shape, expected.shape, name);
    assert.equal(Buffer.from((await reader.read(name)).data).toString('hex'), expected.hex, name);
  }
  assert.deepEqual(reader.info('f4').shape, [2, 6], 'F4 shape counts elements, two per byte');
  await reader.close();

  // tensio → reference.
  for (const path of [plain, streamed]) {
    const file = dumped[path]!;
    assert.equal(Object.keys(file.tensors).length, Object.keys(tensors).length);
    for (const [name, tensor] of Object.entries(tensors)) {
      const seen = file.tensors[name]!;
      assert.equal(seen.dtype, safetensorsDtypeName(tensor.dtype), name);
      assert.deepEqual(seen.shape, tensor.shape, name);
      if (tensor.dtype === 'float6_e3m2') assert.equal(seen.hex, null, 'torch has no F6 dtype');
      else assert.equal(seen.hex, Buffer.from(tensor.data).toString('hex'), `${path} ${name}`);
    }
  }
  const withCrc = dumped[streamed]!;
  assert.equal(withCrc.metadata!.format, 'pt');
  for (const [name, seen] of Object.entries(withCrc.tensors)) {
    if (seen.crc32 !== null) assert.equal(withCrc.metadata![`crc32:${name}`], seen.crc32, `CRC32 of ${name} as Python's zlib computes it`);
  }
});
