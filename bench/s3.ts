/**
 * S3 over loopback: OpenStack Swift with s3api (Debian packages, started here as in the
 * tests, test/helpers/swift-s3.ts), a safetensors file of `--size-mib` MiB (8 tensors).
 *
 * - S3 → local convert (`s3://…/in.safetensors` → local `.npz`) against a plain
 *   `GetObject` download to a file followed by the same local convert (goal: faster, by
 *   overlapping transfer and conversion);
 * - local → S3 convert (local safetensors → `s3://…/out.npz`, a streamed multipart
 *   upload) against lib-storage's `Upload` of the already converted file;
 * - a 4-part split conversion S3 → S3 (4 CLI processes, then `--finish`) against the
 *   same conversion in one process;
 * - header-only open of the S3 object: requests and bytes.
 *
 * Swift is a Python server on the same 2 cores: its CPU cost is in every figure, on
 * both sides.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startSwiftS3, swiftSkip, SWIFT_CREDENTIALS } from '../test/helpers/swift-s3.js';
import { setS3Defaults, s3Connect } from '../src/storage/s3-client.js';
import { safetensorsWrite } from '../src/formats/safetensors/write.js';
import { throughput, type BenchContext } from './lib/context.js';
import { freshTarget } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, timeIt } from './lib/timing.js';
import { cliProcessKind, runCliProcess } from './lib/cli-process.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 's3';
const MiB = 2 ** 20;
const BUCKET = 'tensio-bench';
const PARTS = 4;

/**
 * Runs the S3 benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runS3Bench(context);
 * ```
 */
export async function runS3Bench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log, tensio } = context;
  const skip = swiftSkip();
  if (skip) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: skip }];
  const server = await startSwiftS3();
  const options = { endpoint: server.endpoint, region: 'us-east-1', credentials: { ...SWIFT_CREDENTIALS } };
  const client = new S3Client({ ...options, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as S3ClientConfig);
  const rows: BenchRow[] = [];
  try {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    setS3Defaults(options);
    // --- the input: 8 float32 tensors, --size-mib in all ---------------------------------
    const tensorBytes = Math.max(1, Math.floor((context.sizeMiB * MiB) / 8 / 4)) * 4;
    const tensors: Record<string, ReturnType<typeof tensio.createTensor>> = {};
    for (let index = 0; index < 8; index++) {
      const values = new Float32Array(tensorBytes / 4);
      for (let i = 0; i < values.length; i += 1024) values[i] = i * 0.5 + index;
      tensors[`layers.${index}.weight`] = tensio.createTensor('float32', [values.length], values);
    }
    const localIn = join(dir, 's3-in.safetensors');
    await safetensorsWrite(localIn, tensors);
    const dataBytes = tensorBytes * 8;
    const inputBytes = (await stat(localIn)).size;
    await new Upload({ client, params: { Bucket: BUCKET, Key: 'in.safetensors', Body: createReadStream(localIn) }, partSize: 8 * MiB, queueSize: 4 }).done();
    log(`s3: swift at ${server.endpoint}; input ${inputBytes} bytes (8 tensors of ${tensorBytes} bytes) uploaded`);
    // Every round moves the object through Swift about 8 times (4 reads, 2 writes, 2 splits):
    // at 1 GiB 3 rounds (1 + 2 steady) unless TENSIO_BENCH_S3_ROUNDS says otherwise.
    const defaultRounds = context.reps > 1 ? Math.min(3, context.reps + 1) : 1;
    const rounds = Number(process.env.TENSIO_BENCH_S3_ROUNDS) >= 1 ? Math.floor(Number(process.env.TENSIO_BENCH_S3_ROUNDS)) : defaultRounds;

    // --- S3 → local convert vs GetObject to a file + local convert --------------------------
    const tensioOut = join(dir, 's3-tensio.npz');
    const downloaded = join(dir, 's3-downloaded.safetensors');
    const plainOut = join(dir, 's3-plain.npz');
    const reads = await runRounds([
      {
        name: 'GetObject + convert',
        before: () => freshTarget(downloaded, plainOut),
        run: () => timeIt(async () => {
          const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in.safetensors' }));
          await pipeline(response.Body as Readable, createWriteStream(downloaded));
          await tensio.convert(downloaded, plainOut, { overwrite: true });
        }),
      },
      { name: 'tensio convert s3://', before: () => freshTarget(tensioOut), run: () => timeIt(() => tensio.convert(`s3://${BUCKET}/in.safetensors`, tensioOut, { overwrite: true })) },
      // The two halves of the baseline alone: tensio overlaps them when it takes less than their sum.
      {
        name: 'GetObject only',
        before: () => freshTarget(downloaded),
        run: () => timeIt(async () => {
          const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in.safetensors' }));
          await pipeline(response.Body as Readable, createWriteStream(downloaded));
        }),
      },
      { name: 'local convert only', before: () => freshTarget(plainOut), run: () => timeIt(() => tensio.convert(localIn, plainOut, { overwrite: true })) },
    ], rounds);
    const seconds = (name: string): number | undefined => reads.get(name)?.summary?.median;
    const [tensioSeconds, getSeconds, convertSeconds] = [seconds('tensio convert s3://'), seconds('GetObject only'), seconds('local convert only')];
    const overlap = tensioSeconds !== undefined && getSeconds !== undefined && convertSeconds !== undefined
      ? `overlap: tensio ${tensioSeconds.toFixed(2)} s against download ${getSeconds.toFixed(2)} s + local convert ${convertSeconds.toFixed(2)} s = ${(getSeconds + convertSeconds).toFixed(2)} s (${tensioSeconds < getSeconds + convertSeconds ? 'less than the sum: transfer and conversion overlapped' : 'NOT less than the sum: no overlap seen'}; at best max(${Math.max(getSeconds, convertSeconds).toFixed(2)} s))`
      : 'overlap: not measured (a contender failed)';
    log(`s3: ${overlap}`);
    const fromS3 = throughput(reads.get('tensio convert s3://'), dataBytes);
    const baselineRead = throughput(reads.get('GetObject + convert'), dataBytes);
    rows.push(compareRow(FORMAT, `S3 -> local .npz, ${context.sizeMiB} MiB safetensors`, fromS3.median, baselineRead.median, 'GetObject to a file, then local convert', 1.0,
      `tensio streams each tensor with ONE GetObject (pumped up to 16 MiB ahead) while it writes; the baseline downloads first. ${overlap}. first/best tensio ${fromS3.first?.toFixed(3)}/${fromS3.best?.toFixed(3)}, baseline ${baselineRead.first?.toFixed(3)}/${baselineRead.best?.toFixed(3)} GB/s`));

    // --- local → S3 convert vs Upload of the converted file ---------------------------------
    const converted = join(dir, 's3-converted.npz');
    await tensio.convert(localIn, converted, { overwrite: true });
    const convertedBytes = (await stat(converted)).size;
    const writes = await runRounds([
      { name: 'Upload of the converted file', run: () => timeIt(() => new Upload({ client, params: { Bucket: BUCKET, Key: 'plain-out.npz', Body: createReadStream(converted) }, partSize: 8 * MiB, queueSize: 4 }).done()) },
      { name: 'tensio convert -> s3://', run: () => timeIt(() => tensio.convert(localIn, `s3://${BUCKET}/out.npz`, { overwrite: true })) },
    ], rounds);
    const toS3 = throughput(writes.get('tensio convert -> s3://'), dataBytes);
    const baselineWrite = throughput(writes.get('Upload of the converted file'), convertedBytes);
    rows.push(compareRow(FORMAT, `local -> S3 .npz, ${context.sizeMiB} MiB safetensors`, toS3.median, baselineWrite.median, 'lib-storage Upload of the converted file (8 MiB parts, 4 at once)', 0.8,
      'tensio converts and uploads in one pass (multipart, 8 MiB parts, 4 in flight); the baseline only uploads a file converted beforehand'));

    // --- 4-part split S3 → S3 (4 CLI processes + --finish) vs 1 process ------------------------
    // Both write 4 shards and an index under a fresh prefix each round (a part refuses an
    // existing index); the CLI processes get the server through the AWS variables.
    const cliEnv = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: SWIFT_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SWIFT_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
    const shardSize = String(Math.ceil(dataBytes / PARTS) + 4096);
    let round = 0;
    const splitIndex = (name: string): string => `s3://${BUCKET}/${name}-${round}/model.safetensors.index.json`;
    const splits = await runRounds([
      { name: 'cli 1 process', before: () => void (round += 1), run: () => timeIt(() => runCliProcess(['convert', `s3://${BUCKET}/in.safetensors`, splitIndex('single'), '--max-shard-size', shardSize, '--quiet'], { env: cliEnv })) },
      {
        name: `cli ${PARTS} processes + finish`,
        before: () => void (round += 1),
        run: () => timeIt(async () => {
          await Promise.all(Array.from({ length: PARTS }, (_, at) => runCliProcess(['convert', `s3://${BUCKET}/in.safetensors`, splitIndex('parts'), '--part', `${at + 1}/${PARTS}`, '--quiet'], { env: cliEnv })));
          await runCliProcess(['convert', '--finish', splitIndex('parts'), '--quiet'], { env: cliEnv });
        }),
      },
    ], rounds);
    rows.push(compareRow(FORMAT, `S3 -> S3 split: ${PARTS} processes + --finish vs 1 process, ${context.sizeMiB} MiB`, throughput(splits.get(`cli ${PARTS} processes + finish`), dataBytes).median, throughput(splits.get('cli 1 process'), dataBytes).median, '1 process (--max-shard-size of a quarter: 4 shards too)', undefined,
      `CLI ${cliProcessKind()}; both pay Node start-up per process; on 2 shared cores the point is correctness and overhead, not speed-up`));

    // --- header-only open: requests and bytes -----------------------------------------------
    const connection = await s3Connect({});
    const before = { ...connection.stats };
    const openSeconds = await timeIt(async () => {
      await using reader = await tensio.openTensorFile(`s3://${BUCKET}/in.safetensors`);
      if (reader.tensors.length !== 8) throw new Error(`expected 8 tensors, saw ${reader.tensors.length}`);
    });
    const requests = connection.stats.requests - before.requests;
    const bytes = connection.stats.bytesReceived - before.bytesReceived;
    rows.push({
      format: FORMAT, operation: `open s3:// safetensors (header only), ${inputBytes} bytes`, unit: 'ms', tensio: openSeconds * 1000,
      goal: '1 request, <= 64 KiB', met: requests <= 1 && bytes <= 65536,
      note: `open: ${requests} request(s), ${bytes} bytes received for a ${inputBytes}-byte object`,
    });
    log(rows[rows.length - 1]!.note!);
  } finally {
    setS3Defaults({});
    client.destroy();
    await server.stop();
  }
  return rows;
}
