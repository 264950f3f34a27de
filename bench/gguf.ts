/**
 * GGUF benchmark: dequantization throughput per type (float32 output GB/s) against
 * gguf-py's NumPy `gguf.quants.dequantize` on the same blocks; quantization of Q8_0 and
 * Q4_0 against `gguf.quants.quantize` (input GB/s); header-only open of the largest
 * vocabulary file (ms) against `@huggingface/gguf` and gguf-py's `GGUFReader`; and the
 * full convert of a 1 GiB Q8_0 model to safetensors against raw read+write of the same
 * bytes. Codec rows: 3 interleaved rounds (1 with --quick) of best-of-`reps` on each
 * side, the median round reported; open and convert rows: best of `reps`.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { compareRow } from './lib/report.js';
import type { BenchRow } from './lib/types.js';
import { selfTimedSeconds } from './lib/timing.js';
import { BLOCK_DTYPE_INFO, isBlockDType } from '../src/core/block-dtypes.js';
import type { DType } from '../src/core/dtype.js';
import { GGUF_DEQUANTIZABLE, ggufCreateWriter, ggufDequantize, ggufOpen, ggufQuantize } from '../src/formats/gguf/index.js';
import { convert } from '../src/operations/index.js';
import { sharedFile } from '../test/helpers/shared-files.js';

const FORMAT = 'gguf';
const MiB = 2 ** 20;

const PEER = String.raw`
import sys, json, time, numpy as np, gguf
from gguf import GGMLQuantizationType as T
mode, path, name, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
best = float('inf')
if mode == 'dequantize':
    t = T[name]; raw = np.fromfile(path, dtype=np.uint8)
    size = gguf.GGML_QUANT_SIZES[t][1] if name not in ('F16', 'BF16') else 2
    raw = raw.reshape(-1, 256 * size if size > 2 else 4096)
    for _ in range(reps):
        s = time.perf_counter(); gguf.quants.dequantize(raw, t); best = min(best, time.perf_counter() - s)
elif mode == 'quantize':
    x = np.fromfile(path, dtype=np.float32).reshape(-1, 4096)
    for _ in range(reps):
        s = time.perf_counter(); gguf.quants.quantize(x, T[name]); best = min(best, time.perf_counter() - s)
else:
    for _ in range(reps):
        s = time.perf_counter(); r = gguf.GGUFReader(path); len(r.fields); best = min(best, time.perf_counter() - s)
print(best)
`;

/** The middle value (the upper one of an even count). */
function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

function bestOf(reps: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

async function bestOfAsync(reps: number, fn: () => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

/**
 * Random bytes as blocks (the same bytes for both sides). Plain float16/bfloat16 values
 * are kept finite; a block type's scales are random bits like the rest (some NaN or
 * infinite), which costs NumPy and tensio alike.
 */
function randomBlocks(dtype: DType, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let seed = 7;
  for (let i = 0; i < out.length; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; out[i] = seed >>> 24; }
  if (dtype === 'float16') for (let i = 1; i < out.length; i += 2) out[i] &= 0x3b;
  if (dtype === 'bfloat16') for (let i = 1; i < out.length; i += 2) out[i] &= 0x3f;
  return out;
}

/**
 * Full convert of a Q8_0 GGUF (1 GiB; 8 MiB with --quick) to safetensors, raw blocks kept
 * as uint8 (the default `convert`), against reading the same file and writing its bytes
 * to a new file with raw fs calls (8 MiB chunks) and one fsync: GB/s of the input, best of the reps.
 */
async function convertRow(context: BenchContext): Promise<BenchRow> {
  const { dir, log } = context;
  const mib = context.quick ? 8 : 1024;
  const input = join(dir, 'q8.gguf');
  const output = join(dir, 'q8.safetensors');
  const rawOutput = join(dir, 'q8-raw.bin');
  // 4096-wide Q8_0 rows (4352 bytes); tensors of 32 MiB at most, as a model's layers.
  const rowBytes = (4096 / 32) * 34;
  const rowsTotal = Math.floor((mib * MiB) / rowBytes);
  const rowsPer = Math.max(1, Math.floor((32 * MiB) / rowBytes));
  const tensors: Array<{ name: string; dtype: 'q8_0'; shape: number[] }> = [];
  for (let done = 0, k = 0; done < rowsTotal; done += rowsPer, k++) tensors.push({ name: `blk.${k}.weight`, dtype: 'q8_0', shape: [Math.min(rowsPer, rowsTotal - done), 4096] });
  const block = randomBlocks('q8_0', rowsPer * rowBytes);
  const writer = await ggufCreateWriter(input, { tensors, metadata: { 'general.architecture': 'llama' } });
  for (const tensor of tensors) await writer.add(tensor.name, block.subarray(0, tensor.shape[0]! * rowBytes));
  await writer.close();
  const size = statSync(input).size;
  log(`gguf convert: ${tensors.length} Q8_0 tensors, ${(size / MiB).toFixed(0)} MiB`);
  const reps = context.quick ? 1 : Math.min(3, Math.max(1, context.reps));
  const ours = await bestOfAsync(reps, async () => { rmSync(output, { force: true }); await convert(input, output, { overwrite: true }); });
  const raw = await bestOfAsync(reps, async () => {
    rmSync(rawOutput, { force: true });
    const from = await open(input, 'r');
    const to = await open(rawOutput, 'w');
    const buffer = new Uint8Array(8 * MiB);
    try {
      for (let at = 0; at < size; at += buffer.byteLength) {
        const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.byteLength, size - at), at);
        await to.write(buffer, 0, bytesRead, at);
      }
      await to.sync(); // convert publishes its output fsynced: the same durability here
    } finally {
      await from.close();
      await to.close();
    }
  });
  rmSync(input, { force: true }); rmSync(output, { force: true }); rmSync(rawOutput, { force: true });
  const gb = size / 1e9;
  return compareRow(FORMAT, `convert ${(size / MiB).toFixed(0)} MiB Q8_0 GGUF → safetensors (raw blocks)`, gb / ours, gb / raw, 'raw fs read+write of the same bytes, fsynced', undefined, 'both sides fsync the output once (convert publishes atomically: temp file, fsync, rename)');
}

/**
 * Runs the GGUF benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runGgufBench(context);
 * ```
 */
export async function runGgufBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log, python } = context;
  const reps = Math.max(3, context.reps);
  // Rounds of (tensio best of reps, gguf-py best of reps), interleaved so that load on a
  // shared machine hits both sides alike; each side's figure is the median of its rounds.
  const rounds = context.quick ? 1 : 3;
  const interleaved = async (ours: () => number, theirs: (() => Promise<number | undefined>) | undefined): Promise<[number, number | undefined]> => {
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < rounds; round++) {
      a.push(ours());
      const t = await theirs?.();
      if (t !== undefined) b.push(t);
    }
    return [median(a), b.length > 0 ? median(b) : undefined];
  };
  const rows: BenchRow[] = [];
  const peer = async (mode: string, path: string, name: string): Promise<number | undefined> => {
    if (!python) return undefined;
    try {
      return await selfTimedSeconds(python, ['-c', PEER, mode, path, name, String(reps)]);
    } catch (error) {
      log(`gguf-py ${mode} ${name} failed: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  // Output of each dequantization: up to 64 MiB of float32 (the machine is shared).
  const outBytes = Math.min(64, Math.max(4, context.sizeMiB)) * MiB;
  const out = new Float32Array(outBytes / 4);
  for (const dtype of GGUF_DEQUANTIZABLE.filter((d) => d !== 'float32')) {
    const block = isBlockDType(dtype) ? BLOCK_DTYPE_INFO[dtype] : { elementsPerBlock: 1, bytesPerBlock: 2, ggmlName: dtype === 'float16' ? 'F16' : 'BF16' };
    const elements = Math.floor(out.length / (256 * 16)) * 256 * 16;
    const input = randomBlocks(dtype, (elements / block.elementsPerBlock) * block.bytesPerBlock);
    const path = join(dir, `${block.ggmlName}.blocks`);
    writeFileSync(path, input);
    // gguf-py 0.19 has no Q8_K: no peer figure for it.
    const [ours, theirs] = await interleaved(() => bestOf(reps, () => { ggufDequantize(dtype, input, out); }), block.ggmlName === 'Q8_K' ? undefined : () => peer('dequantize', path, block.ggmlName));
    const gb = (elements * 4) / 1e9;
    rows.push(compareRow(FORMAT, `dequantize ${block.ggmlName} (${(elements * 4 / MiB).toFixed(0)} MiB out)`, gb / ours, theirs ? gb / theirs : undefined, 'gguf.quants.dequantize', 1));
  }
  const values = new Float32Array(Math.floor(outBytes / 4 / 4096) * 4096);
  let seed = 3;
  for (let i = 0; i < values.length; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; values[i] = (seed / 2 ** 32 - 0.5) * 4; }
  const valuesPath = join(dir, 'values.f32');
  writeFileSync(valuesPath, new Uint8Array(values.buffer));
  for (const dtype of ['q8_0', 'q4_0'] as const) {
    const target = new Uint8Array((values.length / 32) * BLOCK_DTYPE_INFO[dtype].bytesPerBlock);
    const [ours, theirs] = await interleaved(() => bestOf(reps, () => { ggufQuantize(dtype, values, target); }), () => peer('quantize', valuesPath, BLOCK_DTYPE_INFO[dtype].ggmlName));
    const gb = values.byteLength / 1e9;
    rows.push(compareRow(FORMAT, `quantize ${BLOCK_DTYPE_INFO[dtype].ggmlName} (${(values.byteLength / MiB).toFixed(0)} MiB in)`, gb / ours, theirs ? gb / theirs : undefined, 'gguf.quants.quantize', 1));
  }
  const vocab = sharedFile('corpora/gguf/llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf');
  if (vocab) {
    const ours = await bestOfAsync(reps, async () => { const reader = await ggufOpen(vocab); await reader.close(); });
    const { gguf } = await import('@huggingface/gguf');
    const hf = await bestOfAsync(reps, async () => { await gguf(vocab, { allowLocalFile: true }); });
    const py = await peer('header', vocab, '-');
    const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
    rows.push({ format: FORMAT, operation: 'open header: deepseek-llm vocab (4 MB header)', unit: 'ms', tensio: ms(ours)!, baseline: ms(hf)!, baselineName: '@huggingface/gguf gguf()', ratio: hf / ours, goal: 'faster', met: ours < hf });
    if (py !== undefined) rows.push({ format: FORMAT, operation: 'open header: deepseek-llm vocab (4 MB header)', unit: 'ms', tensio: ms(ours)!, baseline: ms(py)!, baselineName: 'gguf-py GGUFReader', ratio: py / ours });
  }
  rows.push(await convertRow(context));
  return rows;
}
