/**
 * `wholeItemRuns`: the one carry lifecycle behind castStream, tensorValues and
 * ggufDequantizeStream. Every way of cutting a stream gives runs of whole items that
 * join back to the stream's bytes; a stream ending inside an item says how far it got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wholeItemRuns } from '../src/storage/tensor-bytes.js';
import { patternBytes } from './helpers/patterns.js';

async function* chunked(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    yield bytes.subarray(at, cut);
    at = cut;
  }
}

const neverPartial = (carried: number): never => assert.fail(`ended inside an item (${carried} bytes)`);

test('runs hold whole items only and join back to the stream, wherever the chunks are cut', async () => {
  for (const itemBytes of [1, 2, 3, 8, 18]) {
    const bytes = patternBytes(itemBytes * 7, itemBytes);
    for (let first = 0; first <= bytes.byteLength; first++) {
      for (const second of [first, Math.min(bytes.byteLength, first + 1), Math.min(bytes.byteLength, first + itemBytes + 1)]) {
        const joined: number[] = [];
        for await (const run of wholeItemRuns(chunked(bytes, [first, second]), itemBytes, neverPartial)) {
          assert.ok(run.byteLength > 0 && run.byteLength % itemBytes === 0, `run of ${run.byteLength} bytes, items of ${itemBytes} (cuts ${first}, ${second})`);
          joined.push(...run);
        }
        assert.deepEqual(Uint8Array.from(joined), bytes, `items of ${itemBytes}, cuts ${first}, ${second}`);
      }
    }
  }
});

test('an item split across chunks comes alone, the rest of a chunk as one view of it', async () => {
  const bytes = patternBytes(12, 5);
  const runs: Uint8Array[] = [];
  for await (const run of wholeItemRuns(chunked(bytes, [5]), 4, neverPartial)) runs.push(run.slice());
  assert.deepEqual(runs.map((run) => run.byteLength), [4, 4, 4]);
  const views: Uint8Array[] = [];
  for await (const run of wholeItemRuns(chunked(bytes, [8]), 4, neverPartial)) views.push(run);
  assert.equal(views.length, 2);
  assert.equal(views[0]!.buffer, bytes.buffer, 'the whole items of a chunk are a view of it, not a copy');
});

test('a stream that ends inside an item calls endedInsideItem with the bytes it had', async () => {
  const bytes = patternBytes(10, 6);
  let reported: number | undefined;
  await assert.rejects(async () => {
    for await (const _ of wholeItemRuns(chunked(bytes, [3, 7]), 4, (carried) => { reported = carried; throw new Error('partial'); })) { /* drain */ }
  }, /partial/);
  assert.equal(reported, 2);
});
