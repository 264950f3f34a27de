/**
 * Deflated `.npz` benchmark: one float32 array (1 GiB by default) stored as a deflated
 * member, as `np.savez_compressed` writes it. It measures the `chunks` location of the
 * model seam: streaming the member (bounded inflate) against Node's one-shot
 * `zlib.inflateRawSync` of the same compressed bytes (which holds the whole member),
 * `read()` against NumPy's `np.load(...)[key]`, and the peak memory of `convert` (to
 * `.npy`) and `verify` in a child process (goal: < 100 MiB above baseline; before the
 * chunked location both held the whole member).
 *
 * The data is float32 noise rounded to bfloat16 precision (the low half of each value is
 * zero), so it deflates to about half, like real weights do (they deflate poorly too).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { formatMissing, logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { freshTarget } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { measureChildRss } from './lib/rss.js';
import { gbPerSecond, runRounds, type Contender } from './lib/timing.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { zipOpen } from '../src/zip/index.js';
import { tensioReadAll, tensioStreamAll } from './lib/tensio-ops.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 'npz';
const MiB = 2 ** 20;
const RSS_GOAL_MIB = 100;

/** Float32 noise with bfloat16 precision (compresses to about half), deterministic. */
function makeBf16Noise(bytes: number): Float32Array {
  const values = new Float32Array(Math.floor(bytes / 4096) * 1024);
  const words = new Uint32Array(values.buffer);
  let state = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    // sign + a narrow exponent range + 7 random mantissa bits; the low 16 bits stay zero
    words[i] = ((state & 0x80000000) | ((0x3c + ((state >>> 8) & 3)) << 23) | (state & 0x007f0000)) >>> 0;
  }
  return values;
}

/**
 * Runs the deflated `.npz` benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runNpzBench(context);
 * ```
 */
export async function runNpzBench(context: BenchContext): Promise<BenchRow[]> {
  const missing = formatMissing(context.tensio, FORMAT, ['open', 'createWriter']);
  if (missing) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: `skipped: ${missing}` }];
  const { dir, log, tensio, peers } = context;
  const rows: BenchRow[] = [];
  const source = join(dir, 'deflated.npz');
  const dataBytes = (() => {
    const values = makeBf16Noise(context.sizeMiB * MiB);
    const shape = [values.length / 1024, 1024];
    log(`npz: writing a deflated float32 [${shape.join(', ')}] member (${(values.byteLength / MiB).toFixed(0)} MiB) with tensio's npz writer…`);
    return { values, shape };
  })();
  await npzWrite(source, { x: { dtype: 'float32', shape: dataBytes.shape, data: new Uint8Array(dataBytes.values.buffer) } }, { compress: true });
  const decoded = dataBytes.values.byteLength;
  const fileBytes = statSync(source).size;
  log(`npz: ${source}: ${(fileBytes / MiB).toFixed(0)} MiB on disk for ${(decoded / MiB).toFixed(0)} MiB of data`);

  // The member's compressed bytes, for the raw zlib baseline (read once, untimed).
  const fileBytesAll = new Uint8Array(readFileSync(source));
  const zip = await zipOpen(tensio.bytesSource(fileBytesAll), { format: 'npz' });
  const entry = zip.entries[0]!;
  const compressedAt = await zip.dataOffset(entry);
  const compressed = fileBytesAll.slice(compressedAt, compressedAt + entry.compressedSize);

  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const peerNote = peers ? undefined : context.peersReason;
  const contenders: Contender[] = [
    {
      name: 'zlib.inflateRawSync',
      run: async () => {
        const start = process.hrtime.bigint();
        const out = inflateRawSync(compressed, { maxOutputLength: entry.uncompressedSize });
        if (out.byteLength !== entry.uncompressedSize) throw new Error('short inflate');
        return Number(process.hrtime.bigint() - start) / 1e9;
      },
    },
    { name: 'tensio stream', run: () => tensioStreamAll(tensio, source, decoded) },
    { name: 'tensio read', run: () => tensioReadAll(tensio, source, decoded) },
    ...(peers ? [{ name: 'np.load', run: () => peers.time('np.load_npz_member', source, { key: 'x' }) }] : []),
  ];
  const results = await runRounds(contenders, rounds);
  logThroughputs(context, 'npz deflated member', results, decoded);
  const streamFigure = throughput(results.get('tensio stream'), decoded);
  const readFigure = throughput(results.get('tensio read'), decoded);
  rows.push(compareRow(FORMAT, 'stream() deflated member (bounded) vs zlib.inflateRawSync whole (info)', streamFigure.median, throughput(results.get('zlib.inflateRawSync'), decoded).median, 'inflateRawSync', undefined, streamFigure.error));
  rows.push(compareRow(FORMAT, 'read() deflated member vs np.load(npz)[key]', readFigure.median, throughput(results.get('np.load'), decoded).median, 'np.load', 0.8, readFigure.error ?? results.get('np.load')?.error ?? peerNote));

  // Peak memory in a child: convert to .npy, then verify (CRCs + every tensor streamed).
  for (const [operation, args] of [
    ['convert', [source, join(dir, 'from-deflated.npy')]],
    ['verify', [source]],
  ] as const) {
    try {
      freshTarget(join(dir, 'from-deflated.npy'));
      const report = await measureChildRss(operation, [...args]);
      const mib = report.aboveBaselineBytes / MiB;
      rows.push({
        format: FORMAT,
        operation: `${operation} of a ${(decoded / MiB).toFixed(0)} MiB deflated member: peak RSS above baseline`,
        unit: 'MiB',
        tensio: mib,
        goal: `< ${RSS_GOAL_MIB} MiB`,
        met: mib < RSS_GOAL_MIB,
        note: `${operation}: ${gbPerSecond(decoded, report.seconds).toFixed(2)} GB/s in the child${report.peakWasReset ? '' : ' (peak not reset: includes start-up)'}`,
      });
    } catch (error) {
      rows.push({ format: FORMAT, operation: `${operation}: peak RSS`, unit: 'MiB', note: `failed: ${(error as Error).message}` });
    }
  }
  freshTarget(join(dir, 'from-deflated.npy'), source);
  return rows;
}
