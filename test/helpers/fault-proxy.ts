/**
 * A small TCP proxy for fault injection between a client and a server on loopback:
 * bytes pass through unchanged until a rule says otherwise.
 *
 * - `dropUploadAfter(bytes, times)`: the next `times` connections that send more than
 *   `bytes` bytes to the server are cut there (a connection dropped mid-part); small
 *   requests (an abort, a list) pass.
 * - `dropDownloadAfter(bytes, times)`: the next `times` connections that receive more
 *   than `bytes` bytes from the server are cut there (a body cut short).
 * - `delayMs`: the first answer on every connection waits this long before its first byte.
 * - `delayAnswers(ms, times, requestLine)`: the answers to the next `times` requests
 *   whose request line (`PUT /bucket/key?partNumber=2&uploadId=… HTTP/1.1`) matches
 *   `requestLine` are held `ms` before their first byte (a server that is slow to
 *   answer, or does not answer within the client's timeout); other requests pass.
 */
import net, { type AddressInfo } from 'node:net';

/** An HTTP/1.1 request line at the start of a chunk. */
const REQUEST_LINE = /^(?:GET|PUT|POST|DELETE|HEAD) \S+ HTTP\/1\.[01](?=\r\n)/;

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** Connections cut so far. */
  readonly drops: number;
  /** Answers held by `delayAnswers` so far (requests that matched). */
  readonly delays: number;
  /**
   * The most matched requests outstanding at once (sent, their answer not yet passed
   * on): requests in flight, for concurrency limits. Tests reset it to 0.
   */
  maxHeld: number;
  dropUploadAfter(bytes: number, times: number): void;
  dropDownloadAfter(bytes: number, times: number): void;
  delayAnswers(ms: number, times: number, requestLine?: RegExp): void;
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let upload = { bytes: Infinity, times: 0 };
  let download = { bytes: Infinity, times: 0 };
  let drops = 0;
  let answerDelay = { ms: 0, times: 0, requestLine: /^/ };
  let delays = 0;
  let heldNow = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    let received = 0;
    let delayed = false;
    /** Milliseconds the next answer on this connection is held (a matched request was seen). */
    let holdNextAnswer = 0;
    /** A matched request of this connection is outstanding (counted in `heldNow`). */
    let holding = false;
    const release = (): void => {
      if (!holding) return;
      holding = false;
      heldNow -= 1;
    };
    const cut = (): void => {
      drops += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      sent += chunk.byteLength;
      if (answerDelay.times > 0) {
        // A request starts a chunk (the client writes its head at once; bodies follow).
        const line = REQUEST_LINE.exec(chunk.subarray(0, 2048).toString('latin1'))?.[0];
        if (line !== undefined && answerDelay.requestLine.test(line)) {
          answerDelay = { ...answerDelay, times: answerDelay.times - 1 };
          delays += 1;
          holdNextAnswer = answerDelay.ms;
          if (!holding) {
            holding = true;
            heldNow += 1;
            proxy.maxHeld = Math.max(proxy.maxHeld, heldNow);
          }
        }
      }
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
      const hold = holdNextAnswer > 0 ? holdNextAnswer : proxy.delayMs > 0 && !delayed ? proxy.delayMs : 0;
      if (hold > 0) {
        delayed = true;
        holdNextAnswer = 0;
        upstream.pause();
        setTimeout(() => {
          release();
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        }, hold);
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      release();
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
    get delays() {
      return delays;
    },
    dropUploadAfter(bytes, times) {
      upload = { bytes, times };
    },
    dropDownloadAfter(bytes, times) {
      download = { bytes, times };
    },
    delayAnswers(ms, times, requestLine = /^/) {
      answerDelay = { ms, times, requestLine };
    },
    delayMs: 0,
    maxHeld: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
  return proxy;
}
