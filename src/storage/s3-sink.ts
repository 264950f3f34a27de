/**
 * A {@link ByteSink} that uploads to an S3 key as it is written: a multipart upload
 * through `@aws-sdk/lib-storage`, fed by the writer through a small stream, so memory
 * stays near (queueSize + 1) × partBytes whatever the size of the output, and nothing is
 * on disk. Nothing is visible at the key until `close()` completes the upload (S3 shows a
 * multipart object only once it is completed; an output smaller than one part is one
 * `PutObject`, equally all-or-nothing). A failed part (after the SDK's retries) stops the
 * writer at its next write, and `abort()` or any failure aborts the upload on the server
 * (`AbortMultipartUpload`), so no parts are left behind.
 *
 * The sink cannot patch bytes already sent (`canWriteAt` false): writers that must
 * patch are staged locally by `openWriteSink` (see `staged-sink.ts`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { TensioError } from '../core/errors.js';
import { S3_PART_BYTES, S3_UPLOAD_QUEUE } from '../core/limits.js';
import type { ByteSink } from './byte-sink.js';
import { resolveS3Options, s3Connect, s3Send, translateS3Error, type S3Connection, type S3Options } from './s3-client.js';
import { formatS3Url, parseS3Url, type S3Location } from './s3-location.js';

/** Options for {@link s3Sink}. */
export interface S3SinkOptions extends S3Options {
  /**
   * Refuse with `ALREADY_EXISTS` when the key exists: a HEAD when the sink opens (so a
   * large upload is not sent in vain), and a conditional write (`If-None-Match: *`) on
   * the request that publishes (`PutObject` or `CompleteMultipartUpload`), so a writer
   * that published the key meanwhile is not replaced. A store that refuses conditional
   * `PutObject` (Swift: 501) gets a one-part multipart upload with a conditional
   * complete instead. A store that ignored the condition altogether would leave the
   * HEAD's race open.
   */
  noOverwrite?: boolean;
  /** `Content-Type` of the object. */
  contentType?: string;
  /** Share an existing connection (stores do). */
  connection?: S3Connection;
}

/** An S3 upload sink, with the upload id once the upload is multipart (tests list it). */
export interface S3UploadSink extends ByteSink {
  readonly location: S3Location;
  /** The multipart upload id, once one was created. */
  readonly uploadId: string | undefined;
}

const MIN_PART_BYTES = 5 * 2 ** 20;
/** Bytes the feeding stream holds before a write waits (the parts hold the rest). */
const FEED_BUFFER_BYTES = 2 ** 20;

/**
 * Opens an upload to `s3://bucket/key`.
 *
 * @example
 * ```ts
 * const sink = await s3Sink('s3://models/out.safetensors', { partBytes: 16 * 2 ** 20 });
 * await sink.write(bytes);
 * await sink.close(); // the object appears now, whole
 * ```
 */
export async function s3Sink(location: string | URL | S3Location, options: S3SinkOptions = {}): Promise<S3UploadSink> {
  const where = typeof location === 'string' || location instanceof URL ? parseS3Url(location) : location;
  const name = formatS3Url(where);
  const settings = resolveS3Options(options);
  const partBytes = settings.partBytes ?? S3_PART_BYTES;
  if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) {
    throw new TensioError('INVALID_ARGUMENT', `partBytes ${partBytes} is below S3's minimum part size of ${MIN_PART_BYTES} bytes`);
  }
  const queueSize = Math.max(1, settings.queueSize ?? S3_UPLOAD_QUEUE);
  if (where.key === '' || where.key.endsWith('/')) throw new TensioError('INVALID_ARGUMENT', `${name} names a prefix, not an object key; add a file name`);
  const connection = options.connection ?? (await s3Connect(options));
  const { sdk, client } = connection;
  const context = { location: where, action: 'upload' };
  if (options.noOverwrite) {
    const exists = await s3Send(connection, context, (abortSignal) => client.send(new sdk.HeadObjectCommand({ Bucket: where.bucket, Key: where.key }), abortSignal ? { abortSignal } : {}), options.signal).then(
      () => true,
      (error: unknown) => {
        if (error instanceof TensioError && error.code === 'NOT_FOUND') return false;
        throw error;
      },
    );
    if (exists) throw new TensioError('ALREADY_EXISTS', `${name} already exists (overwrite is off)`, { path: name });
  }
  const packageName = '@aws-sdk/lib-storage'; // in a variable: bundlers leave it out
  const { Upload } = await (import(packageName) as Promise<typeof import('@aws-sdk/lib-storage')>).catch((cause: unknown) => {
    throw new TensioError('UNSUPPORTED_FEATURE', `writing to s3:// needs the package @aws-sdk/lib-storage, which could not be loaded: ${(cause as Error).message}`, { cause });
  });

  // Loaded here, not at the top: importing storage must not load node:stream (import cost).
  const { PassThrough } = await import('node:stream');
  const body = new PassThrough({ highWaterMark: FEED_BUFFER_BYTES });
  let failure: TensioError | undefined;
  let uploadId: string | undefined;
  const fail = (cause: unknown): TensioError => {
    failure ??= translateS3Error(cause, context);
    // Stop the feed: lib-storage's part loop ends, waits for parts in flight, then aborts the upload.
    if (!body.destroyed) body.destroy(failure);
    return failure;
  };
  const noOverwrite = options.noOverwrite === true;
  /** The publishing request was refused because the key exists now: another writer won. */
  const lostRace = (cause: unknown): TensioError | undefined => {
    const status = (cause as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    // 412: the condition failed (AWS PreconditionFailed, Swift InvalidRequest); 409: a concurrent conditional write (AWS).
    if (status !== 412 && status !== 409) return undefined;
    return new TensioError('ALREADY_EXISTS', `${name} was published by another writer while this upload ran (overwrite is off); nothing was replaced`, { path: name, cause });
  };
  const rawSend = (command: unknown, sendOptions?: unknown): Promise<{ UploadId?: string }> => (client.send as (c: unknown, o?: unknown) => Promise<{ UploadId?: string }>)(command, sendOptions);
  /**
   * `PutObject` with `If-None-Match: *`, on a store that refuses conditional puts: the
   * same body as a one-part multipart upload whose complete carries the condition.
   */
  const conditionalPutAsMultipart = async (input: { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string }, sendOptions?: unknown): Promise<{ UploadId?: string }> => {
    const { Body, ...params } = input;
    const created = await rawSend(new sdk.CreateMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, ...(params.ContentType ? { ContentType: params.ContentType } : {}) }), sendOptions);
    connection.stats.requests += 1;
    uploadId = created.UploadId;
    const part = await rawSend(new sdk.UploadPartCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId, PartNumber: 1, Body: Body as Uint8Array }), sendOptions) as { ETag?: string };
    connection.stats.requests += 2;
    return rawSend(new sdk.CompleteMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }), sendOptions);
  };
  // lib-storage sees this client: every request counted, a failed part stops the feed at once
  // (left alone, lib-storage keeps uploading the rest of the stream before it reports the failure),
  // and with noOverwrite the publishing request is made conditional.
  const watchedClient = {
    config: client.config,
    send: async (command: { constructor: { name: string }; input?: { UploadId?: string; IfNoneMatch?: string } }, sendOptions?: unknown) => {
      const kind = command.constructor.name;
      const publishes = noOverwrite && (kind === 'PutObjectCommand' || kind === 'CompleteMultipartUploadCommand');
      connection.stats.requests += 1;
      try {
        if (publishes && kind === 'PutObjectCommand' && !connection.supports.conditionalPut) return await conditionalPutAsMultipart(command.input as never, sendOptions);
        if (publishes && command.input) command.input.IfNoneMatch = '*';
        const result = await rawSend(command, sendOptions).catch((cause: unknown) => {
          const status = (cause as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
          if (!(publishes && kind === 'PutObjectCommand' && status === 501)) throw cause;
          // "Conditional object PUTs are not supported" (Swift): remember it, and publish through a conditional complete.
          connection.supports.conditionalPut = false;
          delete command.input!.IfNoneMatch;
          return conditionalPutAsMultipart(command.input as never, sendOptions);
        });
        if (result?.UploadId) uploadId = result.UploadId;
        return result;
      } catch (cause) {
        if (kind !== 'AbortMultipartUploadCommand') fail((publishes && lostRace(cause)) || cause);
        throw cause;
      }
    },
  } as unknown as S3Client;
  const upload = new Upload({
    client: watchedClient,
    params: { Bucket: where.bucket, Key: where.key, Body: body, ...(options.contentType ? { ContentType: options.contentType } : {}) },
    partSize: partBytes,
    queueSize,
    leavePartsOnError: false,
  });
  const finished = upload.done().then(
    () => undefined,
    (cause: unknown) => {
      throw failure ?? translateS3Error(cause, context);
    },
  );
  finished.catch(() => undefined); // observed by close() or abort(); never unhandled

  let position = 0;
  let state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';
  let aborting: Promise<void> | undefined;
  const onAbort = (): void => {
    void sink.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  /** After a failure or abort: make sure the server holds no parts of this upload. */
  async function abortOnServer(): Promise<void> {
    await finished.catch(() => undefined);
    if (uploadId === undefined) return;
    // lib-storage aborted already unless its abort request failed; a second abort is harmless (NoSuchUpload).
    await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: where.bucket, Key: where.key, UploadId: uploadId })).catch(() => undefined);
  }

  /** A part failed: the error reaches the writer only once the server holds no parts of the upload. */
  async function failAfterCleanup(error: TensioError): Promise<never> {
    if (state === 'open') {
      state = 'aborted';
      options.signal?.removeEventListener('abort', onAbort);
      aborting = abortOnServer();
    }
    await aborting;
    throw error;
  }

  const sink: S3UploadSink = {
    location: where,
    get uploadId() {
      return uploadId;
    },
    get position() {
      return position;
    },
    canWriteAt: false,
    async write(chunk) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} S3 upload of ${name}`);
      if (failure) return failAfterCleanup(failure);
      if (chunk.byteLength === 0) return;
      // A copy: the stream keeps chunks past this call, and the caller may reuse its buffer.
      const copy = Buffer.from(chunk);
      position += chunk.byteLength;
      connection.stats.bytesSent += chunk.byteLength;
      if (!body.write(copy)) {
        await new Promise<void>((resolveDrain) => {
          const done = (): void => {
            body.off('drain', done);
            body.off('close', done);
            resolveDrain();
          };
          body.on('drain', done);
          body.on('close', done);
        });
      }
      if (failure) return failAfterCleanup(failure);
    },
    async close() {
      if (state === 'closed') return;
      if (state === 'aborted' && aborting) {
        // Aborted by the signal: report it once the server has dropped the parts.
        await aborting;
        throw new TensioError('ABORTED', `upload of ${name} was aborted`, { path: name });
      }
      if (state !== 'open') throw new TensioError('INVALID_STATE', `close of a ${state} S3 upload of ${name}`);
      state = 'closing';
      body.end();
      try {
        await finished;
        state = 'closed';
      } catch (error) {
        state = 'aborted';
        await abortOnServer();
        throw error;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    },
    async abort() {
      if (state === 'closed') return;
      if (state === 'aborted') return aborting;
      state = 'aborted';
      options.signal?.removeEventListener('abort', onAbort);
      if (!body.destroyed) body.destroy(new TensioError('ABORTED', `upload of ${name} aborted`));
      aborting = abortOnServer();
      await aborting;
    },
  };
  return sink;
}
