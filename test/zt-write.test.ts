/**
 * Writing zTensor v2: the canonical writer reproduces the reference's corpus file byte
 * for byte, round trips every dtype it holds, compresses to zstd-seekable (a row slice
 * decodes only the frames it touches), verifies, and what it writes is read by an
 * independent Python reader (cbor2 canonical re-encoding, xxhash, zstandard).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DType } from '../src/core/dtype.js';
import { TensioError } from '../src/core/errors.js';
import { bytesSource, type ByteSource } from '../src/storage/byte-source.js';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { verifyTensorFile } from '../src/operations/verify.js';
import { ztContentDigest, ztCreateWriter, ztOpen, ztVerify } from '../src/formats/zt/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
}

async function writeZt(path: string, tensors: Array<{ name: string; dtype: DType; shape: number[]; data: Uint8Array }>, options: Parameters<typeof ztCreateWriter>[1] extends infer O ? Omit<O & object, 'tensors'> : never = {}): Promise<void> {
  const writer = await ztCreateWriter(path, { tensors: tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })), ...options });
  for (const name of writer.order) await writer.add(name, tensors.find((t) => t.name === name)!.data);
  await writer.close();
}

test('the canonical writer gives the reference canonical-basic.zt byte for byte (blob order, dedup, xxh3, 64 KiB)', { skip: sharedSkip('conformance/ztensor/valid/canonical-basic.zt') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'c.zt');
  await writeZt(path, [
    { name: 'tied', dtype: 'bfloat16', shape: [2, 4], data: new Uint8Array(16).fill(2) },
    { name: 'a.weight', dtype: 'bfloat16', shape: [2, 4], data: new Uint8Array(16).fill(2) },
    { name: 'a.bias', dtype: 'float32', shape: [4], data: new Uint8Array(16).fill(1) },
  ]);
  assert.deepEqual(readFileSync(path), readFileSync(sharedFile('conformance/ztensor/valid/canonical-basic.zt')!));
});

const DTYPES: Array<[DType, number[]]> = [
  ['float64', [3, 2]], ['float32', [4, 5]], ['float16', [7]], ['bfloat16', [2, 3]], ['int64', [2]], ['int32', [3, 1]], ['int16', [5]], ['int8', [9]],
  ['uint64', [2]], ['uint32', [2, 2]], ['uint16', [3]], ['uint8', [0, 4]], ['float8_e4m3fn', [6]], ['float8_e5m2', [6]], ['float8_e8m0', [4]],
  ['float4_e2m1', [2, 4]], ['complex64', [3]], ['complex128', [2]], ['q4_0', [2, 64]], ['float32', []],
];

function dtypeTensors(): Array<{ name: string; dtype: DType; shape: number[]; data: Uint8Array }> {
  return DTYPES.map(([dtype, shape], i) => {
    const bytes = { float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint64: 8, uint32: 4, uint16: 2, uint8: 1, float8_e4m3fn: 1, float8_e5m2: 1, float8_e8m0: 1, complex64: 8, complex128: 16 }[dtype as string];
    const count = shape.reduce((a, b) => a * b, 1);
    const length = dtype === 'float4_e2m1' ? count / 2 : dtype === 'q4_0' ? (count / 32) * 18 : count * bytes!;
    return { name: `t${String(i).padStart(2, '0')}.${dtype}`, dtype, shape, data: pattern(length, i + 1) };
  }).concat([{ name: 'flags', dtype: 'bool', shape: [5], data: Uint8Array.of(0, 1, 1, 0, 1) }]);
}

test('every dtype round trips (dense, logical types, gguf blocks, scalar, empty), digests verify, identical files for identical tensors', async (t) => {
  const dir = await tempDir(t);
  const tensors = dtypeTensors();
  await writeZt(join(dir, 'a.zt'), tensors, { metadata: { note: 'hi', ratio: 0.5, n: 3 } });
  await writeZt(join(dir, 'b.zt'), [...tensors].reverse(), { metadata: { n: 3, ratio: 0.5, note: 'hi' } });
  assert.deepEqual(readFileSync(join(dir, 'a.zt')), readFileSync(join(dir, 'b.zt')), 'canonical: the same tensors give the same bytes whatever the order');
  await using reader = await ztOpen(join(dir, 'a.zt'));
  assert.deepEqual(reader.metadata, { n: 3, note: 'hi', ratio: 0.5 });
  for (const tensor of tensors) {
    const info = reader.info(tensor.name);
    assert.equal(info.dtype, tensor.dtype, tensor.name);
    assert.deepEqual(info.shape, tensor.shape, tensor.name);
    assert.deepEqual((await reader.read(tensor.name)).data, tensor.data, tensor.name);
  }
  const report = await ztVerify(join(dir, 'a.zt'));
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, tensors.length);
  assert.match(ztContentDigest(reader.manifest!), /^sha256:[0-9a-f]{64}$/);
});

test('zstd-seekable: compressed parts read back, a row slice decodes only its frames, digests and content digest as raw', async (t) => {
  const dir = await tempDir(t);
  const rows = 64;
  const data = new Uint8Array(rows * 4096);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) ^ (i >> 12);
  const tensors = [{ name: 'w', dtype: 'float32' as DType, shape: [rows, 1024], data }];
  await writeZt(join(dir, 'raw.zt'), tensors);
  await writeZt(join(dir, 'z.zt'), tensors, { compress: { frameBytes: 16 * 4096 } });
  const bytes = new Uint8Array(readFileSync(join(dir, 'z.zt')));
  const reads: Array<[number, number]> = [];
  const base = bytesSource(bytes);
  const counting: ByteSource = { size: base.size, read: (offset, length, options) => { reads.push([offset, length]); return base.read(offset, length, options); } };
  await using reader = await ztOpen(counting);
  const part = reader.manifest!.objects.get('w')!.parts.get('data')!;
  assert.equal(part.encoding, 'zt.zstd-seekable/1');
  assert.equal(part.decodedLength, BigInt(data.length));
  assert.ok(part.blob.length < BigInt(data.length / 2), `compressed part is ${part.blob.length} bytes`);
  reads.length = 0;
  const slice = await reader.read('w', { slice: { start: 20, end: 24 } });
  assert.deepEqual(slice.data, data.subarray(20 * 4096, 24 * 4096));
  const frameReads = reads.filter(([, length]) => length > 64);
  assert.equal(frameReads.length, 1, `rows 20..24 sit in frame 1 of 4: one frame read, got ${JSON.stringify(frameReads)}`);
  assert.deepEqual((await reader.read('w')).data, data);
  assert.equal(await reader.verifyPart('w', 'data'), true);
  await using raw = await ztOpen(join(dir, 'raw.zt'));
  assert.equal(ztContentDigest(reader.manifest!), ztContentDigest(raw.manifest!), 'the content digest ignores encoding and placement');
  await assert.rejects(reader.view('w', 'data'), (error: TensioError) => error.code === 'UNSUPPORTED_FEATURE');
  // A corrupted frame is caught by its checksum (or by zstd), never returned.
  const broken = bytes.slice();
  broken[Number(part.blob.offset) + 200] ^= 0xff;
  await using brokenReader = await ztOpen(broken);
  await assert.rejects(brokenReader.read('w'), (error: unknown) => error instanceof TensioError);
});

test('zstd-seekable: stream() of a compressed tensor holds one frame at a time (each source read one frame, each piece at most one frame)', async (t) => {
  const dir = await tempDir(t);
  const rows = 256;
  const rowBytes = 4096;
  const frameBytes = 16 * rowBytes;
  const data = new Uint8Array(rows * rowBytes);
  for (let i = 0; i < data.length; i++) data[i] = (i % 253) ^ (i >> 13);
  await writeZt(join(dir, 'z.zt'), [{ name: 'w', dtype: 'float32' as DType, shape: [rows, 1024], data }], { compress: { frameBytes } });
  const bytes = new Uint8Array(readFileSync(join(dir, 'z.zt')));
  const reads: number[] = [];
  const base = bytesSource(bytes);
  const counting: ByteSource = { size: base.size, read: (offset, length, options) => { reads.push(length); return base.read(offset, length, options); } };
  await using reader = await ztOpen(counting);
  const part = reader.manifest!.objects.get('w')!.parts.get('data')!;
  const frames = data.length / frameBytes;
  reads.length = 0;
  const pieces: Uint8Array[] = [];
  for await (const piece of reader.stream('w')) {
    assert.ok(piece.byteLength <= frameBytes, `a piece of ${piece.byteLength} bytes is more than one frame (${frameBytes})`);
    pieces.push(piece.slice());
  }
  assert.deepEqual(new Uint8Array(Buffer.concat(pieces)), data);
  // The seek table may be read once; every other read is one compressed frame, never the whole part.
  const frameReads = reads.filter((length) => length > 64);
  assert.ok(frameReads.length >= frames, `${frames} frames need ${frames} reads, got ${frameReads.length}`);
  const largest = Math.max(...frameReads);
  assert.ok(largest < Number(part.blob.length) / 4, `the largest read (${largest} bytes) must be about one frame of the ${part.blob.length}-byte compressed part`);
});

test('zstd-seekable: the compression level is applied (level 19 smaller than level 1), both read back equal', async (t) => {
  const dir = await tempDir(t);
  const data = new Uint8Array(1 << 20);
  let state = 7;
  for (let i = 0; i < data.length; i++) { state = (state * 1103515245 + 12345) >>> 0; data[i] = (state >>> 24) & 0x0f | ((i >> 9) & 0x30); }
  const tensors = [{ name: 'w', dtype: 'uint8' as DType, shape: [data.length], data }];
  await writeZt(join(dir, 'fast.zt'), tensors, { compress: { level: 1 } });
  await writeZt(join(dir, 'small.zt'), tensors, { compress: { level: 19 } });
  const sizes = [];
  for (const name of ['fast.zt', 'small.zt']) {
    await using reader = await ztOpen(join(dir, name));
    const part = reader.manifest!.objects.get('w')!.parts.get('data')!;
    assert.equal(part.encoding, 'zt.zstd-seekable/1');
    sizes.push(Number(part.blob.length));
    assert.deepEqual((await reader.read('w')).data, data);
  }
  assert.ok(sizes[1]! < sizes[0]!, `level 19 (${sizes[1]} bytes) must be smaller than level 1 (${sizes[0]} bytes)`);
});

test('convert safetensors → .zt → safetensors through the registry; verify and open detect .zt by its magic', async (t) => {
  const dir = await tempDir(t);
  const st = join(dir, 'm.safetensors');
  await safetensorsWrite(st, { 'b': { dtype: 'float32', shape: [2, 2], data: pattern(16, 3) }, 'a': { dtype: 'bfloat16', shape: [3], data: pattern(6, 4) } });
  await convert(st, join(dir, 'm.zt'));
  writeFileSync(join(dir, 'noext'), readFileSync(join(dir, 'm.zt')));
  await using reader = await openTensorFile(join(dir, 'noext'));
  assert.equal(reader.format, 'zt');
  assert.deepEqual(reader.tensors.map((i) => i.name), ['a', 'b']);
  const report = await verifyTensorFile(join(dir, 'm.zt'));
  assert.equal(report.ok, true);
  assert.equal(report.checksumsVerified, 2);
  await convert(join(dir, 'm.zt'), join(dir, 'back.safetensors'));
  assert.deepEqual(readFileSync(join(dir, 'back.safetensors')), readFileSync(st));
});

test('a corrupted part fails verify with Digest; the writer refuses what zTensor cannot hold', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.zt');
  await writeZt(path, [{ name: 'x', dtype: 'uint8', shape: [8], data: pattern(8, 9) }]);
  const bytes = readFileSync(path);
  bytes[65536] ^= 1;
  writeFileSync(path, bytes);
  const report = await ztVerify(path);
  assert.equal(report.ok, false);
  assert.match(report.problems[0]!.message, /\[Digest\]/);
  await assert.rejects(ztCreateWriter(join(dir, 'y.zt'), { tensors: [{ name: 'y', dtype: 'float6_e2m3', shape: [4] }] }), (error: TensioError) => error.code === 'UNSUPPORTED_DTYPE');
  await assert.rejects(ztCreateWriter(join(dir, 'y.zt'), { tensors: [{ name: 'é', dtype: 'uint8', shape: [1] }, { name: 'e\u0301', dtype: 'uint8', shape: [1] }] }), (error: TensioError) => error.code === 'DUPLICATE_NAME');
  await assert.rejects(ztCreateWriter(join(dir, 'y.zt'), { tensors: [], canonical: true, align: 4096 }), (error: TensioError) => error.code === 'INVALID_ARGUMENT');
});

test('Python (cbor2, xxhash, zstandard) reads what tensio writes: canonical CBOR, manifest hash, digests, zstd-seekable frames', { skip: oracleSkip('cbor2', 'xxhash', 'zstandard') }, async (t) => {
  const dir = await tempDir(t);
  const tensors = dtypeTensors();
  await writeZt(join(dir, 'plain.zt'), tensors, { metadata: { note: 'hi', ratio: 0.5 } });
  await writeZt(join(dir, 'z.zt'), tensors, { compress: { frameBytes: 8 } });
  const expected = Object.fromEntries(tensors.map((tensor) => [tensor.name, Buffer.from(tensor.data).toString('hex')]));
  const { stdout } = runPython(`
import cbor2, xxhash, zstandard, struct, sys, json, hashlib
def read(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'\\x89ZT2\\r\\n\\x1a\\n' and b[-8:] == b[:8]
    off, ln, h, ver, res = struct.unpack('<QQQII', b[-40:-8])
    assert ver == 2 and off % 4096 == 0
    m = b[off:off+ln]
    assert xxhash.xxh3_64_intdigest(m) == h
    man = cbor2.loads(m)
    assert cbor2.dumps(man, canonical=True) == m, 'manifest is not canonical CBOR'
    out = {}
    for name, obj in man['objects'].items():
        p = obj['parts']['data']
        o, l = p['blob']
        raw = b[o:o+l]
        if p.get('encoding') == 'zt.zstd-seekable/1':
            n, desc, magic = struct.unpack('<IBI', raw[-9:])
            assert magic == 0x8F92EAB1
            entries = [struct.unpack('<II', raw[len(raw)-9-8*n+8*i: len(raw)-9-8*n+8*i+8]) for i in range(n)]
            data, at = b'', 0
            for c, d in entries:
                fr = raw[at:at+c]; at += c
                params = zstandard.get_frame_parameters(fr)
                assert params.has_checksum, 'frame without checksum'
                data += zstandard.ZstdDecompressor().decompress(fr, max_output_size=d)
            assert len(data) == p['decoded_length']
        else:
            data = raw
        assert p['digest'] == 'xxh3:%016x' % xxhash.xxh3_64_intdigest(data), name
        out[name] = data.hex()
    return out, man.get('attributes')
plain, attrs = read(sys.argv[1] + '/plain.zt')
z, _ = read(sys.argv[1] + '/z.zt')
print(json.dumps({'plain': plain, 'z': z, 'attrs': attrs}))
`, [dir]);
  const result = JSON.parse(stdout) as { plain: Record<string, string>; z: Record<string, string>; attrs: unknown };
  assert.deepEqual(result.plain, expected);
  assert.deepEqual(result.z, expected);
  assert.deepEqual(result.attrs, { note: 'hi', ratio: 0.5 });
});
