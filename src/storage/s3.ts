/**
 * S3 and S3-compatible object stores (Node only): `tensio/s3`. The AWS SDK
 * (`@aws-sdk/client-s3`, `@aws-sdk/lib-storage`) loads on the first request, so
 * importing this module is cheap; `import 'tensio'` does not import it at all.
 *
 * Everywhere tensio takes a path it also takes `s3://bucket/key`; this module is for
 * programs that want the pieces: a pinned random-access {@link s3Source}, a streamed
 * multipart {@link s3Sink}, an {@link s3Store} over a prefix, and {@link setS3Defaults}
 * for the endpoint and credentials every `s3://` path uses.
 */
export { isS3Url, parseS3Url, formatS3Url, type S3Location } from './s3-location.js';
export { s3Connect, setS3Defaults, translateS3Error, type S3Options, type S3Stats, type S3Connection } from './s3-client.js';
export { s3Source, type S3Source, type S3SourceOptions } from './s3-source.js';
export { s3Sink, type S3UploadSink, type S3SinkOptions } from './s3-sink.js';
export { s3Store, s3StoreOf, isS3Store, type S3Store, type S3StoreOptions } from './s3-store.js';
