/**
 * `.zt` benchmark (group `zt`): the canonical writer against raw `fs` writes of the same
 * tensor bytes; reading every tensor against raw reads of the same spans and against
 * tensio's own safetensors read of the same tensors; zero-copy views over bytes in
 * memory; XXH3-64 throughput (`@node-rs/xxhash` streaming class, against its one-shot
 * function and tensio's TypeScript XXH3 for the browser); zstd-seekable compress and
 * decompress with the library chosen (`@mongodb-js/zstd`) against the alternatives that
 * install here (`@bokuweb/zstd-wasm`, same frames, same level; `fzstd`, decompress only).
 * Raw parts of a local file are read as memory-mapped views (the native addon) by default;
 * `copy: true` reads are shown beside them.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { throughput, logThroughputs, type BenchContext } from './lib/context.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFixtureFile, type BenchTensor } from './lib/fixtures.js';
import { chunkViews, freshTarget, rawReadFresh, rawReadReused, rawReusedBuffer, rawWrite, RAW_CHUNK_BYTES } from './lib/raw-fs.js';
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

/** `read(name, { copy: true })` of every tensor: the path without the memory mapping. */
async function readAllCopies(tensio: BenchContext['tensio'], path: string, expectedBytes: number): Promise<number> {
  const kept: unknown[] = [];
  let bytes = 0;
  const seconds = await timeIt(async () => {
    const reader = await tensio.openTensorFile(path, { format: 'zt' });
    try {
      for (const info of reader.tensors) {
        const tensor = await reader.read(info.name, { copy: true });
        bytes += tensor.data.byteLength;
        kept.push(tensor);
      }
    } finally {
      await reader.close();
    }
  });
  kept.length = 0;
  if (bytes !== expectedBytes) throw new Error(`zt copy read: ${bytes} bytes, expected ${expectedBytes}`);
  return seconds;
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
  const mapping = tensio.memoryMapStatus();
  log(`  zt read: ${mapping.reason}`);
  const reused = rawReusedBuffer();
  const reads = await runRounds([
    { name: 'raw-reused', run: () => rawReadReused(readPath, spans, reused) },
    { name: 'raw-fresh', run: () => rawReadFresh(readPath, spans) },
    { name: 'tensio-zt', run: () => tensioReadAll(tensio, readPath, dataBytes, 'zt') },
    { name: 'tensio-zt-copy', run: () => readAllCopies(tensio, readPath, dataBytes) },
    { name: 'tensio-safetensors', run: () => tensioReadAll(tensio, stPath, dataBytes, 'safetensors') },
  ], rounds);
  const ztRead = throughput(reads.get('tensio-zt'), dataBytes);
  const how = mapping.enabled ? 'zero-copy (memory-mapped views)' : 'copies (no mmap addon)';
  rows.push(compareRow(FORMAT, `read every raw part, ${how}, vs raw readSync of the same spans into a reused 8 MiB buffer`, ztRead.median, throughput(reads.get('raw-reused'), dataBytes).median, 'raw reused', 0.9, ztRead.error));
  rows.push(compareRow(FORMAT, `read every raw part, ${how}, vs tensio safetensors read`, ztRead.median, throughput(reads.get('tensio-safetensors'), dataBytes).median, 'tensio safetensors', 0.9, ztRead.error));
  const copyRead = throughput(reads.get('tensio-zt-copy'), dataBytes);
  rows.push(compareRow(FORMAT, 'read every raw part into fresh memory (copy: true) vs raw readSync (info)', copyRead.median, throughput(reads.get('raw-fresh'), dataBytes).median, 'raw fresh', undefined, copyRead.error));
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
  // The alternatives: @node-rs/xxhash's one-shot function, and tensio's TypeScript XXH3 (the browser build's).
  const { xxh3 } = await import('@node-rs/xxhash');
  const { Xxh3Hasher } = await import('../src/core/xxh3.js');
  const tsBytes = Math.min(hashBuffer.length, 64 * MiB);
  const oneShot = gbPerSecond(hashBuffer.length, await timeIt(async () => { xxh3.xxh64(hashBuffer); }));
  const typescript = gbPerSecond(tsBytes, await timeIt(async () => {
    const hasher = new Xxh3Hasher();
    for (let at = 0; at < tsBytes; at += RAW_CHUNK_BYTES) hasher.update(hashBuffer.subarray(at, Math.min(at + RAW_CHUNK_BYTES, tsBytes)));
    hasher.digest();
  }));
  log(`  XXH3-64 alternatives: @node-rs/xxhash one-shot ${oneShot.toFixed(2)} GB/s; tensio TypeScript (browser) ${typescript.toFixed(3)} GB/s over ${(tsBytes / MiB).toFixed(0)} MiB`);
  rows.push(compareRow(FORMAT, 'XXH3-64 @node-rs/xxhash one-shot xxh3.xxh64 vs its streaming class (info)', oneShot, xxh, 'streaming class', undefined));
  rows.push(compareRow(FORMAT, `XXH3-64 tensio TypeScript (src/core/xxh3.ts, the browser's; ${(tsBytes / MiB).toFixed(0)} MiB) vs @node-rs/xxhash streaming (info)`, typescript, xxh, '@node-rs/xxhash', undefined));

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
  // fzstd (pure JS, decompress only): the other zstd decoder that installs here.
  let fzstdDecompress: number | undefined;
  let fzstdNote = '';
  try {
    const fzstd = await import('fzstd');
    fzstdDecompress = gbPerSecond(zBytes, await timeIt(async () => { for (const frame of frames) fzstd.decompress(stored.subarray(frame.storedOffset, frame.storedOffset + frame.storedLength)); }));
  } catch (error) {
    fzstdNote = `fzstd failed: ${(error as Error).message}`;
  }
  const ratio = stored.length / zBytes;
  rows.push(compareRow(FORMAT, `zstd-seekable compress, level 3, 1 MiB frames (ratio ${ratio.toFixed(3)}) vs @bokuweb/zstd-wasm`, gbPerSecond(zBytes, compressS), wasmCompress, 'zstd-wasm', undefined, wasmNote || undefined));
  rows.push(compareRow(FORMAT, 'zstd-seekable decompress per frame vs @bokuweb/zstd-wasm', gbPerSecond(zBytes, decompressS), wasmDecompress, 'zstd-wasm', undefined, wasmNote || undefined));
  rows.push(compareRow(FORMAT, 'zstd-seekable decompress per frame vs fzstd (pure JS)', gbPerSecond(zBytes, decompressS), fzstdDecompress, 'fzstd', undefined, fzstdNote || undefined));
  log(`  zt zstd over ${(zBytes / MiB).toFixed(0)} MiB: compress ${gbPerSecond(zBytes, compressS).toFixed(3)} GB/s, decompress ${gbPerSecond(zBytes, decompressS).toFixed(3)} GB/s; wasm ${wasmCompress?.toFixed(3)} / ${wasmDecompress?.toFixed(3)}; fzstd decompress ${fzstdDecompress?.toFixed(3)}`);
  void statSync;
  return rows;
}
