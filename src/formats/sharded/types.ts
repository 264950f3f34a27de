/**
 * What the generic sharded-checkpoint code needs to know about one shard format.
 */
import type { S3Options } from '../../storage/s3-client.js';
import type { TensorReader, VerifyOptions, VerifyReport } from '../../model/types.js';
import type { HttpSourceOptions } from '../../storage/http-source.js';

/**
 * A shard format: safetensors (`model-00001-of-00003.safetensors`) or PyTorch `.bin`
 * (`pytorch_model-00001-of-00003.bin`). The sharded reader, verifier and publisher are
 * written once over this.
 */
export interface ShardedLayout {
  /** The format name readers report, e.g. `'safetensors'`. */
  readonly format: string;
  /** The shard file extension with its dot, lower case: `.safetensors`, `.bin`. */
  readonly extension: string;
  /** The prefix transformers uses for this format: `model`, `pytorch_model`. */
  readonly defaultPrefix: string;
  /** Opens one shard (a path or URL) alone (never following an index). */
  openShard(path: string, signal?: AbortSignal): Promise<TensorReader>;
  /** Verifies one shard file alone (structure and its own checksums). */
  verifyShard(path: string, options: VerifyOptions): Promise<VerifyReport>;
  /** Largest index file read, in bytes (an index is JSON, capped like a header). */
  readonly maxIndexBytes: number;
  /** How the index and shards are fetched when the checkpoint is at an `http(s)://` URL (headers, retries). */
  readonly http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  readonly s3?: S3Options;
}
