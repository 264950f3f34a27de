/**
 * A local HTTP server for the remote-source tests, on 127.0.0.1 (Node's `http`), that
 * counts requests and body bytes. The first path segment picks the behaviour; the rest
 * names a file put with `put()`:
 *
 * - `/range/F`: honours Range (206 + Content-Range, 416, suffix ranges, If-Match → 412)
 * - `/norange/F`: ignores Range, answers 200 with the whole body and its length
 * - `/nolength/F`: ignores Range, 200 without Content-Length (chunked)
 * - `/drop/F`: every odd-numbered request for F sends half its body and drops the connection
 * - `/flaky/F`: answers 503 twice, then serves like `/range/`
 * - `/redirect/F`: 302 to the other host name (127.0.0.1 ↔ localhost), `/range/F` there
 * - `/redirect-same/F`: 302 to `/range/F` on the same host
 * - `/loop/F`: 302 to `/loop2/F`, which redirects back
 * - `/changing/F`: serves F, then after the first request a changed F with a new ETag
 * - `/changing-noifmatch/F`: the same, but ignoring If-Match (the client must compare ETags)
 * - `/slow/F`: honours Range but sends 1 KiB every 20 ms
 * - `/lie-range/F`: answers a Content-Range shifted by one byte from the range asked
 * - `/lie-length/F`: Content-Range as asked, but sends 100 bytes more (no Content-Length)
 * - `/huge/F`: declares a total size of 99999999999999999999 bytes
 * - `/private/F`: 401 unless `Authorization: Bearer secret`
 * - `/gzip/F`: claims `Content-Encoding: gzip` although the client asked for identity
 * - `/nosuffix/F`: honours Range but not suffix ranges (`bytes=-N`), which it ignores: 200 and the whole body
 * - `/nosuffix416/F`: honours Range but refuses suffix ranges with 416
 */
import http from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** One request the server saw. */
export interface SeenRequest {
  readonly host: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
  readonly status: number;
  readonly bytes: number;
}

/** The running server. */
export interface TestHttpServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `http://localhost:PORT` (another host name for the same server) */
  readonly otherOrigin: string;
  /** Serves `bytes` as file `name` (a path below the mode, e.g. `ckpt/model.safetensors`). */
  put(name: string, bytes: Uint8Array): void;
  /** URL of a file in a mode. */
  url(mode: string, name: string): string;
  readonly log: SeenRequest[];
  /** Requests and body bytes since the last `resetCounters()`. */
  readonly counters: { requests: number; bytes: number; inFlight: number; maxInFlight: number };
  resetCounters(): void;
  close(): Promise<void>;
}

function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha1').update(bytes).digest('hex').slice(0, 16)}"`;
}

/** Starts the server; close it in `t.after`. */
export async function startHttpServer(): Promise<TestHttpServer> {
  const files = new Map<string, Uint8Array>();
  const requestsPerPath = new Map<string, number>();
  const log: SeenRequest[] = [];
  const counters = { requests: 0, bytes: 0, inFlight: 0, maxInFlight: 0 };
  let port = 0;

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const [, mode = '', ...rest] = url.pathname.split('/');
    const name = decodeURIComponent(rest.join('/'));
    const host = (request.headers.host ?? '').split(':')[0]!;
    const count = (requestsPerPath.get(url.pathname) ?? 0) + 1;
    requestsPerPath.set(url.pathname, count);
    counters.requests += 1;
    counters.inFlight += 1;
    counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
    response.on('close', () => {
      counters.inFlight -= 1;
    });
    let sent = 0;
    const record = (status: number): void => {
      log.push({ host, path: url.pathname, range: request.headers.range, authorization: request.headers.authorization, cookie: request.headers.cookie, status, bytes: sent });
    };
    const send = (status: number, headers: Record<string, string | number>, body?: Uint8Array): void => {
      response.writeHead(status, headers);
      if (body) {
        sent += body.byteLength;
        counters.bytes += body.byteLength;
        response.end(body);
      } else response.end();
      record(status);
    };
    const redirect = (location: string): void => send(302, { Location: location, 'Content-Length': 0 });

    if (mode === 'redirect') return redirect(`http://${host === 'localhost' ? '127.0.0.1' : 'localhost'}:${port}/range/${rest.join('/')}`);
    if (mode === 'redirect-same') return redirect(`/range/${rest.join('/')}`);
    if (mode === 'loop') return redirect(`/loop2/${rest.join('/')}`);
    if (mode === 'loop2') return redirect(`/loop/${rest.join('/')}`);
    if (mode === 'flaky' && count <= 2) return send(503, { 'Content-Length': 0, 'Retry-After': '0' });
    if (mode === 'private' && request.headers.authorization !== 'Bearer secret') return send(401, { 'Content-Length': 0 });

    let body = files.get(name);
    if (!body) return send(404, { 'Content-Length': 0 });
    if ((mode === 'changing' || mode === 'changing-noifmatch') && count > 1) {
      body = new Uint8Array(body); // a copy (Buffer's slice() is a view: it would change the stored file)
      body[0] = body[0]! ^ 0xff;
    }
    const etag = etagOf(body);
    const common = { ETag: etag, 'Last-Modified': 'Tue, 01 Dec 2026 00:00:00 GMT', 'Accept-Ranges': 'bytes', ...(mode === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}) };

    if (mode === 'norange') return send(200, { ...common, 'Content-Length': body.byteLength }, body);
    if (mode === 'nolength') {
      response.writeHead(200, { ETag: etag });
      for (let at = 0; at < body.byteLength; at += 65536) response.write(body.subarray(at, at + 65536));
      sent = body.byteLength;
      counters.bytes += sent;
      response.end();
      return record(200);
    }
    if (mode !== 'changing-noifmatch' && request.headers['if-match'] && request.headers['if-match'] !== etag) {
      return send(412, { 'Content-Length': 0 });
    }
    const rangeHeader = request.headers.range;
    const size = body.byteLength;
    let start = 0;
    let end = size - 1;
    let partial = false;
    if (rangeHeader) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader);
      if (match && match[1] === '' && mode === 'nosuffix416') return send(416, { ...common, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
      if (match && !(match[1] === '' && mode === 'nosuffix')) {
        partial = true;
        if (match[1] === '') {
          start = Math.max(0, size - Number(match[2]));
        } else {
          start = Number(match[1]);
          if (match[2] !== '') end = Math.min(Number(match[2]), size - 1);
        }
        if (start >= size || (match[1] === '' && Number(match[2]) === 0)) {
          return send(416, { ...common, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
        }
      }
    }
    const slice = body.subarray(start, end + 1);
    const totalText = mode === 'huge' ? '99999999999999999999' : String(size);
    if (!partial) return send(200, { ...common, 'Content-Length': size }, body);
    if (mode === 'lie-range') {
      return send(206, { ...common, 'Content-Range': `bytes ${start + 1}-${end + 1}/${size}`, 'Content-Length': slice.byteLength }, slice);
    }
    if (mode === 'lie-length') {
      response.writeHead(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${size}` });
      response.write(slice);
      response.end(new Uint8Array(100));
      sent = slice.byteLength + 100;
      counters.bytes += sent;
      return record(206);
    }
    const headers = { ...common, 'Content-Range': `bytes ${start}-${end}/${totalText}`, 'Content-Length': slice.byteLength };
    if (mode === 'drop' && count % 2 === 1 && slice.byteLength > 1) {
      response.writeHead(206, headers);
      const half = slice.subarray(0, Math.floor(slice.byteLength / 2));
      response.write(half);
      sent = half.byteLength;
      counters.bytes += sent;
      record(206);
      setTimeout(() => response.socket?.destroy(), 5);
      return;
    }
    if (mode === 'slow') {
      response.writeHead(206, headers);
      let at = 0;
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        const piece = slice.subarray(at, at + 1024);
        at += piece.byteLength;
        sent += piece.byteLength;
        counters.bytes += piece.byteLength;
        if (at >= slice.byteLength) {
          clearInterval(timer);
          response.end(piece);
          record(206);
        } else response.write(piece);
      }, 20);
      response.on('close', () => clearInterval(timer));
      return;
    }
    return send(206, headers, slice);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // localhost may resolve to ::1 first; listen there too when the system has IPv6.
  const v6 = http.createServer((req, res) => server.emit('request', req, res));
  await new Promise<void>((resolve) => {
    v6.once('error', () => resolve());
    v6.listen(port, '::1', resolve);
  });

  return {
    origin: `http://127.0.0.1:${port}`,
    otherOrigin: `http://localhost:${port}`,
    put(name, bytes) {
      files.set(name, bytes);
    },
    url(mode, name) {
      return `http://127.0.0.1:${port}/${mode}/${name}`;
    },
    log,
    counters,
    resetCounters() {
      counters.requests = 0;
      counters.bytes = 0;
      counters.maxInFlight = 0;
      log.length = 0;
    },
    async close() {
      server.closeAllConnections();
      v6.closeAllConnections?.();
      await Promise.all([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => (v6.listening ? v6.close(resolve) : resolve(undefined)))]);
    },
  };
}

/** Serves every file under the local folder `dir` as `prefix/<relative path>` (a Zarr store, a NumPack folder). */
export async function putFolder(server: TestHttpServer, dir: string, prefix: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry as string);
    if ((await stat(path)).isFile()) server.put(`${prefix}/${relative(dir, path).split('\\').join('/')}`, await readFile(path));
  }
}
