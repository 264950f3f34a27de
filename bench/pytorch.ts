/**
 * PyTorch `.pt` benchmark: on the same 1 GiB state dict of mixed f32/bf16/f16 tensors,
 * tensio's read and write against `torch.load` / `torch.save` (the real files: the input
 * `.pt` is written by torch.save itself) and against raw fs of the same bytes; peak RSS
 * of a `.pt -> .safetensors` conversion (goal: one storage plus < 100 MiB).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { formatMissing, logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { chunkViews, freshTarget, rawReadFresh, rawReadReused, rawReusedBuffer, rawWrite, RAW_CHUNK_BYTES } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { measureChildRss } from './lib/rss.js';
import { runRounds, type Contender } from './lib/timing.js';
import { registryWriterFactory, tensioReadAll, tensioStreamAll, tensioStreamWrite, type WriterFactory } from './lib/tensio-ops.js';
import type { BenchRow } from './lib/types.js';
import { pytorchCreateSinkWriter } from '../src/formats/pytorch/index.js';

const FORMAT = 'pytorch';
const MiB = 2 ** 20;

/**
 * Runs the PyTorch benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runPytorchBench(context);
 * ```
 */
export async function runPytorchBench(context: BenchContext): Promise<BenchRow[]> {
  const missing = formatMissing(context.tensio, FORMAT, ['open', 'createWriter']);
  if (missing) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: `skipped: ${missing}` }];
  const { dir, log, tensio, peers } = context;
  const tensors = makeMixedTensors(context.sizeMiB * MiB, 64);
  const dataBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const plan = tensors.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, chunks: chunkViews(tensor.data, RAW_CHUNK_BYTES) }));
  const source = join(dir, 'source.pt');
  let sourceNote: string;
  if (peers) {
    const { header } = safetensorsFixtureHeader(tensors);
    const handoff = join(dir, 'pt-source.safetensors');
    writeFixtureFile(handoff, [header, ...tensors.map((tensor) => tensor.data)]);
    await peers.call('load_safetensors_source', { path: handoff });
    await peers.call('make_pt', { path: source });
    freshTarget(handoff);
    sourceNote = 'input written by torch.save';
  } else {
    await tensioStreamWrite(registryWriterFactory(tensio, FORMAT), source, plan);
    sourceNote = `input written by tensio (no oracle: ${context.peersReason})`;
  }
  log(`pytorch: ${tensors.length} tensors, ${(dataBytes / MiB).toFixed(0)} MiB of data, file ${source} (${sourceNote}, ${statSync(source).size} bytes)`);
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const peerNote = peers ? undefined : context.peersReason;
  const rows: BenchRow[] = [];

  // --- write ---------------------------------------------------------------------------
  const rawOut = join(dir, 'raw-write.bin');
  const tensioOut = join(dir, 'tensio-write.pt');
  const peerOut = join(dir, 'peer-write.pt');
  const outputs = [rawOut, tensioOut, peerOut];
  // Like-for-like with raw fs and torch.save (neither fsyncs): the public sink writer on a non-durable atomic sink.
  const writerFactory: WriterFactory = async (path, specs) => pytorchCreateSinkWriter(await tensio.atomicFileSink(path, { durable: false }), { tensors: specs });
  const peerWrite: Contender[] = peers ? [{ name: 'torch.save', before: () => freshTarget(...outputs), run: () => peers.time('torch.save', peerOut) }] : [];
  const writes = await runRounds([
    { name: 'raw', before: () => freshTarget(...outputs), run: () => rawWrite(rawOut, plan.flatMap((entry) => entry.chunks)) },
    { name: 'tensio', before: () => freshTarget(...outputs), run: () => tensioStreamWrite(writerFactory, tensioOut, plan) },
    ...peerWrite,
  ], rounds);
  const tensioWrite = throughput(writes.get('tensio'), dataBytes);
  const torchSave = throughput(writes.get('torch.save'), dataBytes);
  rows.push(compareRow(FORMAT, 'write (durable: false) vs torch.save', tensioWrite.median, torchSave.median, 'torch.save', 1.5, tensioWrite.error ?? torchSave.error ?? peerNote));
  rows.push(compareRow(FORMAT, 'write (durable: false) vs raw fs.writeSync 8 MiB (W4: CRC32 per entry)', tensioWrite.median, throughput(writes.get('raw'), dataBytes).median, 'raw fs.writeSync', 0.45));
  logThroughputs(context, `${FORMAT} write (tensor bytes)`, writes, dataBytes);

  // --- read (same torch-written file for everyone) -------------------------------------
  const spans = tensors.reduce<{ offset: number; length: number }[]>((list, tensor) => {
    const previous = list[list.length - 1];
    list.push({ offset: previous ? previous.offset + previous.length : 0, length: tensor.data.byteLength });
    return list;
  }, []);
  const reused = rawReusedBuffer();
  const peerRead: Contender[] = peers
    ? [
        { name: 'torch.load', run: () => peers.time('torch.load', source) },
        { name: 'torch.load_mmap_touch', run: () => peers.time('torch.load_mmap_touch', source) },
      ]
    : [];
  const reads = await runRounds([
    { name: 'raw-fresh', run: () => rawReadFresh(source, spans) },
    { name: 'raw-reused', run: () => rawReadReused(source, spans, reused) },
    { name: 'tensio-read', run: () => tensioReadAll(tensio, source, dataBytes) },
    { name: 'tensio-stream', run: () => tensioStreamAll(tensio, source, dataBytes) },
    ...peerRead,
  ], rounds);
  const tensioRead = throughput(reads.get('tensio-read'), dataBytes);
  const tensioStream = throughput(reads.get('tensio-stream'), dataBytes);
  const torchLoad = throughput(reads.get('torch.load'), dataBytes);
  rows.push(compareRow(FORMAT, 'read() every tensor vs torch.load', tensioRead.median, torchLoad.median, 'torch.load', 1.5, tensioRead.error ?? torchLoad.error ?? peerNote));
  const torchMmap = throughput(reads.get('torch.load_mmap_touch'), dataBytes);
  rows.push(compareRow(FORMAT, 'read() every tensor vs torch.load(mmap=True), pages touched', tensioRead.median, torchMmap.median, 'torch.load mmap', undefined, torchMmap.error ?? peerNote));
  rows.push(compareRow(FORMAT, 'read() every tensor vs raw readSync fresh per-tensor buffers', tensioRead.median, throughput(reads.get('raw-fresh'), dataBytes).median, 'raw fresh', 0.9));
  rows.push(compareRow(FORMAT, 'stream() every tensor vs raw readSync reused 8 MiB', tensioStream.median, throughput(reads.get('raw-reused'), dataBytes).median, 'raw reused', 0.9, tensioStream.error));
  logThroughputs(context, `${FORMAT} read`, reads, dataBytes);

  // --- peak RSS of .pt -> .safetensors ---------------------------------------------------
  const largest = Math.max(...tensors.map((tensor) => tensor.data.byteLength));
  const limitMiB = largest / MiB + 100;
  const operation = `peak RSS above baseline, convert .pt -> .safetensors (child; largest storage ${(largest / MiB).toFixed(0)} MiB)`;
  const hasSafetensorsWriter = tensio.BUILT_IN_FORMATS.some((format) => format.name === 'safetensors' && format.createWriter);
  if (!hasSafetensorsWriter) {
    rows.push({ format: FORMAT, operation, unit: 'MiB', goal: `< ${limitMiB.toFixed(0)} MiB`, note: 'skipped: safetensors writer not available' });
  } else {
    const out = join(dir, 'rss-convert.safetensors');
    try {
      const report = await measureChildRss('convert', [source, out]);
      const above = report.aboveBaselineBytes / MiB;
      log(`  ${FORMAT} peak RSS convert -> .safetensors: +${above.toFixed(1)} MiB in ${report.seconds.toFixed(2)} s`);
      rows.push({ format: FORMAT, operation, unit: 'MiB', tensio: above, goal: `< ${limitMiB.toFixed(0)} MiB`, met: above < limitMiB });
    } catch (error) {
      rows.push({ format: FORMAT, operation, unit: 'MiB', goal: `< ${limitMiB.toFixed(0)} MiB`, note: `failed: ${(error as Error).message}` });
    }
    freshTarget(out);
  }
  if (peers) await peers.call('drop');
  return rows;
}
