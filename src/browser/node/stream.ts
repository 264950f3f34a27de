/**
 * `node:stream` for the browser bundle: only `Readable.from(iterable).pipe(transform)`,
 * which `zip/zlib-stream.ts` uses to push chunks through a zlib transform (here a
 * {@link BrowserZlibTransform}). Each chunk is written once the previous one was taken.
 */
import { TensioError } from '../../core/errors.js';
import type { BrowserZlibTransform } from './zlib.js';

type Listener = (value?: unknown) => void;

/** An async iterable that can be piped into a transform. */
export class Readable {
  private readonly errorListeners: Listener[] = [];
  private stopped = false;

  private constructor(private readonly source: AsyncIterable<Uint8Array>) {}

  /** A readable over an async iterable of chunks. */
  static from(source: AsyncIterable<Uint8Array>): Readable {
    return new Readable(source);
  }

  on(event: string, listener: Listener): this {
    if (event === 'error') this.errorListeners.push(listener);
    return this;
  }

  /** Writes every chunk into `transform` (waiting for each), then ends it. */
  pipe(transform: BrowserZlibTransform): BrowserZlibTransform {
    void (async () => {
      try {
        for await (const chunk of this.source) {
          if (this.stopped) return;
          await new Promise<void>((resolve, reject) => transform.write(chunk, (error) => (error ? reject(error) : resolve())));
        }
        if (!this.stopped) transform.end();
      } catch (error) {
        for (const listener of this.errorListeners) listener(error);
      }
    })();
    return transform;
  }

  destroy(): void {
    this.stopped = true;
  }
}

/** Not available in a browser (tensio uses it to upload to S3 only). */
export class PassThrough {
  constructor() {
    throw new TensioError('UNSUPPORTED_FEATURE', 'stream.PassThrough is not available in a browser (S3 uploads need Node)');
  }
}

/** The transform type tensio's modules name. */
export type Transform = BrowserZlibTransform;
export default { Readable };
