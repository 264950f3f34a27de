/**
 * `.zt` over HTTP, requests counted on a local server: a `.zt` URL (or a URL the caller
 * names as `zt`) opens with a suffix read of its last 64 KiB — ONE request when the
 * manifest lies in it, TWO when it is longer — and the start magic is checked by the
 * first read near the start (one request either way) or by `verify`. Servers that do not
 * serve suffix ranges cost one request more; a URL whose format is sniffed keeps the
 * opening read of its first 64 KiB. Tensors, slices of compressed tensors and
 * `tensio id` / `verify` work from the URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTensorFile } from '../src/operations/index.js';
import { ztCreateWriter, ztOpen, ztVerify, type ZtReader } from '../src/formats/zt/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { httpSource } from '../src/storage/http-source.js';
import { startHttpServer, type TestHttpServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';

async function build(count: number, rows: number, compress: boolean): Promise<Uint8Array> {
  const sink = memorySink();
  const tensors = Array.from({ length: count }, (_, i) => ({ name: `model.layers.${String(i).padStart(4, '0')}.weight_with_a_long_name`, dtype: 'float32' as const, shape: [rows, 256] }));
  const writer = await ztCreateWriter(sink, { tensors, ...(compress ? { compress: { frameBytes: 16 * 1024 } } : {}) });
  for (const name of writer.order) await writer.add(name, new Uint8Array(rows * 1024).map((_, i) => (i * 31 + name.length) & 0xff));
  await writer.close();
  return sink.bytes();
}

const manifestLengthOf = (file: Uint8Array): number => Number(new DataView(file.buffer, file.byteOffset + file.length - 32).getBigUint64(0, true));
/** The tensor whose data part comes first in the file, and the one that comes last. */
function byOffset(reader: ZtReader): { first: string; last: string } {
  const offsetOf = (name: string): number => Number(reader.manifest!.objects.get(name)!.parts.get('data')!.blob.offset);
  const names = reader.tensors.map((t) => t.name).sort((a, b) => offsetOf(a) - offsetOf(b));
  return { first: names[0]!, last: names.at(-1)! };
}

async function countedOpen(server: TestHttpServer, open: () => Promise<ZtReader>): Promise<{ reader: ZtReader; requests: number; bytes: number }> {
  server.resetCounters();
  const reader = await open();
  return { reader, requests: server.counters.requests, bytes: server.counters.bytes };
}

// 2000 tensors: a manifest over 64 KiB, blobs spread over 130 MB; 3 × 64 KiB: the manifest fits in the last 64 KiB.
const big = await build(2000, 4, false);
const medium = await build(3, 64, false);
const small = await build(3, 64, true);

test('remote .zt: open = one suffix read + the rest of the manifest (2 requests); tensor reads are one request each', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  server.put('big.zt', big);
  const manifestLength = manifestLengthOf(big);
  assert.ok(manifestLength > 65536, `manifest is ${manifestLength} bytes`);
  const { reader, requests, bytes } = await countedOpen(server, async () => await openTensorFile(server.url('range', 'big.zt')) as ZtReader);
  try {
    assert.equal(reader.format, 'zt');
    assert.equal(reader.tensors.length, 2000);
    assert.equal(requests, 2, `${requests} requests to open: ${JSON.stringify(server.log.map((r) => r.range))}`);
    assert.equal(server.log[0]!.range, 'bytes=-65536', 'the opening request is a suffix read');
    assert.equal(server.log[0]!.status, 206);
    // The second asks for the manifest's bytes before the suffix only (rounded down to a 64 KiB block).
    const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(server.log[1]!.range!)!.map(Number) as [string, number, number];
    assert.equal(to, big.length - 65536 - 1, 'the manifest read stops where the suffix began');
    assert.ok(from <= big.length - 40 - manifestLength && from > big.length - 40 - manifestLength - 65536, `manifest read from ${from}`);
    assert.ok(bytes <= 2 * 65536 + manifestLength, `${bytes} bytes to open (manifest ${manifestLength})`);

    const { first, last } = byOffset(reader);
    server.resetCounters();
    assert.equal((await reader.read(last)).data.byteLength, 4096);
    assert.equal(server.counters.requests, 1, 'a tensor far from the start: one range read, the start magic not fetched');
    server.resetCounters();
    assert.deepEqual((await reader.read(first)).data, (await (await ztOpen(big)).read(first)).data);
    assert.equal(server.counters.requests, 1, 'the first tensor: one read, extended to offset 0 to check the start magic');
    assert.match(server.log[0]!.range!, /^bytes=0-/);
    server.resetCounters();
    await reader.checkStart();
    assert.equal(server.counters.requests, 0, 'the start magic was checked by that read');
  } finally {
    await reader.close();
  }

  // ztOpen and an explicit format on a URL without the extension open the same way.
  const direct = await countedOpen(server, () => ztOpen(server.url('range', 'big.zt')));
  await direct.reader.close();
  assert.equal(direct.requests, 2);
  server.put('big.bin', big);
  const named = await countedOpen(server, async () => await openTensorFile(server.url('range', 'big.bin'), { format: 'zt' }) as ZtReader);
  await named.reader.close();
  assert.equal(named.requests, 2);
  assert.equal(server.log[0]!.range, 'bytes=-65536');
  // Without the extension or a named format the file is sniffed from its first 64 KiB (the path every format shares): 3 requests.
  const sniffed = await countedOpen(server, async () => await openTensorFile(server.url('range', 'big.bin')) as ZtReader);
  await sniffed.reader.close();
  assert.equal(sniffed.reader.format, 'zt');
  assert.equal(server.log[0]!.range, 'bytes=0-65535');
  assert.equal(sniffed.requests, 3);
});

test('remote .zt: a manifest inside the last 64 KiB opens in ONE request; a whole file shorter than the suffix too', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  assert.ok(medium.length > 65536 && manifestLengthOf(medium) + 40 < 65536, `medium is ${medium.length} bytes`);
  server.put('medium.zt', medium);
  server.put('small.zt', small);
  for (const [name, file] of [['medium.zt', medium], ['small.zt', small]] as const) {
    const { reader, requests } = await countedOpen(server, () => ztOpen(server.url('range', name)));
    try {
      assert.equal(requests, 1, `${name}: ${requests} requests to open`);
      assert.equal(server.log[0]!.status, 206);
      const local = await ztOpen(file);
      for (const info of reader.tensors) assert.deepEqual((await reader.read(info.name)).data, (await local.read(info.name)).data, info.name);
    } finally {
      await reader.close();
    }
  }
  server.resetCounters();
  {
    await using reader = await ztOpen(server.url('range', 'small.zt'));
    const name = reader.tensors[1]!.name;
    const local = await ztOpen(small);
    assert.deepEqual((await reader.read(name, { slice: { start: 20, end: 30 } })).data, (await local.read(name, { slice: { start: 20, end: 30 } })).data);
    assert.equal(server.counters.requests, 1, 'the whole file came with the suffix: a slice costs nothing more');
  }
});

test('remote .zt: servers without suffix ranges cost one request more (416, ignored suffix), small files come whole', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  server.put('big.zt', big);
  server.put('medium.zt', medium);
  const http = { noRangeMaxBytes: 1 << 20 }; // big.zt (130 MB) is over it: a 200 answer is not read whole
  for (const mode of ['nosuffix416', 'nosuffix']) {
    const { reader, requests } = await countedOpen(server, () => ztOpen(server.url(mode, 'big.zt'), { http }));
    try {
      assert.equal(requests, 4, `${mode}: ${requests} requests (${JSON.stringify(server.log.map((r) => [r.range, r.status]))})`);
      assert.deepEqual(server.log.slice(0, 2).map((r) => r.range), ['bytes=-65536', 'bytes=0-65535']);
      assert.equal(server.log[0]!.status, mode === 'nosuffix' ? 200 : 416);
      const { last } = byOffset(reader);
      assert.deepEqual((await reader.read(last)).data, (await (await ztOpen(big)).read(last)).data);
    } finally {
      await reader.close();
    }
  }
  // A whole body under noRangeMaxBytes answering the suffix is kept: one request, every read from memory.
  const { reader, requests } = await countedOpen(server, () => ztOpen(server.url('nosuffix', 'medium.zt')));
  try {
    assert.equal(requests, 1);
    for (const info of reader.tensors) await reader.read(info.name);
    assert.equal(server.counters.requests, 1);
  } finally {
    await reader.close();
  }
});

test('remote .zt: a wrong start magic is found by the first read near the start and by verify; a changed file by its ETag', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const broken = new Uint8Array(medium);
  broken[1] ^= 0xff;
  server.put('broken.zt', broken);
  await assert.rejects(ztOpen(broken), (error: Error & { rule?: string }) => error.rule === 'HeaderMagic', 'local bytes: checked at open');
  {
    await using reader = await ztOpen(server.url('range', 'broken.zt'));
    const { first, last } = byOffset(reader);
    assert.equal((await reader.read(last)).data.byteLength, 64 * 1024, 'far from the start: read unchecked');
    await assert.rejects(reader.read(first), (error: Error & { rule?: string }) => error.rule === 'HeaderMagic');
    await assert.rejects(reader.checkStart(), (error: Error & { rule?: string }) => error.rule === 'HeaderMagic');
  }
  const report = await ztVerify(server.url('range', 'broken.zt'));
  assert.equal(report.ok, false);
  assert.match(report.problems.map((p) => p.message).join('\n'), /HeaderMagic/);

  server.put('medium.zt', medium);
  const sound = await ztVerify(server.url('range', 'medium.zt'));
  assert.equal(sound.ok, true, JSON.stringify(sound.problems));

  // `changing` serves another file (new ETag) after the first request: the read after the suffix open refuses it.
  {
    await using reader = await ztOpen(server.url('changing', 'medium.zt'));
    await assert.rejects(reader.read(reader.tensors[0]!.name), (error: Error & { code?: string }) => error.code === 'SOURCE_CHANGED');
  }
});

test('httpSource openFrom end: the size from the suffix answer, its bytes held, a read across its start asks only for the rest', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const file = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  server.put('f.bin', file);
  server.resetCounters();
  await using source = await httpSource(server.url('range', 'f.bin'), { openFrom: 'end' });
  assert.equal(source.size, file.length);
  assert.equal(server.counters.requests, 1);
  assert.equal(source.holds(file.length - 65536, 65536), true);
  assert.equal(source.holds(0, 8), false);
  assert.deepEqual(await source.read(file.length - 1000, 1000), file.subarray(file.length - 1000));
  assert.equal(server.counters.requests, 1, 'the tail came with the opening');
  const tailStart = file.length - 65536;
  const from = tailStart - 200_000;
  assert.deepEqual(await source.read(from, 200_100), file.subarray(from, tailStart + 100));
  assert.equal(server.counters.requests, 2);
  // The block cache rounds the start down to 64 KiB; the end stops where the held suffix begins.
  assert.equal(server.log[1]!.range, `bytes=${Math.floor(from / 65536) * 65536}-${tailStart - 1}`);
});

test('remote .zt: tensio id and verify from the URL', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  server.put('small.zt', small);
  const id = await runCli(['id', server.url('range', 'small.zt')]);
  assert.equal(id.code, 0, id.stderr);
  const json = await runCli(['id', '--json', server.url('range', 'small.zt')]);
  assert.match(json.stdout, /sha256:/);
  const verify = await runCli(['verify', server.url('range', 'small.zt')]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
