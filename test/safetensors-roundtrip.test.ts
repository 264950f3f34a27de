/**
 * Property round trips (every writable dtype, every shape class), slices, the
 * streaming writer's rules, CRC32 checksums and verify, the registry entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { convert, createTensor, dtypeInfo, isTensioError, memorySink, openTensorFile, verifyTensorFile, bytesSource, type ByteSource, type DType, type Tensor } from '../src/index.js';
import { SAFETENSORS_DTYPES, safetensorsCannotWrite, safetensorsOpen, safetensorsSerialize, safetensorsSniff, safetensorsStreamWriter, safetensorsVerify, safetensorsWrite } from '../src/formats/safetensors/index.js';
import { tempDir } from './helpers/temp.js';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function shapesFor(dtype: DType): number[][] {
  const bits = dtypeInfo(dtype).bits;
  if (bits < 8) return [[0], [4], [2, 4], [3, 0, 4], [2, 2, 4]];
  return [[], [0], [1], [7], [3, 0, 2], [2, 3, 5], [13]];
}

function randomTensors(next: () => number): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [formatName, dtype] of SAFETENSORS_DTYPES) {
    for (const [index, shape] of shapesFor(dtype).entries()) {
      const elements = shape.reduce((a, b) => a * b, 1);
      const bytes = new Uint8Array((elements * dtypeInfo(dtype).bits) / 8);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i]! &= 1;
      tensors[`${formatName.toLowerCase()}.${index}`] = createTensor(dtype, shape, bytes);
    }
  }
  return tensors;
}

async function assertReaderHolds(reader: Awaited<ReturnType<typeof safetensorsOpen>>, tensors: Record<string, Tensor>, next: () => number): Promise<void> {
  assert.equal(reader.tensors.length, Object.keys(tensors).length);
  for (const [name, tensor] of Object.entries(tensors)) {
    const info = reader.info(name);
    const read = await reader.read(name);
    assert.equal(read.dtype, tensor.dtype, name);
    assert.deepEqual(read.shape, tensor.shape, name);
    assert.deepEqual(read.data, tensor.data, name);
    const width = Math.max(1, dtypeInfo(tensor.dtype).bits / 8);
    assert.equal((info.extras!.dataOffset as number) % width, 0, `${name} is aligned to its element size`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of reader.stream(name, { chunkBytes: 3 })) chunks.push(chunk);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(tensor.data), `${name} streamed`);
    if (tensor.shape.length > 0 && tensor.shape[0]! > 0) {
      const rows = tensor.shape[0]!;
      const start = Math.floor(next() * rows);
      const end = start + Math.floor(next() * (rows - start + 1));
      const rowBytes = tensor.data.byteLength / rows;
      if (!Number.isInteger(rowBytes)) {
        // Rows of a sub-byte tensor that do not fill whole bytes cannot be cut out as bytes.
        await assert.rejects(reader.read(name, { slice: { start, end } }), (e) => isTensioError(e, 'INVALID_SLICE'));
        continue;
      }
      const slice = await reader.read(name, { slice: { start, end } });
      assert.deepEqual(slice.shape, [end - start, ...tensor.shape.slice(1)]);
      assert.deepEqual(slice.data, tensor.data.subarray(start * rowBytes, end * rowBytes), `${name}[${start}:${end}]`);
    }
  }
}

test('safetensors round trip: every dtype and shape class, in memory and on disk', async (t) => {
  const folder = await tempDir(t);
  for (const seed of [1, 2, 3]) {
    const next = random(seed);
    const tensors = randomTensors(next);
    const bytes = safetensorsSerialize(tensors, { metadata: { seed: String(seed), format: 'pt' } });
    const fromBytes = await safetensorsOpen(bytes);
    assert.deepEqual(fromBytes.metadata, { seed: String(seed), format: 'pt' });
    await assertReaderHolds(fromBytes, tensors, next);
    const path = join(folder, `seed-${seed}.safetensors`);
    await safetensorsWrite(path, tensors, { metadata: { seed: String(seed), format: 'pt' } });
    assert.deepEqual(new Uint8Array(await readFile(path)), bytes, 'file bytes equal serialized bytes');
    const fromFile = await safetensorsOpen(path);
    await assertReaderHolds(fromFile, tensors, next);
    await fromFile.close();
  }
});

test('safetensors round trip: the stream writer in random chunk sizes gives the serialized bytes', async (t) => {
  const folder = await tempDir(t);
  const next = random(7);
  const tensors = randomTensors(next);
  const plan = Object.entries(tensors).map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape }));
  const path = join(folder, 'streamed.safetensors');
  const writer = await safetensorsStreamWriter(path, { tensors: plan, metadata: { format: 'pt' } });
  for (const name of writer.order) {
    const data = tensors[name]!.data;
    for (let at = 0; at < data.byteLength;) {
      const size = 1 + Math.floor(next() * 17);
      await writer.writeBlock(name, data.subarray(at, at + size));
      at += size;
    }
    if (next() < 0.5) await writer.finalizeTensor(name); // optional when the next block follows
  }
  await writer.close();
  assert.deepEqual(new Uint8Array(await readFile(path)), safetensorsSerialize(tensors, { metadata: { format: 'pt' } }));
});

test('safetensors writer refusals', async (t) => {
  const folder = await tempDir(t);
  const one = createTensor('float32', [1], new Float32Array([1]));
  assert.throws(() => safetensorsSerialize({ __metadata__: one }), (e) => isTensioError(e, 'RESERVED_NAME'));
  assert.throws(() => safetensorsSerialize({ '': one }), (e) => isTensioError(e, 'INVALID_NAME'));
  assert.throws(() => safetensorsSerialize({ z: { dtype: 'complex128', shape: [1], data: new Uint8Array(16) } }), (e) => isTensioError(e, 'UNSUPPORTED_DTYPE'));
  assert.throws(() => safetensorsSerialize({ o: { dtype: 'opaque', shape: [1], data: new Uint8Array(3) } }), (e) => isTensioError(e, 'UNSUPPORTED_DTYPE'));
  assert.throws(() => safetensorsSerialize({ w: { dtype: 'float32', shape: [2], data: new Uint8Array(4) } }), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  assert.throws(() => safetensorsSerialize({ f: { dtype: 'float4_e2m1', shape: [3], data: new Uint8Array(2) } }), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  assert.throws(() => safetensorsSerialize({ w: one }, { metadata: { n: 1 as unknown as string } }), (e) => isTensioError(e, 'INVALID_METADATA'));
  await assert.rejects(safetensorsStreamWriter(join(folder, 'dup.safetensors'), { tensors: [{ name: 'a', dtype: 'uint8', shape: [1] }, { name: 'a', dtype: 'uint8', shape: [1] }] }), (e) => isTensioError(e, 'DUPLICATE_NAME'));
  assert.equal(safetensorsCannotWrite({ name: 'z', dtype: 'complex128', shape: [1] }) !== undefined, true);
  assert.equal(safetensorsCannotWrite({ name: 'z', dtype: 'complex64', shape: [1] }), undefined);
  assert.deepEqual(await readdir(folder), [], 'a refused plan leaves no temporary file');
  const existing = join(folder, 'existing.safetensors');
  await writeFile(existing, 'old');
  await assert.rejects(safetensorsWrite(existing, { w: one }, { overwrite: false }), (e) => isTensioError(e, 'ALREADY_EXISTS'));
  assert.equal(await readFile(existing, 'utf8'), 'old');
});

test('safetensors stream writer: order, byte counts, abort', async (t) => {
  const folder = await tempDir(t);
  const plan = [
    { name: 'big', dtype: 'float32' as const, shape: [4] },
    { name: 'empty', dtype: 'float32' as const, shape: [0] },
    { name: 'small', dtype: 'uint8' as const, shape: [3] },
  ];
  const path = join(folder, 'rules.safetensors');
  const writer = await safetensorsStreamWriter(path, { tensors: plan });
  assert.deepEqual(writer.order, ['big', 'empty', 'small']);
  await assert.rejects(writer.writeBlock('small', new Uint8Array(1)), (e) => isTensioError(e, 'OUT_OF_ORDER'));
  await assert.rejects(writer.writeBlock('nope', new Uint8Array(1)), (e) => isTensioError(e, 'NOT_FOUND'));
  await writer.writeBlock('big', new Uint8Array(10));
  await assert.rejects(writer.writeBlock('big', new Uint8Array(7)), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  await assert.rejects(writer.finalizeTensor('big'), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  await writer.writeBlock('big', new Uint8Array(6));
  await writer.writeBlock('small', new Uint8Array(2)); // skips the complete 'big' and the empty tensor
  await assert.rejects(writer.writeBlock('big', new Uint8Array(1)), (e) => isTensioError(e, 'OUT_OF_ORDER'));
  await assert.rejects(writer.close(), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  const temporary = (await readdir(folder)).filter((name) => name.endsWith('.tmp'));
  assert.equal(temporary.length, 1, 'the temporary file exists while writing');
  await writer.abort();
  assert.deepEqual(await readdir(folder), [], 'abort removes the temporary file and publishes nothing');
  await assert.rejects(writer.writeBlock('small', new Uint8Array(1)), (e) => isTensioError(e, 'INVALID_STATE'));
});

test('safetensors CRC32: streamed checksums in __metadata__, verify finds corruption', async (t) => {
  const folder = await tempDir(t);
  const next = random(11);
  const tensors = randomTensors(next);
  const plan = Object.entries(tensors).map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape }));
  const path = join(folder, 'crc.safetensors');
  const writer = await safetensorsStreamWriter(path, { tensors: plan, metadata: { format: 'pt', 'crc32:stale': 'ffffffff' }, crc32: true });
  for (const name of writer.order) await writer.add(name, (async function* () {
    const data = tensors[name]!.data;
    for (let at = 0; at < data.byteLength; at += 5) yield data.subarray(at, at + 5);
  })());
  await writer.close();
  const reader = await safetensorsOpen(path);
  for (const [name, tensor] of Object.entries(tensors)) {
    const expected = crc32(tensor.data).toString(16).padStart(8, '0');
    assert.equal(reader.metadata[`crc32:${name}`], expected, name);
    assert.equal(reader.info(name).extras!.crc32, expected);
    assert.deepEqual((await reader.read(name)).data, tensor.data);
  }
  assert.equal(reader.metadata['crc32:stale'], undefined, 'stale CRC keys from the input are dropped');
  assert.equal(reader.metadata.format, 'pt');
  await reader.close();

  // The same CRCs come from the in-memory writer (computed up front), byte for byte.
  const inMemory = memorySink();
  await safetensorsWrite(inMemory, tensors, { metadata: { format: 'pt' }, crc32: true });
  assert.deepEqual(inMemory.bytes(), new Uint8Array(await readFile(path)));

  const report = await safetensorsVerify(path);
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified + report.withoutChecksum, plan.length);
  assert.equal(report.checksumsVerified, plan.length);

  const file = new Uint8Array(await readFile(path));
  const victim = reader.tensors.find((info) => info.byteLength > 0)!;
  file[(victim.extras!.dataOffset as number) + 1]! ^= 0x5a;
  const corrupt = join(folder, 'corrupt.safetensors');
  await writeFile(corrupt, file);
  const bad = await verifyTensorFile(corrupt);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.problems.map((p) => [p.code, p.tensor]), [['CHECKSUM_MISMATCH', victim.name]]);
  assert.equal(bad.checksumsVerified, plan.length - 1);

  const plain = join(folder, 'plain.safetensors');
  await safetensorsWrite(plain, tensors);
  const unchecked = await safetensorsVerify(plain);
  assert.equal(unchecked.ok, true);
  assert.equal(unchecked.withoutChecksum, plan.length);
  assert.equal(unchecked.checksumsVerified, 0);

  await writeFile(join(folder, 'broken.safetensors'), file.subarray(0, 50));
  const broken = await safetensorsVerify(join(folder, 'broken.safetensors'));
  assert.equal(broken.ok, false);
  assert.equal(broken.problems.length, 1);
});

test('safetensors registry: sniff, openTensorFile, convert with crc32', async (t) => {
  const folder = await tempDir(t);
  const tensors = { a: createTensor('int32', [2, 2], new Int32Array([1, 2, 3, 4])), b: createTensor('bool', [3], [true, false, true]) };
  const bytes = safetensorsSerialize(tensors);
  assert.equal(safetensorsSniff(bytes.subarray(0, 64)), true);
  assert.equal(safetensorsSniff(new TextEncoder().encode('PK\u0003\u0004 not safetensors at all')), false);
  const input = join(folder, 'in.weights');
  await writeFile(input, bytes);
  const reader = await openTensorFile(input);
  assert.equal(reader.format, 'safetensors');
  await reader.close();
  const output = join(folder, 'out.safetensors');
  await convert(input, output, { writeOptions: { crc32: true } });
  const report = await verifyTensorFile(output);
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, 2);
  const back = await safetensorsOpen(output);
  assert.deepEqual((await back.read('a')).data, tensors.a.data);
  await back.close();
});

test('safetensors open reads only the 8 + N header bytes until a tensor is asked for', async () => {
  const bytes = safetensorsSerialize({ w: createTensor('float32', [1024], new Float32Array(1024)) }, { metadata: { format: 'pt' } });
  const inner = bytesSource(bytes);
  const reads: [number, number][] = [];
  const counting: ByteSource = {
    size: inner.size,
    read(offset, length, options) {
      reads.push([offset, length]);
      return inner.read(offset, length, options);
    },
  };
  const reader = await safetensorsOpen(counting);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.deepEqual(reads, [[0, 8], [8, headerLength]]);
  await reader.read('w', { slice: { start: 10, end: 12 } });
  assert.deepEqual(reads[2], [8 + headerLength + 40, 8], 'a slice reads just its rows');
});
