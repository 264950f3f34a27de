/**
 * `.zt` over HTTP: opening a remote file costs the source's opening request (the first
 * 64 KiB), one suffix read for the footer and one read of the manifest — counted on a
 * local server — and tensors, slices of compressed tensors and `tensio id` / `verify`
 * work from the URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTensorFile } from '../src/operations/index.js';
import { ztCreateWriter, ztOpen, type ZtReader } from '../src/formats/zt/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { startHttpServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';

async function build(count: number, rows: number, compress: boolean): Promise<Uint8Array> {
  const sink = memorySink();
  const tensors = Array.from({ length: count }, (_, i) => ({ name: `model.layers.${String(i).padStart(4, '0')}.weight_with_a_long_name`, dtype: 'float32' as const, shape: [rows, 256] }));
  const writer = await ztCreateWriter(sink, { tensors, ...(compress ? { compress: { frameBytes: 16 * 1024 } } : {}) });
  for (const name of writer.order) await writer.add(name, new Uint8Array(rows * 1024).map((_, i) => (i * 31 + name.length) & 0xff));
  await writer.close();
  return sink.bytes();
}

test('remote .zt: open = first 64 KiB + footer suffix + manifest; reads, slices, id and verify from the URL', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const big = await build(2000, 4, false); // a manifest over 64 KiB, blobs spread over 130 MB
  server.put('big.zt', big);
  const manifestLength = Number(new DataView(big.buffer, big.byteOffset + big.length - 32).getBigUint64(0, true));
  assert.ok(manifestLength > 65536, `manifest is ${manifestLength} bytes`);
  server.resetCounters();
  {
    await using reader = await openTensorFile(server.url('range', 'big.zt')) as ZtReader;
    assert.equal(reader.format, 'zt');
    assert.equal(reader.tensors.length, 2000);
    assert.ok(server.counters.requests <= 3, `${server.counters.requests} requests to open`);
    assert.ok(server.counters.bytes <= 3 * 65536 + manifestLength, `${server.counters.bytes} bytes to open (manifest ${manifestLength})`);
    const before = server.counters.requests;
    assert.equal((await reader.read(reader.tensors[7]!.name)).data.byteLength, 4096);
    assert.equal(server.counters.requests - before, 1, 'one tensor: one range read');
  }
  const small = await build(3, 64, true);
  server.put('small.zt', small);
  {
    await using reader = await ztOpen(server.url('range', 'small.zt'));
    const name = reader.tensors[1]!.name;
    const local = await ztOpen(small);
    assert.deepEqual((await reader.read(name, { slice: { start: 20, end: 30 } })).data, (await local.read(name, { slice: { start: 20, end: 30 } })).data);
  }
  const id = await runCli(['id', server.url('range', 'small.zt')]);
  assert.equal(id.code, 0, id.stderr);
  const localId = await runCli(['id', '--json', server.url('range', 'small.zt')]);
  assert.match(localId.stdout, /sha256:/);
  const verify = await runCli(['verify', server.url('range', 'small.zt')]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
