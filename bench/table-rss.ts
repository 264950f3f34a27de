/**
 * The `table-rss` group: peak RSS (child process, above its baseline) of converting a
 * large Parquet table — the issue's 2 GiB of float32 values, 32 columns — to
 * safetensors, the stacked (rows, 32) tensor and 32 column tensors, and those 32
 * tensors back to Parquet. The stacked convert runs on two layouts of the same values:
 * tensio's default row groups (100,000 rows) and pyarrow's (1,048,576 rows, 128 MiB of
 * values per group), since most files met in the field are written by pyarrow. The Parquet input is generated once and cached outside the
 * repository (`~/.cache/tensio/bench/`, or `TENSIO_BENCH_CACHE`): writing 2 GiB takes
 * about a minute, the convert rows about as long each. RSS does not depend on the
 * machine's load, so these rows mean the same on a busy machine.
 *
 *   TENSIO_BENCH_TABLE_RSS_MIB=2048 npm run bench -- --only table-rss
 *
 * `TENSIO_BENCH_TABLE_RSS_CODEC=zstd` makes (and caches) the input with zstd pages instead
 * of snappy, for the zstd decoders' memory (the addon's libzstd or @mongodb-js/zstd).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { freshTarget } from './lib/raw-fs.js';
import { measureChildRss } from './lib/rss.js';
import type { BenchRow } from './lib/types.js';
import { parquetCreateWriter } from '../src/formats/parquet/index.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { NO_MMAP_ENV } from '../src/storage/memory-map.js';

const COLUMNS = 32;
/** Rows of the repeated block the input is made of (128 MiB of float32 at 32 columns). */
const BLOCK_ROWS = 1_048_576;
/** pyarrow's default row group size (`pq.write_table`: 1024 * 1024 rows). */
const PYARROW_DEFAULT_ROW_GROUP = 1_048_576;
/** The issue's goal for the stacked convert. */
const GOAL_MIB = 200;

/** Size of the Parquet table's values: the issue's 2 GiB, `TENSIO_BENCH_TABLE_RSS_MIB`, or the run's size with --quick. */
export function rssTableMiB(context: Pick<BenchContext, 'quick' | 'sizeMiB'>): number {
  const given = Number(process.env.TENSIO_BENCH_TABLE_RSS_MIB);
  if (Number.isFinite(given) && given > 0) return given;
  return context.quick ? context.sizeMiB : 2048;
}

/** The input's page codec: snappy (the issue's), or `TENSIO_BENCH_TABLE_RSS_CODEC=zstd`. */
function rssTableCodec(): 'snappy' | 'zstd' {
  return process.env.TENSIO_BENCH_TABLE_RSS_CODEC === 'zstd' ? 'zstd' : 'snappy';
}

/** Where the generated input is kept between runs. */
function cacheFolder(): string {
  return process.env.TENSIO_BENCH_CACHE ?? join(homedir(), '.cache', 'tensio', 'bench');
}

/** One block of the table: values rounded to 1/8, compressible like real measurements. */
function makeBlock(rows: number): Uint8Array {
  const values = new Float32Array(rows * COLUMNS);
  let seed = 7;
  for (let i = 0; i < values.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = Math.round((seed / 2 ** 32 - 0.5) * 2000) / 8;
  }
  return new Uint8Array(values.buffer);
}

/**
 * The cached Parquet file (snappy or zstd pages) of `mib` MiB of float32 values (made when missing: the
 * atomic sink publishes it complete or not at all, so a file present is whole).
 */
async function cachedParquet(mib: number, codec: 'snappy' | 'zstd', log: (line: string) => void, rowGroupSize?: number): Promise<{ path: string; rows: number; made: boolean }> {
  const rows = Math.floor((mib * 2 ** 20) / (COLUMNS * 4));
  const folder = cacheFolder();
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `rss-table-${rows}x${COLUMNS}-f32-${codec}${rowGroupSize ? `-rg${rowGroupSize}` : ''}.parquet`);
  if (existsSync(path)) return { path, rows, made: false };
  log(`table-rss: writing the ${mib} MiB table once (${rows} rows × ${COLUMNS}) to ${path}`);
  const block = makeBlock(Math.min(BLOCK_ROWS, rows));
  const rowBytes = COLUMNS * 4;
  const writer = await parquetCreateWriter(await atomicFileSink(path, { durable: false }), { tensors: [{ name: 'table', dtype: 'float32', shape: [rows, COLUMNS] }], formatOptions: { compression: codec, ...(rowGroupSize ? { rowGroupSize } : {}) } });
  await writer.add('table', (function* () {
    for (let done = 0; done < rows;) {
      const take = Math.min(BLOCK_ROWS, rows - done);
      yield block.subarray(0, take * rowBytes);
      done += take;
    }
  })());
  await writer.close();
  return { path, rows, made: true };
}

/**
 * Runs the peak-RSS rows (see the file comment).
 *
 * @example
 * ```ts
 * const rows = await runTableRssBench(context);
 * ```
 */
export async function runTableRssBench(context: BenchContext): Promise<BenchRow[]> {
  const mib = rssTableMiB(context);
  const codec = rssTableCodec();
  const { path: parquet, made } = await cachedParquet(mib, codec, context.log);
  // The same values in row groups of 1,048,576 rows, pyarrow's default (tensio writes 100,000):
  // 128 MiB of values per row group, as most pyarrow-written files of this table have.
  const { path: bigGroups } = await cachedParquet(mib, codec, context.log, PYARROW_DEFAULT_ROW_GROUP);
  const stacked = join(context.dir, 'rss-stacked.safetensors');
  const columns = join(context.dir, 'rss-columns.safetensors');
  const back = join(context.dir, 'rss-columns.parquet');
  const size = `${(statSync(parquet).size / 2 ** 20).toFixed(0)} MiB ${codec} file, ${mib} MiB of values${made ? '' : ', cached input'}`;
  const noMmap = { [NO_MMAP_ENV]: '1' };
  const cases = [
    { op: 'convert', input: parquet, output: stacked, what: `Parquet (${size}) → safetensors, one stacked tensor`, goal: true },
    { op: 'convert', input: parquet, output: stacked, what: `Parquet → safetensors, one stacked tensor, TENSIO_NO_MMAP=1`, goal: true, env: noMmap },
    { op: 'convert', input: bigGroups, output: stacked, what: `Parquet in ${PYARROW_DEFAULT_ROW_GROUP}-row groups (pyarrow's default) → safetensors, one stacked tensor`, goal: true },
    { op: 'convert-columns', input: parquet, output: columns, what: `Parquet → safetensors, ${COLUMNS} column tensors`, goal: false },
    // Read through memory maps (the default with the addon built) the input's mapped file pages count in RSS; without them only the heap does.
    { op: 'convert', input: columns, output: back, what: `safetensors, ${COLUMNS} column tensors → Parquet (separate columns, streamed; input memory-mapped)`, goal: false },
    { op: 'convert', input: columns, output: back, what: `safetensors, ${COLUMNS} column tensors → Parquet (separate columns, streamed; TENSIO_NO_MMAP=1)`, goal: false, env: noMmap },
  ] as const;
  const out: BenchRow[] = [];
  for (const { op, input, output, what, goal, ...rest } of cases) {
    try {
      const report = await measureChildRss(op, [input, output], 'env' in rest ? { env: rest.env } : {});
      const above = report.aboveBaselineBytes / 2 ** 20;
      context.log(`table-rss: ${what}: ${above.toFixed(0)} MiB above a ${(report.baselineBytes / 2 ** 20).toFixed(0)} MiB baseline in ${report.seconds.toFixed(1)} s`);
      out.push({
        format: 'table-rss', operation: `peak RSS above baseline, ${what}`, unit: 'MiB', tensio: above,
        ...(goal ? { goal: `< ${GOAL_MIB} MiB`, met: above < GOAL_MIB } : {}),
        note: `${report.seconds.toFixed(1)} s, baseline ${(report.baselineBytes / 2 ** 20).toFixed(0)} MiB${report.peakWasReset ? '' : '; peak includes start-up (no VmHWM reset)'}`,
      });
    } catch (error) {
      out.push({ format: 'table-rss', operation: `peak RSS, ${what}`, unit: 'MiB', note: `failed: ${(error as Error).message}` });
    }
  }
  await freshTarget(stacked, columns, back);
  return out;
}
