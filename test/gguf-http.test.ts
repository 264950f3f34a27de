/**
 * GGUF over HTTP: `tensio inspect URL` reads only the header, growing its reads (counted
 * here: a header of H bytes costs at most H + 2 MiB and a handful of requests, whatever
 * the data size), tensors read remotely equal the local ones, and a split model opens
 * from a URL of any of its splits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ggufCreateWriter, ggufOpen } from '../src/formats/gguf/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { startHttpServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';

const LARGEST_VOCAB = 'corpora/gguf/llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf';
const MiB = 2 ** 20;

/** A GGUF with a small header and `dataMiB` MiB of q8_0 data, in memory. */
async function bigData(dataMiB: number): Promise<Uint8Array> {
  const rows = Math.floor((dataMiB * MiB) / (8 * 34)); // 8 blocks of 32 values per row
  const sink = memorySink();
  const writer = await ggufCreateWriter(sink, { tensors: [{ name: 'w', dtype: 'q8_0', shape: [rows, 256] }], metadata: { 'general.architecture': 'test' } });
  const data = new Uint8Array(rows * 8 * 34);
  for (let i = 0; i < data.length; i += 34) data[i + 1] = 0x20; // finite scales
  await writer.add('w', data);
  await writer.close();
  return sink.bytes();
}

test('remote inspect of the largest vocab file (a 4 MB header) fetches ≤ header + 2 MiB in a handful of requests', { skip: sharedSkip(LARGEST_VOCAB) }, async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const bytes = new Uint8Array(readFileSync(sharedFile(LARGEST_VOCAB)!));
  server.put('vocab.gguf', bytes);
  const header = (await ggufOpen(bytes)).gguf.headerBytes;
  server.resetCounters();
  const run = await runCli(['inspect', server.url('range', 'vocab.gguf'), '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).metadata['general.architecture'], 'llama');
  t.diagnostic(`vocab header ${header} bytes: ${server.counters.requests} requests, ${server.counters.bytes} bytes`);
  assert.ok(server.counters.bytes <= header + 2 * MiB, `${server.counters.bytes} bytes for a ${header}-byte header`);
  assert.ok(server.counters.requests <= 8, `${server.counters.requests} requests`);
});

test('remote inspect of a model with 24 MiB of data reads the header only; a remote tensor equals the local one', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  const bytes = await bigData(24);
  server.put('big.gguf', bytes);
  server.resetCounters();
  const run = await runCli(['inspect', server.url('range', 'big.gguf')]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /q8_0/);
  t.diagnostic(`24 MiB model: ${server.counters.requests} requests, ${server.counters.bytes} bytes`);
  assert.ok(server.counters.bytes <= 2 * MiB, `${server.counters.bytes} bytes`);
  assert.ok(server.counters.requests <= 2, `${server.counters.requests} requests`);
  await using remote = await ggufOpen(server.url('range', 'big.gguf'));
  await using local = await ggufOpen(bytes);
  assert.deepEqual((await remote.read('w', { slice: { start: 5, end: 9 } })).data, (await local.read('w', { slice: { start: 5, end: 9 } })).data);
});

test('a split model opens from the URL of any split', async (t) => {
  const server = await startHttpServer();
  t.after(() => server.close());
  for (let k = 1; k <= 2; k++) {
    const sink = memorySink();
    const writer = await ggufCreateWriter(sink, {
      tensors: [{ name: `t${k}`, dtype: 'float32', shape: [4] }],
      metadata: { 'split.no': { type: 'uint16', value: k - 1 }, 'split.count': { type: 'uint16', value: 2 }, 'split.tensors.count': { type: 'int32', value: 2 } },
    });
    await writer.add(`t${k}`, new Uint8Array(new Float32Array([k, k, k, k]).buffer));
    await writer.close();
    server.put(`m/model-0000${k}-of-00002.gguf`, sink.bytes());
  }
  await using reader = await ggufOpen(server.url('range', 'm/model-00002-of-00002.gguf'));
  assert.deepEqual(reader.tensors.map((info) => info.name), ['t1', 't2']);
  assert.deepEqual(Array.from(new Float32Array((await reader.read('t2')).data.slice().buffer)), [2, 2, 2, 2]);
});
