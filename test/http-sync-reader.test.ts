/**
 * The synchronous range reader of a URL (libhdf5 in a browser's Web Worker), in Node with
 * a stand-in `XMLHttpRequest` serving a byte array by Range: bytes come back equal across
 * block edges, small reads share cached blocks, large reads go straight through, and every
 * wrong answer (not 206, another range, a short body, another ETag) is a TensioError.
 * The real thing runs in Chromium in test/browser-inspector-access.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import type { ByteSource } from '../src/storage/byte-source.js';
import { httpSyncReader, rememberRemoteFile } from '../src/storage/http-sync-reader.js';

const FILE = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);

/** How the fake server answers: `ok` serves the range asked; the others break one rule each. */
type Mode = 'ok' | 'status200' | 'otherRange' | 'shortBody' | 'otherEtag';

function installFakeXhr(mode: () => Mode, log: string[]): () => void {
  class FakeXhr {
    responseType = '';
    response: unknown;
    status = 0;
    private range = '';
    private headers: Record<string, string> = {};
    open(method: string, _url: string, async: boolean): void {
      assert.equal(method, 'GET');
      assert.equal(async, false, 'synchronous');
    }
    setRequestHeader(name: string, value: string): void {
      if (name === 'Range') this.range = value;
    }
    getResponseHeader(name: string): string | null {
      return this.headers[name] ?? null;
    }
    send(): void {
      log.push(this.range);
      const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(this.range)!.map(Number) as [number, number, number];
      const current = mode();
      const start = current === 'otherRange' ? from + 1 : from;
      let body = FILE.slice(start, to + 1);
      if (current === 'shortBody') body = body.subarray(0, body.byteLength - 1);
      this.status = current === 'status200' ? 200 : 206;
      this.headers = { 'Content-Range': `bytes ${start}-${to}/${FILE.byteLength}`, ETag: current === 'otherEtag' ? '"v2"' : '"v1"' };
      this.response = body.slice().buffer;
    }
  }
  const scope = globalThis as Record<string, unknown>;
  scope.XMLHttpRequest = FakeXhr;
  scope.WorkerGlobalScope = class {};
  return () => {
    delete scope.XMLHttpRequest;
    delete scope.WorkerGlobalScope;
  };
}

function remote(): ByteSource {
  const source: ByteSource = { size: FILE.byteLength, name: 'remote.h5', read: async () => new Uint8Array(0) };
  rememberRemoteFile(source, { url: 'http://127.0.0.1:1/remote.h5', name: 'remote.h5', size: FILE.byteLength, headers: {}, etag: '"v1"', rangeSupported: true });
  return source;
}

test('outside a Web Worker, or for a source that is not a URL, there is no synchronous reader', () => {
  assert.equal(httpSyncReader(remote()), undefined);
  const restore = installFakeXhr(() => 'ok', []);
  try {
    assert.equal(httpSyncReader({ size: 1, read: async () => new Uint8Array(1) }), undefined);
  } finally {
    restore();
  }
});

test('reads come back equal across block edges; small reads share cached 64 KiB blocks, large ones go straight through', (t) => {
  const log: string[] = [];
  t.after(installFakeXhr(() => 'ok', log));
  const read = httpSyncReader(remote())!;
  assert.ok(read);
  for (const [at, length] of [[0, 8], [8, 100], [65_530, 20], [131_000, 70_000], [299_990, 10], [200, 4096]] as const) {
    const target = new Uint8Array(length);
    read(target, at);
    assert.deepEqual(target, FILE.subarray(at, at + length), `bytes ${at}+${length}`);
  }
  // Blocks 0 and 1 once each (the reads at 0, 8, 200 and 65530 share them), the 70 000-byte read direct, the last block once.
  assert.deepEqual(log, ['bytes=0-65535', 'bytes=65536-131071', 'bytes=131000-200999', 'bytes=262144-299999']);
  assert.throws(() => read(new Uint8Array(10), FILE.byteLength - 5), (error) => isTensioError(error));
});

test('a wrong answer is a TensioError naming it: not 206, another range, a short body, another ETag', (t) => {
  let mode: Mode = 'ok';
  t.after(installFakeXhr(() => mode, []));
  const cases: [Mode, string][] = [['status200', 'HTTP_ERROR'], ['otherRange', 'SIZE_MISMATCH'], ['shortBody', 'SIZE_MISMATCH'], ['otherEtag', 'SOURCE_CHANGED']];
  for (const [broken, code] of cases) {
    mode = broken;
    const read = httpSyncReader(remote())!;
    assert.throws(() => read(new Uint8Array(16), 1000), (error) => isTensioError(error, code as never) && /bytes|ETag/.test((error as Error).message), broken);
    assert.throws(() => read(new Uint8Array(100_000), 0), (error) => isTensioError(error, code as never), `${broken}, a large read`);
  }
});
