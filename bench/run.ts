/**
 * tensio benchmarks: `npm run bench [-- --quick] [--only safetensors,npy,npz,pytorch,npk,import,http,bounds,csv,zt,zarr,hdf5,parquet,arrow,table-rss,gguf,split,mmap,s3] (tables = parquet,arrow,csv,table-rss)
 * [--size-mib N] [--json out.json]`.
 *
 * Generates its inputs in a scratch folder under the system temp folder (removed at the
 * end), runs each format's benchmark with tensio, raw `fs` and the Python peers side by
 * side in the same rounds, and prints one table per format with absolute figures and
 * ratios, then a summary of the goals. Figures are medians of the steady repetitions
 * (the first is reported apart in the progress lines); files are in the page cache for
 * every contender alike. Benchmarks never run in `npm test` (test/bench-smoke.test.ts
 * only checks that a tiny quick run works).
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './lib/context.js';
import { findOraclePython, PythonPeers } from './lib/python.js';
import { formatSummary, formatTable } from './lib/report.js';
import type { BenchRow } from './lib/types.js';

const GROUPS = ['safetensors', 'npy', 'npz', 'pytorch', 'npk', 'import', 'http', 'bounds', 'csv', 'zt', 'zarr', 'hdf5', 'parquet', 'arrow', 'table-rss', 'gguf', 'split', 'mmap', 's3'] as const;
/** Names that stand for several groups (`--only tables`: every issue-11 figure; `--only pqw`: the Parquet and CSV write/read groups session 22 worked on). */
const ALIASES: Readonly<Record<string, readonly Group[]>> = { tables: ['parquet', 'arrow', 'csv', 'table-rss'], pqw: ['parquet', 'csv'] };
type Group = (typeof GROUPS)[number];

interface CliOptions {
  quick: boolean;
  only: Group[];
  sizeMiB?: number;
  json?: string;
  reps?: number;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { quick: false, only: [...GROUPS] };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const value = (): string => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only') {
      const names = value().split(',').map((name) => name.trim()).filter(Boolean).flatMap((name) => ALIASES[name] ?? [name]);
      const unknown = names.filter((name) => !(GROUPS as readonly string[]).includes(name));
      if (unknown.length > 0) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${GROUPS.join(', ')}, ${Object.keys(ALIASES).join(', ')}`);
      options.only = [...new Set(names)] as Group[];
    } else if (arg === '--size-mib') {
      const size = Number(value());
      if (!Number.isInteger(size) || size < 1) throw new Error('--size-mib needs a whole number >= 1');
      options.sizeMiB = size;
    } else if (arg === '--reps') {
      const reps = Number(value());
      if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps needs a whole number >= 1');
      options.reps = reps;
    } else if (arg === '--json') options.json = value();
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run bench -- [--quick] [--only safetensors,npy,npz,pytorch,npk,import,http,bounds,csv,zt,zarr,hdf5,parquet,arrow,table-rss,gguf,split,mmap,s3 | tables (= parquet,arrow,csv,table-rss) | pqw (= parquet,csv)] [--size-mib N] [--reps N] [--json out.json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return options;
}

async function runGroup(group: Group, context: BenchContext): Promise<BenchRow[]> {
  switch (group) {
    case 'safetensors':
      return (await import('./safetensors.js')).runSafetensorsBench(context);
    case 'npy':
      return (await import('./npy.js')).runNpyBench(context);
    case 'npz':
      return (await import('./npz.js')).runNpzBench(context);
    case 'pytorch':
      return (await import('./pytorch.js')).runPytorchBench(context);
    case 'import':
      return (await import('./import.js')).runImportBench(context);
    case 'bounds':
      return (await import('./bounds.js')).runBoundsBench(context);
    case 'http':
      return (await import('./http.js')).runHttpBench(context);
    case 'csv':
      return (await import('./csv.js')).runCsvBench(context);
    case 'gguf':
      return (await import('./gguf.js')).runGgufBench(context);
    case 'split':
      return (await import('./split.js')).runSplitBench(context);
    case 'mmap':
      return (await import('./mmap.js')).runMmapBench(context);
    case 's3':
      return (await import('./s3.js')).runS3Bench(context);
    case 'zt':
      return (await import('./zt.js')).runZtBench(context);
    case 'zarr':
      return (await import('./zarr.js')).runZarrBench(context);
    case 'hdf5':
      return (await import('./hdf5.js')).runHdf5Bench(context);
    case 'parquet':
      return (await import('./tables.js')).runParquetBench(context);
    case 'arrow':
      return (await import('./tables.js')).runArrowBench(context);
    case 'table-rss':
      return (await import('./table-rss.js')).runTableRssBench(context);
    case 'npk': {
      // bench/npk.ts belongs to the NumPack helper; it may not exist yet.
      const path = join(dirname(fileURLToPath(import.meta.url)), 'npk.ts');
      if (!existsSync(path)) return [{ format: 'npk', operation: 'all', unit: 'GB/s', note: 'skipped: npk not available (bench/npk.ts is missing)' }];
      const module = (await import('./npk.js' as string)) as { runNpkBench?: (options: { python?: string; quick?: boolean; sizeMiB?: number }) => Promise<BenchRow[]> };
      if (typeof module.runNpkBench !== 'function') return [{ format: 'npk', operation: 'all', unit: 'GB/s', note: 'skipped: npk not available (bench/npk.ts exports no runNpkBench)' }];
      return module.runNpkBench({ ...(context.python ? { python: context.python } : {}), quick: context.quick, sizeMiB: context.sizeMiB });
    }
  }
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const sizeMiB = cli.sizeMiB ?? (cli.quick ? 32 : 1024);
  const reps = cli.reps ?? (cli.quick ? 1 : 5);
  const started = Date.now();
  const log = (line: string): void => console.log(line);
  if (!(globalThis as { gc?: unknown }).gc) log('note: run with node --expose-gc (npm run bench does) so repetitions start from freed memory');
  const dir = await mkdtemp(join(tmpdir(), 'tensio-bench-'));
  process.once('SIGINT', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
  let peers: PythonPeers | undefined;
  const allRows: BenchRow[] = [];
  try {
    const tensio = await import('../src/index.js');
    const { python, reason } = findOraclePython();
    let peersReason = reason;
    if (python) {
      try {
        peers = await PythonPeers.start(python);
      } catch (error) {
        peersReason = (error as Error).message;
      }
    }
    log(`tensio bench: ${cli.only.join(', ')}; ${sizeMiB} MiB; ${reps > 1 ? `median of ${reps} steady repetitions (+1 first, reported apart)` : '1 repetition'}; scratch ${dir}`);
    log(`load average at start ${loadavg().map((load) => load.toFixed(2)).join(' ')} (2 cores here: above ~1 the figures carry other work's noise)`);
    log(`node ${process.version}; peers: ${peers ? Object.entries(peers.versions).map(([name, version]) => `${name} ${version ?? 'missing'}`).join(', ') : `none (${peersReason})`}`);
    const context: BenchContext = {
      dir, sizeMiB, reps, quick: cli.quick, log, tensio,
      ...(python ? { python } : {}),
      ...(peers ? { peers } : {}),
      ...(peersReason && !peers ? { peersReason } : {}),
    };
    const tables: string[][] = [];
    for (const group of cli.only) {
      log(`-- ${group} --`);
      let rows: BenchRow[];
      try {
        rows = await runGroup(group, context);
      } catch (error) {
        rows = [{ format: group, operation: 'all', unit: 'GB/s', note: `failed: ${(error as Error).stack ?? error}` }];
      }
      allRows.push(...rows);
      const table = formatTable(`${group} (${sizeMiB} MiB)`, rows);
      tables.push(table);
      log(table.join('\n'));
    }
    log('');
    log('================ results (GB/s decimal; ratio = tensio / baseline) ================');
    for (const table of tables) log(`${table.join('\n')}\n`);
    log(formatSummary(allRows).join('\n'));
    log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; load average at end ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    if (cli.json) {
      await writeFile(cli.json, JSON.stringify({ node: process.version, sizeMiB, reps, peers: peers?.versions ?? null, rows: allRows }, null, 2));
      log(`wrote ${cli.json}`);
    }
  } finally {
    await peers?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
