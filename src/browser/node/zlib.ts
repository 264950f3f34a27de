/**
 * `node:zlib` for the browser bundle, on fflate (pure JavaScript deflate/inflate): the
 * sync calls tensio makes (`inflateRawSync`, `gunzipSync`, `inflateSync`, `deflateSync`,
 * `gzipSync`, with `maxOutputLength` honoured), the streaming transforms the zip and
 * inflate codecs drive (`createInflateRaw`, `createGunzip`, `createDeflateRaw`,
 * `createGzip`: `write(chunk, callback)`, `end()`, `destroy()`, `'data'`/`'end'`/`'error'`
 * events and async iteration), and `crc32`. Brotli decoding is hyparquet-compressors'
 * JavaScript decoder, bounded to `maxOutputLength` (which it needs; tensio's one brotli
 * caller, Parquet, passes the page's declared size) and returning only the bytes really
 * decoded; brotli encoding throws `UNSUPPORTED_FEATURE` (no small pure-JS encoder).
 */
import { decompressBrotli } from 'hyparquet-compressors';
// The decoder's output class, the same module instance its decoder uses (see brotliCall).
import { BrotliOutput } from 'hyparquet-compressors/src/brotli.streams.js';
import { Deflate, Gunzip, Gzip, Inflate, Unzlib, Zlib, type FlateStreamHandler } from 'fflate';
import { TensioError } from '../../core/errors.js';
import { crc32 } from '../native/checksums.js';

export { crc32 };

/** The part of fflate's stream classes used here. */
interface FlateStream {
  ondata: FlateStreamHandler;
  push(chunk: Uint8Array, final?: boolean): void;
}

/** Input fed to fflate per push in the sync calls: bounds the output one push can make (deflate ≤ 1032:1). */
const SYNC_PIECE_BYTES = 16 * 1024;

function runSync(make: () => FlateStream, input: Uint8Array, maxOutputLength = Number.MAX_SAFE_INTEGER): Uint8Array {
  const stream = make();
  const pieces: Uint8Array[] = [];
  let total = 0;
  stream.ondata = (data) => {
    total += data.byteLength;
    if (total > maxOutputLength) throw new RangeError(`Cannot create a Buffer larger than ${maxOutputLength} bytes`);
    pieces.push(data);
  };
  if (input.byteLength === 0) stream.push(input, true);
  for (let at = 0; at < input.byteLength; at += SYNC_PIECE_BYTES) {
    stream.push(input.subarray(at, at + SYNC_PIECE_BYTES), at + SYNC_PIECE_BYTES >= input.byteLength);
  }
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

interface SyncOptions {
  maxOutputLength?: number;
  level?: number;
}

const level = (options?: SyncOptions) => ({ level: Math.max(0, Math.min(9, options?.level ?? 6)) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });

/** Raw inflate (no header). */
export const inflateRawSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Inflate(), input, options?.maxOutputLength);
/** gzip members (concatenated members read as one stream). */
export const gunzipSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Gunzip(), input, options?.maxOutputLength);
/** zlib-wrapped inflate. */
export const inflateSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Unzlib(), input, options?.maxOutputLength);
/** Raw deflate. */
export const deflateRawSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Deflate(level(options)), input);
/** zlib-wrapped deflate. */
export const deflateSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Zlib(level(options)), input);
/** gzip. */
export const gzipSync = (input: Uint8Array, options?: SyncOptions): Uint8Array => runSync(() => new Gzip(level(options)), input);

function noBrotli(): never {
  throw new TensioError('UNSUPPORTED_FEATURE', 'brotli compression is not available in the browser build (only a brotli decoder is bundled); write the file with the tensio CLI, or choose another codec');
}
/** What the decoder's output object looks like (hyparquet-compressors' `BrotliOutput`). */
interface BrotliOutputState {
  buffer: Uint8Array;
  pos: number;
}

/**
 * The bound of the brotli call in progress, and the output object it made. The decoder
 * grows its output buffer when a meta-block says it holds more than the buffer has room
 * for (a hostile stream could so decode without limit), and pads a stream that ends short
 * with the zeros of its preallocated buffer; neither is visible from `decompressBrotli`.
 * Both are caught through the one place every output buffer passes: the `buffer`
 * property of `BrotliOutput`, given an accessor below that refuses a buffer larger than
 * the bound and remembers the object, so that its write position (`pos`, the bytes
 * really decoded) can be read once the call returns.
 */
let brotliCall: { limit: number; inputBytes: number; output?: BrotliOutputState } | undefined;
const brotliBuffers = new WeakMap<object, Uint8Array>();
Object.defineProperty(BrotliOutput.prototype, 'buffer', {
  configurable: true,
  get(this: object): Uint8Array | undefined {
    return brotliBuffers.get(this);
  },
  set(this: BrotliOutputState, value: Uint8Array) {
    const call = brotliCall;
    if (call) {
      if (value.byteLength > call.limit) {
        throw new TensioError('LIMIT_EXCEEDED', `brotli: ${call.inputBytes} compressed bytes decode to more than the ${call.limit} bytes expected (a meta-block asks for ${value.byteLength}); the stream is corrupt or hostile`);
      }
      call.output ??= this;
    }
    brotliBuffers.set(this, value);
  },
});

/**
 * Brotli decoding of at most `maxOutputLength` bytes, as Node's: the bytes decoded are
 * returned (a stream that ends short gives fewer — callers compare with the size they
 * expect, as Parquet does — never zero padding), and a stream that decodes to more is
 * refused with `LIMIT_EXCEEDED` at the first meta-block that would pass the bound (so at
 * most one meta-block, ≤ 16 MiB, is allocated beyond it). A stream cut short inside
 * its data is refused by the decoder itself (`TRUNCATED`).
 */
export function brotliDecompressSync(input: Uint8Array, options?: SyncOptions): Uint8Array {
  const length = options?.maxOutputLength;
  if (length === undefined || !Number.isSafeInteger(length)) {
    throw new TensioError('UNSUPPORTED_FEATURE', 'brotli decoding in the browser build needs the decoded size (maxOutputLength)');
  }
  const call: { limit: number; inputBytes: number; output?: BrotliOutputState } = { limit: length, inputBytes: input.byteLength };
  brotliCall = call;
  let decoded: Uint8Array;
  try {
    decoded = decompressBrotli(input, length);
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    const message = (cause as Error).message;
    if (/end of input/i.test(message)) throw new TensioError('TRUNCATED', `brotli: the ${input.byteLength}-byte stream ends before its last meta-block (${message})`, { cause });
    if (/not large enough/.test(message)) throw new TensioError('LIMIT_EXCEEDED', `brotli: ${input.byteLength} compressed bytes decode to more than the ${length} bytes expected`, { cause });
    throw new TensioError('INVALID_HEADER', `brotli: cannot decode ${input.byteLength} bytes into ${length}: ${message}`, { cause });
  } finally {
    brotliCall = undefined;
  }
  const produced = call.output?.pos;
  if (produced === undefined || produced > length) {
    throw new TensioError('INVALID_HEADER', `brotli: the decoder's end state is unknown (${produced} of ${length} bytes); refusing the ${input.byteLength}-byte stream`);
  }
  return decoded.subarray(0, produced);
}
/** Not available in a browser. */
export const brotliCompressSync = noBrotli;

type ZlibCallback = (error: unknown, result?: Uint8Array) => void;

/** Node's callback form: `(input, options?, callback)`, the work done synchronously here. */
function callbackForm(run: (input: Uint8Array, options?: SyncOptions) => Uint8Array) {
  return (input: Uint8Array, options: SyncOptions | ZlibCallback, callback?: ZlibCallback): void => {
    const done = (typeof options === 'function' ? options : callback)!;
    const settings = typeof options === 'function' ? undefined : options;
    let result: Uint8Array;
    try {
      result = run(input, settings);
    } catch (error) {
      queueMicrotask(() => done(error));
      return;
    }
    queueMicrotask(() => done(null, result));
  };
}

/** gzip, callback form. */
export const gzip = callbackForm(gzipSync);
/** gunzip, callback form. */
export const gunzip = callbackForm(gunzipSync);
/** zlib deflate, callback form. */
export const deflate = callbackForm(deflateSync);
/** zlib inflate, callback form. */
export const inflate = callbackForm(inflateSync);
/** Not available in a browser (the callback receives the error). */
export const brotliCompress = callbackForm(noBrotli);
/** Not available in a browser (the callback receives the error). */
export const brotliDecompress = callbackForm(brotliDecompressSync);

type Listener = (value?: unknown) => void;

/**
 * A zlib transform in the shape Node's has, as far as tensio uses it. Output chunks are
 * emitted as `'data'` during `write`, or queued for async iteration when nobody listens.
 */
export class BrowserZlibTransform {
  private readonly listeners = new Map<string, Listener[]>();
  private readonly queued: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  private failure: unknown;
  private ended = false;
  private destroyed = false;

  constructor(private readonly stream: FlateStream) {
    stream.ondata = (data, final) => {
      if (data.byteLength > 0) this.output(data);
      if (final) this.finish();
    };
  }

  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped: Listener = (value) => {
      this.off(event, wrapped);
      listener(value);
    };
    return this.on(event, wrapped);
  }

  off(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  private emit(event: string, value?: unknown): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(value);
  }

  private output(data: Uint8Array): void {
    if ((this.listeners.get('data') ?? []).length > 0) this.emit('data', data);
    else this.queued.push(data);
    this.notify();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    // Listeners added after end() still hear it: Node emits 'end' asynchronously too.
    queueMicrotask(() => this.emit('end'));
    this.notify();
  }

  private notify(): void {
    const resume = this.wake;
    this.wake = undefined;
    resume?.();
  }

  private fail(error: unknown): void {
    this.failure = error;
    queueMicrotask(() => this.emit('error', error));
    this.notify();
  }

  /** Feeds one chunk; `callback` runs once its output has been emitted. */
  write(chunk: Uint8Array, callback?: (error?: unknown) => void): boolean {
    if (this.destroyed) return false;
    try {
      this.stream.push(chunk, false);
      queueMicrotask(() => callback?.());
    } catch (error) {
      this.fail(error);
      queueMicrotask(() => callback?.(error));
    }
    return true;
  }

  /** No more input: flushes and emits `'end'`. */
  end(): this {
    if (this.destroyed || this.ended) return this;
    try {
      this.stream.push(new Uint8Array(0), true);
      this.finish();
    } catch (error) {
      this.fail(error);
    }
    return this;
  }

  /** Stops; an `error` given is emitted. */
  destroy(error?: unknown): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (error !== undefined) this.fail(error);
    this.notify();
    return this;
  }

  /** The output, chunk by chunk (for `for await`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.queued.length > 0) {
        yield this.queued.shift()!;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended || this.destroyed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

/** Raw inflate as a transform. */
export const createInflateRaw = (): BrowserZlibTransform => new BrowserZlibTransform(new Inflate());
/** gunzip as a transform. */
export const createGunzip = (): BrowserZlibTransform => new BrowserZlibTransform(new Gunzip());
/** Raw deflate as a transform. */
export const createDeflateRaw = (options?: SyncOptions): BrowserZlibTransform => new BrowserZlibTransform(new Deflate(level(options)));
/** gzip as a transform. */
export const createGzip = (options?: SyncOptions): BrowserZlibTransform => new BrowserZlibTransform(new Gzip(level(options)));

/** Type names tensio's modules import from `node:zlib`. */
export type InflateRaw = BrowserZlibTransform;
export type Gunzip_ = BrowserZlibTransform;
