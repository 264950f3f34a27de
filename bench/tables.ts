/**
 * Parquet and Arrow/Feather benchmarks on one float32 table (1M × 32 by default, the
 * issue's; a --size-mib below 128 scales the rows down), tensio against raw fs, pyarrow
 * (one thread: `use_threads=False`) and hyparquet / hyparquet-writer on the same data
 * in the same rounds. Figures are GB/s of the table's binary size (decimal). Peak RSS of
 * a Parquet → safetensors convert is the `table-rss` group (table-rss.ts).
 *
 * Method (session 29): the pyarrow peers run in the long-lived Python worker
 * (bench/lib/table_peers.py through peers.py), timed inside Python around the library
 * call, so no process starts between tensio's in-process repetitions (a fork
 * write-protects this process's memory and tensio's next read faulted its scratch in
 * again) and pyarrow reads warm, its Nth read in one process, as tensio does. The "own
 * process" rows (tensio in a fresh node child against pyarrow in a fresh Python process,
 * bench/lib/own-process.ts) run in rounds of their own after every in-process round.
 * Before every contender the free memory is warmed (bench/lib/warm-memory.ts;
 * `TENSIO_BENCH_NO_WARM=1` turns it off), so no contender pays the host's faults for
 * memory another one freed.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetRead } from 'hyparquet';
import { compressors as hyparquetCompressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { npyFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { pyarrowOwnProcessSeconds, tensioOwnProcessSeconds } from './lib/own-process.js';
import type { PythonPeers } from './lib/python.js';
import { freshTarget, rawReadReused, rawReusedBuffer, rawWrite } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, type Contender } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';
import { FreeMemoryWarmer } from './lib/warm-memory.js';
import { arrowCreateWriter, arrowOpen } from '../src/formats/arrow/index.js';
import { parquetCreateWriter, parquetOpen } from '../src/formats/parquet/index.js';
import { PARQUET_DEFAULT_ZSTD_LEVEL } from '../src/formats/parquet/codecs.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { isMemoryMapped } from '../src/storage/memory-map.js';
import { loadZstdWasm } from '../src/storage/zstd-wasm.js';

const COLUMNS = 32;
const MiB = 2 ** 20;
/**
 * The zstd level both writers use: tensio's default, which is pyarrow's default
 * (`pa.Codec.default_compression_level('zstd')` = 1), passed to both explicitly so the
 * row compares like with like.
 */
const ZSTD_LEVEL = PARQUET_DEFAULT_ZSTD_LEVEL;

function makeTable(rows: number): Float32Array {
  const values = new Float32Array(rows * COLUMNS);
  let seed = 7;
  for (let i = 0; i < values.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = Math.round((seed / 2 ** 32 - 0.5) * 2000) / 8; // compressible like real measurements
  }
  return values;
}

const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

type Rounds = Awaited<ReturnType<typeof runRounds>>;

interface Setup {
  rows: number;
  bytes: Uint8Array;
  spec: { name: string; dtype: 'float32'; shape: number[] };
  rounds: number;
  reused: Uint8Array;
  /** Warms the free memory before every contender (3 tables + 64 MiB: a whole Parquet read's stored and decoded pages and its tensor). */
  warmer: FreeMemoryWarmer;
  /** The long-lived Python worker with this group's table loaded (pyarrow's in-process-style peers). */
  peers?: PythonPeers;
  /** The oracle python, for the pyarrow read in a fresh process of the own-process rows. */
  python?: string;
  peerNote?: string;
}

async function setup(context: BenchContext, name: string): Promise<Setup> {
  const rows = Math.max(1000, Math.min(1_000_000, Math.round((context.sizeMiB / 128) * 1_000_000)));
  const bytes = new Uint8Array(makeTable(rows).buffer);
  context.log(`${name}: float32 [${rows}, ${COLUMNS}] = ${(bytes.byteLength / MiB).toFixed(0)} MiB`);
  let peers = context.peers;
  let peerNote = peers ? undefined : context.peersReason ?? 'no oracle python';
  if (peers) {
    // The worker's writers take this table (loaded once, outside every timing).
    const npy = join(context.dir, `${name}-table.npy`);
    writeFixtureFile(npy, [npyFixtureHeader('<f4', [rows, COLUMNS]), bytes]);
    const answer = await peers.send({ op: 'tables.load_source', path: npy });
    if (answer.ok) context.log(`${name}: pyarrow ${answer.versions?.pyarrow ?? '?'} in the long-lived Python worker (timed inside Python, no process started between in-process repetitions; reads are its Nth in one process)`);
    else {
      peerNote = `python worker: ${answer.error}`;
      peers = undefined;
    }
  }
  const warmer = new FreeMemoryWarmer(3 * bytes.byteLength + 64 * MiB);
  return {
    rows, bytes, spec: { name: 'table', dtype: 'float32', shape: [rows, COLUMNS] }, rounds: context.reps > 1 ? context.reps + 1 : 1, reused: rawReusedBuffer(), warmer,
    ...(peers ? { peers } : {}), ...(context.python ? { python: context.python } : {}), ...(peerNote ? { peerNote } : {}),
  };
}

/** Runs the rounds with the free memory warmed before every contender (after its own `before`), and logs what was warmed. */
async function warmedRounds(context: BenchContext, label: string, s: Setup, contenders: readonly Contender[]): Promise<Rounds> {
  const warmed = contenders.map((contender) => ({ ...contender, before: async () => {
    await contender.before?.();
    await s.warmer.warm();
  } }));
  const results = await runRounds(warmed, s.rounds);
  context.log(s.warmer.describe(label));
  return results;
}

/** Read rounds of one file, in this process: raw fs, tensio stacked and separate, pyarrow columnar and stacked (the worker), hyparquet. */
async function readRounds(context: BenchContext, what: string, file: string, s: Setup, table: number): Promise<Rounds> {
  const size = statSync(file).size;
  const peers = s.peers;
  // One untimed call of each pyarrow peer first: read_table imports pyarrow.dataset on its first call.
  if (peers) for (const op of ['pq.read_table', 'pq.read_table+column_stack']) await peers.call(op, { path: file });
  return warmedRounds(context, `parquet ${what}`, s, [
    { name: 'raw', run: () => rawReadReused(file, [{ offset: 0, length: size }], s.reused) },
    { name: 'tensio', run: () => seconds(async () => {
      const reader = await parquetOpen(file);
      try {
        const tensor = await reader.read(reader.tensors[0]!.name);
        if (tensor.data.byteLength !== table) throw new Error(`read ${tensor.data.byteLength} bytes`);
      } finally {
        await reader.close();
      }
    }) },
    // Like for like: tensio's separate columns (32 tensors) are what read_table and hyparquet
    // return (columns); the stacked (rows, 32) tensor against read_table + np.column_stack.
    { name: 'tensio-separate', run: () => seconds(async () => {
      const reader = await parquetOpen(file, { formatOptions: { columns: 'separate' } });
      try {
        let bytes = 0;
        for (const tensor of reader.tensors) bytes += (await reader.read(tensor.name)).data.byteLength;
        if (bytes !== table) throw new Error(`read ${bytes} bytes`);
      } finally {
        await reader.close();
      }
    }) },
    ...(peers ? [{ name: 'pyarrow', run: () => peers.time('pq.read_table', file) }] : []),
    ...(peers ? [{ name: 'pyarrow-stacked', run: () => peers.time('pq.read_table+column_stack', file) }] : []),
    { name: 'hyparquet', run: () => seconds(async () => {
      const bytes = readFileSync(file);
      const asyncBuffer = { byteLength: bytes.byteLength, slice: (start: number, end?: number) => bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + (end ?? bytes.byteLength)) };
      let values = 0;
      await parquetRead({ file: asyncBuffer, compressors: hyparquetCompressors, onChunk: (chunk) => { values += chunk.columnData.length; } });
      if (values !== s.rows * COLUMNS) throw new Error(`hyparquet read ${values} values`);
    }) },
  ]);
}

/**
 * The own-process rounds of one file (bench/lib/own-process.ts): tensio's stacked and
 * columnar reads in a fresh node child and pyarrow's read_table in a fresh Python process,
 * each after one untimed read. Run after every in-process round of the group: each start forks this process.
 */
function ownProcessRounds(context: BenchContext, what: string, file: string, s: Setup): Promise<Rounds> {
  return warmedRounds(context, `parquet ${what} own process`, s, [
    { name: 'tensio-own-process', run: () => tensioOwnProcessSeconds(file, 'stacked') },
    // Like for like with pyarrow's columns (session 30): 32 column tensors, the same child.
    { name: 'tensio-own-process-separate', run: () => tensioOwnProcessSeconds(file, 'separate') },
    ...(s.python ? [{ name: 'pyarrow-own-process', run: () => pyarrowOwnProcessSeconds(s.python!, file) }] : []),
  ]);
}

/**
 * The rows of one file's read rounds. Each row says whether it compares like for like:
 * "stacked" is tensio's one (rows, 32) tensor, "columnar" 32 column tensors (tensio's
 * `columns: 'separate'`), pyarrow's `read_table` and hyparquet's columns.
 */
function readRows(context: BenchContext, what: string, read: Rounds, own: Rounds, table: number, s: Setup): BenchRow[] {
  const tensioRead = throughput(read.get('tensio'), table);
  const separateRead = throughput(read.get('tensio-separate'), table);
  const ownProcess = throughput(own.get('tensio-own-process'), table);
  const ownProcessSeparate = throughput(own.get('tensio-own-process-separate'), table);
  const pyarrowOwn = throughput(own.get('pyarrow-own-process'), table);
  const pyarrowNote = throughput(read.get('pyarrow'), table).error ?? s.peerNote;
  logThroughputs(context, `parquet ${what}`, read, table);
  logThroughputs(context, `parquet ${what}`, own, table);
  return [
    // The first two are the history's rows (tensio stacked against columnar peers: not like for like).
    compareRow('parquet', `${what} stacked (rows, 32) vs pyarrow read_table(use_threads=False) (columnar: not like for like)`, tensioRead.median, throughput(read.get('pyarrow'), table).median, 'pyarrow', 0.5, pyarrowNote),
    compareRow('parquet', `${what} stacked (rows, 32) vs hyparquet parquetRead (columnar: not like for like)`, tensioRead.median, throughput(read.get('hyparquet'), table).median, 'hyparquet', 5),
    compareRow('parquet', `${what} columnar ('separate', 32 tensors) vs pyarrow read_table (both columnar)`, separateRead.median, throughput(read.get('pyarrow'), table).median, 'pyarrow', 0.5, pyarrowNote),
    compareRow('parquet', `${what} stacked (rows, 32) vs pyarrow read_table + np.column_stack (both stacked)`, tensioRead.median, throughput(read.get('pyarrow-stacked'), table).median, 'pyarrow', 0.5, throughput(read.get('pyarrow-stacked'), table).error ?? s.peerNote),
    compareRow('parquet', `${what} columnar ('separate') vs hyparquet parquetRead (both columnar)`, separateRead.median, throughput(read.get('hyparquet'), table).median, 'hyparquet', 5),
    compareRow('parquet', `${what} stacked vs raw read of the file into a reused 8 MiB buffer`, tensioRead.median, throughput(read.get('raw'), table).median, 'raw fs'),
    // Both in a fresh process of their own, one untimed read first (what a user's script sees), in rounds after the in-process ones.
    compareRow('parquet', `${what} stacked, own process (timed like the pyarrow peer) vs pyarrow read_table(use_threads=False), own process too`, ownProcess.median, pyarrowOwn.median, 'pyarrow', 0.5, ownProcess.error ?? pyarrowOwn.error ?? (s.python ? undefined : s.peerNote)),
    compareRow('parquet', `${what} stacked, own process vs hyparquet parquetRead`, ownProcess.median, throughput(read.get('hyparquet'), table).median, 'hyparquet', 5, ownProcess.error),
    compareRow('parquet', `${what} columnar ('separate'), own process vs pyarrow read_table(use_threads=False), own process too (both columnar)`, ownProcessSeparate.median, pyarrowOwn.median, 'pyarrow', 0.5, ownProcessSeparate.error ?? pyarrowOwn.error ?? (s.python ? undefined : s.peerNote)),
  ];
}

/**
 * The Parquet group: read and write (snappy, zstd) against pyarrow and hyparquet (the
 * peak RSS of a Parquet → safetensors convert is the `table-rss` group, table-rss.ts).
 * Every in-process round runs first, then the own-process rounds of every file.
 *
 * @example
 * ```ts
 * const rows = await runParquetBench(context);
 * ```
 */
export async function runParquetBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir } = context;
  const s = await setup(context, 'parquet');
  // Rows in the order of the history; a read's rows wait for its own-process rounds at the end.
  const sections: (BenchRow[] | { what: string; file: string; read: Rounds })[] = [];
  const table = s.bytes.byteLength;
  const peers = s.peers;
  // hyparquet-writer's own input: one Float32Array per column.
  const columns = Array.from({ length: COLUMNS }, (_, c) => Float32Array.from({ length: s.rows }, (_, r) => new Float32Array(s.bytes.buffer)[r * COLUMNS + c]!));
  const zstdWasm = await loadZstdWasm();
  try {
    for (const codec of ['snappy', 'zstd'] as const) {
      const paths = ['tensio', 'pyarrow', 'hyparquet', 'raw'].map((who) => join(dir, `${who}-${codec}.parquet`));
      const level = codec === 'zstd' ? ZSTD_LEVEL : undefined;
      const write = await warmedRounds(context, `parquet write ${codec}`, s, [
        { name: 'tensio', before: () => freshTarget(...paths), run: () => seconds(async () => {
          const writer = await parquetCreateWriter(await atomicFileSink(paths[0]!, { durable: false }), { tensors: [s.spec], formatOptions: { compression: codec, ...(level !== undefined ? { compressionLevel: level } : {}) } });
          await writer.add('table', s.bytes);
          await writer.close();
        }) },
        ...(peers ? [{ name: 'pyarrow', before: () => freshTarget(...paths), run: () => peers.time('pq.write_table', paths[1]!, { compression: codec, level: level ?? null }) }] : []),
        // hyparquet-writer has snappy built in and takes other codecs as synchronous compressors:
        // zstd is the WebAssembly zstd tensio's browser build uses, at the same level.
        { name: 'hyparquet-writer', before: () => freshTarget(...paths), run: () => seconds(async () => {
          const buffer = parquetWriteBuffer({ columnData: columns.map((data, c) => ({ name: `col${c}`, data, type: 'FLOAT' as const })), rowGroupSize: 100_000, ...(codec === 'zstd' ? { codec: 'ZSTD' as const, compressors: { ZSTD: (page: Uint8Array) => zstdWasm.compress(page, level) } } : {}) });
          writeFileSync(paths[2]!, new Uint8Array(buffer));
        }) },
      ]);
      const tensioWrite = throughput(write.get('tensio'), table);
      const levelNote = level !== undefined ? ` (zstd level ${level} both)` : '';
      sections.push([
        compareRow('parquet', `write ${codec}${levelNote} vs pyarrow pq.write_table`, tensioWrite.median, throughput(write.get('pyarrow'), table).median, 'pyarrow', 0.5, throughput(write.get('pyarrow'), table).error ?? s.peerNote),
        compareRow('parquet', `write ${codec}${levelNote} vs hyparquet-writer (parquetWriteBuffer${codec === 'zstd' ? ', zstd-wasm compressor' : ''})`, tensioWrite.median, throughput(write.get('hyparquet-writer'), table).median, 'hyparquet-writer', 5),
      ]);
      logThroughputs(context, `parquet write ${codec}`, write, table);

      // The write rounds remove every output before each contender: write the read input apart.
      const file = join(dir, `read-${codec}.parquet`);
      {
        const writer = await parquetCreateWriter(file, { tensors: [s.spec], formatOptions: { compression: codec } });
        await writer.add('table', s.bytes);
        await writer.close();
      }
      const what = `read ${codec}`;
      sections.push({ what, file, read: await readRounds(context, what, file, s, table) });
    }
    // Files as pyarrow writes them by default (snappy, a dictionary page and RLE_DICTIONARY
    // pages, falling back to PLAIN pages when the dictionary outgrows 1 MiB): the bench table
    // (few distinct values: dictionary all through) and random float32 (dictionary, then PLAIN).
    if (peers) {
      for (const [label, random] of [['bench table', false], ['random float32', true]] as const) {
        const file = join(dir, `pyarrow-default-${random ? 'random' : 'table'}.parquet`);
        await peers.call('tables.write_default', { path: file, random });
        const what = `read pyarrow-default (dictionary, snappy, ${label})`;
        sections.push({ what, file, read: await readRounds(context, what, file, s, table) });
      }
    } else {
      context.log(`parquet: pyarrow-default file rows skipped (${s.peerNote})`);
    }
  } finally {
    await peers?.call('tables.drop');
  }
  // The own-process rounds, after every in-process round: each start forks this process (bench/lib/own-process.ts).
  const result: BenchRow[] = [];
  for (const section of sections) {
    if (Array.isArray(section)) result.push(...section);
    else result.push(...readRows(context, section.what, section.read, await ownProcessRounds(context, section.what, section.file, s), table, s));
  }
  return result;
}

/** A Feather file of the bench table as one record batch (32 columns, each in one piece). */
async function writeOneBatchFeather(path: string, s: Setup): Promise<string> {
  const writer = await arrowCreateWriter(path, { tensors: [s.spec], formatOptions: { batchRows: s.rows } });
  await writer.add('table', s.bytes);
  await writer.close();
  return path;
}

/**
 * The Arrow group: Feather v2 read (uncompressed: zero-copy from bytes in memory; zstd)
 * and write against pyarrow.
 *
 * @example
 * ```ts
 * const rows = await runArrowBench(context);
 * ```
 */
export async function runArrowBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir } = context;
  const s = await setup(context, 'arrow');
  const table = s.bytes.byteLength;
  const result: BenchRow[] = [];
  const peers = s.peers;
  // pyarrow's write_feather is given a table of 32 columns (built before its timer): tensio's like-for-like input is 32 column tensors.
  const all = new Float32Array(s.bytes.buffer, s.bytes.byteOffset, s.rows * COLUMNS);
  const columnTensors = Array.from({ length: COLUMNS }, (_, c) => {
    const column = new Float32Array(s.rows);
    for (let r = 0; r < s.rows; r++) column[r] = all[r * COLUMNS + c]!;
    return { name: `col${c}`, bytes: new Uint8Array(column.buffer) };
  });
  try {
    for (const codec of ['uncompressed', 'zstd'] as const) {
      const paths = ['tensio', 'pyarrow', 'raw', 'tensio-separate'].map((who) => join(dir, `${who}-${codec}.feather`));
      const write = await warmedRounds(context, `arrow write ${codec}`, s, [
        { name: 'raw', before: () => freshTarget(...paths), run: () => rawWrite(paths[2]!, [s.bytes]) },
        { name: 'tensio', before: () => freshTarget(...paths), run: () => seconds(async () => {
          const writer = await arrowCreateWriter(await atomicFileSink(paths[0]!, { durable: false }), { tensors: [s.spec], formatOptions: { compression: codec === 'zstd' ? 'zstd' : 'none' } });
          await writer.add('table', s.bytes);
          await writer.close();
        }) },
        { name: 'tensio-separate', before: () => freshTarget(...paths), run: () => seconds(async () => {
          const tensors = columnTensors.map(({ name }) => ({ name, dtype: 'float32' as const, shape: [s.rows] }));
          const writer = await arrowCreateWriter(await atomicFileSink(paths[3]!, { durable: false }), { tensors, formatOptions: { columns: 'separate', compression: codec === 'zstd' ? 'zstd' : 'none' } });
          for (const { name, bytes } of columnTensors) await writer.add(name, bytes);
          await writer.close();
        }) },
        ...(peers ? [{ name: 'pyarrow', before: () => freshTarget(...paths), run: () => peers.time('feather.write_feather', paths[1]!, { compression: codec }) }] : []),
      ]);
      const tensioWrite = throughput(write.get('tensio'), table);
      const pyarrowNote = throughput(write.get('pyarrow'), table).error ?? s.peerNote;
      result.push(compareRow('arrow', `write Feather ${codec}, stacked (rows, 32) tensor vs pyarrow write_feather (columns)`, tensioWrite.median, throughput(write.get('pyarrow'), table).median, 'pyarrow', undefined, pyarrowNote));
      result.push(compareRow('arrow', `write Feather ${codec}, 32 column tensors vs pyarrow write_feather (both columnar)`, throughput(write.get('tensio-separate'), table).median, throughput(write.get('pyarrow'), table).median, 'pyarrow', undefined, pyarrowNote));
      result.push(compareRow('arrow', `write Feather ${codec} vs raw fs write of the table bytes`, tensioWrite.median, throughput(write.get('raw'), table).median, 'raw fs'));
      logThroughputs(context, `arrow write ${codec}`, write, table);
      // The write rounds remove every output before each contender: write the read input apart (pyarrow's when present).
      const file = join(dir, `read-${codec}.feather`);
      if (peers) {
        await peers.call('feather.write_feather', { path: file, compression: codec });
        await peers.call('feather.read_table', { path: file }); // untimed: pyarrow's first read in the worker
      } else {
        const writer = await arrowCreateWriter(file, { tensors: [s.spec], formatOptions: { compression: codec === 'zstd' ? 'zstd' : 'none' } });
        await writer.add('table', s.bytes);
        await writer.close();
      }
      const size = statSync(file).size;
      const inMemory = readFileSync(file);
      // Zero-copy needs a column in one piece: a file of one record batch (pyarrow's 64 Ki-row batches split every column in 16).
      const oneBatch = codec === 'uncompressed' ? await writeOneBatchFeather(join(dir, 'one-batch.feather'), s) : undefined;
      let views = 0;
      const read = await warmedRounds(context, `arrow read ${codec}`, s, [
        { name: 'raw', run: () => rawReadReused(file, [{ offset: 0, length: size }], s.reused) },
        { name: 'tensio', run: () => seconds(async () => {
          const reader = await arrowOpen(file, { formatOptions: { columns: 'separate' } });
          try {
            for (const info of reader.tensors) await reader.read(info.name);
          } finally {
            await reader.close();
          }
        }) },
        { name: 'tensio from bytes', run: () => seconds(async () => {
          const reader = await arrowOpen(bytesSource(new Uint8Array(inMemory.buffer, inMemory.byteOffset, inMemory.byteLength)), { formatOptions: { columns: 'separate' } });
          for (const info of reader.tensors) await reader.read(info.name);
        }) },
        ...(oneBatch ? [{ name: 'tensio one batch', run: () => seconds(async () => {
          const reader = await arrowOpen(oneBatch, { formatOptions: { columns: 'separate' } });
          views = 0;
          for (const info of reader.tensors) if (isMemoryMapped((await reader.read(info.name)).data)) views++;
          await reader.close();
        }) }] : []),
        ...(peers ? [{ name: 'pyarrow', run: () => peers.time('feather.read_table', file) }] : []),
      ]);
      const tensioRead = throughput(read.get('tensio'), table);
      if (oneBatch) {
        const seconds = read.get('tensio one batch')?.summary?.median;
        result.push({ format: 'arrow', operation: `read Feather uncompressed, one record batch (tensio-written): ${views} of ${COLUMNS} columns are views of a memory map (zero-copy: time independent of size)`, unit: 'ms', tensio: seconds === undefined ? undefined : seconds * 1000, note: `${(table / 2 ** 20).toFixed(0)} MiB table` } as BenchRow);
      }
      result.push(compareRow('arrow', `read Feather ${codec} (pyarrow-written; 32 column tensors) vs pyarrow read_table(use_threads=False)`, tensioRead.median, throughput(read.get('pyarrow'), table).median, 'pyarrow', undefined, throughput(read.get('pyarrow'), table).error ?? s.peerNote));
      result.push(compareRow('arrow', `read Feather ${codec} (pyarrow-written, 16 batches: columns joined) from bytes in memory vs from the file`, throughput(read.get('tensio from bytes'), table).median, tensioRead.median, 'tensio from file'));
      logThroughputs(context, `arrow read ${codec}`, read, table);
    }
  } finally {
    await peers?.call('tables.drop');
  }
  return result;
}
