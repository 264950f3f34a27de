/**
 * One Swift S3 server per test file: `useSwiftS3()` starts it in `before`, creates a
 * bucket, sets tensio's S3 defaults to it (so `s3://` paths work everywhere), and stops
 * it in `after`. Tests read `env.current` inside their bodies.
 */
import { after, before } from 'node:test';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { setS3Defaults, type S3Options } from '../../src/storage/s3-client.js';
import { startSwiftS3, swiftSkip, SWIFT_CREDENTIALS, type SwiftS3Server } from './swift-s3.js';

/** What a test gets: the server, a raw SDK client on it, the options, and a bucket. */
export interface S3TestEnv {
  readonly server: SwiftS3Server;
  readonly client: S3Client;
  readonly options: S3Options;
  readonly bucket: string;
  /** Multipart uploads still open in the bucket (after a failure: must be none). */
  openUploads(): Promise<Array<{ key: string; uploadId: string }>>;
}

/** The skip reason when Swift is unavailable, else false. */
export const s3Skip: string | false = swiftSkip();

/**
 * Registers before/after hooks that run Swift for the current test file.
 *
 * @example
 * ```ts
 * const env = useSwiftS3();
 * test('x', { skip: s3Skip }, async () => { const { bucket } = env.current!; });
 * ```
 */
export function useSwiftS3(bucket = 'tensio-test'): { current: S3TestEnv | undefined } {
  const holder: { current: S3TestEnv | undefined } = { current: undefined };
  if (s3Skip) return holder;
  let server: SwiftS3Server | undefined;
  let client: S3Client | undefined;
  before(async () => {
    server = await startSwiftS3();
    const options: S3Options = { endpoint: server.endpoint, region: 'us-east-1', credentials: { ...SWIFT_CREDENTIALS } };
    client = new S3Client({ ...options, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as S3ClientConfig);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    setS3Defaults(options);
    const raw = client;
    holder.current = {
      server,
      client,
      options,
      bucket,
      async openUploads() {
        const listed = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        return (listed.Uploads ?? []).map((upload) => ({ key: upload.Key ?? '', uploadId: upload.UploadId ?? '' }));
      },
    };
  }, { timeout: 200_000 }); // Swift's start-up limit (150 s) plus the bucket
  after(async () => {
    setS3Defaults({});
    client?.destroy();
    await server?.stop();
  });
  return holder;
}
