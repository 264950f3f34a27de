/**
 * A {@link ByteSink} wrapper that computes the SHA-256 and size of what it publishes
 * while the bytes go through, so a writer's output can be recorded (a split
 * conversion's part manifest) without reading it back. A writer that patches bytes
 * already written (`writeAt`, safetensors CRC32s) makes the running hash wrong: the
 * wrapper then says so (`digest()` is undefined) and the caller hashes the published
 * file instead.
 */
import { createHash } from 'node:crypto';
import { TensioError } from '../core/errors.js';
import type { ByteSink } from './byte-sink.js';

/** A sink that hashes what it writes. */
export interface HashingSink extends ByteSink {
  /** After `close()`: the SHA-256 (hex) and size of the published bytes, or undefined when bytes were patched with `writeAt`. */
  digest(): { sha256: string; size: number } | undefined;
}

/**
 * Wraps `sink`; everything is forwarded, sequential writes are hashed on the way.
 *
 * @example
 * ```ts
 * const sink = hashingSink(await store.sink('model-00001-of-00002.safetensors'));
 * await sink.write(bytes); await sink.close();
 * sink.digest(); // { sha256: '…', size: bytes.byteLength }
 * ```
 */
export function hashingSink(sink: ByteSink): HashingSink {
  const hash = createHash('sha256');
  let patched = false;
  let result: { sha256: string; size: number } | undefined;
  let closed = false;
  const wrapper: HashingSink = {
    get position() {
      return sink.position;
    },
    get canWriteAt() {
      return sink.canWriteAt;
    },
    async write(chunk) {
      await sink.write(chunk);
      hash.update(chunk);
    },
    async close() {
      await sink.close();
      if (!closed && !patched) result = { sha256: hash.digest('hex'), size: sink.position };
      closed = true;
    },
    abort: () => sink.abort(),
    digest() {
      if (!closed) throw new TensioError('INVALID_STATE', 'hashing sink: digest() before close()');
      return result;
    },
  };
  if (sink.writeAt) {
    wrapper.writeAt = async (position, bytes) => {
      patched = true;
      await sink.writeAt!(position, bytes);
    };
  }
  return wrapper;
}
