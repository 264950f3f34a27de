import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { zipCreateWriter, zipOpen, type ZipAddOptions, type ZipWriterOptions } from '../src/zip/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Deterministic pseudo-random bytes (so deflate has something to do, but not everything). */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out[i] = (state >>> 24) & 0x0f; // low entropy: compressible
  }
  return out;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

interface Member { name: string; bytes: Uint8Array; options?: ZipAddOptions; streamed?: boolean }

async function writeZip(members: Member[], options: ZipWriterOptions = {}): Promise<Uint8Array> {
  const sink = memorySink();
  const writer = zipCreateWriter(sink, options);
  for (const member of members) {
    await writer.add(member.name, member.streamed ? chunked(member.bytes, 1000) : member.bytes, member.options);
  }
  await writer.close();
  return sink.bytes();
}

const MEMBERS: Member[] = [
  { name: 'archive/data.pkl', bytes: patterned(333, 1) },
  { name: 'archive/data/0', bytes: patterned(5000, 2), options: { alignment: 64 } },
  { name: 'archive/data/1', bytes: patterned(70_000, 3), options: { alignment: 64, size: 70_000 }, streamed: true },
  { name: 'deflated.bin', bytes: patterned(200_000, 4), options: { method: 'deflate' } },
  { name: 'streamed-deflate.bin', bytes: patterned(50_000, 5), options: { method: 'deflate' }, streamed: true },
  { name: 'empty', bytes: new Uint8Array(0) },
  { name: 'ünïcode/名前.txt', bytes: new TextEncoder().encode('utf-8 names') },
];

test('tensio reads back what it writes: stored, deflated, streamed, aligned, empty', async () => {
  const bytes = await writeZip(MEMBERS);
  const zip = await zipOpen(bytesSource(bytes));
  assert.deepEqual(zip.entries.map((entry) => entry.name), MEMBERS.map((member) => member.name));
  for (const member of MEMBERS) {
    const entry = zip.entry(member.name)!;
    assert.deepEqual(await zip.readEntry(entry), member.bytes, member.name);
    const parts: Uint8Array[] = [];
    for await (const chunk of zip.streamEntry(entry, { chunkBytes: 777 })) parts.push(chunk.slice());
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), member.bytes, member.name);
    assert.equal(entry.flags, 0x0808);
    if (member.options?.alignment) assert.equal((await zip.dataOffset(entry)) % member.options.alignment, 0, member.name);
  }
});

test('a deflated entry above the one-shot threshold is inflated in streaming mode and checked', async () => {
  const big = patterned(6 * 2 ** 20, 9);
  const bytes = await writeZip([{ name: 'big', bytes: big, options: { method: 'deflate' }, streamed: true }]);
  const zip = await zipOpen(bytesSource(bytes));
  assert.ok(zip.entries[0]!.compressedSize < big.byteLength);
  assert.deepEqual(await zip.readEntry(zip.entries[0]!), big);
});

/** Chunks that are views of ONE buffer, rewritten for each chunk (what stream({ reuseBuffer: true }) yields). */
async function* reusedBuffer(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (let at = 0; at < bytes.byteLength; at += size) {
    const chunk = buffer.subarray(0, Math.min(size, bytes.byteLength - at));
    chunk.set(bytes.subarray(at, at + chunk.byteLength));
    yield chunk;
  }
}

test('a deflated entry fed views of one reused buffer is written intact (no chunk is used after the next is asked for)', async () => {
  const data = patterned(300_000, 11);
  for (const method of ['deflate', 'store'] as const) {
    const sink = memorySink();
    const writer = zipCreateWriter(sink);
    await writer.add('x', reusedBuffer(data, 4096), { method, size: data.byteLength });
    await writer.close();
    const zip = await zipOpen(bytesSource(sink.bytes()));
    assert.deepEqual(await zip.readEntry(zip.entries[0]!), data, method);
  }
});

test('output is deterministic: the same input gives the same bytes', async () => {
  assert.deepEqual(await writeZip(MEMBERS, { forceZip64: true }), await writeZip(MEMBERS, { forceZip64: true }));
});

test('forceZip64 writes the zip64 end record and locator, and tensio follows them', async () => {
  const bytes = await writeZip(MEMBERS.slice(0, 2), { forceZip64: true });
  const tail = Buffer.from(bytes.subarray(bytes.byteLength - 22 - 20 - 56));
  assert.equal(tail.readUInt32LE(0), 0x06064b50);
  assert.equal(tail.readUInt32LE(56), 0x07064b50);
  assert.equal((await zipOpen(bytesSource(bytes))).entries.length, 2);
});

test('writer refuses bad names, duplicates, wrong sizes, bad alignment and use after close', async () => {
  const writer = zipCreateWriter(memorySink(), { format: 'pytorch' });
  await assert.rejects(writer.add('../x', new Uint8Array(1)), (err: unknown) => isTensioError(err, 'INVALID_NAME') && err.format === 'pytorch');
  await writer.add('a', new Uint8Array(1));
  await assert.rejects(writer.add('a', new Uint8Array(1)), (err: unknown) => isTensioError(err, 'DUPLICATE_NAME'));
  await assert.rejects(writer.add('b', new Uint8Array(1), { alignment: 48 }), (err: unknown) => isTensioError(err, 'INVALID_ARGUMENT'));
  await writer.close();
  await assert.rejects(writer.add('c', new Uint8Array(1)), (err: unknown) => isTensioError(err, 'INVALID_STATE'));

  const mismatched = zipCreateWriter(memorySink());
  await assert.rejects(mismatched.add('a', chunked(new Uint8Array(10), 3), { size: 11 }), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
  await assert.rejects(mismatched.add('b', new Uint8Array(1)), (err: unknown) => isTensioError(err, 'INVALID_STATE'));
  await mismatched.abort();
});

test('abort() discards the sink', async () => {
  const sink = memorySink();
  const writer = zipCreateWriter(sink);
  await writer.add('a', new Uint8Array(10));
  await writer.abort();
  assert.throws(() => sink.bytes(), (err: unknown) => isTensioError(err, 'INVALID_STATE'));
});

test('Python zipfile accepts tensio zips: testzip, contents, 64-byte aligned data, zip64 end', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  for (const forceZip64 of [false, true]) {
    const path = join(dir, `out-${forceZip64}.zip`);
    await writeFile(path, await writeZip(MEMBERS, { forceZip64 }));
    const { stdout } = runPython(`
import zipfile, sys, json, hashlib, struct
with open(sys.argv[1], 'rb') as f: raw = f.read()
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    out = {}
    for info in z.infolist():
        lho = info.header_offset
        name_len, extra_len = struct.unpack('<HH', raw[lho + 26: lho + 30])
        out[info.filename] = [hashlib.sha256(z.read(info)).hexdigest(), info.compress_type, (lho + 30 + name_len + extra_len) % 64]
print(json.dumps({'entries': out, 'zip64': raw.find(b'PK\\x06\\x06') >= 0}))
`, [path]);
    const result = JSON.parse(stdout) as { entries: Record<string, [string, number, number]>; zip64: boolean };
    assert.equal(result.zip64, forceZip64);
    const { createHash } = await import('node:crypto');
    for (const member of MEMBERS) {
      const [digest, method, alignment] = result.entries[member.name]!;
      assert.equal(digest, createHash('sha256').update(member.bytes).digest('hex'), member.name);
      assert.equal(method, member.options?.method === 'deflate' ? 8 : 0, member.name);
      if (member.options?.alignment) assert.equal(alignment, 0, member.name);
    }
  }
});
