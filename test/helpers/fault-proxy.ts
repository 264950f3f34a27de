/**
 * A small TCP proxy for fault injection between a client and a server on loopback:
 * bytes pass through unchanged until a rule says otherwise.
 *
 * - `dropUploadAfter(bytes, times)`: the next `times` connections that send more than
 *   `bytes` bytes to the server are cut there (a connection dropped mid-part); small
 *   requests (an abort, a list) pass.
 * - `dropDownloadAfter(bytes, times)`: the next `times` connections that receive more
 *   than `bytes` bytes from the server are cut there (a body cut short).
 * - `delayMs`: every answer's first bytes wait this long.
 */
import net, { type AddressInfo } from 'node:net';

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** Connections cut so far. */
  readonly drops: number;
  dropUploadAfter(bytes: number, times: number): void;
  dropDownloadAfter(bytes: number, times: number): void;
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let upload = { bytes: Infinity, times: 0 };
  let download = { bytes: Infinity, times: 0 };
  let drops = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    let received = 0;
    let delayed = false;
    const cut = (): void => {
      drops += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      sent += chunk.byteLength;
      if (upload.times > 0 && sent > upload.bytes) {
        upload = { bytes: upload.bytes, times: upload.times - 1 };
        upstream.write(chunk.subarray(0, chunk.byteLength - (sent - upload.bytes)));
        cut();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (download.times > 0 && received > download.bytes) {
        download = { bytes: download.bytes, times: download.times - 1 };
        client.write(chunk.subarray(0, Math.max(0, chunk.byteLength - (received - download.bytes))), () => cut());
        return;
      }
      if (proxy.delayMs > 0 && !delayed) {
        delayed = true;
        upstream.pause();
        setTimeout(() => {
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        }, proxy.delayMs);
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get drops() {
      return drops;
    },
    dropUploadAfter(bytes, times) {
      upload = { bytes, times };
    },
    dropDownloadAfter(bytes, times) {
      download = { bytes, times };
    },
    delayMs: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
  return proxy;
}
