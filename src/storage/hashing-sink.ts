/**
 * A {@link ByteSink} wrapper that computes a checksum and the size of what it publishes
 * while the bytes go through, so a writer's output can be recorded (a split
 * conversion's part manifest) without reading it back. A writer that patches bytes
 * already written (`writeAt`, safetensors CRC32s) makes the running checksum wrong: the
 * wrapper then says so (`digest()` is undefined) and the caller hashes the published
 * file instead.
 */
import { TensioError } from '../core/errors.js';
import type { ByteSink } from './byte-sink.js';

/** A running checksum: fed chunk by chunk, then its text (`xxh3:…`, `sha256:…`). */
export interface RunningChecksum {
  update(bytes: Uint8Array): void;
  digest(): string;
}

/** A sink that checksums what it writes. */
export interface HashingSink extends ByteSink {
  /** After `close()`: the checksum and size of the published bytes, or undefined when bytes were patched with `writeAt`. */
  digest(): { checksum: string; size: number } | undefined;
}

/**
 * Wraps `sink`; everything is forwarded, sequential writes are fed to `checksum` on the way.
 *
 * @example
 * ```ts
 * const sink = hashingSink(await store.sink('model-00001-of-00002.safetensors'), ztHasher('xxh3'));
 * await sink.write(bytes); await sink.close();
 * sink.digest(); // { checksum: 'xxh3:…', size: bytes.byteLength }
 * ```
 */
export function hashingSink(sink: ByteSink, checksum: RunningChecksum): HashingSink {
  let patched = false;
  let result: { checksum: string; size: number } | undefined;
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
      checksum.update(chunk);
    },
    async close() {
      await sink.close();
      if (!closed && !patched) result = { checksum: checksum.digest(), size: sink.position };
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
