/**
 * Streamed runs (src/storage/streamed-runs.ts) with a stand-in body opener: one request
 * per run however many chunks read it, the pump holding at most its buffer ahead of the
 * reader, a dropped body resumed from the byte it stopped at (bounded), a wrong answer
 * and an abort each a TensioError, and close() ending every request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError, TensioError } from '../src/core/errors.js';
import { StreamedRuns, type OpenRunBody } from '../src/storage/streamed-runs.js';

const KiB = 1024;

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  return bytes;
}

/** An opener over `data` in pieces of `piece` bytes; records requests and how far each body was pulled. */
function fakeStore(data: Uint8Array, piece = 4 * KiB, faults: { dropAfter?: number[]; extraBytes?: boolean } = {}) {
  const requests: Array<{ from: number; end: number; pulled: number; destroyed: boolean; aborted: boolean }> = [];
  const open: OpenRunBody = async (from, end, signal) => {
    const request = { from, end, pulled: 0, destroyed: false, aborted: false };
    requests.push(request);
    signal.addEventListener('abort', () => void (request.aborted = true));
    const dropAt = faults.dropAfter?.shift();
    return {
      async *[Symbol.asyncIterator]() {
        for (let at = from; at < end; at += piece) {
          if (dropAt !== undefined && at - from >= dropAt) throw new Error('ECONNRESET');
          if (signal.aborted) throw new Error('aborted');
          const bytes = data.slice(at, Math.min(end + (faults.extraBytes ? 10 : 0), at + piece));
          request.pulled += bytes.byteLength;
          await new Promise((resolveTick) => setImmediate(resolveTick));
          yield bytes;
        }
      },
      destroy: () => void (request.destroyed = true),
    } as AsyncIterable<Uint8Array>;
  };
  return { open, requests };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((resolveTick) => setImmediate(resolveTick));
}

test('a run is one request for all its chunks, and the bytes are exact', async () => {
  const data = pattern(300 * KiB);
  const { open, requests } = fakeStore(data);
  const runs = new StreamedRuns(open, { bufferBytes: 64 * KiB, retries: 2, name: 'fake' });
  const out = new Uint8Array(200 * KiB);
  for (let at = 0; at < out.byteLength; at += 50 * KiB) {
    assert.equal(await runs.readInto(out.subarray(at, at + 50 * KiB), 100 * KiB + at, 300 * KiB, undefined), true);
  }
  assert.deepEqual(out, data.subarray(100 * KiB, 300 * KiB));
  assert.equal(requests.length, 1);
  assert.deepEqual([requests[0]!.from, requests[0]!.end], [100 * KiB, 300 * KiB]);
  // A read that runs past its run's end is not served (the caller reads it another way).
  assert.equal(await runs.readInto(new Uint8Array(10), 290 * KiB, 290 * KiB + 5, undefined), false);
  runs.close();
});

test('the pump holds at most its buffer (plus one piece) ahead of a reader that stops', async () => {
  const data = pattern(1024 * KiB);
  const { open, requests } = fakeStore(data, 4 * KiB);
  const runs = new StreamedRuns(open, { bufferBytes: 32 * KiB, retries: 2, name: 'fake' });
  await runs.readInto(new Uint8Array(8 * KiB), 0, data.byteLength, undefined);
  await settle();
  const pulled = requests[0]!.pulled;
  assert.ok(pulled <= 8 * KiB + 32 * KiB + 4 * KiB, `pulled ${pulled} bytes with 8 KiB read and a 32 KiB buffer`);
  assert.ok(pulled >= 32 * KiB, `the pump read ahead (${pulled} bytes)`);
  runs.close();
  await settle();
  assert.equal(requests[0]!.aborted, true, 'close() aborts the request');
  assert.equal(requests[0]!.destroyed, true, 'and destroys its body');
});

test('a body dropped mid-run is asked for again from the byte it stopped at; too many drops in a row fail', async () => {
  const data = pattern(256 * KiB);
  const resumed = fakeStore(data, 4 * KiB, { dropAfter: [40 * KiB, 12 * KiB] });
  let retries = 0;
  const runs = new StreamedRuns(resumed.open, { bufferBytes: 16 * KiB, retries: 2, name: 'fake', onRetry: () => void (retries += 1) });
  const out = new Uint8Array(data.byteLength);
  for (let at = 0; at < out.byteLength; at += 32 * KiB) await runs.readInto(out.subarray(at, at + 32 * KiB), at, data.byteLength, undefined);
  assert.deepEqual(out, data);
  assert.deepEqual(resumed.requests.map((request) => request.from), [0, 40 * KiB, 52 * KiB]);
  assert.equal(retries, 2);

  const failing = fakeStore(data, 4 * KiB, { dropAfter: [8 * KiB, 0, 0, 0] });
  const failingRuns = new StreamedRuns(failing.open, { bufferBytes: 16 * KiB, retries: 2, name: 'fake' });
  await assert.rejects(failingRuns.readInto(new Uint8Array(64 * KiB), 0, data.byteLength, undefined), (e) => isTensioError(e, 'HTTP_ERROR') && /dropped 3 times/.test((e as Error).message));
});

test('a wrong answer from the opener, more bytes than asked, and an aborted read are TensioErrors', async () => {
  const data = pattern(64 * KiB);
  const refused: OpenRunBody = async () => {
    throw new TensioError('SOURCE_CHANGED', 'fake was replaced while it was read');
  };
  await assert.rejects(new StreamedRuns(refused, { bufferBytes: KiB, retries: 2, name: 'fake' }).readInto(new Uint8Array(KiB), 0, 8 * KiB, undefined), (e) => isTensioError(e, 'SOURCE_CHANGED'));
  const extra = fakeStore(data, 64 * KiB, { extraBytes: true });
  await assert.rejects(new StreamedRuns(extra.open, { bufferBytes: KiB, retries: 2, name: 'fake' }).readInto(new Uint8Array(KiB), 0, 8 * KiB, undefined), (e) => isTensioError(e, 'SIZE_MISMATCH'));
  // A body that never sends: the read's own signal ends the wait.
  const silent: OpenRunBody = async () => ({ async *[Symbol.asyncIterator]() { await new Promise(() => {}); } });
  const runs = new StreamedRuns(silent, { bufferBytes: KiB, retries: 2, name: 'fake' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(runs.readInto(new Uint8Array(KiB), 0, 8 * KiB, controller.signal), (e) => isTensioError(e, 'ABORTED'));
  runs.close();
});

test('two readers of one source each keep their run; an idle third run evicts the oldest idle one', async () => {
  const data = pattern(512 * KiB);
  const { open, requests } = fakeStore(data);
  const runs = new StreamedRuns(open, { bufferBytes: 16 * KiB, retries: 2, name: 'fake', maxRuns: 2 });
  const a = new Uint8Array(64 * KiB);
  const b = new Uint8Array(64 * KiB);
  for (let at = 0; at < 64 * KiB; at += 16 * KiB) {
    await Promise.all([
      runs.readInto(a.subarray(at, at + 16 * KiB), at, 128 * KiB, undefined),
      runs.readInto(b.subarray(at, at + 16 * KiB), 256 * KiB + at, 384 * KiB, undefined),
    ]);
  }
  assert.deepEqual(a, data.subarray(0, 64 * KiB));
  assert.deepEqual(b, data.subarray(256 * KiB, 320 * KiB));
  assert.equal(requests.length, 2, 'one request per reader');
  await runs.readInto(new Uint8Array(KiB), 400 * KiB, 500 * KiB, undefined);
  await settle();
  assert.equal(requests.length, 3);
  assert.equal(requests[0]!.aborted, true, 'the oldest idle run was closed');
  assert.equal(requests[1]!.aborted, false);
  runs.close();
});
