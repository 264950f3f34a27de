/**
 * `.npy` benchmark: write and read of one float32 array (1 GiB by default) against raw
 * fs of the same bytes and against NumPy's `np.save` / `np.load` on the same array.
 *
 * Physics to keep in mind (perf-anchors.md §4.3): `np.save` calls fallocate first (1.4x a
 * plain write() here) and `np.load` gets transparent huge pages for its fresh array;
 * Node's fs has neither, so ~0.65x of np.save and ~0.9x of a steady np.load are what a
 * pure-TS writer/reader can reach on this machine.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { formatMissing, logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { makeFloat32Tensor, npyFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { chunkViews, freshTarget, rawReadFresh, rawReadReused, rawReusedBuffer, rawWrite, RAW_CHUNK_BYTES } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { collectGarbage, gbPerSecond, runRounds, summarizeSeconds, type Contender } from './lib/timing.js';
import { tensioReadAll, tensioStreamAll, tensioStreamWrite, type WriterFactory } from './lib/tensio-ops.js';
import type { BenchRow } from './lib/types.js';
import { npyCreateWriter } from '../src/formats/npy/index.js';

const FORMAT = 'npy';
const MiB = 2 ** 20;

/**
 * Runs the `.npy` benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runNpyBench(context);
 * ```
 */
export async function runNpyBench(context: BenchContext): Promise<BenchRow[]> {
  const missing = formatMissing(context.tensio, FORMAT, ['open', 'createWriter']);
  if (missing) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: `skipped: ${missing}` }];
  const { dir, log, tensio, peers } = context;
  const array = makeFloat32Tensor(context.sizeMiB * MiB, 'array');
  const header = npyFixtureHeader('<f4', array.shape);
  const source = join(dir, 'source.npy');
  writeFixtureFile(source, [header, array.data]);
  const fileBytes = statSync(source).size;
  const dataBytes = array.data.byteLength;
  log(`npy: float32 [${array.shape.join(', ')}], ${(dataBytes / MiB).toFixed(0)} MiB, file ${source}`);
  if (peers) await peers.call('load_npy_source', { path: source });
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const peerNote = peers ? undefined : context.peersReason;
  const rows: BenchRow[] = [];

  // --- write ---------------------------------------------------------------------------
  const chunks = chunkViews(array.data, RAW_CHUNK_BYTES);
  const plan = [{ name: array.name, dtype: array.dtype, shape: array.shape, chunks }];
  const rawOut = join(dir, 'raw-write.bin');
  const tensioOut = join(dir, 'tensio-write.npy');
  const peerOut = join(dir, 'peer-write.npy');
  const outputs = [rawOut, tensioOut, peerOut];
  // Like-for-like with raw fs and np.save (neither fsyncs): the public writer on a non-durable atomic sink.
  const writerFactory: WriterFactory = async (path, specs) => npyCreateWriter(await tensio.atomicFileSink(path, { durable: false }), { tensors: specs });
  let writtenBytes: number | undefined;
  const peerWrite: Contender[] = peers ? [{ name: 'np.save', before: () => freshTarget(...outputs), run: () => peers.time('np.save', peerOut) }] : [];
  const writes = await runRounds([
    { name: 'raw', before: () => freshTarget(...outputs), run: () => rawWrite(rawOut, [header, ...chunks]) },
    {
      name: 'tensio',
      before: () => freshTarget(...outputs),
      run: async () => {
        const seconds = await tensioStreamWrite(writerFactory, tensioOut, plan);
        writtenBytes ??= statSync(tensioOut).size;
        return seconds;
      },
    },
    ...peerWrite,
  ], rounds);
  const tensioWrite = throughput(writes.get('tensio'), fileBytes);
  let writeNote = tensioWrite.error ? `tensio write failed: ${tensioWrite.error}` : undefined;
  if (!tensioWrite.error && writtenBytes !== fileBytes) writeNote = `tensio wrote ${writtenBytes} bytes, the fixture has ${fileBytes}`;
  rows.push(compareRow(FORMAT, 'write (npyCreateWriter, durable: false) vs raw fs.writeSync 8 MiB', tensioWrite.median, throughput(writes.get('raw'), fileBytes).median, 'raw fs.writeSync', 0.9, writeNote));
  const npSave = throughput(writes.get('np.save'), fileBytes);
  rows.push(compareRow(FORMAT, 'write (durable: false) vs np.save (fallocate; ~0.65x is physics)', tensioWrite.median, npSave.median, 'np.save', 1.0, npSave.error ?? peerNote));
  logThroughputs(context, `${FORMAT} write`, writes, fileBytes);

  // --- read ----------------------------------------------------------------------------
  const reused = rawReusedBuffer();
  const peerRead: Contender[] = peers ? [{ name: 'np.load', run: () => peers.time('np.load', source) }] : [];
  const reads = await runRounds([
    { name: 'raw-fresh', run: () => rawReadFresh(source, [{ offset: header.byteLength, length: dataBytes }]) },
    { name: 'raw-reused', run: () => rawReadReused(source, [{ offset: header.byteLength, length: dataBytes }], reused) },
    { name: 'tensio-read', run: () => tensioReadAll(tensio, source, dataBytes) },
    { name: 'tensio-stream', run: () => tensioStreamAll(tensio, source, dataBytes) },
    ...peerRead,
  ], rounds);
  const tensioRead = throughput(reads.get('tensio-read'), dataBytes);
  const tensioStream = throughput(reads.get('tensio-stream'), dataBytes);
  rows.push(compareRow(FORMAT, 'read vs raw readSync into one fresh buffer', tensioRead.median, throughput(reads.get('raw-fresh'), dataBytes).median, 'raw fresh', 0.9, tensioRead.error));
  const npLoad = throughput(reads.get('np.load'), dataBytes);
  rows.push(compareRow(FORMAT, 'read vs np.load (interleaved rounds)', tensioRead.median, npLoad.median, 'np.load', 1.0, npLoad.error ?? peerNote));
  rows.push(compareRow(FORMAT, 'stream(), reused buffer vs raw readSync reused 8 MiB', tensioStream.median, throughput(reads.get('raw-reused'), dataBytes).median, 'raw reused', 0.9, tensioStream.error));
  logThroughputs(context, `${FORMAT} read`, reads, dataBytes);

  // --- read, back to back: numpy's best case (freed huge pages reused at once) ----------------
  // In the interleaved rounds above, seconds pass between two loads of one contender and this
  // VM hands freed memory back to the host; a loop of loads in a row is the other extreme.
  const count = rounds;
  const tensioHot: number[] = [];
  let hotError: string | undefined;
  for (let index = 0; index < count && !hotError; index++) {
    collectGarbage();
    try {
      tensioHot.push(await tensioReadAll(tensio, source, dataBytes));
    } catch (error) {
      hotError = (error as Error).message;
    }
  }
  let npHotSeconds: number | undefined;
  let npHotError: string | undefined;
  if (peers) {
    try {
      npHotSeconds = await peers.time('np.load_back_to_back', source, { count });
    } catch (error) {
      npHotError = (error as Error).message;
    }
  }
  const tensioHotFigure = hotError ? undefined : gbPerSecond(dataBytes, summarizeSeconds(tensioHot).median);
  const npHotFigure = npHotSeconds === undefined ? undefined : gbPerSecond(dataBytes, npHotSeconds);
  log(`  ${FORMAT} read back-to-back x${count}: tensio ${tensioHotFigure?.toFixed(2)} GB/s, np.load ${npHotFigure?.toFixed(2)} GB/s`);
  rows.push(compareRow(FORMAT, `read, ${count} loads back to back vs np.load back to back (info)`, tensioHotFigure, npHotFigure, 'np.load back to back', undefined, hotError ?? npHotError ?? peerNote));
  if (peers) await peers.call('drop');
  return rows;
}
