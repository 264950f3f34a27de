/**
 * A small static file server on 127.0.0.1 for `tensio view` (the web inspector) and the
 * browser tests: GET and HEAD of files under mounted folders or single files, with
 * single Range requests (`bytes=a-b`, `a-`, `-n` → 206 + Content-Range; past the end →
 * 416), `Accept-Ranges`, a strong ETag, content types for the inspector's files, and
 * counters of requests and body bytes (tests check how much a page fetched). Names are
 * resolved inside their mount only: `..`, NUL and backslashes are refused (404).
 */
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep, extname } from 'node:path';
import type { AddressInfo } from 'node:net';

/** A URL prefix (`/`, `/files/`) and the folder or file it serves. */
export interface StaticMount {
  /** Starts and ends with `/` for a folder (`/files/`); a full path for one file (`/model.safetensors`). */
  readonly prefix: string;
  /** A local folder (for a prefix ending in `/`) or file. */
  readonly path: string;
}

/** Counters of a {@link StaticServer}. */
export interface StaticServerStats {
  requests: number;
  bytesSent: number;
  /** Every request: path, Range header and status (for tests). */
  readonly log: Array<{ path: string; range: string | undefined; status: number; bytes: number }>;
}

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly stats: StaticServerStats;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The local file a request path names, or undefined (outside every mount, or a hostile name). */
function locate(mounts: readonly StaticMount[], pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  for (const mount of mounts) {
    if (!mount.prefix.endsWith('/')) {
      if (decoded === mount.prefix) return mount.path;
      continue;
    }
    if (!decoded.startsWith(mount.prefix)) continue;
    // A folder's address (`/inspector/`) serves its index.html.
    const rest = decoded.slice(mount.prefix.length).replace(/(^|\/)$/, '$1index.html');
    if (rest.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined;
    const root = resolve(mount.path);
    const full = resolve(join(root, rest));
    if (full !== root && !full.startsWith(root + sep)) return undefined;
    return full;
  }
  return undefined;
}

/** Parses one `bytes=` range against `size`; undefined when absent, null when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // several ranges or junk: serve whole
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/**
 * Starts a static server on 127.0.0.1 (`port` 0 picks a free one).
 *
 * @example
 * ```ts
 * const server = await startStaticServer([{ prefix: '/', path: 'dist/web/inspector' }]);
 * console.log(`${server.origin}/`);
 * ```
 */
export async function startStaticServer(mounts: readonly StaticMount[], options: { port?: number; host?: string } = {}): Promise<StaticServer> {
  const stats: StaticServerStats = { requests: 0, bytesSent: 0, log: [] };
  const server = http.createServer((request, response) => {
    stats.requests += 1;
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const range = request.headers.range;
    const finish = (status: number, bytes: number): void => {
      stats.log.push({ path: url.pathname, range, status, bytes });
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return finish(405, 0);
    }
    const file = locate(mounts, url.pathname);
    const notFound = (): void => {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      finish(404, 0);
    };
    if (!file) return notFound();
    stat(file).then((info) => {
      if (!info.isFile()) return notFound();
      const size = info.size;
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers: Record<string, string | number> = {
        'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        ETag: etag,
        'Last-Modified': info.mtime.toUTCString(),
        'Cache-Control': 'no-store',
        // The inspector's worker runs same-origin; say so for pages that embed it.
        'Cross-Origin-Resource-Policy': 'same-origin',
      };
      const wanted = parseRange(range, size);
      if (wanted === null) {
        response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return finish(416, 0);
      }
      const start = wanted?.start ?? 0;
      const end = wanted?.end ?? size - 1;
      const length = size === 0 ? 0 : end - start + 1;
      const status = wanted ? 206 : 200;
      if (wanted) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      headers['Content-Length'] = length;
      response.writeHead(status, headers);
      if (request.method === 'HEAD' || length === 0) {
        response.end();
        return finish(status, 0);
      }
      let sent = 0;
      const stream = createReadStream(file, { start, end });
      stream.on('data', (chunk) => {
        sent += chunk.length;
        stats.bytesSent += chunk.length;
      });
      stream.on('error', () => response.destroy());
      response.on('close', () => {
        stream.destroy();
        finish(status, sent);
      });
      stream.pipe(response);
    }, notFound);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  return {
    origin: `http://${address.address}:${address.port}`,
    stats,
    close: () => new Promise<void>((resolveClose) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolveClose());
    }),
  };
}
