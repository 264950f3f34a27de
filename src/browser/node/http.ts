/**
 * `node:http` and `node:https` for the browser bundle: the slice of `request()` that
 * `storage/http-client.ts` uses, carried by `fetch`. So the browser reads URLs through
 * the same range logic, checks, retries and limits as Node (`http-source.ts`,
 * `http-store.ts`); only the transport differs:
 * - redirects are followed by the browser (fetch never shows a 3xx to a page), which also
 *   drops credentials on a cross-origin redirect;
 * - headers a page may not set (`Accept-Encoding`, `Connection`, …) are left out: the
 *   browser sets them, and a range answer comes unencoded;
 * - a cross-origin server must allow the page by CORS and expose `Content-Range`
 *   (Hugging Face's file servers do).
 */

type Listener = (value?: unknown) => void;

/** Header names a page may not set; fetch would drop them anyway. */
const FORBIDDEN_HEADERS = new Set(['accept-encoding', 'connection', 'host', 'keep-alive', 'content-length', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Listener): this {
    const wrapped: Listener = (value) => {
      this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== wrapped));
      listener(value);
    };
    return this.on(event, wrapped);
  }
  protected emit(event: string, value?: unknown): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(value);
  }
}

/** A fetch response in the shape of Node's `IncomingMessage`: status, lower-case headers, body chunks. */
export class FetchIncomingMessage {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private failure: unknown;

  constructor(response: Response, private readonly controller: AbortController, private readonly touch: (finished?: boolean) => void) {
    this.statusCode = response.status;
    this.headers = {};
    response.headers.forEach((value, name) => {
      this.headers[name.toLowerCase()] = value;
    });
    this.reader = response.body?.getReader();
  }

  /** Stops reading and closes the connection. */
  destroy(error?: unknown): void {
    if (error !== undefined) this.failure = error;
    void this.reader?.cancel().catch(() => undefined);
    this.reader = undefined;
    this.controller.abort(error);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const reader = this.reader;
      if (!reader) return;
      let step: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
      try {
        step = await reader.read();
      } catch (error) {
        throw this.failure ?? error;
      }
      if (step.done) {
        this.touch(true);
        return;
      }
      this.touch();
      yield step.value;
    }
  }
}

/** One request: `end()` sends it; `'response'` or `'error'` follows. */
export class FetchClientRequest extends Emitter {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private onTimeout: (() => void) | undefined;
  private timeoutMs = 0;
  private answered = false;
  private response: FetchIncomingMessage | undefined;

  constructor(private readonly url: URL, private readonly options: { method?: string; headers?: Record<string, string>; signal?: AbortSignal }) {
    super();
    options.signal?.addEventListener('abort', () => this.destroy(options.signal?.reason ?? new DOMException('aborted', 'AbortError')), { once: true });
  }

  /** Calls `callback` when nothing arrives for `ms` milliseconds. */
  setTimeout(ms: number, callback: () => void): this {
    this.timeoutMs = ms;
    this.onTimeout = callback;
    this.touch();
    return this;
  }

  private touch(finished = false): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (finished || !this.onTimeout || this.timeoutMs <= 0) return;
    this.timer = setTimeout(() => this.onTimeout?.(), this.timeoutMs);
  }

  /** Aborts the request (and its body); `error` reaches whoever waits. */
  destroy(error?: unknown): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.onTimeout = undefined;
    if (this.response) this.response.destroy(error);
    else this.controller.abort(error);
    if (!this.answered && error !== undefined) {
      this.answered = true;
      this.emit('error', error);
    }
  }

  /** Sends the request. */
  end(): void {
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.options.headers ?? {})) if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) headers.set(name, value);
    fetch(this.url, { method: this.options.method ?? 'GET', headers, signal: this.controller.signal, redirect: 'follow' }).then(
      (response) => {
        if (this.answered) {
          void response.body?.cancel().catch(() => undefined);
          return;
        }
        this.answered = true;
        this.touch();
        this.response = new FetchIncomingMessage(response, this.controller, (finished) => this.touch(finished));
        this.emit('response', this.response);
      },
      (error: unknown) => {
        if (this.timer !== undefined) clearTimeout(this.timer);
        if (this.answered) return;
        this.answered = true;
        this.emit('error', error);
      },
    );
  }
}

/** Nothing to pool in a page: the browser keeps its own connections. */
export class Agent {
  constructor(_options?: unknown) {}
  destroy(): void {}
}

/** Starts a request (sent on `end()`). */
export function request(url: URL | string, options: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): FetchClientRequest {
  return new FetchClientRequest(new URL(String(url)), options);
}

/** Node's type name for a response. */
export type IncomingMessage = FetchIncomingMessage;
export default { request, Agent };
