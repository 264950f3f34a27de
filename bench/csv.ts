/**
 * CSV benchmark: a float32 table (1M × 32 by default, the issue's; a --size-mib below
 * 128 scales the rows down) written as text and parsed back, tensio against raw fs of
 * the same bytes and against pandas (`read_csv`, C engine; `DataFrame.to_csv`) and
 * NumPy (`np.loadtxt`, `np.savetxt`) on the same file, in the same rounds. Figures are
 * GB/s of text (decimal). The Python peers run in the long-lived worker
 * (bench/lib/table_peers.py), timed inside Python around the library call (import and
 * the writers' sources outside the timing): no process starts between tensio's
 * repetitions (a fork write-protects this process's memory; until session 29 each peer
 * repetition was a fresh process). The free memory is warmed before every contender
 * (bench/lib/warm-memory.ts; `TENSIO_BENCH_NO_WARM=1` turns it off).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { npyFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { freshTarget, rawReadReused, rawReusedBuffer, rawWrite } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, type Contender } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';
import { FreeMemoryWarmer } from './lib/warm-memory.js';
import { csvCreateWriter, csvOpen } from '../src/formats/csv/index.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { openDataFrame, type DataFrameLike } from '../src/io/dataframe-io.js';

const FORMAT = 'csv';

/** Seconds behind a GB/s figure, for notes (under load the GB/s column rounds to 0.00). */
function secondsNote(bytes: number, ...figures: [string, number | undefined][]): string {
  return figures.map(([name, gbps]) => `${name} ${gbps ? (bytes / 1e9 / gbps).toFixed(2) : '?'} s`).join(', ');
}
const COLUMNS = 32;
const MiB = 2 ** 20;

/** A deterministic float32 table like sensor data: values around ±100 with 7-9 significant digits. */
function makeTable(rows: number): Float32Array {
  const values = new Float32Array(rows * COLUMNS);
  let seed = 42;
  for (let i = 0; i < values.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = (seed / 2 ** 32 - 0.5) * 200;
  }
  return values;
}

/**
 * Runs the CSV benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runCsvBench(context);
 * ```
 */
export async function runCsvBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log } = context;
  // The table is 1M × 32 float32 (128 MiB); smaller --size-mib runs scale it down.
  const rows = Math.max(1000, Math.min(1_000_000, Math.round((context.sizeMiB / 128) * 1_000_000)));
  const table = makeTable(rows);
  const bytes = new Uint8Array(table.buffer);
  const spec = { name: 'table', dtype: 'float32' as const, shape: [rows, COLUMNS] };
  const source = join(dir, 'table.csv');
  const writer = await csvCreateWriter(source, { tensors: [spec] });
  await writer.add('table', bytes);
  await writer.close();
  const textBytes = statSync(source).size;
  const npySource = join(dir, 'table.npy');
  log(`csv: float32 [${rows}, ${COLUMNS}], ${(textBytes / MiB).toFixed(0)} MiB of text (shortest round-trip floats), file ${source}`);
  let worker = context.peers;
  let peerNote = worker ? undefined : context.peersReason ?? 'no oracle python';
  if (worker) {
    // The writers (np.savetxt, DataFrame.to_csv) write from the same array, loaded into the worker outside their timing.
    writeFixtureFile(npySource, [npyFixtureHeader('<f4', [rows, COLUMNS]), bytes]);
    const answer = await worker.send({ op: 'tables.load_source', path: npySource });
    if (!answer.ok) {
      peerNote = `python worker: ${answer.error}`;
      worker = undefined;
    }
  }
  const peers = worker;
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const reused = rawReusedBuffer();
  const result: BenchRow[] = [];
  // Room for the largest contender's allocations (pandas' tokenizer holds about the text, then the frame and the array) plus slack.
  const warmer = new FreeMemoryWarmer(textBytes + 2 * bytes.byteLength + 64 * MiB);
  const warmed = (contenders: readonly Contender[]): Contender[] => contenders.map((contender) => ({ ...contender, before: async () => {
    await contender.before?.();
    await warmer.warm();
  } }));

  // --- parse -------------------------------------------------------------------------
  const peerParse: Contender[] = peers
    ? ['pandas.read_csv', 'pandas.read_csv round_trip', 'np.loadtxt'].map((name) => ({ name, run: () => peers.time(name, source) }))
    : [];
  const parses = await runRounds(warmed([
    { name: 'raw', run: () => rawReadReused(source, [{ offset: 0, length: textBytes }], reused) },
    {
      name: 'tensio',
      run: async () => {
        const started = performance.now();
        await using reader = await csvOpen(source, { dtype: 'float32' });
        const tensor = await reader.read('data');
        if (tensor.data.byteLength !== bytes.byteLength) throw new Error(`read ${tensor.data.byteLength} bytes, expected ${bytes.byteLength}`);
        return (performance.now() - started) / 1000;
      },
    },
    {
      name: 'tensio stream',
      run: async () => {
        const started = performance.now();
        await using reader = await csvOpen(source, { dtype: 'float32' });
        let total = 0;
        for await (const chunk of reader.stream('data', { reuseBuffer: true })) total += chunk.byteLength;
        if (total !== bytes.byteLength) throw new Error(`streamed ${total} bytes`);
        return (performance.now() - started) / 1000;
      },
    },
    ...peerParse,
  ]), rounds);
  log(warmer.describe(`${FORMAT} parse`));
  const tensioParse = throughput(parses.get('tensio'), textBytes);
  result.push(compareRow(FORMAT, 'parse float32 (open + read) vs raw readSync of the text into a reused 8 MiB buffer', tensioParse.median, throughput(parses.get('raw'), textBytes).median, 'raw fs', undefined, tensioParse.error));
  for (const [name, goal] of [['pandas.read_csv', 1.0], ['pandas.read_csv round_trip', undefined], ['np.loadtxt', 1.0]] as const) {
    const peer = throughput(parses.get(name), textBytes);
    result.push(compareRow(FORMAT, `parse float32 vs ${name}${name === 'pandas.read_csv' ? ' (C engine; goal: faster)' : ''}`, tensioParse.median, peer.median, name, goal, peer.error ?? peerNote ?? secondsNote(textBytes, ['tensio', tensioParse.median], [name, peer.median])));
  }
  const streamed = throughput(parses.get('tensio stream'), textBytes);
  result.push(compareRow(FORMAT, 'parse as stream() (one run of rows at a time) vs read()', streamed.median, tensioParse.median, 'tensio read()', undefined, streamed.error));
  logThroughputs(context, `${FORMAT} parse`, parses, textBytes);

  // --- write -------------------------------------------------------------------------
  const text = Uint8Array.from(await import('node:fs').then((fs) => fs.readFileSync(source)));
  const outputs = ['raw.csv', 'tensio.csv', 'tensio-e.csv', 'np.csv', 'pd.csv'].map((name) => join(dir, name));
  const writeWith = (path: string, csv: Record<string, unknown>) => async () => {
    const started = performance.now();
    const out = await csvCreateWriter(await atomicFileSink(path, { durable: false }), { tensors: [spec], csv });
    await out.add('table', bytes);
    await out.close();
    return (performance.now() - started) / 1000;
  };
  const peerWrite: Contender[] = peers
    ? [
        { name: 'np.savetxt', before: () => freshTarget(...outputs), run: () => peers.time('np.savetxt', outputs[3]!) },
        { name: 'DataFrame.to_csv', before: () => freshTarget(...outputs), run: () => peers.time('DataFrame.to_csv', outputs[4]!) },
      ]
    : [];
  const writes = await runRounds(warmed([
    { name: 'raw', before: () => freshTarget(...outputs), run: () => rawWrite(outputs[0]!, [text]) },
    { name: 'tensio', before: () => freshTarget(...outputs), run: writeWith(outputs[1]!, {}) },
    { name: 'tensio %.18e', before: () => freshTarget(...outputs), run: writeWith(outputs[2]!, { fmt: '%.18e' }) },
    ...peerWrite,
  ]), rounds);
  log(warmer.describe(`${FORMAT} write`));
  const tensioWrite = throughput(writes.get('tensio'), textBytes);
  result.push(compareRow(FORMAT, 'write float32 shortest vs raw fs.writeSync of the same text', tensioWrite.median, throughput(writes.get('raw'), textBytes).median, 'raw fs', undefined, tensioWrite.error));
  // Against the peers in rows per second, expressed as GB/s of the table's binary size.
  const tableBytes = bytes.byteLength;
  const asTable = (name: string) => throughput(writes.get(name), tableBytes);
  const tensioRows = asTable('tensio');
  const tensioE = asTable('tensio %.18e');
  result.push(compareRow(FORMAT, 'write (table GB/s) shortest vs DataFrame.to_csv (repr floats)', tensioRows.median, asTable('DataFrame.to_csv').median, 'DataFrame.to_csv', 1.0, asTable('DataFrame.to_csv').error ?? peerNote ?? secondsNote(tableBytes, ['tensio', tensioRows.median], ['to_csv', asTable('DataFrame.to_csv').median])));
  result.push(compareRow(FORMAT, "write (table GB/s) fmt='%.18e' vs np.savetxt (same bytes)", tensioE.median, asTable('np.savetxt').median, 'np.savetxt', 1.0, asTable('np.savetxt').error ?? tensioE.error ?? peerNote ?? secondsNote(tableBytes, ['tensio', tensioE.median], ['np.savetxt', asTable('np.savetxt').median])));
  logThroughputs(context, `${FORMAT} write (table bytes)`, writes, tableBytes);
  // The worker's copies of the table are not needed any more.
  if (peers) await peers.call('tables.drop');

  // --- DataFrame (arquero) → stacked tensor, the fromDataFrame path -----------------------
  const aq = await import('arquero');
  const columns: Record<string, Float32Array> = {};
  for (let c = 0; c < COLUMNS; c++) {
    const column = new Float32Array(rows);
    for (let r = 0; r < rows; r++) column[r] = table[r * COLUMNS + c]!;
    columns[`c${c}`] = column;
  }
  const frame = aq.table(columns) as unknown as DataFrameLike;
  const frames = await runRounds(warmed([
    {
      name: 'tensio',
      run: async () => {
        const started = performance.now();
        await using reader = openDataFrame(frame);
        const tensor = await reader.read('data');
        if (tensor.data.byteLength !== tableBytes) throw new Error('wrong size');
        return (performance.now() - started) / 1000;
      },
    },
    {
      // The least any stacking can do: one interleaving loop over the typed arrays.
      name: 'raw interleave',
      run: async () => {
        const started = performance.now();
        const out = new Float32Array(rows * COLUMNS);
        const list = Object.values(columns);
        for (let c = 0; c < COLUMNS; c++) {
          const column = list[c]!;
          for (let r = 0, at = c; r < rows; r++, at += COLUMNS) out[at] = column[r]!;
        }
        return (performance.now() - started) / 1000;
      },
    },
  ]), rounds);
  log(warmer.describe(`${FORMAT} DataFrame`));
  const stacked = throughput(frames.get('tensio'), tableBytes);
  const interleave = throughput(frames.get('raw interleave'), tableBytes);
  result.push(compareRow(FORMAT, 'DataFrame (arquero, 32 float32 columns) → stacked tensor vs a bare JS interleave loop (info)', stacked.median, interleave.median, 'raw interleave', undefined, stacked.error ?? secondsNote(tableBytes, ['tensio', stacked.median], ['raw', interleave.median])));
  return result;
}
