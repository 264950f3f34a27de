/**
 * A synchronous range reader of an {@link httpSource}'s URL, for synchronous libraries
 * (libhdf5 in WebAssembly) in a browser's Web Worker: each read is a synchronous
 * `XMLHttpRequest` with a `Range` header (allowed in workers, where it blocks only the
 * worker). Small reads — libhdf5 reads its metadata a few bytes at a time — are served
 * from a few cached 64 KiB blocks; large reads go straight to the server. Every answer
 * must be a 206 with exactly the range asked for and the validators the source was
 * opened with, or the read fails with `TensioError` (never bytes of another file).
 */
import { TensioError } from '../core/errors.js';
import { checkRange, type ByteSource } from './byte-source.js';

/** What a sync reader needs of a remote file, recorded by `httpSource` when it opens one. */
export interface RemoteFileFacts {
  url: string;
  name: string;
  size: number;
  headers: Readonly<Record<string, string>>;
  etag: string | undefined;
  rangeSupported: boolean;
}

const remotes = new WeakMap<ByteSource, RemoteFileFacts>();

/** Records the facts of an HTTP source (called by `httpSource`). */
export function rememberRemoteFile(source: ByteSource, facts: RemoteFileFacts): void {
  remotes.set(source, facts);
}

const BLOCK_BYTES = 64 * 1024;
const CACHED_BLOCKS = 32;

interface SyncRequest {
  open(method: string, url: string, async: boolean): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(): void;
  responseType: string;
  response: unknown;
  status: number;
}

/** True in a browser's Web Worker (sync XHR is allowed there and blocks only the worker). */
function inWorker(): boolean {
  const scope = globalThis as { WorkerGlobalScope?: unknown; XMLHttpRequest?: unknown };
  return scope.WorkerGlobalScope !== undefined && scope.XMLHttpRequest !== undefined;
}

/**
 * The synchronous range reader of `source` when it is an {@link httpSource} whose server
 * honours Range and this is a Web Worker; undefined elsewhere (Node, a page's main
 * thread, other sources).
 *
 * @example
 * ```ts
 * const readSync = httpSyncReader(source);
 * if (readSync) readSync(target, 0); // fills target with the first bytes, synchronously
 * ```
 */
export function httpSyncReader(source: ByteSource): ((target: Uint8Array, position: number) => void) | undefined {
  const file = remotes.get(source);
  if (!file || !file.rangeSupported || !inWorker()) return undefined;
  const Request = (globalThis as unknown as { XMLHttpRequest: new () => SyncRequest }).XMLHttpRequest;
  const fetchRange = (target: Uint8Array, position: number): void => {
    const last = position + target.byteLength - 1;
    const request = new Request();
    request.open('GET', file.url, false);
    // A worker's sync XHR may ask for an ArrayBuffer (a page's main thread may not).
    request.responseType = 'arraybuffer';
    for (const [name, value] of Object.entries(file.headers)) request.setRequestHeader(name, value);
    request.setRequestHeader('Range', `bytes=${position}-${last}`);
    try {
      request.send();
    } catch (cause) {
      throw new TensioError('HTTP_ERROR', `${file.name}: the range request for bytes ${position}-${last} failed (${(cause as Error).message})`, { cause });
    }
    if (request.status !== 206) throw new TensioError('HTTP_ERROR', `${file.name}: asked for bytes ${position}-${last}, the server answered ${request.status} instead of 206`);
    const etag = request.getResponseHeader('ETag') ?? undefined;
    if (file.etag !== undefined && etag !== undefined && etag !== file.etag) {
      throw new TensioError('SOURCE_CHANGED', `${file.name} changed while being read (ETag ${etag}, opened as ${file.etag})`);
    }
    const range = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(request.getResponseHeader('Content-Range') ?? '');
    const body = new Uint8Array(request.response as ArrayBuffer);
    if (!range || Number(range[1]) !== position || Number(range[2]) !== last || body.byteLength !== target.byteLength) {
      throw new TensioError('SIZE_MISMATCH', `${file.name}: asked for bytes ${position}-${last} (${target.byteLength}), got ${body.byteLength} bytes as ${request.getResponseHeader('Content-Range')}`);
    }
    target.set(body);
  };
  const blocks = new Map<number, Uint8Array>();
  const block = (index: number): Uint8Array => {
    let bytes = blocks.get(index);
    if (bytes) {
      blocks.delete(index); // re-inserted: the Map's order is the recency
    } else {
      const start = index * BLOCK_BYTES;
      bytes = new Uint8Array(Math.min(BLOCK_BYTES, file.size - start));
      fetchRange(bytes, start);
      if (blocks.size >= CACHED_BLOCKS) blocks.delete(blocks.keys().next().value!);
    }
    blocks.set(index, bytes);
    return bytes;
  };
  return (target, position) => {
    checkRange(file.size, position, target.byteLength, file.name);
    if (target.byteLength === 0) return;
    if (target.byteLength >= BLOCK_BYTES) {
      fetchRange(target, position);
      return;
    }
    for (let done = 0; done < target.byteLength;) {
      const at = position + done;
      const bytes = block(Math.floor(at / BLOCK_BYTES));
      const from = at % BLOCK_BYTES;
      const count = Math.min(target.byteLength - done, bytes.byteLength - from);
      target.set(bytes.subarray(from, from + count), done);
      done += count;
    }
  };
}
