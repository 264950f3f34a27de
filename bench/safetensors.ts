/**
 * safetensors benchmark: streaming write and full read of ~1 GiB of mixed f32/bf16/f16
 * tensors against raw fs of the same bytes and against the real safetensors package
 * (numpy and torch flavours); header-only open time; peak RSS of a streaming write and
 * of conversions out of safetensors.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatMissing, logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { chunkViews, freshTarget, rawReadFresh, rawReadReused, rawReusedBuffer, rawWrite, RAW_CHUNK_BYTES } from './lib/raw-fs.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { compareRow } from './lib/report.js';
import { measureChildRss } from './lib/rss.js';
import { median, runRounds, timeIt, type Contender } from './lib/timing.js';
import { registryWriterFactory, tensioListing, tensioReadAll, tensioStreamAll, tensioStreamWrite, type WriterFactory } from './lib/tensio-ops.js';
import type { BenchRow } from './lib/types.js';
import { safetensorsStreamWriter } from '../src/formats/safetensors/index.js';

const FORMAT = 'safetensors';
const MiB = 2 ** 20;

/** Contenders for the peers, or none when the oracle is absent. Writes clear every output of the phase first. */
function peerContenders(context: BenchContext, outputs: readonly string[] | undefined, entries: readonly { name: string; op: string; path: string }[]): Contender[] {
  const { peers } = context;
  if (!peers) return [];
  return entries.map(({ name, op, path }) => ({
    name,
    ...(outputs ? { before: () => freshTarget(...outputs) } : {}),
    run: () => peers.time(op, path),
  }));
}

/**
 * Runs the safetensors benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runSafetensorsBench(context);
 * ```
 */
export async function runSafetensorsBench(context: BenchContext): Promise<BenchRow[]> {
  const missing = formatMissing(context.tensio, FORMAT, ['open', 'createWriter']);
  if (missing) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: `skipped: ${missing}` }];
  const { dir, log, tensio, peers } = context;
  const totalBytes = context.sizeMiB * MiB;
  const tensors = makeMixedTensors(totalBytes, 64);
  const dataBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const { header, offsets } = safetensorsFixtureHeader(tensors);
  const source = join(dir, 'source.safetensors');
  writeFixtureFile(source, [header, ...tensors.map((tensor) => tensor.data)]);
  const fileBytes = statSync(source).size;
  log(`safetensors: ${tensors.length} tensors, ${(dataBytes / MiB).toFixed(0)} MiB of data (f32/bf16/f16), file ${source}`);
  if (peers) await peers.call('load_safetensors_source', { path: source });

  const rows: BenchRow[] = [];
  const rounds = context.reps > 1 ? context.reps + 1 : 1;

  // --- write (page cache, no fsync: what the peers do) --------------------------------------
  const plan = tensors.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, chunks: chunkViews(tensor.data, RAW_CHUNK_BYTES) }));
  const rawPieces = [header, ...plan.flatMap((entry) => entry.chunks)];
  const rawOut = join(dir, 'raw-write.bin');
  const tensioOut = join(dir, 'tensio-write.safetensors');
  const peerOut = join(dir, 'peer-write.safetensors');
  const outputs = [rawOut, tensioOut, peerOut];
  // The stream writer with durable: false is the like-for-like case; the registry writer always fsyncs (measured below).
  const streamWriter: typeof safetensorsStreamWriter | undefined = safetensorsStreamWriter;
  const nonDurable: WriterFactory | undefined = streamWriter ? (path, specs) => streamWriter(path, { tensors: specs, durable: false }) : undefined;
  let writeNote: string | undefined;
  const checkOutput = async (path: string): Promise<void> => {
    if (writeNote !== undefined) return;
    const listing = await tensioListing(tensio, path);
    writeNote = listing.tensors !== tensors.length || listing.bytes !== dataBytes ? `written file lists ${listing.tensors} tensors / ${listing.bytes} bytes, expected ${tensors.length} / ${dataBytes}` : '';
  };
  const writes = await runRounds([
    { name: 'raw', before: () => freshTarget(...outputs), run: () => rawWrite(rawOut, rawPieces) },
    ...(nonDurable
      ? [{
          name: 'tensio',
          before: () => freshTarget(...outputs),
          run: async () => {
            const seconds = await tensioStreamWrite(nonDurable, tensioOut, plan);
            await checkOutput(tensioOut);
            return seconds;
          },
        }]
      : []),
    ...peerContenders(context, outputs, [
      { name: 'st.numpy.save_file', op: 'st.numpy.save_file', path: peerOut },
      { name: 'st.torch.save_file', op: 'st.torch.save_file', path: peerOut },
    ]),
  ], rounds);
  const rawWriteFigure = throughput(writes.get('raw'), fileBytes);
  const tensioWriteFigure = nonDurable ? throughput(writes.get('tensio'), fileBytes) : { error: 'safetensorsStreamWriter is not exported' };
  if (tensioWriteFigure.error) writeNote = `tensio write failed: ${tensioWriteFigure.error}`;
  rows.push(compareRow(FORMAT, 'stream write (durable: false) vs raw fs.writeSync 8 MiB', tensioWriteFigure.median, rawWriteFigure.median, 'raw fs.writeSync', 0.9, writeNote || undefined));
  for (const peer of ['st.numpy.save_file', 'st.torch.save_file']) {
    const figure = throughput(writes.get(peer), fileBytes);
    rows.push(compareRow(FORMAT, `stream write (durable: false) vs ${peer}`, tensioWriteFigure.median, figure.median, peer, undefined, figure.error ?? (peers ? undefined : context.peersReason)));
  }
  logThroughputs(context, `${FORMAT} write`, writes, fileBytes);

  // --- durable write (the registry default: fsync, then rename) vs raw write + fsync ------------
  const durableRounds = context.reps > 1 ? Math.min(context.reps, 2) + 1 : 1;
  const durable = await runRounds([
    { name: 'raw+fsync', before: () => freshTarget(...outputs), run: () => rawWrite(rawOut, rawPieces, { fsync: true }) },
    { name: 'tensio-durable', before: () => freshTarget(...outputs), run: () => tensioStreamWrite(registryWriterFactory(tensio, FORMAT), tensioOut, plan) },
  ], durableRounds);
  const durableFigure = throughput(durable.get('tensio-durable'), fileBytes);
  rows.push(compareRow(FORMAT, 'write via registry (fsync + rename) vs raw fs.writeSync + fsync', durableFigure.median, throughput(durable.get('raw+fsync'), fileBytes).median, 'raw + fsync', 0.9, durableFigure.error ?? 'disk-bound and noisy (shared disk)'));
  logThroughputs(context, `${FORMAT} durable write`, durable, fileBytes);
  freshTarget(...outputs);

  // --- read (all from the same cached fixture file) ------------------------------------
  const spans = tensors.map((tensor, index) => ({ offset: offsets[index]!, length: tensor.data.byteLength }));
  const reused = rawReusedBuffer();
  const reads = await runRounds([
    { name: 'raw-reused', run: () => rawReadReused(source, [{ offset: header.byteLength, length: dataBytes }], reused) },
    { name: 'raw-fresh', run: () => rawReadFresh(source, spans) },
    { name: 'tensio-read', run: () => tensioReadAll(tensio, source, dataBytes) },
    { name: 'tensio-stream', run: () => tensioStreamAll(tensio, source, dataBytes) },
    ...peerContenders(context, undefined, [
      { name: 'st.numpy.load_file', op: 'st.numpy.load_file', path: source },
      { name: 'st.torch.load_file_touch', op: 'st.torch.load_file_touch', path: source },
    ]),
  ], rounds);
  const readFigure = throughput(reads.get('tensio-read'), dataBytes);
  const streamFigure = throughput(reads.get('tensio-stream'), dataBytes);
  rows.push(compareRow(FORMAT, 'read() every tensor vs raw readSync fresh per-tensor buffers', readFigure.median, throughput(reads.get('raw-fresh'), dataBytes).median, 'raw fresh', 0.9, readFigure.error));
  rows.push(compareRow(FORMAT, 'stream() every tensor, reused buffer vs raw readSync reused 8 MiB', streamFigure.median, throughput(reads.get('raw-reused'), dataBytes).median, 'raw reused', 0.9, streamFigure.error));
  const numpyLoad = throughput(reads.get('st.numpy.load_file'), dataBytes);
  rows.push(compareRow(FORMAT, 'read() every tensor vs st.numpy.load_file (copies)', readFigure.median, numpyLoad.median, 'st.numpy.load_file', undefined, numpyLoad.error ?? (peers ? undefined : context.peersReason)));
  const torchLoad = throughput(reads.get('st.torch.load_file_touch'), dataBytes);
  rows.push(compareRow(FORMAT, 'read() every tensor vs st.torch.load_file (mmap, pages touched)', readFigure.median, torchLoad.median, 'st.torch.load_file', undefined, torchLoad.error ?? (peers ? undefined : context.peersReason)));
  logThroughputs(context, `${FORMAT} read`, reads, dataBytes);

  // --- header-only open -----------------------------------------------------------------
  rows.push(...(await headerOpenRows(context, source)));

  // --- peak RSS in a child --------------------------------------------------------------
  rows.push(...(await rssRows(context, source, dataBytes)));
  if (peers) await peers.call('drop');
  return rows;
}

/** Raw header read (open, 8 bytes, JSON, close): what an open cannot beat. */
function rawHeaderOpen(path: string): number {
  const start = process.hrtime.bigint();
  const fd = openSync(path, 'r');
  try {
    const length = Buffer.alloc(8);
    readSync(fd, length, 0, 8, 0);
    const json = Buffer.alloc(Number(length.readBigUInt64LE(0)));
    readSync(fd, json, 0, json.byteLength, 8);
    JSON.parse(json.toString('utf8'));
  } finally {
    closeSync(fd);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function headerOpenRows(context: BenchContext, source: string): Promise<BenchRow[]> {
  const opens = context.quick ? 5 : 20;
  const variants = [
    { label: 'openTensorFile(path) + close (format detected)', options: {} },
    { label: "openTensorFile(path, { format: 'safetensors' }) + close", options: { format: FORMAT } },
  ];
  const tensioSeconds: number[][] = variants.map(() => []);
  const rawSeconds: number[] = [];
  let error: string | undefined;
  // Interleaved so the three see the same machine state.
  for (let index = 0; index < opens && !error; index++) {
    rawSeconds.push(rawHeaderOpen(source));
    for (const [variant, { options }] of variants.entries()) {
      try {
        tensioSeconds[variant]!.push(await timeIt(async () => {
          const reader = await context.tensio.openTensorFile(source, options);
          await reader.close();
        }));
      } catch (cause) {
        error = cause instanceof Error ? cause.message : String(cause);
      }
    }
  }
  const rawMs = median(rawSeconds) * 1000;
  return variants.map(({ label }, variant) => {
    const samples = tensioSeconds[variant]!;
    const tensioMs = error ? undefined : median(samples) * 1000;
    context.log(`  ${FORMAT} header-only open, ${label}: median ${tensioMs?.toFixed(3)} ms (first ${((samples[0] ?? NaN) * 1000).toFixed(3)} ms); raw open + JSON.parse ${rawMs.toFixed(3)} ms`);
    return {
      format: FORMAT,
      operation: `header-only open: ${label}, median of ${opens}, vs raw sync open + JSON.parse`,
      unit: 'ms',
      ...(tensioMs !== undefined ? { tensio: tensioMs, goal: '< 5 ms', met: tensioMs < 5 } : { goal: '< 5 ms', note: `open failed: ${error}` }),
      baseline: rawMs,
      baselineName: 'raw open + JSON.parse',
    } satisfies BenchRow;
  });
}

async function rssRows(context: BenchContext, source: string, dataBytes: number): Promise<BenchRow[]> {
  const { dir, tensio, log } = context;
  const rows: BenchRow[] = [];
  const limitMiB = 100;
  const row = (operation: string, aboveBytes: number | undefined, note?: string): BenchRow => ({
    format: FORMAT,
    operation,
    unit: 'MiB',
    ...(aboveBytes !== undefined ? { tensio: aboveBytes / MiB, met: aboveBytes / MiB < limitMiB } : {}),
    goal: `< ${limitMiB} MiB`,
    ...(note ? { note } : {}),
  });
  const streamOut = join(dir, 'rss-stream.safetensors');
  try {
    const report = await measureChildRss('stream-write', [FORMAT, streamOut, String(dataBytes / MiB)]);
    log(`  ${FORMAT} peak RSS stream write: +${(report.aboveBaselineBytes / MiB).toFixed(1)} MiB over ${(report.baselineBytes / MiB).toFixed(1)} MiB baseline${report.peakWasReset ? '' : ' (peak not reset)'}`);
    rows.push(row(`peak RSS above baseline, stream write of ${(dataBytes / MiB).toFixed(0)} MiB (child)`, report.aboveBaselineBytes));
  } catch (error) {
    rows.push(row('peak RSS above baseline, stream write (child)', undefined, `failed: ${(error as Error).message}`));
  }
  freshTarget(streamOut);
  // npz has no bfloat16: its conversion leaves the bf16 tensors out (a third of the bytes).
  for (const { extension, without } of [{ extension: '.npz', without: 'bfloat16' }, { extension: '.pt', without: undefined }]) {
    const writer = tensio.BUILT_IN_FORMATS.find((format) => format.createWriter && format.extensions.includes(extension));
    const operation = `peak RSS above baseline, convert safetensors -> ${extension}${without ? ` (${without} left out)` : ''} (child)`;
    if (!writer) {
      rows.push(row(operation, undefined, `skipped: no ${extension} writer available`));
      continue;
    }
    const out = join(dir, `rss-convert${extension}`);
    try {
      const report = await measureChildRss('convert', [source, out, ...(without ? [without] : [])]);
      log(`  ${FORMAT} peak RSS convert -> ${extension}: +${(report.aboveBaselineBytes / MiB).toFixed(1)} MiB in ${report.seconds.toFixed(2)} s`);
      rows.push(row(operation, report.aboveBaselineBytes));
    } catch (error) {
      rows.push(row(operation, undefined, `failed: ${(error as Error).message}`));
    }
    freshTarget(out);
  }
  return rows;
}
