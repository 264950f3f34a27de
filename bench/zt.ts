/**
 * `.zt` benchmark (group `zt`): the canonical writer against raw `fs` writes of the same
 * tensor bytes; reading every tensor against raw reads of the same spans and against
 * tensio's own safetensors read of the same tensors; zero-copy views over bytes in
 * memory; XXH3-64 throughput (`@node-rs/xxhash` streaming class); zstd-seekable compress
 * and decompress with the library chosen (`@mongodb-js/zstd`) against the alternative that
 * installs here (`@bokuweb/zstd-wasm`), same frames, same level.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { throughput, logThroughputs, type BenchContext } from './lib/context.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFixtureFile, type BenchTensor } from './lib/fixtures.js';
import { chunkViews, freshTarget, rawReadFresh, rawWrite, RAW_CHUNK_BYTES } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { gbPerSecond, runRounds, timeIt } from './lib/timing.js';
import { tensioReadAll, tensioStreamWrite, type WriterFactory } from './lib/tensio-ops.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 'zt';
const MiB = 2 ** 20;

/** Mixed tensors with distinct contents (identical ones would be stored once by the canonical writer). */
function distinctTensors(totalBytes: number): BenchTensor[] {
  return makeMixedTensors(totalBytes, 64).map((tensor, index) => {
    const data = Buffer.from(tensor.data); // own copy: the fixture shares one pattern
    new DataView(data.buffer, data.byteOffset, 8).setFloat64(0, index + 0.5, true);
    return { ...tensor, data };
  });
}

/**
 * Runs the `.zt` benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runZtBench(context);
 * ```
 */
export async function runZtBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log, tensio } = context;
  const zt = await import('../src/formats/zt/index.js');
  const tensors = distinctTensors(context.sizeMiB * MiB);
  const dataBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const rows: BenchRow[] = [];
  log(`zt: ${tensors.length} tensors (f32/bf16/f16), ${(dataBytes / MiB).toFixed(0)} MiB`);

  // --- write: canonical (64 KiB placement, xxh3 per part, dedup check) vs raw fs ----------
  const plan = tensors.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, chunks: chunkViews(tensor.data, RAW_CHUNK_BYTES) }));
  const rawOut = join(dir, 'zt-raw-write.bin');
  const canonicalOut = join(dir, 'zt-canonical.zt');
  const noDedupOut = join(dir, 'zt-nodedup.zt');
  const outputs = [rawOut, canonicalOut, noDedupOut];
  const writer = (options: Record<string, unknown>): WriterFactory => async (path, specs) => zt.ztCreateWriter(await tensio.atomicFileSink(path, { durable: false }), { tensors: specs, ...options });
  const writes = await runRounds([
    { name: 'raw', before: () => freshTarget(...outputs), run: () => rawWrite(rawOut, tensors.map((tensor) => tensor.data)) },
    { name: 'canonical', before: () => freshTarget(...outputs), run: () => tensioStreamWrite(writer({}), canonicalOut, plan) },
    { name: 'no-dedup', before: () => freshTarget(...outputs), run: () => tensioStreamWrite(writer({ dedupMaxBytes: 0 }), noDedupOut, plan) },
  ], rounds);
  const rawWriteFigure = throughput(writes.get('raw'), dataBytes);
  const canonical = throughput(writes.get('canonical'), dataBytes);
  rows.push(compareRow(FORMAT, 'canonical write (xxh3 per part, 64 KiB, dedup check) vs raw fs.writeSync', canonical.median, rawWriteFigure.median, 'raw fs.writeSync', 0.9, canonical.error));
  const noDedup = throughput(writes.get('no-dedup'), dataBytes);
  rows.push(compareRow(FORMAT, 'write without the dedup check (dedupMaxBytes: 0) vs raw fs.writeSync (info)', noDedup.median, rawWriteFigure.median, 'raw fs.writeSync', undefined, noDedup.error));
  logThroughputs(context, 'zt write', writes, dataBytes);

  // --- read: every tensor, raw parts from the page cache --------------------------------
  const readPath = join(dir, 'zt-read.zt');
  await tensioStreamWrite(writer({}), readPath, plan);
  const stPath = join(dir, 'zt-peer.safetensors');
  const { header } = safetensorsFixtureHeader(tensors);
  writeFixtureFile(stPath, [header, ...tensors.map((tensor) => tensor.data)]);
  const reader = await zt.ztOpen(readPath);
  const spans = reader.tensors.map((info) => ({ offset: (info.extras!.parts as Record<string, { offset: number }>).data!.offset, length: info.byteLength }));
  await reader.close();
  const reads = await runRounds([
    { name: 'raw-fresh', run: () => rawReadFresh(readPath, spans) },
    { name: 'tensio-zt', run: () => tensioReadAll(tensio, readPath, dataBytes, 'zt') },
    { name: 'tensio-safetensors', run: () => tensioReadAll(tensio, stPath, dataBytes, 'safetensors') },
  ], rounds);
  const ztRead = throughput(reads.get('tensio-zt'), dataBytes);
  rows.push(compareRow(FORMAT, 'read every tensor vs raw readSync of the same spans', ztRead.median, throughput(reads.get('raw-fresh'), dataBytes).median, 'raw fresh', 0.9, ztRead.error));
  rows.push(compareRow(FORMAT, 'read every tensor vs tensio safetensors read', ztRead.median, throughput(reads.get('tensio-safetensors'), dataBytes).median, 'tensio safetensors', 0.9, ztRead.error));
  logThroughputs(context, 'zt read', reads, dataBytes);

  // --- zero-copy views over bytes in memory ---------------------------------------------
  const inMemory = new Uint8Array(readFileSync(readPath));
  const viewSeconds = await timeIt(async () => {
    const memoryReader = await zt.ztOpen(inMemory);
    for (const info of memoryReader.tensors) {
      const view = await memoryReader.view(info.name, 'data');
      if (view.buffer !== inMemory.buffer) throw new Error('view is a copy');
    }
  });
  rows.push({ format: FORMAT, operation: `zero-copy views of ${tensors.length} parts over bytes in memory (open + views, info)`, unit: 'GB/s', tensio: gbPerSecond(dataBytes, viewSeconds), note: `${(viewSeconds * 1000).toFixed(2)} ms: no byte copied` });

  // --- XXH3-64 ---------------------------------------------------------------------------
  const hashBuffer = tensors[0]!.data.length >= 64 * MiB ? tensors[0]!.data : Buffer.concat(tensors.slice(0, 16).map((tensor) => tensor.data));
  const xxhSeconds: number[] = [];
  for (let i = 0; i < rounds; i++) {
    xxhSeconds.push(await timeIt(async () => {
      const hasher = zt.ztHasher('xxh3');
      for (let at = 0; at < hashBuffer.length; at += RAW_CHUNK_BYTES) hasher.update(hashBuffer.subarray(at, at + RAW_CHUNK_BYTES));
      hasher.digest();
    }));
  }
  const xxh = gbPerSecond(hashBuffer.length, xxhSeconds.sort((a, b) => a - b)[Math.floor(xxhSeconds.length / 2)]!);
  log(`  zt XXH3-64 streaming over ${(hashBuffer.length / MiB).toFixed(0)} MiB in 8 MiB updates: ${xxh.toFixed(2)} GB/s`);
  rows.push({ format: FORMAT, operation: 'XXH3-64 (@node-rs/xxhash streaming, 8 MiB updates)', unit: 'GB/s', tensio: xxh, goal: '>= 5 GB/s', met: xxh >= 5 });

  // --- zstd-seekable ---------------------------------------------------------------------
  const zBytes = Math.min(64 * MiB, dataBytes);
  const zInput = Buffer.concat(tensors.map((tensor) => tensor.data)).subarray(0, zBytes);
  // Weights-like content: float32 noise (the fixture pattern compresses unrealistically well).
  const noise = new Float32Array(zInput.buffer, zInput.byteOffset, zBytes / 4);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.sin(i * 12.9898) * 0.02;
  const stored = await zt.ztZstdEncode(zInput);
  const compressS = await timeIt(() => zt.ztZstdEncode(zInput));
  const frames = await zt.ztZstdSeekTable({ size: stored.length, read: async (offset, length) => stored.subarray(offset, offset + length) }, 0, stored.length, zBytes, 'bench');
  const { decompress, compress } = await import('@mongodb-js/zstd');
  const decompressS = await timeIt(async () => { for (const frame of frames) await decompress(Buffer.from(stored.buffer, stored.byteOffset + frame.storedOffset, frame.storedLength)); });
  let wasmNote = '';
  let wasmCompress: number | undefined;
  let wasmDecompress: number | undefined;
  try {
    const wasm = await import('@bokuweb/zstd-wasm');
    await wasm.init();
    const wasmFrames: Uint8Array[] = [];
    wasmCompress = gbPerSecond(zBytes, await timeIt(async () => { for (let at = 0; at < zBytes; at += MiB) wasmFrames.push(wasm.compress(zInput.subarray(at, at + MiB), 3)); }));
    wasmDecompress = gbPerSecond(zBytes, await timeIt(async () => { for (const frame of wasmFrames) wasm.decompress(frame); }));
  } catch (error) {
    wasmNote = `zstd-wasm failed: ${(error as Error).message}`;
  }
  void compress;
  const ratio = stored.length / zBytes;
  rows.push(compareRow(FORMAT, `zstd-seekable compress, level 3, 1 MiB frames (ratio ${ratio.toFixed(3)}) vs @bokuweb/zstd-wasm`, gbPerSecond(zBytes, compressS), wasmCompress, 'zstd-wasm', undefined, wasmNote || undefined));
  rows.push(compareRow(FORMAT, 'zstd-seekable decompress per frame vs @bokuweb/zstd-wasm', gbPerSecond(zBytes, decompressS), wasmDecompress, 'zstd-wasm', undefined, wasmNote || undefined));
  log(`  zt zstd over ${(zBytes / MiB).toFixed(0)} MiB: compress ${gbPerSecond(zBytes, compressS).toFixed(3)} GB/s, decompress ${gbPerSecond(zBytes, decompressS).toFixed(3)} GB/s; wasm ${wasmCompress?.toFixed(3)} / ${wasmDecompress?.toFixed(3)}`);
  void statSync;
  return rows;
}
