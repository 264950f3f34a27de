/**
 * A static file server for the HTTP benchmark, run in its own process (so the server
 * and the client each have a core): `node --import tsx bench/lib/http-serve.ts DIR`
 * prints `PORT` on its first line. Range requests (including suffix ranges) are
 * answered from the file with `fs.createReadStream`; `GET /__stats` answers the
 * requests and body bytes served since the last `GET /__reset`.
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

const root = process.argv[2];
if (!root) throw new Error('usage: http-serve.ts DIR');
const stats = { requests: 0, bytes: 0 };

const server = http.createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  if (path === '/__stats') return void response.end(JSON.stringify(stats));
  if (path === '/__reset') {
    stats.requests = 0;
    stats.bytes = 0;
    return void response.end('{}');
  }
  stats.requests += 1;
  const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    response.writeHead(404, { 'Content-Length': 0 });
    return void response.end();
  }
  const etag = `"${size}-bench"`;
  let start = 0;
  let end = size - 1;
  const match = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  if (match) {
    if (match[1] === '') start = Math.max(0, size - Number(match[2]));
    else {
      start = Number(match[1]);
      if (match[2] !== '') end = Math.min(Number(match[2]), size - 1);
    }
    if (start >= size) {
      response.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
      return void response.end();
    }
    response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, ETag: etag, 'Accept-Ranges': 'bytes' });
  } else {
    response.writeHead(200, { 'Content-Length': size, ETag: etag, 'Accept-Ranges': 'bytes' });
  }
  if (end < start) return void response.end();
  const stream = createReadStream(file, { start, end, highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => {
    stats.bytes += chunk.length;
  });
  stream.pipe(response);
  response.on('close', () => stream.destroy());
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
