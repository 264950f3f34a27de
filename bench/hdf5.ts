/**
 * HDF5 benchmark: one float32 dataset (1 GiB by default) in chunks of 1 MiB (256 rows of
 * 1024), written and read by tensio and by h5py (the oracle python, timed inside Python;
 * a fresh process per round, and a warm row: repeated reads in one process after one untimed)
 * uncompressed and with gzip level 1, beside the raw file system (one file written /
 * read whole). tensio writes with its own writer and reads straight from the file (its
 * own chunk index parser; gzip chunks inflated by Node's zlib), beside the libhdf5 path
 * (h5wasm, `directRead: false`) in the same rounds.
 * Then a remote row slice of tensio's files over loopback HTTP (the `http` group's file
 * server): requests and bytes, opening included, against the chunks the slice touches.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HDF5_CHUNKS_IN_FLIGHT } from '../src/formats/hdf5/filtered-chunks.js';
import { httpSource } from '../src/storage/http-source.js';
import { getJson, startServer } from './http.js';
import type { BenchContext } from './lib/context.js';
import { logThroughputs, throughput } from './lib/context.js';
import { makeCompressibleFloat32 } from './lib/fixtures.js';
import { freshTarget, rawReadReused, rawReusedBuffer, rawWrite, chunkViews } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, timeIt, type Contender } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 'hdf5';
const MiB = 2 ** 20;
const COLS = 1024;
const CHUNK_ROWS = 256; // 256 × 1024 × 4 B = 1 MiB

const PY = String.raw`
import sys, time, json, numpy as np, h5py
op, path, compression, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if op == 'write':
    data = np.fromfile(sys.argv[5], dtype='<f4').reshape(rows, ${COLS})
    start = time.perf_counter()
    with h5py.File(path, 'w') as f:
        f.create_dataset('x', data=data, chunks=(${CHUNK_ROWS}, ${COLS}), **({'compression': 'gzip', 'compression_opts': 1} if compression == 'gzip' else {}))
    print(json.dumps({'seconds': time.perf_counter() - start}))
elif op == 'readwarm':
    # Repeated reads in one process after one untimed: h5py's first read in a process is slow.
    def once():
        start = time.perf_counter()
        with h5py.File(path, 'r') as f:
            data = f['x'][()]
        return time.perf_counter() - start, data
    once()
    times = []
    for _ in range(int(sys.argv[5])):
        seconds, data = once()
        times.append(seconds)
        del data
    times.sort()
    print(json.dumps({'seconds': times[len(times) // 2], 'all': times}))
else:
    start = time.perf_counter()
    with h5py.File(path, 'r') as f:
        data = f['x'][()]
    print(json.dumps({'seconds': time.perf_counter() - start, 'sum': float(data[::997, ::31].sum())}))
`;

function h5py(python: string, args: string[]): number {
  const result = spawnSync(python, ['-c', PY, ...args], { encoding: 'utf8', timeout: 1_800_000, maxBuffer: 16 * MiB });
  if (result.status !== 0) throw new Error(`h5py: ${result.stderr.trim().split('\n').pop()}`);
  return (JSON.parse(result.stdout) as { seconds: number }).seconds;
}

/**
 * Runs the HDF5 benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runHdf5Bench(context);
 * ```
 */
export async function runHdf5Bench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log } = context;
  const { hdf5CreateWriter, hdf5Open } = await import('../src/formats/hdf5/index.js');
  const rows: BenchRow[] = [];
  const data = makeCompressibleFloat32(context.sizeMiB * MiB, COLS * CHUNK_ROWS);
  const shape = [data.byteLength / 4 / COLS, COLS];
  const total = data.byteLength;
  const rawPath = join(dir, 'hdf5-raw.f32');
  await rawWrite(rawPath, chunkViews(data));
  const python = context.python;
  const reason = python ? (spawnSync(python, ['-c', 'import h5py'], { encoding: 'utf8' }).status === 0 ? undefined : 'h5py not installed in the oracle python') : 'oracle python not found';
  log(`hdf5: float32 [${shape.join(', ')}] (${(total / MiB).toFixed(0)} MiB) in 1 MiB chunks; h5py: ${reason ?? 'oracle venv'}`);
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const reused = rawReusedBuffer();
  // Load h5wasm before any timing (about 1 s, once per process).
  {
    const warm = join(dir, 'warm.h5');
    const writer = await hdf5CreateWriter(warm, { tensors: [{ name: 'x', dtype: 'float32', shape: [1] }] });
    await writer.add('x', new Uint8Array(4));
    await writer.close();
    await (await hdf5Open(warm)).close();
  }

  for (const compression of ['none', 'gzip'] as const) {
    const mine = join(dir, `tensio-${compression}.h5`);
    const theirs = join(dir, `h5py-${compression}.h5`);
    const rawCopy = join(dir, 'hdf5-raw-copy.f32');
    const write = (path: string) => timeIt(async () => {
      const writer = await hdf5CreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape }], compression, compressionLevel: 1, chunkRows: CHUNK_ROWS });
      await writer.add('x', chunkViews(data));
      await writer.close();
    });
    const writers: Contender[] = [
      { name: 'raw fs write', before: () => freshTarget(rawCopy), run: () => rawWrite(rawCopy, chunkViews(data)) },
      { name: 'tensio write', before: () => freshTarget(mine), run: () => write(mine) },
      ...(reason ? [] : [{ name: 'h5py write', before: () => freshTarget(theirs), run: async () => h5py(python!, ['write', theirs, compression, String(shape[0]), rawPath]) }]),
    ];
    const written = await runRounds(writers, rounds);
    logThroughputs(context, `hdf5 write ${compression}`, written, total);
    const label = compression === 'gzip' ? 'gzip 1' : 'uncompressed';
    rows.push(compareRow(FORMAT, `write chunked ${label} vs h5py`, throughput(written.get('tensio write'), total).median, throughput(written.get('h5py write'), total).median, 'h5py', compression === 'gzip' ? 0.5 : 0.8,
      reason ?? `file ${(statSync(mine).size / MiB).toFixed(0)} MiB; raw fs write ${throughput(written.get('raw fs write'), total).median?.toFixed(2)} GB/s`));

    const read = async (path: string, copy = false, directRead = true) => {
      const start = process.hrtime.bigint();
      await using reader = await hdf5Open(path, { directRead });
      const tensor = await reader.read('x', copy ? { copy: true } : {});
      if (tensor.data.byteLength !== total) throw new Error('short read');
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    const readers: Contender[] = [
      { name: 'raw fs read', run: () => rawReadReused(rawPath, [{ offset: 0, length: total }], reused) },
      { name: 'tensio read', run: () => read(mine) },
      // Into fresh memory, every byte read (what h5py does): the like-for-like figure when read() maps.
      { name: 'tensio read copy', run: () => read(mine, true) },
      // Every byte through libhdf5 (the path before tensio decoded chunks itself), in the same rounds.
      { name: 'tensio read libhdf5', run: () => read(mine, true, false) },
      ...(reason ? [] : [{ name: 'h5py read', run: async () => h5py(python!, ['read', mine, compression, String(shape[0])]) }]),
    ];
    const results = await runRounds(readers, rounds);
    logThroughputs(context, `hdf5 read ${compression}`, results, total);
    rows.push(compareRow(FORMAT, `read() chunked ${label} vs h5py f['x'][()] (same file)`, throughput(results.get('tensio read'), total).median, throughput(results.get('h5py read'), total).median, 'h5py', compression === 'gzip' ? 0.5 : 0.8,
      reason ?? `raw fs read (reused 8 MiB buffer) ${throughput(results.get('raw fs read'), total).median?.toFixed(2)} GB/s; ${compression === 'none' ? 'unfiltered: read straight from the file (a mapping view when the native addon is built)' : `chunks inflated by Node's zlib on the thread pool (${HDF5_CHUNKS_IN_FLIGHT} at once)`}`));
    rows.push(compareRow(FORMAT, `read({ copy: true }) chunked ${label} vs h5py f['x'][()] (same file)`, throughput(results.get('tensio read copy'), total).median, throughput(results.get('h5py read'), total).median, 'h5py', compression === 'gzip' ? 0.5 : 0.8,
      reason ?? 'fresh memory, every byte read'));
    // h5py above runs in a fresh process per round (its first read in a process is slow); this one reads warm.
    const warmSeconds = reason ? undefined : h5py(python!, ['readwarm', mine, compression, String(shape[0]), String(Math.max(1, rounds - 1))]);
    rows.push(compareRow(FORMAT, `read({ copy: true }) chunked ${label} vs warm h5py (one process, reads after one untimed)`, throughput(results.get('tensio read copy'), total).median, warmSeconds ? total / warmSeconds / 1e9 : undefined, 'h5py warm', compression === 'gzip' ? 0.5 : 0.8,
      reason ?? `h5py median of ${Math.max(1, rounds - 1)} reads in one process after one untimed; tensio as in the row above`));
    rows.push(compareRow(FORMAT, `read() chunked ${label} through libhdf5 (directRead: false) vs h5py (same file)`, throughput(results.get('tensio read libhdf5'), total).median, throughput(results.get('h5py read'), total).median, 'h5py', compression === 'gzip' ? 0.5 : 0.8,
      reason ?? `the path before the direct one: libhdf5 (WebAssembly) bands; direct ${throughput(results.get('tensio read copy'), total).median?.toFixed(2)} GB/s in the same rounds`));
    freshTarget(theirs, rawCopy);
  }

  // Remote slice: rows [1000, 1300) of tensio's files over loopback HTTP touch 2 chunks of 256 rows; libhdf5 reads in 1 MiB bands remotely.
  const sliceRows = Math.min(300, shape[0]! - 1);
  const sliceStart = Math.min(1000, shape[0]! - sliceRows - 1);
  const touched = Math.floor((sliceStart + sliceRows - 1) / CHUNK_ROWS) - Math.floor(sliceStart / CHUNK_ROWS) + 1;
  const server = await startServer(dir);
  try {
    for (const compression of ['none', 'gzip'] as const) {
      const url = `${server.base}/tensio-${compression}.h5`;
      await fetch(`${server.base}/__reset`);
      const start = process.hrtime.bigint();
      await using reader = await hdf5Open(await httpSource(url));
      const opened = await getJson(`${server.base}/__stats`);
      const slice = await reader.read('x', { slice: { start: sliceStart, end: sliceStart + sliceRows } });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const cost = await getJson(`${server.base}/__stats`);
      const fileBytes = statSync(join(dir, `tensio-${compression}.h5`)).size;
      const chunkBytes = (fileBytes / (shape[0]! / CHUNK_ROWS)) * touched; // about: chunks are alike in size
      rows.push({
        format: FORMAT,
        operation: `remote slice of ${sliceRows} rows (${touched} chunks), ${compression === 'gzip' ? 'gzip 1' : 'uncompressed'}: requests incl. open (bytes ${(cost.bytes / MiB).toFixed(2)} MiB of a ${(fileBytes / MiB).toFixed(0)} MiB file, ~${(chunkBytes / MiB).toFixed(2)} MiB in the touched chunks; open ${opened.requests} requests, ${(opened.bytes / 1024).toFixed(0)} KiB)`,
        unit: 'requests',
        tensio: cost.requests,
        goal: `bytes ≤ touched chunks + 1 MiB`,
        met: cost.bytes <= chunkBytes + MiB + 256 * 1024,
        note: `${(seconds * 1000).toFixed(0)} ms incl. open (libhdf5 worker start); ${slice.data.byteLength} bytes returned`,
      });
    }
  } finally {
    server.stop();
  }
  return rows;
}
