import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { debianTorchSkip, runDebianPython } from './helpers/debian-torch.js';
import { bytesSource, convert, createTensor, isTensioError, memorySink, tensorByteLength, type DType, type Tensor } from '../src/index.js';
import { pytorchCannotWrite, pytorchCreateSinkWriter, pytorchCreateWriter, pytorchOpen, pytorchWrite } from '../src/formats/pytorch/index.js';
import { zipOpen } from '../src/zip/index.js';

const WRITABLE: DType[] = [
  'float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool',
  'complex64', 'complex128', 'float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64',
];
/** Dtypes torch 1.13 knows. */
const TORCH_113: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool', 'complex64', 'complex128'];

/** Random bytes for a dtype (bools as 0/1, floats free to be any bit pattern torch copies as is). */
function randomTensor(dtype: DType, shape: number[]): Tensor {
  const bytes = new Uint8Array(randomBytes(tensorByteLength(dtype, shape)!));
  if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i]! &= 1;
  return createTensor(dtype, shape, bytes);
}

function sampleTensors(dtypes: DType[]): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const dtype of dtypes) tensors[`layer.${dtype}`] = randomTensor(dtype, [3, 5]);
  tensors.scalar = randomTensor('float32', []);
  tensors.empty = randomTensor('int64', [0, 4]);
  tensors.rank5 = randomTensor('int8', [2, 1, 3, 1, 2]);
  return tensors;
}

/** Python that loads argv[1] with weights_only=True and compares every tensor with argv[2]/<name>.raw. */
const LOAD_AND_COMPARE = String.raw`
import json, os, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
assert type(sd).__name__ == 'OrderedDict', type(sd)
out = {}
for name, t in sd.items():
    raw = open(os.path.join(sys.argv[2], name + '.raw'), 'rb').read()
    got = t.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b''
    out[name] = {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'equal': got == raw, 'contiguous': t.is_contiguous()}
print(json.dumps(out))
`;

async function writeExpected(dir: string, tensors: Record<string, Tensor>): Promise<void> {
  for (const [name, tensor] of Object.entries(tensors)) await writeFile(join(dir, `${name}.raw`), tensor.data);
}

function checkLoaded(result: Record<string, { dtype: string; shape: number[]; equal: boolean }>, tensors: Record<string, Tensor>): void {
  assert.deepEqual(Object.keys(result), Object.keys(tensors));
  for (const [name, tensor] of Object.entries(tensors)) {
    const loaded = result[name]!;
    assert.equal(loaded.dtype === 'float8_e8m0fnu' ? 'float8_e8m0' : loaded.dtype, tensor.dtype, name);
    assert.deepEqual(loaded.shape, [...tensor.shape], name);
    assert.equal(loaded.equal, true, `${name}: torch read different bytes`);
  }
}

test('torch 2.13 loads tensio .pt files with weights_only=True: every writable dtype', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const tensors = sampleTensors(WRITABLE);
  await pytorchWrite(join(dir, 'all.pt'), tensors);
  await writeExpected(dir, tensors);
  checkLoaded(JSON.parse(runPython(LOAD_AND_COMPARE, [join(dir, 'all.pt'), dir]).stdout), tensors);
});

test('torch 1.13 (Debian) loads tensio .pt files with weights_only=True', { skip: debianTorchSkip() }, async (t) => {
  const dir = await tempDir(t);
  const tensors = sampleTensors(TORCH_113);
  await pytorchWrite(join(dir, 'old.pt'), tensors);
  await writeExpected(dir, tensors);
  checkLoaded(JSON.parse(runDebianPython(LOAD_AND_COMPARE, [join(dir, 'old.pt'), dir])), tensors);
});

test('tensio reads back what it wrote, and the archive is laid out as torch writes it', async (t) => {
  const dir = await tempDir(t);
  const tensors = sampleTensors(WRITABLE);
  await pytorchWrite(join(dir, 'x.pt'), tensors);
  await using reader = await pytorchOpen(join(dir, 'x.pt'));
  assert.deepEqual(reader.tensors.map((info) => info.name), Object.keys(tensors));
  for (const [name, tensor] of Object.entries(tensors)) {
    const read = await reader.read(name);
    assert.equal(read.dtype, tensor.dtype);
    assert.deepEqual(read.shape, tensor.shape);
    assert.deepEqual(read.data, tensor.data, name);
  }
  const bytes = await readFile(join(dir, 'x.pt'));
  const archive = await zipOpen(bytesSource(bytes));
  const names = archive.entries.map((entry) => entry.name);
  assert.deepEqual(names.slice(0, 4), ['archive/data.pkl', 'archive/.format_version', 'archive/.storage_alignment', 'archive/byteorder']);
  assert.equal(names.at(-1), 'archive/version');
  assert.equal(names.length, 5 + Object.keys(tensors).length);
  for (const entry of archive.entries) {
    assert.equal(entry.method, 0, `${entry.name} stored`);
    assert.equal((await archive.dataOffset(entry)) % 64, 0, `${entry.name} aligned`);
  }
  assert.equal(Buffer.from(await archive.readEntry(archive.entry('archive/version')!)).toString(), '3\n');
  // torch always writes the zip64 end records.
  assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'zip64 end of central directory');
});

test('writes are deterministic: the same tensors give the same bytes', async (t) => {
  const dir = await tempDir(t);
  const tensors = sampleTensors(['float32', 'bfloat16', 'uint64']);
  await pytorchWrite(join(dir, 'a.pt'), tensors);
  await pytorchWrite(join(dir, 'b.pt'), tensors);
  assert.deepEqual(await readFile(join(dir, 'a.pt')), await readFile(join(dir, 'b.pt')));
});

test('dtypes torch cannot hold are refused before anything is written', async (t) => {
  const dir = await tempDir(t);
  assert.equal(typeof pytorchCannotWrite({ name: 'x', dtype: 'float4_e2m1', shape: [4] }), 'string');
  assert.equal(typeof pytorchCannotWrite({ name: 'x', dtype: 'opaque', shape: [4] }), 'string');
  assert.equal(pytorchCannotWrite({ name: 'x', dtype: 'bfloat16', shape: [4] }), undefined);
  await assert.rejects(pytorchCreateWriter(join(dir, 'x.pt'), { tensors: [{ name: 'x', dtype: 'float6_e2m3', shape: [4] }] }), (err) => isTensioError(err, 'UNSUPPORTED_DTYPE'));
  await assert.rejects(stat(join(dir, 'x.pt')));
});

test('the writer checks order, sizes and completeness, and abort leaves nothing', async (t) => {
  const dir = await tempDir(t);
  const plan = [{ name: 'a', dtype: 'float32' as const, shape: [2] }, { name: 'b', dtype: 'int8' as const, shape: [3] }];
  const outOfOrder = await pytorchCreateWriter(join(dir, 'o.pt'), { tensors: plan });
  await assert.rejects(outOfOrder.add('b', new Uint8Array(3)), (err) => isTensioError(err, 'OUT_OF_ORDER'));
  await outOfOrder.abort();
  const wrongSize = await pytorchCreateWriter(join(dir, 'w.pt'), { tensors: plan });
  await assert.rejects(wrongSize.add('a', new Uint8Array(7)), (err) => isTensioError(err, 'SIZE_MISMATCH'));
  await wrongSize.abort();
  const incomplete = await pytorchCreateWriter(join(dir, 'i.pt'), { tensors: plan });
  await incomplete.add('a', [new Uint8Array(4), new Uint8Array(4)]);
  await assert.rejects(incomplete.close(), (err) => isTensioError(err, 'INCOMPLETE'));
  await incomplete.abort();
  for (const name of ['o.pt', 'w.pt', 'i.pt']) await assert.rejects(stat(join(dir, name)));
  await assert.rejects(pytorchCreateWriter(join(dir, 'd.pt'), { tensors: [plan[0]!, plan[0]!] }), (err) => isTensioError(err, 'DUPLICATE_NAME'));
});

test('a sink writer streams chunks; more than 1000 tensors batch SETITEMS and memoize globals past 256', async () => {
  const plan = Array.from({ length: 1100 }, (_, i) => ({ name: `t${i}`, dtype: (i % 2 ? 'float32' : 'uint16') as DType, shape: [i % 3] }));
  const sink = memorySink();
  const writer = await pytorchCreateSinkWriter(sink, { tensors: plan });
  for (const spec of plan) await writer.add(spec.name, new Uint8Array(tensorByteLength(spec.dtype, spec.shape)!).fill(spec.shape[0]!));
  await writer.close();
  await using reader = await pytorchOpen(bytesSource(sink.bytes()));
  assert.equal(reader.tensors.length, 1100);
  assert.deepEqual([...(await reader.read('t1001')).data], [2, 2, 2, 2, 2, 2, 2, 2]);
});

test('convert: .pt to .pt through the registry, and dropDuplicates as a read option', async (t) => {
  const dir = await tempDir(t);
  const tensors = sampleTensors(['float32', 'int64']);
  await pytorchWrite(join(dir, 'in.pt'), tensors);
  const result = await convert(join(dir, 'in.pt'), join(dir, 'out.pth'), { readOptions: { dropDuplicates: true } });
  assert.equal(result.outputFormat, 'pytorch');
  await using reader = await pytorchOpen(join(dir, 'out.pth'));
  for (const [name, tensor] of Object.entries(tensors)) assert.deepEqual((await reader.read(name)).data, tensor.data);
});

test('convert: a bare-tensor .pt stays a bare tensor after .pt -> .pt (issue 8 bug 12)', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`import torch, sys; torch.save(torch.arange(12, dtype=torch.float32).reshape(3, 4), sys.argv[1])`, [join(dir, 'bare.pt')]);
  await convert(join(dir, 'bare.pt'), join(dir, 'out.pt'));
  const loaded = runPython(String.raw`
import json, sys, torch
t = torch.load(sys.argv[1], weights_only=True)
print(json.dumps({'type': type(t).__name__, 'shape': list(t.shape), 'values': t.reshape(-1).tolist()}))
`, [join(dir, 'out.pt')]);
  assert.deepEqual(JSON.parse(loaded.stdout), { type: 'Tensor', shape: [3, 4], values: Array.from({ length: 12 }, (_, i) => i) });
  // Other outputs and selections keep naming it as before; a dict stays a dict.
  await using reader = await pytorchOpen(join(dir, 'out.pt'));
  assert.equal(reader.tensors[0]!.extras?.bare, true);
  await pytorchWrite(join(dir, 'dict.pt'), { tensor: createTensor('float32', [2], new Float32Array([1, 2])) });
  await convert(join(dir, 'dict.pt'), join(dir, 'dict-out.pt'));
  const dict = runPython(`import sys, torch; print(type(torch.load(sys.argv[1], weights_only=True)).__name__)`, [join(dir, 'dict-out.pt')]);
  assert.equal(dict.stdout.trim(), 'OrderedDict');
});
